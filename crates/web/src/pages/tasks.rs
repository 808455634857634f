//! Tasks: each worker's inbox (`/tasks`) and their team's (`/tasks/team`),
//! open and soonest due first, overdue marked; marking a task done; adding a
//! follow-up on a family. A task about a family the reader may not see shows
//! neither the family nor its title (`web::access::shown_tasks`).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::task::{self, Kind, Status};
use kindred_store::tasks::{NewTask, Task};

use crate::AppState;
use crate::access::{self as gate, ShownTask};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

/// How many tasks an inbox lists.
const INBOX: i64 = 200;

/// A task as an inbox row shows it.
pub struct TaskRow {
    pub id: i64,
    pub kind: &'static str,
    /// Empty when the reader may not see the family.
    pub title: String,
    pub family_id: Option<i64>,
    pub family_name: String,
    /// The task is about a family the reader may not see.
    pub hidden: bool,
    pub assignee: String,
    pub due: String,
    pub open: bool,
    pub overdue: bool,
    pub can_complete: bool,
    /// Where doing the task happens, when that is a form of its own (the
    /// sustainment check): the task is done there, not marked done here.
    pub link: String,
}

impl TaskRow {
    pub fn of(cu: &CurrentUser, s: ShownTask, today: time::Date) -> TaskRow {
        let t = s.task;
        let status = Status::parse(&t.status).unwrap_or(Status::Open);
        let link = match (Kind::parse(&t.kind), t.family_id, t.episode_id) {
            (Some(Kind::SustainmentCheck), Some(f), Some(e)) if s.family_visible && status == Status::Open => {
                format!("/families/{f}/episodes/{e}/sustained")
            }
            _ => String::new(),
        };
        TaskRow {
            id: t.id,
            kind: Kind::parse(&t.kind).map(|k| k.label()).unwrap_or("Task"),
            title: t.title,
            family_id: t.family_id.filter(|_| s.family_visible),
            family_name: t.family_name.unwrap_or_default(),
            hidden: !s.family_visible,
            assignee: t.assigned_user_name.or(t.assigned_team_name).unwrap_or_default(),
            due: dates::long(t.due_on),
            open: status == Status::Open,
            overdue: task::is_overdue(status, t.due_on, today),
            can_complete: status == Status::Open
                && link.is_empty()
                && task::may_complete(cu.user.id, cu.user.team_id, t.assigned_user_id, t.assigned_team_id),
            link,
        }
    }
}

/// Tasks for an inbox, in the domain's order, with what the reader may see of each.
pub async fn rows(state: &AppState, cu: &CurrentUser, mut tasks: Vec<Task>, route: &str) -> AppResult<Vec<TaskRow>> {
    tasks.sort_by_key(|t| task::inbox_key(Status::parse(&t.status).unwrap_or(Status::Open), t.due_on, t.id));
    let today = kindred_store::today();
    Ok(gate::shown_tasks(state, cu, tasks, route)
        .await?
        .into_iter()
        .map(|s| TaskRow::of(cu, s, today))
        .collect())
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    l: Layout,
    team: bool,
    has_team: bool,
    tasks: Vec<TaskRow>,
    overdue: usize,
    back: &'static str,
    /// The plan actions the user owns that are overdue: the same work, from the family plans.
    overdue_actions: Vec<super::plan::OverdueView>,
}

pub async fn mine(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    let tasks = state.db.tasks_of_user(cu.user.id, false, INBOX).await?;
    let tasks = rows(&state, &cu, tasks, "web GET /tasks").await?;
    let page = TasksPage {
        l: Layout::new("Your tasks", &cu),
        team: false,
        has_team: cu.user.team_id.is_some(),
        overdue: tasks.iter().filter(|t| t.overdue).count(),
        tasks,
        back: "/tasks",
        overdue_actions: super::plan::my_overdue_views(&state, &cu).await?,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn team(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    let tasks = match cu.user.team_id {
        Some(team) => state.db.tasks_of_team(team, true, INBOX).await?,
        None => vec![],
    };
    let tasks = rows(&state, &cu, tasks, "web GET /tasks/team").await?;
    let page = TasksPage {
        l: Layout::new("Your team's tasks", &cu),
        team: true,
        has_team: cu.user.team_id.is_some(),
        overdue: tasks.iter().filter(|t| t.overdue).count(),
        tasks,
        back: "/tasks/team",
        overdue_actions: vec![],
    };
    Ok(Html(page.render()?).into_response())
}

/// Marks a task done: only its assignee, or someone in the team it is assigned to.
pub async fn done(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let t = state.db.task(id).await?.ok_or(AppError::NotFound)?;
    if t.tenant_id != cu.user.tenant_id
        || !task::may_complete(cu.user.id, cu.user.team_id, t.assigned_user_id, t.assigned_team_id)
    {
        return Err(AppError::NotFound);
    }
    state.db.complete_task(id, cu.user.id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::Task {
            id,
            family: t.family_id,
        },
        "web POST /tasks/{id}/done",
        String::new(),
    )
    .await?;
    // Back to the page the form was on: only our own pages.
    let back = match pairs.iter().find(|(k, _)| k == "back").map(|(_, v)| v.as_str()) {
        Some("/tasks/team") => "/tasks/team",
        Some("/") => "/",
        _ => "/tasks",
    };
    Ok(Redirect::to(back).into_response())
}

#[derive(Default)]
struct TaskForm {
    title: String,
    assignee: String,
    day: String,
    month: String,
    year: String,
}

#[derive(Template)]
#[template(path = "task_new.html")]
struct NewTaskPage {
    l: Layout,
    id: i64,
    family_name: String,
    /// (value, label): "me", "user-{id}", "team-{id}".
    assignees: Vec<(String, String)>,
    form: TaskForm,
    errors: Errors,
}

async fn assignees(state: &AppState, cu: &CurrentUser, family_id: i64) -> AppResult<Vec<(String, String)>> {
    let mut out = vec![("me".to_string(), "Me".to_string())];
    for t in state.db.team(family_id).await? {
        if t.until_date.is_none() && t.user_id != cu.user.id {
            out.push((format!("user-{}", t.user_id), t.display_name));
        }
    }
    if let Some(team) = cu.user.team_id
        && let Some(t) = state
            .db
            .teams(cu.user.tenant_id)
            .await?
            .into_iter()
            .find(|t| t.id == team)
    {
        out.push((format!("team-{team}"), format!("My team: {}", t.name)));
    }
    Ok(out)
}

pub async fn new_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/tasks/new",
    )
    .await?;
    let page = NewTaskPage {
        l: Layout::new("Add a follow-up", &cu),
        id,
        family_name: family.name,
        assignees: assignees(&state, &cu, id).await?,
        form: TaskForm {
            assignee: "me".into(),
            ..TaskForm::default()
        },
        errors: Errors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/tasks/new";
    let family = gate::change_family(&state, &cu, id, route).await?;
    let value = |k: &str| crate::forms::field(&pairs, k);
    let form = TaskForm {
        title: value("title"),
        assignee: value("assignee"),
        day: value("due_day"),
        month: value("due_month"),
        year: value("due_year"),
    };
    let options = assignees(&state, &cu, id).await?;
    let mut errors = Errors::default();
    if form.title.is_empty() {
        errors.add("title", "Enter what needs doing");
    } else if form.title.chars().count() > 200 {
        errors.add("title", "What needs doing must be 200 characters or fewer");
    }
    let today = kindred_store::today();
    let due = match dates::parse_date_parts(&form.day, &form.month, &form.year) {
        Ok(d) if d < today => {
            errors.add("due", "The date it is due must be today or in the future");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("due", format!("Date it is due: {e}"));
            None
        }
    };
    let assignee = options
        .iter()
        .find(|(v, _)| *v == form.assignee)
        .map(|(v, _)| v.clone());
    if assignee.is_none() {
        errors.add("assignee", "Choose who should do it");
    }
    let (Some(due), Some(assignee), true) = (due, assignee, errors.is_empty()) else {
        let page = NewTaskPage {
            l: Layout::new("Error: Add a follow-up", &cu),
            id,
            family_name: family.name,
            assignees: options,
            form,
            errors,
        };
        return crate::errors::invalid(page);
    };
    let (user, team) = if assignee == "me" {
        (Some(cu.user.id), None)
    } else if let Some(u) = assignee.strip_prefix("user-") {
        (u.parse().ok(), None)
    } else {
        (None, assignee.strip_prefix("team-").and_then(|t| t.parse().ok()))
    };
    let task = state
        .db
        .add_task(&NewTask {
            tenant_id: cu.user.tenant_id,
            kind: Kind::FollowUp.code(),
            family_id: Some(id),
            episode_id: None,
            assigned_user_id: user,
            assigned_team_id: team,
            title: form.title,
            due_on: due,
            created_by_user_id: Some(cu.user.id),
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::Task {
            id: task,
            family: Some(id),
        },
        route,
        String::new(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}#tasks")).into_response())
}
