//! The Open Referral UK 3.0 API at `/openreferral` (issue 8): public, no
//! sign-in, JSON, `Access-Control-Allow-Origin: *` on every response (set in
//! `security::headers`, errors and unknown paths included).
//!
//! Directory records are public information, not personal data: nothing here
//! goes through `crate::access` and nothing is audited. Only Kindred's own
//! services are published (see `store::openreferral`); lists show active
//! ones, `/services/{id}` any status, so a directory that pulls ours sees a
//! service close. A bad parameter is a 400 naming it; an unknown id a 404;
//! both as JSON.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kindred_domain::oruk::{
    self, Address, Attribute, Contact, CostOption, Info, Language, Location, Organization, Page, Paging, ParamError,
    Phone, Schedule, Service, ServiceArea, ServiceAtLocation, ServiceQuery, Taxonomy, TaxonomyTerm,
};
use kindred_store::openreferral::{
    OrChildren, OrFilter, OrLocation, OrService, OrTaxonomy, OrTerm, OrTermFilter, TaxonomyFilter, TermFilter,
};
use serde::Serialize;

use crate::AppState;

/// An API error as JSON: `{"status": 400, "parameter": "per_page", "message": "…"}`.
#[derive(Debug)]
pub enum ApiError {
    BadParameter(ParamError),
    NotFound(&'static str),
    Internal(anyhow::Error),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'a str>,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, parameter, message) = match &self {
            ApiError::BadParameter(e) => (StatusCode::BAD_REQUEST, Some(e.parameter), e.message.clone()),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, None, format!("No {what} has that id")),
            ApiError::Internal(e) => {
                let id = crate::passwords::random_token()[..12].to_string();
                tracing::error!(correlation_id = %id, error = %format!("{e:#}"), "openreferral request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    format!("Sorry, there is a problem with the service (reference {id})"),
                )
            }
        };
        let body = ErrorBody {
            status: status.as_u16(),
            parameter,
            message,
        };
        (status, Json(body)).into_response()
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::BadParameter(e)
    }
}

impl From<kindred_store::StoreError> for ApiError {
    fn from(e: kindred_store::StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The router's fallback for an unknown path under `/openreferral`.
pub fn unknown_path() -> Response {
    ApiError::NotFound("endpoint").into_response()
}

fn pairs(raw: Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(|_| {
        ApiError::BadParameter(ParamError {
            parameter: "query",
            message: "the query string could not be read".into(),
        })
    })
}

fn checked_id(id: &str, what: &'static str) -> Result<String, ApiError> {
    if oruk::is_uuid(id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(ApiError::NotFound(what))
    }
}

pub async fn info() -> Json<Info> {
    Json(Info::kindred())
}

fn filter(q: &ServiceQuery) -> OrFilter {
    OrFilter {
        words: q
            .search
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        term: q.taxonomy_term_id.as_deref().map(|id| match oruk::fixed_term(id) {
            Some(t) if t.taxonomy_id == oruk::DELIVERY_TAXONOMY_ID => TermFilter::DeliveryMode(t.code.into()),
            Some(t) => TermFilter::Offer(t.code.into()),
            None => TermFilter::Stored(id.into()),
        }),
        taxonomy: q.taxonomy_id.as_deref().map(|id| match oruk::fixed_taxonomy(id) {
            Some(t) if t.id == oruk::DELIVERY_TAXONOMY_ID => TaxonomyFilter::AnyDeliveryMode,
            Some(_) => TaxonomyFilter::AnyOffer,
            None => TaxonomyFilter::Stored(id.into()),
        }),
        minimum_age_at_least: q.minimum_age,
        maximum_age_at_most: q.maximum_age,
        day: q.day.map(|d| d.code().to_string()),
        opens_from: q.start_time.as_deref().map(|t| t[..5].to_string()),
        closes_by: q.end_time.as_deref().map(|t| t[..5].to_string()),
        district: q.postcode_district.clone(),
    }
}

fn limits(p: Paging) -> (i64, i64) {
    (p.per_page as i64, p.offset() as i64)
}

pub async fn services(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Page<Service>> {
    let q = oruk::parse_service_query(&pairs(raw)?, false)?;
    let (limit, offset) = limits(q.paging);
    let (rows, total) = state.db.oruk_services(&filter(&q), limit, offset).await?;
    Ok(Json(Page::new(
        rows.iter().map(list_service).collect(),
        total as u64,
        q.paging,
    )))
}

pub async fn service(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Service> {
    let id = checked_id(&id, "service")?;
    let row = state.db.oruk_service(&id).await?.ok_or(ApiError::NotFound("service"))?;
    let children = state.db.oruk_children(&[row.id]).await?;
    Ok(Json(full_service(&row, &children)))
}

pub async fn service_at_locations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Page<ServiceAtLocation>> {
    let q = oruk::parse_service_query(&pairs(raw)?, true)?;
    let (limit, offset) = limits(q.paging);
    let (rows, total) = state.db.oruk_service_at_locations(&filter(&q), limit, offset).await?;
    let contents = rows
        .iter()
        .map(|r| ServiceAtLocation {
            id: r.uuid.clone(),
            service_id: Some(r.service.uuid.clone()),
            location_id: Some(r.location.uuid.clone()),
            location: Some(location(&r.location)),
            service: Some(Box::new(list_service(&r.service))),
        })
        .collect();
    Ok(Json(Page::new(contents, total as u64, q.paging)))
}

pub async fn service_at_location(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ServiceAtLocation> {
    let id = checked_id(&id, "service at location")?;
    let r = state
        .db
        .oruk_service_at_location(&id)
        .await?
        .ok_or(ApiError::NotFound("service at location"))?;
    let children = state.db.oruk_children(&[r.service.id]).await?;
    Ok(Json(ServiceAtLocation {
        id: r.uuid.clone(),
        service_id: Some(r.service.uuid.clone()),
        location_id: Some(r.location.uuid.clone()),
        location: Some(location(&r.location)),
        service: Some(Box::new(full_service(&r.service, &children))),
    }))
}

/// Kindred's fixed entries come first, then the stored ones: which part of
/// the page each gives, and where the stored part starts.
fn split(fixed: usize, paging: Paging) -> (std::ops::Range<usize>, i64, i64) {
    let offset = paging.offset() as usize;
    let start = offset.min(fixed);
    let end = (offset + paging.per_page as usize).min(fixed);
    let stored_offset = offset.saturating_sub(fixed) as i64;
    let stored_limit = paging.per_page as i64 - (end - start) as i64;
    (start..end, stored_offset, stored_limit)
}

pub async fn taxonomies(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Page<Taxonomy>> {
    let paging = oruk::parse_paging(&pairs(raw)?)?;
    let fixed: Vec<Taxonomy> = oruk::FIXED_TAXONOMIES.iter().map(|t| t.to_oruk()).collect();
    let (range, offset, limit) = split(fixed.len(), paging);
    let (rows, total) = state.db.oruk_taxonomies(limit, offset).await?;
    let mut contents = fixed[range].to_vec();
    contents.extend(rows.iter().map(taxonomy));
    Ok(Json(Page::new(contents, (fixed.len() as i64 + total) as u64, paging)))
}

/// A taxonomy with its terms (the schema's `taxonomy_terms`).
#[derive(Serialize)]
pub struct TaxonomyWithTerms {
    #[serde(flatten)]
    taxonomy: Taxonomy,
    taxonomy_terms: Vec<TaxonomyTerm>,
}

pub async fn taxonomy_by_id(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<TaxonomyWithTerms> {
    let id = checked_id(&id, "taxonomy")?;
    if let Some(t) = oruk::fixed_taxonomy(&id) {
        return Ok(Json(TaxonomyWithTerms {
            taxonomy: t.to_oruk(),
            taxonomy_terms: t.terms.iter().map(|t| t.to_oruk()).collect(),
        }));
    }
    let t = state
        .db
        .oruk_taxonomy(&id)
        .await?
        .ok_or(ApiError::NotFound("taxonomy"))?;
    let filter = OrTermFilter {
        taxonomy_uuid: Some(t.uuid.clone()),
        ..OrTermFilter::default()
    };
    let (terms, _) = state.db.oruk_terms(&filter, 10_000, 0).await?;
    Ok(Json(TaxonomyWithTerms {
        taxonomy: taxonomy(&t),
        taxonomy_terms: terms.iter().map(term).collect(),
    }))
}

pub async fn taxonomy_terms(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Page<TaxonomyTerm>> {
    let q = oruk::parse_term_query(&pairs(raw)?)?;
    let fixed: Vec<TaxonomyTerm> = oruk::fixed_terms()
        .filter(|t| q.taxonomy_id.as_deref().is_none_or(|x| x == t.taxonomy_id) && q.parent_id.is_none())
        .map(|t| t.to_oruk())
        .collect();
    let (range, offset, limit) = split(fixed.len(), q.paging);
    let filter = OrTermFilter {
        taxonomy_uuid: q.taxonomy_id.clone(),
        parent_uuid: q.parent_id.clone(),
        top_only: q.top_only,
    };
    let (rows, total) = state.db.oruk_terms(&filter, limit, offset).await?;
    let mut contents = fixed[range].to_vec();
    contents.extend(rows.iter().map(term));
    Ok(Json(Page::new(contents, (fixed.len() as i64 + total) as u64, q.paging)))
}

pub async fn taxonomy_term(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<TaxonomyTerm> {
    let id = checked_id(&id, "taxonomy term")?;
    if let Some(t) = oruk::fixed_term(&id) {
        return Ok(Json(t.to_oruk()));
    }
    let t = state
        .db
        .oruk_term(&id)
        .await?
        .ok_or(ApiError::NotFound("taxonomy term"))?;
    Ok(Json(term(&t)))
}

// ---------------------------------------------------------------------------
// Stored rows → ORUK.

fn web_url(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace))
}

fn email(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| {
        s.split_once('@')
            .is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !s.contains(char::is_whitespace))
    })
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn organization(r: &OrService) -> Organization {
    Organization {
        id: r.org_uuid.clone(),
        name: r.org_name.clone(),
        description: r.org_description.clone(),
        email: email(&r.org_email),
        website: web_url(&r.org_website),
        logo: None,
        uri: None,
        parent_organization_id: None,
    }
}

/// A service's one-to-one fields and its organisation: a list's item.
fn list_service(r: &OrService) -> Service {
    let send = if r.send_up_to_25 {
        Some("Also open to young people aged 19 to 25 with special educational needs or disabilities.".to_string())
    } else {
        None
    };
    Service {
        id: r.uuid.clone(),
        organization_id: Some(r.org_uuid.clone()),
        name: r.name.clone(),
        description: non_empty(&r.description),
        url: web_url(&r.url),
        email: email(&r.email),
        status: r.status.clone(),
        fees: r.fees_description.as_deref().and_then(non_empty),
        eligibility_description: send,
        minimum_age: r.minimum_age.map(|a| a as f64),
        maximum_age: r.maximum_age.map(|a| a as f64),
        last_modified: Some(oruk::timestamp(r.last_modified_ms)),
        organization: Some(organization(r)),
        ..Service::default()
    }
}

fn location(l: &OrLocation) -> Location {
    let has_address = l.address_1.as_deref().is_some_and(|a| !a.trim().is_empty())
        || l.postcode.as_deref().is_some_and(|p| !p.trim().is_empty());
    let addresses = has_address.then(|| {
        vec![Address {
            id: oruk::derived_uuid(&l.uuid, "address"),
            location_id: Some(l.uuid.clone()),
            address_1: l
                .address_1
                .as_deref()
                .and_then(non_empty)
                .unwrap_or_else(|| l.name.clone()),
            city: l.city.clone().unwrap_or_default(),
            state_province: "England".into(),
            postal_code: l.postcode.clone().unwrap_or_default(),
            country: "GB".into(),
            address_type: "physical".into(),
            ..Address::default()
        }]
    });
    Location {
        id: l.uuid.clone(),
        location_type: "physical".into(),
        name: Some(l.name.clone()),
        description: non_empty(&l.description),
        latitude: l.latitude,
        longitude: l.longitude,
        addresses: Some(addresses.unwrap_or_default()),
        ..Location::default()
    }
}

fn term(t: &OrTerm) -> TaxonomyTerm {
    TaxonomyTerm {
        id: t.uuid.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        code: Some(t.code.clone()),
        parent_id: t.parent_uuid.clone(),
        taxonomy: Some(t.taxonomy_name.clone()),
        taxonomy_id: Some(t.taxonomy_uuid.clone()),
        term_uri: None,
        term: Some(t.name.clone()),
    }
}

fn taxonomy(t: &OrTaxonomy) -> Taxonomy {
    Taxonomy {
        id: t.uuid.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        uri: web_url(&t.uri),
        version: t.version.clone(),
    }
}

fn attribute(service_uuid: &str, t: TaxonomyTerm) -> Attribute {
    Attribute {
        id: oruk::derived_uuid(service_uuid, &t.id),
        link_id: Some(service_uuid.to_string()),
        taxonomy_term_id: Some(t.id.clone()),
        link_type: Some("service".into()),
        taxonomy_term: Some(t),
    }
}

/// A service with everything about it: `/services/{id}`.
fn full_service(r: &OrService, c: &OrChildren) -> Service {
    let sid = r.id;
    let uuid = r.uuid.as_str();
    let mut s = list_service(r);
    s.schedules = Some(
        c.schedules
            .get(&sid)
            .into_iter()
            .flatten()
            .map(|x| Schedule {
                id: x.uuid.clone(),
                service_id: Some(uuid.into()),
                service_at_location_id: x.sal_uuid.clone(),
                valid_from: x.valid_from.map(|d| d.to_string()),
                valid_to: x.valid_to.map(|d| d.to_string()),
                freq: non_empty(&x.freq),
                interval: Some(1.0),
                byday: non_empty(&x.byday),
                description: non_empty(&x.description),
                opens_at: x.opens_at.as_deref().and_then(oruk::parse_time),
                closes_at: x.closes_at.as_deref().and_then(oruk::parse_time),
                ..Schedule::default()
            })
            .collect(),
    );
    s.service_areas = Some(
        c.areas
            .get(&sid)
            .into_iter()
            .flatten()
            .map(|a| ServiceArea {
                id: a.uuid.clone(),
                service_id: Some(uuid.into()),
                name: Some(a.area.clone()),
                extent: Some(a.area.clone()),
                extent_type: Some("postcode".into()),
                service_area: Some(a.area.clone()),
                uri: None,
            })
            .collect(),
    );
    s.service_at_locations = Some(
        c.locations
            .get(&sid)
            .into_iter()
            .flatten()
            .map(|(sal, l)| ServiceAtLocation {
                id: sal.clone(),
                service_id: Some(uuid.into()),
                location_id: Some(l.uuid.clone()),
                location: Some(location(l)),
                service: None,
            })
            .collect(),
    );
    s.languages = Some(
        c.languages
            .get(&sid)
            .into_iter()
            .flatten()
            .map(|l| Language {
                id: l.uuid.clone(),
                service_id: Some(uuid.into()),
                name: non_empty(&l.name),
                code: non_empty(&l.code),
                note: None,
            })
            .collect(),
    );
    s.cost_options = Some(
        c.costs
            .get(&sid)
            .into_iter()
            .flatten()
            .map(|x| CostOption {
                id: x.uuid.clone(),
                service_id: Some(uuid.into()),
                option: non_empty(&x.option),
                currency: x.amount.map(|_| "GBP".into()),
                amount: x.amount.map(|p| p as f64 / 100.0),
                amount_description: non_empty(&x.amount_description),
                ..CostOption::default()
            })
            .collect(),
    );
    s.contacts = Some(
        c.contacts
            .get(&sid)
            .into_iter()
            .flatten()
            .map(|x| Contact {
                id: x.uuid.clone(),
                service_id: Some(uuid.into()),
                name: non_empty(&x.name),
                title: non_empty(&x.title),
                email: email(&x.email),
                phones: Some(
                    x.phone
                        .as_deref()
                        .and_then(non_empty)
                        .map(|number| Phone {
                            id: oruk::derived_uuid(&x.uuid, "phone"),
                            contact_id: Some(x.uuid.clone()),
                            number,
                            description: None,
                        })
                        .into_iter()
                        .collect(),
                ),
            })
            .collect(),
    );
    let mut attributes: Vec<Attribute> = vec![];
    for m in c.modes.get(&sid).into_iter().flatten() {
        if let Some(t) = oruk::DELIVERY_TAXONOMY.terms.iter().find(|t| t.code == m.as_str()) {
            attributes.push(attribute(uuid, t.to_oruk()));
        }
    }
    for (on, code) in [
        (r.family_hub_offer, "family_hub_offer"),
        (r.start_for_life, "start_for_life"),
        (r.send_up_to_25, "send_19_25"),
    ] {
        if let Some(t) = oruk::OFFER_TAXONOMY.terms.iter().find(|t| on && t.code == code) {
            attributes.push(attribute(uuid, t.to_oruk()));
        }
    }
    for t in c.terms.get(&sid).into_iter().flatten() {
        attributes.push(attribute(uuid, term(t)));
    }
    s.attributes = Some(attributes);
    s
}
