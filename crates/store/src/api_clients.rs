//! Partner systems (OAuth2 clients) and the access tokens issued to them.
//! Hashing and random generation happen in the web layer; this module stores
//! their results. Each system has its own row in `users`, which can never
//! sign in (its password hash is not a hash), so audit events and the access
//! policy name it like any other actor.

use kindred_domain::model::Role;

use crate::BeginWrite;
use crate::users::{NewUser, User};
use crate::{Db, Result, on_pool};

/// What the hash column holds for a system's account: no password matches it.
pub const NO_PASSWORD: &str = "!partner-system";

/// The domain of every system account's email-shaped identifier (`.invalid` never routes).
pub const SYSTEM_EMAIL_DOMAIN: &str = "@partner-systems.invalid";

/// The email-shaped identifier of a system's account.
pub fn system_email(client_id: &str) -> String {
    format!("{}{SYSTEM_EMAIL_DOMAIN}", client_id.to_lowercase())
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub user_id: i64,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub created_at_ms: i64,
    pub last_used_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: i64,
    tenant_id: i64,
    organisation_id: i64,
    organisation_name: String,
    user_id: i64,
    name: String,
    client_id: String,
    active: bool,
    created_at_ms: i64,
    last_used_ms: Option<i64>,
}

impl From<ClientRow> for ApiClient {
    fn from(r: ClientRow) -> Self {
        ApiClient {
            id: r.id,
            tenant_id: r.tenant_id,
            organisation_id: r.organisation_id,
            organisation_name: r.organisation_name,
            user_id: r.user_id,
            name: r.name,
            client_id: r.client_id,
            active: r.active,
            created_at_ms: r.created_at_ms,
            last_used_ms: r.last_used_ms,
        }
    }
}

const CLIENT_COLUMNS: &str = "c.id, c.tenant_id, c.organisation_id, o.name AS organisation_name, c.user_id, c.name, \
     c.client_id, c.active, c.created_at_ms, c.last_used_ms";

#[derive(Debug, Clone)]
pub struct NewApiClient {
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_hash: String,
    /// The system's account: its profession and roles for the access policy.
    pub profession: kindred_domain::model::Profession,
    pub roles: Vec<Role>,
    pub created_by_user_id: Option<i64>,
}

/// A valid access token's holder, as the bearer-token check needs it.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub client: ApiClient,
    pub user: User,
    pub organisation_kind: Option<kindred_domain::model::OrgKind>,
    pub scope: String,
}

impl Db {
    /// Registers a system and its account (the account first: a failure leaves
    /// an account no token can reach).
    pub async fn create_api_client(&self, c: &NewApiClient) -> Result<ApiClient> {
        let now = crate::now_ms();
        let user = self
            .create_user(&NewUser {
                tenant_id: c.tenant_id,
                organisation_id: c.organisation_id,
                team_id: None,
                email: system_email(&c.client_id),
                display_name: format!("{} (partner system)", c.name),
                profession: c.profession,
                roles: c.roles.clone(),
                password_hash: NO_PASSWORD.into(),
            })
            .await?;
        let id: i64 = on_pool!(self, |p| {
            sqlx::query_scalar(
            "INSERT INTO api_clients (tenant_id, organisation_id, user_id, name, client_id, secret_hash, active, created_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8) RETURNING id"
        )
        .bind(c.tenant_id)
        .bind(c.organisation_id)
        .bind(user.id)
        .bind(&c.name)
        .bind(&c.client_id)
        .bind(&c.secret_hash)
        .bind(c.created_by_user_id)
        .bind(now)
        .fetch_one(p)
        .await
        })?;
        self.api_client(id).await
    }

    pub async fn api_client(&self, id: i64) -> Result<ApiClient> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM api_clients c JOIN organisations o ON o.id = c.organisation_id WHERE c.id = $1"
        );
        let r = on_pool!(self, |p| sqlx::query_as::<_, ClientRow>(&sql)
            .bind(id)
            .fetch_one(p)
            .await)?;
        Ok(r.into())
    }

    /// The systems of a tenant, newest first.
    pub async fn api_clients(&self, tenant_id: i64) -> Result<Vec<ApiClient>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM api_clients c JOIN organisations o ON o.id = c.organisation_id
             WHERE c.tenant_id = $1 ORDER BY c.id DESC"
        );
        let rows = on_pool!(self, |p| sqlx::query_as::<_, ClientRow>(&sql)
            .bind(tenant_id)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// A system by its `client_id`, with the stored hash of its secret.
    pub async fn api_client_secret(&self, client_id: &str) -> Result<Option<(ApiClient, String)>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS}, c.secret_hash FROM api_clients c JOIN organisations o ON o.id = c.organisation_id
             WHERE c.client_id = $1"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            c: ClientRow,
            secret_hash: String,
        }
        let r = on_pool!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(client_id)
            .fetch_optional(p)
            .await)?;
        Ok(r.map(|r| (r.c.into(), r.secret_hash)))
    }

    /// Disabling a system revokes every token it holds and deactivates its
    /// account (so the policy refuses it even with a token in flight).
    pub async fn set_api_client_active(&self, id: i64, active: bool) -> Result<()> {
        let c = self.api_client(id).await?;
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE api_clients SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(c.user_id)
                .execute(&mut *tx)
                .await?;
            if !active {
                sqlx::query("DELETE FROM api_tokens WHERE api_client_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn create_api_token(&self, token_hash: &str, api_client_id: i64, scope: &str, ttl_ms: i64) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            // Expired tokens of this client go as a new one comes.
            sqlx::query("DELETE FROM api_tokens WHERE api_client_id = $1 AND expires_at_ms <= $2")
                .bind(api_client_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, api_client_id, scope, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(api_client_id)
            .bind(scope)
            .bind(now)
            .bind(now + ttl_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE api_clients SET last_used_ms = $1 WHERE id = $2")
                .bind(now)
                .bind(api_client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// The holder of an unexpired token of an active system, or `None`.
    pub async fn api_token_holder(&self, token_hash: &str) -> Result<Option<TokenHolder>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS}, t.scope, o.kind AS organisation_kind FROM api_tokens t
             JOIN api_clients c ON c.id = t.api_client_id
             JOIN organisations o ON o.id = c.organisation_id
             WHERE t.token_hash = $1 AND t.expires_at_ms > $2 AND c.active = TRUE"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            c: ClientRow,
            scope: String,
            organisation_kind: String,
        }
        let now = crate::now_ms();
        let r = on_pool!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        let Some(r) = r else { return Ok(None) };
        let client: ApiClient = r.c.into();
        let user = self.user(client.user_id).await?;
        // Last use, to the minute: a write per call would serialise reads on SQLite.
        if client.last_used_ms.is_none_or(|t| now - t > 60_000) {
            on_pool!(self, |p| sqlx::query(
                "UPDATE api_clients SET last_used_ms = $1 WHERE id = $2"
            )
            .bind(now)
            .bind(client.id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(Some(TokenHolder {
            client,
            user,
            organisation_kind: kindred_domain::model::OrgKind::parse(&r.organisation_kind),
            scope: r.scope,
        }))
    }

    /// Ends a token early (tests, and a system that asks to forget one).
    pub async fn revoke_api_token(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether a user id is a partner system's account.
    pub async fn is_system_user(&self, user_id: i64) -> Result<bool> {
        let n: i64 = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_clients WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_one(p)
        .await)?;
        Ok(n > 0)
    }
}
