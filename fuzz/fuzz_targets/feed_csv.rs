//! Any bytes as a feed file, of any feed kind: reading the CSV never panics;
//! a file is either refused with a message, or every row it yields has a
//! line number after the header's and cells only in the feed's columns, and
//! each row then checks without panicking.
#![no_main]

use kindred_domain::feeds::{FeedKind, check_row, read_csv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &[u8])| {
    let (which, bytes) = input;
    let kinds: Vec<FeedKind> = FeedKind::ALL
        .iter()
        .copied()
        .filter(|k| *k != FeedKind::PersonExtract)
        .collect();
    let kind = kinds[which as usize % kinds.len()];
    match read_csv(bytes, kind, None) {
        Err(message) => assert!(!message.is_empty(), "a refused file says why"),
        Ok(rows) => {
            let today = time::macros::date!(2026 - 11 - 30);
            let mut last = 1;
            for (line, cells, _raw) in &rows {
                assert!(*line > 1, "data rows come after the header");
                assert!(*line >= last, "rows keep their order");
                last = *line;
                for column in cells.keys() {
                    assert!(kind.columns().contains(&column.as_str()), "only the feed's columns");
                }
                let _ = check_row(kind, cells, today);
            }
        }
    }
});
