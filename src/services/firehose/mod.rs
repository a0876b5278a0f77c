//! Kinesis Data Firehose (awsJson1_1): delivery streams into S3. `wire` parses and renders,
//! `ops` validates and decides, `store` keeps stream definitions, `model` holds AWS's shapes;
//! buffering and delivery run in `engine::firehose`.

pub mod error;
pub mod model;
pub mod ops;
pub mod store;
pub mod wire;

pub use ops::Firehose;
