//! Glue's wire layer (awsJson1_1, `X-Amz-Target: AWSGlue.<Operation>`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::error::GlueError;
use super::ops::Glue;
use crate::protocol::json;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol};
use crate::services::iam::authz::Access;
use crate::services::iam::ops::ACCOUNT;

const PROTOCOL: Protocol = Protocol::AwsJson1_1;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct In {
    name: Option<String>,
    database_name: Option<String>,
    table_name: Option<String>,
    database_input: Option<Value>,
    table_input: Option<Value>,
    partition_input: Option<Value>,
    partition_input_list: Vec<Value>,
    partition_values: Vec<String>,
    partitions_to_delete: Vec<PartitionValueList>,
    expression: Option<String>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct PartitionValueList {
    values: Vec<String>,
}

const OPERATIONS: &[&str] = &[
    "CreateDatabase", "GetDatabase", "GetDatabases", "UpdateDatabase", "DeleteDatabase", "CreateTable", "GetTable", "GetTables", "UpdateTable",
    "DeleteTable", "CreatePartition", "BatchCreatePartition", "GetPartition", "GetPartitions", "BatchDeletePartition", "DeletePartition",
];

/// `action` on the Glue resources a call on `database` / `table` touches, as Glue checks them:
/// the catalog, then the database, then the table.
pub fn catalog_access(action: &str, region: &str, database: Option<&str>, table: Option<&str>) -> Vec<Access> {
    let arn = |kind: &str| format!("arn:aws:glue:{region}:{ACCOUNT}:{kind}");
    let mut out = vec![Access::new(action, arn("catalog"))];
    if let Some(db) = database.map(str::to_ascii_lowercase) {
        out.push(Access::new(action, arn(&format!("database/{db}"))));
        if let Some(t) = table {
            out.push(Access::new(action, arn(&format!("table/{db}/{}", t.to_ascii_lowercase()))));
        }
    }
    out
}

/// What a Glue call needs under `--enforce-iam`: `glue:<Operation>` on every resource it touches.
pub fn access(req: &AwsRequest, region: &str) -> Vec<Access> {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let i: In = serde_json::from_slice(&req.body).unwrap_or_default();
    let input_name = |v: &Option<Value>| v.as_ref().and_then(|d| d.get("Name")).and_then(Value::as_str).map(str::to_string);
    let database = match op {
        "CreateDatabase" => input_name(&i.database_input),
        "GetDatabase" | "UpdateDatabase" | "DeleteDatabase" => i.name.clone(),
        "GetDatabases" => None,
        _ => i.database_name.clone(),
    };
    let table = match op {
        "CreateTable" | "UpdateTable" => input_name(&i.table_input),
        "GetTable" | "DeleteTable" => i.name.clone(),
        "GetTables" => Some("*".into()),
        "CreateDatabase" | "GetDatabase" | "UpdateDatabase" | "DeleteDatabase" => None,
        _ => i.table_name.clone(),
    };
    catalog_access(&format!("glue:{op}"), region, database.as_deref(), table.as_deref())
}

/// Handles one Glue request.
pub fn handle(glue: &Glue, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let Some(name) = OPERATIONS.iter().find(|o| **o == op).copied() else {
        return (GlueError::UnknownOperation(op.to_string()).to_aws().render(PROTOCOL, &req.request_id, false), "Unknown");
    };
    let resp = match run(glue, name, &req.body) {
        Ok(v) => json::ok(PROTOCOL, &v),
        Err(e) => e.render(PROTOCOL, &req.request_id, false),
    };
    (resp, name)
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, AwsError> {
    v.as_deref().ok_or_else(|| GlueError::InvalidInput(format!("{field} is required")).to_aws())
}

fn run(glue: &Glue, op: &str, body: &[u8]) -> Result<Value, AwsError> {
    let i: In = json::parse(body)?;
    let e = |e: GlueError| e.to_aws();
    let db = || required(&i.database_name, "DatabaseName");
    let tbl = || required(&i.table_name, "TableName");
    let obj = |v: &Option<Value>, f: &str| v.clone().ok_or_else(|| GlueError::InvalidInput(format!("{f} is required")).to_aws());
    Ok(match op {
        "CreateDatabase" => {
            glue.create_database(&obj(&i.database_input, "DatabaseInput")?).map_err(e)?;
            json!({})
        }
        "GetDatabase" => json!({"Database": glue.get_database(required(&i.name, "Name")?).map_err(e)?}),
        "GetDatabases" => {
            let (list, next) = glue.get_databases(i.next_token.as_deref(), i.max_results).map_err(e)?;
            json!({"DatabaseList": list, "NextToken": next})
        }
        "UpdateDatabase" => {
            glue.update_database(required(&i.name, "Name")?, &obj(&i.database_input, "DatabaseInput")?).map_err(e)?;
            json!({})
        }
        "DeleteDatabase" => {
            glue.delete_database(required(&i.name, "Name")?).map_err(e)?;
            json!({})
        }
        "CreateTable" => {
            glue.create_table(db()?, &obj(&i.table_input, "TableInput")?).map_err(e)?;
            json!({})
        }
        "GetTable" => json!({"Table": glue.get_table(db()?, required(&i.name, "Name")?).map_err(e)?}),
        "GetTables" => {
            let (list, next) = glue.get_tables(db()?, i.expression.as_deref(), i.next_token.as_deref(), i.max_results).map_err(e)?;
            json!({"TableList": list, "NextToken": next})
        }
        "UpdateTable" => {
            glue.update_table(db()?, &obj(&i.table_input, "TableInput")?).map_err(e)?;
            json!({})
        }
        "DeleteTable" => {
            glue.delete_table(db()?, required(&i.name, "Name")?).map_err(e)?;
            json!({})
        }
        "CreatePartition" => {
            glue.create_partition(db()?, tbl()?, &obj(&i.partition_input, "PartitionInput")?).map_err(e)?;
            json!({})
        }
        "BatchCreatePartition" => json!({"Errors": glue.batch_create_partition(db()?, tbl()?, &i.partition_input_list).map_err(e)?}),
        "GetPartition" => json!({"Partition": glue.get_partition(db()?, tbl()?, &i.partition_values).map_err(e)?}),
        "GetPartitions" => {
            let (list, next) = glue.get_partitions(db()?, tbl()?, i.expression.as_deref(), i.next_token.as_deref(), i.max_results).map_err(e)?;
            json!({"Partitions": list, "NextToken": next})
        }
        "DeletePartition" => {
            let errs = glue.batch_delete_partition(db()?, tbl()?, std::slice::from_ref(&i.partition_values)).map_err(e)?;
            if !errs.is_empty() {
                return Err(GlueError::EntityNotFound("Cannot find partition.".into()).to_aws());
            }
            json!({})
        }
        "BatchDeletePartition" => {
            let vals: Vec<Vec<String>> = i.partitions_to_delete.into_iter().map(|p| p.values).collect();
            json!({"Errors": glue.batch_delete_partition(db()?, tbl()?, &vals).map_err(e)?})
        }
        _ => return Err(GlueError::UnknownOperation(op.to_string()).to_aws()),
    })
}
