//! AWS IAM (awsQuery): roles with trust, inline and attached policies, managed policies with
//! versions (and the AWS managed policies pipelines use), users and access keys. Policies are
//! stored and validated; evaluating them (enforcement) is not built yet.

pub mod eval;
pub mod managed;
pub mod ops;
pub mod wire;

pub use ops::Iam;
