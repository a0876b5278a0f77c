//! `AWS::Glue::Database`, `Table` and `Partition`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    match ty {
        "AWS::Glue::Database" => {
            let input = props.get("DatabaseInput").cloned().unwrap_or_default();
            let name = input.get("Name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 255, true));
            let mut input = input;
            input["Name"] = json!(name);
            api.json("glue", "AWSGlue.CreateDatabase", &json!({ "DatabaseInput": input })).await.map_err(fail)?;
            Ok(Created { physical_id: name, attrs: Map::new() })
        }
        "AWS::Glue::Table" => {
            let db = need(props, "DatabaseName", ty)?;
            let mut input = props.get("TableInput").cloned().unwrap_or_default();
            let name = input.get("Name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 255, true));
            input["Name"] = json!(name);
            api.json("glue", "AWSGlue.CreateTable", &json!({ "DatabaseName": db, "TableInput": input })).await.map_err(fail)?;
            Ok(Created { physical_id: name, attrs: Map::new() })
        }
        "AWS::Glue::Partition" => {
            let body = json!({ "DatabaseName": need(props, "DatabaseName", ty)?, "TableName": need(props, "TableName", ty)?, "PartitionInput": props.get("PartitionInput") });
            api.json("glue", "AWSGlue.CreatePartition", &strip_nulls(body)).await.map_err(fail)?;
            let values: Vec<String> = props.pointer("/PartitionInput/Values").and_then(Value::as_array).map(|a| a.iter().map(template::scalar).collect()).unwrap_or_default();
            Ok(Created { physical_id: values.join("|"), attrs: Map::new() })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, _old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    match ty {
        "AWS::Glue::Database" => {
            let mut input = new.get("DatabaseInput").cloned().unwrap_or_default();
            input["Name"] = json!(id);
            api.json("glue", "AWSGlue.UpdateDatabase", &json!({ "Name": id, "DatabaseInput": input })).await.map_err(fail)?;
        }
        "AWS::Glue::Table" => {
            let mut input = new.get("TableInput").cloned().unwrap_or_default();
            input["Name"] = json!(id);
            api.json("glue", "AWSGlue.UpdateTable", &json!({ "DatabaseName": new.get("DatabaseName"), "TableInput": input })).await.map_err(fail)?;
        }
        _ => {}
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::Glue::Database" => gone(api.json("glue", "AWSGlue.DeleteDatabase", &json!({ "Name": id })).await),
        "AWS::Glue::Table" => gone(api.json("glue", "AWSGlue.DeleteTable", &json!({ "DatabaseName": props.get("DatabaseName"), "Name": id })).await),
        "AWS::Glue::Partition" => {
            let body = json!({ "DatabaseName": props.get("DatabaseName"), "TableName": props.get("TableName"), "PartitionValues": props.pointer("/PartitionInput/Values") });
            gone(api.json("glue", "AWSGlue.DeletePartition", &body).await)
        }
        _ => Ok(()),
    }
}
