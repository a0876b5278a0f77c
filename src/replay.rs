//! `firelocal replay FILE.jsonl [--endpoint URL]`: sends a recording's requests, in order, to a
//! fresh firelocal (started in process) or a given one, and reports every response that differs
//! from the recorded one in status or body. Volatile values (request ids, timestamps, generated
//! ids and keys) are normalised; a generated value the new run gave differently is mapped from the
//! recorded to the new one, so later requests refer to the right resources. Exits non-zero on a
//! difference.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::server::record::body_bytes;

/// `firelocal replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// The recording (`serve --record`).
    pub file: std::path::PathBuf,
    /// Replay against a running firelocal instead of a fresh one started in process.
    #[arg(long)]
    pub endpoint: Option<String>,
}

/// Masks what changes from run to run in a value: uuids, timestamps, long hex and epoch numbers,
/// IAM-style upper-case ids, and the date partitions of keys written "now".
fn volatile() -> &'static [regex::Regex] {
    static R: std::sync::OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        [
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
            r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}|\d{8}T\d{6}Z|[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
            r"\b[0-9a-fA-F]{16,}\b|\b1\d{9}(\.\d+)?\b",
            r"\b[A-Z0-9]{16,21}\b",
            // Date partitions a run derives from its own clock (Hive-style, Firehose's default).
            r"year=\d{4}/month=\d{2}/day=\d{2}(/hour=\d{2})?|\b\d{4}/\d{2}/\d{2}/\d{2}\b",
        ]
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
    })
}

fn mask(s: &str) -> String {
    volatile().iter().fold(s.to_string(), |acc, r| r.replace_all(&acc, "<v>").into_owned())
}

/// Two different random ids of the same shape (API Gateway's `a1b2c3d4e5`, stack suffixes...).
fn id_like(a: &str, b: &str) -> bool {
    let shape = |s: &str| s.len() >= 8 && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric());
    let digit = |s: &str| s.chars().any(|c| c.is_ascii_digit());
    a.len() == b.len() && shape(a) && shape(b) && (digit(a) || digit(b))
}

/// Whether repeating a request changes nothing (a read a client polls with).
fn read_only(method: &str, operation: &str) -> bool {
    matches!(method, "GET" | "HEAD") || ["Get", "Describe", "List", "BatchGet"].iter().any(|p| operation.starts_with(p))
}

/// Keys whose values are generated (ids, tokens) or times, whatever they look like.
fn generated_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "id" || k.ends_with("id") || k.ends_with("arn") || k.ends_with("token") || k.ends_with("time") || k.ends_with("date") || k.contains("timestamp") || k.contains("millis") || k.contains("inseconds") || k.ends_with("_ms") || k == "etag" || k == "lastmodified" || k.ends_with("version") || k == "key" || k == "code"
}

/// Compares a recorded and a new value, adding generated values' new forms to `ids`; returns the
/// differences (path: recorded → new).
fn compare(path: &str, old: &Value, new: &Value, ids: &mut BTreeMap<String, String>, diffs: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) if generated_key(k) && va != vb => {
                        if let (Value::String(x), Value::String(y)) = (va, vb) {
                            ids.insert(x.clone(), y.clone());
                        }
                    }
                    Some(vb) => compare(&format!("{path}.{k}"), va, vb, ids, diffs),
                    None => diffs.push(format!("{path}.{k}: missing from the new response")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                diffs.push(format!("{path}.{k}: new in the response"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(&format!("{path}[{i}]"), x, y, ids, diffs);
            }
        }
        (Value::String(a), Value::String(b)) if a != b => {
            if substitute(a, ids) == *b {
                return;
            }
            if mask(a) == mask(b) || id_like(a, b) {
                ids.insert(a.clone(), b.clone());
            } else {
                diffs.push(format!("{path}: {a:?} → {b:?}"));
            }
        }
        (a, b) if a != b => {
            let (x, y) = (a.to_string(), b.to_string());
            if mask(&x) != mask(&y) {
                diffs.push(format!("{path}: {x} → {y}"));
            }
        }
        _ => {}
    }
}

/// An XML document as JSON (element → children or text), so it compares like JSON.
fn xml_value(e: &crate::protocol::xml::Element) -> Value {
    if e.children.is_empty() {
        return Value::String(e.text.clone());
    }
    let mut obj = serde_json::Map::new();
    for c in &e.children {
        let v = xml_value(c);
        match obj.get_mut(&c.name) {
            Some(Value::Array(a)) => a.push(v),
            Some(prev) => {
                let first = prev.take();
                *prev = Value::Array(vec![first, v]);
            }
            None => {
                obj.insert(c.name.clone(), v);
            }
        }
    }
    Value::Object(obj)
}

/// A body as a comparable value: JSON, XML, or text.
fn parsed(b: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice::<Value>(b) {
        return v;
    }
    if b.first() == Some(&b'<')
        && let Ok(e) = crate::protocol::xml::parse(b)
    {
        return serde_json::json!({ e.name.clone(): xml_value(&e) });
    }
    Value::String(String::from_utf8_lossy(b).into_owned())
}

fn substitute(s: &str, ids: &BTreeMap<String, String>) -> String {
    // Longest first, so an ARN is replaced before the id inside it.
    let mut keys: Vec<&String> = ids.keys().filter(|k| k.len() >= 6).collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    keys.iter().fold(s.to_string(), |acc, k| if acc.contains(k.as_str()) { acc.replace(k.as_str(), &ids[*k]) } else { acc })
}

/// Sends one request on a fresh connection: the status and body.
pub(crate) async fn send(authority: &str, request: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(authority).await.map_err(|e| format!("cannot reach {authority}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let resp = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    Ok((status, resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes()))
}

/// Runs the replay and prints its report; `Err` when a response differs.
pub fn run(args: ReplayArgs) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let lines: Vec<Value> = text.lines().filter(|l| !l.trim().is_empty()).enumerate().map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))).collect::<Result<_, _>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let (authority, server) = match &args.endpoint {
            Some(e) => (e.trim_start_matches("http://").trim_end_matches('/').to_string(), None),
            None => {
                let config = crate::Config { port: 0, log_level: "warn".into(), ..Default::default() };
                let (endpoint, running) = crate::server::Server::bind(config).await?.spawn()?;
                (endpoint.trim_start_matches("http://").to_string(), Some(running))
            }
        };
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        let mut failures = 0;
        // A read the client repeated (a poll) is only compared the last time: its earlier answers
        // depended on how fast the recorded run was.
        let key = |l: &Value| (l["request"]["method"].clone(), l["request"]["path"].clone(), l["request"]["query"].clone(), l["request"]["body"].clone());
        let repeated: Vec<bool> = lines.iter().enumerate().map(|(i, l)| lines[i + 1..].iter().any(|m| key(m) == key(l))).collect();
        for (i, line) in lines.iter().enumerate() {
            let req = &line["request"];
            let (service, op) = (line["service"].as_str().unwrap_or_default(), line["operation"].as_str().unwrap_or_default());
            let path = substitute(req["path"].as_str().unwrap_or("/"), &ids);
            let query: Vec<(String, String)> = req["query"].as_array().into_iter().flatten().filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), substitute(p.get(1)?.as_str()?, &ids)))).collect();
            let uri = if query.is_empty() { path.clone() } else { format!("{path}?{}", query.iter().map(|(k, v)| format!("{}={}", crate::protocol::url_encode(k), crate::protocol::url_encode(v))).collect::<Vec<_>>().join("&")) };
            let body = match &req["body"] {
                Value::String(s) => Bytes::from(substitute(s, &ids)),
                other => body_bytes(other),
            };
            let mut builder = http::Request::builder().method(req["method"].as_str().unwrap_or("GET")).uri(&uri).header("host", &authority);
            for (k, v) in req["headers"].as_object().into_iter().flatten() {
                if k == "authorization" || k == "x-amz-security-token" || k.starts_with("x-amz-checksum") || k == "content-md5" || k == "x-amz-content-sha256" {
                    continue;
                }
                builder = builder.header(k.as_str(), substitute(v.as_str().unwrap_or_default(), &ids));
            }
            if let Some(sig) = req["signing"].as_object() {
                let scope = format!("AWS4-HMAC-SHA256 Credential=test/20240101/{}/{}/aws4_request, SignedHeaders=host, Signature=0", sig["region"].as_str().unwrap_or("us-east-1"), sig["service"].as_str().unwrap_or_default());
                builder = builder.header("authorization", scope);
            }
            let request = builder.body(Full::new(body)).map_err(|e| e.to_string())?;
            let want_status = line["response"]["status"].as_u64().unwrap_or(0) as u16;
            let want = parsed(&body_bytes(&line["response"]["body"]));
            // A read the recorded client was polling may need the same patience: repeat it
            // (up to 2 s) until it answers as recorded.
            let read = read_only(req["method"].as_str().unwrap_or_default(), op);
            if read && repeated[i] {
                send(&authority, request).await?;
                continue;
            }
            let retries = if read { 100 } else { 1 };
            let mut diffs = Vec::new();
            for attempt in 0..retries {
                let (status, got) = send(&authority, request.clone()).await?;
                let mut trial_ids = ids.clone();
                diffs.clear();
                if status != want_status {
                    diffs.push(format!("status {want_status} → {status}"));
                }
                compare("body", &want, &parsed(&got), &mut trial_ids, &mut diffs);
                if diffs.is_empty() || attempt + 1 == retries {
                    ids = trial_ids;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            if !diffs.is_empty() {
                failures += 1;
                println!("#{} {service} {op} {} {}: differs", i + 1, req["method"].as_str().unwrap_or_default(), path);
                for d in diffs.iter().take(10) {
                    println!("    {d}");
                }
            }
        }
        println!("replayed {} requests: {}", lines.len(), if failures == 0 { "no differences".to_string() } else { format!("{failures} differ") });
        if let Some(running) = server {
            running.stop().await;
        }
        if failures == 0 { Ok(()) } else { Err(format!("{failures} of {} responses differ from the recording", lines.len())) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generated_values_are_mapped_and_real_changes_reported() {
        let mut ids = BTreeMap::new();
        let mut diffs = Vec::new();
        let old = json!({"QueryExecutionId": "a1", "Rows": ["x", "2024-01-01T00:00:00.000Z"], "Key": "p/2024-01-01-00-00-00-11111111-2222-3333-4444-555555555555", "Count": 2});
        let new = json!({"QueryExecutionId": "b2", "Rows": ["x", "2026-11-26T19:00:00.000Z"], "Key": "p/2026-11-26-19-00-00-aaaaaaaa-2222-3333-4444-555555555555", "Count": 2});
        compare("body", &old, &new, &mut ids, &mut diffs);
        assert!(diffs.is_empty(), "{diffs:?}");
        assert_eq!(ids.get("a1").map(String::as_str), Some("b2"));
        assert_eq!(substitute("/x/p/2024-01-01-00-00-00-11111111-2222-3333-4444-555555555555", &ids), "/x/p/2026-11-26-19-00-00-aaaaaaaa-2222-3333-4444-555555555555");
        compare("body", &json!({"Count": 2, "Name": "a"}), &json!({"Count": 3, "Name": "b"}), &mut ids, &mut diffs);
        assert_eq!(diffs, vec!["body.Count: 2 → 3".to_string(), "body.Name: \"a\" → \"b\"".to_string()]);
        // A run on another day writes and repairs other date partitions.
        let mut diffs = Vec::new();
        let old = json!({"Rows": ["Repair: Added partition to metastore t:year=2026/month=11/day=26", "raw/2026/11/26/23/x"]});
        let new = json!({"Rows": ["Repair: Added partition to metastore t:year=2026/month=11/day=27", "raw/2026/11/27/00/x"]});
        compare("body", &old, &new, &mut ids, &mut diffs);
        assert!(diffs.is_empty(), "{diffs:?}");
                let xml = parsed(b"<R><A>1</A><A>2</A><B>x</B></R>");
        assert_eq!(xml, json!({"R": {"A": ["1", "2"], "B": "x"}}));
    }
}
