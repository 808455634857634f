//! Each role's home page, and the health and metrics endpoints. A triage
//! officer sees the queue first; a manager their team's caseload and what is
//! overdue across it; a practitioner their tasks (overdue first), new alerts
//! and their families.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use kindred_domain::model::Role;
use serde::Deserialize;

use crate::AppState;
use crate::access;
use crate::auth::CurrentUser;
use crate::errors::AppResult;
use crate::layout::Layout;

const PAGE_SIZE: i64 = 25;

struct FamilyRow {
    id: i64,
    name: String,
    members: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    l: Layout,
    families: Vec<FamilyRow>,
    /// How many: "25", or "More than 1,000" past the count's cap.
    total: String,
    is_triage: bool,
    prev_page: Option<i64>,
    next_page: Option<i64>,
    /// (waiting, overdue) in the triage queue, for triage officers.
    queue: Option<(i64, i64)>,
    unread: i64,
    is_practitioner: bool,
    /// The practitioner's open tasks, overdue first (a few; the rest at /tasks).
    my_tasks: Vec<super::tasks::TaskRow>,
    /// (open, overdue) tasks of the user.
    task_counts: (i64, i64),
    /// The newest unread notifications: (when, message).
    alerts: Vec<(String, String)>,
    /// A manager's team (or organisation) and each worker's share of its work.
    caseload: Option<Caseload>,
    /// The practitioner's overdue plan actions.
    overdue_actions: Vec<super::plan::OverdueView>,
    /// For a privacy officer: how many overrides wait for review.
    privacy: Option<i64>,
    /// For a data officer: how many records wait for match review.
    data_office: Option<i64>,
}

struct Caseload {
    scope: String,
    rows: Vec<kindred_store::tasks::CaseloadRow>,
    overdue: Vec<super::tasks::TaskRow>,
}

/// Tasks listed on the home page; the inbox has the rest.
const HOME_TASKS: i64 = 8;

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn home(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    // One row more than the page shows says whether there is a next page.
    let (mut rows, total) = state
        .db
        .visible_families(&cu.user.subject(), PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        .await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let total = match total {
        kindred_store::search::Total::Exactly(n) => n.to_string(),
        kindred_store::search::Total::MoreThan(n) => format!("More than {}", super::thousands(n)),
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let allowed = access::filter_visible(&state, &cu, &ids).await?;
    let families: Vec<FamilyRow> = rows
        .into_iter()
        .filter(|r| allowed.contains(&r.id))
        .map(|r| FamilyRow {
            id: r.id,
            name: r.name,
            members: r.members,
            updated: super::when(r.updated_at_ms),
        })
        .collect();
    if !families.is_empty() {
        access::audit(
            &state,
            &cu,
            kindred_domain::audit::AuditAction::Read,
            access::Record::FamilyList,
            "web GET /",
            format!("families={}", families.len()),
        )
        .await?;
    }
    let queue = if cu.user.has(Role::Triage) {
        Some(
            state
                .db
                .queue_counts(cu.user.tenant_id, kindred_store::now_ms())
                .await?,
        )
    } else {
        None
    };
    let unread = state.db.unread_notifications(cu.user.id).await?;
    let today = kindred_store::today();
    let is_practitioner = cu.user.has(Role::Practitioner);
    let (my_tasks, task_counts) = if is_practitioner {
        let tasks = state.db.tasks_of_user(cu.user.id, true, HOME_TASKS).await?;
        (
            super::tasks::rows(&state, &cu, tasks, "web GET /").await?,
            state.db.task_counts(cu.user.id, today).await?,
        )
    } else {
        (vec![], (0, 0))
    };
    let alerts = if unread > 0 {
        state
            .db
            .notifications(cu.user.id, 5)
            .await?
            .into_iter()
            .filter(|n| n.read_at_ms.is_none())
            .map(|n| (super::when(n.at_ms), n.message))
            .collect()
    } else {
        vec![]
    };
    let caseload = if cu.user.has(Role::Manager) {
        let organisation = state.db.organisation(cu.user.organisation_id).await?;
        let scope = match cu.user.team_id {
            Some(t) => state
                .db
                .teams(cu.user.tenant_id)
                .await?
                .into_iter()
                .find(|x| x.id == t)
                .map(|x| x.name)
                .unwrap_or(organisation.name),
            None => organisation.name,
        };
        let rows = state
            .db
            .caseload(cu.user.organisation_id, cu.user.team_id, today)
            .await?;
        let overdue = state
            .db
            .overdue_tasks_of(cu.user.organisation_id, cu.user.team_id, today, 25)
            .await?;
        Some(Caseload {
            scope,
            rows,
            overdue: super::tasks::rows(&state, &cu, overdue, "web GET /").await?,
        })
    } else {
        None
    };
    let overdue_actions = if is_practitioner {
        super::plan::my_overdue_views(&state, &cu).await?
    } else {
        vec![]
    };
    let privacy = if kindred_domain::access::privacy_office(&cu.user.subject(), cu.user.tenant_id) {
        Some(state.db.pending_override_count(cu.user.tenant_id).await?)
    } else {
        None
    };
    let data_office = if kindred_domain::access::data_office(&cu.user.subject(), cu.user.tenant_id) {
        Some(state.db.review_queue_count(cu.user.tenant_id).await?)
    } else {
        None
    };
    let page_html = Home {
        privacy,
        data_office,
        overdue_actions,
        queue,
        unread,
        is_practitioner,
        my_tasks,
        task_counts,
        alerts,
        caseload,
        l: Layout::new("Home", &cu),
        is_triage: cu.user.has(Role::Triage),
        prev_page: (page > 1).then_some(page - 1),
        next_page: more.then_some(page + 1),
        families,
        total,
    };
    Ok(Html(page_html.render()?).into_response())
}

pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}
