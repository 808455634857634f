//! The outcomes framework (F15): each tenant's framework (Kindred's ten
//! headline outcomes reworded or retired, and its own), and each family's
//! needs register — a need under an outcome, its result at closure with the
//! evidence, and whether an achieved outcome was sustained six months on.
//! Which change is allowed is `kindred_domain::outcomes`'s to decide; who may
//! make it is the access policy's.

use kindred_domain::outcomes::FrameworkOutcome;
use time::Date;

use crate::BeginWrite;
use crate::episodes::{EpisodeUpdate, NewEpisodeEvent};
use crate::{Db, Result, StoreError, on_pool};

/// A need to add to a family's register.
#[derive(Clone)]
pub struct NewNeed {
    pub tenant_id: i64,
    pub family_id: i64,
    pub episode_id: Option<i64>,
    /// The member the need is about; none for the whole family.
    pub person_id: Option<i64>,
    pub outcome_code: String,
    /// The code from the referral needs list, if the need is one of those.
    pub need_code: Option<String>,
    pub referral_id: Option<i64>,
    pub description: String,
    pub identified_on: Date,
    pub identified_by_user_id: Option<i64>,
}

/// A need in a family's register, with who recorded what.
#[derive(Clone, sqlx::FromRow)]
pub struct FamilyNeed {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub episode_id: Option<i64>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub outcome_code: String,
    pub need_code: Option<String>,
    pub referral_id: Option<i64>,
    pub description: String,
    pub identified_on: Date,
    pub identified_by_name: Option<String>,
    pub result: Option<String>,
    pub evidence: Option<String>,
    pub result_on: Option<Date>,
    pub result_by_name: Option<String>,
    pub sustained: Option<bool>,
    pub sustained_evidence: Option<String>,
    pub sustained_on: Option<Date>,
    pub sustained_by_name: Option<String>,
}

impl std::fmt::Debug for FamilyNeed {
    /// Only ids and codes: a need's words and the person's name must not reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FamilyNeed")
            .field("id", &self.id)
            .field("family_id", &self.family_id)
            .field("outcome_code", &self.outcome_code)
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

/// A need as the demo loads it: the need, and perhaps its result and its
/// sustainment check, each (value, evidence, on, by).
#[derive(Clone)]
pub struct NeedRecord {
    pub need: NewNeed,
    pub result: Option<(&'static str, String, Date, Option<i64>)>,
    pub sustained: Option<(bool, String, Date, Option<i64>)>,
}

/// A result to record: (need id, result code, evidence).
pub type ResultRow = (i64, &'static str, String);

const NEED_COLUMNS: &str = "n.id, n.tenant_id, n.family_id, n.episode_id, n.person_id,
    p.given_name || ' ' || p.family_name AS person_name, n.outcome_code, n.need_code, n.referral_id, n.description,
    n.identified_on, ui.display_name AS identified_by_name, n.result, n.evidence, n.result_on,
    ur.display_name AS result_by_name, n.sustained, n.sustained_evidence, n.sustained_on,
    us.display_name AS sustained_by_name";
const NEED_FROM: &str = "family_needs n LEFT JOIN persons p ON p.id = n.person_id
    LEFT JOIN users ui ON ui.id = n.identified_by_user_id LEFT JOIN users ur ON ur.id = n.result_by_user_id
    LEFT JOIN users us ON us.id = n.sustained_by_user_id";
pub(crate) const INSERT_NEED: &str =
    "INSERT INTO family_needs (tenant_id, family_id, episode_id, person_id, outcome_code, need_code,
    referral_id, description, identified_on, identified_by_user_id, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING id";

/// Writes one need in a transaction or on a pool; `None` when a referral's
/// need is already in the register.
macro_rules! insert_need {
    ($exec:expr, $n:expr) => {
        sqlx::query_as::<_, (i64,)>($crate::outcomes::INSERT_NEED)
            .bind($n.tenant_id)
            .bind($n.family_id)
            .bind($n.episode_id)
            .bind($n.person_id)
            .bind(&$n.outcome_code)
            .bind($n.need_code.as_deref())
            .bind($n.referral_id)
            .bind(&$n.description)
            .bind($n.identified_on)
            .bind($n.identified_by_user_id)
            .bind(crate::now_ms())
            .fetch_optional($exec)
    };
}
pub(crate) use insert_need;

/// The needs a referral named, as register entries for the episode opened
/// from it: each under the headline outcome the needs list maps it to.
pub(crate) fn needs_from_referral(
    tenant_id: i64,
    family_id: i64,
    episode_id: i64,
    referral_id: i64,
    codes: &[String],
    on: Date,
    by: Option<i64>,
) -> Vec<NewNeed> {
    codes
        .iter()
        .filter_map(|c| kindred_domain::referral::need(c))
        .map(|n| NewNeed {
            tenant_id,
            family_id,
            episode_id: Some(episode_id),
            person_id: None,
            outcome_code: n.outcome.code().into(),
            need_code: Some(n.code.into()),
            referral_id: Some(referral_id),
            description: n.label.into(),
            identified_on: on,
            identified_by_user_id: by,
        })
        .collect()
}

impl Db {
    /// A tenant's saved outcomes (reworded defaults and its own), in order.
    /// `kindred_domain::outcomes::tenant_framework` merges them with the defaults.
    pub async fn outcome_framework(&self, tenant_id: i64) -> Result<Vec<FrameworkOutcome>> {
        let rows: Vec<(String, String, String, String, bool)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT code, title, need_descriptor, achieved_descriptor, offered FROM outcome_framework
             WHERE tenant_id = $1 ORDER BY position"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(code, title, need, achieved, offered)| FrameworkOutcome {
                code,
                title,
                need,
                achieved,
                offered,
            })
            .collect())
    }

    /// Replaces a tenant's framework, in one transaction.
    pub async fn save_outcome_framework(&self, tenant_id: i64, outcomes: &[FrameworkOutcome]) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM outcome_framework WHERE tenant_id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            for (i, o) in outcomes.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO outcome_framework (tenant_id, code, title, need_descriptor, achieved_descriptor, offered,
                       position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(tenant_id)
                .bind(&o.code)
                .bind(&o.title)
                .bind(&o.need)
                .bind(&o.achieved)
                .bind(o.offered)
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Adds a need to a family's register; returns its id (`Conflict` when
    /// it is a referral's need already there).
    pub async fn add_family_need(&self, n: &NewNeed) -> Result<i64> {
        let row: Option<(i64,)> = on_pool!(self, |p| insert_need!(p, n).await)?;
        row.map(|r| r.0)
            .ok_or_else(|| StoreError::Conflict("family_needs referral need".into()))
    }

    /// Adds many needs in one transaction (the demo); a referral's need
    /// already in the register is skipped. Returns how many were added.
    pub async fn add_family_needs(&self, needs: &[NewNeed]) -> Result<u64> {
        let added = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let mut added = 0u64;
            for n in needs {
                if insert_need!(&mut *tx, n).await?.is_some() {
                    added += 1;
                }
            }
            tx.commit().await.map(|_| added)
        })?;
        Ok(added)
    }

    /// A family's register, oldest need first.
    pub async fn family_needs(&self, family_id: i64) -> Result<Vec<FamilyNeed>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {NEED_COLUMNS} FROM {NEED_FROM} WHERE n.family_id = $1 ORDER BY n.identified_on, n.id"
        ))
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// An episode's register, oldest need first.
    pub async fn episode_needs(&self, episode_id: i64) -> Result<Vec<FamilyNeed>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {NEED_COLUMNS} FROM {NEED_FROM} WHERE n.episode_id = $1 ORDER BY n.identified_on, n.id"
        ))
        .bind(episode_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn family_need(&self, id: i64) -> Result<Option<FamilyNeed>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {NEED_COLUMNS} FROM {NEED_FROM} WHERE n.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Changes what an open need says (its member, outcome, description).
    /// A need with a result is evidence and stays as it was: `false`.
    pub async fn update_family_need(
        &self,
        id: i64,
        person_id: Option<i64>,
        outcome_code: &str,
        description: &str,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE family_needs SET person_id = $2, outcome_code = $3, description = $4 WHERE id = $1 AND result IS NULL"
        )
        .bind(id)
        .bind(person_id)
        .bind(outcome_code)
        .bind(description)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Records the results of open needs, all or none: `Conflict` if any
    /// already has one (someone recorded it meanwhile).
    pub async fn record_need_results(&self, results: &[ResultRow], on: Date, by: i64) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            for (id, result, evidence) in results {
                let n = sqlx::query(
                    "UPDATE family_needs SET result = $2, evidence = $3, result_on = $4, result_by_user_id = $5
                     WHERE id = $1 AND result IS NULL",
                )
                .bind(id)
                .bind(*result)
                .bind(evidence)
                .bind(on)
                .bind(by)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict("family_needs result".into()));
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Closes an episode: its open needs' results, its new state and the
    /// timeline event, in one transaction. `Conflict` (and nothing changed)
    /// if a need already has a result or the episode's register still has an
    /// open need afterwards.
    pub async fn close_episode_with_results(
        &self,
        episode_id: i64,
        u: &EpisodeUpdate,
        event: &NewEpisodeEvent,
        results: &[ResultRow],
        on: Date,
        by: i64,
    ) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            for (id, result, evidence) in results {
                let n = sqlx::query(
                    "UPDATE family_needs SET result = $2, evidence = $3, result_on = $4, result_by_user_id = $5
                     WHERE id = $1 AND episode_id = $6 AND result IS NULL",
                )
                .bind(id)
                .bind(*result)
                .bind(evidence)
                .bind(on)
                .bind(by)
                .bind(episode_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict("family_needs result".into()));
                }
            }
            let (open,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM family_needs WHERE episode_id = $1 AND result IS NULL")
                    .bind(episode_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if open > 0 {
                tx.rollback().await?;
                return Err(StoreError::Conflict("family_needs open at closure".into()));
            }
            sqlx::query(
                "UPDATE episodes SET status = $1, stage = $2, level = $3, lead_user_id = $4, closed_on = $5,
                   close_reason = $6, outcome = $7 WHERE id = $8",
            )
            .bind(u.status)
            .bind(u.stage)
            .bind(u.level)
            .bind(u.lead_user_id)
            .bind(u.closed_on)
            .bind(u.close_reason.as_deref())
            .bind(u.outcome)
            .bind(episode_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO episode_events (episode_id, at_ms, by_user_id, kind, from_value, to_value, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(episode_id)
            .bind(now)
            .bind(event.by_user_id)
            .bind(event.kind)
            .bind(event.from_value.as_deref())
            .bind(event.to_value.as_deref())
            .bind(&event.detail)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records whether achieved outcomes held: (need id, sustained, evidence),
    /// all or none. `Conflict` if a need was not achieved or is already checked.
    pub async fn record_sustained(&self, checks: &[(i64, bool, String)], on: Date, by: i64) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            for (id, sustained, evidence) in checks {
                let n = sqlx::query(
                    "UPDATE family_needs SET sustained = $2, sustained_evidence = $3, sustained_on = $4,
                       sustained_by_user_id = $5 WHERE id = $1 AND result = 'achieved' AND sustained IS NULL",
                )
                .bind(id)
                .bind(*sustained)
                .bind(evidence)
                .bind(on)
                .bind(by)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict("family_needs sustained".into()));
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Each result's count across a tenant's needs, by outcome: (outcome
    /// code, result or none, count). Counts only.
    pub async fn need_result_counts(&self, tenant_id: i64) -> Result<Vec<(String, Option<String>, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT outcome_code, result, COUNT(*) FROM family_needs WHERE tenant_id = $1
             GROUP BY outcome_code, result ORDER BY outcome_code, result"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    /// A tenant's episodes, oldest first (the demo gives them needs).
    pub async fn episodes_of_tenant(&self, tenant_id: i64) -> Result<Vec<crate::episodes::Episode>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {} FROM episodes e LEFT JOIN users u ON u.id = e.lead_user_id WHERE e.tenant_id = $1 ORDER BY e.id",
            crate::episodes::EPISODE_COLUMNS
        ))
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    /// The episodes of a tenant that have needs in their register.
    pub async fn episodes_with_needs(&self, tenant_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT DISTINCT episode_id FROM family_needs WHERE tenant_id = $1 AND episode_id IS NOT NULL"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Loads needs with their results and checks, in one transaction (the
    /// demo's history). Returns how many were added.
    pub async fn load_family_needs(&self, records: &[NeedRecord]) -> Result<u64> {
        let added = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let mut added = 0u64;
            for r in records {
                let Some((id,)) = insert_need!(&mut *tx, r.need).await? else {
                    continue;
                };
                added += 1;
                if let Some((result, evidence, on, by)) = &r.result {
                    sqlx::query(
                        "UPDATE family_needs SET result = $2, evidence = $3, result_on = $4, result_by_user_id = $5 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(*result)
                    .bind(evidence)
                    .bind(*on)
                    .bind(*by)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some((sustained, evidence, on, by)) = &r.sustained {
                    sqlx::query(
                        "UPDATE family_needs SET sustained = $2, sustained_evidence = $3, sustained_on = $4,
                           sustained_by_user_id = $5 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(*sustained)
                    .bind(evidence)
                    .bind(*on)
                    .bind(*by)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await.map(|_| added)
        })?;
        Ok(added)
    }
}
