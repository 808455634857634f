//! Flags (F13) and alert rules. A flag is shown to everyone the policy lets
//! view the family, whatever consent says: a child protection enquiry must
//! reach the voluntary sector worker too. Raising one applies the tenant's
//! alert rules (`Db::raise_alerts`). Administrators keep the rules at
//! `/admin/alert-rules`.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kindred_domain::access::FamilyAction;
use kindred_domain::audit::AuditAction;
use kindred_domain::model::{FlagKind, OrgKind};
use kindred_store::flags::{Flag, NewAlertRule, NewFlag};
use serde::Deserialize;

use crate::AppState;
use crate::access::{self as gate, Record};
use crate::auth::{CsrfForm, CurrentUser};
use crate::errors::{AppError, AppResult, Ids};
use crate::forms::Errors;
use crate::layout::Layout;

/// Descriptions longer than this are refused.
const MAX_DESCRIPTION: usize = 500;

/// A flag kind's label: Kindred's own kinds first, then older codes.
pub fn label(kind: &str) -> String {
    FlagKind::parse(kind)
        .map(|k| k.label().to_string())
        .unwrap_or_else(|| super::profile::flag_label(kind))
}

pub struct FlagView {
    pub id: i64,
    pub family_id: i64,
    pub kind: String,
    pub person: String,
    pub description: String,
    pub raised: String,
    pub by: String,
    /// The reader may end it (they may edit its family).
    pub can_end: bool,
}

impl FlagView {
    pub fn of(f: Flag, can_end: bool) -> FlagView {
        FlagView {
            id: f.id,
            family_id: f.family_id,
            kind: label(&f.kind),
            person: f.person_name.unwrap_or_default(),
            description: f.description,
            raised: kindred_domain::dates::long(f.raised_on),
            by: f.organisation_name.or(f.raised_by_name).unwrap_or_default(),
            can_end,
        }
    }
}

/// The flags a page shows, and its form to raise one.
pub struct FlagsBlock {
    pub flags: Vec<FlagView>,
    /// The reader may raise a flag here.
    pub can_flag: bool,
    pub kinds: &'static [FlagKind],
    /// On a family page: the members a flag may be about.
    pub members: Vec<(i64, String)>,
    /// On a person page: the families of theirs the reader may edit.
    pub families: Vec<(i64, String)>,
    /// Where the raise form posts.
    pub post: String,
    /// Where ending a flag comes back to: "person-{id}" or empty for the family.
    pub back: String,
}

/// A family's open flags, for a reader the policy lets view it.
pub async fn family_block(
    db: &kindred_store::Db,
    family_id: i64,
    can_edit: bool,
    members: Vec<(i64, String)>,
) -> AppResult<FlagsBlock> {
    let flags = db
        .open_flags_of_family(family_id)
        .await?
        .into_iter()
        .map(|f| FlagView::of(f, can_edit))
        .collect();
    Ok(FlagsBlock {
        flags,
        can_flag: can_edit,
        kinds: FlagKind::ALL,
        members,
        families: vec![],
        post: format!("/families/{family_id}/flags"),
        back: String::new(),
    })
}

/// A person's open flags from the families of theirs the reader may view;
/// `editable` are those the reader may edit (id, name).
pub async fn person_block(
    state: &AppState,
    person_id: i64,
    visible: &[i64],
    editable: Vec<(i64, String)>,
) -> AppResult<FlagsBlock> {
    let flags = state
        .db
        .open_flags_of_person(person_id)
        .await?
        .into_iter()
        .filter(|f| visible.contains(&f.family_id))
        .map(|f| {
            let can_end = editable.iter().any(|(id, _)| *id == f.family_id);
            FlagView::of(f, can_end)
        })
        .collect();
    Ok(FlagsBlock {
        flags,
        can_flag: !editable.is_empty(),
        kinds: FlagKind::ALL,
        members: vec![],
        families: editable,
        post: format!("/persons/{person_id}/flags"),
        back: format!("person-{person_id}"),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FlagForm {
    pub kind: String,
    /// A member's id, or empty for the whole family.
    pub person_id: String,
    /// From a person page: which family of theirs.
    pub family_id: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "flag_new.html")]
struct FlagPage {
    l: Layout,
    post: String,
    back: String,
    form: FlagForm,
    errors: Errors,
    kinds: &'static [FlagKind],
    members: Vec<(i64, String)>,
    families: Vec<(i64, String)>,
}

/// Checks and raises a flag on `family_id` (already opened for Edit), then its alerts.
async fn raise(
    state: &AppState,
    cu: &CurrentUser,
    family_id: i64,
    person_id: Option<i64>,
    kind: FlagKind,
    description: &str,
    route: &str,
) -> AppResult<i64> {
    // The flag, its alert tasks and its audit event commit together.
    let (flag_id, _alerts) = state
        .db
        .raise_flag_with_alerts(
            &NewFlag {
                tenant_id: cu.user.tenant_id,
                family_id,
                person_id,
                kind: kind.code().to_string(),
                description: description.to_string(),
                raised_by_user_id: cu.user.id,
                raised_on: kindred_store::today(),
            },
            &cu.actor(route),
        )
        .await?;
    Ok(flag_id)
}

fn check(form: &FlagForm, errors: &mut Errors) -> Option<(FlagKind, String)> {
    let kind = FlagKind::parse(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Select what kind of flag to raise");
    }
    let description = form.description.trim().to_string();
    if description.is_empty() {
        errors.add("description", "Enter a description of the flag");
    } else if description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("The description must be {MAX_DESCRIPTION} characters or fewer"),
        );
    }
    kind.filter(|_| errors.is_empty()).map(|k| (k, description))
}

/// GET /families/{id}/flags/new: the raise form on its own page.
pub async fn new_family_flag(State(state): State<AppState>, cu: CurrentUser, Ids(id): Ids<i64>) -> AppResult<Response> {
    gate::family(
        &state,
        &cu,
        id,
        FamilyAction::Edit,
        false,
        "web GET /families/{id}/flags/new",
    )
    .await?;
    let page = FlagPage {
        l: Layout::new("Raise a flag", &cu),
        post: format!("/families/{id}/flags"),
        back: format!("/families/{id}#flags"),
        form: FlagForm::default(),
        errors: Errors::default(),
        kinds: FlagKind::ALL,
        members: current_members(&state, id).await?,
        families: vec![],
    };
    Ok(Html(page.render()?).into_response())
}

async fn current_members(state: &AppState, family_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(state
        .db
        .members(family_id)
        .await?
        .into_iter()
        .filter(|m| m.left_on.is_none())
        .map(|m| (m.person.id, m.person.full_name()))
        .collect())
}

/// POST /families/{id}/flags
pub async fn raise_on_family(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<FlagForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /families/{id}/flags";
    gate::change_family(&state, &cu, id, ROUTE).await?;
    let members = current_members(&state, id).await?;
    let mut errors = Errors::default();
    let person_id = match form.person_id.trim() {
        "" => None,
        s => match s.parse::<i64>().ok().filter(|p| members.iter().any(|m| m.0 == *p)) {
            Some(p) => Some(p),
            None => {
                errors.add("person_id", "Select a member of this family, or the whole family");
                None
            }
        },
    };
    let Some((kind, description)) = check(&form, &mut errors) else {
        let page = FlagPage {
            l: Layout::new("Error: Raise a flag", &cu),
            post: format!("/families/{id}/flags"),
            back: format!("/families/{id}#flags"),
            form,
            errors,
            kinds: FlagKind::ALL,
            members,
            families: vec![],
        };
        return crate::errors::invalid(page);
    };
    raise(&state, &cu, id, person_id, kind, &description, ROUTE).await?;
    Ok(Redirect::to(&format!("/families/{id}#flags")).into_response())
}

/// The families of a person the reader may edit (id, name).
pub async fn editable_families(state: &AppState, cu: &CurrentUser, person_id: i64) -> AppResult<Vec<(i64, String)>> {
    let families = state.db.current_families_of_person(person_id).await?;
    let ids: Vec<i64> = families.iter().map(|f| f.0).collect();
    let facts = state.db.family_facts_many(&ids).await?;
    let s = cu.user.subject();
    Ok(families
        .into_iter()
        .filter(|(f, _)| {
            facts
                .get(f)
                .is_some_and(|f| kindred_domain::access::family(&s, f, FamilyAction::Edit).allowed())
        })
        .collect())
}

/// POST /persons/{id}/flags: a flag on the person, in a family of theirs.
pub async fn raise_on_person(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<FlagForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /persons/{id}/flags";
    let families = editable_families(&state, &cu, id).await?;
    if families.is_empty() {
        return Err(AppError::NotFound);
    }
    let mut errors = Errors::default();
    let family_id = form
        .family_id
        .trim()
        .parse::<i64>()
        .ok()
        .or_else(|| (families.len() == 1).then(|| families[0].0))
        .filter(|f| families.iter().any(|x| x.0 == *f));
    if family_id.is_none() {
        errors.add("family_id", "Select which of their families the flag is raised in");
    }
    let checked = check(&form, &mut errors);
    let (Some(family_id), Some((kind, description))) = (family_id, checked) else {
        let page = FlagPage {
            l: Layout::new("Error: Raise a flag", &cu),
            post: format!("/persons/{id}/flags"),
            back: format!("/persons/{id}#flags"),
            form,
            errors,
            kinds: FlagKind::ALL,
            members: vec![],
            families,
        };
        return crate::errors::invalid(page);
    };
    gate::change_family(&state, &cu, family_id, ROUTE).await?;
    raise(&state, &cu, family_id, Some(id), kind, &description, ROUTE).await?;
    Ok(Redirect::to(&format!("/persons/{id}#flags")).into_response())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EndForm {
    back: String,
}

/// POST /families/{id}/flags/{flag}/end
pub async fn end(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids((id, flag_id)): Ids<(i64, i64)>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> AppResult<Response> {
    const ROUTE: &str = "web POST /families/{id}/flags/{flag}/end";
    gate::change_family(&state, &cu, id, ROUTE).await?;
    let flag = state
        .db
        .flag(flag_id)
        .await?
        .filter(|f| f.family_id == id && f.tenant_id == cu.user.tenant_id)
        .ok_or(AppError::NotFound)?;
    if state.db.end_flag(flag.id, cu.user.id, kindred_store::today()).await? {
        gate::audit(
            &state,
            &cu,
            AuditAction::Update,
            Record::Flag {
                id: flag.id,
                family: id,
            },
            ROUTE,
            format!("ended kind={}", flag.kind),
        )
        .await?;
    }
    let to = match form.back.strip_prefix("person-").and_then(|p| p.parse::<i64>().ok()) {
        Some(p) => format!("/persons/{p}#flags"),
        None => format!("/families/{id}#flags"),
    };
    Ok(Redirect::to(&to).into_response())
}

// ---------- alert rules ----------

pub struct RuleView {
    id: i64,
    trigger: String,
    org_kind: &'static str,
    title: String,
}

#[derive(Template)]
#[template(path = "admin_alert_rules.html")]
struct RulesPage {
    l: Layout,
    rules: Vec<RuleView>,
    kinds: &'static [FlagKind],
    org_kinds: &'static [OrgKind],
    form: RuleForm,
    errors: Errors,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RuleForm {
    trigger_flag: String,
    involved_org_kind: String,
    task_title: String,
}

async fn rules_page(state: &AppState, cu: &CurrentUser, form: RuleForm, errors: Errors) -> AppResult<RulesPage> {
    let rules = state
        .db
        .alert_rules(cu.user.tenant_id)
        .await?
        .into_iter()
        .map(|r| RuleView {
            id: r.id,
            trigger: label(&r.trigger_flag),
            org_kind: OrgKind::parse(&r.involved_org_kind)
                .map(|k| k.label())
                .unwrap_or("Unknown"),
            title: r.task_title,
        })
        .collect();
    let title = if errors.is_empty() {
        "Alert rules"
    } else {
        "Error: Alert rules"
    };
    Ok(RulesPage {
        l: Layout::new(title, cu),
        rules,
        kinds: FlagKind::ALL,
        org_kinds: OrgKind::ALL,
        form,
        errors,
    })
}

pub async fn rules(State(state): State<AppState>, cu: CurrentUser) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let page = rules_page(&state, &cu, RuleForm::default(), Errors::default()).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn add_rule(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    let mut errors = Errors::default();
    let kind = FlagKind::parse(&form.trigger_flag);
    if kind.is_none() {
        errors.add("trigger_flag", "Select the kind of flag that sets off the alert");
    }
    let org = OrgKind::parse(&form.involved_org_kind);
    if org.is_none() {
        errors.add("involved_org_kind", "Select the kind of organisation to alert");
    }
    let title = form.task_title.trim().to_string();
    if title.is_empty() {
        errors.add("task_title", "Enter the title of the alert task");
    } else if title.chars().count() > 200 {
        errors.add("task_title", "The title must be 200 characters or fewer");
    }
    let (Some(kind), Some(org), true) = (kind, org, errors.is_empty()) else {
        let page = rules_page(&state, &cu, form, errors).await?;
        return crate::errors::invalid(page);
    };
    let id = state
        .db
        .add_alert_rule(&NewAlertRule {
            tenant_id: cu.user.tenant_id,
            trigger_flag: kind.code().into(),
            involved_org_kind: org.code().into(),
            task_title: title,
            created_by_user_id: cu.user.id,
        })
        .await?;
    gate::audit(
        &state,
        &cu,
        AuditAction::Create,
        Record::AlertRules,
        "web POST /admin/alert-rules",
        format!("rule={id} {}->{}", kind.code(), org.code()),
    )
    .await?;
    Ok(Redirect::to("/admin/alert-rules").into_response())
}

pub async fn delete_rule(
    State(state): State<AppState>,
    cu: CurrentUser,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<EndForm>,
) -> AppResult<Response> {
    gate::require_admin(&cu)?;
    if !state.db.delete_alert_rule(cu.user.tenant_id, id).await? {
        return Err(AppError::NotFound);
    }
    gate::audit(
        &state,
        &cu,
        AuditAction::Update,
        Record::AlertRules,
        "web POST /admin/alert-rules/{id}/delete",
        format!("deleted rule={id}"),
    )
    .await?;
    Ok(Redirect::to("/admin/alert-rules").into_response())
}
