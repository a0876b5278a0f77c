//! AWS IAM (awsQuery): roles with trust, inline and attached policies, managed policies with
//! versions (and the AWS managed policies pipelines use), users and access keys. Policies are
//! stored and validated; `authz` decides calls with them under `--enforce-iam`.

pub mod authz;
pub mod eval;
pub mod managed;
pub mod ops;
pub mod wire;

pub use ops::Iam;
