//! One delivery: processors, dynamic partitioning, object keys, compression, and the writes into
//! S3 (through `services::s3::ops`). Synchronous; the stream task runs it on a blocking thread.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;

use super::partition::Query;
use super::stream::EngineSettings;
use super::transform;
use super::prefix::{self, EvalContext};
use super::{DeliveryConfig, Record};
use crate::protocol::time::now_millis;
use crate::services::s3;

/// What a delivery did: the objects written and the records it could not deliver (kept for a
/// retry), with the last error.
#[derive(Debug, Default)]
pub struct Outcome {
    pub objects: Vec<String>,
    pub error_objects: Vec<String>,
    pub undelivered: Vec<Record>,
    pub error: Option<DeliveryError>,
}

/// Why a delivery failed: Firehose's error code (`S3.AccessDenied`, `Lambda.InvokeAccessDenied`,
/// ...) where AWS has one, and the message. Displays as `<code>: <message>`, or the bare
/// message for firelocal's own failures.
#[derive(Debug, Clone)]
pub struct DeliveryError {
    pub code: Option<String>,
    pub message: String,
}

impl DeliveryError {
    /// An error with Firehose's code.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> DeliveryError {
        DeliveryError { code: Some(code.into()), message: message.into() }
    }

    /// firelocal's own failure (no AWS error code).
    pub fn internal(message: impl Into<String>) -> DeliveryError {
        DeliveryError { code: None, message: message.into() }
    }
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The fields naming the stream and its destination in Firehose's error records and log events.
pub fn stream_fields(cfg: &DeliveryConfig) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("deliveryStreamARN".into(), cfg.stream_arn.clone().into());
    m.insert("destination".into(), format!("arn:aws:s3:::{}", cfg.bucket).into());
    m.insert("deliveryStreamVersionId".into(), cfg.version_id.into());
    m
}

/// A record that failed processing, destined for the error output.
struct Failed {
    record: Record,
    code: &'static str,
    message: String,
    /// Invocations tried before the record was given up on.
    attempts: u32,
    /// `processing-failed` (transform) or `partitioning-failed` (dynamic partitioning).
    output_type: &'static str,
}

/// `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>`.
fn object_name(cfg: &DeliveryConfig, arrival_ms: i64) -> String {
    let c = prefix::civil(arrival_ms);
    let ext = cfg.file_extension.clone().unwrap_or_else(|| cfg.compression.extension().to_string());
    format!(
        "{}-{}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{}",
        cfg.stream_name,
        cfg.version_id,
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        uuid::Uuid::new_v4(),
        ext
    )
}

/// Compresses `body` and writes it as `<prefix><object name>`; returns the key. With
/// `--enforce-iam` the stream's role must allow `s3:PutObject` on that key.
fn write_object(cfg: &DeliveryConfig, settings: &EngineSettings, prefix: &str, oldest: i64, body: &[u8]) -> Result<String, DeliveryError> {
    let name = object_name(cfg, oldest);
    if let Some(iam) = &settings.iam {
        let resource = format!("arn:aws:s3:::{}/{prefix}{name}", cfg.bucket);
        iam.authorize_role(&cfg.role_arn, "Firehose", "s3:PutObject", &resource).map_err(|m| DeliveryError::new("S3.AccessDenied", m))?;
    }
    let bytes = cfg.compression.compress(body, name.trim_end_matches(".zip")).map_err(|e| DeliveryError::internal(e.to_string()))?;
    put(settings, &cfg.bucket, format!("{prefix}{name}"), bytes)
}

/// Writes one object, as Firehose's PutObject call: injected request faults on S3 `PutObject`
/// of the bucket fail it as S3 would (`S3.SlowDown`...), and the delivery is retried.
fn put(settings: &EngineSettings, bucket: &str, key: String, body: Vec<u8>) -> Result<String, DeliveryError> {
    if let Some(e) = settings.faults.blocking_call("s3", "PutObject", &[bucket, &format!("arn:aws:s3:::{bucket}")]) {
        return Err(DeliveryError::new(format!("S3.{}", e.code), e.message));
    }
    let s3 = &settings.s3;
    let input = s3::ops::PutObjectInput {
        bucket: bucket.to_string(),
        key: key.clone(),
        body: Bytes::from(body),
        meta: s3::store::ObjectMeta { content_type: Some("application/octet-stream".into()), ..Default::default() },
        ..Default::default()
    };
    s3::ops::put_object(s3, input).map(|_| key).map_err(|e| {
        let aws = e.to_aws();
        DeliveryError::new(format!("S3.{}", aws.code), aws.message)
    })
}

/// Delivers `records`: every record ends up in an object, in the error output, or in
/// `undelivered` for a retry. Records within an object keep their arrival order.
pub fn deliver(cfg: &DeliveryConfig, settings: &EngineSettings, records: Vec<Record>) -> Outcome {
    let mut out = Outcome::default();
    if records.is_empty() {
        return out;
    }
    // With --enforce-iam, Firehose acts as its RoleARN: the role must trust Firehose and allow
    // each hop; a denial keeps the records for a retry, as AWS does.
    if let Some(iam) = &settings.iam {
        let check = || -> Result<(), DeliveryError> {
            if !iam.trusts(&cfg.role_arn, "firehose.amazonaws.com") {
                return Err(DeliveryError::new("S3.AccessDenied", format!("Firehose could not assume role {}: its trust policy does not allow firehose.amazonaws.com", cfg.role_arn)));
            }
            if let Some(t) = &cfg.transform {
                iam.authorize_role(&cfg.role_arn, "Firehose", "lambda:InvokeFunction", &t.function).map_err(|m| DeliveryError::new("Lambda.InvokeAccessDenied", m))?;
            }
            Ok(())
        };
        if let Err(e) = check() {
            out.error = Some(e);
            out.undelivered = records;
            return out;
        }
    }
    let mut failed: Vec<Failed> = Vec::new();
    // Data transformation first: the function's Ok records (with its partition keys) go on.
    let records: Vec<(Record, BTreeMap<String, String>)> = match (&cfg.transform, &settings.lambda) {
        (Some(t), Some(lambda)) => {
            let (ok, bad) = transform::run(t, lambda, &settings.faults, &cfg.stream_arn, &cfg.region, records);
            failed.extend(bad.into_iter().map(|f| Failed { record: f.record, code: f.code, message: f.message, attempts: f.attempts, output_type: "processing-failed" }));
            ok.into_iter().map(|t| (t.record, t.partition_keys)).collect()
        }
        (Some(_), None) => {
            out.error = Some(DeliveryError::internal("the Lambda service is not available to run the transform"));
            out.undelivered = records;
            return out;
        }
        (None, _) => records.into_iter().map(|r| (r, BTreeMap::new())).collect(),
    };
    // Dynamic partitioning: group by the keys the jq query extracts (and the function returned).
    let mut groups: BTreeMap<(BTreeMap<String, String>, BTreeMap<String, String>), Vec<Record>> = BTreeMap::new();
    match cfg.metadata_query.as_deref().map(Query::compile) {
        None => {
            for (r, lambda_keys) in records {
                groups.entry((BTreeMap::new(), lambda_keys)).or_default().push(r);
            }
        }
        Some(Err(e)) => {
            // Validated at creation, so only reachable after an engine upgrade: keep the data.
            out.error = Some(DeliveryError::internal(e));
            out.undelivered = records.into_iter().map(|(r, _)| r).collect();
            return out;
        }
        Some(Ok(query)) => {
            for (r, lambda_keys) in records {
                match query.keys(&r.data) {
                    Ok(keys) => groups.entry((keys, lambda_keys)).or_default().push(r),
                    Err(message) => failed.push(Failed { record: r, code: "DynamicPartitioning.MetadataExtractionFailed", message, attempts: 1, output_type: "partitioning-failed" }),
                }
            }
        }
    }
    for ((keys, lambda_keys), group) in groups {
        let oldest = group.iter().map(|r| r.arrival_ms).min().unwrap_or_else(now_millis);
        let ctx = EvalContext { arrival_ms: oldest, query_keys: Some(&keys), lambda_keys: Some(&lambda_keys), ..Default::default() };
        let prefix = match &cfg.prefix {
            None => Some(prefix::default_prefix(oldest)),
            Some(p) => p.evaluate(&ctx),
        };
        let Some(prefix) = prefix else {
            failed.extend(group.into_iter().map(|record| Failed {
                record,
                code: "DynamicPartitioning.PartitionKeyMissing",
                message: "a partition key named in the prefix was not extracted from the record".into(),
                attempts: 1,
                output_type: "partitioning-failed",
            }));
            continue;
        };
        let mut body = Vec::with_capacity(group.iter().map(|r| r.data.len() + 1).sum());
        for r in &group {
            body.extend_from_slice(&r.data);
            if let Some(d) = &cfg.append_delimiter {
                body.extend_from_slice(d);
            }
        }
        match write_object(cfg, settings, &prefix, oldest, &body) {
            Ok(key) => out.objects.push(key),
            Err(e) => {
                out.error = Some(e);
                out.undelivered.extend(group);
            }
        }
    }
    // One error-output object per error output type.
    let mut by_type: BTreeMap<&'static str, Vec<Failed>> = BTreeMap::new();
    for f in failed {
        by_type.entry(f.output_type).or_default().push(f);
    }
    for (output_type, failed) in by_type {
        write_error_output(cfg, settings, output_type, failed, &mut out);
    }
    out.undelivered.sort_by_key(|r| r.arrival_ms);
    out
}

/// Writes failed records as Firehose's error records (one JSON document per line) under the
/// ErrorOutputPrefix, or `<error-output-type>/YYYY/MM/dd/HH/` without one.
fn write_error_output(cfg: &DeliveryConfig, settings: &EngineSettings, output_type: &'static str, failed: Vec<Failed>, out: &mut Outcome) {
    let oldest = failed.iter().map(|f| f.record.arrival_ms).min().unwrap_or_else(now_millis);
    let now = now_millis();
    let mut body = Vec::new();
    for f in &failed {
        let mut doc = serde_json::json!({
            "attemptsMade": f.attempts,
            "arrivalTimestamp": f.record.arrival_ms,
            "errorCode": f.code,
            "errorMessage": f.message,
            "attemptEndingTimestamp": now,
            "rawData": base64::engine::general_purpose::STANDARD.encode(&f.record.data),
        });
        match (output_type, &cfg.transform) {
            ("processing-failed", Some(t)) => doc["lambdaArn"] = t.function.clone().into(),
            _ => {
                if let Some(obj) = doc.as_object_mut() {
                    obj.extend(stream_fields(cfg));
                }
            }
        }
        body.extend_from_slice(doc.to_string().as_bytes());
        body.push(b'\n');
    }
    let ctx = EvalContext { arrival_ms: oldest, error_output_type: Some(output_type), ..Default::default() };
    let prefix = match &cfg.error_prefix {
        Some(p) => p.evaluate(&ctx).unwrap_or_else(|| format!("{output_type}/")),
        None => format!("{output_type}/{}", prefix::default_prefix(oldest)),
    };
    match write_object(cfg, settings, &prefix, oldest, &body) {
        Ok(key) => out.error_objects.push(key),
        Err(e) => {
            out.error = Some(e);
            out.undelivered.extend(failed.into_iter().map(|f| f.record));
        }
    }
}
