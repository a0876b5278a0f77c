//! QuickSight's API errors: one enum, mapped to AWS codes in one place.

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything a QuickSight operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum QsError {
    ResourceExists(String),
    ResourceNotFound(String),
    InvalidParameterValue(String),
    Conflict(String),
    UnsupportedUserEdition(String),
    Internal(String),
}

/// The result of a QuickSight operation.
pub type QsResult<T> = Result<T, QsError>;

impl QsError {
    /// The AWS error (restJson1 shape is applied by the wire layer).
    pub fn to_aws(&self) -> AwsError {
        match self {
            QsError::ResourceExists(m) => AwsError::new(StatusCode::CONFLICT, "ResourceExistsException", m.clone()),
            QsError::ResourceNotFound(m) => AwsError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", m.clone()),
            QsError::InvalidParameterValue(m) => AwsError::new(StatusCode::BAD_REQUEST, "InvalidParameterValueException", m.clone()),
            QsError::Conflict(m) => AwsError::new(StatusCode::CONFLICT, "ConflictException", m.clone()),
            QsError::UnsupportedUserEdition(m) => AwsError::new(StatusCode::FORBIDDEN, "UnsupportedUserEditionException", m.clone()),
            QsError::Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailureException", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for QsError {
    fn from(e: rusqlite::Error) -> Self {
        QsError::Internal(format!("state store: {e}"))
    }
}
