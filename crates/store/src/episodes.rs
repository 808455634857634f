//! Episodes of work with a family and their timelines. Which change is
//! allowed is `kindred_domain::episode`'s to decide; this module stores the
//! result and the event together.

use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, on_pool, on_read};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Episode {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub referral_id: Option<i64>,
    pub lead_user_id: Option<i64>,
    pub lead_name: Option<String>,
    pub level: String,
    pub status: String,
    pub stage: String,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    pub close_reason: Option<String>,
    pub outcome: Option<String>,
}

/// One line of an episode's timeline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EpisodeEvent {
    pub id: i64,
    pub at_ms: i64,
    pub by_user_id: Option<i64>,
    pub by_name: Option<String>,
    pub kind: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub detail: String,
}

/// An event to add to the timeline.
#[derive(Debug, Clone)]
pub struct NewEpisodeEvent {
    pub by_user_id: Option<i64>,
    pub kind: &'static str,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub detail: String,
}

/// An episode after a change: every field a change may touch.
#[derive(Debug, Clone)]
pub struct EpisodeUpdate {
    pub status: &'static str,
    pub stage: &'static str,
    pub level: &'static str,
    pub lead_user_id: Option<i64>,
    pub closed_on: Option<Date>,
    pub close_reason: Option<String>,
    pub outcome: Option<&'static str>,
}

pub(crate) const EPISODE_COLUMNS: &str =
    "e.id, e.tenant_id, e.family_id, e.referral_id, e.lead_user_id, u.display_name AS lead_name,
    e.level, e.status, e.stage, e.opened_on, e.closed_on, e.close_reason, e.outcome";

impl Db {
    /// Opens an episode at its assessment stage, with the first line of its
    /// timeline; returns its id. `by` is who opened it (triage or a lead
    /// professional). An episode opened from a referral starts its needs
    /// register with the referral's needs (`store::outcomes`).
    #[allow(clippy::too_many_arguments)]
    pub async fn open_episode(
        &self,
        tenant_id: i64,
        family_id: i64,
        referral_id: Option<i64>,
        lead_user_id: Option<i64>,
        level: &str,
        by: Option<i64>,
        on: Date,
    ) -> Result<i64> {
        let now = crate::now_ms();
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO episodes (tenant_id, family_id, referral_id, lead_user_id, level, status, stage, opened_on)
                 VALUES ($1, $2, $3, $4, $5, 'open', 'assessment', $6) RETURNING id",
            )
            .bind(tenant_id)
            .bind(family_id)
            .bind(referral_id)
            .bind(lead_user_id)
            .bind(level)
            .bind(on)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO episode_events (episode_id, at_ms, by_user_id, kind, to_value) VALUES ($1, $2, $3, 'opened', $4)",
            )
            .bind(id)
            .bind(now)
            .bind(by)
            .bind(level)
            .execute(&mut *tx)
            .await?;
            // Issue 7 (F15): the referral's needs start the episode's needs register.
            if let Some(referral_id) = referral_id {
                let codes: Vec<(String,)> =
                    sqlx::query_as("SELECT need FROM referral_needs WHERE referral_id = $1 ORDER BY need")
                        .bind(referral_id)
                        .fetch_all(&mut *tx)
                        .await?;
                let codes: Vec<String> = codes.into_iter().map(|c| c.0).collect();
                for n in crate::outcomes::needs_from_referral(tenant_id, family_id, id, referral_id, &codes, on, by) {
                    crate::outcomes::insert_need!(&mut *tx, n).await?;
                }
            }
            tx.commit().await.map(|_| id)
        })?;
        Ok(id)
    }

    pub async fn episode(&self, id: i64) -> Result<Option<Episode>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e LEFT JOIN users u ON u.id = e.lead_user_id WHERE e.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// A family's episodes, open ones first, then newest first.
    pub async fn episodes_of_family(&self, family_id: i64) -> Result<Vec<Episode>> {
        Ok(on_read!(self, |p| sqlx::query_as(&format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e LEFT JOIN users u ON u.id = e.lead_user_id
             WHERE e.family_id = $1 ORDER BY CASE WHEN e.status = 'open' THEN 0 ELSE 1 END, e.opened_on DESC, e.id DESC"
        ))
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// The timeline, oldest first.
    pub async fn episode_events(&self, episode_id: i64) -> Result<Vec<EpisodeEvent>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT ev.id, ev.at_ms, ev.by_user_id, u.display_name AS by_name, ev.kind, ev.from_value, ev.to_value, ev.detail
             FROM episode_events ev LEFT JOIN users u ON u.id = ev.by_user_id
             WHERE ev.episode_id = $1 ORDER BY ev.at_ms, ev.id"
        )
        .bind(episode_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Stores an episode's new state and the timeline event that explains it, together.
    pub async fn update_episode(&self, id: i64, u: &EpisodeUpdate, event: &NewEpisodeEvent) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
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
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO episode_events (episode_id, at_ms, by_user_id, kind, from_value, to_value, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(now)
            .bind(event.by_user_id)
            .bind(event.kind)
            .bind(event.from_value.as_deref())
            .bind(event.to_value.as_deref())
            .bind(&event.detail)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// How many timeline events of each kind a tenant's episodes have: the
    /// shape of the work (opened, closed, reopened, stepped up…), counts only.
    pub async fn episode_event_counts(&self, tenant_id: i64) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT ev.kind, COUNT(*) FROM episode_events ev JOIN episodes e ON e.id = ev.episode_id
             WHERE e.tenant_id = $1 GROUP BY ev.kind ORDER BY ev.kind"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }
}
