//! NHS numbers: ten digits with a modulus-11 check digit.

/// The ten digits of an NHS number, spaces and dashes removed; `None` unless
/// exactly ten digits remain, or for the all-same-digit placeholders
/// (`0000000000`, `9999999999`). A number whose check digit fails is kept
/// (see [`check_digit_ok`]): it is probably a typo and still evidence.
pub fn normalise(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '\t')).collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let first = digits.as_bytes()[0];
    if digits.bytes().all(|b| b == first) {
        return None;
    }
    Some(digits)
}

/// Whether ten digits pass the modulus-11 check.
pub fn check_digit_ok(digits: &str) -> bool {
    let b = digits.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let s: u32 = b[..9]
        .iter()
        .enumerate()
        .map(|(i, d)| (d - b'0') as u32 * (10 - i as u32))
        .sum();
    let check = match 11 - s % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == (b[9] - b'0') as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_and_check_digit() {
        assert_eq!(normalise("943 476 5919").as_deref(), Some("9434765919"));
        assert!(check_digit_ok("9434765919"));
        assert!(!check_digit_ok("9434765918"));
        assert_eq!(normalise("12345"), None);
        assert_eq!(normalise("0000000000"), None);
        assert_eq!(normalise("943476591X"), None);
    }
}
