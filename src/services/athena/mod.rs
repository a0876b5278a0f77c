//! Amazon Athena (awsJson1_1, `X-Amz-Target: AmazonAthena.<Operation>`): query executions
//! with their lifecycle (QUEUED → RUNNING → SUCCEEDED / FAILED / CANCELLED), results written to
//! the output location as Athena writes them, workgroups, named queries and the catalog
//! metadata calls. `exec` runs one statement (DDL against Glue, SELECT through the
//! `firelocal-sql` engine over S3); `ops` holds the state; `wire` parses and renders.

pub mod error;
pub mod exec;
pub mod ops;
pub mod wire;

pub use ops::Athena;
