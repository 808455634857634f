//! Bulk loading with explicit ids, for synthetic data and large feeds: rows
//! go in as multi-row INSERTs inside one transaction per batch.

use sqlx::QueryBuilder;
use time::Date;

use crate::{Backend, Db, Result, on_pool};

#[derive(Clone)]
pub struct PersonRow {
    pub id: i64,
    pub tenant_id: i64,
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub sex: &'static str,
    pub nhs_number: Option<String>,
    pub upn: Option<String>,
    pub language: Option<String>,
    pub interpreter_needed: bool,
    pub send: bool,
}

#[derive(Clone)]
pub struct AddressRow {
    pub person_id: i64,
    pub line1: String,
    pub town: String,
    pub postcode: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
}

#[derive(Clone)]
pub struct FamilyRow {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub lead_user_id: Option<i64>,
}

/// One batch of rows. Ids of persons and families are chosen by the caller.
#[derive(Default)]
pub struct Batch {
    pub persons: Vec<PersonRow>,
    pub addresses: Vec<AddressRow>,
    pub families: Vec<FamilyRow>,
    /// (family, person, role code, joined)
    pub members: Vec<(i64, i64, &'static str, Date)>,
    /// (from person, to person, kind code)
    pub relationships: Vec<(i64, i64, &'static str)>,
    /// (family, user, since)
    pub team: Vec<(i64, i64, Date)>,
    /// (family, user, from_ms)
    pub leads: Vec<(i64, i64, i64)>,
    /// (family, organisation, service, started, ended)
    pub involvements: Vec<(i64, i64, String, Date, Option<Date>)>,
    /// (tenant, family, reference, received ms, due ms)
    pub open_referrals: Vec<(i64, i64, String, i64, i64)>,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.persons.len()
            + self.addresses.len()
            + self.families.len()
            + self.members.len()
            + self.relationships.len()
            + self.team.len()
            + self.leads.len()
            + self.involvements.len()
            + self.open_referrals.len()
    }
}

/// Rows per INSERT statement: under SQLite's 32,766 bound-parameter limit.
const CHUNK: usize = 500;

impl Db {
    /// The highest person and family ids in use, so a loader can continue after them.
    pub async fn max_ids(&self) -> Result<(i64, i64)> {
        let (p,): (Option<i64>,) = on_pool!(self, |p| sqlx::query_as("SELECT MAX(id) FROM persons")
            .fetch_one(p)
            .await)?;
        let (f,): (Option<i64>,) = on_pool!(self, |p| sqlx::query_as("SELECT MAX(id) FROM families")
            .fetch_one(p)
            .await)?;
        Ok((p.unwrap_or(0), f.unwrap_or(0)))
    }

    pub async fn family_count(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM families")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    /// Inserts the batch in one transaction: all of it lands, or none.
    pub async fn bulk_insert(&self, b: &Batch) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p, DB| {
            let mut tx = p.begin().await?;
            for chunk in b.families.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO families (id, tenant_id, name, lead_user_id, created_at_ms, updated_at_ms) ",
                );
                q.push_values(chunk, |mut r, f| {
                    r.push_bind(f.id)
                        .push_bind(f.tenant_id)
                        .push_bind(f.name.clone())
                        .push_bind(f.lead_user_id);
                    r.push_bind(now).push_bind(now - f.id);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.persons.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO persons (id, tenant_id, given_name, family_name, preferred_name, given_norm, family_norm, given_phon,
                       family_phon, date_of_birth, expected_delivery, sex, nhs_number, upn, language, interpreter_needed, send,
                       created_at_ms, updated_at_ms) ",
                );
                q.push_values(chunk, |mut r, p| {
                    let (gn, fnorm, gp, fp) = crate::persons::name_keys(&p.given_name, &p.family_name);
                    r.push_bind(p.id)
                        .push_bind(p.tenant_id)
                        .push_bind(p.given_name.clone())
                        .push_bind(p.family_name.clone());
                    r.push_bind(p.preferred_name.clone())
                        .push_bind(gn)
                        .push_bind(fnorm)
                        .push_bind(gp)
                        .push_bind(fp);
                    r.push_bind(p.date_of_birth)
                        .push_bind(p.expected_delivery)
                        .push_bind(p.sex);
                    r.push_bind(p.nhs_number.clone())
                        .push_bind(p.upn.clone())
                        .push_bind(p.language.clone());
                    r.push_bind(p.interpreter_needed)
                        .push_bind(p.send)
                        .push_bind(now)
                        .push_bind(now);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.addresses.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO addresses (person_id, line1, town, postcode, from_date, to_date) ",
                );
                q.push_values(chunk, |mut r, a| {
                    r.push_bind(a.person_id)
                        .push_bind(a.line1.clone())
                        .push_bind(a.town.clone());
                    r.push_bind(a.postcode.clone())
                        .push_bind(a.from_date)
                        .push_bind(a.to_date);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.members.chunks(CHUNK) {
                let mut q =
                    QueryBuilder::<DB>::new("INSERT INTO family_members (family_id, person_id, role, joined_on) ");
                q.push_values(chunk, |mut r, m| {
                    r.push_bind(m.0).push_bind(m.1).push_bind(m.2).push_bind(m.3);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.relationships.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO relationships (from_person_id, to_person_id, kind) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0).push_bind(x.1).push_bind(x.2);
                });
                q.push(" ON CONFLICT (from_person_id, to_person_id, kind) DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.team.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO team_members (family_id, user_id, since) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0).push_bind(x.1).push_bind(x.2);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.leads.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO lead_history (family_id, user_id, from_ms) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0).push_bind(x.1).push_bind(x.2);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.involvements.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO involvements (family_id, organisation_id, service, started_on, ended_on) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0)
                        .push_bind(x.1)
                        .push_bind(x.2.clone())
                        .push_bind(x.3)
                        .push_bind(x.4);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.open_referrals.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO referrals (tenant_id, family_id, reference, route, status, received_at_ms, due_at_ms) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0)
                        .push_bind(x.1)
                        .push_bind(x.2.clone())
                        .push_bind("professional")
                        .push_bind("open")
                        .push_bind(x.3)
                        .push_bind(x.4);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// After loading rows with explicit ids, moves PostgreSQL's identity
    /// sequences past them (SQLite needs nothing).
    pub async fn reset_id_sequences(&self) -> Result<()> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        for table in [
            "persons",
            "families",
            "addresses",
            "family_members",
            "relationships",
            "team_members",
            "lead_history",
            "involvements",
            "referrals",
        ] {
            on_pool!(self, |p| {
                sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Refreshes the planner's statistics after a large load.
    pub async fn analyze(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("ANALYZE")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
