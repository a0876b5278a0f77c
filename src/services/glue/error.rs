//! Glue's errors: one enum, mapped to AWS codes in one place.

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything a Glue operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum GlueError {
    EntityNotFound(String),
    AlreadyExists(String),
    InvalidInput(String),
    UnknownOperation(String),
    Internal(String),
}

impl GlueError {
    /// The AWS error for this failure.
    pub fn to_aws(&self) -> AwsError {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            GlueError::EntityNotFound(m) => AwsError::new(bad, "EntityNotFoundException", m.clone()),
            GlueError::AlreadyExists(m) => AwsError::new(bad, "AlreadyExistsException", m.clone()),
            GlueError::InvalidInput(m) => AwsError::new(bad, "InvalidInputException", m.clone()),
            GlueError::UnknownOperation(op) => AwsError::new(bad, "UnknownOperationException", format!("firelocal's Glue does not implement {op}")),
            GlueError::Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServiceException", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for GlueError {
    fn from(e: rusqlite::Error) -> Self {
        GlueError::Internal(format!("state store: {e}"))
    }
}

/// The result of a Glue operation.
pub type GlueResult<T> = Result<T, GlueError>;
