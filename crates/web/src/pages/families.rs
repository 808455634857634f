//! The whole-family record: create, view (members, relationships,
//! identifiers, addresses, who is involved), edit, and who viewed it.

use crate::errors::Ids;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::model::{MemberRole, Profession, RelationshipKind, Role, Sex};
use kindred_store::families::{Creator, Household, NewMember};
use serde::Deserialize;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult};
use crate::forms::{AddressForm, Errors, PersonForm};
use crate::layout::Layout;

// ---------- the family page ----------

struct MemberView {
    person_id: i64,
    name: String,
    preferred: String,
    role: &'static str,
    born: String,
    nhs_number: String,
    upn: String,
    language: String,
    interpreter: bool,
    send: bool,
    address: String,
    /// The address and contact details are withheld from the reader (a restricted person).
    withheld: bool,
    phone: String,
    email: String,
    joined: String,
    left: String,
}

struct RelView {
    from: String,
    kind: &'static str,
    to: String,
}

struct TeamView {
    user_id: i64,
    name: String,
    profession: String,
    organisation: String,
    since: String,
    is_lead: bool,
}

struct InvolvementView {
    id: i64,
    /// Contacts by the organisation with the family in the last 12 months.
    contacts: i64,
    organisation: String,
    kind: &'static str,
    service: String,
    since: String,
    ended: String,
}

struct LeadView {
    name: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    l: Layout,
    id: i64,
    name: String,
    basis: &'static str,
    can_edit: bool,
    can_view_log: bool,
    can_view_profile: bool,
    contacts_this_year: i64,
    active_workers: i64,
    seagull: bool,
    /// Needs recorded by several agencies that together reach the threshold
    /// for multi-agency early help: (the outcomes, as labels; how many sources).
    needs_add_up: Option<(Vec<&'static str>, usize)>,
    lead: String,
    members: Vec<MemberView>,
    former: Vec<MemberView>,
    relationships: Vec<RelView>,
    team: Vec<TeamView>,
    lead_history: Vec<LeadView>,
    involvements: Vec<InvolvementView>,
    past_involvements: Vec<InvolvementView>,
    workers: Vec<(i64, String)>,
    /// Case workers of partner organisations of other councils (a bi-borough
    /// agreement): they may join the team, not lead it.
    partner_workers: Vec<(i64, String)>,
    /// Consents of the family's members active today.
    active_consents: i64,
    organisations: Vec<(i64, String)>,
    member_options: Vec<(i64, String)>,
    relationship_kinds: &'static [RelationshipKind],
    flags_block: super::flags::FlagsBlock,
    withheld_text: &'static str,
    referrals: Vec<(i64, String, String, String)>,
    discussions: Vec<(i64, String, String, String, String, String)>,
    runs_panel: bool,
    episodes: Vec<super::episodes::EpisodeView>,
    can_open_episode: bool,
    /// Who may lead a new episode: the user, then the team around the family.
    episode_leads: Vec<(i64, String)>,
    levels: [kindred_domain::referral::Level; 2],
    tasks: Vec<super::tasks::TaskRow>,
    /// Safeguarding overrides in force: sharing without consent.
    safeguarding: Vec<super::glass::OverrideView>,
    /// Requests connecting the family to directory services (issue 8), and
    /// whether the reader may send one (`access::connect_family`).
    connections: Vec<super::connections::RowView>,
    can_connect: bool,
}

fn basis_label(b: access::Basis) -> &'static str {
    match b {
        access::Basis::LeadProfessional => "you are the lead professional",
        access::Basis::TeamAroundTheFamily => "you are in the team around the family",
        access::Basis::OrganisationInvolved => "your organisation is involved",
        access::Basis::ManagerOfInvolvedOrganisation => "you manage an organisation that is involved",
        access::Basis::TriageOfOpenReferral => "a referral is waiting for triage",
        access::Basis::BreakGlass => "you broke the glass: emergency access, reviewed by the privacy officer",
    }
}

/// Whether the needs recorded in the last 12 months by each agency (referral
/// needs, flags) add up, though none alone reaches the threshold, for a
/// family without an open multi-agency or statutory episode or a child in
/// need or protection plan (`domain::needs`).
async fn needs_add_up(
    db: &kindred_store::Db,
    id: i64,
    episodes: &[kindred_store::episodes::Episode],
) -> AppResult<Option<(Vec<&'static str>, usize)>> {
    use kindred_domain::needs::{self, RecordedNeed, Source};
    let year_ago = kindred_store::now_ms() - 365 * 24 * 60 * 60 * 1000;
    let recorded = db.recorded_needs(id, year_ago).await?;
    let source = |org: Option<i64>| org.map(Source::Organisation).unwrap_or(Source::Family);
    let statutory_flag = recorded
        .flags
        .iter()
        .any(|(kind, _)| kind == "child_in_need" || kind == "child_protection_plan");
    let open_at_threshold = episodes
        .iter()
        .any(|e| e.status == "open" && (e.level == "3" || e.level == "4"));
    let list: Vec<RecordedNeed> = recorded
        .referral_needs
        .iter()
        .filter_map(|(code, org)| RecordedNeed::from_need_code(code, source(*org)))
        .chain(
            recorded
                .flags
                .iter()
                .filter_map(|(kind, org)| RecordedNeed::from_flag(kind, source(*org))),
        )
        .collect();
    Ok(needs::needs_add_up(&list, statutory_flag || open_at_threshold)
        .map(|a| (a.outcomes.iter().map(|o| o.label()).collect(), a.sources)))
}

/// Five or more workers active with a family at once is the "seagull effect":
/// professionals swooping in and out, none of them knowing the whole family.
const SEAGULL_THRESHOLD: i64 = 5;

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, basis, facts) =
        gate::family_with_facts(&state, &cu, id, FamilyAction::View, false, "web GET /families/{id}").await?;
    // One connection for the page's thirty-odd reads (`Db::pinned`).
    let db = &state.db.pinned().await?;
    let subject = cu.user.subject();
    let can_edit = access::family(&subject, &facts, FamilyAction::Edit).allowed();
    let can_view_log = access::family(&subject, &facts, FamilyAction::ViewAccessLog).allowed();
    let can_view_profile = access::family(&subject, &facts, FamilyAction::ViewProfile).allowed();
    let today = kindred_store::today();

    let mut members = vec![];
    let mut former = vec![];
    let all = db.members(id).await?;
    let mut current_addresses = db.current_addresses_in_family(id).await?;
    let member_ids: Vec<i64> = all.iter().map(|m| m.person.id).collect();
    let shown = gate::contact_details_shown_on(db, &cu, access::Decision::Allow(basis), &member_ids).await?;
    let mut contacts = db.person_contacts(&member_ids).await?;
    for m in &all {
        let withheld = !shown.contains(&m.person.id);
        let current = current_addresses.remove(&m.person.id).filter(|_| !withheld);
        let contact = contacts.remove(&m.person.id).filter(|_| !withheld).unwrap_or_default();
        let p = &m.person;
        let v = MemberView {
            person_id: p.id,
            name: p.full_name(),
            preferred: p.preferred_name.clone().unwrap_or_default(),
            role: m.role.label(),
            born: super::born(p, today),
            nhs_number: p.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
            upn: p.upn.as_ref().map(|u| u.as_str().to_string()).unwrap_or_default(),
            language: p.language.clone().unwrap_or_default(),
            interpreter: p.interpreter_needed,
            send: p.send,
            address: current
                .map(|a| {
                    [Some(a.line1), a.line2, Some(a.town), Some(a.postcode)]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            withheld,
            phone: contact.phone.unwrap_or_default(),
            email: contact.email.unwrap_or_default(),
            joined: kindred_domain::dates::long(m.joined_on),
            left: super::opt_date(m.left_on),
        };
        if m.left_on.is_none() {
            members.push(v)
        } else {
            former.push(v)
        }
    }
    let name_of = |pid: i64| {
        all.iter()
            .find(|m| m.person.id == pid)
            .map(|m| m.person.full_name())
            .unwrap_or_default()
    };
    let relationships = db
        .relationships(id)
        .await?
        .into_iter()
        .map(|r| RelView {
            from: name_of(r.from_person_id),
            kind: r.kind.label(),
            to: name_of(r.to_person_id),
        })
        .collect();
    let team_rows = db.team(id).await?;
    let team = team_rows
        .iter()
        .filter(|t| t.until_date.is_none())
        .map(|t| TeamView {
            user_id: t.user_id,
            name: t.display_name.clone(),
            profession: Profession::parse(&t.profession)
                .map(|p| p.label())
                .unwrap_or("")
                .to_string(),
            organisation: t.organisation_name.clone(),
            since: kindred_domain::dates::long(t.since),
            is_lead: family.lead_user_id == Some(t.user_id),
        })
        .collect();
    // The lead is nearly always in the team: read their name from it.
    let lead = match family.lead_user_id {
        Some(u) => match team_rows.iter().find(|t| t.user_id == u) {
            Some(t) => t.display_name.clone(),
            None => db.user(u).await.map(|u| u.display_name).unwrap_or_default(),
        },
        None => String::new(),
    };
    let lead_history = db
        .lead_history(id)
        .await?
        .into_iter()
        .map(|h| LeadView {
            name: h.display_name,
            from: super::when(h.from_ms),
            to: h.to_ms.map(super::when).unwrap_or_default(),
        })
        .collect();
    let year_ago = today
        .replace_year(today.year() - 1)
        .unwrap_or(today - time::Duration::days(365));
    let counts = db.contact_counts(id, year_ago).await?;
    let contacts_by = |org: i64| {
        counts
            .iter()
            .find(|c| c.organisation_id == org)
            .map_or(0, |c| c.contacts)
    };
    let contacts_this_year: i64 = counts.iter().map(|c| c.contacts).sum();
    let active_workers = db.active_professionals(id, today - time::Duration::days(90)).await?;
    let (involvements, past_involvements): (Vec<_>, Vec<_>) = db
        .involvements(id)
        .await?
        .into_iter()
        .map(|i| InvolvementView {
            id: i.id,
            contacts: contacts_by(i.organisation_id),
            organisation: i.organisation_name,
            kind: i.organisation_kind.label(),
            service: i.service,
            since: kindred_domain::dates::long(i.started_on),
            ended: super::opt_date(i.ended_on),
        })
        .partition(|i| i.ended.is_empty());
    let partner_workers = if can_edit {
        db.workers_of_organisations(&facts.partner_organisation_ids)
            .await?
            .into_iter()
            .map(|w| {
                (
                    w.user_id,
                    format!("{} ({}, {})", w.display_name, w.organisation_name, w.tenant_name),
                )
            })
            .collect()
    } else {
        vec![]
    };
    let active_consents = db.active_consent_count(id, today).await?;
    let (workers, organisations) = if can_edit {
        let workers = db
            .users(cu.user.tenant_id)
            .await?
            .into_iter()
            .filter(|u| u.active && !u.is_system() && (u.has(Role::Practitioner) || u.has(Role::Triage)))
            .map(|u| (u.id, format!("{} ({})", u.display_name, u.profession.label())))
            .collect();
        let orgs = db
            .organisations(cu.user.tenant_id)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        (workers, orgs)
    } else {
        (vec![], vec![])
    };
    let member_options: Vec<(i64, String)> = members.iter().map(|m| (m.person_id, m.name.clone())).collect();
    let flags_block = super::flags::family_block(db, id, can_edit, member_options.clone()).await?;
    let referrals = db
        .referrals_of_family(id)
        .await?
        .into_iter()
        .map(|r| {
            let outcome = r
                .outcome
                .as_deref()
                .and_then(kindred_domain::referral::Outcome::parse)
                .map(|o| o.label())
                .unwrap_or("Awaiting triage");
            (r.id, r.reference, super::when(r.received_at_ms), outcome.to_string())
        })
        .collect();
    let discussions = db
        .discussions_of_family(id)
        .await?
        .into_iter()
        .map(|d| {
            (
                d.meeting_id,
                d.title,
                kindred_domain::dates::long(d.meets_on),
                d.reason,
                d.decision.unwrap_or_else(|| "Not yet discussed".into()),
                d.lead_name.unwrap_or_default(),
            )
        })
        .collect();
    let runs_panel = kindred_domain::access::run_panel(&subject);
    let all_episodes = db.episodes_of_family(id).await?;
    let needs_add_up = needs_add_up(db, id, &all_episodes).await?;
    let episodes = all_episodes.iter().map(super::episodes::EpisodeView::of).collect();
    let can_open_episode = access::open_episode(&subject, access::family(&subject, &facts, FamilyAction::Edit));
    let mut episode_leads = vec![(cu.user.id, format!("Me ({})", cu.user.display_name))];
    episode_leads.extend(
        team_rows
            .iter()
            .filter(|t| t.until_date.is_none() && t.user_id != cu.user.id)
            .map(|t| (t.user_id, t.display_name.clone())),
    );
    // The family is open to the user: its tasks are shown in full.
    let tasks = db
        .open_tasks_of_family(id)
        .await?
        .into_iter()
        .map(|task| {
            super::tasks::TaskRow::of(
                &cu,
                gate::ShownTask {
                    task,
                    family_visible: true,
                },
                today,
            )
        })
        .collect();
    let page = FamilyPage {
        connections: super::connections::family_block(db, id).await?,
        can_connect: access::connect_family(&subject, access::family(&subject, &facts, FamilyAction::Edit)),
        safeguarding: super::glass::active_safeguarding(db, id).await?,
        episodes,
        can_open_episode,
        episode_leads,
        levels: [
            kindred_domain::referral::Level::Targeted,
            kindred_domain::referral::Level::SingleAgency,
        ],
        tasks,
        contacts_this_year,
        active_workers,
        seagull: active_workers >= SEAGULL_THRESHOLD,
        needs_add_up,
        referrals,
        discussions,
        runs_panel,
        l: Layout::new(family.name.clone(), &cu),
        id,
        name: family.name,
        basis: basis_label(basis),
        can_edit,
        can_view_log,
        can_view_profile,
        lead,
        members,
        former,
        relationships,
        team,
        lead_history,
        involvements,
        past_involvements,
        workers,
        partner_workers,
        active_consents,
        organisations,
        member_options,
        relationship_kinds: RelationshipKind::ALL,
        flags_block,
        withheld_text: gate::WITHHELD,
    };
    Ok(Html(page.render()?).into_response())
}

// ---------- creating a family ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewFamilyForm {
    household_name: String,
    role: String,
    #[serde(flatten)]
    person: PersonForm,
    #[serde(flatten)]
    address: AddressForm,
}

#[derive(Template)]
#[template(path = "family_new.html")]
struct NewFamilyPage {
    l: Layout,
    family_name: String,
    role: String,
    form: PersonForm,
    address: AddressForm,
    errors: Errors,
    roles: &'static [MemberRole],
    sexes: &'static [Sex],
}

pub async fn new_form(cu: CurrentUser) -> AppResult<Html<String>> {
    if !access::create_family(&cu.user.subject()) {
        return Err(AppError::NotFound);
    }
    let page = NewFamilyPage {
        l: Layout::new("Start a new family record", &cu),
        family_name: String::new(),
        role: "parent".into(),
        form: PersonForm::default(),
        address: AddressForm::default(),
        errors: Errors::default(),
        roles: MemberRole::ALL,
        sexes: Sex::ALL,
    };
    Ok(Html(page.render()?))
}

fn service_name(cu: &CurrentUser) -> String {
    cu.user.profession.label().to_string()
}

pub async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<NewFamilyForm>,
) -> AppResult<Response> {
    if !access::create_family(&cu.user.subject()) {
        return Err(AppError::NotFound);
    }
    let today = kindred_store::today();
    let mut errors = Errors::default();
    if f.household_name.trim().is_empty() {
        errors.add(
            "household_name",
            "Enter a name for the family, for example the Hughes household",
        );
    }
    let role = MemberRole::parse(&f.role);
    if role.is_none() {
        errors.add("role", "Select the person's role in the family");
    }
    let details = f.person.parse(today, &mut errors);
    let contact = f.person.parse_contact(&mut errors);
    let address = if f.address.is_blank() {
        None
    } else {
        f.address.parse(today, &mut errors)
    };
    let (Some(details), Some(role), true) = (details, role, errors.is_empty()) else {
        let page = NewFamilyPage {
            l: Layout::new("Error: Start a new family record", &cu),
            family_name: f.household_name,
            role: f.role,
            form: f.person,
            address: f.address,
            errors,
            roles: MemberRole::ALL,
            sexes: Sex::ALL,
        };
        return crate::errors::invalid(page);
    };
    let db = &state.db;
    let creator = Creator {
        user_id: cu.user.id,
        organisation_id: cu.user.organisation_id,
        service: service_name(&cu),
    };
    let member = NewMember {
        details,
        role,
        contact,
        address,
    };
    let household = Household::New {
        name: &f.household_name,
        creator: &creator,
    };
    let (family_id, _) = db
        .add_new_person(household, &member, today, &cu.actor("web POST /families/new"))
        .await?;
    Ok(Redirect::to(&format!("/families/{family_id}")).into_response())
}

// ---------- renaming ----------

#[derive(Template)]
#[template(path = "family_edit.html")]
struct EditFamilyPage {
    l: Layout,
    id: i64,
    family_name: String,
    errors: Errors,
}

pub async fn edit_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/edit",
    )
    .await?;
    let page = EditFamilyPage {
        l: Layout::new("Change family name", &cu),
        id,
        family_name: family.name,
        errors: Errors::default(),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    family_name: String,
}

pub async fn edit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<RenameForm>,
) -> AppResult<Response> {
    gate::change_family(&state, &cu, id, "web POST /families/{id}/edit").await?;
    if f.family_name.trim().is_empty() {
        let mut errors = Errors::default();
        errors.add("family_name", "Enter a name for the family");
        let page = EditFamilyPage {
            l: Layout::new("Error: Change family name", &cu),
            id,
            family_name: f.family_name,
            errors,
        };
        return crate::errors::invalid(page);
    }
    state.db.rename_family(id, &f.family_name).await?;
    Ok(Redirect::to(&format!("/families/{id}")).into_response())
}

// ---------- members ----------

#[derive(Template)]
#[template(path = "member_new.html")]
struct NewMemberPage {
    l: Layout,
    id: i64,
    family_name: String,
    role: String,
    form: PersonForm,
    address: AddressForm,
    errors: Errors,
    roles: &'static [MemberRole],
    sexes: &'static [Sex],
}

pub async fn new_member_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
) -> AppResult<Html<String>> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/members/new",
    )
    .await?;
    let page = NewMemberPage {
        l: Layout::new("Add a family member", &cu),
        id,
        family_name: family.name,
        role: "child".into(),
        form: PersonForm::default(),
        address: AddressForm::default(),
        errors: Errors::default(),
        roles: MemberRole::ALL,
        sexes: Sex::ALL,
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewMemberForm {
    role: String,
    #[serde(flatten)]
    person: PersonForm,
    #[serde(flatten)]
    address: AddressForm,
}

pub async fn add_member(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<NewMemberForm>,
) -> AppResult<Response> {
    let family = gate::change_family(&state, &cu, id, "web POST /families/{id}/members/new").await?;
    let today = kindred_store::today();
    let mut errors = Errors::default();
    let role = MemberRole::parse(&f.role);
    if role.is_none() {
        errors.add("role", "Select the person's role in the family");
    }
    let details = f.person.parse(today, &mut errors);
    let contact = f.person.parse_contact(&mut errors);
    let address = if f.address.is_blank() {
        None
    } else {
        f.address.parse(today, &mut errors)
    };
    let (Some(details), Some(role), true) = (details, role, errors.is_empty()) else {
        let page = NewMemberPage {
            l: Layout::new("Error: Add a family member", &cu),
            id,
            family_name: family.name,
            role: f.role,
            form: f.person,
            address: f.address,
            errors,
            roles: MemberRole::ALL,
            sexes: Sex::ALL,
        };
        return crate::errors::invalid(page);
    };
    let member = NewMember {
        details,
        role,
        contact,
        address,
    };
    state
        .db
        .add_new_person(
            Household::Existing(id),
            &member,
            today,
            &cu.actor("web POST /families/{id}/members/new"),
        )
        .await?;
    Ok(Redirect::to(&format!("/families/{id}")).into_response())
}

pub async fn leave(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, person_id)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    gate::change_family(&state, &cu, id, "web POST /families/{id}/members/{person_id}/leave").await?;
    state.db.end_membership(id, person_id, kindred_store::today()).await?;
    Ok(Redirect::to(&format!("/families/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct RelationshipForm {
    from: i64,
    kind: String,
    to: i64,
}

pub async fn add_relationship(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<RelationshipForm>,
) -> AppResult<Response> {
    gate::change_family(&state, &cu, id, "web POST /families/{id}/relationships").await?;
    let members = state.db.members(id).await?;
    let is_member = |pid: i64| members.iter().any(|m| m.person.id == pid && m.left_on.is_none());
    let kind = RelationshipKind::parse(&f.kind).ok_or(AppError::BadRequest("Select a relationship from the list."))?;
    if !is_member(f.from) || !is_member(f.to) || f.from == f.to {
        return Err(AppError::BadRequest("Select two different members of this family."));
    }
    state.db.add_relationship(f.from, f.to, kind).await?;
    Ok(Redirect::to(&format!("/families/{id}#relationships")).into_response())
}

// ---------- the team around the family and involvements ----------

#[derive(Deserialize)]
pub struct UserChoice {
    user_id: i64,
}

/// A worker in the same tenant with a case role: the only people who can join a team.
async fn worker(state: &AppState, cu: &CurrentUser, user_id: i64) -> AppResult<i64> {
    let u = state
        .db
        .user(user_id)
        .await
        .map_err(|_| AppError::BadRequest("Select a worker from the list."))?;
    if u.tenant_id != cu.user.tenant_id
        || !u.active
        || u.is_system()
        || !(u.has(Role::Practitioner) || u.has(Role::Triage))
    {
        return Err(AppError::BadRequest("Select a worker from the list."));
    }
    Ok(u.id)
}

/// A worker who may join the team around a family: an active case worker of
/// the family's council, or of a partner organisation of another council
/// under an information-sharing agreement — checked here, whatever the
/// picker offered.
async fn team_worker(state: &AppState, family: &kindred_store::families::Family, user_id: i64) -> AppResult<i64> {
    let refuse = || AppError::BadRequest("Select a worker from the list.");
    let u = state.db.user(user_id).await.map_err(|_| refuse())?;
    if !u.active || u.is_system() || !(u.has(Role::Practitioner) || u.has(Role::Triage)) {
        return Err(refuse());
    }
    if u.tenant_id == family.tenant_id {
        return Ok(u.id);
    }
    let facts = state.db.family_facts(family.id).await?.ok_or(AppError::NotFound)?;
    if facts.partner_organisation_ids.contains(&u.organisation_id) {
        Ok(u.id)
    } else {
        Err(refuse())
    }
}

pub async fn add_team_member(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<UserChoice>,
) -> AppResult<Response> {
    let family = gate::change_family(&state, &cu, id, "web POST /families/{id}/team").await?;
    let user_id = team_worker(&state, &family, f.user_id).await?;
    let already = state
        .db
        .team(id)
        .await?
        .iter()
        .any(|t| t.user_id == user_id && t.until_date.is_none());
    if !already {
        state.db.add_team_member(id, user_id, kindred_store::today()).await?;
    }
    Ok(Redirect::to(&format!("/families/{id}#team")).into_response())
}

pub async fn end_team_member(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, user_id)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    let family = gate::change_family(&state, &cu, id, "web POST /families/{id}/team/{user_id}/end").await?;
    if family.lead_user_id == Some(user_id) {
        return Err(AppError::BadRequest(
            "Choose a new lead professional before the current one leaves the team.",
        ));
    }
    state.db.end_team_member(id, user_id, kindred_store::today()).await?;
    Ok(Redirect::to(&format!("/families/{id}#team")).into_response())
}

pub async fn set_lead(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<UserChoice>,
) -> AppResult<Response> {
    gate::change_family(&state, &cu, id, "web POST /families/{id}/lead").await?;
    let user_id = worker(&state, &cu, f.user_id).await?;
    state.db.set_lead(id, user_id, kindred_store::today()).await?;
    Ok(Redirect::to(&format!("/families/{id}#team")).into_response())
}

#[derive(Deserialize)]
pub struct InvolvementForm {
    organisation_id: i64,
    #[serde(default)]
    service: String,
}

pub async fn add_involvement(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<InvolvementForm>,
) -> AppResult<Response> {
    gate::change_family(&state, &cu, id, "web POST /families/{id}/involvements").await?;
    let org = state
        .db
        .organisation(f.organisation_id)
        .await
        .map_err(|_| AppError::BadRequest("Select an organisation from the list."))?;
    if org.tenant_id != cu.user.tenant_id {
        return Err(AppError::BadRequest("Select an organisation from the list."));
    }
    let service = if f.service.trim().is_empty() {
        org.kind.label().to_string()
    } else {
        f.service.trim().to_string()
    };
    state
        .db
        .add_involvement(id, org.id, &service, kindred_store::today())
        .await?;
    Ok(Redirect::to(&format!("/families/{id}#involved")).into_response())
}

pub async fn end_involvement(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, inv)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    gate::change_family(&state, &cu, id, "web POST /families/{id}/involvements/{inv}/end").await?;
    if !state.db.involvements(id).await?.iter().any(|i| i.id == inv) {
        return Err(AppError::NotFound);
    }
    state.db.end_involvement(inv, kindred_store::today()).await?;
    Ok(Redirect::to(&format!("/families/{id}#involved")).into_response())
}

// ---------- who viewed this record ----------

struct AccessView {
    when: String,
    who: String,
    organisation: String,
    what: &'static str,
    record: String,
    why: String,
}

#[derive(Template)]
#[template(path = "access_log.html")]
struct AccessLogPage {
    l: Layout,
    id: i64,
    name: String,
    entries: Vec<AccessView>,
}

pub async fn access_log(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Html<String>> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::ViewAccessLog,
        false,
        "web GET /families/{id}/access-log",
    )
    .await?;
    let entries = state
        .db
        .family_access_log(id, 500)
        .await?
        .into_iter()
        .map(|e| AccessView {
            when: super::when(e.event.at_ms),
            who: e.actor_name.unwrap_or_else(|| "System".into()),
            organisation: e.actor_organisation.unwrap_or_default(),
            what: kindred_domain::audit::AuditAction::label(&e.event.action),
            record: match e.event.record_kind.as_str() {
                "person" => "a family member's record".into(),
                "family" => "the family record".into(),
                other => other.replace('_', " "),
            },
            why: e.event.detail.replace('_', " "),
        })
        .collect();
    let page = AccessLogPage {
        l: Layout::new(format!("Who viewed {}", family.name), &cu),
        id,
        name: family.name,
        entries,
    };
    Ok(Html(page.render()?))
}
