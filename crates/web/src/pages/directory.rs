//! The public service directory (F17), no sign-in: `/directory` searches
//! by need (a term of the needs taxonomy), age (with 19–25 for young people
//! with SEND), area served (a postcode district; a full postcode is taken by
//! its district), delivery mode, cost (free only) and day of the week;
//! `/directory/services/{uuid}` shows one service; `/directory/family-hub`
//! and `/directory/start-for-life` list a council's family hub offer and
//! Start for Life offer. Directory records are public information: nothing
//! here reads personal data, so nothing here is audited. Only active
//! services are shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use kindred_domain::directory::{self, Day, DeliveryMode, ServiceStatus};
use kindred_store::directory::{FullService, ServiceFilter, Term};
use kindred_store::organisations::Tenant;
use serde::Deserialize;

use crate::AppState;
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

/// Results on one page of the public search.
pub const PER_PAGE: i64 = 20;

/// A service as a result card or a service page shows it.
pub struct ServiceView {
    pub uuid: String,
    pub name: String,
    pub organisation: String,
    pub description: String,
    pub ages: String,
    pub cost: String,
    pub modes: Vec<&'static str>,
    /// "Monday and Thursday, 10:00 to 12:00" per schedule.
    pub when: Vec<String>,
    pub locations: Vec<String>,
    pub areas: String,
    pub languages: String,
    pub needs: Vec<String>,
    pub contacts: Vec<String>,
    pub url: String,
    pub email: String,
    pub family_hub_offer: bool,
    pub start_for_life: bool,
    pub connectable: bool,
}

/// "0 to 5 years", "13 to 18 years, and 19 to 25 with SEND", "All ages".
pub fn ages(min: Option<i64>, max: Option<i64>, send25: bool) -> String {
    let base = match (min, max) {
        (None, None) => "All ages".to_string(),
        (Some(lo), None) => format!("{lo} years and over"),
        (None, Some(hi)) => format!("Up to {hi} years"),
        (Some(lo), Some(hi)) => format!("{lo} to {hi} years"),
    };
    if send25 {
        format!("{base}, and up to 25 with special educational needs or disabilities")
    } else {
        base
    }
}

/// "Monday and Thursday", "Every day".
fn days_text(byday: &str) -> String {
    let days = directory::byday_days(byday);
    match days.len() {
        0 => String::new(),
        7 => "Every day".into(),
        1 => days[0].label().into(),
        n => format!(
            "{} and {}",
            days[..n - 1].iter().map(|d| d.label()).collect::<Vec<_>>().join(", "),
            days[n - 1].label()
        ),
    }
}

impl ServiceView {
    pub fn of(s: &FullService) -> ServiceView {
        let amounts: Vec<Option<i64>> = s.costs.iter().map(|c| c.amount).collect();
        let free = directory::is_free(&amounts);
        let cost = if free {
            "Free".to_string()
        } else {
            s.costs
                .iter()
                .map(|c| {
                    let amount = c.amount.map(directory::format_pence).unwrap_or_default();
                    [amount, c.amount_description.clone()]
                        .into_iter()
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                        .join(": ")
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let when = s
            .schedules
            .iter()
            .filter(|sc| !sc.byday.is_empty())
            .map(|sc| {
                let mut t = days_text(&sc.byday);
                if sc.freq == "MONTHLY" {
                    t = format!("{t}, monthly");
                }
                if let (Some(o), Some(c)) = (&sc.opens_at, &sc.closes_at) {
                    t = format!("{t}, {o} to {c}");
                }
                if !sc.description.is_empty() {
                    t = format!("{t} ({})", sc.description);
                }
                t
            })
            .collect();
        ServiceView {
            uuid: s.service.uuid.clone(),
            name: s.service.name.clone(),
            organisation: s.organisation.name.clone(),
            description: s.service.description.clone(),
            ages: ages(s.service.minimum_age, s.service.maximum_age, s.service.send_up_to_25),
            cost: if let Some(f) = s.service.fees_description.as_deref().filter(|f| !f.is_empty()) {
                if free {
                    format!("Free. {f}")
                } else {
                    format!("{cost}. {f}")
                }
            } else {
                cost
            },
            modes: s
                .modes
                .iter()
                .filter_map(|m| DeliveryMode::parse(m).map(|d| d.label()))
                .collect(),
            when,
            locations: s
                .locations
                .iter()
                .map(|l| {
                    let loc = &l.location;
                    [
                        Some(loc.name.clone()),
                        loc.address_1.clone(),
                        loc.city.clone(),
                        loc.postcode.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
                })
                .collect(),
            areas: s.areas.iter().map(|a| a.area.as_str()).collect::<Vec<_>>().join(", "),
            languages: s
                .languages
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            needs: s.terms.iter().map(|t| t.name.clone()).collect(),
            contacts: s
                .contacts
                .iter()
                .map(|c| {
                    [
                        Some(c.name.clone()),
                        Some(c.title.clone()),
                        c.phone.clone(),
                        c.email.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
                })
                .collect(),
            url: s.service.url.clone().unwrap_or_default(),
            email: s.service.email.clone().unwrap_or_default(),
            family_hub_offer: s.service.family_hub_offer,
            start_for_life: s.service.start_for_life,
            connectable: s.service.connect_organisation_id.is_some(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    pub council: String,
    pub need: String,
    pub age: String,
    pub send: String,
    pub postcode: String,
    pub mode: String,
    pub free: String,
    pub day: String,
    pub page: Option<i64>,
}

impl SearchQuery {
    /// The query string of this search on another page.
    fn link(&self, page: i64) -> String {
        let mut parts: Vec<(&str, String)> = vec![];
        for (k, v) in [
            ("council", &self.council),
            ("need", &self.need),
            ("age", &self.age),
            ("send", &self.send),
            ("postcode", &self.postcode),
            ("mode", &self.mode),
            ("free", &self.free),
            ("day", &self.day),
        ] {
            if !v.trim().is_empty() {
                parts.push((k, v.trim().to_string()));
            }
        }
        parts.push(("page", page.to_string()));
        let qs = parts
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("/directory?{qs}")
    }

    fn searched(&self) -> bool {
        [
            &self.council,
            &self.need,
            &self.age,
            &self.postcode,
            &self.mode,
            &self.free,
            &self.day,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

/// Percent-encodes a query value (letters, digits and `-_.~` pass).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Parses the search; every problem names its field.
fn parse(q: &SearchQuery, tenants: &[Tenant], needs: &[Term], errors: &mut Errors) -> ServiceFilter {
    let mut f = ServiceFilter {
        active_only: true,
        ..Default::default()
    };
    if !q.council.is_empty() {
        match tenants.iter().find(|t| t.code == q.council) {
            Some(t) => f.tenant_id = Some(t.id),
            None => errors.add("council", "Select a council from the list"),
        }
    }
    if !q.need.is_empty() {
        match needs.iter().find(|t| t.code == q.need) {
            Some(t) => f.term_id = Some(t.id),
            None => errors.add("need", "Select what you need help with from the list"),
        }
    }
    if !q.age.trim().is_empty() {
        match q.age.trim().parse::<i64>() {
            Ok(a) if (0..=directory::MAX_AGE).contains(&a) => f.age = Some(a),
            _ => errors.add("age", "Enter an age in whole years, like 3"),
        }
    }
    f.has_send = q.send == "yes";
    if !q.postcode.trim().is_empty() {
        match directory::parse_district(&q.postcode) {
            Ok(d) => f.district = Some(d),
            Err(_) => errors.add(
                "postcode",
                "Enter a postcode, like W2 5AB, or the first part of it, like W2",
            ),
        }
    }
    if !q.mode.is_empty() {
        match DeliveryMode::parse(&q.mode) {
            Some(m) => f.mode = Some(m.code().to_string()),
            None => errors.add("mode", "Select how you want to use the service from the list"),
        }
    }
    f.free_only = q.free == "yes";
    if !q.day.is_empty() {
        match Day::parse(&q.day) {
            Some(d) => f.day = Some(d.code().to_string()),
            None => errors.add("day", "Select a day of the week from the list"),
        }
    }
    f
}

#[derive(Template)]
#[template(path = "directory_search.html")]
struct SearchPage {
    l: Layout,
    q: SearchQuery,
    errors: Errors,
    tenants: Vec<Tenant>,
    needs: Vec<Term>,
    modes: &'static [DeliveryMode],
    days: &'static [Day],
    searched: bool,
    total: i64,
    results: Vec<ServiceView>,
    page: i64,
    pages: i64,
    prev_page: Option<String>,
    next_page: Option<String>,
}

pub async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> AppResult<Response> {
    let db = &state.db;
    let tenants = db.tenants().await?;
    let needs = db.needs_terms().await?;
    let mut errors = Errors::default();
    let filter = parse(&q, &tenants, &needs, &mut errors);
    let page_no = q.page.unwrap_or(1).max(1);
    let searched = q.searched();
    let (total, results) = if errors.is_empty() && searched {
        let (total, rows) = db.directory_services_page(&filter, page_no, PER_PAGE).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let full = db.full_services(&ids).await?;
        (total, full.iter().map(ServiceView::of).collect())
    } else {
        (0, vec![])
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = SearchPage {
        l: Layout::directory("Find a service for your family"),
        prev_page: (page_no > 1).then(|| q.link(page_no - 1)),
        next_page: (page_no < pages).then(|| q.link(page_no + 1)),
        q,
        errors,
        tenants,
        needs,
        modes: DeliveryMode::ALL,
        days: Day::ALL,
        searched,
        total,
        results,
        page: page_no,
        pages,
    };
    if !page.errors.is_empty() {
        return crate::errors::invalid(page);
    }
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "directory_service.html")]
struct ServicePage {
    l: Layout,
    s: ServiceView,
    /// The feed or partner system the listing comes from, when not the hub's own.
    listed_by: Option<String>,
}

pub async fn service(State(state): State<AppState>, Ids(uuid): Ids<String>) -> AppResult<Response> {
    let full = state.db.full_service_by_uuid(&uuid).await?.ok_or(AppError::NotFound)?;
    if full.service.status != ServiceStatus::Active.code() {
        return Err(AppError::NotFound);
    }
    let s = ServiceView::of(&full);
    let listed_by = match full.service.source_id {
        Some(id) => state.db.directory_source(id).await?.map(|src| src.name),
        None => None,
    };
    let page = ServicePage {
        l: Layout::directory(s.name.clone()),
        s,
        listed_by,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OfferQuery {
    pub council: String,
    pub page: Option<i64>,
}

#[derive(Template)]
#[template(path = "directory_offer.html")]
struct OfferPage {
    l: Layout,
    heading: String,
    intro: &'static str,
    path: &'static str,
    tenants: Vec<Tenant>,
    council: Option<Tenant>,
    total: i64,
    results: Vec<ServiceView>,
    prev_page: Option<String>,
    next_page: Option<String>,
}

/// The family hub offer of a council.
pub async fn family_hub(state: State<AppState>, q: Query<OfferQuery>) -> AppResult<Response> {
    offer(state, q, true).await
}

/// The Start for Life offer of a council: pregnancy to age two.
pub async fn start_for_life(state: State<AppState>, q: Query<OfferQuery>) -> AppResult<Response> {
    offer(state, q, false).await
}

async fn offer(State(state): State<AppState>, Query(q): Query<OfferQuery>, hub: bool) -> AppResult<Response> {
    let db = &state.db;
    let tenants = db.tenants().await?;
    let council = if q.council.is_empty() && tenants.len() == 1 {
        tenants.first().cloned()
    } else {
        tenants.iter().find(|t| t.code == q.council).cloned()
    };
    if !q.council.is_empty() && council.is_none() {
        return Err(AppError::NotFound);
    }
    let (path, offer_name, intro) = if hub {
        (
            "/directory/family-hub",
            "Family hub offer",
            "What your family hub offers every family: from pregnancy, through the early years, to 19 (or 25 for young people with special educational needs and disabilities).",
        )
    } else {
        (
            "/directory/start-for-life",
            "Start for Life offer",
            "Support for you and your baby from pregnancy to age two: infant feeding, parenting, your mental health, and your baby's early development.",
        )
    };
    let page_no = q.page.unwrap_or(1).max(1);
    let (total, results) = match &council {
        Some(t) => {
            let filter = ServiceFilter {
                tenant_id: Some(t.id),
                active_only: true,
                family_hub_offer: hub,
                start_for_life: !hub,
                ..Default::default()
            };
            let (total, rows) = db.directory_services_page(&filter, page_no, PER_PAGE).await?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            (
                total,
                db.full_services(&ids).await?.iter().map(ServiceView::of).collect(),
            )
        }
        None => (0, vec![]),
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let code = council.as_ref().map(|t| t.code.clone()).unwrap_or_default();
    let link = |p: i64| format!("{path}?council={}&page={p}", encode(&code));
    let heading = match &council {
        Some(t) => format!("{}: {offer_name}", t.name),
        None => offer_name.to_string(),
    };
    let page = OfferPage {
        l: Layout::directory(heading.clone()),
        heading,
        intro,
        path,
        tenants,
        council,
        total,
        results,
        prev_page: (page_no > 1).then(|| link(page_no - 1)),
        next_page: (page_no < pages).then(|| link(page_no + 1)),
    };
    Ok(Html(page.render()?).into_response())
}
