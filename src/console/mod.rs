//! firelocal's own web console at `/_firelocal/console/`: QuickSight dashboards drawn as SVG
//! from their data sets (and embeddable), and the pipeline live: buckets and objects, delivery
//! streams, functions with their latest log lines, REST APIs, Athena's query history (results,
//! re-run) and stacks with their events. Server-rendered HTML from the services' typed APIs; the
//! only script is the optional auto-refresh.

pub mod charts;
pub mod html;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;

use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol, percent_decode, response};
use crate::server::AppState;
use html::{esc, page, seg, table};

const ROOT: &str = "/_firelocal/console";

fn html_response(body: String) -> HttpResponse {
    response(StatusCode::OK, vec![("content-type", "text/html; charset=utf-8".into()), ("cache-control", "no-store".into())], Bytes::from(body))
}

fn not_found(req: &AwsRequest, what: &str) -> HttpResponse {
    let body = page("Not found", &format!(r#"<h1>Not found</h1><p class="err">{}</p><p><a href="{ROOT}/">Back to the console</a></p>"#, esc(what)), false);
    let mut r = html_response(body);
    *r.status_mut() = StatusCode::NOT_FOUND;
    let _ = req;
    r
}

fn redirect(to: &str) -> HttpResponse {
    response(StatusCode::SEE_OTHER, vec![("location", to.to_string())], Bytes::new())
}

fn ts(secs: Option<f64>) -> String {
    secs.and_then(|s| aws_smithy_types::DateTime::from_secs(s as i64).fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default()
}

fn ts_ms(ms: i64) -> String {
    ts(Some(ms as f64 / 1000.0))
}

/// Answers a request under `/_firelocal/console/`.
pub async fn handle(state: &AppState, req: &AwsRequest) -> HttpResponse {
    let rest = req.path.strip_prefix(ROOT).unwrap_or("").trim_start_matches('/');
    let parts: Vec<String> = rest.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    let get = req.method == Method::GET || req.method == Method::HEAD;
    match (get, p.as_slice()) {
        (true, []) => html_response(overview(state)),
        (true, ["api", "dashboards", dashboard, "visuals", visual, "data"]) => {
            crate::services::quicksight::wire::visual_data(&state.services.quicksight, dashboard, visual, req.query_param("format") == Some("csv"), &req.request_id)
        }
        (true, ["api", "stacks", name, "outputs"]) => stack_outputs(state, name, req),
        (true, ["dashboards"]) => html_response(dashboards(state)),
        (true, ["dashboards", id]) => html_response(dashboard(state, id, false)),
        (true, ["embed", "dashboards", id]) => html_response(dashboard(state, id, true)),
        (true, ["s3"]) => html_response(buckets(state)),
        (true, ["s3", bucket]) => html_response(objects(state, bucket, req.query_param("prefix").unwrap_or(""))),
        (true, ["s3", bucket, ..]) => {
            let key = parts[2..].join("/");
            object(state, bucket, &key).unwrap_or_else(|| not_found(req, &format!("No object s3://{bucket}/{key}")))
        }
        (true, ["firehose"]) => html_response(streams(state)),
        (true, ["lambda"]) => html_response(functions(state)),
        (true, ["apigateway"]) => html_response(apis(state)),
        (true, ["athena"]) => html_response(queries(state)),
        (true, ["athena", id]) => html_response(query(state, id)),
        (false, ["athena", id, "rerun"]) if req.method == Method::POST => match rerun(state, id) {
            Ok(new_id) => redirect(&format!("{ROOT}/athena/{new_id}")),
            Err(m) => not_found(req, &m),
        },
        (true, ["stacks"]) => html_response(stacks(state)),
        (true, ["stacks", name]) => html_response(stack(state, name)),
        (true, ["faults"]) => html_response(faults(state)),
        _ => {
            if p.first() == Some(&"api") {
                return AwsError::new(StatusCode::NOT_FOUND, "NotFound", format!("no firelocal endpoint {} {}", req.method, req.path)).render(Protocol::RestJson1, &req.request_id, false);
            }
            not_found(req, &format!("No console page {}", req.path))
        }
    }
}

fn overview(state: &AppState) -> String {
    let s = &state.services;
    let buckets = s.s3.store.list_buckets().map(|b| b.len()).unwrap_or(0);
    let (streams, _) = s.firehose.list_delivery_streams(10_000, None, None);
    let (functions, _) = s.lambda.list_functions(None, 10_000);
    let stacks = s.cloudformation.all().iter().filter(|x| x.deleted_ms.is_none()).count();
    let dashboards = s.quicksight.dashboards().len();
    let cards = [("dashboards", "Dashboards", dashboards), ("s3", "Buckets", buckets), ("firehose", "Delivery streams", streams.len()), ("lambda", "Functions", functions.len()), ("stacks", "Stacks", stacks)];
    let body: String = cards.iter().map(|(p, n, c)| format!(r#"<a class="card" href="{ROOT}/{p}"><div class="kpi">{c}</div><div>{n}</div></a>"#)).collect();
    page("Console", &format!("<h1>firelocal console</h1>{body}<p class=\"muted\">Tick <em>live</em> to refresh every 2 s.</p>"), false)
}

/// The injected faults in force and how many requests each has hit.
fn faults(state: &AppState) -> String {
    let rows: Vec<Vec<String>> = state
        .faults
        .list()
        .iter()
        .map(|f| {
            let any = |v: &Option<String>| esc(v.as_deref().unwrap_or("*"));
            let error = match (&f.error, &f.partial, f.invocation) {
                (_, Some(p), _) => format!("every {} record: {}", p.every, p.code.as_deref().unwrap_or("ServiceUnavailableException")),
                (_, _, Some(s)) => format!("invocation {s:?}").to_lowercase(),
                (Some(e), _, _) => format!("{} {}", e.status.map(|s| s.to_string()).unwrap_or_default(), e.code),
                _ => "-".into(),
            };
            let count = f.count.map_or("unlimited".to_string(), |c| c.to_string());
            vec![esc(&f.id), any(&f.service), any(&f.operation), any(&f.resource), esc(error.trim()), f.latency_ms.to_string(), f.probability.to_string(), f.hits.to_string(), count]
        })
        .collect();
    let help = "<p class=\"muted\">Add faults with <code>POST /_firelocal/faults</code> or <code>serve --faults FILE</code>; see docs/hardening.md.</p>";
    page("Faults", &format!("<h1>Injected faults</h1>{}{help}", table(&["Id", "Service", "Operation", "Resource", "Fault", "Latency ms", "Probability", "Hits", "Count"], &rows)), false)
}

fn dashboards(state: &AppState) -> String {
    let rows: Vec<Vec<String>> = state
        .services
        .quicksight
        .dashboards()
        .iter()
        .map(|d| {
            let id = d["DashboardId"].as_str().unwrap_or_default();
            vec![format!(r#"<a href="{ROOT}/dashboards/{}">{}</a>"#, seg(id), esc(d["Name"].as_str().unwrap_or(id))), esc(id), d["PublishedVersionNumber"].to_string(), ts(d["LastUpdatedTime"].as_f64())]
        })
        .collect();
    page("Dashboards", &format!("<h1>QuickSight dashboards</h1>{}", table(&["Name", "Id", "Published version", "Updated"], &rows)), false)
}

/// One visual, drawn.
fn visual_html(state: &AppState, dashboard: &str, visual_id: &str) -> String {
    let link = format!("{ROOT}/api/dashboards/{}/visuals/{}/data", seg(dashboard), seg(visual_id));
    match state.services.quicksight.visual_data(dashboard, visual_id) {
        Ok(d) => {
            let num = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(0.0);
            let label = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            let chart = match d.kind.as_str() {
                "PieChartVisual" => charts::pie(&d.rows.iter().map(|r| (label(&r[0]), num(&r[r.len() - 2]), num(&r[r.len() - 1]))).collect::<Vec<_>>()),
                "BarChartVisual" if !d.rows.is_empty() && d.rows[0].len() >= 2 => charts::bars(&d.rows.iter().map(|r| (label(&r[0]), num(&r[r.len() - 1]))).collect::<Vec<_>>()),
                "LineChartVisual" if !d.rows.is_empty() && d.rows[0].len() >= 2 => charts::line(&d.rows.iter().map(|r| (label(&r[0]), num(&r[r.len() - 1]))).collect::<Vec<_>>()),
                "KPIVisual" => format!(r#"<div class="kpi">{}</div>"#, d.rows.first().and_then(|r| r.first()).map(|v| charts::fmt(num(v))).unwrap_or_default()),
                _ => table(&d.columns.iter().map(String::as_str).collect::<Vec<_>>(), &d.rows.iter().map(|r| r.iter().map(|v| esc(&label(v).replace("null", ""))).collect()).collect::<Vec<_>>()),
            };
            format!(
                r#"<section class="card visual" data-visual="{}"><h2>{}</h2>{chart}<p class="muted">{} · <a href="{link}">data</a> · <a href="{link}?format=csv">CSV</a></p></section>"#,
                esc(visual_id),
                esc(d.title.as_deref().unwrap_or(visual_id)),
                esc(&d.kind)
            )
        }
        Err(e) => format!(r#"<section class="card visual" data-visual="{}"><h2>{}</h2><p class="err">{}</p></section>"#, esc(visual_id), esc(visual_id), esc(&e.to_aws().message)),
    }
}

fn dashboard(state: &AppState, id: &str, embedded: bool) -> String {
    let qs = &state.services.quicksight;
    let Ok(def) = qs.dashboard_definition(id, None) else {
        return page("Dashboard", &format!(r#"<h1>Dashboard</h1><p class="err">Dashboard {} does not exist.</p>"#, esc(id)), embedded);
    };
    let name = def["Name"].as_str().unwrap_or(id).to_string();
    let mut body = format!("<h1>{}</h1>", esc(&name));
    if def["ResourceStatus"] != "CREATION_SUCCESSFUL" {
        let errors: Vec<String> = def["Errors"].as_array().into_iter().flatten().map(|e| esc(e["Message"].as_str().unwrap_or_default())).collect();
        body.push_str(&format!(r#"<p class="err">{}: {}</p>"#, esc(def["ResourceStatus"].as_str().unwrap_or_default()), errors.join("; ")));
    }
    for sheet in def.pointer("/Definition/Sheets").and_then(Value::as_array).into_iter().flatten() {
        body.push_str(&format!("<h2>{}</h2>", esc(sheet["Name"].as_str().or(sheet["SheetId"].as_str()).unwrap_or_default())));
        for v in sheet["Visuals"].as_array().into_iter().flatten() {
            if let Some(vid) = crate::services::quicksight::visual::visual_id(v) {
                body.push_str(&visual_html(state, id, &vid));
            }
        }
    }
    page(&name, &body, embedded)
}

fn buckets(state: &AppState) -> String {
    let rows: Vec<Vec<String>> = state
        .services
        .s3
        .store
        .list_buckets()
        .unwrap_or_default()
        .iter()
        .map(|b| vec![format!(r#"<a href="{ROOT}/s3/{}">{}</a>"#, seg(&b.name), esc(&b.name)), esc(&b.region), ts_ms(b.created)])
        .collect();
    page("S3", &format!("<h1>Buckets</h1>{}", table(&["Bucket", "Region", "Created"], &rows)), false)
}

fn objects(state: &AppState, bucket: &str, prefix: &str) -> String {
    let store = &state.services.s3.store;
    let list = store.list_objects(bucket, &[], prefix, 5000).unwrap_or_default();
    let mut folders: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    for o in &list {
        let rest = &o.key[prefix.len().min(o.key.len())..];
        match rest.find('/') {
            Some(i) => {
                folders.insert(format!("{prefix}{}", &rest[..=i]));
            }
            None => rows.push(vec![
                format!(r#"<a href="{ROOT}/s3/{}/{}">{}</a>"#, seg(bucket), o.key.split('/').map(seg).collect::<Vec<_>>().join("/"), esc(rest)),
                o.size.to_string(),
                ts_ms(o.last_modified),
                esc(&o.etag),
            ]),
        }
    }
    let up = if prefix.is_empty() {
        format!(r#"<a href="{ROOT}/s3">All buckets</a>"#)
    } else {
        let parent = prefix.trim_end_matches('/').rsplit_once('/').map(|(p, _)| format!("{p}/")).unwrap_or_default();
        format!(r#"<a href="{ROOT}/s3/{}?prefix={}">Up</a>"#, seg(bucket), seg(&parent))
    };
    let folder_rows: Vec<Vec<String>> = folders.iter().map(|f| vec![format!(r#"<a href="{ROOT}/s3/{}?prefix={}">{}</a>"#, seg(bucket), seg(f), esc(&f[prefix.len()..])), String::new(), String::new(), String::new()]).collect();
    let all: Vec<Vec<String>> = folder_rows.into_iter().chain(rows).collect();
    page(bucket, &format!("<h1>s3://{}/{}</h1><p>{up}</p>{}", esc(bucket), esc(prefix), table(&["Key", "Size", "Last modified", "ETag"], &all)), false)
}

fn object(state: &AppState, bucket: &str, key: &str) -> Option<HttpResponse> {
    let store = &state.services.s3.store;
    let o = store.object(bucket, key).ok()?;
    let data = store.read_data(&o.data, Some((0, 65_535.min(o.size.saturating_sub(1))))).unwrap_or_default();
    let text = String::from_utf8_lossy(&data);
    let preview = if key.ends_with(".gz") || data.starts_with(&[0x1f, 0x8b]) {
        "<p class=\"muted\">Compressed: download to read it.</p>".to_string()
    } else {
        let lines: Vec<String> = text.lines().take(200).map(|l| serde_json::from_str::<Value>(l).map(|v| v.to_string()).unwrap_or_else(|_| l.to_string())).collect();
        format!("<pre>{}</pre>", esc(&lines.join("\n")))
    };
    let download = format!("/{}/{}", seg(bucket), key.split('/').map(seg).collect::<Vec<_>>().join("/"));
    let meta = table(&["Size", "Last modified", "ETag", "Content-Type"], &[vec![o.size.to_string(), ts_ms(o.last_modified), esc(&o.etag), esc(o.meta.content_type.as_deref().unwrap_or(""))]]);
    let body = format!(r#"<h1>s3://{}/{}</h1><p><a href="{ROOT}/s3/{}">Back</a> · <a href="{download}">Download</a></p>{meta}{preview}"#, esc(bucket), esc(key), seg(bucket));
    Some(html_response(page(key, &body, false)))
}

fn streams(state: &AppState) -> String {
    let fh = &state.services.firehose;
    let (names, _) = fh.list_delivery_streams(10_000, None, None);
    let mut body = String::from("<h1>Delivery streams</h1>");
    let mut rows = Vec::new();
    let mut details = String::new();
    for n in &names {
        let Ok(d) = fh.describe_delivery_stream(n) else { continue };
        let stats = fh.stats(n).unwrap_or_default();
        let dest = &d["Destinations"][0]["ExtendedS3DestinationDescription"];
        let processors: Vec<String> = dest.pointer("/ProcessingConfiguration/Processors").and_then(Value::as_array).into_iter().flatten().flat_map(|p| p["Parameters"].as_array().cloned().unwrap_or_default()).filter(|p| p["ParameterName"] == "LambdaArn").map(|p| esc(p["ParameterValue"].as_str().unwrap_or_default())).collect();
        rows.push(vec![
            esc(n),
            esc(d["DeliveryStreamStatus"].as_str().unwrap_or_default()),
            esc(dest["BucketARN"].as_str().unwrap_or_default()),
            esc(dest["Prefix"].as_str().unwrap_or_default()),
            format!("{} s / {} MiB", dest.pointer("/BufferingHints/IntervalInSeconds").cloned().unwrap_or_default(), dest.pointer("/BufferingHints/SizeInMBs").cloned().unwrap_or_default()),
            processors.join("<br>"),
            format!("{} records, {} bytes", stats.buffered_records, stats.buffered_bytes),
            stats.delivered_records.to_string(),
            stats.last_error.as_deref().map(|e| format!(r#"<span class="err">{}</span>"#, esc(e))).unwrap_or_default(),
        ]);
        if !stats.deliveries.is_empty() {
            let bucket = dest["BucketARN"].as_str().unwrap_or_default().trim_start_matches("arn:aws:s3:::").to_string();
            let list: Vec<Vec<String>> = stats
                .deliveries
                .iter()
                .rev()
                .map(|x| {
                    let objects: Vec<String> = x.objects.iter().map(|k| format!(r#"<a href="{ROOT}/s3/{}/{}">{}</a>"#, seg(&bucket), k.split('/').map(seg).collect::<Vec<_>>().join("/"), esc(k))).collect();
                    vec![ts_ms(x.at_ms), x.records.to_string(), objects.join("<br>"), esc(x.error.as_deref().unwrap_or(""))]
                })
                .collect();
            details.push_str(&format!("<h2>{} · latest deliveries</h2>{}", esc(n), table(&["Time", "Records", "Objects", "Error"], &list)));
        }
    }
    body.push_str(&table(&["Stream", "Status", "Bucket", "Prefix", "Buffering", "Transform", "Buffered now", "Delivered", "Last error"], &rows));
    body.push_str(r#"<p class="muted">Buffers are delivered at their interval; <code>POST /_firelocal/firehose/flush</code> delivers them now.</p>"#);
    body.push_str(&details);
    page("Firehose", &body, false)
}

fn functions(state: &AppState) -> String {
    let s = &state.services;
    let (list, _) = s.lambda.list_functions(None, 10_000);
    let mut body = String::from("<h1>Functions</h1>");
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|f| vec![esc(f["FunctionName"].as_str().unwrap_or_default()), esc(f["Runtime"].as_str().unwrap_or_default()), esc(f["Handler"].as_str().unwrap_or_default()), f["Timeout"].to_string(), esc(f["Role"].as_str().unwrap_or_default())])
        .collect();
    body.push_str(&table(&["Function", "Runtime", "Handler", "Timeout (s)", "Role"], &rows));
    for f in &list {
        let name = f["FunctionName"].as_str().unwrap_or_default();
        let invocations: Vec<Vec<String>> = s
            .lambda
            .recent_invocations(name)
            .iter()
            .rev()
            .map(|i| vec![ts_ms(i.at_ms), esc(&i.request_id), esc(&i.version), i.kind.to_string(), format!("{:.1} ms", i.duration_ms), i.error.as_deref().map(|e| format!(r#"<span class="err">{}</span>"#, esc(e))).unwrap_or_default()])
            .collect();
        if !invocations.is_empty() {
            body.push_str(&format!("<h2>{} · latest invocations</h2>{}", esc(name), table(&["Time", "Request id", "Version", "Type", "Duration", "Error"], &invocations)));
        }
        let events = s.logs.filter_log_events(&format!("/aws/lambda/{name}"), None, "", (None, None), 10_000, None).ok();
        let lines: Vec<String> = events.and_then(|e| e["events"].as_array().cloned()).unwrap_or_default().iter().rev().take(40).rev().map(|e| e["message"].as_str().unwrap_or_default().trim_end().to_string()).collect();
        if !lines.is_empty() {
            body.push_str(&format!("<h2>{} · latest log lines</h2><pre>{}</pre>", esc(name), esc(&lines.join("\n"))));
        }
    }
    page("Lambda", &body, false)
}

fn apis(state: &AppState) -> String {
    let gw = &state.services.apigateway;
    let all = gw.get_rest_apis();
    let mut rows = Vec::new();
    for a in all["item"].as_array().into_iter().flatten() {
        let id = a["id"].as_str().unwrap_or_default();
        let stages: Vec<String> = gw.get_stages(id).ok().and_then(|v| v["item"].as_array().cloned()).unwrap_or_default().iter().map(|s| {
            let stage = s["stageName"].as_str().unwrap_or_default();
            format!("<code>/restapis/{}/{}/_user_request_/</code>", esc(id), esc(stage))
        }).collect();
        let resources: Vec<String> = gw.get_resources(id).ok().and_then(|v| v["item"].as_array().cloned()).unwrap_or_default().iter().map(|r| {
            let methods: Vec<String> = r["resourceMethods"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
            format!("{} {}", esc(&methods.join(",")), esc(r["path"].as_str().unwrap_or_default()))
        }).collect();
        rows.push(vec![esc(a["name"].as_str().unwrap_or_default()), esc(id), resources.join("<br>"), stages.join("<br>")]);
    }
    let recent: Vec<Vec<String>> = gw
        .recent
        .lock()
        .iter()
        .rev()
        .map(|r| vec![ts_ms(r.at_ms), esc(&r.api_id), format!("{} {}", esc(&r.method), esc(&r.path)), r.status.to_string(), format!("{:.1} ms", r.latency_ms), format!("<code>{}</code>", esc(&r.request)), format!("<code>{}</code>", esc(&r.response))])
        .collect();
    let body = format!(
        "<h1>REST APIs</h1>{}<h2>Latest requests</h2>{}",
        table(&["API", "Id", "Resources", "Invoke paths"], &rows),
        table(&["Time", "API", "Request", "Status", "Latency", "Request body", "Response body"], &recent)
    );
    page("API Gateway", &body, false)
}

fn queries(state: &AppState) -> String {
    let athena = &state.services.athena;
    let ids = athena.list(None, None, Some(50)).map(|(ids, _)| ids).unwrap_or_default();
    let rows: Vec<Vec<String>> = ids
        .iter()
        .filter_map(|id| athena.get(id).ok())
        .map(|q| {
            let id = q["QueryExecutionId"].as_str().unwrap_or_default();
            let sql = q["Query"].as_str().unwrap_or_default();
            vec![
                format!(r#"<a href="{ROOT}/athena/{}">{}</a>"#, seg(id), esc(&sql.chars().take(120).collect::<String>())),
                esc(q.pointer("/Status/State").and_then(Value::as_str).unwrap_or_default()),
                ts(q.pointer("/Status/SubmissionDateTime").and_then(Value::as_f64)),
                q.pointer("/Statistics/TotalExecutionTimeInMillis").map(|v| format!("{v} ms")).unwrap_or_default(),
                q.pointer("/Statistics/DataScannedInBytes").map(|v| v.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    page("Athena", &format!("<h1>Athena query history</h1>{}", table(&["Query", "State", "Submitted", "Time", "Bytes scanned"], &rows)), false)
}

fn query(state: &AppState, id: &str) -> String {
    let athena = &state.services.athena;
    let Ok(q) = athena.get(id) else { return page("Athena", &format!(r#"<p class="err">No query execution {}</p>"#, esc(id)), false) };
    let state_name = q.pointer("/Status/State").and_then(Value::as_str).unwrap_or_default();
    let mut body = format!(
        r#"<h1>Query {}</h1><pre>{}</pre><p>{} {}</p><form method="post" action="{ROOT}/athena/{}/rerun"><button type="submit">Run again</button></form>"#,
        esc(id),
        esc(q["Query"].as_str().unwrap_or_default()),
        esc(state_name),
        esc(q.pointer("/Status/StateChangeReason").and_then(Value::as_str).unwrap_or_default()),
        seg(id)
    );
    if let Ok((cols, rows, _, _)) = athena.results(id, None, Some(1000)) {
        let header: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        let rows: Vec<Vec<String>> = rows.iter().skip(usize::from(!cols.is_empty() && q["StatementType"] == "DML")).map(|r| r.iter().map(|v| esc(v.as_deref().unwrap_or(""))).collect()).collect();
        body.push_str(&table(&header, &rows));
    }
    page("Athena", &body, false)
}

fn rerun(state: &AppState, id: &str) -> Result<String, String> {
    let athena = &state.services.athena;
    let q = athena.get(id).map_err(|e| e.to_aws().message)?;
    let output = q.pointer("/ResultConfiguration/OutputLocation").and_then(Value::as_str).and_then(|o| o.rsplit_once('/').map(|(p, _)| format!("{p}/")));
    let input = crate::services::athena::ops::StartInput {
        query: q["Query"].as_str().unwrap_or_default().to_string(),
        database: q.pointer("/QueryExecutionContext/Database").and_then(Value::as_str).map(str::to_string),
        output_location: output,
        workgroup: q["WorkGroup"].as_str().map(str::to_string),
        ..Default::default()
    };
    athena.start(input).map_err(|e| e.to_aws().message)
}

/// A stack's outputs as JSON, readable from any origin: how a front-end page served elsewhere
/// finds the REST API to POST its clicks to.
fn stack_outputs(state: &AppState, name: &str, req: &AwsRequest) -> HttpResponse {
    match state.services.cloudformation.stack(name) {
        Ok(s) => {
            let outputs: serde_json::Map<String, Value> = s.outputs.iter().map(|o| (o.key.clone(), Value::String(o.value.clone()))).collect();
            response(StatusCode::OK, vec![("content-type", "application/json".into()), ("access-control-allow-origin", "*".into())], Bytes::from(Value::Object(outputs).to_string()))
        }
        Err(e) => {
            let mut r = e.to_aws().render(Protocol::RestJson1, &req.request_id, false);
            r.headers_mut().insert("access-control-allow-origin", http::HeaderValue::from_static("*"));
            r
        }
    }
}

fn stacks(state: &AppState) -> String {
    let rows: Vec<Vec<String>> = state
        .services
        .cloudformation
        .all()
        .iter()
        .rev()
        .filter(|s| s.deleted_ms.is_none())
        .map(|s| vec![format!(r#"<a href="{ROOT}/stacks/{}">{}</a>"#, seg(&s.name), esc(&s.name)), esc(&s.status), s.resources.len().to_string(), ts_ms(s.created_ms)])
        .collect();
    page("Stacks", &format!("<h1>CloudFormation stacks</h1>{}", table(&["Stack", "Status", "Resources", "Created"], &rows)), false)
}

fn stack(state: &AppState, name: &str) -> String {
    let Ok(s) = state.services.cloudformation.stack(name) else { return page("Stacks", &format!(r#"<p class="err">Stack {} does not exist.</p>"#, esc(name)), false) };
    let outputs: Vec<Vec<String>> = s.outputs.iter().map(|o| vec![esc(&o.key), esc(&o.value), esc(o.export.as_deref().unwrap_or(""))]).collect();
    let resources: Vec<Vec<String>> = s.resources.iter().map(|r| vec![esc(&r.logical_id), esc(&r.ty), esc(&r.physical_id), esc(&r.status)]).collect();
    let events: Vec<Vec<String>> = s.events.iter().rev().take(200).map(|e| vec![ts_ms(e.timestamp_ms), esc(&e.logical_id), esc(&e.ty), esc(&e.status), esc(e.reason.as_deref().unwrap_or(""))]).collect();
    let body = format!(
        "<h1>{} <span class=\"muted\">{}</span></h1><h2>Outputs</h2>{}<h2>Resources</h2>{}<h2>Events</h2>{}",
        esc(&s.name),
        esc(&s.status),
        table(&["Key", "Value", "Export"], &outputs),
        table(&["Logical id", "Type", "Physical id", "Status"], &resources),
        table(&["Time", "Resource", "Type", "Status", "Reason"], &events)
    );
    page(&s.name, &body, false)
}
