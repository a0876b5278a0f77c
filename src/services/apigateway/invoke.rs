//! API Gateway's data plane: `/restapis/{id}/{stage}/_user_request_/{path}` and
//! `{id}.execute-api.localhost/{stage}/{path}`. Matches the route in the stage's deployment,
//! selects and renders mapping templates (`engine::vtl`), runs the integration (MOCK, AWS
//! actions on Firehose and Lambda in process, AWS_PROXY to Lambda), and maps the response.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};

use super::model::{Integration, IntegrationResponse, Method, Resource};
use super::ops::{ACCOUNT, ApiGateway};
use crate::engine::vtl::{self, Input, Val};
use crate::protocol::{AwsRequest, HttpResponse, percent_decode, response};
use crate::services::firehose::Firehose;
use crate::services::lambda::Lambda;
use crate::services::lambda::ops::InvocationType;

/// What the data plane needs from other services.
pub struct Backends<'a> {
    pub firehose: &'a Firehose,
    pub lambda: &'a Lambda,
    pub s3: &'a crate::services::s3::S3,
    /// IAM when `--enforce-iam` is on: AWS integrations act as their `credentials` role.
    pub iam: Option<&'a crate::services::iam::Iam>,
}

fn message(status: StatusCode, msg: &str, request_id: &str) -> HttpResponse {
    response(
        status,
        vec![("content-type", "application/json".into()), ("x-amzn-requestid", request_id.to_string()), ("x-amzn-errortype", error_type(status).into())],
        Bytes::from(json!({ "message": msg }).to_string()),
    )
}

fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => "ForbiddenException",
        415 => "UnsupportedMediaTypeException",
        502 => "BadGatewayException",
        _ => "InternalServerErrorException",
    }
}

/// Splits an invoke request into (api id, stage, path below the stage).
fn target(req: &AwsRequest) -> Option<(String, String, String)> {
    if let Some(rest) = req.path.strip_prefix("/restapis/") {
        let (api, rest) = rest.split_once('/')?;
        let (stage, rest) = rest.split_once('/')?;
        let path = rest.strip_prefix("_user_request_")?;
        return Some((api.to_string(), stage.to_string(), if path.is_empty() { "/".into() } else { path.to_string() }));
    }
    let api = req.host.split(".execute-api.").next()?;
    let rest = req.path.strip_prefix('/')?;
    let (stage, path) = rest.split_once('/').unwrap_or((rest, ""));
    Some((api.to_string(), stage.to_string(), format!("/{path}")))
}

/// Finds the resource for `segments` under `node`: literal parts first, then `{param}`, then a
/// greedy `{proxy+}`.
fn route<'a>(resources: &'a BTreeMap<String, Resource>, node: &'a Resource, segments: &[String], params: &mut BTreeMap<String, String>) -> Option<&'a Resource> {
    let Some((seg, rest)) = segments.split_first() else { return Some(node) };
    let children: Vec<&Resource> = resources.values().filter(|r| r.parent_id.as_deref() == Some(node.id.as_str())).collect();
    let part = |r: &Resource| r.path_part.clone().unwrap_or_default();
    if let Some(c) = children.iter().find(|c| part(c) == *seg)
        && let Some(found) = route(resources, c, rest, params)
    {
        return Some(found);
    }
    for c in children.iter().filter(|c| part(c).starts_with('{') && !part(c).ends_with("+}")) {
        let name = part(c).trim_matches(|ch| ch == '{' || ch == '}').to_string();
        let mut p = params.clone();
        p.insert(name, seg.clone());
        if let Some(found) = route(resources, c, rest, &mut p) {
            *params = p;
            return Some(found);
        }
    }
    if let Some(c) = children.iter().find(|c| part(c).ends_with("+}")) {
        let name = part(c).trim_start_matches('{').trim_end_matches("+}").to_string();
        params.insert(name, segments.join("/"));
        return Some(c);
    }
    None
}

/// `26/Nov/2026:14:51:06 +0000`, the CLF time API Gateway puts in `$context.requestTime`.
fn request_time(ms: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let c = crate::engine::firehose::prefix::civil(ms);
    format!("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", c.day, MONTHS[(c.month as usize).saturating_sub(1) % 12], c.year, c.hour, c.minute, c.second)
}

struct Call<'a> {
    req: &'a AwsRequest,
    resource: &'a Resource,
    method: &'a Method,
    integration: &'a Integration,
    path_params: BTreeMap<String, String>,
    stage: String,
    stage_vars: BTreeMap<String, String>,
    api_id: String,
    path: String,
    request_id: String,
}

impl Call<'_> {
    fn input(&self, body: String) -> Input {
        Input {
            body,
            path: self.path_params.clone(),
            querystring: self.req.query.iter().cloned().collect(),
            header: self.req.headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect(),
        }
    }

    fn context(&self) -> Value {
        let now = crate::protocol::time::now_millis();
        json!({
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "requestTime": request_time(now),
            "requestTimeEpoch": now,
            "httpMethod": self.req.method.as_str(),
            "resourcePath": self.resource.path,
            "resourceId": self.resource.id,
            "path": format!("/{}{}", self.stage, self.path),
            "stage": self.stage,
            "apiId": self.api_id,
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "domainName": self.req.host,
            "identity": {
                "sourceIp": self.req.header("x-forwarded-for").unwrap_or("127.0.0.1"),
                "userAgent": self.req.header("user-agent").unwrap_or(""),
            },
        })
    }

    fn render(&self, template: &str, body: String) -> Result<String, String> {
        let stage = Val::from_pairs(&self.stage_vars);
        vtl::render(template, self.input(body), Val::from_json(&self.context()), stage)
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.req.body).into_owned()
    }

    /// The request body after the integration's request template, or the status to answer.
    fn integration_body(&self) -> Result<String, HttpResponse> {
        let ct = self.req.header("content-type").and_then(|c| c.split(';').next()).map(|c| c.trim().to_ascii_lowercase()).unwrap_or_else(|| "application/json".into());
        let templates = &self.integration.request_templates;
        let chosen = templates.get(&ct).or_else(|| if self.req.body.is_empty() { templates.get("application/json") } else { None });
        match chosen {
            Some(Some(t)) => self.render(t, self.body_text()).map_err(|e| {
                tracing::warn!(api = %self.api_id, error = %e, "request mapping template failed");
                message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &self.request_id)
            }),
            Some(None) => Ok(self.body_text()),
            None => match self.integration.passthrough_behavior.as_str() {
                "WHEN_NO_MATCH" => Ok(self.body_text()),
                "WHEN_NO_TEMPLATES" if templates.is_empty() => Ok(self.body_text()),
                _ => Err(message(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type", &self.request_id)),
            },
        }
    }

    /// Maps a backend answer through the integration responses. `selector` is what
    /// selectionPattern is matched against (the status code, or a Lambda errorMessage).
    fn respond(&self, selector: &str, backend_body: String) -> HttpResponse {
        let responses = &self.integration.integration_responses;
        let matched = responses
            .values()
            .find(|r| r.selection_pattern.as_deref().filter(|p| !p.is_empty()).is_some_and(|p| regex::Regex::new(&format!("^(?:{p})$")).is_ok_and(|re| re.is_match(selector))))
            .or_else(|| responses.values().find(|r| r.selection_pattern.as_deref().is_none_or(str::is_empty)));
        let Some(r) = matched else {
            tracing::warn!(api = %self.api_id, "Execution failed due to configuration error: No match for output mapping and no default output mapping configured");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &self.request_id);
        };
        self.integration_response(r, backend_body)
    }

    fn integration_response(&self, r: &IntegrationResponse, backend_body: String) -> HttpResponse {
        let status = r.status_code.parse::<u16>().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
        let body = match r.response_templates.get("application/json").or_else(|| r.response_templates.values().next()) {
            Some(Some(t)) if !t.is_empty() => match self.render(t, backend_body) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(api = %self.api_id, error = %e, "response mapping template failed");
                    return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &self.request_id);
                }
            },
            _ => backend_body,
        };
        let mut headers = vec![("content-type", "application/json".to_string()), ("x-amzn-requestid", self.request_id.clone())];
        let mut resp = response(status, std::mem::take(&mut headers), Bytes::from(body));
        for (k, v) in &r.response_parameters {
            let Some(name) = k.strip_prefix("method.response.header.") else { continue };
            let value = match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(lit) => lit.to_string(),
                None => continue,
            };
            if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(&value)) {
                resp.headers_mut().insert(n, v);
            }
        }
        resp
    }
}

/// Handles one invoke request, and remembers it (with the start of both bodies) for the console.
pub async fn invoke(gw: &ApiGateway, backends: &Backends<'_>, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let started = std::time::Instant::now();
    let (resp, op) = handle_invoke(gw, backends, req).await;
    let (parts, body) = resp.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await.map(|b| b.to_bytes()).unwrap_or_default();
    let snippet = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(512)]).into_owned();
    let record = super::ops::InvokeRecord {
        at_ms: crate::protocol::time::now_millis(),
        api_id: target(req).map(|(a, _, _)| a).unwrap_or_default(),
        method: req.method.to_string(),
        path: req.path.clone(),
        status: parts.status.as_u16(),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        request: snippet(&req.body),
        response: snippet(&bytes),
    };
    {
        let mut recent = gw.recent.lock();
        recent.push_back(record);
        while recent.len() > 50 {
            recent.pop_front();
        }
    }
    (http::Response::from_parts(parts, http_body_util::Full::new(bytes)), op)
}

async fn handle_invoke(gw: &ApiGateway, backends: &Backends<'_>, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let forbidden = |m: &str| message(StatusCode::FORBIDDEN, m, &request_id);
    let Some((api_id, stage, path)) = target(req) else { return (forbidden("Forbidden"), "Invoke") };
    let Ok(api) = gw.api(&api_id) else { return (forbidden("Forbidden"), "Invoke") };
    let Some(st) = api.stages.get(&stage) else { return (forbidden("Forbidden"), "Invoke") };
    let Some(deployment) = api.deployments.get(&st.deployment_id) else { return (forbidden("Forbidden"), "Invoke") };
    let resources = &deployment.resources;
    let Some(root) = resources.get(&api.root_resource_id) else { return (forbidden("Forbidden"), "Invoke") };
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let mut path_params = BTreeMap::new();
    let Some(resource) = route(resources, root, &segments, &mut path_params) else { return (forbidden("Missing Authentication Token"), "Invoke") };
    let Some(method) = resource.resource_methods.get(req.method.as_str()).or_else(|| resource.resource_methods.get("ANY")) else {
        return (forbidden("Missing Authentication Token"), "Invoke");
    };
    if method.api_key_required && !req.header("x-api-key").is_some_and(|k| gw.keys.allows(k, &api_id, &stage)) {
        return (forbidden("Forbidden"), "Invoke");
    }
    let Some(integration) = &method.method_integration else {
        tracing::warn!(api = %api_id, "Execution failed due to configuration error: no integration defined for method");
        return (message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &request_id), "Invoke");
    };
    let call = Call { req, resource, method, integration, path_params, stage, stage_vars: st.variables.clone(), api_id: api_id.clone(), path, request_id: request_id.clone() };
    let resp = match integration.kind.as_str() {
        "MOCK" => mock(&call),
        "AWS" => aws(&call, backends).await,
        "AWS_PROXY" => lambda_proxy(&call, backends).await,
        "HTTP" | "HTTP_PROXY" => http_integration(&call).await,
        other => {
            tracing::warn!(api = %api_id, integration = other, "firelocal does not run {other} integrations yet");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &request_id)
        }
    };
    (resp, "Invoke")
}

fn mock(call: &Call<'_>) -> HttpResponse {
    let body = match call.integration_body() {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let status = serde_json::from_str::<Value>(&body).ok().and_then(|v| v.get("statusCode").and_then(Value::as_u64)).unwrap_or(200);
    let _ = call.method;
    call.respond(&status.to_string(), String::new())
}

/// The service and action (or path) of `arn:aws:apigateway:{region}:{service}:{action|path}/{...}`.
fn aws_target(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("arn:aws:apigateway:")?;
    let mut parts = rest.splitn(3, ':');
    let _region = parts.next()?;
    let service = parts.next()?;
    let (kind, target) = parts.next()?.split_once('/')?;
    Some((service, kind, target))
}

async fn aws(call: &Call<'_>, backends: &Backends<'_>) -> HttpResponse {
    let body = match call.integration_body() {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let uri = call.integration.uri.as_deref().unwrap_or_default();
    match aws_target(uri) {
        Some(("firehose", "action", action)) => {
            if let Some(denied) = integration_denied(call, backends, &format!("firehose:{action}"), &body) {
                return call.respond("400", denied);
            }
            let (status, out) = match crate::services::firehose::wire::execute(backends.firehose, action, body.as_bytes()).await {
                Ok(v) => (200, v.to_string()),
                Err(e) => (e.status.as_u16(), json!({ "__type": e.code, "message": e.message }).to_string()),
            };
            call.respond(&status.to_string(), out)
        }
        Some(("lambda", "path", path)) => {
            let Some(function) = path.strip_prefix("2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations")) else {
                return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id);
            };
            match backends.lambda.invoke(function, None, Bytes::from(body), InvocationType::RequestResponse, None).await {
                Ok((_, Some(inv))) => {
                    let out = String::from_utf8_lossy(&inv.payload).into_owned();
                    if inv.function_error.is_some() {
                        let msg = serde_json::from_str::<Value>(&out).ok().and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(String::from)).unwrap_or_default();
                        call.respond(&msg, out)
                    } else {
                        call.respond("", out)
                    }
                }
                _ => message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id),
            }
        }
        Some(("s3", "path", path)) => s3_path(call, backends.s3, path, body),
        _ => {
            tracing::warn!(api = %call.api_id, uri, "firelocal runs AWS integrations for Firehose actions, Lambda invocations and S3 object paths only");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id)
        }
    }
}

/// `arn:aws:apigateway:{region}:s3:path/{bucket}/{key}`: GET, PUT, HEAD or DELETE an object of
/// firelocal's S3 (`{param}` in the path are replaced from path parameters and
/// `integration.request.path.*` mappings).
fn s3_path(call: &Call<'_>, s3: &crate::services::s3::S3, path: &str, body: String) -> HttpResponse {
    use crate::services::s3::{ops, store::ObjectMeta};
    let mut path = path.to_string();
    for (kind, name, value) in mapped_parameters(call) {
        if kind == "path" {
            path = path.replace(&format!("{{{name}}}"), &value);
        }
    }
    for (name, value) in &call.path_params {
        path = path.replace(&format!("{{{name}}}"), value).replace(&format!("{{{name}+}}"), value);
    }
    let Some((bucket, key)) = path.split_once('/') else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id);
    };
    let method = call.integration.http_method.as_deref().unwrap_or("GET");
    let result = match method {
        "GET" | "HEAD" => ops::get_object(s3, (bucket, key, None), &ops::Conditions::default(), None, method == "HEAD")
            .and_then(|(obj, _)| if method == "HEAD" { Ok(String::new()) } else { s3.store.read_data(&obj.data, None).map(|b| String::from_utf8_lossy(&b).into_owned()) }),
        "PUT" => {
            let meta = ObjectMeta { content_type: call.req.header("content-type").map(String::from), ..Default::default() };
            ops::put_object(s3, ops::PutObjectInput { bucket: bucket.into(), key: key.into(), body: Bytes::from(body), meta, ..Default::default() }).map(|_| String::new())
        }
        "DELETE" => s3.delete_object(bucket, key, None, "ObjectRemoved:Delete").map(|_| String::new()),
        _ => return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id),
    };
    match result {
        Ok(out) => call.respond("200", out),
        Err(e) => {
            let aws = e.to_aws();
            let mut w = crate::protocol::xml::XmlWriter::new();
            w.open("Error").elem("Code", aws.code).elem("Message", &aws.message).close("Error");
            call.respond(aws.status.as_str(), w.finish())
        }
    }
}

/// With `--enforce-iam`: the AccessDeniedException body when the integration's `credentials` role
/// may not perform `action` on the Firehose stream the body names (or cannot be assumed).
fn integration_denied(call: &Call<'_>, backends: &Backends<'_>, action: &str, body: &str) -> Option<String> {
    let iam = backends.iam?;
    let role = call.integration.credentials.clone().unwrap_or_default();
    let stream = serde_json::from_str::<Value>(body).ok().and_then(|v| v.get("DeliveryStreamName").and_then(Value::as_str).map(String::from)).unwrap_or_default();
    let resource = format!("arn:aws:firehose:{}:{ACCOUNT}:deliverystream/{stream}", backends.firehose.region);
    let message = if role.is_empty() || !iam.trusts(&role, "apigateway.amazonaws.com") {
        format!("API Gateway could not assume the integration's credentials role '{role}': its trust policy does not allow apigateway.amazonaws.com")
    } else {
        match iam.authorize_role(&role, "BackplaneAssumeRoleSession", action, &resource) {
            Ok(()) => return None,
            Err(m) => m,
        }
    };
    Some(json!({ "__type": "AccessDeniedException", "message": message }).to_string())
}

/// The Lambda proxy event, payload format 1.0.
fn proxy_event(call: &Call<'_>) -> Value {
    let mut headers = serde_json::Map::new();
    let mut multi_headers: serde_json::Map<String, Value> = serde_json::Map::new();
    for (k, v) in &call.req.headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        headers.insert(k.as_str().to_string(), v.clone().into());
        if let Some(Value::Array(a)) = multi_headers.get_mut(k.as_str()) {
            a.push(v.into());
        } else {
            multi_headers.insert(k.as_str().to_string(), json!([v]));
        }
    }
    let mut qs = serde_json::Map::new();
    let mut multi_qs: serde_json::Map<String, Value> = serde_json::Map::new();
    for (k, v) in &call.req.query {
        qs.insert(k.clone(), v.clone().into());
        if let Some(Value::Array(a)) = multi_qs.get_mut(k) {
            a.push(v.clone().into());
        } else {
            multi_qs.insert(k.clone(), json!([v]));
        }
    }
    let text = std::str::from_utf8(&call.req.body).ok();
    let nullable = |m: serde_json::Map<String, Value>| if m.is_empty() { Value::Null } else { Value::Object(m) };
    json!({
        "resource": call.resource.path,
        "path": call.path,
        "httpMethod": call.req.method.as_str(),
        "headers": nullable(headers),
        "multiValueHeaders": nullable(multi_headers),
        "queryStringParameters": nullable(qs),
        "multiValueQueryStringParameters": nullable(multi_qs),
        "pathParameters": if call.path_params.is_empty() { Value::Null } else { json!(call.path_params) },
        "stageVariables": if call.stage_vars.is_empty() { Value::Null } else { json!(call.stage_vars) },
        "requestContext": call.context(),
        "body": if call.req.body.is_empty() { Value::Null } else { text.map_or_else(|| B64.encode(&call.req.body).into(), |t| t.into()) },
        "isBase64Encoded": !call.req.body.is_empty() && text.is_none(),
    })
}

async fn lambda_proxy(call: &Call<'_>, backends: &Backends<'_>) -> HttpResponse {
    let bad_gateway = || message(StatusCode::BAD_GATEWAY, "Internal server error", &call.request_id);
    let uri = call.integration.uri.as_deref().unwrap_or_default();
    let Some(function) = aws_target(uri).and_then(|(_, _, p)| p.strip_prefix("2015-03-31/functions/")).and_then(|p| p.strip_suffix("/invocations")) else {
        tracing::warn!(api = %call.api_id, uri, "AWS_PROXY integration URI is not a Lambda invocation");
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id);
    };
    let event = Bytes::from(proxy_event(call).to_string());
    let inv = match backends.lambda.invoke(function, None, event, InvocationType::RequestResponse, None).await {
        Ok((_, Some(inv))) if inv.function_error.is_none() => inv,
        other => {
            tracing::warn!(api = %call.api_id, outcome = ?other.map(|(_, i)| i.map(|i| String::from_utf8_lossy(&i.payload).into_owned())), "Lambda proxy invocation failed");
            return bad_gateway();
        }
    };
    let Ok(Value::Object(out)) = serde_json::from_slice::<Value>(&inv.payload) else {
        tracing::warn!(api = %call.api_id, "Execution failed due to configuration error: Malformed Lambda proxy response");
        return bad_gateway();
    };
    let Some(status) = out.get("statusCode").and_then(|s| s.as_u64().or_else(|| s.as_str().and_then(|s| s.parse().ok()))).and_then(|s| StatusCode::from_u16(s as u16).ok()) else {
        tracing::warn!(api = %call.api_id, "Execution failed due to configuration error: Malformed Lambda proxy response");
        return bad_gateway();
    };
    let body = match out.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if out.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false) => match B64.decode(s) {
            Ok(b) => Bytes::from(b),
            Err(_) => return bad_gateway(),
        },
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(_) => return bad_gateway(),
    };
    let mut resp = response(status, vec![("x-amzn-requestid", call.request_id.clone())], body);
    let mut set = |k: &str, v: &Value| {
        let value = v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(&value)) {
            resp.headers_mut().append(n, v);
        }
    };
    if let Some(Value::Object(h)) = out.get("headers") {
        for (k, v) in h {
            set(k, v);
        }
    }
    if let Some(Value::Object(h)) = out.get("multiValueHeaders") {
        for (k, vs) in h {
            for v in vs.as_array().into_iter().flatten() {
                set(k, v);
            }
        }
    }
    if !resp.headers().contains_key("content-type") {
        resp.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
    }
    resp
}

/// Resolves `requestParameters` (`integration.request.{header,querystring,path}.X` from
/// `method.request.{header,querystring,path}.Y` or a `'literal'`) into (kind, name, value).
fn mapped_parameters(call: &Call<'_>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (target, source) in &call.integration.request_parameters {
        let Some(rest) = target.strip_prefix("integration.request.") else { continue };
        let Some((kind, name)) = rest.split_once('.') else { continue };
        let value = if let Some(lit) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            Some(lit.to_string())
        } else if let Some(h) = source.strip_prefix("method.request.header.") {
            call.req.header(h).map(String::from)
        } else if let Some(q) = source.strip_prefix("method.request.querystring.") {
            call.req.query_param(q).map(String::from)
        } else if let Some(p) = source.strip_prefix("method.request.path.") {
            call.path_params.get(p).cloned()
        } else if let Some(v) = source.strip_prefix("stageVariables.") {
            call.stage_vars.get(v).cloned()
        } else {
            None
        };
        if let Some(v) = value {
            out.push((kind.to_string(), name.to_string(), v));
        }
    }
    out
}

/// HTTP and HTTP_PROXY integrations to a loopback URL.
async fn http_integration(call: &Call<'_>) -> HttpResponse {
    let fail = |why: &str| {
        tracing::warn!(api = %call.api_id, "HTTP integration failed: {why}");
        message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", &call.request_id)
    };
    let proxy = call.integration.kind == "HTTP_PROXY";
    let body = if proxy {
        Bytes::from(call.req.body.clone())
    } else {
        match call.integration_body() {
            Ok(b) => Bytes::from(b),
            Err(resp) => return resp,
        }
    };
    let params = mapped_parameters(call);
    let mut uri = call.integration.uri.clone().unwrap_or_default();
    for (k, v) in params.iter().filter(|(k, _, _)| k == "path").map(|(_, n, v)| (n, v)).chain(call.path_params.iter()) {
        uri = uri.replace(&format!("{{{k}}}"), v).replace(&format!("{{{k}+}}"), v);
    }
    let Ok(parsed) = uri.parse::<http::Uri>() else { return fail(&format!("invalid URI {uri}")) };
    let host = parsed.host().unwrap_or_default().to_string();
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme_str() != Some("http") || !loopback {
        return fail(&format!("firelocal only calls http:// loopback URLs, not {uri}"));
    }
    let port = parsed.port_u16().unwrap_or(80);
    let mut query: Vec<(String, String)> = if proxy { call.req.query.clone() } else { Vec::new() };
    query.extend(params.iter().filter(|(k, _, _)| k == "querystring").map(|(_, n, v)| (n.clone(), v.clone())));
    let mut path_and_query = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        query.extend(crate::protocol::parse_query(q));
    }
    if !query.is_empty() {
        let qs: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", crate::protocol::url_encode(k), crate::protocol::url_encode(v))).collect();
        path_and_query = format!("{path_and_query}?{}", qs.join("&"));
    }
    let method = match call.integration.http_method.as_deref() {
        Some("ANY") | None => call.req.method.clone(),
        Some(m) => m.parse().unwrap_or(http::Method::POST),
    };
    let mut builder = http::Request::builder().method(method).uri(path_and_query).header("host", format!("{host}:{port}"));
    if proxy {
        for (k, v) in &call.req.headers {
            if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
                builder = builder.header(k, v);
            }
        }
    } else {
        builder = builder.header("content-type", "application/json");
    }
    for (_, n, v) in params.iter().filter(|(k, _, _)| k == "header") {
        builder = builder.header(n.as_str(), v.as_str());
    }
    let Ok(request) = builder.body(http_body_util::Full::new(body)) else { return fail("could not build the request") };
    let timeout = std::time::Duration::from_millis(call.integration.timeout_in_millis.into());
    let sent = tokio::time::timeout(timeout, async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let resp = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let (parts, body) = resp.into_parts();
        let body = http_body_util::BodyExt::collect(body).await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>((parts, body))
    })
    .await;
    let (parts, body) = match sent {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return fail(&e),
        Err(_) => return message(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out", &call.request_id),
    };
    if proxy {
        let mut resp = response(parts.status, vec![], body);
        for (k, v) in &parts.headers {
            if k != http::header::CONTENT_LENGTH && k != http::header::TRANSFER_ENCODING && k != http::header::CONNECTION {
                resp.headers_mut().append(k.clone(), v.clone());
            }
        }
        return resp;
    }
    call.respond(parts.status.as_str(), String::from_utf8_lossy(&body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_request_time() {
        assert_eq!(request_time(1_704_164_645_678), "02/Jan/2024:03:04:05 +0000");
    }
}
