//! One worker's Lambda Runtime API (`/2018-06-01/runtime/...`) on 127.0.0.1: the long-polled
//! `invocation/next`, `invocation/{id}/response`, `invocation/{id}/error` and `init/error`, as
//! the official runtime interface clients expect them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, watch};

use crate::protocol::{HttpResponse, response};

/// How the runtime finished an invocation.
#[derive(Debug)]
pub enum Completion {
    Response(Bytes),
    /// The function failed: the error document and `Lambda-Runtime-Function-Error-Type`.
    Error(Bytes),
    /// The runtime failed to initialise (e.g. `Runtime.ImportModuleError`).
    InitError(Bytes),
}

/// An invocation handed to the runtime through `invocation/next`.
pub struct Pending {
    pub request_id: String,
    pub payload: Bytes,
    /// The function's timeout: the deadline runs from when the runtime takes the invocation.
    pub timeout: std::time::Duration,
    pub function_arn: String,
    pub client_context: Option<String>,
    pub done: oneshot::Sender<Completion>,
}

struct ApiState {
    inbox: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    inflight: Mutex<HashMap<String, oneshot::Sender<Completion>>>,
    /// An `init/error` posted before any invocation: answers the first one.
    init_error: Mutex<Option<Bytes>>,
    /// When the runtime first asked for an invocation (it finished initialising).
    ready_at: watch::Sender<Option<std::time::Instant>>,
}

/// A running Runtime API: its address and the channel that feeds `invocation/next`.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub inbox: mpsc::Sender<Pending>,
    state: Arc<ApiState>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds a fresh endpoint on 127.0.0.1 and serves it until dropped.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(1);
        let state = Arc::new(ApiState { inbox: tokio::sync::Mutex::new(rx), inflight: Mutex::new(HashMap::new()), init_error: Mutex::new(None), ready_at: watch::Sender::new(None) });
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(st.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Ok(RuntimeApi { addr, inbox: tx, state, task })
    }

    /// Takes the init error the runtime reported, if any.
    pub fn take_init_error(&self) -> Option<Bytes> {
        self.state.init_error.lock().take()
    }

    /// When the runtime finished initialising (its first `invocation/next`).
    pub fn ready_at(&self) -> Option<std::time::Instant> {
        *self.state.ready_at.borrow()
    }

    /// Waits until the runtime has initialised (at most `limit`, AWS's init phase limit).
    pub async fn initialised(&self, limit: std::time::Duration) {
        let mut rx = self.state.ready_at.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(Option::is_some)).await;
    }

    /// Fails every invocation the runtime took but did not finish (the process died).
    pub fn abandon_inflight(&self) -> Vec<oneshot::Sender<Completion>> {
        self.state.inflight.lock().drain().map(|(_, v)| v).collect()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn accepted() -> HttpResponse {
    response(StatusCode::ACCEPTED, vec![("content-type", "application/json".into())], Bytes::from_static(b"{\"status\":\"OK\"}"))
}

fn not_found(what: &str) -> HttpResponse {
    let body = serde_json::json!({ "errorMessage": what, "errorType": "InvalidRequestID" }).to_string();
    response(StatusCode::NOT_FOUND, vec![("content-type", "application/json".into())], Bytes::from(body))
}

async fn handle(state: Arc<ApiState>, req: Request<Incoming>) -> Result<HttpResponse, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Ok(not_found("unknown Runtime API path"));
    };
    Ok(match (&parts.method, rest) {
        (&Method::GET, "invocation/next") => {
            // The first request marks the end of init; later ones change nothing.
            state.ready_at.send_if_modified(|r| {
                let first = r.is_none();
                if first {
                    *r = Some(std::time::Instant::now());
                }
                first
            });
            let next = state.inbox.lock().await.recv().await;
            match next {
                None => response(StatusCode::GONE, vec![], Bytes::new()),
                Some(p) => {
                    let deadline_ms = crate::protocol::time::now_millis() + p.timeout.as_millis() as i64;
                    let mut h = vec![
                        ("lambda-runtime-aws-request-id", p.request_id.clone()),
                        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                        ("lambda-runtime-invoked-function-arn", p.function_arn.clone()),
                        ("lambda-runtime-trace-id", format!("Root=1-{:08x}-{}", deadline_ms / 1000, &p.request_id.replace('-', "")[..24])),
                        ("content-type", "application/json".to_string()),
                    ];
                    if let Some(cc) = &p.client_context {
                        h.push(("lambda-runtime-client-context", cc.clone()));
                    }
                    state.inflight.lock().insert(p.request_id.clone(), p.done);
                    response(StatusCode::OK, h, p.payload)
                }
            }
        }
        (&Method::POST, "init/error") => {
            *state.init_error.lock() = Some(body);
            accepted()
        }
        (&Method::POST, r) => {
            let Some((id, what)) = r.strip_prefix("invocation/").and_then(|r| r.split_once('/')) else {
                return Ok(not_found("unknown Runtime API path"));
            };
            let Some(done) = state.inflight.lock().remove(id) else {
                return Ok(not_found(&format!("Invalid request ID: {id}")));
            };
            let _ = done.send(match what {
                "response" => Completion::Response(body),
                _ => Completion::Error(body),
            });
            accepted()
        }
        _ => not_found("unknown Runtime API path"),
    })
}
