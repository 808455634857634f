//! Early identification (F20): families who may need help before they ask,
//! found in the data partners already hold, and always explained.
//!
//! Each partner service sees something small — a missed immunisation, a
//! child's attendance slipping below 90%, a few weeks of rent arrears, a
//! parent open to adult mental health services — and each has its own
//! threshold for acting alone, which none of these reaches. Together, from
//! two or more services, they may mean the family would welcome early help.
//!
//! [`identify`] lists a family when, among the facts the viewer may see:
//! - signals come from at least two different services ([`Service`]);
//! - no signal has reached the level at which its own service acts alone
//!   (that service is already acting: it is not ours to second-guess);
//! - the family is not already known: no open early help or statutory
//!   episode, no statutory flag (child protection, child in need, looked
//!   after), no referral waiting for triage, and not sealed.
//!
//! There is no score. Each listed family carries exactly the facts that put
//! it there — what, the value, the date, which organisation and system — and
//! [`RULE`] says the rule in words on the page. The viewer's facts are only
//! those the sharing rules let reach their organisation ([`fact_shared`]):
//! a family never appears because of a fact its viewer cannot see.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Duration};

use crate::model::code_enum;
use crate::sharing::{self, AgreementFact, DataCategory, SharingBasis, SharingFacts};

code_enum!(
    /// The services signals come from. Two facts from one service (two
    /// schools, say) are one service's view.
    Service {
        Health = "health": "Health",
        Education = "education": "Education",
        Housing = "housing": "Housing",
        AdultMentalHealth = "adult_mental_health": "Adult mental health",
        Police = "police": "Police",
    }
);

code_enum!(
    /// What a fact says.
    SignalKind {
        MissedImmunisation = "missed_immunisation": "Missed immunisation",
        SchoolAbsence = "school_absence": "School absence",
        RentArrears = "rent_arrears": "Rent arrears",
        AdultMentalHealth = "adult_mental_health": "Open to adult mental health services",
        PoliceInvolvement = "police_involvement": "Police involvement",
    }
);

code_enum!(
    /// A worker's decision about a listed family.
    Decision {
        OfferMade = "offer_made": "Offer of early help made",
        NotAppropriate = "not_appropriate": "Not appropriate",
    }
);

impl SignalKind {
    pub fn service(self) -> Service {
        match self {
            SignalKind::MissedImmunisation => Service::Health,
            SignalKind::SchoolAbsence => Service::Education,
            SignalKind::RentArrears => Service::Housing,
            SignalKind::AdultMentalHealth => Service::AdultMentalHealth,
            SignalKind::PoliceInvolvement => Service::Police,
        }
    }

    /// An open involvement: current however long ago it started.
    pub fn is_involvement(self) -> bool {
        matches!(self, SignalKind::AdultMentalHealth | SignalKind::PoliceInvolvement)
    }

    /// The kind of information it is, as information-sharing agreements name it.
    pub fn category(self) -> DataCategory {
        match self {
            SignalKind::MissedImmunisation => DataCategory::Health,
            SignalKind::SchoolAbsence => DataCategory::Education,
            SignalKind::RentArrears => DataCategory::Housing,
            SignalKind::AdultMentalHealth | SignalKind::PoliceInvolvement => DataCategory::Involvement,
        }
    }
}

/// The rule, as the page says it.
pub const RULE: &str = "A family is listed when facts from at least two different services \
    (health, education, housing, adult mental health, police) are each a signal, none of them \
    has reached the level at which its own service acts alone, and the family is not already \
    known: no open early help or statutory episode, no child protection, child in need or \
    looked-after flag, and no referral waiting for triage. Only facts that the information-sharing \
    agreements let reach your organisation count. There is no score: each family shows the facts \
    that put it on the list.";

/// Each signal's own threshold, and the level at which its service acts alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Facts older than this many days no longer count.
    pub lookback_days: i64,
    /// Missed immunisations of one child: a signal from this many…
    pub immunisations_signal: usize,
    /// …and the health service follows the child up itself from this many.
    pub immunisations_acts: usize,
    /// Attendance below this (tenths of a percent) is persistent absence: a signal…
    pub attendance_signal_below: u16,
    /// …and below this, severe absence, which the school refers itself.
    pub attendance_acts_below: u16,
    /// Rent arrears of at least this many tenths of a week: a signal…
    pub arrears_signal_from: u16,
    /// …and from this many, the housing service acts alone.
    pub arrears_acts_from: u16,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            lookback_days: 365,
            immunisations_signal: 1,
            immunisations_acts: 3,
            attendance_signal_below: 900,
            attendance_acts_below: 500,
            arrears_signal_from: 40,
            arrears_acts_from: 80,
        }
    }
}

impl Thresholds {
    /// Each signal and its service's own threshold, in words.
    pub fn describe(&self) -> Vec<(&'static str, String, String)> {
        vec![
            (
                SignalKind::MissedImmunisation.label(),
                format!(
                    "{} or more missed immunisations of a child in the last {} days",
                    self.immunisations_signal, self.lookback_days
                ),
                format!(
                    "{} or more: the health service follows up itself",
                    self.immunisations_acts
                ),
            ),
            (
                SignalKind::SchoolAbsence.label(),
                format!(
                    "a child's latest attendance below {} (persistent absence)",
                    tenths_percent(self.attendance_signal_below)
                ),
                format!(
                    "below {} (severe absence): the school refers itself",
                    tenths_percent(self.attendance_acts_below)
                ),
            ),
            (
                SignalKind::RentArrears.label(),
                format!(
                    "{} or more in arrears (the latest figure)",
                    tenths_weeks(self.arrears_signal_from)
                ),
                format!(
                    "{} or more: the housing service acts alone",
                    tenths_weeks(self.arrears_acts_from)
                ),
            ),
            (
                SignalKind::AdultMentalHealth.label(),
                "a parent or carer's open involvement with adult mental health services".into(),
                "none: it is the adult's service, not the family's".into(),
            ),
            (
                SignalKind::PoliceInvolvement.label(),
                "an open police involvement with the family (domestic abuse notifications below MARAC)".into(),
                "none here: a MARAC referral comes through the front door".into(),
            ),
        ]
    }
}

/// "86.5%" from tenths of a percent.
pub fn tenths_percent(t: u16) -> String {
    format!("{}.{}%", t / 10, t % 10)
}

/// "4.5 weeks" from tenths of a week.
pub fn tenths_weeks(t: u16) -> String {
    format!("{}.{} weeks", t / 10, t % 10)
}

/// One fact a partner holds about a family, as early identification reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: SignalKind,
    /// Attendance in tenths of a percent, arrears in tenths of a week; none
    /// for a missed immunisation or an involvement.
    pub measure: Option<u16>,
    /// What else the source says: the vaccine, the term, the service.
    pub detail: String,
    /// The member it is about (none for an involvement with the whole family).
    pub person_id: Option<i64>,
    /// The date it is about: the immunisation's due date, the term, the arrears figure, the involvement's start.
    pub on: Date,
    /// When Kindred received it: a decision stands until a fact arrives after it.
    pub recorded_at_ms: i64,
    /// The organisation that holds it.
    pub organisation_id: i64,
    /// The system it came from (a feed's source system, or Kindred for a recorded involvement).
    pub source: String,
    /// Unique among the facts: `source_record:12`, `involvement:3`.
    pub key: String,
}

impl Fact {
    /// The value in words: "86.5% attendance (Autumn 2025)".
    pub fn value_words(&self) -> String {
        match (self.kind, self.measure) {
            (SignalKind::SchoolAbsence, Some(m)) => {
                format!("{} attendance ({})", tenths_percent(m), self.detail)
            }
            (SignalKind::RentArrears, Some(m)) => format!("{} in arrears", tenths_weeks(m)),
            (SignalKind::MissedImmunisation, _) => format!("{} not given", self.detail),
            (SignalKind::AdultMentalHealth | SignalKind::PoliceInvolvement, _) => {
                format!("Open involvement: {}", self.detail)
            }
            (_, None) => self.detail.clone(),
        }
    }
}

/// The last decision recorded about a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFact {
    pub decision: Decision,
    pub at_ms: i64,
    pub by_user_id: i64,
}

/// What is known about one family.
#[derive(Debug, Clone, Default)]
pub struct FamilyInput {
    pub family_id: i64,
    /// Already known: an open episode, a statutory flag, an open referral, or sealed.
    pub known: bool,
    pub facts: Vec<Fact>,
    pub decision: Option<DecisionFact>,
}

/// A listed family's place on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Waiting for someone to decide.
    Open,
    /// Decided, and no fact has arrived since.
    Decided(DecisionFact),
}

/// A family on the list, with the facts that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub family_id: i64,
    /// Every signal, by service then date.
    pub facts: Vec<Fact>,
    pub services: Vec<Service>,
    pub standing: Standing,
}

/// Why a family is not on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotListed {
    /// Already known to early help or statutory services.
    Known,
    /// A service's signal has reached the level at which it acts alone.
    ServiceActing(Service),
    /// Signals from fewer than two services.
    TooFewServices(usize),
}

/// The facts of one family that are signals, or the service already acting.
/// Facts dated after `today`, outside the look-back window (but an open
/// involvement counts however long ago it started) or below their signal
/// threshold are no signals; for attendance and arrears only each person's
/// latest figure counts.
pub fn signals(facts: &[&Fact], t: &Thresholds, today: Date) -> Result<Vec<Fact>, Service> {
    let since = today - Duration::days(t.lookback_days);
    let current: Vec<&Fact> = facts
        .iter()
        .copied()
        .filter(|f| f.on <= today && (f.kind.is_involvement() || f.on > since))
        .collect();
    let mut out = Vec::new();
    // Missed immunisations: counted per child.
    let mut by_child: BTreeMap<Option<i64>, Vec<&Fact>> = BTreeMap::new();
    for f in current.iter().filter(|f| f.kind == SignalKind::MissedImmunisation) {
        by_child.entry(f.person_id).or_default().push(f);
    }
    for missed in by_child.values() {
        if missed.len() >= t.immunisations_acts {
            return Err(Service::Health);
        }
        if missed.len() >= t.immunisations_signal {
            out.extend(missed.iter().map(|f| (*f).clone()));
        }
    }
    // Attendance and arrears: each person's latest figure.
    for kind in [SignalKind::SchoolAbsence, SignalKind::RentArrears] {
        let mut latest: BTreeMap<Option<i64>, &Fact> = BTreeMap::new();
        for f in current.iter().filter(|f| f.kind == kind) {
            let newer = latest
                .get(&f.person_id)
                .is_none_or(|l| (f.on, f.recorded_at_ms, &f.key) > (l.on, l.recorded_at_ms, &l.key));
            if newer {
                latest.insert(f.person_id, f);
            }
        }
        for f in latest.values() {
            let Some(m) = f.measure else { continue };
            let (signal, acts) = match kind {
                SignalKind::SchoolAbsence => (m < t.attendance_signal_below, m < t.attendance_acts_below),
                _ => (m >= t.arrears_signal_from, m >= t.arrears_acts_from),
            };
            if acts {
                return Err(kind.service());
            }
            if signal {
                out.push((*f).clone());
            }
        }
    }
    // Open involvements are signals as they stand.
    out.extend(current.iter().filter(|f| f.kind.is_involvement()).map(|f| (*f).clone()));
    out.sort_by(|a, b| (a.kind.service(), a.on, &a.key).cmp(&(b.kind.service(), b.on, &b.key)));
    Ok(out)
}

/// Whether a family is listed for a viewer who may see the facts `visible`
/// accepts, and if so with which facts; if not, why not. Facts the viewer
/// may not see are left out before anything else, so they can neither put a
/// family on the list nor keep one off it.
pub fn identify(
    family: &FamilyInput,
    visible: impl Fn(&Fact) -> bool,
    t: &Thresholds,
    today: Date,
) -> Result<Listed, NotListed> {
    if family.known {
        return Err(NotListed::Known);
    }
    let seen: Vec<&Fact> = family.facts.iter().filter(|f| visible(f)).collect();
    let facts = signals(&seen, t, today).map_err(NotListed::ServiceActing)?;
    let services: BTreeSet<Service> = facts.iter().map(|f| f.kind.service()).collect();
    if services.len() < 2 {
        return Err(NotListed::TooFewServices(services.len()));
    }
    let standing = match &family.decision {
        Some(d) if facts.iter().all(|f| f.recorded_at_ms <= d.at_ms) => Standing::Decided(d.clone()),
        _ => Standing::Open,
    };
    Ok(Listed {
        family_id: family.family_id,
        facts,
        services: services.into_iter().collect(),
        standing,
    })
}

/// Whether a fact held by `fact_organisation_id` may reach a worker of
/// `viewer_organisation_id` for early identification, and why: the same
/// organisation, or an information-sharing agreement in force, not resting
/// on consent, for [`sharing::EARLY_IDENTIFICATION`], naming both and
/// covering the fact's category. Families have not been asked at this
/// point, so consent plays no part, and neither does any override.
pub fn fact_shared(
    viewer_organisation_id: i64,
    fact: &Fact,
    agreements: &[AgreementFact],
    today: Date,
) -> Option<SharingBasis> {
    let facts = SharingFacts {
        agreements: agreements.to_vec(),
        ..Default::default()
    };
    sharing::organisation_shares(
        &facts,
        fact.organisation_id,
        viewer_organisation_id,
        sharing::EARLY_IDENTIFICATION,
        fact.kind.category(),
        today,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sharing::LawfulBasis;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 20);

    fn fact(kind: SignalKind, measure: Option<u16>, person: i64, org: i64, days_ago: i64, key: u32) -> Fact {
        Fact {
            kind,
            measure,
            detail: "x".into(),
            person_id: Some(person),
            on: TODAY - Duration::days(days_ago),
            recorded_at_ms: 1_000 + i64::from(key),
            organisation_id: org,
            source: "feed".into(),
            key: format!("f:{key}"),
        }
    }

    fn all(_: &Fact) -> bool {
        true
    }

    #[test]
    fn two_services_below_their_thresholds_list_a_family() {
        let t = Thresholds::default();
        let family = FamilyInput {
            family_id: 7,
            known: false,
            facts: vec![
                fact(SignalKind::MissedImmunisation, None, 1, 10, 30, 1),
                fact(SignalKind::SchoolAbsence, Some(865), 2, 20, 60, 2),
                // A good attendance figure is no signal.
                fact(SignalKind::SchoolAbsence, Some(965), 3, 20, 60, 3),
            ],
            decision: None,
        };
        let l = identify(&family, all, &t, TODAY).unwrap();
        assert_eq!(l.services, vec![Service::Health, Service::Education]);
        assert_eq!(l.facts.len(), 2);
        assert_eq!(l.facts[1].value_words(), "86.5% attendance (x)");
        // One service alone: not listed.
        let only_school = FamilyInput {
            facts: family.facts[1..].to_vec(),
            ..family.clone()
        };
        assert_eq!(
            identify(&only_school, all, &t, TODAY),
            Err(NotListed::TooFewServices(1))
        );
        // Severe absence: the school acts alone.
        let mut severe = family.clone();
        severe.facts[1].measure = Some(420);
        assert_eq!(
            identify(&severe, all, &t, TODAY),
            Err(NotListed::ServiceActing(Service::Education))
        );
        // Known already.
        let known = FamilyInput {
            known: true,
            ..family.clone()
        };
        assert_eq!(identify(&known, all, &t, TODAY), Err(NotListed::Known));
        // Older than a year: no longer counts.
        let mut old = family.clone();
        old.facts[0].on = TODAY - Duration::days(400);
        assert!(identify(&old, all, &t, TODAY).is_err());
    }

    #[test]
    fn a_later_figure_replaces_an_earlier_one() {
        let t = Thresholds::default();
        let family = FamilyInput {
            family_id: 1,
            facts: vec![
                fact(SignalKind::RentArrears, Some(50), 1, 30, 90, 1),
                fact(SignalKind::RentArrears, Some(10), 1, 30, 10, 2),
                fact(SignalKind::AdultMentalHealth, None, 1, 40, 100, 3),
            ],
            ..Default::default()
        };
        // The arrears were cleared: only mental health is left.
        assert_eq!(identify(&family, all, &t, TODAY), Err(NotListed::TooFewServices(1)));
    }

    #[test]
    fn a_decision_stands_until_a_new_fact_arrives() {
        let t = Thresholds::default();
        let mut family = FamilyInput {
            family_id: 1,
            facts: vec![
                fact(SignalKind::RentArrears, Some(50), 1, 30, 90, 1),
                fact(SignalKind::AdultMentalHealth, None, 1, 40, 100, 2),
            ],
            decision: Some(DecisionFact {
                decision: Decision::NotAppropriate,
                at_ms: 5_000,
                by_user_id: 9,
            }),
            ..Default::default()
        };
        assert!(matches!(
            identify(&family, all, &t, TODAY).unwrap().standing,
            Standing::Decided(_)
        ));
        family.facts.push(Fact {
            recorded_at_ms: 6_000,
            ..fact(SignalKind::MissedImmunisation, None, 2, 10, 5, 3)
        });
        assert_eq!(identify(&family, all, &t, TODAY).unwrap().standing, Standing::Open);
    }

    #[test]
    fn facts_cross_organisations_only_under_an_agreement_for_early_identification() {
        let school = fact(SignalKind::SchoolAbsence, Some(800), 1, 20, 5, 1);
        assert_eq!(
            fact_shared(20, &school, &[], TODAY),
            Some(SharingBasis::SameOrganisation)
        );
        assert_eq!(fact_shared(99, &school, &[], TODAY), None);
        let isa = |purpose: &str, categories: Vec<DataCategory>, basis: LawfulBasis| AgreementFact {
            id: 5,
            title: "ISA".into(),
            lawful_basis: basis,
            purposes: vec![purpose.into()],
            categories,
            organisation_ids: vec![20, 99],
            starts_on: date!(2026 - 01 - 01),
            ends_on: None,
        };
        let good = isa(
            sharing::EARLY_IDENTIFICATION,
            vec![DataCategory::Education],
            LawfulBasis::PublicTask,
        );
        assert_eq!(
            fact_shared(99, &school, std::slice::from_ref(&good), TODAY),
            Some(SharingBasis::Agreement(5))
        );
        for wrong in [
            isa(
                sharing::EARLY_HELP_SHARING,
                vec![DataCategory::Education],
                LawfulBasis::PublicTask,
            ),
            isa(
                sharing::EARLY_IDENTIFICATION,
                vec![DataCategory::Health],
                LawfulBasis::PublicTask,
            ),
            isa(
                sharing::EARLY_IDENTIFICATION,
                vec![DataCategory::Education],
                LawfulBasis::Consent,
            ),
        ] {
            assert_eq!(fact_shared(99, &school, &[wrong], TODAY), None);
        }
        assert!(sharing::party_to(&[good], 99, sharing::EARLY_IDENTIFICATION, TODAY));
    }

    fn any_fact() -> impl Strategy<Value = Fact> {
        (
            prop::sample::select(SignalKind::ALL.to_vec()),
            0u16..1001,
            1i64..4,
            1i64..6,
            -5i64..500,
            0i64..10_000,
            any::<u32>(),
        )
            .prop_map(|(kind, m, person, org, days_ago, at, key)| {
                let measure = match kind {
                    SignalKind::SchoolAbsence => Some(m),
                    SignalKind::RentArrears => Some(m / 10),
                    _ => None,
                };
                Fact {
                    recorded_at_ms: at,
                    ..fact(kind, measure, person, org, days_ago, key)
                }
            })
    }

    fn family() -> impl Strategy<Value = FamilyInput> {
        (
            prop::collection::vec(any_fact(), 0..10),
            prop::bool::weighted(0.1),
            prop::option::of(0i64..10_000),
        )
            .prop_map(|(mut facts, known, decided)| {
                for (i, f) in facts.iter_mut().enumerate() {
                    f.key = format!("f:{i}");
                }
                FamilyInput {
                    family_id: 1,
                    known,
                    facts,
                    decision: decided.map(|at_ms| DecisionFact {
                        decision: Decision::OfferMade,
                        at_ms,
                        by_user_id: 1,
                    }),
                }
            })
    }

    proptest! {
        /// Every listed family's facts satisfy the rule, in the viewer's sight.
        #[test]
        fn every_entry_is_explained(f in family(), hidden in prop::collection::btree_set(1i64..6, 0..3)) {
            let t = Thresholds::default();
            let visible = |x: &Fact| !hidden.contains(&x.organisation_id);
            if let Ok(l) = identify(&f, visible, &t, TODAY) {
                prop_assert!(!f.known);
                prop_assert!(!l.facts.is_empty());
                let services: BTreeSet<Service> = l.facts.iter().map(|x| x.kind.service()).collect();
                prop_assert!(services.len() >= 2);
                prop_assert_eq!(services.into_iter().collect::<Vec<_>>(), l.services.clone());
                for x in &l.facts {
                    // Each fact is the family's own, one the viewer may see, recent, and a signal below its service's own threshold.
                    prop_assert!(f.facts.contains(x));
                    prop_assert!(visible(x));
                    prop_assert!(x.on <= TODAY);
                    prop_assert!(x.kind.is_involvement() || x.on > TODAY - Duration::days(t.lookback_days));
                    match x.kind {
                        SignalKind::SchoolAbsence => {
                            let m = x.measure.unwrap();
                            prop_assert!(m < t.attendance_signal_below && m >= t.attendance_acts_below);
                        }
                        SignalKind::RentArrears => {
                            let m = x.measure.unwrap();
                            prop_assert!(m >= t.arrears_signal_from && m < t.arrears_acts_from);
                        }
                        SignalKind::MissedImmunisation => {
                            let n = l.facts.iter().filter(|y| y.kind == x.kind && y.person_id == x.person_id).count();
                            prop_assert!(n >= t.immunisations_signal && n < t.immunisations_acts);
                        }
                        _ => {}
                    }
                }
                // Decided only when nothing arrived after the decision.
                if let Standing::Decided(d) = &l.standing {
                    prop_assert!(l.facts.iter().all(|x| x.recorded_at_ms <= d.at_ms));
                } else if let Some(d) = &f.decision {
                    prop_assert!(l.facts.iter().any(|x| x.recorded_at_ms > d.at_ms));
                }
            }
        }

        /// No family is ever listed from one service alone.
        #[test]
        fn never_from_one_service(f in family(), service in prop::sample::select(Service::ALL.to_vec())) {
            let one = FamilyInput {
                facts: f.facts.into_iter().filter(|x| x.kind.service() == service).collect(),
                ..f
            };
            let got = identify(&one, all, &Thresholds::default(), TODAY);
            prop_assert!(got.is_err());
        }

        /// A fact the viewer may not see changes nothing: removing it leaves
        /// the same answer, so no family is listed (or kept off) on it.
        #[test]
        fn unseen_facts_change_nothing(f in family(), hidden in prop::collection::btree_set(1i64..6, 0..4)) {
            let t = Thresholds::default();
            let visible = |x: &Fact| !hidden.contains(&x.organisation_id);
            let with_hidden = identify(&f, visible, &t, TODAY);
            let removed = FamilyInput {
                facts: f.facts.iter().filter(|x| visible(x)).cloned().collect(),
                ..f.clone()
            };
            prop_assert_eq!(&with_hidden, &identify(&removed, all, &t, TODAY));
            if let Ok(l) = &with_hidden {
                prop_assert!(l.facts.iter().all(|x| !hidden.contains(&x.organisation_id)));
            }
        }
    }
}
