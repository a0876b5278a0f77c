//! Lambda's errors: one enum, mapped to AWS codes and statuses in one place.

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything a Lambda operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum LambdaError {
    /// A function (or version, or policy statement) that does not exist: the message names it.
    ResourceNotFound(String),
    ResourceConflict(String),
    InvalidParameterValue(String),
    /// A model constraint (length, range, pattern).
    Validation { field: String, value: String, constraint: String },
    RequestTooLarge(String),
    InvalidRequestContent(String),
    PreconditionFailed(String),
    UnsupportedOperation(String),
    Service(String),
}

impl LambdaError {
    /// A model-constraint violation.
    pub fn validation(field: &str, value: impl std::fmt::Display, constraint: impl Into<String>) -> Self {
        LambdaError::Validation { field: field.to_string(), value: value.to_string(), constraint: constraint.into() }
    }

    /// The AWS error for this failure.
    pub fn to_aws(&self) -> AwsError {
        use LambdaError::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            ResourceNotFound(m) => AwsError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", m.clone()).with("Type", "User"),
            ResourceConflict(m) => AwsError::new(StatusCode::CONFLICT, "ResourceConflictException", m.clone()).with("Type", "User"),
            InvalidParameterValue(m) => AwsError::new(bad, "InvalidParameterValueException", m.clone()).with("Type", "User"),
            Validation { field, value, constraint } => crate::protocol::json::validation_error(field, value, constraint),
            RequestTooLarge(m) => AwsError::new(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLargeException", m.clone()).with("Type", "User"),
            InvalidRequestContent(m) => AwsError::new(bad, "InvalidRequestContentException", m.clone()).with("Type", "User"),
            PreconditionFailed(m) => AwsError::new(StatusCode::PRECONDITION_FAILED, "PreconditionFailedException", m.clone()).with("Type", "User"),
            UnsupportedOperation(m) => AwsError::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", m.clone()),
            Service(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", m.clone()).with("Type", "Service"),
        }
    }
}

impl From<rusqlite::Error> for LambdaError {
    fn from(e: rusqlite::Error) -> Self {
        LambdaError::Service(format!("state store: {e}"))
    }
}

/// The result of a Lambda operation.
pub type LambdaResult<T> = Result<T, LambdaError>;
