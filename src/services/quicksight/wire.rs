//! QuickSight's wire layer (restJson1, paths under `/accounts/{AwsAccountId}/`): which operation a
//! path and method are, JSON in, JSON out with the `RequestId` QuickSight puts in every body and
//! the HTTP status its `Status` member reads.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::error::QsError;
use super::ops::QuickSight;
use crate::protocol::{AwsRequest, HttpResponse, Protocol, percent_decode, response};

fn ok(status: StatusCode, mut v: Value, request_id: &str) -> HttpResponse {
    if let Some(o) = v.as_object_mut() {
        o.insert("RequestId".into(), json!(request_id));
        o.insert("Status".into(), json!(status.as_u16()));
    }
    response(status, vec![("content-type", "application/json".into())], Bytes::from(v.to_string()))
}

/// What a QuickSight call needs under `--enforce-iam`: `quicksight:<Action>` on the resource's
/// ARN (the account's for listings and creates without an id in the path).
pub fn access(req: &AwsRequest, region: &str) -> Vec<crate::services::iam::authz::Access> {
    let parts: Vec<String> = req.path.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let arn = |acct: &str, kind: &str, id: &str| format!("arn:aws:quicksight:{region}:{acct}:{kind}/{id}");
    let (action, resource) = match (&req.method, p.as_slice()) {
        (&Method::POST, ["accounts", a, "data-sources"]) => ("CreateDataSource", arn(a, "datasource", body.get("DataSourceId").and_then(Value::as_str).unwrap_or("*"))),
        (&Method::POST, ["accounts", a, "data-sets"]) => ("CreateDataSet", arn(a, "dataset", body.get("DataSetId").and_then(Value::as_str).unwrap_or("*"))),
        (m, ["accounts", a, "data-sources", id]) => (verb(m, "DataSource"), arn(a, "datasource", id)),
        (m, ["accounts", a, "data-sets", id]) => (verb(m, "DataSet"), arn(a, "dataset", id)),
        (m, ["accounts", a, "data-sets", ds, "ingestions", id]) => {
            let action = match *m { Method::PUT => "CreateIngestion", Method::DELETE => "CancelIngestion", _ => "DescribeIngestion" };
            (action, format!("{}/ingestion/{id}", arn(a, "dataset", ds)))
        }
        (_, ["accounts", a, "data-sets", ds, "ingestions"]) => ("ListIngestions", arn(a, "dataset", ds)),
        (&Method::POST, ["accounts", a, "dashboards", id]) => ("CreateDashboard", arn(a, "dashboard", id)),
        (m, ["accounts", a, "dashboards", id]) => (verb(m, "Dashboard"), arn(a, "dashboard", id)),
        (_, ["accounts", a, "dashboards", id, "definition"]) => ("DescribeDashboardDefinition", arn(a, "dashboard", id)),
        (_, ["accounts", a, "dashboards", id, "versions"]) => ("ListDashboardVersions", arn(a, "dashboard", id)),
        (_, ["accounts", a, "dashboards", id, "versions", _]) => ("UpdateDashboardPublishedVersion", arn(a, "dashboard", id)),
        (m, ["accounts", a, "namespaces", ns, "users", rest @ ..]) => {
            let action = match (m.as_str(), rest.len()) { ("POST", _) => "RegisterUser", ("DELETE", _) => "DeleteUser", (_, 0) => "ListUsers", _ => "DescribeUser" };
            (action, arn(a, "user", &format!("{ns}/{}", rest.first().copied().unwrap_or("*"))))
        }
        (_, ["accounts", a, "embed-url", kind]) => {
            let action = if *kind == "registered-user" { "GenerateEmbedUrlForRegisteredUser" } else { "GenerateEmbedUrlForAnonymousUser" };
            (action, arn(a, "dashboard", body.pointer("/ExperienceConfiguration/Dashboard/InitialDashboardId").and_then(Value::as_str).unwrap_or("*")))
        }
        (_, ["accounts", a, "dashboards", id, "embed-url"]) => ("GetDashboardEmbedUrl", arn(a, "dashboard", id)),
        (m, ["accounts", a, "dashboards", id, "permissions"]) => (if *m == Method::PUT { "UpdateDashboardPermissions" } else { "DescribeDashboardPermissions" }, arn(a, "dashboard", id)),
        (m, ["accounts", a, kind @ ("analyses" | "templates"), id, ..]) => {
            let k = asset_kind(kind);
            let action = match (m.as_str(), k) {
                ("POST", "analysis") => "CreateAnalysis",
                ("POST", _) => "CreateTemplate",
                ("PUT", "analysis") => "UpdateAnalysis",
                ("PUT", _) => "UpdateTemplate",
                ("DELETE", "analysis") => "DeleteAnalysis",
                ("DELETE", _) => "DeleteTemplate",
                (_, "analysis") => "DescribeAnalysis",
                _ => "DescribeTemplate",
            };
            (action, arn(a, k, id))
        }
        (_, ["accounts", _, kind]) => (match *kind { "data-sources" => "ListDataSources", "data-sets" => "ListDataSets", "analyses" => "ListAnalyses", "templates" => "ListTemplates", _ => "ListDashboards" }, "*".to_string()),
        _ => ("Unknown", "*".to_string()),
    };
    vec![crate::services::iam::authz::Access::new(format!("quicksight:{action}"), resource)]
}

/// `analysis` or `template` for a path segment.
fn asset_kind(segment: &str) -> &'static str {
    if segment == "analyses" { "analysis" } else { "template" }
}

/// Describe / Update / Delete by method.
fn verb(m: &Method, what: &str) -> &'static str {
    match (m.as_str(), what) {
        ("GET", "DataSource") => "DescribeDataSource",
        ("PUT", "DataSource") => "UpdateDataSource",
        ("DELETE", "DataSource") => "DeleteDataSource",
        ("GET", "DataSet") => "DescribeDataSet",
        ("PUT", "DataSet") => "UpdateDataSet",
        ("DELETE", "DataSet") => "DeleteDataSet",
        ("GET", _) => "DescribeDashboard",
        ("PUT", _) => "UpdateDashboard",
        ("DELETE", _) => "DeleteDashboard",
        _ => "Unknown",
    }
}

/// Handles one QuickSight request.
pub fn handle(qs: &Arc<QuickSight>, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let parts: Vec<String> = req.path.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    let body: Value = if req.body.is_empty() { json!({}) } else { serde_json::from_slice(&req.body).unwrap_or(Value::Null) };
    let version = req.query_param("version-number").and_then(|v| v.parse::<u64>().ok());
    let rid = req.request_id.as_str();
    let (op, result): (&'static str, Result<(StatusCode, Value), QsError>) = match (&req.method, p.as_slice()) {
        _ if body.is_null() => ("Invalid", Err(QsError::InvalidParameterValue("The request body is not valid JSON.".into()))),
        (&Method::POST, ["accounts", acct, "data-sources"]) => ("CreateDataSource", qs.create_data_source(acct, &body).map(|v| (StatusCode::ACCEPTED, v))),
        (&Method::GET, ["accounts", _, "data-sources"]) => ("ListDataSources", Ok((StatusCode::OK, json!({"DataSources": qs.data_sources()})))),
        (&Method::GET, ["accounts", _, "data-sources", id]) => ("DescribeDataSource", qs.data_source(id).map(|v| (StatusCode::OK, json!({"DataSource": v})))),
        (&Method::PUT, ["accounts", acct, "data-sources", id]) => ("UpdateDataSource", qs.update_data_source(acct, id, &body).map(|v| (StatusCode::ACCEPTED, v))),
        (&Method::DELETE, ["accounts", _, "data-sources", id]) => ("DeleteDataSource", qs.delete_data_source(id).map(|v| (StatusCode::OK, v))),
        (&Method::POST, ["accounts", acct, "data-sets"]) => {
            let id = body.get("DataSetId").and_then(Value::as_str).unwrap_or_default().to_string();
            ("CreateDataSet", if id.is_empty() { Err(QsError::InvalidParameterValue("DataSetId is required".into())) } else { qs.put_data_set(acct, &id, &body, false).map(|v| (StatusCode::CREATED, v)) })
        }
        (&Method::PUT, ["accounts", acct, "data-sets", id]) => ("UpdateDataSet", qs.put_data_set(acct, id, &body, true).map(|v| (StatusCode::OK, v))),
        (&Method::GET, ["accounts", _, "data-sets"]) => ("ListDataSets", Ok((StatusCode::OK, json!({"DataSetSummaries": qs.data_sets()})))),
        (&Method::GET, ["accounts", _, "data-sets", id]) => ("DescribeDataSet", qs.data_set(id).map(|v| (StatusCode::OK, json!({"DataSet": v})))),
        (&Method::DELETE, ["accounts", _, "data-sets", id]) => ("DeleteDataSet", qs.delete_data_set(id).map(|v| (StatusCode::OK, v))),
        (&Method::PUT, ["accounts", acct, "data-sets", ds, "ingestions", id]) => {
            let kind = body.get("IngestionType").and_then(Value::as_str).unwrap_or("FULL_REFRESH");
            ("CreateIngestion", qs.create_ingestion(acct, ds, id, kind).map(|v| (StatusCode::CREATED, v)))
        }
        (&Method::GET, ["accounts", _, "data-sets", ds, "ingestions"]) => ("ListIngestions", qs.ingestions(ds).map(|v| (StatusCode::OK, json!({"Ingestions": v})))),
        (&Method::GET, ["accounts", _, "data-sets", ds, "ingestions", id]) => ("DescribeIngestion", qs.ingestion(ds, id).map(|v| (StatusCode::OK, json!({"Ingestion": v})))),
        (&Method::DELETE, ["accounts", _, "data-sets", ds, "ingestions", id]) => ("CancelIngestion", qs.cancel_ingestion(ds, id).map(|v| (StatusCode::OK, v))),
        (&Method::POST, ["accounts", acct, "dashboards", id]) => ("CreateDashboard", qs.put_dashboard(acct, id, &body, false).map(|v| (StatusCode::ACCEPTED, v))),
        (&Method::PUT, ["accounts", acct, "dashboards", id]) => ("UpdateDashboard", qs.put_dashboard(acct, id, &body, true).map(|v| (StatusCode::ACCEPTED, v))),
        (&Method::GET, ["accounts", _, "dashboards"]) => ("ListDashboards", Ok((StatusCode::OK, json!({"DashboardSummaryList": qs.dashboards()})))),
        (&Method::GET, ["accounts", _, "dashboards", id]) => ("DescribeDashboard", qs.dashboard(id, version).map(|v| (StatusCode::OK, json!({"Dashboard": v})))),
        (&Method::GET, ["accounts", _, "dashboards", id, "definition"]) => ("DescribeDashboardDefinition", qs.dashboard_definition(id, version).map(|v| (StatusCode::OK, v))),
        (&Method::GET, ["accounts", _, "dashboards", id, "versions"]) => ("ListDashboardVersions", qs.dashboard_versions(id).map(|v| (StatusCode::OK, json!({"DashboardVersionSummaryList": v})))),
        (&Method::PUT, ["accounts", _, "dashboards", id, "versions", n]) => match n.parse::<u64>() {
            Ok(n) => ("UpdateDashboardPublishedVersion", qs.publish(id, n).map(|v| (StatusCode::OK, v))),
            Err(_) => ("UpdateDashboardPublishedVersion", Err(QsError::InvalidParameterValue(format!("{n} is not a version number")))),
        },
        (&Method::DELETE, ["accounts", _, "dashboards", id]) => ("DeleteDashboard", qs.delete_dashboard(id).map(|v| (StatusCode::OK, v))),
        (&Method::GET, ["accounts", _, "dashboards", id, "permissions"]) => ("DescribeDashboardPermissions", qs.dashboard_permissions(id).map(|v| (StatusCode::OK, v))),
        (&Method::PUT, ["accounts", _, "dashboards", id, "permissions"]) => ("UpdateDashboardPermissions", qs.update_dashboard_permissions(id, &body).map(|v| (StatusCode::OK, v))),
        (&Method::POST, ["accounts", acct, kind @ ("analyses" | "templates"), id]) => {
            let k = asset_kind(kind);
            (if k == "analysis" { "CreateAnalysis" } else { "CreateTemplate" }, qs.put_asset(acct, k, id, &body, false).map(|v| (StatusCode::ACCEPTED, v)))
        }
        (&Method::PUT, ["accounts", acct, kind @ ("analyses" | "templates"), id]) => {
            let k = asset_kind(kind);
            (if k == "analysis" { "UpdateAnalysis" } else { "UpdateTemplate" }, qs.put_asset(acct, k, id, &body, true).map(|v| (StatusCode::ACCEPTED, v)))
        }
        (&Method::GET, ["accounts", _, kind @ ("analyses" | "templates")]) => {
            let k = asset_kind(kind);
            let key = if k == "analysis" { "AnalysisSummaryList" } else { "TemplateSummaryList" };
            (if k == "analysis" { "ListAnalyses" } else { "ListTemplates" }, Ok((StatusCode::OK, json!({ key: qs.list_assets(k) }))))
        }
        (&Method::GET, ["accounts", _, kind @ ("analyses" | "templates"), id]) => {
            let k = asset_kind(kind);
            (if k == "analysis" { "DescribeAnalysis" } else { "DescribeTemplate" }, qs.describe_asset(k, id).map(|v| (StatusCode::OK, v)))
        }
        (&Method::GET, ["accounts", _, kind @ ("analyses" | "templates"), id, "definition"]) => {
            let k = asset_kind(kind);
            (if k == "analysis" { "DescribeAnalysisDefinition" } else { "DescribeTemplateDefinition" }, qs.asset_definition(k, id).map(|v| (StatusCode::OK, v)))
        }
        (&Method::DELETE, ["accounts", _, kind @ ("analyses" | "templates"), id]) => {
            let k = asset_kind(kind);
            (if k == "analysis" { "DeleteAnalysis" } else { "DeleteTemplate" }, qs.delete_asset(k, id).map(|v| (StatusCode::OK, v)))
        }
        (&Method::POST, ["accounts", acct, "namespaces", ns, "users"]) => ("RegisterUser", qs.register_user(acct, ns, &body).map(|v| (StatusCode::OK, v))),
        (&Method::GET, ["accounts", acct, "namespaces", ns, "users"]) => ("ListUsers", Ok((StatusCode::OK, json!({"UserList": qs.users(acct, ns)})))),
        (&Method::GET, ["accounts", acct, "namespaces", ns, "users", name]) => ("DescribeUser", qs.user(acct, ns, name).map(|v| (StatusCode::OK, json!({"User": v})))),
        (&Method::DELETE, ["accounts", acct, "namespaces", ns, "users", name]) => ("DeleteUser", qs.delete_user(acct, ns, name).map(|_| (StatusCode::OK, json!({})))),
        (&Method::POST, ["accounts", acct, "embed-url", "anonymous-user"]) => ("GenerateEmbedUrlForAnonymousUser", qs.embed_anonymous(acct, &body).map(|v| (StatusCode::OK, v))),
        (&Method::POST, ["accounts", _, "embed-url", "registered-user"]) => ("GenerateEmbedUrlForRegisteredUser", qs.embed_registered(&body).map(|v| (StatusCode::OK, v))),
        (&Method::GET, ["accounts", _, "dashboards", id, "embed-url"]) => ("GetDashboardEmbedUrl", qs.embed_url(id).map(|u| (StatusCode::OK, json!({"EmbedUrl": u})))),
        _ => (
            "Unsupported",
            Err(QsError::InvalidParameterValue(format!("firelocal's QuickSight does not implement {} {} yet (data sources, data sets, ingestions and dashboards are)", req.method, req.path))),
        ),
    };
    let resp = match result {
        Ok((status, v)) => ok(status, v, rid),
        Err(e) => e.to_aws().render(Protocol::RestJson1, rid, req.method == Method::HEAD),
    };
    (resp, op)
}

/// `GET /_firelocal/console/api/dashboards/{id}/visuals/{visualId}/data[?format=csv]`: the numbers
/// a visual draws, for tests to assert on.
pub fn visual_data(qs: &QuickSight, dashboard: &str, visual: &str, csv: bool, request_id: &str) -> HttpResponse {
    match qs.visual_data(dashboard, visual) {
        Ok(d) if csv => {
            let cell = |v: &Value| match v {
                Value::String(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let mut out = d.columns.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect::<Vec<_>>().join(",") + "\n";
            for r in &d.rows {
                out.push_str(&r.iter().map(cell).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
            response(StatusCode::OK, vec![("content-type", "text/csv".into())], Bytes::from(out))
        }
        Ok(d) => {
            let v = json!({"DashboardId": dashboard, "VisualId": visual, "Type": d.kind, "Title": d.title, "Columns": d.columns, "Rows": d.rows});
            response(StatusCode::OK, vec![("content-type", "application/json".into())], Bytes::from(v.to_string()))
        }
        Err(e) => e.to_aws().render(Protocol::RestJson1, request_id, false),
    }
}
