//! Users, their sessions and failed sign-ins. Password hashing and token
//! generation happen in the web layer; this module stores their results.

use kindred_domain::access::Subject;
use kindred_domain::model::{Profession, Role};

use crate::BeginWrite;
use crate::{Db, Result, on_pool, on_read};

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub team_id: Option<i64>,
    pub email: String,
    pub display_name: String,
    pub profession: Profession,
    pub roles: Vec<Role>,
    pub active: bool,
    pub password_hash: String,
}

impl std::fmt::Debug for User {
    /// No password hash in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

impl User {
    pub fn subject(&self) -> Subject {
        Subject {
            user_id: self.id,
            tenant_id: self.tenant_id,
            organisation_id: self.organisation_id,
            profession: self.profession,
            roles: self.roles.clone(),
            active: self.active,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// A partner system's account (`api_clients`): never offered as a lead
    /// professional, a team member or a reader of restricted details.
    pub fn is_system(&self) -> bool {
        self.email.ends_with(crate::api_clients::SYSTEM_EMAIL_DOMAIN)
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    tenant_id: i64,
    organisation_id: i64,
    team_id: Option<i64>,
    email: String,
    display_name: String,
    profession: String,
    roles: String,
    active: bool,
    password_hash: String,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            tenant_id: r.tenant_id,
            organisation_id: r.organisation_id,
            team_id: r.team_id,
            email: r.email,
            display_name: r.display_name,
            profession: Profession::parse(&r.profession).unwrap_or(Profession::Administrator),
            roles: roles_from_text(&r.roles),
            active: r.active,
            password_hash: r.password_hash,
        }
    }
}

pub fn roles_to_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// Unknown codes are dropped: a role the code does not know grants nothing.
pub fn roles_from_text(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|c| Role::parse(c.trim())).collect()
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub team_id: Option<i64>,
    pub email: String,
    pub display_name: String,
    pub profession: Profession,
    pub roles: Vec<Role>,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    /// The user's organisation, shown on every page.
    pub organisation_name: String,
    /// Its kind (what the navigation offers depends on it).
    pub organisation_kind: Option<kindred_domain::model::OrgKind>,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    /// The password was right but the second factor is still to come: the
    /// session reaches only the MFA pages and sign-out.
    pub mfa_pending: bool,
}

const USER_COLUMNS: &str =
    "id, tenant_id, organisation_id, team_id, email, display_name, profession, roles, active, password_hash";

impl Db {
    pub async fn create_user(&self, u: &NewUser) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (tenant_id, organisation_id, team_id, email, display_name, profession, roles, password_hash, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {USER_COLUMNS}"
        );
        let r = on_pool!(self, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(u.tenant_id)
            .bind(u.organisation_id)
            .bind(u.team_id)
            .bind(u.email.trim().to_lowercase())
            .bind(&u.display_name)
            .bind(u.profession.code())
            .bind(roles_to_text(&u.roles))
            .bind(&u.password_hash)
            .bind(crate::now_ms())
            .fetch_one(p)
            .await)?;
        Ok(r.into())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let r = on_pool!(self, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(p)
            .await)?;
        Ok(r.map(Into::into))
    }

    pub async fn user(&self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let r = on_read!(self, |p| sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_one(p).await)?;
        Ok(r.into())
    }

    pub async fn users(&self, tenant_id: i64) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY display_name");
        let rows = on_read!(self, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(tenant_id)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Disabling a user also ends every session they have.
    pub async fn set_user_active(&self, user_id: i64, active: bool) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE id = $2"
        )
        .bind(hash)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A new session; `mfa_pending` when the user still owes a second factor.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        mfa_pending: bool,
    ) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at_ms, last_seen_ms, mfa_pending) VALUES ($1, $2, $3, $4, $4, $5)"
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(mfa_pending)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The session and its user, if the session exists and the user is active.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(Session, User)>> {
        let sql = format!(
            "SELECT s.user_id, s.csrf_token, s.created_at_ms, s.last_seen_ms, s.mfa_pending, o.name AS organisation_name, o.kind AS organisation_kind, {}
             FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.organisation_id
             WHERE s.token_hash = $1 AND u.active = TRUE",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
            csrf_token: String,
            created_at_ms: i64,
            last_seen_ms: i64,
            mfa_pending: bool,
            organisation_name: String,
            organisation_kind: String,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let r = on_pool!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        Ok(r.map(|r| {
            (
                Session {
                    user_id: r.user_id,
                    organisation_name: r.organisation_name,
                    organisation_kind: kindred_domain::model::OrgKind::parse(&r.organisation_kind),
                    csrf_token: r.csrf_token,
                    created_at_ms: r.created_at_ms,
                    last_seen_ms: r.last_seen_ms,
                    mfa_pending: r.mfa_pending,
                },
                r.user.into(),
            )
        }))
    }

    /// The second factor was given: the pending session `old_hash` becomes a
    /// full one under a new token and CSRF token (a change of privilege gets
    /// a new session id). False when there was no such pending session.
    pub async fn complete_session_mfa(&self, old_hash: &str, new_hash: &str, new_csrf: &str) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE sessions SET token_hash = $1, csrf_token = $2, mfa_pending = FALSE, last_seen_ms = $3
             WHERE token_hash = $4 AND mfa_pending = TRUE"
        )
        .bind(new_hash)
        .bind(new_csrf)
        .bind(crate::now_ms())
        .bind(old_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn touch_session(&self, token_hash: &str, at_ms: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2"
        )
        .bind(at_ms)
        .bind(token_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn record_login_failure(&self, key_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO login_failures (key_hash, at_ms) VALUES ($1, $2)"
        )
        .bind(key_hash)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn login_failures_since(&self, key_hash: &str, since_ms: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM login_failures WHERE key_hash = $1 AND at_ms >= $2"
        )
        .bind(key_hash)
        .bind(since_ms)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    pub async fn clear_login_failures(&self, key_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query("DELETE FROM login_failures WHERE key_hash = $1")
            .bind(key_hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
