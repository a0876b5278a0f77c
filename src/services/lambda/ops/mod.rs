//! Lambda's operations as plain functions on typed inputs: the function lifecycle (code from a
//! zip, from firelocal's S3, or a hot-reload folder), versions, resource policies, and Invoke
//! through the worker pools of `engine::lambda`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;

use super::error::{LambdaError, LambdaResult};
use super::model::{Alias, Function};
use super::store::Store;
use crate::engine::lambda::{CredentialIssuer, FunctionSpec, Invocation, LogSink, Pool};
use crate::services::s3::S3;
use crate::services::s3::error::S3Error;

mod aliases;
mod code;
mod permissions;

/// The account every resource belongs to.
pub const ACCOUNT: &str = "000000000000";
/// Invoke payload limits: 6 MB synchronous, 1 MB asynchronous.
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;
/// The largest unpacked deployment package.
pub const MAX_UNZIPPED: u64 = 262_144_000;
/// The runtimes firelocal runs as local processes.
pub const RUNTIMES: &[&str] = &[
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "nodejs18.x", "nodejs20.x", "nodejs22.x",
    "provided", "provided.al2", "provided.al2023",
];
/// The S3 bucket name that means "run the code in this local folder" (S3Key is the path).
pub const HOT_RELOAD_BUCKET: &str = "hot-reload";

/// How Invoke runs the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// The code of CreateFunction / UpdateFunctionCode.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCode {
    #[serde(default, with = "opt_blob")]
    pub zip_file: Option<Bytes>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    /// A version of a versioned bucket's object; the current version when absent.
    pub s3_object_version: Option<String>,
    pub image_uri: Option<String>,
}

mod opt_blob {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(s.as_bytes()).map(Bytes::from).map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

/// Environment.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// CreateFunction's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionInput {
    pub function_name: String,
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    #[serde(default)]
    pub code: FunctionCode,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub publish: Option<bool>,
    pub environment: Option<Environment>,
    pub package_type: Option<String>,
    pub architectures: Option<Vec<String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// UpdateFunctionConfiguration's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfigurationInput {
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<Environment>,
    pub revision_id: Option<String>,
}

struct Entry {
    versions: BTreeMap<String, Function>,
    aliases: BTreeMap<String, Alias>,
    pools: HashMap<String, Arc<Pool>>,
}

/// The Lambda service.
pub struct Lambda {
    pub region: String,
    endpoint: Mutex<String>,
    /// Issues execution-role credentials (STS); without it functions get the default keys.
    credentials: Mutex<Option<CredentialIssuer>>,
    root: PathBuf,
    /// The state root: code folders are discarded through it (a snapshot may be copying them).
    state: Arc<crate::state::Root>,
    store: Store,
    functions: Mutex<BTreeMap<String, Entry>>,
    s3: Arc<S3>,
    sink: LogSink,
    /// Concurrent executions per function.
    concurrency: usize,
    /// The latest invocations per function (for the console).
    history: Arc<Mutex<HashMap<String, std::collections::VecDeque<InvocationRecord>>>>,
    /// Injected faults: `invocation: crash | timeout` rules end invocations early.
    faults: std::sync::OnceLock<Arc<crate::faults::Faults>>,
}

/// One invocation as the console lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvocationRecord {
    pub at_ms: i64,
    pub request_id: String,
    pub version: String,
    pub kind: &'static str,
    pub duration_ms: f64,
    pub error: Option<String>,
}

/// Keeps the last 20 invocations of a function.
fn remember(history: &Mutex<HashMap<String, std::collections::VecDeque<InvocationRecord>>>, function: &str, kind: &'static str, version: &str, inv: &Invocation) {
    let mut h = history.lock();
    let list = h.entry(function.to_string()).or_default();
    list.push_back(InvocationRecord {
        at_ms: crate::protocol::time::now_millis(),
        request_id: inv.request_id.clone(),
        version: version.to_string(),
        kind,
        duration_ms: inv.duration.as_secs_f64() * 1000.0,
        error: inv.function_error.clone(),
    });
    while list.len() > 20 {
        list.pop_front();
    }
}

fn not_found(name: &str, version: &str) -> LambdaError {
    let q = if version == "$LATEST" { String::new() } else { format!(":{version}") };
    LambdaError::ResourceNotFound(format!("Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}{q}"))
}

/// An alias's `RoutingConfig.AdditionalVersionWeights`.
fn routing_weights(input: &Value) -> BTreeMap<String, f64> {
    input
        .pointer("/RoutingConfig/AdditionalVersionWeights")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_f64()?))).collect())
        .unwrap_or_default()
}

/// Handler: at most 128 characters, no whitespace (`[^\s]+`).
fn validate_handler(handler: &str) -> LambdaResult<()> {
    if handler.is_empty() || handler.len() > 128 || handler.chars().any(char::is_whitespace) {
        return Err(LambdaError::validation("handler", handler, "Member must satisfy regular expression pattern: [^\\s]+"));
    }
    Ok(())
}

/// `name`, `name:qualifier`, `123456789012:function:name[:q]` or the full ARN.
pub fn parse_function_name(s: &str) -> LambdaResult<(String, Option<String>)> {
    let rest = s.strip_prefix("arn:").map_or(s, |r| {
        // arn:partition:lambda:region:account:function:name[:q]
        r.splitn(4, ':').nth(3).unwrap_or("")
    });
    let rest = match rest.split_once(":function:") {
        Some((acct, tail)) if acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) => tail,
        _ => rest,
    };
    let (name, qualifier) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q.to_string())),
        None => (rest, None),
    };
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(LambdaError::validation(
            "functionName",
            s,
            r"Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
        ));
    }
    Ok((name.to_string(), qualifier.filter(|q| !q.is_empty())))
}

fn validate_role(role: &str) -> LambdaResult<()> {
    let p: Vec<&str> = role.splitn(6, ':').collect();
    let ok = p.len() == 6 && p[0] == "arn" && p[2] == "iam" && p[4].len() == 12 && p[4].bytes().all(|b| b.is_ascii_digit()) && p[5].starts_with("role/");
    if ok {
        Ok(())
    } else {
        Err(LambdaError::validation("role", role, r"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"))
    }
}

fn validate_runtime(rt: &str) -> LambdaResult<()> {
    if RUNTIMES.contains(&rt) {
        return Ok(());
    }
    Err(LambdaError::InvalidParameterValue(format!(
        "The runtime parameter of {rt} is not supported by firelocal, which runs functions as local processes. Supported runtimes: {}",
        RUNTIMES.join(", ")
    )))
}

fn validate_limits(timeout: Option<i64>, memory: Option<i64>) -> LambdaResult<()> {
    if let Some(t) = timeout
        && !(1..=900).contains(&t)
    {
        return Err(LambdaError::validation("timeout", t, "Member must have value between 1 and 900"));
    }
    if let Some(m) = memory
        && !(128..=10240).contains(&m)
    {
        return Err(LambdaError::validation("memorySize", m, "Member must have value between 128 and 10240"));
    }
    Ok(())
}

/// `2024-01-02T03:04:05.678+0000`, as Lambda writes LastModified.
fn lambda_timestamp() -> String {
    crate::protocol::time::iso8601_millis(crate::protocol::time::now_millis()).replace('Z', "+0000")
}

impl Lambda {
    /// Opens the service: writes the shipped runtime loops and loads stored functions.
    pub fn open(root: &std::sync::Arc<crate::state::Root>, region: &str, s3: Arc<S3>, sink: LogSink) -> LambdaResult<Lambda> {
        let state = root.clone();
        let root = root.dir.join("lambda");
        let runtime = root.join("runtime");
        std::fs::create_dir_all(&runtime).map_err(|e| LambdaError::Service(e.to_string()))?;
        std::fs::create_dir_all(root.join("code")).map_err(|e| LambdaError::Service(e.to_string()))?;
        std::fs::write(runtime.join("python.py"), crate::engine::lambda::PYTHON_BOOTSTRAP).map_err(|e| LambdaError::Service(e.to_string()))?;
        std::fs::write(runtime.join("node.js"), crate::engine::lambda::NODE_BOOTSTRAP).map_err(|e| LambdaError::Service(e.to_string()))?;
        let store = Store::open(&state)?;
        let mut functions: BTreeMap<String, Entry> = BTreeMap::new();
        for mut f in store.load()? {
            // A function's code folder is recorded by its absolute path; state restored from a
            // snapshot (or a moved data directory) finds it under this root by its id.
            if !f.hot_reload
                && let Some(id) = Path::new(&f.code_dir).file_name()
                && !Path::new(&f.code_dir).is_dir()
                && root.join("code").join(id).is_dir()
            {
                f.code_dir = root.join("code").join(id).display().to_string();
            }
            functions.entry(f.name.clone()).or_insert_with(|| Entry { versions: BTreeMap::new(), aliases: BTreeMap::new(), pools: HashMap::new() }).versions.insert(f.version.clone(), f);
        }
        for a in store.load_aliases()? {
            if let Some(e) = functions.get_mut(&a.function) {
                e.aliases.insert(a.name.clone(), a);
            }
        }
        let concurrency = std::env::var("FIRELOCAL_LAMBDA_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
        Ok(Lambda { region: region.to_string(), endpoint: Mutex::new(String::new()), credentials: Mutex::new(None), root, state, store, functions: Mutex::new(functions), s3, sink, concurrency, history: Arc::new(Mutex::new(HashMap::new())), faults: std::sync::OnceLock::new() })
    }

    /// Tells functions where firelocal listens (their `AWS_ENDPOINT_URL`).
    pub fn set_endpoint(&self, endpoint: String) {
        *self.endpoint.lock() = endpoint;
    }

    /// Lets injected faults crash or time out invocations.
    pub fn set_faults(&self, faults: Arc<crate::faults::Faults>) {
        let _ = self.faults.set(faults);
    }

    /// How an injected fault makes this invocation of `f` end, if one does.
    fn sabotage(faults: Option<&Arc<crate::faults::Faults>>, f: &Function) -> Option<crate::faults::Sabotage> {
        let unqualified = f.arn.rsplit_once(':').filter(|(_, q)| *q == f.version).map_or(f.arn.as_str(), |(a, _)| a);
        match faults?.check_call("lambda", "Invoke", crate::faults::Kind::Invocation, &[&f.name, &f.arn, unqualified]) {
            Some(crate::faults::Injection::Invocation(s)) => Some(s),
            _ => None,
        }
    }

    /// Lets functions run with their execution role's credentials.
    pub fn set_credentials(&self, issuer: CredentialIssuer) {
        *self.credentials.lock() = Some(issuer);
    }

    fn arn(&self, name: &str) -> String {
        format!("arn:aws:lambda:{}:{ACCOUNT}:function:{name}", self.region)
    }

    fn spec(&self, f: &Function) -> FunctionSpec {
        FunctionSpec {
            name: f.name.clone(),
            arn: f.qualified_arn(),
            version: f.version.clone(),
            runtime: f.runtime.clone(),
            handler: f.handler.clone(),
            code_dir: PathBuf::from(&f.code_dir),
            timeout: Duration::from_secs(f.timeout.into()),
            memory_mb: f.memory_size,
            env: f.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            region: self.region.clone(),
            endpoint: self.endpoint.lock().clone(),
            credentials: match self.credentials.lock().as_ref() {
                Some(issue) => issue(&f.role, &f.name),
                None => ("test".into(), "test".into(), "test".into()),
            },
            runtime_dir: self.root.join("runtime"),
            log_group: f.log_group(),
            role: f.role.clone(),
        }
    }

    /// CreateFunction.
    pub fn create_function(&self, input: CreateFunctionInput) -> LambdaResult<Value> {
        let (name, q) = parse_function_name(&input.function_name)?;
        if q.is_some() {
            return Err(LambdaError::InvalidParameterValue("A function name cannot have a qualifier when it is created".into()));
        }
        if input.package_type.as_deref().is_some_and(|p| p != "Zip") {
            return Err(LambdaError::InvalidParameterValue("firelocal runs Zip packages, not container images".into()));
        }
        let runtime = input.runtime.ok_or_else(|| LambdaError::InvalidParameterValue("Runtime is required for .zip deployment packages.".into()))?;
        validate_runtime(&runtime)?;
        if runtime.starts_with("python") {
            // Resolve python3 in the background now, so the first cold start does not pay for it.
            tokio::spawn(crate::engine::lambda::worker::python_executable());
        }
        let role = input.role.unwrap_or_default();
        validate_role(&role)?;
        let handler = input.handler.ok_or_else(|| LambdaError::InvalidParameterValue("Handler is required for .zip deployment packages.".into()))?;
        validate_handler(&handler)?;
        validate_limits(input.timeout, input.memory_size)?;
        if self.functions.lock().contains_key(&name) {
            return Err(LambdaError::ResourceConflict(format!("Function already exist: {name}")));
        }
        let (code_dir, sha, size, hot) = self.install_code(&input.code)?;
        let f = Function {
            arn: self.arn(&name),
            name: name.clone(),
            version: "$LATEST".into(),
            runtime,
            role,
            handler,
            description: input.description.unwrap_or_default(),
            timeout: input.timeout.unwrap_or(3) as u32,
            memory_size: input.memory_size.unwrap_or(128) as u32,
            environment: input.environment.map(|e| e.variables).unwrap_or_default(),
            code_sha256: sha,
            code_size: size,
            code_dir,
            hot_reload: hot,
            last_modified: lambda_timestamp(),
            revision_id: uuid::Uuid::new_v4().to_string(),
            architectures: input.architectures.unwrap_or_else(|| vec!["x86_64".into()]),
            policy: Vec::new(),
            tags: input.tags,
            last_published: 0,
        };
        {
            let mut fns = self.functions.lock();
            if fns.contains_key(&name) {
                return Err(LambdaError::ResourceConflict(format!("Function already exist: {name}")));
            }
            self.store.save(&f)?;
            fns.insert(name.clone(), Entry { versions: BTreeMap::from([("$LATEST".to_string(), f.clone())]), aliases: BTreeMap::new(), pools: HashMap::new() });
        }
        if input.publish.unwrap_or(false) {
            return self.publish_version(&name, None);
        }
        Ok(f.configuration())
    }

    /// The function version a name and qualifier (a version or an alias) point at.
    pub fn function(&self, name_or_arn: &str, qualifier: Option<&str>) -> LambdaResult<Function> {
        self.resolve(name_or_arn, qualifier, false)
    }

    /// Resolves a qualifier; `route` follows an alias's routing weights (for invocations).
    fn resolve(&self, name_or_arn: &str, qualifier: Option<&str>, route: bool) -> LambdaResult<Function> {
        let (name, q) = parse_function_name(name_or_arn)?;
        let qualifier = qualifier.map(str::to_string).or(q).unwrap_or_else(|| "$LATEST".into());
        let fns = self.functions.lock();
        let e = fns.get(&name).ok_or_else(|| not_found(&name, &qualifier))?;
        let version = match e.aliases.get(&qualifier) {
            Some(a) => {
                let mut v = a.version.clone();
                if route && !a.weights.is_empty() {
                    // One uniform draw per invocation picks the version by its weight.
                    let draw = f64::from(u32::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap_or([0; 4]))) / f64::from(u32::MAX);
                    let mut acc = 0.0;
                    for (ver, w) in &a.weights {
                        acc += w;
                        if draw < acc {
                            v = ver.clone();
                            break;
                        }
                    }
                }
                v
            }
            None => qualifier.clone(),
        };
        e.versions.get(&version).cloned().ok_or_else(|| not_found(&name, &qualifier))
    }

    /// GetFunction: configuration, code location, tags.
    pub fn get_function(&self, name: &str, qualifier: Option<&str>) -> LambdaResult<Value> {
        let f = self.function(name, qualifier)?;
        let mut out = serde_json::json!({
            "Configuration": f.configuration(),
            "Code": { "RepositoryType": "S3", "Location": format!("{}/2015-03-31/functions/{}/code-location", self.endpoint.lock(), f.name) },
        });
        if !f.tags.is_empty() {
            out["Tags"] = serde_json::json!(f.tags);
        }
        Ok(out)
    }

    /// ListFunctions: `$LATEST` of every function, by name, paged with an opaque marker.
    pub fn list_functions(&self, marker: Option<&str>, max: usize) -> (Vec<Value>, Option<String>) {
        let fns = self.functions.lock();
        let after = marker.and_then(|m| base64::engine::general_purpose::STANDARD.decode(m).ok()).map(|b| String::from_utf8_lossy(&b).into_owned());
        let all: Vec<&Function> = fns.values().filter_map(|e| e.versions.get("$LATEST")).filter(|f| after.as_ref().is_none_or(|a| &f.name > a)).collect();
        let next = (all.len() > max).then(|| base64::engine::general_purpose::STANDARD.encode(&all[max - 1].name));
        (all.into_iter().take(max).map(Function::configuration).collect(), next)
    }

    /// ListVersionsByFunction.
    pub fn list_versions(&self, name: &str) -> LambdaResult<Vec<Value>> {
        let (n, _) = parse_function_name(name)?;
        let fns = self.functions.lock();
        let e = fns.get(&n).ok_or_else(|| not_found(&n, "$LATEST"))?;
        let mut v: Vec<&Function> = e.versions.values().collect();
        v.sort_by_key(|f| if f.version == "$LATEST" { 0 } else { f.version.parse::<u64>().unwrap_or(0) + 1 });
        Ok(v.into_iter().map(Function::configuration).collect())
    }

    fn update_latest(&self, name: &str, revision: Option<&str>, change: impl FnOnce(&mut Function) -> LambdaResult<()>) -> LambdaResult<(Function, Option<Arc<Pool>>)> {
        let (n, _) = parse_function_name(name)?;
        let mut fns = self.functions.lock();
        let e = fns.get_mut(&n).ok_or_else(|| not_found(&n, "$LATEST"))?;
        let f = e.versions.get_mut("$LATEST").ok_or_else(|| not_found(&n, "$LATEST"))?;
        if let Some(r) = revision
            && r != f.revision_id
        {
            return Err(LambdaError::PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into()));
        }
        let mut updated = f.clone();
        change(&mut updated)?;
        updated.last_modified = lambda_timestamp();
        updated.revision_id = uuid::Uuid::new_v4().to_string();
        self.store.save(&updated)?;
        *f = updated.clone();
        Ok((updated, e.pools.get("$LATEST").cloned()))
    }

    /// UpdateFunctionCode: new code; warm workers are retired.
    pub async fn update_function_code(&self, name: &str, code: FunctionCode, publish: bool, revision: Option<&str>) -> LambdaResult<Value> {
        let (code_dir, sha, size, hot) = self.install_code(&code)?;
        let (f, pool) = self.update_latest(name, revision, |f| {
            f.code_dir = code_dir;
            f.code_sha256 = sha;
            f.code_size = size;
            f.hot_reload = hot;
            Ok(())
        })?;
        if let Some(p) = pool {
            p.update(self.spec(&f)).await;
        }
        if publish {
            return self.publish_version(&f.name, None);
        }
        Ok(f.configuration())
    }

    /// UpdateFunctionConfiguration.
    pub async fn update_function_configuration(&self, name: &str, input: UpdateConfigurationInput) -> LambdaResult<Value> {
        if let Some(rt) = &input.runtime {
            validate_runtime(rt)?;
        }
        if let Some(role) = &input.role {
            validate_role(role)?;
        }
        if let Some(h) = &input.handler {
            validate_handler(h)?;
        }
        validate_limits(input.timeout, input.memory_size)?;
        let (f, pool) = self.update_latest(name, input.revision_id.as_deref(), |f| {
            if let Some(v) = input.runtime {
                f.runtime = v;
            }
            if let Some(v) = input.role {
                f.role = v;
            }
            if let Some(v) = input.handler {
                f.handler = v;
            }
            if let Some(v) = input.description {
                f.description = v;
            }
            if let Some(v) = input.timeout {
                f.timeout = v as u32;
            }
            if let Some(v) = input.memory_size {
                f.memory_size = v as u32;
            }
            if let Some(e) = input.environment {
                f.environment = e.variables;
            }
            Ok(())
        })?;
        if let Some(p) = pool {
            p.update(self.spec(&f)).await;
        }
        Ok(f.configuration())
    }

    /// PublishVersion: snapshots `$LATEST` as the next number (or returns the last version when
    /// nothing changed, as AWS does).
    pub fn publish_version(&self, name: &str, description: Option<String>) -> LambdaResult<Value> {
        let (n, _) = parse_function_name(name)?;
        let mut fns = self.functions.lock();
        let e = fns.get_mut(&n).ok_or_else(|| not_found(&n, "$LATEST"))?;
        let latest = e.versions.get("$LATEST").cloned().ok_or_else(|| not_found(&n, "$LATEST"))?;
        if latest.last_published > 0
            && let Some(prev) = e.versions.get(&latest.last_published.to_string())
            && prev.code_sha256 == latest.code_sha256
            && prev.revision_id == latest.revision_id
        {
            return Ok(prev.configuration());
        }
        let number = latest.last_published + 1;
        let mut v = latest.clone();
        v.version = number.to_string();
        if let Some(d) = description {
            v.description = d;
        }
        v.last_published = 0;
        self.store.save(&v)?;
        e.versions.insert(v.version.clone(), v.clone());
        if let Some(l) = e.versions.get_mut("$LATEST") {
            l.last_published = number;
            // The published snapshot carries this revision id.
            if let Some(p) = e.versions.get_mut(&number.to_string()) {
                p.revision_id = latest.revision_id.clone();
            }
        }
        if let Some(l) = e.versions.get("$LATEST") {
            self.store.save(l)?;
        }
        Ok(v.configuration())
    }

    /// DeleteFunction: the whole function, or one published version.
    pub async fn delete_function(&self, name: &str, qualifier: Option<&str>) -> LambdaResult<()> {
        let (n, q) = parse_function_name(name)?;
        let qualifier = qualifier.map(str::to_string).or(q);
        let pools: Vec<Arc<Pool>> = {
            let mut fns = self.functions.lock();
            match qualifier.as_deref() {
                None | Some("$LATEST") => {
                    let e = fns.remove(&n).ok_or_else(|| not_found(&n, "$LATEST"))?;
                    self.store.delete(&n, None)?;
                    for f in e.versions.values().filter(|f| !f.hot_reload) {
                        self.state.discard(PathBuf::from(&f.code_dir));
                    }
                    e.pools.into_values().collect()
                }
                Some(v) => {
                    let e = fns.get_mut(&n).ok_or_else(|| not_found(&n, v))?;
                    let users: Vec<String> = e.aliases.values().filter(|a| a.version == v || a.weights.contains_key(v)).map(|a| a.name.clone()).collect();
                    if !users.is_empty() {
                        return Err(LambdaError::ResourceConflict(format!("Unable to delete version because the following aliases reference it: {users:?}")));
                    }
                    e.versions.remove(v).ok_or_else(|| not_found(&n, v))?;
                    self.store.delete(&n, Some(v))?;
                    e.pools.remove(v).into_iter().collect()
                }
            }
        };
        for p in pools {
            p.retire_idle().await;
        }
        Ok(())
    }

    /// The pool that runs a function version (created on first use).
    fn pool(&self, f: &Function) -> Arc<Pool> {
        let mut fns = self.functions.lock();
        let Some(e) = fns.get_mut(&f.name) else {
            return Arc::new(Pool::new(self.spec(f), self.concurrency, self.sink.clone()));
        };
        e.pools.entry(f.version.clone()).or_insert_with(|| Arc::new(Pool::new(self.spec(f), self.concurrency, self.sink.clone()))).clone()
    }

    /// Invoke: runs the function (synchronously, in the background for `Event`, or not at all
    /// for `DryRun`). Returns the executed version and, for a synchronous call, the outcome.
    pub async fn invoke(&self, name: &str, qualifier: Option<&str>, payload: Bytes, kind: InvocationType, client_context: Option<String>) -> LambdaResult<(String, Option<Invocation>)> {
        let f = self.resolve(name, qualifier, true)?;
        let limit = if kind == InvocationType::Event { MAX_ASYNC_PAYLOAD } else { MAX_SYNC_PAYLOAD };
        if payload.len() > limit {
            return Err(LambdaError::RequestTooLarge(format!("Request must be smaller than {limit} bytes for the InvokeFunction operation")));
        }
        let payload = if payload.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { payload };
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
            return Err(LambdaError::InvalidRequestContent(format!("Could not parse request body into json: {e}")));
        }
        let version = f.version.clone();
        match kind {
            InvocationType::DryRun => Ok((version, None)),
            InvocationType::Event => {
                let pool = self.pool(&f);
                let (history, name, ver) = (self.history.clone(), f.name.clone(), version.clone());
                let faults = self.faults.get().cloned();
                tokio::spawn(async move {
                    // Asynchronous invocations are retried twice on a function error, as on AWS.
                    for attempt in 0..3 {
                        let outcome = pool.invoke(payload.clone(), None, Self::sabotage(faults.as_ref(), &f)).await;
                        if let Ok(inv) = &outcome {
                            remember(&history, &name, "Event", &ver, inv);
                        }
                        match outcome {
                            Ok(inv) if inv.function_error.is_none() => return,
                            Ok(_) if attempt < 2 => tokio::time::sleep(Duration::from_secs(attempt + 1)).await,
                            Ok(_) => return,
                            Err(e) => {
                                tracing::warn!(error = ?e, "asynchronous invocation could not run");
                                return;
                            }
                        }
                    }
                });
                Ok((version, None))
            }
            InvocationType::RequestResponse => {
                let pool = self.pool(&f);
                let inv = pool.invoke(payload, client_context, Self::sabotage(self.faults.get(), &f)).await.map_err(|e| match e {
                    crate::engine::lambda::EngineError::Spawn(m) | crate::engine::lambda::EngineError::Entrypoint(m) => LambdaError::Service(m),
                })?;
                remember(&self.history, &f.name, "RequestResponse", &version, &inv);
                Ok((version, Some(inv)))
            }
        }
    }

    /// The latest invocations of a function, newest last.
    pub fn recent_invocations(&self, function: &str) -> Vec<InvocationRecord> {
        self.history.lock().get(function).map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// Stops every worker (clean shutdown).
    pub async fn shutdown(&self) {
        let pools: Vec<Arc<Pool>> = self.functions.lock().values().flat_map(|e| e.pools.values().cloned()).collect();
        for p in pools {
            p.retire_idle().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::code::unzip;
    use super::*;

    #[test]
    fn function_names() {
        let ok = |s: &str| parse_function_name(s).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        assert_eq!(ok("my-fn"), ("my-fn".into(), None));
        assert_eq!(ok("my-fn:3"), ("my-fn".into(), Some("3".into())));
        assert_eq!(ok("arn:aws:lambda:us-east-1:000000000000:function:my_fn"), ("my_fn".into(), None));
        assert_eq!(ok("arn:aws:lambda:us-east-1:000000000000:function:my_fn:$LATEST"), ("my_fn".into(), Some("$LATEST".into())));
        assert_eq!(ok("000000000000:function:f"), ("f".into(), None));
        assert!(parse_function_name("bad name").is_err());
        assert!(parse_function_name("").is_err());
        assert!(parse_function_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn zips_cannot_escape() -> LambdaResult<()> {
        let dir = tempfile::tempdir().map_err(|e| LambdaError::Service(e.to_string()))?;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        let _ = w.start_file("../evil.py", opts);
        let _ = std::io::Write::write_all(&mut w, b"x");
        let bytes = w.finish().map_err(|e| LambdaError::Service(e.to_string()))?.into_inner();
        assert!(unzip(&bytes, dir.path()).is_err());
        assert!(!dir.path().parent().map(|p| p.join("evil.py").exists()).unwrap_or(false));
        assert!(unzip(b"not a zip", dir.path()).is_err());
        Ok(())
    }
}
