//! The service directory (F17), in Open Referral UK 3.0's shape: directory
//! organisations, services and their children (locations through
//! service-at-locations, schedules, cost options, languages, contacts,
//! delivery modes, areas served, taxonomy terms), taxonomies and their terms,
//! and the external ORUK feeds records are imported from. Every record has
//! an integer id and a UUID (its ORUK id); an imported record also keeps its
//! feed and the feed's own id, and is upserted by that pair. Nothing here is
//! personal data.

use std::collections::HashMap;

use sqlx::QueryBuilder;
use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, on_pool};

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An external ORUK feed records are imported from.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DirectorySource {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub base_url: String,
    pub last_pulled_at_ms: Option<i64>,
    pub last_result: Option<String>,
}

/// An organisation that runs services (ORUK `organization`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DirOrganisation {
    pub id: i64,
    pub uuid: String,
    pub tenant_id: i64,
    /// The Kindred partner organisation it is, if it is one.
    pub organisation_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub email: Option<String>,
    pub website: Option<String>,
    pub source_id: Option<i64>,
    pub external_id: Option<String>,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationData {
    pub tenant_id: i64,
    pub organisation_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// A service as listed: its own columns and its organisation's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRow {
    pub id: i64,
    pub uuid: String,
    pub tenant_id: i64,
    pub dir_organisation_id: i64,
    pub organisation_uuid: String,
    pub organisation_name: String,
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
    /// The Kindred organisation that receives connection requests; none
    /// when families contact the service directly.
    pub connect_organisation_id: Option<i64>,
    pub connect_organisation_name: Option<String>,
    pub source_id: Option<i64>,
    pub external_id: Option<String>,
    pub last_modified_ms: i64,
}

/// Everything written for a service: its columns and its children, which a
/// save replaces.
#[derive(Debug, Clone, Default)]
pub struct ServiceData {
    pub tenant_id: i64,
    pub dir_organisation_id: i64,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    /// `domain::directory::ServiceStatus` code.
    pub status: String,
    pub fees_description: Option<String>,
    pub minimum_age: Option<i64>,
    pub maximum_age: Option<i64>,
    pub send_up_to_25: bool,
    pub family_hub_offer: bool,
    pub start_for_life: bool,
    pub connect_organisation_id: Option<i64>,
    /// Locations it is offered at (each becomes a service-at-location).
    pub location_ids: Vec<i64>,
    pub schedules: Vec<ScheduleData>,
    pub costs: Vec<CostData>,
    pub languages: Vec<LanguageData>,
    pub contacts: Vec<ContactData>,
    /// `domain::directory::DeliveryMode` codes.
    pub modes: Vec<String>,
    /// Postcode districts.
    pub areas: Vec<String>,
    pub term_ids: Vec<i64>,
    /// When it last changed; now when none (an import passes the feed's).
    pub last_modified_ms: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ScheduleData {
    /// The location it applies at (which must be among the service's
    /// `location_ids`); none for the service as a whole.
    pub location_id: Option<i64>,
    pub freq: String,
    pub byday: String,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Debug, Clone, Default)]
pub struct CostData {
    pub option: String,
    /// Pence; none when not stated.
    pub amount: Option<i64>,
    pub amount_description: String,
}

#[derive(Debug, Clone, Default)]
pub struct LanguageData {
    pub name: String,
    pub code: String,
}

#[derive(Debug, Clone, Default)]
pub struct ContactData {
    pub name: String,
    pub title: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Location {
    pub id: i64,
    pub uuid: String,
    pub tenant_id: i64,
    pub name: String,
    pub description: String,
    pub address_1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub hub_site_id: Option<i64>,
    pub hub_site_name: Option<String>,
    pub source_id: Option<i64>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LocationData {
    pub tenant_id: i64,
    pub name: String,
    pub description: String,
    pub address_1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub hub_site_id: Option<i64>,
}

/// A service offered at a location (ORUK `service_at_location`), with the location.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ServiceAtLocation {
    #[sqlx(rename = "sal_id")]
    pub id: i64,
    #[sqlx(rename = "sal_uuid")]
    pub uuid: String,
    pub service_id: i64,
    pub service_uuid: String,
    #[sqlx(flatten)]
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Schedule {
    pub id: i64,
    pub uuid: String,
    pub service_id: i64,
    pub service_at_location_id: Option<i64>,
    pub location_id: Option<i64>,
    pub freq: String,
    pub byday: String,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CostOption {
    pub id: i64,
    pub uuid: String,
    pub service_id: i64,
    pub option: String,
    pub amount: Option<i64>,
    pub amount_description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LanguageRow {
    pub id: i64,
    pub uuid: String,
    pub service_id: i64,
    pub name: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactRow {
    pub id: i64,
    pub uuid: String,
    pub service_id: i64,
    pub name: String,
    pub title: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceArea {
    pub id: i64,
    pub uuid: String,
    pub service_id: i64,
    pub area: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Taxonomy {
    pub id: i64,
    pub uuid: String,
    pub tenant_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub source_id: Option<i64>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TaxonomyData {
    pub tenant_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub uri: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Term {
    pub id: i64,
    pub uuid: String,
    pub taxonomy_id: i64,
    pub taxonomy_uuid: String,
    pub parent_id: Option<i64>,
    pub parent_uuid: Option<String>,
    pub code: String,
    pub name: String,
    pub description: String,
    pub source_id: Option<i64>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TermData {
    pub taxonomy_id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub description: String,
}

/// A service with everything ORUK's full service record holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FullService {
    pub service: ServiceRow,
    pub organisation: DirOrganisation,
    pub locations: Vec<ServiceAtLocation>,
    pub schedules: Vec<Schedule>,
    pub costs: Vec<CostOption>,
    pub languages: Vec<LanguageRow>,
    pub contacts: Vec<ContactRow>,
    pub modes: Vec<String>,
    pub areas: Vec<ServiceArea>,
    pub terms: Vec<Term>,
}

/// The directory search. Every filter is optional; all given must hold.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub tenant_id: Option<i64>,
    /// Words in the name or description.
    pub text: Option<String>,
    /// A taxonomy term, or any of its children.
    pub term_id: Option<i64>,
    /// Someone of this age (years) may use it (`domain::directory::eligible`).
    pub age: Option<i64>,
    /// The person has SEND: services open to 19–25 with SEND count up to 25.
    pub has_send: bool,
    /// A postcode district it serves. A service with no areas listed serves everyone.
    pub district: Option<String>,
    /// A delivery mode code.
    pub mode: Option<String>,
    /// Only services with no cost option asking for money.
    pub free_only: bool,
    /// A `BYDAY` code (`MO`): it has a schedule on that day.
    pub day: Option<String>,
    pub family_hub_offer: bool,
    pub start_for_life: bool,
    /// Only active services (what the public sees).
    pub active_only: bool,
    /// Only services a family can be connected to through Kindred.
    pub connectable: bool,
    pub dir_organisation_id: Option<i64>,
    pub source_id: Option<i64>,
    pub modified_after_ms: Option<i64>,
}

const SERVICE_COLUMNS: &str = "s.id, s.uuid, s.tenant_id, s.dir_organisation_id, o.uuid AS organisation_uuid,
    o.name AS organisation_name, s.name, s.description, s.url, s.email, s.status, s.fees_description,
    s.minimum_age, s.maximum_age, s.send_up_to_25, s.family_hub_offer, s.start_for_life,
    s.connect_organisation_id, co.name AS connect_organisation_name, s.source_id, s.external_id, s.last_modified_ms";
const SERVICE_FROM: &str = "dir_services s JOIN dir_organisations o ON o.id = s.dir_organisation_id
    LEFT JOIN organisations co ON co.id = s.connect_organisation_id";
const ORG_COLUMNS: &str =
    "id, uuid, tenant_id, organisation_id, name, description, email, website, source_id, external_id, updated_at_ms";
const LOCATION_COLUMNS: &str = "l.id, l.uuid, l.tenant_id, l.name, l.description, l.address_1, l.city, l.postcode,
    l.latitude, l.longitude, l.hub_site_id, h.name AS hub_site_name, l.source_id, l.external_id";
const LOCATION_FROM: &str = "dir_locations l LEFT JOIN hub_sites h ON h.id = l.hub_site_id";
/// Service-at-locations with their service and location (joins in an order SQLite accepts).
const SAL_FROM: &str = "dir_service_at_locations sal JOIN dir_services s ON s.id = sal.service_id
    JOIN dir_locations l ON l.id = sal.location_id LEFT JOIN hub_sites h ON h.id = l.hub_site_id";
const TAXONOMY_COLUMNS: &str = "id, uuid, tenant_id, name, description, uri, version, source_id, external_id";
const TERM_COLUMNS: &str = "t.id, t.uuid, t.taxonomy_id, x.uuid AS taxonomy_uuid, t.parent_id, pt.uuid AS parent_uuid,
    t.code, t.name, t.description, t.source_id, t.external_id";
const TERM_FROM: &str = "dir_taxonomy_terms t JOIN dir_taxonomies x ON x.id = t.taxonomy_id
    LEFT JOIN dir_taxonomy_terms pt ON pt.id = t.parent_id";

fn push_service_filter<'a, DB: sqlx::Database>(q: &mut QueryBuilder<'a, DB>, f: &'a ServiceFilter)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE 1 = 1");
    if let Some(t) = f.tenant_id {
        q.push(" AND s.tenant_id = ").push_bind(t);
    }
    if f.active_only {
        q.push(" AND s.status = 'active'");
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = format!("%{}%", text.replace(['%', '_'], ""));
        q.push(" AND (lower(s.name) LIKE lower(")
            .push_bind(like.clone())
            .push(") OR lower(s.description) LIKE lower(")
            .push_bind(like)
            .push("))");
    }
    if let Some(term) = f.term_id {
        q.push(
            " AND EXISTS (SELECT 1 FROM dir_service_terms st JOIN dir_taxonomy_terms tt ON tt.id = st.term_id
               WHERE st.service_id = s.id AND (tt.id = ",
        )
        .push_bind(term)
        .push(" OR tt.parent_id = ")
        .push_bind(term)
        .push("))");
    }
    // The SQL mirror of `domain::directory::eligible`.
    if let Some(age) = f.age {
        q.push(" AND (s.minimum_age IS NULL OR s.minimum_age <= ")
            .push_bind(age)
            .push(") AND (s.maximum_age IS NULL OR s.maximum_age >= ")
            .push_bind(age);
        if f.has_send {
            q.push(" OR (s.send_up_to_25 AND ")
                .push_bind(age)
                .push(format!(" <= {})", kindred_domain::directory::SEND_MAX_AGE));
        }
        q.push(")");
    }
    if let Some(d) = &f.district {
        q.push(
            " AND (NOT EXISTS (SELECT 1 FROM dir_service_areas a WHERE a.service_id = s.id)
               OR EXISTS (SELECT 1 FROM dir_service_areas a WHERE a.service_id = s.id AND a.area = ",
        )
        .push_bind(d.clone())
        .push("))");
    }
    if let Some(m) = &f.mode {
        q.push(" AND EXISTS (SELECT 1 FROM dir_delivery_modes dm WHERE dm.service_id = s.id AND dm.mode = ")
            .push_bind(m.clone())
            .push(")");
    }
    if f.free_only {
        q.push(" AND NOT EXISTS (SELECT 1 FROM dir_cost_options c WHERE c.service_id = s.id AND c.amount > 0)");
    }
    if let Some(day) = &f.day {
        q.push(
            " AND EXISTS (SELECT 1 FROM dir_schedules sc WHERE sc.service_id = s.id AND (',' || sc.byday || ',') LIKE ",
        )
        .push_bind(format!("%,{day},%"))
        .push(")");
    }
    if f.family_hub_offer {
        q.push(" AND s.family_hub_offer");
    }
    if f.start_for_life {
        q.push(" AND s.start_for_life");
    }
    if f.connectable {
        q.push(" AND s.connect_organisation_id IS NOT NULL");
    }
    if let Some(o) = f.dir_organisation_id {
        q.push(" AND s.dir_organisation_id = ").push_bind(o);
    }
    if let Some(src) = f.source_id {
        q.push(" AND s.source_id = ").push_bind(src);
    }
    if let Some(m) = f.modified_after_ms {
        q.push(" AND s.last_modified_ms > ").push_bind(m);
    }
}

/// Writes a service's children after its row, inside the caller's transaction.
macro_rules! write_children {
    ($tx:expr, $service_id:expr, $d:expr) => {{
        let service_id: i64 = $service_id;
        let d: &ServiceData = $d;
        let mut sal_of: HashMap<i64, i64> = HashMap::new();
        for &location_id in &d.location_ids {
            if sal_of.contains_key(&location_id) {
                continue;
            }
            let (sal,): (i64,) = sqlx::query_as(
                "INSERT INTO dir_service_at_locations (uuid, service_id, location_id) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(new_uuid())
            .bind(service_id)
            .bind(location_id)
            .fetch_one(&mut *$tx)
            .await?;
            sal_of.insert(location_id, sal);
        }
        for s in &d.schedules {
            sqlx::query(
                "INSERT INTO dir_schedules (uuid, service_id, service_at_location_id, freq, byday, opens_at, closes_at,
                   description, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(new_uuid())
            .bind(service_id)
            .bind(s.location_id.and_then(|l| sal_of.get(&l).copied()))
            .bind(if s.freq.is_empty() { "WEEKLY" } else { s.freq.as_str() })
            .bind(&s.byday)
            .bind(s.opens_at.as_deref())
            .bind(s.closes_at.as_deref())
            .bind(&s.description)
            .bind(s.valid_from)
            .bind(s.valid_to)
            .execute(&mut *$tx)
            .await?;
        }
        for c in &d.costs {
            sqlx::query(
                "INSERT INTO dir_cost_options (uuid, service_id, option, amount, amount_description) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new_uuid())
            .bind(service_id)
            .bind(&c.option)
            .bind(c.amount)
            .bind(&c.amount_description)
            .execute(&mut *$tx)
            .await?;
        }
        for l in &d.languages {
            sqlx::query("INSERT INTO dir_languages (uuid, service_id, name, code) VALUES ($1, $2, $3, $4)")
                .bind(new_uuid())
                .bind(service_id)
                .bind(&l.name)
                .bind(&l.code)
                .execute(&mut *$tx)
                .await?;
        }
        for c in &d.contacts {
            sqlx::query(
                "INSERT INTO dir_contacts (uuid, service_id, name, title, phone, email) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_uuid())
            .bind(service_id)
            .bind(&c.name)
            .bind(&c.title)
            .bind(c.phone.as_deref())
            .bind(c.email.as_deref())
            .execute(&mut *$tx)
            .await?;
        }
        let mut modes: Vec<&String> = d.modes.iter().collect();
        modes.sort();
        modes.dedup();
        for m in modes {
            sqlx::query("INSERT INTO dir_delivery_modes (service_id, mode) VALUES ($1, $2)")
                .bind(service_id)
                .bind(m)
                .execute(&mut *$tx)
                .await?;
        }
        let mut areas: Vec<&String> = d.areas.iter().collect();
        areas.sort();
        areas.dedup();
        for a in areas {
            sqlx::query("INSERT INTO dir_service_areas (uuid, service_id, area) VALUES ($1, $2, $3)")
                .bind(new_uuid())
                .bind(service_id)
                .bind(a)
                .execute(&mut *$tx)
                .await?;
        }
        let mut terms = d.term_ids.clone();
        terms.sort();
        terms.dedup();
        for t in terms {
            sqlx::query("INSERT INTO dir_service_terms (service_id, term_id) VALUES ($1, $2)")
                .bind(service_id)
                .bind(t)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Removes a service's children, inside the caller's transaction.
macro_rules! clear_children {
    ($tx:expr, $service_id:expr) => {{
        for table in [
            "dir_schedules",
            "dir_cost_options",
            "dir_languages",
            "dir_contacts",
            "dir_delivery_modes",
            "dir_service_areas",
            "dir_service_terms",
            "dir_service_at_locations",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE service_id = $1"))
                .bind($service_id)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

impl Db {
    // ---------- sources ----------

    /// The feed at `base_url` for a tenant, made if new; its id.
    pub async fn upsert_directory_source(&self, tenant_id: i64, name: &str, base_url: &str) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO directory_sources (tenant_id, name, base_url) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, base_url) DO UPDATE SET name = excluded.name RETURNING id"
        )
        .bind(tenant_id)
        .bind(name)
        .bind(base_url)
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    pub async fn record_source_pull(&self, source_id: i64, at_ms: i64, result: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE directory_sources SET last_pulled_at_ms = $2, last_result = $3 WHERE id = $1"
        )
        .bind(source_id)
        .bind(at_ms)
        .bind(result)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn directory_sources(&self, tenant_id: i64) -> Result<Vec<DirectorySource>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, tenant_id, name, base_url, last_pulled_at_ms, last_result FROM directory_sources
             WHERE tenant_id = $1 ORDER BY name, id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn directory_source(&self, id: i64) -> Result<Option<DirectorySource>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, tenant_id, name, base_url, last_pulled_at_ms, last_result FROM directory_sources WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    // ---------- organisations ----------

    pub async fn create_dir_organisation(&self, d: &OrganisationData) -> Result<i64> {
        self.upsert_dir_organisation_inner(None, None, d).await
    }

    /// An organisation from an external feed, by the feed and the feed's id:
    /// made the first time, brought up to date after.
    pub async fn upsert_dir_organisation(
        &self,
        source_id: i64,
        external_id: &str,
        d: &OrganisationData,
    ) -> Result<i64> {
        self.upsert_dir_organisation_inner(Some(source_id), Some(external_id), d)
            .await
    }

    async fn upsert_dir_organisation_inner(
        &self,
        source_id: Option<i64>,
        external_id: Option<&str>,
        d: &OrganisationData,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO dir_organisations (uuid, tenant_id, organisation_id, name, description, email, website,
               source_id, external_id, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (source_id, external_id) DO UPDATE SET tenant_id = excluded.tenant_id,
               organisation_id = excluded.organisation_id, name = excluded.name, description = excluded.description,
               email = excluded.email, website = excluded.website, updated_at_ms = excluded.updated_at_ms
             RETURNING id"
        )
        .bind(new_uuid())
        .bind(d.tenant_id)
        .bind(d.organisation_id)
        .bind(d.name.trim())
        .bind(d.description.trim())
        .bind(d.email.as_deref())
        .bind(d.website.as_deref())
        .bind(source_id)
        .bind(external_id)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    pub async fn update_dir_organisation(&self, id: i64, d: &OrganisationData) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE dir_organisations SET organisation_id = $2, name = $3, description = $4, email = $5, website = $6,
               updated_at_ms = $7 WHERE id = $1"
        )
        .bind(id)
        .bind(d.organisation_id)
        .bind(d.name.trim())
        .bind(d.description.trim())
        .bind(d.email.as_deref())
        .bind(d.website.as_deref())
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn dir_organisation(&self, id: i64) -> Result<Option<DirOrganisation>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM dir_organisations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn dir_organisation_by_uuid(&self, uuid: &str) -> Result<Option<DirOrganisation>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM dir_organisations WHERE uuid = $1"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    /// A tenant's directory organisations, by name.
    pub async fn dir_organisations(&self, tenant_id: i64) -> Result<Vec<DirOrganisation>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM dir_organisations WHERE tenant_id = $1 ORDER BY name, id"
        ))
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    // ---------- locations ----------

    pub async fn create_location(&self, d: &LocationData) -> Result<i64> {
        self.upsert_location_inner(None, None, d).await
    }

    /// A location from an external feed, by the feed and the feed's id.
    pub async fn upsert_location(&self, source_id: i64, external_id: &str, d: &LocationData) -> Result<i64> {
        self.upsert_location_inner(Some(source_id), Some(external_id), d).await
    }

    async fn upsert_location_inner(
        &self,
        source_id: Option<i64>,
        external_id: Option<&str>,
        d: &LocationData,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO dir_locations (uuid, tenant_id, name, description, address_1, city, postcode, latitude,
               longitude, hub_site_id, source_id, external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (source_id, external_id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
               description = excluded.description, address_1 = excluded.address_1, city = excluded.city,
               postcode = excluded.postcode, latitude = excluded.latitude, longitude = excluded.longitude,
               hub_site_id = excluded.hub_site_id
             RETURNING id"
        )
        .bind(new_uuid())
        .bind(d.tenant_id)
        .bind(d.name.trim())
        .bind(d.description.trim())
        .bind(d.address_1.as_deref())
        .bind(d.city.as_deref())
        .bind(d.postcode.as_deref())
        .bind(d.latitude)
        .bind(d.longitude)
        .bind(d.hub_site_id)
        .bind(source_id)
        .bind(external_id)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    pub async fn update_location(&self, id: i64, d: &LocationData) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE dir_locations SET name = $2, description = $3, address_1 = $4, city = $5, postcode = $6,
               latitude = $7, longitude = $8, hub_site_id = $9 WHERE id = $1"
        )
        .bind(id)
        .bind(d.name.trim())
        .bind(d.description.trim())
        .bind(d.address_1.as_deref())
        .bind(d.city.as_deref())
        .bind(d.postcode.as_deref())
        .bind(d.latitude)
        .bind(d.longitude)
        .bind(d.hub_site_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn dir_location(&self, id: i64) -> Result<Option<Location>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {LOCATION_COLUMNS} FROM {LOCATION_FROM} WHERE l.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// A tenant's locations, by name.
    pub async fn dir_locations(&self, tenant_id: i64) -> Result<Vec<Location>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {LOCATION_COLUMNS} FROM {LOCATION_FROM} WHERE l.tenant_id = $1 ORDER BY l.name, l.id"
        ))
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    // ---------- services ----------

    /// Makes a local service with its children; its id and UUID.
    pub async fn create_service(&self, d: &ServiceData) -> Result<(i64, String)> {
        self.save_service(None, None, None, d).await
    }

    /// Replaces a service's columns and children; keeps its id and UUID.
    pub async fn update_service(&self, id: i64, d: &ServiceData) -> Result<()> {
        self.save_service(Some(id), None, None, d).await.map(|_| ())
    }

    /// A service from an external feed, by the feed and the feed's id: made
    /// the first time, its columns and children replaced after. Its id and UUID.
    pub async fn upsert_service(&self, source_id: i64, external_id: &str, d: &ServiceData) -> Result<(i64, String)> {
        self.save_service(None, Some(source_id), Some(external_id), d).await
    }

    async fn save_service(
        &self,
        id: Option<i64>,
        source_id: Option<i64>,
        external_id: Option<&str>,
        d: &ServiceData,
    ) -> Result<(i64, String)> {
        let modified = d.last_modified_ms.unwrap_or_else(crate::now_ms);
        let status = if d.status.is_empty() {
            "active"
        } else {
            d.status.as_str()
        };
        let saved = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (sid, uuid): (i64, String) = match id {
                Some(id) => {
                    sqlx::query_as(
                        "UPDATE dir_services SET tenant_id = $2, dir_organisation_id = $3, name = $4, description = $5,
                           url = $6, email = $7, status = $8, fees_description = $9, minimum_age = $10, maximum_age = $11,
                           send_up_to_25 = $12, family_hub_offer = $13, start_for_life = $14,
                           connect_organisation_id = $15, last_modified_ms = $16
                         WHERE id = $1 RETURNING id, uuid",
                    )
                    .bind(id)
                    .bind(d.tenant_id)
                    .bind(d.dir_organisation_id)
                    .bind(d.name.trim())
                    .bind(d.description.trim())
                    .bind(d.url.as_deref())
                    .bind(d.email.as_deref())
                    .bind(status)
                    .bind(d.fees_description.as_deref())
                    .bind(d.minimum_age)
                    .bind(d.maximum_age)
                    .bind(d.send_up_to_25)
                    .bind(d.family_hub_offer)
                    .bind(d.start_for_life)
                    .bind(d.connect_organisation_id)
                    .bind(modified)
                    .fetch_one(&mut *tx)
                    .await?
                }
                None => {
                    sqlx::query_as(
                        "INSERT INTO dir_services (uuid, tenant_id, dir_organisation_id, name, description, url, email,
                           status, fees_description, minimum_age, maximum_age, send_up_to_25, family_hub_offer,
                           start_for_life, connect_organisation_id, source_id, external_id, last_modified_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                         ON CONFLICT (source_id, external_id) DO UPDATE SET tenant_id = excluded.tenant_id,
                           dir_organisation_id = excluded.dir_organisation_id, name = excluded.name,
                           description = excluded.description, url = excluded.url, email = excluded.email,
                           status = excluded.status, fees_description = excluded.fees_description,
                           minimum_age = excluded.minimum_age, maximum_age = excluded.maximum_age,
                           send_up_to_25 = excluded.send_up_to_25, family_hub_offer = excluded.family_hub_offer,
                           start_for_life = excluded.start_for_life,
                           connect_organisation_id = excluded.connect_organisation_id,
                           last_modified_ms = excluded.last_modified_ms
                         RETURNING id, uuid",
                    )
                    .bind(new_uuid())
                    .bind(d.tenant_id)
                    .bind(d.dir_organisation_id)
                    .bind(d.name.trim())
                    .bind(d.description.trim())
                    .bind(d.url.as_deref())
                    .bind(d.email.as_deref())
                    .bind(status)
                    .bind(d.fees_description.as_deref())
                    .bind(d.minimum_age)
                    .bind(d.maximum_age)
                    .bind(d.send_up_to_25)
                    .bind(d.family_hub_offer)
                    .bind(d.start_for_life)
                    .bind(d.connect_organisation_id)
                    .bind(source_id)
                    .bind(external_id)
                    .bind(modified)
                    .fetch_one(&mut *tx)
                    .await?
                }
            };
            clear_children!(tx, sid);
            write_children!(tx, sid, d);
            tx.commit().await.map(|_| (sid, uuid))
        })?;
        Ok(saved)
    }

    pub async fn directory_service(&self, id: i64) -> Result<Option<ServiceRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn directory_service_by_uuid(&self, uuid: &str) -> Result<Option<ServiceRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.uuid = $1"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    /// A service from a feed or partner system, by the source and its own id.
    pub async fn directory_service_by_external(&self, source_id: i64, external_id: &str) -> Result<Option<ServiceRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.source_id = $1 AND s.external_id = $2"
        ))
        .bind(source_id)
        .bind(external_id)
        .fetch_optional(p)
        .await)?)
    }

    /// The directory search: how many services match, and page `page`
    /// (from 1) of `per_page` of them, by name.
    pub async fn directory_services_page(
        &self,
        f: &ServiceFilter,
        page: i64,
        per_page: i64,
    ) -> Result<(i64, Vec<ServiceRow>)> {
        let per_page = per_page.clamp(1, 1000);
        let offset = (page.max(1) - 1) * per_page;
        let rows = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM}"));
            push_service_filter(&mut q, f);
            q.push(" ORDER BY s.name, s.id LIMIT ")
                .push_bind(per_page)
                .push(" OFFSET ")
                .push_bind(offset);
            q.build_query_as::<ServiceRow>().fetch_all(p).await
        })?;
        let (total,): (i64,) = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM dir_services s");
            push_service_filter(&mut q, f);
            q.build_query_as::<(i64,)>().fetch_one(p).await
        })?;
        Ok((total, rows))
    }

    /// One service with all its children.
    pub async fn full_service(&self, id: i64) -> Result<Option<FullService>> {
        Ok(self.full_services(&[id]).await?.into_iter().next())
    }

    pub async fn full_service_by_uuid(&self, uuid: &str) -> Result<Option<FullService>> {
        match self.directory_service_by_uuid(uuid).await? {
            Some(s) => self.full_service(s.id).await,
            None => Ok(None),
        }
    }

    /// Services with all their children, in the order of `ids` (missing ids
    /// are left out): one query per kind of child, whatever the number of services.
    pub async fn full_services(&self, ids: &[i64]) -> Result<Vec<FullService>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let services: Vec<ServiceRow> = self
            .rows_in(
                &format!("SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.id IN ("),
                ids,
                ")",
            )
            .await?;
        let org_ids: Vec<i64> = services.iter().map(|s| s.dir_organisation_id).collect();
        let orgs: Vec<DirOrganisation> = self
            .rows_in(
                &format!("SELECT {ORG_COLUMNS} FROM dir_organisations WHERE id IN ("),
                &org_ids,
                ")",
            )
            .await?;
        let locations: Vec<ServiceAtLocation> = self
            .rows_in(
                &format!(
                    "SELECT sal.id AS sal_id, sal.uuid AS sal_uuid, sal.service_id, s.uuid AS service_uuid, {LOCATION_COLUMNS}
                     FROM {SAL_FROM} WHERE sal.service_id IN ("
                ),
                ids,
                ") ORDER BY l.name, sal.id",
            )
            .await?;
        let schedules: Vec<Schedule> = self
            .rows_in(
                "SELECT sc.id, sc.uuid, sc.service_id, sc.service_at_location_id, sal.location_id, sc.freq, sc.byday,
                   sc.opens_at, sc.closes_at, sc.description, sc.valid_from, sc.valid_to
                 FROM dir_schedules sc LEFT JOIN dir_service_at_locations sal ON sal.id = sc.service_at_location_id
                 WHERE sc.service_id IN (",
                ids,
                ") ORDER BY sc.id",
            )
            .await?;
        let costs: Vec<CostOption> = self
            .rows_in(
                "SELECT id, uuid, service_id, option, amount, amount_description FROM dir_cost_options WHERE service_id IN (",
                ids,
                ") ORDER BY id",
            )
            .await?;
        let languages: Vec<LanguageRow> = self
            .rows_in(
                "SELECT id, uuid, service_id, name, code FROM dir_languages WHERE service_id IN (",
                ids,
                ") ORDER BY id",
            )
            .await?;
        let contacts: Vec<ContactRow> = self
            .rows_in(
                "SELECT id, uuid, service_id, name, title, phone, email FROM dir_contacts WHERE service_id IN (",
                ids,
                ") ORDER BY id",
            )
            .await?;
        let modes: Vec<(i64, String)> = self
            .rows_in(
                "SELECT service_id, mode FROM dir_delivery_modes WHERE service_id IN (",
                ids,
                ") ORDER BY mode",
            )
            .await?;
        let areas: Vec<ServiceArea> = self
            .rows_in(
                "SELECT id, uuid, service_id, area FROM dir_service_areas WHERE service_id IN (",
                ids,
                ") ORDER BY area",
            )
            .await?;
        #[derive(sqlx::FromRow)]
        struct ServiceTerm {
            service_id: i64,
            #[sqlx(flatten)]
            term: Term,
        }
        let terms: Vec<ServiceTerm> = self
            .rows_in(
                &format!(
                    "SELECT st.service_id, {TERM_COLUMNS} FROM dir_service_terms st JOIN dir_taxonomy_terms t ON t.id = st.term_id
                     JOIN dir_taxonomies x ON x.id = t.taxonomy_id LEFT JOIN dir_taxonomy_terms pt ON pt.id = t.parent_id
                     WHERE st.service_id IN ("
                ),
                ids,
                ") ORDER BY t.name, t.id",
            )
            .await?;
        let mut out = vec![];
        for id in ids {
            let Some(service) = services.iter().find(|s| s.id == *id) else {
                continue;
            };
            let Some(organisation) = orgs.iter().find(|o| o.id == service.dir_organisation_id) else {
                continue;
            };
            out.push(FullService {
                service: service.clone(),
                organisation: organisation.clone(),
                locations: locations.iter().filter(|x| x.service_id == *id).cloned().collect(),
                schedules: schedules.iter().filter(|x| x.service_id == *id).cloned().collect(),
                costs: costs.iter().filter(|x| x.service_id == *id).cloned().collect(),
                languages: languages.iter().filter(|x| x.service_id == *id).cloned().collect(),
                contacts: contacts.iter().filter(|x| x.service_id == *id).cloned().collect(),
                modes: modes.iter().filter(|x| x.0 == *id).map(|x| x.1.clone()).collect(),
                areas: areas.iter().filter(|x| x.service_id == *id).cloned().collect(),
                terms: terms
                    .iter()
                    .filter(|x| x.service_id == *id)
                    .map(|x| x.term.clone())
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Runs `head` + the ids as a bound list + `tail`.
    async fn rows_in<T>(&self, head: &str, ids: &[i64], tail: &str) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(head);
            let mut sep = q.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            q.push(tail);
            q.build_query_as::<T>().fetch_all(p).await
        })?)
    }

    /// Services offered at locations, page `page` (from 1), by service then location.
    pub async fn service_at_locations_page(
        &self,
        tenant_id: Option<i64>,
        page: i64,
        per_page: i64,
    ) -> Result<(i64, Vec<ServiceAtLocation>)> {
        let per_page = per_page.clamp(1, 1000);
        let offset = (page.max(1) - 1) * per_page;
        let rows = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT sal.id AS sal_id, sal.uuid AS sal_uuid, sal.service_id, s.uuid AS service_uuid, {LOCATION_COLUMNS}
             FROM {SAL_FROM}
             WHERE ($1 = 0 OR s.tenant_id = $1) ORDER BY sal.service_id, sal.id LIMIT $2 OFFSET $3"
        ))
        .bind(tenant_id.unwrap_or(0))
        .bind(per_page)
        .bind(offset)
        .fetch_all(p)
        .await)?;
        let (total,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM dir_service_at_locations sal JOIN dir_services s ON s.id = sal.service_id
             WHERE ($1 = 0 OR s.tenant_id = $1)"
        )
        .bind(tenant_id.unwrap_or(0))
        .fetch_one(p)
        .await)?;
        Ok((total, rows))
    }

    pub async fn service_at_location_by_uuid(&self, uuid: &str) -> Result<Option<ServiceAtLocation>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT sal.id AS sal_id, sal.uuid AS sal_uuid, sal.service_id, s.uuid AS service_uuid, {LOCATION_COLUMNS}
             FROM {SAL_FROM} WHERE sal.uuid = $1"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    // ---------- taxonomies ----------

    pub async fn create_taxonomy(&self, d: &TaxonomyData) -> Result<i64> {
        self.upsert_taxonomy_inner(None, None, d).await
    }

    /// A taxonomy from an external feed, by the feed and the feed's id.
    pub async fn upsert_taxonomy(&self, source_id: i64, external_id: &str, d: &TaxonomyData) -> Result<i64> {
        self.upsert_taxonomy_inner(Some(source_id), Some(external_id), d).await
    }

    async fn upsert_taxonomy_inner(
        &self,
        source_id: Option<i64>,
        external_id: Option<&str>,
        d: &TaxonomyData,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO dir_taxonomies (uuid, tenant_id, name, description, uri, version, source_id, external_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (source_id, external_id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
               description = excluded.description, uri = excluded.uri, version = excluded.version
             RETURNING id"
        )
        .bind(new_uuid())
        .bind(d.tenant_id)
        .bind(d.name.trim())
        .bind(d.description.trim())
        .bind(d.uri.as_deref())
        .bind(d.version.as_deref())
        .bind(source_id)
        .bind(external_id)
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    pub async fn create_term(&self, d: &TermData) -> Result<i64> {
        self.upsert_term_inner(None, None, d).await
    }

    /// A taxonomy term from an external feed, by the feed and the feed's id.
    pub async fn upsert_term(&self, source_id: i64, external_id: &str, d: &TermData) -> Result<i64> {
        self.upsert_term_inner(Some(source_id), Some(external_id), d).await
    }

    async fn upsert_term_inner(&self, source_id: Option<i64>, external_id: Option<&str>, d: &TermData) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO dir_taxonomy_terms (uuid, taxonomy_id, parent_id, code, name, description, source_id, external_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (source_id, external_id) DO UPDATE SET taxonomy_id = excluded.taxonomy_id,
               parent_id = excluded.parent_id, code = excluded.code, name = excluded.name,
               description = excluded.description
             RETURNING id"
        )
        .bind(new_uuid())
        .bind(d.taxonomy_id)
        .bind(d.parent_id)
        .bind(d.code.trim())
        .bind(d.name.trim())
        .bind(d.description.trim())
        .bind(source_id)
        .bind(external_id)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    /// Makes the built-in needs taxonomy (`domain::directory::NEED_TERMS`)
    /// if it is missing, and any term added to it since; its id. Run at start.
    pub async fn ensure_needs_taxonomy(&self) -> Result<i64> {
        use kindred_domain::directory::{NEED_TERMS, NEEDS_TAXONOMY_NAME, NEEDS_TAXONOMY_URI, NEEDS_TAXONOMY_VERSION};
        let found: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM dir_taxonomies WHERE tenant_id IS NULL AND source_id IS NULL AND uri = $1"
        )
        .bind(NEEDS_TAXONOMY_URI)
        .fetch_optional(p)
        .await)?;
        let taxonomy_id = match found {
            Some((id,)) => id,
            None => {
                self.create_taxonomy(&TaxonomyData {
                    tenant_id: None,
                    name: NEEDS_TAXONOMY_NAME.into(),
                    description: "The needs families bring to a family hub, matching the referral needs list".into(),
                    uri: Some(NEEDS_TAXONOMY_URI.into()),
                    version: Some(NEEDS_TAXONOMY_VERSION.into()),
                })
                .await?
            }
        };
        for t in NEED_TERMS {
            on_pool!(self, |p| {
                sqlx::query(
                "INSERT INTO dir_taxonomy_terms (uuid, taxonomy_id, code, name, description) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (taxonomy_id, code) DO NOTHING"
            )
            .bind(new_uuid())
            .bind(taxonomy_id)
            .bind(t.code)
            .bind(t.name)
            .bind(t.description)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        Ok(taxonomy_id)
    }

    /// The built-in needs taxonomy's terms, in the order `NEED_TERMS` lists them.
    pub async fn needs_terms(&self) -> Result<Vec<Term>> {
        use kindred_domain::directory::{NEED_TERMS, NEEDS_TAXONOMY_URI};
        let mut rows: Vec<Term> = on_pool!(self, |p| {
            sqlx::query_as(&format!(
            "SELECT {TERM_COLUMNS} FROM {TERM_FROM} WHERE x.uri = $1 AND x.tenant_id IS NULL AND x.source_id IS NULL"
        ))
        .bind(NEEDS_TAXONOMY_URI)
        .fetch_all(p)
        .await
        })?;
        rows.sort_by_key(|t| NEED_TERMS.iter().position(|n| n.code == t.code).unwrap_or(usize::MAX));
        Ok(rows)
    }

    pub async fn taxonomies_page(&self, page: i64, per_page: i64) -> Result<(i64, Vec<Taxonomy>)> {
        let per_page = per_page.clamp(1, 1000);
        let offset = (page.max(1) - 1) * per_page;
        let rows = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TAXONOMY_COLUMNS} FROM dir_taxonomies ORDER BY name, id LIMIT $1 OFFSET $2"
        ))
        .bind(per_page)
        .bind(offset)
        .fetch_all(p)
        .await)?;
        let (total,): (i64,) = on_pool!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM dir_taxonomies")
            .fetch_one(p)
            .await)?;
        Ok((total, rows))
    }

    pub async fn taxonomy_by_uuid(&self, uuid: &str) -> Result<Option<Taxonomy>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TAXONOMY_COLUMNS} FROM dir_taxonomies WHERE uuid = $1"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn taxonomy(&self, id: i64) -> Result<Option<Taxonomy>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TAXONOMY_COLUMNS} FROM dir_taxonomies WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Terms, of one taxonomy or of all, page `page` (from 1), by taxonomy then name.
    pub async fn taxonomy_terms_page(
        &self,
        taxonomy_id: Option<i64>,
        page: i64,
        per_page: i64,
    ) -> Result<(i64, Vec<Term>)> {
        let per_page = per_page.clamp(1, 1000);
        let offset = (page.max(1) - 1) * per_page;
        let rows = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TERM_COLUMNS} FROM {TERM_FROM} WHERE ($1 = 0 OR t.taxonomy_id = $1)
             ORDER BY t.taxonomy_id, t.name, t.id LIMIT $2 OFFSET $3"
        ))
        .bind(taxonomy_id.unwrap_or(0))
        .bind(per_page)
        .bind(offset)
        .fetch_all(p)
        .await)?;
        let (total,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM dir_taxonomy_terms WHERE ($1 = 0 OR taxonomy_id = $1)"
        )
        .bind(taxonomy_id.unwrap_or(0))
        .fetch_one(p)
        .await)?;
        Ok((total, rows))
    }

    pub async fn taxonomy_term_by_uuid(&self, uuid: &str) -> Result<Option<Term>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TERM_COLUMNS} FROM {TERM_FROM} WHERE t.uuid = $1"
        ))
        .bind(uuid)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn taxonomy_term(&self, id: i64) -> Result<Option<Term>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TERM_COLUMNS} FROM {TERM_FROM} WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// How many services each term of a taxonomy tags (for the taxonomy view).
    pub async fn term_service_counts(&self, taxonomy_id: i64) -> Result<Vec<(i64, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT t.id, COUNT(st.service_id) FROM dir_taxonomy_terms t
             LEFT JOIN dir_service_terms st ON st.term_id = t.id WHERE t.taxonomy_id = $1 GROUP BY t.id"
        )
        .bind(taxonomy_id)
        .fetch_all(p)
        .await)?)
    }
}
