//! API Gateway's control plane: REST APIs, resources, methods, method responses, integrations,
//! integration responses, deployments and stages, stored one document per API.

use std::collections::BTreeMap;

use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiGatewayError, ApiResult};
use super::model::{Deployment, Integration, IntegrationResponse, Method, MethodResponse, Resource, RestApi, Stage};
use crate::state::DocTable;

/// The account APIs belong to.
pub const ACCOUNT: &str = "000000000000";

/// The service.
pub struct ApiGateway {
    pub region: String,
    /// API keys and usage plans.
    pub keys: super::keys::Keys,
    apis: Mutex<BTreeMap<String, RestApi>>,
    docs: DocTable,
    /// The latest invoke requests (for the console), newest last.
    pub recent: Mutex<std::collections::VecDeque<InvokeRecord>>,
}

/// One request to a REST API's invoke URL, as the console lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvokeRecord {
    pub at_ms: i64,
    pub api_id: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency_ms: f64,
    /// The first 512 bytes of the request and response bodies.
    pub request: String,
    pub response: String,
}

/// A short random id of lower-case letters and digits, as API Gateway's.
pub fn new_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    uuid::Uuid::new_v4().as_bytes().iter().chain(uuid::Uuid::new_v4().as_bytes()).take(len).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

pub fn now_secs() -> i64 {
    crate::protocol::time::now_millis() / 1000
}

fn api_missing(id: &str) -> ApiGatewayError {
    ApiGatewayError::NotFound(format!("Invalid API identifier specified {ACCOUNT}:{id}"))
}

fn resource_missing(id: &str) -> ApiGatewayError {
    ApiGatewayError::NotFound(format!("Invalid Resource identifier specified {id}"))
}

fn method_missing() -> ApiGatewayError {
    ApiGatewayError::NotFound("Invalid Method identifier specified".into())
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];
const INTEGRATION_TYPES: &[&str] = &["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"];

/// CreateRestApi's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestApiInput {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub binary_media_types: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub endpoint_configuration: Option<Value>,
}

/// PutMethod's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodInput {
    pub authorization_type: Option<String>,
    pub api_key_required: Option<bool>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    pub request_models: BTreeMap<String, String>,
}

/// PutIntegration's input (`httpMethod` is the integration's HTTP method).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub credentials: Option<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub request_templates: BTreeMap<String, Option<String>>,
    pub passthrough_behavior: Option<String>,
    pub content_handling: Option<String>,
    pub timeout_in_millis: Option<u32>,
}

/// A JSON Patch-like operation of the Update* calls.
#[derive(Debug, Deserialize)]
pub struct PatchOperation {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
}

impl ApiGateway {
    /// Opens the service and loads stored APIs.
    pub fn open(root: &std::sync::Arc<crate::state::Root>, region: &str) -> ApiResult<ApiGateway> {
        let docs = DocTable::open(root, "apigateway_apis")?;
        let apis = docs.load::<RestApi>()?.into_iter().map(|a| (a.id.clone(), a)).collect();
        Ok(ApiGateway { region: region.to_string(), keys: super::keys::Keys::open(root)?, apis: Mutex::new(apis), docs, recent: Mutex::new(std::collections::VecDeque::new()) })
    }

    /// Runs `f` on an API and saves it.
    fn with_api<T>(&self, id: &str, f: impl FnOnce(&mut RestApi) -> ApiResult<T>) -> ApiResult<T> {
        let mut apis = self.apis.lock();
        let api = apis.get_mut(id).ok_or_else(|| api_missing(id))?;
        let out = f(api)?;
        self.docs.save(&api.id, "", api)?;
        Ok(out)
    }

    /// A copy of an API.
    pub fn api(&self, id: &str) -> ApiResult<RestApi> {
        self.apis.lock().get(id).cloned().ok_or_else(|| api_missing(id))
    }

    /// CreateRestApi.
    pub fn create_rest_api(&self, input: CreateRestApiInput) -> ApiResult<Value> {
        let name = input.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiGatewayError::BadRequest("Invalid REST API name specified".into()))?;
        let types = input
            .endpoint_configuration
            .as_ref()
            .and_then(|e| e.get("types"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|t| t.as_str().map(String::from)).collect())
            .unwrap_or_else(|| vec!["EDGE".to_string()]);
        let root = new_id(10);
        let api = RestApi {
            id: new_id(10),
            name,
            description: input.description,
            created_date: now_secs(),
            root_resource_id: root.clone(),
            binary_media_types: input.binary_media_types,
            tags: input.tags,
            endpoint_types: types,
            resources: BTreeMap::from([(root.clone(), Resource { id: root, parent_id: None, path_part: None, path: "/".into(), resource_methods: BTreeMap::new() })]),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
        };
        self.docs.save(&api.id, "", &api)?;
        let out = api.to_json();
        self.apis.lock().insert(api.id.clone(), api);
        Ok(out)
    }

    /// ImportRestApi (`existing` = None) or PutRestApi (`overwrite` replaces every resource,
    /// otherwise the document is merged in).
    pub fn import_rest_api(&self, body: &[u8], existing: Option<&str>, overwrite: bool) -> ApiResult<Value> {
        let doc = super::openapi::parse(body)?;
        let id = match existing {
            Some(id) => {
                self.api(id)?;
                id.to_string()
            }
            None => {
                let created = self.create_rest_api(CreateRestApiInput {
                    name: Some(doc.title.clone().unwrap_or_else(|| "imported".into())),
                    description: doc.description.clone(),
                    binary_media_types: doc.binary_media_types.clone(),
                    ..Default::default()
                })?;
                created["id"].as_str().unwrap_or_default().to_string()
            }
        };
        self.with_api(&id, |api| {
            if overwrite {
                let root = api.root_resource_id.clone();
                api.resources.retain(|k, _| *k == root);
                if let Some(r) = api.resources.get_mut(&root) {
                    r.resource_methods.clear();
                }
                if let Some(t) = &doc.title {
                    api.name = t.clone();
                }
            }
            for op in &doc.operations {
                let mut current = api.root_resource_id.clone();
                let mut path = String::new();
                for part in op.path.split('/').filter(|p| !p.is_empty()) {
                    path = format!("{path}/{part}");
                    let existing = api.resources.values().find(|r| r.parent_id.as_deref() == Some(current.as_str()) && r.path_part.as_deref() == Some(part)).map(|r| r.id.clone());
                    current = match existing {
                        Some(rid) => rid,
                        None => {
                            let r = Resource { id: new_id(6), parent_id: Some(current.clone()), path_part: Some(part.to_string()), path: path.clone(), resource_methods: BTreeMap::new() };
                            let rid = r.id.clone();
                            api.resources.insert(rid.clone(), r);
                            rid
                        }
                    };
                }
                if let Some(r) = api.resources.get_mut(&current) {
                    let mut m = op.method.clone();
                    if let Some(i) = m.method_integration.as_mut() {
                        i.cache_namespace = current.clone();
                    }
                    r.resource_methods.insert(m.http_method.clone(), m);
                }
            }
            Ok(api.to_json())
        })
    }

    /// GetRestApis.
    pub fn get_rest_apis(&self) -> Value {
        let items: Vec<Value> = self.apis.lock().values().map(RestApi::to_json).collect();
        serde_json::json!({ "item": items })
    }

    /// UpdateRestApi (`replace` of /name, /description).
    pub fn update_rest_api(&self, id: &str, ops: &[PatchOperation]) -> ApiResult<Value> {
        self.with_api(id, |api| {
            for op in ops {
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/name") => api.name = op.value.clone().unwrap_or_default(),
                    ("replace", "/description") => api.description = op.value.clone(),
                    (o, p) => return Err(ApiGatewayError::BadRequest(format!("Invalid patch operation specified. Must be one of: [replace] for path: {p} ({o})"))),
                }
            }
            Ok(api.to_json())
        })
    }

    /// DeleteRestApi.
    pub fn delete_rest_api(&self, id: &str) -> ApiResult<()> {
        self.apis.lock().remove(id).ok_or_else(|| api_missing(id))?;
        self.docs.delete(id, None)?;
        Ok(())
    }

    /// GetResources.
    pub fn get_resources(&self, id: &str) -> ApiResult<Value> {
        let api = self.api(id)?;
        let mut items: Vec<&Resource> = api.resources.values().collect();
        items.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(serde_json::json!({ "item": items }))
    }

    /// GetResource.
    pub fn get_resource(&self, id: &str, rid: &str) -> ApiResult<Value> {
        let api = self.api(id)?;
        let r = api.resources.get(rid).ok_or_else(|| resource_missing(rid))?;
        serde_json::to_value(r).map_err(|e| ApiGatewayError::Internal(e.to_string()))
    }

    /// CreateResource under `parent`.
    pub fn create_resource(&self, id: &str, parent: &str, path_part: &str) -> ApiResult<Value> {
        let valid = !path_part.is_empty()
            && (path_part.chars().all(|c| c.is_ascii_alphanumeric() || "-._:~".contains(c))
                || (path_part.starts_with('{') && path_part.ends_with('}') && path_part.len() > 2));
        if !valid {
            return Err(ApiGatewayError::BadRequest(format!(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace. ({path_part})"
            )));
        }
        self.with_api(id, |api| {
            let p = api.resources.get(parent).ok_or_else(|| resource_missing(parent))?.clone();
            if api.resources.values().any(|r| r.parent_id.as_deref() == Some(parent) && r.path_part.as_deref() == Some(path_part)) {
                return Err(ApiGatewayError::Conflict(format!("Another resource with the same parent already has this name: {path_part}")));
            }
            if p.path.contains("+}") {
                return Err(ApiGatewayError::BadRequest("A greedy path parameter ({proxy+}) must be the last part of a path".into()));
            }
            if path_part.starts_with('{')
                && let Some(sibling) = api
                    .resources
                    .values()
                    .filter(|r| r.parent_id.as_deref() == Some(parent))
                    .filter_map(|r| r.path_part.as_deref())
                    .find(|pp| pp.starts_with('{'))
            {
                return Err(ApiGatewayError::BadRequest(format!("A sibling ({}) of this resource already has a variable path part -- only one is allowed", sibling.trim_matches(|c| c == '{' || c == '}'))));
            }
            let path = if p.path == "/" { format!("/{path_part}") } else { format!("{}/{path_part}", p.path) };
            let r = Resource { id: new_id(6), parent_id: Some(parent.to_string()), path_part: Some(path_part.to_string()), path, resource_methods: BTreeMap::new() };
            api.resources.insert(r.id.clone(), r.clone());
            serde_json::to_value(&r).map_err(|e| ApiGatewayError::Internal(e.to_string()))
        })
    }

    /// DeleteResource (and everything under it).
    pub fn delete_resource(&self, id: &str, rid: &str) -> ApiResult<()> {
        self.with_api(id, |api| {
            let r = api.resources.get(rid).ok_or_else(|| resource_missing(rid))?;
            if r.parent_id.is_none() {
                return Err(ApiGatewayError::BadRequest("Cannot delete the root resource".into()));
            }
            let prefix = format!("{}/", r.path);
            let path = r.path.clone();
            api.resources.retain(|_, x| x.path != path && !x.path.starts_with(&prefix));
            Ok(())
        })
    }

    fn method_mut<'a>(api: &'a mut RestApi, rid: &str, m: &str) -> ApiResult<&'a mut Method> {
        api.resources.get_mut(rid).ok_or_else(|| resource_missing(rid))?.resource_methods.get_mut(m).ok_or_else(method_missing)
    }

    /// PutMethod.
    pub fn put_method(&self, id: &str, rid: &str, http_method: &str, input: PutMethodInput) -> ApiResult<Value> {
        let m = http_method.to_ascii_uppercase();
        if !METHODS.contains(&m.as_str()) {
            return Err(ApiGatewayError::BadRequest(format!("Invalid HttpMethod specified. Valid options are {}", METHODS.join(","))));
        }
        let auth = input.authorization_type.unwrap_or_default();
        if !["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"].contains(&auth.as_str()) {
            return Err(ApiGatewayError::BadRequest(format!("Invalid authorization type specified: {auth}")));
        }
        self.with_api(id, |api| {
            let r = api.resources.get_mut(rid).ok_or_else(|| resource_missing(rid))?;
            if r.resource_methods.contains_key(&m) {
                return Err(ApiGatewayError::Conflict("Method already exists for this resource".into()));
            }
            let method = Method {
                http_method: m.clone(),
                authorization_type: auth,
                api_key_required: input.api_key_required.unwrap_or(false),
                request_parameters: input.request_parameters,
                request_models: input.request_models,
                ..Default::default()
            };
            r.resource_methods.insert(m, method.clone());
            serde_json::to_value(&method).map_err(|e| ApiGatewayError::Internal(e.to_string()))
        })
    }

    /// GetMethod.
    pub fn get_method(&self, id: &str, rid: &str, m: &str) -> ApiResult<Value> {
        let mut api = self.api(id)?;
        let method = Self::method_mut(&mut api, rid, &m.to_ascii_uppercase())?;
        serde_json::to_value(&*method).map_err(|e| ApiGatewayError::Internal(e.to_string()))
    }

    /// DeleteMethod.
    pub fn delete_method(&self, id: &str, rid: &str, m: &str) -> ApiResult<()> {
        self.with_api(id, |api| {
            api.resources.get_mut(rid).ok_or_else(|| resource_missing(rid))?.resource_methods.remove(&m.to_ascii_uppercase()).map(|_| ()).ok_or_else(method_missing)
        })
    }

    /// PutMethodResponse.
    pub fn put_method_response(&self, id: &str, rid: &str, m: &str, status: &str, params: BTreeMap<String, bool>, models: BTreeMap<String, String>) -> ApiResult<Value> {
        self.with_api(id, |api| {
            let method = Self::method_mut(api, rid, &m.to_ascii_uppercase())?;
            let r = MethodResponse { status_code: status.to_string(), response_parameters: params, response_models: models };
            method.method_responses.insert(status.to_string(), r.clone());
            serde_json::to_value(&r).map_err(|e| ApiGatewayError::Internal(e.to_string()))
        })
    }

    /// PutIntegration.
    pub fn put_integration(&self, id: &str, rid: &str, m: &str, input: PutIntegrationInput) -> ApiResult<Value> {
        let kind = input.kind.unwrap_or_default();
        if !INTEGRATION_TYPES.contains(&kind.as_str()) {
            return Err(ApiGatewayError::BadRequest(format!("Invalid integration type specified: {kind}")));
        }
        if kind != "MOCK" {
            let uri = input.uri.as_deref().unwrap_or_default();
            if uri.is_empty() {
                return Err(ApiGatewayError::BadRequest("Enumeration value for Integration URI must be non-empty".into()));
            }
            if kind.starts_with("AWS") && !uri.starts_with("arn:aws:apigateway:") {
                return Err(ApiGatewayError::BadRequest("AWS ARN for integration must contain path or action".into()));
            }
            if input.http_method.is_none() {
                return Err(ApiGatewayError::BadRequest("Enumeration value for HttpMethod must be non-empty".into()));
            }
        }
        if kind == "AWS_PROXY" && input.http_method.as_deref() != Some("POST") {
            return Err(ApiGatewayError::BadRequest("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.".into()));
        }
        let passthrough = input.passthrough_behavior.unwrap_or_else(|| "WHEN_NO_MATCH".into());
        if !["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"].contains(&passthrough.as_str()) {
            return Err(ApiGatewayError::BadRequest(format!("Invalid passthrough behavior specified: {passthrough}")));
        }
        self.with_api(id, |api| {
            let method = Self::method_mut(api, rid, &m.to_ascii_uppercase())?;
            let integration = Integration {
                kind,
                http_method: input.http_method,
                uri: input.uri,
                credentials: input.credentials,
                request_parameters: input.request_parameters,
                request_templates: input.request_templates,
                passthrough_behavior: passthrough,
                content_handling: input.content_handling,
                timeout_in_millis: input.timeout_in_millis.unwrap_or(29_000),
                cache_namespace: rid.to_string(),
                cache_key_parameters: Vec::new(),
                integration_responses: BTreeMap::new(),
            };
            method.method_integration = Some(integration.clone());
            serde_json::to_value(&integration).map_err(|e| ApiGatewayError::Internal(e.to_string()))
        })
    }

    /// GetIntegration.
    pub fn get_integration(&self, id: &str, rid: &str, m: &str) -> ApiResult<Value> {
        let mut api = self.api(id)?;
        let method = Self::method_mut(&mut api, rid, &m.to_ascii_uppercase())?;
        let i = method.method_integration.as_ref().ok_or_else(|| ApiGatewayError::NotFound("No integration defined for method".into()))?;
        serde_json::to_value(i).map_err(|e| ApiGatewayError::Internal(e.to_string()))
    }

    /// PutIntegrationResponse.
    pub fn put_integration_response(&self, id: &str, rid: &str, m: &str, r: IntegrationResponse) -> ApiResult<Value> {
        if let Some(p) = &r.selection_pattern
            && regex::Regex::new(p).is_err()
        {
            return Err(ApiGatewayError::BadRequest(format!("Invalid selection pattern specified: {p}")));
        }
        self.with_api(id, |api| {
            let method = Self::method_mut(api, rid, &m.to_ascii_uppercase())?;
            // Every mapped response header must be declared by the method response, as on AWS.
            let declared = method.method_responses.get(&r.status_code).map(|mr| mr.response_parameters.clone()).unwrap_or_default();
            if let Some(undeclared) = r.response_parameters.keys().find(|k| !declared.contains_key(*k)) {
                return Err(ApiGatewayError::BadRequest(format!(
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: {undeclared}]"
                )));
            }
            let i = method.method_integration.as_mut().ok_or_else(|| ApiGatewayError::NotFound("No integration defined for method".into()))?;
            i.integration_responses.insert(r.status_code.clone(), r.clone());
            serde_json::to_value(&r).map_err(|e| ApiGatewayError::Internal(e.to_string()))
        })
    }

    /// CreateDeployment (and its stage when `stage` is given).
    pub fn create_deployment(&self, id: &str, stage: Option<&str>, description: Option<String>, variables: BTreeMap<String, String>) -> ApiResult<Value> {
        self.with_api(id, |api| {
            if !api.resources.values().any(|r| !r.resource_methods.is_empty()) {
                return Err(ApiGatewayError::BadRequest("The REST API doesn't contain any methods".into()));
            }
            let d = Deployment { id: new_id(6), description, created_date: now_secs(), resources: api.resources.clone() };
            let out = serde_json::json!({ "id": d.id, "description": d.description, "createdDate": d.created_date });
            if let Some(s) = stage.filter(|s| !s.is_empty()) {
                let now = now_secs();
                let st = api.stages.entry(s.to_string()).or_insert_with(|| Stage {
                    stage_name: s.to_string(),
                    deployment_id: d.id.clone(),
                    description: None,
                    variables: BTreeMap::new(),
                    created_date: now,
                    last_updated_date: now,
                });
                st.deployment_id = d.id.clone();
                st.last_updated_date = now;
                st.variables.extend(variables);
            }
            api.deployments.insert(d.id.clone(), d);
            Ok(out)
        })
    }

    /// GetDeployments.
    pub fn get_deployments(&self, id: &str) -> ApiResult<Value> {
        let api = self.api(id)?;
        let items: Vec<Value> = api.deployments.values().map(|d| serde_json::json!({ "id": d.id, "description": d.description, "createdDate": d.created_date })).collect();
        Ok(serde_json::json!({ "item": items }))
    }

    /// CreateStage.
    pub fn create_stage(&self, id: &str, name: &str, deployment: &str, description: Option<String>, variables: BTreeMap<String, String>) -> ApiResult<Value> {
        self.with_api(id, |api| {
            if !api.deployments.contains_key(deployment) {
                return Err(ApiGatewayError::NotFound("Invalid Deployment identifier specified".into()));
            }
            if api.stages.contains_key(name) {
                return Err(ApiGatewayError::Conflict("Stage already exists".into()));
            }
            let now = now_secs();
            let st = Stage { stage_name: name.to_string(), deployment_id: deployment.to_string(), description, variables, created_date: now, last_updated_date: now };
            let out = st.to_json();
            api.stages.insert(name.to_string(), st);
            Ok(out)
        })
    }

    /// GetStage.
    pub fn get_stage(&self, id: &str, name: &str) -> ApiResult<Value> {
        let api = self.api(id)?;
        api.stages.get(name).map(Stage::to_json).ok_or_else(|| ApiGatewayError::NotFound("Invalid Stage identifier specified".into()))
    }

    /// GetStages.
    pub fn get_stages(&self, id: &str) -> ApiResult<Value> {
        let api = self.api(id)?;
        Ok(serde_json::json!({ "item": api.stages.values().map(Stage::to_json).collect::<Vec<_>>() }))
    }

    /// UpdateStage: `replace` of /deploymentId, /description, /variables/<name>; `remove` of a variable.
    pub fn update_stage(&self, id: &str, name: &str, ops: &[PatchOperation]) -> ApiResult<Value> {
        self.with_api(id, |api| {
            let deployments: Vec<String> = api.deployments.keys().cloned().collect();
            let st = api.stages.get_mut(name).ok_or_else(|| ApiGatewayError::NotFound("Invalid Stage identifier specified".into()))?;
            for op in ops {
                let value = op.value.clone().unwrap_or_default();
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/deploymentId") => {
                        if !deployments.contains(&value) {
                            return Err(ApiGatewayError::BadRequest("Invalid deployment id specified".into()));
                        }
                        st.deployment_id = value;
                    }
                    ("replace", "/description") => st.description = Some(value),
                    ("replace" | "add", p) if p.starts_with("/variables/") => {
                        st.variables.insert(p["/variables/".len()..].to_string(), value);
                    }
                    ("remove", p) if p.starts_with("/variables/") => {
                        st.variables.remove(&p["/variables/".len()..]);
                    }
                    (o, p) => return Err(ApiGatewayError::BadRequest(format!("Invalid patch path {p} for operation {o}"))),
                }
            }
            st.last_updated_date = now_secs();
            Ok(st.to_json())
        })
    }

    /// DeleteStage.
    pub fn delete_stage(&self, id: &str, name: &str) -> ApiResult<()> {
        self.with_api(id, |api| api.stages.remove(name).map(|_| ()).ok_or_else(|| ApiGatewayError::NotFound("Invalid Stage identifier specified".into())))
    }
}
