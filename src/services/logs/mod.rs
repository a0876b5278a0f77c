//! CloudWatch Logs (awsJson1_1, `X-Amz-Target: Logs_20140328.<Operation>`): the subset that
//! reads what Lambda functions log, plus what functions use to log through the API. Events are
//! kept in memory (they do not survive a restart).

pub mod ops;
pub mod wire;

pub use ops::Logs;
