//! One delivery: processors, dynamic partitioning, object keys, compression, and the writes into
//! S3 (through `services::s3::ops`). Synchronous; the stream task runs it on a blocking thread.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;

use super::partition::Query;
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
    pub error: Option<String>,
}

/// A record that failed processing, destined for the error output.
struct Failed {
    record: Record,
    code: &'static str,
    message: String,
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

/// Compresses `body` and writes it as `<prefix><object name>`; returns the key.
fn write_object(cfg: &DeliveryConfig, s3: &s3::S3, prefix: &str, oldest: i64, body: &[u8]) -> Result<String, String> {
    let name = object_name(cfg, oldest);
    let bytes = cfg.compression.compress(body, name.trim_end_matches(".zip")).map_err(|e| e.to_string())?;
    put(s3, &cfg.bucket, format!("{prefix}{name}"), bytes)
}

fn put(s3: &s3::S3, bucket: &str, key: String, body: Vec<u8>) -> Result<String, String> {
    let input = s3::ops::PutObjectInput {
        bucket: bucket.to_string(),
        key: key.clone(),
        body: Bytes::from(body),
        meta: s3::store::ObjectMeta { content_type: Some("application/octet-stream".into()), ..Default::default() },
        ..Default::default()
    };
    s3::ops::put_object(s3, input).map(|_| key).map_err(|e| {
        let aws = e.to_aws();
        format!("S3.{}: {}", aws.code, aws.message)
    })
}

/// Delivers `records`: every record ends up in an object, in the error output, or in
/// `undelivered` for a retry. Records within an object keep their arrival order.
pub fn deliver(cfg: &DeliveryConfig, s3: &Arc<s3::S3>, records: Vec<Record>) -> Outcome {
    let mut out = Outcome::default();
    if records.is_empty() {
        return out;
    }
    // Dynamic partitioning: group by the keys the jq query extracts.
    let mut failed: Vec<Failed> = Vec::new();
    let mut groups: BTreeMap<BTreeMap<String, String>, Vec<Record>> = BTreeMap::new();
    match cfg.metadata_query.as_deref().map(Query::compile) {
        None => {
            groups.insert(BTreeMap::new(), records);
        }
        Some(Err(e)) => {
            // Validated at creation, so only reachable after an engine upgrade: keep the data.
            out.error = Some(e);
            out.undelivered = records;
            return out;
        }
        Some(Ok(query)) => {
            for r in records {
                match query.keys(&r.data) {
                    Ok(keys) => groups.entry(keys).or_default().push(r),
                    Err(message) => failed.push(Failed { record: r, code: "DynamicPartitioning.MetadataExtractionFailed", message }),
                }
            }
        }
    }
    for (keys, group) in groups {
        let oldest = group.iter().map(|r| r.arrival_ms).min().unwrap_or_else(now_millis);
        let ctx = EvalContext { arrival_ms: oldest, query_keys: Some(&keys), ..Default::default() };
        let prefix = match &cfg.prefix {
            None => Some(prefix::default_prefix(oldest)),
            Some(p) => p.evaluate(&ctx),
        };
        let Some(prefix) = prefix else {
            failed.extend(group.into_iter().map(|record| Failed {
                record,
                code: "DynamicPartitioning.PartitionKeyMissing",
                message: "a partition key named in the prefix was not extracted from the record".into(),
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
        match write_object(cfg, s3, &prefix, oldest, &body) {
            Ok(key) => out.objects.push(key),
            Err(e) => {
                out.error = Some(e);
                out.undelivered.extend(group);
            }
        }
    }
    if !failed.is_empty() {
        write_error_output(cfg, s3, failed, &mut out);
    }
    out.undelivered.sort_by_key(|r| r.arrival_ms);
    out
}

/// Writes failed records as Firehose's error records (one JSON document per line) under the
/// ErrorOutputPrefix, or `<error-output-type>/YYYY/MM/dd/HH/` without one.
fn write_error_output(cfg: &DeliveryConfig, s3: &Arc<s3::S3>, failed: Vec<Failed>, out: &mut Outcome) {
    const OUTPUT_TYPE: &str = "partitioning-failed";
    let oldest = failed.iter().map(|f| f.record.arrival_ms).min().unwrap_or_else(now_millis);
    let now = now_millis();
    let mut body = Vec::new();
    for f in &failed {
        let doc = serde_json::json!({
            "deliveryStreamARN": cfg.stream_arn,
            "destination": format!("arn:aws:s3:::{}", cfg.bucket),
            "deliveryStreamVersionId": cfg.version_id,
            "attemptsMade": 1,
            "arrivalTimestamp": f.record.arrival_ms,
            "errorCode": f.code,
            "errorMessage": f.message,
            "attemptEndingTimestamp": now,
            "rawData": base64::engine::general_purpose::STANDARD.encode(&f.record.data),
        });
        body.extend_from_slice(doc.to_string().as_bytes());
        body.push(b'\n');
    }
    let ctx = EvalContext { arrival_ms: oldest, error_output_type: Some(OUTPUT_TYPE), ..Default::default() };
    let prefix = match &cfg.error_prefix {
        Some(p) => p.evaluate(&ctx).unwrap_or_else(|| format!("{OUTPUT_TYPE}/")),
        None => format!("{OUTPUT_TYPE}/{}", prefix::default_prefix(oldest)),
    };
    match write_object(cfg, s3, &prefix, oldest, &body) {
        Ok(key) => out.error_objects.push(key),
        Err(e) => {
            out.error = Some(e);
            out.undelivered.extend(failed.into_iter().map(|f| f.record));
        }
    }
}
