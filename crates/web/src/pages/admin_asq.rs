//! Administration: the council's own ASQ cut-offs. Kindred ships no published
//! tables; each tenant sets a cut-off and a monitoring zone per questionnaire
//! interval and area, and results are classified only where one is set.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::development::{self as dev, Cutoff, CutoffError, Instrument};
use serde::Deserialize;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::forms::Errors;
use crate::layout::Layout;

use super::development::Cutoffs;

/// (area code, label, cut-off field, monitoring field)
type Field = (&'static str, &'static str, &'static str, &'static str);

const ASQ3_FIELDS: &[Field] = &[
    (
        "communication",
        "Communication",
        "cutoff-communication",
        "monitoring-communication",
    ),
    (
        "gross_motor",
        "Gross motor",
        "cutoff-gross_motor",
        "monitoring-gross_motor",
    ),
    ("fine_motor", "Fine motor", "cutoff-fine_motor", "monitoring-fine_motor"),
    (
        "problem_solving",
        "Problem solving",
        "cutoff-problem_solving",
        "monitoring-problem_solving",
    ),
    (
        "personal_social",
        "Personal-social",
        "cutoff-personal_social",
        "monitoring-personal_social",
    ),
];

const SE_FIELDS: &[Field] = &[(dev::SE_TOTAL, "Total", "cutoff-total", "monitoring-total")];

fn fields(i: Instrument) -> &'static [Field] {
    match i {
        Instrument::Asq3 => ASQ3_FIELDS,
        Instrument::AsqSe => SE_FIELDS,
    }
}

struct OverviewRow {
    interval: u8,
    /// One cell per area: "22.5 / 30" or empty.
    cells: Vec<String>,
}

struct EditField {
    label: &'static str,
    cut_name: &'static str,
    mon_name: &'static str,
    cut: String,
    mon: String,
}

#[derive(Template)]
#[template(path = "admin_asq_cutoffs.html")]
struct CutoffsPage {
    l: Layout,
    asq3_areas: Vec<&'static str>,
    asq3: Vec<OverviewRow>,
    asqse: Vec<OverviewRow>,
    instrument: Instrument,
    interval: u8,
    intervals: &'static [u8],
    edit: Vec<EditField>,
    errors: Errors,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Which {
    instrument: String,
    interval: String,
    saved: Option<u8>,
}

fn overview(i: Instrument, cuts: &Cutoffs) -> Vec<OverviewRow> {
    i.intervals()
        .iter()
        .map(|n| OverviewRow {
            interval: *n,
            cells: fields(i)
                .iter()
                .map(|f| {
                    cuts.get(i, i32::from(*n), f.0)
                        .map(|c| format!("{} / {}", dev::show_points(c.cutoff), dev::show_points(c.monitoring)))
                        .unwrap_or_default()
                })
                .collect(),
        })
        .collect()
}

async fn page(
    state: &AppState,
    cu: &CurrentUser,
    instrument: Instrument,
    interval: u8,
    posted: Option<&[(String, String)]>,
    errors: Errors,
    saved: bool,
) -> AppResult<CutoffsPage> {
    let cuts = Cutoffs::from_rows(state.db.asq_cutoffs(cu.user.tenant_id).await?);
    let value = |k: &str| {
        posted
            .and_then(|p| p.iter().find(|(key, _)| key == k))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let edit = fields(instrument)
        .iter()
        .map(|f| {
            let current = cuts.get(instrument, i32::from(interval), f.0);
            let (cut, mon) = match posted {
                Some(_) => (value(f.2), value(f.3)),
                None => (
                    current.map(|c| dev::show_points(c.cutoff)).unwrap_or_default(),
                    current.map(|c| dev::show_points(c.monitoring)).unwrap_or_default(),
                ),
            };
            EditField {
                label: f.1,
                cut_name: f.2,
                mon_name: f.3,
                cut,
                mon,
            }
        })
        .collect();
    Ok(CutoffsPage {
        l: Layout::new(
            if errors.is_empty() {
                "ASQ cut-offs"
            } else {
                "Error: ASQ cut-offs"
            },
            cu,
        ),
        asq3_areas: ASQ3_FIELDS.iter().map(|f| f.1).collect(),
        asq3: overview(Instrument::Asq3, &cuts),
        asqse: overview(Instrument::AsqSe, &cuts),
        instrument,
        interval,
        intervals: instrument.intervals(),
        edit,
        errors,
        saved,
    })
}

fn which(instrument: &str, interval: &str) -> (Instrument, u8) {
    let i = Instrument::parse(instrument).unwrap_or(Instrument::Asq3);
    let n = dev::parse_interval(i, interval).unwrap_or(24);
    (i, n)
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<Which>) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    let (i, n) = which(&q.instrument, &q.interval);
    Ok(Html(
        page(&state, &cu, i, n, None, Errors::default(), q.saved.is_some())
            .await?
            .render()?,
    ))
}

const BAD_FORM: &str = "Choose a questionnaire and an age interval from the page, then try again.";

fn message(label: &str, what: &str, e: CutoffError, instrument: Instrument) -> String {
    let max = match instrument {
        Instrument::Asq3 => 60,
        Instrument::AsqSe => dev::SE_MAX,
    };
    match e {
        CutoffError::NotANumber => format!("{label} {what} must be a number, like 25 or 22.5"),
        CutoffError::OutOfRange => format!("{label} {what} must be between 0 and {max}"),
        CutoffError::Order => match instrument {
            Instrument::Asq3 => format!("{label} monitoring zone must end at or above the cut-off"),
            Instrument::AsqSe => format!("{label} monitoring zone must start at or below the cut-off"),
        },
    }
}

pub async fn save(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let value = |k: &str| crate::forms::field(&pairs, k);
    // The page sends both; anything else is not a form of ours.
    let instrument = Instrument::parse(&value("instrument")).ok_or(AppError::BadRequest(BAD_FORM))?;
    let interval = dev::parse_interval(instrument, &value("interval")).ok_or(AppError::BadRequest(BAD_FORM))?;
    let mut errors = Errors::default();
    let mut values = vec![];
    for f in fields(instrument) {
        let (cut, mon) = (value(f.2), value(f.3));
        let parsed = match (cut.is_empty(), mon.is_empty()) {
            (true, true) => Ok(None),
            (true, false) => {
                errors.add(
                    f.2,
                    format!("Enter the {} cut-off, or clear its monitoring zone", f.1.to_lowercase()),
                );
                continue;
            }
            (false, _) => dev::parse_points(&cut)
                .map_err(|e| (f.2, message(f.1, "cut-off", e, instrument)))
                .and_then(|c| {
                    // No monitoring zone given: the zone is empty.
                    let m = if mon.is_empty() {
                        Ok(c)
                    } else {
                        dev::parse_points(&mon).map_err(|e| (f.3, message(f.1, "monitoring zone", e, instrument)))
                    }?;
                    Cutoff::new(instrument, c, m).map(Some).map_err(|e| {
                        (
                            if e == CutoffError::Order { f.3 } else { f.2 },
                            message(f.1, "cut-off", e, instrument),
                        )
                    })
                }),
        };
        match parsed {
            Ok(v) => values.push((f.0, v)),
            Err((field, msg)) => errors.add(field, msg),
        }
    }
    if !errors.is_empty() {
        let p = page(&state, &cu, instrument, interval, Some(&pairs), errors, false).await?;
        return crate::errors::invalid(p);
    }
    for (area, v) in values {
        state
            .db
            .set_asq_cutoff(
                cu.user.tenant_id,
                Some(cu.user.id),
                instrument.code(),
                interval,
                area,
                v.map(|c| (c.cutoff, c.monitoring)),
            )
            .await?;
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::AsqCutoffs,
        "web POST /admin/asq-cutoffs",
        format!("{} {interval}", instrument.code()),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/asq-cutoffs?instrument={}&interval={interval}&saved=1",
        instrument.code()
    ))
    .into_response())
}
