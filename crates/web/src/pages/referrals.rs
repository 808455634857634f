//! The front door for professionals: make a referral (people found by search
//! or new, needs, consent, urgency, contact details), follow it, and — for
//! triage roles — work it: claim, match people to records, build the family,
//! look at the 360° profile and decide, with a rationale, what happens next.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{ReferralAction, ReferralBasis};
use kindred_domain::audit::AuditAction;
use kindred_domain::model::{MemberRole, OrgKind, Role, Sex};
use kindred_domain::referral::{self, Level, NEEDS, Outcome, Route, Status, Urgency};
use kindred_domain::{NhsNumber, Postcode, dates};
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::referrals::{
    Consent, NewDecision, NewReferral, PersonAsGiven, QueueFilter, Referral, ReferralDetails, ReferralFamily, Referrer,
};
use kindred_store::search::SearchCriteria;
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser, Empty};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{Errors, PersonForm};
use crate::layout::Layout;

// ---------- shared views ----------

pub struct NeedView {
    pub code: &'static str,
    pub label: &'static str,
    pub outcome: &'static str,
    pub checked: bool,
}

fn need_views(selected: &[String]) -> Vec<NeedView> {
    NEEDS
        .iter()
        .map(|n| NeedView {
            code: n.code,
            label: n.label,
            outcome: n.outcome.label(),
            checked: selected.iter().any(|s| s == n.code),
        })
        .collect()
}

fn need_labels(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|c| {
            referral::need(c)
                .map(|n| n.label.to_string())
                .unwrap_or_else(|| c.clone())
        })
        .collect()
}

pub struct PersonLine {
    pub id: i64,
    pub person_id: Option<i64>,
    pub name: String,
    pub role: &'static str,
    pub born: String,
    pub nhs_number: String,
    pub postcode: String,
}

/// Of `person_ids`, the restricted persons whose address the reader may not
/// see (`access::contact_details` through any family of theirs).
async fn withheld_of(
    state: &AppState,
    cu: &CurrentUser,
    person_ids: &[i64],
) -> AppResult<std::collections::BTreeSet<i64>> {
    let facts = state.db.restriction_facts(person_ids).await?;
    let mut out = std::collections::BTreeSet::new();
    for id in person_ids {
        if facts.get(id).is_none_or(|f| f.restricted) && !gate::person_contact_shown(state, cu, *id).await? {
            out.insert(*id);
        }
    }
    Ok(out)
}

/// A referral's people as lines, with the postcode of a linked restricted
/// person the reader may not see withheld.
async fn shown_person_lines(
    state: &AppState,
    cu: &CurrentUser,
    people: &[kindred_store::referrals::ReferralPerson],
) -> AppResult<Vec<PersonLine>> {
    let linked: Vec<i64> = people.iter().filter_map(|p| p.person_id).collect();
    let withheld = withheld_of(state, cu, &linked).await?;
    let mut lines = person_lines(people);
    for l in &mut lines {
        if l.person_id.is_some_and(|p| withheld.contains(&p)) {
            l.postcode = gate::WITHHELD.to_string();
        }
    }
    Ok(lines)
}

fn person_lines(people: &[kindred_store::referrals::ReferralPerson]) -> Vec<PersonLine> {
    people
        .iter()
        .map(|p| PersonLine {
            id: p.id,
            person_id: p.person_id,
            name: p.details.full_name(),
            role: p.role.label(),
            born: match (p.details.date_of_birth, p.details.expected_delivery) {
                (Some(d), _) => dates::long(d),
                (None, Some(e)) => format!("Due {}", dates::long(e)),
                _ => "Not given".into(),
            },
            nhs_number: p
                .details
                .nhs_number
                .as_deref()
                .and_then(|n| NhsNumber::parse(n).ok())
                .map(|n| n.to_string())
                .unwrap_or_default(),
            postcode: p.details.postcode.clone().unwrap_or_default(),
        })
        .collect()
}

fn status_tag(r: &Referral, now_ms: i64) -> (&'static str, &'static str) {
    match r.status {
        Status::Draft => ("Not sent", "govuk-tag--grey"),
        Status::Decided => ("Decided", "govuk-tag--green"),
        Status::Open if r.due_at_ms < now_ms => ("Overdue", "govuk-tag--red"),
        Status::Open => ("Awaiting triage", "govuk-tag--blue"),
    }
}

/// "in 5 hours", "3 hours overdue".
pub fn due_phrase(due_ms: i64, now_ms: i64) -> String {
    let mins = (due_ms - now_ms) / 60_000;
    let span = |m: i64| {
        let m = m.abs();
        if m >= 48 * 60 {
            format!("{} days", m / (24 * 60))
        } else if m >= 60 {
            format!("{} hour{}", m / 60, if m / 60 == 1 { "" } else { "s" })
        } else {
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
    };
    if mins >= 0 {
        format!("in {}", span(mins))
    } else {
        format!("{} overdue", span(mins))
    }
}

fn consent_line(c: &Consent) -> String {
    if c.given {
        format!(
            "Given by {}{}; scope: {}",
            c.by,
            c.on.map(|d| format!(" on {}", dates::long(d))).unwrap_or_default(),
            c.scope
        )
    } else {
        "Not given".into()
    }
}

// ---------- your referrals ----------

struct SentView {
    id: i64,
    reference: String,
    received: String,
    status: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct SentPage {
    l: Layout,
    referrals: Vec<SentView>,
    can_step_down: bool,
}

pub async fn mine(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    if !kindred_domain::access::make_referral(&cu.user.subject()) {
        return Err(AppError::NotFound);
    }
    let rows = state.db.referrals_sent_by(cu.user.id, 200).await?;
    let referrals = rows
        .into_iter()
        .map(|r| SentView {
            id: r.id,
            reference: r.reference,
            received: if r.status == "draft" {
                "Not sent".into()
            } else {
                super::when(r.received_at_ms)
            },
            status: Status::parse(&r.status).map(|s| s.label()).unwrap_or("").to_string(),
            outcome: r
                .outcome
                .as_deref()
                .and_then(Outcome::parse)
                .map(|o| o.label().to_string())
                .unwrap_or_default(),
        })
        .collect();
    let org = state.db.organisation(cu.user.organisation_id).await?;
    let page = SentPage {
        l: Layout::new("Your referrals", &cu),
        referrals,
        can_step_down: org.kind == OrgKind::ChildrensSocialCare,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    family_id: String,
    route: String,
}

/// Starts a draft referral; from a family page, its current members come too.
pub async fn start(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<StartForm>,
) -> AppResult<Response> {
    if !kindred_domain::access::make_referral(&cu.user.subject()) {
        return Err(AppError::NotFound);
    }
    let org = state.db.organisation(cu.user.organisation_id).await?;
    let route = if f.route == Route::StepDown.code() && org.kind == OrgKind::ChildrensSocialCare {
        Route::StepDown
    } else {
        Route::Professional
    };
    let family_id = match f.family_id.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let mut members = vec![];
    if let Some(fid) = family_id {
        gate::family(
            &state,
            &cu,
            fid,
            kindred_domain::access::FamilyAction::View,
            false,
            "web POST /referrals",
        )
        .await?;
        members = state.db.members(fid).await?;
    }
    let r = state
        .db
        .create_referral(&NewReferral {
            tenant_id: cu.user.tenant_id,
            route,
            referrer_user_id: Some(cu.user.id),
            referrer_organisation_id: Some(cu.user.organisation_id),
            referrer: Referrer {
                name: cu.user.display_name.clone(),
                role: cu.user.profession.label().to_string(),
                phone: String::new(),
                email: cu.user.email.clone(),
            },
            family_id,
            reference: new_reference(),
        })
        .await?;
    let member_ids: Vec<i64> = members.iter().map(|m| m.person.id).collect();
    let addresses = state.db.current_addresses(&member_ids).await?;
    // A restricted person's address never travels into a referral: triage may not see it.
    let restriction = state.db.restriction_facts(&member_ids).await?;
    for m in members.iter().filter(|m| m.left_on.is_none()) {
        let restricted = restriction.get(&m.person.id).is_none_or(|f| f.restricted);
        let d = as_given(&m.person, addresses.get(&m.person.id).filter(|_| !restricted));
        state
            .db
            .add_referral_person(r.id, Some(m.person.id), m.role, &d)
            .await?;
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::Referral {
            id: r.id,
            family: r.family_id,
        },
        "web POST /referrals",
        route.code().into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/referrals/{}/edit", r.id)).into_response())
}

fn new_reference() -> String {
    use rand::Rng;
    referral::reference(rand::thread_rng().r#gen::<u64>() & 0xFF_FFFF_FFFF)
}

fn as_given(p: &kindred_store::persons::Person, a: Option<&kindred_store::persons::Address>) -> PersonAsGiven {
    PersonAsGiven {
        given_name: p.given_name.clone(),
        family_name: p.family_name.clone(),
        date_of_birth: p.date_of_birth,
        expected_delivery: p.expected_delivery,
        sex: Some(p.sex.code().to_string()),
        nhs_number: p.nhs_number.map(|n| n.as_digits()),
        postcode: a.map(|a| a.postcode.clone()),
        address_line: a.map(|a| a.line1.clone()),
    }
}

// ---------- the draft ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DetailsForm {
    pub urgency: String,
    pub summary: String,
    pub family_aware: String,
    pub consent_given: String,
    pub consent_by: String,
    pub consent_day: String,
    pub consent_month: String,
    pub consent_year: String,
    pub consent_scope: String,
    pub referrer_phone: String,
    pub referrer_email: String,
    pub referrer_role: String,
    pub step_down: String,
    pub needs: Vec<String>,
}

impl DetailsForm {
    fn from_pairs(pairs: &[(String, String)]) -> DetailsForm {
        let mut f = DetailsForm::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "urgency" => f.urgency = v,
                "summary" => f.summary = v,
                "family_aware" => f.family_aware = v,
                "consent_given" => f.consent_given = v,
                "consent_by" => f.consent_by = v,
                "consent_on_day" => f.consent_day = v,
                "consent_on_month" => f.consent_month = v,
                "consent_on_year" => f.consent_year = v,
                "consent_scope" => f.consent_scope = v,
                "referrer_phone" => f.referrer_phone = v,
                "referrer_email" => f.referrer_email = v,
                "referrer_role" => f.referrer_role = v,
                "step_down" => f.step_down = v,
                "need" if referral::need(&v).is_some() => f.needs.push(v),
                _ => {}
            }
        }
        f
    }

    fn from_referral(r: &Referral) -> DetailsForm {
        let (consent_day, consent_month, consent_year) = r
            .consent
            .on
            .map(|d| (d.day().to_string(), (d.month() as u8).to_string(), d.year().to_string()))
            .unwrap_or_default();
        let yes_no = |b: bool, known: bool| match (known, b) {
            (false, _) => String::new(),
            (true, true) => "yes".into(),
            (true, false) => "no".into(),
        };
        let touched = !r.summary.is_empty();
        DetailsForm {
            urgency: if touched {
                r.urgency.code().into()
            } else {
                String::new()
            },
            summary: r.summary.clone(),
            family_aware: yes_no(r.family_aware, touched),
            consent_given: yes_no(r.consent.given, touched),
            consent_by: r.consent.by.clone(),
            consent_day,
            consent_month,
            consent_year,
            consent_scope: r.consent.scope.clone(),
            referrer_phone: r.referrer.phone.clone(),
            referrer_email: r.referrer.email.clone(),
            referrer_role: r.referrer.role.clone(),
            step_down: if r.route == Route::StepDown {
                "yes".into()
            } else {
                String::new()
            },
            needs: r.needs.clone(),
        }
    }

    /// Parses what can be saved at any time; `sending` adds the checks a sent referral must pass.
    fn parse(
        &self,
        r: &Referral,
        can_step_down: bool,
        sending: bool,
        today: time::Date,
        errors: &mut Errors,
    ) -> ReferralDetails {
        let summary = self.summary.trim().to_string();
        if summary.chars().count() > 5000 {
            errors.add("summary", "Reason for referral must be 5,000 characters or fewer");
        }
        let urgency = Urgency::parse(&self.urgency);
        let consent_given = self.consent_given == "yes";
        let mut consent_on = None;
        if consent_given {
            match dates::parse_date_parts(&self.consent_day, &self.consent_month, &self.consent_year) {
                Ok(d) if d > today => errors.add("consent_on", "Date consent was given must be today or in the past"),
                Ok(d) => consent_on = Some(d),
                Err(e)
                    if sending
                        || ![&self.consent_day, &self.consent_month, &self.consent_year]
                            .iter()
                            .all(|s| s.trim().is_empty()) =>
                {
                    errors.add("consent_on", format!("Date consent was given {e}"))
                }
                Err(_) => {}
            }
        }
        let email = self.referrer_email.trim();
        if !email.is_empty() && (!email.contains('@') || email.len() > 254 || email.contains(' ')) {
            errors.add(
                "referrer_email",
                "Enter an email address in the correct format, like name@example.com",
            );
        }
        let phone = self.referrer_phone.trim();
        if !phone.is_empty() && phone.chars().filter(|c| c.is_ascii_digit()).count() < 10 {
            errors.add("referrer_phone", "Enter a telephone number, like 020 7946 0000");
        }
        if sending {
            if self.needs.is_empty() {
                errors.add("needs", "Select at least one reason for the referral");
            }
            if summary.is_empty() {
                errors.add(
                    "summary",
                    "Enter what is happening for the family and what help is needed",
                );
            }
            if urgency.is_none() {
                errors.add("urgency", "Select how urgent this is");
            }
            if self.family_aware != "yes" && self.family_aware != "no" {
                errors.add("family_aware", "Select whether the family knows about this referral");
            }
            if self.consent_given != "yes" && self.consent_given != "no" {
                errors.add(
                    "consent_given",
                    "Select whether the family has given consent to share information",
                );
            }
            if consent_given {
                if self.consent_by.trim().is_empty() {
                    errors.add("consent_by", "Enter who gave consent");
                }
                if self.consent_scope.trim().is_empty() {
                    errors.add(
                        "consent_scope",
                        "Enter who the family agreed information can be shared with",
                    );
                }
            }
            if phone.is_empty() && email.is_empty() {
                errors.add(
                    "referrer_phone",
                    "Enter a telephone number or email address so triage can contact you",
                );
            }
        }
        // Only children's social care steps a family down.
        let route = if self.step_down == "yes" && can_step_down && r.route != Route::SelfReferral {
            Route::StepDown
        } else {
            Route::Professional
        };
        ReferralDetails {
            route: Some(route),
            urgency,
            summary,
            family_aware: self.family_aware == "yes",
            consent: Consent {
                given: consent_given,
                by: self.consent_by.trim().to_string(),
                on: consent_on,
                scope: self.consent_scope.trim().to_string(),
            },
            referrer: Referrer {
                name: r.referrer.name.clone(),
                role: self.referrer_role.trim().to_string(),
                phone: phone.to_string(),
                email: email.to_string(),
            },
            needs: self.needs.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FindForm {
    pub name: String,
    // The page's date input is `m::date("find_dob", …)`.
    #[serde(rename = "find_dob_day")]
    pub dob_day: String,
    #[serde(rename = "find_dob_month")]
    pub dob_month: String,
    #[serde(rename = "find_dob_year")]
    pub dob_year: String,
}

struct FoundView {
    person_id: i64,
    name: String,
    born: String,
    postcode: String,
    families: String,
}

#[derive(Template)]
#[template(path = "referral_draft.html")]
struct DraftPage {
    l: Layout,
    r: Referral,
    people: Vec<PersonLine>,
    form: DetailsForm,
    needs: Vec<NeedView>,
    errors: Errors,
    find: FindForm,
    found: Option<Vec<FoundView>>,
    person: PersonForm,
    person_errors: Errors,
    role: String,
    roles: &'static [MemberRole],
    sexes: &'static [Sex],
    postcode: String,
    can_step_down: bool,
}

impl DraftPage {
    async fn new(state: &AppState, cu: &CurrentUser, r: Referral) -> AppResult<DraftPage> {
        let people = shown_person_lines(state, cu, &state.db.referral_people(r.id).await?).await?;
        let org = state.db.organisation(cu.user.organisation_id).await?;
        let form = DetailsForm::from_referral(&r);
        Ok(DraftPage {
            l: Layout::new(format!("Referral {}", r.reference), cu),
            needs: need_views(&form.needs),
            form,
            people,
            errors: Errors::default(),
            find: FindForm::default(),
            found: None,
            person: PersonForm::default(),
            person_errors: Errors::default(),
            role: MemberRole::Child.code().into(),
            roles: MemberRole::ALL,
            sexes: Sex::ALL,
            postcode: String::new(),
            can_step_down: org.kind == OrgKind::ChildrensSocialCare,
            r,
        })
    }
}

async fn draft(state: &AppState, cu: &CurrentUser, id: i64, route: &str) -> AppResult<Referral> {
    let (r, _) = gate::referral(state, cu, id, ReferralAction::EditDraft, true, route).await?;
    Ok(r)
}

pub async fn edit(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let r = state.db.referral(id).await?.ok_or(AppError::NotFound)?;
    if r.status != Status::Draft {
        return Ok(Redirect::to(&format!("/referrals/{id}")).into_response());
    }
    let (r, _) = gate::referral(
        &state,
        &cu,
        id,
        ReferralAction::EditDraft,
        false,
        "web GET /referrals/{id}/edit",
    )
    .await?;
    let page = DraftPage::new(&state, &cu, r).await?;
    Ok(Html(page.render()?).into_response())
}

/// Saves the details, and with `action=send` checks everything and sends the referral to triage.
pub async fn save(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let r = draft(&state, &cu, id, "web POST /referrals/{id}/edit").await?;
    let form = DetailsForm::from_pairs(&pairs);
    let sending = pairs.iter().any(|(k, v)| k == "action" && v == "send");
    let today = kindred_store::today();
    let mut errors = Errors::default();
    let can_step_down = state.db.organisation(cu.user.organisation_id).await?.kind == OrgKind::ChildrensSocialCare;
    let details = form.parse(&r, can_step_down, sending, today, &mut errors);
    let people = state.db.referral_people(id).await?;
    if sending && people.is_empty() {
        errors.add("people", "Add at least one person the referral is about");
    }
    if !errors.is_empty() {
        // Keep what can be kept, so nothing typed is lost on the way back.
        if !sending {
            return crate::errors::invalid(DraftPage {
                errors,
                needs: need_views(&form.needs),
                form,
                ..DraftPage::new(&state, &cu, r).await?
            });
        }
        let mut partial = Errors::default();
        let keep = form.parse(&r, can_step_down, false, today, &mut partial);
        if partial.is_empty() {
            state.db.update_referral_details(id, &keep).await?;
        }
        let r = state.db.referral(id).await?.ok_or(AppError::NotFound)?;
        return crate::errors::invalid(DraftPage {
            errors,
            needs: need_views(&form.needs),
            form,
            ..DraftPage::new(&state, &cu, r).await?
        });
    }
    state.db.update_referral_details(id, &details).await?;
    if !sending {
        return Ok(Redirect::to(&format!("/referrals/{id}/edit")).into_response());
    }
    let hub = hub_for_people(&state, r.tenant_id, &people).await?;
    state.db.submit_referral(id, Some(cu.user.id), hub).await?;
    Ok(Redirect::to(&format!("/referrals/{id}?sent=1")).into_response())
}

/// The hub whose reach covers the first person with a postcode.
async fn hub_for_people(
    state: &AppState,
    tenant_id: i64,
    people: &[kindred_store::referrals::ReferralPerson],
) -> AppResult<Option<i64>> {
    for p in people {
        if let Some(pc) = p.details.postcode.as_deref().and_then(|s| Postcode::parse(s).ok())
            && let Some(h) = state.db.hub_site_for(tenant_id, &pc).await?
        {
            return Ok(Some(h.id));
        }
    }
    Ok(None)
}

/// Finds people already known to the referrer, to add them by record.
pub async fn find_person(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(find): CsrfForm<FindForm>,
) -> AppResult<Response> {
    let r = draft(&state, &cu, id, "web POST /referrals/{id}/people/find").await?;
    let mut errors = Errors::default();
    let dob = if [&find.dob_day, &find.dob_month, &find.dob_year]
        .iter()
        .all(|s| s.trim().is_empty())
    {
        None
    } else {
        match dates::parse_date_parts(&find.dob_day, &find.dob_month, &find.dob_year) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.add("find_dob", format!("Date of birth {e}"));
                None
            }
        }
    };
    let criteria = SearchCriteria {
        name: Some(find.name.trim().to_string()).filter(|s| !s.is_empty()),
        date_of_birth: dob,
        ..Default::default()
    };
    if errors.is_empty() && criteria.is_empty() {
        errors.add("find_name", "Enter a name or a date of birth to search for");
    }
    let mut found = vec![];
    if errors.is_empty() {
        let hits = state.db.search_persons(&cu.user.subject(), &criteria, 20).await?;
        let today = kindred_store::today();
        let screened = gate::screen_hits(
            &state.db,
            &cu,
            &hits
                .iter()
                .map(|h| (h.person.id, h.families.iter().map(|f| f.0).collect()))
                .collect::<Vec<_>>(),
        )
        .await?;
        for h in hits {
            if !h.families.iter().any(|f| screened.visible.contains(&f.0)) {
                continue;
            }
            found.push(FoundView {
                person_id: h.person.id,
                name: h.person.full_name(),
                born: super::born(&h.person, today),
                postcode: if screened.contact_shown.contains(&h.person.id) {
                    h.postcode.unwrap_or_default()
                } else {
                    gate::WITHHELD.to_string()
                },
                families: h.families.iter().map(|f| f.1.clone()).collect::<Vec<_>>().join(", "),
            });
        }
        gate::audit(
            &state,
            &cu,
            AuditAction::Search,
            Record::Search,
            "web POST /referrals/{id}/people/find",
            format!("fields={} results={}", criteria.fields(), found.len()),
        )
        .await?;
    }
    let page = DraftPage {
        find,
        found: Some(found),
        person_errors: errors,
        ..DraftPage::new(&state, &cu, r).await?
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KnownForm {
    person_id: i64,
    role: String,
}

pub async fn add_known(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<KnownForm>,
) -> AppResult<Response> {
    let r = draft(&state, &cu, id, "web POST /referrals/{id}/people/known").await?;
    let (person, _) = gate::person(
        &state,
        &cu,
        f.person_id,
        kindred_domain::access::FamilyAction::View,
        false,
        "web POST /referrals/{id}/people/known",
    )
    .await?;
    let role = MemberRole::parse(&f.role).unwrap_or(MemberRole::Child);
    let addresses = state.db.current_addresses(&[person.id]).await?;
    let restricted = state
        .db
        .restriction_facts(&[person.id])
        .await?
        .get(&person.id)
        .is_none_or(|f| f.restricted);
    let d = as_given(&person, addresses.get(&person.id).filter(|_| !restricted));
    if !state
        .db
        .referral_people(r.id)
        .await?
        .iter()
        .any(|p| p.person_id == Some(person.id))
    {
        state.db.add_referral_person(r.id, Some(person.id), role, &d).await?;
    }
    Ok(Redirect::to(&format!("/referrals/{id}/edit#people")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewPersonForm {
    #[serde(flatten)]
    person: PersonForm,
    role: String,
    postcode: String,
}

pub async fn add_new(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<NewPersonForm>,
) -> AppResult<Response> {
    let r = draft(&state, &cu, id, "web POST /referrals/{id}/people").await?;
    let mut errors = Errors::default();
    let details = f.person.parse(kindred_store::today(), &mut errors);
    let role = MemberRole::parse(&f.role);
    if role.is_none() {
        errors.add("role", "Select their role in the family");
    }
    let postcode = if f.postcode.trim().is_empty() {
        None
    } else {
        match Postcode::parse(&f.postcode) {
            Ok(p) => Some(p.to_string()),
            Err(e) => {
                errors.add("postcode", e.to_string());
                None
            }
        }
    };
    let (Some(d), Some(role)) = (details, role) else {
        return crate::errors::invalid(DraftPage {
            person: f.person,
            person_errors: errors,
            role: f.role,
            postcode: f.postcode,
            ..DraftPage::new(&state, &cu, r).await?
        });
    };
    if !errors.is_empty() {
        return crate::errors::invalid(DraftPage {
            person: f.person,
            person_errors: errors,
            role: f.role,
            postcode: f.postcode,
            ..DraftPage::new(&state, &cu, r).await?
        });
    }
    let given = PersonAsGiven {
        given_name: d.given_name,
        family_name: d.family_name,
        date_of_birth: d.date_of_birth,
        expected_delivery: d.expected_delivery,
        sex: Some(d.sex.code().into()),
        nhs_number: d.nhs_number.map(|n| n.as_digits()),
        postcode,
        address_line: None,
    };
    state.db.add_referral_person(r.id, None, role, &given).await?;
    Ok(Redirect::to(&format!("/referrals/{id}/edit#people")).into_response())
}

pub async fn remove_person(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, rp)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let r = draft(&state, &cu, id, "web POST /referrals/{id}/people/{rp}/remove").await?;
    state.db.remove_referral_person(r.id, rp).await?;
    Ok(Redirect::to(&format!("/referrals/{id}/edit#people")).into_response())
}

// ---------- the referral page ----------

struct CandidateView {
    person_id: i64,
    name: String,
    born: String,
    nhs_number: String,
    postcode: String,
    families: String,
    reasons: String,
    strength: &'static str,
}

struct PeopleMatch {
    line: PersonLine,
    candidates: Vec<CandidateView>,
    linked_name: String,
}

struct EventView {
    when: String,
    who: String,
    what: String,
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    l: Layout,
    r: Referral,
    sent: bool,
    /// Full details (the referrer or triage); otherwise status only.
    details: bool,
    triage: bool,
    can_decide: bool,
    status: (&'static str, &'static str),
    received: String,
    due: String,
    due_phrase: String,
    needs: Vec<String>,
    consent: String,
    people: Vec<PeopleMatch>,
    events: Vec<EventView>,
    all_resolved: bool,
    family_options: Vec<(i64, String)>,
    family_name: String,
    triage_users: Vec<(i64, String)>,
    decision_outcome: String,
    decision_level: String,
    decided: String,
    meetings: Vec<(i64, String)>,
    me: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SentQuery {
    sent: Option<u8>,
}

pub async fn show(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    Query(q): Query<SentQuery>,
) -> AppResult<Response> {
    let r0 = state.db.referral(id).await?.ok_or(AppError::NotFound)?;
    let subject = cu.user.subject();
    let facts = gate::referral_facts(&r0);
    let details = kindred_domain::access::referral(&subject, &facts, ReferralAction::ViewDetails).is_some();
    let action = if details {
        ReferralAction::ViewDetails
    } else {
        ReferralAction::ViewStatus
    };
    let (r, basis) = gate::referral(&state, &cu, id, action, false, "web GET /referrals/{id}").await?;
    if r.status == Status::Draft {
        return Ok(Redirect::to(&format!("/referrals/{id}/edit")).into_response());
    }
    let triage = basis == ReferralBasis::TriageRole;
    let can_decide = kindred_domain::access::referral(&subject, &facts, ReferralAction::Triage).is_some();
    let now = kindred_store::now_ms();
    let today = kindred_store::today();
    let mut people = vec![];
    let mut family_options: BTreeMap<i64, String> = BTreeMap::new();
    let mut all_resolved = true;
    if details {
        let rows = state.db.referral_people(id).await?;
        let lines = shown_person_lines(&state, &cu, &rows).await?;
        let mut searched = 0;
        for (row, line) in rows.iter().zip(lines) {
            let mut candidates = vec![];
            let mut linked_name = String::new();
            if let Some(pid) = row.person_id {
                if triage {
                    let p = state.db.person(pid).await?;
                    linked_name = p.full_name();
                    for f in state.db.current_families_of_person(pid).await? {
                        family_options.insert(f.0, f.1);
                    }
                }
            } else {
                all_resolved = false;
                if can_decide {
                    searched += 1;
                    let found = state.db.match_candidates(r.tenant_id, &row.details, 5).await?;
                    let withheld =
                        withheld_of(&state, &cu, &found.iter().map(|c| c.person.id).collect::<Vec<_>>()).await?;
                    for c in found {
                        let withhold = withheld.contains(&c.person.id);
                        candidates.push(CandidateView {
                            person_id: c.person.id,
                            name: c.person.full_name(),
                            born: super::born(&c.person, today),
                            nhs_number: c.person.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
                            postcode: if withhold {
                                gate::WITHHELD.to_string()
                            } else {
                                c.postcode.unwrap_or_default()
                            },
                            families: c.families.iter().map(|f| f.1.clone()).collect::<Vec<_>>().join(", "),
                            reasons: c.reasons.join("; "),
                            strength: if c.score >= 10.0 {
                                "Strong"
                            } else if c.score >= 7.0 {
                                "Likely"
                            } else {
                                "Possible"
                            },
                        });
                    }
                }
            }
            people.push(PeopleMatch {
                line,
                candidates,
                linked_name,
            });
        }
        if searched > 0 {
            gate::audit(
                &state,
                &cu,
                AuditAction::Search,
                Record::Search,
                "web GET /referrals/{id}",
                format!("possible_matches people={searched}"),
            )
            .await?;
        }
    }
    let family_name = match r.family_id {
        Some(f) if details => state.db.family(f).await?.name,
        _ => String::new(),
    };
    let events = if details {
        state
            .db
            .referral_events(id)
            .await?
            .into_iter()
            .map(|e| EventView {
                when: super::when(e.at_ms),
                who: e.user_name.unwrap_or_default(),
                what: event_label(&e.kind, &e.detail),
            })
            .collect()
    } else {
        vec![]
    };
    let triage_users = if can_decide {
        state
            .db
            .users(r.tenant_id)
            .await?
            .into_iter()
            .filter(|u| u.active && u.has(Role::Triage))
            .map(|u| (u.id, u.display_name))
            .collect()
    } else {
        vec![]
    };
    let meetings = if can_decide && r.family_id.is_some() {
        state
            .db
            .meetings(r.tenant_id, 20)
            .await?
            .into_iter()
            .filter(|m| m.meets_on >= today)
            .map(|m| (m.id, format!("{} — {}", m.title, dates::long(m.meets_on))))
            .collect()
    } else {
        vec![]
    };
    let page = ReferralPage {
        l: Layout::new(format!("Referral {}", r.reference), &cu),
        sent: q.sent.is_some(),
        details,
        triage,
        can_decide,
        status: status_tag(&r, now),
        received: super::when(r.received_at_ms),
        due: super::when(r.due_at_ms),
        due_phrase: due_phrase(r.due_at_ms, now),
        needs: need_labels(&r.needs),
        consent: consent_line(&r.consent),
        people,
        events,
        all_resolved,
        family_options: family_options.into_iter().collect(),
        family_name,
        triage_users,
        decision_outcome: r
            .decision
            .as_ref()
            .map(|d| d.outcome.label().to_string())
            .unwrap_or_default(),
        decision_level: r
            .decision
            .as_ref()
            .map(|d| d.level.label().to_string())
            .unwrap_or_default(),
        decided: r.decision.as_ref().map(|d| super::when(d.at_ms)).unwrap_or_default(),
        meetings,
        me: cu.user.id,
        r,
    };
    Ok(Html(page.render()?).into_response())
}

fn event_label(kind: &str, detail: &str) -> String {
    match kind {
        "received" => format!("Received: {detail}"),
        "claimed" => format!("Claimed by {detail}"),
        "released" => "Released back to the queue".into(),
        "assigned" => format!("Assigned to {detail}"),
        "linked" => format!("Person matched to an existing record: {detail}"),
        "created_person" => format!("New person record created: {detail}"),
        "family" => format!("Family record: {detail}"),
        "decided" => format!("Decided: {detail}"),
        "panel" => format!("Added to panel: {detail}"),
        other => format!("{other}: {detail}"),
    }
}

async fn triage_referral(state: &AppState, cu: &CurrentUser, id: i64, route: &str) -> AppResult<Referral> {
    let (r, _) = gate::referral(state, cu, id, ReferralAction::Triage, true, route).await?;
    Ok(r)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClaimForm {
    user_id: Option<i64>,
    release: String,
}

/// Claim (for yourself), assign (to another triage officer) or release.
pub async fn claim(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ClaimForm>,
) -> AppResult<Response> {
    let r = triage_referral(&state, &cu, id, "web POST /referrals/{id}/claim").await?;
    if f.release == "yes" {
        state.db.claim_referral(r.id, None).await?;
        state
            .db
            .add_referral_event(r.id, Some(cu.user.id), "released", "")
            .await?;
        return Ok(Redirect::to(&format!("/referrals/{id}")).into_response());
    }
    let to = f.user_id.unwrap_or(cu.user.id);
    let user = state.db.user(to).await.map_err(|_| AppError::NotFound)?;
    if user.tenant_id != cu.user.tenant_id || !user.active || !user.has(Role::Triage) {
        return Err(AppError::BadRequest("Choose a triage officer from the list."));
    }
    state.db.claim_referral(r.id, Some(to)).await?;
    let kind = if to == cu.user.id { "claimed" } else { "assigned" };
    state
        .db
        .add_referral_event(r.id, Some(cu.user.id), kind, &user.display_name)
        .await?;
    if to != cu.user.id {
        state
            .db
            .notify(
                to,
                Some(r.id),
                &format!("Referral {} was assigned to you for triage.", r.reference),
            )
            .await?;
    }
    Ok(Redirect::to(&format!("/referrals/{id}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    person_id: i64,
}

/// Links a person the referral describes to an existing record.
pub async fn link(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, rp)): Ids<(i64, i64)>,
    CsrfForm(f): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let r = triage_referral(&state, &cu, id, "web POST /referrals/{id}/people/{rp}/link").await?;
    let row = state
        .db
        .referral_people(r.id)
        .await?
        .into_iter()
        .find(|p| p.id == rp)
        .ok_or(AppError::NotFound)?;
    let person = state.db.person(f.person_id).await.map_err(|_| AppError::NotFound)?;
    if person.tenant_id != r.tenant_id {
        return Err(AppError::NotFound);
    }
    state.db.link_referral_person(row.id, person.id).await?;
    state
        .db
        .add_referral_event(r.id, Some(cu.user.id), "linked", &format!("record {}", person.id))
        .await?;
    Ok(Redirect::to(&format!("/referrals/{id}#people")).into_response())
}

/// Creates a new person record from what the referral says about them.
pub async fn create_person(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, rp)): Ids<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let r = triage_referral(&state, &cu, id, "web POST /referrals/{id}/people/{rp}/create").await?;
    let row = state
        .db
        .referral_people(r.id)
        .await?
        .into_iter()
        .find(|p| p.id == rp && p.person_id.is_none())
        .ok_or(AppError::NotFound)?;
    let d = &row.details;
    let details = PersonDetails {
        given_name: d.given_name.clone(),
        family_name: d.family_name.clone(),
        preferred_name: None,
        date_of_birth: d.date_of_birth,
        expected_delivery: d.expected_delivery,
        sex: d.sex.as_deref().and_then(Sex::parse).unwrap_or(Sex::Unknown),
        nhs_number: d.nhs_number.as_deref().and_then(|n| NhsNumber::parse(n).ok()),
        upn: None,
        language: None,
        interpreter_needed: false,
        send: false,
    };
    let person = state.db.create_person(r.tenant_id, &details).await?;
    if let (Some(pc), Some(line)) = (
        d.postcode.as_deref().and_then(|p| Postcode::parse(p).ok()),
        d.address_line.as_deref().filter(|l| !l.trim().is_empty()),
    ) {
        state
            .db
            .move_person(
                person.id,
                &NewAddress {
                    line1: line.to_string(),
                    line2: None,
                    town: String::new(),
                    postcode: pc,
                    from_date: kindred_store::today(),
                },
            )
            .await?;
    }
    state.db.link_referral_person(row.id, person.id).await?;
    state
        .db
        .add_referral_event(
            r.id,
            Some(cu.user.id),
            "created_person",
            &format!("record {}", person.id),
        )
        .await?;
    Ok(Redirect::to(&format!("/referrals/{id}#people")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FamilyChoice {
    family: String,
}

/// Puts the referral's (resolved) people into a family record: one of their
/// current families, or a new one.
pub async fn attach_family(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<FamilyChoice>,
) -> AppResult<Response> {
    let r = triage_referral(&state, &cu, id, "web POST /referrals/{id}/family").await?;
    let people = state.db.referral_people(r.id).await?;
    if people.iter().any(|p| p.person_id.is_none()) || people.is_empty() {
        return Err(AppError::BadRequest(
            "Match or create a record for every person before choosing the family.",
        ));
    }
    let mut options = BTreeMap::new();
    for p in &people {
        for fam in state
            .db
            .current_families_of_person(p.person_id.unwrap_or_default())
            .await?
        {
            options.insert(fam.0, fam.1);
        }
    }
    let today = kindred_store::today();
    let new_name;
    let target = if f.family == "new" {
        let surname = people
            .iter()
            .find(|p| matches!(p.role, MemberRole::Parent | MemberRole::Carer))
            .or(people.first())
            .map(|p| p.details.family_name.clone())
            .unwrap_or_default();
        new_name = format!("{surname} family");
        ReferralFamily::New(&new_name)
    } else {
        let fid: i64 = f.family.parse().map_err(|_| AppError::NotFound)?;
        if !options.contains_key(&fid) {
            return Err(AppError::NotFound);
        }
        ReferralFamily::Existing(fid)
    };
    let members: Vec<(i64, MemberRole)> = people
        .iter()
        .map(|p| (p.person_id.unwrap_or_default(), p.role))
        .collect();
    state
        .db
        .attach_referral_family(
            r.id,
            target,
            &members,
            today,
            &cu.actor("web POST /referrals/{id}/family"),
        )
        .await?;
    Ok(Redirect::to(&format!("/referrals/{id}")).into_response())
}

// ---------- the decision ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    level: String,
    outcome: String,
    rationale: String,
    signpost: String,
    organisation_id: String,
    csc_organisation_id: String,
    lead_user_id: String,
}

#[derive(Template)]
#[template(path = "decision.html")]
struct DecisionPage {
    l: Layout,
    r: Referral,
    form: DecisionForm,
    errors: Errors,
    levels: &'static [Level],
    outcomes: &'static [Outcome],
    organisations: Vec<(i64, String)>,
    csc: Vec<(i64, String)>,
    leads: Vec<(i64, String)>,
    has_family: bool,
}

impl DecisionPage {
    async fn new(
        state: &AppState,
        cu: &CurrentUser,
        r: Referral,
        form: DecisionForm,
        errors: Errors,
    ) -> AppResult<Self> {
        let orgs = state.db.organisations(r.tenant_id).await?;
        let users = state.db.users(r.tenant_id).await?;
        let org_name: BTreeMap<i64, String> = orgs.iter().map(|o| (o.id, o.name.clone())).collect();
        Ok(DecisionPage {
            l: Layout::new(format!("Decide referral {}", r.reference), cu),
            form,
            errors,
            levels: Level::ALL,
            outcomes: Outcome::ALL,
            organisations: orgs
                .iter()
                .filter(|o| o.active)
                .map(|o| (o.id, o.name.clone()))
                .collect(),
            csc: orgs
                .iter()
                .filter(|o| o.active && o.kind == OrgKind::ChildrensSocialCare)
                .map(|o| (o.id, o.name.clone()))
                .collect(),
            leads: users
                .iter()
                .filter(|u| u.active && u.has(Role::Practitioner))
                .map(|u| {
                    (
                        u.id,
                        format!(
                            "{} ({})",
                            u.display_name,
                            org_name.get(&u.organisation_id).cloned().unwrap_or_default()
                        ),
                    )
                })
                .collect(),
            has_family: r.family_id.is_some(),
            r,
        })
    }
}

pub async fn decision_form(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (r, _) = gate::referral(
        &state,
        &cu,
        id,
        ReferralAction::Triage,
        false,
        "web GET /referrals/{id}/decision",
    )
    .await?;
    let page = DecisionPage::new(&state, &cu, r, DecisionForm::default(), Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn decide(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> AppResult<Response> {
    let r = triage_referral(&state, &cu, id, "web POST /referrals/{id}/decision").await?;
    let mut errors = Errors::default();
    let level = Level::parse(&f.level);
    if level.is_none() {
        errors.add("level", "Select the level of need");
    }
    let outcome = Outcome::parse(&f.outcome);
    if outcome.is_none() {
        errors.add("outcome", "Select the outcome of triage");
    }
    let rationale = f.rationale.trim().to_string();
    if rationale.is_empty() {
        errors.add("rationale", "Enter the rationale for the decision");
    } else if rationale.chars().count() > 5000 {
        errors.add("rationale", "Rationale must be 5,000 characters or fewer");
    }
    let orgs = state.db.organisations(r.tenant_id).await?;
    let org_in_tenant = |s: &str, csc: bool| {
        s.parse::<i64>()
            .ok()
            .and_then(|id| {
                orgs.iter()
                    .find(|o| o.id == id && (!csc || o.kind == OrgKind::ChildrensSocialCare))
            })
            .cloned()
    };
    let mut detail = String::new();
    let mut organisation = None;
    let mut lead = None;
    match outcome {
        Some(o) if o.needs_family() && r.family_id.is_none() => {
            errors.add(
                "outcome",
                "Match the people to records and choose their family before this outcome",
            );
        }
        Some(Outcome::Signpost) => {
            detail = f.signpost.trim().to_string();
            if detail.is_empty() {
                errors.add("signpost", "Enter the service or offer the family is signposted to");
            }
        }
        Some(Outcome::SingleAgency) => {
            organisation = org_in_tenant(&f.organisation_id, false);
            if organisation.is_none() {
                errors.add("organisation_id", "Select the agency that will offer early help");
            }
        }
        Some(Outcome::StepUp) => {
            organisation = org_in_tenant(&f.csc_organisation_id, true);
            if organisation.is_none() {
                errors.add("csc_organisation_id", "Select the children's social care service");
            }
        }
        Some(Outcome::MultiAgency) => {
            let users = state.db.users(r.tenant_id).await?;
            lead = f.lead_user_id.parse::<i64>().ok().and_then(|id| {
                users
                    .into_iter()
                    .find(|u| u.id == id && u.active && u.has(Role::Practitioner))
            });
            if lead.is_none() {
                errors.add("lead_user_id", "Select the lead professional");
            }
        }
        _ => {}
    }
    let (Some(level), Some(outcome), true) = (level, outcome, errors.is_empty()) else {
        let page = DecisionPage::new(&state, &cu, r, f, errors).await?;
        return crate::errors::invalid(page);
    };
    let today = kindred_store::today();
    let db = &state.db;
    db.decide_referral(
        r.id,
        &NewDecision {
            user_id: cu.user.id,
            level,
            outcome,
            rationale,
            detail: detail.clone(),
            organisation_id: organisation.as_ref().map(|o| o.id),
            lead_user_id: lead.as_ref().map(|u| u.id),
        },
    )
    .await?;
    // What the decision sets in motion, on the family's record.
    if let Some(fid) = r.family_id {
        match outcome {
            Outcome::MultiAgency => {
                let lead = lead.as_ref().expect("checked above");
                db.open_episode(
                    r.tenant_id,
                    fid,
                    Some(r.id),
                    Some(lead.id),
                    level.code(),
                    Some(cu.user.id),
                    today,
                )
                .await?;
                let involvements = db.involvements(fid).await?;
                if !involvements
                    .iter()
                    .any(|i| i.organisation_id == lead.organisation_id && i.ended_on.is_none())
                {
                    db.add_involvement(fid, lead.organisation_id, "Early help: lead professional", today)
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
                    Some(r.id),
                    &format!(
                        "You are the lead professional for a family after triage of referral {}.",
                        r.reference
                    ),
                )
                .await?;
            }
            Outcome::SingleAgency | Outcome::StepUp => {
                let org = organisation.as_ref().expect("checked above");
                let service = if outcome == Outcome::StepUp {
                    "Children's social care: stepped up from early help"
                } else {
                    "Early help: single agency"
                };
                db.add_involvement(fid, org.id, service, today).await?;
            }
            _ => {}
        }
        db.touch_family(fid).await?;
    }
    tell_referrer(&state, &r, outcome).await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::Referral {
            id: r.id,
            family: r.family_id,
        },
        "web POST /referrals/{id}/decision",
        format!("decided {}", outcome.code()),
    )
    .await?;
    Ok(Redirect::to(&format!("/referrals/{id}")).into_response())
}

/// Tells whoever referred what was decided: in the app, and by email when SMTP
/// is configured. Neither carries names or the rationale.
async fn tell_referrer(state: &AppState, r: &Referral, outcome: Outcome) -> AppResult<()> {
    let message = format!(
        "Referral {} has been triaged. Outcome: {}.",
        r.reference,
        outcome.label()
    );
    if let Some(u) = r.referrer_user_id {
        state.db.notify(u, Some(r.id), &message).await?;
    }
    if state.config.smtp.is_some() && r.referrer.email.contains('@') {
        let body = if r.referrer_user_id.is_some() {
            format!("{message}\n\nSign in to Kindred to see the referral.\n")
        } else {
            format!("{message}\n\nYour family hub will be in touch about what happens next.\n")
        };
        state
            .db
            .queue_email(
                &r.referrer.email,
                &format!("Referral {}: outcome of triage", r.reference),
                &body,
            )
            .await?;
    }
    Ok(())
}

// ---------- the triage queue ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    hub: Option<i64>,
    need: String,
    route: String,
    claimed: String,
    page: Option<i64>,
}

struct QueueView {
    id: i64,
    reference: String,
    route: &'static str,
    urgent: bool,
    received: String,
    due: String,
    due_phrase: String,
    overdue: bool,
    hub: String,
    claimed_by: String,
    person: String,
    people: i64,
    needs: String,
}

#[derive(Template)]
#[template(path = "triage.html")]
struct QueuePage {
    l: Layout,
    rows: Vec<QueueView>,
    total: i64,
    overdue_on_page: usize,
    hubs: Vec<(i64, String)>,
    needs: &'static [referral::Need],
    routes: &'static [Route],
    q: QueueQuery,
    hub_sel: i64,
    prev_page: Option<String>,
    next_page: Option<String>,
    page: i64,
    pages: i64,
}

const QUEUE_PAGE: i64 = 50;

pub async fn queue(State(state): State<AppState>, cu: CurrentUser, Query(q): Query<QueueQuery>) -> AppResult<Response> {
    gate::require_triage(&cu)?;
    let filter = QueueFilter {
        hub_site_id: q.hub,
        need: referral::need(&q.need).map(|n| n.code.to_string()),
        route: Route::parse(&q.route),
        claimed_by: match q.claimed.as_str() {
            "me" => Some(cu.user.id),
            "unclaimed" => Some(0),
            _ => None,
        },
    };
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = state
        .db
        .triage_queue(cu.user.tenant_id, &filter, QUEUE_PAGE, (page - 1) * QUEUE_PAGE)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut needs: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (rid, n) in state.db.needs_of_referrals(&ids).await? {
        needs.entry(rid).or_default().push(n);
    }
    let now = kindred_store::now_ms();
    let rows: Vec<QueueView> = rows
        .into_iter()
        .map(|r| QueueView {
            id: r.id,
            reference: r.reference,
            route: Route::parse(&r.route).map(|x| x.label()).unwrap_or(""),
            urgent: r.urgency == Urgency::Urgent.code(),
            received: super::when(r.received_at_ms),
            due: super::when(r.due_at_ms),
            due_phrase: due_phrase(r.due_at_ms, now),
            overdue: r.due_at_ms < now,
            hub: r.hub_name.unwrap_or_default(),
            claimed_by: r.claimed_by_name.unwrap_or_default(),
            person: r.first_person.unwrap_or_default(),
            people: r.people,
            needs: need_labels(needs.get(&r.id).map(|v| v.as_slice()).unwrap_or(&[])).join(", "),
        })
        .collect();
    gate::audit(
        &state,
        &cu,
        AuditAction::Read,
        Record::ReferralQueue,
        "web GET /triage",
        format!("referrals={}", rows.len()),
    )
    .await?;
    let hubs = state
        .db
        .hub_sites(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|h| (h.id, h.name))
        .collect();
    let link = |p: i64| {
        let mut s = format!("/triage?page={p}");
        if let Some(h) = q.hub {
            s.push_str(&format!("&hub={h}"));
        }
        for (k, v) in [("need", &q.need), ("route", &q.route), ("claimed", &q.claimed)] {
            if !v.is_empty() {
                s.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        s
    };
    let pages = ((total + QUEUE_PAGE - 1) / QUEUE_PAGE).max(1);
    let page_html = QueuePage {
        l: Layout::new("Triage queue", &cu),
        overdue_on_page: rows.iter().filter(|r| r.overdue).count(),
        rows,
        total,
        hubs,
        needs: NEEDS,
        routes: Route::ALL,
        hub_sel: q.hub.unwrap_or(0),
        prev_page: (page > 1).then(|| link(page - 1)),
        next_page: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        q,
    };
    Ok(Html(page_html.render()?).into_response())
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|x| x.trim_start_matches('=').to_string())
        .unwrap_or_default()
}
