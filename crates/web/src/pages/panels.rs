//! The multi-agency panel (F8): meetings with a date and attendees, an agenda
//! of families, and for each family the decision, actions and the lead
//! professional allocated. The family's own record shows what was decided.
//! Triage officers and managers run panels; attendees see their meetings.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction, ReferralAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::model::Role;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser, Empty};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

fn require_panel(cu: &CurrentUser) -> AppResult<()> {
    if access::run_panel(&cu.user.subject()) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

struct MeetingRow {
    id: i64,
    title: String,
    on: String,
    hub: String,
    items: i64,
    past: bool,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NewMeetingForm {
    title: String,
    // The page's date input is `m::date("on", …)`: on_day, on_month, on_year.
    #[serde(rename = "on_day")]
    day: String,
    #[serde(rename = "on_month")]
    month: String,
    #[serde(rename = "on_year")]
    year: String,
    hub: String,
}

#[derive(Template)]
#[template(path = "panels.html")]
struct PanelsPage {
    l: Layout,
    meetings: Vec<MeetingRow>,
    hubs: Vec<(i64, String)>,
    form: NewMeetingForm,
    errors: Errors,
}

async fn panels_page(
    state: &AppState,
    cu: &CurrentUser,
    form: NewMeetingForm,
    errors: Errors,
) -> AppResult<PanelsPage> {
    let today = kindred_store::today();
    let meetings = state
        .db
        .meetings(cu.user.tenant_id, 100)
        .await?
        .into_iter()
        .map(|m| MeetingRow {
            id: m.id,
            title: m.title,
            on: dates::long(m.meets_on),
            hub: m.hub_name.unwrap_or_default(),
            items: m.items,
            past: m.meets_on < today,
        })
        .collect();
    let hubs = state
        .db
        .hub_sites(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|h| (h.id, h.name))
        .collect();
    Ok(PanelsPage {
        l: Layout::new("Panel meetings", cu),
        meetings,
        hubs,
        form,
        errors,
    })
}

pub async fn list(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    require_panel(&cu)?;
    let page = panels_page(&state, &cu, NewMeetingForm::default(), Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<NewMeetingForm>,
) -> AppResult<Response> {
    require_panel(&cu)?;
    let mut errors = Errors::default();
    if f.title.trim().is_empty() {
        errors.add("title", "Enter a name for the meeting, like Family Matters panel");
    } else if f.title.chars().count() > 200 {
        errors.add("title", "Name must be 200 characters or fewer");
    }
    let date = match dates::parse_date_parts(&f.day, &f.month, &f.year) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("on", format!("Date of the meeting {e}"));
            None
        }
    };
    let hubs = state.db.hub_sites(cu.user.tenant_id).await?;
    let hub = match f.hub.parse::<i64>() {
        Ok(h) if hubs.iter().any(|x| x.id == h) => Some(h),
        _ => None,
    };
    let Some(date) = date.filter(|_| errors.is_empty()) else {
        return crate::errors::invalid(panels_page(&state, &cu, f, errors).await?);
    };
    let id = state
        .db
        .create_meeting(cu.user.tenant_id, &f.title, date, hub, cu.user.id)
        .await?;
    Ok(Redirect::to(&format!("/panels/{id}")).into_response())
}

struct ItemView {
    id: i64,
    family_id: Option<i64>,
    family_name: String,
    reason: String,
    decision: String,
    lead: String,
    actions: Vec<(i64, String, String, String, bool)>,
}

#[derive(Template)]
#[template(path = "panel.html")]
struct PanelPage {
    l: Layout,
    id: i64,
    title: String,
    on: String,
    hub: String,
    attendees: Vec<(String, String)>,
    items: Vec<ItemView>,
    users: Vec<(i64, String)>,
    can_run: bool,
}

/// A meeting: for those who run panels, and for its attendees.
async fn open_meeting(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
) -> AppResult<(kindred_store::panels::Meeting, bool)> {
    let m = state.db.meeting(id).await.map_err(|_| AppError::NotFound)?;
    if m.tenant_id != cu.user.tenant_id || !cu.user.active {
        return Err(AppError::NotFound);
    }
    let can_run = access::run_panel(&cu.user.subject());
    let attends = state.db.attendees(id).await?.iter().any(|a| a.user_id == cu.user.id);
    if !can_run && !attends {
        return Err(AppError::NotFound);
    }
    Ok((m, can_run))
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (m, can_run) = open_meeting(&state, &cu, id).await?;
    let items = state.db.items(id).await?;
    let actions = state.db.actions(id).await?;
    // Family names on the agenda only where the policy lets this user see the family.
    let family_ids: Vec<i64> = items.iter().map(|i| i.family_id).collect();
    let visible = gate::filter_visible(&state, &cu, &family_ids).await?;
    let items: Vec<ItemView> = items
        .into_iter()
        .map(|i| {
            let seen = visible.contains(&i.family_id) || can_run;
            ItemView {
                id: i.id,
                family_id: visible.contains(&i.family_id).then_some(i.family_id),
                family_name: if seen { i.family_name } else { "A family".into() },
                reason: if seen { i.reason } else { String::new() },
                decision: i.decision.unwrap_or_default(),
                lead: i.lead_name.unwrap_or_default(),
                actions: actions
                    .iter()
                    .filter(|a| a.item_id == i.id)
                    .map(|a| {
                        (
                            a.id,
                            a.description.clone(),
                            a.owner.clone(),
                            a.due_on.map(dates::long).unwrap_or_default(),
                            a.done,
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::Panel(id),
        "web GET /panels/{id}",
        format!("items={}", items.len()),
    )
    .await?;
    let users = if can_run {
        let orgs = state.db.organisations(cu.user.tenant_id).await?;
        state
            .db
            .users(cu.user.tenant_id)
            .await?
            .into_iter()
            .filter(|u| u.active && u.roles.iter().any(|r| *r != Role::Admin))
            .map(|u| {
                let org = orgs
                    .iter()
                    .find(|o| o.id == u.organisation_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                (u.id, format!("{} ({org})", u.display_name))
            })
            .collect()
    } else {
        vec![]
    };
    let page = PanelPage {
        l: Layout::new(m.title.clone(), &cu),
        id,
        title: m.title,
        on: dates::long(m.meets_on),
        hub: m.hub_name.unwrap_or_default(),
        attendees: state
            .db
            .attendees(id)
            .await?
            .into_iter()
            .map(|a| (a.display_name, a.organisation_name))
            .collect(),
        items,
        users,
        can_run,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct AttendeeForm {
    user_id: i64,
}

pub async fn add_attendee(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<AttendeeForm>,
) -> AppResult<Response> {
    require_panel(&cu)?;
    let (m, _) = open_meeting(&state, &cu, id).await?;
    let u = state.db.user(f.user_id).await.map_err(|_| AppError::NotFound)?;
    if u.tenant_id != m.tenant_id {
        return Err(AppError::NotFound);
    }
    state.db.add_attendee(id, u.id).await?;
    Ok(Redirect::to(&format!("/panels/{id}")).into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct AgendaForm {
    meeting_id: i64,
    reason: String,
}

/// Puts a referral's family on a meeting's agenda (from the referral page).
pub async fn add_from_referral(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(rid): Ids<i64>,
    CsrfForm(f): CsrfForm<AgendaForm>,
) -> AppResult<Response> {
    let (r, _) = gate::referral(
        &state,
        &cu,
        rid,
        ReferralAction::Triage,
        true,
        "web POST /referrals/{id}/panel",
    )
    .await?;
    let family_id = r.family_id.ok_or(AppError::BadRequest("Choose the family first."))?;
    let (m, _) = open_meeting(&state, &cu, f.meeting_id).await?;
    let reason = if f.reason.trim().is_empty() {
        format!("Referral {}", r.reference)
    } else {
        f.reason.trim().chars().take(500).collect()
    };
    state.db.add_item(m.id, family_id, Some(r.id), &reason).await?;
    state
        .db
        .add_referral_event(
            r.id,
            Some(cu.user.id),
            "panel",
            &format!("{} on {}", m.title, dates::long(m.meets_on)),
        )
        .await?;
    Ok(Redirect::to(&format!("/panels/{}", m.id)).into_response())
}

#[derive(Template)]
#[template(path = "family_panel.html")]
struct FamilyPanelPage {
    l: Layout,
    id: i64,
    family_name: String,
    meetings: Vec<(i64, String)>,
}

/// Choosing a meeting to take a family to.
pub async fn family_form(State(state): State<AppState>, cu: CurrentUser, Ids(fid): Ids<i64>) -> AppResult<Response> {
    require_panel(&cu)?;
    let (family, _) = gate::family(
        &state,
        &cu,
        fid,
        FamilyAction::View,
        false,
        "web GET /families/{id}/panel",
    )
    .await?;
    let today = kindred_store::today();
    let meetings = state
        .db
        .meetings(cu.user.tenant_id, 50)
        .await?
        .into_iter()
        .filter(|m| m.meets_on >= today)
        .map(|m| (m.id, format!("{} — {}", m.title, dates::long(m.meets_on))))
        .collect();
    let page = FamilyPanelPage {
        l: Layout::new(format!("Take {} to a panel", family.name), &cu),
        id: fid,
        family_name: family.name,
        meetings,
    };
    Ok(Html(page.render()?).into_response())
}

/// Puts a family on the agenda from the family page.
pub async fn add_from_family(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(fid): Ids<i64>,
    CsrfForm(f): CsrfForm<AgendaForm>,
) -> AppResult<Response> {
    require_panel(&cu)?;
    gate::family(
        &state,
        &cu,
        fid,
        FamilyAction::View,
        true,
        "web POST /families/{id}/panel",
    )
    .await?;
    let (m, _) = open_meeting(&state, &cu, f.meeting_id).await?;
    let reason = f.reason.trim().chars().take(500).collect::<String>();
    state
        .db
        .add_item(m.id, fid, None, if reason.is_empty() { "Discussion" } else { &reason })
        .await?;
    Ok(Redirect::to(&format!("/panels/{}", m.id)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ItemDecisionForm {
    decision: String,
    lead_user_id: String,
    action: String,
    owner: String,
    due_day: String,
    due_month: String,
    due_year: String,
}

/// Records the panel's decision for a family, allocates a lead professional
/// (which becomes the family's lead), and adds an action.
pub async fn decide_item(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, item_id)): Ids<(i64, i64)>,
    CsrfForm(f): CsrfForm<ItemDecisionForm>,
) -> AppResult<Response> {
    require_panel(&cu)?;
    let (m, _) = open_meeting(&state, &cu, id).await?;
    let item = state.db.item(item_id).await.map_err(|_| AppError::NotFound)?;
    if item.meeting_id != m.id {
        return Err(AppError::NotFound);
    }
    let lead = match f.lead_user_id.parse::<i64>() {
        Ok(u) => {
            let user = state.db.user(u).await.map_err(|_| AppError::NotFound)?;
            if user.tenant_id != m.tenant_id || !user.active || !user.has(Role::Practitioner) {
                return Err(AppError::BadRequest("Choose a practitioner as lead professional."));
            }
            Some(user)
        }
        Err(_) => None,
    };
    let today = kindred_store::today();
    if !f.decision.trim().is_empty() || lead.is_some() {
        let decision = if f.decision.trim().is_empty() {
            item.decision.clone().unwrap_or_default()
        } else {
            f.decision.trim().chars().take(5000).collect()
        };
        state
            .db
            .record_item_decision(
                item.id,
                &decision,
                lead.as_ref().map(|u| u.id).or(item.lead_user_id),
                cu.user.id,
            )
            .await?;
    }
    if let Some(lead) = &lead {
        let db = &state.db;
        let fid = item.family_id;
        if !db
            .involvements(fid)
            .await?
            .iter()
            .any(|i| i.organisation_id == lead.organisation_id && i.ended_on.is_none())
        {
            db.add_involvement(
                fid,
                lead.organisation_id,
                "Early help: lead professional (panel)",
                today,
            )
            .await?;
        }
        if !db
            .team(fid)
            .await?
            .iter()
            .any(|t| t.user_id == lead.id && t.until_date.is_none())
        {
            db.add_team_member(fid, lead.id, today).await?;
        }
        db.set_lead(fid, lead.id, today).await?;
        db.notify(
            lead.id,
            None,
            &format!("{} allocated you as lead professional for a family.", m.title),
        )
        .await?;
    }
    if !f.action.trim().is_empty() {
        let due = dates::parse_date_parts(&f.due_day, &f.due_month, &f.due_year).ok();
        let owner = if f.owner.trim().is_empty() {
            "Panel"
        } else {
            f.owner.trim()
        };
        state
            .db
            .add_action(item.id, &f.action.chars().take(1000).collect::<String>(), owner, due)
            .await?;
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Family(item.family_id),
        "web POST /panels/{id}/items/{item}",
        "panel".into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/panels/{id}#item-{item_id}")).into_response())
}

pub async fn action_done(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, action_id)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    require_panel(&cu)?;
    open_meeting(&state, &cu, id).await?;
    if !state.db.actions(id).await?.iter().any(|a| a.id == action_id) {
        return Err(AppError::NotFound);
    }
    state.db.set_action_done(action_id, true).await?;
    Ok(Redirect::to(&format!("/panels/{id}")).into_response())
}
