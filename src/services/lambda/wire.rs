//! Lambda's wire layer (restJson1, `/2015-03-31/functions/...`): which operation a path and
//! method are, the JSON inputs, and the outputs, including Invoke's headers
//! (`X-Amz-Function-Error`, `X-Amz-Log-Result`, `X-Amz-Executed-Version`).

use base64::Engine;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;

use super::error::LambdaError;
use super::ops::{CreateFunctionInput, FunctionCode, InvocationType, Lambda, UpdateConfigurationInput};
use crate::services::iam::authz::Access;
use crate::services::iam::ops::ACCOUNT;
use crate::protocol::json;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol, percent_decode, response};

const PROTOCOL: Protocol = Protocol::RestJson1;

fn json_response(status: StatusCode, v: &Value) -> HttpResponse {
    response(status, vec![("content-type", "application/json".into())], Bytes::from(v.to_string()))
}

/// What a Lambda call needs under `--enforce-iam`: `lambda:<Action>` on the function's ARN
/// (with its qualifier when the call names one; `*` for ListFunctions), and `iam:PassRole` on the
/// execution role a create or configuration update hands to Lambda.
pub fn access(req: &AwsRequest, region: &str) -> Vec<Access> {
    let (op, parts) = operation(req);
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let name = match op {
        "CreateFunction" => body.get("FunctionName").and_then(|v| v.as_str()).map(str::to_string),
        _ => parts.first().cloned(),
    };
    let action = match op {
        "Invoke" => "lambda:InvokeFunction".to_string(),
        "Unsupported" => format!("lambda:{}", req.method),
        op => format!("lambda:{op}"),
    };
    let resource = match name {
        None => "*".to_string(),
        Some(n) => {
            // A name, a partial ARN (`123456789012:function:name`) or a full ARN, maybe qualified.
            let bare = n.rsplit_once("function:").map_or(n.as_str(), |(_, rest)| rest);
            let (bare, qualifier) = bare.split_once(':').map_or((bare, req.query_param("Qualifier")), |(b, q)| (b, Some(q)));
            let arn = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{bare}");
            match qualifier {
                Some(q) => format!("{arn}:{q}"),
                None => arn,
            }
        }
    };
    let mut out = vec![Access::new(action, resource)];
    if matches!(op, "CreateFunction" | "UpdateFunctionConfiguration")
        && let Some(role) = body.get("Role").and_then(|v| v.as_str())
    {
        out.push(Access::new("iam:PassRole", role).with("iam:PassedToService", "lambda.amazonaws.com"));
    }
    out
}

/// The operation a request names (`Invoke`, `CreateFunction`...).
pub fn operation_name(req: &AwsRequest) -> &'static str {
    operation(req).0
}

/// The operation a request names and its decoded path segments after `/functions`.
fn operation(req: &AwsRequest) -> (&'static str, Vec<String>) {
    let path = req.path.trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/2015-03-31/functions") else { return ("Unsupported", Vec::new()) };
    let parts: Vec<String> = rest.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
    let segs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let op = match (&req.method, segs.as_slice()) {
        (&Method::POST, []) => "CreateFunction",
        (&Method::GET, []) => "ListFunctions",
        (&Method::GET, [_]) => "GetFunction",
        (&Method::DELETE, [_]) => "DeleteFunction",
        (&Method::GET, [_, "configuration"]) => "GetFunctionConfiguration",
        (&Method::PUT, [_, "configuration"]) => "UpdateFunctionConfiguration",
        (&Method::PUT, [_, "code"]) => "UpdateFunctionCode",
        (&Method::POST, [_, "invocations"]) => "Invoke",
        (&Method::POST, [_, "versions"]) => "PublishVersion",
        (&Method::GET, [_, "versions"]) => "ListVersionsByFunction",
        (&Method::POST, [_, "policy"]) => "AddPermission",
        (&Method::GET, [_, "policy"]) => "GetPolicy",
        (&Method::DELETE, [_, "policy", _]) => "RemovePermission",
        (&Method::POST, [_, "aliases"]) => "CreateAlias",
        (&Method::GET, [_, "aliases"]) => "ListAliases",
        (&Method::GET, [_, "aliases", _]) => "GetAlias",
        (&Method::PUT, [_, "aliases", _]) => "UpdateAlias",
        (&Method::DELETE, [_, "aliases", _]) => "DeleteAlias",
        _ => "Unsupported",
    };
    (op, parts)
}

/// Handles one Lambda control-plane or Invoke request.
pub async fn handle(lambda: &Lambda, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let (op, result) = dispatch(lambda, req).await;
    let resp = result.unwrap_or_else(|e| e.render(PROTOCOL, &req.request_id, req.method == Method::HEAD));
    (resp, op)
}

fn err(e: LambdaError) -> AwsError {
    e.to_aws()
}

async fn dispatch(lambda: &Lambda, req: &AwsRequest) -> (&'static str, Result<HttpResponse, AwsError>) {
    let (op, parts) = operation(req);
    let name = parts.first().map(String::as_str).unwrap_or_default();
    let qualifier = req.query_param("Qualifier");
    let result = match op {
        "CreateFunction" => create(lambda, req).await,
        "ListFunctions" => list(lambda, req),
        "GetFunction" => lambda.get_function(name, qualifier).map(|v| json_response(StatusCode::OK, &v)).map_err(err),
        "DeleteFunction" => lambda.delete_function(name, qualifier).await.map(|_| response(StatusCode::NO_CONTENT, vec![], Bytes::new())).map_err(err),
        "GetFunctionConfiguration" => lambda.function(name, qualifier).map(|f| json_response(StatusCode::OK, &f.configuration())).map_err(err),
        "UpdateFunctionConfiguration" => update_configuration(lambda, name, req).await,
        "UpdateFunctionCode" => update_code(lambda, name, req).await,
        "Invoke" => invoke(lambda, name, req).await,
        "PublishVersion" => publish(lambda, name, req),
        "ListVersionsByFunction" => lambda.list_versions(name).map(|v| json_response(StatusCode::OK, &serde_json::json!({ "Versions": v }))).map_err(err),
        "AddPermission" => add_permission(lambda, name, req),
        "GetPolicy" => lambda.get_policy(name).map(|v| json_response(StatusCode::OK, &v)).map_err(err),
        "RemovePermission" => {
            let sid = parts.get(2).map(String::as_str).unwrap_or_default();
            lambda.remove_permission(name, sid).map(|_| response(StatusCode::NO_CONTENT, vec![], Bytes::new())).map_err(err)
        }
        "CreateAlias" | "UpdateAlias" => match serde_json::from_slice::<Value>(&req.body) {
            Ok(input) => {
                let alias = parts.get(2).map(String::as_str).unwrap_or_default();
                let r = if op == "CreateAlias" { lambda.create_alias(name, &input) } else { lambda.update_alias(name, alias, &input) };
                r.map(|v| json_response(if op == "CreateAlias" { StatusCode::CREATED } else { StatusCode::OK }, &v)).map_err(err)
            }
            Err(e) => Err(AwsError::new(StatusCode::BAD_REQUEST, "InvalidRequestContentException", format!("Could not parse request body into json: {e}"))),
        },
        "ListAliases" => lambda.list_aliases(name, req.query_param("FunctionVersion")).map(|a| json_response(StatusCode::OK, &serde_json::json!({ "Aliases": a }))).map_err(err),
        "GetAlias" => lambda.get_alias(name, parts.get(2).map(String::as_str).unwrap_or_default()).map(|v| json_response(StatusCode::OK, &v)).map_err(err),
        "DeleteAlias" => lambda.delete_alias(name, parts.get(2).map(String::as_str).unwrap_or_default()).map(|_| response(StatusCode::NO_CONTENT, vec![], Bytes::new())).map_err(err),
        _ => Err(err(LambdaError::UnsupportedOperation(format!("firelocal's Lambda does not implement {} {} yet", req.method, req.path)))),
    };
    (op, result)
}

async fn create(lambda: &Lambda, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let input: CreateFunctionInput = json::parse(&req.body)?;
    let v = lambda.create_function(input).map_err(err)?;
    Ok(json_response(StatusCode::CREATED, &v))
}

fn list(lambda: &Lambda, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let max = match req.query_param("MaxItems") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => return Err(err(LambdaError::validation("maxItems", v, "Member must have value between 1 and 10000"))),
        },
    };
    let (functions, next) = lambda.list_functions(req.query_param("Marker"), max);
    let mut out = serde_json::json!({ "Functions": functions });
    if let Some(n) = next {
        out["NextMarker"] = n.into();
    }
    Ok(json_response(StatusCode::OK, &out))
}

async fn update_configuration(lambda: &Lambda, name: &str, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let input: UpdateConfigurationInput = json::parse(&req.body)?;
    let v = lambda.update_function_configuration(name, input).await.map_err(err)?;
    Ok(json_response(StatusCode::OK, &v))
}

async fn update_code(lambda: &Lambda, name: &str, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let v: Value = json::parse(&req.body)?;
    let code: FunctionCode = serde_json::from_value(v.clone())
        .map_err(|e| AwsError::new(StatusCode::BAD_REQUEST, "SerializationException", format!("Could not parse the request body: {e}")))?;
    let publish = v.get("Publish").and_then(Value::as_bool).unwrap_or(false);
    let out = lambda.update_function_code(name, code, publish, v.get("RevisionId").and_then(Value::as_str)).await.map_err(err)?;
    Ok(json_response(StatusCode::OK, &out))
}

fn publish(lambda: &Lambda, name: &str, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let v: Value = json::parse(&req.body)?;
    let out = lambda.publish_version(name, v.get("Description").and_then(Value::as_str).map(str::to_string)).map_err(err)?;
    Ok(json_response(StatusCode::CREATED, &out))
}

fn add_permission(lambda: &Lambda, name: &str, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let v: Value = json::parse(&req.body)?;
    let out = lambda.add_permission(name, &v).map_err(err)?;
    Ok(json_response(StatusCode::CREATED, &out))
}

/// The last 4 KB of an invocation's log, base64, as `X-Amz-Log-Result` carries it.
fn log_tail(log: &str) -> String {
    let bytes = log.as_bytes();
    let start = bytes.len().saturating_sub(4096);
    base64::engine::general_purpose::STANDARD.encode(&bytes[start..])
}

async fn invoke(lambda: &Lambda, name: &str, req: &AwsRequest) -> Result<HttpResponse, AwsError> {
    let kind = match req.header("x-amz-invocation-type") {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(err(LambdaError::validation("invocationType", other, "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")));
        }
    };
    let tail = match req.header("x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => return Err(err(LambdaError::validation("logType", other, "Member must satisfy enum value set: [None, Tail]"))),
    };
    let client_context = req
        .header("x-amz-client-context")
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let (version, outcome) = lambda.invoke(name, req.query_param("Qualifier"), req.body.clone(), kind, client_context).await.map_err(err)?;
    let Some(inv) = outcome else {
        let status = if kind == InvocationType::Event { StatusCode::ACCEPTED } else { StatusCode::NO_CONTENT };
        return Ok(response(status, vec![("x-amz-executed-version", version)], Bytes::new()));
    };
    let mut h = vec![("content-type", "application/json".to_string()), ("x-amz-executed-version", version), ("x-amzn-requestid", inv.request_id.clone())];
    if let Some(fe) = &inv.function_error {
        h.push(("x-amz-function-error", fe.clone()));
    }
    if tail {
        h.push(("x-amz-log-result", log_tail(&inv.log)));
    }
    Ok(response(StatusCode::OK, h, inv.payload))
}
