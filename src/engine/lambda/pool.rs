//! A function's workers: warm ones are reused, new ones start on demand up to the concurrency
//! limit, the timeout is enforced by killing the process, and a crash or an init failure becomes
//! the error AWS reports (`Runtime.ExitError`, `Runtime.ImportModuleError`, `Sandbox.Timedout`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Semaphore, oneshot};

use super::runtime_api::{Completion, Pending};
use super::worker::Worker;
use super::{EngineError, FunctionSpec, Invocation, LogLine, LogSink};
use crate::protocol::time::{iso8601_millis, now_millis};

/// How long a runtime may take to initialise before its invocation's timeout starts (AWS's
/// init phase limit).
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// One function version's workers.
pub struct Pool {
    spec: Mutex<Arc<FunctionSpec>>,
    idle: Mutex<Vec<(Arc<FunctionSpec>, Worker)>>,
    permits: Arc<Semaphore>,
    sink: LogSink,
}

enum Ending {
    Done(Completion),
    Timeout,
    Exited(Option<i32>),
}

fn error_doc(kind: &str, message: String) -> Bytes {
    Bytes::from(serde_json::json!({ "errorType": kind, "errorMessage": message }).to_string())
}

impl Pool {
    /// A pool running `spec` with at most `concurrency` workers at once.
    pub fn new(spec: FunctionSpec, concurrency: usize, sink: LogSink) -> Pool {
        Pool { spec: Mutex::new(Arc::new(spec)), idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(concurrency.max(1))), sink }
    }

    /// The spec new workers start with.
    pub fn spec(&self) -> Arc<FunctionSpec> {
        self.spec.lock().clone()
    }

    /// Switches to a new spec (new code or configuration): warm workers are retired, so the next
    /// invocation starts cold with the new one.
    pub async fn update(&self, spec: FunctionSpec) {
        *self.spec.lock() = Arc::new(spec);
        self.retire_idle().await;
    }

    /// Kills every idle worker.
    pub async fn retire_idle(&self) {
        let idle: Vec<_> = std::mem::take(&mut *self.idle.lock());
        for (_, w) in idle {
            w.kill().await;
        }
    }

    fn log(&self, spec: &FunctionSpec, stream: &str, lines: &[String]) {
        let now = now_millis();
        let role: std::sync::Arc<str> = spec.role.as_str().into();
        (self.sink)(lines.iter().map(|m| LogLine { role: role.clone(), group: spec.log_group.clone(), stream: stream.to_string(), timestamp_ms: now, message: m.clone() }).collect());
    }

    /// Invokes the function once and waits for the outcome. `sabotage` (an injected fault) ends
    /// it as a crash (the process is killed as the event is handed over) or a timeout.
    pub async fn invoke(&self, payload: Bytes, client_context: Option<String>, sabotage: Option<crate::faults::Sabotage>) -> Result<Invocation, EngineError> {
        let _permit = self.permits.clone().acquire_owned().await.map_err(|_| EngineError::Spawn("the function is being deleted".into()))?;
        let spec = self.spec();
        let reuse = loop {
            let Some((s, w)) = self.idle.lock().pop() else { break None };
            if Arc::ptr_eq(&s, &spec) && w.exit_code().is_none() {
                break Some(w);
            }
            w.kill().await;
        };
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut worker = match reuse {
            Some(w) => w,
            None => match Worker::start(&spec, &self.sink).await {
                Ok(w) => w,
                Err(EngineError::Entrypoint(m)) => {
                    let line = format!("{request_id} Error: {m} Runtime.InvalidEntrypoint");
                    self.log(&spec, "entrypoint", std::slice::from_ref(&line));
                    return Ok(Invocation {
                        payload: error_doc("Runtime.InvalidEntrypoint", format!("RequestId: {request_id} Error: {m}")),
                        function_error: Some("Unhandled".into()),
                        log: format!("{line}\n"),
                        duration: started.elapsed(),
                        request_id,
                    });
                }
                Err(e) => return Err(e),
            },
        };
        let cold = !worker.warm;
        let start_line = format!("START RequestId: {request_id} Version: {}", spec.version);
        self.log(&spec, &worker.stream_name, std::slice::from_ref(&start_line));
        let _ = worker.take_log();
        let (done, done_rx) = oneshot::channel();
        let pending = Pending {
            request_id: request_id.clone(),
            payload,
            timeout: spec.timeout,
            function_arn: spec.arn.clone(),
            client_context,
            done,
        };
        let t0 = Instant::now();
        let ending = if worker.api.inbox.send(pending).await.is_err() {
            Ending::Exited(worker.exit_code())
        } else {
            let mut exited = worker.exited.clone();
            let timeout = if sabotage == Some(crate::faults::Sabotage::Timeout) { Duration::ZERO } else { spec.timeout };
            if sabotage == Some(crate::faults::Sabotage::Crash) {
                worker.signal_kill();
            }
            tokio::select! {
                c = done_rx => match c {
                    Ok(c) => Ending::Done(c),
                    Err(_) => Ending::Exited(worker.exit_code()),
                },
                // The timeout covers the invocation, not the cold start before it (AWS limits
                // that init phase to 10 s on its own).
                _ = async { if sabotage != Some(crate::faults::Sabotage::Timeout) { worker.api.initialised(INIT_LIMIT).await } tokio::time::sleep(timeout).await } => Ending::Timeout,
                code = exited.wait_for(Option::is_some) => Ending::Exited(code.ok().and_then(|c| *c)),
            }
        };
        // Init (cold start) ends when the runtime first asks for work; the invocation's duration
        // runs from then (or from the hand-off, when warm) to its answer.
        let ready = worker.api.ready_at().map_or(t0, |r| r.max(t0));
        let duration = ready.elapsed();
        let init = worker.api.ready_at().map(|r| r.saturating_duration_since(worker.started));
        // Every line the runtime printed before it answered is read before the tail is taken.
        worker.sync_log().await;
        let mut notes = Vec::new();
        // An injected crash ends the invocation whatever the function did meanwhile (its kill
        // is on the way), and no sabotaged worker is reused.
        let ending = if sabotage == Some(crate::faults::Sabotage::Crash) { Ending::Exited(None) } else { ending };
        let (payload, function_error, keep) = match ending {
            Ending::Done(Completion::Response(body)) if body.len() > super::MAX_RESPONSE_BYTES => (
                error_doc("Function.ResponseSizeTooLarge", format!("Response payload size exceeded maximum allowed payload size ({} bytes).", super::MAX_RESPONSE_BYTES)),
                Some("Unhandled".to_string()),
                true,
            ),
            Ending::Done(Completion::Response(body)) => (body, None, true),
            Ending::Done(Completion::Error(body)) => (body, Some("Unhandled".to_string()), true),
            Ending::Done(Completion::InitError(body)) => (body, Some("Unhandled".to_string()), false),
            Ending::Timeout => {
                let secs = spec.timeout.as_secs_f64();
                notes.push(format!("{} {request_id} Task timed out after {secs:.2} seconds", iso8601_millis(now_millis())));
                (error_doc("Sandbox.Timedout", format!("RequestId: {request_id} Error: Task timed out after {secs:.2} seconds")), Some("Unhandled".to_string()), false)
            }
            Ending::Exited(code) => match worker.api.take_init_error() {
                Some(body) => (body, Some("Unhandled".to_string()), false),
                None => {
                    let status = code.filter(|c| *c >= 0).map_or("signal: killed".to_string(), |c| format!("exit status {c}"));
                    (error_doc("Runtime.ExitError", format!("RequestId: {request_id} Error: Runtime exited with error: {status}")), Some("Unhandled".to_string()), false)
                }
            },
        };
        let mut lines = vec![start_line];
        lines.extend(worker.take_log());
        self.log(&spec, &worker.stream_name, &notes);
        lines.extend(notes);
        let ms = duration.as_secs_f64() * 1000.0;
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            ms.ceil() as u64,
            spec.memory_mb,
            worker.max_memory_mb().unwrap_or(0)
        );
        if cold && let Some(init) = init {
            report.push_str(&format!("\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0));
        }
        let end = [format!("END RequestId: {request_id}"), report];
        self.log(&spec, &worker.stream_name, &end);
        lines.extend(end);
        worker.warm = true;
        if keep && sabotage.is_none() && worker.exit_code().is_none() {
            self.idle.lock().push((spec, worker));
        } else {
            worker.kill().await;
        }
        let mut log = lines.join("\n");
        log.push('\n');
        Ok(Invocation { request_id, payload, function_error, log, duration: started.elapsed().max(Duration::ZERO) })
    }
}
