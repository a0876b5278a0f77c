//! Health endpoints: `/_firelocal/health` (firelocal's own shape) and `/_localstack/health`
//! (that tool's shape, so test tooling that waits on it works unchanged).

use bytes::Bytes;
use http::StatusCode;

use super::router::SERVICES;
use crate::protocol::{HttpResponse, response};

/// firelocal's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn json(body: serde_json::Value) -> HttpResponse {
    response(StatusCode::OK, vec![("content-type", "application/json".into())], Bytes::from(body.to_string()))
}

/// `GET /_firelocal/health`.
pub fn firelocal(uptime_ms: u128) -> HttpResponse {
    let services: serde_json::Map<String, serde_json::Value> = SERVICES
        .iter()
        .map(|s| (s.name.to_string(), (if s.emulated { "running" } else { "not emulated yet" }).into()))
        .collect();
    json(serde_json::json!({ "status": "ok", "version": VERSION, "uptime_ms": uptime_ms as u64, "services": services }))
}

/// `GET /_localstack/health`, in LocalStack's shape (`running` / `disabled`).
pub fn localstack() -> HttpResponse {
    let services: serde_json::Map<String, serde_json::Value> = SERVICES
        .iter()
        .map(|s| (s.name.to_string(), (if s.emulated { "running" } else { "disabled" }).into()))
        .collect();
    json(serde_json::json!({ "services": services, "edition": "community", "version": VERSION }))
}
