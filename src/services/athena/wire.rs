//! Athena's wire layer (awsJson1_1, `X-Amz-Target: AmazonAthena.<Operation>`).

use std::sync::Arc;

use firelocal_sql::{SqlType, TableDef};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::AthenaError;
use super::ops::{Athena, StartInput};
use crate::protocol::json;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol};
use crate::services::iam::authz::{Access, Guard};
use crate::services::iam::ops::ACCOUNT;

const PROTOCOL: Protocol = Protocol::AwsJson1_1;
const CATALOG: &str = "AwsDataCatalog";

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct In {
    query_string: Option<String>,
    query_execution_context: Option<Ctx>,
    result_configuration: Option<ResultConfig>,
    work_group: Option<String>,
    client_request_token: Option<String>,
    execution_parameters: Vec<String>,
    query_execution_id: Option<String>,
    query_execution_ids: Vec<String>,
    named_query_id: Option<String>,
    named_query_ids: Vec<String>,
    next_token: Option<String>,
    max_results: Option<usize>,
    name: Option<String>,
    configuration: Option<Value>,
    configuration_updates: Option<Value>,
    state: Option<String>,
    description: Option<String>,
    catalog_name: Option<String>,
    database_name: Option<String>,
    table_name: Option<String>,
    expression: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Ctx {
    database: Option<String>,
    catalog: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ResultConfig {
    output_location: Option<String>,
}

const OPERATIONS: &[&str] = &[
    "StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution", "ListQueryExecutions", "BatchGetQueryExecution",
    "CreateWorkGroup", "GetWorkGroup", "ListWorkGroups", "UpdateWorkGroup", "DeleteWorkGroup", "CreateNamedQuery", "GetNamedQuery",
    "ListNamedQueries", "DeleteNamedQuery", "BatchGetNamedQuery", "ListDatabases", "GetDatabase", "ListTableMetadata", "GetTableMetadata",
    "ListDataCatalogs", "GetDataCatalog", "ListEngineVersions",
];

/// What an Athena call needs under `--enforce-iam`: `athena:<Operation>` on the workgroup the
/// call runs in (an execution's or a named query's own) or on the data catalog, and, for the
/// metadata calls Athena answers from Glue, the Glue permission it uses as its caller.
pub fn access(athena: &Athena, req: &AwsRequest, region: &str) -> Vec<Access> {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let i: In = serde_json::from_slice(&req.body).unwrap_or_default();
    let action = format!("athena:{op}");
    let workgroup = |wg: &str| Access::new(&action, format!("arn:aws:athena:{region}:{ACCOUNT}:workgroup/{wg}"));
    let named = |id: &str| athena.get_named_query(id).ok().and_then(|d| d.get("WorkGroup").and_then(Value::as_str).map(str::to_string));
    let glue = |glue_action: &str, db: Option<&str>, table: Option<&str>| crate::services::glue::wire::catalog_access(glue_action, region, db, table);
    let primary = || i.work_group.clone().unwrap_or_else(|| "primary".into());
    let catalog = Access::new(&action, format!("arn:aws:athena:{region}:{ACCOUNT}:datacatalog/{}", i.catalog_name.as_deref().or(i.name.as_deref()).unwrap_or(CATALOG)));
    match op {
        "StartQueryExecution" | "ListQueryExecutions" | "CreateNamedQuery" | "ListNamedQueries" => vec![workgroup(&primary())],
        "GetWorkGroup" | "UpdateWorkGroup" | "DeleteWorkGroup" | "CreateWorkGroup" => vec![workgroup(i.work_group.as_deref().or(i.name.as_deref()).unwrap_or_default())],
        "GetQueryExecution" | "GetQueryResults" | "StopQueryExecution" | "BatchGetQueryExecution" => {
            let ids = i.query_execution_id.iter().chain(&i.query_execution_ids);
            let mut wgs: Vec<String> = ids.filter_map(|id| athena.execution_workgroup(id)).collect();
            wgs.dedup();
            wgs.iter().map(|wg| workgroup(wg)).collect()
        }
        "GetNamedQuery" | "DeleteNamedQuery" | "BatchGetNamedQuery" => {
            let ids = i.named_query_id.iter().chain(&i.named_query_ids);
            let mut wgs: Vec<String> = ids.filter_map(|id| named(id)).collect();
            wgs.dedup();
            wgs.iter().map(|wg| workgroup(wg)).collect()
        }
        "GetDataCatalog" => vec![catalog],
        "ListDatabases" => [vec![catalog], glue("glue:GetDatabases", None, None)].concat(),
        "GetDatabase" => [vec![catalog], glue("glue:GetDatabase", i.database_name.as_deref(), None)].concat(),
        "ListTableMetadata" => [vec![catalog], glue("glue:GetTables", i.database_name.as_deref(), Some("*"))].concat(),
        "GetTableMetadata" => [vec![catalog], glue("glue:GetTable", i.database_name.as_deref(), i.table_name.as_deref())].concat(),
        _ => vec![Access::new(&action, "*")],
    }
}

/// Handles one Athena request.
pub fn handle(athena: &Arc<Athena>, req: &AwsRequest, guard: Option<Guard>) -> (HttpResponse, &'static str) {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let Some(name) = OPERATIONS.iter().find(|o| **o == op).copied() else {
        return (AthenaError::UnknownOperation(op.to_string()).to_aws().render(PROTOCOL, &req.request_id, false), "Unknown");
    };
    let resp = match run(athena, name, &req.body, guard) {
        Ok(v) => json::ok(PROTOCOL, &v),
        Err(e) => e.render(PROTOCOL, &req.request_id, false),
    };
    (resp, name)
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, AwsError> {
    v.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| AthenaError::invalid("INVALID_INPUT", format!("{field} is required")).to_aws())
}

fn check_catalog(c: Option<&str>) -> Result<(), AwsError> {
    match c {
        None => Ok(()),
        Some(c) if c.eq_ignore_ascii_case(CATALOG) => Ok(()),
        Some(c) => Err(AthenaError::invalid("INVALID_INPUT", format!("Catalog {c} was not found.")).to_aws()),
    }
}

fn column_info(c: &firelocal_sql::ResultColumn) -> Value {
    let (p, s) = c.ty.precision_scale();
    json!({"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c.name, "Label": c.name, "Type": c.ty.athena_name(),
           "Precision": p, "Scale": s, "Nullable": "UNKNOWN", "CaseSensitive": c.ty == SqlType::Varchar})
}

fn table_metadata(t: &TableDef, raw: &Value) -> Value {
    let col = |c: &firelocal_sql::ColumnDef| {
        let mut v = json!({"Name": c.name, "Type": c.type_name});
        if let Some(x) = &c.comment {
            v["Comment"] = json!(x);
        }
        v
    };
    let mut params = json!(t.params);
    if let Some(o) = params.as_object_mut() {
        if !t.location.is_empty() {
            o.insert("location".into(), json!(t.location));
        }
        if !t.serde.is_empty() {
            o.insert("serde.serialization.lib".into(), json!(t.serde));
        }
        if !t.input_format.is_empty() {
            o.insert("inputformat".into(), json!(t.input_format));
            o.insert("outputformat".into(), json!(t.output_format));
        }
        for (k, v) in &t.serde_params {
            o.insert(format!("serde.param.{k}"), json!(v));
        }
    }
    json!({
        "Name": t.name, "CreateTime": raw.get("CreateTime"), "LastAccessTime": raw.get("UpdateTime"), "TableType": t.table_type,
        "Columns": t.columns.iter().map(col).collect::<Vec<_>>(), "PartitionKeys": t.partition_keys.iter().map(col).collect::<Vec<_>>(), "Parameters": params,
    })
}

fn run(athena: &Arc<Athena>, op: &str, body: &[u8], guard: Option<Guard>) -> Result<Value, AwsError> {
    let i: In = json::parse(body)?;
    let e = |e: AthenaError| e.to_aws();
    let ge = |e: crate::services::glue::error::GlueError| match e {
        crate::services::glue::error::GlueError::EntityNotFound(m) => AwsError::new(http::StatusCode::BAD_REQUEST, "MetadataException", m),
        other => other.to_aws(),
    };
    Ok(match op {
        "StartQueryExecution" => {
            let ctx = i.query_execution_context.unwrap_or_default();
            check_catalog(ctx.catalog.as_deref())?;
            let input = StartInput {
                query: required(&i.query_string, "QueryString")?.to_string(),
                database: ctx.database,
                catalog: ctx.catalog,
                output_location: i.result_configuration.and_then(|r| r.output_location),
                workgroup: i.work_group,
                token: i.client_request_token,
                parameters: i.execution_parameters,
                guard,
            };
            json!({"QueryExecutionId": athena.start(input).map_err(e)?})
        }
        "GetQueryExecution" => json!({"QueryExecution": athena.get(required(&i.query_execution_id, "QueryExecutionId")?).map_err(e)?}),
        "BatchGetQueryExecution" => {
            let (found, missing) = athena.batch_get(&i.query_execution_ids);
            json!({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing})
        }
        "ListQueryExecutions" => {
            let (ids, next) = athena.list(i.work_group.as_deref(), i.next_token.as_deref(), i.max_results).map_err(e)?;
            json!({"QueryExecutionIds": ids, "NextToken": next})
        }
        "StopQueryExecution" => {
            athena.stop(required(&i.query_execution_id, "QueryExecutionId")?).map_err(e)?;
            json!({})
        }
        "GetQueryResults" => {
            let (cols, rows, next, update) = athena.results(required(&i.query_execution_id, "QueryExecutionId")?, i.next_token.as_deref(), i.max_results).map_err(e)?;
            let rows: Vec<Value> = rows.into_iter().map(|r| json!({"Data": r.into_iter().map(|v| match v { Some(s) => json!({"VarCharValue": s}), None => json!({}) }).collect::<Vec<_>>()})).collect();
            let mut out = json!({"ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": cols.iter().map(column_info).collect::<Vec<_>>()}}, "NextToken": next});
            if let Some(u) = update {
                out["UpdateCount"] = json!(u);
            }
            out
        }
        "CreateWorkGroup" => {
            let mut input = json!({"Description": i.description});
            if let Some(c) = i.configuration {
                input["Configuration"] = c;
            }
            athena.create_workgroup(required(&i.name, "Name")?, &input).map_err(e)?;
            json!({})
        }
        "GetWorkGroup" => json!({"WorkGroup": athena.get_workgroup(required(&i.work_group, "WorkGroup")?).map_err(e)?}),
        "ListWorkGroups" => json!({"WorkGroups": athena.list_workgroups().map_err(e)?}),
        "UpdateWorkGroup" => {
            athena.update_workgroup(required(&i.work_group, "WorkGroup")?, &i.configuration_updates.unwrap_or(json!({})), i.state.as_deref(), i.description.as_deref()).map_err(e)?;
            json!({})
        }
        "DeleteWorkGroup" => {
            athena.delete_workgroup(required(&i.work_group, "WorkGroup")?).map_err(e)?;
            json!({})
        }
        "CreateNamedQuery" => {
            let v: Value = serde_json::from_slice(body).unwrap_or(json!({}));
            json!({"NamedQueryId": athena.create_named_query(&v).map_err(e)?})
        }
        "GetNamedQuery" => json!({"NamedQuery": athena.get_named_query(required(&i.named_query_id, "NamedQueryId")?).map_err(e)?}),
        "BatchGetNamedQuery" => {
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for id in &i.named_query_ids {
                match athena.get_named_query(id) {
                    Ok(q) => found.push(q),
                    Err(_) => missing.push(json!({"NamedQueryId": id, "ErrorCode": "INVALID_INPUT", "ErrorMessage": format!("NamedQuery {id} was not found")})),
                }
            }
            json!({"NamedQueries": found, "UnprocessedNamedQueryIds": missing})
        }
        "ListNamedQueries" => {
            let (ids, next) = athena.list_named_queries(i.work_group.as_deref(), i.next_token.as_deref(), i.max_results).map_err(e)?;
            json!({"NamedQueryIds": ids, "NextToken": next})
        }
        "DeleteNamedQuery" => {
            athena.delete_named_query(required(&i.named_query_id, "NamedQueryId")?).map_err(e)?;
            json!({})
        }
        "ListDataCatalogs" => json!({"DataCatalogsSummary": [{"CatalogName": CATALOG, "Type": "GLUE"}]}),
        "GetDataCatalog" => {
            check_catalog(Some(required(&i.name, "Name")?))?;
            json!({"DataCatalog": {"Name": CATALOG, "Type": "GLUE", "Description": "AWS Glue Data Catalog", "Parameters": {"catalog-id": crate::services::glue::ops::ACCOUNT}}})
        }
        "ListEngineVersions" => json!({"EngineVersions": [{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": super::ops::ENGINE}]}),
        "ListDatabases" => {
            check_catalog(Some(required(&i.catalog_name, "CatalogName")?))?;
            let (dbs, next) = athena.glue().get_databases(i.next_token.as_deref(), i.max_results).map_err(ge)?;
            let list: Vec<Value> = dbs.iter().map(|d| json!({"Name": d["Name"], "Description": d.get("Description"), "Parameters": d.get("Parameters").cloned().unwrap_or(json!({}))})).collect();
            json!({"DatabaseList": list, "NextToken": next})
        }
        "GetDatabase" => {
            check_catalog(Some(required(&i.catalog_name, "CatalogName")?))?;
            let d = athena.glue().get_database(required(&i.database_name, "DatabaseName")?).map_err(ge)?;
            json!({"Database": {"Name": d["Name"], "Description": d.get("Description"), "Parameters": d.get("Parameters").cloned().unwrap_or(json!({}))}})
        }
        "ListTableMetadata" => {
            check_catalog(Some(required(&i.catalog_name, "CatalogName")?))?;
            let (tables, next) = athena.glue().get_tables(required(&i.database_name, "DatabaseName")?, i.expression.as_deref(), i.next_token.as_deref(), i.max_results.or(Some(50))).map_err(ge)?;
            let db = i.database_name.clone().unwrap_or_default();
            let list: Vec<Value> = tables.iter().filter_map(|t| TableDef::from_glue(&db, t).ok().map(|d| table_metadata(&d, t))).collect();
            json!({"TableMetadataList": list, "NextToken": next})
        }
        "GetTableMetadata" => {
            check_catalog(Some(required(&i.catalog_name, "CatalogName")?))?;
            let db = required(&i.database_name, "DatabaseName")?;
            let raw = athena.glue().get_table(db, required(&i.table_name, "TableName")?).map_err(ge)?;
            let t = TableDef::from_glue(db, &raw).map_err(|err| AthenaError::Internal(err.to_string()).to_aws())?;
            json!({"TableMetadata": table_metadata(&t, &raw)})
        }
        _ => return Err(AthenaError::UnknownOperation(op.to_string()).to_aws()),
    })
}
