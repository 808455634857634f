//! A person's record: details, previous names, addresses over time, the
//! families they belong to (only those the user may see), and edits.

use crate::errors::Ids;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::model::Sex;
use kindred_store::persons::PersonDetails;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::AppResult;
use crate::forms::{AddressForm, Errors, PersonForm};
use crate::layout::Layout;

struct AddressView {
    text: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    l: Layout,
    id: i64,
    name: String,
    preferred: String,
    born: String,
    sex: &'static str,
    nhs_number: String,
    upn: String,
    language: String,
    interpreter: bool,
    send: bool,
    previous_names: Vec<(String, String)>,
    addresses: Vec<AddressView>,
    families: Vec<(i64, String)>,
    can_edit: bool,
    /// Who viewed this person's records may be shown (`ViewAccessLog` on a family of theirs).
    can_view_log: bool,
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let (p, _) = gate::person(&state, &cu, id, FamilyAction::View, false, "web GET /persons/{id}").await?;
    let db = &state.db;
    let all_families = db.families_of_person(id).await?;
    let visible = gate::filter_visible(&state, &cu, &all_families).await?;
    let mut families = vec![];
    for f in visible {
        families.push((f, db.family(f).await?.name));
    }
    let can_edit = gate_edit(&state, &cu, &all_families).await?;
    let can_view_log = gate_allows(&state, &cu, &all_families, FamilyAction::ViewAccessLog).await?;
    let addresses = db
        .addresses(id)
        .await?
        .into_iter()
        .map(|a| AddressView {
            text: [Some(a.line1), a.line2, Some(a.town), Some(a.postcode)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            from: kindred_domain::dates::long(a.from_date),
            to: super::opt_date(a.to_date),
        })
        .collect();
    let previous_names = db
        .previous_names(id)
        .await?
        .into_iter()
        .map(|n| {
            (
                format!("{} {}", n.given_name, n.family_name),
                super::opt_date(n.until_date),
            )
        })
        .collect();
    let page = PersonPage {
        l: Layout::new(p.full_name(), &cu),
        id,
        name: p.full_name(),
        preferred: p.preferred_name.clone().unwrap_or_default(),
        born: super::born(&p, kindred_store::today()),
        sex: p.sex.label(),
        nhs_number: p.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
        upn: p.upn.as_ref().map(|u| u.as_str().to_string()).unwrap_or_default(),
        language: p.language.clone().unwrap_or_default(),
        interpreter: p.interpreter_needed,
        send: p.send,
        previous_names,
        addresses,
        families,
        can_edit,
        can_view_log,
    };
    Ok(Html(page.render()?))
}

/// Whether any of the person's families may be edited by the user (no audit: a display hint).
async fn gate_edit(state: &AppState, cu: &CurrentUser, families: &[i64]) -> AppResult<bool> {
    gate_allows(state, cu, families, FamilyAction::Edit).await
}

/// Whether the user may take `action` on any of the person's families (no audit: a display hint).
async fn gate_allows(state: &AppState, cu: &CurrentUser, families: &[i64], action: FamilyAction) -> AppResult<bool> {
    let facts = state.db.family_facts_many(families).await?;
    let s = cu.user.subject();
    Ok(facts
        .values()
        .any(|f| kindred_domain::access::family(&s, f, action).allowed()))
}

#[derive(Template)]
#[template(path = "person_edit.html")]
struct EditPage {
    l: Layout,
    id: i64,
    form: PersonForm,
    errors: Errors,
    sexes: &'static [Sex],
}

pub async fn edit_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let (p, _) = gate::person(&state, &cu, id, FamilyAction::Edit, false, "web GET /persons/{id}/edit").await?;
    let page = EditPage {
        l: Layout::new("Change details", &cu),
        id,
        form: PersonForm::from_person(&p),
        errors: Errors::default(),
        sexes: Sex::ALL,
    };
    Ok(Html(page.render()?))
}

pub async fn edit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<Response> {
    gate::person(&state, &cu, id, FamilyAction::Edit, true, "web POST /persons/{id}/edit").await?;
    let today = kindred_store::today();
    let mut errors = Errors::default();
    let details: Option<PersonDetails> = form.parse(today, &mut errors);
    let Some(details) = details else {
        let page = EditPage {
            l: Layout::new("Error: Change details", &cu),
            id,
            form,
            errors,
            sexes: Sex::ALL,
        };
        return crate::errors::invalid(page);
    };
    state.db.update_person(id, &details, today).await?;
    Ok(Redirect::to(&format!("/persons/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "person_move.html")]
struct MovePage {
    l: Layout,
    id: i64,
    name: String,
    address: AddressForm,
    errors: Errors,
}

pub async fn move_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let (p, _) = gate::person(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /persons/{id}/address",
    )
    .await?;
    let page = MovePage {
        l: Layout::new("Record a new address", &cu),
        id,
        name: p.full_name(),
        address: AddressForm::default(),
        errors: Errors::default(),
    };
    Ok(Html(page.render()?))
}

pub async fn move_address(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(address): CsrfForm<AddressForm>,
) -> AppResult<Response> {
    let (p, _) = gate::person(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        true,
        "web POST /persons/{id}/address",
    )
    .await?;
    let mut errors = Errors::default();
    let Some(a) = address.parse(kindred_store::today(), &mut errors) else {
        let page = MovePage {
            l: Layout::new("Error: Record a new address", &cu),
            id,
            name: p.full_name(),
            address,
            errors,
        };
        return crate::errors::invalid(page);
    };
    state.db.move_person(id, &a).await?;
    Ok(Redirect::to(&format!("/persons/{id}")).into_response())
}
