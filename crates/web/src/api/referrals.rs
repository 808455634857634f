//! Referrals into the front door from a partner system, in bulk: each one is
//! checked on its own, valid ones land in the tenant's one triage queue, and
//! each rejected one comes back with every field at fault. A referral's
//! reference is the caller's own; sending it again makes nothing new, so a
//! retry after a lost response never duplicates.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use kindred_domain::access::{self as policy, ReferralAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::model::{MemberRole, Sex};
use kindred_domain::nhs_number::NhsNumber;
use kindred_domain::postcode::Postcode;
use kindred_domain::referral::{self, Route, Status, Urgency};
use kindred_store::StoreError;
use kindred_store::referrals::{Consent, NewReferral, PersonAsGiven, ReferralDetails, Referrer};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::Caller;
use super::error::{ApiError, ApiResult, ErrorBody, FieldError};
use super::families::rfc3339;
use super::read_items;
use crate::AppState;
use crate::access::{self, Record};
use crate::auth::CurrentUser;

/// At most this many referrals in one request.
pub const MAX_BATCH: usize = 100;

const ROUTE_SEND: &str = "api POST /api/v1/referrals";

/// A batch of referrals. (It describes the body for OpenAPI; the handler
/// reads the items one by one, so one malformed item does not sink the rest.)
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ReferralBatch {
    /// One to 100 referrals.
    pub referrals: Vec<ReferralIn>,
}

/// A referral as a partner system sends it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReferralIn {
    /// The caller's own reference, unique within the council: 1–40 letters,
    /// digits, `-`, `_` or `/`. Sending the same reference again makes nothing new.
    pub reference: Option<String>,
    /// routine (the default) or urgent.
    pub urgency: Option<String>,
    /// Why the family is referred, in the referrer's words.
    pub summary: Option<String>,
    /// Whether the family knows about the referral.
    pub family_aware: Option<bool>,
    /// Need codes from Kindred's needs list (at least one), e.g. `parenting_early`, `housing`.
    pub needs: Option<Vec<String>>,
    pub consent: Option<ConsentIn>,
    pub referrer: Option<ReferrerIn>,
    /// The people the referral is about (at least one).
    pub people: Option<Vec<PersonIn>>,
}

/// Consent to share, as the referrer recorded it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConsentIn {
    pub given: Option<bool>,
    /// Who gave it (required when given).
    pub by: Option<String>,
    /// When, YYYY-MM-DD (required when given).
    pub on: Option<String>,
    /// What it covers.
    pub scope: Option<String>,
}

/// Who made the referral, so triage can reach them.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReferrerIn {
    pub name: Option<String>,
    pub role: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A person the referral is about.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PersonIn {
    /// parent, carer, child, unborn, sibling, grandparent or other.
    pub role: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// YYYY-MM-DD (not for an unborn baby).
    pub date_of_birth: Option<String>,
    /// YYYY-MM-DD, for an unborn baby.
    pub expected_delivery: Option<String>,
    /// female, male or unknown.
    pub sex: Option<String>,
    /// Ten digits with a valid check digit.
    pub nhs_number: Option<String>,
    pub postcode: Option<String>,
    pub address_line: Option<String>,
}

/// What became of one referral of the batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralResult {
    /// Its position in the batch, from 0.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// created, already_sent (its reference was sent before: nothing new was made) or rejected.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Every field at fault, when rejected.
    pub errors: Vec<FieldError>,
}

/// The batch's results, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub already_sent: usize,
    pub rejected: usize,
    pub results: Vec<ReferralResult>,
}

/// A referral's progress, as its sender sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralStatus {
    pub id: i64,
    pub reference: String,
    /// draft, open (awaiting triage) or decided.
    pub status: String,
    pub urgency: String,
    pub received_at: String,
    /// When triage is due (RFC 3339).
    pub due_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionOut>,
}

/// Triage's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    /// signpost, single_agency, multi_agency, step_up or nfa.
    pub outcome: String,
    /// Level of need, 1–4.
    pub level: String,
    pub decided_at: String,
}

/// A referral that passed every check.
#[derive(Debug)]
struct Valid {
    reference: String,
    urgency: Urgency,
    summary: String,
    family_aware: bool,
    needs: Vec<String>,
    consent: Consent,
    referrer: Referrer,
    people: Vec<(MemberRole, PersonAsGiven)>,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_string()
}

fn date(raw: &str) -> Option<Date> {
    kindred_domain::dates::parse_iso(raw.trim()).ok()
}

/// Checks one referral, collecting every field at fault under `at`.
fn check(r: &ReferralIn, at: &str, today: Date) -> Result<Valid, Vec<FieldError>> {
    let mut errors = vec![];
    let mut err = |field: String, message: &str| {
        errors.push(FieldError {
            field,
            message: message.into(),
        })
    };
    let reference = text(&r.reference);
    if reference.is_empty() {
        err(format!("{at}.reference"), "Enter the referral's reference");
    } else if reference.len() > 40
        || !reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
    {
        err(
            format!("{at}.reference"),
            "The reference must be 1 to 40 letters, digits, hyphens, underscores or slashes",
        );
    }
    let urgency = match r.urgency.as_deref().map(str::trim) {
        None | Some("") => Some(Urgency::Routine),
        Some(u) => Urgency::parse(u),
    };
    if urgency.is_none() {
        err(format!("{at}.urgency"), "Urgency must be routine or urgent");
    }
    let summary = text(&r.summary);
    if summary.is_empty() {
        err(format!("{at}.summary"), "Enter why the family is referred");
    } else if summary.chars().count() > 10_000 {
        err(
            format!("{at}.summary"),
            "The summary must be 10,000 characters or fewer",
        );
    }
    if r.family_aware.is_none() {
        err(
            format!("{at}.family_aware"),
            "Say whether the family knows about the referral (true or false)",
        );
    }
    let needs: Vec<String> = r.needs.clone().unwrap_or_default();
    if needs.is_empty() {
        err(format!("{at}.needs"), "Give at least one need");
    }
    for (i, n) in needs.iter().enumerate() {
        if referral::need(n).is_none() {
            err(format!("{at}.needs[{i}]"), "Not a need on Kindred's needs list");
        }
    }
    let consent = match &r.consent {
        None => {
            err(format!("{at}.consent"), "Record whether consent to share was given");
            Consent::default()
        }
        Some(c) => {
            let given = c.given.unwrap_or_else(|| {
                err(
                    format!("{at}.consent.given"),
                    "Say whether consent was given (true or false)",
                );
                false
            });
            let by = text(&c.by);
            let on = text(&c.on);
            let on_date = if on.is_empty() { None } else { date(&on) };
            if given && by.is_empty() {
                err(format!("{at}.consent.by"), "Say who gave consent");
            }
            if given && on.is_empty() {
                err(format!("{at}.consent.on"), "Say when consent was given (YYYY-MM-DD)");
            } else if !on.is_empty() && on_date.is_none() {
                err(format!("{at}.consent.on"), "The date must be a real date, YYYY-MM-DD");
            } else if on_date.is_some_and(|d| d > today) {
                err(format!("{at}.consent.on"), "The date cannot be in the future");
            }
            Consent {
                given,
                by,
                on: on_date,
                scope: text(&c.scope),
            }
        }
    };
    let referrer = match &r.referrer {
        None => {
            err(format!("{at}.referrer"), "Say who made the referral");
            Referrer::default()
        }
        Some(x) => {
            let referrer = Referrer {
                name: text(&x.name),
                role: text(&x.role),
                phone: text(&x.phone),
                email: text(&x.email),
            };
            if referrer.name.is_empty() {
                err(format!("{at}.referrer.name"), "Enter the referrer's name");
            }
            if referrer.role.is_empty() {
                err(format!("{at}.referrer.role"), "Enter the referrer's role");
            }
            if referrer.phone.is_empty() && referrer.email.is_empty() {
                err(
                    format!("{at}.referrer"),
                    "Give a phone number or an email address for the referrer",
                );
            }
            if !referrer.email.is_empty() && !referrer.email.contains('@') {
                err(
                    format!("{at}.referrer.email"),
                    "Enter an email address like name@example.org",
                );
            }
            referrer
        }
    };
    let given_people = r.people.as_deref().unwrap_or_default();
    if given_people.is_empty() {
        err(format!("{at}.people"), "Give at least one person");
    } else if given_people.len() > 20 {
        err(format!("{at}.people"), "A referral can name at most 20 people");
    }
    let mut people = vec![];
    for (i, p) in given_people.iter().enumerate() {
        let at = format!("{at}.people[{i}]");
        let role = MemberRole::parse(text(&p.role).as_str());
        if role.is_none() {
            err(
                format!("{at}.role"),
                "Role must be parent, carer, child, unborn, sibling, grandparent or other",
            );
        }
        let given_name = text(&p.given_name);
        let family_name = text(&p.family_name);
        if given_name.is_empty() && role != Some(MemberRole::Unborn) {
            err(format!("{at}.given_name"), "Enter the person's given name");
        }
        if family_name.is_empty() {
            err(format!("{at}.family_name"), "Enter the person's family name");
        }
        let born = text(&p.date_of_birth);
        let due = text(&p.expected_delivery);
        let date_of_birth = if born.is_empty() { None } else { date(&born) };
        let expected_delivery = if due.is_empty() { None } else { date(&due) };
        if !born.is_empty() && date_of_birth.is_none() {
            err(
                format!("{at}.date_of_birth"),
                "The date must be a real date, YYYY-MM-DD",
            );
        } else if date_of_birth.is_some_and(|d| d > today) {
            err(format!("{at}.date_of_birth"), "A date of birth cannot be in the future");
        }
        if !due.is_empty() && expected_delivery.is_none() {
            err(
                format!("{at}.expected_delivery"),
                "The date must be a real date, YYYY-MM-DD",
            );
        }
        if role == Some(MemberRole::Unborn) {
            if due.is_empty() {
                err(
                    format!("{at}.expected_delivery"),
                    "Give an unborn baby's expected delivery date",
                );
            }
            if !born.is_empty() {
                err(format!("{at}.date_of_birth"), "An unborn baby has no date of birth");
            }
        }
        let sex = text(&p.sex);
        if !sex.is_empty() && Sex::parse(&sex).is_none() {
            err(format!("{at}.sex"), "Sex must be female, male or unknown");
        }
        let nhs = text(&p.nhs_number);
        let nhs_number = if nhs.is_empty() {
            None
        } else {
            match NhsNumber::parse(&nhs) {
                Ok(n) => Some(n.as_digits()),
                Err(_) => {
                    err(
                        format!("{at}.nhs_number"),
                        "Not a valid NHS number: 10 digits with a correct check digit",
                    );
                    None
                }
            }
        };
        let pc = text(&p.postcode);
        let postcode = if pc.is_empty() {
            None
        } else {
            match Postcode::parse(&pc) {
                Ok(p) => Some(p.as_str().to_string()),
                Err(_) => {
                    err(format!("{at}.postcode"), "Not a UK postcode, like W2 5AB");
                    None
                }
            }
        };
        let address_line = text(&p.address_line);
        if let Some(role) = role {
            people.push((
                role,
                PersonAsGiven {
                    given_name,
                    family_name,
                    date_of_birth,
                    expected_delivery,
                    sex: (!sex.is_empty()).then_some(sex),
                    nhs_number,
                    postcode,
                    address_line: (!address_line.is_empty()).then_some(address_line),
                },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        reference,
        urgency: urgency.unwrap_or(Urgency::Routine),
        summary,
        family_aware: r.family_aware.unwrap_or(false),
        needs,
        consent,
        referrer,
        people,
    })
}

/// Sends referrals into the front door: each is checked on its own, and the
/// results say, in order, which were created, which were sent before, and
/// every field at fault in those rejected.
#[utoipa::path(
    post,
    path = "/api/v1/referrals",
    tag = "referrals",
    request_body = ReferralBatch,
    responses(
        (status = 200, description = "Each referral's result, in order", body = BatchResult),
        (status = 400, description = "The body is not a batch of referrals", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller's organisation may not make referrals", body = ErrorBody),
        (status = 413, description = "More than 100 referrals", body = ErrorBody),
    )
)]
pub async fn send(State(state): State<AppState>, Caller(cu): Caller, body: Bytes) -> ApiResult<Json<BatchResult>> {
    if !policy::make_referral(&cu.user.subject()) {
        return Err(ApiError::forbidden("This system's organisation may not make referrals"));
    }
    let items = read_items::<ReferralIn>(&body, "referrals", "referral", MAX_BATCH)?;
    let today = kindred_store::today();
    let mut out = BatchResult {
        created: 0,
        already_sent: 0,
        rejected: 0,
        results: vec![],
    };
    for (index, item) in items.into_iter().enumerate() {
        let at = format!("referrals[{index}]");
        let given_reference = item.as_ref().ok().and_then(|r| r.reference.clone());
        let checked = item.map_err(|e| vec![e]).and_then(|r| check(&r, &at, today));
        let result = match checked {
            Err(errors) => {
                out.rejected += 1;
                ReferralResult {
                    index,
                    reference: given_reference,
                    outcome: "rejected".into(),
                    id: None,
                    errors,
                }
            }
            Ok(valid) => match create(&state, &cu, &valid).await? {
                Made::Created(id) => {
                    out.created += 1;
                    ReferralResult {
                        index,
                        reference: Some(valid.reference),
                        outcome: "created".into(),
                        id: Some(id),
                        errors: vec![],
                    }
                }
                Made::AlreadySent(id) => {
                    out.already_sent += 1;
                    ReferralResult {
                        index,
                        reference: Some(valid.reference),
                        outcome: "already_sent".into(),
                        id: Some(id),
                        errors: vec![],
                    }
                }
                Made::ReferenceTaken => {
                    out.rejected += 1;
                    ReferralResult {
                        index,
                        reference: Some(valid.reference),
                        outcome: "rejected".into(),
                        id: None,
                        errors: vec![FieldError {
                            field: format!("{at}.reference"),
                            message: "This reference is already in use in this council; choose another".into(),
                        }],
                    }
                }
            },
        };
        out.results.push(result);
    }
    Ok(Json(out))
}

enum Made {
    Created(i64),
    AlreadySent(i64),
    ReferenceTaken,
}

/// Makes one referral, or finds it sent before under the same reference.
async fn create(state: &AppState, cu: &CurrentUser, v: &Valid) -> ApiResult<Made> {
    let db = &state.db;
    let tenant_id = cu.user.tenant_id;
    let created = db
        .create_referral(&NewReferral {
            tenant_id,
            route: Route::Professional,
            referrer_user_id: Some(cu.user.id),
            referrer_organisation_id: Some(cu.user.organisation_id),
            referrer: v.referrer.clone(),
            family_id: None,
            reference: v.reference.clone(),
        })
        .await;
    let id = match created {
        Ok(r) => r.id,
        Err(StoreError::Conflict(_)) => {
            let Some(id) = db.referral_id_by_reference(tenant_id, &v.reference).await? else {
                return Ok(Made::ReferenceTaken);
            };
            let existing = db.referral(id).await?.ok_or_else(ApiError::not_found)?;
            if existing.referrer_organisation_id != Some(cu.user.organisation_id) {
                return Ok(Made::ReferenceTaken);
            }
            if existing.status != Status::Draft {
                return Ok(Made::AlreadySent(id));
            }
            // An earlier request stopped part-way: make its people again and finish it.
            for p in db.referral_people(id).await? {
                db.remove_referral_person(id, p.id).await?;
            }
            id
        }
        Err(e) => return Err(e.into()),
    };
    let mut hub = None;
    for (role, person) in &v.people {
        db.add_referral_person(id, None, *role, person).await?;
        if hub.is_none()
            && let Some(pc) = person.postcode.as_deref().and_then(|s| Postcode::parse(s).ok())
        {
            hub = db.hub_site_for(tenant_id, &pc).await?.map(|h| h.id);
        }
    }
    db.update_referral_details(
        id,
        &ReferralDetails {
            route: Some(Route::Professional),
            urgency: Some(v.urgency),
            summary: v.summary.clone(),
            family_aware: v.family_aware,
            consent: v.consent.clone(),
            referrer: v.referrer.clone(),
            needs: v.needs.clone(),
        },
    )
    .await?;
    db.submit_referral(id, Some(cu.user.id), hub).await?;
    access::audit(
        state,
        cu,
        AuditAction::Create,
        Record::Referral { id, family: None },
        ROUTE_SEND,
        format!("people={}", v.people.len()),
    )
    .await?;
    Ok(Made::Created(id))
}

/// A referral's progress, by the caller's reference: for the system that sent it.
#[utoipa::path(
    get,
    path = "/api/v1/referrals/{reference}",
    tag = "referrals",
    params(("reference" = String, Path, description = "The caller's reference for the referral")),
    responses(
        (status = 200, description = "The referral's progress", body = ReferralStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such referral, or none the caller may see", body = ErrorBody),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    Caller(cu): Caller,
    Path(reference): Path<String>,
) -> ApiResult<Json<ReferralStatus>> {
    let id = state
        .db
        .referral_id_by_reference(cu.user.tenant_id, reference.trim())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (r, _) = access::referral(
        &state,
        &cu,
        id,
        ReferralAction::ViewStatus,
        false,
        "api GET /api/v1/referrals/{reference}",
    )
    .await?;
    Ok(Json(ReferralStatus {
        id: r.id,
        reference: r.reference,
        status: r.status.code().into(),
        urgency: r.urgency.code().into(),
        received_at: rfc3339(r.received_at_ms),
        due_at: rfc3339(r.due_at_ms),
        decision: r.decision.map(|d| DecisionOut {
            outcome: d.outcome.code().into(),
            level: d.level.code().into(),
            decided_at: rfc3339(d.at_ms),
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> serde_json::Value {
        serde_json::json!({
            "reference": "HV-2026/0001",
            "summary": "Mother struggling with a new baby and housing",
            "family_aware": true,
            "needs": ["parenting_early", "housing"],
            "consent": {"given": true, "by": "Mother", "on": "2026-11-01", "scope": "Early help"},
            "referrer": {"name": "A Health Visitor", "role": "Health visitor", "phone": "020 7946 0000"},
            "people": [
                {"role": "parent", "given_name": "Ann", "family_name": "Example", "date_of_birth": "1995-03-02",
                 "nhs_number": "999 000 0018", "postcode": "w2 5ab"},
                {"role": "unborn", "family_name": "Example", "expected_delivery": "2027-01-10"}
            ]
        })
    }

    fn today() -> Date {
        time::macros::date!(2026 - 11 - 29)
    }

    fn fields(v: serde_json::Value) -> Vec<String> {
        let r: ReferralIn = serde_json::from_value(v).unwrap();
        match check(&r, "referrals[0]", today()) {
            Ok(_) => vec![],
            Err(e) => e.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn a_complete_referral_passes_and_is_normalised() {
        let r: ReferralIn = serde_json::from_value(good()).unwrap();
        let v = check(&r, "referrals[0]", today()).unwrap();
        assert_eq!(v.people.len(), 2);
        assert_eq!(v.people[0].1.postcode.as_deref(), Some("W2 5AB"));
        assert_eq!(v.people[0].1.nhs_number.as_deref(), Some("9990000018"));
        assert_eq!(v.urgency, Urgency::Routine);
    }

    #[test]
    fn every_fault_is_named_by_its_field() {
        let mut v = good();
        v["needs"] = serde_json::json!(["housing", "flying"]);
        v["people"][0]["nhs_number"] = "9990000019".into();
        v["people"][0]["date_of_birth"] = "2026-02-30".into();
        v["people"][1]["expected_delivery"] = serde_json::Value::Null;
        v["consent"]["on"] = serde_json::Value::Null;
        v["reference"] = "has spaces".into();
        assert_eq!(
            fields(v),
            vec![
                "referrals[0].reference",
                "referrals[0].needs[1]",
                "referrals[0].consent.on",
                "referrals[0].people[0].date_of_birth",
                "referrals[0].people[0].nhs_number",
                "referrals[0].people[1].expected_delivery",
            ]
        );
    }

    #[test]
    fn missing_essentials_are_each_reported() {
        let f = fields(serde_json::json!({}));
        for want in [
            "referrals[0].reference",
            "referrals[0].summary",
            "referrals[0].family_aware",
            "referrals[0].needs",
            "referrals[0].consent",
            "referrals[0].referrer",
            "referrals[0].people",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
        }
    }

    #[test]
    fn a_malformed_item_does_not_sink_the_batch() {
        let body = serde_json::json!({"referrals": [good(), {"reference": 7}]}).to_string();
        let items = read_items::<ReferralIn>(body.as_bytes(), "referrals", "referral", MAX_BATCH).unwrap();
        assert!(items[0].is_ok());
        assert_eq!(items[1].as_ref().unwrap_err().field, "referrals[1].reference");
        assert!(read_items::<ReferralIn>(b"{", "referrals", "referral", MAX_BATCH).is_err());
        assert_eq!(
            read_items::<ReferralIn>(b"{\"referrals\": 3}", "referrals", "referral", MAX_BATCH)
                .unwrap_err()
                .field(),
            Some("referrals")
        );
    }
}
