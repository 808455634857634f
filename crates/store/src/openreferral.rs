//! Open Referral UK: what `/openreferral` publishes and what an ORUK pull
//! writes, over the directory tables of migration 0020.
//!
//! Published: services that are Kindred's own (`source_id IS NULL`: a record
//! pulled from another directory is that directory's to publish, and
//! re-publishing it would loop between two Kindreds pulling each other), in
//! every tenant. Lists are paged in SQL with one `COUNT(*)` beside each
//! page; a full record's children come in one query per kind for a whole set
//! of services (`IN (…)`), never one query per service.
//!
//! Pulled: every record keyed by (source, the feed's own id), so a second
//! pull updates in place; children of an updated service are replaced in the
//! same transaction. A service the feed no longer lists becomes inactive.

use std::collections::HashMap;

use sqlx::QueryBuilder;

use crate::{Db, Result, on_pool};

/// A service's one-to-one fields and its organisation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrService {
    pub id: i64,
    pub uuid: String,
    pub tenant_id: i64,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub fees_description: Option<String>,
    pub minimum_age: Option<i64>,
    pub maximum_age: Option<i64>,
    pub send_up_to_25: bool,
    pub family_hub_offer: bool,
    pub start_for_life: bool,
    pub last_modified_ms: i64,
    pub org_uuid: String,
    pub org_name: String,
    pub org_description: String,
    pub org_email: Option<String>,
    pub org_website: Option<String>,
}

const SERVICE_COLUMNS: &str = "s.id, s.uuid, s.tenant_id, s.name, s.description, s.url, s.email, s.status, \
     s.fees_description, s.minimum_age, s.maximum_age, s.send_up_to_25, s.family_hub_offer, s.start_for_life, \
     s.last_modified_ms, o.uuid AS org_uuid, o.name AS org_name, o.description AS org_description, \
     o.email AS org_email, o.website AS org_website";

/// Which services a list shows. Every field narrows; `None` does not.
#[derive(Debug, Clone, Default)]
pub struct OrFilter {
    /// Each word must appear in the service's name or description or its organisation's name.
    pub words: Vec<String>,
    pub term: Option<TermFilter>,
    pub taxonomy: Option<TaxonomyFilter>,
    /// The service's minimum age is at least this.
    pub minimum_age_at_least: Option<f64>,
    /// The service's maximum age is at most this.
    pub maximum_age_at_most: Option<f64>,
    /// An iCalendar day code (`MO`) one of its schedules runs on.
    pub day: Option<String>,
    /// `HH:MM`: a schedule opens at or after it.
    pub opens_from: Option<String>,
    /// `HH:MM`: a schedule closes at or before it.
    pub closes_by: Option<String>,
    /// A postcode district a service area names; services without areas serve everywhere.
    pub district: Option<String>,
}

/// A taxonomy term to filter by: a stored term's UUID, or one of Kindred's fixed terms.
#[derive(Debug, Clone)]
pub enum TermFilter {
    Stored(String),
    DeliveryMode(String),
    /// `family_hub_offer`, `start_for_life` or `send_19_25`.
    Offer(String),
}

#[derive(Debug, Clone)]
pub enum TaxonomyFilter {
    Stored(String),
    AnyDeliveryMode,
    AnyOffer,
}

fn offer_column(code: &str) -> &'static str {
    match code {
        "family_hub_offer" => "s.family_hub_offer",
        "start_for_life" => "s.start_for_life",
        _ => "s.send_up_to_25",
    }
}

fn push_filter<'a, DB: sqlx::Database>(q: &mut QueryBuilder<'a, DB>, f: &'a OrFilter)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.push("s.source_id IS NULL AND s.status = 'active'");
    for w in &f.words {
        let like = format!("%{}%", w.to_lowercase());
        q.push(" AND (lower(s.name) LIKE ")
            .push_bind(like.clone())
            .push(" OR lower(s.description) LIKE ")
            .push_bind(like.clone())
            .push(" OR lower(o.name) LIKE ")
            .push_bind(like)
            .push(")");
    }
    match &f.term {
        Some(TermFilter::Stored(uuid)) => {
            q.push(
                " AND EXISTS (SELECT 1 FROM dir_service_terms st JOIN dir_taxonomy_terms tt ON tt.id = st.term_id \
                 WHERE st.service_id = s.id AND tt.uuid = ",
            )
            .push_bind(uuid.clone())
            .push(")");
        }
        Some(TermFilter::DeliveryMode(code)) => {
            q.push(" AND EXISTS (SELECT 1 FROM dir_delivery_modes dm WHERE dm.service_id = s.id AND dm.mode = ")
                .push_bind(code.clone())
                .push(")");
        }
        Some(TermFilter::Offer(code)) => {
            q.push(" AND ").push(offer_column(code));
        }
        None => {}
    }
    match &f.taxonomy {
        Some(TaxonomyFilter::Stored(uuid)) => {
            q.push(
                " AND EXISTS (SELECT 1 FROM dir_service_terms st JOIN dir_taxonomy_terms tt ON tt.id = st.term_id \
                 JOIN dir_taxonomies tx ON tx.id = tt.taxonomy_id WHERE st.service_id = s.id AND tx.uuid = ",
            )
            .push_bind(uuid.clone())
            .push(")");
        }
        Some(TaxonomyFilter::AnyDeliveryMode) => {
            q.push(" AND EXISTS (SELECT 1 FROM dir_delivery_modes dm WHERE dm.service_id = s.id)");
        }
        Some(TaxonomyFilter::AnyOffer) => {
            q.push(" AND (s.family_hub_offer OR s.start_for_life OR s.send_up_to_25)");
        }
        None => {}
    }
    if let Some(a) = f.minimum_age_at_least {
        q.push(" AND s.minimum_age >= ").push_bind(a);
    }
    if let Some(a) = f.maximum_age_at_most {
        q.push(" AND s.maximum_age <= ").push_bind(a);
    }
    if f.day.is_some() || f.opens_from.is_some() || f.closes_by.is_some() {
        q.push(" AND EXISTS (SELECT 1 FROM dir_schedules sc WHERE sc.service_id = s.id");
        if let Some(d) = &f.day {
            q.push(" AND upper(sc.byday) LIKE ").push_bind(format!("%{d}%"));
        }
        if let Some(t) = &f.opens_from {
            q.push(" AND substr(sc.opens_at, 1, 5) >= ").push_bind(t.clone());
        }
        if let Some(t) = &f.closes_by {
            q.push(" AND substr(sc.closes_at, 1, 5) <= ").push_bind(t.clone());
        }
        q.push(")");
    }
    if let Some(d) = &f.district {
        q.push(" AND (NOT EXISTS (SELECT 1 FROM dir_service_areas sa WHERE sa.service_id = s.id) OR EXISTS (SELECT 1 FROM dir_service_areas sa WHERE sa.service_id = s.id AND upper(sa.area) = ")
            .push_bind(d.to_uppercase())
            .push("))");
    }
}

/// A service at a location, for `/service_at_locations`.
#[derive(Debug, Clone)]
pub struct OrServiceAtLocation {
    pub uuid: String,
    pub service: OrService,
    pub location: OrLocation,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrLocation {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub address_1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrSchedule {
    pub service_id: i64,
    pub uuid: String,
    pub sal_uuid: Option<String>,
    pub freq: String,
    pub byday: String,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: String,
    pub valid_from: Option<time::Date>,
    pub valid_to: Option<time::Date>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrCost {
    pub service_id: i64,
    pub uuid: String,
    pub option: String,
    pub amount: Option<i64>,
    pub amount_description: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrLanguage {
    pub service_id: i64,
    pub uuid: String,
    pub name: String,
    pub code: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrContact {
    pub service_id: i64,
    pub uuid: String,
    pub name: String,
    pub title: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrArea {
    pub service_id: i64,
    pub uuid: String,
    pub area: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrTerm {
    pub id: i64,
    pub uuid: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub parent_uuid: Option<String>,
    pub taxonomy_uuid: String,
    pub taxonomy_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrTaxonomy {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub uri: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct SalRow {
    service_id: i64,
    sal_uuid: String,
    #[sqlx(flatten)]
    location: OrLocation,
}

/// The children of a set of services, by service id.
#[derive(Debug, Default)]
pub struct OrChildren {
    pub schedules: HashMap<i64, Vec<OrSchedule>>,
    pub costs: HashMap<i64, Vec<OrCost>>,
    pub languages: HashMap<i64, Vec<OrLanguage>>,
    pub contacts: HashMap<i64, Vec<OrContact>>,
    pub areas: HashMap<i64, Vec<OrArea>>,
    pub modes: HashMap<i64, Vec<String>>,
    pub terms: HashMap<i64, Vec<OrTerm>>,
    /// (service_at_location uuid, location).
    pub locations: HashMap<i64, Vec<(String, OrLocation)>>,
}

fn by_service<T>(rows: Vec<T>, key: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut out: HashMap<i64, Vec<T>> = HashMap::new();
    for r in rows {
        out.entry(key(&r)).or_default().push(r);
    }
    out
}

const TERM_COLUMNS: &str = "tt.id, tt.uuid, tt.code, tt.name, tt.description, pt.uuid AS parent_uuid, \
     tx.uuid AS taxonomy_uuid, tx.name AS taxonomy_name";
const TERM_FROM: &str = "dir_taxonomy_terms tt JOIN dir_taxonomies tx ON tx.id = tt.taxonomy_id \
     LEFT JOIN dir_taxonomy_terms pt ON pt.id = tt.parent_id";

/// Filters of `/taxonomy_terms`.
#[derive(Debug, Clone, Default)]
pub struct OrTermFilter {
    pub taxonomy_uuid: Option<String>,
    pub parent_uuid: Option<String>,
    pub top_only: bool,
}

fn push_term_filter<'a, DB: sqlx::Database>(q: &mut QueryBuilder<'a, DB>, f: &'a OrTermFilter)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE 1 = 1");
    if let Some(t) = &f.taxonomy_uuid {
        q.push(" AND tx.uuid = ").push_bind(t.clone());
    }
    if let Some(p) = &f.parent_uuid {
        q.push(" AND pt.uuid = ").push_bind(p.clone());
    }
    if f.top_only {
        q.push(" AND tt.parent_id IS NULL");
    }
}

/// A service pulled from a feed: what the next pull compares.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Imported {
    pub id: i64,
    pub external_id: String,
    pub last_modified_ms: i64,
    pub status: String,
}

impl Db {
    /// Every service pulled from this source, by the feed's id.
    pub async fn oruk_imported_services(&self, source_id: i64) -> Result<Vec<Imported>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, external_id, last_modified_ms, status FROM dir_services
             WHERE source_id = $1 AND external_id IS NOT NULL ORDER BY id"
        )
        .bind(source_id)
        .fetch_all(p)
        .await)?)
    }

    /// A pulled service its feed no longer lists: inactive, kept, changed now
    /// (so that if it comes back the next pull fetches it again).
    pub async fn oruk_deactivate_service(&self, id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE dir_services SET status = 'inactive', last_modified_ms = $2 WHERE id = $1 AND source_id IS NOT NULL"
        )
        .bind(id)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A page of published services (one-to-one fields and organisation) and how many there are in all.
    pub async fn oruk_services(&self, f: &OrFilter, limit: i64, offset: i64) -> Result<(Vec<OrService>, i64)> {
        let rows = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT {SERVICE_COLUMNS} FROM dir_services s JOIN dir_organisations o ON o.id = s.dir_organisation_id WHERE "
            ));
            push_filter(&mut q, f);
            q.push(" ORDER BY s.id LIMIT ")
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
            q.build_query_as::<OrService>().fetch_all(p).await
        })?;
        let (total,): (i64,) = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(
                "SELECT COUNT(*) FROM dir_services s JOIN dir_organisations o ON o.id = s.dir_organisation_id WHERE ",
            );
            push_filter(&mut q, f);
            q.build_query_as::<(i64,)>().fetch_one(p).await
        })?;
        Ok((rows, total))
    }

    /// A published service by its UUID: Kindred's own, in any status.
    pub async fn oruk_service(&self, uuid: &str) -> Result<Option<OrService>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, OrService>(&format!(
            "SELECT {SERVICE_COLUMNS} FROM dir_services s JOIN dir_organisations o ON o.id = s.dir_organisation_id
             WHERE s.uuid = $1 AND s.source_id IS NULL"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    /// Every child of these services: one query per kind.
    pub async fn oruk_children(&self, service_ids: &[i64]) -> Result<OrChildren> {
        if service_ids.is_empty() {
            return Ok(OrChildren::default());
        }
        let list = service_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let schedules: Vec<OrSchedule> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT sc.service_id, sc.uuid, sal.uuid AS sal_uuid, sc.freq, sc.byday, sc.opens_at, sc.closes_at,
               sc.description, sc.valid_from, sc.valid_to
             FROM dir_schedules sc LEFT JOIN dir_service_at_locations sal ON sal.id = sc.service_at_location_id
             WHERE sc.service_id IN ({list}) ORDER BY sc.service_id, sc.id"
        ))
        .fetch_all(p)
        .await)?;
        let costs: Vec<OrCost> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT service_id, uuid, option, amount, amount_description FROM dir_cost_options
             WHERE service_id IN ({list}) ORDER BY service_id, id"
        ))
        .fetch_all(p)
        .await)?;
        let languages: Vec<OrLanguage> = on_pool!(self, |p| {
            sqlx::query_as(&format!(
            "SELECT service_id, uuid, name, code FROM dir_languages WHERE service_id IN ({list}) ORDER BY service_id, id"
        ))
        .fetch_all(p)
        .await
        })?;
        let contacts: Vec<OrContact> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT service_id, uuid, name, title, phone, email FROM dir_contacts
             WHERE service_id IN ({list}) ORDER BY service_id, id"
        ))
        .fetch_all(p)
        .await)?;
        let areas: Vec<OrArea> = on_pool!(self, |p| {
            sqlx::query_as(&format!(
            "SELECT service_id, uuid, area FROM dir_service_areas WHERE service_id IN ({list}) ORDER BY service_id, area"
        ))
        .fetch_all(p)
        .await
        })?;
        let modes: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT service_id, mode FROM dir_delivery_modes WHERE service_id IN ({list}) ORDER BY service_id, mode"
        ))
        .fetch_all(p)
        .await)?;
        #[derive(sqlx::FromRow)]
        struct ServiceTerm {
            service_id: i64,
            #[sqlx(flatten)]
            term: OrTerm,
        }
        let terms: Vec<ServiceTerm> = on_pool!(self, |p| {
            sqlx::query_as(&format!(
            "SELECT st.service_id, {TERM_COLUMNS} FROM dir_service_terms st JOIN dir_taxonomy_terms tt ON tt.id = st.term_id
               JOIN dir_taxonomies tx ON tx.id = tt.taxonomy_id LEFT JOIN dir_taxonomy_terms pt ON pt.id = tt.parent_id
             WHERE st.service_id IN ({list}) ORDER BY st.service_id, tt.id"
        ))
        .fetch_all(p)
        .await
        })?;
        let sals: Vec<SalRow> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT sal.service_id, sal.uuid AS sal_uuid, l.id, l.uuid, l.name, l.description, l.address_1, l.city,
               l.postcode, l.latitude, l.longitude
             FROM dir_service_at_locations sal JOIN dir_locations l ON l.id = sal.location_id
             WHERE sal.service_id IN ({list}) ORDER BY sal.service_id, sal.id"
        ))
        .fetch_all(p)
        .await)?;
        let mut out = OrChildren {
            schedules: by_service(schedules, |r| r.service_id),
            costs: by_service(costs, |r| r.service_id),
            languages: by_service(languages, |r| r.service_id),
            contacts: by_service(contacts, |r| r.service_id),
            areas: by_service(areas, |r| r.service_id),
            ..OrChildren::default()
        };
        for (s, m) in modes {
            out.modes.entry(s).or_default().push(m);
        }
        for t in terms {
            out.terms.entry(t.service_id).or_default().push(t.term);
        }
        for s in sals {
            out.locations
                .entry(s.service_id)
                .or_default()
                .push((s.sal_uuid, s.location));
        }
        Ok(out)
    }

    /// A page of published services at their locations, and how many in all.
    pub async fn oruk_service_at_locations(
        &self,
        f: &OrFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<OrServiceAtLocation>, i64)> {
        #[derive(sqlx::FromRow)]
        struct Row {
            sal_uuid: String,
            l_id: i64,
            l_uuid: String,
            l_name: String,
            l_description: String,
            l_address_1: Option<String>,
            l_city: Option<String>,
            l_postcode: Option<String>,
            l_latitude: Option<f64>,
            l_longitude: Option<f64>,
            #[sqlx(flatten)]
            service: OrService,
        }
        let from = "FROM dir_service_at_locations sal JOIN dir_services s ON s.id = sal.service_id \
                    JOIN dir_organisations o ON o.id = s.dir_organisation_id JOIN dir_locations l ON l.id = sal.location_id WHERE ";
        let rows = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT sal.uuid AS sal_uuid, l.id AS l_id, l.uuid AS l_uuid, l.name AS l_name, l.description AS l_description,
                   l.address_1 AS l_address_1, l.city AS l_city, l.postcode AS l_postcode, l.latitude AS l_latitude,
                   l.longitude AS l_longitude, {SERVICE_COLUMNS} {from}"
            ));
            push_filter(&mut q, f);
            q.push(" ORDER BY sal.id LIMIT ")
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
            q.build_query_as::<Row>().fetch_all(p).await
        })?;
        let (total,): (i64,) = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT COUNT(*) {from}"));
            push_filter(&mut q, f);
            q.build_query_as::<(i64,)>().fetch_one(p).await
        })?;
        let out = rows
            .into_iter()
            .map(|r| OrServiceAtLocation {
                uuid: r.sal_uuid,
                location: OrLocation {
                    id: r.l_id,
                    uuid: r.l_uuid,
                    name: r.l_name,
                    description: r.l_description,
                    address_1: r.l_address_1,
                    city: r.l_city,
                    postcode: r.l_postcode,
                    latitude: r.l_latitude,
                    longitude: r.l_longitude,
                },
                service: r.service,
            })
            .collect();
        Ok((out, total))
    }

    /// One published service at a location, by the link's UUID.
    pub async fn oruk_service_at_location(&self, uuid: &str) -> Result<Option<OrServiceAtLocation>> {
        let row: Option<(i64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT sal.service_id, s.uuid FROM dir_service_at_locations sal JOIN dir_services s ON s.id = sal.service_id
             WHERE sal.uuid = $1 AND s.source_id IS NULL"
        )
        .bind(uuid)
        .fetch_optional(p)
        .await
        })?;
        let Some((service_id, service_uuid)) = row else {
            return Ok(None);
        };
        let Some(service) = self.oruk_service(&service_uuid).await? else {
            return Ok(None);
        };
        let mut children = self.oruk_children(&[service_id]).await?;
        let location = children
            .locations
            .remove(&service_id)
            .unwrap_or_default()
            .into_iter()
            .find(|(u, _)| u == uuid)
            .map(|(_, l)| l);
        Ok(location.map(|location| OrServiceAtLocation {
            uuid: uuid.to_string(),
            service,
            location,
        }))
    }

    /// A page of stored taxonomies (by id) and how many there are.
    pub async fn oruk_taxonomies(&self, limit: i64, offset: i64) -> Result<(Vec<OrTaxonomy>, i64)> {
        let rows = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, uuid, name, description, uri, version FROM dir_taxonomies WHERE source_id IS NULL
             ORDER BY id LIMIT $1 OFFSET $2"
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await)?;
        let (total,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM dir_taxonomies WHERE source_id IS NULL"
        )
        .fetch_one(p)
        .await)?;
        Ok((rows, total))
    }

    pub async fn oruk_taxonomy(&self, uuid: &str) -> Result<Option<OrTaxonomy>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, uuid, name, description, uri, version FROM dir_taxonomies WHERE uuid = $1 AND source_id IS NULL"
        )
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    /// A page of stored taxonomy terms (by id) and how many match.
    pub async fn oruk_terms(&self, f: &OrTermFilter, limit: i64, offset: i64) -> Result<(Vec<OrTerm>, i64)> {
        let rows = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {TERM_COLUMNS} FROM {TERM_FROM}"));
            push_term_filter(&mut q, f);
            q.push(" AND tx.source_id IS NULL ORDER BY tt.id LIMIT ")
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
            q.build_query_as::<OrTerm>().fetch_all(p).await
        })?;
        let (total,): (i64,) = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT COUNT(*) FROM {TERM_FROM}"));
            push_term_filter(&mut q, f);
            q.push(" AND tx.source_id IS NULL");
            q.build_query_as::<(i64,)>().fetch_one(p).await
        })?;
        Ok((rows, total))
    }

    pub async fn oruk_term(&self, uuid: &str) -> Result<Option<OrTerm>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TERM_COLUMNS} FROM {TERM_FROM} WHERE tt.uuid = $1 AND tx.source_id IS NULL"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }
}
