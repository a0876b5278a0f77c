//! Stacks: create, update, delete and change sets, with CloudFormation's statuses and events.
//! A stack operation runs to its end before the call returns (firelocal creates resources in
//! milliseconds), so the SDK waiters succeed on their first poll; the events still record each
//! step (`CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `ROLLBACK_IN_PROGRESS`...).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api::{Api, Dispatch};
use super::error::{CfnError, CfnResult};
use super::resources::{self, Created, Ctx};
use super::template::{self, Scope};
use crate::protocol::time::now_millis;
use crate::services::iam::ops::ACCOUNT;
use crate::state::DocTable;

/// One resource of a stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub ty: String,
    pub status: String,
    pub reason: Option<String>,
    pub updated_ms: i64,
    /// The resolved properties it was created or last updated with.
    pub props: Value,
    pub attrs: Map<String, Value>,
    /// `Retain` keeps it when the stack or the resource is deleted.
    pub retain: bool,
}

/// One stack event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub physical_id: String,
    pub ty: String,
    pub status: String,
    pub reason: Option<String>,
    pub timestamp_ms: i64,
    pub token: Option<String>,
}

/// A stack output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export: Option<String>,
}

/// One change a change set would make.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// Add, Modify or Remove.
    pub action: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub ty: String,
    /// True / False for a Modify.
    pub replacement: Option<String>,
}

/// A change set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeSet {
    pub id: String,
    pub name: String,
    /// CREATE or UPDATE.
    pub kind: String,
    pub status: String,
    pub execution_status: String,
    pub reason: Option<String>,
    pub created_ms: i64,
    pub description: Option<String>,
    pub template: String,
    pub params: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub changes: Vec<Change>,
}

/// A stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub status: String,
    pub reason: Option<String>,
    pub created_ms: i64,
    pub updated_ms: Option<i64>,
    pub deleted_ms: Option<i64>,
    pub template: String,
    pub description: Option<String>,
    /// Parameter values as given or defaulted (lists comma-joined).
    pub params: BTreeMap<String, String>,
    pub no_echo: BTreeSet<String>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub outputs: Vec<Output>,
    /// In creation order.
    pub resources: Vec<StackResource>,
    pub events: Vec<StackEvent>,
    pub disable_rollback: bool,
    pub change_sets: Vec<ChangeSet>,
    /// The exports this stack imports (their stacks cannot be deleted while it does).
    pub imports: Vec<String>,
}

impl Stack {
    fn live(&self) -> bool {
        self.deleted_ms.is_none()
    }

    fn event(&mut self, logical: &str, physical: &str, ty: &str, status: &str, reason: Option<String>, token: Option<&str>) {
        self.events.push(StackEvent {
            id: uuid::Uuid::new_v4().to_string(),
            logical_id: logical.into(),
            physical_id: physical.into(),
            ty: ty.into(),
            status: status.into(),
            reason,
            timestamp_ms: now_millis(),
            token: token.map(str::to_string),
        });
    }

    /// Sets the stack's own status (and its event).
    fn set_status(&mut self, status: &str, reason: Option<String>, token: Option<&str>) {
        self.status = status.into();
        self.reason = reason.clone();
        let (name, id) = (self.name.clone(), self.id.clone());
        self.event(&name, &id, "AWS::CloudFormation::Stack", status, reason, token);
    }

    fn resource(&self, logical: &str) -> Option<&StackResource> {
        self.resources.iter().find(|r| r.logical_id == logical)
    }
}

/// What CreateStack / UpdateStack / CreateChangeSet take.
#[derive(Debug, Clone, Default)]
pub struct StackInput {
    pub name: String,
    pub template: Option<String>,
    pub template_url: Option<String>,
    pub use_previous_template: bool,
    pub params: BTreeMap<String, String>,
    /// Parameters given with UsePreviousValue.
    pub previous_params: Vec<String>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    /// ROLLBACK (default), DELETE or DO_NOTHING.
    pub on_failure: Option<String>,
    pub disable_rollback: bool,
    pub token: Option<String>,
    pub description: Option<String>,
}

/// The CloudFormation service.
pub struct CloudFormation {
    pub region: String,
    stacks: Mutex<Vec<Stack>>,
    docs: DocTable,
    dispatch: OnceLock<Dispatch>,
    /// One stack operation at a time.
    running: tokio::sync::Mutex<()>,
}

fn validation(m: impl Into<String>) -> CfnError {
    CfnError::Validation(m.into())
}

fn not_found(name: &str) -> CfnError {
    validation(format!("Stack with id {name} does not exist"))
}

impl CloudFormation {
    /// Opens the stack store.
    pub fn open(root: &std::sync::Arc<crate::state::Root>, region: &str) -> CfnResult<CloudFormation> {
        let docs = DocTable::open(root, "cloudformation_stacks")?;
        let mut stacks: Vec<Stack> = docs.load()?;
        stacks.sort_by_key(|s| s.created_ms);
        Ok(CloudFormation { region: region.to_string(), stacks: Mutex::new(stacks), docs, dispatch: OnceLock::new(), running: tokio::sync::Mutex::new(()) })
    }

    /// Connects stacks to the server's request handler (set once, after the server is built).
    pub fn set_dispatch(&self, d: Dispatch) {
        let _ = self.dispatch.set(d);
    }

    /// A client acting as `access_key`.
    pub fn api(&self, access_key: &str, region: &str) -> CfnResult<Api> {
        let dispatch = self.dispatch.get().cloned().ok_or_else(|| CfnError::Internal("CloudFormation is not connected to the server yet".into()))?;
        Ok(Api { dispatch, access_key: access_key.to_string(), region: region.to_string() })
    }

    fn save(&self, s: &Stack) -> CfnResult<()> {
        self.docs.save(&s.id, "", s)?;
        Ok(())
    }

    fn put(&self, s: Stack) -> CfnResult<()> {
        self.save(&s)?;
        let mut all = self.stacks.lock();
        match all.iter_mut().find(|x| x.id == s.id) {
            Some(x) => *x = s,
            None => all.push(s),
        }
        Ok(())
    }

    /// A stack by name (live ones) or id (any).
    pub fn stack(&self, name_or_id: &str) -> CfnResult<Stack> {
        let all = self.stacks.lock();
        all.iter().rev().find(|s| (s.id == name_or_id) || (s.name == name_or_id && s.live())).cloned().ok_or_else(|| not_found(name_or_id))
    }

    /// Every stack, live and deleted, oldest first.
    pub fn all(&self) -> Vec<Stack> {
        self.stacks.lock().clone()
    }

    /// Every export of the live stacks: (exporting stack id, name, value).
    pub fn exports(&self) -> Vec<(String, String, String)> {
        let all = self.stacks.lock();
        all.iter()
            .filter(|s| s.live() && !s.status.starts_with("REVIEW"))
            .flat_map(|s| s.outputs.iter().filter_map(|o| o.export.clone().map(|e| (s.id.clone(), e, o.value.clone()))))
            .collect()
    }

    /// Reads a template body from `TemplateBody` or a `TemplateURL` in firelocal's S3.
    async fn template_text(&self, api: &Api, input: &StackInput, previous: Option<&Stack>) -> CfnResult<String> {
        if input.use_previous_template {
            return previous.map(|s| s.template.clone()).ok_or_else(|| validation("UsePreviousTemplate needs an existing stack"));
        }
        if let Some(t) = &input.template {
            return Ok(t.clone());
        }
        let Some(url) = &input.template_url else { return Err(validation("Either Template URL or Template Body must be specified.")) };
        let (bucket, key) = crate::services::s3::ops::url_location(url).ok_or_else(|| validation(format!("TemplateURL must be a supported URL: {url}")))?;
        let path = format!("/{}/{}", crate::protocol::url_encode(&bucket), key.split('/').map(crate::protocol::url_encode).collect::<Vec<_>>().join("/"));
        let body = api.s3(http::Method::GET, &path, &[], bytes::Bytes::new()).await.map_err(|f| validation(format!("S3 error: {}", f.message)))?;
        String::from_utf8(body.to_vec()).map_err(|_| validation("Template format error: the template is not UTF-8"))
    }

    /// Parses and checks a template with its parameters and capabilities.
    fn check(&self, text: &str, input: &StackInput, previous: Option<&Stack>) -> CfnResult<(Value, BTreeMap<String, String>, BTreeMap<String, Value>)> {
        if text.len() > 1_048_576 {
            return Err(validation("Template may not exceed 1048576 bytes in size."));
        }
        let t = template::parse(text).map_err(validation)?;
        template::validate(&t).map_err(validation)?;
        if let Some(e) = template::unresolved(&t) {
            return Err(validation(e));
        }
        let resources = t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
        template::creation_order(&resources).map_err(validation)?;
        let mut given = input.params.clone();
        for p in &input.previous_params {
            let v = previous.and_then(|s| s.params.get(p)).ok_or_else(|| validation(format!("Invalid input for parameter key {p}. Cannot specify usePreviousValue as true for a parameter key not in the previous template")))?;
            given.insert(p.clone(), v.clone());
        }
        let declared: BTreeSet<String> = template::parameter_decls(&t).into_iter().map(|d| d.name).collect();
        given.retain(|k, _| declared.contains(k) || !input.previous_params.contains(k));
        let resolved = template::resolve_parameters(&t, &given).map_err(validation)?;
        {
            let (none, nothing) = (BTreeMap::new(), |_: &str| None);
            let mut scope = Scope { params: &resolved, pseudo: template::pseudo(&self.region, ACCOUNT, &input.name, ""), mappings: t.get("Mappings").unwrap_or(&Value::Null), conditions: BTreeMap::new(), resources: &none, exports: &nothing, region: self.region.clone() };
            scope.evaluate_conditions(&t).map_err(validation)?;
        }
        let mut needed: Option<&str> = None;
        for r in resources.values() {
            if let Some(c) = resources::capability(r.get("Type").and_then(Value::as_str).unwrap_or_default(), r.get("Properties").unwrap_or(&Value::Null)) {
                if needed != Some("CAPABILITY_NAMED_IAM") {
                    needed = Some(c);
                }
            }
        }
        if let Some(c) = needed {
            let ok = input.capabilities.iter().any(|x| x == "CAPABILITY_NAMED_IAM") || (c == "CAPABILITY_IAM" && input.capabilities.iter().any(|x| x == "CAPABILITY_IAM"));
            if !ok {
                return Err(CfnError::InsufficientCapabilities(format!("Requires capabilities : [{c}]")));
            }
        }
        let flat = resolved.iter().map(|(k, v)| (k.clone(), match v {
            Value::Array(a) => a.iter().map(template::scalar).collect::<Vec<_>>().join(","),
            v => template::scalar(v),
        })).collect();
        Ok((t, flat, resolved))
    }

    fn arn(&self, kind: &str, name: &str) -> String {
        format!("arn:aws:cloudformation:{}:{ACCOUNT}:{kind}/{name}/{}", self.region, uuid::Uuid::new_v4())
    }

    /// CreateStack: checks the template and creates every resource before answering.
    pub async fn create_stack(&self, api: &Api, input: StackInput) -> CfnResult<String> {
        let _one = self.running.lock().await;
        valid_stack_name(&input.name)?;
        if let Ok(s) = self.stack(&input.name) {
            // A retry with the same ClientRequestToken gets the stack it created.
            if input.token.is_some() && s.events.iter().any(|e| e.token == input.token) {
                return Ok(s.id);
            }
            return Err(CfnError::AlreadyExists(format!("Stack [{}] already exists", input.name)));
        }
        let text = self.template_text(api, &input, None).await?;
        let (t, flat, resolved) = self.check(&text, &input, None)?;
        let mut stack = self.new_stack(&input, &text, &t, flat, "CREATE_IN_PROGRESS");
        stack.set_status("CREATE_IN_PROGRESS", Some("User Initiated".into()), input.token.as_deref());
        self.put(stack.clone())?;
        let on_failure = if input.disable_rollback { "DO_NOTHING".to_string() } else { input.on_failure.clone().unwrap_or_else(|| "ROLLBACK".into()) };
        self.run_create(api, &mut stack, &t, &resolved, &on_failure, input.token.as_deref()).await;
        let id = stack.id.clone();
        self.put(stack)?;
        Ok(id)
    }

    fn new_stack(&self, input: &StackInput, text: &str, t: &Value, params: BTreeMap<String, String>, status: &str) -> Stack {
        Stack {
            id: self.arn("stack", &input.name),
            name: input.name.clone(),
            status: status.into(),
            reason: None,
            created_ms: now_millis(),
            updated_ms: None,
            deleted_ms: None,
            template: text.to_string(),
            description: t.get("Description").and_then(Value::as_str).map(str::to_string),
            params,
            no_echo: template::parameter_decls(t).into_iter().filter(|d| d.no_echo).map(|d| d.name).collect(),
            capabilities: input.capabilities.clone(),
            tags: input.tags.clone(),
            outputs: Vec::new(),
            resources: Vec::new(),
            events: Vec::new(),
            disable_rollback: input.disable_rollback,
            change_sets: Vec::new(),
            imports: Vec::new(),
        }
    }

    /// The scope intrinsic functions see for `stack` with `params`.
    fn scope<'a>(&self, stack: &Stack, t: &'a Value, params: &'a BTreeMap<String, Value>, created: &'a BTreeMap<String, (String, Map<String, Value>)>, exports: &'a (dyn Fn(&str) -> Option<String> + Sync)) -> Result<Scope<'a>, String> {
        let mut scope = Scope {
            params,
            pseudo: template::pseudo(&self.region, ACCOUNT, &stack.name, &stack.id),
            mappings: t.get("Mappings").unwrap_or(&Value::Null),
            conditions: BTreeMap::new(),
            resources: created,
            exports,
            region: self.region.clone(),
        };
        scope.evaluate_conditions(t)?;
        Ok(scope)
    }

    /// The resources a template creates (their Condition holds), in creation order.
    fn planned(t: &Value, conditions: &BTreeMap<String, bool>) -> Result<Vec<(String, Value)>, String> {
        let resources = t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
        let order = template::creation_order(&resources)?;
        Ok(order
            .into_iter()
            .filter_map(|n| {
                let r = resources.get(&n)?.clone();
                let keep = r.get("Condition").and_then(Value::as_str).is_none_or(|c| conditions.get(c).copied().unwrap_or(false));
                keep.then_some((n, r))
            })
            .collect())
    }

    /// Creates a new stack's resources; rolls back (or not) on failure.
    async fn run_create(&self, api: &Api, stack: &mut Stack, t: &Value, params: &BTreeMap<String, Value>, on_failure: &str, token: Option<&str>) {
        match self.create_resources(api, stack, t, params, token).await {
            Ok(()) => {
                stack.set_status("CREATE_COMPLETE", None, token);
            }
            Err(failed) => {
                let reason = format!("The following resource(s) failed to create: [{failed}]. ");
                match on_failure {
                    "DO_NOTHING" => stack.set_status("CREATE_FAILED", Some(reason), token),
                    other => {
                        stack.set_status("ROLLBACK_IN_PROGRESS", Some(format!("{reason}Rollback requested by user.")), token);
                        let ok = self.delete_resources(api, stack, token, false).await;
                        if other == "DELETE" && ok {
                            stack.set_status("DELETE_COMPLETE", None, token);
                            stack.deleted_ms = Some(now_millis());
                        } else if ok {
                            stack.set_status("ROLLBACK_COMPLETE", None, token);
                        } else {
                            stack.set_status("ROLLBACK_FAILED", Some("The following resource(s) failed to delete during rollback.".into()), token);
                        }
                    }
                }
            }
        }
    }

    /// Creates each planned resource in order, then the outputs. `Err` names the failed resource.
    async fn create_resources(&self, api: &Api, stack: &mut Stack, t: &Value, params: &BTreeMap<String, Value>, token: Option<&str>) -> Result<(), String> {
        let stack_name = stack.name.clone();
        let exports_now = self.exports();
        let exports = |n: &str| exports_now.iter().find(|(_, e, _)| e == n).map(|(_, _, v)| v.clone());
        let mut created: BTreeMap<String, (String, Map<String, Value>)> = BTreeMap::new();
        // `check` evaluated the conditions and the graph already; these cannot fail here.
        let conditions = self.scope(stack, t, params, &created, &exports).map(|s| s.conditions).map_err(|_| stack_name.clone())?;
        let plan = Self::planned(t, &conditions).map_err(|_| stack_name.clone())?;
        for (logical, def) in plan {
            let ty = def.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            let scope = match self.scope(stack, t, params, &created, &exports) {
                Ok(s) => s,
                Err(e) => return self.fail_resource(stack, &logical, &ty, e, token),
            };
            let props = match scope.resolve(def.get("Properties").unwrap_or(&Value::Object(Map::new()))) {
                Ok(p) => p,
                Err(e) => return self.fail_resource(stack, &logical, &ty, e, token),
            };
            stack.event(&logical, "", &ty, "CREATE_IN_PROGRESS", None, token);
            if !resources::TYPES.contains(&ty.as_str()) {
                let reason = format!("firelocal's CloudFormation does not create resources of type {ty} yet");
                return self.fail_resource(stack, &logical, &ty, reason, token);
            }
            let ctx = Ctx { api, stack_name: &stack_name, logical_id: &logical, region: &self.region };
            match resources::create(&ctx, &ty, &props).await {
                Ok(c) => {
                    stack.event(&logical, &c.physical_id, &ty, "CREATE_COMPLETE", None, token);
                    created.insert(logical.clone(), (c.physical_id.clone(), c.attrs.clone()));
                    stack.resources.push(StackResource {
                        logical_id: logical,
                        physical_id: c.physical_id,
                        ty,
                        status: "CREATE_COMPLETE".into(),
                        reason: None,
                        updated_ms: now_millis(),
                        props,
                        attrs: c.attrs,
                        retain: def.get("DeletionPolicy").and_then(Value::as_str) == Some("Retain"),
                    });
                }
                Err(e) => return self.fail_resource(stack, &logical, &ty, e, token),
            }
        }
        let scope = self.scope(stack, t, params, &created, &exports).map_err(|_| stack.name.clone())?;
        match self.outputs(stack, t, &scope) {
            Ok((outputs, imports)) => {
                stack.outputs = outputs;
                stack.imports = imports;
                Ok(())
            }
            Err(e) => {
                stack.reason = Some(e.clone());
                stack.event(&stack.name.clone(), &stack.id.clone(), "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", Some(e), token);
                Err("Outputs".into())
            }
        }
    }

    fn fail_resource(&self, stack: &mut Stack, logical: &str, ty: &str, reason: String, token: Option<&str>) -> Result<(), String> {
        tracing::info!(stack = %stack.name, resource = logical, "resource failed: {reason}");
        stack.event(logical, "", ty, "CREATE_FAILED", Some(reason), token);
        Err(logical.to_string())
    }

    /// Resolves the Outputs section (and checks export names are free).
    fn outputs(&self, stack: &Stack, t: &Value, scope: &Scope<'_>) -> Result<(Vec<Output>, Vec<String>), String> {
        let mut out = Vec::new();
        let others = self.exports();
        for (key, o) in t.get("Outputs").and_then(Value::as_object).into_iter().flatten() {
            if let Some(c) = o.get("Condition").and_then(Value::as_str)
                && !scope.conditions.get(c).copied().unwrap_or(false)
            {
                continue;
            }
            let value = scope.resolve(o.get("Value").unwrap_or(&Value::Null))?;
            let value = match value {
                Value::Array(a) => a.iter().map(template::scalar).collect::<Vec<_>>().join(","),
                v => template::scalar(&v),
            };
            let export = match o.pointer("/Export/Name") {
                Some(n) => Some(template::scalar(&scope.resolve(n)?)),
                None => None,
            };
            if let Some(e) = &export
                && let Some((owner, _, _)) = others.iter().find(|(id, n, _)| n == e && *id != stack.id)
            {
                return Err(format!("Export with name {e} is already exported by stack {}", owner.split('/').nth(1).unwrap_or(owner)));
            }
            out.push(Output { key: key.clone(), value, description: o.get("Description").and_then(Value::as_str).map(str::to_string), export });
        }
        let mut imports = BTreeSet::new();
        collect_imports(t, scope, &mut imports);
        Ok((out, imports.into_iter().collect()))
    }

    /// Deletes a stack's resources in reverse creation order (Retain ones are skipped). Returns
    /// whether every delete succeeded (failed ones stay, DELETE_FAILED).
    async fn delete_resources(&self, api: &Api, stack: &mut Stack, token: Option<&str>, honour_retain: bool) -> bool {
        let stack_name = stack.name.clone();
        let mut ok = true;
        let list: Vec<StackResource> = stack.resources.iter().rev().cloned().collect();
        for r in list {
            if honour_retain && r.retain {
                stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_SKIPPED", None, token);
                stack.resources.retain(|x| x.logical_id != r.logical_id);
                continue;
            }
            stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_IN_PROGRESS", None, token);
            let ctx = Ctx { api, stack_name: &stack_name, logical_id: &r.logical_id, region: &self.region };
            match resources::delete(&ctx, &r.ty, &r.physical_id, &r.props).await {
                Ok(()) => {
                    stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_COMPLETE", None, token);
                    stack.resources.retain(|x| x.logical_id != r.logical_id);
                }
                Err(e) => {
                    ok = false;
                    stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_FAILED", Some(e.clone()), token);
                    if let Some(x) = stack.resources.iter_mut().find(|x| x.logical_id == r.logical_id) {
                        x.status = "DELETE_FAILED".into();
                        x.reason = Some(e);
                    }
                }
            }
        }
        ok
    }

    /// DeleteStack: deletes every resource (not Retain ones) in reverse order.
    pub async fn delete_stack(&self, api: &Api, name: &str, token: Option<&str>, retain: &[String]) -> CfnResult<()> {
        let _one = self.running.lock().await;
        let Ok(mut stack) = self.stack(name) else { return Ok(()) };
        if !stack.live() {
            return Ok(());
        }
        let exported: Vec<String> = stack.outputs.iter().filter_map(|o| o.export.clone()).collect();
        if let Some((user, e)) = self.all().iter().filter(|s| s.live() && s.id != stack.id).find_map(|s| s.imports.iter().find(|i| exported.contains(i)).map(|e| (s.name.clone(), e.clone()))) {
            return Err(validation(format!("Export {e} cannot be deleted as it is in use by {user}")));
        }
        for r in stack.resources.iter_mut() {
            if retain.contains(&r.logical_id) {
                r.retain = true;
            }
        }
        stack.set_status("DELETE_IN_PROGRESS", Some("User Initiated".into()), token);
        if self.delete_resources(api, &mut stack, token, true).await {
            stack.set_status("DELETE_COMPLETE", None, token);
            stack.deleted_ms = Some(now_millis());
            stack.outputs.clear();
        } else {
            let failed: Vec<String> = stack.resources.iter().filter(|r| r.status == "DELETE_FAILED").map(|r| r.logical_id.clone()).collect();
            stack.set_status("DELETE_FAILED", Some(format!("The following resource(s) failed to delete: [{}]. ", failed.join(", "))), token);
        }
        self.put(stack)
    }

    /// UpdateStack: updates changed resources in place or by replacement, adds new ones and
    /// removes dropped ones; rolls back on failure.
    pub async fn update_stack(&self, api: &Api, input: StackInput) -> CfnResult<String> {
        let _one = self.running.lock().await;
        let stack = self.stack(&input.name)?;
        self.update_locked(api, stack, input, None).await
    }

    async fn update_locked(&self, api: &Api, mut stack: Stack, input: StackInput, text: Option<String>) -> CfnResult<String> {
        let stack_name = stack.name.clone();
        if !matches!(stack.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_COMPLETE") {
            return Err(validation(format!("Stack:{} is in {} state and can not be updated.", stack.id, stack.status)));
        }
        let text = match text {
            Some(t) => t,
            None => self.template_text(api, &input, Some(&stack)).await?,
        };
        let (t, flat, resolved) = self.check(&text, &input, Some(&stack))?;
        let tags = if input.tags.is_empty() { stack.tags.clone() } else { input.tags.clone() };
        if text == stack.template && flat == stack.params && tags == stack.tags {
            return Err(validation("No updates are to be performed."));
        }
        let token = input.token.as_deref();
        let old = stack.clone();
        stack.set_status("UPDATE_IN_PROGRESS", Some("User Initiated".into()), token);
        stack.template = text;
        stack.params = flat;
        stack.tags = tags;
        stack.capabilities = input.capabilities.clone();
        stack.description = t.get("Description").and_then(Value::as_str).map(str::to_string);
        stack.updated_ms = Some(now_millis());
        self.put(stack.clone())?;
        match self.update_resources(api, &mut stack, &t, &resolved, token).await {
            Ok(cleanup) => {
                stack.set_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, token);
                for r in cleanup.into_iter().rev() {
                    if r.retain {
                        stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_SKIPPED", None, token);
                        continue;
                    }
                    stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_IN_PROGRESS", None, token);
                    let ctx = Ctx { api, stack_name: &stack_name, logical_id: &r.logical_id, region: &self.region };
                    match resources::delete(&ctx, &r.ty, &r.physical_id, &r.props).await {
                        Ok(()) => stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_COMPLETE", None, token),
                        Err(e) => stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_FAILED", Some(e), token),
                    }
                }
                stack.set_status("UPDATE_COMPLETE", None, token);
            }
            Err((failed, added, updated)) => {
                stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", Some(format!("The following resource(s) failed to update: [{failed}]. ")), token);
                // Undo: in-place updates go back to their old properties, new resources go.
                for (logical, ty, now) in updated.into_iter().rev() {
                    if let Some(prev) = old.resource(&logical) {
                        let ctx = Ctx { api, stack_name: &stack_name, logical_id: &logical, region: &self.region };
                        stack.event(&logical, &prev.physical_id, &ty, "UPDATE_IN_PROGRESS", None, token);
                        let r = resources::update(&ctx, &ty, &Created { physical_id: prev.physical_id.clone(), attrs: prev.attrs.clone() }, &now, &prev.props).await;
                        stack.event(&logical, &prev.physical_id, &ty, if r.is_ok() { "UPDATE_COMPLETE" } else { "UPDATE_FAILED" }, r.err(), token);
                    }
                }
                for r in added.into_iter().rev() {
                    stack.event(&r.logical_id, &r.physical_id, &r.ty, "DELETE_IN_PROGRESS", None, token);
                    let ctx = Ctx { api, stack_name: &stack_name, logical_id: &r.logical_id, region: &self.region };
                    let d = resources::delete(&ctx, &r.ty, &r.physical_id, &r.props).await;
                    stack.event(&r.logical_id, &r.physical_id, &r.ty, if d.is_ok() { "DELETE_COMPLETE" } else { "DELETE_FAILED" }, d.err(), token);
                }
                let events = std::mem::take(&mut stack.events);
                stack = Stack { events, ..old };
                stack.set_status("UPDATE_ROLLBACK_COMPLETE", None, token);
            }
        }
        let id = stack.id.clone();
        self.put(stack)?;
        Ok(id)
    }

    /// Applies a new template to a stack's resources. `Ok` carries the resources to delete in
    /// cleanup (removed or replaced); `Err` the failed resource, what was added, and what was
    /// updated in place (logical id, type, properties now).
    #[allow(clippy::type_complexity)]
    async fn update_resources(&self, api: &Api, stack: &mut Stack, t: &Value, params: &BTreeMap<String, Value>, token: Option<&str>) -> Result<Vec<StackResource>, (String, Vec<StackResource>, Vec<(String, String, Value)>)> {
        let stack_name = stack.name.clone();
        let exports_now = self.exports();
        let exports = |n: &str| exports_now.iter().find(|(_, e, _)| e == n).map(|(_, _, v)| v.clone());
        let mut created: BTreeMap<String, (String, Map<String, Value>)> = BTreeMap::new();
        let (mut added, mut updated): (Vec<StackResource>, Vec<(String, String, Value)>) = (Vec::new(), Vec::new());
        let conditions = self.scope(stack, t, params, &created, &exports).map(|s| s.conditions).map_err(|_| (stack.name.clone(), Vec::new(), Vec::new()))?;
        let plan = Self::planned(t, &conditions).map_err(|_| (stack.name.clone(), Vec::new(), Vec::new()))?;
        let keep: BTreeSet<String> = plan.iter().map(|(n, _)| n.clone()).collect();
        let mut cleanup: Vec<StackResource> = stack.resources.iter().filter(|r| !keep.contains(&r.logical_id)).cloned().collect();
        let mut next: Vec<StackResource> = Vec::new();
        for (logical, def) in plan {
            let ty = def.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            let retain = def.get("DeletionPolicy").and_then(Value::as_str) == Some("Retain");
            let scope = self.scope(stack, t, params, &created, &exports);
            let props = scope.and_then(|s| s.resolve(def.get("Properties").unwrap_or(&Value::Object(Map::new()))));
            let fail = |stack: &mut Stack, status: &str, reason: String, added: Vec<StackResource>, updated: Vec<(String, String, Value)>| {
                stack.event(&logical, "", &ty, status, Some(reason), token);
                Err((logical.clone(), added, updated))
            };
            let props = match props {
                Ok(p) => p,
                Err(e) => return fail(stack, "UPDATE_FAILED", e, added, updated),
            };
            let ctx = Ctx { api, stack_name: &stack_name, logical_id: &logical, region: &self.region };
            let existing = stack.resource(&logical).cloned();
            match existing {
                Some(cur) if cur.ty == ty && cur.props == props => {
                    created.insert(logical.clone(), (cur.physical_id.clone(), cur.attrs.clone()));
                    next.push(StackResource { retain, ..cur });
                }
                Some(cur) if cur.ty == ty && !resources::replaces(&ty, &cur.props, &props) => {
                    stack.event(&logical, &cur.physical_id, &ty, "UPDATE_IN_PROGRESS", None, token);
                    match resources::update(&ctx, &ty, &Created { physical_id: cur.physical_id.clone(), attrs: cur.attrs.clone() }, &cur.props, &props).await {
                        Ok(c) => {
                            stack.event(&logical, &c.physical_id, &ty, "UPDATE_COMPLETE", None, token);
                            updated.push((logical.clone(), ty.clone(), props.clone()));
                            created.insert(logical.clone(), (c.physical_id.clone(), c.attrs.clone()));
                            next.push(StackResource { physical_id: c.physical_id, attrs: c.attrs, props, status: "UPDATE_COMPLETE".into(), updated_ms: now_millis(), retain, ..cur });
                        }
                        Err(e) => return fail(stack, "UPDATE_FAILED", e, added, updated),
                    }
                }
                existing => {
                    let replacing = existing.is_some();
                    stack.event(&logical, "", &ty, if replacing { "UPDATE_IN_PROGRESS" } else { "CREATE_IN_PROGRESS" }, replacing.then(|| "Requested update requires the creation of a new physical resource; hence creating one.".to_string()), token);
                    if !resources::TYPES.contains(&ty.as_str()) {
                        return fail(stack, "CREATE_FAILED", format!("firelocal's CloudFormation does not create resources of type {ty} yet"), added, updated);
                    }
                    match resources::create(&ctx, &ty, &props).await {
                        Ok(c) => {
                            stack.event(&logical, &c.physical_id, &ty, if replacing { "UPDATE_COMPLETE" } else { "CREATE_COMPLETE" }, None, token);
                            created.insert(logical.clone(), (c.physical_id.clone(), c.attrs.clone()));
                            let r = StackResource { logical_id: logical.clone(), physical_id: c.physical_id, ty: ty.clone(), status: if replacing { "UPDATE_COMPLETE" } else { "CREATE_COMPLETE" }.into(), reason: None, updated_ms: now_millis(), props, attrs: c.attrs, retain };
                            added.push(r.clone());
                            next.push(r);
                            if let Some(old) = existing {
                                cleanup.push(old);
                            }
                        }
                        Err(e) => return fail(stack, if replacing { "UPDATE_FAILED" } else { "CREATE_FAILED" }, e, added, updated),
                    }
                }
            }
        }
        let scope = self.scope(stack, t, params, &created, &exports).map_err(|_| (stack.name.clone(), added.clone(), updated.clone()))?;
        match self.outputs(stack, t, &scope) {
            Ok((outputs, imports)) => {
                stack.outputs = outputs;
                stack.imports = imports;
            }
            Err(e) => {
                stack.reason = Some(e);
                return Err(("Outputs".into(), added, updated));
            }
        }
        stack.resources = next;
        Ok(cleanup)
    }

    /// CreateChangeSet: what an update (or a create) would change, kept for review.
    pub async fn create_change_set(&self, api: &Api, input: StackInput, change_set: &str, kind: &str) -> CfnResult<(String, String)> {
        let _one = self.running.lock().await;
        if change_set.is_empty() || change_set.len() > 128 || !change_set.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) || !change_set.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(validation(format!("1 validation error detected: Value '{change_set}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")));
        }
        let existing = self.stack(&input.name).ok();
        let mut stack = match (kind, existing) {
            ("CREATE", Some(s)) if s.status != "REVIEW_IN_PROGRESS" => return Err(CfnError::AlreadyExists(format!("Stack [{}] already exists and cannot be created again with the changeSet [{change_set}].", input.name))),
            ("CREATE", Some(s)) => s,
            ("CREATE", None) => {
                valid_stack_name(&input.name)?;
                let mut s = self.new_stack(&input, "", &Value::Null, BTreeMap::new(), "REVIEW_IN_PROGRESS");
                s.set_status("REVIEW_IN_PROGRESS", Some("User Initiated".into()), None);
                s
            }
            (_, Some(s)) if s.status == "REVIEW_IN_PROGRESS" => return Err(validation(format!("Stack [{}] does not exist", input.name))),
            (_, Some(s)) => s,
            (_, None) => return Err(validation(format!("Stack [{}] does not exist", input.name))),
        };
        // A change set that failed (nothing to change) gives its name up: firelocal answers in
        // milliseconds, so `aws cloudformation deploy` can reuse its per-second name.
        stack.change_sets.retain(|c| !(c.name == change_set && c.status == "FAILED"));
        if stack.change_sets.iter().any(|c| c.name == change_set) {
            return Err(CfnError::AlreadyExists(format!("ChangeSet [{change_set}] already exists")));
        }
        let previous = (kind != "CREATE").then_some(&stack);
        let text = self.template_text(api, &input, previous).await?;
        let (t, flat, _) = self.check(&text, &input, previous)?;
        let changes = self.changes(&stack, kind, &t, &flat);
        let tags = if input.tags.is_empty() { stack.tags.clone() } else { input.tags.clone() };
        let empty = kind != "CREATE" && changes.is_empty() && text == stack.template && flat == stack.params;
        let cs = ChangeSet {
            id: self.arn("changeSet", change_set),
            name: change_set.to_string(),
            kind: kind.to_string(),
            status: if empty { "FAILED" } else { "CREATE_COMPLETE" }.into(),
            execution_status: if empty { "UNAVAILABLE" } else { "AVAILABLE" }.into(),
            reason: empty.then(|| "The submitted information didn't contain changes. Submit different information to create a change set.".to_string()),
            created_ms: now_millis(),
            description: input.description.clone(),
            template: text,
            params: flat,
            capabilities: input.capabilities.clone(),
            tags,
            changes,
        };
        let ids = (cs.id.clone(), stack.id.clone());
        stack.change_sets.push(cs);
        self.put(stack)?;
        Ok(ids)
    }

    /// The resource-level changes from the stack's current template to `t`.
    fn changes(&self, stack: &Stack, kind: &str, t: &Value, params: &BTreeMap<String, String>) -> Vec<Change> {
        let new = t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
        if kind == "CREATE" {
            return new.iter().map(|(n, r)| Change { action: "Add".into(), logical_id: n.clone(), physical_id: None, ty: type_of(r), replacement: None }).collect();
        }
        let old_t = template::parse(&stack.template).unwrap_or_default();
        let old = old_t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
        let changed_params: BTreeSet<String> = params.iter().filter(|(k, v)| stack.params.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
        let mut out = Vec::new();
        for (n, r) in &new {
            match old.get(n) {
                None => out.push(Change { action: "Add".into(), logical_id: n.clone(), physical_id: None, ty: type_of(r), replacement: None }),
                Some(o) => {
                    let mut refs = BTreeSet::new();
                    template::references(r, &changed_params, &mut refs);
                    if o != r || !refs.is_empty() {
                        let (op, np) = (o.get("Properties").cloned().unwrap_or_default(), r.get("Properties").cloned().unwrap_or_default());
                        let replace = type_of(o) != type_of(r) || resources::replaces(&type_of(r), &op, &np);
                        out.push(Change {
                            action: "Modify".into(),
                            logical_id: n.clone(),
                            physical_id: stack.resource(n).map(|x| x.physical_id.clone()),
                            ty: type_of(r),
                            replacement: Some(if replace { "True" } else if refs.is_empty() { "False" } else { "Conditional" }.into()),
                        });
                    }
                }
            }
        }
        for (n, o) in &old {
            if !new.contains_key(n) {
                out.push(Change { action: "Remove".into(), logical_id: n.clone(), physical_id: stack.resource(n).map(|x| x.physical_id.clone()), ty: type_of(o), replacement: None });
            }
        }
        out
    }

    /// A change set by ARN, or by name within a stack.
    pub fn change_set(&self, name: &str, stack: Option<&str>) -> CfnResult<(Stack, ChangeSet)> {
        let missing = || CfnError::ChangeSetNotFound(format!("ChangeSet [{name}] does not exist"));
        let all = self.stacks.lock();
        for s in all.iter().filter(|s| s.live()) {
            if !name.starts_with("arn:") && stack.is_some_and(|x| x != s.name && x != s.id) {
                continue;
            }
            if let Some(c) = s.change_sets.iter().find(|c| c.id == name || c.name == name) {
                return Ok((s.clone(), c.clone()));
            }
        }
        if !name.starts_with("arn:") && stack.is_none() {
            return Err(validation("StackName must be specified if ChangeSetName is not specified as an ARN."));
        }
        Err(missing())
    }

    /// ExecuteChangeSet: creates or updates the stack from the change set.
    pub async fn execute_change_set(&self, api: &Api, name: &str, stack: Option<&str>, token: Option<String>, disable_rollback: bool) -> CfnResult<()> {
        let _one = self.running.lock().await;
        let (mut s, cs) = self.change_set(name, stack)?;
        if cs.execution_status != "AVAILABLE" {
            return Err(CfnError::InvalidChangeSetStatus(format!("ChangeSet [{}] cannot be executed in its current status of [{}]", cs.id, cs.status)));
        }
        let input = StackInput {
            name: s.name.clone(),
            template: Some(cs.template.clone()),
            params: cs.params.clone(),
            capabilities: cs.capabilities.clone(),
            tags: cs.tags.clone(),
            token: token.clone(),
            disable_rollback,
            ..Default::default()
        };
        s.change_sets.clear();
        if cs.kind == "CREATE" {
            let (t, flat, resolved) = self.check(&cs.template, &input, None)?;
            s.template = cs.template.clone();
            s.params = flat;
            s.description = t.get("Description").and_then(Value::as_str).map(str::to_string);
            s.no_echo = template::parameter_decls(&t).into_iter().filter(|d| d.no_echo).map(|d| d.name).collect();
            s.capabilities = cs.capabilities.clone();
            s.tags = cs.tags.clone();
            s.set_status("CREATE_IN_PROGRESS", Some("User Initiated".into()), token.as_deref());
            self.put(s.clone())?;
            let on_failure = if disable_rollback { "DO_NOTHING" } else { "ROLLBACK" };
            self.run_create(api, &mut s, &t, &resolved, on_failure, token.as_deref()).await;
            self.put(s)?;
            return Ok(());
        }
        self.put(s.clone())?;
        match self.update_locked(api, s, input, Some(cs.template)).await {
            Err(CfnError::Validation(m)) if m == "No updates are to be performed." => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// DeleteChangeSet.
    pub fn delete_change_set(&self, name: &str, stack: Option<&str>) -> CfnResult<()> {
        let (mut s, cs) = self.change_set(name, stack)?;
        s.change_sets.retain(|c| c.id != cs.id);
        if s.status == "REVIEW_IN_PROGRESS" && s.change_sets.is_empty() {
            s.deleted_ms = Some(now_millis());
            s.status = "DELETE_COMPLETE".into();
        }
        self.put(s)
    }

    /// `serve --init`: creates the stack, updates it when its template or parameters changed
    /// (with `--data-dir` it survives restarts), or leaves it alone. `Err` lists what failed.
    pub async fn init_stack(&self, name: &str, text: &str, given: &BTreeMap<String, String>, region: &str) -> Result<String, String> {
        let api = self.api("test", region).map_err(|e| e.to_aws().message)?;
        let t = template::parse(text)?;
        let declared: BTreeSet<String> = template::parameter_decls(&t).into_iter().map(|d| d.name).collect();
        let params: BTreeMap<String, String> = given.iter().filter(|(k, _)| declared.contains(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let caps = vec!["CAPABILITY_IAM".to_string(), "CAPABILITY_NAMED_IAM".to_string(), "CAPABILITY_AUTO_EXPAND".to_string()];
        let input = StackInput { name: name.to_string(), template: Some(text.to_string()), params, capabilities: caps, ..Default::default() };
        let existing = self.stack(name).ok();
        let (verb, result) = match &existing {
            Some(s) if s.status == "ROLLBACK_COMPLETE" || s.status == "REVIEW_IN_PROGRESS" => {
                self.delete_stack(&api, name, None, &[]).await.map_err(|e| e.to_aws().message)?;
                ("created", self.create_stack(&api, input).await)
            }
            Some(_) => match self.update_stack(&api, input).await {
                Err(CfnError::Validation(m)) if m == "No updates are to be performed." => return Ok(format!("stack {name} is up to date")),
                r => ("updated", r),
            },
            None => ("created", self.create_stack(&api, input).await),
        };
        result.map_err(|e| e.to_aws().message)?;
        let s = self.stack(name).map_err(|e| e.to_aws().message)?;
        if matches!(s.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
            return Ok(format!("stack {name} {verb} ({} resources)", s.resources.len()));
        }
        let failed: Vec<String> = s
            .events
            .iter()
            .filter(|e| e.status.ends_with("FAILED"))
            .map(|e| format!("  {} {} {}: {}", e.logical_id, e.ty, e.status, e.reason.clone().unwrap_or_default()))
            .collect();
        Err(format!("stack {name} is {}; what failed:\n{}", s.status, failed.join("\n")))
    }

    /// ValidateTemplate: the parameters, description and capabilities a template declares.
    pub async fn validate_template(&self, api: &Api, input: &StackInput) -> CfnResult<(Value, Option<&'static str>)> {
        let text = self.template_text(api, input, None).await?;
        let t = template::parse(&text).map_err(validation)?;
        template::validate(&t).map_err(validation)?;
        if let Some(e) = template::unresolved(&t) {
            return Err(validation(e));
        }
        let resources = t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
        template::creation_order(&resources).map_err(validation)?;
        let mut cap = None;
        for r in resources.values() {
            if let Some(c) = resources::capability(&type_of(r), r.get("Properties").unwrap_or(&Value::Null))
                && cap != Some("CAPABILITY_NAMED_IAM")
            {
                cap = Some(c);
            }
        }
        Ok((t, cap))
    }
}

fn type_of(r: &Value) -> String {
    r.get("Type").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The export names a template imports.
fn collect_imports(v: &Value, scope: &Scope<'_>, out: &mut BTreeSet<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| collect_imports(x, scope, out)),
        Value::Object(o) => {
            for (k, x) in o {
                if k == "Fn::ImportValue"
                    && let Ok(n) = scope.resolve(x)
                {
                    out.insert(template::scalar(&n));
                }
                collect_imports(x, scope, out);
            }
        }
        _ => {}
    }
}

/// Stack names: a letter, then letters, digits and hyphens, at most 128 characters.
fn valid_stack_name(name: &str) -> CfnResult<()> {
    let ok = !name.is_empty() && name.len() <= 128 && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(validation(format!("1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names() {
        assert!(valid_stack_name("clicks-1").is_ok() && valid_stack_name("1x").is_err() && valid_stack_name("a_b").is_err());
    }
}
