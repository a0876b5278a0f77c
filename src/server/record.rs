//! `serve --record FILE.jsonl`: every request and its response, one JSON object a line (service,
//! operation, timing, the request with its signing scope, the response), with credentials
//! redacted: the `Authorization` header, session tokens, and secret keys in response bodies.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::protocol::{AwsRequest, HttpResponse};

/// The open recording.
pub struct Recorder {
    file: Mutex<std::io::BufWriter<std::fs::File>>,
    secrets: regex::Regex,
}

const REDACTED: &str = "REDACTED";
const SECRET_HEADERS: &[&str] = &["authorization", "x-amz-security-token"];

/// A body as text when it is UTF-8, else as `{"base64": ...}`.
fn body_value(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) }),
    }
}

/// The bytes of a recorded body.
pub fn body_bytes(v: &Value) -> Bytes {
    match v {
        Value::String(s) => Bytes::from(s.clone()),
        Value::Object(o) => o.get("base64").and_then(Value::as_str).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()).map(Bytes::from).unwrap_or_default(),
        _ => Bytes::new(),
    }
}

impl Recorder {
    /// Opens `path` for appending.
    pub fn open(path: &Path) -> Result<Recorder, String> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| format!("--record {}: {e}", path.display()))?;
        let secrets = regex::Regex::new(r#"(?i)("(?:secretAccessKey|sessionToken|secretKey)"\s*:\s*")[^"]*(")|(<(SecretAccessKey|SessionToken)>)[^<]*(</)"#).map_err(|e| e.to_string())?;
        Ok(Recorder { file: Mutex::new(std::io::BufWriter::new(file)), secrets })
    }

    fn redact(&self, text: &str) -> String {
        self.secrets
            .replace_all(text, |c: &regex::Captures<'_>| match (c.get(1), c.get(3)) {
                (Some(open), _) => format!("{}{REDACTED}\"", open.as_str()),
                (_, Some(open)) => format!("{}{REDACTED}</", open.as_str()),
                _ => c[0].to_string(),
            })
            .into_owned()
    }

    /// Writes one exchange and hands the response back unchanged.
    pub async fn record(&self, req: &AwsRequest, service: &str, operation: &str, ms: f64, resp: HttpResponse) -> HttpResponse {
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let headers = |h: &http::HeaderMap| -> Value {
            Value::Object(
                h.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection" | "date"))
                    .map(|(k, v)| (k.as_str().to_string(), Value::String(if SECRET_HEADERS.contains(&k.as_str()) { REDACTED.into() } else { String::from_utf8_lossy(v.as_bytes()).into_owned() })))
                    .collect(),
            )
        };
        let redact_body = |b: &[u8]| match body_value(b) {
            Value::String(s) => Value::String(self.redact(&s)),
            other => other,
        };
        let line = json!({
            "service": service,
            "operation": operation,
            "ms": (ms * 1000.0).round() / 1000.0,
            "request": {
                "method": req.method.as_str(),
                "path": req.path,
                "query": req.query,
                "headers": headers(&req.headers),
                "signing": req.auth.as_ref().map(|c| json!({"service": c.service, "region": c.region})),
                "body": redact_body(&req.body),
            },
            "response": { "status": parts.status.as_u16(), "headers": headers(&parts.headers), "body": redact_body(&bytes) },
        });
        {
            let mut f = self.file.lock();
            let written = writeln!(f, "{line}").and_then(|_| f.flush());
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not write to the recording");
            }
        }
        http::Response::from_parts(parts, Full::new(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let dir = std::env::temp_dir().join(format!("firelocal-rec-{}", uuid::Uuid::new_v4()));
        let r = Recorder::open(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.redact(r#"{"AccessKeyId":"ASIA1","SecretAccessKey":"abc","SessionToken":"t"}"#), r#"{"AccessKeyId":"ASIA1","SecretAccessKey":"REDACTED","SessionToken":"REDACTED"}"#);
        assert_eq!(r.redact("<AccessKeyId>A</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey>"), "<AccessKeyId>A</AccessKeyId><SecretAccessKey>REDACTED</SecretAccessKey>");
        assert_eq!(body_bytes(&body_value(&[0xff, 0x00])), Bytes::from_static(&[0xff, 0x00]));
        let _ = std::fs::remove_file(dir);
    }
}
