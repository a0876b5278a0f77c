//! The Firehose delivery engine: one owner task per delivery stream buffers accepted records
//! (logging them first when state is persistent), flushes on size or interval, and writes
//! objects into S3 through S3's own operations, laid out exactly as Firehose lays them out.

pub mod compress;
pub mod deliver;
pub mod log;
pub mod partition;
pub mod prefix;
pub mod stream;
pub mod transform;

use std::time::Duration;

use bytes::Bytes;

pub use compress::Compression;
pub use prefix::Prefix;
pub use stream::{FlushReport, StreamHandle, StreamStats};

/// One accepted record: its bytes and approximate arrival time (ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub arrival_ms: i64,
    pub data: Bytes,
}

/// Everything the engine needs to deliver a stream, derived from its configuration.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub stream_name: String,
    pub stream_arn: String,
    pub version_id: u64,
    pub bucket: String,
    /// The custom prefix; `None` means the default `YYYY/MM/dd/HH/`.
    pub prefix: Option<Prefix>,
    pub error_prefix: Option<Prefix>,
    pub compression: Compression,
    /// Overrides the compression's extension when set.
    pub file_extension: Option<String>,
    pub size_bytes: usize,
    pub interval: Duration,
    /// The AppendDelimiterToRecord processor's delimiter.
    pub append_delimiter: Option<Vec<u8>>,
    /// The MetadataExtraction processor's jq query (dynamic partitioning).
    pub metadata_query: Option<String>,
    /// The Lambda processor (data transformation).
    pub transform: Option<transform::Transform>,
    /// The stream's region (in the transform event).
    pub region: String,
    /// The role deliveries act as (RoleARN).
    pub role_arn: String,
    /// CloudWatchLoggingOptions' log group and stream, where delivery errors are logged.
    pub error_log: Option<(String, String)>,
}
