//! API keys, usage plans and usage-plan keys: enough for `apiKeyRequired` methods to check
//! `x-api-key` as API Gateway does (an enabled key in a usage plan that covers the API stage).

use std::collections::BTreeMap;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiGatewayError, ApiResult};
use crate::state::DocTable;

/// An API key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub value: String,
    pub enabled: bool,
    pub description: Option<String>,
    pub created_date: i64,
}

/// A usage plan and the keys in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// (api id, stage) pairs.
    pub api_stages: Vec<(String, String)>,
    pub throttle: Option<Value>,
    pub quota: Option<Value>,
    pub key_ids: Vec<String>,
}

/// CreateApiKey's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKeyInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub value: Option<String>,
}

/// CreateUsagePlan's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUsagePlanInput {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    pub throttle: Option<Value>,
    pub quota: Option<Value>,
}

/// ApiStage.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
}

/// The keys and plans, persisted as two document tables.
pub struct Keys {
    keys: Mutex<BTreeMap<String, ApiKey>>,
    plans: Mutex<BTreeMap<String, UsagePlan>>,
    key_docs: DocTable,
    plan_docs: DocTable,
}

fn key_missing() -> ApiGatewayError {
    ApiGatewayError::NotFound("Invalid API Key identifier specified".into())
}

fn plan_missing() -> ApiGatewayError {
    ApiGatewayError::NotFound("Invalid Usage Plan ID specified".into())
}

impl ApiKey {
    fn to_json(&self, include_value: bool) -> Value {
        let mut v = json!({ "id": self.id, "name": self.name, "enabled": self.enabled, "createdDate": self.created_date, "lastUpdatedDate": self.created_date, "stageKeys": [] });
        if include_value {
            v["value"] = self.value.clone().into();
        }
        if let Some(d) = &self.description {
            v["description"] = d.clone().into();
        }
        v
    }
}

impl UsagePlan {
    fn to_json(&self) -> Value {
        let stages: Vec<Value> = self.api_stages.iter().map(|(a, s)| json!({ "apiId": a, "stage": s })).collect();
        let mut v = json!({ "id": self.id, "name": self.name, "apiStages": stages });
        for (k, x) in [("description", self.description.clone().map(Value::from)), ("throttle", self.throttle.clone()), ("quota", self.quota.clone())] {
            if let Some(x) = x {
                v[k] = x;
            }
        }
        v
    }
}

impl Keys {
    /// Opens the tables and loads what is stored.
    pub fn open(root: &std::sync::Arc<crate::state::Root>) -> ApiResult<Keys> {
        let key_docs = DocTable::open(root, "apigateway_api_keys")?;
        let plan_docs = DocTable::open(root, "apigateway_usage_plans")?;
        let keys = key_docs.load::<ApiKey>()?.into_iter().map(|k| (k.id.clone(), k)).collect();
        let plans = plan_docs.load::<UsagePlan>()?.into_iter().map(|p| (p.id.clone(), p)).collect();
        Ok(Keys { keys: Mutex::new(keys), plans: Mutex::new(plans), key_docs, plan_docs })
    }

    /// CreateApiKey (a random 40-character value unless one is given).
    pub fn create_api_key(&self, input: CreateApiKeyInput, id: String, created: i64) -> ApiResult<Value> {
        let value = match input.value {
            Some(v) if v.len() < 20 => return Err(ApiGatewayError::BadRequest("API Key value should be at least 20 characters".into())),
            Some(v) => v,
            None => format!("{}{}", uuid::Uuid::new_v4().simple(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
        };
        let mut keys = self.keys.lock();
        if keys.values().any(|k| k.value == value) {
            return Err(ApiGatewayError::Conflict("API Key already exists".into()));
        }
        let key = ApiKey { id, name: input.name.unwrap_or_default(), value, enabled: input.enabled.unwrap_or(false), description: input.description, created_date: created };
        self.key_docs.save(&key.id, "", &key)?;
        let out = key.to_json(true);
        keys.insert(key.id.clone(), key);
        Ok(out)
    }

    /// GetApiKey.
    pub fn get_api_key(&self, id: &str, include_value: bool) -> ApiResult<Value> {
        self.keys.lock().get(id).map(|k| k.to_json(include_value)).ok_or_else(key_missing)
    }

    /// GetApiKeys.
    pub fn get_api_keys(&self, include_values: bool) -> Value {
        json!({ "item": self.keys.lock().values().map(|k| k.to_json(include_values)).collect::<Vec<_>>() })
    }

    /// DeleteApiKey.
    pub fn delete_api_key(&self, id: &str) -> ApiResult<()> {
        self.keys.lock().remove(id).ok_or_else(key_missing)?;
        self.key_docs.delete(id, None)?;
        Ok(())
    }

    /// CreateUsagePlan.
    pub fn create_usage_plan(&self, input: CreateUsagePlanInput, id: String) -> ApiResult<Value> {
        let name = input.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiGatewayError::BadRequest("Invalid usage plan name specified".into()))?;
        let plan = UsagePlan {
            id,
            name,
            description: input.description,
            api_stages: input.api_stages.into_iter().map(|s| (s.api_id, s.stage)).collect(),
            throttle: input.throttle,
            quota: input.quota,
            key_ids: Vec::new(),
        };
        self.plan_docs.save(&plan.id, "", &plan)?;
        let out = plan.to_json();
        self.plans.lock().insert(plan.id.clone(), plan);
        Ok(out)
    }

    /// GetUsagePlans.
    pub fn get_usage_plans(&self) -> Value {
        json!({ "item": self.plans.lock().values().map(UsagePlan::to_json).collect::<Vec<_>>() })
    }

    /// GetUsagePlan.
    pub fn get_usage_plan(&self, id: &str) -> ApiResult<Value> {
        self.plans.lock().get(id).map(UsagePlan::to_json).ok_or_else(plan_missing)
    }

    /// DeleteUsagePlan.
    pub fn delete_usage_plan(&self, id: &str) -> ApiResult<()> {
        self.plans.lock().remove(id).ok_or_else(plan_missing)?;
        self.plan_docs.delete(id, None)?;
        Ok(())
    }

    /// CreateUsagePlanKey.
    pub fn create_usage_plan_key(&self, plan_id: &str, key_id: &str, key_type: &str) -> ApiResult<Value> {
        if key_type != "API_KEY" {
            return Err(ApiGatewayError::BadRequest(format!("Invalid key type specified: {key_type}")));
        }
        let key = self.keys.lock().get(key_id).cloned().ok_or_else(key_missing)?;
        let mut plans = self.plans.lock();
        let plan = plans.get_mut(plan_id).ok_or_else(plan_missing)?;
        if plan.key_ids.iter().any(|k| k == key_id) {
            return Err(ApiGatewayError::Conflict("Usage Plan Key already exists".into()));
        }
        plan.key_ids.push(key_id.to_string());
        self.plan_docs.save(&plan.id, "", &*plan)?;
        Ok(json!({ "id": key.id, "type": "API_KEY", "value": key.value, "name": key.name }))
    }

    /// GetUsagePlanKeys.
    pub fn get_usage_plan_keys(&self, plan_id: &str) -> ApiResult<Value> {
        let plans = self.plans.lock();
        let plan = plans.get(plan_id).ok_or_else(plan_missing)?;
        let keys = self.keys.lock();
        let items: Vec<Value> = plan.key_ids.iter().filter_map(|k| keys.get(k)).map(|k| json!({ "id": k.id, "type": "API_KEY", "value": k.value, "name": k.name })).collect();
        Ok(json!({ "item": items }))
    }

    /// DeleteUsagePlanKey.
    pub fn delete_usage_plan_key(&self, plan_id: &str, key_id: &str) -> ApiResult<()> {
        let mut plans = self.plans.lock();
        let plan = plans.get_mut(plan_id).ok_or_else(plan_missing)?;
        let before = plan.key_ids.len();
        plan.key_ids.retain(|k| k != key_id);
        if plan.key_ids.len() == before {
            return Err(ApiGatewayError::NotFound("Invalid Usage Plan Key identifier specified".into()));
        }
        self.plan_docs.save(&plan.id, "", &*plan)?;
        Ok(())
    }

    /// Whether `value` is an enabled key in a usage plan that covers `api`/`stage`.
    pub fn allows(&self, value: &str, api: &str, stage: &str) -> bool {
        let keys = self.keys.lock();
        let Some(key) = keys.values().find(|k| k.value == value && k.enabled) else { return false };
        self.plans.lock().values().any(|p| p.key_ids.contains(&key.id) && p.api_stages.iter().any(|(a, s)| a == api && s == stage))
    }
}
