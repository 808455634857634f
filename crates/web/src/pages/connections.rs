//! Connecting a family to a service (F17). A practitioner working with a
//! family sends a request to the organisation that runs a directory service
//! (`/families/{id}/connections/new`), naming the members it concerns, with
//! the consent given recorded (who, when, how; refused without it). The
//! receiving organisation's workers see it in `/connections`; the first of
//! them to open it marks it opened; they accept it (which records their
//! organisation's involvement with the family, and so gives them the family
//! under the access policy), decline it with a reason, or complete it. Both
//! sides see its history. Each read goes through `access::connection` and is
//! audited. The receiving organisation is told of a new request, the sender
//! of each change: in the app, and by email when SMTP is configured (the
//! email carries a reference and a status, never a name).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, ConnectionAccess, ConnectionBasis, Decision, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::directory::{ConnectionAction, ConnectionStatus, ConsentHow, connection_next};
use kindred_store::connections::{Connection, ConnectionRow, NewConnection};
use kindred_store::directory::{ServiceFilter, ServiceRow};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, field};
use crate::layout::Layout;

/// Longest request text accepted.
const MAX_TEXT: usize = 4000;

pub fn status_label(code: &str) -> &'static str {
    ConnectionStatus::parse(code).map(|s| s.label()).unwrap_or("Unknown")
}

/// A request in a list: no names, no text.
pub struct RowView {
    pub id: i64,
    pub service: String,
    pub from: String,
    pub to: String,
    pub status: &'static str,
    pub sent: String,
}

fn row_view(r: &ConnectionRow) -> RowView {
    RowView {
        id: r.id,
        service: r.service_name.clone(),
        from: format!("{}, {}", r.sender_name, r.sender_organisation_name),
        to: r.receiving_organisation_name.clone(),
        status: status_label(&r.status),
        sent: super::when(r.created_at_ms),
    }
}

/// The requests about a family, for its page: only for readers the policy
/// lets view the family (the caller has opened it).
pub async fn family_block(db: &kindred_store::Db, family_id: i64) -> AppResult<Vec<RowView>> {
    Ok(db
        .connections_of_family(family_id)
        .await?
        .iter()
        .map(row_view)
        .collect())
}

// ---------- sending ----------

#[derive(Template)]
#[template(path = "connection_new.html")]
struct NewPage {
    l: Layout,
    family_id: i64,
    family_name: String,
    services: Vec<ServiceRow>,
    members: Vec<(i64, String, bool)>,
    consenters: Vec<(i64, String, bool)>,
    hows: Vec<(&'static str, &'static str, bool)>,
    service: String,
    request_text: String,
    day: String,
    month: String,
    year: String,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    /// A service's UUID to start with (from the directory).
    service: String,
}

/// Opens the family to connect it: the policy's Edit, and `access::connect_family`.
async fn open_family(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    route: &str,
) -> AppResult<kindred_store::families::Family> {
    let (family, basis) = gate::family(state, cu, id, FamilyAction::Edit, false, route).await?;
    if !access::connect_family(&cu.user.subject(), Decision::Allow(basis)) {
        return Err(AppError::NotFound);
    }
    Ok(family)
}

async fn connectable(state: &AppState, tenant_id: i64) -> AppResult<Vec<ServiceRow>> {
    let filter = ServiceFilter {
        tenant_id: Some(tenant_id),
        active_only: true,
        connectable: true,
        ..Default::default()
    };
    Ok(state.db.directory_services_page(&filter, 1, 1000).await?.1)
}

async fn new_page(
    state: &AppState,
    cu: &CurrentUser,
    family: &kindred_store::families::Family,
    pairs: &[(String, String)],
    service: String,
    errors: Errors,
) -> AppResult<NewPage> {
    let members: Vec<(i64, String)> = state
        .db
        .members(family.id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| (m.person.id, m.person.full_name()))
        .collect();
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "people")
        .map(|(_, v)| v.clone())
        .collect();
    let consenter = field(pairs, "consent_person");
    let how = field(pairs, "consent_how");
    let today = kindred_store::today();
    let or_today = |k: &str, d: String| if pairs.is_empty() { d } else { field(pairs, k) };
    Ok(NewPage {
        l: Layout::new("Connect to a service", cu),
        family_id: family.id,
        family_name: family.name.clone(),
        services: connectable(state, cu.user.tenant_id).await?,
        consenters: members
            .iter()
            .map(|(id, n)| (*id, n.clone(), consenter == id.to_string()))
            .collect(),
        members: members
            .into_iter()
            .map(|(id, n)| (id, n, chosen.contains(&id.to_string())))
            .collect(),
        hows: ConsentHow::ALL
            .iter()
            .map(|h| (h.code(), h.label(), how == h.code()))
            .collect(),
        service,
        request_text: field(pairs, "request_text"),
        day: or_today("consent_day", today.day().to_string()),
        month: or_today("consent_month", (today.month() as u8).to_string()),
        year: or_today("consent_year", today.year().to_string()),
        errors,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    axum::extract::Query(q): axum::extract::Query<NewQuery>,
) -> AppResult<Response> {
    let family = open_family(&state, &cu, id, "web GET /families/{id}/connections/new").await?;
    let service = match state.db.directory_service_by_uuid(&q.service).await? {
        Some(s) if s.tenant_id == cu.user.tenant_id => s.id.to_string(),
        _ => String::new(),
    };
    let page = new_page(&state, &cu, &family, &[], service, Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let family = open_family(&state, &cu, id, "web POST /families/{id}/connections/new").await?;
    let db = &state.db;
    let mut errors = Errors::default();
    let services = connectable(&state, cu.user.tenant_id).await?;
    let service_field = field(&pairs, "service");
    let service = services.iter().find(|s| s.id.to_string() == service_field).cloned();
    if service.is_none() {
        errors.add("service", "Select the service to connect the family to");
    }
    let members: Vec<i64> = db
        .members(id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| m.person.id)
        .collect();
    let mut people = vec![];
    for (_, v) in pairs.iter().filter(|(k, _)| k == "people") {
        match v.parse::<i64>().ok().filter(|p| members.contains(p)) {
            Some(p) => people.push(p),
            None => {
                errors.add("people", "Select the family members from the list");
                break;
            }
        }
    }
    if people.is_empty() && !errors.has("people") {
        errors.add("people", "Select who in the family the request is about");
    }
    let text = field(&pairs, "request_text");
    if text.is_empty() {
        errors.add("request_text", "Enter what the family would like from the service");
    } else if text.chars().count() > MAX_TEXT {
        errors.add(
            "request_text",
            format!("The request must be {MAX_TEXT} characters or fewer"),
        );
    }
    let consenter = field(&pairs, "consent_person")
        .parse::<i64>()
        .ok()
        .filter(|p| members.contains(p));
    if consenter.is_none() {
        errors.add(
            "consent_person",
            "Select who gave consent: a family must agree before you connect them to a service",
        );
    }
    let today = kindred_store::today();
    let consent_on = match dates::parse_date_parts(
        &field(&pairs, "consent_day"),
        &field(&pairs, "consent_month"),
        &field(&pairs, "consent_year"),
    ) {
        Ok(d) if d > today => {
            errors.add("consent_day", "The date consent was given must be today or in the past");
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errors.add("consent_day", "Enter the date consent was given, like 27 3 2026");
            None
        }
    };
    let how = ConsentHow::parse(&field(&pairs, "consent_how"));
    if how.is_none() {
        errors.add("consent_how", "Select how consent was given");
    }
    let (Some(service), Some(consenter), Some(consent_on), Some(how), true) =
        (service, consenter, consent_on, how, errors.is_empty())
    else {
        let page = new_page(&state, &cu, &family, &pairs, service_field, errors).await?;
        return crate::errors::invalid(page);
    };
    let receiving = service.connect_organisation_id.ok_or(AppError::NotFound)?;
    let cid = db
        .create_connection(&NewConnection {
            tenant_id: family.tenant_id,
            family_id: id,
            service_id: service.id,
            receiving_organisation_id: receiving,
            sender_user_id: cu.user.id,
            sender_organisation_id: cu.user.organisation_id,
            request_text: text,
            person_ids: people,
            consent_person_id: consenter,
            consent_on,
            consent_how: how.code().to_string(),
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::Connection { id: cid, family: id },
        "web POST /families/{id}/connections/new",
        format!("to organisation {receiving}"),
    )
    .await?;
    let message = format!(
        "New connection request C{cid} from {} for {}.",
        cu.organisation_name, service.name
    );
    for (user_id, email) in db.connection_recipients(receiving).await? {
        db.notify_connection(user_id, cid, &message).await?;
        if state.config.smtp.is_some() && email.contains('@') {
            db.queue_email(
                &email,
                &format!("Connection request C{cid}"),
                &format!("{message}\n\nSign in to Kindred to see the request.\n"),
            )
            .await?;
        }
    }
    Ok(Redirect::to(&format!("/connections/{cid}")).into_response())
}

// ---------- the inbox ----------

#[derive(Template)]
#[template(path = "connections.html")]
struct ListPage {
    l: Layout,
    received: Vec<RowView>,
    sent: Vec<RowView>,
    status: String,
    statuses: &'static [ConnectionStatus],
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
}

/// The requests to the user's organisation, and those its workers sent.
pub async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> AppResult<Response> {
    let subject = cu.user.subject();
    let db = &state.db;
    let status = ConnectionStatus::parse(&q.status).map(|s| s.code());
    // Every row is checked with the policy, as its own page would be.
    let visible = |r: &ConnectionRow| {
        access::connection(
            &subject,
            &access::ConnectionFacts {
                tenant_id: r.tenant_id,
                sender_user_id: r.sender_user_id,
                sender_organisation_id: r.sender_organisation_id,
                receiving_organisation_id: r.receiving_organisation_id,
            },
            Decision::Deny,
            ConnectionAccess::View,
        )
        .is_some()
    };
    if !(cu.user.has(kindred_domain::model::Role::Practitioner) || cu.user.has(kindred_domain::model::Role::Manager)) {
        return Err(AppError::NotFound);
    }
    let received: Vec<RowView> = db
        .connection_inbox(cu.user.organisation_id, status)
        .await?
        .iter()
        .filter(|r| visible(r))
        .map(row_view)
        .collect();
    let sent: Vec<RowView> = db
        .connections_sent(cu.user.organisation_id)
        .await?
        .iter()
        .filter(|r| visible(r))
        .map(row_view)
        .collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::ConnectionList,
        "web GET /connections",
        format!("received={} sent={}", received.len(), sent.len()),
    )
    .await?;
    let page = ListPage {
        l: Layout::new("Connection requests", &cu),
        received,
        sent,
        status: status.unwrap_or("").to_string(),
        statuses: ConnectionStatus::ALL,
    };
    Ok(Html(page.render()?).into_response())
}

// ---------- one request ----------

pub struct EventView {
    pub status: &'static str,
    pub when: String,
    pub who: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "connection.html")]
struct ShowPage {
    l: Layout,
    c: Connection,
    status: &'static str,
    people: Vec<String>,
    consent_how: &'static str,
    consent_on: String,
    sent: String,
    events: Vec<EventView>,
    can_accept: bool,
    can_complete: bool,
    family_link: bool,
    errors: Errors,
    reason: String,
}

async fn show_page(
    state: &AppState,
    cu: &CurrentUser,
    c: Connection,
    basis: ConnectionBasis,
    errors: Errors,
    reason: String,
) -> AppResult<ShowPage> {
    let db = &state.db;
    let status = ConnectionStatus::parse(&c.status).unwrap_or(ConnectionStatus::Sent);
    let can_respond = basis == ConnectionBasis::ReceivingOrganisation;
    let family_link = match db.family_facts(c.family_id).await? {
        Some(f) => access::family(&cu.user.subject(), &f, FamilyAction::View).allowed(),
        None => false,
    };
    let events = db
        .connection_events(c.id)
        .await?
        .into_iter()
        .map(|e| EventView {
            status: status_label(&e.status),
            when: super::when(e.at_ms),
            who: match (e.user_name, e.organisation_name) {
                (Some(u), Some(o)) => format!("{u}, {o}"),
                (Some(u), None) => u,
                _ => String::new(),
            },
            reason: e.reason.unwrap_or_default(),
        })
        .collect();
    let people = db.connection_people(c.id).await?.into_iter().map(|p| p.1).collect();
    Ok(ShowPage {
        l: Layout::new(format!("Connection request C{}", c.id), cu),
        status: status.label(),
        people,
        consent_how: ConsentHow::parse(&c.consent_how).map(|h| h.label()).unwrap_or(""),
        consent_on: dates::long(c.consent_on),
        sent: super::when(c.created_at_ms),
        events,
        can_accept: can_respond && matches!(status, ConnectionStatus::Sent | ConnectionStatus::Opened),
        can_complete: can_respond && status == ConnectionStatus::Accepted,
        family_link,
        errors,
        reason,
        c,
    })
}

/// Tells the sender what happened to their request.
async fn tell_sender(state: &AppState, c: &Connection, to: ConnectionStatus) -> AppResult<()> {
    let message = format!(
        "Connection request C{} to {}: {}.",
        c.id,
        c.service_name,
        to.label().to_lowercase()
    );
    state.db.notify_connection(c.sender_user_id, c.id, &message).await?;
    if state.config.smtp.is_some() && c.sender_email.contains('@') {
        state
            .db
            .queue_email(
                &c.sender_email,
                &format!("Connection request C{}: {}", c.id, to.label().to_lowercase()),
                &format!("{message}\n\nSign in to Kindred to see the request.\n"),
            )
            .await?;
    }
    Ok(())
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (mut c, basis) = gate::connection(
        &state,
        &cu,
        id,
        ConnectionAccess::View,
        false,
        "web GET /connections/{id}",
    )
    .await?;
    // The first time a worker of the receiving organisation opens it, it is
    // opened: a record of reading it, as the audit event is.
    if basis == ConnectionBasis::ReceivingOrganisation
        && c.status == ConnectionStatus::Sent.code()
        && state
            .db
            .set_connection_status(id, "sent", "opened", cu.user.id, None, kindred_store::today())
            .await?
    {
        tell_sender(&state, &c, ConnectionStatus::Opened).await?;
        c = state.db.connection(id).await?.ok_or(AppError::NotFound)?;
    }
    let page = show_page(&state, &cu, c, basis, Errors::default(), String::new()).await?;
    Ok(Html(page.render()?).into_response())
}

async fn respond(
    state: AppState,
    cu: CurrentUser,
    id: i64,
    pairs: Vec<(String, String)>,
    action: ConnectionAction,
    route: &str,
) -> AppResult<Response> {
    let (c, basis) = gate::connection(&state, &cu, id, ConnectionAccess::Respond, true, route).await?;
    let from = ConnectionStatus::parse(&c.status).unwrap_or(ConnectionStatus::Sent);
    let to = match connection_next(from, &action) {
        Ok(to) => to,
        Err(message) => {
            let mut errors = Errors::default();
            let field_name = if matches!(action, ConnectionAction::Decline { .. }) {
                "reason"
            } else {
                "status"
            };
            errors.add(field_name, message);
            let page = show_page(&state, &cu, c, basis, errors, field(&pairs, "reason")).await?;
            return crate::errors::invalid(page);
        }
    };
    let reason = match &action {
        ConnectionAction::Decline { reason } => Some(reason.trim().to_string()),
        _ => None,
    };
    let changed = state
        .db
        .set_connection_status(
            id,
            from.code(),
            to.code(),
            cu.user.id,
            reason.as_deref(),
            kindred_store::today(),
        )
        .await?;
    if changed {
        tell_sender(&state, &c, to).await?;
    }
    Ok(Redirect::to(&format!("/connections/{id}")).into_response())
}

pub async fn accept(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    respond(
        state,
        cu,
        id,
        pairs,
        ConnectionAction::Accept,
        "web POST /connections/{id}/accept",
    )
    .await
}

pub async fn decline(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let reason = field(&pairs, "reason");
    respond(
        state,
        cu,
        id,
        pairs,
        ConnectionAction::Decline { reason },
        "web POST /connections/{id}/decline",
    )
    .await
}

pub async fn complete(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    respond(
        state,
        cu,
        id,
        pairs,
        ConnectionAction::Complete,
        "web POST /connections/{id}/complete",
    )
    .await
}
