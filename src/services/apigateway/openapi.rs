//! ImportRestApi / PutRestApi: an OpenAPI 3 or Swagger 2 document (JSON or YAML) with
//! `x-amazon-apigateway-integration`, turned into resources, methods, method responses,
//! integrations and integration responses.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{ApiGatewayError, ApiResult};
use super::model::{Integration, IntegrationResponse, Method, MethodResponse};

/// One operation of the document: path, HTTP method, and the method it becomes.
pub struct Operation {
    pub path: String,
    pub method: Method,
}

/// The parts of a document firelocal uses.
pub struct Document {
    pub title: Option<String>,
    pub description: Option<String>,
    pub binary_media_types: Vec<String>,
    pub operations: Vec<Operation>,
}

fn strings(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object).map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), String::from))).collect()).unwrap_or_default()
}

fn templates(v: Option<&Value>) -> BTreeMap<String, Option<String>> {
    v.and_then(Value::as_object).map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map(String::from))).collect()).unwrap_or_default()
}

/// Parses the document (JSON first, then YAML).
pub fn parse(body: &[u8]) -> ApiResult<Document> {
    let doc: Value = serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice::<Value>(body))
        .map_err(|e| ApiGatewayError::BadRequest(format!("Invalid OpenAPI input: the document is neither JSON nor YAML ({e})")))?;
    if doc.get("openapi").is_none() && doc.get("swagger").is_none() {
        return Err(ApiGatewayError::BadRequest("Invalid OpenAPI input: expected an 'openapi' (3.x) or 'swagger' (2.0) document".into()));
    }
    let info = doc.get("info");
    // Security schemes that mean "API key in x-api-key".
    let schemes = doc.pointer("/components/securitySchemes").or_else(|| doc.get("securityDefinitions")).and_then(Value::as_object).cloned().unwrap_or_default();
    let api_key_schemes: Vec<String> = schemes
        .iter()
        .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("apiKey") && s.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case("x-api-key")))
        .map(|(k, _)| k.clone())
        .collect();
    let global_security = doc.get("security").cloned();
    let mut operations = Vec::new();
    let paths = doc.get("paths").and_then(Value::as_object).cloned().unwrap_or_default();
    for (path, item) in paths {
        let Some(item) = item.as_object() else { continue };
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for (verb, op) in item {
            let http_method = match verb.as_str() {
                "x-amazon-apigateway-any-method" => "ANY".to_string(),
                v @ ("get" | "put" | "post" | "delete" | "options" | "head" | "patch") => v.to_ascii_uppercase(),
                _ => continue,
            };
            let mut request_parameters = BTreeMap::new();
            for p in shared_params.iter().chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten()) {
                let (Some(name), Some(loc)) = (p.get("name").and_then(Value::as_str), p.get("in").and_then(Value::as_str)) else { continue };
                let loc = match loc {
                    "path" => "path",
                    "query" => "querystring",
                    "header" => "header",
                    _ => continue,
                };
                request_parameters.insert(format!("method.request.{loc}.{name}"), p.get("required").and_then(Value::as_bool).unwrap_or(false));
            }
            let security = op.get("security").or(global_security.as_ref());
            let api_key_required = security
                .and_then(Value::as_array)
                .is_some_and(|reqs| reqs.iter().any(|r| r.as_object().is_some_and(|o| o.keys().any(|k| api_key_schemes.contains(k)))));
            let method_responses: BTreeMap<String, MethodResponse> = op
                .get("responses")
                .and_then(Value::as_object)
                .map(|o| {
                    o.keys()
                        .filter(|k| k.chars().all(|c| c.is_ascii_digit()))
                        .map(|k| (k.clone(), MethodResponse { status_code: k.clone(), ..Default::default() }))
                        .collect()
                })
                .unwrap_or_default();
            let integration = op.get("x-amazon-apigateway-integration").map(|x| {
                let responses = x
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|o| {
                        o.iter()
                            .map(|(pattern, r)| {
                                let status = r.get("statusCode").and_then(|s| s.as_str().map(String::from).or_else(|| s.as_u64().map(|n| n.to_string()))).unwrap_or_else(|| "200".into());
                                let ir = IntegrationResponse {
                                    status_code: status.clone(),
                                    selection_pattern: (pattern != "default").then(|| pattern.clone()),
                                    response_parameters: strings(r.get("responseParameters")),
                                    response_templates: templates(r.get("responseTemplates")),
                                    content_handling: r.get("contentHandling").and_then(Value::as_str).map(String::from),
                                };
                                (status, ir)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Integration {
                    kind: x.get("type").and_then(Value::as_str).unwrap_or("mock").to_ascii_uppercase(),
                    http_method: x.get("httpMethod").and_then(Value::as_str).map(|m| m.to_ascii_uppercase()),
                    uri: x.get("uri").and_then(Value::as_str).map(String::from),
                    credentials: x.get("credentials").and_then(Value::as_str).map(String::from),
                    request_parameters: strings(x.get("requestParameters")),
                    request_templates: templates(x.get("requestTemplates")),
                    passthrough_behavior: x.get("passthroughBehavior").and_then(Value::as_str).unwrap_or("when_no_match").to_ascii_uppercase(),
                    content_handling: x.get("contentHandling").and_then(Value::as_str).map(String::from),
                    timeout_in_millis: x.get("timeoutInMillis").and_then(Value::as_u64).unwrap_or(29_000) as u32,
                    cache_namespace: String::new(),
                    cache_key_parameters: Vec::new(),
                    integration_responses: responses,
                }
            });
            operations.push(Operation {
                path: path.clone(),
                method: Method {
                    http_method,
                    authorization_type: "NONE".into(),
                    api_key_required,
                    request_parameters,
                    request_models: BTreeMap::new(),
                    method_responses,
                    method_integration: integration,
                },
            });
        }
    }
    Ok(Document {
        title: info.and_then(|i| i.get("title")).and_then(Value::as_str).map(String::from),
        description: info.and_then(|i| i.get("description")).and_then(Value::as_str).map(String::from),
        binary_media_types: doc.get("x-amazon-apigateway-binary-media-types").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default(),
        operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_openapi_with_integration() {
        let doc = br#"
openapi: 3.0.1
info: { title: clicks, description: seed api }
components:
  securitySchemes:
    api_key: { type: apiKey, name: x-api-key, in: header }
paths:
  /clickstream/{id}:
    post:
      parameters: [{ name: id, in: path, required: true }]
      security: [{ api_key: [] }]
      responses: { "200": { description: ok } }
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:firehose:action/PutRecord
        passthroughBehavior: when_no_templates
        requestTemplates: { application/json: '{"DeliveryStreamName": "s"}' }
        responses:
          default: { statusCode: "200" }
          "4\\d{2}": { statusCode: "400" }
"#;
        let d = parse(doc).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.title.as_deref(), Some("clicks"));
        let op = &d.operations[0];
        assert_eq!((op.path.as_str(), op.method.http_method.as_str(), op.method.api_key_required), ("/clickstream/{id}", "POST", true));
        assert_eq!(op.method.request_parameters.get("method.request.path.id"), Some(&true));
        let i = op.method.method_integration.as_ref().unwrap_or_else(|| panic!("no integration"));
        assert_eq!((i.kind.as_str(), i.passthrough_behavior.as_str()), ("AWS", "WHEN_NO_TEMPLATES"));
        assert_eq!(i.integration_responses.get("400").and_then(|r| r.selection_pattern.as_deref()), Some("4\\d{2}"));
        assert_eq!(i.integration_responses.get("200").and_then(|r| r.selection_pattern.as_deref()), None);
        assert!(parse(b"not: [valid").is_err());
        assert!(parse(b"{\"a\": 1}").is_err());
    }
}
