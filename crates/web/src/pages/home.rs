//! The start page (the user's families), and the health and metrics endpoints.

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
    total: i64,
    is_triage: bool,
    prev_page: Option<i64>,
    next_page: Option<i64>,
    /// (waiting, overdue) in the triage queue, for triage officers.
    queue: Option<(i64, i64)>,
    unread: i64,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn home(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = state
        .db
        .visible_families(&cu.user.subject(), PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
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
    let page_html = Home {
        queue,
        unread,
        l: Layout::new("Your families", &cu),
        is_triage: cu.user.has(Role::Triage),
        prev_page: (page > 1).then_some(page - 1),
        next_page: (page * PAGE_SIZE < total).then_some(page + 1),
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
