//! Sign-in, sessions and CSRF.
//!
//! Sessions live in the database; the browser holds a random token whose
//! SHA-256 is the key, in an HttpOnly, SameSite=Lax cookie (`__Host-` and
//! `Secure` when served over TLS). Every form carries a CSRF token: the
//! session's own once signed in, a double-submit cookie on the sign-in form.
//!
//! When the server requires MFA (`Config::mfa`) and the user's roles reach
//! case data, the right password makes an *MFA-pending* session: it carries
//! no [`CurrentUser`] (only a [`PendingMfa`]), and [`load_session`] sends it
//! to `/mfa` from every path but the MFA pages and sign-out, so no handler
//! that reads case data ever runs for it.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_store::users::User;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::errors::{AppError, AppResult};
use crate::layout::Layout;
use crate::passwords::{self, random_token, sha256_hex};
use crate::{AppState, Config};

/// A session that has given the right password and still owes its second
/// factor. Only the MFA pages and sign-out take it.
#[derive(Clone)]
pub struct PendingMfa {
    pub user: User,
    pub organisation_name: String,
    pub organisation_kind: Option<kindred_domain::model::OrgKind>,
    pub csrf: String,
    /// The SHA-256 of the session's token: the row to complete.
    pub token_hash: String,
}

/// The paths an MFA-pending session may reach (static assets need no session).
pub(crate) fn reachable_while_mfa_pending(path: &str) -> bool {
    path == "/mfa" || path.starts_with("/mfa/") || path == "/logout"
}

/// Requests answered in JSON rather than pages: the APIs, and any request
/// that asks for JSON and not HTML (the import progress poll).
fn wants_json(req: &Request) -> bool {
    let path = req.uri().path();
    let accept = req
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    path.starts_with("/api/")
        || path == "/fhir"
        || path.starts_with("/fhir/")
        || path.starts_with("/oauth/")
        || path == "/openreferral"
        || path.starts_with("/openreferral/")
        || path.ends_with("/progress")
        || (accept.contains("json") && !accept.contains("text/html"))
}

/// What an MFA-pending session gets anywhere but the MFA pages: a page
/// request goes to `/mfa`, a JSON one gets 401.
fn mfa_pending_refusal(req: &Request) -> Response {
    if wants_json(req) {
        let body = axum::Json(serde_json::json!({
            "error": "mfa_required",
            "message": "Finish signing in: enter the code from your authenticator app at /mfa.",
        }));
        (axum::http::StatusCode::UNAUTHORIZED, body).into_response()
    } else {
        Redirect::to("/mfa").into_response()
    }
}

/// The keys sign-in failures are counted under: the account and the address.
pub(crate) fn throttle_keys(email: &str, addr: &SocketAddr) -> (String, String) {
    (
        sha256_hex(&format!("account:{}", email.trim().to_lowercase())),
        sha256_hex(&format!("address:{}", addr.ip())),
    )
}

/// Whether either key has reached its limit of failures in the window.
pub(crate) async fn throttled(state: &AppState, account_key: &str, address_key: &str) -> AppResult<bool> {
    let cfg = &state.config;
    let since = kindred_store::now_ms() - cfg.throttle_window_ms;
    Ok(
        state.db.login_failures_since(account_key, since).await? >= cfg.max_failures_per_account
            || state.db.login_failures_since(address_key, since).await? >= cfg.max_failures_per_address,
    )
}

/// The signed-in user of this request.
#[derive(Clone)]
pub struct CurrentUser {
    pub user: User,
    pub organisation_name: String,
    pub organisation_kind: Option<kindred_domain::model::OrgKind>,
    pub csrf: String,
    /// Set by `web::access` when this request was let in by a break-glass.
    pub emergency: crate::layout::Emergency,
}

impl CurrentUser {
    /// This user as the author of a change made through `route`, for the
    /// audit event the store appends in the change's own transaction.
    pub fn actor(&self, route: &str) -> kindred_store::families::Actor {
        kindred_store::families::Actor {
            tenant_id: self.user.tenant_id,
            user_id: self.user.id,
            route: route.to_string(),
        }
    }
}

pub(crate) fn session_cookie(c: &Config) -> &'static str {
    if c.tls {
        "__Host-kindred-session"
    } else {
        "kindred-session"
    }
}

fn login_csrf_cookie(c: &Config) -> &'static str {
    if c.tls {
        "__Host-kindred-signin"
    } else {
        "kindred-signin"
    }
}

pub(crate) fn cookie(c: &Config, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(c.tls)
        .build()
}

/// A session ends after the idle timeout without a request, and after the
/// absolute timeout in all: staff and family portal sessions alike.
pub(crate) fn session_expired(c: &Config, created_at_ms: i64, last_seen_ms: i64, now_ms: i64) -> bool {
    now_ms - last_seen_ms > c.idle_timeout_ms || now_ms - created_at_ms > c.absolute_timeout_ms
}

/// Loads the session named by the cookie, ends it if it has timed out, and
/// puts the [`CurrentUser`] in the request for handlers.
pub async fn load_session(State(state): State<AppState>, jar: CookieJar, mut req: Request, next: Next) -> Response {
    // Static assets need no session: spare the database a lookup per file.
    let token = if req.uri().path().starts_with("/assets/") {
        None
    } else {
        jar.get(session_cookie(&state.config)).map(|c| c.value().to_string())
    };
    if let Some(token) = token {
        let key = sha256_hex(&token);
        match state.db.session(&key).await {
            Ok(Some((session, user))) => {
                let now = kindred_store::now_ms();
                if session_expired(&state.config, session.created_at_ms, session.last_seen_ms, now) {
                    let _ = state.db.delete_session(&key).await;
                } else {
                    // Touch at most once a minute: a write per request would serialise reads on SQLite.
                    if now - session.last_seen_ms > 60_000 {
                        let _ = state.db.touch_session(&key, now).await;
                    }
                    if session.mfa_pending {
                        if !reachable_while_mfa_pending(req.uri().path()) {
                            return mfa_pending_refusal(&req);
                        }
                        req.extensions_mut().insert(PendingMfa {
                            user,
                            organisation_name: session.organisation_name,
                            organisation_kind: session.organisation_kind,
                            csrf: session.csrf_token,
                            token_hash: key,
                        });
                        return next.run(req).await;
                    }
                    req.extensions_mut().insert(CurrentUser {
                        user,
                        organisation_name: session.organisation_name,
                        organisation_kind: session.organisation_kind,
                        csrf: session.csrf_token,
                        emergency: Default::default(),
                    });
                }
            }
            Ok(None) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::SignInRequired)
    }
}

/// A form whose `csrf` field must equal the session's token. Every state
/// change by a signed-in user arrives through this extractor (and those of
/// an MFA-pending session, which reach only the MFA pages and sign-out).
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let session_csrf = match (
            req.extensions().get::<CurrentUser>(),
            req.extensions().get::<PendingMfa>(),
        ) {
            (Some(cu), _) => cu.csrf.clone(),
            (None, Some(p)) => p.csrf.clone(),
            (None, None) => return Err(AppError::SignInRequired),
        };
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("The form could not be read."))?;
        let field: CsrfField = read_form(&bytes)?;
        if !tokens_match(&field.csrf, &session_csrf) {
            return Err(AppError::BadRequest(
                "This form has expired. Go back, reload the page and try again.",
            ));
        }
        Ok(CsrfForm(read_form(&bytes)?))
    }
}

/// Decodes a urlencoded form body. One holding a NUL character (`%00`),
/// which no database column can store, is refused with a clear message.
pub(crate) fn read_form<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if crate::security::holds_nul(bytes) {
        return Err(AppError::BadRequest(
            "The form holds a NUL character (%00), which Kindred does not accept.",
        ));
    }
    serde_urlencoded::from_bytes(bytes).map_err(|_| AppError::BadRequest("The form could not be read."))
}

/// A form posted without a session (sign-in, the family portal): read as
/// [`read_form`] does.
pub struct PlainForm<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for PlainForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("The form could not be read."))?;
        Ok(PlainForm(read_form(&bytes)?))
    }
}

pub(crate) fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    email: String,
    error: Option<&'static str>,
    signin_csrf: String,
}

pub async fn login_form(
    State(state): State<AppState>,
    jar: CookieJar,
    cu: Option<CurrentUser>,
    pending: Option<PendingMfa>,
) -> AppResult<Response> {
    if cu.is_some() || pending.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let token = random_token();
    let jar = jar.add(cookie(&state.config, login_csrf_cookie(&state.config), token.clone()));
    let page = LoginPage {
        l: Layout::anonymous("Sign in"),
        email: String::new(),
        error: None,
        signin_csrf: token,
    };
    Ok((jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

const BAD_CREDENTIALS: &str = "Enter a correct email address and password";

/// The same message, status and work for an unknown email as for a wrong password.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    PlainForm(form): PlainForm<LoginForm>,
) -> AppResult<Response> {
    let expected = jar
        .get(login_csrf_cookie(&state.config))
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !tokens_match(&form.csrf, &expected) {
        return Err(AppError::BadRequest(
            "This form has expired. Go back, reload the page and try again.",
        ));
    }
    let db = &state.db;
    let cfg = &state.config;
    let (account_key, address_key) = throttle_keys(&form.email, &addr);
    if throttled(&state, &account_key, &address_key).await? {
        return Err(AppError::TooManyRequests);
    }
    let user = db.user_by_email(&form.email).await?;
    let password = form.password.clone();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = passwords::off_thread(move || passwords::verify(&password, stored.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let user = user.filter(|u| ok && u.active);
    let Some(user) = user else {
        db.record_login_failure(&account_key).await?;
        db.record_login_failure(&address_key).await?;
        let page = LoginPage {
            l: Layout::anonymous("Sign in"),
            email: form.email.clone(),
            error: Some(BAD_CREDENTIALS),
            signin_csrf: expected,
        };
        return crate::errors::invalid(page);
    };
    let mfa_pending = cfg.mfa == crate::Mfa::Required && kindred_domain::access::mfa_required(&user.subject());
    // With a second factor still to come, the account's failures stand until
    // it is given: a right password must not wipe out wrong codes.
    if !mfa_pending {
        db.clear_login_failures(&account_key).await?;
    }
    let token = random_token();
    db.create_session(&sha256_hex(&token), user.id, &random_token(), mfa_pending)
        .await?;
    db.audit(NewEvent {
        tenant_id: Some(user.tenant_id),
        actor_user_id: Some(user.id),
        action: AuditAction::SignIn,
        record_kind: "session",
        record_id: None,
        family_id: None,
        route: "web POST /login".into(),
        detail: if mfa_pending {
            "password; mfa pending".into()
        } else {
            String::new()
        },
    })
    .await?;
    let jar = jar
        .remove(Cookie::build(login_csrf_cookie(cfg)).path("/"))
        .add(cookie(cfg, session_cookie(cfg), token));
    Ok((jar, Redirect::to(if mfa_pending { "/mfa" } else { "/" })).into_response())
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    cu: Option<CurrentUser>,
    pending: Option<PendingMfa>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let user = match (cu, pending) {
        (Some(cu), _) => cu.user,
        (None, Some(p)) => p.user,
        (None, None) => return Err(AppError::SignInRequired),
    };
    if let Some(c) = jar.get(session_cookie(&state.config)) {
        state.db.delete_session(&sha256_hex(c.value())).await?;
    }
    state
        .db
        .audit(NewEvent {
            tenant_id: Some(user.tenant_id),
            actor_user_id: Some(user.id),
            action: AuditAction::SignOut,
            record_kind: "session",
            record_id: None,
            family_id: None,
            route: "web POST /logout".into(),
            detail: String::new(),
        })
        .await?;
    let jar = jar.remove(Cookie::build(session_cookie(&state.config)).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CurrentUser>().cloned())
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for PendingMfa {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<PendingMfa>().cloned())
    }
}
