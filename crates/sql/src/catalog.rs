//! Table definitions as the Glue Data Catalog holds them, and the conversion to and from Glue's
//! JSON shapes (`TableInput`, `StorageDescriptor`, `PartitionInput`), so tables made by DDL are
//! visible through Glue and tables made through Glue are queryable.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::{SqlError, SqlResult};
use crate::types::SqlType;

/// Hive's SerDes and formats, by the names Glue stores.
pub mod serde_names {
    pub const OPENX_JSON: &str = "org.openx.data.jsonserde.JsonSerDe";
    pub const HIVE_JSON: &str = "org.apache.hive.hcatalog.data.JsonSerDe";
    pub const LAZY_SIMPLE: &str = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";
    pub const OPEN_CSV: &str = "org.apache.hadoop.hive.serde2.OpenCSVSerde";
    pub const PARQUET: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
    pub const TEXT_INPUT: &str = "org.apache.hadoop.mapred.TextInputFormat";
    pub const TEXT_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
    pub const PARQUET_INPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
    pub const PARQUET_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
}

/// A column: name (lower case, as Hive keeps it), Hive type text, comment.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub type_name: String,
    pub comment: Option<String>,
}

impl ColumnDef {
    /// The column's SQL type.
    pub fn sql_type(&self) -> SqlResult<SqlType> {
        SqlType::parse_hive(&self.type_name)
    }
}

/// A table or view.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableDef {
    pub database: String,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub partition_keys: Vec<ColumnDef>,
    /// `s3://bucket/prefix/`.
    pub location: String,
    pub serde: String,
    pub serde_params: BTreeMap<String, String>,
    pub input_format: String,
    pub output_format: String,
    /// Table parameters (TBLPROPERTIES, `EXTERNAL`, `projection.*`...).
    pub params: BTreeMap<String, String>,
    /// `EXTERNAL_TABLE`, `MANAGED_TABLE` or `VIRTUAL_VIEW`.
    pub table_type: String,
    /// A view's SELECT text.
    pub view_sql: Option<String>,
    pub comment: Option<String>,
}

/// A partition: its values (in partition-key order) and where its objects are.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionDef {
    pub values: Vec<String>,
    pub location: String,
}

impl TableDef {
    pub fn is_view(&self) -> bool {
        self.table_type == "VIRTUAL_VIEW"
    }

    /// All columns, data columns first, then partition keys.
    pub fn all_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().chain(self.partition_keys.iter())
    }

    /// Glue's `TableInput` for this table.
    pub fn to_glue(&self) -> Value {
        let mut t = Map::new();
        t.insert("Name".into(), json!(self.name));
        if let Some(c) = &self.comment {
            t.insert("Description".into(), json!(c));
        }
        t.insert("TableType".into(), json!(self.table_type));
        t.insert("Parameters".into(), json!(self.params));
        t.insert("PartitionKeys".into(), Value::Array(self.partition_keys.iter().map(column_to_glue).collect()));
        let mut sd = Map::new();
        sd.insert("Columns".into(), Value::Array(self.columns.iter().map(column_to_glue).collect()));
        if !self.location.is_empty() {
            sd.insert("Location".into(), json!(self.location));
        }
        if !self.input_format.is_empty() {
            sd.insert("InputFormat".into(), json!(self.input_format));
        }
        if !self.output_format.is_empty() {
            sd.insert("OutputFormat".into(), json!(self.output_format));
        }
        sd.insert("Compressed".into(), json!(false));
        sd.insert("NumberOfBuckets".into(), json!(-1));
        if !self.serde.is_empty() || !self.serde_params.is_empty() {
            sd.insert("SerdeInfo".into(), json!({"SerializationLibrary": self.serde, "Parameters": self.serde_params}));
        }
        sd.insert("StoredAsSubDirectories".into(), json!(false));
        t.insert("StorageDescriptor".into(), Value::Object(sd));
        if let Some(v) = &self.view_sql {
            t.insert("ViewOriginalText".into(), json!(v));
            t.insert("ViewExpandedText".into(), json!(v));
        }
        Value::Object(t)
    }

    /// A table from Glue's `Table` (or `TableInput`) JSON.
    pub fn from_glue(database: &str, v: &Value) -> SqlResult<TableDef> {
        let name = v.get("Name").and_then(Value::as_str).ok_or_else(|| SqlError::new("HIVE_METASTORE_ERROR", "table has no Name"))?;
        let sd = v.get("StorageDescriptor").cloned().unwrap_or(Value::Null);
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let serde = sd.get("SerdeInfo").cloned().unwrap_or(Value::Null);
        Ok(TableDef {
            database: database.to_string(),
            name: name.to_ascii_lowercase(),
            columns: columns_from_glue(sd.get("Columns")),
            partition_keys: columns_from_glue(v.get("PartitionKeys")),
            location: str_of(&sd, "Location"),
            serde: str_of(&serde, "SerializationLibrary"),
            serde_params: string_map(serde.get("Parameters")),
            input_format: str_of(&sd, "InputFormat"),
            output_format: str_of(&sd, "OutputFormat"),
            params: string_map(v.get("Parameters")),
            table_type: v.get("TableType").and_then(Value::as_str).unwrap_or("EXTERNAL_TABLE").to_string(),
            view_sql: v.get("ViewOriginalText").and_then(Value::as_str).map(view_text),
            comment: v.get("Description").and_then(Value::as_str).map(str::to_string),
        })
    }

    /// The storage format the table's objects are read with.
    pub fn format(&self) -> Format {
        let s = self.serde.as_str();
        let i = self.input_format.to_ascii_lowercase();
        if s == serde_names::PARQUET || i.contains("parquet") {
            Format::Parquet
        } else if s == serde_names::OPENX_JSON || s == serde_names::HIVE_JSON || s.to_ascii_lowercase().contains("json") {
            Format::Json
        } else if s == serde_names::OPEN_CSV {
            Format::OpenCsv
        } else if s.is_empty() || s == serde_names::LAZY_SIMPLE {
            Format::Delimited
        } else {
            Format::Unsupported(s.to_string())
        }
    }
}

/// How a table's objects are decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Json,
    Delimited,
    OpenCsv,
    Parquet,
    Unsupported(String),
}

/// Presto views are stored by Athena as `/* Presto View: <base64 json> */`; plain text otherwise.
fn view_text(s: &str) -> String {
    use base64_lite::decode;
    let t = s.trim();
    if let Some(b) = t.strip_prefix("/* Presto View: ").and_then(|r| r.strip_suffix(" */"))
        && let Some(bytes) = decode(b)
        && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
        && let Some(q) = v.get("originalSql").and_then(Value::as_str)
    {
        return q.to_string();
    }
    s.to_string()
}

/// Just enough base64 for Presto view texts (the crate stays free of another dependency).
mod base64_lite {
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut buf, mut bits) = (0u32, 0u32);
        for c in s.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' | b'-' => 62,
                b'/' | b'_' => 63,
                b'=' => break,
                _ => return None,
            } as u32;
            buf = (buf << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
            }
        }
        Some(out)
    }
}

fn column_to_glue(c: &ColumnDef) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(c.name));
    m.insert("Type".into(), json!(c.type_name));
    if let Some(x) = &c.comment {
        m.insert("Comment".into(), json!(x));
    }
    Value::Object(m)
}

fn columns_from_glue(v: Option<&Value>) -> Vec<ColumnDef> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| ColumnDef {
                    name: c.get("Name").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase(),
                    type_name: c.get("Type").and_then(Value::as_str).unwrap_or("string").to_string(),
                    comment: c.get("Comment").and_then(Value::as_str).map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect())
        .unwrap_or_default()
}

/// `s3://bucket/prefix` split into bucket and key prefix.
pub fn split_s3(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://").or_else(|| url.strip_prefix("s3a://")).or_else(|| url.strip_prefix("s3n://"))?;
    Some(match rest.split_once('/') {
        Some((b, k)) => (b, k),
        None => (rest, ""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_round_trip() {
        let t = TableDef {
            database: "db".into(),
            name: "t".into(),
            columns: vec![ColumnDef { name: "a".into(), type_name: "string".into(), comment: None }],
            partition_keys: vec![ColumnDef { name: "dt".into(), type_name: "string".into(), comment: None }],
            location: "s3://b/p/".into(),
            serde: serde_names::OPENX_JSON.into(),
            table_type: "EXTERNAL_TABLE".into(),
            ..Default::default()
        };
        let back = TableDef::from_glue("db", &t.to_glue()).ok();
        assert_eq!(back, Some(t));
        assert_eq!(split_s3("s3://b/x/y/"), Some(("b", "x/y/")));
        assert_eq!(split_s3("s3://b"), Some(("b", "")));
    }
}
