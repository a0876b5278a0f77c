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
    pub sql: String,
    /// The default schema (a RelationalTable's Schema).
    pub database: String,
    pub data_source_arn: String,
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
    } else {
        return Err(bad(format!("physical table {physical_id}: only RelationalTable and CustomSql are supported by firelocal's QuickSight")));
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
    Ok(Plan { sql, database, data_source_arn: source })
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
