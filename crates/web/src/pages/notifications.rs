//! In-app notifications: a referral's outcome, an assignment, a lead
//! allocated. Seeing them marks them read.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::errors::AppResult;
use crate::layout::Layout;

struct NoteView {
    when: String,
    message: String,
    referral_id: Option<i64>,
    connection_id: Option<i64>,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    l: Layout,
    notes: Vec<NoteView>,
}

pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    let notes = state
        .db
        .notifications(cu.user.id, 100)
        .await?
        .into_iter()
        .map(|n| NoteView {
            when: super::when(n.at_ms),
            message: n.message,
            referral_id: n.referral_id,
            connection_id: n.connection_id,
            unread: n.read_at_ms.is_none(),
        })
        .collect();
    let page = NotificationsPage {
        l: Layout::new("Notifications", &cu),
        notes,
    };
    let html = page.render()?;
    state.db.mark_notifications_read(cu.user.id).await?;
    Ok(Html(html).into_response())
}
