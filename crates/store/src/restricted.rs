//! Restricted persons (a survivor of domestic abuse, say) and every person's
//! contact details (phone and email). A restricted person's address and
//! contact details are for the workers named in `restricted_person_permissions`
//! only: this module records who those are and hands over the facts
//! (`access::RestrictionFacts`); `domain::access::contact_details` decides.

use std::collections::BTreeMap;

use kindred_domain::access::RestrictionFacts;

use crate::BeginWrite;
use crate::{Db, Result, on_pool, on_read};

/// A person's phone and email, already checked by the form.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonContact {
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl std::fmt::Debug for PersonContact {
    /// Nothing: contact details must not reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonContact").finish_non_exhaustive()
    }
}

/// A worker allowed to see a restricted person's details.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Permission {
    pub user_id: i64,
    pub display_name: String,
    pub granted_by_user_id: i64,
    pub granted_at_ms: i64,
}

/// SQL joining, to the current address `a` (an alias of `addresses`), the
/// restricted people `r` (of `persons`) who live there too: same postcode
/// and first line, their address current, not the address's own person.
/// Living with a restricted person shares their restriction.
pub(crate) fn restricted_housemates(a: &str) -> String {
    format!(
        "JOIN addresses ra ON ra.postcode = {a}.postcode AND LOWER(ra.line1) = LOWER({a}.line1)
           AND ra.to_date IS NULL AND ra.person_id <> {a}.person_id
         JOIN persons r ON r.id = ra.person_id AND r.restricted"
    )
}

impl Db {
    /// Marks a person restricted; the worker who marks them is given
    /// permission in the same transaction, so no one is locked out.
    pub async fn mark_restricted(&self, person_id: i64, by_user_id: i64) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE persons SET restricted = TRUE, updated_at_ms = $2 WHERE id = $1")
                .bind(person_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO restricted_person_permissions (person_id, user_id, granted_by_user_id, granted_at_ms)
                 VALUES ($1, $2, $2, $3) ON CONFLICT (person_id, user_id) DO NOTHING",
            )
            .bind(person_id)
            .bind(by_user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// Lifts the restriction and forgets who was allowed.
    pub async fn unmark_restricted(&self, person_id: i64) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE persons SET restricted = FALSE, updated_at_ms = $2 WHERE id = $1")
                .bind(person_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM restricted_person_permissions WHERE person_id = $1")
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// Lets a named worker see a restricted person's details (again: no error).
    pub async fn grant_restricted_permission(&self, person_id: i64, user_id: i64, by_user_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO restricted_person_permissions (person_id, user_id, granted_by_user_id, granted_at_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, user_id) DO NOTHING"
        )
        .bind(person_id)
        .bind(user_id)
        .bind(by_user_id)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Takes a worker's permission away; whether there was one.
    pub async fn revoke_restricted_permission(&self, person_id: i64, user_id: i64) -> Result<bool> {
        let r = on_pool!(self, |p| sqlx::query(
            "DELETE FROM restricted_person_permissions WHERE person_id = $1 AND user_id = $2"
        )
        .bind(person_id)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(r > 0)
    }

    /// The workers allowed to see a person's details, by name.
    pub async fn restricted_permissions(&self, person_id: i64) -> Result<Vec<Permission>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Permission>(
            "SELECT r.user_id, u.display_name, r.granted_by_user_id, r.granted_at_ms
             FROM restricted_person_permissions r JOIN users u ON u.id = r.user_id
             WHERE r.person_id = $1 ORDER BY u.display_name, r.user_id"
        )
        .bind(person_id)
        .fetch_all(p)
        .await)?)
    }

    /// Each person's own restriction and permissions, nothing inherited.
    pub async fn own_restriction_facts(&self, person_ids: &[i64]) -> Result<BTreeMap<i64, RestrictionFacts>> {
        Ok(self.restriction_rows(person_ids, false).await?.0)
    }

    /// One statement: each person's own restriction and permissions, and
    /// with `housemates` the restricted people sharing their current
    /// address, as (person, restricted housemate) pairs.
    async fn restriction_rows(
        &self,
        person_ids: &[i64],
        housemates: bool,
    ) -> Result<(BTreeMap<i64, RestrictionFacts>, Vec<(i64, i64)>)> {
        let (ids, join, csv) = (
            crate::bound_ids(self.backend(), "$1", "j"),
            crate::ids_join(self.backend()),
            crate::id_set(person_ids),
        );
        // (0, person, restricted), (1, person, permitted user), (2, person, restricted housemate).
        let shared = if housemates {
            format!(
                " UNION ALL SELECT DISTINCT 2, a.person_id, r.id FROM {ids}
                 {join} addresses a ON a.person_id = j.value AND a.to_date IS NULL {}",
                restricted_housemates("a")
            )
        } else {
            String::new()
        };
        let rows: Vec<(i64, i64, i64)> = on_read!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT CAST(0 AS BIGINT), p.id, CAST(CASE WHEN p.restricted THEN 1 ELSE 0 END AS BIGINT)
               FROM {ids} {join} persons p ON p.id = j.value
             UNION ALL SELECT 1, rp.person_id, rp.user_id FROM {ids}
               {join} restricted_person_permissions rp ON rp.person_id = j.value{shared}"
            ))
            .bind(&csv)
            .fetch_all(p)
            .await
        })?;
        let mut out: BTreeMap<i64, RestrictionFacts> = rows
            .iter()
            .filter(|r| r.0 == 0)
            .map(|&(_, id, restricted)| {
                (
                    id,
                    RestrictionFacts {
                        restricted: restricted != 0,
                        permitted_user_ids: vec![],
                    },
                )
            })
            .collect();
        let mut pairs = vec![];
        for (kind, person_id, other) in rows {
            match kind {
                1 => {
                    if let Some(f) = out.get_mut(&person_id) {
                        f.permitted_user_ids.push(other);
                    }
                }
                2 => pairs.push((person_id, other)),
                _ => {}
            }
        }
        Ok((out, pairs))
    }

    /// The restriction facts of each of `person_ids` (a person not found is
    /// absent; callers treat absence as restricted). A person living at a
    /// restricted person's current address shares that restriction.
    pub async fn restriction_facts(&self, person_ids: &[i64]) -> Result<BTreeMap<i64, RestrictionFacts>> {
        if person_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        // Someone living at a restricted person's current address (their
        // child, say) would give it away: they are restricted as that person
        // is, for the workers allowed to see both.
        let (mut out, shared) = self.restriction_rows(person_ids, true).await?;
        if !shared.is_empty() {
            let others: Vec<i64> = shared.iter().map(|(_, r)| *r).collect();
            let theirs = self.own_restriction_facts(&others).await?;
            for (person_id, restricted_id) in shared {
                let allowed = theirs
                    .get(&restricted_id)
                    .map(|f| f.permitted_user_ids.clone())
                    .unwrap_or_default();
                if let Some(f) = out.get_mut(&person_id) {
                    if f.restricted {
                        f.permitted_user_ids.retain(|u| allowed.contains(u));
                    } else {
                        f.restricted = true;
                        f.permitted_user_ids = allowed;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Records a person's phone and email (either may be cleared).
    pub async fn set_person_contact(&self, person_id: i64, c: &PersonContact) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE persons SET phone = $2, email = $3, updated_at_ms = $4 WHERE id = $1"
        )
        .bind(person_id)
        .bind(c.phone.as_deref())
        .bind(c.email.as_deref())
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The phone and email of each of `person_ids` that has either.
    pub async fn person_contacts(&self, person_ids: &[i64]) -> Result<BTreeMap<i64, PersonContact>> {
        if person_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let (ids, join) = (
            crate::bound_ids(self.backend(), "$1", "j"),
            crate::ids_join(self.backend()),
        );
        let rows: Vec<(i64, Option<String>, Option<String>)> = on_read!(self, |p| sqlx::query_as(&format!(
            "SELECT p.id, p.phone, p.email FROM {ids} {join} persons p ON p.id = j.value
              WHERE p.phone IS NOT NULL OR p.email IS NOT NULL"
        ))
        .bind(crate::id_set(person_ids))
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, phone, email)| (id, PersonContact { phone, email }))
            .collect())
    }
}
