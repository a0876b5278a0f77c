//! A QuickSight data set as one SQL query: its physical table (an Athena table or custom SQL)
//! with its logical table's transforms (project, filter, calculated columns, rename, cast)
//! applied in order, for firelocal's Athena engine to run.

use serde_json::Value;

use super::error::{QsError, QsResult};
use super::expr;

fn bad(m: impl Into<String>) -> QsError {
    QsError::InvalidParameterValue(m.into())
}

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The data set's query (over its single physical table) and the data source it reads.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// Empty for an S3 source (its rows are read from the manifest's files).
    pub sql: String,
    /// The default schema (a RelationalTable's Schema).
    pub database: String,
    pub data_source_arn: String,
    /// An `S3Source` physical table (UploadSettings, InputColumns).
    #[serde(default)]
    pub s3: Option<Value>,
}

/// Builds the query from CreateDataSet's PhysicalTableMap and LogicalTableMap.
pub fn plan(physical: &Value, logical: Option<&Value>) -> QsResult<Plan> {
    let tables = physical.as_object().filter(|m| !m.is_empty()).ok_or_else(|| bad("PhysicalTableMap must name one table"))?;
    if tables.len() > 1 {
        return Err(bad("firelocal's QuickSight reads one physical table per data set (joins are not supported yet)"));
    }
    let (physical_id, table) = tables.iter().next().ok_or_else(|| bad("PhysicalTableMap must name one table"))?;
    let (mut sql, mut columns, database, source) = if let Some(t) = table.get("RelationalTable") {
        let name = t.get("Name").and_then(Value::as_str).ok_or_else(|| bad("RelationalTable.Name is required"))?;
        let schema = t.get("Schema").and_then(Value::as_str).unwrap_or("default");
        let cols: Vec<String> = t.get("InputColumns").and_then(Value::as_array).map(|a| a.iter().filter_map(|c| c.get("Name").and_then(Value::as_str).map(str::to_string)).collect()).unwrap_or_default();
        if cols.is_empty() {
            return Err(bad("RelationalTable.InputColumns must list at least one column"));
        }
        let sql = format!("SELECT {} FROM {}.{}", cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", "), ident(schema), ident(name));
        (sql, cols, schema.to_string(), t.get("DataSourceArn").and_then(Value::as_str).unwrap_or_default().to_string())
    } else if let Some(t) = table.get("CustomSql") {
        let q = t.get("SqlQuery").and_then(Value::as_str).ok_or_else(|| bad("CustomSql.SqlQuery is required"))?;
        let cols: Vec<String> = t.get("Columns").and_then(Value::as_array).map(|a| a.iter().filter_map(|c| c.get("Name").and_then(Value::as_str).map(str::to_string)).collect()).unwrap_or_default();
        let sql = format!("SELECT {} FROM ({q}) AS custom", if cols.is_empty() { "*".to_string() } else { cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ") });
        (sql, cols, "default".to_string(), t.get("DataSourceArn").and_then(Value::as_str).unwrap_or_default().to_string())
    } else if let Some(t) = table.get("S3Source") {
        let transforms = logical.and_then(Value::as_object).and_then(|m| m.values().next()).and_then(|lt| lt.get("DataTransforms")).and_then(Value::as_array).cloned().unwrap_or_default();
        if transforms.iter().any(|t| t.get("TagColumnOperation").is_none() && t.get("UntagColumnOperation").is_none()) {
            return Err(bad("firelocal's QuickSight does not apply DataTransforms to S3 sources yet; use an Athena table for transforms"));
        }
        if t.get("InputColumns").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            return Err(bad("S3Source.InputColumns must list at least one column"));
        }
        let source = t.get("DataSourceArn").and_then(Value::as_str).unwrap_or_default().to_string();
        return Ok(Plan { sql: String::new(), database: String::new(), data_source_arn: source, s3: Some(t.clone()) });
    } else {
        return Err(bad(format!("physical table {physical_id}: RelationalTable, CustomSql or S3Source is required")));
    };
    let logical_tables = logical.and_then(Value::as_object).cloned().unwrap_or_default();
    if logical_tables.len() > 1 {
        return Err(bad("firelocal's QuickSight reads one logical table per data set (joins are not supported yet)"));
    }
    if let Some(lt) = logical_tables.values().next() {
        if lt.pointer("/Source/JoinInstruction").is_some() {
            return Err(bad("joins (JoinInstruction) are not supported by firelocal's QuickSight yet"));
        }
        if let Some(p) = lt.pointer("/Source/PhysicalTableId").and_then(Value::as_str)
            && p != physical_id
        {
            return Err(bad(format!("LogicalTable source {p} is not in the PhysicalTableMap")));
        }
        for (i, t) in lt.get("DataTransforms").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let wrap = |select: String, sql: &str| format!("SELECT {select} FROM ({sql}) AS t{i}");
            let need_col = |c: &str, cols: &[String]| if cols.iter().any(|x| x == c) || cols.is_empty() { Ok(()) } else { Err(bad(format!("DataTransforms[{i}]: the column {c} does not exist"))) };
            if let Some(op) = t.get("ProjectOperation") {
                let keep: Vec<String> = op.get("ProjectedColumns").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
                for c in &keep {
                    need_col(c, &columns)?;
                }
                sql = wrap(keep.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", "), &sql);
                columns = keep;
            } else if let Some(op) = t.get("FilterOperation") {
                let cond = op.get("ConditionExpression").and_then(Value::as_str).ok_or_else(|| bad(format!("DataTransforms[{i}]: FilterOperation needs a ConditionExpression")))?;
                let cond = expr::to_sql(cond).map_err(|e| bad(format!("DataTransforms[{i}]: {e}")))?;
                sql = format!("SELECT * FROM ({sql}) AS t{i} WHERE {cond}");
            } else if let Some(op) = t.get("CreateColumnsOperation") {
                let mut extra = Vec::new();
                for c in op.get("Columns").and_then(Value::as_array).into_iter().flatten() {
                    let name = c.get("ColumnName").and_then(Value::as_str).ok_or_else(|| bad(format!("DataTransforms[{i}]: a calculated column needs a ColumnName")))?;
                    let e = c.get("Expression").and_then(Value::as_str).unwrap_or_default();
                    let e = expr::to_sql(e).map_err(|err| bad(format!("DataTransforms[{i}] ({name}): {err}")))?;
                    extra.push(format!("{e} AS {}", ident(name)));
                    columns.push(name.to_string());
                }
                sql = wrap(format!("*, {}", extra.join(", ")), &sql);
            } else if let Some(op) = t.get("RenameColumnOperation") {
                let (from, to) = (op.get("ColumnName").and_then(Value::as_str).unwrap_or_default(), op.get("NewColumnName").and_then(Value::as_str).unwrap_or_default());
                need_col(from, &columns)?;
                let select = columns.iter().map(|c| if c == from { format!("{} AS {}", ident(c), ident(to)) } else { ident(c) }).collect::<Vec<_>>().join(", ");
                sql = wrap(select, &sql);
                columns = columns.iter().map(|c| if c == from { to.to_string() } else { c.clone() }).collect();
            } else if let Some(op) = t.get("CastColumnTypeOperation") {
                let col = op.get("ColumnName").and_then(Value::as_str).unwrap_or_default();
                need_col(col, &columns)?;
                let cast = match op.get("NewColumnType").and_then(Value::as_str).unwrap_or_default() {
                    "STRING" => format!("CAST({} AS varchar)", ident(col)),
                    "INTEGER" => format!("TRY_CAST({} AS bigint)", ident(col)),
                    "DECIMAL" => format!("TRY_CAST({} AS double)", ident(col)),
                    "DATETIME" => match op.get("Format").and_then(Value::as_str) {
                        Some(f) => expr::to_sql(&format!("parseDate({{{col}}}, '{f}')")).map_err(bad)?,
                        None => format!("TRY_CAST({} AS timestamp)", ident(col)),
                    },
                    other => return Err(bad(format!("DataTransforms[{i}]: NewColumnType {other} is not STRING, INTEGER, DECIMAL or DATETIME"))),
                };
                let select = columns.iter().map(|c| if c == col { format!("{cast} AS {}", ident(c)) } else { ident(c) }).collect::<Vec<_>>().join(", ");
                sql = wrap(select, &sql);
            } else if t.get("TagColumnOperation").is_some() || t.get("UntagColumnOperation").is_some() {
                // Geographic roles and descriptions: metadata only.
            } else {
                return Err(bad(format!("DataTransforms[{i}]: this transform is not supported by firelocal's QuickSight")));
            }
        }
    }
    Ok(Plan { sql, database, data_source_arn: source, s3: None })
}

/// QuickSight's column type for an engine type.
pub fn qs_type(ty: &firelocal_sql::SqlType) -> &'static str {
    use firelocal_sql::SqlType::*;
    match ty {
        Boolean => "BOOLEAN",
        TinyInt | SmallInt | Integer | BigInt => "INTEGER",
        Real | Double | Decimal(..) => "DECIMAL",
        Date | Timestamp | TimestampTz => "DATETIME",
        _ => "STRING",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relational_table_with_transforms() {
        let physical = json!({"t": {"RelationalTable": {"DataSourceArn": "arn:ds", "Schema": "clicks", "Name": "events",
            "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}, {"Name": "time_spent", "Type": "INTEGER"}]}}});
        let logical = json!({"l": {"Alias": "events", "Source": {"PhysicalTableId": "t"}, "DataTransforms": [
            {"FilterOperation": {"ConditionExpression": "{time_spent} > 0"}},
            {"CreateColumnsOperation": {"Columns": [{"ColumnName": "long", "ColumnId": "c1", "Expression": "ifelse({time_spent} > 10, 'yes', 'no')"}]}},
            {"RenameColumnOperation": {"ColumnName": "element_clicked", "NewColumnName": "element"}},
            {"ProjectOperation": {"ProjectedColumns": ["element", "long"]}}]}});
        let p = plan(&physical, Some(&logical)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(p.database, "clicks");
        assert_eq!(p.data_source_arn, "arn:ds");
        assert!(p.sql.starts_with(r#"SELECT "element", "long" FROM (SELECT "element_clicked" AS "element", "time_spent", "long" FROM"#), "{}", p.sql);
        assert!(p.sql.contains(r#"WHERE "time_spent" > 0"#));
        let missing = json!({"l": {"Source": {"PhysicalTableId": "t"}, "DataTransforms": [{"ProjectOperation": {"ProjectedColumns": ["nope"]}}]}});
        assert!(matches!(plan(&physical, Some(&missing)), Err(QsError::InvalidParameterValue(m)) if m.contains("nope")));
        assert!(plan(&json!({}), None).is_err());
    }
}

/// Reads an S3 source's files into rows of its InputColumns: CSV or TSV (with a header row or
/// not, a delimiter and a text qualifier) or JSON (one object per line, or an array).
pub fn parse_files(files: &[Vec<u8>], settings: &Value, columns: &[String]) -> Result<Vec<Vec<Option<String>>>, String> {
    let get = |k: &str, alt: &str| settings.get(k).or_else(|| settings.get(alt)).and_then(Value::as_str).map(str::to_string);
    let format = get("Format", "format").unwrap_or_else(|| "CSV".into()).to_ascii_uppercase();
    let mut rows = Vec::new();
    for data in files {
        let text = String::from_utf8_lossy(data);
        match format.as_str() {
            "JSON" => {
                let records: Vec<Value> = match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(a)) => a,
                    _ => text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).map_err(|e| format!("a JSON record does not parse: {e}"))).collect::<Result<_, _>>()?,
                };
                for r in records {
                    rows.push(columns.iter().map(|c| match r.get(c) {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(v) => Some(v.to_string()),
                    }).collect());
                }
            }
            "CSV" | "TSV" => {
                let delimiter = get("Delimiter", "delimiter").and_then(|d| d.chars().next()).unwrap_or(if format == "TSV" { '\t' } else { ',' });
                let quote = match get("TextQualifier", "textqualifier").as_deref() {
                    Some("SINGLE_QUOTE") | Some("'") => '\'',
                    _ => '"',
                };
                let header = settings.get("ContainsHeader").or_else(|| settings.get("containsHeader")).map(|v| v == &Value::Bool(true) || v == "true").unwrap_or(true);
                let start = settings.get("StartFromRow").and_then(Value::as_u64).unwrap_or(1).max(1) as usize - 1;
                let mut lines = text.lines().skip(start).filter(|l| !l.is_empty());
                let names: Option<Vec<String>> = if header { lines.next().map(|h| split_csv(h, delimiter, quote)) } else { None };
                for line in lines {
                    let fields = split_csv(line, delimiter, quote);
                    rows.push(columns.iter().enumerate().map(|(i, c)| {
                        let at = names.as_ref().map_or(Some(i), |n| n.iter().position(|x| x == c));
                        at.and_then(|i| fields.get(i)).filter(|v| !v.is_empty()).cloned()
                    }).collect());
                }
            }
            other => return Err(format!("the upload format {other} is not supported (CSV, TSV and JSON are)")),
        }
    }
    Ok(rows)
}

/// Splits one delimited line, honouring the text qualifier (doubled inside a field).
fn split_csv(line: &str, delimiter: char, quote: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c == quote && quoted && chars.peek() == Some(&quote) => {
                field.push(quote);
                chars.next();
            }
            c if c == quote => quoted = !quoted,
            c if c == delimiter && !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}

#[cfg(test)]
mod s3_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_and_json_files() {
        let cols = vec!["element".to_string(), "n".to_string()];
        let csv = b"n,element\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n".to_vec();
        let rows = parse_files(&[csv], &json!({"Format": "CSV", "ContainsHeader": true}), &cols).unwrap_or_default();
        assert_eq!(rows, vec![vec![Some("a, b".into()), Some("1".into())], vec![Some("say \"hi\"".into()), Some("2".into())]]);
        let ndjson = b"{\"element\": \"x\", \"n\": 3}\n{\"element\": null}\n".to_vec();
        let rows = parse_files(&[ndjson], &json!({"format": "JSON"}), &cols).unwrap_or_default();
        assert_eq!(rows, vec![vec![Some("x".into()), Some("3".into())], vec![None, None]]);
        assert!(parse_files(&[b"x".to_vec()], &json!({"Format": "XLSX"}), &cols).is_err());
    }
}
