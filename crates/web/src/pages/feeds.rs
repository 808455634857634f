//! The health and agency feeds in the browser (issue 6): the data officer
//! uploads a file (`/imports`), watches its progress and reads its summary
//! and rejected rows (`/imports/{id}`, `/imports/{id}/rejects.csv`), works the
//! match review queue (`/matches`, `/matches/{id}`: the record beside each
//! candidate with every comparison's part in the weight; link, not a match,
//! unsure, new person; undo a link), and managers read the reach of each
//! family hub (`/reach`). Every page is for the user's own tenant only
//! (`access::data_office`, or a manager for reach) and every read is audited.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access;
use kindred_domain::audit::AuditAction;
use kindred_domain::feeds::{FeedKind, Identity, ImportStatus, RecordStatus, ReviewDecision, Thresholds};
use kindred_domain::suppression::{self, Shown};
use kindred_feeds::{FeedError, ImportOptions, Mapping, Resolution};
use kindred_store::feeds::{Candidate, ImportRun, SourceRecord};
use serde::Deserialize;
use time::Date;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids, invalid};
use crate::forms::Errors;
use crate::layout::{Layout, london_time};

/// The largest file the upload takes.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

fn require_data_office(cu: &CurrentUser) -> AppResult<()> {
    if access::data_office(&cu.user.subject(), cu.user.tenant_id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub struct RunRow {
    pub id: i64,
    pub kind: &'static str,
    pub file_name: String,
    pub source_system: String,
    pub organisation: String,
    pub started: String,
    pub finished: String,
    pub status: &'static str,
    pub running: bool,
    pub failed: bool,
    pub error: String,
    pub r: ImportRun,
    /// Percent of rows done.
    pub percent: i64,
}

fn run_row(r: ImportRun) -> RunRow {
    let status = r.status();
    RunRow {
        id: r.id,
        kind: r.kind().map(|k| k.label()).unwrap_or("Feed"),
        file_name: r.file_name.clone(),
        source_system: r.source_system.clone(),
        organisation: r.organisation_name.clone(),
        started: london_time(r.started_at_ms, true),
        finished: r.finished_at_ms.map(|t| london_time(t, true)).unwrap_or_default(),
        status: status.map(|s| s.label()).unwrap_or("Unknown"),
        running: status == Some(ImportStatus::Running),
        failed: status == Some(ImportStatus::Failed),
        error: r.error.clone().unwrap_or_default(),
        percent: (r.rows_done * 100).checked_div(r.rows_total).unwrap_or(100).min(100),
        r,
    }
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    l: Layout,
    runs: Vec<RunRow>,
    kinds: Vec<(&'static str, &'static str)>,
    organisations: Vec<(i64, String)>,
    errors: Errors,
    kind: String,
    organisation: String,
    source_system: String,
    columns: Vec<(&'static str, String)>,
}

async fn imports_page(state: &AppState, cu: &CurrentUser, errors: Errors, form: &UploadForm) -> AppResult<ImportsPage> {
    let runs = state
        .db
        .import_runs(cu.user.tenant_id, 50)
        .await?
        .into_iter()
        .map(run_row)
        .collect();
    let organisations = state
        .db
        .organisations(cu.user.tenant_id)
        .await?
        .into_iter()
        .filter(|o| o.active)
        .map(|o| (o.id, o.name))
        .collect();
    Ok(ImportsPage {
        l: Layout::new("Imports", cu),
        runs,
        kinds: FeedKind::ALL.iter().map(|k| (k.code(), k.label())).collect(),
        organisations,
        errors,
        kind: form.kind.clone(),
        organisation: form.organisation.clone(),
        source_system: form.source_system.clone(),
        columns: FeedKind::ALL
            .iter()
            .filter(|k| **k != FeedKind::PersonExtract)
            .map(|k| (k.label(), k.columns().join(", ")))
            .collect(),
    })
}

pub async fn imports(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    require_data_office(&cu)?;
    let page = imports_page(&state, &cu, Errors::default(), &UploadForm::default()).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::ImportRuns,
        "web GET /imports",
        format!("runs={}", page.runs.len()),
    )
    .await?;
    Ok(Html(page.render()?))
}

#[derive(Default)]
struct UploadForm {
    csrf: String,
    kind: String,
    organisation: String,
    source_system: String,
    file_name: String,
    file: Vec<u8>,
    mapping: Vec<u8>,
}

async fn read_upload(mut m: Multipart) -> Result<UploadForm, AppError> {
    let mut f = UploadForm::default();
    let unreadable = || AppError::BadRequest("The upload could not be read. Go back and try again.");
    while let Some(field) = m.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                f.file_name = field.file_name().unwrap_or_default().to_string();
                f.file = field.bytes().await.map_err(|_| unreadable())?.to_vec();
            }
            "mapping" => f.mapping = field.bytes().await.map_err(|_| unreadable())?.to_vec(),
            "csrf" => f.csrf = field.text().await.map_err(|_| unreadable())?,
            "kind" => f.kind = field.text().await.map_err(|_| unreadable())?,
            "organisation" => f.organisation = field.text().await.map_err(|_| unreadable())?,
            "source_system" => f.source_system = field.text().await.map_err(|_| unreadable())?,
            _ => {}
        }
    }
    Ok(f)
}

/// Takes an upload, checks the file as a whole, records the run and imports
/// it in the background; the run's page shows the progress.
pub async fn upload(State(state): State<AppState>, cu: CurrentUser, multipart: Multipart) -> AppResult<Response> {
    require_data_office(&cu)?;
    let form = read_upload(multipart).await?;
    if !crate::auth::tokens_match(&form.csrf, &cu.csrf) {
        return Err(AppError::BadRequest(
            "This form has expired. Go back, reload the page and try again.",
        ));
    }
    let mut errors = Errors::default();
    let kind = FeedKind::parse(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Select the feed this file is");
    }
    let organisation = form.organisation.parse::<i64>().ok();
    let org_ok = match organisation {
        Some(id) => state
            .db
            .organisation(id)
            .await
            .is_ok_and(|o| o.tenant_id == cu.user.tenant_id),
        None => false,
    };
    if !org_ok {
        errors.add("organisation", "Select the organisation that supplied the file");
    }
    if form.file.is_empty() {
        errors.add("file", "Choose a CSV file to upload");
    }
    let mut mapping = None;
    if kind == Some(FeedKind::PersonExtract) {
        if form.mapping.is_empty() {
            errors.add("mapping", "An agency person extract needs its mapping file");
        } else {
            match Mapping::parse(&String::from_utf8_lossy(&form.mapping)) {
                Ok(m) => mapping = Some(m),
                Err(e) => errors.add("mapping", e.to_string()),
            }
        }
    }
    let (Some(kind), Some(organisation_id), true) = (kind, organisation, errors.0.is_empty()) else {
        return invalid(imports_page(&state, &cu, errors, &form).await?);
    };
    let opts = ImportOptions {
        tenant_id: cu.user.tenant_id,
        organisation_id,
        kind,
        source_system: Some(form.source_system.trim().to_string()).filter(|s| !s.is_empty()),
        mapping,
        file_name: form.file_name.chars().take(200).collect(),
        started_by_user_id: Some(cu.user.id),
        thresholds: Thresholds::default(),
        today: kindred_store::today(),
    };
    let started = match kindred_feeds::start(&state.db, &form.file, &opts).await {
        Ok(s) => s,
        Err(FeedError::File(message)) => {
            errors.add("file", message);
            return invalid(imports_page(&state, &cu, errors, &form).await?);
        }
        Err(FeedError::Store(e)) => return Err(e.into()),
    };
    let run_id = started.run_id;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::ImportRun(run_id),
        "web POST /imports",
        format!("kind={} rows={}", kind.code(), started.rows),
    )
    .await?;
    let db = state.db.clone();
    tokio::spawn(async move {
        if let Err(e) = started.finish(&db, &|_: u64, _: u64| {}).await {
            tracing::warn!(run_id, error = %e, "import failed");
        }
    });
    Ok(Redirect::to(&format!("/imports/{run_id}")).into_response())
}

#[derive(Template)]
#[template(path = "import_run.html")]
struct RunPage {
    l: Layout,
    run: RunRow,
    rejects: Vec<kindred_store::feeds::Reject>,
    more_rejects: usize,
}

async fn own_run(state: &AppState, cu: &CurrentUser, id: i64) -> AppResult<ImportRun> {
    require_data_office(cu)?;
    own(state.db.import_run(id).await, |r| r.tenant_id, cu)
}

/// A record of the user's own tenant, or the not-found page (the same for one of another tenant).
fn own<T>(found: kindred_store::Result<T>, tenant: impl Fn(&T) -> i64, cu: &CurrentUser) -> AppResult<T> {
    match found {
        Ok(r) if tenant(&r) == cu.user.tenant_id => Ok(r),
        Ok(_) | Err(kindred_store::StoreError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

const REJECTS_SHOWN: usize = 100;

pub async fn run(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let r = own_run(&state, &cu, id).await?;
    let mut rejects = state.db.import_rejects(id).await?;
    let more_rejects = rejects.len().saturating_sub(REJECTS_SHOWN);
    rejects.truncate(REJECTS_SHOWN);
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::ImportRun(id),
        "web GET /imports/{id}",
        String::new(),
    )
    .await?;
    let page = RunPage {
        l: Layout::new("Import", &cu),
        run: run_row(r),
        rejects,
        more_rejects,
    };
    Ok(Html(page.render()?))
}

/// The progress of a run, as JSON for the run page's script: rows done, rows
/// in all, and whether it is still running.
pub async fn progress(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let r = own_run(&state, &cu, id).await?;
    Ok(axum::Json(serde_json::json!({
        "done": r.rows_done,
        "total": r.rows_total,
        "running": r.status() == Some(ImportStatus::Running),
    }))
    .into_response())
}

pub async fn rejects_csv(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    own_run(&state, &cu, id).await?;
    let rejects = state.db.import_rejects(id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Export,
        Record::ImportRun(id),
        "web GET /imports/{id}/rejects.csv",
        format!("rows={}", rejects.len()),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}-rejects.csv\""),
            ),
        ],
        kindred_feeds::rejects_csv(&rejects),
    )
        .into_response())
}

pub struct QueueRow {
    pub id: i64,
    pub kind: &'static str,
    pub source_system: String,
    pub organisation: String,
    pub candidates: i64,
    pub best: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "matches.html")]
struct QueuePage {
    l: Layout,
    rows: Vec<QueueRow>,
}

pub async fn queue(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    require_data_office(&cu)?;
    let rows: Vec<QueueRow> = state
        .db
        .review_queue(cu.user.tenant_id, 200)
        .await?
        .into_iter()
        .map(|q| QueueRow {
            id: q.source_record_id,
            kind: FeedKind::parse(&q.kind).map(|k| k.label()).unwrap_or("Feed"),
            source_system: q.source_system,
            organisation: q.organisation_name,
            candidates: q.candidates,
            best: percent(q.best_probability),
            updated: london_time(q.updated_at_ms, true),
        })
        .collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::MatchQueue,
        "web GET /matches",
        format!("rows={}", rows.len()),
    )
    .await?;
    Ok(Html(
        QueuePage {
            l: Layout::new("Match review", &cu),
            rows,
        }
        .render()?,
    ))
}

fn percent(p: f64) -> String {
    if (0.9995..1.0).contains(&p) {
        return ">99.9%".into();
    }
    format!("{:.1}%", p * 100.0)
}

/// One field of the side-by-side view.
pub struct FieldRow {
    pub label: &'static str,
    pub record: String,
    pub candidate: String,
    pub level: String,
    pub weight: String,
    /// Evidence for (positive), against (negative) or none.
    pub sign: i8,
}

pub struct CandidateView {
    pub person_id: i64,
    pub name: String,
    pub probability: String,
    pub weight: String,
    pub prior: String,
    pub status: &'static str,
    pub pending: bool,
    pub decided: String,
    pub fields: Vec<FieldRow>,
}

pub struct LinkView {
    pub person_id: i64,
    pub method: &'static str,
    pub probability: String,
    pub by: String,
    pub at: String,
    pub undone: String,
}

#[derive(Template)]
#[template(path = "match.html")]
struct MatchPage {
    l: Layout,
    id: i64,
    kind: &'static str,
    source_system: String,
    source_key: String,
    organisation: String,
    status: &'static str,
    waiting: bool,
    linked_person: Option<i64>,
    counted_only: bool,
    record: Vec<(&'static str, String)>,
    candidates: Vec<CandidateView>,
    links: Vec<LinkView>,
    errors: Errors,
}

fn show(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn show_date(d: Option<Date>) -> String {
    d.map(kindred_domain::dates::iso).unwrap_or_default()
}

const WITHHELD: &str = "Withheld: a restricted person";

fn identity_rows(i: &Identity) -> Vec<(&'static str, String)> {
    vec![
        ("NHS number", show(&i.nhs_number)),
        ("First name", show(&i.given_name)),
        ("Middle name", show(&i.middle_name)),
        ("Surname", show(&i.family_name)),
        ("Date of birth", show_date(i.date_of_birth)),
        ("Sex", show(&i.sex)),
        ("Postcode", show(&i.postcode)),
        ("Address", show(&i.address)),
    ]
}

/// The identity field an explanation's comparison is about.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Nhs,
    Given,
    Family,
    Birth,
    Sex,
    Postcode,
    Address,
    /// A comparison of no single field (the household context).
    None,
}

fn field_of(comparison: &str) -> Field {
    let c = comparison.to_ascii_lowercase();
    if c.contains("nhs") {
        Field::Nhs
    } else if c.contains("first") || c.contains("given") || c.contains("forename") {
        Field::Given
    } else if c.contains("surname") || c.contains("family") {
        Field::Family
    } else if c.contains("birth") {
        Field::Birth
    } else if c.contains("sex") {
        Field::Sex
    } else if c.contains("postcode") {
        Field::Postcode
    } else if c.contains("address") {
        Field::Address
    } else {
        Field::None
    }
}

/// Whether a field shows where a person lives.
fn withheld_field(field: Field) -> bool {
    matches!(field, Field::Postcode | Field::Address)
}

/// The candidate's value of a field.
fn candidate_value(c: &Candidate, field: Field, address_shown: bool) -> String {
    if withheld_field(field) && !address_shown {
        return WITHHELD.into();
    }
    match field {
        Field::Nhs => c.nhs_number.clone().unwrap_or_default(),
        Field::Given => c.given_name.clone(),
        Field::Family => c.family_name.clone(),
        Field::Birth => show_date(c.date_of_birth),
        Field::Sex => c.sex.clone(),
        Field::Postcode => c.postcode.clone().unwrap_or_default(),
        Field::Address => c.address.clone().unwrap_or_default(),
        Field::None => String::new(),
    }
}

/// The record's value of a field.
fn record_value(i: &Identity, field: Field) -> String {
    match field {
        Field::Nhs => show(&i.nhs_number),
        Field::Given => show(&i.given_name),
        Field::Family => show(&i.family_name),
        Field::Birth => show_date(i.date_of_birth),
        Field::Sex => show(&i.sex),
        Field::Postcode => show(&i.postcode),
        Field::Address => show(&i.address),
        Field::None => String::new(),
    }
}

async fn own_record(state: &AppState, cu: &CurrentUser, id: i64) -> AppResult<SourceRecord> {
    require_data_office(cu)?;
    own(state.db.source_record(id).await, |r| r.tenant_id, cu)
}

async fn match_page(state: &AppState, cu: &CurrentUser, r: SourceRecord, errors: Errors) -> AppResult<MatchPage> {
    let row = kindred_feeds::stored_row(&r.payload);
    let reviews = state.db.review_candidates(r.id).await?;
    let ids: Vec<i64> = reviews.iter().map(|c| c.person_id).chain(r.person_id).collect();
    let people = state.db.candidates_by_id(&ids).await?;
    let restrictions = state.db.restriction_facts(&ids).await?;
    let subject = cu.user.subject();
    // The record may be about a restricted person (a candidate, or the person
    // it is linked to): then its own address is withheld as theirs is.
    let record_address_shown = restrictions.values().all(|f| access::identity_address(&subject, f));
    let model = kindred_linkage::Model::default();
    let mut candidates = Vec::new();
    for rc in &reviews {
        let Some(person) = people.iter().find(|p| p.person_id == rc.person_id) else {
            continue;
        };
        let address_shown = restrictions
            .get(&rc.person_id)
            .is_none_or(|f| access::identity_address(&subject, f));
        let fields = match &row {
            Some(row) => {
                let e = kindred_feeds::explain(&model, &row.identity, person);
                let prior = e.prior_weight;
                let fields = e
                    .contributions
                    .iter()
                    .map(|c| (c, field_of(c.comparison)))
                    .map(|(c, field)| FieldRow {
                        label: c.comparison,
                        record: if record_address_shown || !withheld_field(field) {
                            record_value(&row.identity, field)
                        } else {
                            WITHHELD.into()
                        },
                        candidate: candidate_value(person, field, address_shown),
                        level: c.level.clone(),
                        weight: format!("{:+.2}", c.weight),
                        sign: if c.weight > 0.05 {
                            1
                        } else if c.weight < -0.05 {
                            -1
                        } else {
                            0
                        },
                    })
                    .collect();
                (fields, format!("{prior:+.2}"))
            }
            None => (Vec::new(), String::new()),
        };
        let status = ReviewDecision::parse(&rc.status).unwrap_or(ReviewDecision::Pending);
        candidates.push(CandidateView {
            person_id: rc.person_id,
            name: format!("{} {}", person.given_name, person.family_name),
            probability: percent(rc.match_probability),
            weight: format!("{:+.2}", rc.match_weight),
            prior: fields.1,
            status: status.label(),
            pending: matches!(status, ReviewDecision::Pending | ReviewDecision::Unsure),
            decided: match (&rc.decided_by_name, rc.decided_at_ms) {
                (Some(n), Some(t)) => format!("{n}, {}", london_time(t, true)),
                _ => String::new(),
            },
            fields: fields.0,
        });
        gate::audit(
            state,
            cu,
            AuditAction::Read,
            Record::PersonIdentity(rc.person_id),
            "web GET /matches/{id}",
            format!("match_review source_record={}", r.id),
        )
        .await?;
    }
    let links = state
        .db
        .record_links(r.id)
        .await?
        .into_iter()
        .map(|l| LinkView {
            person_id: l.person_id,
            method: kindred_domain::feeds::LinkMethod::parse(&l.method)
                .map(|m| m.label())
                .unwrap_or("Linked"),
            probability: l.match_probability.map(percent).unwrap_or_default(),
            by: l.linked_by_name.unwrap_or_else(|| "An import".into()),
            at: london_time(l.linked_at_ms, true),
            undone: match (l.undone_by_name, l.undone_at_ms) {
                (Some(n), Some(t)) => format!("Undone by {n}, {}", london_time(t, true)),
                _ => String::new(),
            },
        })
        .collect();
    let status = RecordStatus::parse(&r.status);
    Ok(MatchPage {
        l: Layout::new("Match review", cu),
        id: r.id,
        kind: FeedKind::parse(&r.kind).map(|k| k.label()).unwrap_or("Feed"),
        source_system: r.source_system.clone(),
        source_key: r.source_key.clone(),
        organisation: r.organisation_name.clone(),
        status: status.map(|s| s.label()).unwrap_or("Unknown"),
        waiting: status == Some(RecordStatus::Review),
        linked_person: r.person_id,
        counted_only: status == Some(RecordStatus::CountedOnly),
        record: row
            .as_ref()
            .map(|row| {
                let mut i = row.identity.clone();
                if !record_address_shown {
                    i.postcode = Some(WITHHELD.into());
                    i.address = Some(WITHHELD.into());
                }
                identity_rows(&i)
            })
            .unwrap_or_default(),
        candidates,
        links,
        errors,
    })
}

pub async fn record(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let r = own_record(&state, &cu, id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::SourceRecord(id),
        "web GET /matches/{id}",
        String::new(),
    )
    .await?;
    Ok(Html(match_page(&state, &cu, r, Errors::default()).await?.render()?))
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    person: String,
}

pub async fn decide(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let r = own_record(&state, &cu, id).await?;
    let candidates = state.db.review_candidates(id).await?;
    let person = f
        .person
        .parse::<i64>()
        .ok()
        .filter(|p| candidates.iter().any(|c| c.person_id == *p));
    let mut errors = Errors::default();
    if r.status != RecordStatus::Review.code() {
        errors.add(
            "decision",
            "This record is no longer waiting for review: someone has decided it",
        );
    }
    let decision = ReviewDecision::parse(&f.decision).filter(|d| {
        matches!(
            d,
            ReviewDecision::Link | ReviewDecision::NotMatch | ReviewDecision::Unsure
        )
    });
    let new_person = f.decision == "new_person";
    if decision.is_none() && !new_person {
        errors.add(
            "decision",
            "Choose whether this is the same person, not a match, or unsure",
        );
    } else if decision.is_some() && person.is_none() {
        errors.add("decision", "Choose which candidate you mean");
    }
    if !errors.0.is_empty() {
        return invalid(match_page(&state, &cu, r, errors).await?);
    }
    let today = kindred_store::today();
    let detail;
    match (decision, person) {
        (Some(ReviewDecision::Link), Some(p)) => {
            kindred_feeds::resolve(&state.db, id, Resolution::Link(p), cu.user.id, today)
                .await
                .map_err(feed_error)?;
            detail = format!("link person={p}");
        }
        (Some(d), Some(p)) => {
            if let Some(c) = candidates.iter().find(|c| c.person_id == p) {
                state.db.decide_candidate(c.review_id, d, cu.user.id).await?;
            }
            detail = format!("{} person={p}", d.code());
        }
        _ => {
            kindred_feeds::resolve(&state.db, id, Resolution::NewPerson, cu.user.id, today)
                .await
                .map_err(feed_error)?;
            detail = "new_person".into();
        }
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::SourceRecord(id),
        "web POST /matches/{id}",
        detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/matches/{id}")).into_response())
}

fn feed_error(e: FeedError) -> AppError {
    match e {
        FeedError::Store(s) => s.into(),
        FeedError::File(_) => AppError::BadRequest("This record could not be decided."),
    }
}

pub async fn undo(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    let r = own_record(&state, &cu, id).await?;
    let linked = matches!(
        RecordStatus::parse(&r.status),
        Some(RecordStatus::Linked | RecordStatus::LinkedReviewed)
    );
    if !linked {
        return Err(AppError::Conflict("Only a linked record can be unlinked."));
    }
    let person = state.db.undo_link(id, cu.user.id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::SourceRecord(id),
        "web POST /matches/{id}/undo",
        format!("undo_link person={}", person.unwrap_or_default()),
    )
    .await?;
    Ok(Redirect::to(&format!("/matches/{id}")).into_response())
}

pub struct ReachHub {
    pub name: String,
    pub months: Vec<ReachMonth>,
    pub births: Shown<i64>,
    pub with_consent: Shown<i64>,
    pub registered: Shown<i64>,
    pub rate: String,
    pub chart: String,
}

/// A month's figures, each count from 1 to 4 withheld (`domain::suppression`).
pub struct ReachMonth {
    pub month: String,
    pub births: Shown<i64>,
    pub with_consent: Shown<i64>,
    pub registered: Shown<i64>,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "reach.html")]
struct ReachPage {
    l: Layout,
    hubs: Vec<ReachHub>,
    from: String,
    to: String,
}

fn rate(registered: i64, births: i64) -> String {
    suppression::percentage_text(registered, births)
}

/// A bar chart of births (light) and registered families (dark) per month, in SVG.
fn reach_chart(months: &[ReachMonth]) -> String {
    let max = months.iter().filter_map(|m| m.births.value()).max().unwrap_or(1).max(1) as f64;
    let (w, h, bar) = (48.0, 120.0, 18.0);
    let mut out = format!(
        r#"<svg class="app-chart" role="img" aria-label="Births and registered families by month" viewBox="0 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">"#,
        months.len() as f64 * w + 10.0,
        h + 30.0,
        months.len() as f64 * w + 10.0,
        h + 30.0
    );
    for (i, m) in months.iter().enumerate() {
        let x = 10.0 + i as f64 * w;
        // A withheld count draws no bar; the table says it is withheld.
        let bh = m.births.value().unwrap_or(0) as f64 / max * h;
        let rh = m.registered.value().unwrap_or(0) as f64 / max * h;
        out.push_str(&format!(
            "<rect x=\"{x:.0}\" y=\"{:.1}\" width=\"{bar}\" height=\"{bh:.1}\" fill=\"#b1b4b6\"><title>{}: {} births</title></rect>",
            h - bh,
            m.month,
            m.births
        ));
        out.push_str(&format!(
            "<rect x=\"{:.0}\" y=\"{:.1}\" width=\"{bar}\" height=\"{rh:.1}\" fill=\"#1d70b8\"><title>{}: {} registered</title></rect>",
            x + bar,
            h - rh,
            m.month,
            m.registered
        ));
        out.push_str(&format!(
            "<text x=\"{x:.0}\" y=\"{:.0}\" font-size=\"10\" fill=\"#0b0c0c\">{}</text>",
            h + 16.0,
            &m.month[2..]
        ));
    }
    out.push_str("</svg>");
    out
}

/// The reach of each family hub: births in its area by month (from the live
/// births feed, with consent or not), those with consent, and how many of
/// those families the hub has registered (their welcome contact done).
pub async fn reach(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    let subject = cu.user.subject();
    if !access::aggregates(&subject, cu.user.tenant_id) {
        return Err(AppError::NotFound);
    }
    let today = kindred_store::today();
    let from = Date::from_calendar_date(today.year() - 1, today.month(), 1).unwrap_or(today);
    let rows = state.db.reach(cu.user.tenant_id, from, today).await?;
    let sites = state.db.hub_reach(cu.user.tenant_id).await?;
    let mut hubs: Vec<ReachHub> = Vec::new();
    let mut names: Vec<(Option<i64>, String)> = sites.iter().map(|s| (Some(s.hub_site_id), s.name.clone())).collect();
    names.push((None, "Outside every hub's reach".into()));
    for (id, name) in names {
        let months: Vec<ReachMonth> = rows
            .iter()
            .filter(|r| r.hub_site_id == id)
            .map(|r| ReachMonth {
                month: r.month.clone(),
                births: suppression::count(r.births),
                with_consent: suppression::count(r.with_consent),
                registered: suppression::count(r.registered),
                rate: rate(r.registered, r.births),
            })
            .collect();
        if months.is_empty() && id.is_none() {
            continue;
        }
        let of = |id: Option<i64>| rows.iter().filter(move |r| r.hub_site_id == id);
        let births: i64 = of(id).map(|r| r.births).sum();
        let registered: i64 = of(id).map(|r| r.registered).sum();
        let with_consent: i64 = of(id).map(|r| r.with_consent).sum();
        hubs.push(ReachHub {
            name,
            births: suppression::count(births),
            with_consent: suppression::count(with_consent),
            registered: suppression::count(registered),
            rate: rate(registered, births),
            chart: reach_chart(&months),
            months,
        });
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Reach,
        "web GET /reach",
        String::new(),
    )
    .await?;
    let page = ReachPage {
        l: Layout::new("Reach", &cu),
        hubs,
        from: kindred_domain::dates::long(from),
        to: kindred_domain::dates::long(today),
    };
    Ok(Html(page.render()?))
}
