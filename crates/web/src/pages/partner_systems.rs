//! Partner systems (issue 8): a tenant's administrators register the systems
//! that read the shared record through the FHIR API and Kindred's own API,
//! each acting for one organisation; the secret is shown once; disabling a
//! system revokes its tokens. Administrators see no case content here.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use serde::Deserialize;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

struct SystemRow {
    id: i64,
    name: String,
    organisation: String,
    client_id: String,
    active: bool,
    created: String,
    last_used: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SystemForm {
    name: String,
    organisation_id: String,
}

#[derive(Template)]
#[template(path = "admin_partner_systems.html")]
struct SystemsPage {
    l: Layout,
    systems: Vec<SystemRow>,
    organisations: Vec<(i64, String)>,
    form: SystemForm,
    errors: Errors,
    /// Just registered, with the secret shown this once.
    created: Option<Created>,
}

struct Created {
    name: String,
    client_id: String,
    secret: String,
}

async fn page(
    state: &AppState,
    cu: &CurrentUser,
    form: SystemForm,
    errors: Errors,
    created: Option<Created>,
) -> AppResult<SystemsPage> {
    let systems = state
        .db
        .api_clients(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|c| SystemRow {
            id: c.id,
            name: c.name,
            organisation: c.organisation_name,
            client_id: c.client_id,
            active: c.active,
            created: super::when(c.created_at_ms),
            last_used: c.last_used_ms.map(super::when).unwrap_or_else(|| "Never".into()),
        })
        .collect();
    let organisations = state
        .db
        .organisations(cu.user.tenant_id)
        .await?
        .into_iter()
        .filter(|o| o.active)
        .map(|o| (o.id, o.name))
        .collect();
    let title = if errors.is_empty() {
        "Partner systems"
    } else {
        "Error: Partner systems"
    };
    Ok(SystemsPage {
        l: Layout::new(title, cu),
        systems,
        organisations,
        form,
        errors,
        created,
    })
}

/// GET /admin/partner-systems
pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    Ok(Html(
        page(&state, &cu, SystemForm::default(), Errors::default(), None)
            .await?
            .render()?,
    ))
}

/// POST /admin/partner-systems: registers a system and shows its secret once.
pub async fn register(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<SystemForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let mut errors = Errors::default();
    let name = f.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "Enter the partner system's name");
    } else if name.chars().count() > 100 {
        errors.add("name", "The partner system's name must be 100 characters or fewer");
    }
    let org = match f.organisation_id.parse::<i64>() {
        Ok(id) => state
            .db
            .organisation(id)
            .await
            .ok()
            .filter(|o| o.tenant_id == cu.user.tenant_id && o.active),
        Err(_) => None,
    };
    if org.is_none() {
        errors.add("organisation_id", "Select the organisation the system acts for");
    }
    let (Some(org), true) = (org, errors.is_empty()) else {
        return crate::errors::invalid(page(&state, &cu, f, errors, None).await?);
    };
    let (client, secret) =
        crate::api_auth::register(&state.db, cu.user.tenant_id, org.id, &name, Some(cu.user.id), None)
            .await
            .map_err(AppError::Internal)?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::User(client.user_id),
        "web POST /admin/partner-systems",
        format!("api_client={}", client.id),
    )
    .await?;
    let created = Some(Created {
        name: client.name.clone(),
        client_id: client.client_id.clone(),
        secret,
    });
    let mut res = Html(
        page(&state, &cu, SystemForm::default(), Errors::default(), created)
            .await?
            .render()?,
    )
    .into_response();
    // The secret is on this page only: no cache may keep it.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

/// POST /admin/partner-systems/{id}/active: disabling revokes every token.
pub async fn set_active(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ActiveForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let c = state.db.api_client(id).await?;
    if c.tenant_id != cu.user.tenant_id {
        return Err(AppError::NotFound);
    }
    let active = f.active == "yes";
    state.db.set_api_client_active(id, active).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::User(c.user_id),
        "web POST /admin/partner-systems/{id}/active",
        format!("api_client={id} active={active}"),
    )
    .await?;
    Ok(Redirect::to("/admin/partner-systems").into_response())
}
