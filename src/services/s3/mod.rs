//! S3 (restXml): buckets, objects, listings, multipart uploads, checksums and conditional
//! requests, bucket configurations (`config`: CORS, tagging, encryption...) and lifecycle
//! expiration (`lifecycle`). `wire` parses and renders, `ops` decides, `store` keeps, `error`
//! maps to AWS.

pub mod checksum;
pub mod config;
pub mod error;
pub mod lifecycle;
pub mod notify;
pub mod post;
pub mod ops;
pub mod store;
pub mod wire;

pub use ops::S3;
