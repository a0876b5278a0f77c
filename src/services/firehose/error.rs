//! Firehose's errors: one enum, mapped to AWS codes and statuses in one place.

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything a Firehose operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum FirehoseError {
    ResourceNotFound(String),
    ResourceInUse(String),
    InvalidArgument(String),
    LimitExceeded(String),
    ConcurrentModification(String),
    /// A model constraint (length, range, pattern): `ValidationException` with AWS's message.
    Validation { field: String, value: String, constraint: String },
    ServiceUnavailable(String),
    UnknownOperation(String),
    Internal(String),
}

impl FirehoseError {
    /// A model-constraint violation.
    pub fn validation(field: &str, value: impl std::fmt::Display, constraint: impl Into<String>) -> Self {
        FirehoseError::Validation { field: field.to_string(), value: value.to_string(), constraint: constraint.into() }
    }

    /// The AWS error for this failure.
    pub fn to_aws(&self) -> AwsError {
        use FirehoseError::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            ResourceNotFound(m) => AwsError::new(bad, "ResourceNotFoundException", m.clone()),
            ResourceInUse(m) => AwsError::new(bad, "ResourceInUseException", m.clone()),
            InvalidArgument(m) => AwsError::new(bad, "InvalidArgumentException", m.clone()),
            LimitExceeded(m) => AwsError::new(bad, "LimitExceededException", m.clone()),
            ConcurrentModification(m) => AwsError::new(bad, "ConcurrentModificationException", m.clone()),
            Validation { field, value, constraint } => crate::protocol::json::validation_error(field, value, constraint),
            ServiceUnavailable(m) => AwsError::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableException", m.clone()),
            UnknownOperation(op) => AwsError::new(bad, "UnknownOperationException", format!("Firehose has no operation {op}")),
            Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for FirehoseError {
    fn from(e: rusqlite::Error) -> Self {
        FirehoseError::Internal(format!("state store: {e}"))
    }
}

/// The result of a Firehose operation.
pub type FirehoseResult<T> = Result<T, FirehoseError>;
