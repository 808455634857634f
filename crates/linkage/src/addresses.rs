//! Address lines: normal form with street-type abbreviations expanded.

const SUFFIXES: &[(&str, &str)] = &[
    ("rd", "road"),
    ("st", "street"),
    ("str", "street"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("cl", "close"),
    ("ln", "lane"),
    ("dr", "drive"),
    ("cres", "crescent"),
    ("cresc", "crescent"),
    ("gdns", "gardens"),
    ("ct", "court"),
    ("pl", "place"),
    ("ter", "terrace"),
    ("terr", "terrace"),
    ("gr", "grove"),
    ("gro", "grove"),
    ("wlk", "walk"),
    ("sq", "square"),
    ("pde", "parade"),
    ("hts", "heights"),
];

/// An address line in normal form ([`crate::names::normalise`]) with street
/// types written out (`12 Oak Rd., Leeds` → `12 oak road leeds`). `st` is a
/// street only after a word (`12 church st`), a saint after a number
/// (`3 st johns road`). Idempotent.
pub fn standard_address(s: &str) -> Option<String> {
    let n = crate::names::normalise(s)?;
    let tokens: Vec<&str> = n.split(' ').collect();
    let mut out = String::with_capacity(n.len() + 8);
    for (k, t) in tokens.iter().enumerate() {
        let full = SUFFIXES.iter().find(|(a, _)| a == t).map(|(_, f)| *f);
        let expand = match full {
            None => false,
            Some(_) if k == 0 => false,
            Some("street") if *t == "st" => !tokens[k - 1].bytes().any(|b| b.is_ascii_digit()),
            Some(_) => true,
        };
        if k > 0 {
            out.push(' ');
        }
        out.push_str(if expand { full.unwrap() } else { t });
    }
    Some(out)
}

/// The numbers in an address (house and flat numbers), in order.
pub fn numbers(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|t| t.bytes().any(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_the_street_type_only() {
        assert_eq!(standard_address("12 Oak Rd.").as_deref(), Some("12 oak road"));
        assert_eq!(standard_address("3 St Johns St").as_deref(), Some("3 st johns street"));
        assert_eq!(
            standard_address("Flat 2, 7 Elm Gdns").as_deref(),
            Some("flat 2 7 elm gardens")
        );
        let once = standard_address("5 the rd").unwrap();
        assert_eq!(standard_address(&once).as_deref(), Some(once.as_str()));
        assert_eq!(numbers("flat 2 7 elm gardens").collect::<Vec<_>>(), vec!["2", "7"]);
    }
}
