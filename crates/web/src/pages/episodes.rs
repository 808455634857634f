//! Episodes of work with a family: opened from triage or here by a lead
//! professional, moved through assessment, plan and review, stepped up to
//! children's social care or down to early help, closed with a reason and an
//! outcome, and reopened. Each change is allowed by `domain::episode::apply`,
//! stored with its line on the timeline, and audited. Entering a plan or a
//! review puts a "review due" task in the lead's inbox.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::episode::{self, Change, EventKind, Outcome, Stage, Status};
use kindred_domain::outcomes::{self, NeedResult, ResultAnswer};
use kindred_domain::referral::Level;
use kindred_domain::task;
use kindred_store::StoreError;
use kindred_store::episodes::{Episode, EpisodeUpdate, NewEpisodeEvent};
use kindred_store::outcomes::ResultRow;
use kindred_store::tasks::NewTask;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, field};
use crate::layout::Layout;

/// An episode as a list or page shows it.
pub struct EpisodeView {
    pub id: i64,
    pub level: &'static str,
    pub stage: &'static str,
    pub open: bool,
    pub lead: String,
    pub opened: String,
    pub closed: String,
    pub reason: String,
    pub outcome: &'static str,
}

impl EpisodeView {
    pub fn of(e: &Episode) -> EpisodeView {
        EpisodeView {
            id: e.id,
            level: Level::parse(&e.level)
                .map(|l| l.label())
                .unwrap_or("Level not recorded"),
            stage: Stage::parse(&e.stage).map(|s| s.label()).unwrap_or(""),
            open: e.status == Status::Open.code(),
            lead: e.lead_name.clone().unwrap_or_default(),
            opened: dates::long(e.opened_on),
            closed: super::opt_date(e.closed_on),
            reason: e.close_reason.clone().unwrap_or_default(),
            outcome: e
                .outcome
                .as_deref()
                .and_then(Outcome::parse)
                .map(|o| o.label())
                .unwrap_or(""),
        }
    }
}

struct EventView {
    when: String,
    what: String,
    by: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "episode.html")]
struct EpisodePage {
    l: Layout,
    family_id: i64,
    family_name: String,
    e: EpisodeView,
    timeline: Vec<EventView>,
    manage: bool,
    /// Stages the episode may move to now.
    next: Vec<Stage>,
    can_step_up: bool,
    can_step_down: bool,
    workers: Vec<(i64, String)>,
    outcomes: &'static [Outcome],
    errors: Errors,
    reason: String,
    outcome: String,
    /// The episode's needs register (issue 7, F15): each need with its
    /// outcome's title, and the closure form's answers for the open ones.
    needs: Vec<ClosureNeed>,
    results: &'static [NeedResult],
}

/// A need of the episode as its page and closure form show it.
struct ClosureNeed {
    title: String,
    need: super::outcomes::NeedView,
}

fn value_label(kind: EventKind, v: &str) -> String {
    match kind {
        EventKind::Opened | EventKind::SteppedUp | EventKind::SteppedDown => {
            Level::parse(v).map(|l| l.label().to_string()).unwrap_or_default()
        }
        // Closing always leads to closure: the reason, shown below it, says more.
        EventKind::Closed => String::new(),
        EventKind::StageChanged | EventKind::Reopened => {
            Stage::parse(v).map(|s| s.label().to_string()).unwrap_or_default()
        }
        EventKind::LeadChanged => v.to_string(),
    }
}

fn state_of(e: &Episode) -> episode::State {
    episode::State {
        status: Status::parse(&e.status).unwrap_or(Status::Open),
        stage: Stage::parse(&e.stage).unwrap_or(Stage::Assessment),
        level: Level::parse(&e.level).unwrap_or(Level::SingleAgency),
    }
}

/// What the closure form sent back, with its errors.
#[derive(Default)]
struct Answers {
    errors: Errors,
    reason: String,
    outcome: String,
    /// (need id, result code, evidence) for each open need, as sent.
    needs: Vec<(i64, String, String)>,
}

async fn render(
    state: &AppState,
    cu: &CurrentUser,
    family_name: String,
    e: &Episode,
    manage: bool,
    answers: Answers,
) -> AppResult<Response> {
    let Answers {
        errors,
        reason,
        outcome,
        needs: answered,
    } = answers;
    let framework = super::outcomes::tenant_framework(state, cu.user.tenant_id).await?;
    let needs = state
        .db
        .episode_needs(e.id)
        .await?
        .iter()
        .map(|n| {
            let mut need = super::outcomes::NeedView::of(n);
            if let Some((_, r, ev)) = answered.iter().find(|a| a.0 == n.id) {
                need.answer_result = r.clone();
                need.answer_evidence = ev.clone();
            }
            ClosureNeed {
                title: outcomes::title(&framework, &n.outcome_code).to_string(),
                need,
            }
        })
        .collect();
    let events = state.db.episode_events(e.id).await?;
    let timeline = events
        .into_iter()
        .map(|ev| {
            let kind = EventKind::parse(&ev.kind);
            let what = match kind {
                Some(k) => {
                    let to = ev.to_value.as_deref().map(|v| value_label(k, v)).unwrap_or_default();
                    if to.is_empty() {
                        k.label().to_string()
                    } else {
                        format!("{}: {to}", k.label())
                    }
                }
                None => "Changed".to_string(),
            };
            EventView {
                when: super::when(ev.at_ms),
                what,
                by: ev.by_name.unwrap_or_default(),
                detail: ev.detail,
            }
        })
        .collect();
    let now = state_of(e);
    let workers = if manage {
        state
            .db
            .team(e.family_id)
            .await?
            .into_iter()
            .filter(|t| t.until_date.is_none() && Some(t.user_id) != e.lead_user_id)
            .map(|t| (t.user_id, t.display_name))
            .collect()
    } else {
        vec![]
    };
    let title = if errors.is_empty() {
        "Episode".to_string()
    } else {
        "Error: Episode".to_string()
    };
    let page = EpisodePage {
        l: Layout::new(title, cu),
        family_id: e.family_id,
        family_name,
        e: EpisodeView::of(e),
        timeline,
        manage,
        next: if now.status == Status::Open {
            episode::next_stages(now.stage).to_vec()
        } else {
            vec![]
        },
        can_step_up: episode::apply(now, &Change::StepUp).is_ok(),
        can_step_down: episode::apply(now, &Change::StepDown).is_ok(),
        workers,
        outcomes: Outcome::ALL,
        errors,
        reason,
        outcome,
        needs,
        results: NeedResult::ALL,
    };
    if page.errors.is_empty() {
        Ok(Html(page.render()?).into_response())
    } else {
        crate::errors::invalid(page)
    }
}

pub async fn show(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, eid)): Ids<(i64, i64)>,
) -> AppResult<Response> {
    let (family, e, manage) = gate::episode(
        &state,
        &cu,
        id,
        eid,
        false,
        "web GET /families/{id}/episodes/{episode_id}",
    )
    .await?;
    render(&state, &cu, family.name, &e, manage, Answers::default()).await
}

/// Opens an episode directly: the user must be able to change the family.
pub async fn open(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/episodes";
    let family = gate::open_episode(&state, &cu, id, route).await?;
    // Early help: single agency or multi-agency; a family with social care is stepped up from an episode.
    let level = match Level::parse(&field(&pairs, "level")) {
        Some(l @ (Level::SingleAgency | Level::Targeted)) => l,
        _ => Level::Targeted,
    };
    // The lead: the user, or a worker in the team around the family.
    let lead = match field(&pairs, "lead").parse::<i64>() {
        Ok(u) if u != cu.user.id => {
            let team = state.db.team(id).await?;
            if !team.iter().any(|t| t.user_id == u && t.until_date.is_none()) {
                return Err(AppError::NotFound);
            }
            u
        }
        _ => cu.user.id,
    };
    let today = kindred_store::today();
    let eid = state
        .db
        .open_episode(
            cu.user.tenant_id,
            family.id,
            None,
            Some(lead),
            level.code(),
            Some(cu.user.id),
            today,
        )
        .await?;
    state.db.touch_family(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::Episode { id: eid, family: id },
        route,
        String::new(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/episodes/{eid}")).into_response())
}

/// Every change to an episode: `action` is stage, lead, step-up, step-down, close or reopen.
pub async fn change(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, eid, action)): Ids<(i64, i64, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/episodes/{episode_id}/{action}";
    let (family, e, _) = gate::episode(&state, &cu, id, eid, true, route).await?;
    let before = state_of(&e);
    let mut lead = e.lead_user_id;
    let mut lead_name = None;
    // The open needs' results, recorded with the closure.
    let mut results: Vec<ResultRow> = vec![];
    let change = match action.as_str() {
        "stage" => Change::MoveTo(Stage::parse(&field(&pairs, "stage")).ok_or(AppError::NotFound)?),
        "lead" => {
            let u: i64 = field(&pairs, "lead").parse().map_err(|_| AppError::NotFound)?;
            let team = state.db.team(id).await?;
            let t = team
                .iter()
                .find(|t| t.user_id == u && t.until_date.is_none())
                .ok_or(AppError::NotFound)?;
            lead = Some(u);
            lead_name = Some(t.display_name.clone());
            Change::ChangeLead
        }
        "step-up" => Change::StepUp,
        "step-down" => Change::StepDown,
        "close" => {
            let reason = field(&pairs, "reason");
            let outcome_code = field(&pairs, "outcome");
            let outcome = Outcome::parse(&outcome_code);
            let mut errors = Errors::default();
            if reason.is_empty() {
                errors.add("reason", "Enter the reason for closing the episode");
            }
            if outcome.is_none() {
                errors.add("outcome", "Choose the outcome of the episode");
            }
            // Every open need in the episode's register needs a result and its evidence.
            let open: Vec<ResultAnswer> = state
                .db
                .episode_needs(eid)
                .await?
                .into_iter()
                .filter(|n| n.result.is_none())
                .map(|n| ResultAnswer {
                    need_id: n.id,
                    result: NeedResult::parse(&field(&pairs, &outcomes::result_field(n.id))),
                    evidence: field(&pairs, &outcomes::evidence_field(n.id)),
                    description: n.description,
                })
                .collect();
            super::outcomes::add_errors(&mut errors, outcomes::closure_errors(&open));
            if !errors.is_empty() {
                let manage = true;
                let answers = Answers {
                    errors,
                    reason,
                    outcome: outcome_code,
                    needs: open
                        .iter()
                        .map(|a| {
                            (
                                a.need_id,
                                field(&pairs, &outcomes::result_field(a.need_id)),
                                a.evidence.clone(),
                            )
                        })
                        .collect(),
                };
                return render(&state, &cu, family.name, &e, manage, answers).await;
            }
            results = open
                .into_iter()
                .filter_map(|a| a.result.map(|r| (a.need_id, r.code(), a.evidence)))
                .collect();
            Change::Close { reason, outcome }
        }
        "reopen" => Change::Reopen,
        _ => return Err(AppError::NotFound),
    };
    let after = match episode::apply(before, &change) {
        Ok(s) => s,
        Err(refusal) => {
            let mut errors = Errors::default();
            errors.add("episode", refusal.to_string());
            let answers = Answers {
                errors,
                ..Answers::default()
            };
            return render(&state, &cu, family.name, &e, true, answers).await;
        }
    };
    let today = kindred_store::today();
    let (closed_on, close_reason, outcome) = match &change {
        Change::Close { reason, outcome } => (Some(today), Some(reason.clone()), outcome.map(|o| o.code())),
        Change::Reopen => (None, None, None),
        _ => (
            e.closed_on,
            e.close_reason.clone(),
            e.outcome.as_deref().and_then(Outcome::parse).map(|o| o.code()),
        ),
    };
    let kind = change.event();
    let (from_value, to_value, detail) = match &change {
        Change::MoveTo(_) | Change::Reopen => (
            Some(before.stage.code().into()),
            Some(after.stage.code().into()),
            String::new(),
        ),
        Change::Close { reason, .. } => (
            Some(before.stage.code().into()),
            Some(after.stage.code().into()),
            reason.clone(),
        ),
        Change::StepUp | Change::StepDown => (
            Some(before.level.code().into()),
            Some(after.level.code().into()),
            String::new(),
        ),
        Change::ChangeLead => (e.lead_name.clone(), lead_name, String::new()),
    };
    let update = EpisodeUpdate {
        status: after.status.code(),
        stage: after.stage.code(),
        level: after.level.code(),
        lead_user_id: lead,
        closed_on,
        close_reason,
        outcome,
    };
    let event = NewEpisodeEvent {
        by_user_id: Some(cu.user.id),
        kind: kind.code(),
        from_value,
        to_value,
        detail,
    };
    if let Change::Close { .. } = &change {
        // The results and the closure together; a need added or answered
        // meanwhile refuses the closure rather than leaving a need open.
        match state
            .db
            .close_episode_with_results(eid, &update, &event, &results, today, cu.user.id)
            .await
        {
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Conflict("the episode's needs changed: reload the episode"));
            }
            other => other?,
        }
        sustainment_check(&state, &cu, id, &e, lead, today).await?;
    } else {
        state.db.update_episode(eid, &update, &event).await?;
    }
    // A new lead takes over the reviews.
    if let (Change::ChangeLead, Some(new_lead)) = (&change, lead) {
        state
            .db
            .reassign_episode_tasks(eid, task::Kind::ReviewDue.code(), new_lead)
            .await?;
    }
    // A plan or a review starts the clock on the next review; closing stops it.
    if after.stage != before.stage || after.status != before.status {
        state
            .db
            .complete_episode_tasks(eid, task::Kind::ReviewDue.code(), cu.user.id)
            .await?;
        if after.status == Status::Open && episode::review_due_on_entering(after.stage) {
            state
                .db
                .add_task(&NewTask {
                    tenant_id: cu.user.tenant_id,
                    kind: task::Kind::ReviewDue.code(),
                    family_id: Some(id),
                    episode_id: Some(eid),
                    assigned_user_id: Some(lead.unwrap_or(cu.user.id)),
                    assigned_team_id: None,
                    title: format!("Review the episode's {}", after.stage.label().to_lowercase()),
                    due_on: today + time::Duration::weeks(episode::REVIEW_WEEKS),
                    created_by_user_id: Some(cu.user.id),
                })
                .await?;
        }
    }
    state.db.touch_family(id).await?;
    Ok(Redirect::to(&format!("/families/{id}/episodes/{eid}")).into_response())
}

/// On closure, when any of the episode's needs was achieved: a task, due six
/// months on, to check whether the outcomes were sustained — for the lead,
/// else the closer's team, else the closer.
async fn sustainment_check(
    state: &AppState,
    cu: &CurrentUser,
    family_id: i64,
    e: &Episode,
    lead: Option<i64>,
    closed_on: time::Date,
) -> AppResult<()> {
    let achieved = state
        .db
        .episode_needs(e.id)
        .await?
        .iter()
        .any(|n| n.result.as_deref() == Some(NeedResult::Achieved.code()));
    if !achieved {
        return Ok(());
    }
    let (user, team) = match (lead, cu.user.team_id) {
        (Some(u), _) => (Some(u), None),
        (None, Some(t)) => (None, Some(t)),
        (None, None) => (Some(cu.user.id), None),
    };
    state
        .db
        .add_task(&NewTask {
            tenant_id: cu.user.tenant_id,
            kind: task::Kind::SustainmentCheck.code(),
            family_id: Some(family_id),
            episode_id: Some(e.id),
            assigned_user_id: user,
            assigned_team_id: team,
            title: "Check whether the outcomes were sustained".into(),
            due_on: outcomes::sustainment_due(closed_on),
            created_by_user_id: Some(cu.user.id),
        })
        .await?;
    Ok(())
}
