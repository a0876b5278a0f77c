//! Fault injection for users: AWS error responses, added latency, partial batch failures and
//! crashing or hanging functions, by service, operation and resource, with a probability and a
//! count, so a pipeline's failure paths (and the SDKs' own retries) can be tested on purpose. Set
//! through `/_firelocal/faults` or `serve --faults FILE`.
//!
//! Where each kind of rule is applied ([`Kind`]):
//! - **Request** rules (an `error` and/or `latency_ms`) apply to calls: a client's request, after
//!   routing, signature and IAM checks and before the service runs (the error is rendered in the
//!   service's own protocol, exactly as AWS would send it), and the calls firelocal makes on a
//!   pipeline's behalf (Firehose writing to S3, Firehose invoking its transform function).
//! - **Partial** rules (`partial`) make Firehose's PutRecordBatch refuse some records of a batch
//!   (`FailedPutCount`, per-record `ErrorCode`), as AWS does under load.
//! - **Invocation** rules (`invocation: crash | timeout`) make a Lambda invocation end as if the
//!   function's process died or ran past its timeout, whoever invoked it.

use std::sync::atomic::{AtomicU64, Ordering};

use http::StatusCode;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::{AwsError, AwsRequest};

/// The error a fault answers with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultError {
    /// The AWS error code (`ServiceUnavailableException`, `SlowDown`, `ThrottlingException`...).
    pub code: String,
    /// The HTTP status (default 400; 503 for `ServiceUnavailable*` / `SlowDown`, 429 for
    /// `TooManyRequestsException`).
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
}

/// One fault rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fault {
    /// Assigned when the fault is added.
    #[serde(default)]
    pub id: String,
    /// The service (`s3`, `firehose`, `lambda`...); `*` or absent: any.
    #[serde(default)]
    pub service: Option<String>,
    /// The operation (`PutRecordBatch`, `PutObject`, `Invoke`...); absent: any.
    #[serde(default)]
    pub operation: Option<String>,
    /// A resource name the request must name (a bucket, a stream, a function...): a path
    /// segment or a top-level string in a JSON body.
    #[serde(default)]
    pub resource: Option<String>,
    /// The error to answer with; absent: only `latency_ms`, then the real answer.
    #[serde(default)]
    pub error: Option<FaultError>,
    /// PutRecordBatch only: refuse every `every`-th record of a batch with this error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
    /// Lambda only: end the invocation as a `crash` (the runtime process dies) or a `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Sabotage>,
    /// Added latency before answering.
    #[serde(default)]
    pub latency_ms: u64,
    /// The chance that a matching request is hit (default 1).
    #[serde(default = "one")]
    pub probability: f64,
    /// How many requests to hit before the fault removes itself; absent: no limit.
    #[serde(default)]
    pub count: Option<u64>,
    /// How many requests it has hit.
    #[serde(default)]
    pub hits: u64,
}

fn one() -> f64 {
    1.0
}

/// A partial batch failure: which records fail, and with what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Partial {
    /// Every `every`-th record fails (1: all of them).
    pub every: u32,
    /// The per-record error code (default `ServiceUnavailableException`).
    #[serde(default)]
    pub code: Option<String>,
    /// The per-record message (default `Slow down.`, as Firehose says it).
    #[serde(default)]
    pub message: Option<String>,
}

/// How an invocation is made to fail.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Sabotage {
    /// The runtime process is killed mid-invocation (`Runtime.ExitError`).
    Crash,
    /// The invocation runs past the function's timeout (`Sandbox.Timedout`).
    Timeout,
}

/// Which rules a check looks at: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Partial,
    Invocation,
}

impl Fault {
    fn kind(&self) -> Kind {
        if self.partial.is_some() {
            Kind::Partial
        } else if self.invocation.is_some() {
            Kind::Invocation
        } else {
            Kind::Request
        }
    }
}

/// What a matching fault does to a request.
pub enum Injection {
    /// Wait, then answer as usual.
    Delay(u64),
    /// Wait, then answer with this error.
    Fail(u64, AwsError),
    /// Refuse every `every`-th record with this code and message.
    Partial { every: u32, code: String, message: String },
    /// End the invocation this way.
    Invocation(Sabotage),
}

/// The faults in force.
#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    next: AtomicU64,
}

impl Faults {
    /// Adds rules (checked); returns them with their ids.
    pub fn add(&self, rules: Vec<Fault>) -> Result<Vec<Fault>, String> {
        let mut added = Vec::new();
        for mut f in rules {
            if !(0.0..=1.0).contains(&f.probability) {
                return Err(format!("probability must be between 0 and 1, not {}", f.probability));
            }
            match (&f.partial, &f.invocation) {
                (None, None) if f.error.is_none() && f.latency_ms == 0 => {
                    return Err("a fault needs an error, a latency_ms, a partial or an invocation".into());
                }
                (Some(_), Some(_)) => return Err("a fault is either a partial batch failure or an invocation failure, not both".into()),
                (Some(p), None) => {
                    if p.every == 0 {
                        return Err("partial.every must be at least 1".into());
                    }
                    if f.service.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("firehose")) || f.operation.as_deref().is_some_and(|o| o != "PutRecordBatch") {
                        return Err("a partial failure applies to firehose PutRecordBatch only".into());
                    }
                }
                (None, Some(_)) => {
                    if f.service.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("lambda")) || f.operation.as_deref().is_some_and(|o| o != "Invoke") {
                        return Err("an invocation failure applies to lambda Invoke only".into());
                    }
                }
                (None, None) => {}
            }
            if (f.partial.is_some() || f.invocation.is_some()) && (f.error.is_some() || f.latency_ms > 0) {
                return Err("a partial or invocation fault takes no error or latency_ms of its own".into());
            }
            if let Some(e) = &f.error
                && (e.code.is_empty() || e.status.is_some_and(|s| !(400..=599).contains(&s)))
            {
                return Err("a fault's error needs a code and a status from 400 to 599".into());
            }
            f.id = format!("fault-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
            f.hits = 0;
            added.push(f);
        }
        self.rules.lock().extend(added.iter().cloned());
        Ok(added)
    }

    /// Whether any rule is in force (one lock, taken before a request's operation is worked out).
    pub fn active(&self) -> bool {
        !self.rules.lock().is_empty()
    }

    /// The rules in force, with their hit counts.
    pub fn list(&self) -> Vec<Fault> {
        self.rules.lock().clone()
    }

    /// Removes one rule (`None`: all). Whether anything was removed.
    pub fn remove(&self, id: Option<&str>) -> bool {
        let mut rules = self.rules.lock();
        let before = rules.len();
        match id {
            Some(id) => rules.retain(|f| f.id != id),
            None => rules.clear(),
        }
        rules.len() != before
    }

    /// The injection for a client's request to `service` / `operation`, if a request rule hits
    /// it (a resource matches a path segment, the host's first label or a top-level JSON string).
    pub fn check(&self, service: &str, operation: &str, req: &AwsRequest) -> Option<Injection> {
        self.hit(service, operation, Kind::Request, |r| names(req, r))
    }

    /// The injection for a call firelocal makes itself, or an effect inside a service, on the
    /// named resource (`names`: its name and ARN, say), if a rule of this kind hits it.
    pub fn check_call(&self, service: &str, operation: &str, kind: Kind, names: &[&str]) -> Option<Injection> {
        self.hit(service, operation, kind, |r| names.contains(&r))
    }

    /// A call firelocal makes itself from a blocking thread (a pipeline hop): waits out any
    /// injected latency, then returns the injected error, if a request rule hits the call.
    pub fn blocking_call(&self, service: &str, operation: &str, names: &[&str]) -> Option<AwsError> {
        match self.check_call(service, operation, Kind::Request, names)? {
            Injection::Fail(ms, e) => {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                Some(e)
            }
            Injection::Delay(ms) => {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                None
            }
            Injection::Partial { .. } | Injection::Invocation(_) => None,
        }
    }

    fn hit(&self, service: &str, operation: &str, kind: Kind, names: impl Fn(&str) -> bool) -> Option<Injection> {
        let mut rules = self.rules.lock();
        if rules.is_empty() {
            return None;
        }
        let i = rules.iter().position(|f| {
            f.kind() == kind
                && f.service.as_deref().is_none_or(|s| s == "*" || s.eq_ignore_ascii_case(service))
                && f.operation.as_deref().is_none_or(|o| o == "*" || o == operation)
                && f.resource.as_deref().is_none_or(&names)
        })?;
        if rules[i].probability < 1.0 && chance() >= rules[i].probability {
            return None;
        }
        rules[i].hits += 1;
        let f = rules[i].clone();
        if f.count.is_some_and(|c| f.hits >= c) {
            rules.remove(i);
        }
        drop(rules);
        let what = match (&f.error, &f.partial, f.invocation) {
            (_, Some(p), _) => format!("partial every {}", p.every),
            (_, _, Some(s)) => format!("{s:?}").to_lowercase(),
            (Some(e), _, _) => e.code.clone(),
            _ => "-".into(),
        };
        tracing::info!(target: "firelocal::faults", fault = %f.id, service, operation, injected = %what, latency_ms = f.latency_ms, "injected a fault");
        Some(match (f.error, f.partial, f.invocation) {
            (_, Some(p), _) => Injection::Partial {
                every: p.every,
                code: p.code.unwrap_or_else(|| "ServiceUnavailableException".into()),
                message: p.message.unwrap_or_else(|| "Slow down.".into()),
            },
            (_, _, Some(s)) => Injection::Invocation(s),
            (Some(e), _, _) => {
                let status = e.status.unwrap_or(match e.code.as_str() {
                    c if c.starts_with("ServiceUnavailable") || c == "SlowDown" => 503,
                    "TooManyRequestsException" => 429,
                    "InternalError" | "InternalFailure" | "InternalServerError" | "ServiceFailure" => 500,
                    _ => 400,
                });
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let code = intern(&e.code);
                let message = e.message.unwrap_or_else(|| format!("{code} (injected by firelocal fault {})", f.id));
                Injection::Fail(f.latency_ms, AwsError::new(status, code, message))
            }
            (None, None, None) => Injection::Delay(f.latency_ms),
        })
    }
}

/// A `&'static str` for an error code (AwsError keeps codes static): each distinct code is
/// leaked once.
fn intern(code: &str) -> &'static str {
    static CODES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut codes = CODES.lock();
    if let Some(c) = codes.iter().find(|c| **c == code) {
        return c;
    }
    let c: &'static str = Box::leak(code.to_string().into_boxed_str());
    codes.push(c);
    c
}

/// A number in [0, 1) from a fresh random uuid.
fn chance() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

/// Whether a request names `resource`: a path segment, or a top-level string in its JSON body.
fn names(req: &AwsRequest, resource: &str) -> bool {
    if req.path.split('/').any(|seg| crate::protocol::percent_decode(seg) == resource) {
        return true;
    }
    if req.host.split('.').next() == Some(resource) {
        return true;
    }
    serde_json::from_slice::<Value>(&req.body).ok().and_then(|v| v.as_object().map(|o| o.values().any(|x| x.as_str() == Some(resource)))).unwrap_or(false)
}

/// Parses rules from JSON or YAML: one rule, a list, or `{"faults": [...]}`.
pub fn parse(text: &str) -> Result<Vec<Fault>, String> {
    let v: Value = serde_yaml::from_str(text).map_err(|e| format!("the faults are neither JSON nor YAML: {e}"))?;
    let list = match v {
        Value::Array(a) => a,
        Value::Object(mut o) if o.contains_key("faults") => match o.remove("faults") {
            Some(Value::Array(a)) => a,
            _ => return Err("`faults` must be a list".into()),
        },
        other => vec![other],
    };
    list.into_iter().map(|f| serde_json::from_value(f).map_err(|e| format!("a fault is malformed: {e}"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, body: &str) -> AwsRequest {
        AwsRequest {
            method: http::Method::POST,
            path: path.into(),
            query: Vec::new(),
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
            request_id: String::new(),
            auth: None,
            host: "localhost".into(),
            peer: None,
        }
    }

    #[test]
    fn rules_match_count_down_and_render() -> Result<(), String> {
        let faults = Faults::default();
        let rules = parse("faults:\n  - service: firehose\n    operation: PutRecordBatch\n    resource: clicks\n    error: {code: ServiceUnavailableException}\n    count: 2\n")?;
        let added = faults.add(rules)?;
        assert_eq!(added[0].id, "fault-1");
        let hit = req("/", r#"{"DeliveryStreamName": "clicks"}"#);
        assert!(faults.check("firehose", "PutRecord", &hit).is_none());
        assert!(faults.check("firehose", "PutRecordBatch", &req("/", r#"{"DeliveryStreamName": "other"}"#)).is_none());
        for _ in 0..2 {
            match faults.check("firehose", "PutRecordBatch", &hit) {
                Some(Injection::Fail(0, e)) => assert_eq!((e.status.as_u16(), e.code), (503, "ServiceUnavailableException")),
                _ => return Err("expected an injected 503".into()),
            }
        }
        assert!(faults.check("firehose", "PutRecordBatch", &hit).is_none(), "the count is spent");
        assert!(faults.list().is_empty());
        assert!(faults.add(parse(r#"{"service": "s3"}"#)?).is_err(), "a fault that does nothing is refused");
        Ok(())
    }

    #[test]
    fn each_kind_is_checked_only_where_it_applies() -> Result<(), String> {
        let faults = Faults::default();
        faults.add(parse("- {service: firehose, operation: PutRecordBatch, partial: {every: 2}}\n- {service: lambda, resource: fn, invocation: timeout, count: 1}\n")?)?;
        let batch = req("/", r#"{"DeliveryStreamName": "clicks"}"#);
        assert!(faults.check("firehose", "PutRecordBatch", &batch).is_none(), "a client request is not hit by a partial rule");
        assert!(matches!(faults.check_call("firehose", "PutRecordBatch", Kind::Partial, &["clicks"]), Some(Injection::Partial { every: 2, .. })));
        assert!(faults.check_call("lambda", "Invoke", Kind::Invocation, &["other"]).is_none());
        assert!(matches!(faults.check_call("lambda", "Invoke", Kind::Invocation, &["fn", "arn:..."]), Some(Injection::Invocation(Sabotage::Timeout))));
        assert!(faults.check_call("lambda", "Invoke", Kind::Invocation, &["fn"]).is_none(), "the count is spent");
        for bad in ["{service: s3, partial: {every: 1}}", "{partial: {every: 0}}", "{service: lambda, invocation: crash, error: {code: X}}", "{invocation: explode}"] {
            assert!(parse(bad).and_then(|r| faults.add(r)).is_err(), "{bad} should be refused");
        }
        Ok(())
    }
}
