//! The HL7 FHIR R4 API at `/fhir` (issue 8): JSON, read and search, for
//! registered partner systems with an OAuth2 bearer token ([`ApiCaller`]).
//!
//! Every resource is reached through [`crate::access`] exactly as the pages
//! reach it, with the system's account as the subject: a family through
//! `access::family` (View), a person through `access::person`, an address
//! through `access::contact_details`, an assessment through
//! `access::read_content`. Each of those writes its audit event, and each
//! search writes one more naming what was asked for. A record the system may
//! not see is a 404 OperationOutcome, the same as one that does not exist.
//! Contact notes are not exposed at all, so restricted and profession-only
//! notes never leave through FHIR.
//!
//! Logical ids are Kindred's integer ids: Patient = person, Group, CareTeam
//! and CarePlan = family, RelatedPerson = relationship, EpisodeOfCare =
//! episode, Goal = plan goal, ServiceRequest = referral, Consent, Flag,
//! QuestionnaireResponse = assessment.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::model::{FlagKind, Sex};
use kindred_domain::plan::{ActionStatus, GoalStatus};
use kindred_domain::sharing::DataCategory;
use kindred_store::fhir::{FamilyOwned, PersonQuery};
use kindred_store::persons::{Address, Person};
use serde_json::{Value, json};

use crate::AppState;
use crate::access as gate;
use crate::api_auth::{ApiAuthError, ApiCaller, SCOPE_FHIR_READ};
use crate::errors::AppError;

/// The UK Core NHS number identifier system.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// The Unique Pupil Number (DfE) identifier system Kindred uses.
pub const UPN_SYSTEM: &str = "https://kindred.example/Id/unique-pupil-number";
/// Kindred's own code systems and extensions live under this base.
const KINDRED: &str = "https://kindred.example/fhir";
pub const FHIR_JSON: &str = "application/fhir+json";
const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 100;
/// The most persons one Patient search considers before paging.
const MAX_CANDIDATES: i64 = 10_000;

/// The resource types served, in the CapabilityStatement's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Patient,
    RelatedPerson,
    Group,
    EpisodeOfCare,
    CareTeam,
    CarePlan,
    Goal,
    ServiceRequest,
    Consent,
    Flag,
    QuestionnaireResponse,
}

impl Kind {
    const ALL: [Kind; 11] = [
        Kind::Patient,
        Kind::RelatedPerson,
        Kind::Group,
        Kind::EpisodeOfCare,
        Kind::CareTeam,
        Kind::CarePlan,
        Kind::Goal,
        Kind::ServiceRequest,
        Kind::Consent,
        Kind::Flag,
        Kind::QuestionnaireResponse,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Patient => "Patient",
            Kind::RelatedPerson => "RelatedPerson",
            Kind::Group => "Group",
            Kind::EpisodeOfCare => "EpisodeOfCare",
            Kind::CareTeam => "CareTeam",
            Kind::CarePlan => "CarePlan",
            Kind::Goal => "Goal",
            Kind::ServiceRequest => "ServiceRequest",
            Kind::Consent => "Consent",
            Kind::Flag => "Flag",
            Kind::QuestionnaireResponse => "QuestionnaireResponse",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The search parameters besides `_id`, `_count` and `_offset`, with their FHIR types.
    fn params(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Patient => &[
                ("identifier", "token"),
                ("family", "string"),
                ("given", "string"),
                ("birthdate", "date"),
                ("address-postalcode", "string"),
            ],
            Kind::Group => &[("member", "reference")],
            Kind::CareTeam | Kind::CarePlan | Kind::Goal | Kind::ServiceRequest | Kind::Flag => {
                &[("patient", "reference"), ("subject", "reference")]
            }
            Kind::QuestionnaireResponse => &[("patient", "reference"), ("subject", "reference")],
            Kind::RelatedPerson | Kind::EpisodeOfCare | Kind::Consent => &[("patient", "reference")],
        }
    }
}

// ---------- responses ----------

fn fhir(status: StatusCode, body: Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    res
}

/// An OperationOutcome with one issue.
fn outcome(status: StatusCode, code: &str, diagnostics: &str) -> Response {
    fhir(
        status,
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }],
        }),
    )
}

fn not_found() -> Response {
    outcome(
        StatusCode::NOT_FOUND,
        "not-found",
        "No such resource, or no working relationship with it",
    )
}

fn invalid(diagnostics: &str) -> Response {
    outcome(StatusCode::BAD_REQUEST, "invalid", diagnostics)
}

fn fail(e: AppError) -> Response {
    match e {
        AppError::NotFound => not_found(),
        AppError::BadRequest(m) => invalid(m),
        other => {
            let id = crate::passwords::random_token()[..12].to_string();
            tracing::error!(correlation_id = %id, error = %format!("{other:#}"), "fhir request failed");
            outcome(
                StatusCode::INTERNAL_SERVER_ERROR,
                "exception",
                &format!("Try again later (reference {id})"),
            )
        }
    }
}

fn refused(e: ApiAuthError) -> Response {
    let (_, description) = e.describe();
    let issue = match &e {
        ApiAuthError::InsufficientScope(_) => "forbidden",
        ApiAuthError::Internal(_) => "exception",
        _ => "login",
    };
    e.with_challenge(outcome(e.status(), issue, &description))
}

/// The caller, holding the FHIR read scope.
#[allow(clippy::result_large_err)] // the refusal is a finished response
fn caller(c: Result<ApiCaller, ApiAuthError>) -> Result<ApiCaller, Response> {
    let c = c.map_err(refused)?;
    c.require_scope(SCOPE_FHIR_READ).map_err(refused)?;
    Ok(c)
}

/// The base URL of this server's FHIR endpoint, as the caller reached it.
fn base(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let scheme = if state.config.tls { "https" } else { "http" };
    format!("{scheme}://{host}/fhir")
}

// ---------- the CapabilityStatement ----------

/// GET /fhir/metadata: no token needed.
pub async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base(&state, &headers);
    let token_url = format!("{}/oauth/token", base.trim_end_matches("/fhir"));
    let resources: Vec<Value> = Kind::ALL
        .into_iter()
        .map(|k| {
            let mut params = vec![json!({ "name": "_id", "type": "token" })];
            params.extend(k.params().iter().map(|(name, ty)| json!({ "name": name, "type": ty })));
            params.push(json!({ "name": "_count", "type": "number" }));
            params.push(json!({ "name": "_offset", "type": "number" }));
            json!({
                "type": k.name(),
                "interaction": [{ "code": "read" }, { "code": "search-type" }],
                "searchParam": params,
            })
        })
        .collect();
    fhir(
        StatusCode::OK,
        json!({
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": kindred_store::today().to_string(),
            "kind": "instance",
            "publisher": "Kindred",
            "software": { "name": "Kindred", "version": env!("CARGO_PKG_VERSION") },
            "implementation": { "description": "Kindred family hub record", "url": base },
            // R4. HL7's published R4 JSON schema lists "4.0.0" but not the
            // 4.0.1 technical correction, so the version says 4.0.0.
            "fhirVersion": "4.0.0",
            "format": ["application/fhir+json", "json"],
            "rest": [{
                "mode": "server",
                "documentation": "Read and search for registered partner systems. A system sees only what its organisation's practitioners may see; every call is audited.",
                "security": {
                    "service": [{
                        "coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                            "code": "OAuth",
                        }],
                        "text": "OAuth2 client credentials (RFC 6749 section 4.4); scope system/*.read",
                    }],
                    "extension": [{
                        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                        "extension": [{ "url": "token", "valueUri": token_url }],
                    }],
                },
                "resource": resources,
            }],
        }),
    )
}

// ---------- building resources ----------

fn date(d: time::Date) -> String {
    d.to_string()
}

fn instant(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{}T{:02}:{:02}:{:02}Z", t.date(), t.hour(), t.minute(), t.second())
}

fn period(start: Option<time::Date>, end: Option<time::Date>) -> Value {
    let mut p = serde_json::Map::new();
    if let Some(s) = start {
        p.insert("start".into(), json!(date(s)));
    }
    if let Some(e) = end {
        p.insert("end".into(), json!(date(e)));
    }
    Value::Object(p)
}

fn reference(kind: &str, id: i64) -> Value {
    json!({ "reference": format!("{kind}/{id}") })
}

fn human_name(p: &Person) -> Value {
    let mut names = vec![json!({ "use": "official", "family": p.family_name, "given": [p.given_name] })];
    if let Some(pref) = p.preferred_name.as_deref().filter(|s| !s.trim().is_empty()) {
        names.push(json!({ "use": "usual", "given": [pref] }));
    }
    json!(names)
}

/// A Patient; the address only when `address` is given (the policy allowed it).
fn patient(p: &Person, address: Option<&Address>) -> Value {
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "name": human_name(p),
    });
    let mut ids = vec![];
    if let Some(n) = &p.nhs_number {
        ids.push(json!({ "system": NHS_NUMBER_SYSTEM, "value": n.as_digits() }));
    }
    if let Some(u) = &p.upn {
        ids.push(json!({ "system": UPN_SYSTEM, "value": u.as_str() }));
    }
    if !ids.is_empty() {
        r["identifier"] = json!(ids);
    }
    r["gender"] = json!(match p.sex {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Unknown => "unknown",
    });
    if let Some(d) = p.date_of_birth {
        r["birthDate"] = json!(date(d));
    }
    if let Some(a) = address {
        let mut lines = vec![a.line1.clone()];
        lines.extend(a.line2.clone().filter(|l| !l.trim().is_empty()));
        r["address"] = json!([{
            "use": "home",
            "line": lines,
            "city": a.town,
            "postalCode": a.postcode,
            "period": period(Some(a.from_date), a.to_date),
        }]);
    }
    if let Some(lang) = p.language.as_deref().filter(|l| !l.trim().is_empty()) {
        r["communication"] = json!([{ "language": { "text": lang }, "preferred": true }]);
    }
    r
}

/// One resource about a family, and the persons it is about (none: the whole family).
struct Item {
    id: i64,
    about: Vec<i64>,
    resource: Value,
}

/// Every resource of `kind` about the family, which the caller has been let
/// into (`access::family`, View, audited) by [`open_family`].
async fn family_items(
    state: &AppState,
    c: &ApiCaller,
    kind: Kind,
    family_id: i64,
    route: &str,
) -> Result<Vec<Item>, AppError> {
    let (family, basis) = gate::family(state, &c.cu, family_id, FamilyAction::View, false, route).await?;
    let db = &state.db;
    let members = db.members(family_id).await?;
    let first_member = members
        .iter()
        .find(|m| m.left_on.is_none())
        .or(members.first())
        .map(|m| m.person.id);
    let group = reference("Group", family_id);
    let items = match kind {
        Kind::Patient => vec![],
        Kind::Group => vec![Item {
            id: family_id,
            about: members.iter().map(|m| m.person.id).collect(),
            resource: json!({
                "resourceType": "Group",
                "id": family_id.to_string(),
                "identifier": [{ "system": format!("{KINDRED}/Id/family"), "value": family_id.to_string() }],
                "type": "person",
                "actual": true,
                "name": family.name,
                "quantity": members.iter().filter(|m| m.left_on.is_none()).count(),
                "member": members.iter().map(|m| json!({
                    "extension": [{
                        "url": format!("{KINDRED}/StructureDefinition/family-member-role"),
                        "valueCode": m.role.code(),
                    }],
                    "entity": {
                        "reference": format!("Patient/{}", m.person.id),
                        "display": m.role.label(),
                    },
                    "period": period(Some(m.joined_on), m.left_on),
                    "inactive": m.left_on.is_some(),
                })).collect::<Vec<_>>(),
            }),
        }],
        Kind::RelatedPerson => {
            let rels = db.relationships(family_id).await?;
            rels.into_iter()
                .filter_map(|r| {
                    let from = members.iter().find(|m| m.person.id == r.from_person_id)?;
                    Some(Item {
                        id: r.id,
                        about: vec![r.to_person_id],
                        resource: json!({
                            "resourceType": "RelatedPerson",
                            "id": r.id.to_string(),
                            "active": from.left_on.is_none(),
                            "patient": reference("Patient", r.to_person_id),
                            "relationship": [{
                                "coding": [{
                                    "system": format!("{KINDRED}/CodeSystem/relationship"),
                                    "code": r.kind.code(),
                                    "display": r.kind.label(),
                                }],
                                "text": r.kind.label(),
                            }],
                            "name": human_name(&from.person),
                            "extension": [{
                                "url": format!("{KINDRED}/StructureDefinition/related-patient"),
                                "valueReference": reference("Patient", from.person.id),
                            }],
                        }),
                    })
                })
                .collect()
        }
        Kind::EpisodeOfCare => {
            let Some(first) = first_member else { return Ok(vec![]) };
            db.episodes_of_family(family_id)
                .await?
                .into_iter()
                .map(|e| {
                    let mut r = json!({
                        "resourceType": "EpisodeOfCare",
                        "id": e.id.to_string(),
                        "status": if e.closed_on.is_some() { "finished" } else { "active" },
                        "type": [{
                            "coding": [{ "system": format!("{KINDRED}/CodeSystem/episode-level"), "code": e.level }],
                            "text": format!("Early help episode: {}", e.level),
                        }],
                        "patient": reference("Patient", first),
                        "period": period(Some(e.opened_on), e.closed_on),
                        "extension": [{
                            "url": format!("{KINDRED}/StructureDefinition/family"),
                            "valueReference": group.clone(),
                        }],
                    });
                    if let Some(name) = &e.lead_name {
                        r["careManager"] = json!({ "display": name });
                    }
                    if let Some(rid) = e.referral_id {
                        r["referralRequest"] = json!([reference("ServiceRequest", rid)]);
                    }
                    Item {
                        id: e.id,
                        about: vec![],
                        resource: r,
                    }
                })
                .collect()
        }
        Kind::CareTeam => {
            let team = db.team(family_id).await?;
            let mut participants = vec![];
            if let Some(lead) = family.lead_user_id {
                let u = db.user(lead).await?;
                participants.push(json!({
                    "role": [{ "text": "Lead professional" }],
                    "member": { "display": u.display_name },
                }));
            }
            for t in team.iter().filter(|t| t.until_date.is_none()) {
                participants.push(json!({
                    "role": [{ "text": format!("{} ({})", t.profession, t.organisation_name) }],
                    "member": { "display": t.display_name },
                    "period": period(Some(t.since), t.until_date),
                }));
            }
            for i in db.involvements(family_id).await?.into_iter().filter(|i| i.ended_on.is_none()) {
                participants.push(json!({
                    "role": [{ "text": format!("Involved organisation: {}", i.service) }],
                    "member": { "display": i.organisation_name },
                    "period": period(Some(i.started_on), i.ended_on),
                }));
            }
            let mut r = json!({
                "resourceType": "CareTeam",
                "id": family_id.to_string(),
                "status": "active",
                "name": format!("Team around the family: {}", family.name),
                "subject": group.clone(),
            });
            if !participants.is_empty() {
                r["participant"] = json!(participants);
            }
            vec![Item {
                id: family_id,
                about: vec![],
                resource: r,
            }]
        }
        Kind::CarePlan | Kind::Goal => {
            let plan = db.plan_of_family(family_id).await?;
            if kind == Kind::Goal {
                plan.goals
                    .iter()
                    .map(|g| {
                        let (lifecycle, achievement) = match g.status {
                            GoalStatus::Active => ("active", "in-progress"),
                            GoalStatus::Achieved => ("completed", "achieved"),
                            GoalStatus::Dropped => ("cancelled", "not-achieved"),
                        };
                        Item {
                            id: g.id,
                            about: vec![],
                            resource: json!({
                                "resourceType": "Goal",
                                "id": g.id.to_string(),
                                "lifecycleStatus": lifecycle,
                                "achievementStatus": { "coding": [{
                                    "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                                    "code": achievement,
                                }] },
                                "description": { "text": g.words },
                                "subject": group.clone(),
                            }),
                        }
                    })
                    .collect()
            } else {
                let activities: Vec<Value> = plan
                    .goals
                    .iter()
                    .flat_map(|g| g.actions.iter())
                    .map(|a| {
                        let status = match a.status {
                            ActionStatus::NotStarted => "not-started",
                            ActionStatus::InProgress => "in-progress",
                            ActionStatus::Done => "completed",
                            ActionStatus::Dropped => "stopped",
                        };
                        json!({ "detail": {
                            "status": status,
                            "description": a.description,
                            "goal": [reference("Goal", a.goal_id)],
                            "scheduledString": format!("Due {}", date(a.due_on)),
                            "performer": [{ "display": a.owner_name }],
                        } })
                    })
                    .collect();
                let mut r = json!({
                    "resourceType": "CarePlan",
                    "id": family_id.to_string(),
                    "status": if plan.goals.iter().any(|g| g.status == GoalStatus::Active) { "active" } else { "completed" },
                    "intent": "plan",
                    "title": "Family plan",
                    "subject": group.clone(),
                });
                if !plan.goals.is_empty() {
                    r["goal"] = json!(plan.goals.iter().map(|g| reference("Goal", g.id)).collect::<Vec<_>>());
                }
                if !activities.is_empty() {
                    r["activity"] = json!(activities);
                }
                vec![Item {
                    id: family_id,
                    about: vec![],
                    resource: r,
                }]
            }
        }
        Kind::ServiceRequest => db
            .referrals_of_family(family_id)
            .await?
            .into_iter()
            .map(|r| {
                let status = if r.status == "open" { "active" } else { "completed" };
                let mut res = json!({
                    "resourceType": "ServiceRequest",
                    "id": r.id.to_string(),
                    "identifier": [{ "system": format!("{KINDRED}/Id/referral"), "value": r.reference }],
                    "status": status,
                    "intent": "order",
                    "category": [{ "text": "Early help referral" }],
                    "subject": group.clone(),
                    "authoredOn": instant(r.received_at_ms),
                });
                if let Some(o) = r.outcome.as_deref().and_then(kindred_domain::referral::Outcome::parse) {
                    res["note"] = json!([{ "text": format!("Triage outcome: {}", o.label()) }]);
                }
                Item {
                    id: r.id,
                    about: vec![],
                    resource: res,
                }
            })
            .collect(),
        Kind::Consent => db
            .consents_of_family(family_id)
            .await?
            .into_iter()
            .map(|c| Item {
                id: c.id,
                about: vec![c.person_id],
                resource: json!({
                    "resourceType": "Consent",
                    "id": c.id.to_string(),
                    "status": if c.withdrawn_on.is_some() { "inactive" } else { "active" },
                    "scope": { "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }] },
                    "category": [{
                        "coding": [{ "system": format!("{KINDRED}/CodeSystem/consent-purpose"), "code": c.purpose }],
                        "text": c.purpose,
                    }],
                    "patient": reference("Patient", c.person_id),
                    "dateTime": date(c.given_on),
                    "provision": {
                        "type": "permit",
                        "period": period(Some(c.given_on), c.withdrawn_on),
                    },
                }),
            })
            .collect(),
        Kind::Flag => db
            .open_flags_of_family(family_id)
            .await?
            .into_iter()
            .map(|f| {
                let label = FlagKind::parse(&f.kind).map(|k| k.label()).unwrap_or("Flag");
                Item {
                    id: f.id,
                    about: f.person_id.into_iter().collect(),
                    resource: json!({
                        "resourceType": "Flag",
                        "id": f.id.to_string(),
                        "status": if f.ended_on.is_some() { "inactive" } else { "active" },
                        "code": {
                            "coding": [{ "system": format!("{KINDRED}/CodeSystem/flag"), "code": f.kind, "display": label }],
                            "text": label,
                        },
                        "subject": match f.person_id {
                            Some(p) => reference("Patient", p),
                            None => group.clone(),
                        },
                        "period": period(Some(f.raised_on), f.ended_on),
                    }),
                }
            })
            .collect(),
        Kind::QuestionnaireResponse => {
            let sharing = gate::sharing_facts(state, family_id).await?;
            db.assessments_of_family(family_id)
                .await?
                .into_iter()
                .filter(|a| gate::readable_content(&c.cu, basis, a.organisation_id, DataCategory::Assessments, &sharing))
                .map(|a| {
                    let mut items: Vec<Value> = a
                        .scores
                        .iter()
                        .map(|(area, score, _)| {
                            json!({ "linkId": area, "text": area, "answer": [{ "valueInteger": score }] })
                        })
                        .collect();
                    for (link, text) in [
                        ("strengths", &a.strengths),
                        ("changes", &a.changes),
                        ("future", &a.future),
                    ] {
                        if !text.trim().is_empty() {
                            items.push(json!({ "linkId": link, "answer": [{ "valueString": text }] }));
                        }
                    }
                    let mut r = json!({
                        "resourceType": "QuestionnaireResponse",
                        "id": a.id.to_string(),
                        "questionnaire": format!("{KINDRED}/Questionnaire/family-assessment"),
                        "status": "completed",
                        "subject": group.clone(),
                        "authored": date(a.assessed_on),
                        "author": { "display": a.organisation_name },
                    });
                    if !items.is_empty() {
                        r["item"] = json!(items);
                    }
                    Item {
                        id: a.id,
                        about: vec![],
                        resource: r,
                    }
                })
                .collect()
        }
    };
    Ok(items)
}

/// The family a resource of `kind` numbered `id` is about, if it exists.
async fn family_of(state: &AppState, c: &ApiCaller, kind: Kind, id: i64) -> Result<Option<i64>, AppError> {
    let db = &state.db;
    let owned = |k| async move { db.fhir_family_of(k, id).await };
    Ok(match kind {
        Kind::Patient => None,
        Kind::Group | Kind::CareTeam | Kind::CarePlan => Some(id),
        Kind::EpisodeOfCare => owned(FamilyOwned::Episode).await?,
        Kind::Goal => owned(FamilyOwned::Goal).await?,
        Kind::Flag => owned(FamilyOwned::Flag).await?,
        Kind::QuestionnaireResponse => owned(FamilyOwned::Assessment).await?,
        Kind::ServiceRequest => owned(FamilyOwned::Referral).await?,
        Kind::RelatedPerson => match db.relationship_persons(id).await? {
            Some((_, to)) => first_visible_family(state, c, to).await?,
            None => None,
        },
        Kind::Consent => match db.consent(id).await? {
            Some(consent) => first_visible_family(state, c, consent.person_id).await?,
            None => None,
        },
    })
}

/// The families of a person the caller may view (no audit: the caller opens each).
async fn visible_families(state: &AppState, c: &ApiCaller, person_id: i64) -> Result<Vec<i64>, AppError> {
    let families = state.db.families_of_person(person_id).await?;
    gate::filter_visible(state, &c.cu, &families).await
}

async fn first_visible_family(state: &AppState, c: &ApiCaller, person_id: i64) -> Result<Option<i64>, AppError> {
    Ok(visible_families(state, c, person_id).await?.into_iter().next())
}

/// Patients with the address shown only where the policy allows.
async fn patients(state: &AppState, c: &ApiCaller, persons: Vec<Person>) -> Result<Vec<(i64, Value)>, AppError> {
    let mut shown_ids = vec![];
    for p in &persons {
        if gate::person_contact_shown(state, &c.cu, p.id).await? {
            shown_ids.push(p.id);
        }
    }
    let addresses = state.db.current_addresses(&shown_ids).await?;
    Ok(persons
        .iter()
        .map(|p| (p.id, patient(p, addresses.get(&p.id))))
        .collect())
}

// ---------- read ----------

/// GET /fhir/{type}/{id}
pub async fn read(
    State(state): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
    c: Result<ApiCaller, ApiAuthError>,
) -> Response {
    let c = match caller(c) {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(kind) = Kind::parse(&ty) else {
        return outcome(
            StatusCode::NOT_FOUND,
            "not-supported",
            &format!("Resource type {ty:?} is not supported: see /fhir/metadata"),
        );
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    match read_one(&state, &c, kind, id).await {
        Ok(Some(r)) => fhir(StatusCode::OK, r),
        Ok(None) => not_found(),
        Err(e) => fail(e),
    }
}

async fn read_one(state: &AppState, c: &ApiCaller, kind: Kind, id: i64) -> Result<Option<Value>, AppError> {
    let route = format!("fhir GET /fhir/{}/{{id}}", kind.name());
    if kind == Kind::Patient {
        let (person, _) = match gate::person(state, &c.cu, id, FamilyAction::View, false, &route).await {
            Ok(p) => p,
            Err(AppError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        return Ok(patients(state, c, vec![person]).await?.pop().map(|(_, r)| r));
    }
    let Some(family_id) = family_of(state, c, kind, id).await? else {
        return Ok(None);
    };
    let items = match family_items(state, c, kind, family_id, &route).await {
        Ok(items) => items,
        Err(AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(items.into_iter().find(|i| i.id == id).map(|i| i.resource))
}

// ---------- search ----------

/// A reference search value: `Patient/12`, `12` (for `patient`), or `Group/3`.
fn parse_reference(value: &str, default_kind: &str) -> Option<(String, i64)> {
    let (k, id) = match value.rsplit_once('/') {
        Some((k, id)) => (k.rsplit('/').next().unwrap_or(k).to_string(), id),
        None => (default_kind.to_string(), value),
    };
    id.trim().parse().ok().map(|id| (k, id))
}

/// GET /fhir/{type}
pub async fn search(
    State(state): State<AppState>,
    Path(ty): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    c: Result<ApiCaller, ApiAuthError>,
) -> Response {
    let c = match caller(c) {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(kind) = Kind::parse(&ty) else {
        return outcome(
            StatusCode::NOT_FOUND,
            "not-supported",
            &format!("Resource type {ty:?} is not supported: see /fhir/metadata"),
        );
    };
    let raw = raw.unwrap_or_default();
    let Ok(params) = serde_urlencoded::from_str::<Vec<(String, String)>>(&raw) else {
        return invalid("The query string could not be read");
    };
    let mut count = DEFAULT_COUNT;
    let mut offset = 0usize;
    let mut rest = vec![];
    for (k, v) in &params {
        match k.as_str() {
            "_count" => match v.parse::<usize>() {
                Ok(n) => count = n.min(MAX_COUNT),
                Err(_) => return invalid("_count must be a whole number from 0 to 100"),
            },
            "_offset" => match v.parse::<usize>() {
                Ok(n) => offset = n,
                Err(_) => return invalid("_offset must be a whole number, 0 or more"),
            },
            "_format" => {}
            "_id" => rest.push((k.clone(), v.clone())),
            other if kind.params().iter().any(|(p, _)| *p == other) => rest.push((k.clone(), v.clone())),
            other => {
                return invalid(&format!(
                    "Unknown search parameter {other:?} for {}: see /fhir/metadata",
                    kind.name()
                ));
            }
        }
    }
    let route = format!("fhir GET /fhir/{}", kind.name());
    let found = if kind == Kind::Patient {
        search_patients(&state, &c, &rest, count, offset, &route).await
    } else {
        search_family_items(&state, &c, kind, &rest, count, offset, &route).await
    };
    let (total, page) = match found {
        Ok(Ok(x)) => x,
        Ok(Err(res)) => return res,
        Err(e) => return fail(e),
    };
    // One audit event for the search itself, naming what was asked for
    // (parameter names, never their values) and how much came back.
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    if let Err(e) = gate::audit(
        &state,
        &c.cu,
        kindred_domain::audit::AuditAction::Read,
        gate::Record::Search,
        &route,
        format!("fhir_search={} params={} total={total}", kind.name(), names.join(",")),
    )
    .await
    {
        return fail(e);
    }
    let base = base(&state, &headers);
    fhir(StatusCode::OK, bundle(&base, kind, &params, total, count, offset, page))
}

fn bundle(
    base: &str,
    kind: Kind,
    params: &[(String, String)],
    total: usize,
    count: usize,
    offset: usize,
    page: Vec<(i64, Value)>,
) -> Value {
    let url = |off: usize| {
        let mut q: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "_count" && k != "_offset")
            .cloned()
            .collect();
        q.push(("_count".into(), count.to_string()));
        q.push(("_offset".into(), off.to_string()));
        format!(
            "{base}/{}?{}",
            kind.name(),
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    let mut links = vec![json!({ "relation": "self", "url": url(offset) })];
    if offset + count < total && count > 0 {
        links.push(json!({ "relation": "next", "url": url(offset + count) }));
    }
    if offset > 0 {
        links.push(json!({ "relation": "previous", "url": url(offset.saturating_sub(count.max(1))) }));
    }
    let mut b = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    });
    if !page.is_empty() {
        b["entry"] = json!(
            page.into_iter()
                .map(|(id, r)| json!({
                    "fullUrl": format!("{base}/{}/{id}", kind.name()),
                    "resource": r,
                    "search": { "mode": "match" },
                }))
                .collect::<Vec<_>>()
        );
    }
    b
}

type Found = Result<Result<(usize, Vec<(i64, Value)>), Response>, AppError>;

async fn search_patients(
    state: &AppState,
    c: &ApiCaller,
    params: &[(String, String)],
    count: usize,
    offset: usize,
    route: &str,
) -> Found {
    let mut q = PersonQuery::default();
    for (k, v) in params {
        let v = v.trim();
        match k.as_str() {
            "identifier" => {
                let (system, value) = v.split_once('|').unwrap_or(("", v));
                if !system.is_empty() && system != NHS_NUMBER_SYSTEM {
                    return Ok(Err(invalid(
                        "identifier: only the NHS number system https://fhir.nhs.uk/Id/nhs-number is searchable",
                    )));
                }
                match kindred_domain::nhs_number::NhsNumber::parse(value) {
                    Ok(n) => q.nhs_number = Some(n.as_digits()),
                    Err(_) => {
                        return Ok(Err(invalid(
                            "identifier: give a valid 10-digit NHS number, like https://fhir.nhs.uk/Id/nhs-number|9991234567",
                        )));
                    }
                }
            }
            "family" if !v.is_empty() => q.family = Some(v.to_string()),
            "given" if !v.is_empty() => q.given = Some(v.to_string()),
            "birthdate" => {
                let v = v.strip_prefix("eq").unwrap_or(v);
                match time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
                    Ok(d) => q.birthdate = Some(d),
                    Err(_) => return Ok(Err(invalid("birthdate: give a date like 2022-05-05"))),
                }
            }
            "address-postalcode" => match kindred_domain::postcode::Postcode::parse(v) {
                Ok(p) => q.postcode = Some(p.as_str().to_string()),
                Err(_) => {
                    return Ok(Err(invalid(
                        "address-postalcode: give a full UK postcode, like SW1A 1AA",
                    )));
                }
            },
            "_id" => match v.parse::<i64>() {
                Ok(id) => q.id = Some(id),
                Err(_) => return Ok(Ok((0, vec![]))),
            },
            _ => return Ok(Err(invalid(&format!("{k}: give a value to search by")))),
        }
    }
    if q.nhs_number.is_none()
        && q.family.is_none()
        && q.given.is_none()
        && q.birthdate.is_none()
        && q.postcode.is_none()
        && q.id.is_none()
    {
        return Ok(Err(invalid(
            "Search Patient by identifier, family, given, birthdate, address-postalcode or _id",
        )));
    }
    let candidates = state
        .db
        .fhir_find_persons(c.cu.user.tenant_id, &q, MAX_CANDIDATES)
        .await?;
    let visible = gate::persons_allowed(state, &c.cu, &candidates, FamilyAction::View).await?;
    let total = visible.len();
    let mut persons = vec![];
    for id in visible.into_iter().skip(offset).take(count) {
        // Opens (and audits) each person returned, as the person page does.
        persons.push(
            gate::person(state, &c.cu, id, FamilyAction::View, false, route)
                .await?
                .0,
        );
    }
    Ok(Ok((total, patients(state, c, persons).await?)))
}

async fn search_family_items(
    state: &AppState,
    c: &ApiCaller,
    kind: Kind,
    params: &[(String, String)],
    count: usize,
    offset: usize,
    route: &str,
) -> Found {
    let mut families: Option<Vec<i64>> = None;
    let mut patient: Option<i64> = None;
    let mut only_id: Option<i64> = None;
    for (k, v) in params {
        match k.as_str() {
            "_id" => match v.trim().parse::<i64>() {
                Ok(id) => only_id = Some(id),
                Err(_) => return Ok(Ok((0, vec![]))),
            },
            "patient" | "subject" | "member" => {
                let Some((target, id)) = parse_reference(v.trim(), "Patient") else {
                    return Ok(Err(invalid(&format!("{k}: give a reference like Patient/123"))));
                };
                let fams = match target.as_str() {
                    "Patient" => {
                        patient = Some(id);
                        visible_families(state, c, id).await?
                    }
                    "Group" if k == "subject" => gate::filter_visible(state, &c.cu, &[id]).await?,
                    _ => return Ok(Err(invalid(&format!("{k}: give a reference like Patient/123")))),
                };
                families = Some(match families {
                    Some(prev) => prev.into_iter().filter(|f| fams.contains(f)).collect(),
                    None => fams,
                });
            }
            _ => return Ok(Err(invalid(&format!("{k}: not supported for {}", kind.name())))),
        }
    }
    let families = match (families, only_id) {
        (Some(f), _) => f,
        (None, Some(id)) => family_of(state, c, kind, id).await?.into_iter().collect(),
        (None, None) => {
            return Ok(Err(invalid(&format!(
                "Search {} by {} or _id",
                kind.name(),
                kind.params().iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", ")
            ))));
        }
    };
    let mut all = vec![];
    for family_id in families {
        let items = match family_items(state, c, kind, family_id, route).await {
            Ok(items) => items,
            Err(AppError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        for i in items {
            let about_patient = patient.is_none_or(|p| i.about.is_empty() || i.about.contains(&p));
            if about_patient
                && only_id.is_none_or(|id| id == i.id)
                && !all.iter().any(|(id, _): &(i64, Value)| *id == i.id)
            {
                all.push((i.id, i.resource));
            }
        }
    }
    let total = all.len();
    Ok(Ok((total, all.into_iter().skip(offset).take(count).collect())))
}
