//! Lambda's wire layer (restJson1, `/2015-03-31/functions/...`): which operation a path and
//! method are, the JSON inputs, and the outputs, including Invoke's headers
//! (`X-Amz-Function-Error`, `X-Amz-Log-Result`, `X-Amz-Executed-Version`).

use base64::Engine;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;

use super::error::LambdaError;
use super::ops::{CreateFunctionInput, FunctionCode, InvocationType, Lambda, UpdateConfigurationInput};
use crate::protocol::json;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol, percent_decode, response};

const PROTOCOL: Protocol = Protocol::RestJson1;

fn json_response(status: StatusCode, v: &Value) -> HttpResponse {
    response(status, vec![("content-type", "application/json".into())], Bytes::from(v.to_string()))
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
    let path = req.path.trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/2015-03-31/functions") else {
        return ("Unsupported", Err(err(LambdaError::UnsupportedOperation(format!("firelocal's Lambda does not implement {} {} yet", req.method, req.path)))));
    };
    let parts: Vec<String> = rest.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
    let qualifier = req.query_param("Qualifier");
    let m = &req.method;
    match (m, parts.as_slice()) {
        (&Method::POST, []) => ("CreateFunction", create(lambda, req).await),
        (&Method::GET, []) => ("ListFunctions", list(lambda, req)),
        (&Method::GET, [name]) => ("GetFunction", lambda.get_function(name, qualifier).map(|v| json_response(StatusCode::OK, &v)).map_err(err)),
        (&Method::DELETE, [name]) => {
            ("DeleteFunction", lambda.delete_function(name, qualifier).await.map(|_| response(StatusCode::NO_CONTENT, vec![], Bytes::new())).map_err(err))
        }
        (&Method::GET, [name, c]) if c == "configuration" => {
            ("GetFunctionConfiguration", lambda.function(name, qualifier).map(|f| json_response(StatusCode::OK, &f.configuration())).map_err(err))
        }
        (&Method::PUT, [name, c]) if c == "configuration" => ("UpdateFunctionConfiguration", update_configuration(lambda, name, req).await),
        (&Method::PUT, [name, c]) if c == "code" => ("UpdateFunctionCode", update_code(lambda, name, req).await),
        (&Method::POST, [name, i]) if i == "invocations" => ("Invoke", invoke(lambda, name, req).await),
        (&Method::POST, [name, v]) if v == "versions" => ("PublishVersion", publish(lambda, name, req)),
        (&Method::GET, [name, v]) if v == "versions" => (
            "ListVersionsByFunction",
            lambda.list_versions(name).map(|v| json_response(StatusCode::OK, &serde_json::json!({ "Versions": v }))).map_err(err),
        ),
        (&Method::POST, [name, p]) if p == "policy" => ("AddPermission", add_permission(lambda, name, req)),
        (&Method::GET, [name, p]) if p == "policy" => ("GetPolicy", lambda.get_policy(name).map(|v| json_response(StatusCode::OK, &v)).map_err(err)),
        (&Method::DELETE, [name, p, sid]) if p == "policy" => {
            ("RemovePermission", lambda.remove_permission(name, sid).map(|_| response(StatusCode::NO_CONTENT, vec![], Bytes::new())).map_err(err))
        }
        _ => ("Unsupported", Err(err(LambdaError::UnsupportedOperation(format!("firelocal's Lambda does not implement {} {} yet", req.method, req.path))))),
    }
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
