//! The outcomes framework (F15): a family's needs and outcomes
//! (`/families/{id}/outcomes`) — its needs register by headline outcome with
//! the tenant's descriptors, each need's result and evidence, the checks six
//! months after closure that achieved outcomes held, and the soft outcomes:
//! distance travelled on the family-led assessment's scores, drawn as SVG with
//! the same figures in a table. `/admin/outcomes` is where administrators
//! edit their framework. The rules are `kindred_domain::outcomes`'s.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, Basis, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::episode::Status;
use kindred_domain::outcomes::{
    self, FrameworkOutcome, MAX_TEXT, NeedResult, ResultAnswer, Sustained, evidence_field, result_field,
};
use kindred_domain::referral::NEEDS;
use kindred_domain::sharing::DataCategory;
use kindred_domain::task;
use kindred_store::StoreError;
use kindred_store::families::Family;
use kindred_store::outcomes::{FamilyNeed, NewNeed};

use super::admin::SavedQuery;
use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, field, ticked};
use crate::layout::Layout;

/// The tenant's framework: Kindred's ten as the tenant words them, and its own.
pub(crate) async fn tenant_framework(state: &AppState, tenant_id: i64) -> AppResult<Vec<FrameworkOutcome>> {
    Ok(outcomes::tenant_framework(
        &state.db.outcome_framework(tenant_id).await?,
    ))
}

/// Adds the domain's field errors to a form's.
pub(crate) fn add_errors(errors: &mut Errors, found: Vec<outcomes::FieldError>) {
    for e in found {
        errors.add(e.field, e.message);
    }
}

/// A need as the register shows it.
pub struct NeedView {
    pub id: i64,
    pub description: String,
    /// "Whole family", or the member's name.
    pub person: String,
    pub identified: String,
    pub identified_by: String,
    pub episode_id: Option<i64>,
    pub open: bool,
    pub result: &'static str,
    pub result_code: &'static str,
    pub evidence: String,
    pub result_on: String,
    pub result_by: String,
    pub sustained: &'static str,
    pub sustained_evidence: String,
    pub sustained_on: String,
    /// What the result form sent back, when it came back with errors.
    pub answer_result: String,
    pub answer_evidence: String,
}

impl NeedView {
    pub fn of(n: &FamilyNeed) -> NeedView {
        let result = n.result.as_deref().and_then(NeedResult::parse);
        NeedView {
            id: n.id,
            description: n.description.clone(),
            person: n.person_name.clone().unwrap_or_else(|| "Whole family".into()),
            identified: dates::long(n.identified_on),
            identified_by: n.identified_by_name.clone().unwrap_or_default(),
            episode_id: n.episode_id,
            open: result.is_none(),
            result: result.map(|r| r.label()).unwrap_or(""),
            result_code: result.map(|r| r.code()).unwrap_or(""),
            evidence: n.evidence.clone().unwrap_or_default(),
            result_on: super::opt_date(n.result_on),
            result_by: n.result_by_name.clone().unwrap_or_default(),
            sustained: n.sustained.map(|s| Sustained::from_bool(s).label()).unwrap_or(""),
            sustained_evidence: n.sustained_evidence.clone().unwrap_or_default(),
            sustained_on: super::opt_date(n.sustained_on),
            answer_result: String::new(),
            answer_evidence: String::new(),
        }
    }
}

/// One headline outcome of the register, with its descriptors and needs.
struct OutcomeGroup {
    title: String,
    need: String,
    achieved: String,
    retired: bool,
    needs: Vec<NeedView>,
    /// The family's own scores on the matching assessment area, first → latest.
    soft: String,
}

/// One area's bars on the distance-travelled chart.
struct ChartRow {
    question: String,
    first: u8,
    first_on: String,
    latest: u8,
    latest_on: String,
    change: String,
    y: u32,
    first_w: u32,
    latest_w: u32,
}

/// A closed episode whose achieved outcomes wait for their six-month check.
struct CheckView {
    episode_id: i64,
    closed: String,
    due: String,
    due_now: bool,
    needs: usize,
}

/// The add-a-need form's answers.
#[derive(Default)]
struct AddForm {
    outcome: String,
    person: String,
    need_code: String,
    description: String,
}

#[derive(Template)]
#[template(path = "outcomes.html")]
struct OutcomesPage {
    l: Layout,
    id: i64,
    family_name: String,
    can_edit: bool,
    groups: Vec<OutcomeGroup>,
    open: usize,
    achieved: usize,
    progress: usize,
    not_achieved: usize,
    offered: Vec<(String, String)>,
    members: Vec<(i64, String)>,
    needs_list: Vec<(&'static str, &'static str)>,
    form: AddForm,
    errors: Errors,
    results: &'static [NeedResult],
    chart: Vec<ChartRow>,
    chart_height: u32,
    up: usize,
    same: usize,
    down: usize,
    checks: Vec<CheckView>,
}

const ROW: u32 = 34;
/// Pixels per point of score on the chart.
const UNIT: u32 = 28;

/// Current members of the family: (person id, name).
async fn current_members(state: &AppState, family_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(state
        .db
        .members(family_id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| (m.person.id, m.person.full_name()))
        .collect())
}

/// What the page shows when it comes back with errors.
#[derive(Default)]
struct Again {
    form: AddForm,
    errors: Errors,
    /// (need id, result code, evidence) as a result form sent them.
    answer: Option<(i64, String, String)>,
}

async fn render(
    state: &AppState,
    cu: &CurrentUser,
    family: Family,
    basis: Basis,
    can_edit: bool,
    again: Again,
) -> AppResult<Response> {
    let id = family.id;
    let framework = tenant_framework(state, cu.user.tenant_id).await?;
    let needs = state.db.family_needs(id).await?;
    // Soft outcomes: distance travelled between the assessments the reader may read.
    let sharing = gate::sharing_facts(state, id).await?;
    let assessed: Vec<(time::Date, Vec<(String, u8)>)> = state
        .db
        .assessments_of_family(id)
        .await?
        .into_iter()
        .filter(|a| gate::readable_content(cu, basis, a.organisation_id, DataCategory::Assessments, &sharing))
        .map(|a| (a.assessed_on, a.scores.into_iter().map(|s| (s.0, s.1)).collect()))
        .collect();
    let distances = outcomes::distance_travelled(&assessed);
    let areas = super::assessments::tenant_areas(state, cu.user.tenant_id).await?;
    let mut chart = vec![];
    for d in &distances {
        let y = chart.len() as u32 * ROW;
        let change = d.change();
        chart.push(ChartRow {
            question: super::assessments::question(&areas, &d.area),
            first: d.first,
            first_on: dates::long(d.first_on),
            latest: d.latest,
            latest_on: dates::long(d.latest_on),
            change: if change > 0 {
                format!("+{change}")
            } else {
                change.to_string()
            },
            y,
            first_w: u32::from(d.first) * UNIT,
            latest_w: u32::from(d.latest) * UNIT,
        });
    }
    let (up, same, down) = outcomes::movement(&distances);
    // The register by outcome, in the framework's order; an outcome shows when it has needs.
    let mut groups = vec![];
    let mut codes: Vec<&str> = framework.iter().map(|o| o.code.as_str()).collect();
    for n in &needs {
        if !codes.contains(&n.outcome_code.as_str()) {
            codes.push(n.outcome_code.as_str());
        }
    }
    for code in codes {
        let mine: Vec<&FamilyNeed> = needs.iter().filter(|n| n.outcome_code == code).collect();
        if mine.is_empty() {
            continue;
        }
        let o = framework.iter().find(|o| o.code == code);
        let soft = distances
            .iter()
            .find(|d| d.area == code)
            .map(|d| {
                format!(
                    "{} on {} \u{2192} {} on {}",
                    d.first,
                    dates::long(d.first_on),
                    d.latest,
                    dates::long(d.latest_on)
                )
            })
            .unwrap_or_default();
        groups.push(OutcomeGroup {
            title: outcomes::title(&framework, code).to_string(),
            need: o.map(|o| o.need.clone()).unwrap_or_default(),
            achieved: o.map(|o| o.achieved.clone()).unwrap_or_default(),
            retired: o.is_none_or(|o| !o.offered),
            needs: mine
                .into_iter()
                .map(|n| {
                    let mut v = NeedView::of(n);
                    if let Some((nid, r, e)) = &again.answer
                        && *nid == n.id
                    {
                        v.answer_result = r.clone();
                        v.answer_evidence = e.clone();
                    }
                    v
                })
                .collect(),
            soft,
        });
    }
    let count = |r: Option<NeedResult>| {
        needs
            .iter()
            .filter(|n| n.result.as_deref().and_then(NeedResult::parse) == r)
            .count()
    };
    // Sustainment checks: closed episodes with achieved needs not yet checked.
    let today = kindred_store::today();
    let mut checks = vec![];
    for e in state.db.episodes_of_family(id).await? {
        let (Some(closed), true) = (e.closed_on, e.status == Status::Closed.code()) else {
            continue;
        };
        let waiting = needs
            .iter()
            .filter(|n| n.episode_id == Some(e.id) && n.result.as_deref() == Some("achieved") && n.sustained.is_none())
            .count();
        if waiting > 0 {
            checks.push(CheckView {
                episode_id: e.id,
                closed: dates::long(closed),
                due: dates::long(outcomes::sustainment_due(closed)),
                due_now: outcomes::sustainment_open(closed, today),
                needs: waiting,
            });
        }
    }
    let title = if again.errors.is_empty() {
        format!("Needs and outcomes: {}", family.name)
    } else {
        format!("Error: Needs and outcomes: {}", family.name)
    };
    let page = OutcomesPage {
        l: Layout::new(title, cu),
        id,
        family_name: family.name,
        can_edit,
        groups,
        open: count(None),
        achieved: count(Some(NeedResult::Achieved)),
        progress: count(Some(NeedResult::Progress)),
        not_achieved: count(Some(NeedResult::NotAchieved)),
        offered: outcomes::offered(&framework)
            .into_iter()
            .map(|o| (o.code.clone(), o.title.clone()))
            .collect(),
        members: current_members(state, id).await?,
        needs_list: NEEDS.iter().map(|n| (n.code, n.label)).collect(),
        form: again.form,
        results: NeedResult::ALL,
        chart_height: chart.len() as u32 * ROW + 10,
        chart,
        up,
        same,
        down,
        checks,
        errors: again.errors,
    };
    if page.errors.is_empty() {
        Ok(Html(page.render()?).into_response())
    } else {
        crate::errors::invalid(page)
    }
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/outcomes",
    )
    .await?;
    let can_edit = access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed();
    render(&state, &cu, family, basis, can_edit, Again::default()).await
}

/// The member a form chose: a current member of the family, or the whole family.
fn chosen_person(members: &[(i64, String)], raw: &str) -> Result<Option<i64>, ()> {
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(p) if members.iter().any(|m| m.0 == p) => Ok(Some(p)),
        _ => Err(()),
    }
}

/// Checks a need's outcome, member and description; the outcome must be
/// offered, unless it is the need's own already.
fn check_need(
    framework: &[FrameworkOutcome],
    members: &[(i64, String)],
    form: &AddForm,
    keeps: Option<&str>,
    errors: &mut Errors,
) -> (Option<String>, Option<Option<i64>>) {
    let outcome = framework
        .iter()
        .find(|o| o.code == form.outcome && (o.offered || Some(o.code.as_str()) == keeps))
        .map(|o| o.code.clone());
    if outcome.is_none() {
        errors.add("outcome", "Choose the outcome the need is under");
    }
    let person = chosen_person(members, &form.person).ok();
    if person.is_none() {
        errors.add("person", "Choose who the need is about");
    }
    if form.description.is_empty() {
        errors.add("description", "Describe the need");
    } else if form.description.chars().count() > MAX_TEXT {
        errors.add(
            "description",
            format!("The need must be described in {MAX_TEXT} characters or fewer"),
        );
    }
    (outcome, person)
}

fn add_form(pairs: &[(String, String)]) -> AddForm {
    AddForm {
        outcome: field(pairs, "outcome"),
        person: field(pairs, "person"),
        need_code: field(pairs, "need_code"),
        description: field(pairs, "description"),
    }
}

/// Adds a need to the register, in the family's open episode if it has one.
pub async fn add(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/outcomes/needs";
    let (family, basis) = gate::family(&state, &cu, id, FamilyAction::Edit, true, route).await?;
    let mut form = add_form(&pairs);
    let need = kindred_domain::referral::need(&form.need_code);
    // A need from the list speaks for itself when no words are given.
    if form.description.is_empty()
        && let Some(n) = need
    {
        form.description = n.label.to_string();
    }
    let framework = tenant_framework(&state, cu.user.tenant_id).await?;
    let members = current_members(&state, id).await?;
    let mut errors = Errors::default();
    if !form.need_code.is_empty() && need.is_none() {
        errors.add("need_code", "Choose a need from the list, or none");
    }
    let (outcome, person) = check_need(&framework, &members, &form, None, &mut errors);
    let (Some(outcome), Some(person), true) = (outcome, person, errors.is_empty()) else {
        let again = Again {
            form,
            errors,
            answer: None,
        };
        return render(&state, &cu, family, basis, true, again).await;
    };
    let episode_id = state
        .db
        .episodes_of_family(id)
        .await?
        .into_iter()
        .find(|e| e.status == Status::Open.code())
        .map(|e| e.id);
    let need_id = state
        .db
        .add_family_need(&NewNeed {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            episode_id,
            person_id: person,
            outcome_code: outcome,
            need_code: need.map(|n| n.code.to_string()),
            referral_id: None,
            description: form.description,
            identified_on: kindred_store::today(),
            identified_by_user_id: Some(cu.user.id),
        })
        .await?;
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::FamilyNeed {
            id: need_id,
            family: id,
        },
        route,
        String::new(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/outcomes")).into_response())
}

/// A need of this family, or not found.
async fn need_of(state: &AppState, family_id: i64, need_id: i64) -> AppResult<FamilyNeed> {
    state
        .db
        .family_need(need_id)
        .await?
        .filter(|n| n.family_id == family_id)
        .ok_or(AppError::NotFound)
}

/// Records one open need's result and its evidence.
pub async fn record_result(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, need_id)): Ids<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/outcomes/needs/{need}/result";
    let (family, basis) = gate::family(&state, &cu, id, FamilyAction::Edit, true, route).await?;
    let need = need_of(&state, id, need_id).await?;
    if need.result.is_some() {
        return Err(AppError::Conflict("this need already has a result"));
    }
    let raw = field(&pairs, &result_field(need_id));
    let evidence = field(&pairs, &evidence_field(need_id));
    let answer = ResultAnswer {
        need_id,
        description: need.description.clone(),
        result: NeedResult::parse(&raw),
        evidence: evidence.clone(),
    };
    let mut errors = Errors::default();
    add_errors(&mut errors, outcomes::result_errors(&answer));
    let Some(result) = answer.result.filter(|_| errors.is_empty()) else {
        let again = Again {
            form: AddForm::default(),
            errors,
            answer: Some((need_id, raw, evidence)),
        };
        return render(&state, &cu, family, basis, true, again).await;
    };
    match state
        .db
        .record_need_results(
            &[(need_id, result.code(), evidence)],
            kindred_store::today(),
            cu.user.id,
        )
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(AppError::Conflict("this need already has a result")),
        other => other?,
    }
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::FamilyNeed {
            id: need_id,
            family: id,
        },
        route,
        format!("result={}", result.code()),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/outcomes#need-{need_id}")).into_response())
}

#[derive(Template)]
#[template(path = "outcome_need_edit.html")]
struct EditNeedPage {
    l: Layout,
    id: i64,
    need_id: i64,
    family_name: String,
    offered: Vec<(String, String)>,
    members: Vec<(i64, String)>,
    form: AddForm,
    errors: Errors,
}

/// The outcomes an open need may move to: those offered, and its own.
fn choices(framework: &[FrameworkOutcome], own: &str) -> Vec<(String, String)> {
    framework
        .iter()
        .filter(|o| o.offered || o.code == own)
        .map(|o| {
            let title = if o.offered {
                o.title.clone()
            } else {
                format!("{} (retired)", o.title)
            };
            (o.code.clone(), title)
        })
        .collect()
}

pub async fn edit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, need_id)): Ids<(i64, i64)>,
) -> AppResult<Response> {
    let route = "web GET /families/{id}/outcomes/needs/{need}";
    let (family, _) = gate::family(&state, &cu, id, FamilyAction::Edit, false, route).await?;
    let need = need_of(&state, id, need_id).await?;
    if need.result.is_some() {
        return Ok(Redirect::to(&format!("/families/{id}/outcomes#need-{need_id}")).into_response());
    }
    let framework = tenant_framework(&state, cu.user.tenant_id).await?;
    let page = EditNeedPage {
        l: Layout::new("Change a need", &cu),
        id,
        need_id,
        family_name: family.name,
        offered: choices(&framework, &need.outcome_code),
        members: current_members(&state, id).await?,
        form: AddForm {
            outcome: need.outcome_code,
            person: need.person_id.map(|p| p.to_string()).unwrap_or_default(),
            need_code: need.need_code.unwrap_or_default(),
            description: need.description,
        },
        errors: Errors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, need_id)): Ids<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/outcomes/needs/{need}";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let need = need_of(&state, id, need_id).await?;
    if need.result.is_some() {
        return Err(AppError::Conflict("a need with a result cannot change"));
    }
    let framework = tenant_framework(&state, cu.user.tenant_id).await?;
    let members = current_members(&state, id).await?;
    // The member a need was about may have left the family: they stay a choice for it.
    let mut allowed = members.clone();
    if let (Some(p), Some(name)) = (need.person_id, need.person_name.clone())
        && !allowed.iter().any(|m| m.0 == p)
    {
        allowed.push((p, name));
    }
    let form = add_form(&pairs);
    let mut errors = Errors::default();
    let (outcome, person) = check_need(&framework, &allowed, &form, Some(&need.outcome_code), &mut errors);
    let (Some(outcome), Some(person), true) = (outcome, person, errors.is_empty()) else {
        let page = EditNeedPage {
            l: Layout::new("Error: Change a need", &cu),
            id,
            need_id,
            family_name: family.name,
            offered: choices(&framework, &need.outcome_code),
            members: allowed,
            form,
            errors,
        };
        return crate::errors::invalid(page);
    };
    if !state
        .db
        .update_family_need(need_id, person, &outcome, &form.description)
        .await?
    {
        return Err(AppError::Conflict("a need with a result cannot change"));
    }
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::FamilyNeed {
            id: need_id,
            family: id,
        },
        route,
        String::new(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/outcomes#need-{need_id}")).into_response())
}

/// One achieved need on the sustainment check form.
struct CheckNeed {
    need: NeedView,
    title: String,
    answer: String,
    evidence: String,
}

#[derive(Template)]
#[template(path = "outcome_sustained.html")]
struct SustainedPage {
    l: Layout,
    id: i64,
    episode_id: i64,
    family_name: String,
    closed: String,
    due: String,
    due_now: bool,
    needs: Vec<CheckNeed>,
    errors: Errors,
}

fn sustained_field(need_id: i64) -> String {
    format!("sustained-{need_id}")
}

fn sustained_evidence_field(need_id: i64) -> String {
    format!("sustained-evidence-{need_id}")
}

/// The closed episode of this family and its achieved needs waiting for the check.
async fn check_of(
    state: &AppState,
    cu: &CurrentUser,
    family_id: i64,
    episode_id: i64,
) -> AppResult<(time::Date, Vec<FamilyNeed>)> {
    let e = state
        .db
        .episode(episode_id)
        .await?
        .filter(|e| e.family_id == family_id && e.tenant_id == cu.user.tenant_id)
        .ok_or(AppError::NotFound)?;
    let closed = e
        .closed_on
        .filter(|_| e.status == Status::Closed.code())
        .ok_or(AppError::NotFound)?;
    let needs = state
        .db
        .episode_needs(episode_id)
        .await?
        .into_iter()
        .filter(|n| n.result.as_deref() == Some(NeedResult::Achieved.code()) && n.sustained.is_none())
        .collect();
    Ok((closed, needs))
}

#[allow(clippy::too_many_arguments)]
fn sustained_page(
    cu: &CurrentUser,
    id: i64,
    episode_id: i64,
    family_name: String,
    closed: time::Date,
    needs: Vec<FamilyNeed>,
    framework: &[FrameworkOutcome],
    pairs: &[(String, String)],
    errors: Errors,
) -> SustainedPage {
    let title = if errors.is_empty() {
        "Were the outcomes sustained?"
    } else {
        "Error: Were the outcomes sustained?"
    };
    SustainedPage {
        l: Layout::new(title, cu),
        id,
        episode_id,
        family_name,
        closed: dates::long(closed),
        due: dates::long(outcomes::sustainment_due(closed)),
        due_now: outcomes::sustainment_open(closed, kindred_store::today()),
        needs: needs
            .iter()
            .map(|n| CheckNeed {
                need: NeedView::of(n),
                title: outcomes::title(framework, &n.outcome_code).to_string(),
                answer: field(pairs, &sustained_field(n.id)),
                evidence: field(pairs, &sustained_evidence_field(n.id)),
            })
            .collect(),
        errors,
    }
}

pub async fn sustained_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, episode_id)): Ids<(i64, i64)>,
) -> AppResult<Response> {
    let route = "web GET /families/{id}/episodes/{episode_id}/sustained";
    let (family, _) = gate::family(&state, &cu, id, FamilyAction::Edit, false, route).await?;
    let (closed, needs) = check_of(&state, &cu, id, episode_id).await?;
    let framework = tenant_framework(&state, cu.user.tenant_id).await?;
    let page = sustained_page(
        &cu,
        id,
        episode_id,
        family.name,
        closed,
        needs,
        &framework,
        &[],
        Errors::default(),
    );
    Ok(Html(page.render()?).into_response())
}

/// Records, for each achieved need of a closed episode, whether it held, and
/// completes the episode's sustainment check.
pub async fn record_sustained(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, episode_id)): Ids<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/episodes/{episode_id}/sustained";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let (closed, needs) = check_of(&state, &cu, id, episode_id).await?;
    let today = kindred_store::today();
    let mut errors = Errors::default();
    if !outcomes::sustainment_open(closed, today) {
        errors.add(
            "due",
            format!(
                "The check is due on {}: whether an outcome was sustained can be recorded from then",
                dates::long(outcomes::sustainment_due(closed))
            ),
        );
    }
    let mut checks = vec![];
    for n in &needs {
        let answer = Sustained::parse(&field(&pairs, &sustained_field(n.id)));
        let evidence = field(&pairs, &sustained_evidence_field(n.id));
        let name = format!("\u{201c}{}\u{201d}", n.description);
        if answer.is_none() {
            errors.add(
                sustained_field(n.id),
                format!("Choose whether the outcome for {name} was sustained"),
            );
        }
        if evidence.is_empty() {
            errors.add(
                sustained_evidence_field(n.id),
                format!("Enter the evidence for whether the outcome for {name} was sustained"),
            );
        } else if evidence.chars().count() > MAX_TEXT {
            errors.add(
                sustained_evidence_field(n.id),
                format!("The evidence for {name} must be {MAX_TEXT} characters or fewer"),
            );
        }
        if let Some(a) = answer {
            checks.push((n.id, a.as_bool(), evidence));
        }
    }
    if !errors.is_empty() {
        let framework = tenant_framework(&state, cu.user.tenant_id).await?;
        return crate::errors::invalid(sustained_page(
            &cu,
            id,
            episode_id,
            family.name,
            closed,
            needs,
            &framework,
            &pairs,
            errors,
        ));
    }
    match state.db.record_sustained(&checks, today, cu.user.id).await {
        Err(StoreError::Conflict(_)) => return Err(AppError::Conflict("already checked")),
        other => other?,
    }
    state
        .db
        .complete_episode_tasks(episode_id, task::Kind::SustainmentCheck.code(), cu.user.id)
        .await?;
    state.db.touch_family(id).await?;
    let sustained = checks.iter().filter(|c| c.1).count();
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Episode {
            id: episode_id,
            family: id,
        },
        route,
        format!("sustained={sustained} not_sustained={}", checks.len() - sustained),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/outcomes")).into_response())
}

#[derive(Template)]
#[template(path = "admin_outcomes.html")]
struct FrameworkPage {
    l: Layout,
    outcomes: Vec<FrameworkOutcome>,
    new_title: String,
    new_need: String,
    new_achieved: String,
    errors: Errors,
    saved: bool,
}

pub async fn admin(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let page = FrameworkPage {
        l: Layout::new("Outcomes framework", &cu),
        outcomes: tenant_framework(&state, cu.user.tenant_id).await?,
        new_title: String::new(),
        new_need: String::new(),
        new_achieved: String::new(),
        errors: Errors::default(),
        saved: q.saved.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

/// Saves the tenant's framework: reworded descriptors, outcomes retired or
/// restored, and an outcome of its own. Needs already recorded keep theirs.
pub async fn save_framework(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let current = tenant_framework(&state, cu.user.tenant_id).await?;
    // Every outcome as posted; one the form did not send is kept as it was.
    let mut framework: Vec<FrameworkOutcome> = current
        .iter()
        .map(|o| {
            let need_key = format!("need-{}", o.code);
            if !pairs.iter().any(|(k, _)| *k == need_key) {
                return o.clone();
            }
            FrameworkOutcome {
                code: o.code.clone(),
                title: if o.is_default() {
                    o.title.clone()
                } else {
                    field(&pairs, &format!("title-{}", o.code))
                },
                need: field(&pairs, &need_key),
                achieved: field(&pairs, &format!("achieved-{}", o.code)),
                offered: ticked(&pairs, &format!("offered-{}", o.code)),
            }
        })
        .collect();
    let mut errors = Errors::default();
    let (new_title, new_need, new_achieved) = (
        field(&pairs, "title-new"),
        field(&pairs, "need-new"),
        field(&pairs, "achieved-new"),
    );
    let mut added_code = None;
    if !(new_title.is_empty() && new_need.is_empty() && new_achieved.is_empty()) {
        let added = FrameworkOutcome {
            code: outcomes::next_own_code(&framework),
            title: new_title.clone(),
            need: new_need.clone(),
            achieved: new_achieved.clone(),
            offered: true,
        };
        let found = outcomes::check_outcome(&added, "new", "your new outcome");
        if found.is_empty() {
            added_code = Some(added.code.clone());
            framework.push(added);
        }
        add_errors(&mut errors, found);
    }
    // The new outcome's fields are the form's `…-new` ones.
    let found = outcomes::check_framework(&framework).into_iter().map(|mut e| {
        if let Some(code) = &added_code
            && let Some(f) = e.field.strip_suffix(&format!("-{code}"))
        {
            e.field = format!("{f}-new");
        }
        e
    });
    add_errors(&mut errors, found.collect());
    if !errors.is_empty() {
        return crate::errors::invalid(FrameworkPage {
            l: Layout::new("Error: Outcomes framework", &cu),
            outcomes: framework
                .into_iter()
                .filter(|o| current.iter().any(|c| c.code == o.code))
                .collect(),
            new_title,
            new_need,
            new_achieved,
            errors,
            saved: false,
        });
    }
    state.db.save_outcome_framework(cu.user.tenant_id, &framework).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::OutcomeFramework,
        "web POST /admin/outcomes",
        format!(
            "outcomes={} offered={}",
            framework.len(),
            framework.iter().filter(|o| o.offered).count()
        ),
    )
    .await?;
    Ok(Redirect::to("/admin/outcomes?saved=1").into_response())
}
