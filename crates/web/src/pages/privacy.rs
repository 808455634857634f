//! The privacy officer's work (`access::privacy_office`): the review queue of
//! break-glass uses and safeguarding overrides, each accepted or referred
//! once, and the tenant's sealed families, sealed and unsealed by id with a
//! reason. The officer sees a family's name and id here, never its case
//! content. Every list read is audited.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::sharing::{OverrideKind, ReviewStatus};
use kindred_store::StoreError;
use kindred_store::overrides::Override;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::{Layout, london_time};

/// Decided uses listed under the pending ones.
const DECIDED_SHOWN: i64 = 50;

pub struct ReviewRow {
    pub id: i64,
    pub who: String,
    pub organisation: String,
    pub family_id: i64,
    pub family_name: String,
    pub kind: &'static str,
    pub break_glass: bool,
    pub reason: String,
    pub started: String,
    pub expires: String,
    pub active: bool,
    pub pending: bool,
    pub status: &'static str,
    pub status_code: String,
    pub reviewer: String,
    pub reviewed: String,
    pub note: String,
}

fn row(o: Override, now: i64) -> ReviewRow {
    let status = o.status();
    ReviewRow {
        id: o.id,
        active: o.active(now),
        who: o.user_name.clone(),
        organisation: o.organisation_name.clone(),
        family_id: o.family_id,
        family_name: o.family_name.clone(),
        kind: o.kind().map(|k| k.label()).unwrap_or("Override"),
        break_glass: o.kind() == Some(OverrideKind::BreakGlass),
        started: london_time(o.started_at_ms, true),
        expires: london_time(o.expires_at_ms, true),
        pending: status == Some(ReviewStatus::Pending),
        status: status.map(|s| s.label()).unwrap_or("Unknown"),
        status_code: o.review_status.clone(),
        reviewer: o.reviewer_name.clone().unwrap_or_default(),
        reviewed: o.reviewed_at_ms.map(|t| london_time(t, true)).unwrap_or_default(),
        note: o.review_note.clone().unwrap_or_default(),
        reason: o.reason,
    }
}

#[derive(Template)]
#[template(path = "privacy_reviews.html")]
struct ReviewsPage {
    l: Layout,
    pending: Vec<ReviewRow>,
    decided: Vec<ReviewRow>,
}

pub async fn reviews(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_privacy_office(&cu)?;
    let now = kindred_store::now_ms();
    let rows: Vec<ReviewRow> = state
        .db
        .overrides_for_review(cu.user.tenant_id, DECIDED_SHOWN)
        .await?
        .into_iter()
        .map(|o| row(o, now))
        .collect();
    let (pending, decided): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.pending);
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::OverrideQueue,
        "web GET /privacy/reviews",
        format!("pending={} decided={}", pending.len(), decided.len()),
    )
    .await?;
    let page = ReviewsPage {
        l: Layout::new("Override reviews", &cu),
        pending,
        decided,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "privacy_review.html")]
struct ReviewPage {
    l: Layout,
    r: ReviewRow,
    errors: Errors,
    decision: String,
    note: String,
}

pub async fn review(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    gate::require_privacy_office(&cu)?;
    let o = state
        .db
        .override_in(cu.user.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Override {
            id,
            family: o.family_id,
        },
        "web GET /privacy/reviews/{id}",
        "privacy_office".into(),
    )
    .await?;
    let page = ReviewPage {
        l: Layout::new("Review an override", &cu),
        r: row(o, kindred_store::now_ms()),
        errors: Errors::default(),
        decision: String::new(),
        note: String::new(),
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    decision: String,
    note: String,
}

pub async fn decide(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /privacy/reviews/{id}";
    gate::require_privacy_office(&cu)?;
    let o = state
        .db
        .override_in(cu.user.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = Errors::default();
    let decision = match ReviewStatus::parse(&form.decision) {
        Some(s @ (ReviewStatus::Accepted | ReviewStatus::Referred)) => Some(s),
        _ => {
            errors.add(
                "decision",
                "Choose whether to accept this use or refer it for investigation",
            );
            None
        }
    };
    let note = form.note.trim();
    if decision == Some(ReviewStatus::Referred) && note.is_empty() {
        errors.add("note", "Enter a note saying why you are referring this use");
    }
    if note.chars().count() > 2_000 {
        errors.add("note", "The note must be 2,000 characters or fewer");
    }
    let Some(decision) = decision.filter(|_| errors.is_empty()) else {
        return crate::errors::invalid(ReviewPage {
            l: Layout::new("Review an override", &cu),
            r: row(o, kindred_store::now_ms()),
            errors,
            decision: form.decision.clone(),
            note: form.note.clone(),
        });
    };
    match state
        .db
        .review_override(
            cu.user.tenant_id,
            id,
            decision,
            cu.user.id,
            (!note.is_empty()).then_some(note),
            kindred_store::now_ms(),
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::Conflict(
                "This use has already been reviewed. A review cannot be changed.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Override {
            id,
            family: o.family_id,
        },
        ROUTE,
        decision.code().into(),
    )
    .await?;
    Ok(Redirect::to("/privacy/reviews").into_response())
}

// ---------- sealed families ----------

pub struct SealedRow {
    id: i64,
    name: String,
    reason: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "privacy_sealed.html")]
struct SealedPage {
    l: Layout,
    sealed: Vec<SealedRow>,
    errors: Errors,
    family_id: String,
    reason: String,
}

async fn sealed_page(
    state: &AppState,
    cu: &CurrentUser,
    errors: Errors,
    family_id: String,
    reason: String,
    route: &str,
) -> AppResult<SealedPage> {
    let sealed: Vec<SealedRow> = state
        .db
        .sealed_families(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|s| SealedRow {
            id: s.family_id,
            name: s.family_name,
            reason: s.reason.unwrap_or_default(),
            by: s.by_name.unwrap_or_default(),
            at: s.at_ms.map(|t| london_time(t, true)).unwrap_or_default(),
        })
        .collect();
    gate::audit(
        state,
        cu,
        AuditAction::Read,
        Record::SealedFamilies,
        route,
        format!("families={}", sealed.len()),
    )
    .await?;
    Ok(SealedPage {
        l: Layout::new("Sealed families", cu),
        sealed,
        errors,
        family_id,
        reason,
    })
}

pub async fn sealed(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_privacy_office(&cu)?;
    let page = sealed_page(
        &state,
        &cu,
        Errors::default(),
        String::new(),
        String::new(),
        "web GET /privacy/sealed",
    )
    .await?;
    Ok(Html(page.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SealForm {
    family_id: String,
    reason: String,
}

pub async fn seal(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<SealForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /privacy/sealed";
    gate::require_privacy_office(&cu)?;
    let mut errors = Errors::default();
    let raw = form.family_id.trim();
    let family_id = if raw.is_empty() {
        errors.add("family_id", "Enter the family's number");
        None
    } else {
        match raw.parse::<i64>() {
            Ok(n) if n > 0 => match state.db.family_name_in(cu.user.tenant_id, n).await? {
                Some(_) => Some(n),
                None => {
                    errors.add("family_id", "There is no family with that number in your council");
                    None
                }
            },
            _ => {
                errors.add("family_id", "The family's number must be a whole number, like 1234");
                None
            }
        }
    };
    let reason = form.reason.trim();
    if reason.is_empty() {
        errors.add("reason", "Enter the reason for sealing the family's record");
    } else if reason.chars().count() > 2_000 {
        errors.add("reason", "The reason must be 2,000 characters or fewer");
    }
    let Some(family_id) = family_id.filter(|_| errors.is_empty()) else {
        let page = sealed_page(&state, &cu, errors, form.family_id.clone(), form.reason.clone(), ROUTE).await?;
        return crate::errors::invalid(page);
    };
    let changed = state
        .db
        .set_family_sealed(
            cu.user.tenant_id,
            family_id,
            true,
            reason,
            cu.user.id,
            kindred_store::now_ms(),
        )
        .await?;
    if changed {
        gate::audit(
            &state,
            &cu,
            AuditAction::Update,
            Record::FamilySeal(family_id),
            ROUTE,
            "sealed".into(),
        )
        .await?;
    }
    Ok(Redirect::to("/privacy/sealed").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

pub async fn unseal(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    gate::require_privacy_office(&cu)?;
    let changed = state
        .db
        .set_family_sealed(cu.user.tenant_id, id, false, "", cu.user.id, kindred_store::now_ms())
        .await?;
    if changed {
        gate::audit(
            &state,
            &cu,
            AuditAction::Update,
            Record::FamilySeal(id),
            "web POST /privacy/sealed/{id}/unseal",
            "unsealed".into(),
        )
        .await?;
    }
    Ok(Redirect::to("/privacy/sealed").into_response())
}
