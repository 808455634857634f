//! `/admin/directory/sources`: the Open Referral UK feeds an administrator
//! pulls into the tenant's directory (issue 8). Add a feed by its base URL,
//! pull it now, see what the last pull did. A pull runs in the background
//! (`crate::oruk_pull::pull`); the page shows its result when it ends.
//! Directory records are not personal data: nothing here is audited as a read.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_store::directory::DirectorySource;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, field};
use crate::layout::Layout;
use crate::oruk_pull::PullReport;
use kindred_domain::audit::AuditAction;

struct SourceView {
    id: i64,
    name: String,
    base_url: String,
    last_pulled: String,
    summary: String,
    skipped: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_directory_sources.html")]
struct SourcesPage {
    l: Layout,
    sources: Vec<SourceView>,
    feed_name: String,
    feed_url: String,
    errors: Errors,
    pulling: bool,
}

fn view(s: &DirectorySource) -> SourceView {
    let report: Option<PullReport> = s.last_result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    SourceView {
        id: s.id,
        name: s.name.clone(),
        base_url: s.base_url.clone(),
        last_pulled: s.last_pulled_at_ms.map(super::when).unwrap_or_else(|| "Never".into()),
        summary: report.as_ref().map(PullReport::summary).unwrap_or_default(),
        skipped: report
            .map(|r| r.skipped.into_iter().map(|s| (s.id, s.reason)).collect())
            .unwrap_or_default(),
    }
}

#[derive(serde::Deserialize)]
pub struct PullingQuery {
    pulling: Option<u8>,
}

pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<PullingQuery>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let sources = state.db.directory_sources(cu.user.tenant_id).await?;
    let page = SourcesPage {
        l: Layout::new("Directory feeds", &cu),
        sources: sources
            .iter()
            .filter(|s| !kindred_domain::directory::is_partner_system_source(&s.base_url))
            .map(view)
            .collect(),
        feed_name: String::new(),
        feed_url: String::new(),
        errors: Errors::default(),
        pulling: q.pulling.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

/// `http://` or `https://`, a host, no spaces; without a trailing slash.
pub fn parse_base_url(input: &str) -> Option<String> {
    let s = input.trim().trim_end_matches('/');
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or("");
    (!host.is_empty() && !s.contains(char::is_whitespace) && s.len() <= 500).then(|| s.to_string())
}

pub async fn add(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let name = field(&pairs, "name");
    let base_url = field(&pairs, "base_url");
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add("name", "Enter a name for the feed");
    } else if name.chars().count() > 200 {
        errors.add("name", "The name must be 200 characters or fewer");
    }
    let url = parse_base_url(&base_url);
    if url.is_none() {
        errors.add(
            "base_url",
            "Enter the base URL of the feed, starting http:// or https://, like https://example.org/openreferral",
        );
    }
    if !errors.is_empty() {
        let sources = state.db.directory_sources(cu.user.tenant_id).await?;
        return crate::errors::invalid(SourcesPage {
            l: Layout::new("Error: Directory feeds", &cu),
            sources: sources
                .iter()
                .filter(|s| !kindred_domain::directory::is_partner_system_source(&s.base_url))
                .map(view)
                .collect(),
            feed_name: name,
            feed_url: base_url,
            errors,
            pulling: false,
        });
    }
    let id = state
        .db
        .upsert_directory_source(cu.user.tenant_id, &name, &url.unwrap_or_default())
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::DirectorySource(id),
        "web POST /admin/directory/sources",
        String::new(),
    )
    .await?;
    Ok(Redirect::to("/admin/directory/sources").into_response())
}

pub async fn pull(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let source = state
        .db
        .directory_source(id)
        .await?
        .filter(|s| {
            s.tenant_id == cu.user.tenant_id && !kindred_domain::directory::is_partner_system_source(&s.base_url)
        })
        .ok_or(AppError::NotFound)?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::DirectorySource(source.id),
        "web POST /admin/directory/sources/{id}/pull",
        String::new(),
    )
    .await?;
    let db = state.db.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::oruk_pull::pull(&db, &source, &crate::oruk_pull::client()).await {
            tracing::error!(source = source.id, error = %format!("{e:#}"), "directory pull failed");
        }
    });
    Ok(Redirect::to("/admin/directory/sources?pulling=1").into_response())
}
