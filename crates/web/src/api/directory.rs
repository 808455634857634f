//! The service directory through the API: any partner system reads the
//! partnership's directory (paged, filtered, and incrementally by
//! `modified_since`), and a partner system publishes its own organisation's
//! services in bulk. Each published service is keyed by the caller's own id
//! for it (`external_id`), so sending it again brings it up to date and never
//! duplicates it; each is listed as coming from that partner system. Directory
//! records are public information, but every write is audited all the same.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use kindred_domain::access as policy;
use kindred_domain::audit::AuditAction;
use kindred_domain::directory::{
    self as dir, DeliveryMode, Frequency, MAX_AGE, SEND_MAX_AGE, ServiceStatus, byday_days, email_shape, parse_byday,
    parse_district, parse_time,
};
use kindred_store::directory::{
    ContactData, CostData, FullService, LanguageData, LocationData, ScheduleData, ServiceData, ServiceFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult, ErrorBody, FieldError};
use super::families::rfc3339;
use super::{Caller, PageQuery, read_items};
use crate::AppState;
use crate::access::{self, Record};
use crate::auth::CurrentUser;

/// At most this many services in one request.
pub const MAX_BATCH: usize = 100;

const ROUTE_PUBLISH: &str = "api POST /api/v1/directory/services";

/// A service as the directory lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    /// Its id (a UUID, the same as its Open Referral UK id).
    pub id: String,
    /// The publishing system's own id for it, when the caller published it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub organisation: OrganisationOut,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// active, inactive, defunct or temporarily closed.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<i64>,
    /// Also open to young people with SEND older than the maximum age, up to 25.
    pub send_up_to_25: bool,
    /// Part of the family hub's local offer (set by the hub, not the publisher).
    pub family_hub_offer: bool,
    /// Part of the Start for Life offer (set by the hub, not the publisher).
    pub start_for_life: bool,
    /// Whether practitioners can connect a family to it through Kindred.
    pub accepts_connections: bool,
    /// Need codes from Kindred's needs taxonomy.
    pub needs: Vec<String>,
    /// in_person, online, telephone or outreach.
    pub delivery_modes: Vec<String>,
    /// Postcode districts served; none listed means everywhere.
    pub areas: Vec<String>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    pub schedules: Vec<ScheduleIo>,
    pub costs: Vec<CostIo>,
    pub contacts: Vec<ContactIo>,
    pub locations: Vec<LocationOut>,
    /// Where the listing comes from: a feed or partner system, none when the hub keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_by: Option<String>,
    /// RFC 3339.
    pub last_modified: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationOut {
    pub id: String,
    pub name: String,
}

/// When a service runs, weekly.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ScheduleIo {
    /// Days as iCalendar writes them: MO, TU, WE, TH, FR, SA, SU.
    pub days: Option<Vec<String>>,
    /// HH:MM, 24-hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    /// HH:MM, 24-hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What a service costs; an amount of 0 or none is free.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CostIo {
    /// Pence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_pence: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Who to contact about a service.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ContactIo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationOut {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

/// A page of services.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServicePage {
    pub page: i64,
    pub per_page: i64,
    /// Services matching the filters, on every page.
    pub total: i64,
    pub items: Vec<ServiceOut>,
}

/// Filters on the directory; all given must hold.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// A need code from Kindred's needs taxonomy, e.g. `parenting_early`.
    need: Option<String>,
    /// An age in years the service must take.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 120)]
    age: Option<String>,
    /// A postcode district it must serve, e.g. W2.
    district: Option<String>,
    /// in_person, online, telephone or outreach.
    delivery_mode: Option<String>,
    /// Only services the caller's organisation published.
    #[param(value_type = Option<bool>)]
    mine: Option<String>,
    /// Only services changed at or after this time (RFC 3339), for an incremental sync.
    modified_since: Option<String>,
}

fn flag(raw: Option<&str>, field: &str) -> ApiResult<bool> {
    match raw.map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid_parameter(
            field,
            format!("{field} must be true or false"),
        )),
    }
}

impl ServiceQuery {
    async fn filter(&self, state: &AppState, cu: &CurrentUser) -> ApiResult<ServiceFilter> {
        let mut f = ServiceFilter {
            tenant_id: Some(cu.user.tenant_id),
            ..Default::default()
        };
        if let Some(need) = self.need.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let terms = state.db.needs_terms().await?;
            let term = terms
                .iter()
                .find(|t| t.code == need)
                .ok_or_else(|| ApiError::invalid_parameter("need", "Not a need on Kindred's needs list"))?;
            f.term_id = Some(term.id);
        }
        if let Some(age) = self.age.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let a = age
                .parse::<i64>()
                .ok()
                .filter(|a| (0..=MAX_AGE).contains(a))
                .ok_or_else(|| {
                    ApiError::invalid_parameter("age", format!("age must be a whole number from 0 to {MAX_AGE}"))
                })?;
            f.age = Some(a);
        }
        if let Some(d) = self.district.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let district = parse_district(d)
                .map_err(|_| ApiError::invalid_parameter("district", "Not a postcode district, like W2"))?;
            f.district = Some(district);
        }
        if let Some(m) = self.delivery_mode.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let mode = DeliveryMode::parse(m).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "delivery_mode",
                    "delivery_mode must be in_person, online, telephone or outreach",
                )
            })?;
            f.mode = Some(mode.code().into());
        }
        if flag(self.mine.as_deref(), "mine")? {
            // Looked up, never made: a read writes nothing. A system that has
            // published nothing has no source, and id 0 matches no service.
            let own = dir::partner_system_source(cu.user.id);
            let sources = state.db.directory_sources(cu.user.tenant_id).await?;
            f.source_id = Some(sources.iter().find(|s| s.base_url == own).map_or(0, |s| s.id));
        }
        if let Some(since) = self.modified_since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let t: jiff::Timestamp = since.parse().map_err(|_| {
                ApiError::invalid_parameter(
                    "modified_since",
                    "modified_since must be a time like 2026-11-30T09:00:00Z",
                )
            })?;
            f.modified_after_ms = Some(t.as_millisecond());
        }
        Ok(f)
    }
}

/// The directory source that stands for the caller's partner system: its
/// services are listed as coming from it.
async fn source_for(state: &AppState, cu: &CurrentUser) -> ApiResult<i64> {
    Ok(state
        .db
        .upsert_directory_source(
            cu.user.tenant_id,
            &format!("{} (partner system)", cu.organisation_name),
            &dir::partner_system_source(cu.user.id),
        )
        .await?)
}

async fn render(state: &AppState, cu: &CurrentUser, full: Vec<FullService>) -> ApiResult<Vec<ServiceOut>> {
    let all_sources = state.db.directory_sources(cu.user.tenant_id).await?;
    let own_url = dir::partner_system_source(cu.user.id);
    let own_source_id = all_sources.iter().find(|s| s.base_url == own_url).map(|s| s.id);
    let sources: HashMap<i64, String> = all_sources.into_iter().map(|s| (s.id, s.name)).collect();
    Ok(full
        .into_iter()
        .map(|f| {
            let s = f.service;
            ServiceOut {
                id: s.uuid,
                external_id: s
                    .external_id
                    .filter(|_| s.source_id.is_some() && s.source_id == own_source_id),
                organisation: OrganisationOut {
                    id: f.organisation.uuid,
                    name: f.organisation.name,
                },
                name: s.name,
                description: s.description,
                url: s.url,
                email: s.email,
                status: s.status,
                fees_description: s.fees_description,
                minimum_age: s.minimum_age,
                maximum_age: s.maximum_age,
                send_up_to_25: s.send_up_to_25,
                family_hub_offer: s.family_hub_offer,
                start_for_life: s.start_for_life,
                accepts_connections: s.connect_organisation_id.is_some(),
                needs: f.terms.into_iter().map(|t| t.code).collect(),
                delivery_modes: f.modes,
                areas: f.areas.into_iter().map(|a| a.area).collect(),
                languages: f.languages.into_iter().map(|l| l.code).collect(),
                schedules: f
                    .schedules
                    .into_iter()
                    .map(|x| ScheduleIo {
                        days: Some(byday_days(&x.byday).iter().map(|d| d.code().to_string()).collect()),
                        opens_at: x.opens_at,
                        closes_at: x.closes_at,
                        description: Some(x.description).filter(|d| !d.is_empty()),
                    })
                    .collect(),
                costs: f
                    .costs
                    .into_iter()
                    .map(|c| CostIo {
                        amount_pence: c.amount,
                        description: Some(c.amount_description).filter(|d| !d.is_empty()),
                    })
                    .collect(),
                contacts: f
                    .contacts
                    .into_iter()
                    .map(|c| ContactIo {
                        name: Some(c.name).filter(|n| !n.is_empty()),
                        phone: c.phone,
                        email: c.email,
                    })
                    .collect(),
                locations: f
                    .locations
                    .into_iter()
                    .map(|sal| {
                        let l = sal.location;
                        LocationOut {
                            id: l.uuid,
                            name: l.name,
                            address_1: l.address_1,
                            city: l.city,
                            postcode: l.postcode,
                            latitude: l.latitude,
                            longitude: l.longitude,
                        }
                    })
                    .collect(),
                listed_by: s.source_id.and_then(|id| sources.get(&id).cloned()),
                last_modified: rfc3339(s.last_modified_ms),
            }
        })
        .collect())
}

/// The partnership's directory, by name, with every service's details.
#[utoipa::path(
    get,
    path = "/api/v1/directory/services",
    tag = "directory",
    params(PageQuery, ServiceQuery),
    responses(
        (status = 200, description = "A page of services", body = ServicePage),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(cu): Caller,
    Query(page): Query<PageQuery>,
    Query(q): Query<ServiceQuery>,
) -> ApiResult<Json<ServicePage>> {
    let (page, per_page) = page.parse()?;
    let filter = q.filter(&state, &cu).await?;
    let (total, rows) = state.db.directory_services_page(&filter, page, per_page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let full = state.db.full_services(&ids).await?;
    let items = render(&state, &cu, full).await?;
    Ok(Json(ServicePage {
        page,
        per_page,
        total,
        items,
    }))
}

/// One service of the partnership's directory.
#[utoipa::path(
    get,
    path = "/api/v1/directory/services/{id}",
    tag = "directory",
    params(("id" = String, Path, description = "The service's id (a UUID)")),
    responses(
        (status = 200, description = "The service", body = ServiceOut),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such service in the caller's partnership", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Caller(cu): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ServiceOut>> {
    let full = state
        .db
        .full_service_by_uuid(id.trim())
        .await?
        .filter(|f| f.service.tenant_id == cu.user.tenant_id)
        .ok_or_else(ApiError::not_found)?;
    let mut out = render(&state, &cu, vec![full]).await?;
    out.pop().map(Json).ok_or_else(ApiError::not_found)
}

/// A batch of services to publish. (It describes the body for OpenAPI; the
/// handler reads the items one by one, so one malformed item does not sink the rest.)
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ServiceBatch {
    /// One to 100 services.
    pub services: Vec<ServiceIn>,
}

/// A service the caller's organisation runs, as its system holds it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ServiceIn {
    /// The caller's own id for the service: 1–100 letters, digits, `-`, `_`,
    /// `.`, `:` or `/`. Publishing the same id again updates the service.
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// A full web address, https://…
    pub url: Option<String>,
    pub email: Option<String>,
    /// active (the default), inactive, defunct or temporarily closed. Withdraw a service by making it inactive.
    pub status: Option<String>,
    pub fees_description: Option<String>,
    pub minimum_age: Option<i64>,
    pub maximum_age: Option<i64>,
    /// Also open to young people with SEND older than the maximum age, up to 25.
    pub send_up_to_25: Option<bool>,
    /// Whether practitioners may send the organisation requests to connect a family (default true).
    pub accepts_connections: Option<bool>,
    /// Need codes from Kindred's needs taxonomy (at least one).
    pub needs: Option<Vec<String>>,
    /// in_person, online, telephone or outreach (at least one).
    pub delivery_modes: Option<Vec<String>>,
    /// Postcode districts served (W2), or sectors or postcodes, which count as their district. None means everywhere.
    pub areas: Option<Vec<String>>,
    /// ISO 639-1 codes, e.g. en, ar, so.
    pub languages: Option<Vec<String>>,
    pub schedules: Option<Vec<ScheduleIo>>,
    pub costs: Option<Vec<CostIo>>,
    pub contacts: Option<Vec<ContactIo>>,
    pub locations: Option<Vec<LocationIn>>,
}

/// A place the service is offered at.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LocationIn {
    /// The caller's own id for the place; the same id is the same place across services.
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub address_1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// What became of one service of the batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishResult {
    /// Its position in the batch, from 0.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// created, updated or rejected.
    pub outcome: String,
    /// The service's directory id, when it was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Every field at fault, when rejected.
    pub errors: Vec<FieldError>,
}

/// The batch's results, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishBatchResult {
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    pub results: Vec<PublishResult>,
}

/// A place that passed the checks.
#[derive(Debug)]
struct ValidLocation {
    external_id: String,
    data: LocationData,
}

/// A service that passed every check, but for the ids only the store knows.
#[derive(Debug)]
struct Valid {
    external_id: String,
    data: ServiceData,
    needs: Vec<String>,
    locations: Vec<ValidLocation>,
    accepts_connections: bool,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_string()
}

fn opt_text(v: &Option<String>) -> Option<String> {
    Some(text(v)).filter(|s| !s.is_empty())
}

fn id_shape(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'))
}

/// Checks one service, collecting every field at fault under `at`.
fn check(s: &ServiceIn, at: &str, tenant_id: i64) -> Result<Valid, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = vec![];
    let mut err = |field: String, message: String| errors.push(FieldError { field, message });
    let external_id = text(&s.external_id);
    if !id_shape(&external_id) {
        err(
            format!("{at}.external_id"),
            "Give your own id for the service: 1 to 100 letters, digits, hyphens, underscores, dots, colons or slashes"
                .into(),
        );
    }
    let name = text(&s.name);
    if name.is_empty() {
        err(format!("{at}.name"), "Enter the service's name".into());
    } else if name.chars().count() > 200 {
        err(
            format!("{at}.name"),
            "The service's name must be 200 characters or fewer".into(),
        );
    }
    let description = text(&s.description);
    if description.is_empty() {
        err(format!("{at}.description"), "Enter a description of the service".into());
    } else if description.chars().count() > 10_000 {
        err(
            format!("{at}.description"),
            "The description must be 10,000 characters or fewer".into(),
        );
    }
    let url = opt_text(&s.url);
    if url
        .as_deref()
        .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 500)
    {
        err(
            format!("{at}.url"),
            "Give the website as a full address, like https://example.org".into(),
        );
    }
    let email = opt_text(&s.email);
    if email.as_deref().is_some_and(|e| !email_shape(e)) {
        err(
            format!("{at}.email"),
            "Give an email address like name@example.org".into(),
        );
    }
    let status = match s.status.as_deref().map(str::trim) {
        None | Some("") => Some(ServiceStatus::Active),
        Some(x) => ServiceStatus::parse(x),
    };
    if status.is_none() {
        err(
            format!("{at}.status"),
            "Status must be active, inactive, defunct or temporarily closed".into(),
        );
    }
    for (field, age) in [("minimum_age", s.minimum_age), ("maximum_age", s.maximum_age)] {
        if age.is_some_and(|a| !(0..=MAX_AGE).contains(&a)) {
            err(
                format!("{at}.{field}"),
                format!("Ages are whole years from 0 to {MAX_AGE}"),
            );
        }
    }
    if let (Some(lo), Some(hi)) = (s.minimum_age, s.maximum_age)
        && lo > hi
    {
        err(
            format!("{at}.maximum_age"),
            "The maximum age must be the same as or more than the minimum age".into(),
        );
    }
    let send_up_to_25 = s.send_up_to_25.unwrap_or(false);
    if send_up_to_25 && s.minimum_age.is_some_and(|m| m > SEND_MAX_AGE) {
        err(
            format!("{at}.minimum_age"),
            "A service for young people with SEND up to 25 must start at 25 or younger".into(),
        );
    }
    let needs: Vec<String> = s.needs.clone().unwrap_or_default();
    if needs.is_empty() {
        err(
            format!("{at}.needs"),
            "Give at least one need the service helps with".into(),
        );
    }
    for (i, n) in needs.iter().enumerate() {
        if dir::need_term(n).is_none() {
            err(format!("{at}.needs[{i}]"), "Not a need on Kindred's needs list".into());
        }
    }
    let mut modes = vec![];
    let given_modes = s.delivery_modes.clone().unwrap_or_default();
    if given_modes.is_empty() {
        err(
            format!("{at}.delivery_modes"),
            "Give at least one way the service is delivered".into(),
        );
    }
    for (i, m) in given_modes.iter().enumerate() {
        match DeliveryMode::parse(m.trim()) {
            Some(d) if !modes.contains(&d.code().to_string()) => modes.push(d.code().to_string()),
            Some(_) => {}
            None => err(
                format!("{at}.delivery_modes[{i}]"),
                "Must be in_person, online, telephone or outreach".into(),
            ),
        }
    }
    let mut areas = vec![];
    for (i, a) in s.areas.as_deref().unwrap_or_default().iter().enumerate() {
        match parse_district(a) {
            Ok(d) if !areas.contains(&d) => areas.push(d),
            Ok(_) => {}
            Err(_) => err(format!("{at}.areas[{i}]"), "Not a postcode district, like W2".into()),
        }
    }
    let mut languages = vec![];
    for (i, code) in s.languages.as_deref().unwrap_or_default().iter().enumerate() {
        match dir::language(code.trim()) {
            Some(l) if !languages.iter().any(|x: &LanguageData| x.code == l.code) => languages.push(LanguageData {
                name: l.name.into(),
                code: l.code.into(),
            }),
            Some(_) => {}
            None => err(
                format!("{at}.languages[{i}]"),
                "Not a language code Kindred knows: use ISO 639-1, like en or ar".into(),
            ),
        }
    }
    let mut schedules = vec![];
    for (i, x) in s.schedules.as_deref().unwrap_or_default().iter().enumerate() {
        let days = x.days.clone().unwrap_or_default();
        let byday = parse_byday(&days.join(","));
        match &byday {
            Ok(b) if b.is_empty() => err(format!("{at}.schedules[{i}].days"), "Give at least one day".into()),
            Ok(_) => {}
            Err(_) => err(
                format!("{at}.schedules[{i}].days"),
                "Days must be MO, TU, WE, TH, FR, SA or SU".into(),
            ),
        }
        let mut time = |field: &str, raw: &Option<String>| -> Option<String> {
            let t = text(raw);
            if t.is_empty() {
                return None;
            }
            let parsed = parse_time(&t);
            if parsed.is_none() {
                err(
                    format!("{at}.schedules[{i}].{field}"),
                    "Give a time as hours and minutes, like 09:30".into(),
                );
            }
            parsed
        };
        let opens_at = time("opens_at", &x.opens_at);
        let closes_at = time("closes_at", &x.closes_at);
        if let (Some(o), Some(c)) = (&opens_at, &closes_at)
            && c <= o
        {
            err(
                format!("{at}.schedules[{i}].closes_at"),
                "It must close after it opens".into(),
            );
        }
        schedules.push(ScheduleData {
            location_id: None,
            freq: Frequency::Weekly.code().into(),
            byday: byday.unwrap_or_default(),
            opens_at,
            closes_at,
            description: text(&x.description),
            valid_from: None,
            valid_to: None,
        });
    }
    let mut costs = vec![];
    for (i, c) in s.costs.as_deref().unwrap_or_default().iter().enumerate() {
        if c.amount_pence.is_some_and(|p| !(0..=100_000_000).contains(&p)) {
            err(
                format!("{at}.costs[{i}].amount_pence"),
                "Give the amount in pence, from 0 to 100000000".into(),
            );
        }
        costs.push(CostData {
            option: "Session".into(),
            amount: c.amount_pence,
            amount_description: text(&c.description),
        });
    }
    let mut contacts = vec![];
    for (i, c) in s.contacts.as_deref().unwrap_or_default().iter().enumerate() {
        let email = opt_text(&c.email);
        if email.as_deref().is_some_and(|e| !email_shape(e)) {
            err(
                format!("{at}.contacts[{i}].email"),
                "Give an email address like name@example.org".into(),
            );
        }
        let name = text(&c.name);
        let phone = opt_text(&c.phone);
        if name.is_empty() && phone.is_none() && email.is_none() {
            err(
                format!("{at}.contacts[{i}]"),
                "Give a name, phone number or email address".into(),
            );
        }
        contacts.push(ContactData {
            name,
            title: String::new(),
            phone,
            email,
        });
    }
    let mut locations: Vec<ValidLocation> = vec![];
    for (i, l) in s.locations.as_deref().unwrap_or_default().iter().enumerate() {
        let external_id = text(&l.external_id);
        if !id_shape(&external_id) {
            err(
                format!("{at}.locations[{i}].external_id"),
                "Give your own id for the place: 1 to 100 letters, digits, hyphens, underscores, dots, colons or slashes"
                    .into(),
            );
        } else if locations.iter().any(|x| x.external_id == external_id) {
            err(
                format!("{at}.locations[{i}].external_id"),
                "The same place is listed twice".into(),
            );
        }
        let name = text(&l.name);
        if name.is_empty() {
            err(format!("{at}.locations[{i}].name"), "Enter the place's name".into());
        }
        let postcode = match opt_text(&l.postcode) {
            None => None,
            Some(p) => match kindred_domain::postcode::Postcode::parse(&p) {
                Ok(p) => Some(p.as_str().to_string()),
                Err(_) => {
                    err(
                        format!("{at}.locations[{i}].postcode"),
                        "Not a UK postcode, like W2 5AB".into(),
                    );
                    None
                }
            },
        };
        if l.latitude.is_some_and(|x| !(-90.0..=90.0).contains(&x)) {
            err(
                format!("{at}.locations[{i}].latitude"),
                "Latitude must be from -90 to 90".into(),
            );
        }
        if l.longitude.is_some_and(|x| !(-180.0..=180.0).contains(&x)) {
            err(
                format!("{at}.locations[{i}].longitude"),
                "Longitude must be from -180 to 180".into(),
            );
        }
        locations.push(ValidLocation {
            external_id,
            data: LocationData {
                tenant_id,
                name,
                description: String::new(),
                address_1: opt_text(&l.address_1),
                city: opt_text(&l.city),
                postcode,
                latitude: l.latitude,
                longitude: l.longitude,
                hub_site_id: None,
            },
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        external_id,
        needs,
        locations,
        accepts_connections: s.accepts_connections.unwrap_or(true),
        data: ServiceData {
            tenant_id,
            dir_organisation_id: 0,
            name,
            description,
            url,
            email,
            status: status.unwrap_or(ServiceStatus::Active).code().into(),
            fees_description: opt_text(&s.fees_description),
            minimum_age: s.minimum_age,
            maximum_age: s.maximum_age,
            send_up_to_25,
            family_hub_offer: false,
            start_for_life: false,
            connect_organisation_id: None,
            location_ids: vec![],
            schedules,
            costs,
            languages,
            contacts,
            modes,
            areas,
            term_ids: vec![],
            last_modified_ms: None,
        },
    })
}

/// The directory organisation that stands for the caller's own organisation, made if new.
async fn own_dir_organisation(state: &AppState, cu: &CurrentUser) -> ApiResult<i64> {
    let tenant_id = cu.user.tenant_id;
    let existing = state
        .db
        .dir_organisations(tenant_id)
        .await?
        .into_iter()
        .find(|o| o.organisation_id == Some(cu.user.organisation_id));
    if let Some(o) = existing {
        return Ok(o.id);
    }
    Ok(state
        .db
        .create_dir_organisation(&kindred_store::directory::OrganisationData {
            tenant_id,
            organisation_id: Some(cu.user.organisation_id),
            name: cu.organisation_name.clone(),
            description: String::new(),
            email: None,
            website: None,
        })
        .await?)
}

/// Publishes the caller's organisation's services: each is checked on its
/// own; valid ones are created, or brought up to date when their
/// `external_id` was published before, and each rejected one comes back with
/// every field at fault. A hub's own choices (whether a service is in the
/// family hub or Start for Life offer) are kept.
#[utoipa::path(
    post,
    path = "/api/v1/directory/services",
    tag = "directory",
    request_body = ServiceBatch,
    responses(
        (status = 200, description = "Each service's result, in order", body = PublishBatchResult),
        (status = 400, description = "The body is not a batch of services", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not publish services", body = ErrorBody),
        (status = 413, description = "More than 100 services", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    Caller(cu): Caller,
    body: Bytes,
) -> ApiResult<Json<PublishBatchResult>> {
    if !policy::publish_own_services(&cu.user.subject()) {
        return Err(ApiError::forbidden("This system may not publish services"));
    }
    let items = read_items::<ServiceIn>(&body, "services", "service", MAX_BATCH)?;
    let mut out = PublishBatchResult {
        created: 0,
        updated: 0,
        rejected: 0,
        results: vec![],
    };
    let mut context = None;
    for (index, item) in items.into_iter().enumerate() {
        let at = format!("services[{index}]");
        let given_id = item.as_ref().ok().and_then(|s| s.external_id.clone());
        let checked = item
            .map_err(|e| vec![e])
            .and_then(|s| check(&s, &at, cu.user.tenant_id));
        let valid = match checked {
            Ok(v) => v,
            Err(errors) => {
                out.rejected += 1;
                out.results.push(PublishResult {
                    index,
                    external_id: given_id,
                    outcome: "rejected".into(),
                    id: None,
                    errors,
                });
                continue;
            }
        };
        if context.is_none() {
            context = Some(PublishContext {
                source_id: source_for(&state, &cu).await?,
                dir_organisation_id: own_dir_organisation(&state, &cu).await?,
                needs: state
                    .db
                    .needs_terms()
                    .await?
                    .into_iter()
                    .map(|t| (t.code, t.id))
                    .collect(),
            });
        }
        let Some(ctx) = &context else { continue };
        let (created, uuid) = save(&state, &cu, ctx, valid).await?;
        if created {
            out.created += 1;
        } else {
            out.updated += 1;
        }
        out.results.push(PublishResult {
            index,
            external_id: given_id.map(|s| s.trim().to_string()),
            outcome: if created { "created" } else { "updated" }.into(),
            id: Some(uuid),
            errors: vec![],
        });
    }
    Ok(Json(out))
}

struct PublishContext {
    source_id: i64,
    dir_organisation_id: i64,
    needs: HashMap<String, i64>,
}

/// Saves one checked service; whether it was new, and its UUID.
async fn save(state: &AppState, cu: &CurrentUser, ctx: &PublishContext, v: Valid) -> ApiResult<(bool, String)> {
    let db = &state.db;
    let mut data = v.data;
    data.dir_organisation_id = ctx.dir_organisation_id;
    data.connect_organisation_id = v.accepts_connections.then_some(cu.user.organisation_id);
    data.term_ids = v.needs.iter().filter_map(|c| ctx.needs.get(c).copied()).collect();
    for l in &v.locations {
        let id = db
            .upsert_location(ctx.source_id, &format!("location:{}", l.external_id), &l.data)
            .await?;
        data.location_ids.push(id);
    }
    let before = db.directory_service_by_external(ctx.source_id, &v.external_id).await?;
    if let Some(b) = &before {
        data.family_hub_offer = b.family_hub_offer;
        data.start_for_life = b.start_for_life;
    }
    let (id, uuid) = db.upsert_service(ctx.source_id, &v.external_id, &data).await?;
    let action = if before.is_some() {
        AuditAction::Update
    } else {
        AuditAction::Create
    };
    access::audit(
        state,
        cu,
        action,
        Record::DirectoryService(id),
        ROUTE_PUBLISH,
        String::new(),
    )
    .await?;
    Ok((before.is_none(), uuid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> serde_json::Value {
        serde_json::json!({
            "external_id": "svc-42",
            "name": "Stay and play",
            "description": "Songs and play for babies and toddlers with their parents",
            "minimum_age": 0,
            "maximum_age": 4,
            "needs": ["parenting_early"],
            "delivery_modes": ["in_person"],
            "areas": ["W2", "w9 3ab", "W2"],
            "languages": ["en", "ar"],
            "schedules": [{"days": ["WE", "mo"], "opens_at": "9:30", "closes_at": "11:00"}],
            "costs": [{"amount_pence": 0}],
            "contacts": [{"name": "Bookings", "phone": "020 7946 0001"}],
            "locations": [{"external_id": "hall-1", "name": "Church hall", "postcode": "w2 5ab"}]
        })
    }

    fn fields(v: serde_json::Value) -> Vec<String> {
        let s: ServiceIn = serde_json::from_value(v).unwrap();
        match check(&s, "services[0]", 1) {
            Ok(_) => vec![],
            Err(e) => e.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn a_complete_service_passes_and_is_normalised() {
        let s: ServiceIn = serde_json::from_value(good()).unwrap();
        let v = check(&s, "services[0]", 1).unwrap();
        assert_eq!(v.data.areas, vec!["W2", "W9"]);
        assert_eq!(v.data.schedules[0].byday, "MO,WE");
        assert_eq!(v.data.schedules[0].opens_at.as_deref(), Some("09:30"));
        assert_eq!(v.locations[0].data.postcode.as_deref(), Some("W2 5AB"));
        assert_eq!(v.data.status, "active");
        assert!(v.accepts_connections);
    }

    #[test]
    fn every_fault_is_named_by_its_field() {
        let mut v = good();
        v["external_id"] = "has spaces".into();
        v["maximum_age"] = 200.into();
        v["needs"] = serde_json::json!(["parenting_early", "flying"]);
        v["delivery_modes"] = serde_json::json!(["carrier pigeon"]);
        v["areas"] = serde_json::json!(["W2", "Narnia"]);
        v["schedules"][0]["days"] = serde_json::json!(["XX"]);
        v["schedules"][0]["closes_at"] = "08:00".into();
        v["locations"][0]["postcode"] = "nowhere".into();
        v["contacts"][0] = serde_json::json!({});
        assert_eq!(
            fields(v),
            vec![
                "services[0].external_id",
                "services[0].maximum_age",
                "services[0].needs[1]",
                "services[0].delivery_modes[0]",
                "services[0].areas[1]",
                "services[0].schedules[0].days",
                "services[0].schedules[0].closes_at",
                "services[0].contacts[0]",
                "services[0].locations[0].postcode",
            ]
        );
    }

    #[test]
    fn missing_essentials_are_each_reported() {
        let f = fields(serde_json::json!({}));
        for want in [
            "services[0].external_id",
            "services[0].name",
            "services[0].description",
            "services[0].needs",
            "services[0].delivery_modes",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
        }
    }
}
