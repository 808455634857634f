//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), as
//! authenticator apps make them: HMAC-SHA-1, 6 digits, 30-second steps.
//!
//! A code is accepted for the current step and one step either side (clock
//! drift), and only for a step newer than the last one accepted for the same
//! user, so a code seen over someone's shoulder cannot be used again.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds in one time step.
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps either side of the current one that are still accepted.
pub const WINDOW: u64 = 1;
/// Bytes of a new secret: 160 bits, the HMAC-SHA-1 block RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// The name authenticator apps show beside the code.
pub const ISSUER: &str = "Kindred";

/// RFC 4226 HOTP: the `digits`-digit code for `counter`.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[hash.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// The time step of an instant in unix seconds.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The code for one time step, zero-padded to six digits.
pub fn code_for_step(key: &[u8], step: u64) -> String {
    format!("{:0width$}", hotp(key, step, DIGITS), width = DIGITS as usize)
}

/// The code an authenticator shows at `unix_seconds`.
pub fn code_at(key: &[u8], unix_seconds: u64) -> String {
    code_for_step(key, step_at(unix_seconds))
}

/// Whether `input` has the shape of a code: six digits, spaces allowed
/// between them (apps show "123 456").
pub fn parse_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The step `code` is valid for at `unix_seconds` (within [`WINDOW`] steps),
/// if that step is newer than `last_step`; `None` otherwise. Each candidate
/// is compared in constant time.
pub fn verify(key: &[u8], code: &str, unix_seconds: u64, last_step: Option<u64>) -> Option<u64> {
    let code = parse_code(code)?;
    let now = step_at(unix_seconds);
    let mut accepted = None;
    for step in now.saturating_sub(WINDOW)..=now + WINDOW {
        if last_step.is_some_and(|last| step <= last) {
            continue;
        }
        if constant_time_eq(code_for_step(key, step).as_bytes(), code.as_bytes()) && accepted.is_none() {
            accepted = Some(step);
        }
    }
    accepted
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A secret as authenticator apps take it: RFC 4648 base32, no padding.
pub fn encode_secret(key: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(key)
}

/// A base32 secret back to its bytes (case and spaces ignored).
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let clean: String = secret
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD
        .decode(clean.trim_end_matches('=').as_bytes())
        .ok()
}

/// A base32 secret in groups of four, for typing into an app by hand.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` URI (Google Authenticator's key URI format) that a QR code carries.
pub fn otpauth_uri(account: &str, secret: &str) -> String {
    let label = format!("{ISSUER}:{account}");
    format!(
        "otpauth://totp/{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        uri_escape(&label),
        uri_escape(ISSUER)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn uri_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key: the ASCII of "12345678901234567890".
    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        // (time, 8-digit TOTP) from RFC 6238 appendix B, SHA-1 rows.
        let vectors = [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        for (t, expected) in vectors {
            assert_eq!(hotp(RFC_KEY, step_at(t), 8), expected, "T = {t}");
            // Six digits are the last six of the eight.
            assert_eq!(code_at(RFC_KEY, t), format!("{:06}", expected % 1_000_000), "T = {t}");
        }
    }

    #[test]
    fn rfc_4226_hotp_test_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_KEY, counter as u64, 6), code, "counter {counter}");
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_no_further() {
        let t = 1_111_111_111;
        let now = step_at(t);
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let step = (now as i64 + offset) as u64;
            let code = code_for_step(RFC_KEY, step);
            assert_eq!(
                verify(RFC_KEY, &code, t, None),
                accepted.then_some(step),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn refuses_a_step_not_newer_than_the_last_accepted() {
        let t = 1_234_567_890;
        let code = code_at(RFC_KEY, t);
        let step = verify(RFC_KEY, &code, t, None).unwrap();
        assert_eq!(verify(RFC_KEY, &code, t, Some(step)), None, "replayed");
        assert_eq!(verify(RFC_KEY, &code, t, Some(step + 1)), None, "older than the last");
        assert_eq!(verify(RFC_KEY, &code, t, Some(step - 1)), Some(step));
        let next = code_for_step(RFC_KEY, step + 1);
        assert_eq!(verify(RFC_KEY, &next, t, Some(step)), Some(step + 1));
    }

    #[test]
    fn codes_are_six_digits_spaces_allowed() {
        assert_eq!(parse_code(" 123 456 "), Some("123456".into()));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("1234567"), None);
        assert_eq!(parse_code("12345a"), None);
        let code = code_at(RFC_KEY, 59);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(RFC_KEY, &spaced, 59, None).is_some());
        assert!(verify(RFC_KEY, "", 59, None).is_none());
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        assert_eq!(encode_secret(RFC_KEY), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            decode_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            RFC_KEY
        );
        assert_eq!(grouped("GEZDGNBVGY"), "GEZD GNBV GY");
        assert!(decode_secret("not base32!").is_none());
    }

    #[test]
    fn the_uri_names_the_issuer_and_account() {
        let uri = otpauth_uri("hannah@west.test", "GEZDGNBV");
        assert_eq!(
            uri,
            "otpauth://totp/Kindred%3Ahannah%40west.test?secret=GEZDGNBV&issuer=Kindred&algorithm=SHA1&digits=6&period=30"
        );
    }
}
