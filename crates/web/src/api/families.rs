//! Families the calling organisation works with: a paged list, and one family
//! with its current members. The same policy as the family page decides, and
//! a restricted person's address is withheld as it is there.

use axum::Json;
use axum::extract::{Path, Query, State};
use kindred_domain::access::{Decision, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates::iso;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{Caller, PageQuery};
use crate::AppState;
use crate::access::{self, Record};

/// One family in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct FamilySummary {
    pub id: i64,
    pub name: String,
    /// Current members.
    pub members: i64,
    /// When the record last changed (RFC 3339).
    pub updated_at: String,
}

/// A page of families.
#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyPage {
    pub page: i64,
    pub per_page: i64,
    /// Families on this page.
    pub items: Vec<FamilySummary>,
    /// Whether a further page may hold more.
    pub more: bool,
}

/// One current member of a family.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub person_id: i64,
    /// parent, carer, child, unborn, sibling, grandparent or other.
    pub role: String,
    pub given_name: String,
    pub family_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    /// YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// For an unborn baby: YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_delivery: Option<String>,
    /// female, male or unknown.
    pub sex: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub interpreter_needed: bool,
    /// Special educational needs and disabilities.
    pub send: bool,
    /// The current postcode, unless the person's address is withheld from the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Whether the person's address and contact details are withheld (a restricted person).
    pub address_withheld: bool,
    /// YYYY-MM-DD.
    pub joined_on: String,
}

/// An organisation working with the family.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvolvementOut {
    pub organisation: String,
    /// YYYY-MM-DD.
    pub since: String,
}

/// A family, as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyOut {
    pub id: i64,
    pub name: String,
    pub updated_at: String,
    /// The lead professional's name, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_professional: Option<String>,
    pub members: Vec<MemberOut>,
    /// Organisations with an open involvement.
    pub involvements: Vec<InvolvementOut>,
}

pub(super) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Families the caller's organisation works with, most recently changed first.
#[utoipa::path(
    get,
    path = "/api/v1/families",
    tag = "families",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of families", body = FamilyPage),
        (status = 400, description = "A paging parameter is wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(cu): Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<FamilyPage>> {
    let (page, per_page) = q.parse()?;
    let (rows, _) = state
        .db
        .visible_families(&cu.user.subject(), per_page, (page - 1) * per_page)
        .await?;
    let fetched = rows.len() as i64;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let allowed = access::filter_visible(&state, &cu, &ids).await?;
    let items: Vec<FamilySummary> = rows
        .into_iter()
        .filter(|r| allowed.contains(&r.id))
        .map(|r| FamilySummary {
            id: r.id,
            name: r.name,
            members: r.members,
            updated_at: rfc3339(r.updated_at_ms),
        })
        .collect();
    access::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::FamilyList,
        "api GET /api/v1/families",
        format!("families={} page={page}", items.len()),
    )
    .await?;
    Ok(Json(FamilyPage {
        page,
        per_page,
        items,
        more: fetched == per_page,
    }))
}

/// One family: its current members, lead professional and involvements.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}",
    tag = "families",
    params(("id" = i64, Path, description = "The family's id")),
    responses(
        (status = 200, description = "The family", body = FamilyOut),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such family, or none the caller may see", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Caller(cu): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<FamilyOut>> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let (family, basis) = access::family(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "api GET /api/v1/families/{id}",
    )
    .await?;
    let members: Vec<_> = state
        .db
        .members(id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .collect();
    let person_ids: Vec<i64> = members.iter().map(|m| m.person.id).collect();
    let shown = access::contact_details_shown(&state, &cu, Decision::Allow(basis), &person_ids).await?;
    let addresses = state.db.current_addresses(&person_ids).await?;
    let lead_professional = match family.lead_user_id {
        Some(u) => Some(state.db.user(u).await?.display_name),
        None => None,
    };
    let involvements = state
        .db
        .involvements(id)
        .await?
        .into_iter()
        .filter(|i| i.ended_on.is_none())
        .map(|i| InvolvementOut {
            organisation: i.organisation_name,
            since: iso(i.started_on),
        })
        .collect();
    let members = members
        .into_iter()
        .map(|m| {
            let p = m.person;
            let withheld = !shown.contains(&p.id);
            MemberOut {
                person_id: p.id,
                role: m.role.code().into(),
                given_name: p.given_name,
                family_name: p.family_name,
                preferred_name: p.preferred_name,
                date_of_birth: p.date_of_birth.map(iso),
                expected_delivery: p.expected_delivery.map(iso),
                sex: p.sex.code().into(),
                nhs_number: p.nhs_number.map(|n| n.as_digits()),
                upn: p.upn.map(|u| u.as_str().to_string()),
                language: p.language,
                interpreter_needed: p.interpreter_needed,
                send: p.send,
                postcode: if withheld {
                    None
                } else {
                    addresses.get(&p.id).map(|a| a.postcode.clone())
                },
                address_withheld: withheld,
                joined_on: iso(m.joined_on),
            }
        })
        .collect();
    Ok(Json(FamilyOut {
        id: family.id,
        name: family.name,
        updated_at: rfc3339(family.updated_at_ms),
        lead_professional,
        members,
        involvements,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
