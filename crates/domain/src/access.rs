//! The access policy: one function per question, deny by default.
//!
//! Every page, API and export asks here before it shows personal data. The
//! store gathers the facts ([`FamilyFacts`]); this module decides. A denial is
//! shown to the user exactly like a record that does not exist.

use crate::model::{NoteVisibility, OrgKind, Profession, Role};
use crate::sharing::{self, At, DataCategory, SharingFacts};

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub profession: Profession,
    pub roles: Vec<Role>,
    pub active: bool,
}

impl Subject {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What is known about a family's working relationships, and nothing else.
#[derive(Debug, Clone, Default)]
pub struct FamilyFacts {
    pub family_id: i64,
    pub tenant_id: i64,
    pub lead_user_id: Option<i64>,
    /// Workers in the team around the family now.
    pub team_user_ids: Vec<i64>,
    /// Organisations with an open recorded involvement.
    pub involved_organisation_ids: Vec<i64>,
    /// Whether a referral about this family awaits triage.
    pub open_referral: bool,
    /// A sealed family (an adoption, say): no break-glass opens it.
    pub sealed: bool,
    /// Workers whose break-glass on this family has not expired.
    pub break_glass_user_ids: Vec<i64>,
    /// Organisations of other tenants that an information-sharing agreement
    /// lets work with this tenant's families (`sharing::crosses_tenants`).
    pub partner_organisation_ids: Vec<i64>,
}

/// Why access was granted: shown in the audit trail so a family can see the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    LeadProfessional,
    TeamAroundTheFamily,
    OrganisationInvolved,
    ManagerOfInvolvedOrganisation,
    TriageOfOpenReferral,
    /// An emergency: the worker broke the glass, gave a reason and
    /// re-authenticated; time-limited and reviewed by the privacy officer.
    BreakGlass,
}

impl Basis {
    pub fn code(self) -> &'static str {
        match self {
            Basis::LeadProfessional => "lead_professional",
            Basis::TeamAroundTheFamily => "team_around_the_family",
            Basis::OrganisationInvolved => "organisation_involved",
            Basis::ManagerOfInvolvedOrganisation => "manager_of_involved_organisation",
            Basis::TriageOfOpenReferral => "triage_of_open_referral",
            Basis::BreakGlass => "break_glass",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyAction {
    /// See members, identifiers, addresses, relationships and who is involved.
    View,
    /// Change the family record or its members.
    Edit,
    /// See who viewed the record.
    ViewAccessLog,
    /// See the 360° profile: every agency's involvement with each member,
    /// contacts per service, flags, referrals and episodes.
    ViewProfile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Basis),
    Deny,
}

impl Decision {
    pub fn allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// Whether `subject` may take `action` on the family described by `facts`.
///
/// A working relationship is required: lead professional, team member, the
/// subject's organisation's recorded involvement (practitioners and managers),
/// or a triage role while a referral is open; failing those, an unexpired
/// break-glass of the subject's own on a family that is not sealed, which
/// lets them look but not change anything. Tenants cross only for the lead
/// professional or the team around the family, and only when an
/// information-sharing agreement makes the subject's organisation a partner
/// of the family's tenant. The administrator role grants nothing here:
/// administrators see no case content.
pub fn family(subject: &Subject, facts: &FamilyFacts, action: FamilyAction) -> Decision {
    let cross_tenant = subject.tenant_id != facts.tenant_id;
    if !subject.active || (cross_tenant && !facts.partner_organisation_ids.contains(&subject.organisation_id)) {
        return Decision::Deny;
    }
    let case_role = subject.has(Role::Practitioner) || subject.has(Role::Manager) || subject.has(Role::Triage);
    if !case_role {
        return Decision::Deny;
    }
    let org_involved = facts.involved_organisation_ids.contains(&subject.organisation_id);
    let basis = if facts.lead_user_id == Some(subject.user_id) {
        Some(Basis::LeadProfessional)
    } else if facts.team_user_ids.contains(&subject.user_id) {
        Some(Basis::TeamAroundTheFamily)
    } else if org_involved && subject.has(Role::Practitioner) {
        Some(Basis::OrganisationInvolved)
    } else if org_involved && subject.has(Role::Manager) {
        Some(Basis::ManagerOfInvolvedOrganisation)
    } else if subject.has(Role::Triage) && facts.open_referral {
        Some(Basis::TriageOfOpenReferral)
    } else if facts.break_glass_user_ids.contains(&subject.user_id) && !facts.sealed {
        Some(Basis::BreakGlass)
    } else {
        None
    };
    if cross_tenant && !matches!(basis, Some(Basis::LeadProfessional | Basis::TeamAroundTheFamily)) {
        return Decision::Deny;
    }
    let Some(basis) = basis else {
        return Decision::Deny;
    };
    let permitted = match action {
        FamilyAction::View => true,
        // Break-glass is to look in an emergency, not to change the record.
        FamilyAction::Edit if basis == Basis::BreakGlass => false,
        // Managers oversee their organisation's work; they change it through their staff.
        FamilyAction::Edit => basis != Basis::ManagerOfInvolvedOrganisation,
        // Who looked is for the people accountable for the family's care.
        FamilyAction::ViewAccessLog => matches!(
            basis,
            Basis::LeadProfessional | Basis::TeamAroundTheFamily | Basis::ManagerOfInvolvedOrganisation
        ),
        // The whole picture across agencies is for the statutory and health
        // partners, triage and the family's lead professional. Voluntary
        // sector workers see their own work with the family and what triage
        // decided on their referrals, not every other agency's involvement.
        FamilyAction::ViewProfile => {
            basis == Basis::LeadProfessional
                || basis == Basis::BreakGlass
                || subject.profession != Profession::VcsWorker
        }
    };
    if permitted {
        Decision::Allow(basis)
    } else {
        Decision::Deny
    }
}

/// A registered partner system (issue 8: FHIR and the JSON API) acts for
/// exactly one organisation, with the roles and profession its organisation's
/// ordinary practitioners have, and no personal relationships: it is never a
/// lead professional, never in a team around a family, never named on a
/// sensitive note or a restricted person's permissions, and never breaks the
/// glass. So [`family`] lets it see just the families its organisation has an
/// open recorded involvement with, in its own tenant, and every other
/// function here decides for it as for that organisation's users.
pub const SYSTEM_ROLES: &[Role] = &[Role::Practitioner];

/// The profession a partner system's subject has: its organisation's usual
/// practitioner's, which decides profession-only notes (never shown through
/// the APIs anyway) and, for the voluntary sector, the narrower profile.
pub fn system_profession(kind: OrgKind) -> Profession {
    match kind {
        OrgKind::EarlyHelp => Profession::EarlyHelpWorker,
        OrgKind::ChildrensSocialCare => Profession::SocialWorker,
        OrgKind::HealthVisiting => Profession::HealthVisitor,
        OrgKind::Midwifery => Profession::Midwife,
        OrgKind::School => Profession::Teacher,
        OrgKind::SchoolNursing => Profession::SchoolNurse,
        OrgKind::GpPractice => Profession::GpStaff,
        OrgKind::Camhs => Profession::CamhsClinician,
        OrgKind::AdultMentalHealth => Profession::MentalHealthPractitioner,
        OrgKind::AdultSocialCare => Profession::AdultSocialCareWorker,
        OrgKind::Housing => Profession::HousingOfficer,
        OrgKind::Police => Profession::PoliceOfficer,
        OrgKind::Vcs => Profession::VcsWorker,
        OrgKind::FamilyHub => Profession::FamilyNavigator,
    }
}

/// The subject a partner system's calls are decided for.
pub fn system_subject(
    account_user_id: i64,
    tenant_id: i64,
    organisation_id: i64,
    kind: OrgKind,
    active: bool,
) -> Subject {
    Subject {
        user_id: account_user_id,
        tenant_id,
        organisation_id,
        profession: system_profession(kind),
        roles: SYSTEM_ROLES.to_vec(),
        active,
    }
}

/// What decides who reads a contact note's text.
#[derive(Debug, Clone)]
pub struct NoteFacts {
    pub author_user_id: i64,
    pub author_profession: Profession,
    pub author_organisation_id: i64,
    pub visibility: NoteVisibility,
    /// For a sensitive note: the people besides the author who may read it.
    pub named_user_ids: Vec<i64>,
}

/// Whether `subject` may read the text of a contact note about a family, given
/// the policy's decision on the family itself. Without access to the family,
/// never; the author always; then as the note's visibility says, and only when
/// the note may cross from the author's organisation to the subject's
/// (`sharing::shares`: consent, an agreement, or an override). Whoever may see
/// the family sees that the contact happened, whatever this says.
pub fn read_note(subject: &Subject, family: Decision, note: &NoteFacts, sharing: &SharingFacts, at: At) -> bool {
    if !family.allowed() || !subject.active {
        return false;
    }
    if subject.user_id == note.author_user_id {
        return true;
    }
    let shared = sharing::shares(
        subject,
        sharing,
        note.author_organisation_id,
        sharing::EARLY_HELP_SHARING,
        DataCategory::CaseNotes,
        at,
    )
    .is_some();
    shared
        && match note.visibility {
            NoteVisibility::Team => true,
            NoteVisibility::Profession => subject.profession == note.author_profession,
            NoteVisibility::Organisation => subject.organisation_id == note.author_organisation_id,
            NoteVisibility::Sensitive => note.named_user_ids.contains(&subject.user_id),
        }
}

/// Whether `subject` may see content of `category` (an assessment, a
/// development review) that organisation `from_org` recorded about a family,
/// given the policy's decision on the family itself.
pub fn read_content(
    subject: &Subject,
    family: Decision,
    from_org: i64,
    category: DataCategory,
    sharing: &SharingFacts,
    at: At,
) -> bool {
    family.allowed() && sharing::shares(subject, sharing, from_org, sharing::EARLY_HELP_SHARING, category, at).is_some()
}

/// What decides who sees a person's address and contact details.
#[derive(Debug, Clone, Default)]
pub struct RestrictionFacts {
    /// A restricted person (a survivor of domestic abuse, say).
    pub restricted: bool,
    /// The workers explicitly allowed to see a restricted person's details.
    pub permitted_user_ids: Vec<i64>,
}

/// Whether `subject` may see a person's address and contact details, given
/// the policy's decision on a family of theirs: a restricted person's only
/// with explicit permission.
pub fn contact_details(subject: &Subject, family: Decision, person: &RestrictionFacts) -> bool {
    family.allowed() && subject.active && (!person.restricted || person.permitted_user_ids.contains(&subject.user_id))
}

/// Whether a family member signed in to the portal may see a person's
/// address and contact details: their own always, a restricted person's
/// never (the family portal is how an abuser in the family would look).
pub fn portal_contact_details(viewer_person_id: i64, person_id: i64, person: &RestrictionFacts) -> bool {
    viewer_person_id == person_id || !person.restricted
}

/// Whether `subject` may break the glass on a family they cannot otherwise
/// see: a case role in the family's own tenant, and never on a sealed family.
/// (The web layer also demands a reason and the subject's password again.)
pub fn break_glass(subject: &Subject, facts: &FamilyFacts) -> bool {
    let case_role = subject.has(Role::Practitioner) || subject.has(Role::Manager) || subject.has(Role::Triage);
    subject.active && case_role && subject.tenant_id == facts.tenant_id && !facts.sealed
}

/// The privacy officer's work in their own tenant: reviewing break-glass and
/// safeguarding overrides, searching the audit trail, subject access requests.
pub fn privacy_office(subject: &Subject, tenant_id: i64) -> bool {
    subject.active && subject.has(Role::PrivacyOfficer) && subject.tenant_id == tenant_id
}

/// The data officer's work in their own tenant: importing the health and
/// agency feeds, and reviewing uncertain identity matches. They see the
/// identity of the records being matched (names, dates of birth, NHS numbers,
/// postcodes, withheld for a restricted person), never case content.
pub fn data_office(subject: &Subject, tenant_id: i64) -> bool {
    subject.active && subject.has(Role::DataOfficer) && subject.tenant_id == tenant_id
}

/// Whether `subject` may see aggregate figures of their tenant (reports,
/// dashboards, reach, the pathway's counts): managers, analysts and data
/// officers. Aggregates carry no identities; shared outputs pass through
/// [`crate::suppression`]. An analyst holds no case role, so every page
/// that shows a person or family refuses them.
pub fn aggregates(subject: &Subject, tenant_id: i64) -> bool {
    subject.active
        && subject.tenant_id == tenant_id
        && (subject.has(Role::Manager) || subject.has(Role::Analyst) || subject.has(Role::DataOfficer))
}

/// Whether signing in as this subject takes a second factor (TOTP) when the
/// server requires one: every role that can reach case data or personal
/// data — practitioners, triage officers, managers, privacy officers, data
/// officers — and analysts, whose figures are drawn from case data. Only an
/// account that is nothing but an administrator (who sees no case content)
/// is spared; partner systems never sign in with a password at all.
pub fn mfa_required(subject: &Subject) -> bool {
    subject.roles.iter().any(|r| *r != Role::Admin)
}

/// The roles [`early_identification`] asks for, without the agreement: what
/// the navigation offers.
pub fn early_identification_role(subject: &Subject, organisation_kind: Option<OrgKind>) -> bool {
    subject.active
        && (subject.has(Role::Triage)
            || subject.has(Role::Manager)
            || (subject.has(Role::Practitioner)
                && matches!(organisation_kind, Some(OrgKind::EarlyHelp | OrgKind::FamilyHub))))
}

/// Who sees the early identification list (F20) and records its decisions:
/// triage officers and team managers, and the practitioners of early help
/// and family hub organisations (who make the offers), whose organisation is
/// a party to an information-sharing agreement in force for
/// [`sharing::EARLY_IDENTIFICATION`] (not resting on consent). Everyone else
/// — an analyst, an administrator, a school or housing practitioner, anyone
/// whose organisation signed no such agreement — gets not-found. What each
/// viewer sees on the list is then only the facts that may reach their
/// organisation (`early_identification::fact_shared`).
pub fn early_identification(
    subject: &Subject,
    organisation_kind: Option<OrgKind>,
    agreements: &[sharing::AgreementFact],
    today: time::Date,
) -> bool {
    early_identification_role(subject, organisation_kind)
        && sharing::party_to(
            agreements,
            subject.organisation_id,
            sharing::EARLY_IDENTIFICATION,
            today,
        )
}

/// Whether a data officer reviewing a match may see a person's address and
/// postcode: not a restricted person's, without explicit permission.
pub fn identity_address(subject: &Subject, person: &RestrictionFacts) -> bool {
    subject.active && (!person.restricted || person.permitted_user_ids.contains(&subject.user_id))
}

/// Whether `subject` may start a new family record (and so become involved in it).
pub fn create_family(subject: &Subject) -> bool {
    subject.active && (subject.has(Role::Practitioner) || subject.has(Role::Triage))
}

/// Administration of users, organisations, sites and teams within one tenant.
pub fn administer(subject: &Subject, tenant_id: i64) -> bool {
    subject.active && subject.has(Role::Admin) && subject.tenant_id == tenant_id
}

/// What is known about a referral for deciding who may see or act on it.
#[derive(Debug, Clone, Default)]
pub struct ReferralFacts {
    pub tenant_id: i64,
    /// Still being written by the referrer: in nobody's queue.
    pub draft: bool,
    /// Awaiting triage.
    pub open: bool,
    pub referrer_user_id: Option<i64>,
    pub referrer_organisation_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralAction {
    /// Its reference, status and outcome.
    ViewStatus,
    /// What it says: the people, the needs, the story.
    ViewDetails,
    /// Change a draft and send it.
    EditDraft,
    /// Claim, assign, match people, decide, take to panel.
    Triage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralBasis {
    Referrer,
    ManagerOfReferrer,
    TriageRole,
}

impl ReferralBasis {
    pub fn code(self) -> &'static str {
        match self {
            ReferralBasis::Referrer => "referrer",
            ReferralBasis::ManagerOfReferrer => "manager_of_referrer",
            ReferralBasis::TriageRole => "triage_role",
        }
    }
}

/// Whether `subject` may take `action` on a referral. The referrer follows
/// their referral and its outcome but gains no access to the family from it;
/// triage roles work every sent referral in their tenant; a manager sees the
/// status of their organisation's referrals.
pub fn referral(subject: &Subject, facts: &ReferralFacts, action: ReferralAction) -> Option<ReferralBasis> {
    if !subject.active || subject.tenant_id != facts.tenant_id {
        return None;
    }
    let mine = facts.referrer_user_id == Some(subject.user_id);
    let triage = subject.has(Role::Triage) && !facts.draft;
    match action {
        ReferralAction::EditDraft => (facts.draft && mine).then_some(ReferralBasis::Referrer),
        ReferralAction::Triage => (triage && facts.open).then_some(ReferralBasis::TriageRole),
        ReferralAction::ViewDetails => {
            if mine {
                Some(ReferralBasis::Referrer)
            } else {
                triage.then_some(ReferralBasis::TriageRole)
            }
        }
        ReferralAction::ViewStatus => {
            if mine {
                Some(ReferralBasis::Referrer)
            } else if triage {
                Some(ReferralBasis::TriageRole)
            } else if subject.has(Role::Manager)
                && !facts.draft
                && facts.referrer_organisation_id == Some(subject.organisation_id)
            {
                Some(ReferralBasis::ManagerOfReferrer)
            } else {
                None
            }
        }
    }
}

/// Whether `subject` may make a referral: any signed-in partner with a case role.
pub fn make_referral(subject: &Subject) -> bool {
    subject.active
        && subject
            .roles
            .iter()
            .any(|r| matches!(r, Role::Practitioner | Role::Manager | Role::Triage))
}

/// Whether `subject` works the triage queue and the panel of their tenant.
pub fn triage(subject: &Subject) -> bool {
    subject.active && subject.has(Role::Triage)
}

/// Whether `subject` may open an episode of work with a family directly (not
/// through triage), given the policy's decision to let them edit the family:
/// a practitioner working with the family, who then leads it or names a
/// worker in the team around the family to. Managers and triage do not.
pub fn open_episode(subject: &Subject, family_edit: Decision) -> bool {
    let Decision::Allow(basis) = family_edit else {
        return false;
    };
    subject.active
        && subject.has(Role::Practitioner)
        && !matches!(
            basis,
            Basis::ManagerOfInvolvedOrganisation | Basis::TriageOfOpenReferral
        )
}

/// Whether `subject` may change an episode of work with a family (move its
/// stage, change its lead, step it up or down, close or reopen it), given the
/// policy's decision to let them edit the family. The episode's lead does;
/// so does the family's lead professional; when the episode has no lead,
/// anyone who may edit the family does. Managers oversee, through their staff.
pub fn manage_episode(subject: &Subject, family_edit: Decision, episode_lead: Option<i64>) -> bool {
    let Decision::Allow(basis) = family_edit else {
        return false;
    };
    subject.active
        && subject.has(Role::Practitioner)
        && basis != Basis::ManagerOfInvolvedOrganisation
        && (episode_lead.is_none() || episode_lead == Some(subject.user_id) || basis == Basis::LeadProfessional)
}

/// Whether `subject` may run the multi-agency panel: triage officers and managers.
pub fn run_panel(subject: &Subject) -> bool {
    subject.active && (subject.has(Role::Triage) || subject.has(Role::Manager))
}

/// Who manages the tenant's service directory (F17): its administrators, and
/// the managers of a family hub or early help organisation, who run the
/// local offer. Directory records are public information, so this gives no
/// access to anyone's case.
pub fn manage_directory(subject: &Subject, organisation_kind: Option<OrgKind>) -> bool {
    subject.active
        && (subject.has(Role::Admin)
            || (subject.has(Role::Manager)
                && matches!(organisation_kind, Some(OrgKind::FamilyHub | OrgKind::EarlyHelp))))
}

/// Who may publish their own organisation's services into the directory
/// (through the API, as a partner system): anyone active who works for a
/// partner organisation. It reaches only services listed for that
/// organisation, and, like `manage_directory`, no case content.
pub fn publish_own_services(subject: &Subject) -> bool {
    subject.active && (subject.has(Role::Practitioner) || subject.has(Role::Manager) || subject.has(Role::Admin))
}

/// Whether `subject` may connect a family to a service, given the policy's
/// decision to let them change the family: a practitioner working with the
/// family (not through break-glass, not a manager overseeing).
pub fn connect_family(subject: &Subject, family_edit: Decision) -> bool {
    family_edit.allowed() && subject.active && subject.has(Role::Practitioner)
}

/// What is known about a request connecting a family to a service.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFacts {
    pub tenant_id: i64,
    pub sender_user_id: i64,
    pub sender_organisation_id: i64,
    /// The organisation that runs the service and receives the request.
    pub receiving_organisation_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionAccess {
    /// The request, the people it concerns, the consent and its history.
    View,
    /// Open, accept, decline or complete it: the receiving organisation's work.
    Respond,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionBasis {
    Sender,
    SendingOrganisation,
    ReceivingOrganisation,
    WorksWithFamily,
}

impl ConnectionBasis {
    pub fn code(self) -> &'static str {
        match self {
            ConnectionBasis::Sender => "sender",
            ConnectionBasis::SendingOrganisation => "sending_organisation",
            ConnectionBasis::ReceivingOrganisation => "receiving_organisation",
            ConnectionBasis::WorksWithFamily => "works_with_family",
        }
    }
}

/// Whether `subject` may see or answer a connection request, given the
/// policy's decision to let them view the family. Both sides see it: its
/// sender and the practitioners and managers of the sending organisation,
/// the practitioners and managers of the receiving organisation (who answer
/// it), and anyone who may see the family. Nobody else, whatever their role.
pub fn connection(
    subject: &Subject,
    facts: &ConnectionFacts,
    family_view: Decision,
    action: ConnectionAccess,
) -> Option<ConnectionBasis> {
    let case_role = subject.has(Role::Practitioner) || subject.has(Role::Manager);
    if !subject.active || subject.tenant_id != facts.tenant_id || !case_role {
        return None;
    }
    let receiving = subject.organisation_id == facts.receiving_organisation_id;
    match action {
        ConnectionAccess::Respond => receiving.then_some(ConnectionBasis::ReceivingOrganisation),
        ConnectionAccess::View => {
            if subject.user_id == facts.sender_user_id {
                Some(ConnectionBasis::Sender)
            } else if receiving {
                Some(ConnectionBasis::ReceivingOrganisation)
            } else if subject.organisation_id == facts.sender_organisation_id {
                Some(ConnectionBasis::SendingOrganisation)
            } else if family_view.allowed() {
                Some(ConnectionBasis::WorksWithFamily)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn subject(user_id: i64, tenant_id: i64, organisation_id: i64, roles: Vec<Role>) -> Subject {
        Subject {
            user_id,
            tenant_id,
            organisation_id,
            profession: Profession::EarlyHelpWorker,
            roles,
            active: true,
        }
    }

    #[test]
    fn examples() {
        let facts = FamilyFacts {
            family_id: 1,
            tenant_id: 1,
            lead_user_id: Some(10),
            team_user_ids: vec![11],
            involved_organisation_ids: vec![100],
            open_referral: false,
            ..Default::default()
        };
        let lead = subject(10, 1, 999, vec![Role::Practitioner]);
        assert_eq!(
            family(&lead, &facts, FamilyAction::View),
            Decision::Allow(Basis::LeadProfessional)
        );
        let colleague = subject(12, 1, 100, vec![Role::Practitioner]);
        assert!(family(&colleague, &facts, FamilyAction::View).allowed());
        assert!(!family(&colleague, &facts, FamilyAction::ViewAccessLog).allowed());
        let stranger = subject(13, 1, 101, vec![Role::Practitioner]);
        assert_eq!(family(&stranger, &facts, FamilyAction::View), Decision::Deny);
        let other_tenant_lead = subject(10, 2, 100, vec![Role::Practitioner]);
        assert_eq!(family(&other_tenant_lead, &facts, FamilyAction::View), Decision::Deny);
        let admin = subject(14, 1, 100, vec![Role::Admin]);
        assert_eq!(family(&admin, &facts, FamilyAction::View), Decision::Deny);
        let manager = subject(15, 1, 100, vec![Role::Manager]);
        assert!(family(&manager, &facts, FamilyAction::ViewAccessLog).allowed());
        assert!(!family(&manager, &facts, FamilyAction::Edit).allowed());
        let triage = subject(16, 1, 102, vec![Role::Triage]);
        assert_eq!(family(&triage, &facts, FamilyAction::View), Decision::Deny);
        let open = FamilyFacts {
            open_referral: true,
            ..facts.clone()
        };
        assert!(family(&triage, &open, FamilyAction::View).allowed());
        // A triage officer whose own organisation is involved still triages an open referral.
        let front_door = subject(17, 1, 100, vec![Role::Triage]);
        assert_eq!(family(&front_door, &facts, FamilyAction::View), Decision::Deny);
        assert_eq!(
            family(&front_door, &open, FamilyAction::View),
            Decision::Allow(Basis::TriageOfOpenReferral)
        );
        let mut gone = lead.clone();
        gone.active = false;
        assert_eq!(family(&gone, &facts, FamilyAction::View), Decision::Deny);
    }

    #[test]
    fn mfa_is_required_for_every_role_but_a_bare_administrator() {
        assert!(!mfa_required(&subject(1, 1, 1, vec![Role::Admin])));
        assert!(!mfa_required(&subject(1, 1, 1, vec![])));
        for role in Role::ALL.iter().copied().filter(|r| *r != Role::Admin) {
            assert!(mfa_required(&subject(1, 1, 1, vec![role])), "{role:?}");
            assert!(
                mfa_required(&subject(1, 1, 1, vec![Role::Admin, role])),
                "admin and {role:?}"
            );
        }
    }

    #[test]
    fn early_identification_needs_the_role_and_an_agreement_for_it() {
        let today = time::macros::date!(2026 - 11 - 20);
        let isa = |purpose: &str, basis: sharing::LawfulBasis, ends_on| sharing::AgreementFact {
            id: 1,
            title: "ISA".into(),
            lawful_basis: basis,
            purposes: vec![purpose.into()],
            categories: vec![DataCategory::Education],
            organisation_ids: vec![100, 200],
            starts_on: time::macros::date!(2026 - 01 - 01),
            ends_on,
        };
        let good = [isa(
            sharing::EARLY_IDENTIFICATION,
            sharing::LawfulBasis::PublicTask,
            None,
        )];
        let eh = Some(OrgKind::EarlyHelp);
        for roles in [vec![Role::Triage], vec![Role::Manager], vec![Role::Practitioner]] {
            assert!(early_identification(&subject(1, 1, 100, roles), eh, &good, today));
        }
        // A school's practitioner, an analyst, an administrator: no.
        assert!(!early_identification(
            &subject(1, 1, 100, vec![Role::Practitioner]),
            Some(OrgKind::School),
            &good,
            today
        ));
        for role in [Role::Analyst, Role::Admin, Role::DataOfficer, Role::PrivacyOfficer] {
            assert!(!early_identification(&subject(1, 1, 100, vec![role]), eh, &good, today));
        }
        // Not a party; the wrong purpose; resting on consent; ended.
        let triage = subject(1, 1, 300, vec![Role::Triage]);
        assert!(!early_identification(&triage, eh, &good, today));
        let triage = subject(1, 1, 100, vec![Role::Triage]);
        for bad in [
            isa(sharing::EARLY_HELP_SHARING, sharing::LawfulBasis::PublicTask, None),
            isa(sharing::EARLY_IDENTIFICATION, sharing::LawfulBasis::Consent, None),
            isa(
                sharing::EARLY_IDENTIFICATION,
                sharing::LawfulBasis::PublicTask,
                Some(time::macros::date!(2026 - 11 - 19)),
            ),
        ] {
            assert!(!early_identification(&triage, eh, &[bad], today));
        }
        let mut gone = triage.clone();
        gone.active = false;
        assert!(!early_identification(&gone, eh, &good, today));
    }

    #[test]
    fn both_sides_of_a_connection_see_it_and_only_the_receiver_answers() {
        let facts = ConnectionFacts {
            tenant_id: 1,
            sender_user_id: 10,
            sender_organisation_id: 100,
            receiving_organisation_id: 200,
        };
        let view = |s: &Subject, fam: Decision| connection(s, &facts, fam, ConnectionAccess::View);
        let respond = |s: &Subject| connection(s, &facts, Decision::Deny, ConnectionAccess::Respond);
        let sender = subject(10, 1, 100, vec![Role::Practitioner]);
        let colleague = subject(11, 1, 100, vec![Role::Manager]);
        let receiver = subject(20, 1, 200, vec![Role::Practitioner]);
        let other = subject(30, 1, 300, vec![Role::Practitioner, Role::Triage]);
        let admin = subject(40, 1, 200, vec![Role::Admin]);
        let stranger = subject(20, 2, 200, vec![Role::Practitioner]);
        assert_eq!(view(&sender, Decision::Deny), Some(ConnectionBasis::Sender));
        assert_eq!(
            view(&colleague, Decision::Deny),
            Some(ConnectionBasis::SendingOrganisation)
        );
        assert_eq!(
            view(&receiver, Decision::Deny),
            Some(ConnectionBasis::ReceivingOrganisation)
        );
        assert_eq!(view(&other, Decision::Deny), None);
        assert_eq!(
            view(&other, Decision::Allow(Basis::OrganisationInvolved)),
            Some(ConnectionBasis::WorksWithFamily)
        );
        assert_eq!(view(&admin, Decision::Deny), None);
        assert_eq!(view(&stranger, Decision::Allow(Basis::LeadProfessional)), None);
        assert_eq!(respond(&receiver), Some(ConnectionBasis::ReceivingOrganisation));
        assert_eq!(respond(&sender), None);
        assert_eq!(respond(&other), None);
        let mut gone = receiver.clone();
        gone.active = false;
        assert_eq!(respond(&gone), None);
        // Sending needs a practitioner who may change the family.
        assert!(connect_family(&sender, Decision::Allow(Basis::LeadProfessional)));
        assert!(!connect_family(&sender, Decision::Deny));
        assert!(!connect_family(
            &colleague,
            Decision::Allow(Basis::ManagerOfInvolvedOrganisation)
        ));
        // The directory: administrators, and managers of a family hub or early help.
        assert!(manage_directory(&admin, Some(OrgKind::Vcs)));
        assert!(manage_directory(&colleague, Some(OrgKind::FamilyHub)));
        assert!(!manage_directory(&colleague, Some(OrgKind::Vcs)));
        assert!(!manage_directory(&sender, Some(OrgKind::FamilyHub)));
        assert!(publish_own_services(&sender));
        let gone = Subject {
            active: false,
            ..sender.clone()
        };
        assert!(!publish_own_services(&gone));
    }

    #[test]
    fn break_glass_looks_but_never_into_a_sealed_family() {
        let facts = FamilyFacts {
            family_id: 1,
            tenant_id: 1,
            break_glass_user_ids: vec![30],
            ..Default::default()
        };
        let worker = subject(30, 1, 500, vec![Role::Practitioner]);
        assert_eq!(
            family(&worker, &facts, FamilyAction::View),
            Decision::Allow(Basis::BreakGlass)
        );
        assert!(family(&worker, &facts, FamilyAction::ViewProfile).allowed());
        assert_eq!(family(&worker, &facts, FamilyAction::Edit), Decision::Deny);
        assert_eq!(family(&worker, &facts, FamilyAction::ViewAccessLog), Decision::Deny);
        assert!(break_glass(&worker, &facts));
        let sealed = FamilyFacts {
            sealed: true,
            ..facts.clone()
        };
        assert_eq!(family(&worker, &sealed, FamilyAction::View), Decision::Deny);
        assert!(!break_glass(&worker, &sealed));
        let admin = subject(31, 1, 500, vec![Role::Admin, Role::PrivacyOfficer]);
        assert!(!break_glass(&admin, &facts));
        assert!(privacy_office(&admin, 1));
        assert!(!privacy_office(&worker, 1));
        assert!(!make_referral(&subject(32, 1, 500, vec![Role::PrivacyOfficer])));
    }

    #[test]
    fn tenants_cross_only_for_named_workers_of_partner_organisations() {
        let facts = FamilyFacts {
            family_id: 1,
            tenant_id: 1,
            lead_user_id: Some(40),
            team_user_ids: vec![41],
            involved_organisation_ids: vec![600],
            open_referral: true,
            partner_organisation_ids: vec![600],
            ..Default::default()
        };
        let lead = subject(40, 2, 600, vec![Role::Practitioner]);
        let team = subject(41, 2, 600, vec![Role::Practitioner]);
        let colleague = subject(42, 2, 600, vec![Role::Practitioner, Role::Triage, Role::Manager]);
        assert_eq!(
            family(&lead, &facts, FamilyAction::View),
            Decision::Allow(Basis::LeadProfessional)
        );
        assert!(family(&team, &facts, FamilyAction::Edit).allowed());
        assert_eq!(family(&colleague, &facts, FamilyAction::View), Decision::Deny);
        let no_isa = FamilyFacts {
            partner_organisation_ids: vec![],
            ..facts.clone()
        };
        assert_eq!(family(&lead, &no_isa, FamilyAction::View), Decision::Deny);
        let other_org = subject(41, 2, 601, vec![Role::Practitioner]);
        assert_eq!(family(&other_org, &facts, FamilyAction::View), Decision::Deny);
    }

    #[test]
    fn restricted_details_need_explicit_permission() {
        let r = RestrictionFacts {
            restricted: true,
            permitted_user_ids: vec![50],
        };
        let allowed = Decision::Allow(Basis::LeadProfessional);
        assert!(contact_details(
            &subject(50, 1, 1, vec![Role::Practitioner]),
            allowed,
            &r
        ));
        assert!(!contact_details(
            &subject(51, 1, 1, vec![Role::Practitioner]),
            allowed,
            &r
        ));
        assert!(!contact_details(
            &subject(50, 1, 1, vec![Role::Practitioner]),
            Decision::Deny,
            &r
        ));
        assert!(contact_details(
            &subject(51, 1, 1, vec![Role::Practitioner]),
            allowed,
            &RestrictionFacts::default()
        ));
        assert!(portal_contact_details(7, 7, &r));
        assert!(!portal_contact_details(8, 7, &r));
        assert!(portal_contact_details(8, 7, &RestrictionFacts::default()));
    }

    fn roles() -> impl Strategy<Value = Vec<Role>> {
        proptest::sample::subsequence(Role::ALL.to_vec(), 0..=Role::ALL.len())
    }

    #[test]
    fn referrals_follow_their_referrer_and_the_front_door() {
        let facts = ReferralFacts {
            tenant_id: 1,
            draft: false,
            open: true,
            referrer_user_id: Some(20),
            referrer_organisation_id: Some(300),
        };
        let vcs = subject(20, 1, 300, vec![Role::Practitioner]);
        assert_eq!(
            referral(&vcs, &facts, ReferralAction::ViewStatus),
            Some(ReferralBasis::Referrer)
        );
        assert_eq!(referral(&vcs, &facts, ReferralAction::Triage), None);
        assert_eq!(referral(&vcs, &facts, ReferralAction::EditDraft), None);
        let triage_officer = subject(21, 1, 301, vec![Role::Triage]);
        assert!(referral(&triage_officer, &facts, ReferralAction::Triage).is_some());
        let decided = ReferralFacts {
            open: false,
            ..facts.clone()
        };
        assert_eq!(referral(&triage_officer, &decided, ReferralAction::Triage), None);
        assert!(referral(&triage_officer, &decided, ReferralAction::ViewDetails).is_some());
        let draft = ReferralFacts {
            draft: true,
            open: false,
            ..facts.clone()
        };
        assert_eq!(referral(&triage_officer, &draft, ReferralAction::ViewStatus), None);
        assert!(referral(&vcs, &draft, ReferralAction::EditDraft).is_some());
        let manager = subject(22, 1, 300, vec![Role::Manager]);
        assert_eq!(
            referral(&manager, &facts, ReferralAction::ViewStatus),
            Some(ReferralBasis::ManagerOfReferrer)
        );
        assert_eq!(referral(&manager, &facts, ReferralAction::ViewDetails), None);
        let other_tenant = subject(21, 2, 301, vec![Role::Triage]);
        assert_eq!(referral(&other_tenant, &facts, ReferralAction::ViewStatus), None);
        let colleague = subject(23, 1, 300, vec![Role::Practitioner]);
        assert_eq!(referral(&colleague, &facts, ReferralAction::ViewStatus), None);
    }

    proptest! {
        /// Note text: never without access to the family; restricted notes only
        /// to the author's profession, organisation or the named people.
        #[test]
        fn note_text_follows_its_visibility(
            user_id in 1i64..6, organisation_id in 1i64..4, prof in 0usize..4, active: bool,
            family_allowed: bool,
            author in 1i64..6, author_org in 1i64..4, author_prof in 0usize..4,
            vis in proptest::sample::select(NoteVisibility::ALL.to_vec()),
            named in proptest::collection::vec(1i64..6, 0..3),
            consented: bool,
        ) {
            let professions = [
                Profession::HealthVisitor, Profession::SchoolNurse, Profession::SocialWorker, Profession::VcsWorker,
            ];
            let s = Subject {
                user_id, tenant_id: 1, organisation_id, profession: professions[prof],
                roles: vec![Role::Practitioner], active,
            };
            let family = if family_allowed { Decision::Allow(Basis::TeamAroundTheFamily) } else { Decision::Deny };
            let note = NoteFacts {
                author_user_id: author, author_profession: professions[author_prof],
                author_organisation_id: author_org, visibility: vis, named_user_ids: named.clone(),
            };
            // The family's one member has, or has not, consented to sharing among all partners.
            let today = time::macros::date!(2026 - 11 - 29);
            let sharing = SharingFacts {
                family_id: 1, tenant_id: 1, member_person_ids: vec![9],
                organisations: (1..4).map(|o| (o, (1, crate::model::OrgKind::EarlyHelp))).collect(),
                consents: if consented { vec![sharing::ConsentFact {
                    id: 1, person_id: 9, purpose: sharing::EARLY_HELP_SHARING.into(), all_partners: true,
                    organisation_ids: vec![], kinds: vec![], given_on: today, withdrawn_on: None,
                }] } else { vec![] },
                ..Default::default()
            };
            let can = read_note(&s, family, &note, &sharing, At { today, now_ms: 0 });
            if !family_allowed || !active {
                prop_assert!(!can);
            } else if user_id == author {
                prop_assert!(can);
            } else if !consented && organisation_id != author_org {
                // Across organisations, nothing without a basis for sharing.
                prop_assert!(!can);
            } else {
                let expected = match vis {
                    NoteVisibility::Team => true,
                    NoteVisibility::Profession => professions[prof] == professions[author_prof],
                    NoteVisibility::Organisation => organisation_id == author_org,
                    NoteVisibility::Sensitive => named.contains(&user_id),
                };
                prop_assert_eq!(can, expected);
            }
        }

        /// Episodes change only through someone who may edit the family: the
        /// episode's lead or the family's lead professional, never a manager.
        #[test]
        fn episodes_change_only_through_their_leads(
            user_id in 1i64..6, roles in roles(), active: bool,
            f_tenant in 1i64..3, lead in proptest::option::of(1i64..6),
            team in proptest::collection::vec(1i64..6, 0..3),
            orgs in proptest::collection::vec(1i64..6, 0..3),
            episode_lead in proptest::option::of(1i64..6),
        ) {
            let s = Subject { user_id, tenant_id: 1, organisation_id: 1, profession: Profession::EarlyHelpWorker, roles, active };
            let f = FamilyFacts { family_id: 1, tenant_id: f_tenant, lead_user_id: lead, team_user_ids: team, involved_organisation_ids: orgs, open_referral: false, ..Default::default() };
            let edit = family(&s, &f, FamilyAction::Edit);
            if manage_episode(&s, edit, episode_lead) {
                prop_assert!(edit.allowed());
                prop_assert!(s.has(Role::Practitioner));
                prop_assert!(episode_lead.is_none() || episode_lead == Some(user_id) || f.lead_user_id == Some(user_id));
            }
            prop_assert!(!manage_episode(&s, Decision::Deny, episode_lead));
            if open_episode(&s, edit) {
                prop_assert!(edit.allowed() && s.has(Role::Practitioner) && s.active);
            }
            prop_assert!(!open_episode(&s, Decision::Deny));
            prop_assert!(!open_episode(&s, Decision::Allow(Basis::TriageOfOpenReferral)));
            prop_assert!(!manage_episode(&s, Decision::Allow(Basis::ManagerOfInvolvedOrganisation), episode_lead));
        }

        /// A partner system (no personal relationships: its account is never a
        /// lead, in a team, or behind a break-glass) never reads a family its
        /// organisation has no open involvement with, nor one of another tenant,
        /// whatever the family's other facts; and never changes anything but
        /// as its organisation's practitioners could.
        #[test]
        fn systems_read_only_through_their_organisation(
            tenant_id in 1i64..3, organisation_id in 1i64..6, active: bool,
            kind in proptest::sample::select(OrgKind::ALL.to_vec()),
            f_tenant in 1i64..3, lead in proptest::option::of(1i64..6),
            team in proptest::collection::vec(1i64..6, 0..3),
            orgs in proptest::collection::vec(1i64..6, 0..3),
            open_referral: bool, sealed: bool,
            glass in proptest::collection::vec(1i64..6, 0..2),
            partners in proptest::collection::vec(1i64..6, 0..2),
            action in proptest::sample::select(vec![
                FamilyAction::View, FamilyAction::Edit, FamilyAction::ViewAccessLog, FamilyAction::ViewProfile,
            ]),
        ) {
            // The system's account id is outside the ids people hold in this world.
            let s = system_subject(1000, tenant_id, organisation_id, kind, active);
            let f = FamilyFacts { family_id: 1, tenant_id: f_tenant, lead_user_id: lead, team_user_ids: team,
                involved_organisation_ids: orgs, open_referral, sealed, break_glass_user_ids: glass,
                partner_organisation_ids: partners };
            let d = family(&s, &f, action);
            if let Decision::Allow(basis) = d {
                prop_assert!(active);
                prop_assert_eq!(s.tenant_id, f.tenant_id);
                prop_assert!(f.involved_organisation_ids.contains(&s.organisation_id));
                prop_assert_eq!(basis, Basis::OrganisationInvolved);
                if action == FamilyAction::ViewProfile {
                    prop_assert!(kind != OrgKind::Vcs);
                }
                prop_assert!(action != FamilyAction::ViewAccessLog);
            } else if active && f_tenant == tenant_id && f.involved_organisation_ids.contains(&organisation_id)
                && action == FamilyAction::View {
                // And it is not refused what its organisation's practitioners see.
                prop_assert!(false, "a system of an involved organisation was refused");
            }
            prop_assert!(!break_glass(&s, &f) || (active && f_tenant == tenant_id && !sealed));
            let restricted = RestrictionFacts { restricted: true, permitted_user_ids: (1..6).collect() };
            prop_assert!(!contact_details(&s, d, &restricted));
        }

        /// In random worlds, no grant is ever made without a working relationship
        /// inside the subject's own tenant.
        #[test]
        fn never_without_a_working_relationship(
            user_id in 1i64..6, tenant_id in 1i64..3, organisation_id in 1i64..6, roles in roles(), active: bool,
            f_tenant in 1i64..3, lead in proptest::option::of(1i64..6),
            team in proptest::collection::vec(1i64..6, 0..3),
            orgs in proptest::collection::vec(1i64..6, 0..3),
            open_referral: bool, vcs: bool, sealed: bool,
            glass in proptest::collection::vec(1i64..6, 0..2),
            partners in proptest::collection::vec(1i64..6, 0..2),
            action in proptest::sample::select(vec![
                FamilyAction::View, FamilyAction::Edit, FamilyAction::ViewAccessLog, FamilyAction::ViewProfile,
            ]),
        ) {
            let profession = if vcs { Profession::VcsWorker } else { Profession::HealthVisitor };
            let s = Subject { user_id, tenant_id, organisation_id, profession, roles, active };
            let f = FamilyFacts { family_id: 1, tenant_id: f_tenant, lead_user_id: lead, team_user_ids: team, involved_organisation_ids: orgs, open_referral,
                sealed, break_glass_user_ids: glass, partner_organisation_ids: partners };
            let d = family(&s, &f, action);
            if let Decision::Allow(basis) = d {
                prop_assert!(s.active);
                let named = f.lead_user_id == Some(s.user_id) || f.team_user_ids.contains(&s.user_id);
                if s.tenant_id != f.tenant_id {
                    // Across tenants: only a named worker of a partner organisation.
                    prop_assert!(named && f.partner_organisation_ids.contains(&s.organisation_id));
                }
                let relationship = named
                    || f.involved_organisation_ids.contains(&s.organisation_id)
                    || (s.has(Role::Triage) && f.open_referral);
                if basis == Basis::BreakGlass {
                    prop_assert!(!relationship || (s.has(Role::Triage) && !s.has(Role::Practitioner) && !s.has(Role::Manager)));
                    prop_assert!(f.break_glass_user_ids.contains(&s.user_id) && !f.sealed);
                    prop_assert!(matches!(action, FamilyAction::View | FamilyAction::ViewProfile));
                } else {
                    prop_assert!(relationship);
                }
                prop_assert!(s.roles.iter().any(|r| *r != Role::Admin));
                if basis == Basis::TriageOfOpenReferral { prop_assert!(f.open_referral); }
                // The 360° profile never opens to the voluntary sector but as
                // lead professional, or in an emergency through their own break-glass.
                if action == FamilyAction::ViewProfile && vcs {
                    prop_assert!(matches!(basis, Basis::LeadProfessional | Basis::BreakGlass));
                }
            }
        }
    }
}
