//! Contacts and case notes: when, how, who was present, what was said, and
//! who may read it. This module returns note text to its caller; the web's
//! one door (`web::access`) decides, note by note, whether it is shown.

use time::Date;

use crate::BeginWrite;
use crate::families::Actor;
use crate::{Db, Result, on_pool, on_read};

/// A contact to record.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub tenant_id: i64,
    pub family_id: i64,
    pub organisation_id: i64,
    pub author_user_id: i64,
    pub occurred_on: Date,
    pub mode: &'static str,
    pub visibility: &'static str,
    pub body: String,
    /// The family members present.
    pub people: Vec<i64>,
    /// For a sensitive note: who besides the author may read it.
    pub readers: Vec<i64>,
}

/// Contacts with a family by one organisation over a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactCount {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub contacts: i64,
    pub last: Option<Date>,
}

/// A recorded contact, with its note text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub occurred_on: Date,
    pub mode: String,
    pub visibility: String,
    pub body: String,
    pub author_user_id: i64,
    pub author_name: String,
    pub author_profession: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    /// Names of the family members present.
    #[sqlx(skip)]
    pub present: Vec<String>,
    /// Who besides the author may read a sensitive note.
    #[sqlx(skip)]
    pub readers: Vec<i64>,
}

/// Inserts a contact with who was present and who may read it, inside the
/// open transaction `$tx`; evaluates to its id.
macro_rules! insert_contact {
    ($tx:ident, $contact:expr) => {{
        let c: &NewContact = $contact;
        let (id,): (i64,) = sqlx::query_as(&format!(
            "INSERT INTO contacts (tenant_id, family_id, organisation_id, author_user_id, occurred_on, mode, visibility, body, created_at_ms, hub_site_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {}) RETURNING id",
            // Issue 7 (reports): the family's hub when the contact is recorded.
            crate::reports::family_hub_sql("$2", "$1")
        ))
        .bind(c.tenant_id)
        .bind(c.family_id)
        .bind(c.organisation_id)
        .bind(c.author_user_id)
        .bind(c.occurred_on)
        .bind(c.mode)
        .bind(c.visibility)
        .bind(&c.body)
        .bind(crate::now_ms())
        .fetch_one(&mut *$tx)
        .await?;
        for person in &c.people {
            sqlx::query("INSERT INTO contact_people (contact_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(person)
                .execute(&mut *$tx)
                .await?;
        }
        for user in &c.readers {
            sqlx::query("INSERT INTO contact_readers (contact_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(user)
                .execute(&mut *$tx)
                .await?;
        }
        id
    }};
}

/// A pathway stage a contact completes, e.g. the health visitor's new birth visit.
#[derive(Debug, Clone, Copy)]
pub struct StageDone<'a> {
    pub person_id: i64,
    pub stage: &'a str,
}

impl Db {
    /// Records a contact, with who was present and who may read it, in one transaction.
    pub async fn add_contact(&self, c: &NewContact) -> Result<i64> {
        Ok(on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let id = insert_contact!(tx, c);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?)
    }

    /// Records a contact as a practitioner does: the note, the pathway stage
    /// it completes (if any), the family's "last changed", and the audit
    /// event, all in one transaction.
    pub async fn record_contact(
        &self,
        c: &NewContact,
        stage: Option<StageDone<'_>>,
        actor: &Actor,
        detail: String,
    ) -> Result<i64> {
        let now = crate::now_ms();
        Ok(on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let id = insert_contact!(tx, c);
            if let Some(s) = stage {
                crate::pathway::insert_completion!(
                    tx,
                    s.person_id,
                    s.stage,
                    c.occurred_on,
                    Some(id),
                    None,
                    Some(actor.user_id)
                );
            }
            sqlx::query("UPDATE families SET updated_at_ms = $1 WHERE id = $2")
                .bind(now)
                .bind(c.family_id)
                .execute(&mut *tx)
                .await?;
            let event = actor.created("contact", id, c.family_id, detail);
            crate::audit::append_events!(tx, &[&event]);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?)
    }

    /// Contacts with the family per organisation since a date: "who is involved" counts.
    pub async fn contact_counts(&self, family_id: i64, since: Date) -> Result<Vec<ContactCount>> {
        Ok(on_read!(self, |p| sqlx::query_as(
            "SELECT c.organisation_id, o.name AS organisation_name, COUNT(*) AS contacts, MAX(c.occurred_on) AS last
             FROM contacts c JOIN organisations o ON o.id = c.organisation_id
             WHERE c.family_id = $1 AND c.occurred_on >= $2 GROUP BY c.organisation_id, o.name ORDER BY o.name"
        )
        .bind(family_id)
        .bind(since)
        .fetch_all(p)
        .await)?)
    }

    /// A page of the family's contacts, newest first, and how many there are.
    pub async fn contacts_of_family(&self, family_id: i64, limit: i64, offset: i64) -> Result<(Vec<Contact>, i64)> {
        let mut rows: Vec<Contact> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT c.id, c.occurred_on, c.mode, c.visibility, c.body, c.author_user_id, u.display_name AS author_name,
               u.profession AS author_profession, c.organisation_id, o.name AS organisation_name
             FROM contacts c JOIN users u ON u.id = c.author_user_id JOIN organisations o ON o.id = c.organisation_id
             WHERE c.family_id = $1 ORDER BY c.occurred_on DESC, c.id DESC LIMIT $2 OFFSET $3"
        )
        .bind(family_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await
        })?;
        let (total,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM contacts WHERE family_id = $1"
        )
        .bind(family_id)
        .fetch_one(p)
        .await)?;
        if rows.is_empty() {
            return Ok((rows, total));
        }
        // Ids are i64 read from the database: safe to inline.
        let list = rows.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(",");
        let present: Vec<(i64, String, String)> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT cp.contact_id, p.given_name, p.family_name FROM contact_people cp
             JOIN persons p ON p.id = cp.person_id WHERE cp.contact_id IN ({list}) ORDER BY cp.contact_id, p.id"
        ))
        .fetch_all(p)
        .await)?;
        let readers: Vec<(i64, i64)> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT contact_id, user_id FROM contact_readers WHERE contact_id IN ({list})"
        ))
        .fetch_all(p)
        .await)?;
        for r in &mut rows {
            r.present = present
                .iter()
                .filter(|x| x.0 == r.id)
                .map(|x| format!("{} {}", x.1, x.2))
                .collect();
            r.readers = readers.iter().filter(|x| x.0 == r.id).map(|x| x.1).collect();
        }
        Ok((rows, total))
    }

    /// How many different workers are active with a family: in its team now,
    /// or recording a contact since `since`. Many at once is the "seagull effect".
    pub async fn active_professionals(&self, family_id: i64, since: Date) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM (
               SELECT user_id FROM team_members WHERE family_id = $1 AND until_date IS NULL
               UNION SELECT author_user_id FROM contacts WHERE family_id = $1 AND occurred_on >= $2) workers"
        )
        .bind(family_id)
        .bind(since)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }
}
