//! Breaking the glass, and the safeguarding override.
//!
//! `/break-glass`: a worker with a case role who needs a family's record in
//! an emergency gives a family member's NHS number, the reason and their
//! password again. Each current family of that person in the worker's tenant
//! that the policy lets them break into (`access::break_glass`: never a sealed
//! one) opens for four hours (`sharing::BREAK_GLASS_MS`), to look and not to
//! change, and the use waits for the privacy officer's review. Nothing found
//! and a sealed family get the same message, so a sealed record is never
//! revealed. The reason and the NHS number are never logged or audited.
//!
//! `/families/{id}/safeguarding-override`: a worker who may change a family
//! records that its information is shared without consent for safeguarding
//! (`sharing::SAFEGUARDING_OVERRIDE_MS`); the family page shows it to everyone
//! with access, and it goes to the review queue too.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::NhsNumber;
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::model::Role;
use kindred_domain::sharing::{BREAK_GLASS_MS, OverrideKind, SAFEGUARDING_OVERRIDE_MS};
use kindred_store::overrides::NewOverride;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::{Layout, london_time};
use crate::passwords::{self, sha256_hex};

/// A reason shorter than this says too little for the privacy officer to review.
pub const MIN_REASON: usize = 20;

/// What a refusal says, whether nobody holds the NHS number, the family is
/// sealed, or the worker's role does not allow it.
pub const REFUSED: &str = "Emergency access could not be given for that NHS number. Check the number. If the person is known to another council, or their record is protected, ask your manager or the family hub for help.";

fn case_role(cu: &CurrentUser) -> bool {
    cu.user.active
        && [Role::Practitioner, Role::Manager, Role::Triage]
            .iter()
            .any(|r| cu.user.has(*r))
}

/// The reason, trimmed, or the error to show for it.
fn reason_of(raw: &str, errors: &mut Errors, what: &str) -> String {
    let reason = raw.trim().to_string();
    if reason.is_empty() {
        errors.add("reason", format!("Enter the reason {what}"));
    } else if reason.chars().count() < MIN_REASON {
        errors.add(
            "reason",
            format!("The reason must be {MIN_REASON} characters or more: say what the emergency is and why you need this record"),
        );
    } else if reason.chars().count() > 2_000 {
        errors.add("reason", "The reason must be 2,000 characters or fewer");
    }
    reason
}

// ---------- break-glass ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GlassForm {
    nhs_number: String,
    reason: String,
    password: String,
}

#[derive(Template)]
#[template(path = "break_glass.html")]
struct GlassPage {
    l: Layout,
    nhs_number: String,
    reason: String,
    errors: Errors,
    hours: i64,
    min_reason: usize,
    /// After a break-glass that opened several families: (id, name).
    opened: Vec<(i64, String)>,
    until: String,
}

fn glass_page(cu: &CurrentUser, form: &GlassForm, errors: Errors) -> GlassPage {
    GlassPage {
        l: Layout::new("Emergency access: break the glass", cu),
        nhs_number: form.nhs_number.clone(),
        reason: form.reason.clone(),
        errors,
        hours: BREAK_GLASS_MS / 3_600_000,
        min_reason: MIN_REASON,
        opened: vec![],
        until: String::new(),
    }
}

pub async fn form(cu: CurrentUser) -> AppResult<Html<String>> {
    if !case_role(&cu) {
        return Err(AppError::NotFound);
    }
    Ok(Html(
        glass_page(&cu, &GlassForm::default(), Errors::default()).render()?,
    ))
}

const ROUTE: &str = "web POST /break-glass";

pub async fn break_glass(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<GlassForm>,
) -> AppResult<Response> {
    if !case_role(&cu) {
        return Err(AppError::NotFound);
    }
    let db = &state.db;
    let mut errors = Errors::default();
    let nhs = if form.nhs_number.trim().is_empty() {
        errors.add("nhs_number", "Enter the NHS number of a member of the family");
        None
    } else {
        match NhsNumber::parse(&form.nhs_number) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.add("nhs_number", e.to_string());
                None
            }
        }
    };
    let reason = reason_of(&form.reason, &mut errors, "you need emergency access");
    if form.password.is_empty() {
        errors.add("password", "Enter your password to confirm it is you");
    } else {
        // Re-authentication: throttled and counted like a sign-in.
        let cfg = &state.config;
        let account_key = sha256_hex(&format!("account:{}", cu.user.email.trim().to_lowercase()));
        let address_key = sha256_hex(&format!("address:{}", addr.ip()));
        let since = kindred_store::now_ms() - cfg.throttle_window_ms;
        if db.login_failures_since(&account_key, since).await? >= cfg.max_failures_per_account
            || db.login_failures_since(&address_key, since).await? >= cfg.max_failures_per_address
        {
            return Err(AppError::TooManyRequests);
        }
        let stored = db.user(cu.user.id).await?.password_hash;
        let password = form.password.clone();
        let ok = passwords::off_thread(move || passwords::verify(&password, Some(&stored)))
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        if !ok {
            db.record_login_failure(&account_key).await?;
            db.record_login_failure(&address_key).await?;
            gate::audit(
                &state,
                &cu,
                AuditAction::SignInFailed,
                Record::BreakGlassAttempt,
                ROUTE,
                "break_glass reauthentication".into(),
            )
            .await?;
            errors.add("password", "The password is not correct");
        }
    }
    let (Some(nhs), true) = (nhs, errors.is_empty()) else {
        return crate::errors::invalid(glass_page(&cu, &form, errors));
    };

    let subject = cu.user.subject();
    let ids = db.current_families_of_nhs_number(cu.user.tenant_id, &nhs).await?;
    let facts = db.family_facts_many(&ids).await?;
    let mut already = vec![];
    let mut breakable = vec![];
    for id in &ids {
        let Some(f) = facts.get(id) else { continue };
        if access::family(&subject, f, FamilyAction::View).allowed() {
            already.push(*id);
        } else if access::break_glass(&subject, f) {
            breakable.push(*id);
        }
    }
    if let [only] = already[..] {
        return Ok(Redirect::to(&format!("/families/{only}")).into_response());
    }
    if already.is_empty() && breakable.is_empty() {
        gate::audit(
            &state,
            &cu,
            AuditAction::Search,
            Record::BreakGlassAttempt,
            ROUTE,
            "break_glass refused".into(),
        )
        .await?;
        let mut errors = Errors::default();
        errors.add("nhs_number", REFUSED);
        return crate::errors::invalid(glass_page(&cu, &form, errors));
    }
    let now = kindred_store::now_ms();
    let until = now + BREAK_GLASS_MS;
    let opened_ids = if already.is_empty() {
        for family_id in &breakable {
            let id = db
                .create_override(&NewOverride {
                    tenant_id: cu.user.tenant_id,
                    family_id: *family_id,
                    user_id: cu.user.id,
                    kind: OverrideKind::BreakGlass,
                    reason: &reason,
                    started_at_ms: now,
                    expires_at_ms: until,
                })
                .await?;
            gate::audit(
                &state,
                &cu,
                AuditAction::Create,
                Record::Override { id, family: *family_id },
                ROUTE,
                "break_glass".into(),
            )
            .await?;
        }
        breakable
    } else {
        already
    };
    if let [only] = opened_ids[..] {
        return Ok(Redirect::to(&format!("/families/{only}")).into_response());
    }
    let mut opened = vec![];
    for id in opened_ids {
        opened.push((id, db.family(id).await?.name));
    }
    let mut page = glass_page(&cu, &GlassForm::default(), Errors::default());
    page.opened = opened;
    page.until = london_time(until, false);
    Ok(Html(page.render()?).into_response())
}

// ---------- the safeguarding override ----------

/// An override as a family page shows it.
pub struct OverrideView {
    pub by: String,
    pub organisation: String,
    pub kind: &'static str,
    pub started: String,
    pub until: String,
    pub reason: String,
}

/// The safeguarding overrides of a family in force now, for the family page:
/// everyone with access to the family sees them.
pub async fn active_safeguarding(db: &kindred_store::Db, family_id: i64) -> AppResult<Vec<OverrideView>> {
    let now = kindred_store::now_ms();
    Ok(db
        .overrides_of_family(family_id)
        .await?
        .into_iter()
        .filter(|o| o.kind() == Some(OverrideKind::Safeguarding) && o.active(now))
        .map(|o| OverrideView {
            by: o.user_name,
            organisation: o.organisation_name,
            kind: OverrideKind::Safeguarding.label(),
            started: london_time(o.started_at_ms, true),
            until: london_time(o.expires_at_ms, true),
            reason: o.reason,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverrideForm {
    reason: String,
}

#[derive(Template)]
#[template(path = "safeguarding_override.html")]
struct OverridePage {
    l: Layout,
    id: i64,
    name: String,
    reason: String,
    errors: Errors,
    days: i64,
    min_reason: usize,
}

pub async fn override_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
) -> AppResult<Html<String>> {
    let (family, _, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/safeguarding-override",
    )
    .await?;
    if !access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed() {
        return Err(AppError::NotFound);
    }
    let page = OverridePage {
        l: Layout::new("Share without consent for safeguarding", &cu),
        id,
        name: family.name,
        reason: String::new(),
        errors: Errors::default(),
        days: SAFEGUARDING_OVERRIDE_MS / 86_400_000,
        min_reason: MIN_REASON,
    };
    Ok(Html(page.render()?))
}

pub async fn record_override(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<OverrideForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /families/{id}/safeguarding-override";
    let family = gate::change_family(&state, &cu, id, ROUTE).await?;
    let mut errors = Errors::default();
    let reason = reason_of(&form.reason, &mut errors, "for sharing without consent");
    if !errors.is_empty() {
        return crate::errors::invalid(OverridePage {
            l: Layout::new("Share without consent for safeguarding", &cu),
            id,
            name: family.name,
            reason: form.reason,
            errors,
            days: SAFEGUARDING_OVERRIDE_MS / 86_400_000,
            min_reason: MIN_REASON,
        });
    }
    let now = kindred_store::now_ms();
    let override_id = state
        .db
        .create_override(&NewOverride {
            tenant_id: family.tenant_id,
            family_id: id,
            user_id: cu.user.id,
            kind: OverrideKind::Safeguarding,
            reason: &reason,
            started_at_ms: now,
            expires_at_ms: now + SAFEGUARDING_OVERRIDE_MS,
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::Override {
            id: override_id,
            family: id,
        },
        ROUTE,
        "safeguarding".into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}#sharing-without-consent")).into_response())
}
