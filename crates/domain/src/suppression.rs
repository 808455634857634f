//! Small-number suppression for aggregate outputs that leave the team that
//! made them: saved and shared reports, exports, dashboards, the hubs' reach.
//!
//! A count from 1 to 4 could identify a family in a small area, so it is
//! never shown; zero is shown (it identifies nobody). A percentage is
//! withheld when its numerator or denominator is withheld. When a row or
//! column of counts carries a shown total and exactly one cell of it is
//! withheld, that cell could be worked out by subtraction, so the next
//! smallest shown cell is withheld too ([`protect_total`]).

use std::fmt;

/// The smallest and largest counts that are withheld.
pub const LOWEST: i64 = 1;
pub const HIGHEST: i64 = 4;

/// What is shown for a withheld figure, in tables and CSV alike.
pub const MARK: &str = "[c]";

/// What users are told a withheld figure means.
pub const EXPLANATION: &str =
    "[c] means a count from 1 to 4, or a figure worked from one, withheld so that no family can be identified.";

/// A figure as it may be shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shown<T> {
    Value(T),
    Withheld,
}

impl<T: Copy> Shown<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Shown::Value(v) => Some(v),
            Shown::Withheld => None,
        }
    }

    pub fn is_withheld(self) -> bool {
        matches!(self, Shown::Withheld)
    }
}

impl fmt::Display for Shown<i64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Value(v) => write!(f, "{v}"),
            Shown::Withheld => f.write_str(MARK),
        }
    }
}

/// Whether a count must be withheld.
pub fn withheld(count: i64) -> bool {
    (LOWEST..=HIGHEST).contains(&count)
}

/// A count as it may be shown.
pub fn count(n: i64) -> Shown<i64> {
    if withheld(n) { Shown::Withheld } else { Shown::Value(n) }
}

/// A percentage (0–100) of `part` in `whole`, withheld when either count is,
/// and absent (`None`) when `whole` is zero.
pub fn percentage(part: i64, whole: i64) -> Option<Shown<f64>> {
    if whole == 0 {
        return None;
    }
    if withheld(part) || withheld(whole) {
        return Some(Shown::Withheld);
    }
    Some(Shown::Value(part as f64 * 100.0 / whole as f64))
}

/// A percentage as a page shows it: whole percent, [`MARK`] when withheld,
/// and a dash when there is nothing to take a percentage of.
pub fn percentage_text(part: i64, whole: i64) -> String {
    match percentage(part, whole) {
        None => "–".into(),
        Some(Shown::Withheld) => MARK.into(),
        Some(Shown::Value(p)) => format!("{p:.0}%"),
    }
}

/// An average over `n` records, withheld when `n` is.
pub fn average(sum: f64, n: i64) -> Option<Shown<f64>> {
    if n == 0 {
        return None;
    }
    if withheld(n) {
        return Some(Shown::Withheld);
    }
    Some(Shown::Value(sum / n as f64))
}

/// Counts that add up to a total shown beside them: each count as it may be
/// shown, with secondary suppression so that no withheld cell can be worked
/// out from the total. When exactly one cell is withheld, the smallest other
/// non-zero cell is withheld too.
pub fn protect_total(counts: &[i64]) -> Vec<Shown<i64>> {
    let mut out: Vec<Shown<i64>> = counts.iter().map(|&n| count(n)).collect();
    if out.iter().filter(|c| c.is_withheld()).count() == 1 {
        let next = counts
            .iter()
            .enumerate()
            .filter(|(i, n)| !out[*i].is_withheld() && **n > 0)
            .min_by_key(|(_, n)| **n)
            .map(|(i, _)| i);
        if let Some(i) = next {
            out[i] = Shown::Withheld;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_to_four_is_withheld_and_zero_is_not() {
        assert_eq!(count(0), Shown::Value(0));
        for n in 1..=4 {
            assert_eq!(count(n), Shown::Withheld, "{n}");
        }
        assert_eq!(count(5), Shown::Value(5));
        assert_eq!(count(5).to_string(), "5");
        assert_eq!(count(3).to_string(), MARK);
    }

    #[test]
    fn a_percentage_of_a_small_number_is_withheld() {
        assert_eq!(percentage(3, 50), Some(Shown::Withheld));
        assert_eq!(percentage(0, 4), Some(Shown::Withheld));
        assert_eq!(percentage(0, 0), None);
        assert_eq!(percentage(10, 40), Some(Shown::Value(25.0)));
        assert_eq!(average(12.0, 3), Some(Shown::Withheld));
        assert_eq!(average(12.0, 6), Some(Shown::Value(2.0)));
        assert_eq!(
            [percentage_text(10, 40), percentage_text(3, 40), percentage_text(0, 0)],
            ["25%", MARK, "–"]
        );
    }

    #[test]
    fn a_lone_withheld_cell_takes_the_next_smallest_with_it() {
        let shown = protect_total(&[40, 3, 12, 0, 9]);
        assert_eq!(
            shown,
            vec![
                Shown::Value(40),
                Shown::Withheld,
                Shown::Value(12),
                Shown::Value(0),
                Shown::Withheld
            ]
        );
        // Two withheld already: nothing more to do.
        assert_eq!(
            protect_total(&[2, 3, 10]),
            vec![Shown::Withheld, Shown::Withheld, Shown::Value(10)]
        );
    }

    proptest! {
        /// From the shown cells and the total, no single withheld cell can be
        /// worked out: either none is withheld or at least two are.
        #[test]
        fn no_withheld_cell_can_be_worked_out(counts in proptest::collection::vec(0i64..30, 1..12)) {
            let shown = protect_total(&counts);
            let withheld_cells = shown.iter().filter(|s| s.is_withheld()).count();
            let small = counts.iter().filter(|n| withheld(**n)).count();
            prop_assert!(withheld_cells != 1 || counts.iter().filter(|n| **n > 0).count() == 1);
            prop_assert!(withheld_cells >= small);
            for (n, s) in counts.iter().zip(&shown) {
                if withheld(*n) { prop_assert!(s.is_withheld()); }
                if let Shown::Value(v) = s { prop_assert_eq!(v, n); }
            }
        }
    }
}
