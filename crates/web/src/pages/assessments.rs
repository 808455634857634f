//! The family-led assessment (F6): each area of family life scored 1–10 in the
//! family's own words, what they are good at, what they want to change, what
//! life will be like. Recorded once and read by every partner with access to
//! the family; a new one starts from the last, so nothing is typed twice.
//! Repeats show distance travelled on an SVG chart (with the same figures in a
//! table for screen readers).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::assessment::{self, Score, TenantArea};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::sharing::DataCategory;
use kindred_store::assessments::NewAssessment;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

struct ScoreView {
    question: String,
    score: u8,
    words: String,
}

struct AssessmentView {
    date: String,
    author: String,
    organisation: String,
    strengths: String,
    changes: String,
    future: String,
    scores: Vec<ScoreView>,
    /// Recorded by another organisation and not shared with the reader's:
    /// shown to exist, never what it says.
    not_shared: bool,
}

/// One area's bars on the distance-travelled chart.
struct ChartRow {
    question: String,
    first: u8,
    latest: u8,
    y: u32,
    first_w: u32,
    latest_w: u32,
}

#[derive(Template)]
#[template(path = "assessments.html")]
struct AssessmentsPage {
    l: Layout,
    id: i64,
    family_name: String,
    can_record: bool,
    /// Newest first.
    assessments: Vec<AssessmentView>,
    chart: Vec<ChartRow>,
    chart_height: u32,
    first_date: String,
    latest_date: String,
}

/// The tenant's areas: Kindred's defaults as the tenant words them, and its own.
pub(crate) async fn tenant_areas(state: &AppState, tenant_id: i64) -> AppResult<Vec<TenantArea>> {
    Ok(assessment::tenant_areas(&state.db.assessment_areas(tenant_id).await?))
}

/// The question of an area, asked or not any more.
pub(crate) fn question(areas: &[TenantArea], code: &str) -> String {
    areas
        .iter()
        .find(|a| a.code == code)
        .map(|a| a.question.clone())
        .unwrap_or_else(|| "Another area".into())
}

const ROW: u32 = 34;
/// Pixels per point of score on the chart.
const UNIT: u32 = 28;

pub async fn list(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/assessments",
    )
    .await?;
    let sharing = gate::sharing_facts(&state, id).await?;
    let readable = |a: &kindred_store::assessments::Assessment| {
        gate::readable_content(&cu, basis, a.organisation_id, DataCategory::Assessments, &sharing)
    };
    let all = state.db.assessments_of_family(id).await?;
    // Distance travelled only between assessments the reader may read.
    let shown: Vec<_> = all.iter().filter(|a| readable(a)).collect();
    let areas = tenant_areas(&state, cu.user.tenant_id).await?;
    let mut chart = vec![];
    let (mut first_date, mut latest_date) = (String::new(), String::new());
    if let (Some(first), Some(latest)) = (shown.first(), shown.last())
        && shown.len() > 1
    {
        first_date = dates::long(first.assessed_on);
        latest_date = dates::long(latest.assessed_on);
        let f: Vec<(String, u8)> = first.scores.iter().map(|s| (s.0.clone(), s.1)).collect();
        let l: Vec<(String, u8)> = latest.scores.iter().map(|s| (s.0.clone(), s.1)).collect();
        let pairs = assessment::distance_travelled(&f, &l);
        for area in &areas {
            if let Some((_, a, b)) = pairs.iter().find(|p| p.0 == area.code) {
                let y = chart.len() as u32 * ROW;
                chart.push(ChartRow {
                    question: area.question.clone(),
                    first: *a,
                    latest: *b,
                    y,
                    first_w: u32::from(*a) * UNIT,
                    latest_w: u32::from(*b) * UNIT,
                });
            }
        }
    }
    let assessments = all
        .into_iter()
        .rev()
        .map(|a| {
            if !readable(&a) {
                return AssessmentView {
                    date: dates::long(a.assessed_on),
                    author: a.author_name,
                    organisation: a.organisation_name,
                    strengths: String::new(),
                    changes: String::new(),
                    future: String::new(),
                    scores: vec![],
                    not_shared: true,
                };
            }
            AssessmentView {
                date: dates::long(a.assessed_on),
                author: a.author_name,
                organisation: a.organisation_name,
                strengths: a.strengths,
                changes: a.changes,
                future: a.future,
                scores: a
                    .scores
                    .into_iter()
                    .map(|(code, score, words)| ScoreView {
                        question: question(&areas, &code),
                        score,
                        words,
                    })
                    .collect(),
                not_shared: false,
            }
        })
        .collect();
    let page = AssessmentsPage {
        l: Layout::new(format!("Family assessments: {}", family.name), &cu),
        id,
        family_name: family.name,
        can_record: access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed(),
        assessments,
        chart_height: chart.len() as u32 * ROW + 10,
        chart,
        first_date,
        latest_date,
    };
    Ok(Html(page.render()?).into_response())
}

struct AreaField {
    area: TenantArea,
    score: String,
    words: String,
}

#[derive(Template)]
#[template(path = "assessment_new.html")]
struct NewAssessmentPage {
    l: Layout,
    id: i64,
    family_name: String,
    areas: Vec<AreaField>,
    strengths: String,
    changes: String,
    future: String,
    errors: Errors,
    /// Started from an earlier assessment.
    from_last: bool,
}

fn area_key(code: &str) -> String {
    format!("score-{code}")
}

pub async fn new_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/assessments/new",
    )
    .await?;
    // Start from the last assessment the reader may read: the family changes
    // what has changed.
    let sharing = gate::sharing_facts(&state, id).await?;
    let last = state
        .db
        .assessments_of_family(id)
        .await?
        .into_iter()
        .rfind(|a| gate::readable_content(&cu, basis, a.organisation_id, DataCategory::Assessments, &sharing));
    let areas = tenant_areas(&state, cu.user.tenant_id)
        .await?
        .into_iter()
        .filter(|a| a.asked)
        .map(|area| {
            let before = last.as_ref().and_then(|a| a.scores.iter().find(|s| s.0 == area.code));
            AreaField {
                area,
                score: before.map(|s| s.1.to_string()).unwrap_or_default(),
                words: before.map(|s| s.2.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let page = NewAssessmentPage {
        l: Layout::new("Family assessment", &cu),
        id,
        family_name: family.name,
        areas,
        strengths: last.as_ref().map(|a| a.strengths.clone()).unwrap_or_default(),
        changes: last.as_ref().map(|a| a.changes.clone()).unwrap_or_default(),
        future: last.as_ref().map(|a| a.future.clone()).unwrap_or_default(),
        errors: Errors::default(),
        from_last: last.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let family = gate::change_family(&state, &cu, id, "web POST /families/{id}/assessments/new").await?;
    let value = |k: &str| crate::forms::field(&pairs, k);
    let mut errors = Errors::default();
    let mut areas = vec![];
    let mut scores = vec![];
    for area in tenant_areas(&state, cu.user.tenant_id)
        .await?
        .into_iter()
        .filter(|a| a.asked)
    {
        let raw = value(&area_key(&area.code));
        let words = value(&format!("words-{}", area.code));
        match Score::parse(&raw) {
            Some(s) => scores.push((area.code.clone(), s.value(), words.clone())),
            None => errors.add(
                area.code.clone(),
                format!("Choose a score from 1 to 10 for {}", area.question.to_lowercase()),
            ),
        }
        areas.push(AreaField {
            area,
            score: raw,
            words,
        });
    }
    let (strengths, changes, future) = (value("strengths"), value("changes"), value("future"));
    if changes.is_empty() {
        errors.add("changes", "Enter what the family wants to change");
    }
    if !errors.is_empty() {
        let page = NewAssessmentPage {
            l: Layout::new("Error: Family assessment", &cu),
            id,
            family_name: family.name,
            areas,
            strengths,
            changes,
            future,
            errors,
            from_last: false,
        };
        return crate::errors::invalid(page);
    }
    let assessment = state
        .db
        .create_assessment(&NewAssessment {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            author_user_id: cu.user.id,
            assessed_on: kindred_store::today(),
            strengths,
            changes,
            future,
            scores,
        })
        .await?;
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::Assessment {
            id: assessment,
            family: id,
        },
        "web POST /families/{id}/assessments/new",
        String::new(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/assessments")).into_response())
}
