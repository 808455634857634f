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

    #[test]
    fn examples() {
        assert_eq!(Score::parse(" 7 ").map(Score::value), Some(7));
        assert_eq!(Score::parse("0"), None);
        assert_eq!(Score::parse("11"), None);
        assert_eq!(Score::parse("seven"), None);
        assert_eq!(default_areas().len(), 10);
    }
}
