//! `firelocal bench lambda`: an empty Python handler invoked through the real Runtime API.
//! Measures the warm invoke round trip (p50/p99, one connection), cold starts (a new worker
//! process each time), and Firehose throughput with the Python transform in the path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;

use super::{BenchArgs, RequestFactory, run_scenario, spawn_server};

fn zip_of(files: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).map_err(|e| e.to_string())?;
        w.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(w.finish().map_err(|e| e.to_string())?.into_inner())
}

async fn call(port: u16, method: &str, uri: &str, headers: &[(&str, &str)], body: String) -> Result<(u16, String), String> {
    let (status, bytes) = super::firehose::call(port, method, uri, headers, Bytes::from(body)).await?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

async fn create_function(port: u16, name: &str, handler: &str, code: &[(&str, &str)]) -> Result<(), String> {
    let zip = base64::engine::general_purpose::STANDARD.encode(zip_of(code)?);
    let body = serde_json::json!({
        "FunctionName": name, "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/bench",
        "Handler": handler, "Code": { "ZipFile": zip }, "Timeout": 30,
    });
    let (status, resp) = call(port, "POST", "/2015-03-31/functions", &[("content-type", "application/json")], body.to_string()).await?;
    if status != 201 {
        return Err(format!("CreateFunction {name}: {status} {resp}"));
    }
    Ok(())
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Runs the Lambda benchmark.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let (server, _) = spawn_server(&args.server_log_level, args.persistent)?;
    let port = server.port;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    println!("## Lambda benchmark (`firelocal bench lambda --duration {}`)\n", args.duration);
    rt.block_on(async {
        create_function(port, "empty", "app.handler", &[("app.py", "def handler(event, context):\n    return None\n")]).await?;
        // Cold starts: each function's first invocation starts a new Python worker.
        let mut cold = Vec::new();
        for i in 0..10 {
            let name = format!("cold{i}");
            create_function(port, &name, "app.handler", &[("app.py", "def handler(event, context):\n    return None\n")]).await?;
            let t = Instant::now();
            let (status, _) = call(port, "POST", &format!("/2015-03-31/functions/{name}/invocations"), &[], "{}".into()).await?;
            if status != 200 {
                return Err(format!("cold invoke gave {status}"));
            }
            cold.push(t.elapsed());
        }
        // Warm: sequential invocations on one keep-alive connection.
        let _ = call(port, "POST", "/2015-03-31/functions/empty/invocations", &[], "{}".into()).await?;
        let f = run_scenario(port, make_for("empty"), 1, args.duration).await?;
        println!("| measure | p50 | p99 | n |");
        println!("|---|---|---|---|");
        println!("| warm invoke round trip (empty handler, 1 connection) | {:.2} ms | {:.2} ms | {} |", f.p50_us as f64 / 1e3, f.p99_us as f64 / 1e3, f.requests);
        let n = cold.len();
        let (p50, p99) = (percentile(&mut cold, 0.5), percentile(&mut cold, 0.99));
        println!("| cold start + first invoke (new Python worker) | {p50:.1} ms | {p99:.1} ms | {n} |");
        println!("\nwarm invocations/s at 1 connection: {:.0}", f.requests as f64 / f.secs);
        let f4 = run_scenario(port, make_for("empty"), 4, args.duration).await?;
        println!("warm invocations/s at 4 connections: {:.0} (p99 {:.2} ms)", f4.requests as f64 / f4.secs, f4.p99_us as f64 / 1e3);
        transform_throughput(port, args.duration).await
    })
}

/// The console's Firehose processing blueprint (decode, append a newline, re-encode).
const BLUEPRINT: &str = "import base64\n\ndef lambda_handler(event, context):\n    out = []\n    for r in event['records']:\n        line = base64.b64decode(r['data']).decode('utf-8').rstrip('\\n') + '\\n'\n        out.append({'recordId': r['recordId'], 'result': 'Ok', 'data': base64.b64encode(line.encode('utf-8')).decode('utf-8')})\n    return {'records': out}\n";

/// Firehose PutRecordBatch with the blueprint transform in the path, end to end into S3.
async fn transform_throughput(port: u16, secs: f64) -> Result<(), String> {
    create_function(port, "blueprint", "app.lambda_handler", &[("app.py", BLUEPRINT)]).await?;
    super::put_fixture(port, "/bench-transform", 0).await?;
    let create = serde_json::json!({
        "DeliveryStreamName": "transformed",
        "ExtendedS3DestinationConfiguration": {
            "RoleARN": "arn:aws:iam::000000000000:role/bench",
            "BucketARN": "arn:aws:s3:::bench-transform",
            "BufferingHints": { "SizeInMBs": 5, "IntervalInSeconds": 60 },
            "ProcessingConfiguration": { "Enabled": true, "Processors": [{ "Type": "Lambda", "Parameters": [
                { "ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:000000000000:function:blueprint" },
                { "ParameterName": "BufferSizeInMBs", "ParameterValue": "1" }
            ]}]},
        }
    });
    let target = [("x-amz-target", "Firehose_20150804.CreateDeliveryStream"), ("content-type", "application/x-amz-json-1.1")];
    let (status, resp) = call(port, "POST", "/", &target, create.to_string()).await?;
    if status != 200 {
        return Err(format!("CreateDeliveryStream: {status} {resp}"));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let record = "{\"event_id\":\"00000001\",\"element_clicked\":\"button-1\",\"page\":\"/products/1\",\"user_id\":\"user-000001\"}";
    let body = serde_json::json!({
        "DeliveryStreamName": "transformed",
        "Records": (0..500).map(|_| serde_json::json!({ "Data": b64.encode(record) })).collect::<Vec<_>>(),
    })
    .to_string();
    let make = super::firehose::put_record_batch(Bytes::from(body));
    let t = Instant::now();
    let f = run_scenario(port, make, 4, secs).await?;
    let (status, _) = call(port, "POST", "/_firelocal/firehose/flush", &[], String::new()).await?;
    let elapsed = t.elapsed().as_secs_f64();
    let sent = f.requests * 500;
    println!(
        "\nFirehose with the Python blueprint transform (4 connections, 500 records of {} bytes per call): {:.0} records/s accepted, {:.0} records/s end to end into S3 including the final flush (flush {})",
        record.len(),
        sent as f64 / f.secs,
        sent as f64 / elapsed,
        if status == 200 { "ok" } else { "failed" }
    );
    Ok(())
}

fn make_for(name: &'static str) -> RequestFactory {
    Arc::new(move |_, _| {
        http::Request::builder()
            .method("POST")
            .uri(format!("/2015-03-31/functions/{name}/invocations"))
            .header("host", "localhost")
            .body(Full::new(Bytes::from_static(b"{}")))
            .map_err(|e| e.to_string())
    })
}
