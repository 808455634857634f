//! When needs add up (F5): each agency records what it sees — a referral's
//! needs, a flag — and alone none of them reaches the threshold for
//! multi-agency early help. Together they may. Kindred says so on the family
//! page, so that nobody has to hold the whole picture in their head.
//!
//! The threshold is the Supporting Families one: needs under at least
//! [`THRESHOLD`] of the ten headline outcomes.

use std::collections::{BTreeMap, BTreeSet};

use crate::referral::{self, HeadlineOutcome};

/// Headline outcomes with a need that make a family eligible for multi-agency early help.
pub const THRESHOLD: usize = 3;

/// Who recorded a need: an organisation, or the family itself (a self-referral).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Organisation(i64),
    Family,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedNeed {
    pub outcome: HeadlineOutcome,
    pub source: Source,
}

impl RecordedNeed {
    /// A need from the referral needs list, by its code.
    pub fn from_need_code(code: &str, source: Source) -> Option<RecordedNeed> {
        referral::need(code).map(|n| RecordedNeed {
            outcome: n.outcome,
            source,
        })
    }

    /// The flags that stand for a need (young carer, EHCP). Statutory flags
    /// are not needs here: they mean a threshold has already been met.
    pub fn from_flag(kind: &str, source: Source) -> Option<RecordedNeed> {
        let outcome = match kind {
            "young_carer" => HeadlineOutcome::Relationships,
            "ehcp" => HeadlineOutcome::Education,
            "safeguarding_concern" => HeadlineOutcome::Safeguarding,
            _ => return None,
        };
        Some(RecordedNeed { outcome, source })
    }
}

/// Needs that add up: the outcomes they fall under, and how many sources recorded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddsUp {
    pub outcomes: Vec<HeadlineOutcome>,
    pub sources: usize,
}

/// Whether the needs add up: together they fall under at least [`THRESHOLD`]
/// headline outcomes, while no single source's needs do, and the family is not
/// already getting help at that level (`already_met`: an open multi-agency or
/// statutory episode, or a child in need or protection plan).
pub fn needs_add_up(needs: &[RecordedNeed], already_met: bool) -> Option<AddsUp> {
    if already_met {
        return None;
    }
    let mut by_source: BTreeMap<Source, BTreeSet<HeadlineOutcome>> = BTreeMap::new();
    for n in needs {
        by_source.entry(n.source).or_default().insert(n.outcome);
    }
    if by_source.values().any(|o| o.len() >= THRESHOLD) {
        return None;
    }
    let all: BTreeSet<HeadlineOutcome> = by_source.values().flatten().copied().collect();
    (all.len() >= THRESHOLD).then(|| AddsUp {
        outcomes: all.into_iter().collect(),
        sources: by_source.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn need() -> impl Strategy<Value = RecordedNeed> {
        (
            0usize..HeadlineOutcome::ALL.len(),
            prop_oneof![(1i64..5).prop_map(Source::Organisation), Just(Source::Family)],
        )
            .prop_map(|(o, source)| RecordedNeed {
                outcome: HeadlineOutcome::ALL[o],
                source,
            })
    }

    proptest! {
        #[test]
        fn adds_up_exactly_when_together_but_not_alone(needs in prop::collection::vec(need(), 0..12), met in any::<bool>()) {
            let got = needs_add_up(&needs, met);
            let all: BTreeSet<_> = needs.iter().map(|n| n.outcome).collect();
            let sources: BTreeSet<_> = needs.iter().map(|n| n.source).collect();
            let alone = sources.iter().any(|s| {
                needs.iter().filter(|n| n.source == *s).map(|n| n.outcome).collect::<BTreeSet<_>>().len() >= THRESHOLD
            });
            prop_assert_eq!(got.is_some(), !met && !alone && all.len() >= THRESHOLD);
            if let Some(a) = got {
                // It takes more than one source for needs to add up.
                prop_assert!(a.sources >= 2);
                prop_assert_eq!(a.outcomes.len(), all.len());
            }
        }

        #[test]
        fn one_source_never_adds_up(outcomes in prop::collection::vec(0usize..10, 0..12)) {
            let needs: Vec<_> = outcomes.iter().map(|o| RecordedNeed {
                outcome: HeadlineOutcome::ALL[*o],
                source: Source::Organisation(1),
            }).collect();
            prop_assert_eq!(needs_add_up(&needs, false), None);
        }
    }

    #[test]
    fn three_agencies_one_need_each() {
        let n = |code, org| RecordedNeed::from_need_code(code, Source::Organisation(org)).unwrap();
        let needs = [n("school_attendance", 1), n("housing", 2), n("parent_mental_health", 3)];
        let a = needs_add_up(&needs, false).unwrap();
        assert_eq!(a.sources, 3);
        assert_eq!(a.outcomes.len(), 3);
        assert_eq!(needs_add_up(&needs, true), None);
        assert_eq!(needs_add_up(&needs[..2], false), None);
        assert_eq!(RecordedNeed::from_flag("child_in_need", Source::Family), None);
    }
}
