//! Athena's state and operations: query executions (run on a blocking thread, results kept
//! for GetQueryResults and written to the output location), workgroups and named queries.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use firelocal_sql::ddl::Statement;
use firelocal_sql::{ResultColumn, SqlError};
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::error::{AthenaError, AthenaResult};
use super::exec::{Env, Outcome};
use crate::protocol::time::now_millis;
use crate::services::glue::Glue;
use crate::services::iam::authz::{Access, Guard};
use crate::services::s3::{self, S3};
use crate::state::DocTable;

/// Stack of a query's thread (reserved, not committed, memory).
const QUERY_STACK_BYTES: usize = 64 << 20;

/// The engine version every query reports.
pub const ENGINE: &str = "Athena engine version 3";

/// A query's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "QUEUED",
            State::Running => "RUNNING",
            State::Succeeded => "SUCCEEDED",
            State::Failed => "FAILED",
            State::Cancelled => "CANCELLED",
        }
    }
}

/// One query execution.
#[derive(Debug)]
pub struct Execution {
    pub id: String,
    pub query: String,
    pub statement_type: &'static str,
    pub substatement_type: &'static str,
    pub database: Option<String>,
    pub catalog: Option<String>,
    pub workgroup: String,
    /// The result file (`s3://bucket/prefix/<id>.csv`), if any.
    pub output_location: Option<String>,
    pub state: State,
    pub reason: Option<String>,
    /// (ErrorCategory, ErrorType) of a failure.
    pub error: Option<(i64, i64)>,
    pub submitted_ms: i64,
    pub started_ms: Option<i64>,
    pub completed_ms: Option<i64>,
    pub bytes_scanned: u64,
    pub outcome: Option<Arc<Outcome>>,
    pub parameters: Vec<String>,
    pub token: Option<String>,
    /// Set by StopQueryExecution; the engine stops at the next object it would read.
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
}

/// What StartQueryExecution takes.
#[derive(Default)]
pub struct StartInput {
    pub query: String,
    pub database: Option<String>,
    pub catalog: Option<String>,
    pub output_location: Option<String>,
    pub workgroup: Option<String>,
    pub token: Option<String>,
    pub parameters: Vec<String>,
    /// `--enforce-iam`: what the query's caller may do (it reads and writes as its caller).
    pub guard: Option<Guard>,
}

/// The Athena service.
pub struct Athena {
    glue: Arc<Glue>,
    s3: Arc<S3>,
    executions: Mutex<Executions>,
    workgroups: DocTable,
    named: DocTable,
    /// Columns decoded from objects, reused by later queries while the objects are unchanged.
    cache: firelocal_sql::scan::ScanCache,
}

#[derive(Default)]
struct Executions {
    by_id: HashMap<String, Execution>,
    /// Ids, oldest first.
    order: Vec<String>,
    tokens: HashMap<String, String>,
}

/// Athena's ErrorType for an engine error name (1006 syntax, 1301 not found, ...).
fn error_type(code: &str) -> i64 {
    match code {
        "COLUMN_NOT_FOUND" | "SYNTAX_ERROR" | "AMBIGUOUS_NAME" | "CATALOG_NOT_FOUND" | "MISMATCHED_COLUMN_ALIASES" => 1006,
        "TABLE_NOT_FOUND" | "SCHEMA_NOT_FOUND" => 1301,
        "FUNCTION_NOT_FOUND" => 1303,
        "TYPE_MISMATCH" | "EXPRESSION_NOT_AGGREGATE" | "HIVE_CURSOR_ERROR" | "HIVE_BAD_DATA" => 1002,
        "DIVISION_BY_ZERO" => 1001,
        "INVALID_CAST_ARGUMENT" | "INVALID_FUNCTION_ARGUMENT" | "INVALID_LITERAL" => 1100,
        "NOT_SUPPORTED" => 1200,
        "PERMISSION_DENIED" => 1500,
        "FAILED" | "ALREADY_EXISTS" => 1003,
        "GENERIC_INTERNAL_ERROR" => 200,
        _ => 1000,
    }
}

impl Athena {
    /// Opens Athena's stores; the `primary` workgroup always exists.
    pub fn open(root: &std::sync::Arc<crate::state::Root>, glue: Arc<Glue>, s3: Arc<S3>, scan_cache_bytes: usize) -> AthenaResult<Athena> {
        let a = Athena {
            glue,
            s3,
            executions: Mutex::new(Executions::default()),
            workgroups: DocTable::open(root, "athena_workgroups")?,
            named: DocTable::open(root, "athena_named_queries")?,
            cache: firelocal_sql::scan::ScanCache::new(scan_cache_bytes),
        };
        if a.workgroup("primary")?.is_none() {
            a.workgroups.save("primary", "", &Self::workgroup_doc("primary", &json!({}), None))?;
        }
        Ok(a)
    }

    // ------------------------------------------------------------ executions

    /// StartQueryExecution: validates, records the query as QUEUED and runs it in the background.
    pub fn start(self: &Arc<Self>, input: StartInput) -> AthenaResult<String> {
        if input.query.trim().is_empty() {
            return Err(AthenaError::invalid("INVALID_INPUT", "queryString must not be empty"));
        }
        if input.query.len() > 262_144 {
            return Err(AthenaError::invalid("INVALID_INPUT", "queryString is longer than 262144 characters"));
        }
        if let Some(t) = &input.token {
            let ex = self.executions.lock();
            if let Some(id) = ex.tokens.get(t) {
                let same = ex.by_id.get(id).is_some_and(|e| e.query == input.query);
                if !same {
                    return Err(AthenaError::invalid("IDEMPOTENT_PARAMETER_MISMATCH", "Idempotent parameters do not match"));
                }
                return Ok(id.clone());
            }
        }
        let wg_name = input.workgroup.clone().unwrap_or_else(|| "primary".into());
        let wg = self.workgroup(&wg_name)?.ok_or_else(|| AthenaError::invalid("INVALID_INPUT", "WorkGroup is not found."))?;
        if wg.get("State").and_then(Value::as_str) == Some("DISABLED") {
            return Err(AthenaError::invalid("INVALID_INPUT", format!("WorkGroup {wg_name} is disabled.")));
        }
        let wg_out = wg.pointer("/Configuration/ResultConfiguration/OutputLocation").and_then(Value::as_str).map(str::to_string);
        let enforce = wg.pointer("/Configuration/EnforceWorkGroupConfiguration").and_then(Value::as_bool).unwrap_or(false);
        let prefix = if enforce { wg_out.clone().or(input.output_location.clone()) } else { input.output_location.clone().or(wg_out) };
        let Some(prefix) = prefix else {
            return Err(AthenaError::invalid("INVALID_INPUT", "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input."));
        };
        if firelocal_sql::catalog::split_s3(&prefix).is_none_or(|(b, _)| b.is_empty()) {
            return Err(AthenaError::invalid("INVALID_INPUT", "outputLocation is not a valid S3 path."));
        }
        let prefix = if prefix.ends_with('/') { prefix } else { format!("{prefix}/") };
        let sql = firelocal_sql::substitute_parameters(&input.query, &input.parameters).map_err(|e| AthenaError::invalid("INVALID_INPUT", e.message))?;
        // Syntax errors fail the call itself, as Athena does; other errors fail the query.
        let stmt = firelocal_sql::ddl::parse_statement(&sql).and_then(|s| {
            if let Statement::Query(q) = &s {
                firelocal_sql::check_syntax(q)?;
            }
            Ok(s)
        });
        let stmt = match stmt {
            Ok(s) => s,
            Err(e) if e.code == "SYNTAX_ERROR" => {
                let at = e.pos.map(|(l, c)| format!("line {l}:{c}: ")).unwrap_or_default();
                return Err(AthenaError::invalid("MALFORMED_QUERY", format!("{at}{}", e.message)));
            }
            Err(e) if e.code == "NOT_SUPPORTED" => return Err(AthenaError::invalid("INVALID_INPUT", format!("Queries of this type are not supported: {}", e.message))),
            Err(e) => return Err(AthenaError::invalid("MALFORMED_QUERY", e.to_string())),
        };
        let (st, sub) = stmt.statement_type();
        let id = uuid::Uuid::new_v4().to_string();
        let ext = match &stmt {
            Statement::Query(_) => ".csv",
            Statement::Ctas { .. } => "",
            _ => ".txt",
        };
        let output = if matches!(stmt, Statement::Ctas { .. }) { format!("{prefix}tables/{id}") } else { format!("{prefix}{id}{ext}") };
        let exec = Execution {
            id: id.clone(),
            query: input.query.clone(),
            statement_type: st,
            substatement_type: sub,
            database: input.database.clone(),
            catalog: input.catalog.clone(),
            workgroup: wg_name,
            output_location: Some(output),
            state: State::Queued,
            reason: None,
            error: None,
            submitted_ms: now_millis(),
            started_ms: None,
            completed_ms: None,
            bytes_scanned: 0,
            outcome: None,
            parameters: input.parameters.clone(),
            token: input.token.clone(),
            cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        {
            let mut ex = self.executions.lock();
            if let Some(t) = &input.token {
                ex.tokens.insert(t.clone(), id.clone());
            }
            ex.order.push(id.clone());
            ex.by_id.insert(id.clone(), exec);
        }
        let me = self.clone();
        let guard = input.guard.clone();
        let (qid, db) = (id.clone(), input.database.clone().unwrap_or_else(|| "default".into()).to_ascii_lowercase());
        // Its own thread with a deep stack: planning recurses once per level of the query.
        let spawned = std::thread::Builder::new().name(format!("athena-{id}")).stack_size(QUERY_STACK_BYTES).spawn(move || me.run(&qid, stmt, &sql, &db, &prefix, guard.as_ref()));
        if let Err(e) = spawned {
            let mut ex = self.executions.lock();
            if let Some(x) = ex.by_id.get_mut(&id) {
                x.state = State::Failed;
                x.reason = Some(format!("GENERIC_INTERNAL_ERROR: could not start the query: {e}"));
                x.error = Some((1, 200));
                x.completed_ms = Some(now_millis());
            }
        }
        Ok(id)
    }

    fn run(&self, id: &str, stmt: Statement, sql: &str, db: &str, prefix: &str, guard: Option<&Guard>) {
        let started = now_millis();
        let cancel = {
            let mut ex = self.executions.lock();
            match ex.by_id.get_mut(id) {
                Some(e) if e.state == State::Queued => {
                    e.state = State::Running;
                    e.started_ms = Some(started);
                    e.cancel.clone()
                }
                _ => return,
            }
        };
        let env = Env { glue: &self.glue, s3: &self.s3, database: db.to_string(), query_id: id, output_prefix: Some(prefix.to_string()), now_ms: started, cache: Some(&self.cache), cancel: Some(&cancel), guard };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.run(stmt, sql)))
            .unwrap_or_else(|_| Err(SqlError::new("GENERIC_INTERNAL_ERROR", "the query engine failed unexpectedly")));
        let result = result.and_then(|o| self.write_results(id, prefix, &o, guard).map(|_| o));
        let done = now_millis();
        let mut ex = self.executions.lock();
        let Some(e) = ex.by_id.get_mut(id) else { return };
        if e.state == State::Cancelled {
            return;
        }
        e.completed_ms = Some(done);
        match result {
            Ok(o) => {
                e.state = State::Succeeded;
                e.bytes_scanned = o.bytes_scanned;
                e.outcome = Some(Arc::new(o));
            }
            Err(err) => {
                e.state = State::Failed;
                let text = match err.code {
                    "FAILED" => format!("FAILED: {}", err.message),
                    "PERMISSION_DENIED" => err.message.clone(),
                    _ => err.to_string(),
                };
                e.reason = Some(text);
                e.error = Some((if err.is_user_error() { 2 } else { 1 }, error_type(err.code)));
            }
        }
    }

    /// Writes `<id>.csv` (+ `.csv.metadata`) or `<id>.txt` to the output location.
    fn write_results(&self, id: &str, prefix: &str, o: &Outcome, guard: Option<&Guard>) -> Result<(), SqlError> {
        let Some((bucket, key_prefix)) = firelocal_sql::catalog::split_s3(prefix) else { return Ok(()) };
        let put = |key: String, body: Vec<u8>, ct: &str| {
            if let Some(g) = guard {
                g(&Access::new("s3:PutObject", format!("arn:aws:s3:::{bucket}/{key}"))).map_err(|_| {
                    super::exec::access_denied(format!(
                        "Access denied when writing output to url: s3://{bucket}/{key} . Please ensure you are allowed to access the S3 bucket. If you are encrypting query results with KMS key, please ensure you are allowed to access your KMS key"
                    ))
                })?;
            }
            let mut input = s3::ops::PutObjectInput { bucket: bucket.to_string(), key, body: Bytes::from(body), ..Default::default() };
            input.meta.content_type = Some(ct.to_string());
            s3::ops::put_object(&self.s3, input).map(|_| ()).map_err(|e| {
                let a = e.to_aws();
                SqlError::new("HIVE_PATH_ALREADY_EXISTS", format!("Unable to write query results to {prefix}: {}: {}", a.code, a.message))
            })
        };
        if o.header {
            let names: Vec<String> = o.columns.iter().map(|c| c.name.clone()).collect();
            put(format!("{key_prefix}{id}.csv"), firelocal_sql::render::csv(&names, &o.rows), "application/octet-stream")?;
            put(format!("{key_prefix}{id}.csv.metadata"), firelocal_sql::result_metadata(id, &o.columns), "application/octet-stream")?;
        } else if o.update_count.is_none() {
            let text: Vec<String> = o.rows.iter().map(|r| r.iter().map(|v| v.clone().unwrap_or_default()).collect::<Vec<_>>().join("\t")).collect();
            put(format!("{key_prefix}{id}.txt"), text.join("\n").into_bytes(), "binary/octet-stream")?;
        }
        Ok(())
    }

    /// Whether a workgroup exists (QuickSight's Athena data sources name one).
    pub fn workgroup_exists(&self, name: &str) -> bool {
        self.workgroup(name).ok().flatten().is_some()
    }

    /// Runs one SELECT for another service (QuickSight reading a data set), with the scan cache,
    /// on the calling thread; `database` is the default schema.
    pub fn run_sql(&self, sql: &str, database: &str) -> Result<firelocal_sql::ResultSet, SqlError> {
        let catalog = super::exec::Catalog { glue: &self.glue, s3: &self.s3, cache: Some(&self.cache), cancel: None, guard: None };
        firelocal_sql::run_query(sql, database, &catalog, now_millis())
    }

    /// The workgroup an execution ran in.
    pub fn execution_workgroup(&self, id: &str) -> Option<String> {
        self.executions.lock().by_id.get(id).map(|e| e.workgroup.clone())
    }

    /// GetQueryExecution's `QueryExecution` document.
    pub fn get(&self, id: &str) -> AthenaResult<Value> {
        let ex = self.executions.lock();
        let e = ex.by_id.get(id).ok_or_else(|| not_found(id))?;
        Ok(execution_doc(e))
    }

    /// BatchGetQueryExecution: documents and the ids that were not found.
    pub fn batch_get(&self, ids: &[String]) -> (Vec<Value>, Vec<Value>) {
        let ex = self.executions.lock();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match ex.by_id.get(id) {
                Some(e) => found.push(execution_doc(e)),
                None => missing.push(json!({"QueryExecutionId": id, "ErrorCode": "INVALID_INPUT", "ErrorMessage": format!("QueryExecution {id} was not found")})),
            }
        }
        (found, missing)
    }

    /// ListQueryExecutions of a workgroup, newest first.
    pub fn list(&self, workgroup: Option<&str>, token: Option<&str>, max: Option<usize>) -> AthenaResult<(Vec<String>, Option<String>)> {
        let wg = workgroup.unwrap_or("primary");
        if self.workgroup(wg)?.is_none() {
            return Err(AthenaError::invalid("INVALID_INPUT", "WorkGroup is not found."));
        }
        let ex = self.executions.lock();
        let ids: Vec<String> = ex.order.iter().rev().filter(|id| ex.by_id.get(*id).is_some_and(|e| e.workgroup == wg)).cloned().collect();
        page(ids, token, max.unwrap_or(50).clamp(1, 50))
    }

    /// StopQueryExecution: a queued or running query becomes CANCELLED.
    pub fn stop(&self, id: &str) -> AthenaResult<()> {
        let mut ex = self.executions.lock();
        let e = ex.by_id.get_mut(id).ok_or_else(|| not_found(id))?;
        if matches!(e.state, State::Queued | State::Running) {
            e.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            e.state = State::Cancelled;
            e.reason = Some("Query cancelled by user".into());
            e.completed_ms = Some(now_millis());
        }
        Ok(())
    }

    /// GetQueryResults: a page of rows (with the header row first for SELECT).
    pub fn results(&self, id: &str, token: Option<&str>, max: Option<usize>) -> AthenaResult<(Vec<ResultColumn>, Vec<Vec<Option<String>>>, Option<String>, Option<i64>)> {
        let outcome = {
            let ex = self.executions.lock();
            let e = ex.by_id.get(id).ok_or_else(|| not_found(id))?;
            match e.state {
                State::Succeeded => e.outcome.clone(),
                State::Queued | State::Running => return Err(AthenaError::invalid("INVALID_QUERY_EXECUTION_STATE", format!("Query has not yet finished. Current state: {}", e.state.name()))),
                State::Failed => return Err(AthenaError::invalid("INVALID_QUERY_EXECUTION_STATE", format!("Query did not finish successfully. Final query state: FAILED\n{}", e.reason.clone().unwrap_or_default()))),
                State::Cancelled => return Err(AthenaError::invalid("RESULT_NOT_FOUND", "Could not find results")),
            }
        };
        let o = outcome.unwrap_or_default();
        let max = max.unwrap_or(1000);
        if max == 0 || max > 1000 {
            return Err(AthenaError::invalid("INVALID_INPUT", format!("1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000")));
        }
        let start: usize = match token {
            Some(t) => t.parse().map_err(|_| AthenaError::invalid("INVALID_INPUT", "Invalid NextToken"))?,
            None => 0,
        };
        // Row indices count the header as row 0 when there is one.
        let total = o.rows.len() + o.header as usize;
        let end = start.saturating_add(max).min(total);
        let mut rows = Vec::with_capacity(end.saturating_sub(start));
        for i in start..end {
            if o.header && i == 0 {
                rows.push(o.columns.iter().map(|c| Some(c.name.clone())).collect());
            } else {
                rows.push(o.rows[i - o.header as usize].clone());
            }
        }
        let next = (end < total).then(|| end.to_string());
        Ok((o.columns.clone(), rows, next, o.update_count))
    }

    // ------------------------------------------------------------ workgroups

    fn workgroup_doc(name: &str, input: &Value, old: Option<&Value>) -> Value {
        let mut cfg = input.get("Configuration").cloned().unwrap_or(json!({}));
        if let Some(o) = cfg.as_object_mut() {
            o.entry("EnforceWorkGroupConfiguration").or_insert(json!(false));
            o.entry("PublishCloudWatchMetricsEnabled").or_insert(json!(false));
            o.entry("RequesterPaysEnabled").or_insert(json!(false));
            o.insert("EngineVersion".into(), json!({"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": ENGINE}));
        }
        json!({
            "Name": name,
            "State": input.get("State").cloned().unwrap_or(json!("ENABLED")),
            "Configuration": cfg,
            "Description": input.get("Description").cloned().unwrap_or(json!("")),
            "CreationTime": old.and_then(|o| o.get("CreationTime").cloned()).unwrap_or(json!(now_millis() as f64 / 1000.0)),
        })
    }

    fn workgroup(&self, name: &str) -> AthenaResult<Option<Value>> {
        Ok(self.workgroups.load::<Value>()?.into_iter().find(|w| w.get("Name").and_then(Value::as_str) == Some(name)))
    }

    pub fn create_workgroup(&self, name: &str, input: &Value) -> AthenaResult<()> {
        if name.is_empty() || name.len() > 128 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err(AthenaError::invalid("INVALID_INPUT", format!("1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9._-]{{1,128}}")));
        }
        if self.workgroup(name)?.is_some() {
            return Err(AthenaError::invalid("INVALID_INPUT", "WorkGroup is already created"));
        }
        Ok(self.workgroups.save(name, "", &Self::workgroup_doc(name, input, None))?)
    }

    pub fn get_workgroup(&self, name: &str) -> AthenaResult<Value> {
        self.workgroup(name)?.ok_or_else(|| AthenaError::invalid("INVALID_INPUT", "WorkGroup is not found."))
    }

    pub fn list_workgroups(&self) -> AthenaResult<Vec<Value>> {
        Ok(self
            .workgroups
            .load::<Value>()?
            .into_iter()
            .map(|w| json!({"Name": w["Name"], "State": w["State"], "Description": w["Description"], "CreationTime": w["CreationTime"], "EngineVersion": w.pointer("/Configuration/EngineVersion")}))
            .collect())
    }

    /// UpdateWorkGroup: applies a `ConfigurationUpdates` document.
    pub fn update_workgroup(&self, name: &str, updates: &Value, state: Option<&str>, description: Option<&str>) -> AthenaResult<()> {
        let mut w = self.get_workgroup(name)?;
        if let Some(s) = state {
            w["State"] = json!(s);
        }
        if let Some(d) = description {
            w["Description"] = json!(d);
        }
        let cfg = &mut w["Configuration"];
        for k in ["EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "RequesterPaysEnabled", "BytesScannedCutoffPerQuery"] {
            if let Some(v) = updates.get(k) {
                cfg[k] = v.clone();
            }
        }
        if let Some(r) = updates.get("ResultConfigurationUpdates") {
            if r.get("RemoveOutputLocation").and_then(Value::as_bool) == Some(true) {
                if let Some(o) = cfg.get_mut("ResultConfiguration").and_then(Value::as_object_mut) {
                    o.remove("OutputLocation");
                }
            }
            if let Some(l) = r.get("OutputLocation") {
                cfg["ResultConfiguration"]["OutputLocation"] = l.clone();
            }
        }
        Ok(self.workgroups.save(name, "", &w)?)
    }

    pub fn delete_workgroup(&self, name: &str) -> AthenaResult<()> {
        if name == "primary" {
            return Err(AthenaError::invalid("INVALID_INPUT", "Primary WorkGroup cannot be deleted"));
        }
        self.get_workgroup(name)?;
        Ok(self.workgroups.delete(name, None)?)
    }

    // ------------------------------------------------------------ named queries

    pub fn create_named_query(&self, input: &Value) -> AthenaResult<String> {
        let name = input.get("Name").and_then(Value::as_str).unwrap_or_default();
        let db = input.get("Database").and_then(Value::as_str).unwrap_or_default();
        let q = input.get("QueryString").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || db.is_empty() || q.is_empty() {
            return Err(AthenaError::invalid("INVALID_INPUT", "Name, Database and QueryString are required"));
        }
        let wg = input.get("WorkGroup").and_then(Value::as_str).unwrap_or("primary").to_string();
        self.get_workgroup(&wg)?;
        if let Some(t) = input.get("ClientRequestToken").and_then(Value::as_str)
            && let Some(existing) = self.named.load::<Value>()?.into_iter().find(|n| n.get("ClientRequestToken").and_then(Value::as_str) == Some(t))
        {
            return Ok(existing["NamedQueryId"].as_str().unwrap_or_default().to_string());
        }
        let id = uuid::Uuid::new_v4().to_string();
        let doc = json!({"Name": name, "Description": input.get("Description").cloned().unwrap_or(json!("")), "Database": db, "QueryString": q, "NamedQueryId": id, "WorkGroup": wg, "ClientRequestToken": input.get("ClientRequestToken")});
        self.named.save(&id, "", &doc)?;
        Ok(id)
    }

    pub fn get_named_query(&self, id: &str) -> AthenaResult<Value> {
        let mut doc = self
            .named
            .load::<Value>()?
            .into_iter()
            .find(|n| n.get("NamedQueryId").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| AthenaError::invalid("INVALID_INPUT", format!("NamedQuery {id} was not found")))?;
        if let Some(o) = doc.as_object_mut() {
            o.remove("ClientRequestToken");
        }
        Ok(doc)
    }

    pub fn list_named_queries(&self, workgroup: Option<&str>, token: Option<&str>, max: Option<usize>) -> AthenaResult<(Vec<String>, Option<String>)> {
        let wg = workgroup.unwrap_or("primary");
        let ids = self.named.load::<Value>()?.into_iter().filter(|n| n.get("WorkGroup").and_then(Value::as_str) == Some(wg)).filter_map(|n| n["NamedQueryId"].as_str().map(str::to_string)).collect();
        page(ids, token, max.unwrap_or(50).clamp(1, 50))
    }

    pub fn delete_named_query(&self, id: &str) -> AthenaResult<()> {
        self.get_named_query(id)?;
        Ok(self.named.delete(id, None)?)
    }

    // ------------------------------------------------------------ catalog metadata

    pub fn glue(&self) -> &Glue {
        &self.glue
    }
}

fn not_found(id: &str) -> AthenaError {
    AthenaError::invalid("INVALID_INPUT", format!("QueryExecution {id} was not found"))
}

fn page(items: Vec<String>, token: Option<&str>, max: usize) -> AthenaResult<(Vec<String>, Option<String>)> {
    crate::protocol::json::index_page(items, token, max).map_err(|_| AthenaError::invalid("INVALID_INPUT", "Invalid NextToken"))
}

fn execution_doc(e: &Execution) -> Value {
    let secs = |ms: i64| ms as f64 / 1000.0;
    let mut status = json!({"State": e.state.name(), "SubmissionDateTime": secs(e.submitted_ms)});
    if let Some(c) = e.completed_ms {
        status["CompletionDateTime"] = json!(secs(c));
    }
    if let Some(r) = &e.reason {
        status["StateChangeReason"] = json!(r);
    }
    if let Some((cat, ty)) = e.error {
        status["AthenaError"] = json!({"ErrorCategory": cat, "ErrorType": ty, "Retryable": false, "ErrorMessage": e.reason});
    }
    let engine = e.completed_ms.zip(e.started_ms).map(|(c, s)| c - s).unwrap_or(0);
    let queued = e.started_ms.map(|s| s - e.submitted_ms).unwrap_or(0);
    let total = e.completed_ms.map(|c| c - e.submitted_ms).unwrap_or(0);
    let mut ctx = json!({});
    if let Some(d) = &e.database {
        ctx["Database"] = json!(d);
    }
    if let Some(c) = &e.catalog {
        ctx["Catalog"] = json!(c);
    }
    let mut doc = json!({
        "QueryExecutionId": e.id,
        "Query": e.query,
        "StatementType": e.statement_type,
        "SubstatementType": e.substatement_type,
        "ResultConfiguration": {"OutputLocation": e.output_location},
        "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": false}},
        "QueryExecutionContext": ctx,
        "Status": status,
        "Statistics": {
            "EngineExecutionTimeInMillis": engine,
            "DataScannedInBytes": e.bytes_scanned,
            "TotalExecutionTimeInMillis": total,
            "QueryQueueTimeInMillis": queued,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": false},
        },
        "WorkGroup": e.workgroup,
        "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": ENGINE},
    });
    if !e.parameters.is_empty() {
        doc["ExecutionParameters"] = json!(e.parameters);
    }
    doc
}
