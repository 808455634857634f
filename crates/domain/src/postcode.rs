//! UK postcodes: normalised to upper case with one space, split into the parts
//! that reach areas and matching use (outward code = district, sector).

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Postcode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    #[error("Enter a full UK postcode, like SW1A 1AA")]
    Shape,
}

impl Postcode {
    /// Accepts any case and spacing: `sw1a1aa`, `SW1A  1AA`.
    pub fn parse(input: &str) -> Result<Self, PostcodeError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(PostcodeError::Shape);
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if !valid_inward(inward) || !valid_outward(outward) {
            return Err(PostcodeError::Shape);
        }
        Ok(Postcode(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code, which is the postcode district: `SW1A`.
    pub fn district(&self) -> &str {
        self.0.split(' ').next().unwrap_or("")
    }

    /// The sector: the district and the first inward digit, `SW1A 1`.
    pub fn sector(&self) -> &str {
        &self.0[..self.0.len() - 2]
    }

    /// The area: the leading letters, `SW`.
    pub fn area(&self) -> &str {
        let d = self.district();
        let n = d.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        &d[..n]
    }
}

fn valid_inward(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
}

/// Outward shapes: A9, A99, AA9, AA99, A9A, AA9A.
fn valid_outward(s: &str) -> bool {
    let shape: String = s.chars().map(|c| if c.is_ascii_digit() { '9' } else { 'A' }).collect();
    matches!(shape.as_str(), "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A")
}

/// Parses a reach area: a district (`W2`) or a sector (`W2 5`), normalised.
pub fn parse_area(input: &str) -> Result<String, PostcodeError> {
    let s = input
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let (outward, sector) = match s.split_once(' ') {
        Some((o, d)) => (o, Some(d)),
        None => (s.as_str(), None),
    };
    if !valid_outward(outward) || sector.is_some_and(|d| d.len() != 1 || !d.as_bytes()[0].is_ascii_digit()) {
        return Err(PostcodeError::Shape);
    }
    Ok(s)
}

/// A reach area is a district (`W2`) or a sector (`W2 5`); `covers` says whether
/// a postcode falls in it.
pub fn area_covers(area: &str, postcode: &Postcode) -> bool {
    let area = area.trim().to_ascii_uppercase();
    if area.contains(' ') {
        postcode.sector() == area
    } else {
        postcode.district() == area
    }
}

/// Of `sites`, the one whose reach covers `postcode`: one naming its sector
/// before one naming only its district (the first of each, in order).
pub fn best_cover<'a, T>(postcode: &Postcode, sites: &'a [T], areas: impl Fn(&T) -> &[String]) -> Option<&'a T> {
    let covering = |sector: bool| {
        sites.iter().find(|s| {
            areas(s)
                .iter()
                .any(|a| a.trim().contains(' ') == sector && area_covers(a, postcode))
        })
    };
    covering(true).or_else(|| covering(false))
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Postcode {
    /// Only the district: a full postcode with a name can identify a household.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Postcode({} ***)", self.district())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_and_splits() {
        let p = Postcode::parse(" sw1a1aa ").unwrap();
        assert_eq!(p.as_str(), "SW1A 1AA");
        assert_eq!(p.district(), "SW1A");
        assert_eq!(p.sector(), "SW1A 1");
        assert_eq!(p.area(), "SW");
        let p = Postcode::parse("W2  5LA").unwrap();
        assert_eq!((p.district(), p.sector(), p.area()), ("W2", "W2 5", "W"));
        assert!(Postcode::parse("M1 1AE").is_ok());
        assert!(Postcode::parse("B33 8TH").is_ok());
        assert!(Postcode::parse("CR2 6XH").is_ok());
    }

    #[test]
    fn rejects_bad_shapes() {
        for s in ["", "SW1A", "12345", "SW1A 1A1", "SW1A1AAA", "ÄW1 1AA", "1W1A 1AA"] {
            assert_eq!(Postcode::parse(s), Err(PostcodeError::Shape), "{s}");
        }
    }

    #[test]
    fn parses_reach_areas() {
        assert_eq!(parse_area(" w2 ").unwrap(), "W2");
        assert_eq!(parse_area("nw8  8").unwrap(), "NW8 8");
        assert!(parse_area("W2 55").is_err());
        assert!(parse_area("22").is_err());
    }

    #[test]
    fn reach_areas_cover_districts_and_sectors() {
        let p = Postcode::parse("W10 6AB").unwrap();
        assert!(area_covers("W10", &p));
        assert!(area_covers("w10 6", &p));
        assert!(!area_covers("W1", &p));
        assert!(!area_covers("W10 5", &p));
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(s in "[A-Za-z]{1,2}[0-9]{1,2}[A-Za-z]? ?[0-9][A-Za-z]{2}") {
            if let Ok(p) = Postcode::parse(&s) {
                prop_assert_eq!(Postcode::parse(p.as_str()).unwrap(), p);
            }
        }
        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            let _ = Postcode::parse(&s);
        }
    }
}
