//! Administration: users and organisations of the administrator's own tenant.
//! Administrators manage accounts but see no case content.

use crate::errors::Ids;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::model::{OrgKind, Profession, Role};
use kindred_store::users::NewUser;
use serde::Deserialize;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::forms::Errors;
use crate::layout::Layout;
use crate::passwords;

struct UserRow {
    id: i64,
    name: String,
    email: String,
    organisation: String,
    profession: &'static str,
    roles: String,
    active: bool,
    /// The user has confirmed a TOTP enrolment.
    mfa_enrolled: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserForm {
    display_name: String,
    email: String,
    organisation_id: String,
    profession: String,
    role_practitioner: String,
    role_triage: String,
    role_manager: String,
    role_admin: String,
    role_analyst: String,
    password: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserRow>,
    organisations: Vec<(i64, String)>,
    professions: &'static [Profession],
    form: UserForm,
    errors: Errors,
    /// The administrator's own id: their own second factor is not theirs to reset.
    own_id: i64,
}

async fn users_page(state: &AppState, cu: &CurrentUser, form: UserForm, errors: Errors) -> AppResult<UsersPage> {
    let orgs = state.db.organisations(cu.user.tenant_id).await?;
    let enrolled = state.db.mfa_enrolled_users(cu.user.tenant_id).await?;
    let users = state
        .db
        .users(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            mfa_enrolled: enrolled.binary_search(&u.id).is_ok(),
            organisation: orgs
                .iter()
                .find(|o| o.id == u.organisation_id)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            name: u.display_name,
            email: u.email,
            profession: u.profession.label(),
            roles: u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
            active: u.active,
        })
        .collect();
    Ok(UsersPage {
        l: Layout::new(if errors.is_empty() { "Users" } else { "Error: Users" }, cu),
        own_id: cu.user.id,
        users,
        organisations: orgs.into_iter().map(|o| (o.id, o.name)).collect(),
        professions: Profession::ALL,
        form,
        errors,
    })
}

pub async fn users(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    Ok(Html(
        users_page(&state, &cu, UserForm::default(), Errors::default())
            .await?
            .render()?,
    ))
}

pub async fn add_user(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<UserForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let mut errors = Errors::default();
    if f.display_name.trim().is_empty() {
        errors.add("display_name", "Enter the user's full name");
    }
    let email = f.email.trim().to_lowercase();
    if !email.contains('@') || email.len() < 3 {
        errors.add(
            "email",
            "Enter an email address in the correct format, like name@example.org",
        );
    } else if state.db.user_by_email(&email).await?.is_some() {
        errors.add("email", "A user with this email address already exists");
    }
    let org = match f.organisation_id.parse::<i64>() {
        Ok(id) => state
            .db
            .organisation(id)
            .await
            .ok()
            .filter(|o| o.tenant_id == cu.user.tenant_id),
        Err(_) => None,
    };
    if org.is_none() {
        errors.add("organisation_id", "Select an organisation");
    }
    let profession = Profession::parse(&f.profession);
    if profession.is_none() {
        errors.add("profession", "Select a profession");
    }
    let roles: Vec<Role> = [
        (Role::Practitioner, &f.role_practitioner),
        (Role::Triage, &f.role_triage),
        (Role::Manager, &f.role_manager),
        (Role::Admin, &f.role_admin),
        (Role::Analyst, &f.role_analyst),
    ]
    .into_iter()
    .filter(|(_, v)| v.as_str() == "yes")
    .map(|(r, _)| r)
    .collect();
    if roles.is_empty() {
        errors.add("roles", "Select at least one role");
    }
    if let Err(e) = passwords::check_policy_for(&f.password, &[&f.email, &f.display_name]) {
        errors.add("password", e);
    }
    let (Some(org), Some(profession), true) = (org, profession, errors.is_empty()) else {
        let mut f = f;
        f.password.clear();
        let page = users_page(&state, &cu, f, errors).await?;
        return crate::errors::invalid(page);
    };
    let password = f.password.clone();
    let hash = passwords::off_thread(move || passwords::hash(&password))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let user = state
        .db
        .create_user(&NewUser {
            tenant_id: cu.user.tenant_id,
            organisation_id: org.id,
            team_id: None,
            email,
            display_name: f.display_name.trim().to_string(),
            profession,
            roles,
            password_hash: hash,
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::User(user.id),
        "web POST /admin/users",
        String::new(),
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ActiveForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let u = state.db.user(id).await?;
    if u.tenant_id != cu.user.tenant_id || u.id == cu.user.id {
        return Err(AppError::NotFound);
    }
    let active = f.active == "yes";
    state.db.set_user_active(id, active).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::User(id),
        "web POST /admin/users/{id}/active",
        format!("active={active}"),
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// Resets a user's second factor (a lost phone, no recovery codes left): the
/// enrolment and recovery codes go, and so do the user's sessions; they set
/// it up again at their next sign-in. Not one's own, like disabling.
pub async fn reset_mfa(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let u = state.db.user(id).await?;
    if u.tenant_id != cu.user.tenant_id || u.id == cu.user.id || u.is_system() {
        return Err(AppError::NotFound);
    }
    let had = state.db.reset_mfa(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::Mfa(id),
        "web POST /admin/users/{id}/mfa-reset",
        format!("reset by an administrator; was enrolled={had}"),
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin_organisations.html")]
struct OrganisationsPage {
    l: Layout,
    organisations: Vec<(String, &'static str)>,
    hubs: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    hub_name: String,
    hub_areas: String,
    kinds: &'static [OrgKind],
    org_name: String,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrganisationForm {
    name: String,
    kind: String,
}

async fn organisations_page(
    state: &AppState,
    cu: &CurrentUser,
    name: String,
    errors: Errors,
) -> AppResult<OrganisationsPage> {
    let t = cu.user.tenant_id;
    let orgs = state.db.organisations(t).await?;
    let org_name = |id: i64| {
        orgs.iter()
            .find(|o| o.id == id)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let hubs = state
        .db
        .hub_sites(t)
        .await?
        .into_iter()
        .map(|h| (h.name, h.reach_areas.join(", ")))
        .collect();
    let teams = state
        .db
        .teams(t)
        .await?
        .into_iter()
        .map(|x| (x.name, org_name(x.organisation_id)))
        .collect();
    Ok(OrganisationsPage {
        l: Layout::new(
            if errors.is_empty() {
                "Organisations"
            } else {
                "Error: Organisations"
            },
            cu,
        ),
        organisations: orgs.iter().map(|o| (o.name.clone(), o.kind.label())).collect(),
        hubs,
        teams,
        hub_name: String::new(),
        hub_areas: String::new(),
        kinds: OrgKind::ALL,
        org_name: name,
        errors,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HubForm {
    hub_name: String,
    hub_areas: String,
}

pub async fn add_hub_site(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<HubForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let mut errors = Errors::default();
    if f.hub_name.trim().is_empty() {
        errors.add("hub_name", "Enter the hub's name");
    }
    let mut areas = vec![];
    for a in f.hub_areas.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match kindred_domain::postcode::parse_area(a) {
            Ok(a) => areas.push(a),
            Err(_) => errors.add(
                "hub_areas",
                format!("\"{a}\" is not a postcode district (like W2) or sector (like W2 5)"),
            ),
        }
    }
    if areas.is_empty() && !errors.has("hub_areas") {
        errors.add(
            "hub_areas",
            "Enter at least one postcode district or sector the hub reaches",
        );
    }
    if errors.is_empty() {
        match state
            .db
            .create_hub_site(cu.user.tenant_id, None, f.hub_name.trim(), None, &areas)
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/organisations").into_response()),
            Err(kindred_store::StoreError::Conflict(_)) => {
                errors.add("hub_name", "A hub with this name already exists")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut page = organisations_page(&state, &cu, String::new(), errors).await?;
    page.hub_name = f.hub_name;
    page.hub_areas = f.hub_areas;
    crate::errors::invalid(page)
}

pub async fn organisations(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    Ok(Html(
        organisations_page(&state, &cu, String::new(), Errors::default())
            .await?
            .render()?,
    ))
}

pub async fn add_organisation(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<OrganisationForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let mut errors = Errors::default();
    if f.name.trim().is_empty() {
        errors.add("name", "Enter the organisation's name");
    }
    let kind = OrgKind::parse(&f.kind);
    if kind.is_none() {
        errors.add("kind", "Select the kind of organisation");
    }
    if let (Some(kind), true) = (kind, errors.is_empty()) {
        match state
            .db
            .create_organisation(cu.user.tenant_id, f.name.trim(), kind)
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/organisations").into_response()),
            Err(kindred_store::StoreError::Conflict(_)) => {
                errors.add("name", "An organisation with this name already exists")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = organisations_page(&state, &cu, f.name, errors).await?;
    crate::errors::invalid(page)
}

// ---------- the tenant's triage time ----------

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct TriageRuleForm {
    hours: String,
    working_hours: String,
}

#[derive(Template)]
#[template(path = "admin_triage.html")]
struct TriageRulePage {
    l: Layout,
    hours: String,
    working_hours: bool,
    errors: Errors,
    saved: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    pub(crate) saved: Option<u8>,
}

pub async fn triage_rule(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    let rule = state.db.triage_rule(cu.user.tenant_id).await?;
    let page = TriageRulePage {
        l: Layout::new("Triage time", &cu),
        hours: rule.hours.to_string(),
        working_hours: rule.working_hours_only,
        errors: Errors::default(),
        saved: q.saved.is_some(),
    };
    Ok(Html(page.render()?))
}

pub async fn set_triage_rule(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<TriageRuleForm>,
) -> AppResult<axum::response::Response> {
    gate::require_admin(&cu)?;
    let hours = f.hours.trim().parse::<u32>().ok().filter(|h| (1..=24 * 28).contains(h));
    let Some(hours) = hours else {
        let mut errors = Errors::default();
        errors.add("hours", "Enter a whole number of hours between 1 and 672");
        return crate::errors::invalid(TriageRulePage {
            l: Layout::new("Triage time", &cu),
            hours: f.hours,
            working_hours: f.working_hours == "yes",
            errors,
            saved: false,
        });
    };
    state
        .db
        .set_triage_rule(
            cu.user.tenant_id,
            kindred_domain::referral::DueRule {
                hours,
                working_hours_only: f.working_hours == "yes",
            },
        )
        .await?;
    Ok(axum::response::Redirect::to("/admin/triage?saved=1").into_response())
}
