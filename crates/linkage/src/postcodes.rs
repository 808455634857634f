//! UK postcodes: one normal form, with the outward code and the sector.

use serde::{Deserialize, Serialize};

/// A standardised postcode: `full` is upper case with one space before the
/// inward code (`LS1 4AB`), `outward` the district (`LS1`), `sector` the
/// outward code and the inward digit (`LS1 4`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Standard {
    pub full: String,
    pub outward: String,
    pub sector: String,
}

/// Standardise a postcode. Spaces and punctuation are ignored and case is
/// folded. Anything of 5 to 7 letters and digits starting with a letter is
/// kept, so a postcode with a one-character typo still counts as evidence (its
/// last three characters are taken as the inward code); anything else is
/// `None`. Idempotent on `full`.
pub fn parse(s: &str) -> Option<Standard> {
    let mut c: Vec<u8> = Vec::with_capacity(8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            c.push(b.to_ascii_uppercase());
        } else if !matches!(b, b' ' | b'-' | b'.' | b'\t') {
            return None;
        }
    }
    if !(5..=7).contains(&c.len()) || !c[0].is_ascii_alphabetic() {
        return None;
    }
    let cut = c.len() - 3;
    let outward = String::from_utf8(c[..cut].to_vec()).ok()?;
    let inward = String::from_utf8(c[cut..].to_vec()).ok()?;
    Some(Standard {
        full: format!("{outward} {inward}"),
        sector: format!("{outward} {}", &inward[..1]),
        outward,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_outward_and_sector() {
        let p = parse(" ls1  4ab").unwrap();
        assert_eq!(
            (p.full.as_str(), p.outward.as_str(), p.sector.as_str()),
            ("LS1 4AB", "LS1", "LS1 4")
        );
        let p = parse("SW1A1AA").unwrap();
        assert_eq!(
            (p.full.as_str(), p.outward.as_str(), p.sector.as_str()),
            ("SW1A 1AA", "SW1A", "SW1A 1")
        );
        assert_eq!(parse(&parse("bd12 9xy").unwrap().full), parse("BD12 9XY"));
        assert_eq!(parse("1234"), None);
        assert_eq!(parse("not a postcode"), None);
        assert_eq!(parse(""), None);
    }
}
