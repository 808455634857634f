//! The universal pathway (issue 7, F14): each young child's due and overdue
//! stages, for the families the reader may see, by hub or for the reader's
//! team (`/pathway`); a tenant's administrators choose the stage model
//! (`/admin/pathway`). A stage is completed by a contact recorded with it
//! (`pages/contacts.rs`) or imported from a health visiting system.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::model::Role;
use kindred_domain::pathway::{self, PathwayModel, StageStatus};
use kindred_domain::{Postcode, dates};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::layout::Layout;

/// How many children one list considers.
const CHILDREN: i64 = 5_000;

pub struct Row {
    pub family_id: i64,
    pub family_name: String,
    pub child: String,
    pub born: String,
    pub stage: &'static str,
    pub overdue: bool,
    pub when: String,
}

#[derive(Template)]
#[template(path = "pathway.html")]
struct PathwayPage {
    l: Layout,
    model: &'static str,
    hubs: Vec<(i64, String)>,
    /// The hub chosen, or 0 for every hub.
    hub_id: i64,
    mine: bool,
    has_team: bool,
    rows: Vec<Row>,
    overdue: usize,
    due: usize,
    /// (stage, due, overdue)
    by_stage: Vec<(&'static str, usize, usize)>,
}

#[derive(Deserialize, Default)]
pub struct Filter {
    hub: Option<String>,
    team: Option<String>,
}

/// The statuses a due and overdue list shows, for one child.
pub fn child_stages(
    model: PathwayModel,
    born: Option<time::Date>,
    expected: Option<time::Date>,
    completed: &[(String, time::Date)],
    today: time::Date,
) -> Vec<(&'static pathway::Stage, StageStatus)> {
    model
        .stages()
        .iter()
        .filter_map(|s| {
            let done = completed.iter().find(|c| c.0 == s.code).map(|c| c.1);
            pathway::status(s, born, expected, done, today).map(|st| (s, st))
        })
        .collect()
}

/// The stages a contact with this family could complete: for each current
/// child or unborn member on the pathway, each stage due, overdue or upcoming
/// (not yet completed or missed), as (`person:stage`, label).
pub async fn contact_options(state: &AppState, cu: &CurrentUser, family_id: i64) -> AppResult<Vec<(String, String)>> {
    let today = kindred_store::today();
    let model = state.db.pathway_model(cu.user.tenant_id).await?;
    let members: Vec<kindred_store::families::Member> = state
        .db
        .members(family_id)
        .await?
        .into_iter()
        .filter(|m| {
            m.left_on.is_none()
                && matches!(
                    m.role,
                    kindred_domain::model::MemberRole::Child | kindred_domain::model::MemberRole::Unborn
                )
        })
        .collect();
    let ids: Vec<i64> = members.iter().map(|m| m.person.id).collect();
    let completions = state.db.pathway_completions(&ids).await?;
    let mut out = vec![];
    for m in &members {
        let done: Vec<(String, time::Date)> = completions
            .iter()
            .filter(|x| x.person_id == m.person.id)
            .map(|x| (x.stage.clone(), x.completed_on))
            .collect();
        for (stage, st) in child_stages(model, m.person.date_of_birth, m.person.expected_delivery, &done, today) {
            if matches!(
                st,
                StageStatus::Due { .. } | StageStatus::Overdue { .. } | StageStatus::Upcoming { .. }
            ) {
                out.push((
                    format!("{}:{}", m.person.id, stage.code),
                    format!(
                        "{}: {} ({})",
                        m.person.full_name(),
                        stage.label,
                        st.label().to_lowercase()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

pub async fn list(State(state): State<AppState>, cu: CurrentUser, Query(f): Query<Filter>) -> AppResult<Html<String>> {
    let subject = cu.user.subject();
    if !(subject.active && (cu.user.has(Role::Practitioner) || cu.user.has(Role::Manager) || cu.user.has(Role::Triage)))
    {
        return Err(AppError::NotFound);
    }
    let today = kindred_store::today();
    let model = state.db.pathway_model(cu.user.tenant_id).await?;
    let sites = state.db.hub_reach(cu.user.tenant_id).await?;
    let hub = f
        .hub
        .as_deref()
        .and_then(|h| h.parse::<i64>().ok())
        .filter(|h| sites.iter().any(|s| s.hub_site_id == *h));
    let mine = f.team.as_deref() == Some("mine");
    let workers = match (mine, cu.user.team_id) {
        (true, Some(team)) => Some(state.db.team_user_ids(team).await?),
        (true, None) => Some(vec![cu.user.id]),
        _ => None,
    };
    let born_since = pathway::add_months(today, -60);
    let mut children = state
        .db
        .pathway_children(&subject, born_since, workers.as_deref(), CHILDREN)
        .await?;
    if let Some(h) = hub.and_then(|h| sites.iter().find(|s| s.hub_site_id == h)) {
        children.retain(|c| {
            c.postcode
                .as_deref()
                .and_then(|p| Postcode::parse(p).ok())
                .is_some_and(|p| h.areas.iter().any(|a| kindred_domain::postcode::area_covers(a, &p)))
        });
    }
    let family_ids: Vec<i64> = children.iter().map(|c| c.family_id).collect();
    let allowed = gate::filter_visible(&state, &cu, &family_ids).await?;
    children.retain(|c| allowed.contains(&c.family_id));
    let ids: Vec<i64> = children.iter().map(|c| c.person_id).collect();
    let completions = state.db.pathway_completions(&ids).await?;
    let mut rows = vec![];
    let mut by_stage: Vec<(&'static str, usize, usize)> = model.stages().iter().map(|s| (s.label, 0, 0)).collect();
    for c in &children {
        let done: Vec<(String, time::Date)> = completions
            .iter()
            .filter(|x| x.person_id == c.person_id)
            .map(|x| (x.stage.clone(), x.completed_on))
            .collect();
        for (stage, st) in child_stages(model, c.date_of_birth, c.expected_delivery, &done, today) {
            let (overdue, when) = match st {
                StageStatus::Due { closes } => (false, format!("by {}", dates::long(closes))),
                StageStatus::Overdue { closed } => (true, format!("since {}", dates::long(closed))),
                _ => continue,
            };
            if let Some(b) = by_stage.iter_mut().find(|b| b.0 == stage.label) {
                if overdue { b.2 += 1 } else { b.1 += 1 }
            }
            rows.push((
                st,
                Row {
                    family_id: c.family_id,
                    family_name: c.family_name.clone(),
                    child: format!("{} {}", c.given_name, c.family_name_of_child),
                    born: match (c.date_of_birth, c.expected_delivery) {
                        (Some(b), _) => format!("born {}", dates::long(b)),
                        (None, Some(e)) => format!("expected {}", dates::long(e)),
                        _ => String::new(),
                    },
                    stage: stage.label,
                    overdue,
                    when,
                },
            ));
        }
    }
    // Overdue first, longest overdue first; then due, soonest closing first.
    rows.sort_by_key(|(st, r)| match st {
        StageStatus::Overdue { closed } => (0, *closed, r.family_id),
        StageStatus::Due { closes } => (1, *closes, r.family_id),
        _ => (2, today, r.family_id),
    });
    let rows: Vec<Row> = rows.into_iter().map(|r| r.1).collect();
    let overdue = rows.iter().filter(|r| r.overdue).count();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::PathwayList,
        "web GET /pathway",
        format!("rows={} hub={} mine={mine}", rows.len(), hub.unwrap_or_default()),
    )
    .await?;
    let page = PathwayPage {
        l: Layout::new("Universal pathway", &cu),
        model: model.label(),
        hubs: sites.iter().map(|s| (s.hub_site_id, s.name.clone())).collect(),
        hub_id: hub.unwrap_or_default(),
        mine,
        has_team: cu.user.team_id.is_some(),
        due: rows.len() - overdue,
        overdue,
        rows,
        by_stage,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "admin_pathway.html")]
struct AdminPage {
    l: Layout,
    current: &'static str,
    /// (code, label, stages)
    models: Vec<(&'static str, &'static str, Vec<&'static str>)>,
}

pub async fn admin(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    let current = state.db.pathway_model(cu.user.tenant_id).await?;
    let page = AdminPage {
        l: Layout::new("Universal pathway stages", &cu),
        current: current.code(),
        models: PathwayModel::ALL
            .iter()
            .map(|m| (m.code(), m.label(), m.stages().iter().map(|s| s.label).collect()))
            .collect(),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct ModelForm {
    #[serde(default)]
    model: String,
}

pub async fn set_model(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<ModelForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let model = PathwayModel::parse(&f.model).ok_or(AppError::BadRequest("Choose a stage model."))?;
    state.db.set_pathway_model(cu.user.tenant_id, model).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::PathwayModel,
        "web POST /admin/pathway",
        model.code().into(),
    )
    .await?;
    Ok(Redirect::to("/admin/pathway").into_response())
}
