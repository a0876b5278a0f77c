//! The one listener: accepts connections, reads each request, answers firelocal's own endpoints,
//! routes the rest to a service, stamps request ids, and logs one line per request.

pub mod authz;
pub mod record;
pub mod expect;
pub mod health;
pub mod router;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::faults;
use crate::protocol::{self, AwsError, AwsRequest, HttpResponse, Protocol, sigv4};
use crate::services::Services;
use router::{Route, ServiceId};

/// Shared server state.
pub struct AppState {
    pub services: Services,
    pub config: Config,
    pub started: Instant,
    /// `--record FILE`: every exchange appended to it.
    pub recorder: Option<record::Recorder>,
    /// Where state lives (snapshots copy it).
    pub root: Arc<crate::state::Root>,
    /// Injected faults (`/_firelocal/faults`, `--faults FILE`), shared with the services.
    pub faults: Arc<faults::Faults>,
    /// Keeps an ephemeral data directory alive (and deletes it at exit).
    _tempdir: Option<tempfile::TempDir>,
}

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
}

impl Server {
    /// Opens the state and binds the listener. The server answers once [`Server::run`] starts.
    pub async fn bind(config: Config) -> Result<Server, String> {
        let (dir, tempdir, mut persistent) = match &config.data_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| format!("cannot create data dir {}: {e}", d.display()))?;
                (d.clone(), None, true)
            }
            None => {
                let t = tempfile::Builder::new().prefix("firelocal-").tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
                (t.path().to_path_buf(), Some(t), false)
            }
        };
        let addr = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| format!("cannot read the bound address: {e}"))?;
        let endpoint = format!("http://{}:{}", if bound.ip().is_unspecified() { "127.0.0.1".to_string() } else { bound.ip().to_string() }, bound.port());
        let faults = Arc::new(faults::Faults::default());
        if let Some(file) = &config.faults {
            let text = std::fs::read_to_string(file).map_err(|e| format!("--faults {}: {e}", file.display()))?;
            faults::parse(&text).and_then(|rules| faults.add(rules)).map_err(|e| format!("--faults {}: {e}", file.display()))?;
        }
        let opts = crate::services::Options {
            region: &config.region,
            endpoint: &endpoint,
            firehose_max_interval: config.firehose_max_interval,
            athena_scan_cache_mb: config.athena_scan_cache_mb,
            enforce_iam: config.enforce_iam,
            faults: faults.clone(),
        };
        if let Some(file) = &config.snapshot {
            let started = Instant::now();
            let m = crate::snapshot::restore(file, &dir)?;
            // The unpacked state is a data directory: SQLite on disk, buffers in their logs.
            persistent = true;
            tracing::info!(snapshot = %file.display(), objects = m.objects, ms = started.elapsed().as_millis() as u64, "restored the snapshot");
        }
        let root = crate::state::Root::new(&dir, persistent);
        let services = Services::open(&root, opts)?;
        if config.verify_signatures {
            // Browser form uploads carry their signature in the form, which S3 itself checks.
            let (iam, sts) = (services.iam.clone(), services.sts.clone());
            let lookup: crate::services::s3::ops::SecretLookup = Arc::new(move |k: &str| secret_of(&iam, &sts, k));
            let _ = services.s3.secrets.set(lookup);
        }
        let recorder = config.record.as_deref().map(record::Recorder::open).transpose()?;
        let state = Arc::new(AppState { services, config, started: Instant::now(), recorder, root, faults, _tempdir: tempdir });
        let weak = Arc::downgrade(&state);
        state.services.cloudformation.set_dispatch(Arc::new(move |req| {
            let weak = weak.clone();
            Box::pin(async move { in_process(weak, req).await })
        }));
        Ok(Server { listener, state })
    }

    /// `--init`: deploys each template as a stack before the server reports ready.
    pub async fn init_stacks(&self, templates: &[std::path::PathBuf], params: &[String]) -> Result<(), String> {
        let mut given = std::collections::BTreeMap::new();
        for p in params {
            let (k, v) = p.split_once('=').ok_or_else(|| format!("--init-param {p}: expected KEY=VALUE"))?;
            given.insert(k.trim().to_string(), v.to_string());
        }
        for path in templates {
            let text = std::fs::read_to_string(path).map_err(|e| format!("--init {}: {e}", path.display()))?;
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
            let started = Instant::now();
            let outcome = self.state.services.cloudformation.init_stack(&name, &text, &given, &self.state.config.region).await.map_err(|e| format!("--init {}: {e}", path.display()))?;
            tracing::info!(stack = %name, ms = started.elapsed().as_millis() as u64, "{outcome}");
        }
        Ok(())
    }

    /// Starts serving on a task of the current runtime (the demo and replay run their own
    /// firelocal): the endpoint, and a handle that stops it.
    pub fn spawn(self) -> Result<(String, Running), String> {
        let addr = self.local_addr().ok_or("the listener has no address")?;
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.run(async move {
            let _ = rx.await;
        }));
        Ok((format!("http://{addr}"), Running { stop, task }))
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` resolves, then drains open connections (up to 5 s).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let lifecycle = tokio::spawn(crate::services::s3::lifecycle::run(self.state.services.s3.clone(), self.state.config.s3_lifecycle_interval));
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let state = self.state.clone();
                    let flag = expect::ContinueFlag::default();
                    let io = expect::ContinueIo::new(stream, flag.clone());
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(io), service_fn(move |req| handle(state.clone(), flag.clone(), peer.ip(), req)));
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection closed with an error");
                        }
                    });
                }
                _ = &mut shutdown => break,
            }
        }
        drop(self.listener);
        lifecycle.abort();
        if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await.is_err() {
            tracing::warn!("connections still open after 5 s; closing them");
        }
        // Nothing accepted is lost: every Firehose buffer is delivered before exit.
        self.state.services.shutdown().await;
    }
}

/// A server started with [`Server::spawn`].
pub struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops it and waits for a clean shutdown (every Firehose buffer delivered).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }

    /// Serves until Ctrl-C / SIGTERM, then stops cleanly.
    pub async fn until_signal(self) {
        shutdown_signal().await;
        self.stop().await;
    }
}

/// A request firelocal makes of itself (a stack creating its resources): routed, checked
/// against IAM and dispatched exactly as the same request from a client.
async fn in_process(state: std::sync::Weak<AppState>, req: AwsRequest) -> HttpResponse {
    let Some(state) = state.upgrade() else {
        return AwsError::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "firelocal is shutting down").render(Protocol::RestJson1, &req.request_id, false);
    };
    let route = router::route(&req);
    let guard = match authz::check(&state, &route, &req) {
        Ok(g) => g,
        Err(resp) => return resp,
    };
    let (resp, operation) = Box::pin(dispatch(&state, &route, &req, guard)).await;
    tracing::debug!(target: "firelocal::request", service = route.name(), operation, status = resp.status().as_u16(), "in-process {} {}", req.method, req.path);
    resp
}

/// A fresh request id (uuid v4).
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn handle(state: Arc<AppState>, flag: expect::ContinueFlag, peer: std::net::IpAddr, req: Request<Incoming>) -> Result<HttpResponse, Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    if expect::needs_continue(&parts) {
        flag.request();
    }
    let request_id = request_id();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::debug!(error = %e, "could not read request body");
            let err = AwsError::new(StatusCode::BAD_REQUEST, "IncompleteBody", "The request body could not be read.");
            return Ok(err.render(Protocol::RestXml, &request_id, false));
        }
    };
    let areq = aws_request(parts, body, request_id, Some(peer));
    let (resp, service, operation) = respond(&state, &areq, started).await;
    match &state.recorder {
        Some(r) => Ok(r.record(&areq, &service, operation, started.elapsed().as_secs_f64() * 1000.0, resp).await),
        None => Ok(resp),
    }
}

/// Decodes a request's head and body into the `AwsRequest` every service reads: the decoded
/// query, the lower-cased host without its port, and the SigV4 credential from `Authorization`
/// or a presigned `X-Amz-Credential`. (The fuzz targets build requests through this too.)
pub fn aws_request(parts: http::request::Parts, body: bytes::Bytes, request_id: String, peer: Option<std::net::IpAddr>) -> AwsRequest {
    let query = parts.uri.query().map(protocol::parse_query).unwrap_or_default();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.host())
        .map(|h| strip_port(h).to_ascii_lowercase())
        .unwrap_or_default();
    let auth = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(sigv4::from_authorization)
        .or_else(|| query.iter().find(|(k, _)| k == "X-Amz-Credential").and_then(|(_, v)| sigv4::from_presigned_query(v)));
    AwsRequest { method: parts.method, path: parts.uri.path().to_string(), query, headers: parts.headers, body, request_id, auth, host, peer }
}

/// Answers one request: firelocal's own endpoints, or routing, signature and IAM checks and the
/// service. Returns the response, the service's name and the operation.
async fn respond(state: &AppState, areq: &AwsRequest, started: Instant) -> (HttpResponse, String, &'static str) {
    if let Some(resp) = internal(state, areq).await {
        return (resp, "firelocal".into(), "Internal");
    }
    let route = router::route(areq);
    if state.config.verify_signatures
        && let Err(resp) = verify_signature(state, &route, areq)
    {
        tracing::info!(target: "firelocal::request", service = route.name(), operation = "SignatureRejected", status = resp.status().as_u16(), "{} {}", areq.method, areq.path);
        return (resp, route.name().to_string(), "SignatureRejected");
    }
    let guard = match authz::check(state, &route, areq) {
        Ok(g) => g,
        Err(resp) => {
            tracing::info!(target: "firelocal::request", service = route.name(), operation = "AccessDenied", status = resp.status().as_u16(), "{} {}", areq.method, areq.path);
            return (resp, route.name().to_string(), "AccessDenied");
        }
    };
    if state.faults.active()
        && let Some(injection) = state.faults.check(route.name(), &operation_of(&route, areq), areq)
    {
        let (ms, error) = match injection {
            faults::Injection::Fail(ms, e) => (ms, Some(e)),
            faults::Injection::Delay(ms) => (ms, None),
            // Applied inside the services, never matched here.
            faults::Injection::Partial { .. } | faults::Injection::Invocation(_) => (0, None),
        };
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if let Some(e) = error {
            let mut resp = e.render(route.protocol(), &areq.request_id, areq.method == Method::HEAD);
            stamp_request_id(&mut resp, route.protocol(), &areq.request_id);
            tracing::info!(target: "firelocal::request", service = route.name(), operation = "InjectedFault", status = resp.status().as_u16(), "{} {}", areq.method, areq.path);
            return (resp, route.name().to_string(), "InjectedFault");
        }
    }
    let dispatched = std::panic::AssertUnwindSafe(dispatch(state, &route, areq, guard));
    let (mut resp, operation) = match futures_util::FutureExt::catch_unwind(dispatched).await {
        Ok(r) => r,
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            tracing::error!(service = route.name(), panic = %what, "request handler panicked (a firelocal bug)");
            let err = AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("firelocal hit an internal error: {what}"));
            (err.render(route.protocol(), &areq.request_id, areq.method == Method::HEAD), "Panicked")
        }
    };
    stamp_request_id(&mut resp, route.protocol(), &areq.request_id);
    tracing::info!(
        target: "firelocal::request",
        service = route.name(),
        operation,
        status = resp.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        "{} {}",
        areq.method,
        areq.path
    );
    (resp, route.name().to_string(), operation)
}

/// The operation a request names, for matching faults before the service runs: the
/// `X-Amz-Target` operation, the awsQuery `Action`, or S3's and Lambda's own reading of the
/// request; empty for the REST services (their faults match on service and resource).
fn operation_of<'a>(route: &Route, req: &'a AwsRequest) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    if let Some(t) = req.header("x-amz-target") {
        return Cow::Borrowed(t.rsplit('.').next().unwrap_or(t));
    }
    match route {
        Route::Service(ServiceId::S3) => Cow::Borrowed(crate::services::s3::wire::operation_name(req)),
        Route::Service(ServiceId::Lambda) => Cow::Borrowed(crate::services::lambda::wire::operation_name(req)),
        _ if route.protocol() == Protocol::AwsQuery => Cow::Owned(router::action(req).unwrap_or_default()),
        _ => Cow::Borrowed(""),
    }
}

/// `/_firelocal/faults`: GET lists the faults in force (with hits), POST adds rules (JSON or
/// YAML: one, a list, or `{"faults": [...]}`), DELETE removes all, DELETE `/{id}` one.
fn faults_endpoint(state: &AppState, req: &AwsRequest) -> HttpResponse {
    let json = |status: StatusCode, v: serde_json::Value| protocol::response(status, vec![("content-type", "application/json".into())], bytes::Bytes::from(v.to_string()));
    let bad = |m: String| AwsError::new(StatusCode::BAD_REQUEST, "InvalidFault", m).render(Protocol::RestJson1, &req.request_id, false);
    let id = req.path.strip_prefix("/_firelocal/faults/").filter(|i| !i.is_empty());
    match (&req.method, id) {
        (&Method::GET, None) => json(StatusCode::OK, serde_json::json!({ "faults": state.faults.list() })),
        (&Method::POST, None) => match faults::parse(&String::from_utf8_lossy(&req.body)).and_then(|rules| state.faults.add(rules)) {
            Ok(added) => json(StatusCode::CREATED, serde_json::json!({ "faults": added })),
            Err(m) => bad(m),
        },
        (&Method::DELETE, None) => {
            state.faults.remove(None);
            json(StatusCode::OK, serde_json::json!({ "faults": [] }))
        }
        (&Method::DELETE, Some(id)) if state.faults.remove(Some(id)) => json(StatusCode::OK, serde_json::json!({ "removed": id })),
        (&Method::DELETE, Some(id)) => AwsError::new(StatusCode::NOT_FOUND, "NotFound", format!("no fault {id}")).render(Protocol::RestJson1, &req.request_id, false),
        _ => AwsError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "use GET, POST or DELETE").render(Protocol::RestJson1, &req.request_id, false),
    }
}

/// The secret of an access key: the default `test`/`test`, IAM users' keys, STS credentials.
fn secret_of(iam: &crate::services::iam::Iam, sts: &crate::services::sts::Sts, key: &str) -> Option<String> {
    match key {
        "test" => Some("test".to_string()),
        k => iam.secret_for(k).or_else(|| sts.secret_for(k)),
    }
}

/// `--verify-signatures`: checks a signed request's SigV4 signature against the secret of its
/// access key (the default `test`/`test`, IAM users' keys, STS credentials) and answers as the
/// service's protocol answers a bad signature. Unsigned requests pass (anonymous).
fn verify_signature(state: &AppState, route: &Route, req: &AwsRequest) -> Result<(), HttpResponse> {
    use sigv4::SignatureError as E;
    let auth = req.header("authorization");
    let protocol = route.protocol();
    let s3 = protocol == Protocol::RestXml;
    let json = matches!(protocol, Protocol::AwsJson1_0 | Protocol::AwsJson1_1 | Protocol::RestJson1);
    let fail = |e: E| {
        let err = match e {
            E::UnknownKey(k) if s3 => AwsError::new(StatusCode::FORBIDDEN, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.").with("AWSAccessKeyId", k),
            E::UnknownKey(_) if json => AwsError::new(StatusCode::FORBIDDEN, "UnrecognizedClientException", "The security token included in the request is invalid."),
            E::UnknownKey(_) => AwsError::new(StatusCode::FORBIDDEN, "InvalidClientTokenId", "The security token included in the request is invalid."),
            E::Incomplete(m) if s3 => AwsError::new(StatusCode::BAD_REQUEST, "AuthorizationHeaderMalformed", m),
            E::Incomplete(m) => AwsError::new(StatusCode::BAD_REQUEST, "IncompleteSignature", m),
            E::TooSkewed => AwsError::new(StatusCode::FORBIDDEN, if s3 { "RequestTimeTooSkewed" } else { "InvalidSignatureException" }, "The difference between the request time and the current time is too large."),
            E::Mismatch { string_to_sign, canonical_request } => {
                let msg = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
                if s3 {
                    AwsError::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", msg).with("StringToSign", string_to_sign).with("CanonicalRequest", canonical_request)
                } else if json {
                    AwsError::new(StatusCode::FORBIDDEN, "InvalidSignatureException", msg)
                } else {
                    AwsError::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", msg)
                }
            }
        };
        err.render(protocol, &req.request_id, req.method == Method::HEAD)
    };
    let secret_for = |key: &str| secret_of(&state.services.iam, &state.services.sts, key).ok_or_else(|| fail(E::UnknownKey(key.to_string())));
    let signable = sigv4::SignableRequest { method: req.method.as_str(), raw_path: &req.path, query: &req.query, headers: &req.headers, body: &req.body };
    let v2 = auth.is_some_and(|a| a.starts_with("AWS ")) || (req.has_query("AWSAccessKeyId") && req.has_query("Signature"));
    if v2 && s3 {
        let secret = secret_for(req.access_key().unwrap_or_default())?;
        let bucket_prefix = crate::services::s3::wire::bucket_from_host(&req.host).map(|b| format!("/{b}")).unwrap_or_default();
        return sigv4::verify_v2(&signable, &bucket_prefix, &secret).map_err(fail);
    }
    let Some(parts) = sigv4::signed_parts(auth, &req.query, req.header("x-amz-date")) else { return Ok(()) };
    let parts = parts.map_err(fail)?;
    let secret = secret_for(&parts.credential.access_key)?;
    sigv4::verify(&signable, &parts, &secret, protocol::time::now_millis() / 1000).map_err(fail)?;
    if req.header("x-amz-content-sha256").is_some_and(|h| h.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) {
        sigv4::verify_chunks(&req.body, &parts, &secret).map_err(fail)?;
    }
    Ok(())
}

/// firelocal's own endpoints under `/_firelocal/` and `/_localstack/health`.
async fn internal(state: &AppState, req: &AwsRequest) -> Option<HttpResponse> {
    if !(req.path.starts_with("/_firelocal/") || req.path.starts_with("/_localstack/")) {
        return None;
    }
    let get = req.method == Method::GET || req.method == Method::HEAD;
    match req.path.as_str() {
        "/_firelocal/health" if get => Some(health::firelocal(state.started.elapsed().as_millis())),
        "/_localstack/health" if get => Some(health::localstack()),
        "/_firelocal/firehose/flush" if req.method == Method::POST => Some(firehose_flush(state, req).await),
        "/_firelocal/snapshot" if req.method == Method::GET => Some(snapshot(state, req).await),
        p if p == "/_firelocal/faults" || p.starts_with("/_firelocal/faults/") => Some(faults_endpoint(state, req)),
        p if p == "/_firelocal/console" || p.starts_with("/_firelocal/console/") => Some(crate::console::handle(state, req).await),
        _ => Some(
            AwsError::new(StatusCode::NOT_FOUND, "NotFound", format!("no firelocal endpoint {} {}", req.method, req.path))
                .render(Protocol::RestJson1, &req.request_id, req.method == Method::HEAD),
        ),
    }
}

/// `POST /_firelocal/firehose/flush[?stream=NAME]`: delivers every buffer now and answers once
/// the objects are in S3, with what each stream wrote.
async fn firehose_flush(state: &AppState, req: &AwsRequest) -> HttpResponse {
    match state.services.firehose.flush(req.query_param("stream")).await {
        Ok(reports) => {
            let body = serde_json::json!({ "streams": reports });
            protocol::response(StatusCode::OK, vec![("content-type", "application/json".into())], bytes::Bytes::from(body.to_string()))
        }
        Err(e) => e.to_aws().render(Protocol::RestJson1, &req.request_id, false),
    }
}

/// `GET /_firelocal/snapshot`: the whole state as a `tar.zst` archive (`firelocal snapshot save`).
async fn snapshot(state: &AppState, req: &AwsRequest) -> HttpResponse {
    match crate::snapshot::save(&state.services, &state.root).await {
        Ok(bytes) => protocol::response(StatusCode::OK, vec![("content-type", "application/zstd".into())], bytes::Bytes::from(bytes)),
        Err(e) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("the snapshot failed: {e}")).render(Protocol::RestJson1, &req.request_id, false),
    }
}

async fn dispatch(state: &AppState, route: &Route, req: &AwsRequest, guard: Option<crate::services::iam::authz::Guard>) -> (HttpResponse, &'static str) {
    match route {
        Route::Service(ServiceId::S3) => crate::services::s3::wire::handle(&state.services.s3, req),
        Route::Service(ServiceId::Firehose) => crate::services::firehose::wire::handle(&state.services.firehose, req).await,
        Route::Service(ServiceId::Lambda) => crate::services::lambda::wire::handle(&state.services.lambda, req).await,
        Route::Service(ServiceId::Logs) => crate::services::logs::wire::handle(&state.services.logs, req).await,
        Route::Service(ServiceId::Athena) => crate::services::athena::wire::handle(&state.services.athena, req, guard),
        Route::Service(ServiceId::Glue) => crate::services::glue::wire::handle(&state.services.glue, req),
        Route::Service(ServiceId::Iam) => crate::services::iam::wire::handle(&state.services.iam, req),
        Route::Service(ServiceId::Sts) => state.services.sts.handle(req),
        Route::Service(ServiceId::QuickSight) => crate::services::quicksight::wire::handle(&state.services.quicksight, req),
        Route::Service(ServiceId::CloudFormation) => Box::pin(crate::services::cloudformation::wire::handle(&state.services.cloudformation, req)).await,
        Route::Service(ServiceId::ApiGateway) => crate::services::apigateway::wire::handle(&state.services.apigateway, req),
        Route::Service(ServiceId::ExecuteApi) => {
            let s = &state.services;
            let backends = crate::services::apigateway::invoke::Backends { firehose: &s.firehose, lambda: &s.lambda, s3: &s.s3, iam: s.enforce_iam.as_deref() };
            crate::services::apigateway::invoke::invoke(&s.apigateway, &backends, req).await
        }
        Route::Unknown { name, protocol } => {
            (AwsError::service_not_emulated(name).render(*protocol, &req.request_id, req.method == Method::HEAD), "NotEmulated")
        }
    }
}

/// Adds the protocol's request id headers when the service did not set them.
fn stamp_request_id(resp: &mut HttpResponse, protocol: Protocol, request_id: &str) {
    let h = resp.headers_mut();
    let pairs: &[(&'static str, String)] = &match protocol {
        Protocol::RestXml => [("x-amz-request-id", request_id.to_string()), ("x-amz-id-2", protocol::error::host_id(request_id))],
        _ => [("x-amzn-requestid", request_id.to_string()), ("", String::new())],
    };
    for (name, value) in pairs {
        if !name.is_empty()
            && !h.contains_key(*name)
            && let Ok(v) = HeaderValue::from_str(value)
        {
            h.insert(*name, v);
        }
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// Installs SIGINT/SIGTERM handlers now (so a signal sent right after the banner is caught)
/// and returns a future that resolves when either arrives.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {},
                        _ = term.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
