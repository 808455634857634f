//! Any urlencoded body, decoded as the search form is and its fields parsed
//! as the page parses them: nothing panics, and a NUL character is either
//! refused at the edge or never survives into a parsed value.
#![no_main]

use std::collections::HashMap;

use kindred_domain::dates::parse_date_parts;
use kindred_domain::{NhsNumber, Postcode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(form) = serde_urlencoded::from_bytes::<HashMap<String, String>>(body) else {
        return;
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let _ = parse_date_parts(field("dob_day"), field("dob_month"), field("dob_year"));
    if let Ok(n) = NhsNumber::parse(field("nhs_number")) {
        assert!(!n.to_string().contains('\0'));
    }
    if let Ok(p) = Postcode::parse(field("postcode")) {
        assert!(!p.as_str().contains('\0'));
    }
});
