//! Any text: parsing never panics, and a number it accepts prints back to
//! text that parses to the same number (with or without its spaces).
#![no_main]

use kindred_domain::NhsNumber;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(n) = NhsNumber::parse(input) {
        assert_eq!(n.as_digits().len(), 10);
        assert_eq!(NhsNumber::parse(&n.to_string()).ok(), Some(n));
        assert_eq!(NhsNumber::parse(&n.as_digits()).ok(), Some(n));
    }
});
