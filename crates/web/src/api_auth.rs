//! System-to-system access: OAuth2 client credentials (RFC 6749 §4.4) for
//! registered partner systems, and the bearer-token check every API handler
//! takes ([`ApiCaller`]).
//!
//! A partner system acts for exactly one organisation through its own account
//! (a `users` row no password can sign in): the caller carries a
//! [`CurrentUser`] for that account, so every function of [`crate::access`]
//! — the policy and the audit event — decides and records for a system exactly
//! as for a user of its organisation (`kindred_domain::access::system_subject`).
//!
//! Client secrets and access tokens are 256-bit random values; only their
//! SHA-256 is stored (a slow hash buys nothing against a random 256-bit
//! value). `POST /oauth/token` is not a browser form: it carries no CSRF
//! token (the CSRF check lives in the `CsrfForm` extractor, which it does not
//! use) and no cookie is read or set by it. Failed client authentications are
//! throttled like failed sign-ins, per client id and per address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_store::api_clients::{ApiClient, NewApiClient};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::errors::AppError;
use crate::passwords::{random_token, sha256_hex};

/// Read access to the FHIR API (SMART Backend Services style).
pub const SCOPE_FHIR_READ: &str = "system/*.read";
/// Kindred's own JSON API at `/api/…`.
pub const SCOPE_API: &str = "api";
/// Every scope a system may ask for; none asked means all of them.
pub const SCOPES: &[&str] = &[SCOPE_FHIR_READ, SCOPE_API];
/// An access token works for this long.
pub const TOKEN_TTL_SECONDS: i64 = 3600;

/// A new client id: `kc_` and 16 hex digits.
pub fn new_client_id() -> String {
    format!("kc_{}", &random_token()[..16])
}

/// Registers a partner system for `organisation_id` and returns it with its
/// secret, which is shown once and stored only as a hash.
pub async fn register(
    db: &kindred_store::Db,
    tenant_id: i64,
    organisation_id: i64,
    name: &str,
    created_by_user_id: Option<i64>,
    fixed: Option<(&str, &str)>,
) -> anyhow::Result<(ApiClient, String)> {
    let org = db.organisation(organisation_id).await?;
    anyhow::ensure!(org.tenant_id == tenant_id, "the organisation is in another tenant");
    let (client_id, secret) = match fixed {
        Some((id, secret)) => (id.to_string(), secret.to_string()),
        None => (new_client_id(), random_token()),
    };
    let client = db
        .create_api_client(&NewApiClient {
            tenant_id,
            organisation_id,
            name: name.trim().to_string(),
            client_id,
            secret_hash: sha256_hex(&secret),
            profession: kindred_domain::access::system_profession(org.kind),
            roles: kindred_domain::access::SYSTEM_ROLES.to_vec(),
            created_by_user_id,
        })
        .await?;
    Ok((client, secret))
}

/// An OAuth2 error response (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    let mut res = (status, axum::Json(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"kindred\""),
        );
    }
    res
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    grant_type: String,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The client's id and secret from HTTP Basic (form-urlencoded inside, RFC
/// 6749 §2.3.1) or from the form body; both at once is refused.
#[allow(clippy::result_large_err)] // the refusal is a finished response
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Result<(String, String), Response> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .to_string()
    };
    match (basic, &form.client_id) {
        (Some(_), Some(_)) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Authenticate the client one way: HTTP Basic or client_id in the form, not both",
        )),
        (Some(b), None) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
                .and_then(|v| String::from_utf8(v).ok());
            match raw.as_deref().and_then(|r| r.split_once(':')) {
                Some((id, secret)) => Ok((decode(id), decode(secret))),
                None => Err(oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "The Authorization header is not HTTP Basic client credentials",
                )),
            }
        }
        (None, Some(id)) => Ok((id.clone(), form.client_secret.clone().unwrap_or_default())),
        (None, None) => Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication is required: HTTP Basic, or client_id and client_secret",
        )),
    }
}

/// `POST /oauth/token`: the client-credentials grant.
pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be application/x-www-form-urlencoded",
        ));
    };
    let (client_id, secret) = match client_credentials(&headers, &form) {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let db = &state.db;
    let cfg = &state.config;
    let client_key = sha256_hex(&format!("client:{client_id}"));
    let address_key = sha256_hex(&format!("address:{}", addr.ip()));
    let since = kindred_store::now_ms() - cfg.throttle_window_ms;
    if db.login_failures_since(&client_key, since).await? >= cfg.max_failures_per_account
        || db.login_failures_since(&address_key, since).await? >= cfg.max_failures_per_address
    {
        let mut res = oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_client",
            "Too many failed client authentications: wait 15 minutes, then try again",
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
        return Ok(res);
    }
    let found = db.api_client_secret(&client_id).await?;
    let given = sha256_hex(&secret);
    let ok = found
        .as_ref()
        .is_some_and(|(c, stored)| c.active && bool::from(given.as_bytes().ct_eq(stored.as_bytes())));
    let client = match (ok, found) {
        (true, Some((c, _))) => c,
        _ => {
            db.record_login_failure(&client_key).await?;
            db.record_login_failure(&address_key).await?;
            return Ok(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Unknown client, wrong secret, or a disabled client",
            ));
        }
    };
    db.clear_login_failures(&client_key).await?;
    if form.grant_type.is_empty() {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is required: use client_credentials",
        ));
    }
    if form.grant_type != "client_credentials" {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        ));
    }
    let asked: Vec<&str> = form
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if asked.iter().any(|s| !SCOPES.contains(s)) {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope may hold only: system/*.read api",
        ));
    }
    let mut granted: Vec<&str> = if asked.is_empty() {
        SCOPES.to_vec()
    } else {
        SCOPES.iter().copied().filter(|s| asked.contains(s)).collect()
    };
    granted.dedup();
    let scope = granted.join(" ");
    let access_token = random_token();
    db.create_api_token(&sha256_hex(&access_token), client.id, &scope, TOKEN_TTL_SECONDS * 1000)
        .await?;
    db.audit(NewEvent {
        tenant_id: Some(client.tenant_id),
        actor_user_id: Some(client.user_id),
        action: AuditAction::SignIn,
        record_kind: "api_token",
        record_id: Some(client.id),
        family_id: None,
        route: "api POST /oauth/token".into(),
        detail: format!("scope={scope}"),
    })
    .await?;
    let body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL_SECONDS,
        "scope": scope,
    });
    let mut res = axum::Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(res)
}

/// A partner system calling with a valid bearer token.
#[derive(Clone)]
pub struct ApiCaller {
    /// The system's account, as every `crate::access` function takes it.
    pub cu: CurrentUser,
    pub client: ApiClient,
    pub scopes: Vec<String>,
}

impl ApiCaller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `403 insufficient_scope` unless the token carries `scope`.
    pub fn require_scope(&self, scope: &'static str) -> Result<(), ApiAuthError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiAuthError::InsufficientScope(scope))
        }
    }
}

/// Why a bearer token was refused (RFC 6750 §3.1).
#[derive(Debug)]
pub enum ApiAuthError {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Unknown, expired or revoked token, or a disabled system.
    InvalidToken,
    InsufficientScope(&'static str),
    Internal(AppError),
}

impl ApiAuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiAuthError::Missing | ApiAuthError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiAuthError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiAuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code and a sentence for people.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            ApiAuthError::Missing => (
                "invalid_request",
                "An access token is required: Authorization: Bearer <token> from POST /oauth/token".into(),
            ),
            ApiAuthError::InvalidToken => (
                "invalid_token",
                "The access token is unknown, expired or revoked".into(),
            ),
            ApiAuthError::InsufficientScope(s) => ("insufficient_scope", format!("This needs the scope {s}")),
            ApiAuthError::Internal(_) => ("server_error", "Try again later".into()),
        }
    }

    /// The `WWW-Authenticate` challenge, for 401 and 403.
    pub fn challenge(&self) -> Option<HeaderValue> {
        let v = match self {
            ApiAuthError::Missing => "Bearer realm=\"kindred\"".to_string(),
            ApiAuthError::InvalidToken => "Bearer realm=\"kindred\", error=\"invalid_token\"".to_string(),
            ApiAuthError::InsufficientScope(s) => {
                format!("Bearer realm=\"kindred\", error=\"insufficient_scope\", scope=\"{s}\"")
            }
            ApiAuthError::Internal(_) => return None,
        };
        HeaderValue::from_str(&v).ok()
    }

    /// Adds the challenge to a response built by the API that refused.
    pub fn with_challenge(&self, mut res: Response) -> Response {
        if let Some(v) = self.challenge() {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

impl IntoResponse for ApiAuthError {
    /// As JSON `{"error", "error_description"}` (Kindred's own API; FHIR
    /// turns it into an OperationOutcome instead).
    fn into_response(self) -> Response {
        if let ApiAuthError::Internal(e) = self {
            return e.into_response();
        }
        let (error, description) = self.describe();
        let body = serde_json::json!({ "error": error, "error_description": description });
        self.with_challenge((self.status(), axum::Json(body)).into_response())
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiAuthError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiAuthError::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiAuthError::Missing)?;
        let holder = state
            .db
            .api_token_holder(&sha256_hex(token))
            .await
            .map_err(|e| ApiAuthError::Internal(e.into()))?
            .ok_or(ApiAuthError::InvalidToken)?;
        if !holder.user.active {
            return Err(ApiAuthError::InvalidToken);
        }
        let scopes = holder.scope.split(' ').map(str::to_string).collect();
        Ok(ApiCaller {
            cu: CurrentUser {
                user: holder.user,
                organisation_name: holder.client.organisation_name.clone(),
                organisation_kind: holder.organisation_kind,
                csrf: String::new(),
                emergency: Default::default(),
            },
            client: holder.client,
            scopes,
        })
    }
}
