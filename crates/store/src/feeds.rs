//! The health and agency feeds: import runs, source records (one per row of
//! a source system, keyed by source system and source key), rejected rows,
//! the match review queue and the history of links.
//!
//! `crates/feeds` decides what each row means (checked, matched, its
//! effects); this module writes a batch of those decisions in one transaction,
//! so a crash leaves each batch whole or absent, and a re-run finds the rows
//! already kept by their key and duplicates none.

use std::collections::HashMap;

use kindred_domain::feeds::{FeedKind, ImportStatus, LinkMethod, RecordStatus, ReviewDecision};
use kindred_domain::model::{MemberRole, RelationshipKind};
use time::Date;

use crate::BeginWrite;
use crate::persons::name_keys;
use crate::{Db, Result, StoreError, on_pool};

/// Inserts a person (and their address, when a postcode is known) inside a
/// transaction, returning the id.
macro_rules! insert_person {
    ($tx:ident, $tenant:expr, $spec:expr, $now:expr) => {{
        let spec: &NewPersonSpec = $spec;
        let (gn, fnorm, gp, fp) = name_keys(&spec.given_name, &spec.family_name);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO persons (tenant_id, given_name, family_name, given_norm, family_norm, given_phon, family_phon,
               date_of_birth, expected_delivery, sex, nhs_number, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind($tenant)
        .bind(&spec.given_name)
        .bind(&spec.family_name)
        .bind(gn)
        .bind(fnorm)
        .bind(gp)
        .bind(fp)
        .bind(spec.date_of_birth)
        .bind(spec.expected_delivery)
        .bind(&spec.sex)
        .bind(spec.nhs_number.as_deref())
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        if let Some(pc) = &spec.postcode {
            sqlx::query(
                "INSERT INTO addresses (person_id, line1, town, postcode, from_date) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(spec.address.as_deref().unwrap_or(""))
            .bind("")
            .bind(pc)
            .bind(crate::today())
            .execute(&mut *$tx)
            .await?;
        }
        id
    }};
}

#[derive(Debug, Clone)]
pub struct NewImport {
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub kind: FeedKind,
    pub source_system: String,
    pub file_name: String,
    pub file_sha256: String,
    pub started_by_user_id: Option<i64>,
    pub rows_total: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRun {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub kind: String,
    pub source_system: String,
    pub file_name: String,
    pub file_sha256: String,
    pub started_by_user_id: Option<i64>,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub status: String,
    pub rows_total: i64,
    pub rows_done: i64,
    pub rows_new: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub rows_rejected: i64,
    pub linked: i64,
    pub to_review: i64,
    pub new_persons: i64,
    pub counted_only: i64,
    pub tasks_made: i64,
    pub not_shared: i64,
    pub error: Option<String>,
}

impl ImportRun {
    pub fn kind(&self) -> Option<FeedKind> {
        FeedKind::parse(&self.kind)
    }
    pub fn status(&self) -> Option<ImportStatus> {
        ImportStatus::parse(&self.status)
    }
}

const RUN_COLUMNS: &str = "r.id, r.tenant_id, r.organisation_id, o.name AS organisation_name, r.kind, r.source_system,
    r.file_name, r.file_sha256, r.started_by_user_id, r.started_at_ms, r.finished_at_ms, r.status, r.rows_total, r.rows_done,
    r.rows_new, r.rows_updated, r.rows_unchanged, r.rows_rejected, r.linked, r.to_review, r.new_persons, r.counted_only,
    r.tasks_made, r.not_shared, r.error";

/// A row that failed its checks.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Reject {
    pub line: i64,
    pub column_name: String,
    pub reason: String,
    /// The row as it was in the file.
    pub raw: String,
}

/// A source record already kept, as a re-run needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Existing {
    pub id: i64,
    pub source_key: String,
    pub payload_hash: String,
    pub status: String,
}

/// A person who might be the one a row describes, with what matching compares.
#[derive(Clone, sqlx::FromRow)]
pub struct Candidate {
    pub person_id: i64,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<Date>,
    pub sex: String,
    pub nhs_number: Option<String>,
    pub postcode: Option<String>,
    pub address: Option<String>,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("person_id", &self.person_id)
            .finish_non_exhaustive()
    }
}

/// A candidate's identity and current address, as matching compares them.
const CANDIDATE_COLUMNS: &str = "p.id AS person_id, p.given_name, p.family_name, p.date_of_birth, p.sex, p.nhs_number,
    (SELECT a.postcode FROM addresses a WHERE a.person_id = p.id AND a.to_date IS NULL ORDER BY a.from_date DESC, a.id DESC LIMIT 1) AS postcode,
    (SELECT a.line1 FROM addresses a WHERE a.person_id = p.id AND a.to_date IS NULL ORDER BY a.from_date DESC, a.id DESC LIMIT 1) AS address";

/// What blocking looks for: any of these agreeing makes a person a candidate.
#[derive(Debug, Clone, Default)]
pub struct CandidateQuery {
    pub nhs_number: Option<String>,
    /// The date of birth and, when day and month could be swapped, the swap.
    pub dates_of_birth: Vec<Date>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub postcode: Option<String>,
}

/// A person a feed row makes.
#[derive(Clone)]
pub struct NewPersonSpec {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub sex: String,
    /// Only a number that passes its check digit.
    pub nhs_number: Option<String>,
    pub postcode: Option<String>,
    pub address: Option<String>,
}

/// Who the row is about, as matching decided.
#[derive(Debug, Clone)]
pub enum PersonPlan {
    /// The row was kept before: leave its link as it is.
    Keep,
    Link {
        person_id: i64,
        probability: f64,
        weight: f64,
        method: LinkMethod,
    },
    Review {
        candidates: Vec<(i64, f64, f64)>,
    },
    New {
        probability: Option<f64>,
        weight: Option<f64>,
    },
    /// No consent: the row is counted, and no person is made.
    CountOnly,
}

impl std::fmt::Debug for NewPersonSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPersonSpec")
    }
}

/// What a family hub is asked to do because of a row.
#[derive(Debug, Clone)]
pub struct HubWork {
    pub organisation_id: i64,
    pub team_id: Option<i64>,
    pub service: String,
    pub task_kind: &'static str,
    pub task_title: String,
    pub due_on: Date,
}

/// What follows once the row's person is known.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// The family the person already belongs to (matching found it), if any.
    pub family_id: Option<i64>,
    /// Make a family around the person when they have none, named this.
    pub new_family_name: Option<String>,
    /// The person's role when they join a new family.
    pub role: Option<MemberRole>,
    /// A child of the person to add to the family: a baby, or an unborn baby.
    pub child: Option<(NewPersonSpec, MemberRole)>,
    /// An existing person who is that child (their NHS number matched exactly).
    pub child_person_id: Option<i64>,
    pub hub: Option<HubWork>,
    /// The row's information may not reach the hub under the sharing rules.
    pub not_shared: bool,
    /// A universal pathway stage the row says was completed, and when.
    pub pathway: Option<(String, Date)>,
    /// At the 6–8 week review: how the baby is fed.
    pub breastfeeding: Option<String>,
}

/// One checked row and what to do with it.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub line: i64,
    pub source_key: String,
    pub payload: String,
    pub payload_hash: String,
    pub event_on: Option<Date>,
    pub consent: bool,
    pub hub_site_id: Option<i64>,
    /// The row's own identity, to make a person from when matching says new.
    pub person: Option<NewPersonSpec>,
    pub plan: PersonPlan,
    pub effects: Effects,
}

/// What one batch changed, added to the run's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub new: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub linked: i64,
    pub to_review: i64,
    pub new_persons: i64,
    pub counted_only: i64,
    pub tasks_made: i64,
    pub not_shared: i64,
}

/// Where a batch goes: an import run (its counters and rejects), or, for a
/// reviewer's decision, no run and the reviewer as the one who linked.
#[derive(Debug, Clone, Copy)]
pub struct BatchTarget<'a> {
    pub run_id: Option<i64>,
    pub by_user_id: Option<i64>,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub kind: FeedKind,
    pub source_system: &'a str,
}

/// (hub site, name, organisation, team, one reach area)
type HubRow = (i64, String, Option<i64>, Option<i64>, Option<String>);
/// (person, probability, weight, tenant) of a record being unlinked.
type LinkedRow = (Option<i64>, Option<f64>, Option<f64>, i64);

/// A hub site with the team that takes its work and the areas it reaches.
#[derive(Debug, Clone)]
pub struct HubReach {
    pub hub_site_id: i64,
    pub name: String,
    pub organisation_id: Option<i64>,
    pub team_id: Option<i64>,
    pub areas: Vec<String>,
}

/// A source record as the review page shows it.
#[derive(Clone, sqlx::FromRow)]
pub struct SourceRecord {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub kind: String,
    pub source_system: String,
    pub source_key: String,
    pub payload: String,
    pub person_id: Option<i64>,
    pub family_id: Option<i64>,
    pub hub_site_id: Option<i64>,
    pub event_on: Option<Date>,
    pub consent: bool,
    pub status: String,
    pub match_probability: Option<f64>,
    pub match_weight: Option<f64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl std::fmt::Debug for SourceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRecord")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

const RECORD_COLUMNS: &str = "s.id, s.tenant_id, s.organisation_id, o.name AS organisation_name, s.kind, s.source_system,
    s.source_key, s.payload, s.person_id, s.family_id, s.hub_site_id, s.event_on, s.consent, s.status, s.match_probability,
    s.match_weight, s.created_at_ms, s.updated_at_ms";

/// One entry of the review queue: a record and its best candidate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueEntry {
    pub source_record_id: i64,
    pub kind: String,
    pub source_system: String,
    pub organisation_name: String,
    pub candidates: i64,
    pub best_probability: f64,
    pub updated_at_ms: i64,
}

/// A candidate on the review page, with the reviewer's answer about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewCandidate {
    pub review_id: i64,
    pub person_id: i64,
    pub match_probability: f64,
    pub match_weight: f64,
    pub status: String,
    pub decided_by_name: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// One made or undone link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkEntry {
    pub id: i64,
    pub source_record_id: i64,
    pub person_id: i64,
    pub method: String,
    pub match_probability: Option<f64>,
    pub linked_by_name: Option<String>,
    pub linked_at_ms: i64,
    pub undone_by_name: Option<String>,
    pub undone_at_ms: Option<i64>,
}

/// Births in one hub's reach, one month: how many, how many with consent, and
/// how many of those families the hub has registered (its welcome contact done).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReachRow {
    pub hub_site_id: Option<i64>,
    pub month: String,
    pub births: i64,
    pub with_consent: i64,
    pub registered: i64,
}

impl Db {
    /// Starts an import run. An earlier run of the same file that never
    /// finished (a crash) is marked interrupted: this run carries on for it.
    pub async fn start_import(&self, n: &NewImport) -> Result<i64> {
        let now = crate::now_ms();
        on_pool!(self, |p| sqlx::query(
            "UPDATE import_runs SET status = $1 WHERE tenant_id = $2 AND source_system = $3 AND status = $4"
        )
        .bind(ImportStatus::Interrupted.code())
        .bind(n.tenant_id)
        .bind(&n.source_system)
        .bind(ImportStatus::Running.code())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO import_runs (tenant_id, organisation_id, kind, source_system, file_name, file_sha256,
               started_by_user_id, started_at_ms, status, rows_total)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
        )
        .bind(n.tenant_id)
        .bind(n.organisation_id)
        .bind(n.kind.code())
        .bind(&n.source_system)
        .bind(&n.file_name)
        .bind(&n.file_sha256)
        .bind(n.started_by_user_id)
        .bind(now)
        .bind(ImportStatus::Running.code())
        .bind(n.rows_total)
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    /// Ends a run: done, or failed with a message (no personal data in it).
    pub async fn finish_import(&self, run_id: i64, status: ImportStatus, error: Option<&str>) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE import_runs SET status = $1, finished_at_ms = $2, error = $3 WHERE id = $4"
        )
        .bind(status.code())
        .bind(crate::now_ms())
        .bind(error)
        .bind(run_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn import_run(&self, id: i64) -> Result<ImportRun> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM import_runs r JOIN organisations o ON o.id = r.organisation_id WHERE r.id = $1"
        );
        on_pool!(self, |p| sqlx::query_as::<_, ImportRun>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?
        .ok_or(StoreError::NotFound)
    }

    /// A tenant's import runs, newest first.
    pub async fn import_runs(&self, tenant_id: i64, limit: i64) -> Result<Vec<ImportRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM import_runs r JOIN organisations o ON o.id = r.organisation_id
             WHERE r.tenant_id = $1 ORDER BY r.started_at_ms DESC, r.id DESC LIMIT $2"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, ImportRun>(&sql)
            .bind(tenant_id)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    pub async fn import_rejects(&self, run_id: i64) -> Result<Vec<Reject>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Reject>(
            "SELECT line, column_name, reason, raw FROM import_rejects WHERE import_run_id = $1 ORDER BY line, id"
        )
        .bind(run_id)
        .fetch_all(p)
        .await)?)
    }

    /// The records a source system already holds under these keys.
    pub async fn existing_records(
        &self,
        tenant_id: i64,
        source_system: &str,
        keys: &[String],
    ) -> Result<HashMap<String, Existing>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(500) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT id, source_key, payload_hash, status FROM source_records
                 WHERE tenant_id = $1 AND source_system = $2 AND source_key IN ({list})"
            );
            let rows: Vec<Existing> = on_pool!(self, |p| {
                let mut q = sqlx::query_as::<_, Existing>(&sql).bind(tenant_id).bind(source_system);
                for k in chunk {
                    q = q.bind(k);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows.into_iter().map(|e| (e.source_key.clone(), e)));
        }
        Ok(out)
    }

    /// The people of a tenant who might be the one described: the same NHS
    /// number, date of birth (or its day–month swap), name sound, or first
    /// name sound at the same postcode. At most 50.
    pub async fn feed_candidates(&self, tenant_id: i64, q: &CandidateQuery) -> Result<Vec<Candidate>> {
        let (given_phon, family_phon) = (
            q.given_name.as_deref().map(kindred_domain::names::phonetic),
            q.family_name.as_deref().map(kindred_domain::names::phonetic),
        );
        let dob1 = q.dates_of_birth.first().copied();
        let dob2 = q.dates_of_birth.get(1).copied().or(dob1);
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS}
             FROM persons p
             WHERE p.id IN (
                SELECT id FROM persons WHERE tenant_id = $1 AND nhs_number = $2
                UNION SELECT id FROM persons WHERE tenant_id = $1 AND date_of_birth = $3
                UNION SELECT id FROM persons WHERE tenant_id = $1 AND date_of_birth = $4
                UNION SELECT id FROM persons WHERE tenant_id = $1 AND family_phon = $5 AND given_phon = $6
                UNION SELECT x.id FROM persons x JOIN addresses a ON a.person_id = x.id
                      WHERE a.postcode = $7 AND a.to_date IS NULL AND x.tenant_id = $1 AND x.given_phon = $6)
             ORDER BY p.id LIMIT 50"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Candidate>(&sql)
            .bind(tenant_id)
            .bind(q.nhs_number.as_deref())
            .bind(dob1)
            .bind(dob2)
            .bind(family_phon)
            .bind(given_phon)
            .bind(q.postcode.as_deref())
            .fetch_all(p)
            .await)?)
    }

    /// The person of a tenant holding a Unique Pupil Number, if exactly one does.
    pub async fn person_with_upn(&self, tenant_id: i64, upn: &str) -> Result<Option<Candidate>> {
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM persons p WHERE p.tenant_id = $1 AND p.upn = $2 ORDER BY p.id LIMIT 2"
        );
        let found = on_pool!(self, |p| sqlx::query_as::<_, Candidate>(&sql)
            .bind(tenant_id)
            .bind(upn)
            .fetch_all(p)
            .await)?;
        Ok(if found.len() == 1 {
            found.into_iter().next()
        } else {
            None
        })
    }

    /// Identity of the given persons, as matching compares them (for the review page).
    pub async fn candidates_by_id(&self, person_ids: &[i64]) -> Result<Vec<Candidate>> {
        if person_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = person_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {CANDIDATE_COLUMNS} FROM persons p WHERE p.id IN ({list}) ORDER BY p.id");
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Candidate>(&sql)
            .fetch_all(p)
            .await)?)
    }

    /// The family a person currently belongs to (the most recently joined), if any.
    pub async fn current_family_of(&self, person_id: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT m.family_id FROM family_members m WHERE m.person_id = $1 AND m.left_on IS NULL
             ORDER BY m.joined_on DESC, m.id DESC LIMIT 1"
        )
        .bind(person_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|r| r.0))
    }

    /// Every hub site of a tenant, the team that takes its work (the hub
    /// organisation's first team based there, or else its first team), and its
    /// reach areas.
    pub async fn hub_reach(&self, tenant_id: i64) -> Result<Vec<HubReach>> {
        let rows: Vec<HubRow> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT h.id, h.name, h.organisation_id,
                    COALESCE(
                      (SELECT MIN(t.id) FROM teams t WHERE t.hub_site_id = h.id AND t.organisation_id = h.organisation_id),
                      (SELECT MIN(t.id) FROM teams t WHERE t.organisation_id = h.organisation_id)),
                    r.area
             FROM hub_sites h LEFT JOIN hub_reach_areas r ON r.hub_site_id = h.id
             WHERE h.tenant_id = $1 ORDER BY h.id, r.area"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await
        })?;
        let mut out: Vec<HubReach> = Vec::new();
        for (id, name, org, team, area) in rows {
            if out.last().map(|h| h.hub_site_id) != Some(id) {
                out.push(HubReach {
                    hub_site_id: id,
                    name,
                    organisation_id: org,
                    team_id: team,
                    areas: Vec::new(),
                });
            }
            if let Some(a) = area {
                out.last_mut().expect("pushed above").areas.push(a);
            }
        }
        Ok(out)
    }

    /// Writes one batch of an import in one transaction: its rejects, its
    /// source records (new or changed), the people, families, involvements,
    /// tasks and review candidates they lead to, and the run's counters.
    /// Returns what the batch changed.
    pub async fn apply_import_batch(
        &self,
        target: &BatchTarget<'_>,
        rows: &[PlannedRow],
        rejects: &[Reject],
        unchanged: i64,
    ) -> Result<BatchCounts> {
        let BatchTarget {
            run_id,
            by_user_id,
            tenant_id,
            organisation_id,
            kind,
            source_system,
        } = *target;
        let now = crate::now_ms();
        let mut c = BatchCounts {
            unchanged,
            rejected: rejects.len() as i64,
            ..Default::default()
        };
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            for r in rejects {
                let Some(run_id) = run_id else { break };
                sqlx::query(
                    "INSERT INTO import_rejects (import_run_id, line, column_name, reason, raw) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(run_id)
                .bind(r.line)
                .bind(&r.column_name)
                .bind(&r.reason)
                .bind(&r.raw)
                .execute(&mut *tx)
                .await?;
            }
            for row in rows {
                // Keep the record: insert it, or update the one kept under its key.
                let existing: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT id, person_id, family_id FROM source_records WHERE tenant_id = $1 AND source_system = $2 AND source_key = $3",
                )
                .bind(tenant_id)
                .bind(source_system)
                .bind(&row.source_key)
                .fetch_optional(&mut *tx)
                .await?;
                // A reviewer's decision claims the record while it still waits
                // for review, so two reviewers deciding at once decide it once.
                if let (None, Some((id, _, _))) = (run_id, existing) {
                    let claimed =
                        sqlx::query("UPDATE source_records SET updated_at_ms = $1 WHERE id = $2 AND status = $3")
                            .bind(now)
                            .bind(id)
                            .bind(RecordStatus::Review.code())
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    if claimed == 0 {
                        continue;
                    }
                }
                if let Some((id, _, _)) = existing {
                    sqlx::query(
                        "UPDATE source_records SET payload = $1, payload_hash = $2, last_run_id = COALESCE($3, last_run_id), event_on = $4,
                           consent = $5, hub_site_id = COALESCE($6, hub_site_id), updated_at_ms = $7 WHERE id = $8",
                    )
                    .bind(&row.payload)
                    .bind(&row.payload_hash)
                    .bind(run_id)
                    .bind(row.event_on)
                    .bind(row.consent)
                    .bind(row.hub_site_id)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    c.updated += 1;
                    if matches!(row.plan, PersonPlan::Keep) {
                        continue;
                    }
                }
                let record_id = match existing {
                    Some((id, _, _)) => id,
                    None => {
                        let Some(run_id) = run_id else { continue };
                        c.new += 1;
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO source_records (tenant_id, organisation_id, kind, source_system, source_key, first_run_id,
                               last_run_id, payload, payload_hash, hub_site_id, event_on, consent, status, created_at_ms, updated_at_ms)
                             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
                        )
                        .bind(tenant_id)
                        .bind(organisation_id)
                        .bind(kind.code())
                        .bind(source_system)
                        .bind(&row.source_key)
                        .bind(run_id)
                        .bind(&row.payload)
                        .bind(&row.payload_hash)
                        .bind(row.hub_site_id)
                        .bind(row.event_on)
                        .bind(row.consent)
                        .bind(RecordStatus::NewPerson.code())
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                        id
                    }
                };
                // Who the row is about.
                let (person_id, status, probability, weight) = match &row.plan {
                    PersonPlan::Keep => continue,
                    PersonPlan::CountOnly => {
                        c.counted_only += 1;
                        (None, RecordStatus::CountedOnly, None, None)
                    }
                    PersonPlan::Review { candidates } => {
                        c.to_review += 1;
                        for (person_id, probability, weight) in candidates {
                            sqlx::query(
                                "INSERT INTO match_reviews (tenant_id, source_record_id, person_id, match_probability, match_weight, status, created_at_ms)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                                 ON CONFLICT (source_record_id, person_id) DO UPDATE SET match_probability = EXCLUDED.match_probability,
                                   match_weight = EXCLUDED.match_weight",
                            )
                            .bind(tenant_id)
                            .bind(record_id)
                            .bind(person_id)
                            .bind(probability)
                            .bind(weight)
                            .bind(ReviewDecision::Pending.code())
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        let best = candidates.iter().map(|c| c.1).fold(0.0, f64::max);
                        let best_w = candidates.iter().map(|c| c.2).fold(f64::MIN, f64::max);
                        (None, RecordStatus::Review, Some(best), Some(best_w))
                    }
                    PersonPlan::Link {
                        person_id,
                        probability,
                        weight,
                        method,
                    } => {
                        c.linked += 1;
                        sqlx::query(
                            "INSERT INTO record_links (source_record_id, person_id, method, match_probability, linked_by_user_id, linked_at_ms)
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(record_id)
                        .bind(person_id)
                        .bind(method.code())
                        .bind(probability)
                        .bind(by_user_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        let status = if *method == LinkMethod::Automatic {
                            RecordStatus::Linked
                        } else {
                            RecordStatus::LinkedReviewed
                        };
                        (Some(*person_id), status, Some(*probability), Some(*weight))
                    }
                    PersonPlan::New { probability, weight } => {
                        let Some(spec) = &row.person else { continue };
                        c.new_persons += 1;
                        let id = insert_person!(tx, tenant_id, spec, now);
                        (Some(id), RecordStatus::NewPerson, *probability, *weight)
                    }
                };
                sqlx::query(
                    "UPDATE source_records SET person_id = $1, status = $2, match_probability = $3, match_weight = $4 WHERE id = $5",
                )
                .bind(person_id)
                .bind(status.code())
                .bind(probability)
                .bind(weight)
                .bind(record_id)
                .execute(&mut *tx)
                .await?;
                let Some(person_id) = person_id else { continue };
                // What follows: a pathway stage done, the family, a baby, the hub's work.
                let e = &row.effects;
                if let Some((stage, on)) = &e.pathway {
                    sqlx::query(
                        "INSERT INTO pathway_completions (person_id, stage, completed_on, source_record_id, created_at_ms, breastfeeding)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id, stage)
                         DO UPDATE SET breastfeeding = COALESCE(pathway_completions.breastfeeding, excluded.breastfeeding)",
                    )
                    .bind(person_id)
                    .bind(stage)
                    .bind(on)
                    .bind(record_id)
                    .bind(now)
                    .bind(&e.breastfeeding)
                    .execute(&mut *tx)
                    .await?;
                }
                if e.not_shared {
                    c.not_shared += 1;
                }
                let mut family_id = e.family_id;
                if family_id.is_none()
                    && let Some(name) = &e.new_family_name
                {
                    let current: Option<(i64,)> = sqlx::query_as(
                        "SELECT family_id FROM family_members WHERE person_id = $1 AND left_on IS NULL ORDER BY joined_on DESC, id DESC LIMIT 1",
                    )
                    .bind(person_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    family_id = match current {
                        Some((f,)) => Some(f),
                        None => {
                            let (f,): (i64,) = sqlx::query_as(
                                "INSERT INTO families (tenant_id, name, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $3) RETURNING id",
                            )
                            .bind(tenant_id)
                            .bind(name)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?;
                            sqlx::query("INSERT INTO family_members (family_id, person_id, role, joined_on) VALUES ($1, $2, $3, $4)")
                                .bind(f)
                                .bind(person_id)
                                .bind(e.role.unwrap_or(MemberRole::Parent).code())
                                .bind(row.event_on.unwrap_or_else(crate::today))
                                .execute(&mut *tx)
                                .await?;
                            Some(f)
                        }
                    };
                }
                let Some(family_id) = family_id else { continue };
                if let Some((spec, role)) = &e.child {
                    let child_id = match e.child_person_id {
                        Some(id) => id,
                        None => {
                            c.new_persons += 1;
                            insert_person!(tx, tenant_id, spec, now)
                        }
                    };
                    let member: Option<(i64,)> = sqlx::query_as(
                        "SELECT id FROM family_members WHERE family_id = $1 AND person_id = $2 AND left_on IS NULL",
                    )
                    .bind(family_id)
                    .bind(child_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if member.is_none() {
                        sqlx::query("INSERT INTO family_members (family_id, person_id, role, joined_on) VALUES ($1, $2, $3, $4)")
                            .bind(family_id)
                            .bind(child_id)
                            .bind(role.code())
                            .bind(row.event_on.unwrap_or_else(crate::today))
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query(
                        "INSERT INTO relationships (from_person_id, to_person_id, kind) VALUES ($1, $2, $3)
                         ON CONFLICT (from_person_id, to_person_id, kind) DO NOTHING",
                    )
                    .bind(person_id)
                    .bind(child_id)
                    .bind(RelationshipKind::ParentOf.code())
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(h) = &e.hub {
                    let involved: Option<(i64,)> = sqlx::query_as(
                        "SELECT id FROM involvements WHERE family_id = $1 AND organisation_id = $2 AND ended_on IS NULL",
                    )
                    .bind(family_id)
                    .bind(h.organisation_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if involved.is_none() {
                        sqlx::query(
                            "INSERT INTO involvements (family_id, organisation_id, service, started_on) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(family_id)
                        .bind(h.organisation_id)
                        .bind(&h.service)
                        .bind(crate::today())
                        .execute(&mut *tx)
                        .await?;
                    }
                    if let Some(team_id) = h.team_id {
                        sqlx::query(
                            "INSERT INTO tasks (tenant_id, kind, family_id, person_id, assigned_team_id, title, due_on, created_at_ms)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(tenant_id)
                        .bind(h.task_kind)
                        .bind(family_id)
                        .bind(person_id)
                        .bind(team_id)
                        .bind(&h.task_title)
                        .bind(h.due_on)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        c.tasks_made += 1;
                    }
                }
                sqlx::query("UPDATE families SET updated_at_ms = $1 WHERE id = $2")
                    .bind(now)
                    .bind(family_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE source_records SET family_id = $1 WHERE id = $2")
                    .bind(family_id)
                    .bind(record_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(run_id) = run_id {
                sqlx::query(
                "UPDATE import_runs SET rows_done = rows_done + $1, rows_new = rows_new + $2, rows_updated = rows_updated + $3,
                   rows_unchanged = rows_unchanged + $4, rows_rejected = rows_rejected + $5, linked = linked + $6,
                   to_review = to_review + $7, new_persons = new_persons + $8, counted_only = counted_only + $9,
                   tasks_made = tasks_made + $10, not_shared = not_shared + $11 WHERE id = $12",
            )
            .bind(rows.len() as i64 + c.rejected + c.unchanged)
            .bind(c.new)
            .bind(c.updated)
            .bind(c.unchanged)
            .bind(c.rejected)
            .bind(c.linked)
            .bind(c.to_review)
            .bind(c.new_persons)
            .bind(c.counted_only)
            .bind(c.tasks_made)
            .bind(c.not_shared)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(c)
    }

    pub async fn source_record(&self, id: i64) -> Result<SourceRecord> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM source_records s JOIN organisations o ON o.id = s.organisation_id WHERE s.id = $1"
        );
        on_pool!(self, |p| sqlx::query_as::<_, SourceRecord>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?
        .ok_or(StoreError::NotFound)
    }

    /// The records other systems hold about a person, linked to them.
    pub async fn source_records_of_person(&self, person_id: i64) -> Result<Vec<SourceRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM source_records s JOIN organisations o ON o.id = s.organisation_id
             WHERE s.person_id = $1 ORDER BY s.updated_at_ms DESC, s.id"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, SourceRecord>(&sql)
            .bind(person_id)
            .fetch_all(p)
            .await)?)
    }

    /// A tenant's records waiting for review, the most likely first.
    pub async fn review_queue(&self, tenant_id: i64, limit: i64) -> Result<Vec<QueueEntry>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, QueueEntry>(
            "SELECT s.id AS source_record_id, s.kind, s.source_system, o.name AS organisation_name,
                    COUNT(m.id) AS candidates, COALESCE(MAX(m.match_probability), 0.0) AS best_probability, s.updated_at_ms
             FROM source_records s
             JOIN organisations o ON o.id = s.organisation_id
             LEFT JOIN match_reviews m ON m.source_record_id = s.id
             WHERE s.tenant_id = $1 AND s.status = $2
             GROUP BY s.id, s.kind, s.source_system, o.name, s.updated_at_ms
             ORDER BY best_probability DESC, s.id LIMIT $3"
        )
        .bind(tenant_id)
        .bind(RecordStatus::Review.code())
        .bind(limit)
        .fetch_all(p)
        .await
        })?)
    }

    /// How many of a tenant's records wait for review.
    pub async fn review_queue_count(&self, tenant_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM source_records WHERE tenant_id = $1 AND status = $2"
        )
        .bind(tenant_id)
        .bind(RecordStatus::Review.code())
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    pub async fn review_candidates(&self, source_record_id: i64) -> Result<Vec<ReviewCandidate>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, ReviewCandidate>(
            "SELECT m.id AS review_id, m.person_id, m.match_probability, m.match_weight, m.status,
                    u.display_name AS decided_by_name, m.decided_at_ms
             FROM match_reviews m LEFT JOIN users u ON u.id = m.decided_by_user_id
             WHERE m.source_record_id = $1 ORDER BY m.match_probability DESC, m.id"
        )
        .bind(source_record_id)
        .fetch_all(p)
        .await)?)
    }

    /// Records a reviewer's answer about one candidate. "Unsure" and "not a
    /// match" leave the record in the queue while other candidates wait; when
    /// no candidate is left pending, the record leaves the queue only by
    /// [`Db::link_reviewed`] or [`Db::apply_import_batch`] with a new person.
    pub async fn decide_candidate(&self, review_id: i64, decision: ReviewDecision, by: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE match_reviews SET status = $1, decided_by_user_id = $2, decided_at_ms = $3 WHERE id = $4"
        )
        .bind(decision.code())
        .bind(by)
        .bind(crate::now_ms())
        .bind(review_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks the other pending candidates of a record as superseded once one is chosen.
    pub async fn supersede_candidates(&self, source_record_id: i64, chosen_person_id: i64, by: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE match_reviews SET status = $1, decided_by_user_id = $2, decided_at_ms = $3
             WHERE source_record_id = $4 AND person_id <> $5 AND status IN ($6, $7)"
        )
        .bind(ReviewDecision::Superseded.code())
        .bind(by)
        .bind(crate::now_ms())
        .bind(source_record_id)
        .bind(chosen_person_id)
        .bind(ReviewDecision::Pending.code())
        .bind(ReviewDecision::Unsure.code())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Undoes a record's link: the record goes back to the review queue with
    /// its candidates (the person it was linked to among them), the link's
    /// history stays, and nothing is deleted. Returns the person it was linked to.
    pub async fn undo_link(&self, source_record_id: i64, by: i64) -> Result<Option<i64>> {
        let now = crate::now_ms();
        let undone = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let current: Option<LinkedRow> = sqlx::query_as(
                "SELECT person_id, match_probability, match_weight, tenant_id FROM source_records WHERE id = $1",
            )
            .bind(source_record_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((Some(person_id), probability, weight, tenant_id)) = current else {
                return Ok(None);
            };
            sqlx::query(
                "UPDATE record_links SET undone_by_user_id = $1, undone_at_ms = $2
                 WHERE source_record_id = $3 AND person_id = $4 AND undone_at_ms IS NULL",
            )
            .bind(by)
            .bind(now)
            .bind(source_record_id)
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO match_reviews (tenant_id, source_record_id, person_id, match_probability, match_weight, status, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (source_record_id, person_id) DO UPDATE SET status = EXCLUDED.status,
                   decided_by_user_id = NULL, decided_at_ms = NULL",
            )
            .bind(tenant_id)
            .bind(source_record_id)
            .bind(person_id)
            .bind(probability.unwrap_or(0.0))
            .bind(weight.unwrap_or(0.0))
            .bind(ReviewDecision::Pending.code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE match_reviews SET status = $1, decided_by_user_id = NULL, decided_at_ms = NULL
                 WHERE source_record_id = $2 AND status = $3",
            )
            .bind(ReviewDecision::Pending.code())
            .bind(source_record_id)
            .bind(ReviewDecision::Superseded.code())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE source_records SET person_id = NULL, status = $1, updated_at_ms = $2 WHERE id = $3")
                .bind(RecordStatus::Review.code())
                .bind(now)
                .bind(source_record_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Some(person_id))
        })?;
        Ok(undone)
    }

    /// Every link made or undone for a record, oldest first.
    pub async fn record_links(&self, source_record_id: i64) -> Result<Vec<LinkEntry>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, LinkEntry>(
            "SELECT l.id, l.source_record_id, l.person_id, l.method, l.match_probability,
                    lu.display_name AS linked_by_name, l.linked_at_ms, uu.display_name AS undone_by_name, l.undone_at_ms
             FROM record_links l
             LEFT JOIN users lu ON lu.id = l.linked_by_user_id
             LEFT JOIN users uu ON uu.id = l.undone_by_user_id
             WHERE l.source_record_id = $1 ORDER BY l.linked_at_ms, l.id"
        )
        .bind(source_record_id)
        .fetch_all(p)
        .await)?)
    }

    /// Births by hub and month (`YYYY-MM`), from `from` to `to` inclusive:
    /// every birth row counts, with consent or without.
    pub async fn reach(&self, tenant_id: i64, from: Date, to: Date) -> Result<Vec<ReachRow>> {
        let rows: Vec<(Option<i64>, Date, bool, Option<i64>)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT s.hub_site_id, s.event_on, s.consent,
                    (SELECT COUNT(*) FROM tasks t WHERE t.family_id = s.family_id AND t.kind = 'welcome_contact' AND t.status = 'done')
             FROM source_records s
             WHERE s.tenant_id = $1 AND s.kind = $2 AND s.event_on >= $3 AND s.event_on <= $4"
        )
        .bind(tenant_id)
        .bind(FeedKind::LiveBirths.code())
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await
        })?;
        let mut by: std::collections::BTreeMap<(Option<i64>, String), ReachRow> = Default::default();
        for (hub, on, consent, done) in rows {
            let month = format!("{:04}-{:02}", on.year(), u8::from(on.month()));
            let r = by.entry((hub, month.clone())).or_insert(ReachRow {
                hub_site_id: hub,
                month,
                births: 0,
                with_consent: 0,
                registered: 0,
            });
            r.births += 1;
            r.with_consent += i64::from(consent);
            r.registered += i64::from(consent && done.unwrap_or(0) > 0);
        }
        Ok(by.into_values().collect())
    }
}
