//! Consent and information-sharing agreements: recorded here, decided on in
//! `kindred_domain::sharing` (through `Db::sharing_facts`). A consent is about
//! one person, for one purpose, with a scope (all partners, or chosen
//! organisations and kinds of organisation); withdrawing it sets its
//! `withdrawn_on`, which the rules read on the very next request. An
//! agreement names its party organisations, which may belong to other
//! tenants of the deployment (a bi-borough partnership).

use std::collections::BTreeMap;

use kindred_domain::model::OrgKind;
use kindred_domain::sharing::{ConsentMethod, DataCategory, LawfulBasis};
use time::Date;

use crate::BeginWrite;
use crate::organisations::{Organisation, Tenant};
use crate::sharing::split_codes;
use crate::{Db, Result, StoreError, on_pool, on_read};

/// A consent to record.
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub tenant_id: i64,
    /// Whom the consent is about.
    pub person_id: i64,
    /// The parent or carer who gave it on their behalf; `None` when the
    /// person gave it themselves (then `competence_judgement` says why they could).
    pub given_by_person_id: Option<i64>,
    pub competence_judgement: Option<String>,
    pub purpose: String,
    pub all_partners: bool,
    pub organisation_ids: Vec<i64>,
    pub kinds: Vec<OrgKind>,
    pub given_on: Date,
    pub method: ConsentMethod,
    pub evidence: String,
    pub recorded_by_user_id: i64,
}

/// A consent as recorded, with the names a page shows.
#[derive(Debug, Clone)]
pub struct Consent {
    pub id: i64,
    pub tenant_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub given_by_person_id: Option<i64>,
    pub given_by_name: Option<String>,
    pub competence_judgement: Option<String>,
    pub purpose: String,
    pub all_partners: bool,
    /// (organisation id, name) in its scope.
    pub organisations: Vec<(i64, String)>,
    pub kinds: Vec<OrgKind>,
    pub given_on: Date,
    pub withdrawn_on: Option<Date>,
    pub method: String,
    pub evidence: String,
    pub recorded_by_name: String,
    pub withdrawn_by_name: Option<String>,
    pub withdrawal_note: Option<String>,
}

impl Consent {
    /// Given by then and not withdrawn by then (as `ConsentFact::active`).
    pub fn active(&self, today: Date) -> bool {
        self.given_on <= today && self.withdrawn_on.is_none_or(|w| w > today)
    }
}

/// An information-sharing agreement to record.
#[derive(Debug, Clone)]
pub struct NewAgreement {
    pub tenant_id: i64,
    pub title: String,
    pub lawful_basis: LawfulBasis,
    pub purposes: Vec<String>,
    pub categories: Vec<DataCategory>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    /// Its parties: organisations of this tenant or of others.
    pub organisation_ids: Vec<i64>,
    pub created_by_user_id: i64,
}

/// One party to an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
}

/// An agreement as recorded.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub id: i64,
    /// The tenant whose administrator recorded it.
    pub tenant_id: i64,
    pub title: String,
    /// The code as stored (`LawfulBasis::parse` it).
    pub lawful_basis: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub parties: Vec<Party>,
    pub created_by_name: String,
}

impl Agreement {
    pub fn active(&self, today: Date) -> bool {
        self.starts_on <= today && self.ends_on.is_none_or(|e| e >= today)
    }
}

/// A worker who may be placed in a team around a family.
#[derive(Debug, Clone)]
pub struct Worker {
    pub user_id: i64,
    pub display_name: String,
    pub profession: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
}

type ConsentRow = (
    i64,
    i64,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    bool,
    Date,
    Option<Date>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

const CONSENT_COLUMNS: &str = "c.id, c.tenant_id, c.person_id, p.given_name || ' ' || p.family_name,
    c.given_by_person_id, g.given_name || ' ' || g.family_name, c.competence_judgement, c.purpose, c.all_partners,
    c.given_on, c.withdrawn_on, c.method, c.evidence, r.display_name, w.display_name, c.withdrawal_note
    FROM consents c JOIN persons p ON p.id = c.person_id LEFT JOIN persons g ON g.id = c.given_by_person_id
    JOIN users r ON r.id = c.recorded_by_user_id LEFT JOIN users w ON w.id = c.withdrawn_by_user_id";

type AgreementRow = (i64, i64, String, String, String, String, Date, Option<Date>, String);

/// (consent, organisation, organisation name, kind of organisation)
type ScopeRow = (i64, Option<i64>, Option<String>, Option<String>);
/// (user, name, profession, roles, organisation, organisation name, tenant, tenant name)
type WorkerRow = (i64, String, String, String, i64, String, i64, String);

impl Db {
    /// Records a consent and its scope in one transaction.
    pub async fn record_consent(&self, c: &NewConsent) -> Result<i64> {
        Ok(self.record_consents(std::slice::from_ref(c)).await?[0])
    }

    /// Records consents, each with its scope, in one transaction (one from a
    /// form, or the demo's bulk load); returns their ids in order.
    pub async fn record_consents(&self, all: &[NewConsent]) -> Result<Vec<i64>> {
        let now = crate::now_ms();
        let ids = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let mut ids = Vec::with_capacity(all.len());
            for c in all {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO consents (tenant_id, person_id, given_by_person_id, competence_judgement, purpose,
                       all_partners, given_on, method, evidence, recorded_by_user_id, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(c.tenant_id)
                .bind(c.person_id)
                .bind(c.given_by_person_id)
                .bind(c.competence_judgement.as_deref())
                .bind(&c.purpose)
                .bind(c.all_partners)
                .bind(c.given_on)
                .bind(c.method.code())
                .bind(&c.evidence)
                .bind(c.recorded_by_user_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                for org in &c.organisation_ids {
                    sqlx::query("INSERT INTO consent_scopes (consent_id, organisation_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(org)
                        .execute(&mut *tx)
                        .await?;
                }
                for kind in &c.kinds {
                    sqlx::query("INSERT INTO consent_scopes (consent_id, org_kind) VALUES ($1, $2)")
                        .bind(id)
                        .bind(kind.code())
                        .execute(&mut *tx)
                        .await?;
                }
                ids.push(id);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(ids)
        })?;
        Ok(ids)
    }

    /// The current members of a tenant's families with work going on — an
    /// episode, a family plan or a team around the family — as (family id,
    /// person id, role code, date of birth), by family and joining order.
    pub async fn members_of_families_with_work(&self, tenant_id: i64) -> Result<Vec<(i64, i64, String, Option<Date>)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT m.family_id, m.person_id, m.role, p.date_of_birth
             FROM family_members m JOIN persons p ON p.id = m.person_id JOIN families f ON f.id = m.family_id
             WHERE f.tenant_id = $1 AND m.left_on IS NULL
               AND (EXISTS (SELECT 1 FROM episodes e WHERE e.family_id = f.id)
                    OR EXISTS (SELECT 1 FROM plan_goals g WHERE g.family_id = f.id)
                    OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.family_id = f.id AND tm.until_date IS NULL))
             ORDER BY m.family_id, m.joined_on, m.id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    /// Withdraws a consent on `on` (today, at once). `false` if it was
    /// already withdrawn or does not exist.
    pub async fn withdraw_consent(&self, id: i64, by_user_id: i64, on: Date, note: &str) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE consents SET withdrawn_on = $1, withdrawn_by_user_id = $2, withdrawal_note = $3
             WHERE id = $4 AND withdrawn_on IS NULL"
        )
        .bind(on)
        .bind(by_user_id)
        .bind(note)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    async fn consents_where(&self, condition: &str, id: i64) -> Result<Vec<Consent>> {
        let sql = format!("SELECT {CONSENT_COLUMNS} WHERE {condition} ORDER BY c.given_on DESC, c.id DESC");
        let rows: Vec<ConsentRow> = on_pool!(self, |p| sqlx::query_as(&sql).bind(id).fetch_all(p).await)?;
        let mut out: Vec<Consent> = rows
            .into_iter()
            .map(|r| Consent {
                id: r.0,
                tenant_id: r.1,
                person_id: r.2,
                person_name: r.3,
                given_by_person_id: r.4,
                given_by_name: r.5,
                competence_judgement: r.6,
                purpose: r.7,
                all_partners: r.8,
                organisations: vec![],
                kinds: vec![],
                given_on: r.9,
                withdrawn_on: r.10,
                method: r.11,
                evidence: r.12,
                recorded_by_name: r.13,
                withdrawn_by_name: r.14,
                withdrawal_note: r.15,
            })
            .collect();
        if out.is_empty() {
            return Ok(out);
        }
        let list = out.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(",");
        let scopes: Vec<ScopeRow> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT s.consent_id, s.organisation_id, o.name, s.org_kind FROM consent_scopes s
                 LEFT JOIN organisations o ON o.id = s.organisation_id WHERE s.consent_id IN ({list})
                 ORDER BY o.name, s.org_kind"
        ))
        .fetch_all(p)
        .await)?;
        for (consent_id, org, name, kind) in scopes {
            if let Some(c) = out.iter_mut().find(|c| c.id == consent_id) {
                if let Some(org) = org {
                    c.organisations.push((org, name.unwrap_or_default()));
                }
                if let Some(kind) = kind.as_deref().and_then(OrgKind::parse) {
                    c.kinds.push(kind);
                }
            }
        }
        Ok(out)
    }

    /// Consents about the family's current members, newest first.
    pub async fn consents_of_family(&self, family_id: i64) -> Result<Vec<Consent>> {
        self.consents_where(
            "c.person_id IN (SELECT person_id FROM family_members WHERE family_id = $1 AND left_on IS NULL)",
            family_id,
        )
        .await
    }

    /// Consents about one person, newest first.
    pub async fn consents_of_person(&self, person_id: i64) -> Result<Vec<Consent>> {
        self.consents_where("c.person_id = $1", person_id).await
    }

    /// One consent.
    pub async fn consent(&self, id: i64) -> Result<Option<Consent>> {
        Ok(self.consents_where("c.id = $1", id).await?.pop())
    }

    /// A tenant's own purposes, (code, label), by label.
    pub async fn consent_purposes(&self, tenant_id: i64) -> Result<Vec<(String, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT code, label FROM consent_purposes WHERE tenant_id = $1 ORDER BY label"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    /// Adds a purpose of the tenant's own; a code it already has is a `Conflict`.
    pub async fn add_consent_purpose(&self, tenant_id: i64, code: &str, label: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO consent_purposes (tenant_id, code, label) VALUES ($1, $2, $3)"
        )
        .bind(tenant_id)
        .bind(code)
        .bind(label)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records an agreement and its parties in one transaction.
    pub async fn create_agreement(&self, a: &NewAgreement) -> Result<i64> {
        let purposes = a.purposes.join(",");
        let categories = a.categories.iter().map(|c| c.code()).collect::<Vec<_>>().join(",");
        let mut parties = a.organisation_ids.clone();
        parties.sort_unstable();
        parties.dedup();
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO sharing_agreements (tenant_id, title, lawful_basis, purposes, categories, starts_on,
                   ends_on, created_by_user_id, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(a.tenant_id)
            .bind(&a.title)
            .bind(a.lawful_basis.code())
            .bind(&purposes)
            .bind(&categories)
            .bind(a.starts_on)
            .bind(a.ends_on)
            .bind(a.created_by_user_id)
            .bind(crate::now_ms())
            .fetch_one(&mut *tx)
            .await?;
            for org in &parties {
                sqlx::query("INSERT INTO sharing_agreement_parties (agreement_id, organisation_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(org)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// Ends an agreement on `on` (it covers that day and no later).
    pub async fn end_agreement(&self, id: i64, on: Date) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE sharing_agreements SET ends_on = $1 WHERE id = $2"
        )
        .bind(on)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn agreements_where(&self, condition: &str, id: i64) -> Result<Vec<Agreement>> {
        let sql = format!(
            "SELECT a.id, a.tenant_id, a.title, a.lawful_basis, a.purposes, a.categories, a.starts_on, a.ends_on,
               u.display_name
             FROM sharing_agreements a JOIN users u ON u.id = a.created_by_user_id
             WHERE {condition} ORDER BY a.starts_on DESC, a.id DESC"
        );
        let rows: Vec<AgreementRow> = on_pool!(self, |p| sqlx::query_as(&sql).bind(id).fetch_all(p).await)?;
        let mut out: Vec<Agreement> = rows
            .into_iter()
            .map(|r| Agreement {
                id: r.0,
                tenant_id: r.1,
                title: r.2,
                lawful_basis: r.3,
                purposes: split_codes(&r.4).map(String::from).collect(),
                categories: split_codes(&r.5).map(String::from).collect(),
                starts_on: r.6,
                ends_on: r.7,
                parties: vec![],
                created_by_name: r.8,
            })
            .collect();
        if out.is_empty() {
            return Ok(out);
        }
        let list = out.iter().map(|a| a.id.to_string()).collect::<Vec<_>>().join(",");
        let parties: Vec<(i64, i64, String, i64, String)> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT sp.agreement_id, o.id, o.name, t.id, t.name FROM sharing_agreement_parties sp
             JOIN organisations o ON o.id = sp.organisation_id JOIN tenants t ON t.id = o.tenant_id
             WHERE sp.agreement_id IN ({list}) ORDER BY t.name, o.name"
        ))
        .fetch_all(p)
        .await)?;
        for (agreement, org, org_name, tenant, tenant_name) in parties {
            if let Some(a) = out.iter_mut().find(|a| a.id == agreement) {
                a.parties.push(Party {
                    organisation_id: org,
                    organisation_name: org_name,
                    tenant_id: tenant,
                    tenant_name,
                });
            }
        }
        Ok(out)
    }

    /// The agreements a tenant made, or that name any organisation of it.
    pub async fn agreements_for_tenant(&self, tenant_id: i64) -> Result<Vec<Agreement>> {
        self.agreements_where(
            "a.tenant_id = $1 OR EXISTS (SELECT 1 FROM sharing_agreement_parties sp
               JOIN organisations o ON o.id = sp.organisation_id WHERE sp.agreement_id = a.id AND o.tenant_id = $1)",
            tenant_id,
        )
        .await
    }

    pub async fn agreement(&self, id: i64) -> Result<Option<Agreement>> {
        Ok(self.agreements_where("a.id = $1", id).await?.pop())
    }

    /// Every organisation of the deployment, grouped by tenant (tenants in
    /// order of id, organisations by name): the parties an agreement may name.
    pub async fn organisations_by_tenant(&self) -> Result<Vec<(Tenant, Vec<Organisation>)>> {
        let mut out = vec![];
        for t in self.tenants().await? {
            let orgs = self.organisations(t.id).await?;
            out.push((t, orgs));
        }
        Ok(out)
    }

    /// The active workers with a case role (practitioner or triage) of the
    /// given organisations, by organisation then name: the people of partner
    /// organisations in other tenants a team around a family may include.
    pub async fn workers_of_organisations(&self, organisation_ids: &[i64]) -> Result<Vec<Worker>> {
        if organisation_ids.is_empty() {
            return Ok(vec![]);
        }
        let list = organisation_ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let rows: Vec<WorkerRow> = on_read!(self, |p| sqlx::query_as(&format!(
            "SELECT u.id, u.display_name, u.profession, u.roles, o.id, o.name, t.id, t.name
                 FROM users u JOIN organisations o ON o.id = u.organisation_id JOIN tenants t ON t.id = o.tenant_id
                 WHERE u.active AND u.organisation_id IN ({list}) ORDER BY t.name, o.name, u.display_name"
        ))
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                crate::users::roles_from_text(&r.3).iter().any(|role| {
                    matches!(
                        role,
                        kindred_domain::model::Role::Practitioner | kindred_domain::model::Role::Triage
                    )
                })
            })
            .map(|r| Worker {
                user_id: r.0,
                display_name: r.1,
                profession: r.2,
                organisation_id: r.4,
                organisation_name: r.5,
                tenant_id: r.6,
                tenant_name: r.7,
            })
            .collect())
    }

    /// How many of each family's current members' consents are active today.
    pub async fn active_consent_count(&self, family_id: i64, today: Date) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM consents c
             WHERE c.person_id IN (SELECT person_id FROM family_members WHERE family_id = $1 AND left_on IS NULL)
               AND c.given_on <= $2 AND (c.withdrawn_on IS NULL OR c.withdrawn_on > $2)"
        )
        .bind(family_id)
        .bind(today)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }
}

/// Organisations by id, for naming the parties and scopes a page shows.
pub fn by_id(groups: &[(Tenant, Vec<Organisation>)]) -> BTreeMap<i64, (String, String)> {
    groups
        .iter()
        .flat_map(|(t, orgs)| orgs.iter().map(move |o| (o.id, (o.name.clone(), t.name.clone()))))
        .collect()
}
