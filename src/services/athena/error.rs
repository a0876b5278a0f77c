//! Athena's API errors: one enum, mapped to AWS codes in one place. Query failures are not
//! API errors: they are a FAILED state with a reason (see `exec`).

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything an Athena operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum AthenaError {
    /// `InvalidRequestException` with Athena's `AthenaErrorCode`.
    InvalidRequest { code: &'static str, message: String },
    ResourceNotFound(String),
    UnknownOperation(String),
    Internal(String),
}

impl AthenaError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        AthenaError::InvalidRequest { code, message: message.into() }
    }

    /// The AWS error for this failure.
    pub fn to_aws(&self) -> AwsError {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            AthenaError::InvalidRequest { code, message } => AwsError::new(bad, "InvalidRequestException", message.clone()).with("AthenaErrorCode", *code).with("ErrorCode", *code),
            AthenaError::ResourceNotFound(m) => AwsError::new(bad, "ResourceNotFoundException", m.clone()),
            AthenaError::UnknownOperation(op) => AwsError::new(bad, "UnknownOperationException", format!("firelocal's Athena does not implement {op}")),
            AthenaError::Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for AthenaError {
    fn from(e: rusqlite::Error) -> Self {
        AthenaError::Internal(format!("state store: {e}"))
    }
}

/// The result of an Athena operation.
pub type AthenaResult<T> = Result<T, AthenaError>;
