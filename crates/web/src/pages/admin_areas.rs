//! A local authority's areas for the family-led assessment: administrators
//! reword Kindred's ten defaults, stop asking some, and add their own. Scores
//! already recorded keep their area, so history still reads.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::assessment::{self, MAX_QUESTION, TenantArea};
use kindred_domain::audit::AuditAction;

use super::admin::SavedQuery;
use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::AppResult;
use crate::forms::{Errors, field, ticked};
use crate::layout::Layout;

const ROUTE: &str = "web POST /admin/assessment-areas";

#[derive(Template)]
#[template(path = "admin_assessment_areas.html")]
struct AreasPage {
    l: Layout,
    areas: Vec<TenantArea>,
    new_question: String,
    errors: Errors,
    saved: bool,
}

pub async fn show(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let page = AreasPage {
        l: Layout::new("Assessment areas", &cu),
        areas: super::assessments::tenant_areas(&state, cu.user.tenant_id).await?,
        new_question: String::new(),
        errors: Errors::default(),
        saved: q.saved.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn save(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let current = super::assessments::tenant_areas(&state, cu.user.tenant_id).await?;
    let mut errors = Errors::default();
    // Every area the tenant has, as posted; an area the form did not send is kept as it was.
    let mut areas: Vec<TenantArea> = current
        .iter()
        .map(|a| {
            let key = format!("question-{}", a.code);
            if !pairs.iter().any(|(k, _)| *k == key) {
                return a.clone();
            }
            let question = field(&pairs, &key);
            if question.is_empty() {
                errors.add(
                    key.clone(),
                    format!(
                        "Enter the question for the area that was \u{201c}{}\u{201d}",
                        a.question
                    ),
                );
            } else if question.chars().count() > MAX_QUESTION {
                errors.add(
                    key.clone(),
                    format!("A question must be {MAX_QUESTION} characters or fewer"),
                );
            }
            TenantArea {
                code: a.code.clone(),
                question,
                asked: ticked(&pairs, &format!("asked-{}", a.code)),
            }
        })
        .collect();
    let new_question = field(&pairs, "new_question");
    if new_question.chars().count() > MAX_QUESTION {
        errors.add(
            "new_question",
            format!("A question must be {MAX_QUESTION} characters or fewer"),
        );
    } else if !new_question.is_empty() {
        let code = assessment::next_own_code(&areas);
        areas.push(TenantArea {
            code,
            question: new_question.clone(),
            asked: true,
        });
    }
    if errors.is_empty() && !areas.iter().any(|a| a.asked) {
        errors.add("areas", "Ask at least one area");
    }
    if !errors.is_empty() {
        return crate::errors::invalid(AreasPage {
            l: Layout::new("Error: Assessment areas", &cu),
            areas,
            new_question,
            errors,
            saved: false,
        });
    }
    state.db.save_assessment_areas(cu.user.tenant_id, &areas).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::AssessmentAreas,
        ROUTE,
        format!("areas={}", areas.len()),
    )
    .await?;
    Ok(Redirect::to("/admin/assessment-areas?saved=1").into_response())
}
