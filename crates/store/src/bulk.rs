//! Bulk loading with explicit ids, for synthetic data and large feeds: rows
//! go in as multi-row INSERTs inside one transaction per batch.

use sqlx::QueryBuilder;
use time::Date;

use crate::BeginWrite;
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
    pub referrals: Vec<ReferralRow>,
    /// (referral, need code)
    pub referral_needs: Vec<(i64, &'static str)>,
    pub referral_people: Vec<ReferralPersonRow>,
    /// (referral, at ms, user, kind, detail)
    pub referral_events: Vec<(i64, i64, Option<i64>, &'static str, String)>,
    pub contacts: Vec<ContactRow>,
    /// (contact, person)
    pub contact_people: Vec<(i64, i64)>,
    pub episodes: Vec<EpisodeRow>,
    pub episode_events: Vec<EpisodeEventRow>,
    pub flags: Vec<FlagRow>,
    pub tasks: Vec<TaskRow>,
}

/// A referral with an explicit id: open in the queue, or decided.
#[derive(Clone)]
pub struct ReferralRow {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: Option<i64>,
    pub reference: String,
    pub route: &'static str,
    pub urgency: &'static str,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub hub_site_id: Option<i64>,
    pub referrer_user_id: Option<i64>,
    pub referrer_organisation_id: Option<i64>,
    pub referrer_name: String,
    pub referrer_role: String,
    pub summary: String,
    /// Who agreed to the referral being shared (empty: nobody yet).
    pub consent_by: String,
    pub consent_on: Option<Date>,
    pub claimed_by_user_id: Option<i64>,
    pub decision: Option<DecisionRow>,
}

#[derive(Clone)]
pub struct DecisionRow {
    pub at_ms: i64,
    pub by_user_id: i64,
    pub level: &'static str,
    pub outcome: &'static str,
    pub rationale: String,
    pub lead_user_id: Option<i64>,
}

/// A person on a referral: linked to a known person, or as given until triage links them.
#[derive(Clone)]
pub struct ReferralPersonRow {
    pub referral_id: i64,
    pub person_id: Option<i64>,
    pub role: &'static str,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub sex: &'static str,
    pub nhs_number: Option<String>,
    pub postcode: Option<String>,
    pub address_line: Option<String>,
}

#[derive(Clone)]
pub struct ContactRow {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub organisation_id: i64,
    pub author_user_id: i64,
    pub occurred_on: Date,
    pub mode: &'static str,
    pub visibility: &'static str,
    pub body: String,
}

#[derive(Clone)]
pub struct EpisodeRow {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub referral_id: Option<i64>,
    pub lead_user_id: Option<i64>,
    pub level: &'static str,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    pub close_reason: Option<&'static str>,
    /// `domain::episode::Stage` code: `closure` when closed.
    pub stage: &'static str,
    /// `domain::episode::Outcome` code, when closed.
    pub outcome: Option<&'static str>,
}

/// A line of an episode's timeline.
#[derive(Clone)]
pub struct EpisodeEventRow {
    pub episode_id: i64,
    pub at_ms: i64,
    pub by_user_id: Option<i64>,
    pub kind: &'static str,
    pub from_value: Option<&'static str>,
    pub to_value: Option<&'static str>,
    pub detail: String,
}

#[derive(Clone)]
pub struct TaskRow {
    pub tenant_id: i64,
    pub kind: &'static str,
    pub family_id: Option<i64>,
    pub episode_id: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub assigned_team_id: Option<i64>,
    pub title: String,
    pub due_on: Date,
    pub done: bool,
    pub created_at_ms: i64,
}

#[derive(Clone)]
pub struct FlagRow {
    pub tenant_id: i64,
    pub family_id: i64,
    pub person_id: Option<i64>,
    pub kind: &'static str,
    pub description: String,
    pub raised_by_user_id: Option<i64>,
    pub raised_on: Date,
    pub ended_on: Option<Date>,
}

/// The highest ids in use, so a loader can continue after them.
#[derive(Debug, Clone, Copy, Default)]
pub struct MaxIds {
    pub person: i64,
    pub family: i64,
    pub referral: i64,
    pub contact: i64,
    pub episode: i64,
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
            + self.referrals.len()
            + self.referral_needs.len()
            + self.referral_people.len()
            + self.referral_events.len()
            + self.contacts.len()
            + self.contact_people.len()
            + self.episodes.len()
            + self.episode_events.len()
            + self.flags.len()
            + self.tasks.len()
    }
}

/// Rows per INSERT statement: under SQLite's 32,766 bound-parameter limit.
const CHUNK: usize = 500;

impl Db {
    /// The highest ids in use of the tables a loader gives ids to.
    pub async fn max_ids(&self) -> Result<MaxIds> {
        #[allow(clippy::type_complexity)]
        let (person, family, referral, contact, episode): (
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        ) = on_pool!(self, |p| sqlx::query_as(
            "SELECT (SELECT MAX(id) FROM persons), (SELECT MAX(id) FROM families),
                    (SELECT MAX(id) FROM referrals), (SELECT MAX(id) FROM contacts), (SELECT MAX(id) FROM episodes)"
        )
        .fetch_one(p)
        .await)?;
        Ok(MaxIds {
            person: person.unwrap_or(0),
            family: family.unwrap_or(0),
            referral: referral.unwrap_or(0),
            contact: contact.unwrap_or(0),
            episode: episode.unwrap_or(0),
        })
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
            let mut tx = p.begin_write().await?;
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
            for chunk in b.referrals.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO referrals (id, tenant_id, family_id, reference, route, status, urgency, received_at_ms,
                       due_at_ms, hub_site_id, referrer_user_id, referrer_organisation_id, referrer_name, referrer_role,
                       summary, family_aware, consent_given, consent_by, consent_on, consent_scope, decided_at_ms,
                       decided_by_user_id, level, outcome, rationale, outcome_detail, lead_user_id, claimed_by_user_id) ",
                );
                q.push_values(chunk, |mut r, x| {
                    let d = x.decision.as_ref();
                    r.push_bind(x.id)
                        .push_bind(x.tenant_id)
                        .push_bind(x.family_id)
                        .push_bind(x.reference.clone());
                    r.push_bind(x.route)
                        .push_bind(if d.is_some() { "decided" } else { "open" })
                        .push_bind(x.urgency)
                        .push_bind(x.received_at_ms);
                    r.push_bind(x.due_at_ms)
                        .push_bind(x.hub_site_id)
                        .push_bind(x.referrer_user_id)
                        .push_bind(x.referrer_organisation_id);
                    r.push_bind(x.referrer_name.clone())
                        .push_bind(x.referrer_role.clone())
                        .push_bind(x.summary.clone())
                        .push_bind(!x.consent_by.is_empty());
                    r.push_bind(!x.consent_by.is_empty())
                        .push_bind(x.consent_by.clone())
                        .push_bind(x.consent_on)
                        .push_bind(if x.consent_by.is_empty() {
                            ""
                        } else {
                            "Partners in the early help partnership"
                        });
                    r.push_bind(d.map(|d| d.at_ms))
                        .push_bind(d.map(|d| d.by_user_id))
                        .push_bind(d.map(|d| d.level))
                        .push_bind(d.map(|d| d.outcome));
                    r.push_bind(d.map(|d| d.rationale.clone()))
                        .push_bind(d.map(|_| String::new()))
                        .push_bind(d.and_then(|d| d.lead_user_id))
                        .push_bind(x.claimed_by_user_id);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.referral_needs.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO referral_needs (referral_id, need) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0).push_bind(x.1);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.referral_people.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO referral_people (referral_id, person_id, role, given_name, family_name, date_of_birth,
                       expected_delivery, sex, nhs_number, postcode, address_line) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.referral_id)
                        .push_bind(x.person_id)
                        .push_bind(x.role)
                        .push_bind(x.given_name.clone());
                    r.push_bind(x.family_name.clone())
                        .push_bind(x.date_of_birth)
                        .push_bind(x.expected_delivery)
                        .push_bind(x.sex);
                    r.push_bind(x.nhs_number.clone())
                        .push_bind(x.postcode.clone())
                        .push_bind(x.address_line.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.referral_events.chunks(CHUNK) {
                let mut q =
                    QueryBuilder::<DB>::new("INSERT INTO referral_events (referral_id, at_ms, user_id, kind, detail) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0)
                        .push_bind(x.1)
                        .push_bind(x.2)
                        .push_bind(x.3)
                        .push_bind(x.4.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.contacts.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO contacts (id, tenant_id, family_id, organisation_id, author_user_id, occurred_on, mode,
                       visibility, body, created_at_ms) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.id)
                        .push_bind(x.tenant_id)
                        .push_bind(x.family_id)
                        .push_bind(x.organisation_id);
                    r.push_bind(x.author_user_id)
                        .push_bind(x.occurred_on)
                        .push_bind(x.mode)
                        .push_bind(x.visibility);
                    r.push_bind(x.body.clone()).push_bind(now);
                });
                q.build().execute(&mut *tx).await?;
            }
            // Issue 7 (reports): each contact's hub, from its family's address.
            if let (Some(lo), Some(hi)) = (
                b.contacts.iter().map(|c| c.id).min(),
                b.contacts.iter().map(|c| c.id).max(),
            ) {
                sqlx::query(&format!(
                    "UPDATE contacts SET hub_site_id = {} WHERE id >= $1 AND id <= $2 AND hub_site_id IS NULL",
                    crate::reports::family_hub_sql("contacts.family_id", "contacts.tenant_id")
                ))
                .bind(lo)
                .bind(hi)
                .execute(&mut *tx)
                .await?;
            }
            for chunk in b.contact_people.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO contact_people (contact_id, person_id) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.0).push_bind(x.1);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.episodes.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO episodes (id, tenant_id, family_id, referral_id, lead_user_id, level, status, opened_on,
                       closed_on, close_reason, stage, outcome) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.id)
                        .push_bind(x.tenant_id)
                        .push_bind(x.family_id)
                        .push_bind(x.referral_id)
                        .push_bind(x.lead_user_id);
                    r.push_bind(x.level)
                        .push_bind(if x.closed_on.is_some() { "closed" } else { "open" })
                        .push_bind(x.opened_on)
                        .push_bind(x.closed_on)
                        .push_bind(x.close_reason)
                        .push_bind(x.stage)
                        .push_bind(x.outcome);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.episode_events.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO episode_events (episode_id, at_ms, by_user_id, kind, from_value, to_value, detail) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.episode_id)
                        .push_bind(x.at_ms)
                        .push_bind(x.by_user_id)
                        .push_bind(x.kind);
                    r.push_bind(x.from_value)
                        .push_bind(x.to_value)
                        .push_bind(x.detail.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.tasks.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO tasks (tenant_id, kind, family_id, episode_id, assigned_user_id, assigned_team_id, title,
                       due_on, status, created_at_ms, completed_at_ms) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.tenant_id)
                        .push_bind(x.kind)
                        .push_bind(x.family_id)
                        .push_bind(x.episode_id);
                    r.push_bind(x.assigned_user_id)
                        .push_bind(x.assigned_team_id)
                        .push_bind(x.title.clone())
                        .push_bind(x.due_on);
                    r.push_bind(if x.done { "done" } else { "open" })
                        .push_bind(x.created_at_ms)
                        .push_bind(x.done.then_some(x.created_at_ms));
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.flags.chunks(CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO flags (tenant_id, family_id, person_id, kind, description, raised_by_user_id,
                       raised_on, ended_on) ",
                );
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(x.tenant_id)
                        .push_bind(x.family_id)
                        .push_bind(x.person_id)
                        .push_bind(x.kind);
                    r.push_bind(x.description.clone())
                        .push_bind(x.raised_by_user_id)
                        .push_bind(x.raised_on)
                        .push_bind(x.ended_on);
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
            "referral_people",
            "referral_events",
            "contacts",
            "episodes",
            "episode_events",
            "flags",
            "tasks",
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
    ///
    /// On SQLite only the per-index row estimates (`sqlite_stat1`) are
    /// kept. A SQLite built with STAT4 (sqlx's default bundle; ours is not,
    /// see `.cargo/config.toml`) parses and plans a statement again each
    /// time it runs with new bound values when value samples are present:
    /// that took a third of the server's time on the family page.
    pub async fn analyze(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("ANALYZE")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.forget_stat4_samples().await
    }

    /// Brings SQLite's planner statistics up to date where the data has
    /// grown or shrunk since they were taken (`PRAGMA optimize`, which
    /// reads a bounded sample of each such table, so it takes milliseconds
    /// at any size). A database that started empty has only the estimates
    /// its migrations took of empty tables, and without estimates the
    /// planner can choose to scan a whole table where an index would do.
    /// `kindred serve` runs this at start and hourly; PostgreSQL's
    /// autovacuum keeps its own statistics, so there it does nothing.
    pub async fn optimize(&self) -> Result<()> {
        if let crate::Pool::Sqlite(p) = &self.pool {
            // 0x10000: every table, not only those this connection has read;
            // 0x02: analyse those whose size has changed enough to matter.
            sqlx::query("PRAGMA optimize = 0x10002").execute(p).await?;
        }
        self.forget_stat4_samples().await
    }

    /// Empties `sqlite_stat4` where a SQLite built with STAT4 (not ours: see
    /// `.cargo/config.toml`, but a build elsewhere might be) left samples.
    pub(crate) async fn forget_stat4_samples(&self) -> Result<()> {
        if let crate::Pool::Sqlite(p) = &self.pool {
            let stat4: Option<(String,)> = sqlx::query_as("SELECT name FROM sqlite_schema WHERE name = 'sqlite_stat4'")
                .fetch_optional(p)
                .await?;
            if stat4.is_some() {
                sqlx::query("DELETE FROM sqlite_stat4").execute(p).await?;
            }
        }
        Ok(())
    }
}
