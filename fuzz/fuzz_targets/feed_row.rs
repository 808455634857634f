//! Any row of any feed kind, cell by cell, as the CSV import hands it over:
//! checking never panics, and a row is either accepted or refused with a
//! reason naming one of the feed's columns.
#![no_main]

use std::collections::HashMap;

use kindred_domain::feeds::{FeedKind, check_row};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, Vec<(u8, String)>)| {
    let (which, cells) = input;
    let kind = FeedKind::ALL[which as usize % FeedKind::ALL.len()];
    let columns = kind.columns();
    let row: HashMap<String, String> = cells
        .into_iter()
        .map(|(c, v)| (columns[c as usize % columns.len()].to_string(), v))
        .collect();
    let today = time::macros::date!(2026 - 11 - 30);
    match check_row(kind, &row, today) {
        Ok(r) => assert!(!r.source_key.is_empty(), "an accepted row has its key"),
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused row says why");
            for e in errors {
                assert!(!e.reason.is_empty());
            }
        }
    }
});
