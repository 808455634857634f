//! Administration of information sharing (issue 5): information-sharing
//! agreements — their parties (organisations of this council or of another in
//! the deployment), purposes, data categories, lawful basis and dates — and
//! the council's own consent purposes. Administrators see no case content.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::audit::AuditAction;
use kindred_domain::dates;
use kindred_domain::sharing::{BUILT_IN_PURPOSES, DataCategory, LawfulBasis};
use kindred_store::StoreError;
use kindred_store::consents::NewAgreement;

use crate::AppState;
use crate::access as gate;
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::{self, Errors};
use crate::layout::Layout;

struct AgreementRow {
    id: i64,
    title: String,
    basis: String,
    purposes: String,
    categories: String,
    /// (council, its organisations)
    parties: Vec<(String, String)>,
    dates: String,
    status: &'static str,
    can_end: bool,
}

#[derive(Debug, Default)]
struct AgreementForm {
    title: String,
    basis: String,
    purposes: Vec<String>,
    categories: Vec<String>,
    parties: Vec<i64>,
    start_day: String,
    start_month: String,
    start_year: String,
    end_day: String,
    end_month: String,
    end_year: String,
}

impl AgreementForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let all = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.trim().to_string())
                .collect()
        };
        let value = |k: &str| forms::field(pairs, k);
        AgreementForm {
            title: value("title"),
            basis: value("lawful_basis"),
            purposes: all("purpose"),
            categories: all("category"),
            parties: all("party").iter().filter_map(|v| v.parse().ok()).collect(),
            start_day: value("starts_day"),
            start_month: value("starts_month"),
            start_year: value("starts_year"),
            end_day: value("ends_day"),
            end_month: value("ends_month"),
            end_year: value("ends_year"),
        }
    }
}

/// A council's organisations as checkboxes.
struct PartyGroup {
    tenant: String,
    own: bool,
    /// (organisation id, name, kind, ticked)
    organisations: Vec<(i64, String, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "admin_sharing_agreements.html")]
struct AgreementsPage {
    l: Layout,
    agreements: Vec<AgreementRow>,
    form: AgreementForm,
    errors: Errors,
    /// (code, label, chosen)
    bases: Vec<(&'static str, &'static str, bool)>,
    purposes: Vec<(String, String, bool)>,
    categories: Vec<(&'static str, &'static str, bool)>,
    groups: Vec<PartyGroup>,
}

/// Kindred's purposes, then the tenant's own: (code, label).
async fn all_purposes(state: &AppState, tenant_id: i64) -> AppResult<Vec<(String, String)>> {
    let mut all: Vec<(String, String)> = BUILT_IN_PURPOSES
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect();
    all.extend(state.db.consent_purposes(tenant_id).await?);
    Ok(all)
}

async fn agreements_page(
    state: &AppState,
    cu: &CurrentUser,
    form: AgreementForm,
    errors: Errors,
) -> AppResult<AgreementsPage> {
    let today = kindred_store::today();
    let purposes = all_purposes(state, cu.user.tenant_id).await?;
    let label = |code: &str| {
        purposes
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| code.replace('_', " "))
    };
    let agreements = state
        .db
        .agreements_for_tenant(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|a| {
            let mut parties: Vec<(String, String)> = vec![];
            for p in &a.parties {
                match parties.iter_mut().find(|(t, _)| *t == p.tenant_name) {
                    Some((_, orgs)) => {
                        orgs.push_str(", ");
                        orgs.push_str(&p.organisation_name);
                    }
                    None => parties.push((p.tenant_name.clone(), p.organisation_name.clone())),
                }
            }
            let status = if a.active(today) {
                "Active"
            } else if a.starts_on > today {
                "Not yet started"
            } else {
                "Ended"
            };
            AgreementRow {
                id: a.id,
                basis: LawfulBasis::parse(&a.lawful_basis)
                    .map(|b| b.label().to_string())
                    .unwrap_or_else(|| a.lawful_basis.clone()),
                purposes: a.purposes.iter().map(|p| label(p)).collect::<Vec<_>>().join(", "),
                categories: a
                    .categories
                    .iter()
                    .map(|c| DataCategory::parse(c).map(|c| c.label()).unwrap_or(c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
                parties,
                dates: match a.ends_on {
                    Some(e) => format!("{} to {}", dates::long(a.starts_on), dates::long(e)),
                    None => format!("From {}, no end date", dates::long(a.starts_on)),
                },
                status,
                can_end: status != "Ended" && a.tenant_id == cu.user.tenant_id,
                title: a.title,
            }
        })
        .collect();
    let groups = state
        .db
        .organisations_by_tenant()
        .await?
        .into_iter()
        .map(|(t, orgs)| PartyGroup {
            own: t.id == cu.user.tenant_id,
            tenant: t.name,
            organisations: orgs
                .into_iter()
                .filter(|o| o.active)
                .map(|o| (o.id, o.name, o.kind.label(), form.parties.contains(&o.id)))
                .collect(),
        })
        .collect();
    let chosen_purposes: Vec<String> = if form.purposes.is_empty() && errors.is_empty() {
        vec![kindred_domain::sharing::EARLY_HELP_SHARING.into()]
    } else {
        form.purposes.clone()
    };
    Ok(AgreementsPage {
        l: Layout::new(
            if errors.is_empty() {
                "Information-sharing agreements"
            } else {
                "Error: Information-sharing agreements"
            },
            cu,
        ),
        agreements,
        bases: LawfulBasis::ALL
            .iter()
            .map(|b| (b.code(), b.label(), form.basis == b.code()))
            .collect(),
        purposes: purposes
            .into_iter()
            .map(|(c, l)| {
                let chosen = chosen_purposes.contains(&c);
                (c, l, chosen)
            })
            .collect(),
        categories: DataCategory::ALL
            .iter()
            .map(|c| (c.code(), c.label(), form.categories.iter().any(|x| x == c.code())))
            .collect(),
        groups,
        form,
        errors,
    })
}

pub async fn agreements(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    let page = agreements_page(&state, &cu, AgreementForm::default(), Errors::default()).await?;
    Ok(Html(page.render()?))
}

pub async fn create_agreement(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let f = AgreementForm::from_pairs(&pairs);
    let mut errors = Errors::default();
    if f.title.is_empty() {
        errors.add("title", "Enter the agreement's title");
    }
    let basis = LawfulBasis::parse(&f.basis);
    if basis.is_none() {
        errors.add("lawful_basis", "Select the lawful basis the agreement states");
    }
    let purposes = all_purposes(&state, cu.user.tenant_id).await?;
    if f.purposes.is_empty() || !f.purposes.iter().all(|p| purposes.iter().any(|(c, _)| c == p)) {
        errors.add("purpose", "Select at least one purpose the agreement covers");
    }
    let categories: Vec<DataCategory> = f.categories.iter().filter_map(|c| DataCategory::parse(c)).collect();
    if categories.is_empty() || categories.len() != f.categories.len() {
        errors.add(
            "category",
            "Select at least one kind of information the agreement lets flow",
        );
    }
    let orgs = state.db.organisations_by_tenant().await?;
    let party_tenant = |id: i64| {
        orgs.iter()
            .find(|(_, os)| os.iter().any(|o| o.id == id && o.active))
            .map(|(t, _)| t.id)
    };
    let tenants: Option<Vec<i64>> = f.parties.iter().map(|p| party_tenant(*p)).collect();
    match tenants {
        None => errors.add("party", "Select the parties from the list"),
        Some(_) if f.parties.len() < 2 => errors.add(
            "party",
            "Select at least two organisations: information flows between parties",
        ),
        Some(ts) if !ts.contains(&cu.user.tenant_id) => errors.add(
            "party",
            "Select at least one of your council's organisations as a party",
        ),
        Some(_) => {}
    }
    let starts_on = match dates::parse_date_parts(&f.start_day, &f.start_month, &f.start_year) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("starts", format!("The start date {e}"));
            None
        }
    };
    let ends_on = if [&f.end_day, &f.end_month, &f.end_year].iter().all(|s| s.is_empty()) {
        Some(None)
    } else {
        match dates::parse_date_parts(&f.end_day, &f.end_month, &f.end_year) {
            Ok(e) if starts_on.is_some_and(|s| e < s) => {
                errors.add("ends", "The end date must be on or after the start date");
                None
            }
            Ok(e) => Some(Some(e)),
            Err(e) => {
                errors.add("ends", format!("The end date {e}"));
                None
            }
        }
    };
    let (Some(basis), Some(starts_on), Some(ends_on), true) = (basis, starts_on, ends_on, errors.is_empty()) else {
        let page = agreements_page(&state, &cu, f, errors).await?;
        return crate::errors::invalid(page);
    };
    let id = state
        .db
        .create_agreement(&NewAgreement {
            tenant_id: cu.user.tenant_id,
            title: f.title.clone(),
            lawful_basis: basis,
            purposes: f.purposes.clone(),
            categories,
            starts_on,
            ends_on,
            organisation_ids: f.parties.clone(),
            created_by_user_id: cu.user.id,
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::SharingAgreement(id),
        "web POST /admin/sharing-agreements",
        basis.code().into(),
    )
    .await?;
    Ok(Redirect::to("/admin/sharing-agreements").into_response())
}

/// Ends an agreement the administrator's council made: from today it covers
/// nothing (its last day was yesterday).
pub async fn end_agreement(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<crate::auth::Empty>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let a = state.db.agreement(id).await?.ok_or(AppError::NotFound)?;
    if a.tenant_id != cu.user.tenant_id {
        return Err(AppError::NotFound);
    }
    let yesterday = kindred_store::today() - time::Duration::days(1);
    if a.ends_on.is_none_or(|e| e > yesterday) {
        state.db.end_agreement(id, yesterday).await?;
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        gate::Record::SharingAgreement(id),
        "web POST /admin/sharing-agreements/{id}/end",
        "ended".into(),
    )
    .await?;
    Ok(Redirect::to("/admin/sharing-agreements").into_response())
}

// ---------- the council's own consent purposes ----------

#[derive(Template)]
#[template(path = "admin_consent_purposes.html")]
struct PurposesPage {
    l: Layout,
    /// (code, label, built in)
    purposes: Vec<(String, String, bool)>,
    new_label: String,
    new_code: String,
    errors: Errors,
}

async fn purposes_page(
    state: &AppState,
    cu: &CurrentUser,
    label: String,
    code: String,
    errors: Errors,
) -> AppResult<PurposesPage> {
    let mut purposes: Vec<(String, String, bool)> = BUILT_IN_PURPOSES
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string(), true))
        .collect();
    purposes.extend(
        state
            .db
            .consent_purposes(cu.user.tenant_id)
            .await?
            .into_iter()
            .map(|(c, l)| (c, l, false)),
    );
    Ok(PurposesPage {
        l: Layout::new(
            if errors.is_empty() {
                "Consent purposes"
            } else {
                "Error: Consent purposes"
            },
            cu,
        ),
        purposes,
        new_label: label,
        new_code: code,
        errors,
    })
}

/// A code from a label: lower case letters and digits joined by underscores.
pub fn code_from(label: &str) -> String {
    let mut out = String::new();
    for ch in label.trim().to_lowercase().chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_')
        .chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('_')
        .to_string()
}

pub async fn purposes(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Html<String>> {
    gate::require_admin(&cu)?;
    let page = purposes_page(&state, &cu, String::new(), String::new(), Errors::default()).await?;
    Ok(Html(page.render()?))
}

pub async fn add_purpose(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let label = forms::field(&pairs, "label");
    let entered = forms::field(&pairs, "code");
    let mut errors = Errors::default();
    if label.is_empty() {
        errors.add(
            "label",
            "Enter what the consent is for, for example Youth club activities",
        );
    }
    let code = if entered.is_empty() {
        code_from(&label)
    } else {
        entered.clone()
    };
    if !entered.is_empty()
        && (entered.len() > 40
            || !entered
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        errors.add(
            "code",
            "The code must be up to 40 lower case letters, digits and underscores, like youth_club",
        );
    } else if !label.is_empty() && code.is_empty() {
        errors.add(
            "code",
            "Enter a code made of lower case letters, digits and underscores",
        );
    }
    let existing = state.db.consent_purposes(cu.user.tenant_id).await?;
    let taken = BUILT_IN_PURPOSES.iter().any(|(c, _)| *c == code) || existing.iter().any(|(c, _)| *c == code);
    if errors.is_empty() && taken {
        errors.add(
            "code",
            format!("A purpose with the code {code} already exists: choose another code or label"),
        );
    }
    if errors.is_empty() {
        match state.db.add_consent_purpose(cu.user.tenant_id, &code, &label).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => errors.add(
                "code",
                format!("A purpose with the code {code} already exists: choose another code or label"),
            ),
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        let page = purposes_page(&state, &cu, label, entered, errors).await?;
        return crate::errors::invalid(page);
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        gate::Record::ConsentPurposes,
        "web POST /admin/consent-purposes",
        code,
    )
    .await?;
    Ok(Redirect::to("/admin/consent-purposes").into_response())
}

#[cfg(test)]
mod tests {
    use super::code_from;

    #[test]
    fn codes_from_labels() {
        assert_eq!(code_from("Youth club activities"), "youth_club_activities");
        assert_eq!(code_from("  Parenting: course (2026)! "), "parenting_course_2026");
        assert_eq!(code_from("—"), "");
    }
}
