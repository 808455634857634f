//! The common early help assessment (F6): one whole-family assessment, in the
//! sections of the Assessment Framework triangle, with the views of the child
//! and the family, strengths, needs and an analysis with the recommended
//! outcome. A draft until completed; completed, it is read-only, and the next
//! one starts from it so nothing is typed twice. Read by every partner with
//! access to the family.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::development::{EARLY_HELP_SECTIONS, EarlyHelpOutcome, Section};
use kindred_domain::sharing::{DataCategory, SharingFacts};
use kindred_store::early_help::{EarlyHelpAssessment, EarlyHelpText};

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

const MAX_CHARS: usize = 20_000;

struct Row {
    id: i64,
    started: String,
    completed: String,
    by: String,
    draft: bool,
    outcome: &'static str,
    /// By another organisation, and not shared with the reader's.
    not_shared: bool,
}

/// Whether the reader may read this assessment's content: recorded by their
/// own organisation, or shared by consent, an agreement or an override.
fn readable(cu: &CurrentUser, basis: access::Basis, sharing: &SharingFacts, a: &EarlyHelpAssessment) -> bool {
    gate::readable_content(cu, basis, a.organisation_id, DataCategory::Assessments, sharing)
}

const NOT_SHARED: &str = "This early help assessment was written by another organisation, and no consent, information-sharing agreement or safeguarding override lets it pass to yours.";

#[derive(Template)]
#[template(path = "early_help_assessments.html")]
struct ListPage {
    l: Layout,
    id: i64,
    family_name: String,
    can_record: bool,
    draft: Option<i64>,
    rows: Vec<Row>,
}

fn outcome_label(code: &str) -> &'static str {
    EarlyHelpOutcome::parse(code)
        .map(|o| o.label())
        .unwrap_or("Not decided")
}

pub async fn list(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/early-help-assessments",
    )
    .await?;
    let sharing = gate::sharing_facts(&state, id).await?;
    let all = state.db.early_help_assessments_of_family(id).await?;
    let page = ListPage {
        l: Layout::new(format!("Early help assessments: {}", family.name), &cu),
        id,
        family_name: family.name,
        can_record: access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed(),
        draft: all.iter().find(|a| !a.is_completed()).map(|a| a.id),
        rows: all
            .iter()
            .map(|a| Row {
                id: a.id,
                started: dates::long(a.started_on),
                completed: a.completed_on.map(dates::long).unwrap_or_default(),
                by: format!("{}, {}", a.author_name, a.organisation_name),
                draft: !a.is_completed(),
                outcome: outcome_label(&a.text.outcome),
                not_shared: !readable(&cu, basis, &sharing, a),
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

struct SectionView {
    s: &'static Section,
    text: String,
}

#[derive(Template)]
#[template(path = "early_help_assessment.html")]
struct ShowPage {
    l: Layout,
    id: i64,
    family_name: String,
    a: EarlyHelpAssessment,
    started: String,
    completed: String,
    sections: Vec<SectionView>,
    outcome: &'static str,
    can_edit: bool,
    not_shared: bool,
}

pub async fn show(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, aid)): Ids<(i64, i64)>,
) -> AppResult<Response> {
    let (family, basis, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/early-help-assessments/{aid}",
    )
    .await?;
    let mut a = state
        .db
        .early_help_assessment(id, aid)
        .await?
        .ok_or(AppError::NotFound)?;
    let sharing = gate::sharing_facts(&state, id).await?;
    let not_shared = !readable(&cu, basis, &sharing, &a);
    if not_shared {
        // Shown to exist, never what it says.
        a.text = EarlyHelpText::default();
    }
    let page = ShowPage {
        l: Layout::new(format!("Early help assessment: {}", family.name), &cu),
        id,
        family_name: family.name,
        started: dates::long(a.started_on),
        completed: a.completed_on.map(dates::long).unwrap_or_default(),
        sections: EARLY_HELP_SECTIONS
            .iter()
            .map(|s| SectionView {
                s,
                text: a.text.section(s.code).to_string(),
            })
            .collect(),
        outcome: outcome_label(&a.text.outcome),
        can_edit: !not_shared
            && !a.is_completed()
            && access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed(),
        not_shared,
        a,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "early_help_assessment_form.html")]
struct FormPage {
    l: Layout,
    id: i64,
    family_name: String,
    /// Where the form posts.
    action: String,
    sections: Vec<SectionView>,
    outcome: String,
    outcomes: &'static [EarlyHelpOutcome],
    from_last: bool,
    errors: Errors,
}

fn form_page(
    cu: &CurrentUser,
    id: i64,
    family_name: String,
    action: String,
    t: &EarlyHelpText,
    from_last: bool,
    errors: Errors,
) -> FormPage {
    FormPage {
        l: Layout::new(
            if errors.is_empty() {
                "Early help assessment"
            } else {
                "Error: Early help assessment"
            },
            cu,
        ),
        id,
        family_name,
        action,
        sections: EARLY_HELP_SECTIONS
            .iter()
            .map(|s| SectionView {
                s,
                text: t.section(s.code).to_string(),
            })
            .collect(),
        outcome: t.outcome.clone(),
        outcomes: EarlyHelpOutcome::ALL,
        from_last,
        errors,
    }
}

/// The sections as posted, and whether the practitioner asked to complete it.
fn read_form(pairs: &[(String, String)]) -> (EarlyHelpText, bool) {
    let mut t = EarlyHelpText::default();
    let mut complete = false;
    for (k, v) in pairs {
        match k.as_str() {
            "outcome" => t.outcome = v.trim().to_string(),
            "action" => complete = v == "complete",
            code => t.set_section(code, v.trim().to_string()),
        }
    }
    (t, complete)
}

fn check(t: &EarlyHelpText, complete: bool) -> Errors {
    let mut errors = Errors::default();
    for s in EARLY_HELP_SECTIONS {
        let text = t.section(s.code);
        if text.chars().count() > MAX_CHARS {
            errors.add(s.code, format!("{} must be 20,000 characters or fewer", s.heading));
        } else if complete && text.is_empty() {
            errors.add(s.code, format!("Enter {} before completing", s.heading.to_lowercase()));
        }
    }
    if !t.outcome.is_empty() && EarlyHelpOutcome::parse(&t.outcome).is_none() {
        errors.add("outcome", "Select a recommended outcome from the list");
    } else if complete && t.outcome.is_empty() {
        errors.add("outcome", "Select the recommended outcome before completing");
    }
    errors
}

pub async fn new_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/early-help-assessments/new",
    )
    .await?;
    let all = state.db.early_help_assessments_of_family(id).await?;
    // One draft at a time: carry on with it.
    if let Some(d) = all.iter().find(|a| !a.is_completed()) {
        return Ok(Redirect::to(&format!("/families/{id}/early-help-assessments/{}/edit", d.id)).into_response());
    }
    // Start from the last one the reader may read: change what has changed.
    let sharing = gate::sharing_facts(&state, id).await?;
    let last = all.iter().find(|a| readable(&cu, basis, &sharing, a));
    let text = last.map(|a| a.text.clone()).unwrap_or_default();
    let page = form_page(
        &cu,
        id,
        family.name,
        format!("/families/{id}/early-help-assessments/new"),
        &text,
        last.is_some(),
        Errors::default(),
    );
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/early-help-assessments/new";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let (text, complete) = read_form(&pairs);
    let errors = check(&text, complete);
    if !errors.is_empty() {
        let page = form_page(
            &cu,
            id,
            family.name,
            format!("/families/{id}/early-help-assessments/new"),
            &text,
            false,
            errors,
        );
        return crate::errors::invalid(page);
    }
    let today = kindred_store::today();
    let aid = state
        .db
        .create_early_help_assessment(
            cu.user.tenant_id,
            id,
            cu.user.id,
            today,
            &text,
            complete.then_some(today),
        )
        .await?;
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::EarlyHelpAssessment { id: aid, family: id },
        route,
        if complete { "completed" } else { "draft" }.into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/early-help-assessments/{aid}")).into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, aid)): Ids<(i64, i64)>,
) -> AppResult<Response> {
    let (family, basis) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/early-help-assessments/{aid}/edit",
    )
    .await?;
    let a = state
        .db
        .early_help_assessment(id, aid)
        .await?
        .ok_or(AppError::NotFound)?;
    let sharing = gate::sharing_facts(&state, id).await?;
    if a.is_completed() || !readable(&cu, basis, &sharing, &a) {
        return Ok(Redirect::to(&format!("/families/{id}/early-help-assessments/{aid}")).into_response());
    }
    let page = form_page(
        &cu,
        id,
        family.name,
        format!("/families/{id}/early-help-assessments/{aid}/edit"),
        &a.text,
        false,
        Errors::default(),
    );
    Ok(Html(page.render()?).into_response())
}

const COMPLETED: &str = "This early help assessment is completed and can no longer be changed. Start a new one from it on the family's early help assessments page.";

pub async fn edit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, aid)): Ids<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/early-help-assessments/{aid}/edit";
    let (family, basis) = gate::family(&state, &cu, id, FamilyAction::Edit, true, route).await?;
    let a = state
        .db
        .early_help_assessment(id, aid)
        .await?
        .ok_or(AppError::NotFound)?;
    if a.is_completed() {
        return Err(AppError::Conflict(COMPLETED));
    }
    if !readable(&cu, basis, &gate::sharing_facts(&state, id).await?, &a) {
        return Err(AppError::Conflict(NOT_SHARED));
    }
    let (text, complete) = read_form(&pairs);
    let errors = check(&text, complete);
    if !errors.is_empty() {
        let page = form_page(
            &cu,
            id,
            family.name,
            format!("/families/{id}/early-help-assessments/{aid}/edit"),
            &text,
            false,
            errors,
        );
        return crate::errors::invalid(page);
    }
    let done = complete.then(|| (cu.user.id, kindred_store::today()));
    match state.db.update_early_help_assessment(aid, id, &text, done).await {
        Ok(()) => {}
        // Completed by someone else meanwhile.
        Err(kindred_store::StoreError::Conflict(_)) => return Err(AppError::Conflict(COMPLETED)),
        Err(e) => return Err(e.into()),
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::EarlyHelpAssessment { id: aid, family: id },
        route,
        if complete { "completed" } else { "draft" }.into(),
    )
    .await?;
    state.db.touch_family(id).await?;
    Ok(Redirect::to(&format!("/families/{id}/early-help-assessments/{aid}")).into_response())
}
