//! The NHS number: ten digits whose last is a modulus-11 check digit.
//!
//! Parse, don't validate: an `NhsNumber` that exists is valid.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber([u8; 10]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("Enter an NHS number that is 10 digits long")]
    WrongLength,
    #[error("Enter an NHS number using only digits and spaces")]
    NotDigits,
    #[error("Enter a real NHS number: the check digit does not match")]
    CheckDigit,
}

impl NhsNumber {
    /// Accepts `9434765919`, `943 476 5919` and `943-476-5919`.
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let mut digits = [0u8; 10];
        let mut n = 0;
        for c in input.trim().chars() {
            match c {
                ' ' | '-' => continue,
                '0'..='9' => {
                    if n == 10 {
                        return Err(NhsNumberError::WrongLength);
                    }
                    digits[n] = c as u8 - b'0';
                    n += 1;
                }
                _ => return Err(NhsNumberError::NotDigits),
            }
        }
        if n != 10 {
            return Err(NhsNumberError::WrongLength);
        }
        match check_digit(&digits[..9]) {
            Some(d) if d == digits[9] => Ok(NhsNumber(digits)),
            _ => Err(NhsNumberError::CheckDigit),
        }
    }

    /// Builds a valid number from nine leading digits, if any check digit exists for them
    /// (a remainder of 10 means no number starts with those nine digits).
    pub fn from_first_nine(first: [u8; 9]) -> Option<Self> {
        if first.iter().any(|d| *d > 9) {
            return None;
        }
        let d = check_digit(&first)?;
        let mut digits = [0u8; 10];
        digits[..9].copy_from_slice(&first);
        digits[9] = d;
        Some(NhsNumber(digits))
    }

    /// The ten digits with no spaces, as stored.
    pub fn as_digits(&self) -> String {
        self.0.iter().map(|d| (b'0' + d) as char).collect()
    }

    /// Numbers starting 999 are never issued: they are for test data.
    pub fn is_test_range(&self) -> bool {
        self.0[..3] == [9, 9, 9]
    }
}

/// Modulus 11: weights 10 down to 2; 11 - remainder; 11 becomes 0; 10 is invalid.
fn check_digit(first_nine: &[u8]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, w)| *d as u32 * w)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        d => Some(d as u8),
    }
}

impl fmt::Display for NhsNumber {
    /// The NHS's own 3-3-4 grouping.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_digits();
        write!(f, "{} {} {}", &s[..3], &s[3..6], &s[6..])
    }
}

impl fmt::Debug for NhsNumber {
    /// Redacted: an NHS number must never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(***)")
    }
}

impl std::str::FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NhsNumber::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_valid_numbers_in_common_shapes() {
        for s in ["9434765919", "943 476 5919", "943-476-5919", " 9434765919 "] {
            let n = NhsNumber::parse(s).unwrap();
            assert_eq!(n.as_digits(), "9434765919");
            assert_eq!(n.to_string(), "943 476 5919");
        }
        assert!(NhsNumber::parse("9990000026").unwrap().is_test_range());
    }

    #[test]
    fn rejects_invalid_numbers_with_the_reason() {
        assert_eq!(NhsNumber::parse("9434765918"), Err(NhsNumberError::CheckDigit));
        assert_eq!(NhsNumber::parse("943476591"), Err(NhsNumberError::WrongLength));
        assert_eq!(NhsNumber::parse("94347659190"), Err(NhsNumberError::WrongLength));
        assert_eq!(NhsNumber::parse("94347659x9"), Err(NhsNumberError::NotDigits));
        assert_eq!(NhsNumber::parse(""), Err(NhsNumberError::WrongLength));
        // Remainder 10: no valid check digit exists for these nine digits.
        assert_eq!(NhsNumber::parse("0000000060"), Err(NhsNumberError::CheckDigit));
    }

    #[test]
    fn debug_never_shows_the_number() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n:?}").contains("943"));
    }

    proptest! {
        #[test]
        fn every_nine_digits_give_at_most_one_valid_number(first in proptest::array::uniform9(0u8..10)) {
            let valid: Vec<u8> = (0..10u8)
                .filter(|last| {
                    let s: String = first.iter().chain(std::iter::once(last)).map(|d| (b'0' + d) as char).collect();
                    NhsNumber::parse(&s).is_ok()
                })
                .collect();
            prop_assert!(valid.len() <= 1);
            prop_assert_eq!(valid.len() == 1, NhsNumber::from_first_nine(first).is_some());
        }

        #[test]
        fn round_trips_through_display(first in proptest::array::uniform9(0u8..10)) {
            if let Some(n) = NhsNumber::from_first_nine(first) {
                prop_assert_eq!(NhsNumber::parse(&n.to_string()).unwrap(), n);
                prop_assert_eq!(NhsNumber::parse(&n.as_digits()).unwrap(), n);
            }
        }

        #[test]
        fn a_single_changed_digit_is_always_caught(first in proptest::array::uniform9(0u8..10), pos in 0usize..10, delta in 1u8..10) {
            if let Some(n) = NhsNumber::from_first_nine(first) {
                let mut d: Vec<u8> = n.as_digits().bytes().map(|b| b - b'0').collect();
                d[pos] = (d[pos] + delta) % 10;
                let s: String = d.iter().map(|x| (b'0' + x) as char).collect();
                prop_assert!(NhsNumber::parse(&s).is_err());
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,20}") {
            let _ = NhsNumber::parse(&s);
        }
    }
}
