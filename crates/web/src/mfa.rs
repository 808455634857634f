//! The second factor (issue 9): TOTP enrolment with a QR code, the code page
//! an MFA-pending session must pass, single-use recovery codes, and each
//! user's status page.
//!
//! Codes are RFC 6238 ([`kindred_domain::totp`]). A wrong code counts in the
//! sign-in throttle under the same account and address keys as a wrong
//! password. Enrolments, codes refused and accepted, and recovery codes used
//! are audited as record kind `mfa`; no secret or code is ever logged or
//! audited. A given factor turns the pending session into a full one under a
//! new token.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::totp;
use kindred_store::mfa::MfaEnrolment;
use kindred_store::users::User;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, CurrentUser, PendingMfa};
use crate::errors::{AppError, AppResult};
use crate::forms::Errors;
use crate::layout::Layout;
use crate::passwords::{CODE_ALPHABET, random_token, sha256_hex};

/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A new recovery code, as `abcd-efgh-jkmn` (about 59 bits).
pub fn recovery_code() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let c: String = (0..12)
        .map(|_| (CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).to_ascii_lowercase())
        .collect();
    format!("{}-{}-{}", &c[..4], &c[4..8], &c[8..])
}

/// What is stored of a recovery code: the SHA-256 of its letters and digits,
/// whatever the case, spaces and dashes it was typed with.
pub fn recovery_code_hash(code: &str) -> String {
    let clean: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    sha256_hex(&format!("mfa-recovery:{clean}"))
}

/// A new random TOTP secret, in base32.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut b = [0u8; totp::SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut b);
    totp::encode_secret(&b)
}

fn unix_seconds() -> u64 {
    u64::try_from(kindred_store::now_ms() / 1000).unwrap_or(0)
}

/// The QR code of an `otpauth://` URI, as an SVG data URI for an `<img>`
/// (the CSP allows `data:` images; no script is involved).
fn qr_data_uri(uri: &str) -> AppResult<String> {
    use base64::Engine;
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// Who is at the MFA pages: a pending session, or a signed-in user looking
/// at (or setting up) their own second factor.
struct Who {
    user: User,
    organisation_name: String,
    organisation_kind: Option<kindred_domain::model::OrgKind>,
    csrf: String,
    /// The factor is still owed: the session is MFA-pending.
    pending: bool,
    /// The SHA-256 of this session's token.
    session_hash: String,
}

impl Who {
    fn from(state: &AppState, jar: &CookieJar, cu: Option<CurrentUser>, pending: Option<PendingMfa>) -> Option<Who> {
        match (cu, pending) {
            (Some(cu), _) => Some(Who {
                session_hash: jar
                    .get(crate::auth::session_cookie(&state.config))
                    .map(|c| sha256_hex(c.value()))?,
                user: cu.user,
                organisation_name: cu.organisation_name,
                organisation_kind: cu.organisation_kind,
                csrf: cu.csrf,
                pending: false,
            }),
            (None, Some(p)) => Some(Who {
                user: p.user,
                organisation_name: p.organisation_name,
                organisation_kind: p.organisation_kind,
                csrf: p.csrf,
                pending: true,
                session_hash: p.token_hash,
            }),
            (None, None) => None,
        }
    }

    fn layout(&self, title: &str) -> Layout {
        if self.pending {
            Layout::pending(
                title,
                &PendingMfa {
                    user: self.user.clone(),
                    organisation_name: self.organisation_name.clone(),
                    organisation_kind: self.organisation_kind,
                    csrf: self.csrf.clone(),
                    token_hash: self.session_hash.clone(),
                },
            )
        } else {
            Layout::new(title, &self.current(self.csrf.clone()))
        }
    }

    fn current(&self, csrf: String) -> CurrentUser {
        CurrentUser {
            user: self.user.clone(),
            organisation_name: self.organisation_name.clone(),
            organisation_kind: self.organisation_kind,
            csrf,
            emergency: Default::default(),
        }
    }

    async fn audit(&self, state: &AppState, action: AuditAction, route: &str, detail: &str) -> AppResult<()> {
        state
            .db
            .audit(NewEvent {
                tenant_id: Some(self.user.tenant_id),
                actor_user_id: Some(self.user.id),
                action,
                record_kind: "mfa",
                record_id: Some(self.user.id),
                family_id: None,
                route: route.into(),
                detail: detail.into(),
            })
            .await?;
        Ok(())
    }
}

#[derive(Template)]
#[template(path = "mfa_code.html")]
struct CodePage {
    l: Layout,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "mfa_enrol.html")]
struct EnrolPage {
    l: Layout,
    grouped_secret: String,
    uri: String,
    qr: String,
    required: bool,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "mfa_recovery_codes.html")]
struct RecoveryCodesPage {
    l: Layout,
    codes: Vec<String>,
}

#[derive(Template)]
#[template(path = "mfa_status.html")]
struct StatusPage {
    l: Layout,
    enrolled_on: Option<String>,
    codes_left: i64,
    required: bool,
}

fn required_for(state: &AppState, user: &User) -> bool {
    state.config.mfa == crate::Mfa::Required && kindred_domain::access::mfa_required(&user.subject())
}

/// `GET /mfa`: the code page for a pending session (or enrolment, if the
/// user has none yet); for a signed-in user, the status of their own second factor.
pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    cu: Option<CurrentUser>,
    pending: Option<PendingMfa>,
) -> AppResult<Response> {
    let Some(who) = Who::from(&state, &jar, cu, pending) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let enrolment = state.db.mfa_enrolment(who.user.id).await?;
    let enrolled = enrolment.as_ref().is_some_and(MfaEnrolment::enrolled);
    if who.pending {
        if !enrolled {
            return Ok(Redirect::to("/mfa/enrol").into_response());
        }
        let page = CodePage {
            l: who.layout("Enter the code from your authenticator app"),
            error: None,
        };
        return Ok(Html(page.render()?).into_response());
    }
    let page = StatusPage {
        l: who.layout("Two-step verification"),
        enrolled_on: enrolment
            .as_ref()
            .and_then(|e| e.enrolled_at_ms)
            .map(crate::pages::when),
        codes_left: if enrolled {
            state.db.mfa_recovery_codes_left(who.user.id).await?
        } else {
            0
        },
        required: required_for(&state, &who.user),
    };
    Ok(Html(page.render()?).into_response())
}

async fn enrol_page(state: &AppState, who: &Who, e: &MfaEnrolment, errors: Errors) -> AppResult<EnrolPage> {
    let uri = totp::otpauth_uri(&who.user.email, &e.secret);
    Ok(EnrolPage {
        l: who.layout(if errors.is_empty() {
            "Set up two-step verification"
        } else {
            "Error: Set up two-step verification"
        }),
        grouped_secret: totp::grouped(&e.secret),
        qr: qr_data_uri(&uri)?,
        uri,
        required: required_for(state, &who.user),
        errors,
    })
}

/// `GET /mfa/enrol`: the secret (grouped, as a URI and as a QR code) for a
/// user with no enrolment: the same one to the same session until it is
/// confirmed, a new one for any other session.
pub async fn enrol_form(
    State(state): State<AppState>,
    jar: CookieJar,
    cu: Option<CurrentUser>,
    pending: Option<PendingMfa>,
) -> AppResult<Response> {
    let Some(who) = Who::from(&state, &jar, cu, pending) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let e = state
        .db
        .begin_mfa_enrolment(who.user.id, &new_secret(), &who.session_hash)
        .await?;
    if e.enrolled() {
        return Ok(Redirect::to("/mfa").into_response());
    }
    Ok(Html(enrol_page(&state, &who, &e, Errors::default()).await?.render()?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// Counts a refused code against the account and the address, and audits it.
async fn refused(state: &AppState, who: &Who, addr: &SocketAddr, route: &str, detail: &str) -> AppResult<()> {
    let (account_key, address_key) = crate::auth::throttle_keys(&who.user.email, addr);
    state.db.record_login_failure(&account_key).await?;
    state.db.record_login_failure(&address_key).await?;
    who.audit(state, AuditAction::SignInFailed, route, detail).await
}

/// The factor was given: the pending session becomes a full one under a new
/// token (the old cookie is worthless from now), and the account's sign-in
/// failures are cleared. Returns the new CSRF token with the cookie jar.
async fn complete(
    state: &AppState,
    who: &Who,
    jar: CookieJar,
    addr: &SocketAddr,
) -> AppResult<(CookieJar, Option<String>)> {
    let (account_key, _) = crate::auth::throttle_keys(&who.user.email, addr);
    state.db.clear_login_failures(&account_key).await?;
    if !who.pending {
        return Ok((jar, None));
    }
    let token = random_token();
    let csrf = random_token();
    if !state
        .db
        .complete_session_mfa(&who.session_hash, &sha256_hex(&token), &csrf)
        .await?
    {
        return Err(AppError::SignInRequired);
    }
    let cfg = &state.config;
    let jar = jar.add(crate::auth::cookie(cfg, crate::auth::session_cookie(cfg), token));
    Ok((jar, Some(csrf)))
}

/// `POST /mfa/enrol`: the first code from the app confirms the enrolment;
/// the recovery codes are shown once.
pub async fn enrol(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    cu: Option<CurrentUser>,
    pending: Option<PendingMfa>,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /mfa/enrol";
    let Some(who) = Who::from(&state, &jar, cu, pending) else {
        return Err(AppError::SignInRequired);
    };
    let (account_key, address_key) = crate::auth::throttle_keys(&who.user.email, &addr);
    if crate::auth::throttled(&state, &account_key, &address_key).await? {
        return Err(AppError::TooManyRequests);
    }
    let Some(e) = state.db.mfa_enrolment(who.user.id).await?.filter(|e| !e.enrolled()) else {
        return Ok(Redirect::to("/mfa").into_response());
    };
    if e.session_hash != who.session_hash {
        // Another session has been shown a secret since: start again.
        return Ok(Redirect::to("/mfa/enrol").into_response());
    }
    let step = totp::decode_secret(&e.secret).and_then(|key| totp::verify(&key, &f.code, unix_seconds(), None));
    let Some(step) = step else {
        let mut errors = Errors::default();
        if f.code.trim().is_empty() {
            errors.add("code", "Enter the 6-digit code from your authenticator app");
        } else {
            refused(&state, &who, &addr, ROUTE, "enrolment code refused").await?;
            errors.add(
                "code",
                "The code is not correct. Enter the 6-digit code your authenticator app shows now",
            );
        }
        return crate::errors::invalid(enrol_page(&state, &who, &e, errors).await?);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_code_hash(c)).collect();
    if !state
        .db
        .confirm_mfa_enrolment(who.user.id, &e.secret, &who.session_hash, step as i64, &hashes)
        .await?
    {
        return Ok(Redirect::to("/mfa").into_response());
    }
    who.audit(&state, AuditAction::Create, ROUTE, "enrolled").await?;
    let (jar, new_csrf) = complete(&state, &who, jar, &addr).await?;
    if new_csrf.is_some() {
        who.audit(&state, AuditAction::SignIn, ROUTE, "second factor: authenticator app")
            .await?;
    }
    let csrf = new_csrf.unwrap_or_else(|| who.csrf.clone());
    let page = RecoveryCodesPage {
        l: Layout::new("Save your recovery codes", &who.current(csrf)),
        codes,
    };
    Ok((jar, Html(page.render()?)).into_response())
}

/// `POST /mfa`: a pending session gives a code from the app, or a recovery code.
pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    cu: Option<CurrentUser>,
    pending: Option<PendingMfa>,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /mfa";
    let Some(who) = Who::from(&state, &jar, cu, pending) else {
        return Err(AppError::SignInRequired);
    };
    if !who.pending {
        return Ok(Redirect::to("/").into_response());
    }
    let (account_key, address_key) = crate::auth::throttle_keys(&who.user.email, &addr);
    if crate::auth::throttled(&state, &account_key, &address_key).await? {
        return Err(AppError::TooManyRequests);
    }
    let Some(e) = state
        .db
        .mfa_enrolment(who.user.id)
        .await?
        .filter(MfaEnrolment::enrolled)
    else {
        return Ok(Redirect::to("/mfa/enrol").into_response());
    };
    let code = f.code.trim();
    let retry = |error: &'static str| -> AppResult<Response> {
        crate::errors::invalid(CodePage {
            l: who.layout("Error: Enter the code from your authenticator app"),
            error: Some(error),
        })
    };
    if code.is_empty() {
        return retry("Enter the 6-digit code from your authenticator app");
    }
    let how = if totp::parse_code(code).is_some() {
        let last = e.last_step.and_then(|s| u64::try_from(s).ok());
        let step = totp::decode_secret(&e.secret).and_then(|key| totp::verify(&key, code, unix_seconds(), last));
        let accepted = match step {
            Some(step) => state.db.accept_mfa_step(who.user.id, step as i64).await?,
            None => false,
        };
        accepted.then_some("authenticator app")
    } else if state
        .db
        .use_mfa_recovery_code(who.user.id, &recovery_code_hash(code))
        .await?
    {
        Some("recovery code")
    } else {
        None
    };
    let Some(how) = how else {
        refused(&state, &who, &addr, ROUTE, "code refused").await?;
        return retry(
            "The code is not correct or has already been used. Enter the code your authenticator app shows now, or a recovery code",
        );
    };
    if how == "recovery code" {
        let left = state.db.mfa_recovery_codes_left(who.user.id).await?;
        who.audit(
            &state,
            AuditAction::Update,
            ROUTE,
            &format!("recovery code used; {left} left"),
        )
        .await?;
    }
    let (jar, _) = complete(&state, &who, jar, &addr).await?;
    who.audit(&state, AuditAction::SignIn, ROUTE, &format!("second factor: {how}"))
        .await?;
    Ok((jar, Redirect::to("/")).into_response())
}
