//! API Gateway's control-plane errors, mapped to AWS codes in one place.

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything an API Gateway control-plane call can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiGatewayError {
    NotFound(String),
    BadRequest(String),
    Conflict(String),
    Internal(String),
}

impl ApiGatewayError {
    /// The AWS error for this failure.
    pub fn to_aws(&self) -> AwsError {
        match self {
            ApiGatewayError::NotFound(m) => AwsError::new(StatusCode::NOT_FOUND, "NotFoundException", m.clone()),
            ApiGatewayError::BadRequest(m) => AwsError::new(StatusCode::BAD_REQUEST, "BadRequestException", m.clone()),
            ApiGatewayError::Conflict(m) => AwsError::new(StatusCode::CONFLICT, "ConflictException", m.clone()),
            ApiGatewayError::Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for ApiGatewayError {
    fn from(e: rusqlite::Error) -> Self {
        ApiGatewayError::Internal(format!("state store: {e}"))
    }
}

/// The result of a control-plane call.
pub type ApiResult<T> = Result<T, ApiGatewayError>;
