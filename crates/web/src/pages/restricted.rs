//! Restricted persons (F9): a worker who may edit a family of the person
//! marks them restricted (the reason goes to the audit trail as a code only),
//! and names the workers who may see their address and contact details
//! (`access::contact_details`). The marker is named automatically.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::audit::AuditAction;
use kindred_domain::model::Role;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};

/// Why a person is restricted: codes for the audit trail, labels for the form.
pub const REASONS: &[(&str, &str)] = &[
    ("domestic_abuse", "A survivor of domestic abuse"),
    ("risk_of_harm", "At risk of harm from someone who may look for them"),
    ("other", "Another reason to keep where they live private"),
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MarkForm {
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GrantForm {
    user_id: String,
}

/// Opens a person to change their restriction: the policy's Edit on a family
/// of theirs, and, once they are restricted, permission to see their details.
async fn open(state: &AppState, cu: &CurrentUser, id: i64, route: &str) -> AppResult<(i64, bool)> {
    let (_, family) = gate::person(state, cu, id, FamilyAction::Edit, true, route).await?;
    let facts = state.db.own_restriction_facts(&[id]).await?;
    let restricted = facts.get(&id).is_none_or(|f| f.restricted);
    if restricted && !gate::person_contact_shown(state, cu, id).await? {
        return Err(AppError::NotFound);
    }
    Ok((family, restricted))
}

async fn record(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    family: i64,
    route: &str,
    detail: String,
) -> AppResult<()> {
    gate::audit(
        state,
        cu,
        AuditAction::Update,
        Record::RestrictedPerson { id, family },
        route,
        detail,
    )
    .await
}

fn back(id: i64) -> Response {
    Redirect::to(&format!("/persons/{id}#restricted")).into_response()
}

/// POST /persons/{id}/restricted
pub async fn mark(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<MarkForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /persons/{id}/restricted";
    let (family, restricted) = open(&state, &cu, id, ROUTE).await?;
    let reason = REASONS
        .iter()
        .find(|(c, _)| *c == form.reason)
        .map_or("other", |(c, _)| c);
    if !restricted {
        state.db.mark_restricted(id, cu.user.id).await?;
        record(&state, &cu, id, family, ROUTE, format!("restricted reason={reason}")).await?;
    }
    Ok(back(id))
}

/// POST /persons/{id}/restricted/lift
pub async fn lift(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<MarkForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /persons/{id}/restricted/lift";
    let (family, restricted) = open(&state, &cu, id, ROUTE).await?;
    if restricted {
        state.db.unmark_restricted(id).await?;
        record(&state, &cu, id, family, ROUTE, "lifted".into()).await?;
    }
    Ok(back(id))
}

/// The workers a restricted person's details may be shown to: the team
/// around their families first, then the tenant's other case workers.
/// (user id, label)
pub async fn candidates(state: &AppState, cu: &CurrentUser, person_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = vec![];
    for (family, _) in state.db.current_families_of_person(person_id).await? {
        for t in state.db.team(family).await? {
            if t.until_date.is_none() && !out.iter().any(|o| o.0 == t.user_id) {
                out.push((t.user_id, format!("{} (team around the family)", t.display_name)));
            }
        }
    }
    for u in state.db.users(cu.user.tenant_id).await? {
        let case_role = u.has(Role::Practitioner) || u.has(Role::Manager) || u.has(Role::Triage);
        if u.active && case_role && !u.is_system() && !out.iter().any(|o| o.0 == u.id) {
            out.push((u.id, format!("{} ({})", u.display_name, u.profession.label())));
        }
    }
    Ok(out)
}

/// POST /persons/{id}/restricted/permissions
pub async fn grant(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /persons/{id}/restricted/permissions";
    let (family, restricted) = open(&state, &cu, id, ROUTE).await?;
    if !restricted {
        return Ok(back(id));
    }
    let user_id = form
        .user_id
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("Select a worker to allow."))?;
    if !candidates(&state, &cu, id).await?.iter().any(|c| c.0 == user_id) {
        return Err(AppError::BadRequest("Select a worker to allow."));
    }
    state.db.grant_restricted_permission(id, user_id, cu.user.id).await?;
    record(&state, &cu, id, family, ROUTE, format!("granted user={user_id}")).await?;
    Ok(back(id))
}

/// POST /persons/{id}/restricted/permissions/{user}/revoke
pub async fn revoke(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, user_id)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<MarkForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /persons/{id}/restricted/permissions/{user}/revoke";
    let (family, _) = open(&state, &cu, id, ROUTE).await?;
    if state.db.revoke_restricted_permission(id, user_id).await? {
        record(&state, &cu, id, family, ROUTE, format!("revoked user={user_id}")).await?;
    }
    Ok(back(id))
}

/// A family member as the family portal shows them to another member.
pub struct PortalMember {
    pub name: String,
    /// Address, phone and email, when `access::portal_contact_details` allows.
    pub details: Vec<String>,
    pub own: bool,
}

/// The current members of the viewer's family: names, and contact details
/// only where `access::portal_contact_details` allows (their own always; a
/// restricted member's never, with no sign that anything is withheld).
pub async fn portal_members(state: &AppState, family_id: i64, viewer_person_id: i64) -> AppResult<Vec<PortalMember>> {
    let members: Vec<_> = state
        .db
        .members(family_id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .collect();
    let ids: Vec<i64> = members.iter().map(|m| m.person.id).collect();
    let facts = state.db.restriction_facts(&ids).await?;
    let mut addresses = state.db.current_addresses(&ids).await?;
    let mut contacts = state.db.person_contacts(&ids).await?;
    Ok(members
        .into_iter()
        .map(|m| {
            let id = m.person.id;
            let may = facts
                .get(&id)
                .is_some_and(|f| kindred_domain::access::portal_contact_details(viewer_person_id, id, f));
            let mut details = vec![];
            if may {
                if let Some(a) = addresses.remove(&id) {
                    details.push(
                        [Some(a.line1), a.line2, Some(a.town), Some(a.postcode)]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                }
                if let Some(c) = contacts.remove(&id) {
                    details.extend(c.phone);
                    details.extend(c.email);
                }
            }
            PortalMember {
                name: m.person.full_name(),
                details,
                own: id == viewer_person_id,
            }
        })
        .collect())
}
