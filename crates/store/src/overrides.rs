//! Break-glass and safeguarding overrides, their review by the privacy
//! officer, and sealed families. The policy (`kindred_domain::access`,
//! `kindred_domain::sharing`) decides what an override opens; this module
//! records them, lists them for review and for a family's banners, records a
//! review once, and seals or unseals a family with the reason and the officer.

use kindred_domain::NhsNumber;
use kindred_domain::sharing::{OverrideKind, ReviewStatus};

use crate::BeginWrite;
use crate::{Db, Result, StoreError, on_pool, on_read};

/// An override to record.
#[derive(Debug, Clone)]
pub struct NewOverride<'a> {
    pub tenant_id: i64,
    pub family_id: i64,
    pub user_id: i64,
    pub kind: OverrideKind,
    pub reason: &'a str,
    pub started_at_ms: i64,
    pub expires_at_ms: i64,
}

/// An override as the review queue and the family's banners show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Override {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub family_name: String,
    pub user_id: i64,
    pub user_name: String,
    pub organisation_name: String,
    pub kind: String,
    pub reason: String,
    pub started_at_ms: i64,
    pub expires_at_ms: i64,
    pub review_status: String,
    pub reviewed_by_user_id: Option<i64>,
    pub reviewer_name: Option<String>,
    pub reviewed_at_ms: Option<i64>,
    pub review_note: Option<String>,
}

impl Override {
    pub fn kind(&self) -> Option<OverrideKind> {
        OverrideKind::parse(&self.kind)
    }
    pub fn status(&self) -> Option<ReviewStatus> {
        ReviewStatus::parse(&self.review_status)
    }
    /// Started and not yet expired at `now_ms`.
    pub fn active(&self, now_ms: i64) -> bool {
        self.started_at_ms <= now_ms && now_ms < self.expires_at_ms
    }
}

/// A sealed family, with the latest sealing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedFamily {
    pub family_id: i64,
    pub family_name: String,
    pub reason: Option<String>,
    pub by_name: Option<String>,
    pub at_ms: Option<i64>,
}

const OVERRIDE_SELECT: &str = "SELECT o.id, o.tenant_id, o.family_id, f.name AS family_name, o.user_id,
        u.display_name AS user_name, org.name AS organisation_name, o.kind, o.reason, o.started_at_ms,
        o.expires_at_ms, o.review_status, o.reviewed_by_user_id, r.display_name AS reviewer_name,
        o.reviewed_at_ms, o.review_note
 FROM access_overrides o
 JOIN families f ON f.id = o.family_id
 JOIN users u ON u.id = o.user_id
 JOIN organisations org ON org.id = u.organisation_id
 LEFT JOIN users r ON r.id = o.reviewed_by_user_id";

impl Db {
    /// Records an override; it waits for the privacy officer's review.
    pub async fn create_override(&self, o: &NewOverride<'_>) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO access_overrides (tenant_id, family_id, user_id, kind, reason, started_at_ms, expires_at_ms, review_status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') RETURNING id"
        )
        .bind(o.tenant_id)
        .bind(o.family_id)
        .bind(o.user_id)
        .bind(o.kind.code())
        .bind(o.reason)
        .bind(o.started_at_ms)
        .bind(o.expires_at_ms)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    /// One override of a tenant, or `None`.
    pub async fn override_in(&self, tenant_id: i64, id: i64) -> Result<Option<Override>> {
        let q = format!("{OVERRIDE_SELECT} WHERE o.id = $1 AND o.tenant_id = $2");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Override>(&q)
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(p)
            .await)?)
    }

    /// The privacy officer's queue: every pending override of the tenant,
    /// oldest first, then the `decided` most recently started decided ones.
    pub async fn overrides_for_review(&self, tenant_id: i64, decided: i64) -> Result<Vec<Override>> {
        let pending_q = format!(
            "{OVERRIDE_SELECT} WHERE o.tenant_id = $1 AND o.review_status = 'pending' ORDER BY o.started_at_ms, o.id"
        );
        let decided_q = format!(
            "{OVERRIDE_SELECT} WHERE o.tenant_id = $1 AND o.review_status <> 'pending'
             ORDER BY o.started_at_ms DESC, o.id DESC LIMIT $2"
        );
        let mut rows: Vec<Override> = on_pool!(self, |p| sqlx::query_as::<_, Override>(&pending_q)
            .bind(tenant_id)
            .fetch_all(p)
            .await)?;
        let done: Vec<Override> = on_pool!(self, |p| sqlx::query_as::<_, Override>(&decided_q)
            .bind(tenant_id)
            .bind(decided)
            .fetch_all(p)
            .await)?;
        rows.extend(done);
        Ok(rows)
    }

    /// How many overrides of the tenant wait for review.
    pub async fn pending_override_count(&self, tenant_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM access_overrides WHERE tenant_id = $1 AND review_status = 'pending'"
        )
        .bind(tenant_id)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Records the privacy officer's review of a pending override: accepted,
    /// or referred for investigation. Only once: a decided override is a
    /// `Conflict`; one of another tenant, or none, is `NotFound`.
    pub async fn review_override(
        &self,
        tenant_id: i64,
        id: i64,
        status: ReviewStatus,
        reviewer_user_id: i64,
        note: Option<&str>,
        at_ms: i64,
    ) -> Result<()> {
        if status == ReviewStatus::Pending {
            return Err(StoreError::Conflict("a review accepts or refers".into()));
        }
        let done = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE access_overrides SET review_status = $1, reviewed_by_user_id = $2, reviewed_at_ms = $3, review_note = $4
             WHERE id = $5 AND tenant_id = $6 AND review_status = 'pending'"
        )
        .bind(status.code())
        .bind(reviewer_user_id)
        .bind(at_ms)
        .bind(note)
        .bind(id)
        .bind(tenant_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        if done == 1 {
            return Ok(());
        }
        match self.override_in(tenant_id, id).await? {
            Some(_) => Err(StoreError::Conflict("already reviewed".into())),
            None => Err(StoreError::NotFound),
        }
    }

    /// A family's overrides, newest first: its banners show the active ones.
    pub async fn overrides_of_family(&self, family_id: i64) -> Result<Vec<Override>> {
        let q = format!("{OVERRIDE_SELECT} WHERE o.family_id = $1 ORDER BY o.started_at_ms DESC, o.id DESC");
        Ok(on_read!(self, |p| sqlx::query_as::<_, Override>(&q)
            .bind(family_id)
            .fetch_all(p)
            .await)?)
    }

    /// The user's own break-glass on a family, active at `now_ms`, that lasts longest.
    pub async fn active_break_glass(&self, family_id: i64, user_id: i64, now_ms: i64) -> Result<Option<Override>> {
        let q = format!(
            "{OVERRIDE_SELECT} WHERE o.family_id = $1 AND o.user_id = $2 AND o.kind = 'break_glass'
             AND o.started_at_ms <= $3 AND o.expires_at_ms > $3 ORDER BY o.expires_at_ms DESC LIMIT 1"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Override>(&q)
            .bind(family_id)
            .bind(user_id)
            .bind(now_ms)
            .fetch_optional(p)
            .await)?)
    }

    /// The families of the tenant that a person with this NHS number is a
    /// current member of.
    pub async fn current_families_of_nhs_number(&self, tenant_id: i64, nhs: &NhsNumber) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT DISTINCT m.family_id FROM persons p
             JOIN family_members m ON m.person_id = p.id AND m.left_on IS NULL
             JOIN families f ON f.id = m.family_id AND f.tenant_id = $1
             WHERE p.tenant_id = $1 AND p.nhs_number = $2 ORDER BY m.family_id"
        )
        .bind(tenant_id)
        .bind(nhs.as_digits())
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Seals (or unseals) a family of the tenant, recording who did it and
    /// why in the same transaction. `NotFound` for a family of another tenant
    /// or none; returns whether the state changed.
    pub async fn set_family_sealed(
        &self,
        tenant_id: i64,
        family_id: i64,
        sealed: bool,
        reason: &str,
        by_user_id: i64,
        at_ms: i64,
    ) -> Result<bool> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let now: Option<(bool,)> = sqlx::query_as("SELECT sealed FROM families WHERE id = $1 AND tenant_id = $2")
                .bind(family_id)
                .bind(tenant_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((was,)) = now else {
                return Err(StoreError::NotFound);
            };
            if was == sealed {
                return Ok(false);
            }
            sqlx::query("UPDATE families SET sealed = $1 WHERE id = $2")
                .bind(sealed)
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO family_seals (tenant_id, family_id, sealed, reason, by_user_id, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant_id)
            .bind(family_id)
            .bind(sealed)
            .bind(reason)
            .bind(by_user_id)
            .bind(at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The tenant's sealed families, with the latest sealing of each.
    pub async fn sealed_families(&self, tenant_id: i64) -> Result<Vec<SealedFamily>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, SealedFamily>(
            "SELECT f.id AS family_id, f.name AS family_name, s.reason, u.display_name AS by_name, s.at_ms
             FROM families f
             LEFT JOIN family_seals s ON s.id = (SELECT MAX(s2.id) FROM family_seals s2 WHERE s2.family_id = f.id AND s2.sealed)
             LEFT JOIN users u ON u.id = s.by_user_id
             WHERE f.tenant_id = $1 AND f.sealed ORDER BY f.id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// The name of a family of the tenant, or `None`.
    pub async fn family_name_in(&self, tenant_id: i64, family_id: i64) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT name FROM families WHERE id = $1 AND tenant_id = $2"
        )
        .bind(family_id)
        .bind(tenant_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(n,)| n))
    }
}

impl Db {
    /// Up to `limit` families of the tenant, each with the NHS number of a
    /// current member who belongs to no other family now: for the demo, to
    /// say which number to break the glass with.
    pub async fn families_with_nhs_numbers(&self, tenant_id: i64, limit: i64) -> Result<Vec<(i64, NhsNumber)>> {
        let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT m.family_id, p.nhs_number FROM persons p
             JOIN family_members m ON m.person_id = p.id AND m.left_on IS NULL
             WHERE p.tenant_id = $1 AND p.nhs_number IS NOT NULL
               AND (SELECT COUNT(*) FROM family_members m2 WHERE m2.person_id = p.id AND m2.left_on IS NULL) = 1
             ORDER BY m.family_id, p.id LIMIT $2"
        )
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(p)
        .await)?;
        let mut out: Vec<(i64, NhsNumber)> = vec![];
        for (family, n) in rows {
            if out.last().is_some_and(|(f, _)| *f == family) {
                continue;
            }
            if let Ok(n) = NhsNumber::parse(&n) {
                out.push((family, n));
            }
        }
        Ok(out)
    }
}
