//! Search for people by name (typo-tolerant), date of birth, NHS number and
//! postcode, within the families the user works with. Search is a POST so
//! that names and NHS numbers never appear in URLs, histories or logs.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use kindred_domain::audit::AuditAction;
use kindred_domain::{NhsNumber, Postcode, dates};
use kindred_store::search::SearchCriteria;
use serde::Deserialize;

use crate::AppState;
use crate::access;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::AppResult;
use crate::forms::Errors;
use crate::layout::Layout;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    name: String,
    dob_day: String,
    dob_month: String,
    dob_year: String,
    nhs_number: String,
    postcode: String,
}

/// Results shown on one page.
const SHOWN: usize = 50;

struct Hit {
    person_id: i64,
    name: String,
    born: String,
    nhs_number: String,
    postcode: String,
    families: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    form: SearchForm,
    errors: Errors,
    searched: bool,
    hits: Vec<Hit>,
    /// The search found more than it shows.
    more: bool,
}

pub async fn form(cu: CurrentUser) -> AppResult<Html<String>> {
    let page = SearchPage {
        l: Layout::new("Search", &cu),
        form: SearchForm::default(),
        errors: Errors::default(),
        searched: false,
        hits: vec![],
        more: false,
    };
    Ok(Html(page.render()?))
}

fn criteria(f: &SearchForm, errors: &mut Errors) -> SearchCriteria {
    let mut c = SearchCriteria::default();
    if !f.name.trim().is_empty() {
        c.name = Some(f.name.trim().to_string());
    }
    if [&f.dob_day, &f.dob_month, &f.dob_year]
        .iter()
        .any(|s| !s.trim().is_empty())
    {
        match dates::parse_date_parts(&f.dob_day, &f.dob_month, &f.dob_year) {
            Ok(d) => c.date_of_birth = Some(d),
            Err(e) => errors.add("dob", format!("Date of birth {e}")),
        }
    }
    if !f.nhs_number.trim().is_empty() {
        match NhsNumber::parse(&f.nhs_number) {
            Ok(n) => c.nhs_number = Some(n),
            Err(e) => errors.add("nhs_number", e.to_string()),
        }
    }
    if !f.postcode.trim().is_empty() {
        match Postcode::parse(&f.postcode) {
            Ok(p) => c.postcode = Some(p),
            Err(e) => errors.add("postcode", e.to_string()),
        }
    }
    if errors.is_empty() && c.is_empty() {
        errors.add("name", "Enter a name, date of birth, NHS number or postcode");
    }
    c
}

pub async fn search(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<SearchForm>,
) -> AppResult<Html<String>> {
    let mut errors = Errors::default();
    let c = criteria(&form, &mut errors);
    let mut hits = vec![];
    let mut more = false;
    if errors.is_empty() {
        // The search and its screening read one snapshot on one connection.
        let db = state.db.pinned().await?;
        let found = db.search_persons(&cu.user.subject(), &c, SHOWN + 1).await?;
        more = found.len() > SHOWN;
        let found: Vec<_> = found.into_iter().take(SHOWN).collect();
        let today = kindred_store::today();
        let screened = access::screen_hits(
            &db,
            &cu,
            &found
                .iter()
                .map(|h| (h.person.id, h.families.iter().map(|f| f.0).collect()))
                .collect::<Vec<_>>(),
        )
        .await?;
        for h in found {
            let families: Vec<(i64, String)> = h
                .families
                .into_iter()
                .filter(|(id, _)| screened.visible.contains(id))
                .collect();
            if families.is_empty() {
                continue;
            }
            hits.push(Hit {
                person_id: h.person.id,
                name: h.person.full_name(),
                born: super::born(&h.person, today),
                nhs_number: h.person.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
                postcode: if screened.contact_shown.contains(&h.person.id) {
                    h.postcode.unwrap_or_default()
                } else {
                    access::WITHHELD.to_string()
                },
                families,
            });
        }
        // Let the connection go before waiting for the audit writer.
        drop(db);
        access::audit(
            &state,
            &cu,
            AuditAction::Search,
            access::Record::Search,
            "web POST /search",
            format!("fields={} results={}", c.fields(), hits.len()),
        )
        .await?;
    }
    let searched = errors.is_empty();
    let page = SearchPage {
        l: Layout::new("Search", &cu),
        form,
        errors,
        searched,
        hits,
        more,
    };
    Ok(Html(page.render()?))
}
