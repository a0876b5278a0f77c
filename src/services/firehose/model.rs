//! Firehose's data shapes, named as in the AWS model (botocore `firehose/2015-08-04`). The S3
//! destination is kept as the JSON the client sent (so DescribeDeliveryStream returns every field
//! it was given) and read through [`S3Destination`] for validation and delivery.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// BufferingHints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BufferingHints {
    #[serde(rename = "SizeInMBs", skip_serializing_if = "Option::is_none")]
    pub size_in_mbs: Option<i64>,
    #[serde(rename = "IntervalInSeconds", skip_serializing_if = "Option::is_none")]
    pub interval_in_seconds: Option<i64>,
}

/// ProcessorParameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorParameter {
    pub parameter_name: String,
    pub parameter_value: String,
}

/// Processor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Processor {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub parameters: Vec<ProcessorParameter>,
}

impl Processor {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|p| p.parameter_name == name).map(|p| p.parameter_value.as_str())
    }
}

/// ProcessingConfiguration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessingConfiguration {
    pub enabled: Option<bool>,
    #[serde(default)]
    pub processors: Vec<Processor>,
}

/// DynamicPartitioningConfiguration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DynamicPartitioningConfiguration {
    pub enabled: Option<bool>,
    pub retry_options: Option<Value>,
}

/// The S3 destination as firelocal reads it: ExtendedS3DestinationConfiguration (the older
/// S3DestinationConfiguration is its subset).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Destination {
    #[serde(rename = "RoleARN", default)]
    pub role_arn: String,
    #[serde(rename = "BucketARN", default)]
    pub bucket_arn: String,
    pub prefix: Option<String>,
    pub error_output_prefix: Option<String>,
    pub buffering_hints: Option<BufferingHints>,
    pub compression_format: Option<String>,
    pub processing_configuration: Option<ProcessingConfiguration>,
    pub dynamic_partitioning_configuration: Option<DynamicPartitioningConfiguration>,
    pub data_format_conversion_configuration: Option<Value>,
    #[serde(rename = "S3BackupMode")]
    pub s3_backup_mode: Option<String>,
    pub file_extension: Option<String>,
    pub custom_time_zone: Option<String>,
    pub cloud_watch_logging_options: Option<CloudWatchLogging>,
}

/// CloudWatchLoggingOptions: where delivery errors are logged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchLogging {
    pub enabled: Option<bool>,
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
}

/// A delivery stream as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryStream {
    /// A random id naming the stream's log folder (names never become paths).
    pub id: String,
    pub name: String,
    pub arn: String,
    pub stream_type: String,
    pub version_id: u64,
    pub created_ms: i64,
    pub updated_ms: Option<i64>,
    /// The destination as ExtendedS3DestinationConfiguration JSON.
    pub destination: Value,
    pub source: Option<Value>,
    pub encryption: Option<Value>,
    pub tags: Vec<(String, String)>,
}

/// The fields of S3DestinationDescription (the rest are ExtendedS3DestinationDescription's).
const S3_DESCRIPTION_FIELDS: &[&str] = &[
    "RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints", "CompressionFormat",
    "EncryptionConfiguration", "CloudWatchLoggingOptions",
];

impl DeliveryStream {
    /// The ExtendedS3DestinationDescription: the configuration with AWS's defaults filled in.
    pub fn extended_description(&self) -> Value {
        let mut d = self.destination.as_object().cloned().unwrap_or_default();
        let hints = d.entry("BufferingHints").or_insert_with(|| serde_json::json!({}));
        if let Some(h) = hints.as_object_mut() {
            h.entry("SizeInMBs").or_insert(5.into());
            h.entry("IntervalInSeconds").or_insert(300.into());
        }
        d.entry("CompressionFormat").or_insert("UNCOMPRESSED".into());
        d.entry("EncryptionConfiguration").or_insert(serde_json::json!({"NoEncryptionConfig": "NoEncryption"}));
        d.entry("CloudWatchLoggingOptions").or_insert(serde_json::json!({"Enabled": false}));
        d.entry("S3BackupMode").or_insert("Disabled".into());
        if let Some(backup) = d.remove("S3BackupConfiguration") {
            d.insert("S3BackupDescription".into(), backup);
        }
        Value::Object(d)
    }

    /// The S3DestinationDescription subset.
    pub fn s3_description(&self) -> Value {
        let ext = self.extended_description();
        let map = ext
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| S3_DESCRIPTION_FIELDS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Value::Object(map)
    }
}
