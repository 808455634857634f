//! Managing the service directory (F17) at `/admin/directory`: the
//! tenant's services with everything a service has (organisation, locations
//! at hub sites, a schedule, ages including 19–25 with SEND, a cost,
//! languages, delivery modes, a contact, needs, areas served, the Kindred
//! organisation that receives connection requests), its directory
//! organisations and locations, and the needs taxonomy. Who manages it:
//! `access::manage_directory` (administrators, and managers of a family hub
//! or early help organisation). Each change is audited; nothing here is
//! personal data.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::directory::{
    self, Day, DeliveryMode, LANGUAGES, Language, ServiceInput, ServiceStatus, ServiceValues, check_service,
};
use kindred_store::directory::{
    ContactData, CostData, DirOrganisation, LanguageData, Location, LocationData, OrganisationData, ScheduleData,
    ServiceData, ServiceFilter, Term,
};
use kindred_store::organisations::{HubSite, Organisation};

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, field};
use crate::layout::Layout;

/// Services on one page of the management list.
const PER_PAGE: i64 = 50;

pub struct ServiceLine {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub status: String,
    pub offers: String,
    pub connects_to: String,
}

#[derive(Template)]
#[template(path = "directory_admin.html")]
struct ListPage {
    l: Layout,
    services: Vec<ServiceLine>,
    total: i64,
    organisations: Vec<DirOrganisation>,
    locations: Vec<Location>,
    hub_sites: Vec<HubSite>,
    partners: Vec<Organisation>,
    errors: Errors,
    org_name: String,
    loc_name: String,
    loc_postcode: String,
    prev_page: Option<String>,
    next_page: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ListQuery {
    page: Option<i64>,
}

async fn list_page(
    state: &AppState,
    cu: &CurrentUser,
    page_no: i64,
    errors: Errors,
    pairs: &[(String, String)],
) -> AppResult<ListPage> {
    let db = &state.db;
    let t = cu.user.tenant_id;
    let filter = ServiceFilter {
        tenant_id: Some(t),
        ..Default::default()
    };
    let (total, rows) = db.directory_services_page(&filter, page_no, PER_PAGE).await?;
    let services = rows
        .into_iter()
        .map(|s| ServiceLine {
            id: s.id,
            name: s.name,
            organisation: s.organisation_name,
            status: ServiceStatus::parse(&s.status)
                .map(|x| x.label().to_string())
                .unwrap_or(s.status),
            offers: [
                s.family_hub_offer.then_some("Family hub"),
                s.start_for_life.then_some("Start for Life"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            connects_to: s.connect_organisation_name.unwrap_or_default(),
        })
        .collect();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    Ok(ListPage {
        l: Layout::new("Service directory", cu),
        services,
        total,
        organisations: db.dir_organisations(t).await?,
        locations: db.dir_locations(t).await?,
        hub_sites: db.hub_sites(t).await?,
        partners: db.organisations(t).await?,
        errors,
        org_name: field(pairs, "org_name"),
        loc_name: field(pairs, "loc_name"),
        loc_postcode: field(pairs, "loc_postcode"),
        prev_page: (page_no > 1).then(|| format!("/admin/directory?page={}", page_no - 1)),
        next_page: (page_no < pages).then(|| format!("/admin/directory?page={}", page_no + 1)),
    })
}

pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let page = list_page(&state, &cu, q.page.unwrap_or(1).max(1), Errors::default(), &[]).await?;
    Ok(Html(page.render()?).into_response())
}

/// Adds a directory organisation (one that runs services), possibly a Kindred partner.
pub async fn add_organisation(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let t = cu.user.tenant_id;
    let mut errors = Errors::default();
    let name = field(&pairs, "org_name");
    if name.is_empty() {
        errors.add("org_name", "Enter the organisation's name");
    }
    let partner = field(&pairs, "org_partner");
    let partners = state.db.organisations(t).await?;
    let organisation_id = if partner.is_empty() {
        None
    } else {
        let found = partner
            .parse::<i64>()
            .ok()
            .filter(|id| partners.iter().any(|p| p.id == *id));
        if found.is_none() {
            errors.add("org_partner", "Select a partner organisation from the list");
        }
        found
    };
    let website = field(&pairs, "org_website");
    if !website.is_empty() && !website.starts_with("http") {
        errors.add(
            "org_website",
            "Enter the website as a full address, like https://example.org",
        );
    }
    if !errors.is_empty() {
        return crate::errors::invalid(list_page(&state, &cu, 1, errors, &pairs).await?);
    }
    let id = state
        .db
        .create_dir_organisation(&OrganisationData {
            tenant_id: t,
            organisation_id,
            name,
            description: field(&pairs, "org_description"),
            email: Some(field(&pairs, "org_email")).filter(|e| !e.is_empty()),
            website: Some(website).filter(|w| !w.is_empty()),
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::DirectoryOrganisation(id),
        "web POST /admin/directory/organisations",
        String::new(),
    )
    .await?;
    Ok(Redirect::to("/admin/directory#organisations").into_response())
}

/// Adds a location, possibly at one of the tenant's hub sites.
pub async fn add_location(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let t = cu.user.tenant_id;
    let mut errors = Errors::default();
    let name = field(&pairs, "loc_name");
    if name.is_empty() {
        errors.add("loc_name", "Enter the location's name");
    }
    let postcode = field(&pairs, "loc_postcode");
    let postcode = if postcode.is_empty() {
        None
    } else {
        match kindred_domain::Postcode::parse(&postcode) {
            Ok(p) => Some(p.as_str().to_string()),
            Err(e) => {
                errors.add("loc_postcode", e.to_string());
                None
            }
        }
    };
    let hub = field(&pairs, "loc_hub_site");
    let hubs = state.db.hub_sites(t).await?;
    let hub_site_id = if hub.is_empty() {
        None
    } else {
        let found = hub.parse::<i64>().ok().filter(|id| hubs.iter().any(|h| h.id == *id));
        if found.is_none() {
            errors.add("loc_hub_site", "Select a hub site from the list");
        }
        found
    };
    if !errors.is_empty() {
        return crate::errors::invalid(list_page(&state, &cu, 1, errors, &pairs).await?);
    }
    state
        .db
        .create_location(&LocationData {
            tenant_id: t,
            name,
            description: String::new(),
            address_1: Some(field(&pairs, "loc_address")).filter(|a| !a.is_empty()),
            city: Some(field(&pairs, "loc_city")).filter(|a| !a.is_empty()),
            postcode,
            latitude: None,
            longitude: None,
            hub_site_id,
        })
        .await?;
    Ok(Redirect::to("/admin/directory#locations").into_response())
}

/// One checkbox of a group.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

fn choices<T>(
    items: &[T],
    chosen: &[String],
    value: impl Fn(&T) -> String,
    label: impl Fn(&T) -> String,
) -> Vec<Choice> {
    items
        .iter()
        .map(|x| {
            let v = value(x);
            Choice {
                checked: chosen.contains(&v),
                label: label(x),
                value: v,
            }
        })
        .collect()
}

/// The service form: the typed values and the choices among the tenant's records.
#[derive(Template)]
#[template(path = "directory_service_form.html")]
struct FormPage {
    l: Layout,
    action: String,
    heading: String,
    input: ServiceInput,
    organisation: String,
    connect: String,
    errors: Errors,
    organisations: Vec<DirOrganisation>,
    partners: Vec<Organisation>,
    no_locations: bool,
    statuses: &'static [ServiceStatus],
    need_choices: Vec<Choice>,
    mode_choices: Vec<Choice>,
    day_choices: Vec<Choice>,
    language_choices: Vec<Choice>,
    location_choices: Vec<Choice>,
    public_link: String,
}

/// The form as posted: repeated keys for the checkboxes.
struct Posted {
    input: ServiceInput,
    organisation: String,
    connect: String,
    location_ids: Vec<String>,
    term_codes: Vec<String>,
}

fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
}

fn posted(pairs: &[(String, String)]) -> Posted {
    let f = |k: &str| field(pairs, k);
    Posted {
        input: ServiceInput {
            name: f("name"),
            description: f("description"),
            url: f("url"),
            email: f("email"),
            status: f("status"),
            fees_description: f("fees_description"),
            minimum_age: f("minimum_age"),
            maximum_age: f("maximum_age"),
            send_up_to_25: crate::forms::ticked(pairs, "send_up_to_25"),
            family_hub_offer: crate::forms::ticked(pairs, "family_hub_offer"),
            start_for_life: crate::forms::ticked(pairs, "start_for_life"),
            modes: all(pairs, "modes"),
            areas: f("areas"),
            days: all(pairs, "days"),
            opens_at: f("opens_at"),
            closes_at: f("closes_at"),
            schedule_description: f("schedule_description"),
            cost_amount: f("cost_amount"),
            cost_description: f("cost_description"),
            languages: all(pairs, "languages"),
            contact_name: f("contact_name"),
            contact_phone: f("contact_phone"),
            contact_email: f("contact_email"),
        },
        organisation: f("organisation"),
        connect: f("connect"),
        location_ids: all(pairs, "locations"),
        term_codes: all(pairs, "needs"),
    }
}

async fn form_page(
    state: &AppState,
    cu: &CurrentUser,
    action: String,
    heading: String,
    p: Posted,
    errors: Errors,
    public_link: String,
) -> AppResult<FormPage> {
    let t = cu.user.tenant_id;
    let db = &state.db;
    let locations: Vec<Location> = db.dir_locations(t).await?;
    let needs: Vec<Term> = db.needs_terms().await?;
    Ok(FormPage {
        l: Layout::new(heading.clone(), cu),
        action,
        heading,
        organisation: p.organisation,
        connect: p.connect,
        errors,
        organisations: db.dir_organisations(t).await?,
        partners: db.organisations(t).await?,
        no_locations: locations.is_empty(),
        statuses: ServiceStatus::ALL,
        need_choices: choices(&needs, &p.term_codes, |t| t.code.clone(), |t| t.name.clone()),
        mode_choices: choices(
            DeliveryMode::ALL,
            &p.input.modes,
            |d| d.code().into(),
            |d| d.label().into(),
        ),
        day_choices: choices(Day::ALL, &p.input.days, |d| d.code().into(), |d| d.label().into()),
        language_choices: choices(
            LANGUAGES,
            &p.input.languages,
            |x: &Language| x.code.into(),
            |x| x.name.into(),
        ),
        location_choices: choices(
            &locations,
            &p.location_ids,
            |x| x.id.to_string(),
            |x| match &x.hub_site_name {
                Some(h) => format!("{} (hub site: {h})", x.name),
                None => x.name.clone(),
            },
        ),
        input: p.input,
        public_link,
    })
}

/// Checks the whole form against the tenant's records; the data to save, or
/// the errors, each naming its field.
async fn check(state: &AppState, cu: &CurrentUser, p: &Posted, errors: &mut Errors) -> AppResult<Option<ServiceData>> {
    let t = cu.user.tenant_id;
    let db = &state.db;
    let values: Option<ServiceValues> = match check_service(&p.input) {
        Ok(v) => Some(v),
        Err(list) => {
            for e in list {
                errors.add(e.field, e.message);
            }
            None
        }
    };
    let orgs = db.dir_organisations(t).await?;
    let organisation = p
        .organisation
        .parse::<i64>()
        .ok()
        .filter(|id| orgs.iter().any(|o| o.id == *id));
    if organisation.is_none() {
        errors.add("organisation", "Select the organisation that runs the service");
    }
    let partners = db.organisations(t).await?;
    let connect = if p.connect.is_empty() {
        None
    } else {
        let found = p
            .connect
            .parse::<i64>()
            .ok()
            .filter(|id| partners.iter().any(|o| o.id == *id));
        if found.is_none() {
            errors.add(
                "connect",
                "Select the partner organisation that receives requests from the list",
            );
        }
        found
    };
    let locations = db.dir_locations(t).await?;
    let mut location_ids = vec![];
    for l in &p.location_ids {
        match l.parse::<i64>().ok().filter(|id| locations.iter().any(|x| x.id == *id)) {
            Some(id) => location_ids.push(id),
            None => {
                errors.add("locations", "Select the locations from the list");
                break;
            }
        }
    }
    let needs = db.needs_terms().await?;
    let mut term_ids = vec![];
    for c in &p.term_codes {
        match needs.iter().find(|t| t.code == *c) {
            Some(t) => term_ids.push(t.id),
            None => {
                errors.add("needs", "Select the needs from the list");
                break;
            }
        }
    }
    if p.term_codes.is_empty() {
        errors.add("needs", "Select at least one need the service helps with");
    }
    let (Some(v), Some(org), true) = (values, organisation, errors.is_empty()) else {
        return Ok(None);
    };
    let mut schedules = vec![];
    if !v.byday.is_empty() {
        schedules.push(ScheduleData {
            location_id: None,
            freq: "WEEKLY".into(),
            byday: v.byday.clone(),
            opens_at: v.opens_at.clone(),
            closes_at: v.closes_at.clone(),
            description: v.schedule_description.clone(),
            valid_from: None,
            valid_to: None,
        });
    }
    let costs = if v.cost_amount.is_some() || !v.cost_description.is_empty() {
        vec![CostData {
            option: "Session".into(),
            amount: v.cost_amount,
            amount_description: v.cost_description.clone(),
        }]
    } else {
        vec![]
    };
    let contacts = if !v.contact_name.is_empty() || v.contact_phone.is_some() || v.contact_email.is_some() {
        vec![ContactData {
            name: v.contact_name.clone(),
            title: String::new(),
            phone: v.contact_phone.clone(),
            email: v.contact_email.clone(),
        }]
    } else {
        vec![]
    };
    Ok(Some(ServiceData {
        tenant_id: t,
        dir_organisation_id: org,
        name: v.name,
        description: v.description,
        url: v.url,
        email: v.email,
        status: v.status.code().to_string(),
        fees_description: v.fees_description,
        minimum_age: v.minimum_age,
        maximum_age: v.maximum_age,
        send_up_to_25: v.send_up_to_25,
        family_hub_offer: v.family_hub_offer,
        start_for_life: v.start_for_life,
        connect_organisation_id: connect,
        location_ids,
        schedules,
        costs,
        languages: v
            .languages
            .iter()
            .map(|l| LanguageData {
                name: l.name.into(),
                code: l.code.into(),
            })
            .collect(),
        contacts,
        modes: v.modes.iter().map(|m| m.code().to_string()).collect(),
        areas: v.areas,
        term_ids,
        last_modified_ms: None,
    }))
}

pub async fn new_form(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let p = Posted {
        input: ServiceInput {
            status: ServiceStatus::Active.code().into(),
            ..Default::default()
        },
        organisation: String::new(),
        connect: String::new(),
        location_ids: vec![],
        term_codes: vec![],
    };
    let page = form_page(
        &state,
        &cu,
        "/admin/directory/services/new".into(),
        "Add a service".into(),
        p,
        Errors::default(),
        String::new(),
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let p = posted(&pairs);
    let mut errors = Errors::default();
    let Some(data) = check(&state, &cu, &p, &mut errors).await? else {
        let page = form_page(
            &state,
            &cu,
            "/admin/directory/services/new".into(),
            "Add a service".into(),
            p,
            errors,
            String::new(),
        )
        .await?;
        return crate::errors::invalid(page);
    };
    let (id, _) = state.db.create_service(&data).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::DirectoryService(id),
        "web POST /admin/directory/services/new",
        String::new(),
    )
    .await?;
    Ok(Redirect::to("/admin/directory").into_response())
}

/// A service of the user's tenant, or not found.
async fn own_service(state: &AppState, cu: &CurrentUser, id: i64) -> AppResult<kindred_store::directory::FullService> {
    let full = state.db.full_service(id).await?.ok_or(AppError::NotFound)?;
    if full.service.tenant_id != cu.user.tenant_id {
        return Err(AppError::NotFound);
    }
    Ok(full)
}

pub async fn edit_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let s = own_service(&state, &cu, id).await?;
    let schedule = s.schedules.first();
    let cost = s.costs.first();
    let contact = s.contacts.first();
    let p = Posted {
        input: ServiceInput {
            name: s.service.name.clone(),
            description: s.service.description.clone(),
            url: s.service.url.clone().unwrap_or_default(),
            email: s.service.email.clone().unwrap_or_default(),
            status: s.service.status.clone(),
            fees_description: s.service.fees_description.clone().unwrap_or_default(),
            minimum_age: s.service.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
            maximum_age: s.service.maximum_age.map(|a| a.to_string()).unwrap_or_default(),
            send_up_to_25: s.service.send_up_to_25,
            family_hub_offer: s.service.family_hub_offer,
            start_for_life: s.service.start_for_life,
            modes: s.modes.clone(),
            areas: s.areas.iter().map(|a| a.area.clone()).collect::<Vec<_>>().join(", "),
            days: schedule
                .map(|sc| {
                    directory::byday_days(&sc.byday)
                        .iter()
                        .map(|d| d.code().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            opens_at: schedule.and_then(|sc| sc.opens_at.clone()).unwrap_or_default(),
            closes_at: schedule.and_then(|sc| sc.closes_at.clone()).unwrap_or_default(),
            schedule_description: schedule.map(|sc| sc.description.clone()).unwrap_or_default(),
            cost_amount: cost
                .and_then(|c| c.amount)
                .map(|a| format!("{}.{:02}", a / 100, a % 100))
                .unwrap_or_default(),
            cost_description: cost.map(|c| c.amount_description.clone()).unwrap_or_default(),
            languages: s.languages.iter().map(|l| l.code.clone()).collect(),
            contact_name: contact.map(|c| c.name.clone()).unwrap_or_default(),
            contact_phone: contact.and_then(|c| c.phone.clone()).unwrap_or_default(),
            contact_email: contact.and_then(|c| c.email.clone()).unwrap_or_default(),
        },
        organisation: s.service.dir_organisation_id.to_string(),
        connect: s
            .service
            .connect_organisation_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        location_ids: s.locations.iter().map(|l| l.location.id.to_string()).collect(),
        term_codes: s.terms.iter().map(|t| t.code.clone()).collect(),
    };
    let page = form_page(
        &state,
        &cu,
        format!("/admin/directory/services/{id}/edit"),
        format!("Change {}", s.service.name),
        p,
        Errors::default(),
        format!("/directory/services/{}", s.service.uuid),
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let s = own_service(&state, &cu, id).await?;
    let p = posted(&pairs);
    let mut errors = Errors::default();
    let Some(mut data) = check(&state, &cu, &p, &mut errors).await? else {
        let page = form_page(
            &state,
            &cu,
            format!("/admin/directory/services/{id}/edit"),
            format!("Change {}", s.service.name),
            p,
            errors,
            format!("/directory/services/{}", s.service.uuid),
        )
        .await?;
        return crate::errors::invalid(page);
    };
    keep_beyond_the_form(&s, &mut data);
    state.db.update_service(id, &data).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::DirectoryService(id),
        "web POST /admin/directory/services/{id}/edit",
        String::new(),
    )
    .await?;
    Ok(Redirect::to("/admin/directory").into_response())
}

/// The form edits a service's first schedule, cost and contact; a service
/// published with more (by a feed or a partner system) keeps the rest as they
/// were, and its first schedule keeps the place and dates it applies to.
fn keep_beyond_the_form(before: &kindred_store::directory::FullService, data: &mut ServiceData) {
    if let (Some(first), Some(was)) = (data.schedules.first_mut(), before.schedules.first()) {
        first.location_id = was.location_id.filter(|l| data.location_ids.contains(l));
        first.valid_from = was.valid_from;
        first.valid_to = was.valid_to;
    }
    let schedules = before.schedules.iter().skip(1).map(|x| ScheduleData {
        location_id: x.location_id.filter(|l| data.location_ids.contains(l)),
        freq: x.freq.clone(),
        byday: x.byday.clone(),
        opens_at: x.opens_at.clone(),
        closes_at: x.closes_at.clone(),
        description: x.description.clone(),
        valid_from: x.valid_from,
        valid_to: x.valid_to,
    });
    data.schedules.extend(schedules);
    data.costs.extend(before.costs.iter().skip(1).map(|c| CostData {
        option: c.option.clone(),
        amount: c.amount,
        amount_description: c.amount_description.clone(),
    }));
    data.contacts
        .extend(before.contacts.iter().skip(1).map(|c| ContactData {
            name: c.name.clone(),
            title: c.title.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
        }));
}

pub struct TermLine {
    pub code: String,
    pub name: String,
    pub description: String,
    pub services: i64,
}

#[derive(Template)]
#[template(path = "directory_taxonomy.html")]
struct TaxonomyPage {
    l: Layout,
    name: String,
    uri: String,
    terms: Vec<TermLine>,
}

/// The needs taxonomy: its terms and how many services each tags.
pub async fn taxonomy(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    gate::require_directory(&cu)?;
    let db = &state.db;
    let taxonomy_id = db.ensure_needs_taxonomy().await?;
    let taxonomy = db.taxonomy(taxonomy_id).await?.ok_or(AppError::NotFound)?;
    let counts = db.term_service_counts(taxonomy_id).await?;
    let terms = db
        .needs_terms()
        .await?
        .into_iter()
        .map(|t| TermLine {
            services: counts.iter().find(|c| c.0 == t.id).map(|c| c.1).unwrap_or(0),
            code: t.code,
            name: t.name,
            description: t.description,
        })
        .collect();
    let page = TaxonomyPage {
        l: Layout::new("Needs taxonomy", &cu),
        name: taxonomy.name,
        uri: taxonomy.uri.unwrap_or_default(),
        terms,
    };
    Ok(Html(page.render()?).into_response())
}
