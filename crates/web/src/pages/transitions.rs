//! Transitions (F19): the young people approaching 18 in families with open
//! work, each with their transition-plan task (`/transitions`), making the
//! missing tasks (`POST /transitions/tasks`), and the Year 6 children moving
//! to secondary school (`/transitions/year-6`). Lists are narrowed in SQL and
//! every row re-checked with the policy; reading them never writes a task.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::model::Role;
use kindred_domain::task::{self, Status};
use kindred_domain::{dates, transition};
use kindred_store::transitions::YoungPerson;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::layout::Layout;

/// One young person in one of their families, as a list shows them.
pub struct Row {
    pub name: String,
    pub date_of_birth: String,
    pub turns_18: String,
    pub family_id: i64,
    pub family_name: String,
    pub services: String,
    /// The transition-plan task's status, due date and assignee; empty for none.
    pub task: Option<TaskCell>,
}

pub struct TaskCell {
    pub status: &'static str,
    pub due: String,
    pub overdue: bool,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "transitions.html")]
struct Approaching18Page {
    l: Layout,
    rows: Vec<Row>,
    missing: usize,
    created: Option<String>,
}

#[derive(Template)]
#[template(path = "transitions_year_6.html")]
struct Year6Page {
    l: Layout,
    rows: Vec<Row>,
    academic_year: String,
}

/// Practitioners and managers work transitions; anyone else finds nothing here.
fn may_work_transitions(cu: &CurrentUser) -> AppResult<()> {
    if cu.user.has(Role::Practitioner) || cu.user.has(Role::Manager) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The rows the policy lets the reader see.
async fn visible(state: &AppState, cu: &CurrentUser, rows: Vec<YoungPerson>) -> AppResult<Vec<YoungPerson>> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.family_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let allowed = gate::filter_visible(state, cu, &ids).await?;
    Ok(rows.into_iter().filter(|r| allowed.contains(&r.family_id)).collect())
}

async fn approaching(state: &AppState, cu: &CurrentUser) -> AppResult<Vec<YoungPerson>> {
    let today = kindred_store::today();
    let rows = state
        .db
        .approaching_18(cu.user.tenant_id, Some(&cu.user.subject()), today)
        .await?;
    visible(state, cu, rows).await
}

async fn services(state: &AppState, rows: &[YoungPerson]) -> AppResult<BTreeMap<i64, Vec<String>>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.family_id).collect();
    Ok(state.db.services_involved(&ids).await?)
}

fn row(yp: &YoungPerson, services: &BTreeMap<i64, Vec<String>>) -> Row {
    Row {
        name: format!("{} {}", yp.given_name, yp.surname),
        date_of_birth: dates::long(yp.date_of_birth),
        turns_18: transition::turns_18(yp.date_of_birth)
            .map(dates::long)
            .unwrap_or_default(),
        family_id: yp.family_id,
        family_name: yp.family_name.clone(),
        services: services.get(&yp.family_id).map(|s| s.join(", ")).unwrap_or_default(),
        task: None,
    }
}

#[derive(Deserialize)]
pub struct MadeQuery {
    made: Option<u64>,
}

pub async fn approaching_18(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<MadeQuery>,
) -> AppResult<Response> {
    let created = q.made.map(|n| match n {
        0 => "No new transition-plan tasks were needed.".to_string(),
        1 => "1 transition-plan task was made.".to_string(),
        n => format!("{n} transition-plan tasks were made."),
    });
    show(&state, &cu, created).await
}

async fn show(state: &AppState, cu: &CurrentUser, created: Option<String>) -> AppResult<Response> {
    may_work_transitions(cu)?;
    let today = kindred_store::today();
    let people = approaching(state, cu).await?;
    let services = services(state, &people).await?;
    let person_ids: Vec<i64> = people.iter().map(|p| p.person_id).collect();
    let tasks = state.db.transition_tasks(&person_ids).await?;
    let rows: Vec<Row> = people
        .iter()
        .map(|yp| Row {
            task: tasks.get(&yp.person_id).map(|t| {
                let status = Status::parse(&t.status).unwrap_or(Status::Open);
                TaskCell {
                    status: status.label(),
                    due: dates::long(t.due_on),
                    overdue: task::is_overdue(status, t.due_on, today),
                    assignee: t
                        .assigned_user_name
                        .clone()
                        .or(t.assigned_team_name.clone())
                        .unwrap_or_default(),
                }
            }),
            ..row(yp, &services)
        })
        .collect();
    gate::audit(
        state,
        cu,
        AuditAction::Read,
        Record::TransitionList,
        "web GET /transitions",
        format!("young_people={}", rows.len()),
    )
    .await?;
    let page = Approaching18Page {
        l: Layout::new("Young people approaching 18", cu),
        missing: rows.iter().filter(|r| r.task.is_none()).count(),
        rows,
        created,
    };
    Ok(Html(page.render()?).into_response())
}

/// Makes the missing transition-plan tasks of the young people the reader can
/// see, then shows the list again. Pressing it twice makes them once.
pub async fn create_tasks(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    may_work_transitions(&cu)?;
    let today = kindred_store::today();
    let people = approaching(&state, &cu).await?;
    let made = state
        .db
        .create_transition_plans(&people, today, Some(cu.user.id))
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::TransitionList,
        "web POST /transitions/tasks",
        format!("tasks={made}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/transitions?made={made}")).into_response())
}

pub async fn year_6(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    may_work_transitions(&cu)?;
    let today = kindred_store::today();
    let people = state
        .db
        .year_6(cu.user.tenant_id, Some(&cu.user.subject()), today)
        .await?;
    let people = visible(&state, &cu, people).await?;
    let services = services(&state, &people).await?;
    let rows: Vec<Row> = people.iter().map(|yp| row(yp, &services)).collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::TransitionList,
        "web GET /transitions/year-6",
        format!("children={}", rows.len()),
    )
    .await?;
    let y = transition::academic_year(today);
    let page = Year6Page {
        l: Layout::new("Year 6: moving to secondary school", &cu),
        rows,
        academic_year: format!("{y} to {}", y + 1),
    };
    Ok(Html(page.render()?).into_response())
}
