//! The report builder (F16): `/reports` (mine and those shared in my
//! organisation), `/reports/new` (choose a dataset, then group, measure,
//! filter and chart; preview; save), `/reports/{id}` (run and show, with a
//! chart and the table of the same figures), sharing within the
//! organisation, deleting, and `/reports/{id}/export.csv`.
//!
//! Who: `access::aggregates` (managers, analysts and data officers of the
//! tenant); anyone else gets the not-found page, as does a saved report they
//! may not open (`report::may_open`). Every figure shown — the author's
//! preview included — is suppressed by `report::tabulate`: there is no
//! unsuppressed view. Running and exporting are audited as aggregate reads
//! (the definition, never a record id).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access;
use kindred_domain::audit::AuditAction;
use kindred_domain::referral::Level;
use kindred_domain::report::{
    self, AgeBand, Chart, Dataset, Definition, Dimension, FieldError, Labels, Measure, SavedFacts, Table,
};
use kindred_domain::suppression;
use kindred_store::reports::SavedReport;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

type Fields = Vec<(String, String)>;

fn require(cu: &CurrentUser) -> AppResult<()> {
    if access::aggregates(&cu.user.subject(), cu.user.tenant_id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The names a report's labels need: the council, its hubs, its organisations.
struct Names {
    tenant: (i64, String),
    hubs: Vec<(i64, String)>,
    organisations: Vec<(i64, String)>,
}

impl Labels for Names {
    fn hub(&self, id: &str) -> Option<String> {
        self.hubs.iter().find(|h| h.0.to_string() == id).map(|h| h.1.clone())
    }
    fn organisation(&self, id: &str) -> Option<String> {
        self.organisations
            .iter()
            .find(|o| o.0.to_string() == id)
            .map(|o| o.1.clone())
    }
    fn tenant(&self, id: &str) -> Option<String> {
        (self.tenant.0.to_string() == id).then(|| self.tenant.1.clone())
    }
}

async fn names(state: &AppState, tenant_id: i64) -> AppResult<Names> {
    let tenant = state.db.tenant(tenant_id).await?;
    let hubs = state
        .db
        .hub_sites(tenant_id)
        .await?
        .into_iter()
        .map(|h| (h.id, h.name))
        .collect();
    Ok(Names {
        tenant: (tenant.id, tenant.name),
        hubs,
        organisations: state.db.organisation_names(tenant_id).await?,
    })
}

/// A definition read from fields, with its hub and organisation checked
/// against the user's tenant.
fn read(fields: &[(String, String)], names: &Names) -> Result<Definition, Vec<FieldError>> {
    let def = report::parse(fields)?;
    let mut errors = vec![];
    if let Some(h) = def.filters.hub
        && !names.hubs.iter().any(|x| x.0 == h)
    {
        errors.push(FieldError {
            field: "hub",
            message: "Select a family hub from the list".into(),
        });
    }
    if let Some(o) = def.filters.organisation
        && !names.organisations.iter().any(|x| x.0 == o)
    {
        errors.push(FieldError {
            field: "organisation",
            message: "Select an organisation from the list".into(),
        });
    }
    if errors.is_empty() { Ok(def) } else { Err(errors) }
}

async fn run(state: &AppState, cu: &CurrentUser, def: &Definition, names: &Names) -> AppResult<Table> {
    let raw = state
        .db
        .run_report(def, cu.user.tenant_id, kindred_store::today())
        .await?;
    Ok(report::tabulate(def, &raw, names))
}

/// What an audit event says about a report: its shape, never a record.
fn audit_detail(def: &Definition, saved: Option<i64>, t: &Table) -> String {
    let by: Vec<&str> = def.group_by.iter().map(|d| d.code()).collect();
    format!(
        "report={} dataset={} by={} rows={}",
        saved.map(|i| i.to_string()).unwrap_or_else(|| "preview".into()),
        def.dataset.code(),
        by.join(","),
        t.rows.len()
    )
}

/// The figures as a page shows them.
pub struct ResultView {
    pub caption: String,
    pub headers: Vec<String>,
    pub dimensions: usize,
    pub rows: Vec<Vec<String>>,
    pub total: Vec<String>,
    pub chart: Option<String>,
    pub withheld: bool,
    pub explanation: &'static str,
    pub filters: Vec<String>,
}

fn filters_text(def: &Definition, names: &Names) -> Vec<String> {
    let f = &def.filters;
    let spec = def.spec();
    let mut out = vec![];
    let what = spec.date_label.unwrap_or("date");
    match (f.from, f.to) {
        (Some(a), Some(b)) => out.push(format!(
            "Date of {what} from {} to {}",
            kindred_domain::dates::long(a),
            kindred_domain::dates::long(b)
        )),
        (Some(a), None) => out.push(format!("Date of {what} from {}", kindred_domain::dates::long(a))),
        (None, Some(b)) => out.push(format!("Date of {what} up to {}", kindred_domain::dates::long(b))),
        _ => {}
    }
    if let Some(h) = f.hub {
        out.push(format!("Family hub: {}", names.hub(&h.to_string()).unwrap_or_default()));
    }
    if let Some(o) = f.organisation {
        out.push(format!(
            "Organisation: {}",
            names.organisation(&o.to_string()).unwrap_or_default()
        ));
    }
    if let Some(l) = f.level {
        out.push(l.label().to_string());
    }
    if let Some(b) = f.age_band {
        out.push(format!("Aged {}", b.label()));
    }
    out
}

fn view(def: &Definition, t: &Table, names: &Names) -> ResultView {
    let lines = t.lines();
    let n = lines.len();
    ResultView {
        caption: def.title(),
        headers: lines[0].clone(),
        dimensions: t.dimensions,
        rows: lines[1..n - 1].to_vec(),
        total: lines[n - 1].clone(),
        chart: chart(def, t),
        withheld: t.any_withheld(),
        explanation: suppression::EXPLANATION,
        filters: filters_text(def, names),
    }
}

// ---------------------------------------------------------------- the list

struct ListRow {
    id: i64,
    name: String,
    title: String,
    owner: String,
    mine: bool,
    shared: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    l: Layout,
    mine: Vec<ListRow>,
    shared: Vec<ListRow>,
}

fn stored_fields(r: &SavedReport) -> Fields {
    serde_json::from_str(&r.definition).unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    require(&cu)?;
    let reports = state
        .db
        .saved_reports_for(cu.user.id, cu.user.tenant_id, cu.user.organisation_id)
        .await?;
    let subject = cu.user.subject();
    let (mut mine, mut shared) = (vec![], vec![]);
    for r in reports {
        if !report::may_open(&subject, &facts(&r)) {
            continue;
        }
        let title = report::parse(&stored_fields(&r)).map(|d| d.title()).unwrap_or_default();
        let row = ListRow {
            id: r.id,
            mine: r.owner_user_id == cu.user.id,
            name: r.name,
            title,
            owner: r.owner_name,
            shared: r.shared,
            updated: super::when(r.updated_at_ms),
        };
        if row.mine { mine.push(row) } else { shared.push(row) }
    }
    let page = ListPage {
        l: Layout::new("Reports", &cu),
        mine,
        shared,
    };
    Ok(Html(page.render()?))
}

// ---------------------------------------------------------------- the builder

pub struct Opt {
    pub value: String,
    pub label: String,
    pub hint: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "report_new.html")]
struct BuilderPage {
    l: Layout,
    errors: Errors,
    /// Choosing a dataset (no dataset yet).
    datasets: Vec<Opt>,
    dataset: Option<(String, String)>,
    group1: Vec<Opt>,
    group2: Vec<Opt>,
    measures: Vec<Opt>,
    charts: Vec<Opt>,
    has_dates: bool,
    from_hint: String,
    to_hint: String,
    from: (String, String, String),
    to: (String, String, String),
    hubs: Vec<Opt>,
    organisations: Vec<Opt>,
    levels: Vec<Opt>,
    age_bands: Vec<Opt>,
    report_name: String,
    result: Option<ResultView>,
}

fn val(fields: &[(String, String)], key: &str) -> String {
    crate::forms::field(fields, key)
}

fn options<T: Copy>(items: &[T], code: impl Fn(T) -> String, label: impl Fn(T) -> String, chosen: &str) -> Vec<Opt> {
    items
        .iter()
        .map(|i| Opt {
            value: code(*i),
            label: label(*i),
            hint: String::new(),
            selected: code(*i) == chosen,
        })
        .collect()
}

fn builder(cu: &CurrentUser, fields: &[(String, String)], names: &Names, errors: Errors) -> BuilderPage {
    let chosen = Dataset::parse(&val(fields, "dataset"));
    let mut page = BuilderPage {
        l: Layout::new("Build a report", cu),
        errors,
        datasets: vec![],
        dataset: None,
        group1: vec![],
        group2: vec![],
        measures: vec![],
        charts: vec![],
        has_dates: false,
        from_hint: String::new(),
        to_hint: String::new(),
        from: (
            val(fields, "from_day"),
            val(fields, "from_month"),
            val(fields, "from_year"),
        ),
        to: (val(fields, "to_day"), val(fields, "to_month"), val(fields, "to_year")),
        hubs: vec![],
        organisations: vec![],
        levels: vec![],
        age_bands: vec![],
        report_name: val(fields, "name"),
        result: None,
    };
    let Some(dataset) = chosen else {
        page.datasets = report::CATALOGUE
            .iter()
            .map(|s| Opt {
                value: s.dataset.code().into(),
                label: s.dataset.label().into(),
                hint: s.hint.into(),
                selected: false,
            })
            .collect();
        return page;
    };
    let spec = dataset.spec();
    page.dataset = Some((dataset.code().into(), dataset.label().into()));
    let first = val(fields, "group1");
    page.group1 = options(spec.dimensions, |d| d.code().into(), |d| d.label().into(), &first);
    let second = val(fields, "group2");
    page.group2 = vec![Opt {
        value: String::new(),
        label: "None".into(),
        hint: String::new(),
        selected: second.is_empty(),
    }];
    page.group2.extend(options(
        spec.dimensions,
        |d| d.code().into(),
        |d| d.label().into(),
        &second,
    ));
    let any_measure = Measure::ALL
        .iter()
        .any(|m| val(fields, &format!("measure_{}", m.code())) == "yes");
    page.measures = spec
        .measures
        .iter()
        .map(|m| Opt {
            value: format!("measure_{}", m.code()),
            label: spec.measure_label(*m),
            hint: String::new(),
            selected: val(fields, &format!("measure_{}", m.code())) == "yes" || (!any_measure && *m == Measure::Count),
        })
        .collect();
    let chart = match val(fields, "chart") {
        c if c.is_empty() => "bar".to_string(),
        c => c,
    };
    page.charts = options(Chart::ALL, |c| c.code().into(), |c| c.label().into(), &chart);
    page.has_dates = spec.offers(Dimension::Month);
    let what = spec.date_label.unwrap_or("");
    page.from_hint = format!("Date of {what}, for example 1 4 2025");
    page.to_hint = format!("Date of {what}, for example 31 3 2026");
    let id_opts = |items: &[(i64, String)], chosen: String, any: &str| {
        let mut v = vec![Opt {
            value: String::new(),
            label: any.into(),
            hint: String::new(),
            selected: chosen.is_empty(),
        }];
        v.extend(items.iter().map(|(id, name)| Opt {
            value: id.to_string(),
            label: name.clone(),
            hint: String::new(),
            selected: id.to_string() == chosen,
        }));
        v
    };
    if spec.offers(Dimension::Hub) {
        page.hubs = id_opts(&names.hubs, val(fields, "hub"), "Every hub");
    }
    if spec.offers(Dimension::Organisation) {
        page.organisations = id_opts(&names.organisations, val(fields, "organisation"), "Every organisation");
    }
    if spec.offers(Dimension::Level) {
        let chosen = val(fields, "level");
        page.levels = vec![Opt {
            value: String::new(),
            label: "Every level".into(),
            hint: String::new(),
            selected: chosen.is_empty(),
        }];
        page.levels
            .extend(options(Level::ALL, |l| l.code().into(), |l| l.label().into(), &chosen));
    }
    if spec.offers(Dimension::AgeBand) {
        let chosen = val(fields, "age_band");
        page.age_bands = vec![Opt {
            value: String::new(),
            label: "Every age".into(),
            hint: String::new(),
            selected: chosen.is_empty(),
        }];
        page.age_bands.extend(options(
            AgeBand::ALL,
            |b| b.code().into(),
            |b| b.label().into(),
            &chosen,
        ));
    }
    page
}

fn to_errors(list: Vec<FieldError>) -> Errors {
    let mut e = Errors::default();
    for x in list {
        e.add(x.field, x.message);
    }
    e
}

/// `/reports/new`: choose a dataset; with `?dataset=…` (and any other
/// builder fields, as "start from this report" links carry), the builder.
pub async fn new_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(fields): Query<Fields>,
) -> AppResult<Html<String>> {
    require(&cu)?;
    let names = names(&state, cu.user.tenant_id).await?;
    Ok(Html(builder(&cu, &fields, &names, Errors::default()).render()?))
}

/// The builder's POST: `action=preview` shows the report under the form;
/// `action=save` saves it (with a name) and opens it.
pub async fn build(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(fields): CsrfForm<Fields>,
) -> AppResult<Response> {
    require(&cu)?;
    let names = names(&state, cu.user.tenant_id).await?;
    let saving = val(&fields, "action") == "save";
    let parsed = read(&fields, &names);
    let name = val(&fields, "name");
    let mut errors = match &parsed {
        Ok(_) => vec![],
        Err(e) => e.clone(),
    };
    if saving && name.is_empty() {
        errors.push(FieldError {
            field: "name",
            message: "Enter a name for the report".into(),
        });
    } else if name.chars().count() > 120 {
        errors.push(FieldError {
            field: "name",
            message: "The report's name must be 120 characters or fewer".into(),
        });
    }
    let def = match parsed {
        Ok(def) if errors.is_empty() => def,
        _ => return crate::errors::invalid(builder(&cu, &fields, &names, to_errors(errors))),
    };
    if saving {
        let json = serde_json::to_string(&def.to_fields()).map_err(|e| AppError::Internal(e.into()))?;
        let id = state
            .db
            .create_saved_report(cu.user.tenant_id, cu.user.organisation_id, cu.user.id, &name, &json)
            .await?;
        gate::audit(
            &state,
            &cu,
            AuditAction::Create,
            Record::Report,
            "web POST /reports/new",
            format!("report={id} dataset={}", def.dataset.code()),
        )
        .await?;
        return Ok(Redirect::to(&format!("/reports/{id}")).into_response());
    }
    let table = run(&state, &cu, &def, &names).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Report,
        "web POST /reports/new",
        audit_detail(&def, None, &table),
    )
    .await?;
    let mut page = builder(&cu, &fields, &names, Errors::default());
    page.result = Some(view(&def, &table, &names));
    Ok(Html(page.render()?).into_response())
}

// ---------------------------------------------------------------- one report

fn facts(r: &SavedReport) -> SavedFacts {
    SavedFacts {
        tenant_id: r.tenant_id,
        organisation_id: r.organisation_id,
        owner_user_id: r.owner_user_id,
        shared: r.shared,
    }
}

/// The saved report, when this user may open it; otherwise not found.
async fn openable(state: &AppState, cu: &CurrentUser, id: i64) -> AppResult<SavedReport> {
    require(cu)?;
    let r = state.db.saved_report(id).await.map_err(|_| AppError::NotFound)?;
    if report::may_open(&cu.user.subject(), &facts(&r)) {
        Ok(r)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    l: Layout,
    id: i64,
    name: String,
    owner: String,
    mine: bool,
    shared: bool,
    organisation: String,
    again: String,
    result: Option<ResultView>,
    problem: Option<String>,
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let r = openable(&state, &cu, id).await?;
    let names = names(&state, cu.user.tenant_id).await?;
    let fields = stored_fields(&r);
    let again = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let (result, problem) = match read(&fields, &names) {
        Ok(def) => {
            let table = run(&state, &cu, &def, &names).await?;
            gate::audit(
                &state,
                &cu,
                AuditAction::Read,
                Record::Report,
                "web GET /reports/{id}",
                audit_detail(&def, Some(id), &table),
            )
            .await?;
            (Some(view(&def, &table, &names)), None)
        }
        // A hub or organisation named in it has gone: say so rather than fail.
        Err(e) => (
            None,
            Some(e.into_iter().map(|x| x.message).collect::<Vec<_>>().join(". ")),
        ),
    };
    let organisation = names.organisation(&r.organisation_id.to_string()).unwrap_or_default();
    let page = ReportPage {
        l: Layout::new(r.name.clone(), &cu),
        id,
        mine: r.owner_user_id == cu.user.id,
        name: r.name,
        owner: r.owner_name,
        shared: r.shared,
        organisation,
        again,
        result,
        problem,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    shared: String,
}

pub async fn share(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ShareForm>,
) -> AppResult<Response> {
    let r = openable(&state, &cu, id).await?;
    if !report::may_change(&cu.user.subject(), &facts(&r)) {
        return Err(AppError::NotFound);
    }
    let shared = f.shared == "yes";
    state.db.set_saved_report_shared(id, cu.user.id, shared).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Report,
        "web POST /reports/{id}/share",
        format!("report={id} shared={shared}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/reports/{id}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Fields>,
) -> AppResult<Response> {
    let r = openable(&state, &cu, id).await?;
    if !report::may_change(&cu.user.subject(), &facts(&r)) {
        return Err(AppError::NotFound);
    }
    state.db.delete_saved_report(id, cu.user.id).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Report,
        "web POST /reports/{id}/delete",
        format!("report={id} deleted"),
    )
    .await?;
    Ok(Redirect::to("/reports").into_response())
}

/// A spreadsheet would run a cell starting `=`, `+`, `-` or `@` as a formula.
fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The table as CSV: the header row, a row per group, the total; suppressed
/// exactly as the page is.
pub fn csv_of(t: &Table) -> AppResult<String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    for line in t.lines() {
        w.write_record(line.iter().map(|c| defuse(c)))
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))
}

pub async fn export(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let r = openable(&state, &cu, id).await?;
    let names = names(&state, cu.user.tenant_id).await?;
    let def = read(&stored_fields(&r), &names).map_err(|_| AppError::NotFound)?;
    let table = run(&state, &cu, &def, &names).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Export,
        Record::Report,
        "web GET /reports/{id}/export.csv",
        audit_detail(&def, Some(id), &table),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{id}.csv\""),
            ),
        ],
        csv_of(&table)?,
    )
        .into_response())
}

// ---------------------------------------------------------------- the chart

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLOURS: [&str; 8] = [
    "#1d70b8", "#f47738", "#00703c", "#912b88", "#d4351c", "#28a197", "#6f72af", "#b58840",
];

/// The first measure as a bar or line chart (server-drawn SVG with
/// role="img" and a label; the table beside it has the same figures).
/// Withheld figures are not drawn. With two groupings, a line chart draws a
/// line per value of the other grouping across the months; a bar chart
/// groups bars by the first grouping, a colour per value of the second.
fn chart(def: &Definition, t: &Table) -> Option<String> {
    if def.chart == Chart::Table || t.rows.is_empty() {
        return None;
    }
    let (x_dim, series_dim) = match (def.group_by.len(), def.chart) {
        (1, _) => (0, None),
        (_, Chart::Line) => {
            let m = def.group_by.iter().position(|d| *d == Dimension::Month).unwrap_or(0);
            (m, Some(1 - m))
        }
        _ => (0, Some(1)),
    };
    let mut xs: Vec<(Option<String>, String)> = vec![];
    let mut series: Vec<String> = vec![];
    for r in &t.rows {
        if !xs.contains(&r.keys[x_dim]) {
            xs.push(r.keys[x_dim].clone());
        }
        let s = series_dim.map(|i| r.keys[i].1.clone()).unwrap_or_default();
        if !series.contains(&s) {
            series.push(s);
        }
    }
    if def.group_by[x_dim] == Dimension::Month {
        xs.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
    }
    let value = |s: &str, x: &(Option<String>, String)| {
        t.rows
            .iter()
            .find(|r| r.keys[x_dim] == *x && series_dim.map(|i| r.keys[i].1.as_str()).unwrap_or("") == s)
            .and_then(|r| r.cells[0].value())
    };
    let max = t
        .rows
        .iter()
        .filter_map(|r| r.cells[0].value())
        .fold(0.0f64, f64::max)
        .max(1.0);
    let line = def.chart == Chart::Line;
    let bar = 16.0;
    let step = if line {
        48.0
    } else {
        (series.len() as f64 * bar + 12.0).max(40.0)
    };
    let (left, top, plot_h) = (56.0, 16.0, 200.0);
    let width = left + xs.len() as f64 * step + 20.0;
    let label_h = 90.0;
    let legend_h = if series_dim.is_some() {
        series.len() as f64 * 18.0 + 8.0
    } else {
        0.0
    };
    let height = top + plot_h + label_h + legend_h;
    let measure = &t.headers[t.dimensions];
    let what = format!(
        "{} chart of {} by {}. The same figures are in the table.",
        if line { "Line" } else { "Bar" },
        measure.to_lowercase(),
        def.group_by
            .iter()
            .map(|d| d.label().to_lowercase())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let mut out = format!(
        r##"<svg class="app-chart" role="img" aria-label="{}" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" xmlns="http://www.w3.org/2000/svg">"##,
        esc(&what)
    );
    let y = |v: f64| top + plot_h - v / max * plot_h;
    // Axis: the baseline, and the largest value.
    out.push_str(&format!(
        r##"<line x1="{left}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#0b0c0c"/><line x1="{left}" y1="{top}" x2="{left}" y2="{b:.1}" stroke="#0b0c0c"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#0b0c0c">{max}</text><text x="{tx}" y="{b:.1}" font-size="11" text-anchor="end" fill="#0b0c0c">0</text>"##,
        b = top + plot_h,
        r = width - 10.0,
        tx = left - 4.0,
        ty = top + 4.0,
        max = fmt_num(max)
    ));
    for (i, x) in xs.iter().enumerate() {
        let cx = left + i as f64 * step + step / 2.0;
        out.push_str(&format!(
            r##"<text x="{cx:.1}" y="{ly:.1}" font-size="11" text-anchor="end" fill="#0b0c0c" transform="rotate(-45 {cx:.1} {ly:.1})">{}</text>"##,
            esc(&x.1),
            ly = top + plot_h + 14.0
        ));
    }
    for (j, s) in series.iter().enumerate() {
        let colour = COLOURS[j % COLOURS.len()];
        if line {
            let mut run: Vec<(f64, f64)> = vec![];
            let flush = |run: &mut Vec<(f64, f64)>, out: &mut String| {
                if run.len() > 1 {
                    let pts: Vec<String> = run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
                    out.push_str(&format!(
                        r##"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"##,
                        pts.join(" ")
                    ));
                }
                run.clear();
            };
            for (i, x) in xs.iter().enumerate() {
                let cx = left + i as f64 * step + step / 2.0;
                match value(s, x) {
                    Some(v) => {
                        run.push((cx, y(v)));
                        out.push_str(&format!(
                            r##"<circle cx="{cx:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}{}: {}</title></circle>"##,
                            y(v),
                            if s.is_empty() { String::new() } else { format!("{}, ", esc(s)) },
                            esc(&x.1),
                            fmt_num(v)
                        ));
                    }
                    None => flush(&mut run, &mut out),
                }
            }
            flush(&mut run, &mut out);
        } else {
            for (i, x) in xs.iter().enumerate() {
                if let Some(v) = value(s, x) {
                    let bx = left + i as f64 * step + 6.0 + j as f64 * bar;
                    let by = y(v);
                    out.push_str(&format!(
                        r##"<rect x="{bx:.1}" y="{by:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}{}: {}</title></rect>"##,
                        bar - 2.0,
                        top + plot_h - by,
                        if s.is_empty() { String::new() } else { format!("{}, ", esc(s)) },
                        esc(&x.1),
                        fmt_num(v)
                    ));
                }
            }
        }
        if series_dim.is_some() {
            let ly = top + plot_h + label_h + j as f64 * 18.0;
            out.push_str(&format!(
                r##"<rect x="{left}" y="{ly:.1}" width="12" height="12" fill="{colour}"/><text x="{tx}" y="{ty:.1}" font-size="12" fill="#0b0c0c">{}</text>"##,
                esc(s),
                tx = left + 18.0,
                ty = ly + 10.0
            ));
        }
    }
    out.push_str("</svg>");
    Some(out)
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
