//! Any three day, month and year fields (as a form sends them), and any ISO
//! date text: parsing never panics, and what it accepts round-trips.
#![no_main]

use kindred_domain::dates::{check_date_of_birth, iso, parse_date_parts, parse_iso};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, &str)| {
    let (day, month, year, text) = input;
    let today = time::macros::date!(2026 - 11 - 30);
    if let Ok(d) = parse_date_parts(day, month, year) {
        assert_eq!(parse_iso(&iso(d)).ok(), Some(d));
        let _ = check_date_of_birth(d, today);
    }
    if let Ok(d) = parse_iso(text) {
        assert_eq!(parse_iso(&iso(d)).ok(), Some(d));
    }
});
