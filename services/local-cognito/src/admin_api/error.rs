//! Development and tests only: the one place where the admin API's errors become AWS's error
//! answers: `400` (a client error) with `{"__type":"<Exception>","message":"..."}`, as the
//! awsJson1_1 protocol carries them.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::admin_api::AMZ_JSON;
use crate::pool::PoolError;

/// Why an admin API request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The pool refused the change.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// `X-Amz-Target` names no operation this API serves (`UnknownOperationException`).
    #[error("unknown operation {0:?}")]
    UnknownOperation(String),
    /// The body is not JSON (`SerializationException`).
    #[error("{0}")]
    Serialization(String),
    /// Above the request-rate quota (`TooManyRequestsException`).
    #[error("Rate exceeded")]
    TooManyRequests,
}

impl ApiError {
    /// A body that did not deserialise: malformed JSON is `SerializationException`; a missing
    /// or mistyped field is `InvalidParameterException` naming the field (as AWS's validation
    /// names the member).
    pub(crate) fn from_json(error: &serde_json::Error) -> Self {
        match error.classify() {
            serde_json::error::Category::Data => {
                Self::Pool(PoolError::InvalidParameter(error.to_string()))
            }
            _ => Self::Serialization(error.to_string()),
        }
    }

    /// The `__type` of the error body.
    pub fn exception(&self) -> &'static str {
        match self {
            Self::Pool(error) => error.exception(),
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Serialization(_) => "SerializationException",
            Self::TooManyRequests => "TooManyRequestsException",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        // Every error here is the caller's; Cognito's 500s (InternalErrorException) never
        // happen in this stand-in.
        StatusCode::BAD_REQUEST
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, AMZ_JSON))
            .body(json!({ "__type": self.exception(), "message": self.to_string() }).to_string())
    }
}
