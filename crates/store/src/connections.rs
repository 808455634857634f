//! Connecting a family to a service (F17): a practitioner's request to the
//! organisation that runs a directory service, the family members it
//! concerns, the consent given, and each change of status with who made it.
//! This is case content: callers read it only after the access policy
//! (`access::connection`) allows.

use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, on_pool, on_read};

#[derive(Debug, Clone)]
pub struct NewConnection {
    pub tenant_id: i64,
    pub family_id: i64,
    pub service_id: i64,
    pub receiving_organisation_id: i64,
    pub sender_user_id: i64,
    pub sender_organisation_id: i64,
    pub request_text: String,
    pub person_ids: Vec<i64>,
    /// The family member who gave consent.
    pub consent_person_id: i64,
    pub consent_on: Date,
    /// `domain::directory::ConsentHow` code.
    pub consent_how: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Connection {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub family_name: String,
    pub service_id: i64,
    pub service_uuid: String,
    pub service_name: String,
    pub receiving_organisation_id: i64,
    pub receiving_organisation_name: String,
    pub sender_user_id: i64,
    pub sender_name: String,
    pub sender_email: String,
    pub sender_organisation_id: i64,
    pub sender_organisation_name: String,
    pub request_text: String,
    pub consent_person_id: i64,
    pub consent_person_name: String,
    pub consent_on: Date,
    pub consent_how: String,
    pub status: String,
    pub decline_reason: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One change of a request's status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionEvent {
    pub id: i64,
    pub status: String,
    pub at_ms: i64,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub organisation_name: Option<String>,
    pub reason: Option<String>,
}

/// A request in a list: no text, no names of the family's members.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionRow {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub service_name: String,
    pub receiving_organisation_id: i64,
    pub receiving_organisation_name: String,
    pub sender_user_id: i64,
    pub sender_name: String,
    pub sender_organisation_id: i64,
    pub sender_organisation_name: String,
    pub status: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const CONNECTION_COLUMNS: &str = "c.id, c.tenant_id, c.family_id, f.name AS family_name, c.service_id,
    s.uuid AS service_uuid, s.name AS service_name, c.receiving_organisation_id, ro.name AS receiving_organisation_name,
    c.sender_user_id, u.display_name AS sender_name, u.email AS sender_email, c.sender_organisation_id,
    so.name AS sender_organisation_name, c.request_text, c.consent_person_id,
    cp.given_name || ' ' || cp.family_name AS consent_person_name, c.consent_on, c.consent_how, c.status,
    c.decline_reason, c.created_at_ms, c.updated_at_ms";
const CONNECTION_FROM: &str = "connection_requests c JOIN families f ON f.id = c.family_id
    JOIN dir_services s ON s.id = c.service_id JOIN organisations ro ON ro.id = c.receiving_organisation_id
    JOIN users u ON u.id = c.sender_user_id JOIN organisations so ON so.id = c.sender_organisation_id
    JOIN persons cp ON cp.id = c.consent_person_id";
const ROW_COLUMNS: &str = "c.id, c.tenant_id, c.family_id, s.name AS service_name, c.receiving_organisation_id,
    ro.name AS receiving_organisation_name, c.sender_user_id, u.display_name AS sender_name, c.sender_organisation_id,
    so.name AS sender_organisation_name, c.status, c.created_at_ms, c.updated_at_ms";
const ROW_FROM: &str = "connection_requests c JOIN dir_services s ON s.id = c.service_id
    JOIN organisations ro ON ro.id = c.receiving_organisation_id JOIN users u ON u.id = c.sender_user_id
    JOIN organisations so ON so.id = c.sender_organisation_id";

impl Db {
    /// Records a request (status sent) with its people and its first event; its id.
    pub async fn create_connection(&self, n: &NewConnection) -> Result<i64> {
        let now = crate::now_ms();
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO connection_requests (tenant_id, family_id, service_id, receiving_organisation_id,
                   sender_user_id, sender_organisation_id, request_text, consent_person_id, consent_on, consent_how,
                   status, created_at_ms, updated_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'sent', $11, $11) RETURNING id",
            )
            .bind(n.tenant_id)
            .bind(n.family_id)
            .bind(n.service_id)
            .bind(n.receiving_organisation_id)
            .bind(n.sender_user_id)
            .bind(n.sender_organisation_id)
            .bind(n.request_text.trim())
            .bind(n.consent_person_id)
            .bind(n.consent_on)
            .bind(&n.consent_how)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let mut people = n.person_ids.clone();
            people.sort();
            people.dedup();
            for person in people {
                sqlx::query("INSERT INTO connection_people (connection_id, person_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(person)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO connection_events (connection_id, status, at_ms, user_id) VALUES ($1, 'sent', $2, $3)",
            )
            .bind(id)
            .bind(now)
            .bind(n.sender_user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await.map(|_| id)
        })?;
        Ok(id)
    }

    pub async fn connection(&self, id: i64) -> Result<Option<Connection>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM {CONNECTION_FROM} WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// The family members a request concerns: (person id, name), by name.
    pub async fn connection_people(&self, id: i64) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT pe.id, pe.given_name || ' ' || pe.family_name FROM connection_people cp
             JOIN persons pe ON pe.id = cp.person_id WHERE cp.connection_id = $1 ORDER BY pe.given_name, pe.id"
        )
        .bind(id)
        .fetch_all(p)
        .await)?)
    }

    /// A request's history, oldest first.
    pub async fn connection_events(&self, id: i64) -> Result<Vec<ConnectionEvent>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT e.id, e.status, e.at_ms, e.user_id, u.display_name AS user_name, o.name AS organisation_name, e.reason
             FROM connection_events e LEFT JOIN users u ON u.id = e.user_id
             LEFT JOIN organisations o ON o.id = u.organisation_id
             WHERE e.connection_id = $1 ORDER BY e.at_ms, e.id"
        )
        .bind(id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Moves a request from `from` to `to` and records the event, in one
    /// transaction; false when it was no longer in `from` (someone else got
    /// there first). Accepting records the receiving organisation's
    /// involvement with the family (`service`, from `on`), which is what
    /// gives its workers the family under the access policy.
    pub async fn set_connection_status(
        &self,
        id: i64,
        from: &str,
        to: &str,
        by_user_id: i64,
        reason: Option<&str>,
        on: Date,
    ) -> Result<bool> {
        let now = crate::now_ms();
        let changed = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query(
                "UPDATE connection_requests SET status = $3, updated_at_ms = $4,
                   decline_reason = COALESCE($5, decline_reason) WHERE id = $1 AND status = $2",
            )
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(now)
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "INSERT INTO connection_events (connection_id, status, at_ms, user_id, reason) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(to)
                .bind(now)
                .bind(by_user_id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                if to == "accepted" {
                    sqlx::query(
                        "INSERT INTO involvements (family_id, organisation_id, service, started_on)
                         SELECT c.family_id, c.receiving_organisation_id, s.name, $2
                         FROM connection_requests c JOIN dir_services s ON s.id = c.service_id WHERE c.id = $1",
                    )
                    .bind(id)
                    .bind(on)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await.map(|_| n == 1)
        })?;
        Ok(changed)
    }

    /// Requests to an organisation, newest first; of one status when given.
    pub async fn connection_inbox(&self, organisation_id: i64, status: Option<&str>) -> Result<Vec<ConnectionRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE c.receiving_organisation_id = $1 AND ($2 = '' OR c.status = $2)
             ORDER BY c.created_at_ms DESC, c.id DESC"
        ))
        .bind(organisation_id)
        .bind(status.unwrap_or(""))
        .fetch_all(p)
        .await)?)
    }

    /// Requests sent by an organisation's workers, newest first.
    pub async fn connections_sent(&self, organisation_id: i64) -> Result<Vec<ConnectionRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE c.sender_organisation_id = $1
             ORDER BY c.created_at_ms DESC, c.id DESC"
        ))
        .bind(organisation_id)
        .fetch_all(p)
        .await)?)
    }

    /// Requests about a family, newest first.
    pub async fn connections_of_family(&self, family_id: i64) -> Result<Vec<ConnectionRow>> {
        Ok(on_read!(self, |p| sqlx::query_as(&format!(
            "SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE c.family_id = $1 ORDER BY c.created_at_ms DESC, c.id DESC"
        ))
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// A notification about a connection request, linking to it.
    pub async fn notify_connection(&self, user_id: i64, connection_id: i64, message: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO notifications (user_id, at_ms, connection_id, message) VALUES ($1, $2, $3, $4)"
        )
        .bind(user_id)
        .bind(crate::now_ms())
        .bind(connection_id)
        .bind(message)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The active users of an organisation with a case role (practitioner or
    /// manager), who receive its connection requests: (id, email).
    pub async fn connection_recipients(&self, organisation_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT u.id, u.email FROM users u WHERE u.organisation_id = $1 AND u.active
               AND (',' || u.roles || ',' LIKE '%,practitioner,%' OR ',' || u.roles || ',' LIKE '%,manager,%')
             ORDER BY u.id"
        )
        .bind(organisation_id)
        .fetch_all(p)
        .await)?)
    }
}
