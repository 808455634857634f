//! The family-led assessment (F6): the family scores each area of life from 1
//! to 10 in their own words, says what they are good at, what they want to
//! change and what life will be like; repeated, it shows distance travelled.

use crate::referral::HeadlineOutcome;

/// A score from 1 (things are really hard) to 10 (things are going well).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(u8);

impl Score {
    pub fn parse(s: &str) -> Option<Score> {
        match s.trim().parse::<u8>() {
            Ok(n @ 1..=10) => Some(Score(n)),
            _ => None,
        }
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// An area of family life, phrased for the family. By default the ten
/// Supporting Families headline outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub code: &'static str,
    pub question: &'static str,
}

pub fn family_question(o: HeadlineOutcome) -> &'static str {
    match o {
        HeadlineOutcome::Education => "School, college and learning",
        HeadlineOutcome::EarlyYears => "Our little ones' development, talking and play",
        HeadlineOutcome::Health => "How we feel, in our bodies and our minds",
        HeadlineOutcome::Substances => "Drinking, drugs and how they affect us",
        HeadlineOutcome::Relationships => "How we get on with each other",
        HeadlineOutcome::Safeguarding => "Feeling safe, at home and outside",
        HeadlineOutcome::Crime => "Staying out of trouble",
        HeadlineOutcome::DomesticAbuse => "Feeling safe from harm by someone close",
        HeadlineOutcome::Housing => "Our home and somewhere settled to live",
        HeadlineOutcome::Finance => "Money, work and paying the bills",
    }
}

/// The default areas, in the order families see them.
pub fn default_areas() -> Vec<Area> {
    HeadlineOutcome::ALL
        .iter()
        .map(|o| Area {
            code: o.code(),
            question: family_question(*o),
        })
        .collect()
}

/// An area as a local authority sets it: the defaults reworded or no longer
/// asked, and areas of its own. Scores already recorded keep their area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantArea {
    pub code: String,
    pub question: String,
    /// Whether new assessments ask it.
    pub asked: bool,
}

/// The longest question an area may have.
pub const MAX_QUESTION: usize = 200;

/// A tenant's areas: every default area in its place (as the tenant
/// reworded or retired it, if it did), then the tenant's own, in their order.
pub fn tenant_areas(saved: &[TenantArea]) -> Vec<TenantArea> {
    let defaults = default_areas();
    let mut out: Vec<TenantArea> = defaults
        .iter()
        .map(|d| {
            saved.iter().find(|s| s.code == d.code).cloned().unwrap_or(TenantArea {
                code: d.code.to_string(),
                question: d.question.to_string(),
                asked: true,
            })
        })
        .collect();
    for s in saved {
        if !out.iter().any(|o| o.code == s.code) {
            out.push(s.clone());
        }
    }
    out
}

/// The code for a tenant's next area of its own: `own_1`, `own_2`, …
pub fn next_own_code(areas: &[TenantArea]) -> String {
    (1..)
        .map(|n| format!("own_{n}"))
        .find(|c| !areas.iter().any(|a| &a.code == c))
        .unwrap_or_default()
}

/// How far each area has moved from the first assessment to the latest:
/// (area code, first score, latest score), for areas scored both times.
pub fn distance_travelled<'a>(first: &'a [(String, u8)], latest: &'a [(String, u8)]) -> Vec<(&'a str, u8, u8)> {
    first
        .iter()
        .filter_map(|(area, a)| {
            latest
                .iter()
                .find(|(l, _)| l == area)
                .map(|(_, b)| (area.as_str(), *a, *b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Only the whole numbers 1 to 10 are scores.
        #[test]
        fn scores_are_one_to_ten(s in ".{0,4}") {
            let parsed = Score::parse(&s);
            let expected = s.trim().parse::<u8>().ok().filter(|n| (1..=10).contains(n));
            prop_assert_eq!(parsed.map(|x| x.value()), expected);
        }

        /// Distance travelled pairs each area scored both times, and only those.
        #[test]
        fn distance_pairs_areas(
            first in proptest::collection::btree_map(0usize..10, 1u8..=10, 0..10),
            latest in proptest::collection::btree_map(0usize..10, 1u8..=10, 0..10),
        ) {
            let codes = default_areas();
            let f: Vec<(String, u8)> = first.iter().map(|(k, v)| (codes[*k].code.to_string(), *v)).collect();
            let l: Vec<(String, u8)> = latest.iter().map(|(k, v)| (codes[*k].code.to_string(), *v)).collect();
            let d = distance_travelled(&f, &l);
            prop_assert_eq!(d.len(), first.keys().filter(|k| latest.contains_key(k)).count());
            for (area, a, b) in d {
                let k = codes.iter().position(|c| c.code == area).unwrap();
                prop_assert_eq!((a, b), (first[&k], latest[&k]));
            }
        }
    }

    proptest! {
        /// Every default area appears once, in order, reworded or not; the
        /// tenant's own follow; no code twice.
        #[test]
        fn tenant_areas_keep_every_default_once(
            reworded in proptest::collection::btree_map(0usize..10, ("[a-z ]{1,12}", any::<bool>()), 0..10),
            own in 0usize..4,
        ) {
            let d = default_areas();
            let mut saved: Vec<TenantArea> = reworded
                .iter()
                .map(|(k, (q, asked))| TenantArea { code: d[*k].code.into(), question: q.clone(), asked: *asked })
                .collect();
            for _ in 0..own {
                let code = next_own_code(&saved);
                saved.push(TenantArea { code, question: "Ours".into(), asked: true });
            }
            let areas = tenant_areas(&saved);
            prop_assert_eq!(areas.len(), d.len() + own);
            for (i, a) in d.iter().enumerate() {
                prop_assert_eq!(&areas[i].code, a.code);
                match reworded.get(&i) {
                    Some((q, asked)) => prop_assert_eq!((&areas[i].question, areas[i].asked), (q, *asked)),
                    None => prop_assert_eq!((areas[i].question.as_str(), areas[i].asked), (a.question, true)),
                }
            }
            let mut codes: Vec<_> = areas.iter().map(|a| a.code.clone()).collect();
            codes.sort();
            codes.dedup();
            prop_assert_eq!(codes.len(), areas.len());
        }
    }

    #[test]
    fn examples() {
        assert_eq!(Score::parse(" 7 ").map(Score::value), Some(7));
        assert_eq!(Score::parse("0"), None);
        assert_eq!(Score::parse("11"), None);
        assert_eq!(Score::parse("seven"), None);
        assert_eq!(default_areas().len(), 10);
    }
}
