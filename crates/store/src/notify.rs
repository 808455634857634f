//! Telling people things: in-app notifications, and an email outbox that a
//! sender task drains when an SMTP server is configured.

use crate::{Db, Result, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub at_ms: i64,
    pub referral_id: Option<i64>,
    /// A connection request it is about (issue 8).
    pub connection_id: Option<i64>,
    pub message: String,
    pub read_at_ms: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEmail {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

impl Db {
    pub async fn notify(&self, user_id: i64, referral_id: Option<i64>, message: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO notifications (user_id, at_ms, referral_id, message) VALUES ($1, $2, $3, $4)"
        )
        .bind(user_id)
        .bind(crate::now_ms())
        .bind(referral_id)
        .bind(message)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A user's notifications, newest first.
    pub async fn notifications(&self, user_id: i64, limit: i64) -> Result<Vec<Notification>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, at_ms, referral_id, connection_id, message, read_at_ms FROM notifications WHERE user_id = $1
             ORDER BY at_ms DESC, id DESC LIMIT $2"
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    pub async fn unread_notifications(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at_ms IS NULL"
        )
        .bind(user_id)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    pub async fn mark_notifications_read(&self, user_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE notifications SET read_at_ms = $2 WHERE user_id = $1 AND read_at_ms IS NULL"
        )
        .bind(user_id)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn queue_email(&self, to: &str, subject: &str, body: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO email_outbox (to_address, subject, body, created_at_ms) VALUES ($1, $2, $3, $4)"
        )
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Unsent email that has not failed too often, oldest first.
    pub async fn pending_emails(&self, limit: i64) -> Result<Vec<OutboxEmail>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, to_address, subject, body, CAST(attempts AS BIGINT) AS attempts FROM email_outbox
             WHERE sent_at_ms IS NULL AND attempts < 10 ORDER BY id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    pub async fn email_sent(&self, id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE email_outbox SET sent_at_ms = $2, attempts = attempts + 1 WHERE id = $1"
        )
        .bind(id)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn email_failed(&self, id: i64, error: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(error)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
