//! Lambda functions as local processes over the real Lambda Runtime API, no Docker. Each worker
//! is one process (the user's `bootstrap`, or `python3` / `node` running the small runtime loop
//! firelocal ships inside its binary) with its own Runtime API endpoint on 127.0.0.1. A [`Pool`]
//! per function keeps warm workers, enforces the concurrency limit and the timeout, and reports
//! each invocation's outcome and log lines.

pub mod pool;
pub mod runtime_api;
pub mod worker;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

pub use pool::Pool;

/// The Python runtime loop (standard library only), run as `python3 <this file>`.
pub const PYTHON_BOOTSTRAP: &str = include_str!("bootstrap/python.py");
/// The Node.js runtime loop (standard library only), run as `node <this file>`.
pub const NODE_BOOTSTRAP: &str = include_str!("bootstrap/node.js");

/// Everything a worker needs to start: one version of one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub arn: String,
    pub version: String,
    pub runtime: String,
    pub handler: String,
    /// The unpacked code (or the hot-reload folder).
    pub code_dir: PathBuf,
    pub timeout: Duration,
    pub memory_mb: u32,
    /// The function's Environment.Variables.
    pub env: Vec<(String, String)>,
    pub region: String,
    /// firelocal's own endpoint, so the function's SDK calls stay local.
    pub endpoint: String,
    /// The execution role's temporary credentials (key, secret, token), as Lambda sets them.
    pub credentials: (String, String, String),
    /// Where the shipped runtime loops are written (`python.py`, `node.js`).
    pub runtime_dir: PathBuf,
    pub log_group: String,
    /// The execution role's ARN (what the function's logs are written as).
    pub role: String,
}

/// One log line a function wrote (or START/END/REPORT), for CloudWatch Logs.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// The execution role the line is written as (CloudWatch Logs checks it under `--enforce-iam`).
    pub role: std::sync::Arc<str>,
    pub group: String,
    pub stream: String,
    pub timestamp_ms: i64,
    pub message: String,
}

/// Issues a function's execution-role credentials: (role ARN, function name) → (key, secret, token).
pub type CredentialIssuer = std::sync::Arc<dyn Fn(&str, &str) -> (String, String, String) + Send + Sync>;

/// Where log lines go (the CloudWatch Logs store).
pub type LogSink = std::sync::Arc<dyn Fn(Vec<LogLine>) + Send + Sync>;

/// How an invocation ended.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    /// The response payload, or the error document when `function_error` is set.
    pub payload: Bytes,
    /// `Unhandled` when the function (or its runtime) failed, as `X-Amz-Function-Error` says.
    pub function_error: Option<String>,
    /// This invocation's log lines, START to REPORT.
    pub log: String,
    pub duration: Duration,
}

/// Why an invocation could not run at all.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    /// firelocal could not set the worker up (its Runtime API endpoint).
    Spawn(String),
    /// The runtime's entry point could not be started (no `bootstrap`, no interpreter): the
    /// caller gets `Runtime.InvalidEntrypoint`, as on AWS.
    Entrypoint(String),
}

/// The largest response a synchronous invocation may return.
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;
