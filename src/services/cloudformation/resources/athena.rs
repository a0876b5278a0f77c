//! `AWS::Athena::WorkGroup` and `NamedQuery`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    match ty {
        "AWS::Athena::WorkGroup" => {
            let name = need(props, "Name", ty)?;
            let body = json!({ "Name": name, "Description": props.get("Description"), "Configuration": props.get("WorkGroupConfiguration"), "Tags": props.get("Tags") });
            api.json("athena", "AmazonAthena.CreateWorkGroup", &strip_nulls(body)).await.map_err(fail)?;
            if s(props, "State").as_deref() == Some("DISABLED") {
                api.json("athena", "AmazonAthena.UpdateWorkGroup", &json!({ "WorkGroup": name, "State": "DISABLED" })).await.map_err(fail)?;
            }
            Ok(Created { attrs: attrs(vec![("CreationTime", json!(crate::protocol::time::now_millis() / 1000))]), physical_id: name })
        }
        "AWS::Athena::NamedQuery" => {
            let body = json!({
                "Name": s(props, "Name").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 128, false)),
                "Database": need(props, "Database", ty)?, "QueryString": need(props, "QueryString", ty)?,
                "Description": props.get("Description"), "WorkGroup": props.get("WorkGroup"),
            });
            let out = api.json("athena", "AmazonAthena.CreateNamedQuery", &strip_nulls(body)).await.map_err(fail)?;
            let id = out.get("NamedQueryId").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("NamedQueryId", json!(id))]), physical_id: id })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, _old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    if ty == "AWS::Athena::WorkGroup" {
        let mut body = json!({ "WorkGroup": id, "Description": new.get("Description"), "State": new.get("State") });
        if let Some(cfg) = new.get("WorkGroupConfiguration").and_then(Value::as_object) {
            let mut updates = cfg.clone();
            if let Some(rc) = updates.remove("ResultConfiguration") {
                updates.insert("ResultConfigurationUpdates".into(), rc);
            }
            body["ConfigurationUpdates"] = Value::Object(updates);
        }
        api.json("athena", "AmazonAthena.UpdateWorkGroup", &strip_nulls(body)).await.map_err(fail)?;
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, _props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::Athena::WorkGroup" => gone(api.json("athena", "AmazonAthena.DeleteWorkGroup", &json!({ "WorkGroup": id, "RecursiveDeleteOption": true })).await),
        "AWS::Athena::NamedQuery" => gone(api.json("athena", "AmazonAthena.DeleteNamedQuery", &json!({ "NamedQueryId": id })).await),
        _ => Ok(()),
    }
}
