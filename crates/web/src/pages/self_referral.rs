//! The public self-referral at `/self-referral`: a parent or carer asks their
//! family hub for help without an account. GOV.UK question pages, one thing
//! per page, then check your answers, then a confirmation with a reference.
//! The referral enters the same triage queue as a professional's.
//!
//! The browser holds a random token in a cookie; the draft row is keyed by its
//! SHA-256 and carries its own CSRF token, which every POST must send back.
//! Drafts untouched for two hours are gone. Without a CAPTCHA, abuse is held
//! off by rate limits per address, a honeypot field and a minimum time from
//! start to send.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use kindred_domain::referral::{self, NEEDS};

use crate::AppState;
use crate::auth::cookie;
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;
use crate::passwords::{random_token, sha256_hex};

pub mod answers;
pub mod draft;
pub mod send;

use answers::{
    AddressForm, Answers, ContactForm, CouncilForm, DobForm, NameForm, PersonForm, RELATIONSHIPS, Step, WordsForm,
    YesNoForm,
};
use draft::{ChangeQuery, Current, Drafted, KEEP_MS, Posted, draft_cookie};

const HOUR_MS: i64 = 60 * 60 * 1000;
const START: &str = "/self-referral";
const EXPIRED: &str = "/self-referral/expired";
const CONFIRMATION: &str = "/self-referral/confirmation";

pub use send::{check_form, confirmation, send};

// ---------- what every question page shows ----------

/// The frame of a question page: back link, the form's target, its tokens, the errors.
pub struct Q {
    back: String,
    action: String,
    csrf: String,
    change: bool,
    errors: Errors,
}

impl Q {
    fn new(cur: &Current, change: bool, back: &str, action: &str, errors: Errors) -> Q {
        Q {
            back: if change {
                Step::Check.path().to_string()
            } else {
                back.to_string()
            },
            action: action.to_string(),
            csrf: cur.csrf.clone(),
            change,
            errors,
        }
    }
}

/// A radio or checkbox.
pub struct Choice {
    value: String,
    label: String,
    checked: bool,
}

fn choice(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Choice {
    Choice {
        value: value.into(),
        label: label.into(),
        checked: selected,
    }
}

fn yes_no(selected: &str, no_label: &str) -> Vec<Choice> {
    vec![
        choice("yes", "Yes", selected == "yes"),
        choice("no", no_label, selected == "no"),
    ]
}

fn layout(title: &str, errors: &Errors) -> Layout {
    if errors.is_empty() {
        Layout::public(title)
    } else {
        Layout::public(format!("Error: {title}"))
    }
}

/// 200 for a page, 422 when it comes back with errors.
fn show(page: impl Template, errors_shown: bool) -> AppResult<Response> {
    if errors_shown {
        crate::errors::invalid(page)
    } else {
        Ok(Html(page.render()?).into_response())
    }
}

#[derive(Template)]
#[template(path = "self_referral/message.html")]
struct MessagePage {
    l: Layout,
    heading: &'static str,
    body: Vec<&'static str>,
}

fn too_many() -> AppResult<Response> {
    let page = MessagePage {
        l: Layout::public("There is a problem"),
        heading: "There is a problem",
        body: vec![
            "We have had too many requests from your internet connection in the last hour.",
            "Try again later, or phone your family hub.",
            "If a child is in danger, call 999.",
        ],
    };
    Ok((StatusCode::TOO_MANY_REQUESTS, Html(page.render()?)).into_response())
}

/// Counts one event against an address's hourly limit; false when it is used up.
pub(crate) async fn within_limit(state: &AppState, what: &str, addr: SocketAddr, per_hour: i64) -> AppResult<bool> {
    let key = sha256_hex(&format!("{what}:{}", addr.ip()));
    let since = kindred_store::now_ms() - HOUR_MS;
    if state.db.rate_events_since(&key, since).await? >= per_hour {
        return Ok(false);
    }
    state.db.record_rate_event(&key).await?;
    Ok(true)
}

// ---------- start ----------

#[derive(Template)]
#[template(path = "self_referral/start.html")]
struct StartPage {
    l: Layout,
    expired: bool,
}

pub async fn start_page() -> AppResult<Html<String>> {
    let page = StartPage {
        l: Layout::public("Ask your family hub for help"),
        expired: false,
    };
    Ok(Html(page.render()?))
}

pub async fn expired_page() -> AppResult<Html<String>> {
    let page = StartPage {
        l: Layout::public("Your answers were not kept"),
        expired: true,
    };
    Ok(Html(page.render()?))
}

/// Starts a new draft, forgetting any earlier one in this browser.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
) -> AppResult<Response> {
    // No draft yet to hold a CSRF token: refuse what browsers say came from another site.
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err(AppError::BadRequest("Start from the family hub's own page."));
    }
    let cfg = &state.config;
    if !within_limit(&state, "selfref-start", addr, cfg.self_referral_starts_per_hour).await? {
        return too_many();
    }
    let db = &state.db;
    db.purge_drafts(kindred_store::now_ms() - KEEP_MS).await?;
    db.purge_rate_events(kindred_store::now_ms() - 2 * 3_600_000).await?;
    if let Some(old) = jar.get(draft_cookie(cfg)) {
        db.delete_draft(&sha256_hex(old.value())).await?;
    }
    let answers = Answers {
        reference: referral::reference(rand::random()),
        ..Answers::default()
    };
    let data = serde_json::to_string(&answers).map_err(|e| AppError::Internal(e.into()))?;
    let token = random_token();
    db.create_draft(&sha256_hex(&token), &random_token(), &data).await?;
    let jar = jar.add(cookie(cfg, draft_cookie(cfg), token));
    Ok((jar, Redirect::to(Step::Name.path())).into_response())
}

// ---------- you ----------

#[derive(Template)]
#[template(path = "self_referral/name.html")]
struct NamePage {
    l: Layout,
    q: Q,
    form: NameForm,
}

fn name_page(cur: &Current, change: bool, form: NameForm, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let page = NamePage {
        l: layout("What is your name?", &errors),
        q: Q::new(cur, change, START, Step::Name.path(), errors),
        form,
    };
    show(page, shown)
}

pub async fn name_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    let form = NameForm::from_answers(&cur.answers);
    name_page(&cur, q.on(), form, Errors::default())
}

pub async fn name(State(state): State<AppState>, p: Posted<NameForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    form.apply(&mut cur.answers, &mut errors);
    if !errors.is_empty() {
        return name_page(&cur, change, form, errors);
    }
    cur.save(&state).await?;
    Ok(cur.next(change, Step::DateOfBirth))
}

#[derive(Template)]
#[template(path = "self_referral/dob.html")]
struct DobPage {
    l: Layout,
    q: Q,
    form: DobForm,
}

fn dob_page(cur: &Current, change: bool, form: DobForm, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let page = DobPage {
        l: layout("What is your date of birth?", &errors),
        q: Q::new(cur, change, Step::Name.path(), Step::DateOfBirth.path(), errors),
        form,
    };
    show(page, shown)
}

pub async fn dob_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    let form = DobForm::from_answers(&cur.answers);
    dob_page(&cur, q.on(), form, Errors::default())
}

pub async fn dob(State(state): State<AppState>, p: Posted<DobForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    form.apply(&mut cur.answers, kindred_store::today(), &mut errors);
    if !errors.is_empty() {
        return dob_page(&cur, change, form, errors);
    }
    cur.save(&state).await?;
    Ok(cur.next(change, Step::Address))
}

#[derive(Template)]
#[template(path = "self_referral/address.html")]
struct AddressPage {
    l: Layout,
    q: Q,
    form: AddressForm,
}

fn address_page(cur: &Current, change: bool, form: AddressForm, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let page = AddressPage {
        l: layout("What is your address?", &errors),
        q: Q::new(cur, change, Step::DateOfBirth.path(), Step::Address.path(), errors),
        form,
    };
    show(page, shown)
}

pub async fn address_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    let form = AddressForm::from_answers(&cur.answers);
    address_page(&cur, q.on(), form, Errors::default())
}

/// Saves the address and finds the local authority whose hub reaches the postcode.
pub async fn address(State(state): State<AppState>, p: Posted<AddressForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    let Some((line, postcode)) = form.parse(&mut errors) else {
        return address_page(&cur, change, form, errors);
    };
    let mut found = None;
    for t in state.db.tenants().await? {
        if let Some(hub) = state.db.hub_site_for(t.id, &postcode).await? {
            found = Some((t.id, hub.id));
            break;
        }
    }
    let a = &mut cur.answers;
    let moved = a.postcode != postcode.as_str();
    a.address_line = line;
    a.postcode = postcode.as_str().to_string();
    match found {
        Some((tenant, hub)) => {
            cur.tenant_id = Some(tenant);
            a.hub_site_id = Some(hub);
            a.council_chosen = false;
        }
        // A council chosen for this postcode still stands; a new postcode asks again.
        None if a.council_chosen && !moved => {}
        None => {
            cur.tenant_id = None;
            a.hub_site_id = None;
            a.council_chosen = false;
        }
    }
    cur.save(&state).await?;
    let natural = if cur.answers.council_chosen || cur.tenant_id.is_none() {
        Step::Council
    } else {
        Step::Contact
    };
    Ok(cur.next(change, natural))
}

#[derive(Template)]
#[template(path = "self_referral/council.html")]
struct CouncilPage {
    l: Layout,
    q: Q,
    hint: String,
    councils: Vec<Choice>,
}

async fn council_page(
    state: &AppState,
    cur: &Current,
    change: bool,
    selected: &str,
    errors: Errors,
) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let councils = state
        .db
        .tenants()
        .await?
        .into_iter()
        .map(|t| {
            let id = t.id.to_string();
            let checked = id == selected;
            choice(id, t.name, checked)
        })
        .collect();
    let page = CouncilPage {
        l: layout("Which council area do you live in?", &errors),
        q: Q::new(cur, change, Step::Address.path(), Step::Council.path(), errors),
        hint: format!(
            "We could not find the family hub for {}. Your council tax bill shows your council.",
            cur.answers.postcode
        ),
        councils,
    };
    show(page, shown)
}

pub async fn council_form(
    State(state): State<AppState>,
    Drafted(cur): Drafted,
    Query(q): Query<ChangeQuery>,
) -> AppResult<Response> {
    let selected = if cur.answers.council_chosen {
        cur.tenant_id.map(|t| t.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    council_page(&state, &cur, q.on(), &selected, Errors::default()).await
}

pub async fn council(State(state): State<AppState>, p: Posted<CouncilForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let tenants = state.db.tenants().await?;
    let chosen = form
        .tenant_id
        .parse::<i64>()
        .ok()
        .filter(|id| tenants.iter().any(|t| t.id == *id));
    let Some(tenant) = chosen else {
        let mut errors = Errors::default();
        errors.add("tenant_id", "Select the council area you live in");
        return council_page(&state, &cur, change, &form.tenant_id, errors).await;
    };
    cur.tenant_id = Some(tenant);
    cur.answers.hub_site_id = None;
    cur.answers.council_chosen = true;
    cur.save(&state).await?;
    Ok(cur.next(change, Step::Contact))
}

#[derive(Template)]
#[template(path = "self_referral/contact.html")]
struct ContactPage {
    l: Layout,
    q: Q,
    form: ContactForm,
    safe: Vec<Choice>,
}

fn contact_page(cur: &Current, change: bool, form: ContactForm, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let back = if cur.answers.council_chosen {
        Step::Council.path()
    } else {
        Step::Address.path()
    };
    let page = ContactPage {
        l: layout("How can we contact you?", &errors),
        q: Q::new(cur, change, back, Step::Contact.path(), errors),
        safe: yes_no(&form.safe_message, "No"),
        form,
    };
    show(page, shown)
}

pub async fn contact_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    let form = ContactForm::from_answers(&cur.answers);
    contact_page(&cur, q.on(), form, Errors::default())
}

pub async fn contact(State(state): State<AppState>, p: Posted<ContactForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    form.apply(&mut cur.answers, &mut errors);
    if !errors.is_empty() {
        return contact_page(&cur, change, form, errors);
    }
    cur.save(&state).await?;
    Ok(cur.next(change, Step::People))
}

// ---------- the family: add another ----------

fn change_suffix(change: bool) -> &'static str {
    if change { "?change=yes" } else { "" }
}

#[derive(Template)]
#[template(path = "self_referral/person.html")]
struct PersonPage {
    l: Layout,
    q: Q,
    form: PersonForm,
    relationships: Vec<Choice>,
}

fn person_page(cur: &Current, change: bool, action: &str, form: PersonForm, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let back = if cur.answers.people.is_empty() {
        Step::Contact.path().to_string()
    } else {
        format!("{}{}", Step::People.path(), change_suffix(change))
    };
    let relationships = RELATIONSHIPS
        .iter()
        .map(|(code, label, ..)| choice(*code, *label, form.relationship == *code))
        .collect();
    let mut q = Q::new(cur, false, &back, action, errors);
    q.change = change;
    let page = PersonPage {
        l: layout("Tell us about someone in your family", &q.errors),
        q,
        form,
        relationships,
    };
    show(page, shown)
}

const NEW_PERSON: &str = "/self-referral/people/new";

pub async fn new_person_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    person_page(&cur, q.on(), NEW_PERSON, PersonForm::default(), Errors::default())
}

pub async fn add_person(State(state): State<AppState>, p: Posted<PersonForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    let Some(person) = form.parse(kindred_store::today(), &mut errors) else {
        return person_page(&cur, change, NEW_PERSON, form, errors);
    };
    // Twenty people is more than any family the hub will see; beyond it is a script.
    if cur.answers.people.len() < 20 {
        cur.answers.people.push(person);
    }
    cur.save(&state).await?;
    Ok(Redirect::to(&format!("{}{}", Step::People.path(), change_suffix(change))).into_response())
}

/// The 1-based position in the list, or not found.
fn person_index(cur: &Current, n: usize) -> AppResult<usize> {
    (1..=cur.answers.people.len())
        .contains(&n)
        .then_some(n - 1)
        .ok_or(AppError::NotFound)
}

pub async fn edit_person_form(
    Drafted(cur): Drafted,
    Ids(n): Ids<usize>,
    Query(q): Query<ChangeQuery>,
) -> AppResult<Response> {
    let i = person_index(&cur, n)?;
    let form = PersonForm::from_person(&cur.answers.people[i]);
    person_page(
        &cur,
        q.on(),
        &format!("/self-referral/people/{n}"),
        form,
        Errors::default(),
    )
}

pub async fn edit_person(
    State(state): State<AppState>,
    Ids(n): Ids<usize>,
    p: Posted<PersonForm>,
) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let i = person_index(&cur, n)?;
    let mut errors = Errors::default();
    let Some(person) = form.parse(kindred_store::today(), &mut errors) else {
        return person_page(&cur, change, &format!("/self-referral/people/{n}"), form, errors);
    };
    cur.answers.people[i] = person;
    cur.save(&state).await?;
    Ok(Redirect::to(&format!("{}{}", Step::People.path(), change_suffix(change))).into_response())
}

pub struct PersonRow {
    n: usize,
    name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "self_referral/people.html")]
struct PeoplePage {
    l: Layout,
    q: Q,
    people: Vec<PersonRow>,
    heading: String,
    suffix: &'static str,
    add_another: Vec<Choice>,
}

fn people_page(cur: &Current, change: bool, selected: &str, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let people: Vec<PersonRow> = cur
        .answers
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| PersonRow {
            n: i + 1,
            name: p.full_name(),
            description: p.describe(),
        })
        .collect();
    let heading = match people.len() {
        1 => "You have added 1 person".to_string(),
        n => format!("You have added {n} people"),
    };
    let page = PeoplePage {
        l: layout(&heading, &errors),
        q: Q::new(cur, change, Step::Contact.path(), Step::People.path(), errors),
        people,
        heading,
        suffix: change_suffix(change),
        add_another: yes_no(selected, "No"),
    };
    show(page, shown)
}

pub async fn people_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    if cur.answers.people.is_empty() {
        return Ok(Redirect::to(&format!("{NEW_PERSON}{}", change_suffix(q.on()))).into_response());
    }
    people_page(&cur, q.on(), "", Errors::default())
}

pub async fn people(p: Posted<YesNoForm>) -> AppResult<Response> {
    let Posted { cur, change, form } = p;
    let mut errors = Errors::default();
    match form.parse() {
        Some(true) => {
            return Ok(Redirect::to(&format!("{NEW_PERSON}{}", change_suffix(change))).into_response());
        }
        Some(false) if cur.answers.has_child() => return Ok(cur.next(change, Step::Help)),
        Some(false) => errors.add("answer", "Add at least one child, or a baby who is not born yet"),
        None => errors.add("answer", "Select yes if you need to add anyone else"),
    }
    people_page(&cur, change, &form.answer, errors)
}

#[derive(Template)]
#[template(path = "self_referral/remove.html")]
struct RemovePage {
    l: Layout,
    q: Q,
    question: String,
    answer: Vec<Choice>,
}

fn remove_page(cur: &Current, change: bool, n: usize, selected: &str, errors: Errors) -> AppResult<Response> {
    let i = person_index(cur, n)?;
    let shown = !errors.is_empty();
    let name = cur.answers.people[i].full_name();
    let back = format!("{}{}", Step::People.path(), change_suffix(change));
    let mut q = Q::new(cur, false, &back, &format!("/self-referral/people/{n}/remove"), errors);
    q.change = change;
    let question = format!("Are you sure you want to remove {name}?");
    let page = RemovePage {
        l: layout(&question, &q.errors),
        q,
        question,
        answer: yes_no(selected, "No"),
    };
    show(page, shown)
}

pub async fn remove_person_form(
    Drafted(cur): Drafted,
    Ids(n): Ids<usize>,
    Query(q): Query<ChangeQuery>,
) -> AppResult<Response> {
    remove_page(&cur, q.on(), n, "", Errors::default())
}

pub async fn remove_person(
    State(state): State<AppState>,
    Ids(n): Ids<usize>,
    p: Posted<YesNoForm>,
) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let i = person_index(&cur, n)?;
    match form.parse() {
        Some(true) => {
            cur.answers.people.remove(i);
            cur.save(&state).await?;
        }
        Some(false) => {}
        None => {
            let mut errors = Errors::default();
            errors.add("answer", "Select yes if you want to remove them");
            return remove_page(&cur, change, n, &form.answer, errors);
        }
    }
    Ok(Redirect::to(&format!("{}{}", Step::People.path(), change_suffix(change))).into_response())
}

// ---------- what help ----------

#[derive(Template)]
#[template(path = "self_referral/help.html")]
struct HelpPage {
    l: Layout,
    q: Q,
    needs: Vec<Choice>,
}

fn help_page(cur: &Current, change: bool, ticked: &[String], errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let needs = NEEDS
        .iter()
        .map(|n| choice(n.code, n.family_label, ticked.iter().any(|t| t == n.code)))
        .collect();
    let page = HelpPage {
        l: layout("What would you like help with?", &errors),
        q: Q::new(cur, change, Step::People.path(), Step::Help.path(), errors),
        needs,
    };
    show(page, shown)
}

pub async fn help_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    help_page(&cur, q.on(), &cur.answers.needs, Errors::default())
}

pub async fn help(State(state): State<AppState>, p: Posted<Vec<(String, String)>>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    let needs = answers::parse_needs(&form, &mut errors);
    if !errors.is_empty() {
        return help_page(&cur, change, &needs, errors);
    }
    cur.answers.needs = needs;
    cur.save(&state).await?;
    Ok(cur.next(change, Step::Words))
}

#[derive(Template)]
#[template(path = "self_referral/words.html")]
struct WordsPage {
    l: Layout,
    q: Q,
    form: WordsForm,
    max: usize,
}

fn words_page(cur: &Current, change: bool, form: WordsForm, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let page = WordsPage {
        l: layout("Tell us in your own words", &errors),
        q: Q::new(cur, change, Step::Help.path(), Step::Words.path(), errors),
        form,
        max: answers::MAX_STORY,
    };
    show(page, shown)
}

pub async fn words_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    let form = WordsForm {
        story: cur.answers.story.clone(),
    };
    words_page(&cur, q.on(), form, Errors::default())
}

pub async fn words(State(state): State<AppState>, p: Posted<WordsForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let mut errors = Errors::default();
    form.apply(&mut cur.answers, &mut errors);
    if !errors.is_empty() {
        return words_page(&cur, change, form, errors);
    }
    cur.save(&state).await?;
    Ok(cur.next(change, Step::Consent))
}

#[derive(Template)]
#[template(path = "self_referral/consent.html")]
struct ConsentPage {
    l: Layout,
    q: Q,
    answer: Vec<Choice>,
}

fn consent_page(cur: &Current, change: bool, selected: &str, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let page = ConsentPage {
        l: layout("Sharing what you have told us", &errors),
        q: Q::new(cur, change, Step::Words.path(), Step::Consent.path(), errors),
        answer: yes_no(selected, "No, contact me first"),
    };
    show(page, shown)
}

pub async fn consent_form(Drafted(cur): Drafted, Query(q): Query<ChangeQuery>) -> AppResult<Response> {
    consent_page(&cur, q.on(), &cur.answers.consent, Errors::default())
}

pub async fn consent(State(state): State<AppState>, p: Posted<YesNoForm>) -> AppResult<Response> {
    let Posted { mut cur, change, form } = p;
    let Some(yes) = form.parse() else {
        let mut errors = Errors::default();
        errors.add("answer", "Select yes if we can share what you have told us");
        return consent_page(&cur, change, &form.answer, errors);
    };
    cur.answers.consent = if yes { "yes" } else { "no" }.to_string();
    cur.save(&state).await?;
    Ok(cur.next(change, Step::Check))
}
