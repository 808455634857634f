//! KPI dashboards (issue 7, item 3) and the partnership maturity matrix
//! (F21). Aggregates only, for those `access::aggregates` allows (managers,
//! analysts, data officers): every count from 1 to 4 is withheld
//! (`domain::suppression`), and so is any rate worked from one.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::kpi::{self, Geography, Kpi, Table, Tally};
use kindred_domain::maturity::{self, Dimension, Level, Rating};
use kindred_domain::pathway::PathwayModel;
use kindred_domain::{access, dates, suppression};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::forms::Errors;
use crate::layout::Layout;

/// The colours of a chart's series (GOV.UK palette), in order.
const COLOURS: [&str; 8] = [
    "#1d70b8", "#f47738", "#00703c", "#d4351c", "#4c2c92", "#28a197", "#912b88", "#505a5f",
];

fn allowed(cu: &CurrentUser) -> AppResult<()> {
    if access::aggregates(&cu.user.subject(), cu.user.tenant_id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize, Default)]
pub struct Filter {
    by: Option<String>,
    months: Option<String>,
}

impl Filter {
    fn geography(&self) -> Geography {
        self.by.as_deref().and_then(Geography::parse).unwrap_or(Geography::Hub)
    }

    fn months(&self) -> usize {
        self.months
            .as_deref()
            .and_then(|m| m.parse::<usize>().ok())
            .filter(|n| [3, 6, 12, 24].contains(n))
            .unwrap_or(12)
    }

    fn query(&self) -> String {
        format!("by={}&months={}", self.geography().code(), self.months())
    }
}

/// A figure as the page shows it.
fn shown(n: i64) -> String {
    suppression::count(n).to_string()
}

fn rate(t: Tally) -> String {
    suppression::percentage_text(t.num, t.den)
}

/// A line chart of one value per month for each series; a withheld or
/// missing value is a gap. `percent` fixes the scale at 0–100.
pub fn line_chart(label: &str, months: &[String], series: &[(String, Vec<Option<f64>>)], percent: bool) -> String {
    let (w, h, left, bottom) = (560.0_f64, 160.0_f64, 40.0_f64, 24.0_f64);
    let max = if percent {
        100.0
    } else {
        series
            .iter()
            .flat_map(|s| s.1.iter().flatten())
            .fold(0.0_f64, |a, b| a.max(*b))
            .max(1.0)
    };
    let step = if months.len() > 1 {
        (w - left - 10.0) / (months.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| 8.0 + (h - 8.0) * (1.0 - v / max);
    let mut out = format!(
        r#"<svg class="app-chart" role="img" aria-label="{}" viewBox="0 0 {w} {}" width="100%" xmlns="http://www.w3.org/2000/svg">"#,
        askama::filters::escape(label, askama::filters::Html)
            .map(|e| e.to_string())
            .unwrap_or_default(),
        h + bottom
    );
    for tick in [0.0, 0.5, 1.0] {
        let v = max * tick;
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#b1b4b6\" stroke-width=\"0.5\"/><text x=\"2\" y=\"{:.1}\" font-size=\"10\" fill=\"#0b0c0c\">{}{}</text>",
            y(v),
            y(v),
            y(v) + 3.0,
            v.round(),
            if percent { "%" } else { "" }
        ));
    }
    for (i, m) in months.iter().enumerate() {
        if months.len() <= 12 || i % 2 == 0 {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#0b0c0c\" text-anchor=\"middle\">{}</text>",
                x(i),
                h + 16.0,
                m.get(2..).unwrap_or(m)
            ));
        }
    }
    for (si, (name, values)) in series.iter().enumerate() {
        let colour = COLOURS[si % COLOURS.len()];
        let mut path = String::new();
        let mut pen_up = true;
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    path.push_str(&format!("{}{:.1} {:.1} ", if pen_up { "M" } else { "L" }, x(i), y(*v)));
                    pen_up = false;
                }
                None => pen_up = true,
            }
        }
        if !path.is_empty() {
            out.push_str(&format!(
                "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}</title></path>",
                path.trim_end(),
                askama::filters::escape(name, askama::filters::Html)
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                out.push_str(&format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\"/>",
                    x(i),
                    y(*v)
                ));
            }
        }
    }
    out.push_str("</svg>");
    out
}

/// One series' value per month for the chart: a rate in percent, or a count.
fn monthly(t: &Table, is_rate: bool) -> Vec<Option<f64>> {
    t.all
        .iter()
        .map(|c| {
            if is_rate {
                suppression::percentage(c.num, c.den).and_then(|s| s.value())
            } else {
                suppression::count(c.num).value().map(|v| v as f64)
            }
        })
        .collect()
}

pub struct Legend {
    pub colour: &'static str,
    pub label: String,
}

pub struct AreaRow {
    pub area: String,
    /// The cells of the row: for a rate, numerator, denominator and rate per
    /// series; for counts, one count per series.
    pub cells: Vec<String>,
}

pub struct Panel {
    pub code: &'static str,
    pub title: &'static str,
    pub definition: &'static str,
    pub chart: String,
    pub legend: Vec<Legend>,
    pub headers: Vec<String>,
    pub rows: Vec<AreaRow>,
    pub total: Vec<String>,
    pub empty: bool,
}

fn series_order(kpi: Kpi, model: PathwayModel) -> Vec<&'static str> {
    match kpi {
        Kpi::Pathway => model.stages().iter().map(|s| s.code).collect(),
        Kpi::Asq => vec!["done", "below_cutoff"],
        Kpi::Steps => vec!["stepped_up", "stepped_down"],
        Kpi::ContactModes => kindred_domain::model::ContactMode::ALL
            .iter()
            .map(|m| m.code())
            .collect(),
        k => vec![k.code()],
    }
}

/// Cells of a column across the area rows, with the total's secondary suppression.
fn column(values: &[i64]) -> Vec<String> {
    suppression::protect_total(values)
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn panel(
    kpi: Kpi,
    facts: &[kpi::Fact],
    geo: Geography,
    areas: &kpi::Areas,
    months: &[String],
    model: PathwayModel,
) -> Panel {
    let tables = kpi::tabulate(kpi, facts, geo, areas, months, &series_order(kpi, model));
    let is_rate = kpi.is_rate();
    let label = |s: &str| kpi::series_label(kpi, s, model);
    let mut area_names: Vec<String> = Vec::new();
    for t in &tables {
        for r in &t.rows {
            if !area_names.contains(&r.area) {
                area_names.push(r.area.clone());
            }
        }
    }
    let mut headers = Vec::new();
    let mut columns: Vec<Vec<String>> = Vec::new();
    let mut total = Vec::new();
    for t in &tables {
        let tally = |area: &str| {
            t.rows
                .iter()
                .find(|r| r.area == area)
                .map(|r| r.total)
                .unwrap_or_default()
        };
        let nums: Vec<i64> = area_names.iter().map(|a| tally(a).num).collect();
        if is_rate {
            let (n, d) = kpi.terms();
            let prefix = if tables.len() > 1 {
                format!("{}: ", label(&t.series))
            } else {
                String::new()
            };
            headers.push(format!("{prefix}{n}"));
            headers.push(format!("{prefix}{d}"));
            headers.push(format!("{prefix}rate"));
            let dens: Vec<i64> = area_names.iter().map(|a| tally(a).den).collect();
            columns.push(column(&nums));
            columns.push(column(&dens));
            columns.push(area_names.iter().map(|a| rate(tally(a))).collect());
            total.push(shown(t.total.num));
            total.push(shown(t.total.den));
            total.push(rate(t.total));
        } else {
            headers.push(label(&t.series));
            columns.push(column(&nums));
            total.push(shown(t.total.num));
        }
    }
    let rows = area_names
        .iter()
        .enumerate()
        .map(|(i, a)| AreaRow {
            area: a.clone(),
            cells: columns.iter().map(|c| c[i].clone()).collect(),
        })
        .collect();
    let series: Vec<(String, Vec<Option<f64>>)> =
        tables.iter().map(|t| (label(&t.series), monthly(t, is_rate))).collect();
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, s)| Legend {
            colour: COLOURS[i % COLOURS.len()],
            label: s.0.clone(),
        })
        .collect();
    Panel {
        code: kpi.code(),
        title: kpi.label(),
        definition: kpi.definition(),
        chart: line_chart(
            &format!(
                "{} by month, all areas{}",
                kpi.label(),
                if is_rate { ", as a percentage" } else { "" }
            ),
            months,
            &series,
            is_rate,
        ),
        legend,
        headers,
        rows,
        total,
        empty: tables.is_empty(),
    }
}

#[derive(Template)]
#[template(path = "dashboards.html")]
struct DashboardsPage {
    l: Layout,
    geo: &'static str,
    geo_label: &'static str,
    months: usize,
    geographies: Vec<(&'static str, &'static str)>,
    month_choices: Vec<usize>,
    from: String,
    to: String,
    query: String,
    panels: Vec<Panel>,
    explanation: &'static str,
}

async fn facts_for(
    state: &AppState,
    cu: &CurrentUser,
    n: usize,
) -> AppResult<(Vec<String>, Vec<kpi::Fact>, kpi::Areas, PathwayModel)> {
    let today = kindred_store::today();
    let months = kpi::last_months(today, n);
    let from = time::Date::parse(
        &format!("{}-01", months[0]),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap_or(today);
    let facts = state.db.kpi_facts(cu.user.tenant_id, from, today, today).await?;
    let areas = state.db.kpi_areas(cu.user.tenant_id).await?;
    let model = state.db.pathway_model(cu.user.tenant_id).await?;
    Ok((months, facts, areas, model))
}

/// Every indicator for the tenant, by hub, ward or postcode district.
pub async fn dashboards(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(f): Query<Filter>,
) -> AppResult<Html<String>> {
    allowed(&cu)?;
    let geo = f.geography();
    let (months, facts, areas, model) = facts_for(&state, &cu, f.months()).await?;
    let panels = Kpi::ALL
        .iter()
        .map(|k| panel(*k, &facts, geo, &areas, &months, model))
        .collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Dashboards,
        "web GET /dashboards",
        f.query(),
    )
    .await?;
    let page = DashboardsPage {
        l: Layout::new("Dashboards", &cu),
        geo: geo.code(),
        geo_label: geo.label(),
        months: months.len(),
        geographies: Geography::ALL.iter().map(|g| (g.code(), g.label())).collect(),
        month_choices: vec![3, 6, 12, 24],
        from: months.first().cloned().unwrap_or_default(),
        to: months.last().cloned().unwrap_or_default(),
        query: f.query(),
        panels,
        explanation: suppression::EXPLANATION,
    };
    Ok(Html(page.render()?))
}

pub struct MonthTable {
    pub title: String,
    pub rows: Vec<(String, Vec<String>, String)>,
    pub all: Vec<String>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    title: &'static str,
    definition: &'static str,
    geo_label: &'static str,
    months: Vec<String>,
    query: String,
    is_rate: bool,
    tables: Vec<MonthTable>,
    explanation: &'static str,
}

/// One indicator by area and month.
pub async fn dashboard(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(code): Path<String>,
    Query(f): Query<Filter>,
) -> AppResult<Html<String>> {
    allowed(&cu)?;
    let kpi = Kpi::parse(&code).ok_or(AppError::NotFound)?;
    let geo = f.geography();
    let (months, facts, areas, model) = facts_for(&state, &cu, f.months()).await?;
    let is_rate = kpi.is_rate();
    let cell = |t: Tally| {
        if is_rate {
            format!("{} of {} ({})", shown(t.num), shown(t.den), rate(t))
        } else {
            shown(t.num)
        }
    };
    let tables = kpi::tabulate(kpi, &facts, geo, &areas, &months, &series_order(kpi, model))
        .into_iter()
        .map(|t| MonthTable {
            title: kpi::series_label(kpi, &t.series, model),
            rows: t
                .rows
                .iter()
                .map(|r| {
                    (
                        r.area.clone(),
                        r.months.iter().map(|c| cell(*c)).collect(),
                        cell(r.total),
                    )
                })
                .collect(),
            all: t.all.iter().map(|c| cell(*c)).collect(),
            total: cell(t.total),
        })
        .collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Dashboards,
        "web GET /dashboards/{kpi}",
        format!("{}&kpi={}", f.query(), kpi.code()),
    )
    .await?;
    let page = DashboardPage {
        l: Layout::new(kpi.label(), &cu),
        title: kpi.label(),
        definition: kpi.definition(),
        geo_label: geo.label(),
        months,
        query: f.query(),
        is_rate,
        tables,
        explanation: suppression::EXPLANATION,
    };
    Ok(Html(page.render()?))
}

// ---------- the partnership maturity matrix (F21) ----------

pub struct MatrixRow {
    pub code: &'static str,
    pub label: &'static str,
    /// (level code, short label, descriptor, whether the latest assessment chose it)
    pub levels: Vec<(&'static str, &'static str, &'static str, bool)>,
    pub evidence: Vec<(String, String)>,
    pub comment: String,
    pub error: Option<String>,
}

pub struct History {
    pub on: String,
    pub by: String,
    pub summary: String,
    /// (dimension, level, movement since the assessment before)
    pub ratings: Vec<(&'static str, &'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "maturity.html")]
struct MaturityPage {
    l: Layout,
    errors: Errors,
    rows: Vec<MatrixRow>,
    history: Vec<History>,
    chart: String,
    chart_legend: Vec<Legend>,
    summary: String,
    saved: bool,
}

#[derive(Deserialize, Default)]
pub struct Saved {
    saved: Option<String>,
}

async fn maturity_page(
    state: &AppState,
    cu: &CurrentUser,
    form: Option<&HashMap<String, String>>,
    errors: Errors,
    saved: bool,
) -> AppResult<String> {
    let today = kindred_store::today();
    let assessments = state.db.maturity_assessments(cu.user.tenant_id).await?;
    let evidence = state.db.maturity_evidence(cu.user.tenant_id, today).await?;
    let latest: HashMap<Dimension, Level> = assessments
        .first()
        .map(|a| a.ratings.iter().map(|r| (r.dimension, r.level)).collect())
        .unwrap_or_default();
    let rows = Dimension::ALL
        .iter()
        .map(|d| {
            let chosen = form
                .and_then(|f| f.get(&format!("level_{}", d.code())))
                .and_then(|l| Level::parse(l))
                .or_else(|| latest.get(d).copied());
            MatrixRow {
                code: d.code(),
                label: d.label(),
                levels: Level::ALL
                    .iter()
                    .map(|l| (l.code(), l.short(), d.descriptor(*l), chosen == Some(*l)))
                    .collect(),
                evidence: evidence
                    .iter()
                    .filter(|e| e.0 == *d)
                    .map(|e| (e.1.clone(), e.2.clone()))
                    .collect(),
                comment: form
                    .and_then(|f| f.get(&format!("comment_{}", d.code())).cloned())
                    .unwrap_or_default(),
                error: errors
                    .get(&format!("level_{}", d.code()))
                    .or_else(|| errors.get(&format!("comment_{}", d.code())))
                    .map(str::to_string),
            }
        })
        .collect();
    let history = assessments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let before: HashMap<Dimension, Level> = assessments
                .get(i + 1)
                .map(|b| b.ratings.iter().map(|r| (r.dimension, r.level)).collect())
                .unwrap_or_default();
            History {
                on: dates::long(a.assessed_on),
                by: a.assessed_by.clone(),
                summary: a.summary.clone(),
                ratings: a
                    .ratings
                    .iter()
                    .map(|r| {
                        (
                            r.dimension.label(),
                            r.level.short(),
                            maturity::movement(before.get(&r.dimension).copied(), r.level),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    // Each dimension's level over time, oldest first.
    let ordered: Vec<_> = assessments.iter().rev().collect();
    let labels: Vec<String> = ordered.iter().map(|a| dates::iso(a.assessed_on)).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = Dimension::ALL
        .iter()
        .map(|d| {
            (
                d.label().to_string(),
                ordered
                    .iter()
                    .map(|a| {
                        a.ratings
                            .iter()
                            .find(|r| r.dimension == *d)
                            .map(|r| f64::from(r.level.rank()))
                    })
                    .collect(),
            )
        })
        .collect();
    let chart = if ordered.len() > 1 {
        line_chart(
            "Each dimension's level at each self-assessment, from 1 (basic) to 4 (maturity)",
            &labels,
            &series,
            false,
        )
    } else {
        String::new()
    };
    let page = MaturityPage {
        l: Layout::new(
            if errors.is_empty() {
                "Partnership maturity"
            } else {
                "Error: Partnership maturity"
            },
            cu,
        ),
        errors,
        rows,
        history,
        chart,
        chart_legend: Dimension::ALL
            .iter()
            .enumerate()
            .map(|(i, d)| Legend {
                colour: COLOURS[i % COLOURS.len()],
                label: d.label().to_string(),
            })
            .collect(),
        summary: form.and_then(|f| f.get("summary").cloned()).unwrap_or_default(),
        saved,
    };
    Ok(page.render()?)
}

/// The matrix with the latest self-assessment, the evidence from the
/// partnership's own figures, and the history.
pub async fn maturity(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(s): Query<Saved>,
) -> AppResult<Html<String>> {
    allowed(&cu)?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Maturity,
        "web GET /maturity",
        String::new(),
    )
    .await?;
    Ok(Html(
        maturity_page(&state, &cu, None, Errors::default(), s.saved.is_some()).await?,
    ))
}

/// Records a new self-assessment: a level for every dimension.
pub async fn assess(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    allowed(&cu)?;
    let summary = form.get("summary").map(|s| s.trim().to_string()).unwrap_or_default();
    let mut errors = Errors::default();
    let ratings: Vec<Rating> = match maturity::parse_ratings(|k| form.get(k).cloned()) {
        Ok(r) => r,
        Err(es) => {
            for e in es {
                errors.add(e.field, e.message);
            }
            Vec::new()
        }
    };
    if summary.chars().count() > maturity::MAX_COMMENT {
        errors.add(
            "summary",
            format!("The summary must be {} characters or fewer", maturity::MAX_COMMENT),
        );
    }
    if !errors.is_empty() {
        let html = maturity_page(&state, &cu, Some(&form), errors, false).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let id = state
        .db
        .add_maturity_assessment(
            cu.user.tenant_id,
            cu.user.id,
            kindred_store::today(),
            &summary,
            &ratings,
        )
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::Maturity,
        "web POST /maturity",
        format!("assessment {id}"),
    )
    .await?;
    Ok(Redirect::to("/maturity?saved=1").into_response())
}

// ---------- the tenant's wards ----------

#[derive(Template)]
#[template(path = "admin_wards.html")]
struct WardsPage {
    l: Layout,
    errors: Errors,
    text: String,
}

fn wards_text(wards: &[kpi::NamedArea]) -> String {
    wards
        .iter()
        .map(|w| format!("{}: {}", w.name, w.areas.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tenant's wards, for the dashboards: an administrator's page.
pub async fn wards(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    let wards = state.db.wards(cu.user.tenant_id).await?;
    let page = WardsPage {
        l: Layout::new("Wards", &cu),
        errors: Errors::default(),
        text: wards_text(&wards),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct WardsForm {
    #[serde(default)]
    wards: String,
}

pub async fn set_wards(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<WardsForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    match kpi::parse_wards(&f.wards) {
        Ok(wards) => {
            state.db.replace_wards(cu.user.tenant_id, &wards).await?;
            gate::audit(
                &state,
                &cu,
                AuditAction::Update,
                Record::Dashboards,
                "web POST /admin/wards",
                format!("{} wards", wards.len()),
            )
            .await?;
            Ok(Redirect::to("/admin/wards").into_response())
        }
        Err(problems) => {
            let mut errors = Errors::default();
            for (line, message) in problems {
                errors.add("wards", format!("Line {line}: {message}"));
            }
            crate::errors::invalid(WardsPage {
                l: Layout::new("Error: Wards", &cu),
                errors,
                text: f.wards,
            })
        }
    }
}
