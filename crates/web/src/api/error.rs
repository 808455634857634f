//! The API's errors: JSON bodies that say what is wrong and where. A record
//! the caller may not see is `not_found`, byte for byte like one that does not
//! exist. Unexpected failures carry a correlation ID and nothing else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::errors::AppError;

pub type ApiResult<T> = Result<T, ApiError>;

/// An error body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `not_found`, `invalid_token`, `invalid_parameter`,
    /// `invalid_json`, `invalid_field`, `forbidden`, `too_many_requests`, `server_error`.
    pub error: String,
    /// What is wrong, in words.
    pub message: String,
    /// The parameter or field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Quote this to the partnership's support team (server errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// A field at fault in an item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where, e.g. `referrals[2].people[0].nhs_number`.
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Box<ErrorBody>,
    challenge: Option<HeaderValue>,
}

impl ApiError {
    fn new(status: StatusCode, error: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                error: error.into(),
                message: message.into(),
                field: field.map(str::to_string),
                correlation_id: None,
            }),
            challenge: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "No such record", None)
    }

    pub fn unauthorized() -> Self {
        Self::from_auth(crate::api_auth::ApiAuthError::InvalidToken)
    }

    /// The caller's organisation may not do this at all (not about one record).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message, None)
    }

    pub fn invalid_parameter(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", message, Some(field))
    }

    pub fn invalid_json(message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message, field)
    }

    pub fn too_large(message: impl Into<String>, field: &str) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message, Some(field))
    }

    /// A refused token: 401 (or 403 for a missing scope) with its challenge.
    pub fn from_auth(e: crate::api_auth::ApiAuthError) -> Self {
        if let crate::api_auth::ApiAuthError::Internal(inner) = e {
            return inner.into();
        }
        let (code, message) = e.describe();
        ApiError {
            status: e.status(),
            body: Box::new(ErrorBody {
                error: code.into(),
                message,
                field: None,
                correlation_id: None,
            }),
            challenge: e.challenge(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        self.body.field.as_deref()
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => ApiError::not_found(),
            AppError::SignInRequired => ApiError::unauthorized(),
            AppError::BadRequest(m) => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m, None),
            AppError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m, None),
            AppError::TooManyRequests => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests; wait and try again",
                None,
            ),
            AppError::Internal(err) => {
                let id = crate::errors::log_internal(&err);
                let mut e = ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Something went wrong on our side",
                    None,
                );
                e.body.correlation_id = Some(id);
                e
            }
        }
    }
}

impl From<kindred_store::StoreError> for ApiError {
    fn from(e: kindred_store::StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(*self.body)).into_response();
        if let Some(v) = self.challenge {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}
