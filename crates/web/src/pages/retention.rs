//! Retention (issue 9): the privacy officer sets the council's rule, sees
//! the families flagged for review under it — work ended, nothing on the
//! record for the rule's years — and keeps each (to be flagged again later)
//! or erases it. Like the rest of the privacy office, these pages show a
//! family's name and number, never its case content. Every read is audited;
//! each decision is audited in its own transaction by the store.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_store::retention::{Decision, Due};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::{Layout, london_time};

/// Flagged families listed on one page.
const SHOWN: i64 = 200;
/// The longest rule, and the longest a family may be kept before it is flagged again.
const MAX_YEARS: i64 = 100;
const MAX_KEEP_YEARS: i64 = 25;

pub struct DecisionRow {
    pub family_id: i64,
    pub decision: &'static str,
    pub reason: String,
    pub detail: String,
    pub by: String,
    pub at: String,
}

fn decision_row(d: Decision) -> DecisionRow {
    let erased = d.decision == "erase";
    DecisionRow {
        family_id: d.family_id,
        decision: if erased { "Erased" } else { "Kept" },
        detail: if erased {
            format!(
                "{} {} and {} records removed",
                d.persons_erased,
                if d.persons_erased == 1 { "person" } else { "people" },
                d.rows_erased
            )
        } else {
            d.keep_until
                .map(|u| format!("Flagged again from {}", kindred_domain::dates::long(u)))
                .unwrap_or_default()
        },
        reason: d.reason,
        by: d.decided_by.unwrap_or_default(),
        at: london_time(d.decided_at_ms, true),
    }
}

#[derive(Template)]
#[template(path = "privacy_retention.html")]
struct RetentionPage {
    l: Layout,
    years: String,
    default_rule: bool,
    due: Vec<Due>,
    total: i64,
    decisions: Vec<DecisionRow>,
    errors: Errors,
}

async fn retention_page(
    state: &AppState,
    cu: &CurrentUser,
    errors: Errors,
    years: Option<String>,
    route: &str,
) -> AppResult<RetentionPage> {
    let tenant = cu.user.tenant_id;
    let rule = state.db.retention_rule(tenant).await?;
    let (due, total) = state.db.retention_due(tenant, kindred_store::today(), SHOWN).await?;
    let decisions = state
        .db
        .retention_decisions(tenant, 50)
        .await?
        .into_iter()
        .map(decision_row)
        .collect();
    gate::audit(
        state,
        cu,
        AuditAction::Read,
        Record::Retention,
        route,
        format!("flagged={total}"),
    )
    .await?;
    Ok(RetentionPage {
        l: Layout::new("Retention", cu),
        years: years.unwrap_or_else(|| rule.years.to_string()),
        default_rule: rule.updated_at_ms.is_none(),
        due,
        total,
        decisions,
        errors,
    })
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_privacy_office(&cu)?;
    let page = retention_page(&state, &cu, Errors::default(), None, "web GET /privacy/retention").await?;
    Ok(Html(page.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RuleForm {
    years: String,
}

pub async fn set_rule(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /privacy/retention";
    gate::require_privacy_office(&cu)?;
    let mut errors = Errors::default();
    let years = match form.years.trim().parse::<i64>() {
        Ok(y) if (1..=MAX_YEARS).contains(&y) => Some(y),
        Ok(_) => {
            errors.add("years", format!("Enter a number of years from 1 to {MAX_YEARS}"));
            None
        }
        Err(_) if form.years.trim().is_empty() => {
            errors.add("years", "Enter the number of years");
            None
        }
        Err(_) => {
            errors.add("years", "The number of years must be a whole number, like 6");
            None
        }
    };
    let Some(years) = years else {
        let page = retention_page(&state, &cu, errors, Some(form.years), ROUTE).await?;
        return crate::errors::invalid(page);
    };
    state
        .db
        .set_retention_rule(cu.user.tenant_id, years, Some(cu.user.id))
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Retention,
        ROUTE,
        format!("years={years}"),
    )
    .await?;
    Ok(Redirect::to("/privacy/retention").into_response())
}

#[derive(Template)]
#[template(path = "privacy_retention_review.html")]
struct ReviewPage {
    l: Layout,
    due: Due,
    years: i64,
    form: DecideForm,
    errors: Errors,
}

/// A flagged family of the officer's council, or not found.
async fn flagged(state: &AppState, cu: &CurrentUser, family_id: i64) -> AppResult<(Due, i64)> {
    let tenant = cu.user.tenant_id;
    let years = state.db.retention_rule(tenant).await?.years;
    let due = state
        .db
        .retention_flagged(tenant, family_id, kindred_store::today())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((due, years))
}

pub async fn review(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    const ROUTE: &str = "web GET /privacy/retention/{id}";
    gate::require_privacy_office(&cu)?;
    let (due, years) = flagged(&state, &cu, id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::RetentionReview(id),
        ROUTE,
        String::new(),
    )
    .await?;
    let page = ReviewPage {
        l: Layout::new("Review a family's record", &cu),
        due,
        years,
        form: DecideForm {
            keep_years: "2".into(),
            ..DecideForm::default()
        },
        errors: Errors::default(),
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    decision: String,
    keep_years: String,
    reason: String,
    confirm: String,
}

pub async fn decide(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /privacy/retention/{id}";
    gate::require_privacy_office(&cu)?;
    let (due, years) = flagged(&state, &cu, id).await?;
    let mut errors = Errors::default();
    let reason = form.reason.trim();
    if reason.is_empty() {
        errors.add("reason", "Enter the reason for your decision");
    } else if reason.chars().count() > 2_000 {
        errors.add("reason", "The reason must be 2,000 characters or fewer");
    }
    let keep_years = match form.decision.as_str() {
        "keep" => match form.keep_years.trim().parse::<i64>() {
            Ok(y) if (1..=MAX_KEEP_YEARS).contains(&y) => Some(y),
            _ => {
                errors.add(
                    "keep_years",
                    format!("Enter how many years to keep the record, from 1 to {MAX_KEEP_YEARS}"),
                );
                None
            }
        },
        "erase" => {
            if form.confirm != "yes" {
                errors.add(
                    "confirm",
                    "Confirm that you understand the family's record will be erased for good",
                );
            }
            None
        }
        _ => {
            errors.add("decision", "Select whether to keep or erase the family's record");
            None
        }
    };
    if !errors.is_empty() {
        let page = ReviewPage {
            l: Layout::new("Error: Review a family's record", &cu),
            due,
            years,
            form,
            errors,
        };
        return crate::errors::invalid(page);
    }
    let today = kindred_store::today();
    let actor = cu.actor(ROUTE);
    match keep_years {
        Some(y) => {
            let until = today
                .replace_year(today.year() + y as i32)
                .unwrap_or_else(|_| today.saturating_add(time::Duration::days(365 * y)));
            state.db.keep_family(id, until, reason, today, &actor).await?;
        }
        None => {
            state.db.erase_family(id, reason, today, &actor).await?;
        }
    }
    Ok(Redirect::to("/privacy/retention").into_response())
}
