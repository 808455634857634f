//! Contacts and case notes (F5): every contact with a family — when, how, who
//! was present — is seen by everyone with access to the family; what the note
//! says is shown only as its visibility allows (`access::read_note`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::dates;
use kindred_domain::model::{ContactMode, NoteVisibility, Profession};
use kindred_store::contacts::{NewContact, StageDone};
use serde::Deserialize;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

const PAGE: i64 = 50;

struct ContactView {
    date: String,
    mode: &'static str,
    organisation: String,
    author: String,
    present: String,
    visibility: &'static str,
    /// The note, or `None` where it is restricted from this reader.
    text: Option<String>,
    restricted_to: String,
    /// Hidden because nothing lets it cross from the author's organisation to the reader's.
    not_shared: bool,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    l: Layout,
    id: i64,
    family_name: String,
    contacts: Vec<ContactView>,
    total: i64,
    hidden: usize,
    can_record: bool,
    prev_page: Option<i64>,
    next_page: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (family, basis, facts) = gate::family_with_facts(
        &state,
        &cu,
        id,
        FamilyAction::View,
        false,
        "web GET /families/{id}/contacts",
    )
    .await?;
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = state.db.contacts_of_family(id, PAGE, (page - 1) * PAGE).await?;
    let sharing = gate::sharing_facts(&state, id).await?;
    let subject = cu.user.subject();
    let mut hidden = 0;
    let contacts = rows
        .into_iter()
        .map(|c| {
            let text = gate::readable_note(&cu, basis, &c, &sharing).then(|| c.body.clone());
            // Hidden because no consent, agreement or override lets it cross
            // from the author's organisation to the reader's.
            let not_shared = text.is_none()
                && kindred_domain::sharing::shares(
                    &subject,
                    &sharing,
                    c.organisation_id,
                    kindred_domain::sharing::EARLY_HELP_SHARING,
                    kindred_domain::sharing::DataCategory::CaseNotes,
                    gate::at(),
                )
                .is_none();
            hidden += usize::from(text.is_none());
            let visibility = NoteVisibility::parse(&c.visibility).unwrap_or(NoteVisibility::Sensitive);
            let restricted_to = match visibility {
                NoteVisibility::Team => String::new(),
                NoteVisibility::Profession => format!(
                    "{}s",
                    Profession::parse(&c.author_profession)
                        .map(|p| p.label())
                        .unwrap_or("the author's profession")
                ),
                NoteVisibility::Organisation => c.organisation_name.clone(),
                NoteVisibility::Sensitive => "the author and the people they named".into(),
            };
            ContactView {
                date: dates::long(c.occurred_on),
                mode: ContactMode::parse(&c.mode).map(|m| m.label()).unwrap_or(""),
                organisation: c.organisation_name,
                author: c.author_name,
                present: c.present.join(", "),
                visibility: visibility.label(),
                text,
                restricted_to,
                not_shared,
            }
        })
        .collect();
    let can_record = access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed();
    let view = ContactsPage {
        l: Layout::new(format!("Contacts: {}", family.name), &cu),
        id,
        family_name: family.name,
        contacts,
        total,
        hidden,
        can_record,
        prev_page: (page > 1).then_some(page - 1),
        next_page: (page * PAGE < total).then_some(page + 1),
    };
    Ok(Html(view.render()?).into_response())
}

/// What the form sent, as typed, so that nothing is lost when it is refused.
#[derive(Debug, Default)]
struct ContactForm {
    day: String,
    month: String,
    year: String,
    mode: String,
    visibility: String,
    people: Vec<i64>,
    readers: Vec<i64>,
    text: String,
    /// `person:stage` of the universal pathway this contact completes, if any.
    pathway: String,
}

impl ContactForm {
    fn from_pairs(pairs: &[(String, String)]) -> ContactForm {
        let mut f = ContactForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "occurred_day" => f.day = v.clone(),
                "occurred_month" => f.month = v.clone(),
                "occurred_year" => f.year = v.clone(),
                "mode" => f.mode = v.clone(),
                "visibility" => f.visibility = v.clone(),
                "person" => f.people.extend(v.parse::<i64>().ok()),
                "reader" => f.readers.extend(v.parse::<i64>().ok()),
                "text" => f.text = v.clone(),
                "pathway" => f.pathway = v.clone(),
                _ => {}
            }
        }
        f
    }
}

#[derive(Template)]
#[template(path = "contact_new.html")]
struct NewContactPage {
    l: Layout,
    id: i64,
    family_name: String,
    form: ContactForm,
    errors: Errors,
    modes: &'static [ContactMode],
    visibilities: &'static [NoteVisibility],
    /// (person id, name) of the current members.
    members: Vec<(i64, String)>,
    /// (user id, name and organisation) of the team, but the author.
    team: Vec<(i64, String)>,
    /// (`person:stage`, label) of the pathway stages this contact could complete.
    pathway: Vec<(String, String)>,
}

async fn new_page(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    family_name: String,
    form: ContactForm,
    errors: Errors,
) -> AppResult<NewContactPage> {
    let members = state
        .db
        .members(id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| (m.person.id, m.person.full_name()))
        .collect();
    let team = state
        .db
        .team(id)
        .await?
        .into_iter()
        .filter(|t| t.until_date.is_none() && t.user_id != cu.user.id)
        .map(|t| (t.user_id, format!("{} ({})", t.display_name, t.organisation_name)))
        .collect();
    let title = if errors.is_empty() {
        "Record a contact".to_string()
    } else {
        "Error: Record a contact".to_string()
    };
    Ok(NewContactPage {
        l: Layout::new(title, cu),
        id,
        family_name,
        form,
        errors,
        modes: ContactMode::ALL,
        visibilities: NoteVisibility::ALL,
        members,
        team,
        pathway: super::pathway::contact_options(state, cu, id).await?,
    })
}

pub async fn new_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/contacts/new",
    )
    .await?;
    let today = kindred_store::today();
    let form = ContactForm {
        day: today.day().to_string(),
        month: (today.month() as u8).to_string(),
        year: today.year().to_string(),
        visibility: NoteVisibility::Team.code().into(),
        ..Default::default()
    };
    let page = new_page(&state, &cu, id, family.name, form, Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let family = gate::change_family(&state, &cu, id, "web POST /families/{id}/contacts/new").await?;
    let f = ContactForm::from_pairs(&pairs);
    let today = kindred_store::today();
    let mut errors = Errors::default();
    let occurred_on = match dates::parse_date_parts(&f.day, &f.month, &f.year) {
        Ok(d) if d > today => {
            errors.add("occurred", "The date of the contact must be today or in the past");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("occurred", format!("Date of the contact: {e}"));
            None
        }
    };
    let mode = ContactMode::parse(&f.mode);
    if mode.is_none() {
        errors.add("mode", "Select how the contact took place");
    }
    let members = state.db.members(id).await?;
    let current: Vec<i64> = members
        .iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| m.person.id)
        .collect();
    if f.people.is_empty() || f.people.iter().any(|p| !current.contains(p)) {
        errors.add("people", "Select who from the family was there");
    }
    let visibility = NoteVisibility::parse(&f.visibility);
    if visibility.is_none() {
        errors.add("visibility", "Select who may read the note");
    }
    let team: Vec<i64> = state
        .db
        .team(id)
        .await?
        .iter()
        .filter(|t| t.until_date.is_none())
        .map(|t| t.user_id)
        .collect();
    if f.readers.iter().any(|r| !team.contains(r)) {
        errors.add("readers", "Name only people in the team around the family");
    }
    let text = f.text.trim();
    if text.is_empty() {
        errors.add("text", "Enter what happened at the contact");
    } else if text.chars().count() > 20_000 {
        errors.add("text", "The note must be 20,000 characters or fewer");
    }
    let pathway_options = super::pathway::contact_options(&state, &cu, id).await?;
    let pathway_stage = if f.pathway.is_empty() {
        None
    } else if pathway_options.iter().any(|(v, _)| *v == f.pathway) {
        f.pathway
            .split_once(':')
            .and_then(|(p, s)| Some((p.parse::<i64>().ok()?, s.to_string())))
    } else {
        errors.add("pathway", "Choose a pathway stage from the list, or none");
        None
    };
    let (Some(occurred_on), Some(mode), Some(visibility), true) = (occurred_on, mode, visibility, errors.is_empty())
    else {
        let page = new_page(&state, &cu, id, family.name, f, errors).await?;
        return crate::errors::invalid(page);
    };
    let readers = if visibility == NoteVisibility::Sensitive {
        f.readers.clone()
    } else {
        vec![]
    };
    let actor = cu.actor("web POST /families/{id}/contacts/new");
    let stage = pathway_stage.as_ref().map(|(person_id, stage)| StageDone {
        person_id: *person_id,
        stage,
    });
    state
        .db
        .record_contact(
            &NewContact {
                tenant_id: cu.user.tenant_id,
                family_id: id,
                organisation_id: cu.user.organisation_id,
                author_user_id: cu.user.id,
                occurred_on,
                mode: mode.code(),
                visibility: visibility.code(),
                body: text.to_string(),
                people: f.people.clone(),
                readers,
            },
            stage,
            &actor,
            format!("{} {}", mode.code(), visibility.code()),
        )
        .await?;
    Ok(Redirect::to(&format!("/families/{id}/contacts")).into_response())
}
