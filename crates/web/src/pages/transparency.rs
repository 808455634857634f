//! Transparency (issue 5): who viewed a person's records, the access logs as
//! CSV, the family-facing access report (staff-side printable version), the
//! privacy officer's audit search and CSV, subject access request bundles
//! (HTML and JSON) and the tenant's redaction rules.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::audit::AuditAction;
use kindred_domain::model::Profession;
use kindred_domain::redaction::{self, Bundle, Rule, Rules};
use kindred_domain::transparency::{self as tr, ACCESS_CSV_HEADER};
use kindred_domain::{NhsNumber, dates};
use kindred_store::transparency::{AuditFilter, AuditRow};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

// ---------- rows, as shown and downloaded ----------

/// One audit event in plain words.
pub struct AccessRow {
    pub when: String,
    pub when_iso: String,
    pub who: String,
    pub organisation: String,
    pub role: String,
    pub action: &'static str,
    pub record: String,
    pub why: String,
    pub route: String,
}

fn role_of(r: &AuditRow) -> String {
    let roles = r.actor_roles.as_deref().unwrap_or_default();
    if roles.split(',').any(|x| x.trim() == "privacy_officer") {
        return "Privacy officer".into();
    }
    r.actor_profession
        .as_deref()
        .map(|p| {
            Profession::parse(p)
                .map(|x| x.label().to_string())
                .unwrap_or_else(|| p.into())
        })
        .unwrap_or_default()
}

fn is_portal(r: &AuditRow) -> bool {
    r.event.actor_user_id.is_none() && r.event.record_kind == "portal"
}

fn row(r: &AuditRow, for_family: bool) -> AccessRow {
    let who = match &r.actor_name {
        Some(n) => n.clone(),
        None if is_portal(r) => "The family (the family portal)".into(),
        None => "The system".into(),
    };
    AccessRow {
        when: super::when(r.event.at_ms),
        when_iso: tr::iso_utc(r.event.at_ms),
        who,
        organisation: r.actor_organisation.clone().unwrap_or_default(),
        role: role_of(r),
        action: AuditAction::label(&r.event.action),
        record: tr::record_plain(&r.event.record_kind),
        why: if for_family {
            tr::why_for_family(&r.event.detail)
        } else {
            tr::why_plain(&r.event.detail)
        },
        route: r.event.route.clone(),
    }
}

fn csv(rows: &[AuditRow], filename: &str) -> Response {
    let mut body = tr::csv_line(&ACCESS_CSV_HEADER);
    for r in rows {
        let v = row(r, false);
        body.push_str(&tr::csv_line(&[
            v.when_iso.as_str(),
            &v.who,
            &v.organisation,
            &v.role,
            v.action,
            &v.record,
            &v.why,
            &v.route,
        ]));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The most rows one access log shows or downloads.
const LOG_LIMIT: i64 = 2000;

// ---------- who viewed, per person; the CSVs ----------

#[derive(Template)]
#[template(path = "person_access_log.html")]
struct PersonLogPage {
    l: Layout,
    id: i64,
    name: String,
    entries: Vec<AccessRow>,
}

pub async fn person_access_log(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
) -> AppResult<Html<String>> {
    let (person, _) = gate::person(
        &state,
        &cu,
        id,
        FamilyAction::ViewAccessLog,
        false,
        "web GET /persons/{id}/access-log",
    )
    .await?;
    let rows = state.db.person_audit_rows(id, LOG_LIMIT).await?;
    let page = PersonLogPage {
        l: Layout::new(format!("Who viewed {}", person.full_name()), &cu),
        id,
        name: person.full_name(),
        entries: rows.iter().map(|r| row(r, false)).collect(),
    };
    Ok(Html(page.render()?))
}

pub async fn person_access_csv(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
) -> AppResult<Response> {
    gate::export_person_log(&state, &cu, id, "web GET /persons/{id}/access-log.csv").await?;
    let rows = state.db.person_audit_rows(id, LOG_LIMIT).await?;
    Ok(csv(&rows, &format!("person-{id}-access-log.csv")))
}

pub async fn family_access_csv(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
) -> AppResult<Response> {
    gate::export_family_log(&state, &cu, id, "web GET /families/{id}/access-log.csv").await?;
    let rows = state.db.family_audit_rows(id, LOG_LIMIT).await?;
    Ok(csv(&rows, &format!("family-{id}-access-log.csv")))
}

// ---------- the family-facing access report ----------

pub struct ReportEntry {
    pub when: String,
    pub who: String,
    pub organisation: String,
    pub role: String,
    pub what: String,
    pub why: String,
}

pub struct MonthGroup {
    pub label: String,
    pub entries: Vec<ReportEntry>,
}

/// The report a family reads: newest month first, in plain words, without
/// the family's own use of the portal (returned as a count, to say so).
pub fn report(rows: &[AuditRow]) -> (Vec<MonthGroup>, usize) {
    let mut months: Vec<((i32, u8), MonthGroup)> = vec![];
    let mut portal_uses = 0;
    for r in rows {
        if is_portal(r) {
            portal_uses += 1;
            continue;
        }
        let v = row(r, true);
        let entry = ReportEntry {
            when: v.when,
            who: v.who,
            organisation: v.organisation,
            role: v.role,
            what: format!("{} {}", v.action, v.record),
            why: v.why,
        };
        let m = tr::month_of(r.event.at_ms);
        match months.last_mut() {
            Some((k, g)) if *k == m => g.entries.push(entry),
            _ => months.push((
                m,
                MonthGroup {
                    label: tr::month_label(m.0, m.1),
                    entries: vec![entry],
                },
            )),
        }
    }
    (months.into_iter().map(|(_, g)| g).collect(), portal_uses)
}

#[derive(Template)]
#[template(path = "access_report.html")]
struct ReportPage {
    l: Layout,
    id: i64,
    name: String,
    months: Vec<MonthGroup>,
    portal_uses: usize,
    printed: String,
}

pub async fn family_access_report(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
) -> AppResult<Html<String>> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::ViewAccessLog,
        false,
        "web GET /families/{id}/access-report",
    )
    .await?;
    let rows = state.db.family_audit_rows(id, LOG_LIMIT).await?;
    let (months, portal_uses) = report(&rows);
    let page = ReportPage {
        l: Layout::new(format!("Access report for {}", family.name), &cu),
        id,
        name: family.name,
        months,
        portal_uses,
        printed: dates::long(kindred_store::today()),
    };
    Ok(Html(page.render()?))
}

// ---------- the audit search ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub user: String,
    pub user_id: String,
    pub kind: String,
    pub record_id: String,
    pub family_id: String,
    pub from_day: String,
    pub from_month: String,
    pub from_year: String,
    pub to_day: String,
    pub to_month: String,
    pub to_year: String,
    pub action: String,
    pub page: String,
}

/// The record kinds one may search by: (code, label).
const KINDS: &[(&str, &str)] = &[
    ("family", "Family record"),
    ("person", "Person record"),
    ("contact", "Contact or case note"),
    ("assessment", "Family assessment"),
    ("plan", "Family plan"),
    ("early_help_assessment", "Early help assessment"),
    ("questionnaire", "Development questionnaire"),
    ("two_year_review", "Two-year review"),
    ("episode", "Episode of work"),
    ("referral", "Referral"),
    ("task", "Task"),
    ("portal", "Family portal"),
    ("portal_invite", "Portal invitation"),
    ("search", "Search"),
    ("sar", "Subject access request"),
    ("audit_search", "Audit search"),
];

const ACTIONS: &[&str] = &[
    "read",
    "create",
    "update",
    "search",
    "export",
    "sign_in",
    "sign_out",
    "sign_in_failed",
    "erase",
];

const PAGE_SIZE: i64 = 50;

/// What the search form asked for, validated, and which fields were used.
struct Parsed {
    filter: AuditFilter,
    fields: Vec<&'static str>,
    page: i64,
    /// The same search as a query string, without the page (for links).
    query: String,
}

fn whole(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|v| *v > 0)
}

fn date_field(
    errors: &mut Errors,
    field: &'static str,
    label: &str,
    (d, m, y): (&str, &str, &str),
) -> Option<time::Date> {
    if d.trim().is_empty() && m.trim().is_empty() && y.trim().is_empty() {
        return None;
    }
    match dates::parse_date_parts(d, m, y) {
        Ok(date) => Some(date),
        Err(e) => {
            errors.add(field, format!("{label} {e}"));
            None
        }
    }
}

async fn parse_query(state: &AppState, cu: &CurrentUser, q: &AuditQuery) -> AppResult<Result<Parsed, Errors>> {
    let mut errors = Errors::default();
    let mut fields = vec![];
    let mut f = AuditFilter {
        tenant_id: cu.user.tenant_id,
        ..Default::default()
    };
    let users = state.db.users(cu.user.tenant_id).await?;
    let email = q.user.trim();
    if !email.is_empty() {
        match users.iter().find(|u| u.email.eq_ignore_ascii_case(email)) {
            Some(u) => f.actor_user_id = Some(u.id),
            None => errors.add(
                "user",
                "Enter the email address of someone in your council, or choose them from the list",
            ),
        }
        fields.push("user");
    } else if !q.user_id.trim().is_empty() {
        match whole(&q.user_id).filter(|id| users.iter().any(|u| u.id == *id)) {
            Some(id) => f.actor_user_id = Some(id),
            None => errors.add("user_id", "Choose someone from the list"),
        }
        fields.push("user");
    }
    if !q.kind.trim().is_empty() {
        match KINDS.iter().find(|(c, _)| *c == q.kind.trim()) {
            Some((c, _)) => f.record_kind = Some(c.to_string()),
            None => errors.add("kind", "Choose a kind of record from the list"),
        }
        fields.push("record_kind");
    }
    if !q.record_id.trim().is_empty() {
        match whole(&q.record_id) {
            Some(id) if f.record_kind.is_some() => f.record_id = Some(id),
            Some(_) => errors.add("kind", "Choose the kind of record the record number belongs to"),
            None => errors.add("record_id", "Record number must be a whole number, like 42"),
        }
        fields.push("record_id");
    }
    if !q.family_id.trim().is_empty() {
        match whole(&q.family_id) {
            Some(id) => f.family_id = Some(id),
            None => errors.add("family_id", "Family number must be a whole number, like 42"),
        }
        fields.push("family_id");
    }
    let from = date_field(
        &mut errors,
        "from",
        "From date",
        (&q.from_day, &q.from_month, &q.from_year),
    );
    let to = date_field(&mut errors, "to", "To date", (&q.to_day, &q.to_month, &q.to_year));
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        errors.add("to", "To date must be the same as or after the from date");
    }
    if let Some(a) = from {
        f.from_ms = Some(tr::start_of_day_ms(a));
        fields.push("date_from");
    }
    if let Some(b) = to {
        // Inclusive of the whole day.
        f.to_ms = b.next_day().map(tr::start_of_day_ms);
        fields.push("date_to");
    }
    if !q.action.trim().is_empty() {
        match ACTIONS.iter().find(|a| **a == q.action.trim()) {
            Some(a) => f.action = Some(a.to_string()),
            None => errors.add("action", "Choose an action from the list"),
        }
        fields.push("action");
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let page = whole(&q.page).unwrap_or(1).min(100_000);
    let mut pairs: Vec<(&str, String)> = vec![];
    if let Some(u) = f.actor_user_id {
        pairs.push(("user_id", u.to_string()));
    }
    for (k, v) in [
        ("kind", &q.kind),
        ("record_id", &q.record_id),
        ("family_id", &q.family_id),
        ("from_day", &q.from_day),
        ("from_month", &q.from_month),
        ("from_year", &q.from_year),
        ("to_day", &q.to_day),
        ("to_month", &q.to_month),
        ("to_year", &q.to_year),
        ("action", &q.action),
    ] {
        if !v.trim().is_empty() {
            pairs.push((k, v.trim().to_string()));
        }
    }
    let query = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "")
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    Ok(Ok(Parsed {
        filter: f,
        fields,
        page,
        query,
    }))
}

#[derive(Template)]
#[template(path = "privacy_audit.html")]
struct AuditPage {
    l: Layout,
    q: AuditQuery,
    errors: Errors,
    users: Vec<(i64, String)>,
    kinds: &'static [(&'static str, &'static str)],
    actions: Vec<(&'static str, &'static str)>,
    rows: Vec<AccessRow>,
    total: i64,
    page: i64,
    pages: i64,
    query: String,
    selected_user: i64,
}

pub async fn audit_search(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    gate::require_privacy_office(&cu)?;
    let users = state
        .db
        .users(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} ({})", u.display_name, u.email)))
        .collect();
    let mut page = AuditPage {
        l: Layout::new("Audit search", &cu),
        q: q.clone(),
        errors: Errors::default(),
        users,
        kinds: KINDS,
        actions: ACTIONS.iter().map(|a| (*a, AuditAction::label(a))).collect(),
        rows: vec![],
        total: 0,
        page: 1,
        pages: 1,
        query: String::new(),
        selected_user: 0,
    };
    let parsed = match parse_query(&state, &cu, &q).await? {
        Ok(p) => p,
        Err(errors) => {
            page.errors = errors;
            return crate::errors::invalid(page);
        }
    };
    let (rows, total) = state
        .db
        .audit_search(&parsed.filter, PAGE_SIZE, (parsed.page - 1) * PAGE_SIZE)
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Search,
        Record::AuditSearch,
        "web GET /privacy/audit",
        format!(
            "fields={} results={total} page={}",
            if parsed.fields.is_empty() {
                "none".into()
            } else {
                parsed.fields.join(",")
            },
            parsed.page
        ),
    )
    .await?;
    page.rows = rows.iter().map(|r| row(r, false)).collect();
    page.total = total;
    page.page = parsed.page;
    page.pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    page.query = parsed.query;
    page.selected_user = parsed.filter.actor_user_id.unwrap_or(0);
    Ok(Html(page.render()?).into_response())
}

pub async fn audit_csv(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    gate::require_privacy_office(&cu)?;
    let parsed = match parse_query(&state, &cu, &q).await? {
        Ok(p) => p,
        Err(_) => {
            return Err(AppError::BadRequest(
                "The search has a problem: correct it on the audit search page",
            ));
        }
    };
    let (rows, total) = state.db.audit_search(&parsed.filter, 10_000, 0).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Export,
        Record::AuditSearch,
        "web GET /privacy/audit.csv",
        format!(
            "export:csv fields={} results={total}",
            if parsed.fields.is_empty() {
                "none".into()
            } else {
                parsed.fields.join(",")
            }
        ),
    )
    .await?;
    Ok(csv(&rows, "audit-search.csv"))
}

// ---------- subject access requests ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SarFind {
    pub nhs_number: String,
    pub person_id: String,
}

#[derive(Template)]
#[template(path = "privacy_sar_find.html")]
struct SarFindPage {
    l: Layout,
    form: SarFind,
    errors: Errors,
}

pub async fn sar_form(State(_state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_privacy_office(&cu)?;
    let page = SarFindPage {
        l: Layout::new("Subject access request", &cu),
        form: SarFind::default(),
        errors: Errors::default(),
    };
    Ok(Html(page.render()?))
}

pub async fn sar_find(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<SarFind>,
) -> AppResult<Response> {
    gate::require_privacy_office(&cu)?;
    let mut errors = Errors::default();
    let tenant = cu.user.tenant_id;
    let nhs = form.nhs_number.trim();
    let pid = form.person_id.trim();
    let found = match (nhs.is_empty(), pid.is_empty()) {
        (true, true) => {
            errors.add("nhs_number", "Enter an NHS number or a person number");
            None
        }
        (false, false) => {
            errors.add("nhs_number", "Enter an NHS number or a person number, not both");
            None
        }
        (false, true) => match NhsNumber::parse(nhs) {
            Ok(n) => {
                let id = state.db.person_by_nhs_number(tenant, &n.as_digits()).await?;
                if id.is_none() {
                    errors.add("nhs_number", "No one in your council's records has that NHS number");
                }
                id
            }
            Err(e) => {
                errors.add("nhs_number", format!("NHS number {e}"));
                None
            }
        },
        (true, false) => match whole(pid) {
            Some(id) if state.db.person_tenant(id).await? == Some(tenant) => Some(id),
            Some(_) => {
                errors.add("person_id", "No one in your council's records has that person number");
                None
            }
            None => {
                errors.add("person_id", "Person number must be a whole number, like 42");
                None
            }
        },
    };
    match found {
        Some(id) if errors.is_empty() => Ok(Redirect::to(&format!("/privacy/sar/{id}")).into_response()),
        _ => crate::errors::invalid(SarFindPage {
            l: Layout::new("Subject access request", &cu),
            form,
            errors,
        }),
    }
}

#[derive(Template)]
#[template(path = "privacy_sar.html")]
struct SarPage {
    l: Layout,
    id: i64,
    b: Bundle,
}

/// `/privacy/sar/{person}`: the bundle as HTML, or as JSON when the last
/// segment ends in `.json` (the router has no suffix parameters).
pub async fn sar_bundle(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(seg): Path<String>,
) -> AppResult<Response> {
    gate::require_privacy_office(&cu)?;
    let (digits, json) = match seg.strip_suffix(".json") {
        Some(d) => (d, true),
        None => (seg.as_str(), false),
    };
    let id = whole(digits)
        .filter(|_| digits.chars().all(|c| c.is_ascii_digit()))
        .ok_or(AppError::NotFound)?;
    let route = if json {
        "web GET /privacy/sar/{person}.json"
    } else {
        "web GET /privacy/sar/{person}"
    };
    let mut src = gate::subject_access(&state, &cu, id, route).await?;
    src.generated_at = tr::iso_utc(kindred_store::now_ms());
    src.answering_organisation_id = cu.user.organisation_id;
    src.answering_organisation = cu.organisation_name.clone();
    let rules = Rules::from_stored(&state.db.redaction_rules(cu.user.tenant_id).await?);
    let b = redaction::bundle(&src, rules);
    if json {
        let body = serde_json::to_string_pretty(&b).map_err(|e| AppError::Internal(e.into()))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"subject-access-{id}.json\""),
                ),
            ],
            body,
        )
            .into_response());
    }
    let page = SarPage {
        l: Layout::new("Subject access request bundle", &cu),
        id,
        b,
    };
    Ok(Html(page.render()?).into_response())
}

// ---------- redaction rules ----------

#[derive(Template)]
#[template(path = "privacy_redaction_rules.html")]
struct RulesPage {
    l: Layout,
    /// (code, label, hint, enabled)
    rules: Vec<(&'static str, &'static str, &'static str, bool)>,
    saved: bool,
}

fn rules_page(cu: &CurrentUser, rules: Rules, saved: bool) -> RulesPage {
    RulesPage {
        l: Layout::new("Redaction rules", cu),
        rules: Rule::ALL
            .into_iter()
            .map(|r| (r.code(), r.label(), r.hint(), rules.get(r)))
            .collect(),
        saved,
    }
}

pub async fn redaction_rules(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<super::admin::SavedQuery>,
) -> AppResult<Html<String>> {
    gate::require_privacy_office(&cu)?;
    let rules = Rules::from_stored(&state.db.redaction_rules(cu.user.tenant_id).await?);
    Ok(Html(rules_page(&cu, rules, q.saved.is_some()).render()?))
}

pub async fn save_redaction_rules(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_privacy_office(&cu)?;
    let mut on = vec![];
    for rule in Rule::ALL {
        let enabled = crate::forms::ticked(&pairs, rule.code());
        state
            .db
            .set_redaction_rule(cu.user.tenant_id, rule.code(), enabled)
            .await?;
        if enabled {
            on.push(rule.code());
        }
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::RedactionRules,
        "web POST /privacy/redaction-rules",
        format!("on={}", on.join(",")),
    )
    .await?;
    Ok(Redirect::to("/privacy/redaction-rules?saved=1").into_response())
}
