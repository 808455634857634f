//! Check your answers, then send: the referral, its people, needs and
//! consent go into the tenant's one triage queue, and the confirmation shows
//! the reference.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::dates;
use kindred_domain::model::MemberRole;
use kindred_domain::referral::{self, DueRule, Route, Status, Urgency};
use kindred_store::StoreError;
use kindred_store::referrals::{Consent, NewReferral, PersonAsGiven, ReferralDetails, Referrer};

use super::answers::{Answers, SendForm, Step};
use super::draft::{Current, Drafted, Posted};
use super::{CONFIRMATION, EXPIRED, layout, show, too_many, within_limit};
use crate::AppState;
use crate::errors::{AppError, AppResult};
use crate::forms::Errors;
use crate::layout::Layout;

const ROUTE_SEND: &str = "web POST /self-referral/send";

pub struct AnswerRow {
    key: &'static str,
    lines: Vec<String>,
    href: String,
    hidden: &'static str,
}

fn row(key: &'static str, lines: Vec<String>, step: Step, hidden: &'static str) -> AnswerRow {
    AnswerRow {
        key,
        lines,
        href: format!("{}?change=yes", step.path()),
        hidden,
    }
}

fn or_not_given(s: &str) -> Vec<String> {
    vec![if s.is_empty() {
        "Not given".into()
    } else {
        s.to_string()
    }]
}

async fn answer_rows(state: &AppState, cur: &Current) -> AppResult<Vec<AnswerRow>> {
    let a = &cur.answers;
    let mut rows = vec![
        row("Name", vec![a.full_name()], Step::Name, "your name"),
        row(
            "Date of birth",
            vec![a.date_of_birth().map(dates::long).unwrap_or_default()],
            Step::DateOfBirth,
            "your date of birth",
        ),
        row(
            "Address",
            vec![a.address_line.clone(), a.postcode.clone()],
            Step::Address,
            "your address",
        ),
    ];
    if a.council_chosen
        && let Some(t) = cur.tenant_id
    {
        let name = state.db.tenant(t).await?.name;
        rows.push(row("Council area", vec![name], Step::Council, "your council area"));
    }
    rows.push(row("Phone", or_not_given(&a.phone), Step::Contact, "your phone number"));
    rows.push(row(
        "Email",
        or_not_given(&a.email),
        Step::Contact,
        "your email address",
    ));
    if !a.phone.is_empty() && !a.safe_message.is_empty() {
        let safe = if a.safe_message == "yes" { "Yes" } else { "No" };
        rows.push(row(
            "Safe to leave a message",
            vec![safe.into()],
            Step::Contact,
            "whether it is safe to leave a message",
        ));
    }
    rows.push(row(
        "Your family",
        a.people
            .iter()
            .map(|p| format!("{}: {}", p.full_name(), p.describe()))
            .collect(),
        Step::People,
        "the people in your family",
    ));
    rows.push(row(
        "Help with",
        a.needs
            .iter()
            .filter_map(|c| referral::need(c))
            .map(|n| n.family_label.to_string())
            .collect(),
        Step::Help,
        "what you would like help with",
    ));
    rows.push(row(
        "In your own words",
        a.story.lines().map(str::to_string).collect(),
        Step::Words,
        "what you told us in your own words",
    ));
    let consent = if a.consent == "yes" {
        "Yes"
    } else {
        "No, contact me first"
    };
    rows.push(row(
        "Share with services that can help",
        vec![consent.into()],
        Step::Consent,
        "whether we can share what you have told us",
    ));
    Ok(rows)
}

#[derive(Template)]
#[template(path = "self_referral/check.html")]
struct CheckPage {
    l: Layout,
    csrf: String,
    errors: Errors,
    rows: Vec<AnswerRow>,
}

async fn check_page(state: &AppState, cur: &Current, errors: Errors) -> AppResult<Response> {
    let shown = !errors.is_empty();
    let page = CheckPage {
        l: layout("Check your answers before sending your request", &errors),
        csrf: cur.csrf.clone(),
        rows: answer_rows(state, cur).await?,
        errors,
    };
    show(page, shown)
}

pub async fn check_form(State(state): State<AppState>, Drafted(cur): Drafted) -> AppResult<Response> {
    if let Some(step) = cur.answers.missing(cur.tenant_id) {
        return Ok(Redirect::to(step.path()).into_response());
    }
    check_page(&state, &cur, Errors::default()).await
}

/// Sends the request into the triage queue, once.
pub async fn send(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    p: Posted<SendForm>,
) -> AppResult<Response> {
    let Posted { mut cur, form, .. } = p;
    let (Some(tenant_id), None) = (cur.tenant_id, cur.answers.missing(cur.tenant_id)) else {
        let step = cur.answers.missing(cur.tenant_id).unwrap_or(Step::Council);
        return Ok(Redirect::to(step.path()).into_response());
    };
    let cfg = &state.config;
    if kindred_store::now_ms() - cur.created_at_ms < cfg.self_referral_min_ms {
        // Faster than a person reads: most likely a script. A person just sends again.
        let mut errors = Errors::default();
        errors.add("check-answers", "Check your answers, then send your request");
        return check_page(&state, &cur, errors).await;
    }
    if !within_limit(&state, "selfref-send", addr, cfg.self_referral_sends_per_hour).await? {
        return too_many();
    }
    // A filled honeypot is a bot's: it is told the request was sent, and nothing is made.
    if form.website.trim().is_empty() {
        create_referral(&state, tenant_id, &cur.answers).await?;
    }
    cur.answers = cur.answers.sent();
    cur.save(&state).await?;
    Ok(Redirect::to(CONFIRMATION).into_response())
}

/// The referral, its people, needs and consent, then into the queue. A second
/// press of Send finds the reference taken and makes nothing.
async fn create_referral(state: &AppState, tenant_id: i64, a: &Answers) -> AppResult<()> {
    let db = &state.db;
    let name = a.full_name();
    let referrer = Referrer {
        name: name.clone(),
        role: "Parent or carer (self-referral)".into(),
        phone: a.phone_for_triage(),
        email: a.email.clone(),
    };
    let created = db
        .create_referral(&NewReferral {
            tenant_id,
            route: Route::SelfReferral,
            referrer_user_id: None,
            referrer_organisation_id: None,
            referrer: referrer.clone(),
            family_id: None,
            reference: a.reference.clone(),
        })
        .await;
    let id = match created {
        Ok(r) => r.id,
        Err(StoreError::Conflict(c)) => {
            let Some(id) = db.referral_id_by_reference(tenant_id, &a.reference).await? else {
                return Err(AppError::Internal(StoreError::Conflict(c).into()));
            };
            let existing = db.referral(id).await?.ok_or(AppError::NotFound)?;
            // Sent already, or another press of Send is still making it.
            if existing.status != Status::Draft || kindred_store::now_ms() - existing.received_at_ms < 60_000 {
                return Ok(());
            }
            // An earlier send stopped part-way: make its people again and finish it.
            for p in db.referral_people(id).await? {
                db.remove_referral_person(id, p.id).await?;
            }
            id
        }
        Err(e) => return Err(e.into()),
    };
    let adult = PersonAsGiven {
        given_name: a.given_name.clone(),
        family_name: a.family_name.clone(),
        date_of_birth: a.date_of_birth(),
        postcode: Some(a.postcode.clone()),
        address_line: Some(a.address_line.clone()),
        ..PersonAsGiven::default()
    };
    db.add_referral_person(id, None, MemberRole::Parent, &adult).await?;
    for p in &a.people {
        let date = p.date();
        let given = PersonAsGiven {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            date_of_birth: date.filter(|_| !p.is_unborn()),
            expected_delivery: date.filter(|_| p.is_unborn()),
            ..PersonAsGiven::default()
        };
        db.add_referral_person(id, None, p.role(), &given).await?;
    }
    let today = kindred_store::today();
    db.update_referral_details(
        id,
        &ReferralDetails {
            route: Some(Route::SelfReferral),
            urgency: Some(Urgency::Routine),
            summary: a.story.clone(),
            family_aware: true,
            consent: Consent {
                given: a.consent == "yes",
                by: name,
                on: Some(today),
                scope: "Services that can help the family".into(),
            },
            referrer,
            needs: a.needs.clone(),
        },
    )
    .await?;
    db.submit_referral(id, None, a.hub_site_id).await?;
    db.audit(NewEvent {
        tenant_id: Some(tenant_id),
        actor_user_id: None,
        action: AuditAction::Create,
        record_kind: "referral",
        record_id: Some(id),
        family_id: None,
        route: ROUTE_SEND.into(),
        detail: "self_referral".into(),
    })
    .await?;
    Ok(())
}

// ---------- confirmation ----------

#[derive(Template)]
#[template(path = "self_referral/confirmation.html")]
struct ConfirmationPage {
    l: Layout,
    reference: String,
    council: String,
    within: String,
}

/// "2 days", "3 working days", "36 hours".
fn within(rule: DueRule) -> String {
    let plural = |n: u32, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match (rule.working_hours_only, rule.hours) {
        (true, h) if h % 8 == 0 => plural(h / 8, "working day"),
        (true, h) => plural(h, "working hour"),
        (false, h) if h % 24 == 0 => plural(h / 24, "day"),
        (false, h) => plural(h, "hour"),
    }
}

pub async fn confirmation(State(state): State<AppState>, jar: CookieJar) -> AppResult<Response> {
    let Some(cur) = Current::load(&state, &jar).await? else {
        return Ok(Redirect::to(EXPIRED).into_response());
    };
    let (true, Some(tenant_id)) = (cur.answers.sent, cur.tenant_id) else {
        return Ok(Redirect::to(Step::Check.path()).into_response());
    };
    let page = ConfirmationPage {
        l: Layout::public("Request sent"),
        reference: cur.answers.reference,
        council: state.db.tenant(tenant_id).await?.name,
        within: within(state.db.triage_rule(tenant_id).await?),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_times_read_naturally() {
        let rule = |hours, working_hours_only| DueRule {
            hours,
            working_hours_only,
        };
        assert_eq!(within(rule(48, false)), "2 days");
        assert_eq!(within(rule(24, false)), "1 day");
        assert_eq!(within(rule(36, false)), "36 hours");
        assert_eq!(within(rule(16, true)), "2 working days");
        assert_eq!(within(rule(4, true)), "4 working hours");
    }
}
