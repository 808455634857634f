//! The family plan (F7): one plan per family, read by every partner with
//! access. Goals in the family's words, tied to the family-led assessment's
//! areas; actions with one owner, a due date and a status; comments and
//! progress, including the family's own from the portal; reviews that
//! re-score the goals; and a version for every change.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::assessment::{Score, TenantArea};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::plan::{self, ActionStatus, GoalStatus, Owner};
use kindred_store::plans::{Author, NewAction, NewGoal, NewReview, Snapshot};
use time::Date;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, field, ticked};
use crate::layout::Layout;

const ROUTE: &str = "web GET /families/{id}/plan";

pub struct CommentView {
    pub author: String,
    pub by_family: bool,
    pub body: String,
    pub progress: String,
    pub when: String,
}

pub struct ActionView {
    pub id: i64,
    pub description: String,
    pub owner: String,
    pub due: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub overdue: bool,
    pub shared: bool,
    pub comments: Vec<CommentView>,
    /// The portal: may this family member record progress on it.
    pub mine: bool,
}

pub struct GoalView {
    pub id: i64,
    /// The assessment area's question, as the tenant words it, or empty.
    pub area: String,
    pub words: String,
    pub baseline: String,
    pub latest: String,
    pub status: &'static str,
    pub shared: bool,
    pub actions: Vec<ActionView>,
}

pub struct ReviewView {
    pub date: String,
    pub author: String,
    pub summary: String,
    pub next: String,
}

/// The plan as views, with comments under their actions. `keep` decides which
/// goals and actions appear (everything for staff; the shared ones in the portal).
pub async fn plan_views(
    state: &AppState,
    tenant_id: i64,
    family_id: i64,
    keep: impl Fn(bool) -> bool,
    portal_person: Option<i64>,
) -> AppResult<(Vec<GoalView>, Vec<ReviewView>, i64)> {
    let p = state.db.plan_of_family(family_id).await?;
    let comments = state.db.plan_comments(family_id).await?;
    let today = kindred_store::today();
    let areas = super::assessments::tenant_areas(state, tenant_id).await?;
    let goals = p
        .goals
        .into_iter()
        .filter(|g| keep(g.shared_with_family))
        .map(|g| GoalView {
            id: g.id,
            area: if g.area.is_empty() {
                String::new()
            } else {
                super::assessments::question(&areas, &g.area)
            },
            words: g.words,
            baseline: g.baseline_score.map(|s| s.to_string()).unwrap_or_default(),
            latest: g.latest_score.map(|s| s.to_string()).unwrap_or_default(),
            status: g.status.label(),
            shared: g.shared_with_family,
            actions: g
                .actions
                .into_iter()
                .filter(|a| keep(a.shared_with_family))
                .map(|a| ActionView {
                    id: a.id,
                    owner: a.owner_name,
                    due: dates::long(a.due_on),
                    status: a.status.label(),
                    status_code: a.status.code(),
                    overdue: plan::is_overdue(a.status, a.due_on, today),
                    shared: a.shared_with_family,
                    mine: portal_person.is_some_and(|p| a.owner == Some(Owner::FamilyMember(p))),
                    comments: comments
                        .iter()
                        .filter(|c| c.action_id == a.id)
                        .map(|c| CommentView {
                            author: c.author_name.clone(),
                            by_family: c.by_family,
                            body: c.body.clone(),
                            progress: c
                                .progress
                                .as_deref()
                                .and_then(ActionStatus::parse)
                                .map(|s| s.label())
                                .unwrap_or("")
                                .to_string(),
                            when: super::when(c.created_at_ms),
                        })
                        .collect(),
                    description: a.description,
                })
                .collect(),
        })
        .collect();
    let reviews = p
        .reviews
        .into_iter()
        .rev()
        .map(|r| ReviewView {
            date: dates::long(r.reviewed_on),
            author: r.author_name,
            summary: r.summary,
            next: super::opt_date(r.next_review_on),
        })
        .collect();
    Ok((goals, reviews, p.version))
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    l: Layout,
    id: i64,
    family_name: String,
    can_edit: bool,
    goals: Vec<GoalView>,
    reviews: Vec<ReviewView>,
    version: i64,
    statuses: &'static [ActionStatus],
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _, facts) = gate::family_with_facts(&state, &cu, id, FamilyAction::View, false, ROUTE).await?;
    let (goals, reviews, version) = plan_views(&state, cu.user.tenant_id, id, |_| true, None).await?;
    let page = PlanPage {
        l: Layout::new(format!("Family plan: {}", family.name), &cu),
        id,
        family_name: family.name,
        can_edit: kindred_domain::access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed(),
        goals,
        reviews,
        version,
        statuses: &ActionStatus::ALL,
    };
    Ok(Html(page.render()?).into_response())
}

async fn audit_change(state: &AppState, cu: &CurrentUser, id: i64, route: &str, detail: String) -> AppResult<()> {
    gate::audit(state, cu, AuditAction::Update, gate::Record::Plan(id), route, detail).await
}

// ---- goals ----

#[derive(Default)]
struct GoalForm {
    area: String,
    words: String,
    baseline: String,
    shared: bool,
}

#[derive(Template)]
#[template(path = "plan_goal.html")]
struct GoalPage {
    l: Layout,
    id: i64,
    family_name: String,
    form: GoalForm,
    errors: Errors,
    /// The areas new assessments ask, as the tenant words them.
    areas: Vec<TenantArea>,
    /// (area code, score) from the latest family-led assessment.
    last_scores: Vec<(String, u8)>,
}

pub async fn new_goal_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/plan/goals/new",
    )
    .await?;
    let page = goal_page(
        &state,
        &cu,
        id,
        family.name,
        GoalForm {
            shared: true,
            ..Default::default()
        },
        Errors::default(),
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

async fn goal_page(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    family_name: String,
    form: GoalForm,
    errors: Errors,
) -> AppResult<GoalPage> {
    let last = state.db.assessments_of_family(id).await?.pop();
    Ok(GoalPage {
        l: Layout::new(
            if errors.is_empty() {
                "Add a goal"
            } else {
                "Error: Add a goal"
            },
            cu,
        ),
        id,
        family_name,
        form,
        errors,
        areas: super::assessments::tenant_areas(state, cu.user.tenant_id)
            .await?
            .into_iter()
            .filter(|a| a.asked)
            .collect(),
        last_scores: last
            .map(|a| a.scores.into_iter().map(|s| (s.0, s.1)).collect())
            .unwrap_or_default(),
    })
}

pub async fn create_goal(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/plan/goals/new";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let form = GoalForm {
        area: field(&pairs, "area"),
        words: field(&pairs, "words"),
        baseline: field(&pairs, "baseline"),
        shared: ticked(&pairs, "shared"),
    };
    let mut errors = Errors::default();
    let asked = super::assessments::tenant_areas(&state, cu.user.tenant_id).await?;
    if !form.area.is_empty() && !asked.iter().any(|a| a.asked && a.code == form.area) {
        errors.add("area", "Select an area of family life from the list");
    }
    if form.words.is_empty() {
        errors.add("words", "Enter the goal in the family's words");
    } else if form.words.chars().count() > 1_000 {
        errors.add("words", "The goal must be 1,000 characters or fewer");
    }
    // Without a score given, the goal starts from the area's latest assessment score.
    let baseline = if form.baseline.is_empty() {
        let last = state.db.assessments_of_family(id).await?.pop();
        last.and_then(|a| a.scores.into_iter().find(|s| s.0 == form.area).map(|s| s.1))
    } else {
        match Score::parse(&form.baseline) {
            Some(s) => Some(s.value()),
            None => {
                errors.add("baseline", "The starting score must be a number from 1 to 10");
                None
            }
        }
    };
    if !errors.is_empty() {
        let page = goal_page(&state, &cu, id, family.name, form, errors).await?;
        return crate::errors::invalid(page);
    }
    let goal = state
        .db
        .add_plan_goal(&NewGoal {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            area: form.area,
            words: form.words,
            baseline_score: baseline,
            shared_with_family: form.shared,
            by_user: cu.user.id,
        })
        .await?;
    audit_change(&state, &cu, id, route, format!("goal={goal}")).await?;
    Ok(Redirect::to(&format!("/families/{id}/plan#goal-{goal}")).into_response())
}

// ---- actions ----

#[derive(Default)]
struct ActionForm {
    goal: String,
    description: String,
    owner: String,
    day: String,
    month: String,
    year: String,
    shared: bool,
}

#[derive(Template)]
#[template(path = "plan_action.html")]
struct ActionPage {
    l: Layout,
    id: i64,
    family_name: String,
    form: ActionForm,
    errors: Errors,
    goals: Vec<(String, String)>,
    /// (group label, [(value, label)])
    owners: Vec<(&'static str, Vec<(String, String)>)>,
}

/// Who may own an action: the team around the family, the organisations
/// involved, and the family's current members.
async fn owner_choices(state: &AppState, id: i64) -> AppResult<Vec<(&'static str, Vec<(String, String)>)>> {
    let team = state
        .db
        .team(id)
        .await?
        .into_iter()
        .filter(|t| t.until_date.is_none())
        .map(|t| {
            (
                Owner::Worker(t.user_id).form_value(),
                format!("{} ({})", t.display_name, t.organisation_name),
            )
        })
        .collect();
    let mut orgs: Vec<(String, String)> = vec![];
    for i in state
        .db
        .involvements(id)
        .await?
        .into_iter()
        .filter(|i| i.ended_on.is_none())
    {
        let v = Owner::Organisation(i.organisation_id).form_value();
        if !orgs.iter().any(|o| o.0 == v) {
            orgs.push((v, i.organisation_name));
        }
    }
    let members = state
        .db
        .members(id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| (Owner::FamilyMember(m.person.id).form_value(), m.person.full_name()))
        .collect();
    Ok(vec![
        ("The team around the family", team),
        ("An organisation", orgs),
        ("The family", members),
    ])
}

async fn action_page(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    family_name: String,
    form: ActionForm,
    errors: Errors,
) -> AppResult<ActionPage> {
    let plan = state.db.plan_of_family(id).await?;
    Ok(ActionPage {
        l: Layout::new(
            if errors.is_empty() {
                "Add an action"
            } else {
                "Error: Add an action"
            },
            cu,
        ),
        id,
        family_name,
        form,
        errors,
        goals: plan
            .goals
            .into_iter()
            .filter(|g| g.status == GoalStatus::Active)
            .map(|g| (g.id.to_string(), g.words))
            .collect(),
        owners: owner_choices(state, id).await?,
    })
}

#[derive(serde::Deserialize)]
pub struct GoalQuery {
    goal: Option<i64>,
}

pub async fn new_action_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    axum::extract::Query(q): axum::extract::Query<GoalQuery>,
) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/plan/actions/new",
    )
    .await?;
    let form = ActionForm {
        goal: q.goal.map(|g| g.to_string()).unwrap_or_default(),
        owner: Owner::Worker(cu.user.id).form_value(),
        shared: true,
        ..Default::default()
    };
    let page = action_page(&state, &cu, id, family.name, form, Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create_action(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/plan/actions/new";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let form = ActionForm {
        goal: field(&pairs, "goal"),
        description: field(&pairs, "description"),
        owner: field(&pairs, "owner"),
        day: field(&pairs, "due_day"),
        month: field(&pairs, "due_month"),
        year: field(&pairs, "due_year"),
        shared: ticked(&pairs, "shared"),
    };
    let mut errors = Errors::default();
    let plan = state.db.plan_of_family(id).await?;
    let goal = form
        .goal
        .parse::<i64>()
        .ok()
        .filter(|g| plan.goals.iter().any(|x| x.id == *g && x.status == GoalStatus::Active));
    if goal.is_none() {
        errors.add("goal", "Select the goal this action works towards");
    }
    if form.description.is_empty() {
        errors.add("description", "Enter what will be done");
    } else if form.description.chars().count() > 1_000 {
        errors.add("description", "The action must be 1,000 characters or fewer");
    }
    let choices = owner_choices(&state, id).await?;
    let owner = Owner::parse(&form.owner).filter(|_| {
        choices
            .iter()
            .any(|(_, list)| list.iter().any(|(v, _)| *v == form.owner))
    });
    if owner.is_none() {
        errors.add(
            "owner",
            "Select who will do this: someone in the team, an organisation involved, or a family member",
        );
    }
    let due = match dates::parse_date_parts(&form.day, &form.month, &form.year) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("due", format!("Due date {e}"));
            None
        }
    };
    let (Some(goal), Some(owner), Some(due_on), true) = (goal, owner, due, errors.is_empty()) else {
        let page = action_page(&state, &cu, id, family.name, form, errors).await?;
        return crate::errors::invalid(page);
    };
    let action = state
        .db
        .add_plan_action(&NewAction {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            goal_id: goal,
            description: form.description,
            owner,
            due_on,
            shared_with_family: form.shared,
            by_user: cu.user.id,
        })
        .await?;
    audit_change(&state, &cu, id, route, format!("action={action}")).await?;
    Ok(Redirect::to(&format!("/families/{id}/plan#action-{action}")).into_response())
}

/// A worker records progress or a comment on an action.
pub async fn update_action(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, action)): Ids<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/plan/actions/{action}";
    gate::change_family(&state, &cu, id, route).await?;
    let comment = field(&pairs, "comment");
    let status = ActionStatus::parse(&field(&pairs, "status"));
    let plan = state.db.plan_of_family(id).await?;
    let current = plan
        .goals
        .iter()
        .flat_map(|g| g.actions.iter())
        .find(|a| a.id == action)
        .ok_or(AppError::NotFound)?;
    match status {
        Some(s) if s != current.status => {
            state
                .db
                .set_action_status(
                    id,
                    action,
                    s,
                    Author::User(cu.user.id),
                    &comment,
                    kindred_store::today(),
                )
                .await?
        }
        _ if !comment.is_empty() => {
            state
                .db
                .add_plan_comment(id, action, Author::User(cu.user.id), &comment)
                .await?;
        }
        _ => {}
    }
    audit_change(&state, &cu, id, route, format!("action={action}")).await?;
    Ok(Redirect::to(&format!("/families/{id}/plan#action-{action}")).into_response())
}

// ---- reviews ----

struct ReviewGoal {
    id: i64,
    words: String,
    score: String,
    status: String,
}

#[derive(Template)]
#[template(path = "plan_review.html")]
struct ReviewPage {
    l: Layout,
    id: i64,
    family_name: String,
    goals: Vec<ReviewGoal>,
    summary: String,
    next_day: String,
    next_month: String,
    next_year: String,
    errors: Errors,
    goal_statuses: &'static [GoalStatus],
}

pub async fn review_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/plan/review",
    )
    .await?;
    let plan = state.db.plan_of_family(id).await?;
    let goals = plan
        .goals
        .into_iter()
        .filter(|g| g.status == GoalStatus::Active)
        .map(|g| ReviewGoal {
            id: g.id,
            score: g
                .latest_score
                .or(g.baseline_score)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            status: g.status.code().into(),
            words: g.words,
        })
        .collect();
    let page = ReviewPage {
        l: Layout::new("Review the plan", &cu),
        id,
        family_name: family.name,
        goals,
        summary: String::new(),
        next_day: String::new(),
        next_month: String::new(),
        next_year: String::new(),
        errors: Errors::default(),
        goal_statuses: &GoalStatus::ALL,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn review(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/plan/review";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let plan = state.db.plan_of_family(id).await?;
    let mut errors = Errors::default();
    let mut goals = vec![];
    let mut scores = vec![];
    let mut statuses = vec![];
    for g in plan.goals.into_iter().filter(|g| g.status == GoalStatus::Active) {
        let raw = field(&pairs, &format!("score-{}", g.id));
        let status = field(&pairs, &format!("status-{}", g.id));
        match Score::parse(&raw) {
            Some(s) => scores.push((g.id, s.value())),
            None if errors.is_empty() => errors.add(
                "scores",
                format!(
                    "Score every goal from 1 to 10: \u{201c}{}\u{201d} has no score",
                    g.words
                ),
            ),
            None => {}
        }
        if let Some(s) = GoalStatus::parse(&status).filter(|s| *s != GoalStatus::Active) {
            statuses.push((g.id, s));
        }
        goals.push(ReviewGoal {
            id: g.id,
            words: g.words,
            score: raw,
            status,
        });
    }
    let summary = field(&pairs, "summary");
    if summary.is_empty() {
        errors.add("summary", "Enter what the review found and agreed");
    }
    let (d, m, y) = (
        field(&pairs, "next_day"),
        field(&pairs, "next_month"),
        field(&pairs, "next_year"),
    );
    let today = kindred_store::today();
    let next: Option<Date> = if d.is_empty() && m.is_empty() && y.is_empty() {
        None
    } else {
        match dates::parse_date_parts(&d, &m, &y) {
            Ok(n) if n > today => Some(n),
            Ok(_) => {
                errors.add("next", "The next review must be after today");
                None
            }
            Err(e) => {
                errors.add("next", format!("Next review date {e}"));
                None
            }
        }
    };
    if !errors.is_empty() {
        let page = ReviewPage {
            l: Layout::new("Error: Review the plan", &cu),
            id,
            family_name: family.name,
            goals,
            summary,
            next_day: d,
            next_month: m,
            next_year: y,
            errors,
            goal_statuses: &GoalStatus::ALL,
        };
        return crate::errors::invalid(page);
    }
    let review = state
        .db
        .add_plan_review(&NewReview {
            tenant_id: cu.user.tenant_id,
            family_id: id,
            reviewed_on: today,
            by_user: cu.user.id,
            summary,
            next_review_on: next,
            scores,
            goal_statuses: statuses,
        })
        .await?;
    audit_change(&state, &cu, id, route, format!("review={review}")).await?;
    Ok(Redirect::to(&format!("/families/{id}/plan")).into_response())
}

// ---- history ----

struct VersionView {
    version: i64,
    when: String,
    author: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "plan_versions.html")]
struct VersionsPage {
    l: Layout,
    id: i64,
    family_name: String,
    versions: Vec<VersionView>,
    /// The version being shown, with its plan.
    shown: Option<(i64, Snapshot)>,
}

pub async fn versions(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    versions_page(state, cu, id, None).await
}

pub async fn version(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, v)): Ids<(i64, i64)>,
) -> AppResult<Response> {
    versions_page(state, cu, id, Some(v)).await
}

async fn versions_page(state: AppState, cu: CurrentUser, id: i64, shown: Option<i64>) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/plan/versions",
    )
    .await?;
    let shown = match shown {
        Some(v) => Some((v, state.db.plan_version(id, v).await?.ok_or(AppError::NotFound)?)),
        None => None,
    };
    let versions = state
        .db
        .plan_versions(id)
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            when: super::when(v.at_ms),
            author: v.author_name,
            summary: v.summary,
        })
        .collect();
    let page = VersionsPage {
        l: Layout::new(format!("Plan history: {}", family.name), &cu),
        id,
        family_name: family.name,
        versions,
        shown,
    };
    Ok(Html(page.render()?).into_response())
}

impl VersionsPage {
    fn status_label(&self, code: &str) -> &'static str {
        ActionStatus::parse(code)
            .map(|s| s.label())
            .or_else(|| GoalStatus::parse(code).map(|g| g.label()))
            .unwrap_or("")
    }
}

// ---- my overdue actions ----

/// One of a worker's overdue plan actions, as `overdue_actions_table.html` shows it.
pub struct OverdueView {
    pub family_id: i64,
    pub family_name: String,
    pub description: String,
    pub due: String,
    pub days: i64,
}

#[derive(Template)]
#[template(path = "overdue_actions.html")]
struct OverduePage {
    l: Layout,
    overdue_actions: Vec<OverdueView>,
}

/// The signed-in worker's overdue plan actions, in families they may still see.
pub async fn my_overdue_views(state: &AppState, cu: &CurrentUser) -> AppResult<Vec<OverdueView>> {
    let today = kindred_store::today();
    let rows = state.db.overdue_actions(cu.user.id, today).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.family_id).collect();
    ids.dedup();
    let allowed = gate::filter_visible(state, cu, &ids).await?;
    Ok(rows
        .into_iter()
        .filter(|r| allowed.contains(&r.family_id))
        .map(|r| {
            let status = ActionStatus::parse(&r.status).unwrap_or(ActionStatus::NotStarted);
            OverdueView {
                family_id: r.family_id,
                days: plan::days_overdue(status, r.due_on, today),
                due: dates::long(r.due_on),
                family_name: r.family_name,
                description: r.description,
            }
        })
        .collect())
}

pub async fn overdue(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    let actions = my_overdue_views(&state, &cu).await?;
    if !actions.is_empty() {
        gate::audit(
            &state,
            &cu,
            AuditAction::Read,
            gate::Record::FamilyList,
            "web GET /actions/overdue",
            format!("actions={}", actions.len()),
        )
        .await?;
    }
    let page = OverduePage {
        l: Layout::new("My overdue actions", &cu),
        overdue_actions: actions,
    };
    Ok(Html(page.render()?).into_response())
}
