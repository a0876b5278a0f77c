//! firelocal's Athena engine. [`ddl::parse_statement`] classifies a statement and parses Hive
//! DDL; [`run_query`] plans a SELECT with sqlparser, executes it with polars over the table's
//! objects (read through a [`Context`]), and returns rows rendered as Athena renders them.
//! The engine holds no state: the catalog and the objects belong to the caller.

pub mod catalog;
pub mod ddl;
pub mod error;
mod func;
mod plan;
pub mod projection;
pub mod render;
pub mod scan;
pub mod timefmt;
pub mod types;

use bytes::Bytes;

pub use catalog::{ColumnDef, PartitionDef, TableDef};
pub use error::{SqlError, SqlResult};
pub use types::SqlType;

/// An object a listing returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// Changes whenever the object's bytes do (S3's ETag): scan-cache entries are keyed by it.
    pub etag: String,
}

/// What the engine reads: the catalog and the objects in S3.
pub trait Context: Sync {
    fn database_exists(&self, database: &str) -> bool;
    /// A table or view, or `None`.
    fn table(&self, database: &str, name: &str) -> Result<Option<TableDef>, String>;
    /// A table's partitions from the catalog.
    fn partitions(&self, database: &str, name: &str) -> Result<Vec<PartitionDef>, String>;
    /// Every object under a prefix, recursively.
    fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, String>;
    fn get_object(&self, bucket: &str, key: &str) -> Result<Bytes, String>;
    /// Decoded columns kept between queries, if the caller keeps any.
    fn scan_cache(&self) -> Option<&scan::ScanCache> {
        None
    }
    /// Whether the query was cancelled (StopQueryExecution): scans stop at the next object.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A result column: its name and SQL type.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumn {
    pub name: String,
    pub ty: SqlType,
}

/// A query's result, rendered.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Option<String>>>,
    /// The bytes of the objects the query read.
    pub bytes_scanned: u64,
}

/// Runs a SELECT (or WITH / VALUES) against `database` by default. `now_ms` is the query's
/// `current_timestamp`.
pub fn run_query(sql: &str, database: &str, ctx: &dyn Context, now_ms: i64) -> SqlResult<ResultSet> {
    let q = plan::parse_query(sql)?;
    let mut p = plan::Planner::new(ctx, database, sql, now_ms);
    let planned = p.query(&q)?;
    let df = planned.lf.collect().map_err(error::from_polars)?;
    let types: Vec<SqlType> = planned.cols.iter().map(|c| c.ty.clone()).collect();
    let types: Vec<SqlType> = types
        .into_iter()
        .zip(df.columns())
        .map(|(t, c)| if t == SqlType::Unknown && c.dtype() != &polars::prelude::DataType::Null { SqlType::from_polars(c.dtype()) } else { t })
        .collect();
    let rows = render::render_frame(&df, &types);
    let columns = planned.cols.iter().zip(types).map(|(c, ty)| ResultColumn { name: c.name.clone(), ty }).collect();
    Ok(ResultSet { columns, rows, bytes_scanned: p.bytes_scanned })
}

struct NoObjects;

impl Context for NoObjects {
    fn database_exists(&self, _: &str) -> bool {
        false
    }
    fn table(&self, _: &str, _: &str) -> Result<Option<TableDef>, String> {
        Ok(None)
    }
    fn partitions(&self, _: &str, _: &str) -> Result<Vec<PartitionDef>, String> {
        Ok(vec![])
    }
    fn list_objects(&self, _: &str, _: &str) -> Result<Vec<ObjectInfo>, String> {
        Ok(vec![])
    }
    fn get_object(&self, _: &str, _: &str) -> Result<Bytes, String> {
        Err("no objects".into())
    }
}

/// Which of `parts` satisfy a SQL boolean expression over the partition keys (Glue's
/// GetPartitions `Expression`, e.g. `dt >= '2023-11-16' AND region IN ('eu', 'us')`).
pub fn filter_partitions(keys: &[(String, SqlType)], parts: &[PartitionDef], expression: &str) -> SqlResult<Vec<bool>> {
    let sql = format!("SELECT 1 WHERE {expression}");
    let q = plan::parse_query(&sql)?;
    let sqlparser::ast::SetExpr::Select(s) = q.body.as_ref() else { return Err(SqlError::syntax("bad expression")) };
    let Some(e) = &s.selection else { return Err(SqlError::syntax("empty expression")) };
    let mut p = plan::Planner::new(&NoObjects, "default", &sql, 0);
    p.filter_partitions(parts, keys, e)
}

/// The output of a CREATE TABLE AS SELECT: the result columns and the files to write, as
/// (path relative to the table location, bytes), and each file's partition values.
pub struct CtasOutput {
    pub columns: Vec<ResultColumn>,
    pub files: Vec<(String, Vec<u8>, Vec<String>)>,
    pub rows: u64,
    pub bytes_scanned: u64,
}

/// Runs the SELECT of a CTAS and encodes its rows in `format` (`PARQUET`, `JSON`, `TEXTFILE`),
/// one file per partition when `partitioned_by` names the (last) output columns.
pub fn run_ctas(sql: &str, database: &str, ctx: &dyn Context, now_ms: i64, format: &str, partitioned_by: &[String], file_stem: &str) -> SqlResult<CtasOutput> {
    use polars::prelude::*;
    let q = plan::parse_query(sql)?;
    let mut p = plan::Planner::new(ctx, database, sql, now_ms);
    let planned = p.query(&q)?;
    let mut df = planned.lf.collect().map_err(error::from_polars)?;
    let columns: Vec<ResultColumn> = planned.cols.iter().map(|c| ResultColumn { name: c.name.clone(), ty: if c.ty == SqlType::Unknown { SqlType::Varchar } else { c.ty.clone() } }).collect();
    let names: Vec<PlSmallStr> = columns.iter().map(|c| c.name.as_str().into()).collect();
    df.set_column_names(&names).map_err(|_| SqlError::new("DUPLICATE_COLUMN_NAME", "CTAS output column names must be unique"))?;
    let n_part = partitioned_by.len();
    for (i, k) in partitioned_by.iter().enumerate() {
        let want = columns.len().checked_sub(n_part).map(|s| &columns[s + i].name);
        if want != Some(k) {
            return Err(SqlError::new("HIVE_COLUMN_ORDER_MISMATCH", "Partition keys must be the last columns in the table and in the same order as the table properties: ".to_string() + &partitioned_by.join(", ")));
        }
    }
    let rows = df.height() as u64;
    let data_cols = columns.len() - n_part;
    let groups: Vec<(Vec<String>, DataFrame)> = if n_part == 0 {
        vec![(vec![], df)]
    } else {
        let parts = df.partition_by_stable(partitioned_by.iter().map(|s| s.as_str()).collect::<Vec<_>>(), true).map_err(error::from_polars)?;
        parts
            .into_iter()
            .map(|g| {
                let types: Vec<SqlType> = columns[data_cols..].iter().map(|c| c.ty.clone()).collect();
                let first = g.select(partitioned_by.iter().map(|s| s.as_str())).map(|h| h.head(Some(1))).unwrap_or_default();
                let vals = render::render_frame(&first, &types).into_iter().next().unwrap_or_default().into_iter().map(|v| v.unwrap_or_else(|| "__HIVE_DEFAULT_PARTITION__".into())).collect();
                (vals, g)
            })
            .collect()
    };
    let mut files = Vec::new();
    for (vals, g) in groups {
        let mut g = g.select(columns[..data_cols].iter().map(|c| c.name.as_str())).map_err(error::from_polars)?;
        let dir: String = partitioned_by.iter().zip(&vals).map(|(k, v)| format!("{k}={v}/")).collect();
        let (ext, bytes) = match format.to_ascii_uppercase().as_str() {
            "PARQUET" => {
                let mut buf = Vec::new();
                ParquetWriter::new(&mut buf).finish(&mut g).map_err(error::from_polars)?;
                ("", buf)
            }
            "JSON" | "TEXTFILE" => {
                let types: Vec<SqlType> = columns[..data_cols].iter().map(|c| c.ty.clone()).collect();
                let rendered = render::render_frame(&g, &types);
                let mut out = String::new();
                for r in rendered {
                    if format.eq_ignore_ascii_case("JSON") {
                        let mut m = serde_json::Map::new();
                        for ((c, v), t) in columns.iter().zip(r).zip(&types) {
                            let j = match v {
                                None => serde_json::Value::Null,
                                Some(s) if t.is_numeric() => serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)),
                                Some(s) if *t == SqlType::Boolean => serde_json::Value::Bool(s == "true"),
                                Some(s) => serde_json::Value::String(s),
                            };
                            m.insert(c.name.clone(), j);
                        }
                        out.push_str(&serde_json::Value::Object(m).to_string());
                    } else {
                        out.push_str(&r.into_iter().map(|v| v.unwrap_or_else(|| "\\N".into())).collect::<Vec<_>>().join("\u{1}"));
                    }
                    out.push('\n');
                }
                (if format.eq_ignore_ascii_case("JSON") { ".json" } else { "" }, out.into_bytes())
            }
            other => return Err(SqlError::unsupported(format!("CTAS format '{other}'"))),
        };
        files.push((format!("{dir}{file_stem}{ext}"), bytes, vals));
    }
    Ok(CtasOutput { columns, files, rows, bytes_scanned: p.bytes_scanned })
}

/// Only parses and plans nothing: checks that a query is syntactically valid.
pub fn check_syntax(sql: &str) -> SqlResult<()> {
    plan::parse_query(sql).map(|_| ())
}

/// Replaces each `?` outside literals and quoted names with the next execution parameter
/// (Athena passes parameters as SQL literal text: `'abc'`, `42`).
pub fn substitute_parameters(sql: &str, params: &[String]) -> SqlResult<String> {
    let mut out = String::with_capacity(sql.len());
    let mut it = params.iter();
    let mut quote: Option<char> = None;
    let mut used = 0;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                let p = it.next().ok_or_else(|| SqlError::new("INVALID_PARAMETER_USAGE", format!("Incorrect number of parameters: expected at least {} but found {}", used + 1, params.len())))?;
                out.push_str(p);
                used += 1;
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    if used != params.len() {
        return Err(SqlError::new("INVALID_PARAMETER_USAGE", format!("Incorrect number of parameters: expected {used} but found {}", params.len())));
    }
    Ok(out)
}

/// Hive-style partitions under a table location: for keys of objects below `prefix`, the
/// `k1=v1/k2=v2/` folders that name the table's partition keys in order. Returns (values,
/// location) pairs, sorted, without duplicates.
pub fn discover_partitions(location: &str, keys: &[String], object_keys: &[String]) -> Vec<(Vec<String>, String)> {
    let Some((bucket, prefix)) = catalog::split_s3(location) else { return vec![] };
    let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix.to_string() } else { format!("{prefix}/") };
    let mut out = std::collections::BTreeMap::new();
    for k in object_keys {
        let Some(rest) = k.strip_prefix(&prefix) else { continue };
        let segs: Vec<&str> = rest.split('/').collect();
        if segs.len() <= keys.len() {
            continue;
        }
        let mut vals = Vec::new();
        for (seg, key) in segs.iter().zip(keys) {
            match seg.split_once('=') {
                Some((k2, v)) if k2.eq_ignore_ascii_case(key) && !v.is_empty() => vals.push(percent_decode(v)),
                _ => break,
            }
        }
        if vals.len() == keys.len() {
            let loc = format!("s3://{bucket}/{prefix}{}/", segs[..keys.len()].join("/"));
            out.insert(vals, loc);
        }
    }
    out.into_iter().collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        if b[i] == b'%'
            && let Some(h) = hex
            && let Ok(v) = u8::from_str_radix(&String::from_utf8_lossy(h), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `<id>.csv.metadata` file Athena writes beside a result: a protobuf message with the
/// query id (field 1) and one column message per column (field 4: catalog, schema, table,
/// name, label, type, precision, scale, nullable, case-sensitive), which Athena's JDBC driver reads.
pub fn result_metadata(query_id: &str, columns: &[ResultColumn]) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn string(out: &mut Vec<u8>, field: u64, s: &str) {
        varint(out, field << 3 | 2);
        varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::new();
    string(&mut out, 1, query_id);
    for c in columns {
        let mut m = Vec::new();
        string(&mut m, 1, "hive");
        string(&mut m, 4, &c.name);
        string(&mut m, 5, &c.name);
        string(&mut m, 6, c.ty.athena_name());
        let (p, s) = c.ty.precision_scale();
        varint(&mut m, 7 << 3);
        varint(&mut m, p as u64);
        varint(&mut m, 8 << 3);
        varint(&mut m, s as u64);
        varint(&mut m, 9 << 3);
        varint(&mut m, 3);
        varint(&mut m, 10 << 3);
        varint(&mut m, (c.ty == SqlType::Varchar) as u64);
        varint(&mut out, 4 << 3 | 2);
        varint(&mut out, m.len() as u64);
        out.extend_from_slice(&m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_substitute_outside_literals() {
        assert_eq!(substitute_parameters("SELECT '?' , ? , ?", &["'a'".into(), "1".into()]).ok().as_deref(), Some("SELECT '?' , 'a' , 1"));
        assert!(substitute_parameters("SELECT ?", &[]).is_err());
        assert!(substitute_parameters("SELECT 1", &["1".into()]).is_err());
    }

    #[test]
    fn discovers_hive_partitions() {
        let keys = vec!["dt".to_string(), "h".to_string()];
        let objs = vec!["p/dt=2023-11-16/h=01/a.json".to_string(), "p/dt=2023-11-16/h=01/b.json".to_string(), "p/dt=2023-11-17/h=02/c.json".to_string(), "p/other/x.json".to_string(), "p/dt=2023-11-18/c.json".to_string()];
        let parts = discover_partitions("s3://b/p/", &keys, &objs);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, vec!["2023-11-16".to_string(), "01".to_string()]);
        assert_eq!(parts[0].1, "s3://b/p/dt=2023-11-16/h=01/");
    }
}
