//! AWS CloudFormation (awsQuery): stacks from the templates users already write (YAML with the
//! short-form tags, or JSON), change sets, exports. Resources are created through firelocal's
//! own API in process (`api`), so a stack's resources meet the same validation and IAM checks
//! as the same calls made directly.

pub mod api;
pub mod error;
pub mod ops;
pub mod resources;
pub mod template;
pub mod wire;

pub use ops::CloudFormation;
