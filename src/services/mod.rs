//! One module per AWS service. Each has a wire layer (parse/render), its logic (`ops`), its
//! state (`store`) and one error enum mapped to AWS codes. Services call each other through
//! their typed APIs, in process (Firehose writes objects with `s3::ops::put_object`).

pub mod apigateway;
pub mod athena;
pub mod cloudformation;
pub mod firehose;
pub mod glue;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod quicksight;
pub mod s3;
pub mod sts;

use std::sync::Arc;
use std::time::Duration;

use crate::engine::firehose::stream::EngineSettings;

/// Every emulated service's state, shared by all connections.
pub struct Services {
    pub s3: Arc<s3::S3>,
    pub firehose: firehose::Firehose,
    pub lambda: Arc<lambda::Lambda>,
    pub logs: Arc<logs::Logs>,
    pub apigateway: apigateway::ApiGateway,
    pub glue: Arc<glue::Glue>,
    pub athena: Arc<athena::Athena>,
    pub cloudformation: cloudformation::CloudFormation,
    pub quicksight: Arc<quicksight::QuickSight>,
    pub iam: Arc<iam::Iam>,
    pub sts: Arc<sts::Sts>,
    /// IAM when `--enforce-iam` is on.
    pub enforce_iam: Option<Arc<iam::Iam>>,
}

/// What opening the services needs beyond the data directory.
pub struct Options<'a> {
    pub region: &'a str,
    /// firelocal's own URL (what functions get as `AWS_ENDPOINT_URL`).
    pub endpoint: &'a str,
    pub firehose_max_interval: Option<Duration>,
    /// `--athena-scan-cache-mb`.
    pub athena_scan_cache_mb: usize,
    /// `--enforce-iam`.
    pub enforce_iam: bool,
    /// The injected faults, which pipeline hops and Lambda invocations also obey.
    pub faults: Arc<crate::faults::Faults>,
}

/// The function log lines CloudWatch Logs takes. Under `--enforce-iam` Lambda writes them as the
/// execution role: a role that may not create the group or stream, or put events, gets no logs,
/// as on AWS (the invocation itself is unaffected).
fn function_log_lines(logs: &logs::Logs, iam: Option<&iam::Iam>, mut lines: Vec<crate::engine::lambda::LogLine>) -> Vec<crate::engine::lambda::LogLine> {
    let Some(iam) = iam else { return lines };
    let mut verdicts: Vec<(Arc<str>, String, String, bool)> = Vec::new();
    lines.retain(|l| {
        if let Some(v) = verdicts.iter().find(|v| v.0 == l.role && v.1 == l.group && v.2 == l.stream) {
            return v.3;
        }
        let function = l.group.rsplit('/').next().unwrap_or_default();
        let caller = iam::authz::Caller::internal(iam::authz::Principal::role_session(&l.role, function));
        let denied = logs.write_access(&l.group, &l.stream).iter().find_map(|a| iam.authorize(&caller, a).err());
        if let Some(m) = &denied {
            tracing::warn!(group = %l.group, "function logs dropped: {m}");
        }
        verdicts.push((l.role.clone(), l.group.clone(), l.stream.clone(), denied.is_none()));
        denied.is_none()
    });
    lines
}

impl Services {
    /// Opens every service's store under `root`; must run inside the runtime
    /// (Firehose starts one task per stored delivery stream and replays its log).
    pub fn open(root: &std::sync::Arc<crate::state::Root>, opts: Options<'_>) -> Result<Services, String> {
        let store = s3::store::Store::open(root).map_err(|e| format!("S3 store: {e:?}"))?;
        let s3 = Arc::new(s3::S3::new(store, opts.region).map_err(|e| format!("S3 store: {e:?}"))?);
        let logs = Arc::new(logs::Logs::new(opts.region));
        let iam = Arc::new(iam::Iam::open(root).map_err(|e| format!("IAM store: {e:?}"))?);
        let enforcer = opts.enforce_iam.then(|| iam.clone());
        let (sink_logs, sink_iam) = (logs.clone(), enforcer.clone());
        let sink: crate::engine::lambda::LogSink = Arc::new(move |lines| sink_logs.ingest(function_log_lines(&sink_logs, sink_iam.as_deref(), lines)));
        let lambda = Arc::new(lambda::Lambda::open(root, opts.region, s3.clone(), sink).map_err(|e| format!("Lambda store: {e:?}"))?);
        lambda.set_endpoint(opts.endpoint.to_string());
        lambda.set_faults(opts.faults.clone());
        connect_notifications(&s3, &lambda);
        let settings = EngineSettings {
            s3: s3.clone(),
            lambda: Some(lambda.clone()),
            max_interval: opts.firehose_max_interval,
            iam: enforcer.clone(),
            logs: Some(logs.clone()),
            faults: opts.faults.clone(),
        };
        let firehose = firehose::Firehose::open(root, opts.region, settings).map_err(|e| format!("Firehose store: {e:?}"))?;
        let apigateway = apigateway::ApiGateway::open(root, opts.region).map_err(|e| format!("API Gateway store: {e:?}"))?;
        let glue = Arc::new(glue::Glue::open(root, opts.region).map_err(|e| format!("Glue store: {e:?}"))?);
        let athena = Arc::new(athena::Athena::open(root, glue.clone(), s3.clone(), opts.athena_scan_cache_mb << 20).map_err(|e| format!("Athena store: {e:?}"))?);
        let sts = Arc::new(sts::Sts::new(iam.clone(), opts.enforce_iam));
        let issuer = sts.clone();
        lambda.set_credentials(Arc::new(move |role, function| issuer.function_credentials(role, function)));
        let cloudformation = cloudformation::CloudFormation::open(root, opts.region).map_err(|e| format!("CloudFormation store: {e:?}"))?;
        let quicksight = Arc::new(quicksight::QuickSight::open(root, opts.region, opts.endpoint, athena.clone(), s3.clone()).map_err(|e| format!("QuickSight store: {e:?}"))?);
        Ok(Services { s3, firehose, lambda, logs, apigateway, glue, athena, cloudformation, quicksight, iam, sts, enforce_iam: enforcer })
    }

    /// Delivers every Firehose buffer and stops the delivery tasks (clean shutdown).
    pub async fn shutdown(&self) {
        self.firehose.shutdown().await;
        self.lambda.shutdown().await;
    }
}

/// S3 event notifications go to Lambda: destinations are checked against the function's
/// resource policy and invoked asynchronously (weak references: Lambda holds S3 already).
fn connect_notifications(s3: &Arc<s3::S3>, lambda: &Arc<lambda::Lambda>) {
    let (checker, invoker) = (Arc::downgrade(lambda), Arc::downgrade(lambda));
    s3.notifications.set_hooks(s3::notify::Hooks {
        check: Arc::new(move |arn: &str, bucket: &str| match checker.upgrade() {
            Some(l) => l.allows_invoke(arn, "s3.amazonaws.com", &format!("arn:aws:s3:::{bucket}")),
            None => Err("Lambda is not running".into()),
        }),
        invoke: Arc::new(move |arn: &str, payload: bytes::Bytes| {
            let (Some(l), Ok(rt)) = (invoker.upgrade(), tokio::runtime::Handle::try_current()) else { return };
            let arn = arn.to_string();
            rt.spawn(async move {
                if let Err(e) = l.invoke(&arn, None, payload, lambda::ops::InvocationType::Event, None).await {
                    tracing::warn!(function = %arn, error = ?e, "an S3 event notification could not invoke its function");
                }
            });
        }),
    });
}
