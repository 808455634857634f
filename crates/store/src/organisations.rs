//! Tenants (local authorities), partner organisations, hub sites with their
//! reach areas, and teams.

use kindred_domain::model::OrgKind;
use kindred_domain::postcode::Postcode;

use crate::BeginWrite;
use crate::{Db, Result, StoreError, on_pool, on_read};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tenant {
    pub id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct OrganisationRow {
    id: i64,
    tenant_id: i64,
    name: String,
    kind: String,
    active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub active: bool,
}

impl From<OrganisationRow> for Organisation {
    fn from(r: OrganisationRow) -> Self {
        Organisation {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name,
            // Codes are written only from `OrgKind`; an unknown one means a newer schema.
            kind: OrgKind::parse(&r.kind).unwrap_or(OrgKind::Vcs),
            active: r.active,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSite {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: Option<i64>,
    pub name: String,
    pub postcode: Option<String>,
    pub reach_areas: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Team {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub hub_site_id: Option<i64>,
    pub name: String,
}

impl Db {
    pub async fn create_tenant(&self, code: &str, name: &str) -> Result<Tenant> {
        let t = on_pool!(self, |p| sqlx::query_as::<_, Tenant>(
            "INSERT INTO tenants (code, name) VALUES ($1, $2) RETURNING id, code, name"
        )
        .bind(code)
        .bind(name)
        .fetch_one(p)
        .await)?;
        Ok(t)
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Tenant>(
            "SELECT id, code, name FROM tenants ORDER BY id"
        )
        .fetch_all(p)
        .await)?)
    }

    pub async fn tenant(&self, id: i64) -> Result<Tenant> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Tenant>(
            "SELECT id, code, name FROM tenants WHERE id = $1"
        )
        .bind(id)
        .fetch_one(p)
        .await)?)
    }

    pub async fn tenant_by_code(&self, code: &str) -> Result<Tenant> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Tenant>(
            "SELECT id, code, name FROM tenants WHERE code = $1"
        )
        .bind(code)
        .fetch_one(p)
        .await)?)
    }

    pub async fn create_organisation(&self, tenant_id: i64, name: &str, kind: OrgKind) -> Result<Organisation> {
        let r = on_pool!(self, |p| sqlx::query_as::<_, OrganisationRow>(
            "INSERT INTO organisations (tenant_id, name, kind) VALUES ($1, $2, $3)
             RETURNING id, tenant_id, name, kind, active"
        )
        .bind(tenant_id)
        .bind(name)
        .bind(kind.code())
        .fetch_one(p)
        .await)?;
        Ok(r.into())
    }

    pub async fn organisations(&self, tenant_id: i64) -> Result<Vec<Organisation>> {
        let rows = on_read!(self, |p| {
            sqlx::query_as::<_, OrganisationRow>(
                "SELECT id, tenant_id, name, kind, active FROM organisations WHERE tenant_id = $1 ORDER BY name",
            )
            .bind(tenant_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn organisation(&self, id: i64) -> Result<Organisation> {
        let r = on_pool!(self, |p| sqlx::query_as::<_, OrganisationRow>(
            "SELECT id, tenant_id, name, kind, active FROM organisations WHERE id = $1"
        )
        .bind(id)
        .fetch_one(p)
        .await)?;
        Ok(r.into())
    }

    pub async fn create_hub_site(
        &self,
        tenant_id: i64,
        organisation_id: Option<i64>,
        name: &str,
        postcode: Option<&Postcode>,
        reach_areas: &[String],
    ) -> Result<HubSite> {
        let id: i64 = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO hub_sites (tenant_id, organisation_id, name, postcode) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(tenant_id)
            .bind(organisation_id)
            .bind(name)
            .bind(postcode.map(|p| p.as_str().to_string()))
            .fetch_one(&mut *tx)
            .await?;
            for area in reach_areas {
                sqlx::query("INSERT INTO hub_reach_areas (hub_site_id, area) VALUES ($1, $2)")
                    .bind(id)
                    .bind(area.trim().to_ascii_uppercase())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        self.hub_sites(tenant_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn hub_sites(&self, tenant_id: i64) -> Result<Vec<HubSite>> {
        type SiteRow = (i64, i64, Option<i64>, String, Option<String>);
        let sites: Vec<SiteRow> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, tenant_id, organisation_id, name, postcode FROM hub_sites WHERE tenant_id = $1 ORDER BY name"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await
        })?;
        let areas: Vec<(i64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT a.hub_site_id, a.area FROM hub_reach_areas a JOIN hub_sites s ON s.id = a.hub_site_id
             WHERE s.tenant_id = $1 ORDER BY a.area",
            )
            .bind(tenant_id)
            .fetch_all(p)
            .await
        })?;
        Ok(sites
            .into_iter()
            .map(|(id, tenant_id, organisation_id, name, postcode)| HubSite {
                id,
                tenant_id,
                organisation_id,
                name,
                postcode,
                reach_areas: areas.iter().filter(|(s, _)| *s == id).map(|(_, a)| a.clone()).collect(),
            })
            .collect())
    }

    /// The hub whose reach area covers `postcode`, preferring a sector over a district.
    pub async fn hub_site_for(&self, tenant_id: i64, postcode: &Postcode) -> Result<Option<HubSite>> {
        let sites = self.hub_sites(tenant_id).await?;
        Ok(kindred_domain::postcode::best_cover(postcode, &sites, |s| &s.reach_areas).cloned())
    }

    pub async fn create_team(
        &self,
        tenant_id: i64,
        organisation_id: i64,
        hub_site_id: Option<i64>,
        name: &str,
    ) -> Result<Team> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, Team>(
                "INSERT INTO teams (tenant_id, organisation_id, hub_site_id, name) VALUES ($1, $2, $3, $4)
             RETURNING id, tenant_id, organisation_id, hub_site_id, name",
            )
            .bind(tenant_id)
            .bind(organisation_id)
            .bind(hub_site_id)
            .bind(name)
            .fetch_one(p)
            .await
        })?)
    }

    pub async fn teams(&self, tenant_id: i64) -> Result<Vec<Team>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, Team>(
            "SELECT id, tenant_id, organisation_id, hub_site_id, name FROM teams WHERE tenant_id = $1 ORDER BY name"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await
        })?)
    }
}
