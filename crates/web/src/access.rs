//! The web's only door to personal data. Each function asks the access policy
//! (`kindred_domain::access`), turns a denial into [`AppError::NotFound`], and
//! writes the audit event before anything is shown.

use kindred_domain::access::{
    self, Basis, Decision, FamilyAction, FamilyFacts, ReferralAction, ReferralBasis, ReferralFacts,
};
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::{NoteVisibility, Profession};
use kindred_domain::referral::Status;
use kindred_domain::sharing::{At, DataCategory, SharingFacts};
use kindred_store::contacts::Contact;
use kindred_store::episodes::Episode;
use kindred_store::families::Family;
use kindred_store::persons::Person;
use kindred_store::referrals::Referral;
use kindred_store::tasks::Task;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::errors::{AppError, AppResult};

/// The record an audit event is about.
#[derive(Debug, Clone, Copy)]
pub enum Record {
    /// A user's TOTP enrolment (the user's id).
    Mfa(i64),
    Family(i64),
    Person {
        id: i64,
        family: i64,
    },
    User(i64),
    FamilyList,
    Search,
    Referral {
        id: i64,
        family: Option<i64>,
    },
    ReferralQueue,
    Panel(i64),
    Contact {
        id: i64,
        family: i64,
    },
    Assessment {
        id: i64,
        family: i64,
    },
    Plan(i64),
    PortalInvite {
        id: i64,
        family: i64,
    },
    Questionnaire {
        id: i64,
        family: i64,
    },
    TwoYearReview {
        id: i64,
        family: i64,
    },
    EarlyHelpAssessment {
        id: i64,
        family: i64,
    },
    AsqCutoffs,
    AssessmentAreas,
    Episode {
        id: i64,
        family: i64,
    },
    Task {
        id: i64,
        family: Option<i64>,
    },
    TaskList,
    TransitionList,
    Consent {
        id: i64,
        family: i64,
    },
    SharingAgreement(i64),
    ConsentPurposes,
    /// The privacy officer's audit search (and its CSV).
    AuditSearch,
    /// A subject access request bundle about one person.
    SubjectAccess {
        person: i64,
    },
    /// A tenant's redaction rules for subject access requests.
    RedactionRules,
    Override {
        id: i64,
        family: i64,
    },
    BreakGlassAttempt,
    OverrideQueue,
    FamilySeal(i64),
    SealedFamilies,
    /// The retention rule and the families flagged for review.
    Retention,
    /// A flagged family, as the privacy officer decides on it.
    RetentionReview(i64),
    Flag {
        id: i64,
        family: i64,
    },
    AlertRules,
    RestrictedPerson {
        id: i64,
        family: i64,
    },
    /// Issue 6: a tenant's import runs, one run, the match review queue, one
    /// source record, a person's identity as the match review shows it, and
    /// the hubs' reach.
    ImportRuns,
    ImportRun(i64),
    MatchQueue,
    SourceRecord(i64),
    PersonIdentity(i64),
    Reach,
    /// Issue 7: the pathway's due and overdue list, and a tenant's stage model.
    PathwayList,
    PathwayModel,
    /// Issue 7: the KPI dashboards and the partnership maturity matrix (aggregates).
    Dashboards,
    Maturity,
    /// Issue 7 (F15): a need in a family's register, and a tenant's outcomes framework.
    FamilyNeed {
        id: i64,
        family: i64,
    },
    OutcomeFramework,
    /// Issue 7 (F20): the early identification list (each family on it is
    /// also audited as a read of that family), and a decision about a family.
    EarlyIdentificationList,
    EarlyIdentificationDecision {
        id: i64,
        family: i64,
    },
    /// Issue 7 (F16): a report run, exported or saved — an aggregate, so no
    /// record or family is named; the detail says which report and its shape.
    Report,
    /// Issue 8 (F17): a directory service changed (public information, audited
    /// as an administrative change), a request connecting a family to a
    /// service, and an organisation's list of them.
    DirectoryService(i64),
    DirectoryOrganisation(i64),
    /// An Open Referral UK feed added, or a pull of it started.
    DirectorySource(i64),
    Connection {
        id: i64,
        family: i64,
    },
    ConnectionList,
}

impl Record {
    /// (record kind, record id, family id)
    fn parts(self) -> (&'static str, Option<i64>, Option<i64>) {
        match self {
            Record::Family(id) => ("family", Some(id), Some(id)),
            Record::Person { id, family } => ("person", Some(id), Some(family)),
            Record::User(id) => ("user", Some(id), None),
            // A user's second factor: enrolment, codes given, recovery codes used, resets.
            Record::Mfa(user) => ("mfa", Some(user), None),
            Record::FamilyList => ("family_list", None, None),
            Record::Search => ("search", None, None),
            Record::Referral { id, family } => ("referral", Some(id), family),
            Record::ReferralQueue => ("referral_queue", None, None),
            Record::Panel(id) => ("panel", Some(id), None),
            Record::Contact { id, family } => ("contact", Some(id), Some(family)),
            Record::Assessment { id, family } => ("assessment", Some(id), Some(family)),
            Record::Plan(family) => ("plan", None, Some(family)),
            Record::PortalInvite { id, family } => ("portal_invite", Some(id), Some(family)),
            Record::Questionnaire { id, family } => ("questionnaire", Some(id), Some(family)),
            Record::TwoYearReview { id, family } => ("two_year_review", Some(id), Some(family)),
            Record::EarlyHelpAssessment { id, family } => ("early_help_assessment", Some(id), Some(family)),
            Record::AsqCutoffs => ("asq_cutoffs", None, None),
            Record::AssessmentAreas => ("assessment_areas", None, None),
            Record::Episode { id, family } => ("episode", Some(id), Some(family)),
            Record::Task { id, family } => ("task", Some(id), family),
            Record::TaskList => ("task_list", None, None),
            Record::TransitionList => ("transition_list", None, None),
            Record::Consent { id, family } => ("consent", Some(id), Some(family)),
            Record::SharingAgreement(id) => ("sharing_agreement", Some(id), None),
            Record::ConsentPurposes => ("consent_purposes", None, None),
            Record::AuditSearch => ("audit_search", None, None),
            Record::SubjectAccess { person } => ("sar", Some(person), None),
            Record::RedactionRules => ("redaction_rules", None, None),
            // A break-glass or safeguarding override of a family.
            Record::Override { id, family } => ("access_override", Some(id), Some(family)),
            // A break-glass asked for: no family is named, so a refusal on a
            // sealed family reads like one for an NHS number nobody holds.
            Record::BreakGlassAttempt => ("break_glass", None, None),
            Record::OverrideQueue => ("override_queue", None, None),
            Record::FamilySeal(id) => ("family_seal", Some(id), Some(id)),
            Record::SealedFamilies => ("sealed_families", None, None),
            Record::Retention => ("retention", None, None),
            Record::RetentionReview(id) => ("retention_review", Some(id), Some(id)),
            Record::Flag { id, family } => ("flag", Some(id), Some(family)),
            Record::AlertRules => ("alert_rules", None, None),
            Record::RestrictedPerson { id, family } => ("restricted_person", Some(id), Some(family)),
            Record::ImportRuns => ("import_runs", None, None),
            Record::ImportRun(id) => ("import_run", Some(id), None),
            Record::MatchQueue => ("match_queue", None, None),
            Record::SourceRecord(id) => ("source_record", Some(id), None),
            Record::PersonIdentity(id) => ("person", Some(id), None),
            Record::Reach => ("reach", None, None),
            Record::PathwayList => ("pathway_list", None, None),
            Record::PathwayModel => ("pathway_model", None, None),
            Record::Dashboards => ("dashboards", None, None),
            Record::Maturity => ("maturity", None, None),
            Record::FamilyNeed { id, family } => ("family_need", Some(id), Some(family)),
            Record::OutcomeFramework => ("outcome_framework", None, None),
            Record::EarlyIdentificationList => ("early_identification_list", None, None),
            Record::EarlyIdentificationDecision { id, family } => {
                ("early_identification_decision", Some(id), Some(family))
            }
            Record::Report => ("report", None, None),
            Record::DirectoryService(id) => ("directory_service", Some(id), None),
            Record::DirectoryOrganisation(id) => ("directory_organisation", Some(id), None),
            Record::DirectorySource(id) => ("directory_source", Some(id), None),
            Record::Connection { id, family } => ("connection", Some(id), Some(family)),
            Record::ConnectionList => ("connection_list", None, None),
        }
    }
}

/// One audit event for the current user.
pub async fn audit(
    state: &AppState,
    cu: &CurrentUser,
    action: AuditAction,
    record: Record,
    route: &str,
    detail: String,
) -> AppResult<()> {
    let (record_kind, record_id, family_id) = record.parts();
    state
        .db
        .audit(NewEvent {
            tenant_id: Some(cu.user.tenant_id),
            actor_user_id: Some(cu.user.id),
            action,
            record_kind,
            record_id,
            family_id,
            route: route.to_string(),
            detail,
        })
        .await?;
    Ok(())
}

/// What a family action is audited as.
fn audit_action(action: FamilyAction, write: bool) -> AuditAction {
    match (action, write) {
        (_, true) => AuditAction::Update,
        _ => AuditAction::Read,
    }
}

/// Opens a family for `action`, or `NotFound`. Audits the access (a read, or
/// an update when `write`) with the policy's basis.
pub async fn family(
    state: &AppState,
    cu: &CurrentUser,
    family_id: i64,
    action: FamilyAction,
    write: bool,
    route: &str,
) -> AppResult<(Family, Basis)> {
    let (family, basis, _) = family_with_facts(state, cu, family_id, action, write, route).await?;
    Ok((family, basis))
}

/// Opens a family to change it (the policy's `Edit`), auditing an update.
pub async fn change_family(state: &AppState, cu: &CurrentUser, family_id: i64, route: &str) -> AppResult<Family> {
    Ok(family(state, cu, family_id, FamilyAction::Edit, true, route).await?.0)
}

/// As [`family`], also returning the facts the decision was made on, so a page
/// can ask the policy about other actions without reading them again.
pub async fn family_with_facts(
    state: &AppState,
    cu: &CurrentUser,
    family_id: i64,
    action: FamilyAction,
    write: bool,
    route: &str,
) -> AppResult<(Family, Basis, FamilyFacts)> {
    let facts = state.db.family_facts(family_id).await?.ok_or(AppError::NotFound)?;
    let Decision::Allow(basis) = access::family(&cu.user.subject(), &facts, action) else {
        return Err(AppError::NotFound);
    };
    let family = state.db.family(family_id).await?;
    audit(
        state,
        cu,
        audit_action(action, write),
        Record::Family(family_id),
        route,
        basis.code().into(),
    )
    .await?;
    note_emergency(state, cu, family_id, basis).await?;
    Ok((family, basis, facts))
}

/// Opens a person through any family of theirs the user may take `action` on.
/// Returns the person and that family's id.
pub async fn person(
    state: &AppState,
    cu: &CurrentUser,
    person_id: i64,
    action: FamilyAction,
    write: bool,
    route: &str,
) -> AppResult<(Person, i64)> {
    let families = state.db.families_of_person(person_id).await?;
    let facts = state.db.family_facts_many(&families).await?;
    let subject = cu.user.subject();
    let granted =
        families
            .iter()
            .filter_map(|f| facts.get(f))
            .find_map(|f| match access::family(&subject, f, action) {
                Decision::Allow(b) => Some((f.family_id, b)),
                Decision::Deny => None,
            });
    let Some((family_id, basis)) = granted else {
        return Err(AppError::NotFound);
    };
    let person = state.db.person(person_id).await?;
    if person.tenant_id != cu.user.tenant_id {
        return Err(AppError::NotFound);
    }
    audit(
        state,
        cu,
        audit_action(action, write),
        Record::Person {
            id: person_id,
            family: family_id,
        },
        route,
        basis.code().into(),
    )
    .await?;
    note_emergency(state, cu, family_id, basis).await?;
    Ok((person, family_id))
}

/// Keeps only the families the policy lets the user view: the check behind
/// every list and search, after the store's SQL has narrowed them.
pub async fn filter_visible(state: &AppState, cu: &CurrentUser, family_ids: &[i64]) -> AppResult<Vec<i64>> {
    let facts = state.db.family_facts_many(family_ids).await?;
    Ok(viewable(&cu.user.subject(), &facts, family_ids).collect())
}

/// Those of `family_ids` the policy lets `subject` view, given their facts.
fn viewable<'a>(
    subject: &'a kindred_domain::access::Subject,
    facts: &'a std::collections::BTreeMap<i64, kindred_domain::access::FamilyFacts>,
    family_ids: &'a [i64],
) -> impl Iterator<Item = i64> + 'a {
    family_ids.iter().copied().filter(move |id| {
        facts
            .get(id)
            .is_some_and(|f| access::family(subject, f, FamilyAction::View).allowed())
    })
}

/// The policy's facts about a referral.
pub fn referral_facts(r: &Referral) -> ReferralFacts {
    ReferralFacts {
        tenant_id: r.tenant_id,
        draft: r.status == Status::Draft,
        open: r.status == Status::Open,
        referrer_user_id: r.referrer_user_id,
        referrer_organisation_id: r.referrer_organisation_id,
    }
}

/// Opens a referral for `action`, or `NotFound`, auditing a read (or an
/// update when `write`) with the basis.
pub async fn referral(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    action: ReferralAction,
    write: bool,
    route: &str,
) -> AppResult<(Referral, ReferralBasis)> {
    let r = state.db.referral(id).await?.ok_or(AppError::NotFound)?;
    let basis = access::referral(&cu.user.subject(), &referral_facts(&r), action).ok_or(AppError::NotFound)?;
    let act = if write { AuditAction::Update } else { AuditAction::Read };
    audit(
        state,
        cu,
        act,
        Record::Referral {
            id,
            family: r.family_id,
        },
        route,
        basis.code().into(),
    )
    .await?;
    Ok((r, basis))
}

/// Triage and panel pages: the user must hold the triage role.
pub fn require_triage(cu: &CurrentUser) -> AppResult<()> {
    if access::triage(&cu.user.subject()) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Directory management (F17): the tenant's administrators and the managers
/// of its family hub and early help organisations (`access::manage_directory`).
pub fn require_directory(cu: &CurrentUser) -> AppResult<()> {
    if access::manage_directory(&cu.user.subject(), cu.organisation_kind) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Opens a request connecting a family to a service for `action`, or
/// `NotFound`, auditing a read (or an update when `write`) with the basis.
/// Whether the user may view the family is part of the decision: those who
/// work with the family see the requests about it.
pub async fn connection(
    state: &AppState,
    cu: &CurrentUser,
    id: i64,
    action: access::ConnectionAccess,
    write: bool,
    route: &str,
) -> AppResult<(kindred_store::connections::Connection, access::ConnectionBasis)> {
    let c = state.db.connection(id).await?.ok_or(AppError::NotFound)?;
    let subject = cu.user.subject();
    let family_view = match state.db.family_facts(c.family_id).await? {
        Some(f) => access::family(&subject, &f, FamilyAction::View),
        None => Decision::Deny,
    };
    let facts = access::ConnectionFacts {
        tenant_id: c.tenant_id,
        sender_user_id: c.sender_user_id,
        sender_organisation_id: c.sender_organisation_id,
        receiving_organisation_id: c.receiving_organisation_id,
    };
    let basis = access::connection(&subject, &facts, family_view, action).ok_or(AppError::NotFound)?;
    let act = if write { AuditAction::Update } else { AuditAction::Read };
    audit(
        state,
        cu,
        act,
        Record::Connection {
            id,
            family: c.family_id,
        },
        route,
        basis.code().into(),
    )
    .await?;
    Ok((c, basis))
}

/// Administration pages: the user must administer their own tenant.
pub fn require_admin(cu: &CurrentUser) -> AppResult<()> {
    if access::administer(&cu.user.subject(), cu.user.tenant_id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The instant a decision is made at: today's date and the clock.
pub fn at() -> At {
    At {
        today: kindred_store::today(),
        now_ms: kindred_store::now_ms(),
    }
}

/// The sharing facts of a family the user has already been let into.
pub async fn sharing_facts(state: &AppState, family_id: i64) -> AppResult<SharingFacts> {
    state.db.sharing_facts(family_id).await?.ok_or(AppError::NotFound)
}

/// Whether content of `category` that organisation `from_org` recorded about
/// the family may reach the signed-in user (`access::read_content`).
pub fn readable_content(
    cu: &CurrentUser,
    basis: access::Basis,
    from_org: i64,
    category: DataCategory,
    sharing: &SharingFacts,
) -> bool {
    access::read_content(
        &cu.user.subject(),
        Decision::Allow(basis),
        from_org,
        category,
        sharing,
        at(),
    )
}

/// Whether the signed-in user may read this contact's note, given their
/// access to the family and its sharing facts: the one place a note's text
/// is let through.
pub fn readable_note(cu: &CurrentUser, basis: access::Basis, c: &Contact, sharing: &SharingFacts) -> bool {
    // A code this build does not know: only the author reads the note.
    let (author_profession, visibility) = match (
        Profession::parse(&c.author_profession),
        NoteVisibility::parse(&c.visibility),
    ) {
        (Some(p), Some(v)) => (p, v),
        _ => (Profession::Administrator, NoteVisibility::Sensitive),
    };
    let note = access::NoteFacts {
        author_user_id: c.author_user_id,
        author_profession,
        author_organisation_id: c.organisation_id,
        visibility,
        named_user_ids: c.readers.clone(),
    };
    access::read_note(&cu.user.subject(), access::Decision::Allow(basis), &note, sharing, at())
}

/// Opens a family to open an episode of work directly: only for someone the
/// policy lets do so (`access::open_episode`), audited as an update.
pub async fn open_episode(state: &AppState, cu: &CurrentUser, family_id: i64, route: &str) -> AppResult<Family> {
    let facts = state.db.family_facts(family_id).await?.ok_or(AppError::NotFound)?;
    let subject = cu.user.subject();
    if !access::open_episode(&subject, access::family(&subject, &facts, FamilyAction::Edit)) {
        return Err(AppError::NotFound);
    }
    change_family(state, cu, family_id, route).await
}

/// An episode of work with a family, opened through the family's policy:
/// `View` to read it, or with `write` only for someone the policy lets manage
/// it (`access::manage_episode`). An episode of another family is not found.
/// Audits a read or an update of the episode. Returns the family, the
/// episode, and whether the user may manage it.
pub async fn episode(
    state: &AppState,
    cu: &CurrentUser,
    family_id: i64,
    episode_id: i64,
    write: bool,
    route: &str,
) -> AppResult<(Family, Episode, bool)> {
    let facts = state.db.family_facts(family_id).await?.ok_or(AppError::NotFound)?;
    let subject = cu.user.subject();
    let Decision::Allow(basis) = access::family(&subject, &facts, FamilyAction::View) else {
        return Err(AppError::NotFound);
    };
    let episode = state
        .db
        .episode(episode_id)
        .await?
        .filter(|e| e.family_id == family_id && e.tenant_id == cu.user.tenant_id)
        .ok_or(AppError::NotFound)?;
    let manage = access::manage_episode(
        &subject,
        access::family(&subject, &facts, FamilyAction::Edit),
        episode.lead_user_id,
    );
    if write && !manage {
        return Err(AppError::NotFound);
    }
    let family = state.db.family(family_id).await?;
    audit(
        state,
        cu,
        if write { AuditAction::Update } else { AuditAction::Read },
        Record::Episode {
            id: episode_id,
            family: family_id,
        },
        route,
        basis.code().into(),
    )
    .await?;
    note_emergency(state, cu, family_id, basis).await?;
    Ok((family, episode, manage))
}

/// A task as an inbox may show it: its family's name and the title only when
/// the policy lets the reader see that family (a title may name people).
pub struct ShownTask {
    pub task: Task,
    /// The family is visible to the reader: name, title and link may be shown.
    pub family_visible: bool,
}

/// Hands tasks over for an inbox: asks the policy about each task's family,
/// blanks the family name and title of any the reader may not see, and audits
/// the list when it names any family.
pub async fn shown_tasks(
    state: &AppState,
    cu: &CurrentUser,
    tasks: Vec<Task>,
    route: &str,
) -> AppResult<Vec<ShownTask>> {
    let mut ids: Vec<i64> = tasks.iter().filter_map(|t| t.family_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let visible = filter_visible(state, cu, &ids).await?;
    let shown: Vec<ShownTask> = tasks
        .into_iter()
        .map(|mut task| {
            let family_visible = match task.family_id {
                Some(f) => visible.contains(&f) && task.tenant_id == cu.user.tenant_id,
                None => task.tenant_id == cu.user.tenant_id,
            };
            if !family_visible {
                task.family_name = None;
                task.title = String::new();
            }
            ShownTask { task, family_visible }
        })
        .collect();
    let named = shown
        .iter()
        .filter(|t| t.family_visible && t.task.family_id.is_some())
        .count();
    if named > 0 {
        audit(
            state,
            cu,
            AuditAction::Read,
            Record::TaskList,
            route,
            format!("families={named}"),
        )
        .await?;
    }
    Ok(shown)
}

/// When the user was let in by their own break-glass, notes its expiry and
/// reason for the page's emergency banner (`Layout::new` shows it).
async fn note_emergency(state: &AppState, cu: &CurrentUser, family_id: i64, basis: Basis) -> AppResult<()> {
    if basis != Basis::BreakGlass {
        return Ok(());
    }
    if let Some(o) = state
        .db
        .active_break_glass(family_id, cu.user.id, kindred_store::now_ms())
        .await?
    {
        cu.emergency
            .set(crate::layout::london_time(o.expires_at_ms, false), o.reason);
    }
    Ok(())
}

/// The privacy officer's pages: the user must hold the role in their own tenant.
pub fn require_privacy_office(cu: &CurrentUser) -> AppResult<()> {
    if access::privacy_office(&cu.user.subject(), cu.user.tenant_id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The policy's best decision on a person for `action`, over every family of
/// theirs (no audit: callers have opened the person through [`person`]).
pub async fn person_decision(
    state: &AppState,
    cu: &CurrentUser,
    person_id: i64,
    action: FamilyAction,
) -> AppResult<Decision> {
    let families = state.db.families_of_person(person_id).await?;
    let facts = state.db.family_facts_many(&families).await?;
    let subject = cu.user.subject();
    Ok(families
        .iter()
        .filter_map(|f| facts.get(f))
        .map(|f| access::family(&subject, f, action))
        .find(|d| d.allowed())
        .unwrap_or(Decision::Deny))
}

/// Which of `person_ids` the signed-in user may `action` through any of their
/// families ([`person_decision`] for many persons), in the order given.
pub async fn persons_allowed(
    state: &AppState,
    cu: &CurrentUser,
    person_ids: &[i64],
    action: FamilyAction,
) -> AppResult<Vec<i64>> {
    let subject = cu.user.subject();
    let mut allowed = vec![];
    for chunk in person_ids.chunks(500) {
        let families = state.db.families_of_persons(chunk).await?;
        let mut ids: Vec<i64> = families.values().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        let facts = state.db.family_facts_many(&ids).await?;
        allowed.extend(chunk.iter().copied().filter(|p| {
            families.get(p).is_some_and(|fs| {
                fs.iter()
                    .filter_map(|f| facts.get(f))
                    .any(|f| access::family(&subject, f, action).allowed())
            })
        }));
    }
    Ok(allowed)
}

/// Which of `person_ids` the signed-in user may see the address and contact
/// details of (`access::contact_details`), given the policy's decision on the
/// family the page shows them in: a restricted person's only with explicit
/// permission. A person the store does not know is treated as restricted.
pub async fn contact_details_shown(
    state: &AppState,
    cu: &CurrentUser,
    family: Decision,
    person_ids: &[i64],
) -> AppResult<std::collections::BTreeSet<i64>> {
    contact_details_shown_on(&state.db, cu, family, person_ids).await
}

/// As [`contact_details_shown`], reading through `db` (a pinned handle, say).
pub async fn contact_details_shown_on(
    db: &kindred_store::Db,
    cu: &CurrentUser,
    family: Decision,
    person_ids: &[i64],
) -> AppResult<std::collections::BTreeSet<i64>> {
    let facts = db.restriction_facts(person_ids).await?;
    let subject = cu.user.subject();
    Ok(person_ids
        .iter()
        .copied()
        .filter(|id| {
            facts
                .get(id)
                .is_some_and(|f| access::contact_details(&subject, family, f))
        })
        .collect())
}

/// Whether the signed-in user may see one person's address and contact
/// details, through any family of theirs the policy lets them view.
pub async fn person_contact_shown(state: &AppState, cu: &CurrentUser, person_id: i64) -> AppResult<bool> {
    let decision = person_decision(state, cu, person_id, FamilyAction::View).await?;
    Ok(contact_details_shown(state, cu, decision, &[person_id])
        .await?
        .contains(&person_id))
}

/// What stands in for a restricted person's address and contact details.
pub const WITHHELD: &str = "Address withheld: restricted";

/// What the policy lets the user see of persons found across families (a
/// search, a list), each given with the ids of their families the page names.
pub struct Screened {
    /// The families the user may view.
    pub visible: std::collections::BTreeSet<i64>,
    /// The persons whose address and contact details the user may see: as
    /// [`contact_details_shown`], deciding on each person by the first of
    /// their families the user may view.
    pub contact_shown: std::collections::BTreeSet<i64>,
}

/// Screens search or list hits through the policy, reading the facts of
/// their families once.
pub async fn screen_hits(db: &kindred_store::Db, cu: &CurrentUser, persons: &[(i64, Vec<i64>)]) -> AppResult<Screened> {
    let mut family_ids: Vec<i64> = persons.iter().flat_map(|(_, f)| f.iter().copied()).collect();
    family_ids.sort_unstable();
    family_ids.dedup();
    let facts = db.family_facts_many(&family_ids).await?;
    let subject = cu.user.subject();
    let visible: std::collections::BTreeSet<i64> = viewable(&subject, &facts, &family_ids).collect();
    let person_ids: Vec<i64> = persons
        .iter()
        .filter(|(_, families)| families.iter().any(|f| visible.contains(f)))
        .map(|(p, _)| *p)
        .collect();
    let restriction = db.restriction_facts(&person_ids).await?;
    let contact_shown = persons
        .iter()
        .filter(|(person, families)| {
            let decision = families
                .iter()
                .filter(|f| visible.contains(f))
                .filter_map(|f| facts.get(f))
                .map(|f| access::family(&subject, f, FamilyAction::View))
                .find(|d| d.allowed())
                .unwrap_or(Decision::Deny);
            restriction
                .get(person)
                .is_some_and(|r| access::contact_details(&subject, decision, r))
        })
        .map(|(p, _)| *p)
        .collect();
    Ok(Screened { visible, contact_shown })
}

// ---------- transparency: access logs, exports, the privacy office ----------

/// Opens a family's audit trail to download it: the policy's
/// `ViewAccessLog`, audited as an export with the basis.
pub async fn export_family_log(state: &AppState, cu: &CurrentUser, family_id: i64, route: &str) -> AppResult<Family> {
    let facts = state.db.family_facts(family_id).await?.ok_or(AppError::NotFound)?;
    let Decision::Allow(basis) = access::family(&cu.user.subject(), &facts, FamilyAction::ViewAccessLog) else {
        return Err(AppError::NotFound);
    };
    let family = state.db.family(family_id).await?;
    audit(
        state,
        cu,
        AuditAction::Export,
        Record::Family(family_id),
        route,
        basis.code().into(),
    )
    .await?;
    Ok(family)
}

/// Opens a person's audit trail to download it: `ViewAccessLog` on any
/// family of theirs, audited as an export of the person's record.
pub async fn export_person_log(state: &AppState, cu: &CurrentUser, person_id: i64, route: &str) -> AppResult<Person> {
    let families = state.db.families_of_person(person_id).await?;
    let facts = state.db.family_facts_many(&families).await?;
    let subject = cu.user.subject();
    let granted = families.iter().filter_map(|f| facts.get(f)).find_map(|f| {
        match access::family(&subject, f, FamilyAction::ViewAccessLog) {
            Decision::Allow(b) => Some((f.family_id, b)),
            Decision::Deny => None,
        }
    });
    let Some((family_id, basis)) = granted else {
        return Err(AppError::NotFound);
    };
    let person = state.db.person(person_id).await?;
    if person.tenant_id != cu.user.tenant_id {
        return Err(AppError::NotFound);
    }
    audit(
        state,
        cu,
        AuditAction::Export,
        Record::Person {
            id: person_id,
            family: family_id,
        },
        route,
        basis.code().into(),
    )
    .await?;
    Ok(person)
}

/// Everything held about one person of the privacy officer's tenant, for a
/// subject access request, audited as an export. Anyone else: not found.
pub async fn subject_access(
    state: &AppState,
    cu: &CurrentUser,
    person_id: i64,
    route: &str,
) -> AppResult<kindred_domain::redaction::Source> {
    require_privacy_office(cu)?;
    if state.db.person_tenant(person_id).await? != Some(cu.user.tenant_id) {
        return Err(AppError::NotFound);
    }
    let source = state.db.subject_access_source(person_id).await?;
    audit(
        state,
        cu,
        AuditAction::Export,
        Record::SubjectAccess { person: person_id },
        route,
        "export:sar".into(),
    )
    .await?;
    Ok(source)
}
