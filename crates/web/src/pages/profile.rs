//! The 360° profile (F2): for every member of a family, the last 12 months of
//! every agency's involvement — services and their contact counts and dates,
//! flags, referrals and episodes — exactly as the policy allows, and never
//! the text of a note.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::dates;
use kindred_domain::model::OrgKind;
use kindred_domain::referral::{Level, Outcome, Route, Status};

use crate::AppState;
use crate::access as gate;
use crate::auth::CurrentUser;
use crate::errors::{AppResult, Ids};
use crate::layout::Layout;

struct ServiceView {
    organisation: String,
    kind: &'static str,
    contacts: i64,
    first: String,
    last: String,
}

struct LineView {
    what: String,
    when: String,
}

struct MemberView {
    person_id: i64,
    name: String,
    role: &'static str,
    born: String,
    contacts: i64,
    services: Vec<ServiceView>,
    involvements: Vec<LineView>,
    flags: Vec<LineView>,
    referrals: Vec<LineView>,
    episodes: Vec<LineView>,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    l: Layout,
    family_id: i64,
    family_name: String,
    since: String,
    members: Vec<MemberView>,
    total_contacts: i64,
    agencies: usize,
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _) = gate::family(
        &state,
        &cu,
        id,
        FamilyAction::ViewProfile,
        false,
        "web GET /families/{id}/profile",
    )
    .await?;
    let today = kindred_store::today();
    let since = today
        .replace_year(today.year() - 1)
        .unwrap_or(today - time::Duration::days(365));
    let db = &state.db;
    let mut profile = db.profile(id, since).await?;
    let members = db.members(id).await?;
    let mut agencies = std::collections::BTreeSet::new();
    let mut views = vec![];
    for m in members.iter().filter(|m| m.left_on.is_none()) {
        let p = profile.remove(&m.person.id).unwrap_or_default();
        for s in &p.services {
            agencies.insert(s.organisation_id);
        }
        views.push(MemberView {
            person_id: m.person.id,
            name: m.person.full_name(),
            role: m.role.label(),
            born: super::born(&m.person, today),
            contacts: p.services.iter().map(|s| s.contacts).sum(),
            services: p
                .services
                .into_iter()
                .map(|s| ServiceView {
                    organisation: s.organisation_name,
                    kind: s.kind.label(),
                    contacts: s.contacts,
                    first: dates::long(s.first),
                    last: dates::long(s.last),
                })
                .collect(),
            involvements: p
                .involvements
                .into_iter()
                .map(|i| LineView {
                    what: format!(
                        "{} ({}): {}{}",
                        i.organisation_name,
                        OrgKind::parse(&i.kind).map(|k| k.label()).unwrap_or(""),
                        i.service,
                        if i.family_id == id {
                            ""
                        } else {
                            ", with another household"
                        }
                    ),
                    when: match i.ended_on {
                        Some(e) => format!("{} to {}", dates::long(i.started_on), dates::long(e)),
                        None => format!("Since {}", dates::long(i.started_on)),
                    },
                })
                .collect(),
            flags: p
                .flags
                .into_iter()
                .map(|f| LineView {
                    what: format!(
                        "{}: {}{}",
                        flag_label(&f.kind),
                        f.description,
                        f.organisation_name
                            .map(|o| format!(" (raised by {o})"))
                            .unwrap_or_default()
                    ),
                    when: match f.ended_on {
                        Some(e) => format!("{} to {}", dates::long(f.raised_on), dates::long(e)),
                        None => format!("Since {}", dates::long(f.raised_on)),
                    },
                })
                .collect(),
            referrals: p
                .referrals
                .into_iter()
                .map(|r| LineView {
                    what: format!(
                        "{} · {} · {}",
                        r.reference,
                        Route::parse(&r.route).map(|x| x.label()).unwrap_or(""),
                        r.outcome
                            .as_deref()
                            .and_then(Outcome::parse)
                            .map(|o| o.label())
                            .or_else(|| Status::parse(&r.status).map(|s| s.label()))
                            .unwrap_or("")
                    ),
                    when: super::when(r.received_at_ms),
                })
                .collect(),
            episodes: p
                .episodes
                .into_iter()
                .map(|e| LineView {
                    what: format!(
                        "{}{}{}",
                        Level::parse(&e.level).map(|l| l.label()).unwrap_or("Episode"),
                        e.lead_name
                            .map(|n| format!(", lead professional {n}"))
                            .unwrap_or_default(),
                        if e.status == "open" { " (open)" } else { "" }
                    ),
                    when: match e.closed_on {
                        Some(c) => format!("{} to {}", dates::long(e.opened_on), dates::long(c)),
                        None => format!("Since {}", dates::long(e.opened_on)),
                    },
                })
                .collect(),
        });
    }
    let page = ProfilePage {
        l: Layout::new(format!("360° profile: {}", family.name), &cu),
        family_id: id,
        family_name: family.name,
        since: dates::long(since),
        total_contacts: db.member_contact_total(id, since).await?,
        agencies: agencies.len(),
        members: views,
    };
    Ok(Html(page.render()?).into_response())
}

pub fn flag_label(kind: &str) -> String {
    match kind {
        "safeguarding_concern" => "Safeguarding concern".into(),
        "child_protection_plan" => "Child protection plan".into(),
        "child_in_need" => "Child in need".into(),
        "looked_after" => "Looked-after child".into(),
        "ehcp" => "EHCP".into(),
        "domestic_abuse_marac" => "Domestic abuse (MARAC)".into(),
        "young_carer" => "Young carer".into(),
        "interpreter" => "Needs an interpreter".into(),
        other => other.replace('_', " "),
    }
}
