//! `firelocal bench firehose`: PutRecordBatch of 500 ~250-byte JSON events from concurrent
//! connections, end to end into S3 (no transform, uncompressed, 5 MiB buffers), then a flush and
//! a check that every byte sent is in S3. Prints records/s, MB/s, p50/p99 and peak RSS.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use super::{BenchArgs, RequestFactory, put_fixture, rss_kib, run_scenario, spawn_server};

const BUCKET: &str = "bench-firehose";
const RECORDS_PER_BATCH: usize = 500;

/// A ~250-byte clickstream event.
fn event(i: usize) -> Vec<u8> {
    let mut e = format!(
        "{{\"event_id\":\"{i:08}\",\"event_time\":\"2024-03-01T04:24:05.123Z\",\"element_clicked\":\"button-{}\",\"page\":\"/products/{}\",\"user_id\":\"user-{:06}\",\"session\":\"s-{:010}\",\"ua\":\"Mozilla/5.0\"",
        i % 7,
        i % 100,
        i % 5000,
        i
    );
    while e.len() < 248 {
        e.push(' ');
    }
    e.push_str("}\n");
    e.into_bytes()
}

/// One request on a fresh connection: the status and body.
pub async fn call(port: u16, method: &str, uri: &str, headers: &[(&str, &str)], body: Bytes) -> Result<(u16, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut b = http::Request::builder().method(method).uri(uri).header("host", "localhost");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = sender.send_request(b.body(Full::new(body)).map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}

/// Sums the sizes of every object in the bucket (ListObjectsV2, paged).
async fn delivered_bytes(port: u16) -> Result<(u64, usize), String> {
    let (mut total, mut count, mut token) = (0u64, 0usize, None::<String>);
    loop {
        let uri = match &token {
            Some(t) => format!("/{BUCKET}?list-type=2&continuation-token={}", crate::protocol::url_encode(t)),
            None => format!("/{BUCKET}?list-type=2"),
        };
        let (_, body) = call(port, "GET", &uri, &[], Bytes::new()).await?;
        let doc = crate::protocol::xml::parse(&body)?;
        for c in doc.children_named("Contents") {
            total += c.child_text("Size").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            count += 1;
        }
        token = doc.child_text("NextContinuationToken").map(str::to_string);
        if token.is_none() {
            return Ok((total, count));
        }
    }
}

/// Requests that send the same PutRecordBatch body again and again.
pub fn put_record_batch(body: Bytes) -> RequestFactory {
    Arc::new(move |_, _| {
        http::Request::builder()
            .method("POST")
            .uri("/")
            .header("host", "localhost")
            .header("x-amz-target", "Firehose_20150804.PutRecordBatch")
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())
    })
}

/// Runs the Firehose benchmark.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let (server, _) = spawn_server(&args.server_log_level, args.persistent)?;
    let port = server.port;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let records: Vec<Vec<u8>> = (0..RECORDS_PER_BATCH).map(event).collect();
    let record_bytes: usize = records.iter().map(Vec::len).sum();
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = serde_json::json!({
        "DeliveryStreamName": "bench",
        "Records": records.iter().map(|r| serde_json::json!({ "Data": b64.encode(r) })).collect::<Vec<_>>(),
    })
    .to_string();
    let body = Bytes::from(body);
    println!(
        "## Firehose benchmark (`firelocal bench firehose --duration {}{}`)\n",
        args.duration,
        if args.persistent { " --persistent" } else { "" }
    );
    println!(
        "PutRecordBatch of {RECORDS_PER_BATCH} events of {} bytes ({} KiB of JSON per request), uncompressed, 5 MiB / 60 s buffers, no transform.\n",
        record_bytes / RECORDS_PER_BATCH,
        body.len() / 1024
    );
    println!("| connections | records/s | MB/s (record bytes) | p50 | p99 | errors | delivered to S3 |");
    println!("|---|---|---|---|---|---|---|");
    rt.block_on(async {
        put_fixture(port, &format!("/{BUCKET}"), 0).await?;
        let create = serde_json::json!({
            "DeliveryStreamName": "bench",
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::000000000000:role/bench",
                "BucketARN": format!("arn:aws:s3:::{BUCKET}"),
                "Prefix": "events/",
                "BufferingHints": { "SizeInMBs": 5, "IntervalInSeconds": 60 },
            }
        });
        let target = [("x-amz-target", "Firehose_20150804.CreateDeliveryStream"), ("content-type", "application/x-amz-json-1.1")];
        let (status, resp) = call(port, "POST", "/", &target, Bytes::from(create.to_string())).await?;
        if status != 200 {
            return Err(format!("CreateDeliveryStream failed: {status} {}", String::from_utf8_lossy(&resp)));
        }
        let mut sent_total = 0u64;
        for &c in &args.connections {
            let make = put_record_batch(body.clone());
            let f = run_scenario(port, make, c, args.duration).await?;
            let (fs, _) = call(port, "POST", "/_firelocal/firehose/flush", &[], Bytes::new()).await?;
            sent_total += ((f.requests - f.errors) * record_bytes) as u64;
            let (delivered, objects) = delivered_bytes(port).await?;
            let rps = (f.requests * RECORDS_PER_BATCH) as f64 / f.secs;
            println!(
                "| {c} | {rps:.0} | {:.1} | {:.2} ms | {:.2} ms | {} | {} in {objects} objects{} |",
                rps * (record_bytes / RECORDS_PER_BATCH) as f64 / 1e6,
                f.p50_us as f64 / 1e3,
                f.p99_us as f64 / 1e3,
                f.errors,
                if delivered == sent_total && fs == 200 { "all bytes" } else { "MISMATCH" },
                if delivered == sent_total { String::new() } else { format!(" ({delivered} of {sent_total} bytes)") },
            );
        }
        Ok::<(), String>(())
    })?;
    let peak = rss_kib(server.child.id(), "VmHWM:");
    println!("\n- peak RSS of the server: {} MiB", peak.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)));
    Ok(())
}
