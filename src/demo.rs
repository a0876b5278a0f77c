//! `firelocal demo` and `firelocal gen-events`. The demo runs the seed's whole pipeline against a
//! firelocal (started in process, or `--endpoint`): it deploys `fixtures/clickstream.yaml`
//! through the CloudFormation API, POSTs generated clicks through the REST API, flushes
//! Firehose, asks Athena for clicks by element, refreshes the QuickSight dashboard's SPICE data,
//! and prints the result with a bar chart and where to look next.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// The seed's pipeline, as the demo deploys it.
pub const TEMPLATE: &str = include_str!("../fixtures/clickstream.yaml");

/// `firelocal demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Use a running firelocal instead of starting one (e.g. http://localhost:4566).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Port of the firelocal the demo starts (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// How many click events to send.
    #[arg(long, default_value_t = 10_000)]
    pub events: u64,
    /// Concurrent connections sending them.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seed of the generated events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Exit after the report instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
}

/// `firelocal gen-events`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenArgs {
    /// How many events.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Seed (the same seed gives the same events).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// splitmix64: a small, well-distributed, reproducible generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An index drawn by weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut x = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        0
    }
}

const ELEMENTS: &[(&str, u64)] = &[("menu_item", 34), ("search_bar", 18), ("add_to_cart", 14), ("restaurant_card", 12), ("checkout", 8), ("promo_banner", 6), ("rating_stars", 5), ("footer_link", 3)];
const RESTAURANTS: &[&str] = &["Bella Napoli", "Sushi Zen", "Taco Loco", "Curry House", "Le Petit Bistro", "Burger Barn", "Pho Saigon", "Green Bowl"];
const MENUS: &[&str] = &["top_nav", "side_nav", "home_feed", "search_results", "restaurant_page"];

/// The `i`-th event of a seeded stream: element_clicked (skewed), time_spent (seconds, skewed
/// low), source_menu, restaurant_name, created_at over three days, session and user ids.
fn event(rng: &mut Rng, i: u64) -> Value {
    let weights: Vec<u64> = ELEMENTS.iter().map(|e| e.1).collect();
    let element = ELEMENTS[rng.weighted(&weights)].0;
    let spent = 1 + (rng.below(60) * rng.below(60)) / 30;
    let secs = 1_709_251_200 + rng.below(3 * 86_400); // 2024-03-01 .. 2024-03-03
    let created = aws_smithy_types::DateTime::from_secs(secs as i64).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default().replace('T', " ").replace('Z', "");
    json!({
        "event_id": format!("evt-{i:08}"),
        "element_clicked": element,
        "time_spent": spent,
        "source_menu": MENUS[rng.below(MENUS.len() as u64) as usize],
        "restaurant_name": RESTAURANTS[rng.below(RESTAURANTS.len() as u64) as usize],
        "created_at": created,
        "session_id": format!("s-{:06}", rng.below(2000)),
        "user_id": 1000 + rng.below(500),
    })
}

/// `firelocal gen-events`: NDJSON on stdout.
pub fn gen_events(args: &GenArgs) -> Result<(), String> {
    use std::io::Write;
    let mut rng = Rng(args.seed);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..args.count {
        writeln!(out, "{}", event(&mut rng, i)).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

/// A small HTTP/1.1 client to one firelocal.
#[derive(Clone)]
struct Client {
    authority: String,
}

impl Client {
    /// A keep-alive connection.
    async fn connect(&self) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.authority).await.map_err(|e| format!("cannot reach firelocal at {}: {e}", self.authority))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(sender)
    }

    /// One POST of a JSON body on a kept connection (reconnecting when it is gone).
    async fn post_on(&self, conn: &mut Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>>, path: &str, body: Bytes) -> Result<u16, String> {
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            *conn = Some(self.connect().await?);
        }
        let sender = conn.as_mut().ok_or("no connection")?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let req = http::Request::builder().method("POST").uri(path).header("host", &self.authority).header("content-type", "application/json").body(Full::new(body)).map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await.map_err(|e| e.to_string())?;
        Ok(status)
    }

    async fn call(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: Bytes) -> Result<(u16, Bytes), String> {
        let stream = tokio::net::TcpStream::connect(&self.authority).await.map_err(|e| format!("cannot reach firelocal at {}: {e}", self.authority))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut b = http::Request::builder().method(method).uri(uri).header("host", &self.authority);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = sender.send_request(b.body(Full::new(body)).map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes()))
    }

    fn auth(service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0")
    }

    async fn query(&self, service: &str, params: &[(&str, &str)]) -> Result<crate::protocol::xml::Element, String> {
        let body = params.iter().map(|(k, v)| format!("{}={}", crate::protocol::url_encode(k), crate::protocol::url_encode(v))).collect::<Vec<_>>().join("&");
        let auth = Self::auth(service);
        let (status, out) = self.call("POST", "/", &[("content-type", "application/x-www-form-urlencoded"), ("authorization", &auth)], Bytes::from(body)).await?;
        let doc = crate::protocol::xml::parse(&out).map_err(|e| format!("unreadable answer: {e}"))?;
        if status != 200 {
            let err = doc.child("Error").cloned().unwrap_or_default();
            return Err(format!("{}: {}", err.child_text("Code").unwrap_or("Error"), err.child_text("Message").unwrap_or_default()));
        }
        Ok(doc)
    }

    async fn json(&self, service: &str, target: &str, body: Value) -> Result<Value, String> {
        let auth = Self::auth(service);
        let (status, out) = self.call("POST", "/", &[("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target), ("authorization", &auth)], Bytes::from(body.to_string())).await?;
        let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        if status != 200 {
            return Err(format!("{}: {}", v["__type"].as_str().unwrap_or("Error"), v["message"].as_str().or(v["Message"].as_str()).unwrap_or_default()));
        }
        Ok(v)
    }
}

fn spinner(msg: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(80));
    pb
}

fn done(pb: indicatif::ProgressBar, msg: String) {
    pb.finish_and_clear();
    println!("  ✓ {msg}");
}

/// `firelocal demo`.
pub fn run(args: DemoArgs) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let started = Instant::now();
        let (endpoint, server) = match &args.endpoint {
            Some(e) => (e.trim_end_matches('/').to_string(), None),
            None => {
                let config = crate::Config { port: args.port, log_level: "warn".into(), ..Default::default() };
                let (endpoint, running) = crate::server::Server::bind(config).await?.spawn()?;
                (endpoint, Some(running))
            }
        };
        println!("firelocal demo against {endpoint}");
        let authority = endpoint.trim_start_matches("http://").split('/').next().unwrap_or_default().to_string();
        let client = Client { authority };
        let report = pipeline(&client, &endpoint, &args).await;
        if let Err(e) = &report {
            eprintln!("  ✗ {e}");
        }
        println!("  (the demo took {:.1} s)", started.elapsed().as_secs_f64());
        match server {
            Some(running) if args.exit || report.is_err() => running.stop().await,
            Some(running) => {
                println!("\nfirelocal keeps serving on {endpoint}; Ctrl-C to stop.");
                running.until_signal().await;
            }
            None => {}
        }
        report
    })
}

async fn pipeline(client: &Client, endpoint: &str, args: &DemoArgs) -> Result<(), String> {
    // 1. The stack.
    let pb = spinner("deploying fixtures/clickstream.yaml (CloudFormation CreateStack)");
    let t = Instant::now();
    let created = client
        .query("cloudformation", &[("Action", "CreateStack"), ("Version", "2010-05-15"), ("StackName", "clickstream"), ("TemplateBody", TEMPLATE), ("Capabilities.member.1", "CAPABILITY_NAMED_IAM")])
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.starts_with("AlreadyExistsException") => {}
        Err(e) => return Err(format!("deploying the stack failed: {e}")),
    }
    let described = client.query("cloudformation", &[("Action", "DescribeStacks"), ("Version", "2010-05-15"), ("StackName", "clickstream")]).await.map_err(|e| format!("reading the stack failed: {e}"))?;
    let stack = described.child("DescribeStacksResult").and_then(|r| r.child("Stacks")).and_then(|s| s.child("member")).cloned().unwrap_or_default();
    let status = stack.child_text("StackStatus").unwrap_or_default().to_string();
    if !matches!(status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        let events = client.query("cloudformation", &[("Action", "DescribeStackEvents"), ("Version", "2010-05-15"), ("StackName", "clickstream")]).await.unwrap_or_default();
        let failed: Vec<String> = events
            .child("DescribeStackEventsResult")
            .and_then(|r| r.child("StackEvents"))
            .map(|e| e.children_named("member").filter(|m| m.child_text("ResourceStatus").is_some_and(|s| s.ends_with("FAILED"))).map(|m| format!("{}: {}", m.child_text("LogicalResourceId").unwrap_or_default(), m.child_text("ResourceStatusReason").unwrap_or_default())).collect())
            .unwrap_or_default();
        return Err(format!("the stack is {status}: {}", failed.join("; ")));
    }
    let outputs: std::collections::HashMap<String, String> = stack
        .child("Outputs")
        .map(|o| o.children_named("member").map(|m| (m.child_text("OutputKey").unwrap_or_default().to_string(), m.child_text("OutputValue").unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let out = |k: &str| outputs.get(k).cloned().ok_or_else(|| format!("the stack has no output {k}"));
    let resources = client.query("cloudformation", &[("Action", "ListStackResources"), ("Version", "2010-05-15"), ("StackName", "clickstream")]).await.map(|d| {
        d.child("ListStackResourcesResult").and_then(|r| r.child("StackResourceSummaries")).map_or(0, |s| s.children_named("member").count())
    });
    done(pb, format!("stack clickstream: {} resources ({} ms)", resources.unwrap_or(0), t.elapsed().as_millis()));

    // 2. The clicks, through the REST API.
    let path = out("LocalInvokePath")?;
    let t = Instant::now();
    let bar = indicatif::ProgressBar::new(args.events);
    bar.set_style(indicatif::ProgressStyle::with_template("  {bar:40} {pos}/{len} events {per_sec}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(parking_lot::Mutex::new(None::<String>));
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, path, next, failures, bar, first_error) = (client.clone(), path.clone(), next.clone(), failures.clone(), bar.clone(), first_error.clone());
        let (seed, total) = (args.seed, args.events);
        tasks.push(tokio::spawn(async move {
            let mut conn = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let mut rng = Rng(seed.wrapping_add(i.wrapping_mul(0x9E37_79B9)));
                let body = Bytes::from(event(&mut rng, i).to_string());
                match client.post_on(&mut conn, &path, body).await {
                    Ok(200) => {}
                    other => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().get_or_insert_with(|| format!("{other:?}"));
                    }
                }
                bar.inc(1);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    bar.finish_and_clear();
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        return Err(format!("{failed} of {} events were refused by API Gateway → Firehose (first: {})", args.events, first_error.lock().clone().unwrap_or_default()));
    }
    let secs = t.elapsed().as_secs_f64();
    println!("  ✓ {} events POSTed through the REST API ({:.1} s, {:.0}/s)", args.events, secs, args.events as f64 / secs.max(1e-9));

    // 3. Firehose → transform → S3.
    let pb = spinner("flushing Firehose (the Python transform runs, objects land in S3)");
    let stream = out("StreamName")?;
    let (status, body) = client.call("POST", &format!("/_firelocal/firehose/flush?stream={}", crate::protocol::url_encode(&stream)), &[], Bytes::new()).await?;
    let report: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let r = &report["streams"][&stream];
    if status != 200 || r["pending_records"].as_u64().unwrap_or(0) > 0 {
        return Err(format!("Firehose could not deliver: {}", r["error"].as_str().unwrap_or("unknown error")));
    }
    done(pb, format!("Firehose delivered {} object(s) to s3://{}", r["objects"].as_array().map_or(0, Vec::len), out("BucketName")?));

    // 4. Athena.
    let (db, workgroup) = (out("DatabaseName")?, out("WorkGroup")?);
    let pb = spinner("Athena: MSCK REPAIR TABLE, then clicks by element");
    athena(client, &db, &workgroup, "MSCK REPAIR TABLE clickstream").await?;
    let sql = "SELECT element_clicked, count(*) AS clicks, round(avg(time_spent), 1) AS avg_seconds FROM clickstream GROUP BY element_clicked ORDER BY clicks DESC, element_clicked";
    let rows = athena(client, &db, &workgroup, sql).await?;
    done(pb, "Athena answered".to_string());

    // 5. QuickSight's SPICE data for the dashboard.
    let pb = spinner("QuickSight: refreshing the dashboard's SPICE data");
    let data_set = out("DataSetId")?;
    let ingestion = format!("demo-{}", crate::protocol::time::now_millis());
    let auth = Client::auth("quicksight");
    let uri = format!("/accounts/000000000000/data-sets/{}/ingestions/{ingestion}", crate::protocol::url_encode(&data_set));
    client.call("PUT", &uri, &[("authorization", &auth), ("content-type", "application/json")], Bytes::from("{}")).await?;
    for _ in 0..400 {
        let (_, b) = client.call("GET", &uri, &[("authorization", &auth)], Bytes::new()).await?;
        let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
        match v.pointer("/Ingestion/IngestionStatus").and_then(Value::as_str) {
            Some("COMPLETED") => break,
            Some("FAILED") => return Err(format!("the SPICE ingestion failed: {}", v.pointer("/Ingestion/ErrorInfo/Message").and_then(Value::as_str).unwrap_or_default())),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    done(pb, "SPICE refreshed".to_string());

    // 6. The answer.
    println!("\n{sql}\n");
    let total: u64 = rows.iter().filter_map(|r| r.get(1).and_then(|v| v.parse::<u64>().ok())).sum();
    let max = rows.iter().filter_map(|r| r.get(1).and_then(|v| v.parse::<u64>().ok())).max().unwrap_or(1).max(1);
    println!("  {:<16} {:>7} {:>11}", "element_clicked", "clicks", "avg_seconds");
    for r in &rows {
        let n: u64 = r.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        let width = (n * 40).div_ceil(max) as usize;
        println!("  {:<16} {:>7} {:>11}  {}", r.first().cloned().unwrap_or_default(), n, r.get(2).cloned().unwrap_or_default(), "█".repeat(width));
    }
    println!("  {:<16} {:>7}", "total", total);
    println!("\nNext:");
    println!("  the dashboard   {endpoint}/_firelocal/console/dashboards/{}", out("DashboardId")?);
    println!("  the console     {endpoint}/_firelocal/console/");
    println!("  the objects     aws --endpoint-url {endpoint} s3 ls s3://{}/clickstream/ --recursive", out("BucketName")?);
    println!("  more clicks     curl -X POST -d '{{\"element_clicked\":\"menu_item\",\"time_spent\":3}}' {endpoint}{path}");
    if total != args.events {
        return Err(format!("Athena counted {total} clicks, but {} were sent", args.events));
    }
    Ok(())
}

/// Runs one statement in the stack's workgroup; returns its data rows (no header).
async fn athena(client: &Client, db: &str, workgroup: &str, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let start = client
        .json("athena", "AmazonAthena.StartQueryExecution", json!({"QueryString": sql, "QueryExecutionContext": {"Database": db}, "WorkGroup": workgroup}))
        .await
        .map_err(|e| format!("Athena refused the query: {e}"))?;
    let id = start["QueryExecutionId"].as_str().unwrap_or_default().to_string();
    for _ in 0..3000 {
        let q = client.json("athena", "AmazonAthena.GetQueryExecution", json!({"QueryExecutionId": id})).await?;
        match q.pointer("/QueryExecution/Status/State").and_then(Value::as_str) {
            Some("SUCCEEDED") => {
                let r = client.json("athena", "AmazonAthena.GetQueryResults", json!({"QueryExecutionId": id})).await?;
                let rows: Vec<Vec<String>> = r.pointer("/ResultSet/Rows").and_then(Value::as_array).into_iter().flatten().skip(1)
                    .map(|row| row["Data"].as_array().into_iter().flatten().map(|d| d["VarCharValue"].as_str().unwrap_or_default().to_string()).collect())
                    .collect();
                return Ok(rows);
            }
            Some("FAILED") | Some("CANCELLED") => {
                return Err(format!("Athena: {}", q.pointer("/QueryExecution/Status/StateChangeReason").and_then(Value::as_str).unwrap_or_default()));
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    Err("Athena did not finish in 30 s".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_seeded_and_skewed() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        let (x, y): (Vec<Value>, Vec<Value>) = ((0..100).map(|i| event(&mut a, i)).collect(), (0..100).map(|i| event(&mut b, i)).collect());
        assert_eq!(x, y);
        let mut rng = Rng(1);
        let events: Vec<Value> = (0..5000).map(|i| event(&mut rng, i)).collect();
        let count = |e: &str| events.iter().filter(|v| v["element_clicked"] == e).count();
        assert!(count("menu_item") > count("search_bar") && count("search_bar") > count("footer_link"));
        assert!(events.iter().all(|e| e["created_at"].as_str().is_some_and(|c| c.starts_with("2024-03-0")) && e["time_spent"].as_u64().is_some_and(|t| (1..=120).contains(&t))));
    }
}
