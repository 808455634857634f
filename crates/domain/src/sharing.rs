//! Information sharing: consent, information-sharing agreements (ISAs) and
//! the overrides a safeguarding emergency allows. Pure rules; the store
//! gathers the [`SharingFacts`] and the access policy asks [`shares`] before
//! case content written by one organisation reaches a worker of another.
//!
//! A flow of information from organisation A to a worker of organisation B
//! (A ≠ B) is lawful here only when one of these covers it:
//! - a consent, active today, for a current member of the family, for the
//!   purpose, whose scope includes both A and B;
//! - an ISA, active today, with a lawful basis other than consent, naming both
//!   A and B as parties, for the purpose and the category of data;
//! - a safeguarding override, recorded and unexpired, on a family that is not sealed;
//! - the worker's own break-glass, unexpired, on a family that is not sealed.
//!
//! Within one organisation, information needs no sharing.

use std::collections::BTreeMap;

use time::Date;

use crate::access::Subject;
use crate::model::{OrgKind, code_enum};

code_enum!(
    /// The lawful basis an information-sharing agreement states.
    LawfulBasis {
        Consent = "consent": "Consent",
        PublicTask = "public_task": "Public task",
        LegalObligation = "legal_obligation": "Legal obligation",
        VitalInterests = "vital_interests": "Vital interests",
        Safeguarding = "safeguarding": "Safeguarding",
    }
);

code_enum!(
    /// The kinds of information an agreement lets flow.
    DataCategory {
        Identity = "identity": "Identity and contact details",
        CaseNotes = "case_notes": "Contact notes",
        Assessments = "assessments": "Assessments and development reviews",
        Involvement = "involvement": "Involvement, referrals and episodes",
        Health = "health": "Health data: births, immunisations, antenatal bookings",
        Education = "education": "Education data: school attendance",
        Housing = "housing": "Housing data: tenancies and rent arrears",
    }
);

code_enum!(
    /// How consent was given.
    ConsentMethod {
        Verbal = "verbal": "Verbally, in person or by phone",
        Written = "written": "In writing, on a signed form",
        Online = "online": "Online, through the self-referral or the family portal",
    }
);

code_enum!(
    OverrideKind {
        BreakGlass = "break_glass": "Break-glass emergency access",
        Safeguarding = "safeguarding": "Safeguarding override: sharing without consent",
    }
);

code_enum!(
    ReviewStatus {
        Pending = "pending": "Waiting for review",
        Accepted = "accepted": "Accepted",
        Referred = "referred": "Referred for investigation",
    }
);

/// The purpose behind sharing case content between partners.
pub const EARLY_HELP_SHARING: &str = "early_help_sharing";
/// Live-birth data from midwifery and health visiting to the family hub.
pub const LIVE_BIRTH_DATA: &str = "live_birth_data";
/// The family hub may contact the family.
pub const HUB_CONTACT: &str = "hub_contact";

/// Early identification (F20): partners' signals put together to find
/// families who may need early help before they ask.
pub const EARLY_IDENTIFICATION: &str = "early_identification";

/// The purposes Kindred knows; each tenant may add its own.
pub const BUILT_IN_PURPOSES: &[(&str, &str)] = &[
    (EARLY_HELP_SHARING, "Early help information sharing"),
    (LIVE_BIRTH_DATA, "Live-birth data to the family hub"),
    (HUB_CONTACT, "Contact by the family hub"),
    (EARLY_IDENTIFICATION, "Identifying families who may need early help"),
];

/// The label of a purpose code: built in, or one of the tenant's own.
pub fn purpose_label<'a>(code: &'a str, own: &'a [(String, String)]) -> &'a str {
    BUILT_IN_PURPOSES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .or_else(|| own.iter().find(|(c, _)| c == code).map(|(_, l)| l.as_str()))
        .unwrap_or(code)
}

/// A breaking of the glass lasts this long unless the worker asks for less.
pub const BREAK_GLASS_MS: i64 = 4 * 60 * 60 * 1000;
/// A safeguarding override lasts this long, then must be recorded again.
pub const SAFEGUARDING_OVERRIDE_MS: i64 = 28 * 24 * 60 * 60 * 1000;

/// One consent, as the policy needs it.
#[derive(Debug, Clone)]
pub struct ConsentFact {
    pub id: i64,
    pub person_id: i64,
    pub purpose: String,
    /// Covers every organisation of the family's tenant.
    pub all_partners: bool,
    pub organisation_ids: Vec<i64>,
    pub kinds: Vec<OrgKind>,
    pub given_on: Date,
    pub withdrawn_on: Option<Date>,
}

impl ConsentFact {
    /// Given on or before `today` and not withdrawn by then: a withdrawal
    /// dated today takes effect today.
    pub fn active(&self, today: Date) -> bool {
        self.given_on <= today && self.withdrawn_on.is_none_or(|w| w > today)
    }
}

/// One information-sharing agreement, as the policy needs it.
#[derive(Debug, Clone)]
pub struct AgreementFact {
    pub id: i64,
    pub title: String,
    pub lawful_basis: LawfulBasis,
    pub purposes: Vec<String>,
    pub categories: Vec<DataCategory>,
    pub organisation_ids: Vec<i64>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
}

impl AgreementFact {
    /// In force today: started, and not past its end date.
    pub fn active(&self, today: Date) -> bool {
        self.starts_on <= today && self.ends_on.is_none_or(|e| e >= today)
    }

    /// Whether it lets `category` flow between two of its parties for
    /// `purpose` today without anyone's consent.
    pub fn covers(&self, from_org: i64, to_org: i64, purpose: &str, category: DataCategory, today: Date) -> bool {
        self.active(today)
            && self.lawful_basis != LawfulBasis::Consent
            && self.purposes.iter().any(|p| p == purpose)
            && self.categories.contains(&category)
            && self.organisation_ids.contains(&from_org)
            && self.organisation_ids.contains(&to_org)
    }
}

/// A break-glass or a safeguarding override on a family.
#[derive(Debug, Clone)]
pub struct OverrideFact {
    pub id: i64,
    pub kind: OverrideKind,
    pub user_id: i64,
    pub started_at_ms: i64,
    pub expires_at_ms: i64,
}

impl OverrideFact {
    pub fn active(&self, now_ms: i64) -> bool {
        self.started_at_ms <= now_ms && now_ms < self.expires_at_ms
    }
}

/// What is known about the sharing of one family's information.
#[derive(Debug, Clone, Default)]
pub struct SharingFacts {
    pub family_id: i64,
    pub tenant_id: i64,
    pub sealed: bool,
    /// The family's current members: consent about any of them covers the family's record.
    pub member_person_ids: Vec<i64>,
    pub consents: Vec<ConsentFact>,
    pub agreements: Vec<AgreementFact>,
    pub overrides: Vec<OverrideFact>,
    /// Tenant and kind of every organisation the consents and agreements may name.
    pub organisations: BTreeMap<i64, (i64, OrgKind)>,
}

/// When a decision is made: the date for consents and agreements, the instant for overrides.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub today: Date,
    pub now_ms: i64,
}

/// Why information crossed from one organisation to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharingBasis {
    SameOrganisation,
    Consent(i64),
    Agreement(i64),
    SafeguardingOverride(i64),
    BreakGlass(i64),
}

impl SharingBasis {
    pub fn code(self) -> &'static str {
        match self {
            SharingBasis::SameOrganisation => "same_organisation",
            SharingBasis::Consent(_) => "consent",
            SharingBasis::Agreement(_) => "agreement",
            SharingBasis::SafeguardingOverride(_) => "safeguarding_override",
            SharingBasis::BreakGlass(_) => "break_glass",
        }
    }
}

impl SharingFacts {
    fn in_scope(&self, c: &ConsentFact, org: i64) -> bool {
        let Some(&(tenant, kind)) = self.organisations.get(&org) else {
            return c.organisation_ids.contains(&org);
        };
        (c.all_partners && tenant == self.tenant_id) || c.organisation_ids.contains(&org) || c.kinds.contains(&kind)
    }

    /// The override, if any, that lets `user_id` see everything: their own
    /// break-glass or a safeguarding override, unexpired, on an unsealed family.
    pub fn active_override(&self, user_id: i64, now_ms: i64) -> Option<SharingBasis> {
        if self.sealed {
            return None;
        }
        let live = |k: OverrideKind| {
            self.overrides.iter().find(move |o| {
                o.kind == k && o.active(now_ms) && (k != OverrideKind::BreakGlass || o.user_id == user_id)
            })
        };
        live(OverrideKind::BreakGlass)
            .map(|o| SharingBasis::BreakGlass(o.id))
            .or_else(|| live(OverrideKind::Safeguarding).map(|o| SharingBasis::SafeguardingOverride(o.id)))
    }
}

/// Whether information of `category`, recorded by organisation `from_org`
/// about this family, may reach `subject` for `purpose` — and why. `None`
/// means it may not: show that it exists, never what it says.
pub fn shares(
    subject: &Subject,
    facts: &SharingFacts,
    from_org: i64,
    purpose: &str,
    category: DataCategory,
    at: At,
) -> Option<SharingBasis> {
    if !subject.active {
        return None;
    }
    organisation_shares(facts, from_org, subject.organisation_id, purpose, category, at.today)
        .or_else(|| facts.active_override(subject.user_id, at.now_ms))
}

/// Whether information recorded by `from_org` may reach `to_org` as an
/// organisation (a feed's rows becoming another service's work), not one
/// worker: a consent or an agreement as in [`shares`], never an override,
/// which belongs to one worker or one emergency.
pub fn organisation_shares(
    facts: &SharingFacts,
    from_org: i64,
    to_org: i64,
    purpose: &str,
    category: DataCategory,
    today: Date,
) -> Option<SharingBasis> {
    if from_org == to_org {
        return Some(SharingBasis::SameOrganisation);
    }
    if let Some(c) = facts.consents.iter().find(|c| {
        c.active(today)
            && c.purpose == purpose
            && facts.member_person_ids.contains(&c.person_id)
            && facts.in_scope(c, from_org)
            && facts.in_scope(c, to_org)
    }) {
        return Some(SharingBasis::Consent(c.id));
    }
    facts
        .agreements
        .iter()
        .find(|a| a.covers(from_org, to_org, purpose, category, today))
        .map(|a| SharingBasis::Agreement(a.id))
}

/// Whether `organisation_id` is a party to an agreement in force today, not
/// resting on consent, for `purpose` (whatever its data categories).
pub fn party_to(agreements: &[AgreementFact], organisation_id: i64, purpose: &str, today: Date) -> bool {
    agreements.iter().any(|a| {
        a.active(today)
            && a.lawful_basis != LawfulBasis::Consent
            && a.purposes.iter().any(|p| p == purpose)
            && a.organisation_ids.contains(&organisation_id)
    })
}

/// Whether an agreement lets a worker of `organisation_id` (in another tenant)
/// work with families of `tenant_id`: an active agreement, not resting on
/// consent, for early help, sharing identity, between that organisation and
/// one of the tenant's.
pub fn crosses_tenants(
    agreement: &AgreementFact,
    organisation_id: i64,
    tenant_id: i64,
    organisations: &BTreeMap<i64, (i64, OrgKind)>,
    today: Date,
) -> bool {
    agreement.active(today)
        && agreement.lawful_basis != LawfulBasis::Consent
        && agreement.purposes.iter().any(|p| p == EARLY_HELP_SHARING)
        && agreement.categories.contains(&DataCategory::Identity)
        && agreement.organisation_ids.contains(&organisation_id)
        && agreement
            .organisation_ids
            .iter()
            .any(|o| organisations.get(o).is_some_and(|(t, _)| *t == tenant_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Profession, Role};
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 29);
    const NOW: i64 = 1_000_000;

    fn at() -> At {
        At {
            today: TODAY,
            now_ms: NOW,
        }
    }

    fn worker(user_id: i64, organisation_id: i64) -> Subject {
        Subject {
            user_id,
            tenant_id: 1,
            organisation_id,
            profession: Profession::EarlyHelpWorker,
            roles: vec![Role::Practitioner],
            active: true,
        }
    }

    fn world() -> SharingFacts {
        SharingFacts {
            family_id: 1,
            tenant_id: 1,
            sealed: false,
            member_person_ids: vec![100, 101],
            organisations: [
                (10, (1, OrgKind::HealthVisiting)),
                (11, (1, OrgKind::EarlyHelp)),
                (12, (1, OrgKind::School)),
                (20, (2, OrgKind::EarlyHelp)),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        }
    }

    fn consent(id: i64, person: i64, all: bool, orgs: Vec<i64>, kinds: Vec<OrgKind>) -> ConsentFact {
        ConsentFact {
            id,
            person_id: person,
            purpose: EARLY_HELP_SHARING.into(),
            all_partners: all,
            organisation_ids: orgs,
            kinds,
            given_on: date!(2026 - 01 - 01),
            withdrawn_on: None,
        }
    }

    #[test]
    fn nothing_crosses_without_a_basis() {
        let f = world();
        let hv = worker(1, 10);
        let eh = worker(2, 11);
        assert_eq!(
            shares(&hv, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            Some(SharingBasis::SameOrganisation)
        );
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
    }

    #[test]
    fn consent_covers_its_scope_until_withdrawn() {
        let mut f = world();
        f.consents
            .push(consent(7, 101, false, vec![10], vec![OrgKind::EarlyHelp]));
        let eh = worker(2, 11);
        let school = worker(3, 12);
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            Some(SharingBasis::Consent(7))
        );
        assert_eq!(
            shares(&school, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        // For another purpose: no.
        assert_eq!(shares(&eh, &f, 10, HUB_CONTACT, DataCategory::CaseNotes, at()), None);
        // Withdrawn today: no longer, at once.
        f.consents[0].withdrawn_on = Some(TODAY);
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        // A consent about someone who has left the family covers nothing.
        f.consents = vec![consent(8, 999, true, vec![], vec![])];
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        // All partners means the family's own tenant, not another.
        f.consents = vec![consent(9, 100, true, vec![], vec![])];
        assert!(shares(&school, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()).is_some());
        let other_tenant = Subject {
            tenant_id: 2,
            ..worker(4, 20)
        };
        assert_eq!(
            shares(&other_tenant, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
    }

    #[test]
    fn agreements_need_a_basis_other_than_consent() {
        let mut f = world();
        let mut isa = AgreementFact {
            id: 3,
            title: "Partnership".into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![DataCategory::CaseNotes, DataCategory::Identity],
            organisation_ids: vec![10, 11, 20],
            starts_on: date!(2026 - 01 - 01),
            ends_on: Some(date!(2026 - 12 - 31)),
        };
        f.agreements.push(isa.clone());
        let eh = worker(2, 11);
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            Some(SharingBasis::Agreement(3))
        );
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::Assessments, at()),
            None
        );
        assert!(crosses_tenants(&isa, 20, 1, &f.organisations, TODAY));
        assert!(!crosses_tenants(&isa, 12, 1, &f.organisations, TODAY));
        isa.lawful_basis = LawfulBasis::Consent;
        f.agreements = vec![isa.clone()];
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        assert!(!crosses_tenants(&isa, 20, 1, &f.organisations, TODAY));
        isa.lawful_basis = LawfulBasis::PublicTask;
        isa.ends_on = Some(date!(2026 - 11 - 28));
        f.agreements = vec![isa.clone()];
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        assert!(!crosses_tenants(&isa, 20, 1, &f.organisations, TODAY));
    }

    #[test]
    fn overrides_expire_and_never_open_a_sealed_family() {
        let mut f = world();
        f.overrides.push(OverrideFact {
            id: 5,
            kind: OverrideKind::BreakGlass,
            user_id: 2,
            started_at_ms: NOW - 10,
            expires_at_ms: NOW + 10,
        });
        let eh = worker(2, 11);
        let other = worker(3, 12);
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            Some(SharingBasis::BreakGlass(5))
        );
        assert_eq!(
            shares(&other, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        let later = At {
            now_ms: NOW + 10,
            ..at()
        };
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, later),
            None
        );
        f.overrides.push(OverrideFact {
            id: 6,
            kind: OverrideKind::Safeguarding,
            user_id: 9,
            started_at_ms: NOW - 10,
            expires_at_ms: NOW + SAFEGUARDING_OVERRIDE_MS,
        });
        assert_eq!(
            shares(&other, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            Some(SharingBasis::SafeguardingOverride(6))
        );
        f.sealed = true;
        assert_eq!(
            shares(&eh, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
        assert_eq!(
            shares(&other, &f, 10, EARLY_HELP_SHARING, DataCategory::CaseNotes, at()),
            None
        );
    }

    proptest! {
        /// Across organisations, every grant names a basis that really covers
        /// the flow; and a worker who is not active is never let through.
        #[test]
        fn every_grant_has_a_covering_basis(
            user in 1i64..4, to_org in 10i64..14, from_org in 10i64..14, active: bool, sealed: bool,
            consents in proptest::collection::vec(
                (1i64..4, 99i64..103, any::<bool>(), proptest::collection::vec(10i64..14, 0..3), proptest::option::of(-2i64..3)), 0..3),
            isas in proptest::collection::vec(
                (0usize..5, proptest::collection::vec(10i64..14, 0..4), any::<bool>(), -2i64..3), 0..3),
            overrides in proptest::collection::vec((any::<bool>(), 1i64..4, -5i64..5), 0..3),
        ) {
            let mut f = world();
            f.sealed = sealed;
            f.organisations.insert(13, (2, OrgKind::Vcs));
            for (i, (_, person, all, orgs, withdrawn)) in consents.iter().enumerate() {
                let mut c = consent(i as i64, *person, *all, orgs.clone(), vec![]);
                c.withdrawn_on = withdrawn.map(|d| TODAY + time::Duration::days(d));
                f.consents.push(c);
            }
            for (i, (basis, orgs, notes, end)) in isas.iter().enumerate() {
                f.agreements.push(AgreementFact {
                    id: i as i64, title: String::new(), lawful_basis: LawfulBasis::ALL[*basis],
                    purposes: vec![EARLY_HELP_SHARING.into()],
                    categories: if *notes { vec![DataCategory::CaseNotes] } else { vec![DataCategory::Assessments] },
                    organisation_ids: orgs.clone(), starts_on: date!(2026 - 01 - 01),
                    ends_on: Some(TODAY + time::Duration::days(*end)),
                });
            }
            for (i, (glass, by, ends)) in overrides.iter().enumerate() {
                f.overrides.push(OverrideFact {
                    id: i as i64, kind: if *glass { OverrideKind::BreakGlass } else { OverrideKind::Safeguarding },
                    user_id: *by, started_at_ms: NOW - 100, expires_at_ms: NOW + ends,
                });
            }
            let s = Subject { active, ..worker(user, to_org) };
            let got = shares(&s, &f, from_org, EARLY_HELP_SHARING, DataCategory::CaseNotes, at());
            if !active { prop_assert_eq!(got, None); }
            if let Some(basis) = got {
                match basis {
                    SharingBasis::SameOrganisation => prop_assert_eq!(from_org, to_org),
                    SharingBasis::Consent(id) => {
                        let c = &f.consents[id as usize];
                        prop_assert!(c.withdrawn_on.is_none_or(|w| w > TODAY));
                        prop_assert!(f.member_person_ids.contains(&c.person_id));
                        for org in [from_org, to_org] {
                            let (t, _) = f.organisations[&org];
                            prop_assert!(c.organisation_ids.contains(&org) || (c.all_partners && t == 1));
                        }
                    }
                    SharingBasis::Agreement(id) => {
                        let a = &f.agreements[id as usize];
                        prop_assert!(a.lawful_basis != LawfulBasis::Consent);
                        prop_assert!(a.categories.contains(&DataCategory::CaseNotes));
                        prop_assert!(a.ends_on.unwrap() >= TODAY);
                        prop_assert!(a.organisation_ids.contains(&from_org) && a.organisation_ids.contains(&to_org));
                    }
                    SharingBasis::BreakGlass(id) => {
                        let o = &f.overrides[id as usize];
                        prop_assert!(!sealed && o.user_id == user && o.expires_at_ms > NOW);
                    }
                    SharingBasis::SafeguardingOverride(id) => {
                        let o = &f.overrides[id as usize];
                        prop_assert!(!sealed && o.expires_at_ms > NOW);
                    }
                }
            }
        }
    }
}
