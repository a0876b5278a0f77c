//! QuickSight's state and operations: Athena data sources, data sets (one SQL query each, see
//! `dataset`), SPICE ingestions that snapshot a data set's rows through firelocal's Athena
//! engine, and dashboards with versions whose visuals are computed from those rows (`visual`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::dataset::{self, Plan};
use super::error::{QsError, QsResult};
use super::visual::{self, Table};
use crate::protocol::json::epoch_seconds;
use crate::protocol::time::now_millis;
use crate::services::athena::Athena;
use crate::state::DocTable;

/// A data set as stored: its DataSet document and its query.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DataSet {
    doc: Value,
    plan: Plan,
    spice: bool,
}

/// One SPICE ingestion.
#[derive(Debug, Clone)]
struct Ingestion {
    id: String,
    arn: String,
    status: &'static str,
    created_ms: i64,
    finished_ms: Option<i64>,
    rows: u64,
    bytes: u64,
    error: Option<(String, String)>,
    request_type: String,
    cancel: Arc<AtomicBool>,
}

/// One dashboard version.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Version {
    number: u64,
    status: String,
    errors: Vec<Value>,
    definition: Value,
    description: Option<String>,
    created_ms: i64,
    data_set_arns: Vec<String>,
}

/// A dashboard with its versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dashboard {
    id: String,
    name: String,
    arn: String,
    created_ms: i64,
    updated_ms: i64,
    published: u64,
    published_ms: i64,
    versions: Vec<Version>,
    /// Resource permissions (Principal and Actions), as given and updated.
    #[serde(default)]
    permissions: Vec<Value>,
}

#[derive(Default)]
struct State {
    sources: BTreeMap<String, Value>,
    data_sets: BTreeMap<String, DataSet>,
    dashboards: BTreeMap<String, Dashboard>,
    ingestions: BTreeMap<String, Vec<Ingestion>>,
    snapshots: HashMap<String, Arc<Table>>,
    /// Registered users by ARN.
    users: BTreeMap<String, Value>,
    analyses: BTreeMap<String, Dashboard>,
    templates: BTreeMap<String, Dashboard>,
}

/// The QuickSight service.
pub struct QuickSight {
    pub region: String,
    /// firelocal's own URL: embed URLs point at its console.
    endpoint: String,
    athena: Arc<Athena>,
    s3: Arc<crate::services::s3::S3>,
    docs: DocTable,
    state: Mutex<State>,
}

fn not_found(what: &str, id: &str) -> QsError {
    QsError::ResourceNotFound(format!("{what} {id} does not exist."))
}

fn now_s(ms: i64) -> Value {
    json!(epoch_seconds(ms))
}

impl QuickSight {
    /// Opens the store (data sources, data sets and dashboards persist; SPICE snapshots are in
    /// memory and come back with the next ingestion).
    pub fn open(root: &std::sync::Arc<crate::state::Root>, region: &str, endpoint: &str, athena: Arc<Athena>, s3: Arc<crate::services::s3::S3>) -> QsResult<QuickSight> {
        let docs = DocTable::open(root, "quicksight")?;
        let mut state = State::default();
        for (kind, doc) in docs.load::<(String, Value)>()? {
            match kind.as_str() {
                "source" => {
                    if let Some(id) = doc.get("DataSourceId").and_then(Value::as_str) {
                        state.sources.insert(id.to_string(), doc.clone());
                    }
                }
                "dataset" => {
                    if let Ok(d) = serde_json::from_value::<DataSet>(doc)
                        && let Some(id) = d.doc.get("DataSetId").and_then(Value::as_str)
                    {
                        state.data_sets.insert(id.to_string(), d);
                    }
                }
                "dashboard" => {
                    if let Ok(d) = serde_json::from_value::<Dashboard>(doc) {
                        state.dashboards.insert(d.id.clone(), d);
                    }
                }
                "analysis" | "template" => {
                    if let Ok(d) = serde_json::from_value::<Dashboard>(doc) {
                        let map = if kind == "analysis" { &mut state.analyses } else { &mut state.templates };
                        map.insert(d.id.clone(), d);
                    }
                }
                "user" => {
                    if let Some(arn) = doc.get("Arn").and_then(Value::as_str) {
                        state.users.insert(arn.to_string(), doc.clone());
                    }
                }
                _ => {}
            }
        }
        Ok(QuickSight { region: region.to_string(), endpoint: endpoint.to_string(), athena, s3, docs, state: Mutex::new(state) })
    }

    fn arn(&self, account: &str, kind: &str, id: &str) -> String {
        format!("arn:aws:quicksight:{}:{account}:{kind}/{id}", self.region)
    }

    fn save(&self, kind: &str, id: &str, doc: Value) -> QsResult<()> {
        self.docs.save(&format!("{kind}:{id}"), "", &(kind.to_string(), doc))?;
        Ok(())
    }

    fn forget(&self, kind: &str, id: &str) -> QsResult<()> {
        self.docs.delete(&format!("{kind}:{id}"), None)?;
        Ok(())
    }

    // ------------------------------------------------------------------ data sources

    /// CreateDataSource: an Athena data source on an existing workgroup succeeds; a missing
    /// workgroup or another type is CREATION_FAILED with ErrorInfo, as QuickSight reports it.
    pub fn create_data_source(&self, account: &str, input: &Value) -> QsResult<Value> {
        let id = input.get("DataSourceId").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| QsError::InvalidParameterValue("DataSourceId is required".into()))?;
        self.put_data_source(account, id, input, false)
    }

    /// UpdateDataSource: a new name or parameters, checked again.
    pub fn update_data_source(&self, account: &str, id: &str, input: &Value) -> QsResult<Value> {
        let ty = self.data_source(id)?.get("Type").cloned().unwrap_or_default();
        let mut input = input.clone();
        input["Type"] = ty;
        let out = self.put_data_source(account, id, &input, true)?;
        Ok(json!({"Arn": out["Arn"], "DataSourceId": id, "UpdateStatus": if out["CreationStatus"] == "CREATION_SUCCESSFUL" { "UPDATE_SUCCESSFUL" } else { "UPDATE_FAILED" }}))
    }

    fn put_data_source(&self, account: &str, id: &str, input: &Value, update: bool) -> QsResult<Value> {
        let name = input.get("Name").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("Name is required".into()))?;
        let ty = input.get("Type").and_then(Value::as_str).unwrap_or_default();
        let arn = self.arn(account, "datasource", id);
        if self.state.lock().sources.contains_key(id) != update {
            return Err(if update { not_found("DataSource", id) } else { QsError::ResourceExists(format!("DataSource {arn} already exists.")) });
        }
        let params = input.get("DataSourceParameters").cloned().unwrap_or_default();
        let (status, error) = match ty {
            "ATHENA" => {
                let wg = params.pointer("/AthenaParameters/WorkGroup").and_then(Value::as_str).unwrap_or("primary");
                if self.athena.workgroup_exists(wg) { ("CREATION_SUCCESSFUL", None) } else { ("CREATION_FAILED", Some(json!({"Type": "UNKNOWN", "Message": format!("WorkGroup {wg} is not found.")}))) }
            }
            "S3" => match self.manifest(&params).and_then(|m| self.manifest_files(&m).map(|_| ())) {
                Ok(()) => ("CREATION_SUCCESSFUL", None),
                Err(e) => ("CREATION_FAILED", Some(json!({"Type": "COPY_SOURCE_NOT_FOUND", "Message": e}))),
            },
            other => ("CREATION_FAILED", Some(json!({"Type": "UNKNOWN", "Message": format!("firelocal's QuickSight reads ATHENA and S3 data sources, not {other}")}))),
        };
        let now = now_millis();
        let created = self.state.lock().sources.get(id).and_then(|d| d.get("CreatedTime").cloned()).unwrap_or_else(|| now_s(now));
        let mut doc = json!({"Arn": arn, "DataSourceId": id, "Name": name, "Type": ty, "Status": status, "CreatedTime": created, "LastUpdatedTime": now_s(now), "DataSourceParameters": params});
        if let Some(e) = error {
            doc["ErrorInfo"] = e;
        }
        self.save("source", id, doc.clone())?;
        self.state.lock().sources.insert(id.to_string(), doc);
        Ok(json!({"Arn": arn, "DataSourceId": id, "CreationStatus": status}))
    }

    /// An S3 data source's manifest, read from firelocal's S3.
    fn manifest(&self, params: &Value) -> Result<Value, String> {
        let loc = params.pointer("/S3Parameters/ManifestFileLocation").ok_or("S3Parameters.ManifestFileLocation is required")?;
        let (b, k) = (loc.get("Bucket").and_then(Value::as_str).unwrap_or_default(), loc.get("Key").and_then(Value::as_str).unwrap_or_default());
        let bytes = self.read_object(b, k).map_err(|e| format!("The manifest file s3://{b}/{k} cannot be read: {e}"))?;
        let m: Value = serde_json::from_slice(&bytes).map_err(|e| format!("The manifest file s3://{b}/{k} is not valid JSON: {e}"))?;
        if m.get("fileLocations").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            return Err(format!("The manifest file s3://{b}/{k} lists no fileLocations"));
        }
        Ok(m)
    }

    fn read_object(&self, bucket: &str, key: &str) -> Result<bytes::Bytes, String> {
        let obj = self.s3.store.object(bucket, key).map_err(|e| e.to_aws().message)?;
        self.s3.store.read_data(&obj.data, None).map_err(|e| e.to_aws().message)
    }

    /// The (bucket, key) of every file a manifest names: its URIs and everything under its
    /// URIPrefixes.
    fn manifest_files(&self, manifest: &Value) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for loc in manifest.get("fileLocations").and_then(Value::as_array).into_iter().flatten() {
            for uri in loc.get("URIs").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                out.push(crate::services::s3::ops::url_location(uri).ok_or_else(|| format!("{uri} is not an S3 URL"))?);
            }
            for prefix in loc.get("URIPrefixes").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                let (b, p) = crate::services::s3::ops::url_location(prefix).or_else(|| prefix.strip_prefix("s3://").map(|b| (b.trim_end_matches('/').to_string(), String::new()))).ok_or_else(|| format!("{prefix} is not an S3 URL"))?;
                let objects = self.s3.store.list_objects(&b, &[], &p, 100_000).map_err(|e| e.to_aws().message)?;
                out.extend(objects.into_iter().map(|o| (b.clone(), o.key)));
            }
        }
        Ok(out)
    }

    /// An S3 source's rows: the manifest's files, parsed by the data set's (or the manifest's)
    /// upload settings.
    fn read_s3_source(&self, source_arn: &str, s3_source: &Value) -> Result<Table, String> {
        let id = source_arn.rsplit('/').next().unwrap_or_default();
        let ds = self.data_source(id).map_err(|e| e.to_aws().message)?;
        let manifest = self.manifest(ds.get("DataSourceParameters").unwrap_or(&Value::Null))?;
        let files: Vec<Vec<u8>> = self.manifest_files(&manifest)?.iter().map(|(b, k)| self.read_object(b, k).map(|x| x.to_vec())).collect::<Result<_, _>>()?;
        let settings = s3_source.get("UploadSettings").cloned().or_else(|| manifest.get("globalUploadSettings").cloned()).unwrap_or_default();
        let cols: Vec<(String, String)> = s3_source.get("InputColumns").and_then(Value::as_array).into_iter().flatten().filter_map(|c| Some((c.get("Name")?.as_str()?.to_string(), c.get("Type").and_then(Value::as_str).unwrap_or("STRING").to_string()))).collect();
        let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
        let rows = dataset::parse_files(&files, &settings, &names)?;
        Ok(Table::from_rows(cols, rows))
    }

    /// DescribeDataSource.
    pub fn data_source(&self, id: &str) -> QsResult<Value> {
        self.state.lock().sources.get(id).cloned().ok_or_else(|| not_found("DataSource", id))
    }

    /// ListDataSources.
    pub fn data_sources(&self) -> Vec<Value> {
        self.state.lock().sources.values().cloned().collect()
    }

    /// DeleteDataSource.
    pub fn delete_data_source(&self, id: &str) -> QsResult<Value> {
        let doc = self.state.lock().sources.remove(id).ok_or_else(|| not_found("DataSource", id))?;
        self.forget("source", id)?;
        Ok(json!({"Arn": doc.get("Arn"), "DataSourceId": id}))
    }

    // ------------------------------------------------------------------ data sets

    /// CreateDataSet (or UpdateDataSet when `update`): checks the tables and transforms by
    /// planning the query, and for SPICE starts an ingestion, as QuickSight does.
    pub fn put_data_set(self: &Arc<Self>, account: &str, id: &str, input: &Value, update: bool) -> QsResult<Value> {
        let name = input.get("Name").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("Name is required".into()))?;
        let arn = self.arn(account, "dataset", id);
        let exists = self.state.lock().data_sets.contains_key(id);
        if exists && !update {
            return Err(QsError::ResourceExists(format!("DataSet {arn} already exists.")));
        }
        if !exists && update {
            return Err(not_found("DataSet", id));
        }
        let mode = input.get("ImportMode").and_then(Value::as_str).unwrap_or("SPICE");
        if !matches!(mode, "SPICE" | "DIRECT_QUERY") {
            return Err(QsError::InvalidParameterValue(format!("ImportMode {mode} is not SPICE or DIRECT_QUERY")));
        }
        let physical = input.get("PhysicalTableMap").cloned().unwrap_or_default();
        let plan = dataset::plan(&physical, input.get("LogicalTableMap"))?;
        let source_id = plan.data_source_arn.rsplit('/').next().unwrap_or_default().to_string();
        let source = self.data_source(&source_id).map_err(|_| QsError::InvalidParameterValue(format!("The data source {} does not exist.", plan.data_source_arn)))?;
        if source.get("Status").and_then(Value::as_str) != Some("CREATION_SUCCESSFUL") {
            return Err(QsError::InvalidParameterValue(format!("The data source {} is not usable: {}", plan.data_source_arn, source.pointer("/ErrorInfo/Message").and_then(Value::as_str).unwrap_or("it failed to create"))));
        }
        let columns: Vec<Value> = match &plan.s3 {
            Some(src) => {
                if mode != "SPICE" {
                    return Err(QsError::InvalidParameterValue("Data sets on S3 sources are imported into SPICE (ImportMode SPICE).".into()));
                }
                src.get("InputColumns").and_then(Value::as_array).cloned().unwrap_or_default().iter().map(|c| json!({"Name": c.get("Name"), "Type": c.get("Type").cloned().unwrap_or(json!("STRING"))})).collect()
            }
            None => {
                let probe = self.athena.run_sql(&format!("SELECT * FROM ({}) AS firelocal_probe LIMIT 0", plan.sql), &plan.database).map_err(|e| QsError::InvalidParameterValue(format!("The data set's query failed: {e}")))?;
                probe.columns.iter().map(|c| json!({"Name": c.name, "Type": dataset::qs_type(&c.ty)})).collect()
            }
        };
        let now = now_millis();
        let created = self.state.lock().data_sets.get(id).and_then(|d| d.doc.get("CreatedTime").cloned()).unwrap_or_else(|| now_s(now));
        let logical = input.get("LogicalTableMap").cloned().unwrap_or_else(|| {
            let pid = physical.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
            json!({ pid.clone(): {"Alias": name, "Source": {"PhysicalTableId": pid}} })
        });
        let doc = json!({
            "Arn": arn, "DataSetId": id, "Name": name, "CreatedTime": created, "LastUpdatedTime": now_s(now),
            "PhysicalTableMap": physical, "LogicalTableMap": logical, "OutputColumns": columns, "ImportMode": mode,
            "ConsumedSpiceCapacityInBytes": 0,
        });
        let record = DataSet { doc, plan, spice: mode == "SPICE" };
        self.save("dataset", id, serde_json::to_value(&record).unwrap_or_default())?;
        {
            let mut s = self.state.lock();
            s.data_sets.insert(id.to_string(), record);
            s.snapshots.remove(id);
        }
        let mut out = json!({"Arn": arn, "DataSetId": id});
        if mode == "SPICE" {
            let ingestion = uuid::Uuid::new_v4().to_string();
            let started = self.create_ingestion(account, id, &ingestion, if update { "EDIT" } else { "INITIAL_INGESTION" })?;
            out["IngestionArn"] = started["Arn"].clone();
            out["IngestionId"] = json!(ingestion);
        }
        Ok(out)
    }

    /// DescribeDataSet.
    pub fn data_set(&self, id: &str) -> QsResult<Value> {
        let s = self.state.lock();
        let d = s.data_sets.get(id).ok_or_else(|| not_found("DataSet", id))?;
        let mut doc = d.doc.clone();
        if let Some(t) = s.snapshots.get(id) {
            doc["ConsumedSpiceCapacityInBytes"] = json!(t.bytes());
        }
        Ok(doc)
    }

    /// ListDataSets (summaries).
    pub fn data_sets(&self) -> Vec<Value> {
        self.state
            .lock()
            .data_sets
            .values()
            .map(|d| {
                let doc = &d.doc;
                json!({"Arn": doc["Arn"], "DataSetId": doc["DataSetId"], "Name": doc["Name"], "CreatedTime": doc["CreatedTime"], "LastUpdatedTime": doc["LastUpdatedTime"], "ImportMode": doc["ImportMode"]})
            })
            .collect()
    }

    /// DeleteDataSet.
    pub fn delete_data_set(&self, id: &str) -> QsResult<Value> {
        let d = {
            let mut s = self.state.lock();
            s.snapshots.remove(id);
            s.ingestions.remove(id);
            s.data_sets.remove(id).ok_or_else(|| not_found("DataSet", id))?
        };
        self.forget("dataset", id)?;
        Ok(json!({"Arn": d.doc["Arn"], "DataSetId": id}))
    }

    // ------------------------------------------------------------------ SPICE

    /// CreateIngestion: snapshots the data set's rows on a thread of its own; the snapshot is what
    /// SPICE dashboards show until the next ingestion.
    pub fn create_ingestion(self: &Arc<Self>, account: &str, data_set: &str, id: &str, request_type: &str) -> QsResult<Value> {
        let arn = format!("{}/ingestion/{id}", self.arn(account, "dataset", data_set));
        let cancel = Arc::new(AtomicBool::new(false));
        let plan = {
            let mut s = self.state.lock();
            let d = s.data_sets.get(data_set).ok_or_else(|| not_found("DataSet", data_set))?;
            if !d.spice {
                return Err(QsError::InvalidParameterValue(format!("The data set {data_set} queries directly (DIRECT_QUERY); only SPICE data sets are ingested.")));
            }
            let plan = d.plan.clone();
            let list = s.ingestions.entry(data_set.to_string()).or_default();
            if list.iter().any(|i| i.id == id) {
                return Err(QsError::ResourceExists(format!("Ingestion {id} already exists.")));
            }
            if list.iter().any(|i| matches!(i.status, "INITIALIZED" | "QUEUED" | "RUNNING")) {
                return Err(QsError::Conflict(format!("An ingestion is already running for the data set {data_set}.")));
            }
            list.push(Ingestion { id: id.to_string(), arn: arn.clone(), status: "INITIALIZED", created_ms: now_millis(), finished_ms: None, rows: 0, bytes: 0, error: None, request_type: request_type.to_string(), cancel: cancel.clone() });
            plan
        };
        let me = self.clone();
        let (ds, ing) = (data_set.to_string(), id.to_string());
        let spawned = std::thread::Builder::new().name(format!("spice-{id}")).stack_size(64 << 20).spawn(move || me.ingest(&ds, &ing, &plan, &cancel));
        if let Err(e) = spawned {
            self.finish(data_set, id, Err(("INTERNAL_SERVICE_ERROR".into(), format!("could not start the ingestion: {e}"))));
        }
        Ok(json!({"Arn": arn, "IngestionId": id, "IngestionStatus": "INITIALIZED"}))
    }

    fn ingest(&self, data_set: &str, id: &str, plan: &Plan, cancel: &AtomicBool) {
        self.set_ingestion(data_set, id, |i| i.status = "RUNNING");
        let outcome = match &plan.s3 {
            Some(src) => self.read_s3_source(&plan.data_source_arn, src).map_err(|e| ("S3_FILE_INACCESSIBLE".to_string(), e)),
            None => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.athena.run_sql(&plan.sql, &plan.database)))
                .unwrap_or_else(|_| Err(firelocal_sql::SqlError::new("GENERIC_INTERNAL_ERROR", "the query engine failed unexpectedly")))
                .map(|r| Table::from_rows(r.columns.iter().map(|c| (c.name.clone(), dataset::qs_type(&c.ty).to_string())).collect(), r.rows))
                .map_err(|e| ("SQL_EXCEPTION".to_string(), e.to_string())),
        };
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        self.finish(data_set, id, outcome);
    }

    fn set_ingestion(&self, data_set: &str, id: &str, f: impl FnOnce(&mut Ingestion)) {
        if let Some(i) = self.state.lock().ingestions.get_mut(data_set).and_then(|l| l.iter_mut().find(|i| i.id == id)) {
            f(i);
        }
    }

    fn finish(&self, data_set: &str, id: &str, outcome: Result<Table, (String, String)>) {
        let mut s = self.state.lock();
        let done = now_millis();
        // A data set deleted (or an ingestion cancelled) meanwhile keeps no snapshot.
        let live = s.ingestions.get(data_set).and_then(|l| l.iter().find(|i| i.id == id)).is_some_and(|i| i.status != "CANCELLED");
        if !live {
            return;
        }
        match outcome {
            Ok(table) => {
                let (rows, bytes) = (table.rows as u64, table.bytes());
                s.snapshots.insert(data_set.to_string(), Arc::new(table));
                if let Some(i) = s.ingestions.get_mut(data_set).and_then(|l| l.iter_mut().find(|i| i.id == id)) {
                    i.status = "COMPLETED";
                    i.rows = rows;
                    i.bytes = bytes;
                    i.finished_ms = Some(done);
                }
            }
            Err(e) => {
                if let Some(i) = s.ingestions.get_mut(data_set).and_then(|l| l.iter_mut().find(|i| i.id == id)) {
                    i.status = "FAILED";
                    i.error = Some(e);
                    i.finished_ms = Some(done);
                }
            }
        }
    }

    fn ingestion_doc(i: &Ingestion) -> Value {
        let mut v = json!({
            "Arn": i.arn, "IngestionId": i.id, "IngestionStatus": i.status, "CreatedTime": now_s(i.created_ms),
            "RequestSource": "MANUAL", "RequestType": i.request_type,
        });
        if i.status == "COMPLETED" {
            v["RowInfo"] = json!({"RowsIngested": i.rows, "RowsDropped": 0, "TotalRowsInDataset": i.rows});
            v["IngestionSizeInBytes"] = json!(i.bytes);
        }
        if let Some(done) = i.finished_ms {
            v["IngestionTimeInSeconds"] = json!((done - i.created_ms) / 1000);
        }
        if let Some((t, m)) = &i.error {
            v["ErrorInfo"] = json!({"Type": t, "Message": m});
        }
        v
    }

    /// DescribeIngestion.
    pub fn ingestion(&self, data_set: &str, id: &str) -> QsResult<Value> {
        let s = self.state.lock();
        s.ingestions.get(data_set).and_then(|l| l.iter().find(|i| i.id == id)).map(Self::ingestion_doc).ok_or_else(|| not_found("Ingestion", id))
    }

    /// ListIngestions (newest first).
    pub fn ingestions(&self, data_set: &str) -> QsResult<Vec<Value>> {
        let s = self.state.lock();
        if !s.data_sets.contains_key(data_set) {
            return Err(not_found("DataSet", data_set));
        }
        Ok(s.ingestions.get(data_set).map(|l| l.iter().rev().map(Self::ingestion_doc).collect()).unwrap_or_default())
    }

    /// CancelIngestion.
    pub fn cancel_ingestion(&self, data_set: &str, id: &str) -> QsResult<Value> {
        let mut s = self.state.lock();
        let i = s.ingestions.get_mut(data_set).and_then(|l| l.iter_mut().find(|i| i.id == id)).ok_or_else(|| not_found("Ingestion", id))?;
        if !matches!(i.status, "INITIALIZED" | "QUEUED" | "RUNNING") {
            return Err(QsError::InvalidParameterValue(format!("Ingestion {id} is {} and cannot be cancelled.", i.status)));
        }
        i.cancel.store(true, Ordering::Relaxed);
        i.status = "CANCELLED";
        i.finished_ms = Some(now_millis());
        Ok(json!({"Arn": i.arn, "IngestionId": id}))
    }

    // ------------------------------------------------------------------ dashboards

    /// Checks a definition; `Err` is InvalidParameterValue naming the visual and field, `Ok`
    /// the version's status, errors and data set ARNs (a declared data set that does not exist
    /// makes the version CREATION_FAILED with a DATA_SET_NOT_FOUND error, as QuickSight does).
    fn check_definition(&self, definition: &Value) -> QsResult<(String, Vec<Value>, Vec<String>)> {
        let decls = definition.get("DataSetIdentifierDeclarations").and_then(Value::as_array).cloned().unwrap_or_default();
        if decls.is_empty() {
            return Err(QsError::InvalidParameterValue("Definition.DataSetIdentifierDeclarations must declare at least one data set".into()));
        }
        let s = self.state.lock();
        let mut columns: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let (mut errors, mut arns) = (Vec::new(), Vec::new());
        for d in &decls {
            let (Some(ident), Some(arn)) = (d.get("Identifier").and_then(Value::as_str), d.get("DataSetArn").and_then(Value::as_str)) else {
                return Err(QsError::InvalidParameterValue("each DataSetIdentifierDeclaration needs an Identifier and a DataSetArn".into()));
            };
            arns.push(arn.to_string());
            let id = arn.rsplit('/').next().unwrap_or_default();
            match s.data_sets.get(id) {
                Some(ds) => {
                    let cols = ds.doc.get("OutputColumns").and_then(Value::as_array).map(|a| a.iter().filter_map(|c| Some((c.get("Name")?.as_str()?.to_string(), c.get("Type")?.as_str()?.to_string()))).collect()).unwrap_or_default();
                    columns.insert(ident.to_string(), cols);
                }
                None => errors.push(json!({"Type": "DATA_SET_NOT_FOUND", "Message": format!("The data set {arn} does not exist."), "ViolatedEntities": [{"Path": format!("DataSetIdentifierDeclarations/{ident}")}]})),
            }
        }
        drop(s);
        if !errors.is_empty() {
            return Ok(("CREATION_FAILED".into(), errors, arns));
        }
        visual::validate(definition, &columns).map_err(QsError::InvalidParameterValue)?;
        Ok(("CREATION_SUCCESSFUL".into(), Vec::new(), arns))
    }

    /// CreateDashboard (version 1, published) or UpdateDashboard (the next version, published
    /// by UpdateDashboardPublishedVersion).
    pub fn put_dashboard(&self, account: &str, id: &str, input: &Value, update: bool) -> QsResult<Value> {
        let name = input.get("Name").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("Name is required".into()))?;
        let definition = self.source_definition(input)?;
        let (status, errors, arns) = self.check_definition(&definition)?;
        let arn = self.arn(account, "dashboard", id);
        let now = now_millis();
        let mut s = self.state.lock();
        let d = match (s.dashboards.get_mut(id), update) {
            (Some(_), false) => return Err(QsError::ResourceExists(format!("Dashboard {arn} already exists."))),
            (None, true) => return Err(not_found("Dashboard", id)),
            (Some(d), true) => d,
            (None, false) => s.dashboards.entry(id.to_string()).or_insert(Dashboard {
                id: id.into(),
                name: name.into(),
                arn: arn.clone(),
                created_ms: now,
                updated_ms: now,
                published: 0,
                published_ms: now,
                versions: Vec::new(),
                permissions: input.get("Permissions").and_then(Value::as_array).cloned().unwrap_or_default(),
            }),
        };
        let number = d.versions.len() as u64 + 1;
        d.versions.push(Version { number, status: status.clone(), errors, definition, description: input.get("VersionDescription").and_then(Value::as_str).map(str::to_string), created_ms: now, data_set_arns: arns });
        d.name = name.to_string();
        d.updated_ms = now;
        if !update && status == "CREATION_SUCCESSFUL" {
            d.published = number;
            d.published_ms = now;
        }
        let doc = serde_json::to_value(&*d).unwrap_or_default();
        drop(s);
        self.save("dashboard", id, doc)?;
        Ok(json!({"Arn": arn, "VersionArn": format!("{arn}/version/{number}"), "DashboardId": id, "CreationStatus": status}))
    }

    /// A definition from the input: `Definition`, or `SourceEntity.SourceTemplate` with its
    /// DataSetReferences filling the template's placeholders.
    fn source_definition(&self, input: &Value) -> QsResult<Value> {
        if let Some(d) = input.get("Definition") {
            return Ok(d.clone());
        }
        let Some(src) = input.pointer("/SourceEntity/SourceTemplate") else {
            return Err(QsError::InvalidParameterValue("Definition or SourceEntity.SourceTemplate is required".into()));
        };
        let arn = src.get("Arn").and_then(Value::as_str).unwrap_or_default();
        let tid = arn.rsplit('/').next().unwrap_or_default();
        let template = self.state.lock().templates.get(tid).cloned().ok_or_else(|| QsError::InvalidParameterValue(format!("The template {arn} does not exist.")))?;
        let mut def = Self::version(&template, None)?.definition.clone();
        let refs = src.get("DataSetReferences").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut decls = Vec::new();
        for p in def.get("DataSetConfigurations").and_then(Value::as_array).cloned().unwrap_or_default() {
            let ph = p.get("Placeholder").and_then(Value::as_str).unwrap_or_default();
            let r = refs.iter().find(|r| r.get("DataSetPlaceholder").and_then(Value::as_str) == Some(ph)).ok_or_else(|| QsError::InvalidParameterValue(format!("DataSetReferences does not fill the template's placeholder {ph}")))?;
            decls.push(json!({"Identifier": ph, "DataSetArn": r.get("DataSetArn")}));
        }
        if let Some(o) = def.as_object_mut() {
            o.remove("DataSetConfigurations");
            o.insert("DataSetIdentifierDeclarations".into(), json!(decls));
        }
        Ok(def)
    }

    fn dashboard_rec(&self, id: &str) -> QsResult<Dashboard> {
        self.state.lock().dashboards.get(id).cloned().ok_or_else(|| not_found("Dashboard", id))
    }

    fn version<'a>(d: &'a Dashboard, number: Option<u64>) -> QsResult<&'a Version> {
        let n = number.unwrap_or(if d.published > 0 { d.published } else { d.versions.len() as u64 });
        d.versions.iter().find(|v| v.number == n).ok_or_else(|| not_found("Dashboard version", &n.to_string()))
    }

    /// DescribeDashboard.
    pub fn dashboard(&self, id: &str, number: Option<u64>) -> QsResult<Value> {
        let d = self.dashboard_rec(id)?;
        let v = Self::version(&d, number)?;
        let sheets: Vec<Value> = v.definition.get("Sheets").and_then(Value::as_array).into_iter().flatten().map(|s| json!({"SheetId": s.get("SheetId"), "Name": s.get("Name")})).collect();
        Ok(json!({
            "DashboardId": d.id, "Arn": d.arn, "Name": d.name, "CreatedTime": now_s(d.created_ms), "LastUpdatedTime": now_s(d.updated_ms), "LastPublishedTime": now_s(d.published_ms),
            "Version": {"CreatedTime": now_s(v.created_ms), "Errors": v.errors, "VersionNumber": v.number, "Status": v.status, "Arn": format!("{}/version/{}", d.arn, v.number),
                        "DataSetArns": v.data_set_arns, "Description": v.description, "Sheets": sheets},
        }))
    }

    /// DescribeDashboardDefinition.
    pub fn dashboard_definition(&self, id: &str, number: Option<u64>) -> QsResult<Value> {
        let d = self.dashboard_rec(id)?;
        let v = Self::version(&d, number)?;
        Ok(json!({"DashboardId": d.id, "Name": d.name, "Errors": v.errors, "ResourceStatus": v.status, "Definition": v.definition}))
    }

    /// ListDashboards.
    pub fn dashboards(&self) -> Vec<Value> {
        self.state
            .lock()
            .dashboards
            .values()
            .map(|d| json!({"Arn": d.arn, "DashboardId": d.id, "Name": d.name, "CreatedTime": now_s(d.created_ms), "LastUpdatedTime": now_s(d.updated_ms), "PublishedVersionNumber": d.published, "LastPublishedTime": now_s(d.published_ms)}))
            .collect()
    }

    /// ListDashboardVersions.
    pub fn dashboard_versions(&self, id: &str) -> QsResult<Vec<Value>> {
        let d = self.dashboard_rec(id)?;
        Ok(d.versions.iter().map(|v| json!({"Arn": format!("{}/version/{}", d.arn, v.number), "CreatedTime": now_s(v.created_ms), "VersionNumber": v.number, "Status": v.status, "Description": v.description})).collect())
    }

    /// UpdateDashboardPublishedVersion.
    pub fn publish(&self, id: &str, number: u64) -> QsResult<Value> {
        let mut s = self.state.lock();
        let d = s.dashboards.get_mut(id).ok_or_else(|| not_found("Dashboard", id))?;
        let v = d.versions.iter().find(|v| v.number == number).ok_or_else(|| not_found("Dashboard version", &number.to_string()))?;
        if v.status != "CREATION_SUCCESSFUL" {
            return Err(QsError::InvalidParameterValue(format!("Version {number} is {} and cannot be published.", v.status)));
        }
        d.published = number;
        d.published_ms = now_millis();
        let (arn, doc) = (d.arn.clone(), serde_json::to_value(&*d).unwrap_or_default());
        drop(s);
        self.save("dashboard", id, doc)?;
        Ok(json!({"DashboardId": id, "DashboardArn": arn}))
    }

    /// DescribeDashboardPermissions.
    pub fn dashboard_permissions(&self, id: &str) -> QsResult<Value> {
        let d = self.dashboard_rec(id)?;
        Ok(json!({"DashboardId": d.id, "DashboardArn": d.arn, "Permissions": d.permissions}))
    }

    /// UpdateDashboardPermissions: GrantPermissions add actions, RevokePermissions remove them.
    pub fn update_dashboard_permissions(&self, id: &str, input: &Value) -> QsResult<Value> {
        let mut s = self.state.lock();
        let d = s.dashboards.get_mut(id).ok_or_else(|| not_found("Dashboard", id))?;
        let mut by: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        let add = |by: &mut BTreeMap<String, std::collections::BTreeSet<String>>, list: &[Value], grant: bool| {
            for p in list {
                let Some(principal) = p.get("Principal").and_then(Value::as_str) else { continue };
                let actions = p.get("Actions").and_then(Value::as_array).cloned().unwrap_or_default();
                let set = by.entry(principal.to_string()).or_default();
                for a in actions.iter().filter_map(Value::as_str) {
                    if grant {
                        set.insert(a.to_string());
                    } else {
                        set.remove(a);
                    }
                }
            }
        };
        add(&mut by, &d.permissions.clone(), true);
        add(&mut by, input.get("GrantPermissions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default(), true);
        add(&mut by, input.get("RevokePermissions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default(), false);
        d.permissions = by.into_iter().filter(|(_, a)| !a.is_empty()).map(|(p, a)| json!({"Principal": p, "Actions": a})).collect();
        let (arn, perms, doc) = (d.arn.clone(), d.permissions.clone(), serde_json::to_value(&*d).unwrap_or_default());
        drop(s);
        self.save("dashboard", id, doc)?;
        Ok(json!({"DashboardId": id, "DashboardArn": arn, "Permissions": perms}))
    }

    // ------------------------------------------------------------------ analyses and templates

    /// CreateAnalysis / UpdateAnalysis (`kind` "analysis") or CreateTemplate / UpdateTemplate
    /// ("template"; from a Definition with DataSetConfigurations, or from an analysis whose
    /// data sets DataSetReferences turn into placeholders).
    pub fn put_asset(&self, account: &str, kind: &str, id: &str, input: &Value, update: bool) -> QsResult<Value> {
        let name = input.get("Name").and_then(Value::as_str).unwrap_or(id).to_string();
        let (definition, status, errors, arns) = if kind == "analysis" {
            let def = self.source_definition(input)?;
            let (st, errs, arns) = self.check_definition(&def)?;
            (def, st, errs, arns)
        } else {
            let def = match (input.get("Definition"), input.pointer("/SourceEntity/SourceAnalysis")) {
                (Some(d), _) => d.clone(),
                (None, Some(src)) => self.template_from_analysis(src)?,
                _ => return Err(QsError::InvalidParameterValue("Definition or SourceEntity.SourceAnalysis is required".into())),
            };
            if def.get("DataSetConfigurations").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                return Err(QsError::InvalidParameterValue("A template's Definition needs DataSetConfigurations (its data set placeholders)".into()));
            }
            (def, "CREATION_SUCCESSFUL".to_string(), Vec::new(), Vec::new())
        };
        let arn = self.arn(account, kind, id);
        let now = now_millis();
        let label = if kind == "analysis" { "Analysis" } else { "Template" };
        let mut s = self.state.lock();
        let map = if kind == "analysis" { &mut s.analyses } else { &mut s.templates };
        let a = match (map.get_mut(id), update) {
            (Some(_), false) => return Err(QsError::ResourceExists(format!("{label} {arn} already exists."))),
            (None, true) => return Err(not_found(label, id)),
            (Some(a), true) => a,
            (None, false) => map.entry(id.to_string()).or_insert(Dashboard { id: id.into(), name: name.clone(), arn: arn.clone(), created_ms: now, updated_ms: now, published: 0, published_ms: now, versions: Vec::new(), permissions: Vec::new() }),
        };
        if kind == "analysis" {
            a.versions.clear();
        }
        let number = a.versions.len() as u64 + 1;
        a.versions.push(Version { number, status: status.clone(), errors, definition, description: input.get("VersionDescription").and_then(Value::as_str).map(str::to_string), created_ms: now, data_set_arns: arns });
        a.name = name;
        a.updated_ms = now;
        a.published = number;
        let doc = serde_json::to_value(&*a).unwrap_or_default();
        drop(s);
        self.save(kind, id, doc)?;
        let id_key = if kind == "analysis" { "AnalysisId" } else { "TemplateId" };
        let mut out = json!({"Arn": arn, id_key: id, "CreationStatus": status});
        if kind == "template" {
            out["VersionArn"] = json!(format!("{arn}/version/{number}"));
        }
        Ok(out)
    }

    /// A template definition from an analysis: its data set identifiers become placeholders.
    fn template_from_analysis(&self, src: &Value) -> QsResult<Value> {
        let arn = src.get("Arn").and_then(Value::as_str).unwrap_or_default();
        let aid = arn.rsplit('/').next().unwrap_or_default();
        let analysis = self.state.lock().analyses.get(aid).cloned().ok_or_else(|| QsError::InvalidParameterValue(format!("The analysis {arn} does not exist.")))?;
        let mut def = Self::version(&analysis, None)?.definition.clone();
        let decls = def.get("DataSetIdentifierDeclarations").and_then(Value::as_array).cloned().unwrap_or_default();
        let refs = src.get("DataSetReferences").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut rename: BTreeMap<String, String> = BTreeMap::new();
        let mut configs = Vec::new();
        for d in &decls {
            let (Some(ident), Some(ds)) = (d.get("Identifier").and_then(Value::as_str), d.get("DataSetArn").and_then(Value::as_str)) else { continue };
            let r = refs.iter().find(|r| r.get("DataSetArn").and_then(Value::as_str) == Some(ds)).ok_or_else(|| QsError::InvalidParameterValue(format!("DataSetReferences has no placeholder for the data set {ds}")))?;
            let ph = r.get("DataSetPlaceholder").and_then(Value::as_str).unwrap_or(ident).to_string();
            configs.push(json!({"Placeholder": ph}));
            rename.insert(ident.to_string(), ph);
        }
        fn walk(v: &mut Value, rename: &BTreeMap<String, String>) {
            match v {
                Value::Object(o) => {
                    for (k, x) in o.iter_mut() {
                        if k == "DataSetIdentifier"
                            && let Some(new) = x.as_str().and_then(|s| rename.get(s))
                        {
                            *x = json!(new);
                        } else {
                            walk(x, rename);
                        }
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(|x| walk(x, rename)),
                _ => {}
            }
        }
        walk(&mut def, &rename);
        if let Some(o) = def.as_object_mut() {
            o.remove("DataSetIdentifierDeclarations");
            o.insert("DataSetConfigurations".into(), json!(configs));
        }
        Ok(def)
    }

    fn asset(&self, kind: &str, id: &str) -> QsResult<Dashboard> {
        let s = self.state.lock();
        let map = if kind == "analysis" { &s.analyses } else { &s.templates };
        map.get(id).cloned().ok_or_else(|| not_found(if kind == "analysis" { "Analysis" } else { "Template" }, id))
    }

    /// DescribeAnalysis / DescribeTemplate.
    pub fn describe_asset(&self, kind: &str, id: &str) -> QsResult<Value> {
        let a = self.asset(kind, id)?;
        let v = Self::version(&a, None)?;
        let sheets: Vec<Value> = v.definition.get("Sheets").and_then(Value::as_array).into_iter().flatten().map(|s| json!({"SheetId": s.get("SheetId"), "Name": s.get("Name")})).collect();
        Ok(if kind == "analysis" {
            json!({"Analysis": {"AnalysisId": a.id, "Arn": a.arn, "Name": a.name, "Status": v.status, "Errors": v.errors, "DataSetArns": v.data_set_arns, "CreatedTime": now_s(a.created_ms), "LastUpdatedTime": now_s(a.updated_ms), "Sheets": sheets}})
        } else {
            json!({"Template": {"TemplateId": a.id, "Arn": a.arn, "Name": a.name, "CreatedTime": now_s(a.created_ms), "LastUpdatedTime": now_s(a.updated_ms),
                "Version": {"VersionNumber": v.number, "Status": v.status, "Errors": v.errors, "Sheets": sheets, "CreatedTime": now_s(v.created_ms), "Description": v.description,
                            "DataSetConfigurations": v.definition.get("DataSetConfigurations")}}})
        })
    }

    /// DescribeAnalysisDefinition / DescribeTemplateDefinition.
    pub fn asset_definition(&self, kind: &str, id: &str) -> QsResult<Value> {
        let a = self.asset(kind, id)?;
        let v = Self::version(&a, None)?;
        let id_key = if kind == "analysis" { "AnalysisId" } else { "TemplateId" };
        Ok(json!({id_key: a.id, "Name": a.name, "Errors": v.errors, "ResourceStatus": v.status, "Definition": v.definition}))
    }

    /// ListAnalyses / ListTemplates.
    pub fn list_assets(&self, kind: &str) -> Vec<Value> {
        let s = self.state.lock();
        let map = if kind == "analysis" { &s.analyses } else { &s.templates };
        let id_key = if kind == "analysis" { "AnalysisId" } else { "TemplateId" };
        map.values().map(|a| json!({"Arn": a.arn, id_key: a.id, "Name": a.name, "CreatedTime": now_s(a.created_ms), "LastUpdatedTime": now_s(a.updated_ms), "LatestVersionNumber": a.published})).collect()
    }

    /// DeleteAnalysis / DeleteTemplate.
    pub fn delete_asset(&self, kind: &str, id: &str) -> QsResult<Value> {
        let a = {
            let mut s = self.state.lock();
            let map = if kind == "analysis" { &mut s.analyses } else { &mut s.templates };
            map.remove(id).ok_or_else(|| not_found(if kind == "analysis" { "Analysis" } else { "Template" }, id))?
        };
        self.forget(kind, id)?;
        let id_key = if kind == "analysis" { "AnalysisId" } else { "TemplateId" };
        Ok(json!({"Arn": a.arn, id_key: id}))
    }

    /// DeleteDashboard.
    pub fn delete_dashboard(&self, id: &str) -> QsResult<Value> {
        let d = self.state.lock().dashboards.remove(id).ok_or_else(|| not_found("Dashboard", id))?;
        self.forget("dashboard", id)?;
        Ok(json!({"Arn": d.arn, "DashboardId": id}))
    }

    /// The numbers behind one visual of a dashboard's published version: from the SPICE
    /// snapshot, or a live query for DIRECT_QUERY data sets.
    pub fn visual_data(&self, dashboard: &str, visual_id: &str) -> QsResult<visual::Data> {
        let d = self.dashboard_rec(dashboard)?;
        let v = Self::version(&d, None)?;
        let (sheet, vis) = visual::visuals(&v.definition).into_iter().find(|(_, x)| visual::visual_id(x).as_deref() == Some(visual_id)).ok_or_else(|| not_found("Visual", visual_id))?;
        let ident = visual::data_set_of(&vis).ok_or_else(|| QsError::InvalidParameterValue(format!("Visual {visual_id} reads no field")))?;
        let arn = v
            .definition
            .get("DataSetIdentifierDeclarations")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|x| x.get("Identifier").and_then(Value::as_str) == Some(&ident)))
            .and_then(|x| x.get("DataSetArn").and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        let ds_id = arn.rsplit('/').next().unwrap_or_default().to_string();
        let (spice, plan, snapshot) = {
            let s = self.state.lock();
            let ds = s.data_sets.get(&ds_id).ok_or_else(|| not_found("DataSet", &ds_id))?;
            (ds.spice, ds.plan.clone(), s.snapshots.get(&ds_id).cloned())
        };
        let table = if spice {
            snapshot.ok_or_else(|| QsError::Conflict(format!("The SPICE data set {ds_id} has no completed ingestion yet.")))?
        } else {
            // Live: let the engine aggregate when the visual has an SQL form.
            if let Some((sql, rebuild)) = visual::pushdown(&v.definition, &sheet, &vis, &plan.sql) {
                let r = self.athena.run_sql(&sql, &plan.database).map_err(|e| QsError::InvalidParameterValue(format!("The visual's query failed: {e}")))?;
                return Ok(rebuild(r.rows));
            }
            let r = self.athena.run_sql(&plan.sql, &plan.database).map_err(|e| QsError::InvalidParameterValue(format!("The data set's query failed: {e}")))?;
            Arc::new(Table::from_rows(r.columns.iter().map(|c| (c.name.clone(), dataset::qs_type(&c.ty).to_string())).collect(), r.rows))
        };
        visual::compute(&v.definition, &sheet, &vis, &table).map_err(QsError::InvalidParameterValue)
    }
}

impl QuickSight {
    // ------------------------------------------------------------------ users and embedding

    /// RegisterUser (in a namespace; `default` is the one QuickSight starts with).
    pub fn register_user(&self, account: &str, namespace: &str, input: &Value) -> QsResult<Value> {
        let identity = input.get("IdentityType").and_then(Value::as_str).unwrap_or("QUICKSIGHT");
        let name = match identity {
            "IAM" => {
                let iam_arn = input.get("IamArn").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("IamArn is required for IAM users".into()))?;
                let base = iam_arn.rsplit('/').next().unwrap_or(iam_arn);
                match input.get("SessionName").and_then(Value::as_str) {
                    Some(s) => format!("{base}/{s}"),
                    None => base.to_string(),
                }
            }
            _ => input.get("UserName").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("UserName is required".into()))?.to_string(),
        };
        let role = input.get("UserRole").and_then(Value::as_str).unwrap_or("READER");
        if !["ADMIN", "AUTHOR", "READER", "RESTRICTED_AUTHOR", "RESTRICTED_READER", "ADMIN_PRO", "AUTHOR_PRO", "READER_PRO"].contains(&role) {
            return Err(QsError::InvalidParameterValue(format!("UserRole {role} is not a QuickSight role")));
        }
        let arn = format!("arn:aws:quicksight:{}:{account}:user/{namespace}/{name}", self.region);
        let user = json!({"Arn": arn, "UserName": name, "Email": input.get("Email"), "Role": role, "IdentityType": identity, "Active": true, "PrincipalId": format!("federated/iam/{}", uuid::Uuid::new_v4().simple())});
        {
            let mut s = self.state.lock();
            if s.users.contains_key(&arn) {
                return Err(QsError::ResourceExists(format!("User {arn} already exists.")));
            }
            s.users.insert(arn.clone(), user.clone());
        }
        self.save("user", &arn, user.clone())?;
        Ok(json!({"User": user}))
    }

    /// DescribeUser.
    pub fn user(&self, account: &str, namespace: &str, name: &str) -> QsResult<Value> {
        let arn = format!("arn:aws:quicksight:{}:{account}:user/{namespace}/{name}", self.region);
        self.state.lock().users.get(&arn).cloned().ok_or_else(|| not_found("User", &arn))
    }

    /// ListUsers of a namespace.
    pub fn users(&self, account: &str, namespace: &str) -> Vec<Value> {
        let prefix = format!("arn:aws:quicksight:{}:{account}:user/{namespace}/", self.region);
        self.state.lock().users.iter().filter(|(a, _)| a.starts_with(&prefix)).map(|(_, u)| u.clone()).collect()
    }

    /// DeleteUser.
    pub fn delete_user(&self, account: &str, namespace: &str, name: &str) -> QsResult<()> {
        let arn = format!("arn:aws:quicksight:{}:{account}:user/{namespace}/{name}", self.region);
        self.state.lock().users.remove(&arn).ok_or_else(|| not_found("User", &arn))?;
        self.forget("user", &arn)
    }

    /// An embed URL for a dashboard: firelocal's console page for it, without navigation.
    pub fn embed_url(&self, dashboard: &str) -> QsResult<String> {
        self.dashboard_rec(dashboard)?;
        Ok(format!("{}/_firelocal/console/embed/dashboards/{}?code={}", self.endpoint, crate::protocol::url_encode(dashboard), uuid::Uuid::new_v4().simple()))
    }

    /// GenerateEmbedUrlForAnonymousUser: the dashboard must be among AuthorizedResourceArns.
    pub fn embed_anonymous(&self, account: &str, input: &Value) -> QsResult<Value> {
        let id = input.pointer("/ExperienceConfiguration/Dashboard/InitialDashboardId").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("ExperienceConfiguration.Dashboard.InitialDashboardId is required".into()))?;
        let arn = self.arn(account, "dashboard", id);
        let authorized = input.get("AuthorizedResourceArns").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x.as_str() == Some(&arn)));
        if !authorized {
            return Err(QsError::InvalidParameterValue(format!("The dashboard {arn} is not in AuthorizedResourceArns.")));
        }
        let url = self.embed_url(id)?;
        Ok(json!({"EmbedUrl": url, "AnonymousUserArn": format!("arn:aws:quicksight:{}:{account}:user/{}/anonymous", self.region, input.get("Namespace").and_then(Value::as_str).unwrap_or("default"))}))
    }

    /// GenerateEmbedUrlForRegisteredUser: the user must be registered.
    pub fn embed_registered(&self, input: &Value) -> QsResult<Value> {
        let user = input.get("UserArn").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("UserArn is required".into()))?;
        if !self.state.lock().users.contains_key(user) {
            return Err(not_found("User", user));
        }
        let id = input.pointer("/ExperienceConfiguration/Dashboard/InitialDashboardId").and_then(Value::as_str).ok_or_else(|| QsError::InvalidParameterValue("ExperienceConfiguration.Dashboard.InitialDashboardId is required (firelocal embeds dashboards)".into()))?;
        Ok(json!({"EmbedUrl": self.embed_url(id)?}))
    }
}

