//! Child development (F6): ASQ-3 and ASQ:SE questionnaires, classified
//! against the tenant's own cut-offs (never invented where none is set), and
//! the integrated review at two joining the health visitor's check with the
//! early years setting's EYFS progress check. Read by every partner with
//! access to the family; recorded by those who may change it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::development::{
    self as dev, Area, AreaScore, Cutoff, Instrument, PrimeArea, Progress, ScoreError, SeTotal,
};
use kindred_domain::model::MemberRole;
use kindred_domain::sharing::DataCategory;
use kindred_store::development::{CutoffRow, NewQuestionnaire, NewTwoYearReview, Questionnaire};
use kindred_store::families::Member;
use serde::Deserialize;
use time::Date;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

/// A tenant's cut-offs, looked up by (instrument, interval, area).
pub struct Cutoffs(BTreeMap<(String, i32, String), Cutoff>);

impl Cutoffs {
    pub fn from_rows(rows: Vec<CutoffRow>) -> Cutoffs {
        Cutoffs(
            rows.into_iter()
                .map(|r| {
                    (
                        (r.instrument, r.interval_months, r.area),
                        Cutoff {
                            cutoff: r.cutoff_centi.max(0) as u32,
                            monitoring: r.monitoring_centi.max(0) as u32,
                        },
                    )
                })
                .collect(),
        )
    }

    pub fn get(&self, instrument: Instrument, interval: i32, area: &str) -> Option<Cutoff> {
        self.0
            .get(&(instrument.code().to_string(), interval, area.to_string()))
            .copied()
    }
}

/// One score with where it falls against the tenant's cut-off.
struct ScoreView {
    label: &'static str,
    score: u16,
    /// The zone's label, or "No cut-off configured".
    result: &'static str,
    /// GOV.UK tag colour class.
    tag: &'static str,
}

fn score_view(
    instrument: Instrument,
    interval: i32,
    area: &str,
    label: &'static str,
    score: u16,
    cuts: &Cutoffs,
) -> ScoreView {
    match dev::classify(instrument, score, cuts.get(instrument, interval, area)) {
        Some(z) => {
            let tag = match (z.concern(instrument), z) {
                (true, _) => "govuk-tag--red",
                (false, dev::Zone::Close) => "govuk-tag--yellow",
                _ => "govuk-tag--green",
            };
            ScoreView {
                label,
                score,
                result: z.label(),
                tag,
            }
        }
        None => ScoreView {
            label,
            score,
            result: "No cut-off configured",
            tag: "govuk-tag--grey",
        },
    }
}

struct QuestionnaireView {
    date: String,
    interval: i32,
    by: String,
    organisation: String,
    notes: String,
    scores: Vec<ScoreView>,
    /// Recorded by another organisation and not shared with the reader's:
    /// shown to exist, never its scores or notes.
    not_shared: bool,
}

fn questionnaire_view(q: &Questionnaire, cuts: &Cutoffs, shared: bool) -> QuestionnaireView {
    if !shared {
        return QuestionnaireView {
            date: dates::long(q.completed_on),
            interval: q.interval_months,
            by: format!("{}, {}", q.author_name, q.organisation_name),
            organisation: q.organisation_name.clone(),
            notes: String::new(),
            scores: vec![],
            not_shared: true,
        };
    }
    let instrument = Instrument::parse(&q.instrument).unwrap_or(Instrument::Asq3);
    let scores: Vec<ScoreView> = match instrument {
        Instrument::Asq3 => Area::ALL
            .iter()
            .filter_map(|a| {
                q.scores
                    .iter()
                    .find(|s| s.0 == a.code())
                    .map(|s| score_view(instrument, q.interval_months, a.code(), a.label(), s.1, cuts))
            })
            .collect(),
        Instrument::AsqSe => q
            .scores
            .iter()
            .filter(|s| s.0 == dev::SE_TOTAL)
            .map(|s| score_view(instrument, q.interval_months, dev::SE_TOTAL, "Total", s.1, cuts))
            .collect(),
    };
    QuestionnaireView {
        date: dates::long(q.completed_on),
        interval: q.interval_months,
        by: format!("{}, {}", q.author_name, q.organisation_name),
        organisation: q.organisation_name.clone(),
        notes: q.notes.clone(),
        scores,
        not_shared: false,
    }
}

struct ReviewView {
    date: String,
    by: String,
    organisation: String,
    /// Recorded by another organisation and not shared with the reader's.
    not_shared: bool,
    asq: Option<QuestionnaireView>,
    weight: String,
    height: String,
    health_notes: String,
    setting_name: String,
    eyfs: Vec<(&'static str, &'static str)>,
    eyfs_notes: String,
    parent_views: String,
    next_steps: String,
}

struct ChildView {
    id: i64,
    name: String,
    born: String,
    /// Aged 18 months to 4 years: the integrated review is offered.
    review_age: bool,
    asq3: Vec<QuestionnaireView>,
    asqse: Vec<QuestionnaireView>,
    reviews: Vec<ReviewView>,
}

#[derive(Template)]
#[template(path = "development.html")]
struct DevelopmentPage {
    l: Layout,
    id: i64,
    family_name: String,
    can_record: bool,
    children: Vec<ChildView>,
    areas: &'static [Area],
}

/// The family's children under six now: who questionnaires and reviews are for.
fn young_children(members: &[Member], today: Date) -> Vec<(i64, String, Date)> {
    members
        .iter()
        .filter(|m| m.left_on.is_none())
        .filter_map(|m| m.person.date_of_birth.map(|d| (m, d)))
        .filter(|(m, d)| {
            matches!(m.role, MemberRole::Child | MemberRole::Sibling | MemberRole::Other)
                && dates::age_in_years(*d, today) < 6
        })
        .map(|(m, d)| (m.person.id, m.person.full_name(), d))
        .collect()
}

fn kg(grams: Option<i32>) -> String {
    grams
        .map(|g| format!("{} kg", dev::show_points(g.max(0) as u32 / 10)))
        .unwrap_or_default()
}

fn cm(mm: Option<i32>) -> String {
    mm.map(|m| format!("{} cm", dev::show_points(m.max(0) as u32 * 10)))
        .unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/development",
    )
    .await?;
    let sharing = gate::sharing_facts(&state, id).await?;
    let shared = |org: i64| gate::readable_content(&cu, basis, org, DataCategory::Assessments, &sharing);
    let today = kindred_store::today();
    let cuts = Cutoffs::from_rows(state.db.asq_cutoffs(family.tenant_id).await?);
    let members = state.db.members(id).await?;
    let questionnaires = state.db.questionnaires_of_family(id).await?;
    let reviews = state.db.two_year_reviews_of_family(id).await?;
    // Children under six, and any member (past or present) with a record.
    let mut people: Vec<i64> = young_children(&members, today).into_iter().map(|c| c.0).collect();
    for p in questionnaires
        .iter()
        .map(|q| q.person_id)
        .chain(reviews.iter().map(|r| r.person_id))
    {
        if !people.contains(&p) {
            people.push(p);
        }
    }
    let children = members
        .iter()
        .filter(|m| people.contains(&m.person.id))
        .map(|m| {
            let mine = |inst: Instrument| {
                questionnaires
                    .iter()
                    .filter(|q| q.person_id == m.person.id && q.instrument == inst.code())
                    .map(|q| questionnaire_view(q, &cuts, shared(q.organisation_id)))
                    .collect()
            };
            ChildView {
                id: m.person.id,
                name: m.person.full_name(),
                born: super::born(&m.person, today),
                review_age: m
                    .person
                    .date_of_birth
                    .is_some_and(|d| (18..48).contains(&dev::age_in_months(d, today))),
                asq3: mine(Instrument::Asq3),
                asqse: mine(Instrument::AsqSe),
                reviews: reviews
                    .iter()
                    .filter(|r| r.person_id == m.person.id)
                    .map(|r| {
                        let readable = shared(r.organisation_id);
                        let text = |s: &String| if readable { s.clone() } else { String::new() };
                        ReviewView {
                            date: dates::long(r.reviewed_on),
                            by: format!("{}, {}", r.author_name, r.organisation_name),
                            organisation: r.organisation_name.clone(),
                            not_shared: !readable,
                            asq: r
                                .questionnaire_id
                                .filter(|_| readable)
                                .and_then(|q| questionnaires.iter().find(|x| x.id == q))
                                .map(|q| questionnaire_view(q, &cuts, shared(q.organisation_id))),
                            weight: if readable { kg(r.weight_grams) } else { String::new() },
                            height: if readable { cm(r.height_mm) } else { String::new() },
                            health_notes: text(&r.health_notes),
                            setting_name: text(&r.setting_name),
                            eyfs: PrimeArea::ALL
                                .iter()
                                .filter(|_| readable)
                                .map(|a| {
                                    let code = match a {
                                        PrimeArea::CommunicationLanguage => &r.eyfs_communication,
                                        PrimeArea::Physical => &r.eyfs_physical,
                                        PrimeArea::PersonalSocialEmotional => &r.eyfs_psed,
                                    };
                                    (
                                        a.label(),
                                        Progress::parse(code).map(|p| p.label()).unwrap_or("Not recorded"),
                                    )
                                })
                                .collect(),
                            eyfs_notes: text(&r.eyfs_notes),
                            parent_views: text(&r.parent_views),
                            next_steps: text(&r.next_steps),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let page = DevelopmentPage {
        l: Layout::new(format!("Child development: {}", family.name), &cu),
        id,
        family_name: family.name,
        can_record: access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed(),
        children,
        areas: Area::ALL,
    };
    Ok(Html(page.render()?).into_response())
}

// ---------- recording a questionnaire ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuestionnaireForm {
    child: String,
    interval: String,
    completed_day: String,
    completed_month: String,
    completed_year: String,
    communication: String,
    gross_motor: String,
    fine_motor: String,
    problem_solving: String,
    personal_social: String,
    total: String,
    notes: String,
}

impl QuestionnaireForm {
    fn area(&self, a: Area) -> &str {
        match a {
            Area::Communication => &self.communication,
            Area::GrossMotor => &self.gross_motor,
            Area::FineMotor => &self.fine_motor,
            Area::ProblemSolving => &self.problem_solving,
            Area::PersonalSocial => &self.personal_social,
        }
    }
}

struct AreaField {
    code: &'static str,
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "questionnaire_new.html")]
struct QuestionnairePage {
    l: Layout,
    id: i64,
    family_name: String,
    instrument: Instrument,
    /// "asq3" or "asqse", for the form's address.
    path: &'static str,
    children: Vec<(i64, String)>,
    intervals: &'static [u8],
    form: QuestionnaireForm,
    areas: Vec<AreaField>,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChildQuery {
    child: Option<i64>,
}

fn path_of(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Asq3 => "asq3",
        Instrument::AsqSe => "asqse",
    }
}

fn questionnaire_page(
    cu: &CurrentUser,
    id: i64,
    family_name: String,
    instrument: Instrument,
    children: &[(i64, String, Date)],
    form: QuestionnaireForm,
    errors: Errors,
) -> QuestionnairePage {
    let title = format!(
        "{}Record an {}",
        if errors.is_empty() { "" } else { "Error: " },
        instrument.label()
    );
    QuestionnairePage {
        l: Layout::new(title, cu),
        id,
        family_name,
        instrument,
        path: path_of(instrument),
        children: children.iter().map(|c| (c.0, c.1.clone())).collect(),
        intervals: instrument.intervals(),
        areas: Area::ALL
            .iter()
            .map(|a| AreaField {
                code: a.code(),
                label: a.label(),
                value: form.area(*a).to_string(),
            })
            .collect(),
        form,
        errors,
    }
}

async fn questionnaire_form(
    state: AppState,
    cu: CurrentUser,
    id: i64,
    q: ChildQuery,
    instrument: Instrument,
    route: &str,
) -> AppResult<Response> {
    let (family, _) = gate::family(&state, &cu, id, FamilyAction::Edit, false, route).await?;
    let today = kindred_store::today();
    let children = young_children(&state.db.members(id).await?, today);
    let chosen = q
        .child
        .and_then(|c| children.iter().find(|x| x.0 == c))
        .or(if children.len() == 1 { children.first() } else { None });
    let form = QuestionnaireForm {
        child: chosen.map(|c| c.0.to_string()).unwrap_or_default(),
        interval: chosen
            .and_then(|c| dev::suggested_interval(instrument, dev::age_in_months(c.2, today)))
            .map(|i| i.to_string())
            .unwrap_or_default(),
        completed_day: today.day().to_string(),
        completed_month: (today.month() as u8).to_string(),
        completed_year: today.year().to_string(),
        ..Default::default()
    };
    let page = questionnaire_page(&cu, id, family.name, instrument, &children, form, Errors::default());
    Ok(Html(page.render()?).into_response())
}

pub async fn asq3_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    Query(q): Query<ChildQuery>,
) -> AppResult<Response> {
    questionnaire_form(
        state,
        cu,
        id,
        q,
        Instrument::Asq3,
        "web GET /families/{id}/development/asq3",
    )
    .await
}

pub async fn asqse_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    Query(q): Query<ChildQuery>,
) -> AppResult<Response> {
    questionnaire_form(
        state,
        cu,
        id,
        q,
        Instrument::AsqSe,
        "web GET /families/{id}/development/asqse",
    )
    .await
}

fn score_message(label: &str, e: ScoreError, max: u16) -> String {
    match e {
        ScoreError::Missing => format!("Enter the {} score", label.to_lowercase()),
        ScoreError::NotANumber => format!("{label} score must be a whole number, like 45"),
        ScoreError::OutOfRange => format!("{label} score must be between 0 and {max}"),
        ScoreError::NotMultipleOfFive => {
            format!("{label} score must be a multiple of 5 (each answer scores 10, 5 or 0)")
        }
    }
}

/// The child, checked to be one of the family's children under six.
fn parse_child(raw: &str, children: &[(i64, String, Date)], errors: &mut Errors) -> Option<(i64, Date)> {
    let found = raw
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|c| children.iter().find(|x| x.0 == c))
        .map(|c| (c.0, c.2));
    if found.is_none() {
        errors.add("child", "Select a child in this family");
    }
    found
}

/// A date from the three boxes, on or after the child's birth and not in the future.
fn parse_day(
    field: &'static str,
    what: &str,
    (d, m, y): (&str, &str, &str),
    born: Option<Date>,
    errors: &mut Errors,
) -> Option<Date> {
    let today = kindred_store::today();
    match dates::parse_date_parts(d, m, y) {
        Ok(date) if date > today => {
            errors.add(field, format!("{what} must be today or in the past"));
            None
        }
        Ok(date) if born.is_some_and(|b| date < b) => {
            errors.add(field, format!("{what} must be after the child was born"));
            None
        }
        Ok(date) => Some(date),
        Err(e) => {
            errors.add(field, format!("{what} {e}"));
            None
        }
    }
}

async fn create_questionnaire(
    state: AppState,
    cu: CurrentUser,
    id: i64,
    f: QuestionnaireForm,
    instrument: Instrument,
    route: &str,
) -> AppResult<Response> {
    let family = gate::change_family(&state, &cu, id, route).await?;
    let children = young_children(&state.db.members(id).await?, kindred_store::today());
    let mut errors = Errors::default();
    let child = parse_child(&f.child, &children, &mut errors);
    let interval = dev::parse_interval(instrument, &f.interval);
    if interval.is_none() {
        errors.add(
            "interval",
            format!("Select the {} questionnaire's age interval", instrument.label()),
        );
    }
    let completed_on = parse_day(
        "completed",
        "Date completed",
        (&f.completed_day, &f.completed_month, &f.completed_year),
        child.map(|c| c.1),
        &mut errors,
    );
    if let (Some((_, born)), Some(i), Some(on)) = (child, interval, completed_on) {
        let months = dev::age_in_months(born, on);
        if !dev::interval_fits(i, months) {
            errors.add(
                "interval",
                format!("The child was {months} months old on that date: choose a questionnaire for their age, not {i} months"),
            );
        }
    }
    let mut scores = vec![];
    match instrument {
        Instrument::Asq3 => {
            for a in Area::ALL {
                match AreaScore::parse(f.area(*a)) {
                    Ok(s) => scores.push((a.code().to_string(), u16::from(s.value()))),
                    Err(e) => errors.add(a.code(), score_message(a.label(), e, 60)),
                }
            }
        }
        Instrument::AsqSe => match SeTotal::parse(&f.total) {
            Ok(s) => scores.push((dev::SE_TOTAL.to_string(), s.value())),
            Err(e) => errors.add("total", score_message("ASQ:SE total", e, dev::SE_MAX)),
        },
    }
    if f.notes.chars().count() > 5_000 {
        errors.add("notes", "Notes must be 5,000 characters or fewer");
    }
    let (Some((child, _)), Some(interval), Some(completed_on), true) =
        (child, interval, completed_on, errors.is_empty())
    else {
        let page = questionnaire_page(&cu, id, family.name, instrument, &children, f, errors);
        return crate::errors::invalid(page);
    };
    let q = state
        .db
        .create_questionnaire(&NewQuestionnaire {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            person_id: child,
            instrument: instrument.code().into(),
            interval_months: interval,
            completed_on,
            author_user_id: cu.user.id,
            notes: f.notes.trim().to_string(),
            scores,
        })
        .await?;
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::Questionnaire { id: q, family: id },
        route,
        instrument.code().into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/development")).into_response())
}

pub async fn create_asq3(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<QuestionnaireForm>,
) -> AppResult<Response> {
    create_questionnaire(
        state,
        cu,
        id,
        f,
        Instrument::Asq3,
        "web POST /families/{id}/development/asq3",
    )
    .await
}

pub async fn create_asqse(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<QuestionnaireForm>,
) -> AppResult<Response> {
    create_questionnaire(
        state,
        cu,
        id,
        f,
        Instrument::AsqSe,
        "web POST /families/{id}/development/asqse",
    )
    .await
}

// ---------- the integrated review at two ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    child: String,
    reviewed_day: String,
    reviewed_month: String,
    reviewed_year: String,
    questionnaire: String,
    weight: String,
    height: String,
    health_notes: String,
    setting_name: String,
    eyfs_communication: String,
    eyfs_physical: String,
    eyfs_psed: String,
    eyfs_notes: String,
    parent_views: String,
    next_steps: String,
}

impl ReviewForm {
    fn progress(&self, a: PrimeArea) -> &str {
        match a {
            PrimeArea::CommunicationLanguage => &self.eyfs_communication,
            PrimeArea::Physical => &self.eyfs_physical,
            PrimeArea::PersonalSocialEmotional => &self.eyfs_psed,
        }
    }
}

struct PrimeField {
    code: &'static str,
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "two_year_review_new.html")]
struct ReviewPage {
    l: Layout,
    id: i64,
    family_name: String,
    children: Vec<(i64, String)>,
    /// (questionnaire id, "Child name: ASQ-3 at 27 months, 3 May 2026")
    asqs: Vec<(i64, String)>,
    prime: Vec<PrimeField>,
    progress: &'static [Progress],
    form: ReviewForm,
    errors: Errors,
}

async fn review_page(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    family_name: String,
    children: &[(i64, String, Date)],
    form: ReviewForm,
    errors: Errors,
) -> AppResult<ReviewPage> {
    let asqs = review_asqs(state, id, children).await?;
    Ok(ReviewPage {
        l: Layout::new(
            if errors.is_empty() {
                "Integrated review at two"
            } else {
                "Error: Integrated review at two"
            },
            cu,
        ),
        id,
        family_name,
        children: children.iter().map(|c| (c.0, c.1.clone())).collect(),
        asqs: asqs.into_iter().map(|(q, _, label)| (q, label)).collect(),
        prime: PrimeArea::ALL
            .iter()
            .map(|a| PrimeField {
                code: a.code(),
                label: a.label(),
                value: form.progress(*a).to_string(),
            })
            .collect(),
        progress: Progress::ALL,
        form,
        errors,
    })
}

/// The family's ASQ-3s at 24, 27 or 30 months: (id, child, label).
async fn review_asqs(
    state: &AppState,
    id: i64,
    children: &[(i64, String, Date)],
) -> AppResult<Vec<(i64, i64, String)>> {
    Ok(state
        .db
        .questionnaires_of_family(id)
        .await?
        .into_iter()
        .filter(|q| {
            q.instrument == Instrument::Asq3.code()
                && u8::try_from(q.interval_months).is_ok_and(|i| dev::REVIEW_INTERVALS.contains(&i))
        })
        .filter_map(|q| {
            children.iter().find(|c| c.0 == q.person_id).map(|c| {
                (
                    q.id,
                    c.0,
                    format!(
                        "{}: ASQ-3 at {} months, {}",
                        c.1,
                        q.interval_months,
                        dates::long(q.completed_on)
                    ),
                )
            })
        })
        .collect())
}

pub async fn review_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    Query(q): Query<ChildQuery>,
) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/development/two-year-review",
    )
    .await?;
    let today = kindred_store::today();
    let children = young_children(&state.db.members(id).await?, today);
    let form = ReviewForm {
        child: q
            .child
            .filter(|c| children.iter().any(|x| x.0 == *c))
            .map(|c| c.to_string())
            .unwrap_or_default(),
        reviewed_day: today.day().to_string(),
        reviewed_month: (today.month() as u8).to_string(),
        reviewed_year: today.year().to_string(),
        ..Default::default()
    };
    let page = review_page(&state, &cu, id, family.name, &children, form, Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create_review(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ReviewForm>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/development/two-year-review";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let children = young_children(&state.db.members(id).await?, kindred_store::today());
    let mut errors = Errors::default();
    let child = parse_child(&f.child, &children, &mut errors);
    let reviewed_on = parse_day(
        "reviewed",
        "Date of the review",
        (&f.reviewed_day, &f.reviewed_month, &f.reviewed_year),
        child.map(|c| c.1),
        &mut errors,
    );
    let mut questionnaire_id = None;
    if !f.questionnaire.trim().is_empty() {
        let asqs = review_asqs(&state, id, &children).await?;
        let q = f.questionnaire.trim().parse::<i64>().ok();
        match asqs.iter().find(|a| Some(a.0) == q) {
            Some(a) if child.is_some_and(|c| c.0 == a.1) => questionnaire_id = Some(a.0),
            Some(_) => errors.add("questionnaire", "Select an ASQ-3 of the child being reviewed"),
            None => errors.add("questionnaire", "Select an ASQ-3 at 24, 27 or 30 months"),
        }
    }
    let weight_grams = match f.weight.trim() {
        "" => None,
        w => {
            let g = dev::parse_weight_grams(w);
            if g.is_none() {
                errors.add("weight", "Weight must be in kilograms between 1 and 40, like 12.4");
            }
            g
        }
    };
    let height_mm = match f.height.trim() {
        "" => None,
        h => {
            let mm = dev::parse_height_mm(h);
            if mm.is_none() {
                errors.add("height", "Height must be in centimetres between 40 and 150, like 86.5");
            }
            mm
        }
    };
    for a in PrimeArea::ALL {
        if Progress::parse(f.progress(*a)).is_none() {
            errors.add(
                a.code(),
                format!("Select how the child is doing in {}", a.label().to_lowercase()),
            );
        }
    }
    if f.parent_views.trim().is_empty() {
        errors.add("parent_views", "Enter the parent's views");
    }
    if f.next_steps.trim().is_empty() {
        errors.add("next_steps", "Enter the next steps agreed with the parent");
    }
    for (field, v) in [
        ("health_notes", &f.health_notes),
        ("eyfs_notes", &f.eyfs_notes),
        ("parent_views", &f.parent_views),
        ("next_steps", &f.next_steps),
    ] {
        if v.chars().count() > 5_000 && !errors.has(field) {
            errors.add(field, "This must be 5,000 characters or fewer");
        }
    }
    let (Some((child, _)), Some(reviewed_on), true) = (child, reviewed_on, errors.is_empty()) else {
        let page = review_page(&state, &cu, id, family.name, &children, f, errors).await?;
        return crate::errors::invalid(page);
    };
    let review = state
        .db
        .create_two_year_review(&NewTwoYearReview {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            person_id: child,
            reviewed_on,
            author_user_id: cu.user.id,
            questionnaire_id,
            weight_grams,
            height_mm,
            health_notes: f.health_notes.trim().into(),
            setting_name: f.setting_name.trim().into(),
            eyfs_communication: f.eyfs_communication.clone(),
            eyfs_physical: f.eyfs_physical.clone(),
            eyfs_psed: f.eyfs_psed.clone(),
            eyfs_notes: f.eyfs_notes.trim().into(),
            parent_views: f.parent_views.trim().into(),
            next_steps: f.next_steps.trim().into(),
        })
        .await?;
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::TwoYearReview { id: review, family: id },
        route,
        String::new(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/development")).into_response())
}
