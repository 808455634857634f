//! The family portal at `/portal`. A worker invites a family member, by email
//! or with a one-time code given in person. Signed in with a code, the family
//! member sees their own family's plan and team, only what is marked shareable
//! with the family (`kindred_domain::plan::portal_may_see`); comments on their
//! actions and records progress on the ones they own; and sees who accessed
//! their family's record and why. Their session is separate from staff
//! sessions and carries no staff rights.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use kindred_domain::access::FamilyAction;
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::MemberRole;
use kindred_domain::plan::{self, ActionStatus, PortalItem, PortalSubject};
use kindred_store::plans::Author;
use kindred_store::portal::PortalSession;
use serde::Deserialize;

use super::plan::{GoalView, plan_views};
use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser, cookie, tokens_match};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;
use crate::passwords::{
    normalise_portal_code as normalise_code, portal_code_hash as code_hash, random_token, sha256_hex,
};

/// Sign-in attempts (codes tried, codes asked for) from one address in an hour.
const ATTEMPTS_PER_HOUR: i64 = 20;

fn session_cookie(state: &AppState) -> &'static str {
    if state.config.tls {
        "__Host-kindred-portal"
    } else {
        "kindred-portal"
    }
}

fn signin_cookie(state: &AppState) -> &'static str {
    if state.config.tls {
        "__Host-kindred-portal-signin"
    } else {
        "kindred-portal-signin"
    }
}

/// A family member signed in to the portal.
pub struct FamilyMember {
    pub session: PortalSession,
}

impl FamilyMember {
    fn subject(&self) -> PortalSubject {
        PortalSubject {
            family_id: self.session.family_id,
            person_id: self.session.person_id,
        }
    }
}

impl FromRequestParts<AppState> for FamilyMember {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(session_cookie(state)).map(|c| c.value().to_string()) else {
            return Err(Redirect::to("/portal/sign-in").into_response());
        };
        let key = sha256_hex(&token);
        let session = state
            .db
            .portal_session(&key)
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        let Some(session) = session else {
            return Err(Redirect::to("/portal/sign-in").into_response());
        };
        let now = kindred_store::now_ms();
        if crate::auth::session_expired(&state.config, session.created_at_ms, session.last_seen_ms, now) {
            let _ = state.db.delete_portal_session(&key).await;
            return Err(Redirect::to("/portal/sign-in").into_response());
        }
        if now - session.last_seen_ms > 60_000 {
            let _ = state.db.touch_portal_session(&key, now).await;
        }
        Ok(FamilyMember { session })
    }
}

/// Audits what a family member did in the portal. No staff user acts: the
/// event names the person by id only.
async fn audit(state: &AppState, m: &FamilyMember, action: AuditAction, route: &str) -> AppResult<()> {
    state
        .db
        .audit(NewEvent {
            tenant_id: Some(m.session.tenant_id),
            actor_user_id: None,
            action,
            record_kind: "portal",
            record_id: Some(m.session.person_id),
            family_id: Some(m.session.family_id),
            route: route.into(),
            detail: "family_member".into(),
        })
        .await?;
    Ok(())
}

fn layout(title: &str) -> Layout {
    Layout {
        service: "Your family plan",
        home: "/portal",
        ..Layout::anonymous(title)
    }
}

// ---------- signing in ----------

#[derive(Template)]
#[template(path = "portal_sign_in.html")]
struct SignInPage {
    l: Layout,
    csrf: String,
    code: String,
    errors: Errors,
    /// After asking for a code by email.
    sent: bool,
}

#[derive(Deserialize)]
pub struct SentQuery {
    sent: Option<String>,
}

pub async fn sign_in_form(
    State(state): State<AppState>,
    jar: CookieJar,
    axum::extract::Query(q): axum::extract::Query<SentQuery>,
) -> AppResult<Response> {
    let token = random_token();
    let jar = jar.add(cookie(&state.config, signin_cookie(&state), token.clone()));
    let page = SignInPage {
        l: layout("Sign in to your family plan"),
        csrf: token,
        code: String::new(),
        errors: Errors::default(),
        sent: q.sent.is_some(),
    };
    Ok((jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

fn check_signin_csrf(state: &AppState, jar: &CookieJar, csrf: &str) -> AppResult<String> {
    let expected = jar
        .get(signin_cookie(state))
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !tokens_match(csrf, &expected) {
        return Err(AppError::BadRequest(
            "This form has expired. Go back, reload the page and try again.",
        ));
    }
    Ok(expected)
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    crate::auth::PlainForm(form): crate::auth::PlainForm<CodeForm>,
) -> AppResult<Response> {
    let csrf = check_signin_csrf(&state, &jar, &form.csrf)?;
    if !super::self_referral::within_limit(&state, "portal-sign-in", addr, ATTEMPTS_PER_HOUR).await? {
        return Err(AppError::TooManyRequests);
    }
    let code = normalise_code(&form.code);
    let invite = if code.len() == 9 {
        state
            .db
            .redeem_portal_code(&code_hash(&code), kindred_store::now_ms())
            .await?
    } else {
        None
    };
    let Some(invite) = invite else {
        let mut errors = Errors::default();
        errors.add(
            "code",
            if form.code.trim().is_empty() {
                "Enter the code you were given or sent"
            } else {
                "That code is not right, or has been used or has expired. Check it, or ask for a new one"
            },
        );
        let page = SignInPage {
            l: layout("Error: Sign in to your family plan"),
            csrf,
            code: form.code,
            errors,
            sent: false,
        };
        return crate::errors::invalid(page);
    };
    let token = random_token();
    state
        .db
        .create_portal_session(&sha256_hex(&token), invite, &random_token())
        .await?;
    if let Some(session) = state.db.portal_session(&sha256_hex(&token)).await? {
        audit(
            &state,
            &FamilyMember { session },
            AuditAction::SignIn,
            "portal POST /portal/sign-in",
        )
        .await?;
    }
    let jar = jar.remove(Cookie::build(signin_cookie(&state)).path("/")).add(cookie(
        &state.config,
        session_cookie(&state),
        token,
    ));
    Ok((jar, Redirect::to("/portal")).into_response())
}

/// Sends a new code to an invited email address. The answer is the same
/// whether or not the address is known.
pub async fn email_code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    crate::auth::PlainForm(form): crate::auth::PlainForm<CodeForm>,
) -> AppResult<Response> {
    check_signin_csrf(&state, &jar, &form.csrf)?;
    if !super::self_referral::within_limit(&state, "portal-email", addr, ATTEMPTS_PER_HOUR).await? {
        return Err(AppError::TooManyRequests);
    }
    let email = form.email.trim().to_lowercase();
    if email.contains('@') {
        for invite in state.db.portal_invites_for_email(&email).await? {
            send_code(&state, invite, &email).await?;
        }
    }
    Ok(Redirect::to("/portal/sign-in?sent=1").into_response())
}

async fn send_code(state: &AppState, invite: i64, email: &str) -> AppResult<String> {
    let code = crate::passwords::issue_portal_code(&state.db, invite).await?;
    state
        .db
        .queue_email(
            email,
            "Your code for your family plan",
            &format!(
                "Your family hub has shared your family plan with you.\n\nGo to /portal/sign-in and enter this code: {code}\n\nIt works once, within 7 days. If you did not expect this email, you can ignore it."
            ),
        )
        .await?;
    Ok(code)
}

pub async fn sign_out(
    State(state): State<AppState>,
    m: FamilyMember,
    jar: CookieJar,
    crate::auth::PlainForm(form): crate::auth::PlainForm<CodeForm>,
) -> AppResult<Response> {
    if !tokens_match(&form.csrf, &m.session.csrf_token) {
        return Err(AppError::BadRequest(
            "This form has expired. Go back, reload the page and try again.",
        ));
    }
    if let Some(c) = jar.get(session_cookie(&state)) {
        state.db.delete_portal_session(&sha256_hex(c.value())).await?;
    }
    audit(&state, &m, AuditAction::SignOut, "portal POST /portal/sign-out").await?;
    let jar = jar.remove(Cookie::build(session_cookie(&state)).path("/"));
    Ok((jar, Redirect::to("/portal/sign-in")).into_response())
}

// ---------- the family's view ----------

struct TeamView {
    name: String,
    organisation: String,
    lead: bool,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    l: Layout,
    csrf: String,
    person_name: String,
    goals: Vec<GoalView>,
    team: Vec<TeamView>,
    statuses: &'static [ActionStatus],
    members: Vec<super::restricted::PortalMember>,
}

pub async fn home(State(state): State<AppState>, m: FamilyMember) -> AppResult<Response> {
    let subject = m.subject();
    let family = subject.family_id;
    let (goals, _, _) = plan_views(
        &state,
        m.session.tenant_id,
        family,
        |shared| {
            plan::portal_may_see(
                &subject,
                &PortalItem {
                    family_id: family,
                    shared_with_family: shared,
                },
            )
        },
        Some(subject.person_id),
    )
    .await?;
    let lead = state.db.family(family).await?.lead_user_id;
    let team = state
        .db
        .team(family)
        .await?
        .into_iter()
        .filter(|t| t.until_date.is_none())
        .map(|t| TeamView {
            lead: lead == Some(t.user_id),
            name: t.display_name,
            organisation: t.organisation_name,
        })
        .collect();
    audit(&state, &m, AuditAction::Read, "portal GET /portal").await?;
    let page = HomePage {
        l: layout("Your family plan"),
        csrf: m.session.csrf_token.clone(),
        person_name: m.session.person_name.clone(),
        goals,
        team,
        statuses: &plan::PORTAL_STATUSES,
        members: super::restricted::portal_members(&state, family, subject.person_id).await?,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ProgressForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    status: String,
}

/// A family member comments on an action they can see, and records progress
/// on one they own. Anything else is a 404, as for a record that does not exist.
pub async fn update_action(
    State(state): State<AppState>,
    m: FamilyMember,
    Ids(action): Ids<i64>,
    crate::auth::PlainForm(form): crate::auth::PlainForm<ProgressForm>,
) -> AppResult<Response> {
    if !tokens_match(&form.csrf, &m.session.csrf_token) {
        return Err(AppError::BadRequest(
            "This form has expired. Go back, reload the page and try again.",
        ));
    }
    let subject = m.subject();
    let p = state.db.plan_of_family(subject.family_id).await?;
    let found = p.goals.iter().find_map(|g| {
        g.actions
            .iter()
            .find(|a| a.id == action)
            .map(|a| (g.shared_with_family && a.shared_with_family, a))
    });
    let Some((shared, a)) = found else {
        return Err(AppError::NotFound);
    };
    let item = PortalItem {
        family_id: subject.family_id,
        shared_with_family: shared,
    };
    if !plan::portal_may_see(&subject, &item) {
        return Err(AppError::NotFound);
    }
    let comment = form.comment.trim();
    if comment.chars().count() > 2_000 {
        return Err(AppError::BadRequest("A comment must be 2,000 characters or fewer."));
    }
    let status = ActionStatus::parse(&form.status).filter(|s| plan::PORTAL_STATUSES.contains(s));
    let author = Author::Person(subject.person_id);
    match status {
        Some(s) if s != a.status && plan::portal_may_update_status(&subject, &item, a.owner) => {
            state
                .db
                .set_action_status(subject.family_id, action, s, author, comment, kindred_store::today())
                .await?;
        }
        _ if !comment.is_empty() => {
            state
                .db
                .add_plan_comment(subject.family_id, action, author, comment)
                .await?;
        }
        _ => {}
    }
    audit(&state, &m, AuditAction::Update, "portal POST /portal/actions/{id}").await?;
    Ok(Redirect::to(&format!("/portal#action-{action}")).into_response())
}

#[derive(Template)]
#[template(path = "portal_access.html")]
struct AccessPage {
    l: Layout,
    csrf: String,
    months: Vec<super::transparency::MonthGroup>,
    portal_uses: usize,
}

/// Who looked at the family's record and why, in the family's words,
/// month by month (`transparency::report`), without their own portal use.
pub async fn access(State(state): State<AppState>, m: FamilyMember) -> AppResult<Response> {
    audit(&state, &m, AuditAction::Read, "portal GET /portal/access").await?;
    let rows = state.db.family_audit_rows(m.session.family_id, 2000).await?;
    let (months, portal_uses) = super::transparency::report(&rows);
    let page = AccessPage {
        l: layout("Who has looked at your family's record"),
        csrf: m.session.csrf_token.clone(),
        months,
        portal_uses,
    };
    Ok(Html(page.render()?).into_response())
}

// ---------- the worker's side: invitations ----------

struct InviteView {
    id: i64,
    name: String,
    email: String,
    when: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "portal_invites.html")]
struct InvitesPage {
    l: Layout,
    id: i64,
    family_name: String,
    can_invite: bool,
    invites: Vec<InviteView>,
    /// (person id, name) of members who may be invited.
    people: Vec<(i64, String)>,
    person: String,
    email: String,
    errors: Errors,
    /// A code just made: (who for, the code).
    code: Option<(String, String)>,
    /// Why the user may see the family (for withholding restricted details).
    basis: kindred_domain::access::Basis,
}

/// Members who may use the portal: adults in the family, and young people of 16 or over.
async fn invitable(state: &AppState, id: i64) -> AppResult<Vec<(i64, String)>> {
    let today = kindred_store::today();
    Ok(state
        .db
        .members(id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .filter(|m| {
            let sixteen = m
                .person
                .date_of_birth
                .is_some_and(|d| d.replace_year(d.year() + 16).is_ok_and(|s| s <= today));
            !matches!(m.role, MemberRole::Child | MemberRole::Unborn | MemberRole::Sibling) || sixteen
        })
        .map(|m| (m.person.id, m.person.full_name()))
        .collect())
}

async fn invite_views(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    basis: kindred_domain::access::Basis,
) -> AppResult<Vec<InviteView>> {
    let invites = state.db.portal_invites(id).await?;
    let ids: Vec<i64> = invites.iter().map(|i| i.person_id).collect();
    // An invitation's email is a person's contact detail: a restricted person's is withheld.
    let shown = gate::contact_details_shown(state, cu, kindred_domain::access::Decision::Allow(basis), &ids).await?;
    Ok(invites
        .into_iter()
        .map(|i| InviteView {
            id: i.id,
            email: if shown.contains(&i.person_id) {
                i.email.unwrap_or_default()
            } else {
                gate::WITHHELD.to_string()
            },
            name: i.person_name,
            when: super::when(i.created_at_ms),
            active: i.revoked_at_ms.is_none(),
        })
        .collect())
}

async fn invites_page(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    action: FamilyAction,
    route: &str,
) -> AppResult<InvitesPage> {
    let (family, basis, facts) =
        gate::family_with_facts(state, cu, id, action, action == FamilyAction::Edit, route).await?;
    let invites = invite_views(state, cu, id, basis).await?;
    Ok(InvitesPage {
        l: Layout::new(format!("Family portal: {}", family.name), cu),
        id,
        family_name: family.name,
        can_invite: kindred_domain::access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed(),
        invites,
        people: invitable(state, id).await?,
        person: String::new(),
        email: String::new(),
        errors: Errors::default(),
        code: None,
        basis,
    })
}

pub async fn invites(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let page = invites_page(&state, &cu, id, FamilyAction::View, "web GET /families/{id}/portal").await?;
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    email: String,
}

pub async fn invite(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/portal";
    let mut page = invites_page(&state, &cu, id, FamilyAction::Edit, route).await?;
    let person = form
        .person
        .parse::<i64>()
        .ok()
        .and_then(|p| page.people.iter().find(|x| x.0 == p).cloned());
    let email = form.email.trim().to_lowercase();
    if person.is_none() {
        page.errors.add("person", "Select who in the family to invite");
    }
    if !email.is_empty() && (!email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace)) {
        page.errors.add(
            "email",
            "Enter an email address in the correct format, like name@example.com",
        );
    }
    let Some((person_id, name)) = person.filter(|_| page.errors.is_empty()) else {
        page.person = form.person;
        page.email = form.email;
        page.l.title = format!("Error: {}", page.l.title);
        return crate::errors::invalid(page);
    };
    let invite = state
        .db
        .create_portal_invite(
            cu.user.tenant_id,
            id,
            person_id,
            (!email.is_empty()).then_some(email.as_str()),
            cu.user.id,
        )
        .await?;
    let code = if email.is_empty() {
        crate::passwords::issue_portal_code(&state.db, invite).await?
    } else {
        send_code(&state, invite, &email).await?
    };
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::PortalInvite { id: invite, family: id },
        route,
        String::new(),
    )
    .await?;
    page.invites = invite_views(&state, &cu, id, page.basis).await?;
    page.code = Some((name, code));
    Ok(Html(page.render()?).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, invite)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/portal/{invite}/revoke";
    gate::change_family(&state, &cu, id, route).await?;
    if !state.db.revoke_portal_invite(id, invite).await? {
        return Err(AppError::NotFound);
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::PortalInvite { id: invite, family: id },
        route,
        "revoked".into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/portal")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwords::CODE_ALPHABET;

    #[test]
    fn codes_are_read_however_they_are_typed() {
        let c = crate::passwords::portal_code();
        assert_eq!(c.len(), 9);
        assert_eq!(normalise_code(&c.to_lowercase().replace('-', " ")), c);
        assert!(c.chars().all(|ch| ch == '-' || CODE_ALPHABET.contains(&(ch as u8))));
    }
}
