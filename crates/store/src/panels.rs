//! The multi-agency panel: meetings, attendees, the families on the agenda,
//! what was decided for each and the actions agreed.

use time::Date;

use crate::{Db, Result, StoreError, on_pool, on_read};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Meeting {
    pub id: i64,
    pub tenant_id: i64,
    pub title: String,
    pub meets_on: Date,
    pub hub_site_id: Option<i64>,
    pub hub_name: Option<String>,
    pub created_by_user_id: i64,
    pub items: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attendee {
    pub user_id: i64,
    pub display_name: String,
    pub organisation_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub meeting_id: i64,
    pub family_id: i64,
    pub family_name: String,
    pub referral_id: Option<i64>,
    pub reason: String,
    pub decision: Option<String>,
    pub lead_user_id: Option<i64>,
    pub lead_name: Option<String>,
    pub decided_at_ms: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Action {
    pub id: i64,
    pub item_id: i64,
    pub description: String,
    pub owner: String,
    pub due_on: Option<Date>,
    pub done: bool,
}

/// A family's panel discussions, for its own record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Discussion {
    pub item_id: i64,
    pub meeting_id: i64,
    pub title: String,
    pub meets_on: Date,
    pub reason: String,
    pub decision: Option<String>,
    pub lead_name: Option<String>,
}

const MEETING_SELECT: &str = "SELECT m.id, m.tenant_id, m.title, m.meets_on, m.hub_site_id, h.name AS hub_name,
    m.created_by_user_id, (SELECT COUNT(*) FROM panel_items i WHERE i.meeting_id = m.id) AS items
  FROM panel_meetings m LEFT JOIN hub_sites h ON h.id = m.hub_site_id";

impl Db {
    pub async fn create_meeting(
        &self,
        tenant_id: i64,
        title: &str,
        on: Date,
        hub_site_id: Option<i64>,
        by: i64,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO panel_meetings (tenant_id, title, meets_on, hub_site_id, created_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(tenant_id)
        .bind(title.trim())
        .bind(on)
        .bind(hub_site_id)
        .bind(by)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await
        })?;
        self.add_attendee(id, by).await?;
        Ok(id)
    }

    /// The tenant's meetings, latest first.
    pub async fn meetings(&self, tenant_id: i64, limit: i64) -> Result<Vec<Meeting>> {
        let sql = format!("{MEETING_SELECT} WHERE m.tenant_id = $1 ORDER BY m.meets_on DESC, m.id DESC LIMIT $2");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(tenant_id)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    pub async fn meeting(&self, id: i64) -> Result<Meeting> {
        let sql = format!("{MEETING_SELECT} WHERE m.id = $1");
        on_pool!(self, |p| sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?.ok_or(StoreError::NotFound)
    }

    pub async fn add_attendee(&self, meeting_id: i64, user_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO panel_attendees (meeting_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(meeting_id)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn attendees(&self, meeting_id: i64) -> Result<Vec<Attendee>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT u.id AS user_id, u.display_name, o.name AS organisation_name FROM panel_attendees a
             JOIN users u ON u.id = a.user_id JOIN organisations o ON o.id = u.organisation_id
             WHERE a.meeting_id = $1 ORDER BY u.display_name"
        )
        .bind(meeting_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn add_item(
        &self,
        meeting_id: i64,
        family_id: i64,
        referral_id: Option<i64>,
        reason: &str,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO panel_items (meeting_id, family_id, referral_id, reason) VALUES ($1, $2, $3, $4) RETURNING id"
        )
        .bind(meeting_id)
        .bind(family_id)
        .bind(referral_id)
        .bind(reason.trim())
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    pub async fn items(&self, meeting_id: i64) -> Result<Vec<Item>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT i.id, i.meeting_id, i.family_id, f.name AS family_name, i.referral_id, i.reason, i.decision,
               i.lead_user_id, u.display_name AS lead_name, i.decided_at_ms
             FROM panel_items i JOIN families f ON f.id = i.family_id LEFT JOIN users u ON u.id = i.lead_user_id
             WHERE i.meeting_id = $1 ORDER BY i.id"
        )
        .bind(meeting_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn item(&self, id: i64) -> Result<Item> {
        on_pool!(self, |p| sqlx::query_as(
            "SELECT i.id, i.meeting_id, i.family_id, f.name AS family_name, i.referral_id, i.reason, i.decision,
               i.lead_user_id, u.display_name AS lead_name, i.decided_at_ms
             FROM panel_items i JOIN families f ON f.id = i.family_id LEFT JOIN users u ON u.id = i.lead_user_id
             WHERE i.id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?
        .ok_or(StoreError::NotFound)
    }

    pub async fn record_item_decision(
        &self,
        item_id: i64,
        decision: &str,
        lead_user_id: Option<i64>,
        by: i64,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
            "UPDATE panel_items SET decision = $2, lead_user_id = $3, decided_at_ms = $4, decided_by_user_id = $5 WHERE id = $1"
        )
        .bind(item_id)
        .bind(decision.trim())
        .bind(lead_user_id)
        .bind(crate::now_ms())
        .bind(by)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn add_action(&self, item_id: i64, description: &str, owner: &str, due_on: Option<Date>) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO panel_actions (item_id, description, owner, due_on) VALUES ($1, $2, $3, $4) RETURNING id"
        )
        .bind(item_id)
        .bind(description.trim())
        .bind(owner.trim())
        .bind(due_on)
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    pub async fn set_action_done(&self, action_id: i64, done: bool) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE panel_actions SET done = $2 WHERE id = $1"
        )
        .bind(action_id)
        .bind(done)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn actions(&self, meeting_id: i64) -> Result<Vec<Action>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT a.id, a.item_id, a.description, a.owner, a.due_on, a.done FROM panel_actions a
             JOIN panel_items i ON i.id = a.item_id WHERE i.meeting_id = $1 ORDER BY a.id"
        )
        .bind(meeting_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn discussions_of_family(&self, family_id: i64) -> Result<Vec<Discussion>> {
        Ok(on_read!(self, |p| sqlx::query_as(
            "SELECT i.id AS item_id, m.id AS meeting_id, m.title, m.meets_on, i.reason, i.decision,
               u.display_name AS lead_name
             FROM panel_items i JOIN panel_meetings m ON m.id = i.meeting_id LEFT JOIN users u ON u.id = i.lead_user_id
             WHERE i.family_id = $1 ORDER BY m.meets_on DESC, i.id DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }
}
