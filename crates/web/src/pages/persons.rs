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
    /// The reader may see the address and contact details.
    shown: bool,
    withheld: &'static str,
    phone: String,
    email: String,
    restricted: bool,
    /// Who may see a restricted person's details (id, name).
    permitted: Vec<(i64, String)>,
    /// Workers who may be allowed (id, label): for readers who may change the restriction.
    candidates: Vec<(i64, String)>,
    reasons: &'static [(&'static str, &'static str)],
    flags_block: super::flags::FlagsBlock,
    /// The records other systems hold about this person, linked to them
    /// (issue 6), that the sharing rules let the reader know of.
    linked_records: Vec<LinkedRecord>,
    /// Linked records held by services that do not share them with the reader.
    unshared_records: usize,
}

pub struct LinkedRecord {
    pub organisation: String,
    pub source_system: String,
    pub kind: &'static str,
    pub key: String,
    pub how: &'static str,
    pub since: String,
}

/// The person's linked source records, each shown only when its supplier
/// shares involvement information with the reader's organisation on one of
/// the person's visible families (or is the reader's own organisation).
async fn linked_records(
    state: &AppState,
    cu: &CurrentUser,
    person_id: i64,
    families: &[i64],
) -> AppResult<(Vec<LinkedRecord>, usize)> {
    let records = state.db.source_records_of_person(person_id).await?;
    if records.is_empty() {
        return Ok((vec![], 0));
    }
    let mut facts = vec![];
    for f in families {
        if let Some(sf) = state.db.sharing_facts(*f).await? {
            facts.push(sf);
        }
    }
    let subject = cu.user.subject();
    let at = gate::at();
    let (mut shown, mut hidden) = (vec![], 0);
    for r in records {
        let shared = r.organisation_id == subject.organisation_id
            || facts.iter().any(|f| {
                kindred_domain::sharing::shares(
                    &subject,
                    f,
                    r.organisation_id,
                    kindred_domain::sharing::EARLY_HELP_SHARING,
                    kindred_domain::sharing::DataCategory::Involvement,
                    at,
                )
                .is_some()
            });
        if !shared {
            hidden += 1;
            continue;
        }
        shown.push(LinkedRecord {
            organisation: r.organisation_name.clone(),
            source_system: r.source_system.clone(),
            kind: kindred_domain::feeds::FeedKind::parse(&r.kind)
                .map(|k| k.label())
                .unwrap_or("Feed"),
            key: r.source_key.clone(),
            how: kindred_domain::feeds::RecordStatus::parse(&r.status)
                .map(|s| s.label())
                .unwrap_or(""),
            since: crate::layout::london_time(r.created_at_ms, false),
        });
    }
    Ok((shown, hidden))
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
    let shown = gate::person_contact_shown(&state, &cu, id).await?;
    let restricted = db
        .own_restriction_facts(&[id])
        .await?
        .get(&id)
        .is_none_or(|f| f.restricted);
    let contact = if shown {
        db.person_contacts(&[id]).await?.remove(&id).unwrap_or_default()
    } else {
        Default::default()
    };
    let permitted = if restricted {
        db.restricted_permissions(id)
            .await?
            .into_iter()
            .map(|p| (p.user_id, p.display_name))
            .collect()
    } else {
        vec![]
    };
    let candidates = if restricted && shown && can_edit {
        super::restricted::candidates(&state, &cu, id).await?
    } else {
        vec![]
    };
    let visible_ids: Vec<i64> = families.iter().map(|f| f.0).collect();
    let editable = super::flags::editable_families(&state, &cu, id).await?;
    let flags_block = super::flags::person_block(&state, id, &visible_ids, editable).await?;
    let addresses = if !shown {
        vec![]
    } else {
        db.addresses(id)
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
            .collect()
    };
    let (linked_records, unshared_records) = linked_records(&state, &cu, id, &visible_ids).await?;
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
        shown,
        withheld: gate::WITHHELD,
        phone: contact.phone.unwrap_or_default(),
        email: contact.email.unwrap_or_default(),
        restricted,
        permitted,
        candidates,
        reasons: super::restricted::REASONS,
        flags_block,
        linked_records,
        unshared_records,
    };
    Ok(Html(page.render()?))
}

/// The forms that show or change a person's address and contact details are
/// for readers who may see them: a restricted person's are not found otherwise.
async fn require_contact(state: &AppState, cu: &CurrentUser, id: i64) -> AppResult<()> {
    if gate::person_contact_shown(state, cu, id).await? {
        Ok(())
    } else {
        Err(crate::errors::AppError::NotFound)
    }
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
    require_contact(&state, &cu, id).await?;
    let contact = state.db.person_contacts(&[id]).await?;
    let page = EditPage {
        l: Layout::new("Change details", &cu),
        id,
        form: PersonForm::from_person(&p).with_contact(contact.get(&id)),
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
    require_contact(&state, &cu, id).await?;
    let today = kindred_store::today();
    let mut errors = Errors::default();
    let details: Option<PersonDetails> = form.parse(today, &mut errors);
    let contact = form.parse_contact(&mut errors);
    let (Some(details), true) = (details, errors.is_empty()) else {
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
    state.db.set_person_contact(id, &contact).await?;
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
    require_contact(&state, &cu, id).await?;
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
    require_contact(&state, &cu, id).await?;
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
