//! The bad-input table (`fixtures/bad-input/cases.json`): malformed and hostile requests across
//! every service, each with the HTTP status and AWS error code the SDKs expect, and after each
//! one the server must still answer. The rows are raw HTTP, so nothing an SDK validates on its
//! side hides what the server does.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::common::{Firelocal, form_encode};

/// One row of the table.
#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    service: String,
    #[serde(default = "post")]
    method: String,
    #[serde(default = "root")]
    path: String,
    /// The `X-Amz-Target` operation of a JSON protocol service.
    #[serde(default)]
    op: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    /// A body of `text` repeated `n` times (oversize inputs).
    #[serde(default)]
    repeat: Option<(String, usize)>,
    /// A JSON body.
    #[serde(default)]
    json: Option<Value>,
    /// An awsQuery form.
    #[serde(default)]
    form: Option<BTreeMap<String, String>>,
    /// Expected status; `code` is the expected AWS error code (absent for set-up rows).
    status: u16,
    #[serde(default)]
    code: Option<String>,
}

fn post() -> String {
    "POST".into()
}

fn root() -> String {
    "/".into()
}

/// The `X-Amz-Target` prefix and content type of the JSON protocol services.
fn json_target(service: &str) -> Option<(&'static str, &'static str)> {
    Some(match service {
        "firehose" => ("Firehose_20150804", "application/x-amz-json-1.1"),
        "athena" => ("AmazonAthena", "application/x-amz-json-1.1"),
        "glue" => ("AWSGlue", "application/x-amz-json-1.1"),
        "logs" => ("Logs_20140328", "application/x-amz-json-1.1"),
        "dynamodb" => ("DynamoDB_20120810", "application/x-amz-json-1.0"),
        _ => return None,
    })
}

/// The error code of a response: `x-amzn-ErrorType`, a JSON `__type` / `code`, or XML `<Code>`.
fn error_code(headers: &reqwest::header::HeaderMap, body: &str) -> Option<String> {
    if let Some(t) = headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok()) {
        return Some(t.split(':').next().unwrap_or(t).to_string());
    }
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let c = v.get("__type").or_else(|| v.get("code")).or_else(|| v.get("Code")).and_then(Value::as_str)?;
        return Some(c.rsplit('#').next().unwrap_or(c).to_string());
    }
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    Some(body[start..end].to_string())
}

#[tokio::test]
async fn every_bad_input_gets_awss_error_and_the_server_goes_on() {
    let table: Vec<Case> = serde_json::from_str(include_str!("../../fixtures/bad-input/cases.json")).expect("the table parses");
    let fl = Firelocal::start(&[]);
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &table {
        let url = format!("{}{}", fl.endpoint, case.path);
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("a method");
        let mut req = http.request(method.clone(), &url);
        let scope = if case.service == "apigateway" { "apigateway" } else { case.service.as_str() };
        req = req.header("authorization", format!("AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/{scope}/aws4_request, SignedHeaders=host, Signature=00"));
        if let (Some((prefix, content_type)), Some(op)) = (json_target(&case.service), &case.op) {
            req = req.header("x-amz-target", format!("{prefix}.{op}")).header("content-type", content_type);
        }
        for (k, v) in &case.headers {
            req = req.header(k, v);
        }
        let body: Vec<u8> = if let Some(form) = &case.form {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            form.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&").into_bytes()
        } else if let Some(j) = &case.json {
            j.to_string().into_bytes()
        } else if let Some((text, n)) = &case.repeat {
            text.repeat(*n).into_bytes()
        } else {
            case.body.clone().unwrap_or_default().into_bytes()
        };
        let resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: no answer ({e})", case.name));
                continue;
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let code = error_code(&headers, &text);
        if status != case.status || (case.code.is_some() && code != case.code) {
            failures.push(format!("{}: expected {} {:?}, got {status} {code:?}: {}", case.name, case.status, case.code, text.chars().take(300).collect::<String>()));
        }
        if status >= 500 && status != 501 {
            failures.push(format!("{}: a {status} for a client mistake", case.name));
        }
        let alive = http.get(format!("{}/_firelocal/health", fl.endpoint)).send().await.map(|r| r.status().as_u16());
        if alive.ok() != Some(200) {
            failures.push(format!("{}: the server stopped answering", case.name));
            break;
        }
        if case.code.is_some() {
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{} of {checked} rows failed:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 200, "the table should hold at least 200 error rows, it has {checked}");
}
