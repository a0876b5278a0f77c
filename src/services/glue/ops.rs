//! Glue's operations on the catalog: validation as Glue does it (names are stored lower-case,
//! missing entities are `EntityNotFoundException`), timestamps, and the typed views
//! ([`TableDef`], [`PartitionDef`]) that Athena's engine reads.


use firelocal_sql::{PartitionDef, SqlType, TableDef};
use serde_json::{Map, Value, json};

use super::error::{GlueError, GlueResult};
use super::store::Store;
use crate::protocol::time::now_millis;

/// The account every catalog belongs to.
pub const ACCOUNT: &str = "000000000000";
/// Glue's page size when the caller gives none.
const DEFAULT_PAGE: usize = 100;

/// The Glue Data Catalog.
pub struct Glue {
    store: Store,
    pub region: String,
}

fn now_secs() -> f64 {
    now_millis() as f64 / 1000.0
}

fn name_of(v: &Value, field: &str) -> GlueResult<String> {
    let n = v.get(field).and_then(Value::as_str).ok_or_else(|| GlueError::InvalidInput(format!("{field} is required")))?;
    validate_name(n, field)?;
    Ok(n.to_ascii_lowercase())
}

/// Glue's name rule: 1-255 characters of the single-line string pattern.
fn validate_name(n: &str, field: &str) -> GlueResult<()> {
    if n.is_empty() || n.len() > 255 || n.chars().any(|c| c.is_control()) {
        return Err(GlueError::InvalidInput(format!("1 validation error detected: Value '{n}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*")));
    }
    Ok(())
}

/// One page of `items`, continuing after `token`, at most `max` (Glue's default 100).
fn page(items: Vec<Value>, token: Option<&str>, max: Option<usize>) -> GlueResult<(Vec<Value>, Option<String>)> {
    crate::protocol::json::index_page(items, token, max.unwrap_or(DEFAULT_PAGE).clamp(1, 1000)).map_err(|_| GlueError::InvalidInput("Invalid NextToken".into()))
}

impl Glue {
    /// Opens the catalog; the `default` database always exists.
    pub fn open(root: &std::sync::Arc<crate::state::Root>, region: &str) -> GlueResult<Glue> {
        let g = Glue { store: Store::open(root)?, region: region.to_string() };
        if g.store.database("default")?.is_none() {
            g.store.insert_database("default", &json!({"Name": "default", "Description": "Default Hive database", "LocationUri": "", "Parameters": {}, "CreateTime": now_secs(), "CatalogId": ACCOUNT}))?;
        }
        Ok(g)
    }

    fn require_db(&self, db: &str) -> GlueResult<Value> {
        self.store.database(&db.to_ascii_lowercase())?.ok_or_else(|| GlueError::EntityNotFound(format!("Database {db} not found.")))
    }

    // --- databases

    /// CreateDatabase from a `DatabaseInput`.
    pub fn create_database(&self, input: &Value) -> GlueResult<()> {
        let name = name_of(input, "Name")?;
        let mut doc = input.as_object().cloned().unwrap_or_default();
        doc.insert("Name".into(), json!(name));
        doc.entry("Parameters").or_insert(json!({}));
        doc.insert("CreateTime".into(), json!(now_secs()));
        doc.insert("CatalogId".into(), json!(ACCOUNT));
        if !self.store.insert_database(&name, &Value::Object(doc))? {
            return Err(GlueError::AlreadyExists("Database already exists.".into()));
        }
        Ok(())
    }

    pub fn get_database(&self, name: &str) -> GlueResult<Value> {
        self.require_db(name)
    }

    pub fn database_exists(&self, name: &str) -> bool {
        matches!(self.store.database(&name.to_ascii_lowercase()), Ok(Some(_)))
    }

    pub fn get_databases(&self, token: Option<&str>, max: Option<usize>) -> GlueResult<(Vec<Value>, Option<String>)> {
        page(self.store.databases()?, token, max)
    }

    pub fn update_database(&self, name: &str, input: &Value) -> GlueResult<()> {
        let old = self.require_db(name)?;
        let mut doc = input.as_object().cloned().unwrap_or_default();
        for k in ["CreateTime", "CatalogId"] {
            if let Some(v) = old.get(k) {
                doc.insert(k.into(), v.clone());
            }
        }
        doc.insert("Name".into(), json!(name.to_ascii_lowercase()));
        self.store.put_database(&name.to_ascii_lowercase(), &Value::Object(doc))
    }

    /// DeleteDatabase: drops its tables and partitions too, as Glue does.
    pub fn delete_database(&self, name: &str) -> GlueResult<()> {
        self.require_db(name)?;
        self.store.delete_database(&name.to_ascii_lowercase())
    }

    // --- tables

    /// CreateTable from a `TableInput`.
    pub fn create_table(&self, db: &str, input: &Value) -> GlueResult<()> {
        let db = db.to_ascii_lowercase();
        self.require_db(&db)?;
        let name = name_of(input, "Name")?;
        let doc = self.table_doc(&db, &name, input, None);
        if !self.store.insert_table(&db, &name, &doc)? {
            return Err(GlueError::AlreadyExists("Table already exists.".into()));
        }
        Ok(())
    }

    fn table_doc(&self, db: &str, name: &str, input: &Value, old: Option<&Value>) -> Value {
        let mut doc: Map<String, Value> = input.as_object().cloned().unwrap_or_default();
        doc.insert("Name".into(), json!(name));
        doc.insert("DatabaseName".into(), json!(db));
        doc.insert("CatalogId".into(), json!(ACCOUNT));
        let now = now_secs();
        doc.insert("CreateTime".into(), old.and_then(|o| o.get("CreateTime").cloned()).unwrap_or(json!(now)));
        doc.insert("UpdateTime".into(), json!(now));
        doc.insert("IsRegisteredWithLakeFormation".into(), json!(false));
        let version = old.and_then(|o| o.get("VersionId")).and_then(Value::as_str).and_then(|v| v.parse::<u64>().ok()).map(|v| v + 1).unwrap_or(0);
        doc.insert("VersionId".into(), json!(version.to_string()));
        // Glue keeps column names lower-case.
        for path in [&["PartitionKeys"][..], &["StorageDescriptor", "Columns"][..]] {
            let mut cur = doc.get_mut(path[0]);
            for p in &path[1..] {
                cur = cur.and_then(|c| c.get_mut(*p));
            }
            if let Some(Value::Array(cols)) = cur {
                for c in cols {
                    if let Some(n) = c.get("Name").and_then(Value::as_str).map(str::to_ascii_lowercase) {
                        c["Name"] = json!(n);
                    }
                }
            }
        }
        Value::Object(doc)
    }

    pub fn get_table(&self, db: &str, name: &str) -> GlueResult<Value> {
        let db = db.to_ascii_lowercase();
        self.require_db(&db)?;
        self.store.table(&db, &name.to_ascii_lowercase())?.ok_or_else(|| GlueError::EntityNotFound(format!("Table {name} not found.")))
    }

    /// GetTables, optionally filtered by a regular expression on the name.
    pub fn get_tables(&self, db: &str, expression: Option<&str>, token: Option<&str>, max: Option<usize>) -> GlueResult<(Vec<Value>, Option<String>)> {
        let db = db.to_ascii_lowercase();
        self.require_db(&db)?;
        let mut tables = self.store.tables(&db)?;
        if let Some(e) = expression.filter(|e| !e.is_empty()) {
            // Glue accepts `*` wildcards and `|` alternatives in this pattern.
            let pattern = format!("^(?:{})$", e.replace(".*", "\u{0}").replace('*', ".*").replace('\u{0}', ".*"));
            let re = regex::Regex::new(&pattern).map_err(|err| GlueError::InvalidInput(format!("Invalid Expression '{e}': {err}")))?;
            tables.retain(|t| t.get("Name").and_then(Value::as_str).is_some_and(|n| re.is_match(n)));
        }
        page(tables, token, max)
    }

    pub fn update_table(&self, db: &str, input: &Value) -> GlueResult<()> {
        let db = db.to_ascii_lowercase();
        let name = name_of(input, "Name")?;
        let old = self.get_table(&db, &name)?;
        let doc = self.table_doc(&db, &name, input, Some(&old));
        self.store.put_table(&db, &name, &doc)
    }

    pub fn delete_table(&self, db: &str, name: &str) -> GlueResult<()> {
        self.get_table(db, name)?;
        self.store.delete_table(&db.to_ascii_lowercase(), &name.to_ascii_lowercase())
    }

    /// A table as Athena's engine sees it.
    pub fn table_def(&self, db: &str, name: &str) -> GlueResult<Option<TableDef>> {
        let db = db.to_ascii_lowercase();
        match self.store.table(&db, &name.to_ascii_lowercase())? {
            None => Ok(None),
            Some(doc) => TableDef::from_glue(&db, &doc).map(Some).map_err(|e| GlueError::Internal(e.to_string())),
        }
    }

    /// Every table of a database as the engine sees them.
    pub fn table_defs(&self, db: &str) -> GlueResult<Vec<TableDef>> {
        let db = db.to_ascii_lowercase();
        Ok(self.store.tables(&db)?.iter().filter_map(|d| TableDef::from_glue(&db, d).ok()).collect())
    }

    // --- partitions

    fn partition_doc(&self, db: &str, tbl: &str, input: &Value) -> GlueResult<(Vec<String>, Value)> {
        let values: Vec<String> = input
            .get("Values")
            .and_then(Value::as_array)
            .ok_or_else(|| GlueError::InvalidInput("PartitionInput.Values is required".into()))?
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect();
        let mut doc = input.as_object().cloned().unwrap_or_default();
        doc.insert("DatabaseName".into(), json!(db));
        doc.insert("TableName".into(), json!(tbl));
        doc.insert("CatalogId".into(), json!(ACCOUNT));
        doc.insert("CreationTime".into(), json!(now_secs()));
        Ok((values, Value::Object(doc)))
    }

    fn check_arity(table: &Value, values: &[String]) -> GlueResult<()> {
        let n = table.get("PartitionKeys").and_then(Value::as_array).map_or(0, Vec::len);
        if n != values.len() {
            return Err(GlueError::InvalidInput(format!("The number of partition values ({}) does not match the number of partition keys ({n}).", values.len())));
        }
        Ok(())
    }

    pub fn create_partition(&self, db: &str, tbl: &str, input: &Value) -> GlueResult<()> {
        let t = self.get_table(db, tbl)?;
        let (db, tbl) = (db.to_ascii_lowercase(), tbl.to_ascii_lowercase());
        let (values, doc) = self.partition_doc(&db, &tbl, input)?;
        Self::check_arity(&t, &values)?;
        if !self.store.insert_partitions(&db, &tbl, &[(values, doc)], false)?[0] {
            return Err(GlueError::AlreadyExists("Partition already exists.".into()));
        }
        Ok(())
    }

    /// BatchCreatePartition: per-partition errors, the rest created.
    pub fn batch_create_partition(&self, db: &str, tbl: &str, inputs: &[Value]) -> GlueResult<Vec<Value>> {
        if inputs.len() > 100 {
            return Err(GlueError::InvalidInput("1 validation error detected: Value at 'partitionInputList' failed to satisfy constraint: Member must have length less than or equal to 100".into()));
        }
        let t = self.get_table(db, tbl)?;
        let (db, tbl) = (db.to_ascii_lowercase(), tbl.to_ascii_lowercase());
        let mut errors = Vec::new();
        let mut ok = Vec::new();
        for i in inputs {
            let (values, doc) = self.partition_doc(&db, &tbl, i)?;
            match Self::check_arity(&t, &values) {
                Ok(()) => ok.push((values, doc)),
                Err(e) => errors.push(json!({"PartitionValues": values, "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": e.to_aws().message}})),
            }
        }
        let created = self.store.insert_partitions(&db, &tbl, &ok, false)?;
        for ((values, _), new) in ok.iter().zip(created) {
            if !new {
                errors.push(json!({"PartitionValues": values, "ErrorDetail": {"ErrorCode": "AlreadyExistsException", "ErrorMessage": "Partition already exists."}}));
            }
        }
        Ok(errors)
    }

    /// Adds partitions at their locations, each with the table's storage descriptor otherwise,
    /// skipping those that exist (Athena's ADD IF NOT EXISTS, MSCK REPAIR); returns how many were new.
    pub fn add_partitions(&self, db: &str, tbl: &str, parts: &[(Vec<String>, String)]) -> GlueResult<usize> {
        let template = self.get_table(db, tbl)?.get("StorageDescriptor").cloned().unwrap_or(json!({}));
        let (db, tbl) = (db.to_ascii_lowercase(), tbl.to_ascii_lowercase());
        let docs = parts
            .iter()
            .map(|(values, location)| {
                let mut sd = template.clone();
                if let Some(o) = sd.as_object_mut() {
                    o.insert("Location".into(), json!(location));
                }
                let input = json!({"Values": values, "StorageDescriptor": sd, "Parameters": {}});
                self.partition_doc(&db, &tbl, &input)
            })
            .collect::<GlueResult<Vec<_>>>()?;
        Ok(self.store.insert_partitions(&db, &tbl, &docs, false)?.into_iter().filter(|n| *n).count())
    }

    pub fn get_partition(&self, db: &str, tbl: &str, values: &[String]) -> GlueResult<Value> {
        self.get_table(db, tbl)?;
        self.store.partition(&db.to_ascii_lowercase(), &tbl.to_ascii_lowercase(), values)?.ok_or_else(|| GlueError::EntityNotFound("Cannot find partition.".into()))
    }

    /// GetPartitions, optionally filtered by an expression over the partition keys.
    pub fn get_partitions(&self, db: &str, tbl: &str, expression: Option<&str>, token: Option<&str>, max: Option<usize>) -> GlueResult<(Vec<Value>, Option<String>)> {
        let t = self.get_table(db, tbl)?;
        let mut parts = self.store.partitions(&db.to_ascii_lowercase(), &tbl.to_ascii_lowercase())?;
        if let Some(e) = expression.filter(|e| !e.trim().is_empty()) {
            let def = TableDef::from_glue(db, &t).map_err(|e| GlueError::Internal(e.to_string()))?;
            let keys = def.partition_keys.iter().map(|c| Ok((c.name.clone(), c.sql_type().unwrap_or(SqlType::Varchar)))).collect::<GlueResult<Vec<_>>>()?;
            let defs: Vec<PartitionDef> = parts.iter().map(partition_def).collect();
            let keep = firelocal_sql::filter_partitions(&keys, &defs, e).map_err(|err| GlueError::InvalidInput(format!("Unsupported expression '{e}': {}", err.message)))?;
            let mut k = keep.into_iter();
            parts.retain(|_| k.next().unwrap_or(false));
        }
        page(parts, token, max.or(Some(1000)))
    }

    /// BatchDeletePartition: per-partition errors for those that do not exist.
    pub fn batch_delete_partition(&self, db: &str, tbl: &str, values: &[Vec<String>]) -> GlueResult<Vec<Value>> {
        self.get_table(db, tbl)?;
        let mut errors = Vec::new();
        for v in values {
            if !self.store.delete_partition(&db.to_ascii_lowercase(), &tbl.to_ascii_lowercase(), v)? {
                errors.push(json!({"PartitionValues": v, "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "Cannot find partition."}}));
            }
        }
        Ok(errors)
    }

    /// A table's partitions as the engine sees them.
    pub fn partition_defs(&self, db: &str, tbl: &str) -> GlueResult<Vec<PartitionDef>> {
        Ok(self.store.partitions(&db.to_ascii_lowercase(), &tbl.to_ascii_lowercase())?.iter().map(partition_def).collect())
    }
}

fn partition_def(p: &Value) -> PartitionDef {
    PartitionDef {
        values: p.get("Values").and_then(Value::as_array).map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default(),
        location: p.pointer("/StorageDescriptor/Location").and_then(Value::as_str).unwrap_or_default().to_string(),
    }
}
