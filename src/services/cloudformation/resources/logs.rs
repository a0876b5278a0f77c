//! `AWS::Logs::LogGroup`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let region = ctx.region;
    match ty {
        "AWS::Logs::LogGroup" => {
            let name = s(props, "LogGroupName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 512, false));
            api.json("logs", "Logs_20140328.CreateLogGroup", &json!({ "logGroupName": name })).await.map_err(fail)?;
            if let Some(days) = props.get("RetentionInDays") {
                let days: i64 = template::scalar(days).parse().unwrap_or(0);
                api.json("logs", "Logs_20140328.PutRetentionPolicy", &json!({ "logGroupName": name, "retentionInDays": days })).await.map_err(fail)?;
            }
            Ok(Created { attrs: attrs(vec![("Arn", json!(format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}:*")))]), physical_id: name })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    if ty == "AWS::Logs::LogGroup" && old.get("RetentionInDays") != new.get("RetentionInDays") {
        match new.get("RetentionInDays") {
            Some(days) => {
                let days: i64 = template::scalar(days).parse().unwrap_or(0);
                api.json("logs", "Logs_20140328.PutRetentionPolicy", &json!({ "logGroupName": id, "retentionInDays": days })).await.map_err(fail)?;
            }
            None => {
                api.json("logs", "Logs_20140328.DeleteRetentionPolicy", &json!({ "logGroupName": id })).await.map_err(fail)?;
            }
        }
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, _props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::Logs::LogGroup" => gone(api.json("logs", "Logs_20140328.DeleteLogGroup", &json!({ "logGroupName": id })).await),
        _ => Ok(()),
    }
}
