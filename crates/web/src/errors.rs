//! The error policy, in one place.
//!
//! Handlers return `Result<_, AppError>`. A record the user may not see is
//! `NotFound`, exactly like one that does not exist: the same status, the same
//! page, the same bytes. Unexpected failures are logged with a correlation ID
//! (never with personal data) and shown as a generic page carrying that ID.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::layout::Layout;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    SignInRequired,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The record cannot change any more (a completed assessment).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("too many requests")]
    TooManyRequests,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<kindred_store::StoreError> for AppError {
    fn from(e: kindred_store::StoreError) -> Self {
        match e {
            kindred_store::StoreError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    heading: &'static str,
    body: String,
    correlation_id: Option<String>,
}

pub(crate) fn page(
    status: StatusCode,
    heading: &'static str,
    body: String,
    correlation_id: Option<String>,
) -> Response {
    let l = Layout::anonymous(heading);
    let html = ErrorPage {
        l,
        heading,
        body,
        correlation_id,
    }
    .render()
    .unwrap_or_else(|_| heading.to_string());
    (status, Html(html)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "If you typed the web address, check it is correct. If you followed a link, the record may not exist or you may not have a working relationship with it.".into(),
                None,
            ),
            AppError::SignInRequired => Redirect::to("/login").into_response(),
            AppError::BadRequest(msg) => page(StatusCode::BAD_REQUEST, "There is a problem", msg.into(), None),
            AppError::Conflict(msg) => page(StatusCode::CONFLICT, "This cannot be changed", msg.into(), None),
            AppError::TooManyRequests => page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Wait 15 minutes, then try again.".into(),
                None,
            ),
            AppError::Internal(e) => {
                let id = log_internal(&e);
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, there is a problem with the service",
                    "Try again later. If you contact support, give them this reference.".into(),
                    Some(id),
                )
            }
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Logs an unexpected failure under a new correlation ID, and returns the ID
/// for the response. The cause chain holds SQL and library errors, not input.
pub fn log_internal(e: &anyhow::Error) -> String {
    let id = crate::passwords::random_token()[..12].to_string();
    tracing::error!(correlation_id = %id, error = %format!("{e:#}"), "request failed");
    id
}

/// A form page sent back with its errors: 422, so tests and tools can tell it from success.
pub fn invalid(page: impl Template) -> AppResult<axum::response::Response> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

/// Path parameters that, when malformed (`/families/new/access-log`), give the
/// ordinary not-found page instead of a bare rejection.
pub struct Ids<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for Ids<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Ids(t))
            .map_err(|_| AppError::NotFound)
    }
}
