//! Consent and sharing with one family (issue 5): each member's consents,
//! what reaches the reader's organisation and why, and — for whoever may edit
//! the family — recording a consent and withdrawing one, which takes effect
//! on the very next request (`domain::sharing::shares` reads it).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::model::{MemberRole, OrgKind};
use kindred_domain::sharing::{self, BUILT_IN_PURPOSES, ConsentMethod, DataCategory, SharingBasis, SharingFacts};
use kindred_store::consents::{Consent, NewConsent};
use kindred_store::families::Family;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{self, Errors};
use crate::layout::Layout;

const ROUTE: &str = "web GET /families/{id}/consent";

/// The value of the "who gave consent" choice for a person giving their own.
const SELF: &str = "self";

struct ConsentView {
    id: i64,
    person: String,
    purpose: String,
    scope: String,
    given_by: String,
    competence: String,
    method: &'static str,
    evidence: String,
    given_on: String,
    recorded_by: String,
    active: bool,
    /// "Withdrawn on … by …", with the note if any.
    withdrawn: String,
}

/// What of one organisation's information reaches the reader, and why.
struct SharedRow {
    organisation: String,
    notes: Option<String>,
    assessments: Option<String>,
}

/// The consent form as typed, kept when it is refused.
#[derive(Debug, Default)]
struct ConsentForm {
    person: String,
    given_by: String,
    competence: String,
    purpose: String,
    all_partners: bool,
    organisations: Vec<i64>,
    kinds: Vec<String>,
    day: String,
    month: String,
    year: String,
    method: String,
    evidence: String,
}

impl ConsentForm {
    fn from_pairs(pairs: &[(String, String)]) -> ConsentForm {
        let value = |k: &str| forms::field(pairs, k);
        ConsentForm {
            person: value("person_id"),
            given_by: value("given_by"),
            competence: value("competence"),
            purpose: value("purpose"),
            all_partners: forms::ticked(pairs, "all_partners"),
            organisations: pairs
                .iter()
                .filter(|(k, _)| k == "organisation")
                .filter_map(|(_, v)| v.parse().ok())
                .collect(),
            kinds: pairs
                .iter()
                .filter(|(k, _)| k == "kind")
                .map(|(_, v)| v.clone())
                .collect(),
            day: value("given_day"),
            month: value("given_month"),
            year: value("given_year"),
            method: value("method"),
            evidence: value("evidence"),
        }
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    l: Layout,
    id: i64,
    family_name: String,
    reader_organisation: String,
    consents: Vec<ConsentView>,
    active_count: usize,
    shared: Vec<SharedRow>,
    can_edit: bool,
    form: ConsentForm,
    errors: Errors,
    /// (person id, name, chosen)
    members: Vec<(i64, String, bool)>,
    /// (value, label, chosen): the parents and carers, then the person themselves.
    givers: Vec<(String, String, bool)>,
    /// (code, label, chosen)
    purposes: Vec<(String, String, bool)>,
    /// (organisation id, name, ticked)
    organisations: Vec<(i64, String, bool)>,
    /// (code, label, ticked)
    kinds: Vec<(&'static str, &'static str, bool)>,
    /// (code, label, chosen)
    methods: Vec<(&'static str, &'static str, bool)>,
}

/// Built-in purposes, then the tenant's own.
async fn purposes(state: &AppState, tenant_id: i64) -> AppResult<Vec<(String, String)>> {
    let mut all: Vec<(String, String)> = BUILT_IN_PURPOSES
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect();
    all.extend(state.db.consent_purposes(tenant_id).await?);
    Ok(all)
}

fn label_of(purposes: &[(String, String)], code: &str) -> String {
    purposes
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, l)| l.clone())
        .unwrap_or_else(|| code.to_string())
}

/// The organisations a consent about this family may name: the family's
/// tenant's, and partners of other tenants under an agreement. (id, name)
async fn scope_organisations(state: &AppState, family: &Family, partners: &[i64]) -> AppResult<Vec<(i64, String)>> {
    let mut orgs: Vec<(i64, String)> = state
        .db
        .organisations(family.tenant_id)
        .await?
        .into_iter()
        .filter(|o| o.active)
        .map(|o| (o.id, o.name))
        .collect();
    for p in partners {
        if let Ok(o) = state.db.organisation(*p).await {
            orgs.push((o.id, format!("{} (another council)", o.name)));
        }
    }
    Ok(orgs)
}

fn view(c: &Consent, purposes: &[(String, String)], today: time::Date) -> ConsentView {
    let mut scope: Vec<String> = vec![];
    if c.all_partners {
        scope.push("All partners".into());
    }
    scope.extend(c.organisations.iter().map(|(_, n)| n.clone()));
    scope.extend(
        c.kinds
            .iter()
            .map(|k| format!("any {} service", k.label().to_lowercase())),
    );
    let given_by = match (&c.given_by_name, c.given_by_person_id) {
        (Some(n), Some(g)) if g == c.person_id => format!("{n}, for themselves"),
        (Some(n), _) => format!("{n}, on their behalf"),
        (None, _) => format!("{}, for themselves (judged competent)", c.person_name),
    };
    let withdrawn = match c.withdrawn_on {
        Some(w) => {
            let mut s = format!("Withdrawn on {}", dates::long(w));
            if let Some(by) = &c.withdrawn_by_name {
                s.push_str(&format!(", recorded by {by}"));
            }
            if let Some(note) = c.withdrawal_note.as_deref().filter(|n| !n.is_empty()) {
                s.push_str(&format!(": {note}"));
            }
            s
        }
        None => String::new(),
    };
    ConsentView {
        id: c.id,
        person: c.person_name.clone(),
        purpose: label_of(purposes, &c.purpose),
        scope: scope.join(", "),
        given_by,
        competence: c.competence_judgement.clone().unwrap_or_default(),
        method: ConsentMethod::parse(&c.method)
            .map(|m| m.label())
            .unwrap_or("Not recorded"),
        evidence: c.evidence.clone(),
        given_on: dates::long(c.given_on),
        recorded_by: c.recorded_by_name.clone(),
        active: c.active(today),
        withdrawn,
    }
}

/// Why information crosses, in words.
fn basis_words(
    basis: SharingBasis,
    consents: &[Consent],
    sharing: &SharingFacts,
    purposes: &[(String, String)],
) -> String {
    match basis {
        SharingBasis::SameOrganisation => "Your own organisation's".into(),
        SharingBasis::Consent(id) => consents
            .iter()
            .find(|c| c.id == id)
            .map(|c| {
                let who = match &c.given_by_name {
                    Some(n) => n.clone(),
                    None => c.person_name.clone(),
                };
                format!(
                    "Shared with consent: {}, given by {} on {}",
                    label_of(purposes, &c.purpose).to_lowercase(),
                    who,
                    dates::long(c.given_on)
                )
            })
            .unwrap_or_else(|| "Shared with consent".into()),
        SharingBasis::Agreement(id) => sharing
            .agreements
            .iter()
            .find(|a| a.id == id)
            .map(|a| {
                format!(
                    "Shared under the information-sharing agreement “{}” ({})",
                    a.title,
                    a.lawful_basis.label().to_lowercase()
                )
            })
            .unwrap_or_else(|| "Shared under an information-sharing agreement".into()),
        SharingBasis::SafeguardingOverride(_) => "Shared under a safeguarding override".into(),
        SharingBasis::BreakGlass(_) => "Shared because you broke the glass (emergency access)".into(),
    }
}

async fn page(
    state: &AppState,
    cu: &CurrentUser,
    family: Family,
    can_edit: bool,
    partners: &[i64],
    form: ConsentForm,
    errors: Errors,
) -> AppResult<ConsentPage> {
    let db = &state.db;
    let id = family.id;
    let today = kindred_store::today();
    let purposes = purposes(state, family.tenant_id).await?;
    let consents = db.consents_of_family(id).await?;
    let sharing = gate::sharing_facts(state, id).await?;
    let subject = cu.user.subject();
    let at = gate::at();
    // The organisations with information about the family: involved now or
    // before, or that recorded contacts.
    let mut sources: BTreeMap<i64, String> = BTreeMap::new();
    for i in db.involvements(id).await? {
        sources.insert(i.organisation_id, i.organisation_name);
    }
    for c in db.contact_counts(id, time::macros::date!(1900 - 01 - 01)).await? {
        sources.insert(c.organisation_id, c.organisation_name);
    }
    let mut shared: Vec<SharedRow> = sources
        .into_iter()
        .filter(|(org, _)| *org != cu.user.organisation_id)
        .map(|(org, name)| {
            let words = |category| {
                sharing::shares(&subject, &sharing, org, sharing::EARLY_HELP_SHARING, category, at)
                    .map(|b| basis_words(b, &consents, &sharing, &purposes))
            };
            SharedRow {
                organisation: name,
                notes: words(DataCategory::CaseNotes),
                assessments: words(DataCategory::Assessments),
            }
        })
        .collect();
    shared.sort_by(|a, b| a.organisation.cmp(&b.organisation));
    let members = db.members(id).await?;
    let current: Vec<_> = members.iter().filter(|m| m.left_on.is_none()).collect();
    let chosen_person = form.person.parse::<i64>().ok();
    let mut givers: Vec<(String, String, bool)> = current
        .iter()
        .filter(|m| matches!(m.role, MemberRole::Parent | MemberRole::Carer))
        .map(|m| {
            let v = m.person.id.to_string();
            let chosen = form.given_by == v;
            (
                v,
                format!("{}, {}", m.person.full_name(), m.role.label().to_lowercase()),
                chosen,
            )
        })
        .collect();
    givers.push((
        SELF.into(),
        "The person themselves: an adult, or a young person judged competent to decide".into(),
        form.given_by == SELF,
    ));
    let organisations = scope_organisations(state, &family, partners)
        .await?
        .into_iter()
        .map(|(o, n)| (o, n, form.organisations.contains(&o)))
        .collect();
    let kinds = OrgKind::ALL
        .iter()
        .map(|k| (k.code(), k.label(), form.kinds.iter().any(|c| c == k.code())))
        .collect();
    let methods = ConsentMethod::ALL
        .iter()
        .map(|m| (m.code(), m.label(), form.method == m.code()))
        .collect();
    let chosen_purpose = if form.purpose.is_empty() {
        sharing::EARLY_HELP_SHARING.to_string()
    } else {
        form.purpose.clone()
    };
    let purpose_options = purposes
        .iter()
        .map(|(c, l)| (c.clone(), l.clone(), *c == chosen_purpose))
        .collect();
    let active_count = consents.iter().filter(|c| c.active(today)).count();
    let reader_organisation = db
        .organisation(cu.user.organisation_id)
        .await
        .map(|o| o.name)
        .unwrap_or_default();
    let title = if errors.is_empty() {
        format!("Consent and sharing: {}", family.name)
    } else {
        format!("Error: Consent and sharing: {}", family.name)
    };
    Ok(ConsentPage {
        l: Layout::new(title, cu),
        id,
        family_name: family.name,
        reader_organisation,
        consents: consents.iter().map(|c| view(c, &purposes, today)).collect(),
        active_count,
        shared,
        can_edit,
        members: current
            .iter()
            .map(|m| (m.person.id, m.person.full_name(), Some(m.person.id) == chosen_person))
            .collect(),
        givers,
        purposes: purpose_options,
        organisations,
        kinds,
        methods,
        form,
        errors,
    })
}

pub async fn show(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    let (family, _, facts) = gate::family_with_facts(&state, &cu, id, FamilyAction::View, false, ROUTE).await?;
    let can_edit = access::family(&cu.user.subject(), &facts, FamilyAction::Edit).allowed();
    let p = page(
        &state,
        &cu,
        family,
        can_edit,
        &facts.partner_organisation_ids,
        ConsentForm::default(),
        Errors::default(),
    )
    .await?;
    Ok(Html(p.render()?).into_response())
}

pub async fn record(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/consent";
    let (family, _, facts) = gate::family_with_facts(&state, &cu, id, FamilyAction::Edit, true, route).await?;
    let f = ConsentForm::from_pairs(&pairs);
    let today = kindred_store::today();
    let mut errors = Errors::default();
    let members = state.db.members(id).await?;
    let current: Vec<_> = members.iter().filter(|m| m.left_on.is_none()).collect();
    let person = f
        .person
        .parse::<i64>()
        .ok()
        .and_then(|p| current.iter().find(|m| m.person.id == p).copied());
    if person.is_none() {
        errors.add("person_id", "Select the family member the consent is about");
    }
    // Who gave it: a parent or carer of the family, or the person themselves.
    let mut given_by: Option<Option<i64>> = None;
    if f.given_by == SELF {
        if let Some(m) = person {
            let adult = match m.person.date_of_birth {
                Some(dob) => dates::age_in_years(dob, today) >= 18,
                None => matches!(m.role, MemberRole::Parent | MemberRole::Carer | MemberRole::Grandparent),
            };
            if adult {
                given_by = Some(Some(m.person.id));
            } else if f.competence.is_empty() {
                errors.add(
                    "competence",
                    "Enter your judgement of the young person's competence to consent for themselves",
                );
            } else {
                given_by = Some(None);
            }
        }
    } else if let Some(g) = f.given_by.parse::<i64>().ok().and_then(|g| {
        current
            .iter()
            .find(|m| m.person.id == g && matches!(m.role, MemberRole::Parent | MemberRole::Carer))
    }) {
        given_by = Some(Some(g.person.id));
    } else {
        errors.add(
            "given_by",
            "Select who gave consent: a parent or carer, or the person themselves",
        );
    }
    let all_purposes = purposes(&state, family.tenant_id).await?;
    if !all_purposes.iter().any(|(c, _)| *c == f.purpose) {
        errors.add("purpose", "Select what the consent is for");
    }
    let allowed_orgs = scope_organisations(&state, &family, &facts.partner_organisation_ids).await?;
    let kinds: Vec<OrgKind> = f.kinds.iter().filter_map(|k| OrgKind::parse(k)).collect();
    let orgs_known = f.organisations.iter().all(|o| allowed_orgs.iter().any(|(a, _)| a == o));
    if !orgs_known || kinds.len() != f.kinds.len() {
        errors.add("scope", "Select organisations and kinds of organisation from the lists");
    } else if !f.all_partners && f.organisations.is_empty() && kinds.is_empty() {
        errors.add(
            "scope",
            "Select all partners, or at least one organisation or kind of organisation the family agreed to share with",
        );
    }
    let given_on = match dates::parse_date_parts(&f.day, &f.month, &f.year) {
        Ok(d) if d > today => {
            errors.add("given", "The date consent was given must be today or in the past");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("given", format!("The date consent was given {e}"));
            None
        }
    };
    let method = ConsentMethod::parse(&f.method);
    if method.is_none() {
        errors.add("method", "Select how consent was given");
    }
    if f.evidence.is_empty() {
        errors.add(
            "evidence",
            "Enter the evidence of consent, for example where the signed form is kept",
        );
    }
    let (Some(person), Some(given_by), Some(given_on), Some(method), true) =
        (person, given_by, given_on, method, errors.is_empty())
    else {
        let p = page(&state, &cu, family, true, &facts.partner_organisation_ids, f, errors).await?;
        return crate::errors::invalid(p);
    };
    let consent = state
        .db
        .record_consent(&NewConsent {
            tenant_id: family.tenant_id,
            person_id: person.person.id,
            given_by_person_id: given_by,
            competence_judgement: (given_by.is_none()).then(|| f.competence.clone()),
            purpose: f.purpose.clone(),
            all_partners: f.all_partners,
            organisation_ids: f.organisations.clone(),
            kinds,
            given_on,
            method,
            evidence: f.evidence.clone(),
            recorded_by_user_id: cu.user.id,
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::Consent {
            id: consent,
            family: id,
        },
        route,
        f.purpose,
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/consent#consent-{consent}")).into_response())
}

pub async fn withdraw(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, consent_id)): Ids<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let route = "web POST /families/{id}/consent/{consent_id}/withdraw";
    gate::change_family(&state, &cu, id, route).await?;
    // Only a consent about a current member of this family.
    if !state
        .db
        .consents_of_family(id)
        .await?
        .iter()
        .any(|c| c.id == consent_id)
    {
        return Err(AppError::NotFound);
    }
    let note = forms::field(&pairs, "note");
    state
        .db
        .withdraw_consent(consent_id, cu.user.id, kindred_store::today(), &note)
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::Consent {
            id: consent_id,
            family: id,
        },
        route,
        "withdrawn".into(),
    )
    .await?;
    Ok(Redirect::to(&format!("/families/{id}/consent#consent-{consent_id}")).into_response())
}
