//! Firehose's operations as plain functions on typed inputs: delivery stream lifecycle,
//! validation as AWS does it, tags, and PutRecord/PutRecordBatch into the delivery engine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;

use super::error::{FirehoseError, FirehoseResult};
use super::model::{DeliveryStream, S3Destination};
use super::store::Store;
use crate::engine::firehose::prefix::Part;
use crate::engine::firehose::stream::{self, EngineSettings, PutError};
use crate::faults::{Injection, Kind};
use crate::engine::firehose::transform::Transform;
use crate::engine::firehose::{Compression, DeliveryConfig, FlushReport, Prefix, Record, StreamHandle, partition};
use crate::protocol::time::now_millis;

/// Firehose's limits (from the AWS model and service quotas).
pub const MAX_RECORD_BYTES: usize = 1_024_000;
pub const MAX_BATCH_RECORDS: usize = 500;
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_TAGS: usize = 50;
/// The one destination id of an S3 delivery stream.
pub const DESTINATION_ID: &str = "destinationId-000000000001";
/// How long a new stream reports CREATING before ACTIVE.
pub const CREATING_FOR_MS: i64 = 100;
/// The account every resource belongs to.
pub const ACCOUNT: &str = "000000000000";
/// What a refused record is told, as AWS says it when a stream is throttled.
const SLOW_DOWN: &str = "Slow down. The delivery stream cannot deliver to its destination and its buffer is full.";

/// One record's fate in PutRecord/PutRecordBatch: its id, or an error code and message.
pub type PutOutcome = Result<String, (String, String)>;

struct Entry {
    stream: DeliveryStream,
    handle: StreamHandle,
}

/// The Firehose service: stream definitions, their engine tasks, and the store.
pub struct Firehose {
    pub region: String,
    store: Store,
    streams: Mutex<BTreeMap<String, Entry>>,
    settings: EngineSettings,
    /// `<data>/firehose` when persistent: one log folder per stream id.
    log_root: Option<PathBuf>,
}

/// Checks a delivery stream name: 1-64 of `[a-zA-Z0-9_.-]`.
pub fn validate_name(name: &str) -> FirehoseResult<()> {
    if name.is_empty() || name.len() > 64 {
        return Err(FirehoseError::validation("deliveryStreamName", name, "Member must have length between 1 and 64"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
        return Err(FirehoseError::validation("deliveryStreamName", name, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
    }
    Ok(())
}

/// `arn:<partition>:iam::<12 digits>:role/<path>`.
fn valid_role_arn(arn: &str) -> bool {
    let p: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && p[0] == "arn" && p[2] == "iam" && p[3].is_empty() && p[4].len() == 12 && p[4].bytes().all(|b| b.is_ascii_digit()) && p[5].starts_with("role/") && p[5].len() > 5
}

/// The bucket of `arn:<partition>:s3:::<bucket>`.
fn bucket_of(arn: &str) -> Option<&str> {
    let p: Vec<&str> = arn.splitn(6, ':').collect();
    (p.len() == 6 && p[0] == "arn" && p[2] == "s3" && p[3].is_empty() && p[4].is_empty() && !p[5].is_empty() && p[5].len() <= 255).then(|| p[5])
}

/// Unescapes a processor delimiter (`\n`, `\t`, `\r`, `\\`).
fn unescape(s: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out.into_bytes()
}

fn unsupported(what: &str) -> FirehoseError {
    FirehoseError::InvalidArgument(format!("firelocal does not support {what} yet"))
}

/// Validates an S3 destination as AWS does and derives the engine's configuration from it.
pub fn delivery_config(s: &DeliveryStream, field: &str) -> FirehoseResult<DeliveryConfig> {
    let d: S3Destination = serde_json::from_value(s.destination.clone())
        .map_err(|e| FirehoseError::InvalidArgument(format!("the S3 destination configuration is not valid: {e}")))?;
    if !valid_role_arn(&d.role_arn) {
        return Err(FirehoseError::validation(&format!("{field}.roleARN"), &d.role_arn, r"Member must satisfy regular expression pattern: arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+"));
    }
    let bucket = bucket_of(&d.bucket_arn)
        .ok_or_else(|| FirehoseError::validation(&format!("{field}.bucketARN"), &d.bucket_arn, r"Member must satisfy regular expression pattern: arn:.*:s3:::[\w\.\-]{1,255}"))?;
    let hints = d.buffering_hints.clone().unwrap_or_default();
    let size_mb = hints.size_in_mbs.unwrap_or(5);
    let interval = hints.interval_in_seconds.unwrap_or(300);
    if !(1..=128).contains(&size_mb) {
        return Err(FirehoseError::validation(&format!("{field}.bufferingHints.sizeInMBs"), size_mb, "Member must have value between 1 and 128"));
    }
    if !(0..=900).contains(&interval) {
        return Err(FirehoseError::validation(&format!("{field}.bufferingHints.intervalInSeconds"), interval, "Member must have value between 0 and 900"));
    }
    let compression_name = d.compression_format.as_deref().unwrap_or("UNCOMPRESSED");
    let compression = Compression::parse(compression_name).ok_or_else(|| {
        FirehoseError::validation(&format!("{field}.compressionFormat"), compression_name, "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]")
    })?;
    for (name, value) in [("prefix", &d.prefix), ("errorOutputPrefix", &d.error_output_prefix)] {
        if value.as_ref().is_some_and(|v| v.len() > 1024) {
            return Err(FirehoseError::validation(&format!("{field}.{name}"), "...", "Member must have length less than or equal to 1024"));
        }
    }
    let parse = |p: &Option<String>| -> FirehoseResult<Option<Prefix>> {
        match p.as_deref().filter(|p| !p.is_empty()) {
            None => Ok(None),
            Some(p) => Prefix::parse(p).map(Some).map_err(FirehoseError::InvalidArgument),
        }
    };
    let prefix = parse(&d.prefix)?;
    let error_prefix = parse(&d.error_output_prefix)?;
    if prefix.as_ref().is_some_and(Prefix::has_expressions) && error_prefix.is_none() {
        return Err(FirehoseError::InvalidArgument("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions".into()));
    }
    if prefix.as_ref().is_some_and(|p| p.any(|x| *x == Part::ErrorOutputType)) {
        return Err(FirehoseError::InvalidArgument("The '!{firehose:error-output-type}' expression is only allowed in ErrorOutputPrefix".into()));
    }
    if let Some(e) = &error_prefix {
        if e.any(|x| matches!(x, Part::PartitionKeyFromQuery(_) | Part::PartitionKeyFromLambda(_))) {
            return Err(FirehoseError::InvalidArgument("ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda expressions".into()));
        }
        if e.has_expressions() && !e.any(|x| *x == Part::ErrorOutputType) {
            return Err(FirehoseError::InvalidArgument("ErrorOutputPrefix must contain the '!{firehose:error-output-type}' expression when it contains expressions".into()));
        }
    }
    // Processors.
    let processing = d.processing_configuration.clone().unwrap_or_default();
    let mut append_delimiter = None;
    let mut metadata_query = None;
    let mut transform = None;
    if processing.enabled.unwrap_or(false) {
        for p in &processing.processors {
            match p.kind.as_str() {
                "AppendDelimiterToRecord" => append_delimiter = Some(p.param("Delimiter").map_or_else(|| b"\n".to_vec(), unescape)),
                "MetadataExtraction" => {
                    let q = p.param("MetadataExtractionQuery").ok_or_else(|| {
                        FirehoseError::InvalidArgument("The MetadataExtraction processor needs a MetadataExtractionQuery parameter".into())
                    })?;
                    if let Some(engine) = p.param("JsonParsingEngine").filter(|e| *e != "JQ-1.6") {
                        return Err(FirehoseError::InvalidArgument(format!("JsonParsingEngine {engine} is not valid; use JQ-1.6")));
                    }
                    partition::Query::compile(q).map_err(|e| FirehoseError::InvalidArgument(format!("MetadataExtractionQuery: {e}")))?;
                    metadata_query = Some(q.to_string());
                }
                "Lambda" => {
                    let arn = p.param("LambdaArn").ok_or_else(|| FirehoseError::InvalidArgument("The Lambda processor needs a LambdaArn parameter".into()))?;
                    if !arn.starts_with("arn:") || !arn.contains(":lambda:") || !arn.contains(":function:") {
                        return Err(FirehoseError::InvalidArgument(format!("LambdaArn {arn} is not a valid Lambda function ARN")));
                    }
                    let number = |name: &str, default: f64, range: std::ops::RangeInclusive<f64>| -> FirehoseResult<f64> {
                        match p.param(name) {
                            None => Ok(default),
                            Some(v) => v
                                .parse::<f64>()
                                .ok()
                                .filter(|n| range.contains(n))
                                .ok_or_else(|| FirehoseError::InvalidArgument(format!("{name} must be a number between {} and {}", range.start(), range.end()))),
                        }
                    };
                    let retries = number("NumberOfRetries", 3.0, 0.0..=300.0)?;
                    let size = number("BufferSizeInMBs", 1.0, 0.2..=3.0)?;
                    number("BufferIntervalInSeconds", 60.0, 60.0..=900.0)?;
                    transform = Some(Transform { function: arn.to_string(), retries: retries as u32, batch_bytes: (size * 1024.0 * 1024.0) as usize });
                }
                other @ ("RecordDeAggregation" | "Decompression" | "CloudWatchLogProcessing") => return Err(unsupported(&format!("the {other} processor"))),
                other => {
                    return Err(FirehoseError::validation(
                        &format!("{field}.processingConfiguration.processors.member.type"),
                        other,
                        "Member must satisfy enum value set: [RecordDeAggregation, Decompression, CloudWatchLogProcessing, Lambda, MetadataExtraction, AppendDelimiterToRecord]",
                    ));
                }
            }
        }
    }
    let dynamic = d.dynamic_partitioning_configuration.as_ref().and_then(|c| c.enabled).unwrap_or(false);
    let uses_query_keys = prefix.as_ref().is_some_and(|p| !p.query_keys().is_empty());
    let uses_lambda_keys = prefix.as_ref().is_some_and(|p| p.any(|x| matches!(x, Part::PartitionKeyFromLambda(_))));
    if dynamic {
        if size_mb < 64 {
            return Err(FirehoseError::InvalidArgument("BufferingHints.SizeInMBs must be at least 64 when dynamic partitioning is enabled".into()));
        }
        if metadata_query.is_none() && transform.is_none() {
            return Err(FirehoseError::InvalidArgument("Dynamic partitioning needs a MetadataExtraction processor (or a Lambda processor) in ProcessingConfiguration".into()));
        }
        if !uses_query_keys && !uses_lambda_keys {
            return Err(FirehoseError::InvalidArgument(
                "When dynamic partitioning is enabled, Prefix must use at least one partitionKeyFromQuery or partitionKeyFromLambda expression".into(),
            ));
        }
    } else if uses_query_keys || uses_lambda_keys {
        return Err(FirehoseError::InvalidArgument("partitionKeyFromQuery and partitionKeyFromLambda expressions need dynamic partitioning to be enabled".into()));
    } else {
        metadata_query = None;
    }
    if uses_lambda_keys && transform.is_none() {
        return Err(FirehoseError::InvalidArgument("partitionKeyFromLambda expressions need a Lambda processor".into()));
    }
    if d.data_format_conversion_configuration.as_ref().and_then(|c| c.get("Enabled")).and_then(Value::as_bool).unwrap_or(false) {
        return Err(unsupported("DataFormatConversionConfiguration (record format conversion)"));
    }
    if d.s3_backup_mode.as_deref().is_some_and(|m| m == "Enabled") {
        return Err(unsupported("S3BackupMode Enabled"));
    }
    if d.custom_time_zone.as_deref().is_some_and(|z| !z.is_empty() && z != "UTC") {
        return Err(unsupported("CustomTimeZone other than UTC"));
    }
    Ok(DeliveryConfig {
        stream_name: s.name.clone(),
        stream_arn: s.arn.clone(),
        version_id: s.version_id,
        bucket: bucket.to_string(),
        prefix,
        error_prefix,
        compression,
        file_extension: d.file_extension.filter(|e| !e.is_empty()),
        size_bytes: size_mb as usize * 1024 * 1024,
        interval: Duration::from_secs(interval as u64),
        append_delimiter,
        metadata_query,
        transform,
        region: s.arn.split(':').nth(3).unwrap_or("us-east-1").to_string(),
        role_arn: d.role_arn.clone(),
        error_log: d.cloud_watch_logging_options.filter(|o| o.enabled == Some(true)).and_then(|o| Some((o.log_group_name?, o.log_stream_name?))),
    })
}

/// A tag.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

fn validate_tags(tags: &[Tag]) -> FirehoseResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(FirehoseError::validation("tags", tags.len(), "Member must have length less than or equal to 50"));
    }
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 || t.key.starts_with("aws:") {
            return Err(FirehoseError::InvalidArgument(format!("Tag key '{}' is not valid: 1-128 characters, not starting with 'aws:'", t.key)));
        }
        if t.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(FirehoseError::InvalidArgument(format!("The value of tag '{}' is longer than 256 characters", t.key)));
        }
    }
    Ok(())
}

/// CreateDeliveryStream's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateDeliveryStreamInput {
    pub delivery_stream_name: String,
    pub delivery_stream_type: Option<String>,
    pub direct_put_source_configuration: Option<Value>,
    pub delivery_stream_encryption_configuration_input: Option<Value>,
    pub s3_destination_configuration: Option<Value>,
    pub extended_s3_destination_configuration: Option<Value>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Any other destination (Redshift, OpenSearch, Splunk, HTTP endpoint, ...).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl Firehose {
    /// Opens the service: loads stored streams and starts their tasks (replaying their logs).
    pub fn open(root: &std::sync::Arc<crate::state::Root>, region: &str, settings: EngineSettings) -> FirehoseResult<Firehose> {
        let store = Store::open(root)?;
        let log_root = root.persistent.then(|| root.dir.join("firehose"));
        let fh = Firehose { region: region.to_string(), store, streams: Mutex::new(BTreeMap::new()), settings, log_root };
        for s in fh.store.load()? {
            let cfg = delivery_config(&s, "extendedS3DestinationConfiguration")?;
            let handle = fh.spawn(&s, cfg)?;
            fh.streams.lock().insert(s.name.clone(), Entry { stream: s, handle });
        }
        Ok(fh)
    }

    fn spawn(&self, s: &DeliveryStream, cfg: DeliveryConfig) -> FirehoseResult<StreamHandle> {
        let dir = self.log_root.as_ref().map(|r| r.join(&s.id));
        stream::spawn(Arc::new(cfg), self.settings.clone(), dir).map_err(|e| FirehoseError::Internal(format!("cannot open the record log: {e}")))
    }

    fn arn(&self, name: &str) -> String {
        format!("arn:aws:firehose:{}:{ACCOUNT}:deliverystream/{name}", self.region)
    }

    fn get(&self, name: &str) -> FirehoseResult<(DeliveryStream, StreamHandle)> {
        self.streams
            .lock()
            .get(name)
            .map(|e| (e.stream.clone(), e.handle.clone()))
            .ok_or_else(|| FirehoseError::ResourceNotFound(format!("Firehose {name} under account {ACCOUNT} not found.")))
    }

    /// A stream's buffer and latest deliveries (for the console).
    pub fn stats(&self, name: &str) -> Option<crate::engine::firehose::StreamStats> {
        self.get(name).ok().map(|(_, h)| h.stats())
    }

    /// CreateDeliveryStream.
    pub fn create_delivery_stream(&self, input: CreateDeliveryStreamInput) -> FirehoseResult<String> {
        validate_name(&input.delivery_stream_name)?;
        let name = input.delivery_stream_name;
        match input.delivery_stream_type.as_deref().unwrap_or("DirectPut") {
            "DirectPut" => {}
            t @ ("KinesisStreamAsSource" | "MSKAsSource" | "DatabaseAsSource") => return Err(unsupported(&format!("DeliveryStreamType {t}"))),
            t => {
                return Err(FirehoseError::validation("deliveryStreamType", t, "Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource]"));
            }
        }
        if let Some(other) = input.other.keys().find(|k| k.ends_with("DestinationConfiguration")) {
            return Err(unsupported(&format!("{other} (firelocal delivers to S3)")));
        }
        let (destination, field) = match (input.extended_s3_destination_configuration, input.s3_destination_configuration) {
            (Some(d), None) => (d, "extendedS3DestinationConfiguration"),
            (None, Some(d)) => (d, "s3DestinationConfiguration"),
            (Some(_), Some(_)) => return Err(FirehoseError::InvalidArgument("Only one destination configuration can be specified".into())),
            (None, None) => return Err(FirehoseError::InvalidArgument("A destination configuration must be specified".into())),
        };
        validate_tags(&input.tags)?;
        let stream = DeliveryStream {
            id: uuid::Uuid::new_v4().simple().to_string(),
            arn: self.arn(&name),
            name: name.clone(),
            stream_type: "DirectPut".into(),
            version_id: 1,
            created_ms: now_millis(),
            updated_ms: None,
            destination,
            source: input.direct_put_source_configuration,
            encryption: input.delivery_stream_encryption_configuration_input,
            tags: input.tags.into_iter().map(|t| (t.key, t.value.unwrap_or_default())).collect(),
        };
        let cfg = delivery_config(&stream, field)?;
        let mut streams = self.streams.lock();
        if streams.contains_key(&name) {
            return Err(FirehoseError::ResourceInUse(format!("Firehose {name} under accountId {ACCOUNT} already exists")));
        }
        self.store.save(&stream)?;
        let handle = self.spawn(&stream, cfg)?;
        let arn = stream.arn.clone();
        streams.insert(name, Entry { stream, handle });
        Ok(arn)
    }

    /// DescribeDeliveryStream's description.
    pub fn describe_delivery_stream(&self, name: &str) -> FirehoseResult<Value> {
        let (s, _) = self.get(name)?;
        let status = if now_millis() - s.created_ms < CREATING_FOR_MS { "CREATING" } else { "ACTIVE" };
        let mut d = serde_json::json!({
            "DeliveryStreamName": s.name,
            "DeliveryStreamARN": s.arn,
            "DeliveryStreamStatus": status,
            "DeliveryStreamType": s.stream_type,
            "VersionId": s.version_id.to_string(),
            "CreateTimestamp": crate::protocol::json::epoch_seconds(s.created_ms),
            "DeliveryStreamEncryptionConfiguration": encryption_description(s.encryption.as_ref()),
            "Destinations": [{
                "DestinationId": DESTINATION_ID,
                "S3DestinationDescription": s.s3_description(),
                "ExtendedS3DestinationDescription": s.extended_description(),
            }],
            "HasMoreDestinations": false,
        });
        if let Some(u) = s.updated_ms {
            d["LastUpdateTimestamp"] = crate::protocol::json::epoch_seconds(u).into();
        }
        if let Some(src) = &s.source {
            d["Source"] = serde_json::json!({ "DirectPutSourceDescription": src });
        }
        Ok(d)
    }

    /// ListDeliveryStreams: names in order after `start`, up to `limit`, and whether more remain.
    pub fn list_delivery_streams(&self, limit: usize, stream_type: Option<&str>, start: Option<&str>) -> (Vec<String>, bool) {
        let streams = self.streams.lock();
        let names: Vec<String> = streams
            .values()
            .filter(|e| stream_type.is_none_or(|t| e.stream.stream_type == t))
            .filter(|e| start.is_none_or(|s| e.stream.name.as_str() > s))
            .map(|e| e.stream.name.clone())
            .collect();
        let more = names.len() > limit;
        (names.into_iter().take(limit).collect(), more)
    }

    /// DeleteDeliveryStream: delivers what is buffered, then removes the stream and its log.
    pub async fn delete_delivery_stream(&self, name: &str) -> FirehoseResult<()> {
        let entry = self
            .streams
            .lock()
            .remove(name)
            .ok_or_else(|| FirehoseError::ResourceNotFound(format!("Firehose {name} under account {ACCOUNT} not found.")))?;
        self.store.delete(name)?;
        let report = entry.handle.flush().await;
        if report.pending_records > 0 {
            tracing::warn!(stream = name, records = report.pending_records, "stream deleted with undeliverable records");
        }
        entry.handle.stop(true).await;
        Ok(())
    }

    /// UpdateDestination: merges the update into the S3 destination and bumps the version.
    pub async fn update_destination(&self, name: &str, current_version: &str, destination_id: &str, update: Value, field: &str) -> FirehoseResult<()> {
        let (mut s, handle) = self.get(name)?;
        if current_version != s.version_id.to_string() {
            return Err(FirehoseError::ConcurrentModification(format!(
                "Cannot update firehose: {name} since the current version id: {} and specified version id: {current_version} do not match",
                s.version_id
            )));
        }
        if destination_id != DESTINATION_ID {
            return Err(FirehoseError::InvalidArgument(format!("Destination Id {destination_id} not found.")));
        }
        let Value::Object(update) = update else {
            return Err(FirehoseError::InvalidArgument("The destination update must be an object".into()));
        };
        let dest = s.destination.as_object_mut().ok_or_else(|| FirehoseError::Internal("stored destination is not an object".into()))?;
        for (k, v) in update {
            match (dest.get_mut(&k), v) {
                (Some(Value::Object(old)), Value::Object(new)) if k == "BufferingHints" => old.extend(new),
                (_, v) => {
                    dest.insert(k, v);
                }
            }
        }
        s.version_id += 1;
        s.updated_ms = Some(now_millis());
        let cfg = delivery_config(&s, field)?;
        self.store.save(&s)?;
        handle.reconfigure(Arc::new(cfg)).await;
        if let Some(e) = self.streams.lock().get_mut(name) {
            e.stream = s;
        }
        Ok(())
    }

    /// TagDeliveryStream.
    pub fn tag_delivery_stream(&self, name: &str, tags: Vec<Tag>) -> FirehoseResult<()> {
        validate_tags(&tags)?;
        let mut streams = self.streams.lock();
        let e = streams.get_mut(name).ok_or_else(|| FirehoseError::ResourceNotFound(format!("Firehose {name} under account {ACCOUNT} not found.")))?;
        let mut merged = e.stream.tags.clone();
        for t in tags {
            match merged.iter_mut().find(|(k, _)| *k == t.key) {
                Some(existing) => existing.1 = t.value.unwrap_or_default(),
                None => merged.push((t.key, t.value.unwrap_or_default())),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(FirehoseError::LimitExceeded(format!("A delivery stream can have at most {MAX_TAGS} tags")));
        }
        e.stream.tags = merged;
        self.store.save(&e.stream)
    }

    /// UntagDeliveryStream.
    pub fn untag_delivery_stream(&self, name: &str, keys: &[String]) -> FirehoseResult<()> {
        let mut streams = self.streams.lock();
        let e = streams.get_mut(name).ok_or_else(|| FirehoseError::ResourceNotFound(format!("Firehose {name} under account {ACCOUNT} not found.")))?;
        e.stream.tags.retain(|(k, _)| !keys.contains(k));
        self.store.save(&e.stream)
    }

    /// ListTagsForDeliveryStream: tags in key order after `start`, up to `limit`.
    pub fn list_tags(&self, name: &str, start: Option<&str>, limit: usize) -> FirehoseResult<(Vec<(String, String)>, bool)> {
        let (s, _) = self.get(name)?;
        let mut tags = s.tags;
        tags.sort();
        let tags: Vec<_> = tags.into_iter().filter(|(k, _)| start.is_none_or(|s| k.as_str() > s)).collect();
        let more = tags.len() > limit;
        Ok((tags.into_iter().take(limit).collect(), more))
    }

    /// PutRecord / PutRecordBatch: checks the limits, then hands the records to the stream's task,
    /// which logs them (when persistent) before this returns. Returns, per record in order, its
    /// id or the error that refused it (only while deliveries fail and the buffer is full).
    pub async fn put_records(&self, name: &str, data: Vec<Bytes>, batch: bool) -> FirehoseResult<Vec<PutOutcome>> {
        let field = if batch { "records" } else { "record" };
        if batch && data.is_empty() {
            return Err(FirehoseError::validation(field, "[]", "Member must have length greater than or equal to 1"));
        }
        if data.len() > MAX_BATCH_RECORDS {
            return Err(FirehoseError::validation(field, format!("[{} records]", data.len()), "Member must have length less than or equal to 500"));
        }
        if let Some((i, d)) = data.iter().enumerate().find(|(_, d)| d.len() > MAX_RECORD_BYTES) {
            let at = if batch { format!("records.{}.member.data", i + 1) } else { "record.data".to_string() };
            return Err(FirehoseError::validation(&at, format!("<{} bytes>", d.len()), "Member must have length less than or equal to 1024000"));
        }
        let total: usize = data.iter().map(Bytes::len).sum();
        if total > MAX_BATCH_BYTES {
            return Err(FirehoseError::InvalidArgument(format!("Records size exceeds 4 MiB limit ({total} bytes)")));
        }
        validate_name(name)?;
        let (stream, handle) = self.get(name)?;
        // An injected partial failure refuses every n-th record of a batch before it is taken.
        let refused = match batch.then(|| self.settings.faults.check_call("firehose", "PutRecordBatch", Kind::Partial, &[name, stream.arn.as_str()])).flatten() {
            Some(Injection::Partial { every, code, message }) => Some((every as usize, code, message)),
            _ => None,
        };
        let is_refused = |i: usize| refused.as_ref().is_some_and(|(every, _, _)| (i + 1) % every == 0);
        let total = data.len();
        let arrival_ms = now_millis();
        let records: Vec<Record> = data.into_iter().enumerate().filter(|(i, _)| !is_refused(*i)).map(|(_, data)| Record { arrival_ms, data }).collect();
        let accepted = if records.is_empty() {
            0
        } else {
            handle.put(records).await.map_err(|e| match e {
                PutError::Gone => FirehoseError::ResourceNotFound(format!("Firehose {name} under account {ACCOUNT} not found.")),
                PutError::Log(e) => FirehoseError::ServiceUnavailable(format!("could not log the records durably: {e}")),
            })?
        };
        if accepted == 0 && refused.is_none() {
            return Err(FirehoseError::ServiceUnavailable(SLOW_DOWN.into()));
        }
        // The records offered to the stream are taken in order until its buffer is full.
        let mut offered = 0;
        Ok((0..total)
            .map(|i| match &refused {
                Some((_, code, message)) if is_refused(i) => Err((code.clone(), message.clone())),
                _ => {
                    offered += 1;
                    if offered <= accepted { Ok(record_id()) } else { Err(("ServiceUnavailableException".to_string(), SLOW_DOWN.to_string())) }
                }
            })
            .collect())
    }

    /// Delivers every buffer (or one stream's) now; returns what each delivered.
    pub async fn flush(&self, only: Option<&str>) -> FirehoseResult<BTreeMap<String, FlushReport>> {
        let handles: Vec<(String, StreamHandle)> = match only {
            Some(n) => vec![(n.to_string(), self.get(n)?.1)],
            None => self.streams.lock().iter().map(|(n, e)| (n.clone(), e.handle.clone())).collect(),
        };
        let mut out = BTreeMap::new();
        for (n, h) in handles {
            out.insert(n, h.flush().await);
        }
        Ok(out)
    }

    /// Pauses every stream for a snapshot (see [`StreamHandle::hold`]): per stream, its id, its
    /// buffered records, and the sender that lets it go on.
    pub async fn hold_all(&self) -> Vec<(String, Vec<Record>, tokio::sync::oneshot::Sender<()>)> {
        let handles: Vec<(String, StreamHandle)> = self.streams.lock().values().map(|e| (e.stream.id.clone(), e.handle.clone())).collect();
        let mut held = Vec::new();
        for (id, h) in handles {
            if let Some((records, release)) = h.hold().await {
                held.push((id, records, release));
            }
        }
        held
    }

    /// Flushes and stops every stream (clean shutdown).
    pub async fn shutdown(&self) {
        let handles: Vec<(String, StreamHandle)> = self.streams.lock().iter().map(|(n, e)| (n.clone(), e.handle.clone())).collect();
        for (n, h) in handles {
            let r = h.stop(false).await;
            if r.pending_records > 0 {
                tracing::warn!(stream = %n, records = r.pending_records, "records left undelivered at shutdown");
            }
        }
    }
}

fn encryption_description(input: Option<&Value>) -> Value {
    match input {
        Some(Value::Object(m)) => {
            let mut d = m.clone();
            d.insert("Status".into(), "ENABLED".into());
            Value::Object(d)
        }
        _ => serde_json::json!({ "Status": "DISABLED" }),
    }
}

/// A record id: 56 hex-ish characters like Firehose's (opaque to clients).
fn record_id() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{}", &b[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert!(validate_name("clickstream_stream-1.v2").is_ok());
        assert!(matches!(validate_name(""), Err(FirehoseError::Validation { .. })));
        assert!(matches!(validate_name(&"a".repeat(65)), Err(FirehoseError::Validation { .. })));
        assert!(matches!(validate_name("bad name"), Err(FirehoseError::Validation { .. })));
        assert!(valid_role_arn("arn:aws:iam::123456789012:role/firehose_delivery_role"));
        assert!(!valid_role_arn("arn:aws:iam::123:role/x"));
        assert!(!valid_role_arn("arn:aws:s3:::bucket"));
        assert_eq!(bucket_of("arn:aws:s3:::my-bucket"), Some("my-bucket"));
        assert_eq!(bucket_of("arn:aws:s3:::"), None);
        for not_an_arn in ["my-plain-bucket", "arn:aws:s3", "s3:::bucket"] {
            assert_eq!(bucket_of(not_an_arn), None, "{not_an_arn}");
        }
        assert_eq!(unescape("\\n"), b"\n");
    }
}
