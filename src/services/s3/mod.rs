//! S3 (restXml): buckets, objects, listings, multipart uploads, checksums and conditional
//! requests. `wire` parses and renders, `ops` decides, `store` keeps, `error` maps to AWS.

pub mod checksum;
pub mod error;
pub mod ops;
pub mod store;
pub mod wire;

pub use ops::S3;
