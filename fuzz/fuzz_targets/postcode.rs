//! Any text: postcodes and postcode areas parse without panicking, and an
//! accepted postcode is its own canonical form and lies in its own district.
#![no_main]

use kindred_domain::Postcode;
use kindred_domain::postcode::{area_covers, parse_area};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(p) = Postcode::parse(input) {
        let again = Postcode::parse(p.as_str()).expect("a canonical postcode parses");
        assert_eq!(again.as_str(), p.as_str());
        let district = p.as_str().split(' ').next().unwrap_or_default().to_string();
        assert!(area_covers(&district, &p), "{} covers {}", district, p.as_str());
    }
    if let Ok(area) = parse_area(input) {
        assert_eq!(parse_area(&area).ok(), Some(area));
    }
});
