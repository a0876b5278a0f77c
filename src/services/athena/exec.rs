//! Runs one Athena statement: Hive DDL against the Glue catalog, queries through the
//! `firelocal-sql` engine over firelocal's S3, and the result shapes Athena returns for each
//! (a header row for SELECT, Hive's layouts for SHOW and DESCRIBE, none for DDL).

use bytes::Bytes;
use firelocal_sql::catalog::{ColumnDef, TableDef, serde_names, split_s3};
use firelocal_sql::ddl::{PartitionSpec, Statement, TableName};
use firelocal_sql::scan::ScanCache;
use firelocal_sql::{Context, ObjectInfo, PartitionDef, ResultColumn, SqlError, SqlType};
use serde_json::{Value, json};

use crate::services::glue::Glue;
use crate::services::iam::authz::{Access, Guard};
use crate::services::glue::error::GlueError;
use crate::services::s3::{self, S3};

/// What a statement produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Option<String>>>,
    /// SELECT results carry the column names as their first row in GetQueryResults.
    pub header: bool,
    pub update_count: Option<i64>,
    pub bytes_scanned: u64,
}

/// Where a statement runs.
pub struct Env<'a> {
    pub glue: &'a Glue,
    pub s3: &'a S3,
    /// The database of the QueryExecutionContext (or `default`).
    pub database: String,
    pub query_id: &'a str,
    /// The output location prefix (`s3://bucket/prefix/`), for CTAS tables without a location.
    pub output_prefix: Option<String>,
    pub now_ms: i64,
    /// Decoded columns kept between queries.
    pub cache: Option<&'a ScanCache>,
    /// Set by StopQueryExecution.
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
    /// `--enforce-iam`: the query acts as its caller.
    pub guard: Option<&'a Guard>,
}

/// The engine's view of the catalog and objects.
pub struct Catalog<'a> {
    pub glue: &'a Glue,
    pub s3: &'a S3,
    pub cache: Option<&'a ScanCache>,
    /// Set by StopQueryExecution.
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
    /// `--enforce-iam`: reads act as the query's caller.
    pub guard: Option<&'a Guard>,
}

impl Catalog<'_> {
    /// Whether the caller may make one access (always, when nothing is enforced).
    fn allow(&self, access: &Access) -> Result<(), String> {
        self.guard.map_or(Ok(()), |g| g(access))
    }

    /// `glue:<action>` on the catalog, the database and the table, as Athena asks Glue.
    fn allow_glue(&self, action: &str, database: &str, table: Option<&str>) -> Result<(), String> {
        crate::services::glue::wire::catalog_access(action, &self.glue.region, Some(database), table).iter().try_for_each(|a| self.allow(a))
    }
}

impl Context for Catalog<'_> {
    fn database_exists(&self, database: &str) -> bool {
        self.glue.database_exists(database)
    }
    fn table(&self, database: &str, name: &str) -> Result<Option<TableDef>, String> {
        self.allow_glue("glue:GetTable", database, Some(name)).map_err(insufficient)?;
        self.glue.table_def(database, name).map_err(|e| e.to_aws().message)
    }
    fn partitions(&self, database: &str, name: &str) -> Result<Vec<PartitionDef>, String> {
        self.allow_glue("glue:GetPartitions", database, Some(name)).map_err(insufficient)?;
        self.glue.partition_defs(database, name).map_err(|e| e.to_aws().message)
    }
    fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, String> {
        self.allow(&Access::new("s3:ListBucket", format!("arn:aws:s3:::{bucket}")).with("s3:prefix", prefix))
            .map_err(|_| format!("Permission denied on S3 path: s3://{bucket}/{prefix}"))?;
        let mut out = Vec::new();
        let mut after: Vec<u8> = Vec::new();
        loop {
            let page = self.s3.store.list_objects(bucket, &after, prefix, 1000).map_err(|e| format!("{e:?}"))?;
            let n = page.len();
            if let Some(last) = page.last() {
                after = last.key.as_bytes().to_vec();
            }
            out.extend(page.into_iter().map(|o| ObjectInfo { key: o.key, size: o.size, etag: o.etag }));
            if n < 1000 {
                return Ok(out);
            }
        }
    }
    fn get_object(&self, bucket: &str, key: &str) -> Result<Bytes, String> {
        self.allow(&Access::new("s3:GetObject", format!("arn:aws:s3:::{bucket}/{key}")))
            .map_err(|_| "Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)".to_string())?;
        let obj = self.s3.store.object(bucket, key).map_err(|e| format!("{e:?}"))?;
        self.s3.store.map_data(&obj.data).map_err(|e| format!("{e:?}"))
    }
    fn scan_cache(&self) -> Option<&ScanCache> {
        self.cache
    }
    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Athena's words for a Glue call its caller may not make.
fn insufficient(denial: String) -> String {
    format!("Insufficient permissions to execute the query. {denial} (Service: AWSGlue; Status Code: 400; Error Code: AccessDeniedException)")
}

/// A denial that fails the query with Athena's permission error.
pub fn access_denied(message: String) -> SqlError {
    SqlError::new("PERMISSION_DENIED", message)
}

fn glue_err(e: GlueError) -> SqlError {
    let a = e.to_aws();
    SqlError::new("HIVE_METASTORE_ERROR", format!("{}: {}", a.code, a.message))
}

fn failed(message: impl Into<String>) -> SqlError {
    SqlError::new("FAILED", message)
}

fn varchar(name: &str) -> ResultColumn {
    ResultColumn { name: name.into(), ty: SqlType::Varchar }
}

fn one_col(name: &str, values: Vec<String>) -> Outcome {
    Outcome { columns: vec![varchar(name)], rows: values.into_iter().map(|v| vec![Some(v)]).collect(), ..Default::default() }
}

/// Hive's SHOW pattern: `*` wildcards, `|` alternatives, case-insensitive.
fn like_pattern(p: Option<&str>) -> Option<regex::Regex> {
    let p = p?;
    let alts: Vec<String> = p.split('|').map(|a| regex::escape(a.trim()).replace("\\*", ".*")).collect();
    regex::Regex::new(&format!("(?i)^(?:{})$", alts.join("|"))).ok()
}

impl Env<'_> {
    /// The engine's view of the catalog and objects for this statement.
    fn catalog(&self) -> Catalog<'_> {
        Catalog { glue: self.glue, s3: self.s3, cache: self.cache, cancel: self.cancel, guard: self.guard }
    }

    fn db_of(&self, n: &TableName) -> String {
        n.database.clone().unwrap_or_else(|| self.database.clone())
    }

    fn table(&self, n: &TableName) -> Result<TableDef, SqlError> {
        let db = self.db_of(n);
        self.catalog().allow_glue("glue:GetTable", &db, Some(&n.name)).map_err(|m| access_denied(insufficient(m)))?;
        if !self.glue.database_exists(&db) {
            return Err(SqlError::new("SCHEMA_NOT_FOUND", format!("Schema '{db}' does not exist")));
        }
        self.glue.table_def(&db, &n.name).map_err(glue_err)?.ok_or_else(|| SqlError::new("TABLE_NOT_FOUND", format!("Table 'awsdatacatalog.{db}.{}' does not exist", n.name)))
    }

    /// The Glue call a DDL or SHOW statement makes for its caller, checked before it runs
    /// (reads of tables and objects are checked where they happen).
    fn allow_statement(&self, stmt: &Statement) -> Result<(), SqlError> {
        let (action, db, table): (&str, String, Option<&str>) = match stmt {
            Statement::CreateDatabase { name, .. } => ("glue:CreateDatabase", name.clone(), None),
            Statement::DropDatabase { name, .. } => ("glue:DeleteDatabase", name.clone(), None),
            Statement::CreateTable { table, db, .. } => ("glue:CreateTable", db.clone().unwrap_or_else(|| self.database.clone()), Some(table.name.as_str())),
            Statement::DropTable { name, .. } | Statement::DropView { name, .. } => ("glue:DeleteTable", self.db_of(name), Some(name.name.as_str())),
            Statement::CreateView { name, .. } | Statement::Ctas { name, .. } => ("glue:CreateTable", self.db_of(name), Some(name.name.as_str())),
            Statement::MsckRepair { name } | Statement::AddPartitions { name, .. } => ("glue:BatchCreatePartition", self.db_of(name), Some(name.name.as_str())),
            Statement::DropPartitions { name, .. } => ("glue:BatchDeletePartition", self.db_of(name), Some(name.name.as_str())),
            Statement::ShowPartitions { name } => ("glue:GetPartitions", self.db_of(name), Some(name.name.as_str())),
            Statement::ShowDatabases { .. } => ("glue:GetDatabases", String::new(), None),
            Statement::ShowTables { db, .. } | Statement::ShowViews { db } => ("glue:GetTables", db.clone().unwrap_or_else(|| self.database.clone()), Some("*")),
            _ => return Ok(()),
        };
        let db = (!db.is_empty()).then_some(db.as_str());
        crate::services::glue::wire::catalog_access(action, &self.glue.region, db, table)
            .iter()
            .try_for_each(|a| self.guard.map_or(Ok(()), |g| g(a)))
            .map_err(|m| access_denied(insufficient(m)))
    }

    /// Runs one parsed statement.
    pub fn run(&self, stmt: Statement, sql: &str) -> Result<Outcome, SqlError> {
        self.allow_statement(&stmt)?;
        let ctx = self.catalog();
        match stmt {
            Statement::Query(q) => {
                let r = firelocal_sql::run_query(&q, &self.database, &ctx, self.now_ms)?;
                Ok(Outcome { columns: r.columns, rows: r.rows, header: true, update_count: Some(0), bytes_scanned: r.bytes_scanned })
            }
            Statement::CreateDatabase { name, if_not_exists, comment, location, properties } => {
                let input = json!({"Name": name, "Description": comment, "LocationUri": location, "Parameters": properties});
                match self.glue.create_database(&input) {
                    Err(GlueError::AlreadyExists(_)) if !if_not_exists => Err(failed(format!("AlreadyExistsException: Database {name} already exists"))),
                    Err(GlueError::AlreadyExists(_)) | Ok(()) => Ok(Outcome::default()),
                    Err(e) => Err(glue_err(e)),
                }
            }
            Statement::DropDatabase { name, if_exists, cascade } => {
                if !self.glue.database_exists(&name) {
                    return if if_exists { Ok(Outcome::default()) } else { Err(failed(format!("SemanticException [Error 10072]: Database does not exist: {name}"))) };
                }
                if !cascade && !self.glue.table_defs(&name).map_err(glue_err)?.is_empty() {
                    return Err(failed(format!("InvalidOperationException(message:Database {name} is not empty. One or more tables exist.)")));
                }
                self.glue.delete_database(&name).map_err(glue_err)?;
                Ok(Outcome::default())
            }
            Statement::CreateTable { mut table, db, if_not_exists } => {
                let db = db.unwrap_or_else(|| self.database.clone());
                table.database = db.clone();
                match self.glue.create_table(&db, &table.to_glue()) {
                    Err(GlueError::AlreadyExists(_)) if !if_not_exists => Err(failed(format!("AlreadyExistsException: Table {} already exists", table.name))),
                    Err(GlueError::EntityNotFound(_)) => Err(SqlError::new("SCHEMA_NOT_FOUND", format!("Schema '{db}' does not exist"))),
                    Err(GlueError::AlreadyExists(_)) | Ok(()) => Ok(Outcome::default()),
                    Err(e) => Err(glue_err(e)),
                }
            }
            Statement::DropTable { name, if_exists } | Statement::DropView { name, if_exists } => {
                let db = self.db_of(&name);
                match self.glue.table_def(&db, &name.name).map_err(glue_err)? {
                    Some(_) => {
                        self.glue.delete_table(&db, &name.name).map_err(glue_err)?;
                        Ok(Outcome::default())
                    }
                    None if if_exists => Ok(Outcome::default()),
                    None => Err(failed(format!("SemanticException [Error 10001]: Table not found {}", name.name))),
                }
            }
            Statement::CreateView { name, or_replace, query } => self.create_view(&name, or_replace, &query),
            Statement::MsckRepair { name } => self.msck(&name),
            Statement::AddPartitions { name, if_not_exists, partitions } => self.add_partitions(&name, if_not_exists, &partitions),
            Statement::DropPartitions { name, if_exists, partitions } => {
                let t = self.table(&name)?;
                let mut vals = Vec::new();
                for p in &partitions {
                    vals.push(spec_values(&t, p)?);
                }
                let errors = self.glue.batch_delete_partition(&t.database, &t.name, &vals).map_err(glue_err)?;
                if !errors.is_empty() && !if_exists {
                    return Err(failed("SemanticException [Error 10006]: Partition not found"));
                }
                Ok(Outcome::default())
            }
            Statement::ShowDatabases { like } => {
                let re = like_pattern(like.as_deref());
                let (dbs, _) = self.glue.get_databases(None, Some(1000)).map_err(glue_err)?;
                let names = dbs.iter().filter_map(|d| d.get("Name").and_then(Value::as_str)).filter(|n| re.as_ref().is_none_or(|r| r.is_match(n))).map(str::to_string).collect();
                Ok(one_col("database_name", names))
            }
            Statement::ShowTables { db, pattern } => {
                let db = db.unwrap_or_else(|| self.database.clone());
                if !self.glue.database_exists(&db) {
                    return Err(SqlError::new("SCHEMA_NOT_FOUND", format!("Schema '{db}' does not exist")));
                }
                let re = like_pattern(pattern.as_deref());
                let names = self.glue.table_defs(&db).map_err(glue_err)?.into_iter().map(|t| t.name).filter(|n| re.as_ref().is_none_or(|r| r.is_match(n))).collect();
                Ok(one_col("tab_name", names))
            }
            Statement::ShowViews { db } => {
                let db = db.unwrap_or_else(|| self.database.clone());
                let names = self.glue.table_defs(&db).map_err(glue_err)?.into_iter().filter(TableDef::is_view).map(|t| t.name).collect();
                Ok(one_col("views", names))
            }
            Statement::ShowPartitions { name } => {
                let t = self.table(&name)?;
                if t.partition_keys.is_empty() {
                    return Err(failed(format!("SemanticException [Error 10241]: Table {} is not a partitioned table", t.name)));
                }
                let parts = self.glue.partition_defs(&t.database, &t.name).map_err(glue_err)?;
                let mut rows: Vec<String> = parts.iter().map(|p| t.partition_keys.iter().zip(&p.values).map(|(k, v)| format!("{}={v}", k.name)).collect::<Vec<_>>().join("/")).collect();
                rows.sort();
                Ok(one_col("partition", rows))
            }
            Statement::ShowColumns { name } => {
                let t = self.table(&name)?;
                Ok(one_col("field", t.all_columns().map(|c| format!("{:<20}", c.name)).collect()))
            }
            Statement::Describe { name } => {
                let t = self.table(&name)?;
                let line = |c: &ColumnDef| format!("{:<20}\t{:<20}\t{:<20}", c.name, c.type_name, c.comment.clone().unwrap_or_default());
                let mut rows: Vec<String> = t.all_columns().map(line).collect();
                if !t.partition_keys.is_empty() {
                    rows.push(String::new());
                    rows.push("# Partition Information".into());
                    rows.push(format!("{:<20}\t{:<20}\t{:<20}", "# col_name", "data_type", "comment"));
                    rows.push(String::new());
                    rows.extend(t.partition_keys.iter().map(line));
                }
                Ok(Outcome {
                    columns: vec![varchar("col_name"), varchar("data_type"), varchar("comment")],
                    rows: rows.into_iter().map(|r| vec![Some(r)]).collect(),
                    ..Default::default()
                })
            }
            Statement::ShowCreateTable { name, .. } => {
                let t = self.table(&name)?;
                Ok(one_col("createtab_stmt", show_create(&t).lines().map(str::to_string).collect()))
            }
            Statement::Ctas { name, properties, query, if_not_exists } => self.ctas(&name, &properties, &query, if_not_exists, sql),
        }
    }

    fn create_view(&self, name: &TableName, or_replace: bool, query: &str) -> Result<Outcome, SqlError> {
        let db = self.db_of(name);
        let ctx = self.catalog();
        // Planning the view checks it and gives its columns, as Athena does.
        let r = firelocal_sql::run_query(&format!("SELECT * FROM ({query}) LIMIT 0"), &db, &ctx, self.now_ms)?;
        let columns: Vec<ColumnDef> = r.columns.iter().map(|c| ColumnDef { name: c.name.clone(), type_name: c.ty.hive_name(), comment: None }).collect();
        let presto = json!({
            "originalSql": query, "catalog": "awsdatacatalog", "schema": db,
            "columns": r.columns.iter().map(|c| json!({"name": c.name, "type": c.ty.display()})).collect::<Vec<_>>(),
        });
        use base64::Engine;
        let text = format!("/* Presto View: {} */", base64::engine::general_purpose::STANDARD.encode(presto.to_string()));
        let mut t = TableDef { database: db.clone(), name: name.name.clone(), columns, table_type: "VIRTUAL_VIEW".into(), view_sql: Some(text.clone()), ..Default::default() };
        t.params.insert("presto_view".into(), "true".into());
        let mut doc = t.to_glue();
        doc["ViewOriginalText"] = json!(text);
        doc["ViewExpandedText"] = json!("/* Presto View */");
        match self.glue.create_table(&db, &doc) {
            Ok(()) => Ok(Outcome::default()),
            Err(GlueError::AlreadyExists(_)) if or_replace => {
                self.glue.update_table(&db, &doc).map_err(glue_err)?;
                Ok(Outcome::default())
            }
            Err(GlueError::AlreadyExists(_)) => Err(SqlError::new("ALREADY_EXISTS", format!("View '{db}.{}' already exists", name.name))),
            Err(e) => Err(glue_err(e)),
        }
    }

    fn msck(&self, name: &TableName) -> Result<Outcome, SqlError> {
        let t = self.table(name)?;
        if t.partition_keys.is_empty() {
            return Ok(Outcome::default());
        }
        let Some((bucket, prefix)) = split_s3(&t.location) else { return Err(failed(format!("Invalid table location {}", t.location))) };
        let ctx = self.catalog();
        let keys: Vec<String> = ctx.list_objects(bucket, prefix).map_err(|e| SqlError::new("HIVE_FILESYSTEM_ERROR", e))?.into_iter().map(|o| o.key).collect();
        let names: Vec<String> = t.partition_keys.iter().map(|c| c.name.clone()).collect();
        let found = firelocal_sql::discover_partitions(&t.location, &names, &keys);
        let existing: std::collections::HashSet<Vec<String>> = self.glue.partition_defs(&t.database, &t.name).map_err(glue_err)?.into_iter().map(|p| p.values).collect();
        let missing: Vec<(Vec<String>, String)> = found.into_iter().filter(|(v, _)| !existing.contains(v)).collect();
        self.glue.add_partitions(&t.database, &t.name, &missing).map_err(glue_err)?;
        let label = |v: &Vec<String>| format!("{}:{}", t.name, names.iter().zip(v).map(|(k, x)| format!("{k}={x}")).collect::<Vec<_>>().join("/"));
        let mut rows = Vec::new();
        if !missing.is_empty() {
            rows.push(format!("Partitions not in metastore:\t{}", missing.iter().map(|(v, _)| label(v)).collect::<Vec<_>>().join("\t")));
            rows.extend(missing.iter().map(|(v, _)| format!("Repair: Added partition to metastore {}", label(v))));
        }
        Ok(one_col("_col0", rows))
    }

    fn add_partitions(&self, name: &TableName, if_not_exists: bool, specs: &[PartitionSpec]) -> Result<Outcome, SqlError> {
        let t = self.table(name)?;
        let base = if t.location.ends_with('/') { t.location.clone() } else { format!("{}/", t.location) };
        let mut parts = Vec::new();
        for s in specs {
            let values = spec_values(&t, s)?;
            let location = s.location.clone().unwrap_or_else(|| format!("{base}{}/", s.values.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("/")));
            parts.push((values, location));
        }
        let added = self.glue.add_partitions(&t.database, &t.name, &parts).map_err(glue_err)?;
        if added < parts.len() && !if_not_exists {
            return Err(failed("AlreadyExistsException: Partition already exists."));
        }
        Ok(Outcome::default())
    }

    fn ctas(&self, name: &TableName, props: &std::collections::BTreeMap<String, String>, query: &str, if_not_exists: bool, _sql: &str) -> Result<Outcome, SqlError> {
        let db = self.db_of(name);
        if !self.glue.database_exists(&db) {
            return Err(SqlError::new("SCHEMA_NOT_FOUND", format!("Schema '{db}' does not exist")));
        }
        if self.glue.table_def(&db, &name.name).map_err(glue_err)?.is_some() {
            return if if_not_exists { Ok(Outcome::default()) } else { Err(SqlError::new("ALREADY_EXISTS", format!("Table 'awsdatacatalog.{db}.{}' already exists", name.name))) };
        }
        let prop = |k: &str| props.iter().find(|(p, _)| p.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
        let format = prop("format").unwrap_or_else(|| "PARQUET".into()).to_ascii_uppercase();
        let location = match prop("external_location") {
            Some(l) => l,
            None => match &self.output_prefix {
                Some(p) => format!("{p}tables/{}/", self.query_id),
                None => return Err(SqlError::new("INVALID_TABLE_PROPERTY", "CTAS needs external_location or an output location")),
            },
        };
        let location = if location.ends_with('/') { location } else { format!("{location}/") };
        let Some((bucket, prefix)) = split_s3(&location) else { return Err(SqlError::new("INVALID_TABLE_PROPERTY", format!("Invalid external_location {location}"))) };
        let ctx = self.catalog();
        if !ctx.list_objects(bucket, prefix).map_err(|e| SqlError::new("HIVE_PATH_ALREADY_EXISTS", e))?.is_empty() {
            return Err(SqlError::new("HIVE_PATH_ALREADY_EXISTS", format!("Target directory for table '{db}.{}' already exists: {location}", name.name)));
        }
        let partitioned_by: Vec<String> = prop("partitioned_by").map(|v| v.split(',').map(|s| s.trim().trim_matches('\'').to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        let out = firelocal_sql::run_ctas(query, &self.database, &ctx, self.now_ms, &format, &partitioned_by, &format!("{}_00000", self.query_id))?;
        let mut partitions = Vec::new();
        for (path, bytes, vals) in &out.files {
            let key = format!("{prefix}{path}");
            ctx.allow(&Access::new("s3:PutObject", format!("arn:aws:s3:::{bucket}/{key}")))
                .map_err(|_| access_denied(format!("Access denied when writing to location: {location}")))?;
            s3::ops::put_object(self.s3, s3::ops::PutObjectInput { bucket: bucket.to_string(), key, body: Bytes::from(bytes.clone()), ..Default::default() })
                .map_err(|e| SqlError::new("HIVE_WRITER_OPEN_ERROR", format!("Error writing to {location}: {}", e.to_aws().message)))?;
            if !partitioned_by.is_empty() {
                let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                partitions.push((vals.clone(), format!("{location}{dir}/")));
            }
        }
        let n_data = out.columns.len() - partitioned_by.len();
        let col = |c: &ResultColumn| ColumnDef { name: c.name.clone(), type_name: c.ty.hive_name(), comment: None };
        let (serde, input, output) = match format.as_str() {
            "PARQUET" => (serde_names::PARQUET, serde_names::PARQUET_INPUT, serde_names::PARQUET_OUTPUT),
            "JSON" => (serde_names::HIVE_JSON, serde_names::TEXT_INPUT, serde_names::TEXT_OUTPUT),
            _ => (serde_names::LAZY_SIMPLE, serde_names::TEXT_INPUT, serde_names::TEXT_OUTPUT),
        };
        let mut t = TableDef {
            database: db.clone(),
            name: name.name.clone(),
            columns: out.columns[..n_data].iter().map(col).collect(),
            partition_keys: out.columns[n_data..].iter().map(col).collect(),
            location: location.clone(),
            serde: serde.into(),
            input_format: input.into(),
            output_format: output.into(),
            table_type: "EXTERNAL_TABLE".into(),
            ..Default::default()
        };
        t.params.insert("EXTERNAL".into(), "TRUE".into());
        t.params.insert("has_encrypted_data".into(), "false".into());
        self.glue.create_table(&db, &t.to_glue()).map_err(glue_err)?;
        if !partitions.is_empty() {
            self.glue.add_partitions(&db, &t.name, &partitions).map_err(glue_err)?;
        }
        Ok(Outcome { columns: vec![ResultColumn { name: "rows".into(), ty: SqlType::BigInt }], rows: vec![], header: false, update_count: Some(out.rows as i64), bytes_scanned: out.bytes_scanned })
    }
}

/// A PARTITION (k='v') spec's values in the table's key order.
fn spec_values(t: &TableDef, s: &PartitionSpec) -> Result<Vec<String>, SqlError> {
    if s.values.len() != t.partition_keys.len() {
        return Err(failed(format!("SemanticException [Error 10006]: Partition spec {:?} does not match the partition keys of {}", s.values, t.name)));
    }
    t.partition_keys
        .iter()
        .map(|k| s.values.iter().find(|(n, _)| *n == k.name).map(|(_, v)| v.clone()).ok_or_else(|| failed(format!("SemanticException: Partition spec is missing key {}", k.name))))
        .collect()
}

/// SHOW CREATE TABLE's text.
fn show_create(t: &TableDef) -> String {
    let cols = |cs: &[ColumnDef]| cs.iter().map(|c| format!("  `{}` {}{}", c.name, c.type_name, c.comment.as_ref().map(|x| format!(" COMMENT '{x}'")).unwrap_or_default())).collect::<Vec<_>>().join(", \n");
    if t.is_view() {
        return format!("CREATE VIEW {}.{} AS\n{}", t.database, t.name, t.view_sql.clone().unwrap_or_default());
    }
    let mut s = format!("CREATE EXTERNAL TABLE `{}`.`{}`(\n{})\n", t.database, t.name, cols(&t.columns));
    if !t.partition_keys.is_empty() {
        s.push_str(&format!("PARTITIONED BY ( \n{})\n", cols(&t.partition_keys)));
    }
    s.push_str(&format!("ROW FORMAT SERDE \n  '{}' \n", t.serde));
    if !t.serde_params.is_empty() {
        s.push_str(&format!("WITH SERDEPROPERTIES ( \n{})\n", t.serde_params.iter().map(|(k, v)| format!("  '{k}'='{v}'")).collect::<Vec<_>>().join(", \n")));
    }
    s.push_str(&format!("STORED AS INPUTFORMAT \n  '{}' \nOUTPUTFORMAT \n  '{}'\n", t.input_format, t.output_format));
    s.push_str(&format!("LOCATION\n  '{}'\n", t.location));
    if !t.params.is_empty() {
        s.push_str(&format!("TBLPROPERTIES (\n{})", t.params.iter().map(|(k, v)| format!("  '{k}'='{v}'")).collect::<Vec<_>>().join(", \n")));
    }
    s
}
