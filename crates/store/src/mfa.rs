//! Multi-factor authentication (issue 9): each user's TOTP enrolment, with
//! the last time step accepted (so no code works twice), and single-use
//! recovery codes stored as SHA-256 hashes. Codes are made and checked in the
//! web layer (`kindred_domain::totp`); this module stores the results, and
//! every change that must not race is one conditional statement or one
//! transaction.

use crate::{Db, Result, on_pool};

#[derive(Clone, PartialEq, Eq)]
pub struct MfaEnrolment {
    pub user_id: i64,
    /// The base32 secret the user's authenticator app holds.
    pub secret: String,
    /// The session that was shown the secret (until it is confirmed).
    pub session_hash: String,
    pub created_at_ms: i64,
    /// When the user confirmed the enrolment with a correct code; `None`
    /// while the enrolment page is still open.
    pub enrolled_at_ms: Option<i64>,
    /// The newest RFC 6238 time step accepted.
    pub last_step: Option<i64>,
}

impl MfaEnrolment {
    pub fn enrolled(&self) -> bool {
        self.enrolled_at_ms.is_some()
    }
}

impl std::fmt::Debug for MfaEnrolment {
    /// No secret in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaEnrolment")
            .field("user_id", &self.user_id)
            .field("enrolled_at_ms", &self.enrolled_at_ms)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: i64,
    secret: String,
    session_hash: String,
    created_at_ms: i64,
    enrolled_at_ms: Option<i64>,
    last_step: Option<i64>,
}

impl From<Row> for MfaEnrolment {
    fn from(r: Row) -> Self {
        MfaEnrolment {
            user_id: r.user_id,
            secret: r.secret,
            session_hash: r.session_hash,
            created_at_ms: r.created_at_ms,
            enrolled_at_ms: r.enrolled_at_ms,
            last_step: r.last_step,
        }
    }
}

impl Db {
    pub async fn mfa_enrolment(&self, user_id: i64) -> Result<Option<MfaEnrolment>> {
        let r = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(
            "SELECT user_id, secret, session_hash, created_at_ms, enrolled_at_ms, last_step FROM mfa_enrolments WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(p)
        .await
        })?;
        Ok(r.map(Into::into))
    }

    /// The user's enrolment as the session `session_hash` should see it:
    /// begun with `secret` if they have none; the same one again for the
    /// same session; begun afresh with `secret` for any other session while
    /// unconfirmed (so a secret shown to someone else who knows the password
    /// is worthless). A confirmed enrolment is never replaced.
    pub async fn begin_mfa_enrolment(&self, user_id: i64, secret: &str, session_hash: &str) -> Result<MfaEnrolment> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO mfa_enrolments (user_id, secret, session_hash, created_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE
             SET secret = excluded.secret, session_hash = excluded.session_hash, created_at_ms = excluded.created_at_ms
             WHERE mfa_enrolments.enrolled_at_ms IS NULL AND mfa_enrolments.session_hash <> excluded.session_hash"
        )
        .bind(user_id)
        .bind(secret)
        .bind(session_hash)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        self.mfa_enrolment(user_id).await?.ok_or(crate::StoreError::NotFound)
    }

    /// Confirms an enrolment in progress whose secret is still `secret`, as
    /// shown to the session `session_hash`, recording `step` as accepted, and
    /// replaces the user's recovery codes with `code_hashes`, in one
    /// transaction. False (and nothing changed) when there was no such
    /// enrolment in progress.
    pub async fn confirm_mfa_enrolment(
        &self,
        user_id: i64,
        secret: &str,
        session_hash: &str,
        step: i64,
        code_hashes: &[String],
    ) -> Result<bool> {
        let now = crate::now_ms();
        let done = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE mfa_enrolments SET enrolled_at_ms = $1, last_step = $2
                 WHERE user_id = $3 AND secret = $4 AND session_hash = $5 AND enrolled_at_ms IS NULL",
            )
            .bind(now)
            .bind(step)
            .bind(user_id)
            .bind(secret)
            .bind(session_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                for h in code_hashes {
                    sqlx::query(
                        "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at_ms) VALUES ($1, $2, $3)",
                    )
                    .bind(user_id)
                    .bind(h)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await.map(|()| n == 1)
        })?;
        Ok(done)
    }

    /// Accepts time step `step` for an enrolled user if it is newer than the
    /// last accepted one: a compare-and-set, so two requests with the same
    /// code cannot both succeed.
    pub async fn accept_mfa_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE mfa_enrolments SET last_step = $1
             WHERE user_id = $2 AND enrolled_at_ms IS NOT NULL AND (last_step IS NULL OR last_step < $1)"
        )
        .bind(step)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Uses up one of the user's recovery codes, by its hash: true once, for
    /// an unused code of theirs; false for any other.
    pub async fn use_mfa_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE mfa_recovery_codes SET used_at_ms = $1
             WHERE user_id = $2 AND code_hash = $3 AND used_at_ms IS NULL"
        )
        .bind(crate::now_ms())
        .bind(user_id)
        .bind(code_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn mfa_recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at_ms IS NULL"
        )
        .bind(user_id)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// An administrator's reset: the enrolment and recovery codes go, and so
    /// do the user's sessions, in one transaction; they enrol again at their
    /// next sign-in. True when there was an enrolment (finished or not).
    pub async fn reset_mfa(&self, user_id: i64) -> Result<bool> {
        let had = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM mfa_enrolments WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| n > 0)
        })?;
        Ok(had)
    }

    /// The users of a tenant who have confirmed an enrolment, in id order.
    pub async fn mfa_enrolled_users(&self, tenant_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT e.user_id FROM mfa_enrolments e JOIN users u ON u.id = e.user_id
             WHERE u.tenant_id = $1 AND e.enrolled_at_ms IS NOT NULL ORDER BY e.user_id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
