//! What the sharing rules (`kindred_domain::sharing`) need to know about one
//! family: its current members' consents, the agreements that name the
//! tenant's organisations, and its overrides. Read only; the modules that
//! record consents, agreements and overrides write the same tables.

use std::collections::BTreeMap;

use kindred_domain::model::OrgKind;
use kindred_domain::sharing::{
    AgreementFact, ConsentFact, DataCategory, LawfulBasis, OverrideFact, OverrideKind, SharingFacts,
};
use time::Date;

use crate::{Db, Result, on_pool};

/// Comma-separated codes, as agreements store their purposes and categories.
pub fn split_codes(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|c| !c.is_empty())
}

type AgreementRow = (i64, String, String, String, String, Date, Option<Date>);

impl Db {
    /// The agreements naming any organisation of `tenant_id`, with every
    /// party, and the tenant and kind of each organisation they name.
    pub async fn agreements_touching(
        &self,
        tenant_id: i64,
    ) -> Result<(Vec<AgreementFact>, BTreeMap<i64, (i64, OrgKind)>)> {
        let rows: Vec<AgreementRow> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.id, a.title, a.lawful_basis, a.purposes, a.categories, a.starts_on, a.ends_on
             FROM sharing_agreements a
             WHERE EXISTS (SELECT 1 FROM sharing_agreement_parties sp JOIN organisations o ON o.id = sp.organisation_id
                           WHERE sp.agreement_id = a.id AND o.tenant_id = $1)
             ORDER BY a.id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let parties: Vec<(i64, i64, i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT sp.agreement_id, sp.organisation_id, o.tenant_id, o.kind
             FROM sharing_agreement_parties sp JOIN organisations o ON o.id = sp.organisation_id
             WHERE sp.agreement_id IN (SELECT sp2.agreement_id FROM sharing_agreement_parties sp2
                                       JOIN organisations o2 ON o2.id = sp2.organisation_id WHERE o2.tenant_id = $1)"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let mut orgs = BTreeMap::new();
        let mut agreements: Vec<AgreementFact> = rows
            .into_iter()
            .filter_map(|(id, title, basis, purposes, categories, starts_on, ends_on)| {
                Some(AgreementFact {
                    id,
                    title,
                    // An unknown basis grants nothing: the agreement is left out.
                    lawful_basis: LawfulBasis::parse(&basis)?,
                    purposes: split_codes(&purposes).map(String::from).collect(),
                    categories: split_codes(&categories).filter_map(DataCategory::parse).collect(),
                    organisation_ids: vec![],
                    starts_on,
                    ends_on,
                })
            })
            .collect();
        for (agreement_id, org, tenant, kind) in parties {
            if let Some(kind) = OrgKind::parse(&kind) {
                orgs.insert(org, (tenant, kind));
            }
            if let Some(a) = agreements.iter_mut().find(|a| a.id == agreement_id) {
                a.organisation_ids.push(org);
            }
        }
        Ok((agreements, orgs))
    }

    /// Everything the sharing rules decide on for one family, or `None` if
    /// there is no such family.
    pub async fn sharing_facts(&self, family_id: i64) -> Result<Option<SharingFacts>> {
        let fam: Option<(i64, bool)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT tenant_id, sealed FROM families WHERE id = $1"
        )
        .bind(family_id)
        .fetch_optional(p)
        .await)?;
        let Some((tenant_id, sealed)) = fam else {
            return Ok(None);
        };
        let members: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT person_id FROM family_members WHERE family_id = $1 AND left_on IS NULL"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let consents: Vec<(i64, i64, String, bool, Date, Option<Date>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT c.id, c.person_id, c.purpose, c.all_partners, c.given_on, c.withdrawn_on
             FROM consents c JOIN family_members m ON m.person_id = c.person_id
             WHERE m.family_id = $1 AND m.left_on IS NULL ORDER BY c.id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let scopes: Vec<(i64, Option<i64>, Option<String>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT s.consent_id, s.organisation_id, s.org_kind
             FROM consent_scopes s JOIN consents c ON c.id = s.consent_id
             JOIN family_members m ON m.person_id = c.person_id
             WHERE m.family_id = $1 AND m.left_on IS NULL"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let overrides: Vec<(i64, String, i64, i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, kind, user_id, started_at_ms, expires_at_ms FROM access_overrides WHERE family_id = $1"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let tenant_orgs: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, kind FROM organisations WHERE tenant_id = $1"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let (agreements, mut organisations) = self.agreements_touching(tenant_id).await?;
        for (id, kind) in tenant_orgs {
            if let Some(kind) = OrgKind::parse(&kind) {
                organisations.insert(id, (tenant_id, kind));
            }
        }
        let mut consents: Vec<ConsentFact> = consents
            .into_iter()
            .map(
                |(id, person_id, purpose, all_partners, given_on, withdrawn_on)| ConsentFact {
                    id,
                    person_id,
                    purpose,
                    all_partners,
                    organisation_ids: vec![],
                    kinds: vec![],
                    given_on,
                    withdrawn_on,
                },
            )
            .collect();
        consents.dedup_by_key(|c| c.id);
        for (consent_id, org, kind) in scopes {
            if let Some(c) = consents.iter_mut().find(|c| c.id == consent_id) {
                if let Some(org) = org {
                    c.organisation_ids.push(org);
                }
                if let Some(kind) = kind.as_deref().and_then(OrgKind::parse) {
                    c.kinds.push(kind);
                }
            }
        }
        Ok(Some(SharingFacts {
            family_id,
            tenant_id,
            sealed,
            member_person_ids: members.into_iter().map(|m| m.0).collect(),
            consents,
            agreements,
            overrides: overrides
                .into_iter()
                .filter_map(|(id, kind, user_id, started_at_ms, expires_at_ms)| {
                    Some(OverrideFact {
                        id,
                        kind: OverrideKind::parse(&kind)?,
                        user_id,
                        started_at_ms,
                        expires_at_ms,
                    })
                })
                .collect(),
            organisations,
        }))
    }
}
