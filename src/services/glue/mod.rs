//! The AWS Glue Data Catalog (awsJson1_1, `X-Amz-Target: AWSGlue.<Operation>`): databases,
//! tables and partitions, kept in SQLite. It is also the catalog Athena's DDL writes to and its
//! queries read from, so tables made either way are visible both ways. `wire` parses and
//! renders, `ops` decides, `store` keeps the documents, `error` maps failures to AWS codes.

pub mod error;
pub mod ops;
pub mod store;
pub mod wire;

pub use ops::Glue;
