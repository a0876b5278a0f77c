//! API Gateway's shapes (botocore `apigateway/2015-07-09`), camelCase as on the wire. A whole
//! REST API (its resources, deployments and stages) is one document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// IntegrationResponse.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    /// From the path (PutIntegrationResponse) or the stored document.
    #[serde(default)]
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_templates: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
}

/// Integration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, Option<String>>,
    #[serde(default = "default_passthrough")]
    pub passthrough_behavior: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_in_millis: u32,
    #[serde(default)]
    pub cache_namespace: String,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
}

fn default_passthrough() -> String {
    "WHEN_NO_MATCH".into()
}

fn default_timeout() -> u32 {
    29_000
}

/// MethodResponse.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    #[serde(default)]
    pub status_code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_models: BTreeMap<String, String>,
}

/// Method.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub http_method: String,
    pub authorization_type: String,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
}

/// Resource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, Method>,
}

/// A deployment: a snapshot of the resources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub description: Option<String>,
    pub created_date: i64,
    pub resources: BTreeMap<String, Resource>,
}

/// Stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    pub description: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub created_date: i64,
    pub last_updated_date: i64,
}

/// A REST API with everything in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestApi {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_date: i64,
    pub root_resource_id: String,
    pub binary_media_types: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub endpoint_types: Vec<String>,
    pub resources: BTreeMap<String, Resource>,
    pub deployments: BTreeMap<String, Deployment>,
    pub stages: BTreeMap<String, Stage>,
}

impl RestApi {
    /// The RestApi shape.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "createdDate": self.created_date,
            "apiKeySource": "HEADER",
            "endpointConfiguration": { "types": self.endpoint_types },
            "disableExecuteApiEndpoint": false,
            "rootResourceId": self.root_resource_id,
        });
        if let Some(d) = &self.description {
            v["description"] = d.clone().into();
        }
        if !self.binary_media_types.is_empty() {
            v["binaryMediaTypes"] = json!(self.binary_media_types);
        }
        if !self.tags.is_empty() {
            v["tags"] = json!(self.tags);
        }
        v
    }
}

impl Stage {
    /// The Stage shape.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "stageName": self.stage_name,
            "deploymentId": self.deployment_id,
            "cacheClusterEnabled": false,
            "cacheClusterStatus": "NOT_AVAILABLE",
            "methodSettings": {},
            "tracingEnabled": false,
            "createdDate": self.created_date,
            "lastUpdatedDate": self.last_updated_date,
        });
        if let Some(d) = &self.description {
            v["description"] = d.clone().into();
        }
        if !self.variables.is_empty() {
            v["variables"] = json!(self.variables);
        }
        v
    }
}
