//! String similarity on bytes. Standardised names and addresses are ASCII
//! (diacritics are stripped by [`crate::names::normalise`]), so byte
//! comparisons equal character comparisons; for non-ASCII input the measures
//! still behave sensibly, just per byte.

/// Jaro similarity in `[0, 1]`; symmetric.
pub fn jaro(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Make `a` the shorter one so the result does not depend on argument order.
    let (a, b) = if (a.len(), a) <= (b.len(), b) { (a, b) } else { (b, a) };
    let window = (b.len() / 2).saturating_sub(1);
    let mut b_used = [false; 64];
    let mut b_used_vec;
    let b_used: &mut [bool] = if b.len() <= 64 {
        &mut b_used[..b.len()]
    } else {
        b_used_vec = vec![false; b.len()];
        &mut b_used_vec
    };
    let mut a_match_chars = [0u8; 64];
    let mut a_match_vec;
    let a_matches: &mut [u8] = if a.len() <= 64 {
        &mut a_match_chars[..a.len()]
    } else {
        a_match_vec = vec![0u8; a.len()];
        &mut a_match_vec
    };
    let mut m = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == ca {
                b_used[j] = true;
                a_matches[m] = ca;
                m += 1;
                break;
            }
        }
    }
    if m == 0 {
        return 0.0;
    }
    let mut t = 0usize;
    let mut k = 0usize;
    for (j, &cb) in b.iter().enumerate() {
        if b_used[j] {
            if a_matches[k] != cb {
                t += 1;
            }
            k += 1;
        }
    }
    let m = m as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (t / 2) as f64) / m) / 3.0
}

/// Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters); symmetric.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let j = jaro(a, b);
    let prefix = a.bytes().zip(b.bytes()).take(4).take_while(|(x, y)| x == y).count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

/// A histogram of a string's bytes, folded into 32 buckets (letters a–z each
/// have their own), for [`jaro_winkler_upper_bound`].
pub fn histogram(s: &str) -> [u8; 32] {
    let mut h = [0u8; 32];
    for b in s.bytes() {
        let i = (b | 0x20).wrapping_sub(b'a');
        let i = if i < 26 { i as usize } else { 26 + (b as usize % 6) };
        h[i] = h[i].saturating_add(1);
    }
    h
}

/// An upper bound of [`jaro_winkler`]`(a, b)` from the strings' lengths,
/// histograms and common prefix: Jaro's matches cannot exceed the characters
/// the two have in common. Cheap; used to skip the full measure when it
/// cannot reach a threshold.
#[inline]
pub fn jaro_winkler_upper_bound(a: &str, b: &str, ha: &[u8; 32], hb: &[u8; 32]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return if la == lb { 1.0 } else { 0.0 };
    }
    let common: u32 = ha.iter().zip(hb).map(|(x, y)| (*x).min(*y) as u32).sum();
    let m = common.min(la.min(lb) as u32) as f64;
    if m == 0.0 {
        return 0.0;
    }
    let jaro = (m / la as f64 + m / lb as f64 + 1.0) / 3.0;
    let prefix = a.bytes().zip(b.bytes()).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// Damerau-Levenshtein distance (optimal string alignment: insertions,
/// deletions, substitutions and adjacent transpositions); symmetric.
pub fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (n, m) = (a.len(), b.len());
    if n == 0 {
        return m;
    }
    if m == 0 {
        return n;
    }
    let w = m + 1;
    let mut d = vec![0usize; (n + 1) * w];
    for i in 0..=n {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(m + 1) {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[n * w + m]
}

/// Whether the Damerau-Levenshtein distance (optimal string alignment) of
/// two strings is at most one: equal, or one insertion, deletion,
/// substitution or adjacent transposition apart. Linear time, no allocation.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if b.len() - a.len() > 1 {
        return false;
    }
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if p == a.len() {
        return true; // equal, or one appended
    }
    if a.len() == b.len() {
        // one substitution, or one transposition
        a[p + 1..] == b[p + 1..]
            || (p + 1 < a.len() && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..])
    } else {
        a[p..] == b[p + 1..] // one insertion into the shorter
    }
}

/// Whether two equal-length byte strings differ by exactly one substitution or
/// one adjacent transposition (the usual keying errors in a fixed-width number).
pub fn one_edit_fixed(a: &[u8], b: &[u8]) -> Option<&'static str> {
    if a.len() != b.len() || a == b {
        return None;
    }
    let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    match diffs.as_slice() {
        [_] => Some("one digit different"),
        [i, j] if *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i] => Some("one transposition"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_known_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-3);
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 1e-3);
        assert!((jaro("dixon", "dicksonx") - 0.7667).abs() < 1e-3);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
        assert_eq!(jaro_winkler("abc", "abc"), 1.0);
        assert_eq!(jaro_winkler("dwayne", "duane"), jaro_winkler("duane", "dwayne"));
    }

    #[test]
    fn the_upper_bound_bounds() {
        let names = [
            "oliver", "olivia", "amelia", "jack", "jacob", "smith", "smyth", "o", "zoe", "zoey", "li", "lee",
        ];
        for a in names {
            for b in names {
                let ub = jaro_winkler_upper_bound(a, b, &histogram(a), &histogram(b));
                assert!(ub + 1e-12 >= jaro_winkler(a, b), "{a} {b}");
            }
        }
    }

    #[test]
    fn damerau_levenshtein_counts_a_transposition_as_one() {
        assert_eq!(damerau_levenshtein("smith", "smiht"), 1);
        assert_eq!(damerau_levenshtein("smith", "smyth"), 1);
        assert_eq!(damerau_levenshtein("smith", "smit"), 1);
        assert_eq!(damerau_levenshtein("ca", "abc"), 3);
        assert_eq!(damerau_levenshtein("", "abc"), 3);
    }

    #[test]
    fn within_one_edit_agrees_with_damerau_levenshtein() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "bacd", "smith", "smiht", "smyth", "smit", "li", "lee",
            "ahi", "ali",
        ];
        for a in words {
            for b in words {
                assert_eq!(within_one_edit(a, b), damerau_levenshtein(a, b) <= 1, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn one_edit_in_a_fixed_width_number() {
        assert_eq!(one_edit_fixed(b"9434765919", b"9434765919"), None);
        assert_eq!(one_edit_fixed(b"9434765919", b"9434765991"), Some("one transposition"));
        assert_eq!(
            one_edit_fixed(b"9434765919", b"9434765912"),
            Some("one digit different")
        );
        assert_eq!(one_edit_fixed(b"9434765919", b"9434765121"), None);
    }
}
