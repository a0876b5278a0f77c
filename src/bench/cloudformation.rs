//! `firelocal bench cloudformation`: deploys `fixtures/clickstream.yaml` (the seed's whole
//! pipeline, 19 resources) as a stack, from CreateStack to CREATE_COMPLETE, then deletes it;
//! repeated, with the median and worst times printed.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::firehose::call;
use super::{BenchArgs, spawn_server};

const TEMPLATE: &str = include_str!("../../fixtures/clickstream.yaml");

fn form(pairs: &[(&str, &str)]) -> Bytes {
    Bytes::from(pairs.iter().map(|(k, v)| format!("{}={}", crate::protocol::url_encode(k), crate::protocol::url_encode(v))).collect::<Vec<_>>().join("&"))
}

async fn action(port: u16, pairs: &[(&str, &str)]) -> Result<String, String> {
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0")];
    let (status, body) = call(port, "POST", "/", &headers, form(pairs)).await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    if status != 200 {
        return Err(format!("{} answered {status}: {text}", pairs[0].1));
    }
    Ok(text)
}

/// Runs the benchmark.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let (server, _) = spawn_server(&args.server_log_level, args.persistent)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let iterations = args.starts.max(1);
    let (mut creates, mut deletes) = (Vec::new(), Vec::new());
    rt.block_on(async {
        for i in 0..iterations {
            let name = format!("bench-{i}");
            let t = Instant::now();
            action(server.port, &[("Action", "CreateStack"), ("Version", "2010-05-15"), ("StackName", &name), ("TemplateBody", TEMPLATE), ("Capabilities.member.1", "CAPABILITY_NAMED_IAM")]).await?;
            let described = action(server.port, &[("Action", "DescribeStacks"), ("Version", "2010-05-15"), ("StackName", &name)]).await?;
            creates.push(t.elapsed());
            if !described.contains("<StackStatus>CREATE_COMPLETE</StackStatus>") {
                return Err(format!("stack {name} did not complete: {described}"));
            }
            let t = Instant::now();
            action(server.port, &[("Action", "DeleteStack"), ("Version", "2010-05-15"), ("StackName", &name)]).await?;
            deletes.push(t.elapsed());
        }
        Ok::<(), String>(())
    })?;
    let stats = |mut v: Vec<Duration>| {
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        (ms(v[v.len() / 2]), ms(v[v.len() - 1]))
    };
    let (c50, cmax) = stats(creates);
    let (d50, dmax) = stats(deletes);
    println!("| fixtures/clickstream.yaml (19 resources), {iterations} runs | median ms | worst ms |");
    println!("|---|---|---|");
    println!("| CreateStack → CREATE_COMPLETE | {c50:.1} | {cmax:.1} |");
    println!("| DeleteStack → DELETE_COMPLETE | {d50:.1} | {dmax:.1} |");
    Ok(())
}
