//! What the public, signed-out pages keep: self-referral drafts and the
//! events that rate limits count.

use crate::{Db, Result, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Draft {
    pub tenant_id: Option<i64>,
    pub data: String,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Db {
    pub async fn create_draft(&self, token_hash: &str, csrf_token: &str, data: &str) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO self_referral_drafts (token_hash, data, csrf_token, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(token_hash)
        .bind(data)
        .bind(csrf_token)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A draft updated since `fresh_since_ms`, or none.
    pub async fn draft(&self, token_hash: &str, fresh_since_ms: i64) -> Result<Option<Draft>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT tenant_id, data, csrf_token, created_at_ms, updated_at_ms FROM self_referral_drafts
             WHERE token_hash = $1 AND updated_at_ms >= $2"
        )
        .bind(token_hash)
        .bind(fresh_since_ms)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn save_draft(&self, token_hash: &str, tenant_id: Option<i64>, data: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE self_referral_drafts SET data = $2, tenant_id = $3, updated_at_ms = $4 WHERE token_hash = $1"
        )
        .bind(token_hash)
        .bind(data)
        .bind(tenant_id)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_draft(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM self_referral_drafts WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forgets drafts untouched since `before_ms`: unfinished forms are not kept.
    pub async fn purge_drafts(&self, before_ms: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM self_referral_drafts WHERE updated_at_ms < $1"
        )
        .bind(before_ms)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }

    pub async fn record_rate_event(&self, key_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO rate_events (key_hash, at_ms) VALUES ($1, $2)"
        )
        .bind(key_hash)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn rate_events_since(&self, key_hash: &str, since_ms: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM rate_events WHERE key_hash = $1 AND at_ms >= $2"
        )
        .bind(key_hash)
        .bind(since_ms)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }
}

impl Db {
    /// Forgets counted events older than `before_ms`: limits look back an hour at most.
    pub async fn purge_rate_events(&self, before_ms: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM rate_events WHERE at_ms < $1"
        )
        .bind(before_ms)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
