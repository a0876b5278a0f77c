//! API Gateway's control-plane wire layer (restJson1, `/restapis/...`): paths to operations,
//! camelCase JSON in and out.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiGatewayError;
use super::model::IntegrationResponse;
use super::ops::{ApiGateway, CreateRestApiInput, PatchOperation, PutIntegrationInput, PutMethodInput};
use crate::services::iam::authz::Access;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol, json, percent_decode, response};

fn ok(status: StatusCode, v: &Value) -> HttpResponse {
    response(status, vec![("content-type", "application/json".into())], Bytes::from(v.to_string()))
}

fn empty(status: StatusCode) -> HttpResponse {
    response(status, vec![], Bytes::new())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Patch {
    #[serde(default)]
    patch_operations: Vec<PatchOperation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PathPart {
    path_part: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MethodResponseIn {
    #[serde(default)]
    response_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    response_models: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DeploymentIn {
    stage_name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StageIn {
    stage_name: Option<String>,
    deployment_id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// Handles one control-plane request.
/// What an API Gateway management call needs under `--enforce-iam`: `apigateway:<METHOD>` on
/// `arn:aws:apigateway:<region>::<path>`, plus `iam:PassRole` on an integration's `credentials`.
pub fn access(req: &AwsRequest, region: &str) -> Vec<Access> {
    let path = percent_decode(&req.path);
    let mut out = vec![Access::new(format!("apigateway:{}", req.method), format!("arn:aws:apigateway:{region}::{path}"))];
    if req.method == Method::PUT && path.ends_with("/integration") {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        if let Some(role) = body.get("credentials").and_then(|c| c.as_str()).filter(|r| r.starts_with("arn:")) {
            out.push(Access::new("iam:PassRole", role).with("iam:PassedToService", "apigateway.amazonaws.com"));
        }
    }
    out
}

pub fn handle(gw: &ApiGateway, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let (op, result) = dispatch(gw, req);
    let resp = result.unwrap_or_else(|e| e.render(Protocol::RestJson1, &req.request_id, req.method == Method::HEAD));
    (resp, op)
}

fn dispatch(gw: &ApiGateway, req: &AwsRequest) -> (&'static str, Result<HttpResponse, AwsError>) {
    let parts: Vec<String> = req.path.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    let e = |e: ApiGatewayError| e.to_aws();
    let body = &req.body;
    macro_rules! parse {
        ($t:ty) => {
            match json::parse::<$t>(body) {
                Ok(v) => v,
                // API Gateway reports an unreadable body as its modeled BadRequestException.
                Err(err) => return ("Invalid", Err(e(ApiGatewayError::BadRequest(err.message)))),
            }
        };
    }
    let m = req.method.clone();
    match (m, p.as_slice()) {
        (Method::POST, ["restapis"]) if req.query_param("mode") == Some("import") => {
            ("ImportRestApi", gw.import_rest_api(body, None, true).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::PUT, ["restapis", id]) => {
            let overwrite = req.query_param("mode") != Some("merge");
            ("PutRestApi", gw.import_rest_api(body, Some(id), overwrite).map(|v| ok(StatusCode::OK, &v)).map_err(e))
        }
        (Method::POST, ["restapis"]) => ("CreateRestApi", gw.create_rest_api(parse!(CreateRestApiInput)).map(|v| ok(StatusCode::CREATED, &v)).map_err(e)),
        (Method::GET, ["restapis"]) => ("GetRestApis", Ok(ok(StatusCode::OK, &gw.get_rest_apis()))),
        (Method::GET, ["restapis", id]) => ("GetRestApi", gw.api(id).map(|a| ok(StatusCode::OK, &a.to_json())).map_err(e)),
        (Method::PATCH, ["restapis", id]) => ("UpdateRestApi", gw.update_rest_api(id, &parse!(Patch).patch_operations).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::DELETE, ["restapis", id]) => ("DeleteRestApi", gw.delete_rest_api(id).map(|_| empty(StatusCode::ACCEPTED)).map_err(e)),
        (Method::GET, ["restapis", id, "resources"]) => ("GetResources", gw.get_resources(id).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::GET, ["restapis", id, "resources", rid]) => ("GetResource", gw.get_resource(id, rid).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::POST, ["restapis", id, "resources", parent]) => (
            "CreateResource",
            gw.create_resource(id, parent, &parse!(PathPart).path_part.unwrap_or_default()).map(|v| ok(StatusCode::CREATED, &v)).map_err(e),
        ),
        (Method::DELETE, ["restapis", id, "resources", rid]) => ("DeleteResource", gw.delete_resource(id, rid).map(|_| empty(StatusCode::ACCEPTED)).map_err(e)),
        (Method::PUT, ["restapis", id, "resources", rid, "methods", m]) => ("PutMethod", gw.put_method(id, rid, m, parse!(PutMethodInput)).map(|v| ok(StatusCode::CREATED, &v)).map_err(e)),
        (Method::GET, ["restapis", id, "resources", rid, "methods", m]) => ("GetMethod", gw.get_method(id, rid, m).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::DELETE, ["restapis", id, "resources", rid, "methods", m]) => ("DeleteMethod", gw.delete_method(id, rid, m).map(|_| empty(StatusCode::NO_CONTENT)).map_err(e)),
        (Method::PUT, ["restapis", id, "resources", rid, "methods", m, "responses", status]) => {
            let input = parse!(MethodResponseIn);
            ("PutMethodResponse", gw.put_method_response(id, rid, m, status, input.response_parameters, input.response_models).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::PUT, ["restapis", id, "resources", rid, "methods", m, "integration"]) => {
            ("PutIntegration", gw.put_integration(id, rid, m, parse!(PutIntegrationInput)).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::GET, ["restapis", id, "resources", rid, "methods", m, "integration"]) => ("GetIntegration", gw.get_integration(id, rid, m).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::PUT, ["restapis", id, "resources", rid, "methods", m, "integration", "responses", status]) => {
            let mut r = parse!(IntegrationResponse);
            r.status_code = status.to_string();
            ("PutIntegrationResponse", gw.put_integration_response(id, rid, m, r).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::POST, ["restapis", id, "deployments"]) => {
            let d = parse!(DeploymentIn);
            ("CreateDeployment", gw.create_deployment(id, d.stage_name.as_deref(), d.description, d.variables).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::GET, ["restapis", id, "deployments"]) => ("GetDeployments", gw.get_deployments(id).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::POST, ["restapis", id, "stages"]) => {
            let s = parse!(StageIn);
            let (name, dep) = (s.stage_name.unwrap_or_default(), s.deployment_id.unwrap_or_default());
            ("CreateStage", gw.create_stage(id, &name, &dep, s.description, s.variables).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::GET, ["restapis", id, "stages"]) => ("GetStages", gw.get_stages(id).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::GET, ["restapis", id, "stages", name]) => ("GetStage", gw.get_stage(id, name).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::PATCH, ["restapis", id, "stages", name]) => ("UpdateStage", gw.update_stage(id, name, &parse!(Patch).patch_operations).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::DELETE, ["restapis", id, "stages", name]) => ("DeleteStage", gw.delete_stage(id, name).map(|_| empty(StatusCode::ACCEPTED)).map_err(e)),
        (Method::POST, ["apikeys"]) => {
            let input = parse!(super::keys::CreateApiKeyInput);
            ("CreateApiKey", gw.keys.create_api_key(input, super::ops::new_id(10), super::ops::now_secs()).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::GET, ["apikeys"]) => ("GetApiKeys", Ok(ok(StatusCode::OK, &gw.keys.get_api_keys(req.query_param("includeValues") == Some("true"))))),
        (Method::GET, ["apikeys", kid]) => ("GetApiKey", gw.keys.get_api_key(kid, req.query_param("includeValue") == Some("true")).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::DELETE, ["apikeys", kid]) => ("DeleteApiKey", gw.keys.delete_api_key(kid).map(|_| empty(StatusCode::ACCEPTED)).map_err(e)),
        (Method::POST, ["usageplans"]) => {
            let input = parse!(super::keys::CreateUsagePlanInput);
            ("CreateUsagePlan", gw.keys.create_usage_plan(input, super::ops::new_id(6)).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::GET, ["usageplans"]) => ("GetUsagePlans", Ok(ok(StatusCode::OK, &gw.keys.get_usage_plans()))),
        (Method::GET, ["usageplans", pid]) => ("GetUsagePlan", gw.keys.get_usage_plan(pid).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::DELETE, ["usageplans", pid]) => ("DeleteUsagePlan", gw.keys.delete_usage_plan(pid).map(|_| empty(StatusCode::ACCEPTED)).map_err(e)),
        (Method::POST, ["usageplans", pid, "keys"]) => {
            let v = parse!(Value);
            let (kid, kt) = (v.get("keyId").and_then(Value::as_str).unwrap_or_default(), v.get("keyType").and_then(Value::as_str).unwrap_or_default());
            ("CreateUsagePlanKey", gw.keys.create_usage_plan_key(pid, kid, kt).map(|v| ok(StatusCode::CREATED, &v)).map_err(e))
        }
        (Method::GET, ["usageplans", pid, "keys"]) => ("GetUsagePlanKeys", gw.keys.get_usage_plan_keys(pid).map(|v| ok(StatusCode::OK, &v)).map_err(e)),
        (Method::DELETE, ["usageplans", pid, "keys", kid]) => ("DeleteUsagePlanKey", gw.keys.delete_usage_plan_key(pid, kid).map(|_| empty(StatusCode::ACCEPTED)).map_err(e)),
        _ => (
            "Unsupported",
            Err(AwsError::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", format!("firelocal's API Gateway does not implement {} {} yet", req.method, req.path))),
        ),
    }
}
