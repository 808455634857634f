//! The family portal's invitations, one-time sign-in codes and sessions.
//! Codes and session tokens are stored only as SHA-256 hashes. Revoking an
//! invitation ends its sessions and makes its unused codes worthless.

use crate::BeginWrite;
use crate::{Db, Result, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invite {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub email: Option<String>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A signed-in family member's session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortalSession {
    pub invite_id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
}

impl Db {
    pub async fn create_portal_invite(
        &self,
        tenant_id: i64,
        family_id: i64,
        person_id: i64,
        email: Option<&str>,
        by_user: i64,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO portal_invites (tenant_id, family_id, person_id, email, invited_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(tenant_id)
        .bind(family_id)
        .bind(person_id)
        .bind(email.map(|e| e.trim().to_lowercase()))
        .bind(by_user)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    /// A family's invitations, newest first.
    pub async fn portal_invites(&self, family_id: i64) -> Result<Vec<Invite>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, Invite>(
            "SELECT i.id, i.person_id, COALESCE(pp.preferred_name, pp.given_name) || ' ' || pp.family_name AS person_name,
               i.email, i.created_at_ms, i.revoked_at_ms
             FROM portal_invites i JOIN persons pp ON pp.id = i.person_id
             WHERE i.family_id = $1 ORDER BY i.id DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Revokes an invitation of `family_id` and ends its sessions.
    pub async fn revoke_portal_invite(&self, family_id: i64, invite_id: i64) -> Result<bool> {
        let now = crate::now_ms();
        let changed = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query(
                "UPDATE portal_invites SET revoked_at_ms = $1 WHERE id = $2 AND family_id = $3 AND revoked_at_ms IS NULL",
            )
            .bind(now)
            .bind(invite_id)
            .bind(family_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM portal_sessions WHERE invite_id IN (SELECT id FROM portal_invites WHERE id = $1 AND family_id = $2)",
            )
            .bind(invite_id)
            .bind(family_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        })?;
        Ok(changed > 0)
    }

    pub async fn add_portal_code(&self, invite_id: i64, code_hash: &str, expires_at_ms: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO portal_codes (code_hash, invite_id, expires_at_ms) VALUES ($1, $2, $3)"
        )
        .bind(code_hash)
        .bind(invite_id)
        .bind(expires_at_ms)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Active invitations for an email address (to send each a sign-in code).
    pub async fn portal_invites_for_email(&self, email: &str) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM portal_invites WHERE email = $1 AND revoked_at_ms IS NULL ORDER BY id"
        )
        .bind(email.trim().to_lowercase())
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Uses a code once: the invitation it opens, if the code is unused,
    /// unexpired and its invitation not revoked.
    pub async fn redeem_portal_code(&self, code_hash: &str, now_ms: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "UPDATE portal_codes SET used_at_ms = $2
             WHERE code_hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2
               AND invite_id IN (SELECT id FROM portal_invites WHERE revoked_at_ms IS NULL)
             RETURNING invite_id"
        )
        .bind(code_hash)
        .bind(now_ms)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|r| r.0))
    }

    pub async fn create_portal_session(&self, token_hash: &str, invite_id: i64, csrf: &str) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO portal_sessions (token_hash, invite_id, csrf_token, created_at_ms, last_seen_ms)
             VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(token_hash)
        .bind(invite_id)
        .bind(csrf)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The session for a token hash, while its invitation stands.
    pub async fn portal_session(&self, token_hash: &str) -> Result<Option<PortalSession>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, PortalSession>(
            "SELECT s.invite_id, i.tenant_id, i.family_id, i.person_id,
               COALESCE(pp.preferred_name, pp.given_name) || ' ' || pp.family_name AS person_name,
               s.csrf_token, s.created_at_ms, s.last_seen_ms
             FROM portal_sessions s JOIN portal_invites i ON i.id = s.invite_id JOIN persons pp ON pp.id = i.person_id
             WHERE s.token_hash = $1 AND i.revoked_at_ms IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn touch_portal_session(&self, token_hash: &str, now_ms: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE portal_sessions SET last_seen_ms = $1 WHERE token_hash = $2"
        )
        .bind(now_ms)
        .bind(token_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_portal_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM portal_sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
