//! The health and agency feeds (F4, F12, F18): `kindred import KIND FILE` and
//! the upload page both come here.
//!
//! A file is read as CSV with a header. Each row is checked on its own
//! (`domain::feeds::check_row`); a bad row is rejected with its line, column
//! and reason and the rest go on. A good row is looked up by its key in its
//! source system: kept before and unchanged, it is skipped; changed, its
//! record is updated; new, it is matched against the tenant's people
//! (`kindred_linkage`'s model, candidates from the store's blocking query)
//! and its person is linked (at or above the upper threshold), queued for
//! review (between the thresholds) or made (below). What follows — a family, a
//! baby, the family hub's welcome task — is planned here and written by
//! `Db::apply_import_batch`, one transaction per batch, so a crash loses at
//! most the batch in flight and a re-run redoes exactly that.

use std::collections::{BTreeMap, HashMap};

use kindred_domain::feeds::{
    self, FeedKind, FeedRow, FieldError, Identity, ImportStatus, LinkMethod, MatchOutcome, RecordStatus, Thresholds,
};
use kindred_domain::model::MemberRole;
use kindred_domain::sharing::{self, DataCategory};
use kindred_domain::{Postcode, task};
use kindred_linkage::{Explanation, Model, RawRecord, Record, standardise};
use kindred_store::Db;
use kindred_store::feeds::{
    BatchCounts, BatchTarget, Candidate, CandidateQuery, Effects, HubReach, HubWork, NewImport, NewPersonSpec,
    PersonPlan, PlannedRow, Reject,
};
use sha2::{Digest, Sha256};
use time::{Date, Duration};

/// How many rows go in one transaction.
pub const BATCH: usize = 200;
/// How many candidates a record waiting for review keeps.
const REVIEW_CANDIDATES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The file as a whole cannot be read: no row is taken.
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Store(#[from] kindred_store::StoreError),
}

/// How an agency's extract names its columns: `toml`, for example
///
/// ```toml
/// source_system = "housing-northgate"
/// [columns]
/// id = "TenantRef"
/// given_name = "Forename"
/// family_name = "Surname"
/// date_of_birth = "DOB"
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub source_system: String,
    /// Kindred's column name → the extract's header.
    pub columns: BTreeMap<String, String>,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping, FeedError> {
        let m: Mapping = toml::from_str(text).map_err(|e| FeedError::File(format!("the mapping file: {e}")))?;
        let known = FeedKind::PersonExtract.columns();
        for ours in m.columns.keys() {
            if !known.contains(&ours.as_str()) {
                return Err(FeedError::File(format!(
                    "the mapping file names `{ours}`, which Kindred does not know: use {}",
                    known.join(", ")
                )));
            }
        }
        if !m.columns.contains_key("id") {
            return Err(FeedError::File("the mapping file must say which column is `id`".into()));
        }
        if m.source_system.trim().is_empty() {
            return Err(FeedError::File("the mapping file's source_system is empty".into()));
        }
        Ok(m)
    }
}

/// One import: which tenant, who supplies the data, and how to decide.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub tenant_id: i64,
    /// The organisation that supplies the file (a midwifery service, the child health records team…).
    pub organisation_id: i64,
    pub kind: FeedKind,
    /// Defaults to the mapping's, or to the feed's name.
    pub source_system: Option<String>,
    pub mapping: Option<Mapping>,
    pub file_name: String,
    pub started_by_user_id: Option<i64>,
    pub thresholds: Thresholds,
    pub today: Date,
}

/// How an import went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub run_id: i64,
    pub rows: i64,
    pub counts: BatchCounts,
}

/// Progress: rows done out of rows in the file.
pub trait Progress: Send + Sync {
    fn update(&self, done: u64, total: u64);
}

impl<F: Fn(u64, u64) + Send + Sync> Progress for F {
    fn update(&self, done: u64, total: u64) {
        self(done, total)
    }
}

struct Parsed {
    /// (line, Kindred's column → cell, the row as it was)
    rows: Vec<feeds::CsvRow>,
}

fn parse_csv(bytes: &[u8], kind: FeedKind, mapping: Option<&Mapping>) -> Result<Parsed, FeedError> {
    let rows = feeds::read_csv(bytes, kind, mapping.map(|m| &m.columns)).map_err(FeedError::File)?;
    Ok(Parsed { rows })
}

/// The header of a rejects file, then its rows: `line,column,reason,row`.
pub fn rejects_csv(rejects: &[Reject]) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record(["line", "column", "reason", "row"]);
    for r in rejects {
        let _ = w.write_record([r.line.to_string().as_str(), &r.column_name, &r.reason, &r.raw]);
    }
    String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A linkage record from a feed row's identity.
pub fn linkage_record(id: &str, i: &Identity) -> Record {
    standardise(&RawRecord {
        id: id.to_string(),
        nhs_number: i.nhs_number.clone(),
        given_name: i.given_name.clone(),
        middle_name: i.middle_name.clone(),
        family_name: i.family_name.clone(),
        date_of_birth: i.date_of_birth.map(kindred_domain::dates::iso),
        sex: i.sex.clone(),
        postcode: i.postcode.clone(),
        address: i.address.clone(),
        source_system: None,
    })
}

/// A linkage record from a person already in Kindred.
pub fn candidate_record(c: &Candidate) -> Record {
    standardise(&RawRecord {
        id: c.person_id.to_string(),
        nhs_number: c.nhs_number.clone(),
        given_name: Some(c.given_name.clone()),
        middle_name: None,
        family_name: Some(c.family_name.clone()),
        date_of_birth: c.date_of_birth.map(kindred_domain::dates::iso),
        sex: Some(c.sex.clone()),
        postcode: c.postcode.clone(),
        address: c.address.clone().filter(|a| !a.is_empty()),
        source_system: None,
    })
}

/// Each comparison's part in the weight of a record against a person.
pub fn explain(model: &Model, row: &Identity, person: &Candidate) -> Explanation {
    model.explain(&linkage_record("row", row), &candidate_record(person))
}

fn query_for(i: &Identity) -> CandidateQuery {
    let mut dates_of_birth = Vec::new();
    if let Some(d) = i.date_of_birth {
        dates_of_birth.push(d);
        if let Ok(m) = time::Month::try_from(d.day())
            && let Ok(swapped) = Date::from_calendar_date(d.year(), m, u8::from(d.month()))
            && swapped != d
        {
            dates_of_birth.push(swapped);
        }
    }
    CandidateQuery {
        nhs_number: i.nhs_number.clone(),
        dates_of_birth,
        given_name: i.given_name.clone(),
        family_name: i.family_name.clone(),
        postcode: i.postcode.clone(),
    }
}

/// The hub whose reach covers a postcode: a sector before a district.
pub fn hub_for<'a>(postcode: &Postcode, hubs: &'a [HubReach]) -> Option<&'a HubReach> {
    kindred_domain::postcode::best_cover(postcode, hubs, |h| &h.areas)
}

fn spec_of(i: &Identity) -> Option<NewPersonSpec> {
    Some(NewPersonSpec {
        given_name: i.given_name.clone().unwrap_or_else(|| "Unknown".into()),
        family_name: i.family_name.clone()?,
        date_of_birth: i.date_of_birth,
        expected_delivery: None,
        sex: i.sex.clone().unwrap_or_else(|| "unknown".into()),
        nhs_number: i.valid_nhs_number().map(|n| n.as_digits()),
        postcode: i.postcode.clone(),
        address: i.address.clone(),
    })
}

/// What a counted-only row keeps: no name, no number, no address.
#[derive(serde::Serialize)]
struct CountedOnly<'a> {
    event_on: Option<Date>,
    district: Option<&'a str>,
    /// The sector (`W2 5`): a few thousand households, kept so that births
    /// can be counted by ward and by hubs whose reach names sectors.
    sector: Option<&'a str>,
}

struct Planner<'a> {
    db: &'a Db,
    opts: &'a ImportOptions,
    model: Model,
    hubs: Vec<HubReach>,
}

/// The decision about a row's person, before effects.
enum Decision {
    Link(i64, f64, f64, LinkMethod),
    Review(Vec<(i64, f64, f64)>),
    New(Option<(f64, f64)>),
}

impl Planner<'_> {
    async fn decide(&self, row: &FeedRow) -> Result<Decision, FeedError> {
        if !row.identity.is_nameable() && row.identity.nhs_number.is_none() {
            return Ok(Decision::New(None));
        }
        // A pupil's UPN is the school's own identifier, checked by its check
        // letter: a person already holding it is the pupil.
        if let Some(upn) = &row.upn
            && let Some(c) = self.db.person_with_upn(self.opts.tenant_id, upn).await?
        {
            let weight = self
                .model
                .weight(&linkage_record(&row.source_key, &row.identity), &candidate_record(&c));
            return Ok(Decision::Link(c.person_id, 1.0, weight, LinkMethod::Automatic));
        }
        let candidates = self
            .db
            .feed_candidates(self.opts.tenant_id, &query_for(&row.identity))
            .await?;
        let me = linkage_record(&row.source_key, &row.identity);
        let mut scored: Vec<(i64, f64, f64)> = candidates
            .iter()
            .map(|c| {
                let them = candidate_record(c);
                (
                    c.person_id,
                    self.model.probability(&me, &them),
                    self.model.weight(&me, &them),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let best = scored.first().copied();
        Ok(match self.opts.thresholds.outcome(best.map(|b| b.1)) {
            MatchOutcome::Link => {
                let (id, p, w) = best.expect("a link has a best candidate");
                Decision::Link(id, p, w, LinkMethod::Automatic)
            }
            MatchOutcome::Review => Decision::Review(
                scored
                    .into_iter()
                    .filter(|c| c.1 >= self.opts.thresholds.review)
                    .take(REVIEW_CANDIDATES)
                    .collect(),
            ),
            MatchOutcome::NewPerson => Decision::New(best.map(|b| (b.1, b.2))),
        })
    }

    /// The effects of a row once its person is decided.
    async fn effects(&self, row: &FeedRow, decision: &Decision) -> Result<Effects, FeedError> {
        let linked = match decision {
            Decision::Link(id, ..) => Some(*id),
            _ => None,
        };
        let family_id = match linked {
            Some(id) => self.db.current_family_of(id).await?,
            None => None,
        };
        let hub = row.identity.postcode().and_then(|p| hub_for(&p, &self.hubs).cloned());
        let mut e = Effects {
            family_id,
            ..Default::default()
        };
        let today = self.opts.today;
        let family_name = row.identity.family_name.as_ref().map(|n| format!("{n} family"));
        match self.opts.kind {
            // Attendance and arrears are facts about the person, kept as the
            // source record and read by early identification: nothing else follows.
            FeedKind::PersonExtract | FeedKind::SchoolAttendance | FeedKind::HousingArrears => {}
            FeedKind::PathwayContacts => {
                e.pathway = row.stage.clone().zip(row.event_on);
                e.breastfeeding = row.breastfeeding.clone();
            }
            FeedKind::LiveBirths => {
                let baby = row.baby.clone().unwrap_or_default();
                let mut spec = spec_of(&baby).unwrap_or_else(|| NewPersonSpec {
                    given_name: "Baby".into(),
                    family_name: row.identity.family_name.clone().unwrap_or_default(),
                    date_of_birth: baby.date_of_birth,
                    expected_delivery: None,
                    sex: "unknown".into(),
                    nhs_number: None,
                    postcode: baby.postcode.clone(),
                    address: baby.address.clone(),
                });
                if baby.given_name.is_none() {
                    spec.given_name = "Baby".into();
                }
                if let Some(n) = baby.valid_nhs_number() {
                    let q = CandidateQuery {
                        nhs_number: Some(n.as_digits()),
                        ..Default::default()
                    };
                    e.child_person_id = self
                        .db
                        .feed_candidates(self.opts.tenant_id, &q)
                        .await?
                        .into_iter()
                        .find(|c| c.nhs_number.as_deref() == Some(n.as_digits().as_str()))
                        .map(|c| c.person_id);
                }
                e.child = Some((spec, MemberRole::Child));
                e.new_family_name = family_name;
                e.role = Some(MemberRole::Parent);
                e.hub = hub_work(
                    hub,
                    "Family hub: new baby welcome",
                    task::Kind::WelcomeContact,
                    "Welcome contact: a new baby in the hub's area".into(),
                    today + Duration::days(14),
                );
            }
            FeedKind::AntenatalBookings => {
                let edd = row.expected_delivery.unwrap_or(today);
                e.child = Some((
                    NewPersonSpec {
                        given_name: "Unborn baby".into(),
                        family_name: row.identity.family_name.clone().unwrap_or_default(),
                        date_of_birth: None,
                        expected_delivery: Some(edd),
                        sex: "unknown".into(),
                        nhs_number: None,
                        postcode: row.identity.postcode.clone(),
                        address: row.identity.address.clone(),
                    },
                    MemberRole::Unborn,
                ));
                e.new_family_name = family_name;
                e.role = Some(MemberRole::Parent);
                e.hub = hub_work(
                    hub,
                    "Family hub: antenatal",
                    task::Kind::FollowUp,
                    "Antenatal contact, from 28 weeks of pregnancy".into(),
                    feeds::antenatal_contact_due(edd).max(today),
                );
            }
            FeedKind::MissedImmunisations => {
                // Within the sharing rules: only when the supplier's health data
                // may reach the hub (a consent or an agreement), and only for a
                // child already in a family.
                if let (Some(f), Some(h)) = (family_id, hub)
                    && let Some(hub_org) = h.organisation_id
                {
                    // Never onto a sealed family's record.
                    let shared = self.db.sharing_facts(f).await?.is_some_and(|facts| {
                        !facts.sealed
                            && sharing::organisation_shares(
                                &facts,
                                self.opts.organisation_id,
                                hub_org,
                                sharing::EARLY_HELP_SHARING,
                                DataCategory::Health,
                                today,
                            )
                            .is_some()
                    });
                    if shared {
                        e.hub = Some(HubWork {
                            organisation_id: hub_org,
                            team_id: h.team_id,
                            service: "Family hub: immunisation follow-up".into(),
                            task_kind: task::Kind::FollowUp.code(),
                            task_title: format!(
                                "Missed immunisation: {}",
                                row.vaccine.as_deref().unwrap_or("see the child health record")
                            ),
                            due_on: today + Duration::days(7),
                        });
                    } else {
                        e.not_shared = true;
                    }
                }
            }
        }
        Ok(e)
    }

    fn plan(&self, decision: &Decision) -> PersonPlan {
        match decision {
            Decision::Link(person_id, probability, weight, method) => PersonPlan::Link {
                person_id: *person_id,
                probability: *probability,
                weight: *weight,
                method: *method,
            },
            Decision::Review(c) => PersonPlan::Review { candidates: c.clone() },
            Decision::New(best) => PersonPlan::New {
                probability: best.map(|b| b.0),
                weight: best.map(|b| b.1),
            },
        }
    }
}

/// The work a hub is asked for, when the hub belongs to an organisation.
fn hub_work(hub: Option<HubReach>, service: &str, kind: task::Kind, title: String, due_on: Date) -> Option<HubWork> {
    let h = hub?;
    Some(HubWork {
        organisation_id: h.organisation_id?,
        team_id: h.team_id,
        service: service.into(),
        task_kind: kind.code(),
        task_title: title,
        due_on,
    })
}

fn payload_of(kind: FeedKind, row: &FeedRow) -> String {
    if kind.needs_consent() && row.consent != Some(true) {
        let postcode = row.identity.postcode();
        serde_json::to_string(&CountedOnly {
            event_on: row.event_on,
            district: postcode.as_ref().map(|p| p.district()),
            sector: postcode.as_ref().map(|p| p.sector()),
        })
        .unwrap_or_default()
    } else {
        serde_json::to_string(row).unwrap_or_default()
    }
}

/// Reads a stored record's row back (none for a counted-only record).
pub fn stored_row(payload: &str) -> Option<FeedRow> {
    serde_json::from_str(payload).ok()
}

/// A file read, checked for its header, and recorded as a run: ready to import.
pub struct Started {
    pub run_id: i64,
    pub rows: i64,
    parsed: Parsed,
    opts: ImportOptions,
    source_system: String,
}

/// Reads a file and records its run, before any row: a file that cannot be
/// read at all (no header, a missing column, not CSV) fails here with a
/// message saying why, and no run is recorded.
pub async fn start(db: &Db, bytes: &[u8], opts: &ImportOptions) -> Result<Started, FeedError> {
    opts.thresholds.check().map_err(FeedError::File)?;
    let parsed = parse_csv(bytes, opts.kind, opts.mapping.as_ref())?;
    let source_system = opts
        .source_system
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| opts.mapping.as_ref().map(|m| m.source_system.clone()))
        .unwrap_or_else(|| opts.kind.code().to_string());
    let rows = parsed.rows.len() as i64;
    let run_id = db
        .start_import(&NewImport {
            tenant_id: opts.tenant_id,
            organisation_id: opts.organisation_id,
            kind: opts.kind,
            source_system: source_system.clone(),
            file_name: opts.file_name.clone(),
            file_sha256: sha256_hex(bytes),
            started_by_user_id: opts.started_by_user_id,
            rows_total: rows,
        })
        .await?;
    Ok(Started {
        run_id,
        rows,
        parsed,
        opts: opts.clone(),
        source_system,
    })
}

impl Started {
    /// Imports every row, batch by batch, and finishes the run (done, or
    /// failed with the reason).
    pub async fn finish(self, db: &Db, progress: &dyn Progress) -> Result<Outcome, FeedError> {
        let result = run(db, &self.parsed, &self.opts, &self.source_system, self.run_id, progress).await;
        match &result {
            Ok(_) => db.finish_import(self.run_id, ImportStatus::Done, None).await?,
            Err(e) => {
                db.finish_import(self.run_id, ImportStatus::Failed, Some(&e.to_string()))
                    .await?
            }
        }
        Ok(Outcome {
            run_id: self.run_id,
            rows: self.rows,
            counts: result?,
        })
    }
}

/// Imports one file: [`start`], then [`Started::finish`].
pub async fn import(
    db: &Db,
    bytes: &[u8],
    opts: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Outcome, FeedError> {
    start(db, bytes, opts).await?.finish(db, progress).await
}

async fn run(
    db: &Db,
    parsed: &Parsed,
    opts: &ImportOptions,
    source_system: &str,
    run_id: i64,
    progress: &dyn Progress,
) -> Result<BatchCounts, FeedError> {
    let planner = Planner {
        db,
        opts,
        model: Model::default(),
        hubs: db.hub_reach(opts.tenant_id).await?,
    };
    let target = BatchTarget {
        run_id: Some(run_id),
        by_user_id: opts.started_by_user_id,
        tenant_id: opts.tenant_id,
        organisation_id: opts.organisation_id,
        kind: opts.kind,
        source_system,
    };
    let mut total = BatchCounts::default();
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut done = 0u64;
    for chunk in parsed.rows.chunks(BATCH) {
        let mut checked = Vec::new();
        let mut rejects = Vec::new();
        for (line, cells, raw) in chunk {
            match feeds::check_row(opts.kind, cells, opts.today) {
                Ok(row) => {
                    if let Some(first) = seen.get(&row.source_key) {
                        rejects.push(Reject {
                            line: *line,
                            column_name: opts.kind.key_column().into(),
                            reason: format!("repeats the key of line {first}: each row needs its own key"),
                            raw: raw.clone(),
                        });
                        continue;
                    }
                    seen.insert(row.source_key.clone(), *line);
                    checked.push((*line, row));
                }
                Err(errors) => rejects.extend(errors.into_iter().map(|FieldError { column, reason }| Reject {
                    line: *line,
                    column_name: column,
                    reason,
                    raw: raw.clone(),
                })),
            }
        }
        let keys: Vec<String> = checked.iter().map(|(_, r)| r.source_key.clone()).collect();
        let existing = db.existing_records(opts.tenant_id, source_system, &keys).await?;
        let mut planned: Vec<PlannedRow> = Vec::new();
        let mut unchanged = 0;
        // People this batch will make, so a second row about one of them
        // waits for the first to land and is matched against it.
        let mut making: Vec<Record> = Vec::new();
        for (line, row) in checked {
            let payload = payload_of(opts.kind, &row);
            let payload_hash = sha256_hex(serde_json::to_string(&row).unwrap_or_default().as_bytes());
            let hub_site_id = row
                .identity
                .postcode()
                .and_then(|p| hub_for(&p, &planner.hubs))
                .map(|h| h.hub_site_id);
            let consent = row.consent == Some(true);
            let mut p = PlannedRow {
                line,
                source_key: row.source_key.clone(),
                payload,
                payload_hash,
                event_on: row.event_on,
                consent,
                hub_site_id,
                person: spec_of(&row.identity),
                plan: PersonPlan::Keep,
                effects: Effects::default(),
            };
            if let Some(e) = existing.get(&row.source_key) {
                if e.payload_hash == p.payload_hash {
                    unchanged += 1;
                } else {
                    planned.push(p);
                }
                continue;
            }
            if opts.kind.needs_consent() && !consent {
                p.plan = PersonPlan::CountOnly;
                p.person = None;
                planned.push(p);
                continue;
            }
            let me = linkage_record(&row.source_key, &row.identity);
            if making
                .iter()
                .any(|m| planner.model.probability(&me, m) >= opts.thresholds.review)
            {
                let c = db.apply_import_batch(&target, &planned, &rejects, unchanged).await?;
                add(&mut total, c);
                planned.clear();
                rejects.clear();
                unchanged = 0;
                making.clear();
            }
            let decision = planner.decide(&row).await?;
            if matches!(decision, Decision::New(_)) {
                making.push(me);
            }
            p.plan = planner.plan(&decision);
            if !matches!(decision, Decision::Review(_)) {
                p.effects = planner.effects(&row, &decision).await?;
            }
            planned.push(p);
        }
        let c = db.apply_import_batch(&target, &planned, &rejects, unchanged).await?;
        add(&mut total, c);
        done += chunk.len() as u64;
        progress.update(done, parsed.rows.len() as u64);
    }
    Ok(total)
}

fn add(total: &mut BatchCounts, c: BatchCounts) {
    total.new += c.new;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
    total.rejected += c.rejected;
    total.linked += c.linked;
    total.to_review += c.to_review;
    total.new_persons += c.new_persons;
    total.counted_only += c.counted_only;
    total.tasks_made += c.tasks_made;
    total.not_shared += c.not_shared;
}

/// A reviewer's answer for a whole record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The record is this person.
    Link(i64),
    /// None of the candidates: make a new person.
    NewPerson,
}

/// Applies a reviewer's resolution to a record waiting for review: links it
/// (or makes its person) and carries out what the row leads to, as the import
/// would have done above the threshold. Refused (`Ok(false)`) unless the
/// record is waiting for review.
pub async fn resolve(
    db: &Db,
    source_record_id: i64,
    resolution: Resolution,
    by_user_id: i64,
    today: Date,
) -> Result<bool, FeedError> {
    let record = db.source_record(source_record_id).await?;
    if record.status != RecordStatus::Review.code() {
        return Ok(false);
    }
    let Some(kind) = FeedKind::parse(&record.kind) else {
        return Ok(false);
    };
    let Some(row) = stored_row(&record.payload) else {
        return Ok(false);
    };
    let opts = ImportOptions {
        tenant_id: record.tenant_id,
        organisation_id: record.organisation_id,
        kind,
        source_system: Some(record.source_system.clone()),
        mapping: None,
        file_name: String::new(),
        started_by_user_id: Some(by_user_id),
        thresholds: Thresholds::default(),
        today,
    };
    let planner = Planner {
        db,
        opts: &opts,
        model: Model::default(),
        hubs: db.hub_reach(record.tenant_id).await?,
    };
    let decision = match resolution {
        Resolution::Link(person_id) => {
            let candidates = db.review_candidates(source_record_id).await?;
            let Some(c) = candidates.iter().find(|c| c.person_id == person_id) else {
                return Ok(false);
            };
            Decision::Link(person_id, c.match_probability, c.match_weight, LinkMethod::Reviewed)
        }
        Resolution::NewPerson => Decision::New(None),
    };
    let effects = planner.effects(&row, &decision).await?;
    let planned = PlannedRow {
        line: 0,
        source_key: record.source_key.clone(),
        payload: record.payload.clone(),
        payload_hash: sha256_hex(record.payload.as_bytes()),
        event_on: record.event_on,
        consent: record.consent,
        hub_site_id: record.hub_site_id,
        person: spec_of(&row.identity),
        plan: planner.plan(&decision),
        effects,
    };
    let target = BatchTarget {
        run_id: None,
        by_user_id: Some(by_user_id),
        tenant_id: record.tenant_id,
        organisation_id: record.organisation_id,
        kind,
        source_system: &record.source_system,
    };
    let done = db
        .apply_import_batch(&target, std::slice::from_ref(&planned), &[], 0)
        .await?;
    if done.linked + done.new_persons == 0 {
        // Someone else decided it first.
        return Ok(false);
    }
    match resolution {
        Resolution::Link(person_id) => {
            if let Some(c) = db
                .review_candidates(source_record_id)
                .await?
                .iter()
                .find(|c| c.person_id == person_id)
            {
                db.decide_candidate(c.review_id, kindred_domain::feeds::ReviewDecision::Link, by_user_id)
                    .await?;
            }
            db.supersede_candidates(source_record_id, person_id, by_user_id).await?;
        }
        Resolution::NewPerson => {
            for c in db.review_candidates(source_record_id).await? {
                if c.status != kindred_domain::feeds::ReviewDecision::NotMatch.code() {
                    db.decide_candidate(c.review_id, kindred_domain::feeds::ReviewDecision::NotMatch, by_user_id)
                        .await?;
                }
            }
        }
    }
    Ok(true)
}
