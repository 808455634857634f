//! Early identification (F20): `/early-identification` lists the families
//! whose partners' facts add up (`kindred_domain::early_identification`),
//! each with exactly the facts and sources that put it there and the rule in
//! words — no score. `POST /early-identification/decisions` records "offer
//! made" or "not appropriate".
//!
//! Who may look is `access::early_identification` (triage officers,
//! managers, early help and family hub practitioners whose organisation is a
//! party to an agreement for early identification); anyone else gets the
//! not-found page. The list is computed for each viewer from only the facts
//! that may reach their organisation (`early_identification::fact_shared`),
//! and every family shown is audited as a read with the basis
//! `early_identification`, so it appears in the family's "who viewed".

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access;
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::early_identification::{self as ei, Decision, Listed, Standing, Thresholds};
use kindred_domain::model::MemberRole;
use kindred_domain::sharing::{AgreementFact, SharingBasis};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::forms::Errors;
use crate::layout::Layout;

/// Reasons longer than this are refused.
const MAX_REASON: usize = 1000;
const ROUTE: &str = "web GET /early-identification";

pub struct FactView {
    pub about: String,
    pub what: &'static str,
    pub value: String,
    pub on: String,
    pub organisation: String,
    pub source: String,
    /// Why the viewer may see it: their own organisation's, or the agreement's title.
    pub shared: String,
}

pub struct MemberView {
    pub name: String,
    pub role: &'static str,
    pub born: String,
}

pub struct FamilyView {
    pub family_id: i64,
    pub name: String,
    /// The viewer may open the family record.
    pub can_open: bool,
    pub members: Vec<MemberView>,
    pub services: Vec<&'static str>,
    pub facts: Vec<FactView>,
    /// For a decided family: what, when, who, why.
    pub decided: Option<(String, String, String, String)>,
    /// The ids of its decision form's fields, and what was sent when it came back with errors.
    pub decision_field: String,
    pub reason_field: String,
    pub form_decision: String,
    pub form_reason: String,
}

#[derive(Template)]
#[template(path = "early_identification.html")]
struct ListPage {
    l: Layout,
    rule: &'static str,
    /// (signal, is a signal when, the service acts alone when)
    thresholds: Vec<(&'static str, String, String)>,
    open: Vec<FamilyView>,
    decided: Vec<FamilyView>,
    decisions: &'static [Decision],
    errors: Errors,
    recorded: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub family_id: String,
    pub decision: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Shown {
    recorded: Option<String>,
}

/// The viewer's listed families, after the gate; `NotFound` for anyone the
/// policy does not let look.
async fn listed(state: &AppState, cu: &CurrentUser) -> AppResult<(Vec<Listed>, Vec<AgreementFact>, Gathered)> {
    let today = kindred_store::today();
    let (agreements, _) = state.db.agreements_touching(cu.user.tenant_id).await?;
    let subject = cu.user.subject();
    if !access::early_identification(&subject, cu.organisation_kind, &agreements, today) {
        return Err(AppError::NotFound);
    }
    let t = Thresholds::default();
    let gathered = state
        .db
        .early_identification_facts(cu.user.tenant_id, today - time::Duration::days(t.lookback_days))
        .await?;
    let org = cu.user.organisation_id;
    let listed = gathered
        .families
        .iter()
        .filter_map(|f| ei::identify(f, |x| ei::fact_shared(org, x, &agreements, today).is_some(), &t, today).ok())
        .collect();
    Ok((listed, agreements, gathered))
}

type Gathered = kindred_store::early_identification::Gathered;

async fn render(
    state: &AppState,
    cu: &CurrentUser,
    errors: Errors,
    form: DecisionForm,
    recorded: bool,
) -> AppResult<(String, usize)> {
    let today = kindred_store::today();
    let (listed, agreements, gathered) = listed(state, cu).await?;
    let ids: Vec<i64> = listed.iter().map(|l| l.family_id).collect();
    let openable: BTreeSet<i64> = gate::filter_visible(state, cu, &ids).await?.into_iter().collect();
    let mut open = vec![];
    let mut decided = vec![];
    for l in &listed {
        let members = state.db.members(l.family_id).await?;
        let current: Vec<_> = members.iter().filter(|m| m.left_on.is_none()).collect();
        let name_of = |id: Option<i64>| match id {
            None => "The family".to_string(),
            Some(id) => current
                .iter()
                .find(|m| m.person.id == id)
                .map(|m| m.person.full_name())
                .unwrap_or_else(|| "A member".into()),
        };
        let facts = l
            .facts
            .iter()
            .map(|f| FactView {
                about: name_of(f.person_id),
                what: f.kind.label(),
                value: f.value_words(),
                on: dates::long(f.on),
                organisation: gathered
                    .organisations
                    .get(&f.organisation_id)
                    .cloned()
                    .unwrap_or_default(),
                source: f.source.clone(),
                shared: match ei::fact_shared(cu.user.organisation_id, f, &agreements, today) {
                    Some(SharingBasis::Agreement(id)) => format!(
                        "Under the agreement \u{201c}{}\u{201d}",
                        agreements
                            .iter()
                            .find(|a| a.id == id)
                            .map(|a| a.title.as_str())
                            .unwrap_or("")
                    ),
                    _ => "Your organisation's own".into(),
                },
            })
            .collect();
        let view = FamilyView {
            family_id: l.family_id,
            name: gathered.names.get(&l.family_id).cloned().unwrap_or_default(),
            can_open: openable.contains(&l.family_id),
            members: current
                .iter()
                .map(|m| MemberView {
                    name: m.person.full_name(),
                    role: m.role.label(),
                    born: match (m.person.date_of_birth, m.role) {
                        (Some(d), _) => format!("age {}", dates::age_in_years(d, today)),
                        (None, MemberRole::Unborn) => "unborn".into(),
                        _ => String::new(),
                    },
                })
                .collect(),
            services: l.services.iter().map(|s| s.label()).collect(),
            facts,
            decision_field: format!("decision-{}", l.family_id),
            reason_field: format!("reason-{}", l.family_id),
            form_decision: if form.family_id == l.family_id.to_string() {
                form.decision.clone()
            } else {
                String::new()
            },
            form_reason: if form.family_id == l.family_id.to_string() {
                form.reason.clone()
            } else {
                String::new()
            },
            decided: match &l.standing {
                Standing::Open => None,
                Standing::Decided(d) => gathered.decisions.get(&l.family_id).map(|row| {
                    (
                        d.decision.label().to_string(),
                        crate::layout::london_time(d.at_ms, true),
                        row.decided_by_name.clone(),
                        row.reason.clone(),
                    )
                }),
            },
        };
        if view.decided.is_some() {
            decided.push(view);
        } else {
            open.push(view);
        }
    }
    // Every family shown is a read of that family, with its basis.
    for id in &ids {
        gate::audit(
            state,
            cu,
            AuditAction::Read,
            Record::Family(*id),
            ROUTE,
            "early_identification".into(),
        )
        .await?;
    }
    gate::audit(
        state,
        cu,
        AuditAction::Read,
        Record::EarlyIdentificationList,
        ROUTE,
        format!("open={} decided={}", open.len(), decided.len()),
    )
    .await?;
    let page = ListPage {
        l: Layout::new("Early identification", cu),
        rule: ei::RULE,
        thresholds: Thresholds::default().describe(),
        open,
        decided,
        decisions: Decision::ALL,
        errors,
        recorded,
    };
    Ok((page.render()?, ids.len()))
}

/// GET /early-identification
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(shown): axum::extract::Query<Shown>,
) -> AppResult<Html<String>> {
    let (html, _) = render(
        &state,
        &cu,
        Errors::default(),
        DecisionForm::default(),
        shown.recorded.is_some(),
    )
    .await?;
    Ok(Html(html))
}

/// POST /early-identification/decisions: "offer made", or "not appropriate"
/// with a reason, about a family on the viewer's own list.
pub async fn decide(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> AppResult<Response> {
    let (listed, _, _) = listed(&state, &cu).await?;
    let family_id = form.family_id.trim().parse::<i64>().ok();
    // Only a family the viewer's own list shows: anything else does not exist for them.
    let Some(family_id) = family_id.filter(|id| listed.iter().any(|l| l.family_id == *id)) else {
        return Err(AppError::NotFound);
    };
    let mut errors = Errors::default();
    let decision = Decision::parse(&form.decision);
    let reason = form.reason.trim().to_string();
    let field = |name: &str| format!("{name}-{family_id}");
    match decision {
        None => errors.add(
            field("decision"),
            "Select whether an offer was made or it is not appropriate",
        ),
        Some(Decision::NotAppropriate) if reason.is_empty() => {
            errors.add(field("reason"), "Enter why an offer of early help is not appropriate")
        }
        _ => {}
    }
    if reason.chars().count() > MAX_REASON {
        errors.add(
            field("reason"),
            format!("The reason must be {MAX_REASON} characters or fewer"),
        );
    }
    let Some(decision) = decision.filter(|_| errors.is_empty()) else {
        let (html, _) = render(&state, &cu, errors, form, false).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    };
    let id = state
        .db
        .record_early_identification_decision(cu.user.tenant_id, family_id, decision, &reason, cu.user.id)
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::EarlyIdentificationDecision { id, family: family_id },
        "web POST /early-identification/decisions",
        format!("decision={} early_identification", decision.code()),
    )
    .await?;
    Ok(Redirect::to("/early-identification?recorded=1").into_response())
}
