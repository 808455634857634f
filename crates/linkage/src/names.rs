//! Names: one normal form, UK nicknames, double-barrelled surnames.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// The normal form of a name or free text: Unicode compatibility-decomposed,
/// diacritics dropped, lower case ASCII letters and digits; apostrophes and
/// full stops removed (`O'Brien` → `obrien`, `St. John` → `st john`); every
/// other run of punctuation or space (hyphens included) becomes one space.
/// `None` when nothing is left. Idempotent.
pub fn normalise(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let push = |out: &mut String, pending: &mut bool, c: char| {
        if *pending && !out.is_empty() {
            out.push(' ');
        }
        *pending = false;
        out.push(c);
    };
    let ascii = s.bytes().all(|b| b.is_ascii());
    let mut handle = |c: char, out: &mut String| {
        if c.is_ascii_alphanumeric() {
            push(out, &mut pending_space, c.to_ascii_lowercase());
        } else if matches!(c, '\'' | '’' | '‘' | '`' | '.') || unicode_normalization::char::is_combining_mark(c) {
        } else if c.is_alphanumeric() {
            // A letter with no ASCII decomposition (ß, ø, ł…): keep it, lower case.
            for l in c.to_lowercase() {
                push(out, &mut pending_space, l);
            }
        } else {
            pending_space = true;
        }
    };
    if ascii {
        for c in s.chars() {
            handle(c, &mut out);
        }
    } else {
        for c in s.nfkd() {
            let c = match c {
                'ß' => {
                    handle('s', &mut out);
                    's'
                }
                'ø' | 'Ø' => 'o',
                'ł' | 'Ł' => 'l',
                'æ' | 'Æ' => {
                    handle('a', &mut out);
                    'e'
                }
                other => other,
            };
            handle(c, &mut out);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Placeholder first names seen on records of newborns and unknown people;
/// they carry no identity and are treated as missing.
pub const PLACEHOLDER_GIVEN_NAMES: &[&str] = &[
    "baby",
    "babyof",
    "baby of",
    "infant",
    "unknown",
    "unk",
    "notknown",
    "not known",
    "male",
    "female",
    "boy",
    "girl",
    "twin",
    "twin 1",
    "twin 2",
    "na",
    "n a",
    "none",
    "xx",
    "x",
];

/// A given (or middle) name in normal form, placeholders removed.
pub fn standard_given_name(s: &str) -> Option<String> {
    let n = normalise(s)?;
    if PLACEHOLDER_GIVEN_NAMES.contains(&n.as_str()) || n.starts_with("baby ") {
        return None;
    }
    Some(n)
}

/// A family name in normal form (`Smith-Jones` → `smith jones`).
pub fn standard_family_name(s: &str) -> Option<String> {
    let n = normalise(s)?;
    if matches!(
        n.as_str(),
        "unknown" | "notknown" | "not known" | "na" | "n a" | "none" | "xx" | "x"
    ) {
        return None;
    }
    Some(n)
}

struct Nicknames {
    /// nickname → its formal names (several for `sam`, `alex`, `chris`…).
    formal: HashMap<&'static str, Vec<&'static str>>,
}

fn table() -> &'static Nicknames {
    static T: OnceLock<Nicknames> = OnceLock::new();
    T.get_or_init(|| {
        let mut formal: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for line in include_str!("nicknames.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (f, nicks) = line.split_once(':').expect("formal: nicknames");
            for n in nicks.split_whitespace() {
                formal.entry(n).or_default().push(f.trim());
            }
        }
        Nicknames { formal }
    })
}

/// The number of nickname → formal entries in the built-in UK table.
pub fn nickname_count() -> usize {
    table().formal.values().map(Vec::len).sum()
}

/// The formal form of a given name in normal form: `bob` → `robert`,
/// `peggy` → `margaret`; a name that is no nickname is returned as it is. A
/// nickname of several formal names maps to the first listed (`sam` → `samuel`).
pub fn canonical_given_name(normalised: &str) -> &str {
    match table().formal.get(normalised) {
        Some(f) => f[0],
        None => normalised,
    }
}

/// The formal names of a nickname (empty for a name that is no nickname).
pub fn formal_names(normalised: &str) -> &'static [&'static str] {
    table().formal.get(normalised).map_or(&[], Vec::as_slice)
}

/// Whether two given names in normal form are the same name or a nickname
/// (or spelling variant) of one another, or nicknames of one formal name.
pub fn same_given_name(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let t = table();
    let fa = t.formal.get(a);
    let fb = t.formal.get(b);
    if fa.is_some_and(|f| f.contains(&b)) || fb.is_some_and(|f| f.contains(&a)) {
        return true;
    }
    match (fa, fb) {
        (Some(x), Some(y)) => x.iter().any(|f| y.contains(f)),
        _ => false,
    }
}

/// Whether two family names in normal form share a part of a double-barrelled
/// name (`smith jones` ~ `jones`, `smith jones` ~ `smithjones`).
pub fn surname_part_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (a_parts, b_parts) = (a.contains(' '), b.contains(' '));
    if !a_parts && !b_parts {
        return false;
    }
    let squash = |s: &str| s.replace(' ', "");
    if squash(a) == squash(b) {
        return true;
    }
    let long = |s: &str| {
        s.split(' ')
            .filter(|p| p.len() >= 2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (pa, pb) = (long(a), long(b));
    pa.iter().any(|x| pb.contains(x) || (!b_parts && b == x)) || (!a_parts && pb.iter().any(|y| y == a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form() {
        assert_eq!(normalise("  Zoë  O'Brien-Smith ").as_deref(), Some("zoe obrien smith"));
        assert_eq!(normalise("JOSÉ").as_deref(), Some("jose"));
        assert_eq!(normalise("Wiśniewski").as_deref(), Some("wisniewski"));
        assert_eq!(normalise("Łukasz").as_deref(), Some("lukasz"));
        assert_eq!(normalise(" - ").as_deref(), None);
        assert_eq!(standard_given_name("Baby").as_deref(), None);
        assert_eq!(standard_given_name("Baby of Smith").as_deref(), None);
    }

    #[test]
    fn nicknames() {
        assert!(nickname_count() >= 150, "{}", nickname_count());
        assert_eq!(canonical_given_name("bob"), "robert");
        assert_eq!(canonical_given_name("peggy"), "margaret");
        assert_eq!(canonical_given_name("robert"), "robert");
        assert_eq!(canonical_given_name("zebedee"), "zebedee");
        assert!(same_given_name("bill", "william"));
        assert!(same_given_name("william", "billy"));
        assert!(same_given_name("bill", "will"));
        assert!(same_given_name("sam", "samantha"));
        assert!(!same_given_name("sam", "william"));
    }

    #[test]
    fn double_barrelled() {
        assert!(surname_part_match("smith jones", "jones"));
        assert!(surname_part_match("smith", "smith jones"));
        assert!(surname_part_match("smith jones", "smithjones"));
        assert!(!surname_part_match("smith", "jones"));
        assert!(!surname_part_match("smith jones", "brown"));
    }
}
