//! CloudFormation's API errors: one enum, mapped to AWS codes in one place. A resource that
//! fails is not an API error: it is a FAILED event and a rollback (see `ops`).

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything a CloudFormation operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum CfnError {
    /// `ValidationError` (bad input, missing stack, "No updates are to be performed.").
    Validation(String),
    AlreadyExists(String),
    InsufficientCapabilities(String),
    ChangeSetNotFound(String),
    InvalidChangeSetStatus(String),
    TokenAlreadyExists(String),
    Internal(String),
}

/// The result of a CloudFormation operation.
pub type CfnResult<T> = Result<T, CfnError>;

impl CfnError {
    /// The AWS error (awsQuery shape is applied by the wire layer).
    pub fn to_aws(&self) -> AwsError {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            CfnError::Validation(m) => AwsError::new(bad, "ValidationError", m.clone()),
            CfnError::AlreadyExists(m) => AwsError::new(bad, "AlreadyExistsException", m.clone()),
            CfnError::InsufficientCapabilities(m) => AwsError::new(bad, "InsufficientCapabilitiesException", m.clone()),
            CfnError::ChangeSetNotFound(m) => AwsError::new(StatusCode::NOT_FOUND, "ChangeSetNotFound", m.clone()),
            CfnError::InvalidChangeSetStatus(m) => AwsError::new(bad, "InvalidChangeSetStatus", m.clone()),
            CfnError::TokenAlreadyExists(m) => AwsError::new(bad, "TokenAlreadyExistsException", m.clone()),
            CfnError::Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for CfnError {
    fn from(e: rusqlite::Error) -> Self {
        CfnError::Internal(format!("state store: {e}"))
    }
}
