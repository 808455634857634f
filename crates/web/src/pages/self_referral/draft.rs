//! The draft behind the pages: found by the browser's cookie, its answers
//! read and saved as JSON, and every form checked against its CSRF token.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::answers::{Answers, Step};
use super::{CONFIRMATION, EXPIRED};
use crate::auth::tokens_match;
use crate::errors::{AppError, AppResult};
use crate::passwords::sha256_hex;
use crate::{AppState, Config};

/// A draft untouched for this long is gone.
pub const KEEP_MS: i64 = 2 * 60 * 60 * 1000;

pub fn draft_cookie(c: &Config) -> &'static str {
    if c.tls {
        "__Host-kindred-selfref"
    } else {
        "kindred-selfref"
    }
}

/// The draft this browser is filling in.
pub struct Current {
    pub key: String,
    pub csrf: String,
    pub created_at_ms: i64,
    pub tenant_id: Option<i64>,
    pub answers: Answers,
}

impl Current {
    pub async fn load(state: &AppState, jar: &CookieJar) -> AppResult<Option<Current>> {
        let Some(c) = jar.get(draft_cookie(&state.config)) else {
            return Ok(None);
        };
        let key = sha256_hex(c.value());
        let Some(d) = state.db.draft(&key, kindred_store::now_ms() - KEEP_MS).await? else {
            return Ok(None);
        };
        // Unreadable answers (an older shape) are treated like expired ones.
        let Ok(answers) = serde_json::from_str(&d.data) else {
            return Ok(None);
        };
        Ok(Some(Current {
            key,
            csrf: d.csrf_token,
            created_at_ms: d.created_at_ms,
            tenant_id: d.tenant_id,
            answers,
        }))
    }

    pub async fn save(&self, state: &AppState) -> AppResult<()> {
        let data = serde_json::to_string(&self.answers).map_err(|e| AppError::Internal(e.into()))?;
        state.db.save_draft(&self.key, self.tenant_id, &data).await?;
        Ok(())
    }

    /// Where to go after a page's answer is saved: the next page, or back to
    /// check your answers (by way of anything the change made unanswered).
    pub fn next(&self, change: bool, natural: Step) -> Response {
        let to = if change {
            match self.answers.missing(self.tenant_id) {
                Some(step) => format!("{}?change=yes", step.path()),
                None => Step::Check.path().to_string(),
            }
        } else {
            natural.path().to_string()
        };
        Redirect::to(&to).into_response()
    }
}

/// The draft named by the cookie, for the question pages. Without one the
/// visitor is sent to start again; once sent, to the confirmation.
pub struct Drafted(pub Current);

impl FromRequestParts<AppState> for Drafted {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        match Current::load(state, &jar).await {
            Ok(Some(c)) if c.answers.sent => Err(Redirect::to(CONFIRMATION).into_response()),
            Ok(Some(c)) => Ok(Drafted(c)),
            Ok(None) => Err(Redirect::to(EXPIRED).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A question page's form, accepted only with the draft's CSRF token.
pub struct Posted<T> {
    pub cur: Current,
    /// Came from check your answers, so goes back there.
    pub change: bool,
    pub form: T,
}

#[derive(Deserialize)]
struct FormMeta {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    change: String,
}

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let unreadable = || AppError::BadRequest("The form could not be read.").into_response();
        let (mut parts, body) = req.into_parts();
        let Drafted(cur) = Drafted::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| unreadable())?;
        let meta: FormMeta = crate::auth::read_form(&bytes).map_err(IntoResponse::into_response)?;
        if !tokens_match(&meta.csrf, &cur.csrf) {
            return Err(
                AppError::BadRequest("This form has expired. Go back, reload the page and try again.").into_response(),
            );
        }
        let form = crate::auth::read_form(&bytes).map_err(IntoResponse::into_response)?;
        Ok(Posted {
            cur,
            change: meta.change == "yes",
            form,
        })
    }
}

/// `?change=yes` on a page opened from check your answers.
#[derive(Debug, Default, Deserialize)]
pub struct ChangeQuery {
    #[serde(default)]
    change: String,
}

impl ChangeQuery {
    pub fn on(&self) -> bool {
        self.change == "yes"
    }
}
