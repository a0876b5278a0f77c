//! `AWS::QuickSight::DataSource`, `DataSet` and `Dashboard`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    match ty {
        "AWS::QuickSight::DataSource" | "AWS::QuickSight::DataSet" | "AWS::QuickSight::Dashboard" => {
            let (kind, id_key) = quicksight_kind(ty);
            let account = s(props, "AwsAccountId").unwrap_or_else(|| ACCOUNT.to_string());
            let id = need(props, id_key, ty)?;
            let body = Value::Object(object(props, &["AwsAccountId", "Permissions", "Tags"]));
            let path = if kind == "dashboards" { format!("/accounts/{account}/{kind}/{}", url_encode(&id)) } else { format!("/accounts/{account}/{kind}") };
            let out = api.rest("quicksight", Method::POST, &path, &[], Some(&body)).await.map_err(fail)?;
            if out.get("CreationStatus").and_then(Value::as_str) == Some("CREATION_FAILED") {
                return Err(format!("{ty} {id} failed to create (CREATION_FAILED)"));
            }
            let arn = out.get("Arn").cloned().unwrap_or_default();
            Ok(Created { physical_id: id, attrs: attrs(vec![("Arn", arn)]) })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, _old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    if ty == "AWS::QuickSight::DataSource" || ty == "AWS::QuickSight::DataSet" || ty == "AWS::QuickSight::Dashboard" {
        let (kind, _) = quicksight_kind(ty);
        let account = s(new, "AwsAccountId").unwrap_or_else(|| ACCOUNT.to_string());
        let body = Value::Object(object(new, &["AwsAccountId", "Permissions", "Tags", "DataSourceId", "DataSetId", "DashboardId"]));
        api.rest("quicksight", Method::PUT, &format!("/accounts/{account}/{kind}/{}", url_encode(id)), &[], Some(&body)).await.map_err(fail)?;
        if kind == "dashboards" {
            let versions = api.rest("quicksight", Method::GET, &format!("/accounts/{account}/dashboards/{}/versions", url_encode(id)), &[], None).await.map_err(fail)?;
            let latest = versions.get("DashboardVersionSummaryList").and_then(Value::as_array).and_then(|v| v.last()).and_then(|v| v.get("VersionNumber")).and_then(Value::as_u64).unwrap_or(1);
            api.rest("quicksight", Method::PUT, &format!("/accounts/{account}/dashboards/{}/versions/{latest}", url_encode(id)), &[], None).await.map_err(fail)?;
        }
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::QuickSight::DataSource" | "AWS::QuickSight::DataSet" | "AWS::QuickSight::Dashboard" => {
            let (kind, _) = quicksight_kind(ty);
            let account = s(props, "AwsAccountId").unwrap_or_else(|| ACCOUNT.to_string());
            gone(api.rest("quicksight", Method::DELETE, &format!("/accounts/{account}/{kind}/{}", url_encode(id)), &[], None).await)
        }
        _ => Ok(()),
    }
}

/// The QuickSight API path segment and id property of a QuickSight resource type.
fn quicksight_kind(ty: &str) -> (&'static str, &'static str) {
    match ty {
        "AWS::QuickSight::DataSource" => ("data-sources", "DataSourceId"),
        "AWS::QuickSight::DataSet" => ("data-sets", "DataSetId"),
        _ => ("dashboards", "DashboardId"),
    }
}
