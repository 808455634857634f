//! Transparency: the audit trail told in plain words (who looked, why they
//! could), for staff, for families, and for a CSV download.
//!
//! An audit event's `detail` is the policy basis code (`lead_professional`,
//! `break_glass`…) or a non-personal note (`export:csv`, `families=3`). These
//! functions turn codes into sentences; nothing here reads a database.

use time::{Date, OffsetDateTime};

/// Why someone could do what they did, in plain words for a worker or the
/// privacy officer (third person).
pub fn why_plain(detail: &str) -> String {
    let known = match detail {
        "lead_professional" => Some("They are the family's lead professional"),
        "team_around_the_family" => Some("They are in the team around the family"),
        "organisation_involved" => Some("Their organisation is working with the family"),
        "manager_of_involved_organisation" => Some("They manage a service working with the family"),
        "triage_of_open_referral" => Some("They were deciding on a request for help (triage)"),
        "family_member" => Some("The family used the family portal"),
        "break_glass" => Some("Emergency access (break-glass), reviewed by the privacy officer"),
        "privacy_office" => Some("The privacy officer, checking how records are used"),
        "early_identification" => Some("Early identification: facts partners hold suggested early help might help"),
        "export:csv" => Some("Downloaded as a spreadsheet (CSV)"),
        "export:sar" => Some("A subject access request was answered"),
        _ => None,
    };
    if let Some(k) = known {
        return k.to_string();
    }
    if let Some(s) = sharing_words(detail) {
        return s.to_string();
    }
    if detail.is_empty() {
        "Recorded for the audit trail".into()
    } else {
        // Non-personal notes such as `families=3` or `draft`.
        format!("Recorded for the audit trail ({})", detail.replace('_', " "))
    }
}

/// Why someone could look, in plain words for the family (second person).
pub fn why_for_family(detail: &str) -> String {
    let known = match detail {
        "lead_professional" => "They are your lead professional",
        "team_around_the_family" => "They are in the team working with your family",
        "organisation_involved" => "Their service is working with your family",
        "manager_of_involved_organisation" => "They manage a service working with your family",
        "triage_of_open_referral" => "They were deciding on a request for help for your family",
        "family_member" => "You, or someone in your family, used this portal",
        "break_glass" => {
            "Emergency access: someone needed to look urgently. They had to give a reason, \
             it ran out after a few hours, and our privacy officer checked it afterwards"
        }
        "privacy_office" => "Our privacy officer, checking that records are used properly",
        "early_identification" => {
            "Information services already hold about your family, shared under an agreement, \
             suggested you might welcome early help, and a worker looked to decide whether to offer it"
        }
        "export:csv" => "A list of who looked at your record was downloaded",
        "export:sar" => "A copy of your information was prepared, as you asked",
        _ => {
            return sharing_words(detail)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "It was part of the work with your family".into());
        }
    };
    known.to_string()
}

/// Cross-organisation sharing details (`consent…`, `agreement…`/`isa…`,
/// `safeguarding…`, `partner…`).
fn sharing_words(detail: &str) -> Option<&'static str> {
    if detail.starts_with("consent") {
        Some("Shared between organisations with the family's consent")
    } else if detail.starts_with("agreement") || detail.starts_with("isa") {
        Some("Shared between organisations under an information-sharing agreement")
    } else if detail.starts_with("safeguarding") {
        Some("Shared to keep someone safe (a safeguarding decision), reviewed by the privacy officer")
    } else if detail.starts_with("partner") || detail.starts_with("cross_tenant") {
        Some("A partner council's worker, under an information-sharing agreement between councils")
    } else {
        None
    }
}

/// What part of the record an event touched, in plain words.
pub fn record_plain(kind: &str) -> String {
    match kind {
        "family" => "the family record".into(),
        "person" => "a person's record".into(),
        "contact" => "a contact or case note".into(),
        "assessment" => "a family assessment".into(),
        "plan" => "the family plan".into(),
        "portal" => "the family portal".into(),
        "portal_invite" => "a family portal invitation".into(),
        "questionnaire" => "a child development questionnaire".into(),
        "two_year_review" => "a two-year review".into(),
        "early_help_assessment" => "an early help assessment".into(),
        "episode" => "an episode of work".into(),
        "task" => "a task".into(),
        "referral" => "a referral".into(),
        "access_log" => "the list of who viewed the record".into(),
        "sar" => "a subject access request".into(),
        other => other.replace('_', " "),
    }
}

/// An instant (unix milliseconds) as ISO 8601 in UTC: `2025-03-01T09:05:00Z`.
pub fn iso_utc(ms: i64) -> String {
    let t = instant(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The calendar month of an instant, for grouping: (year, month number).
pub fn month_of(ms: i64) -> (i32, u8) {
    let t = instant(ms);
    (t.year(), t.month() as u8)
}

/// `March 2025`.
pub fn month_label(year: i32, month: u8) -> String {
    let m = time::Month::try_from(month).unwrap_or(time::Month::January);
    format!("{m} {year}")
}

fn instant(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Midnight UTC at the start of `d`, in unix milliseconds.
pub fn start_of_day_ms(d: Date) -> i64 {
    (d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One CSV field: quoted when it holds a comma, quote or line break; a value
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a leading
/// apostrophe.
pub fn csv_field(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One CSV line (CRLF-terminated, as RFC 4180 says).
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The header of every access-log CSV.
pub const ACCESS_CSV_HEADER: [&str; 8] = [
    "when",
    "who",
    "organisation",
    "role",
    "action",
    "record",
    "why",
    "route",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_policy_basis_has_plain_words() {
        for code in [
            "lead_professional",
            "team_around_the_family",
            "organisation_involved",
            "manager_of_involved_organisation",
            "triage_of_open_referral",
            "break_glass",
        ] {
            assert!(!why_plain(code).contains('_'), "{code}");
            assert!(!why_for_family(code).contains("part of the work"), "{code}");
        }
        assert!(why_for_family("break_glass").contains("Emergency"));
        assert!(why_plain("consent:12").contains("consent"));
        assert!(why_plain("isa:3").contains("agreement"));
    }

    #[test]
    fn instants_are_iso_utc_and_months_group() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(month_of(1_700_000_000_000), (2023, 11));
        assert_eq!(month_label(2023, 11), "November 2023");
        assert_eq!(start_of_day_ms(time::macros::date!(1970 - 01 - 02)), 86_400_000);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_line(&["a", "b"]), "a,b\r\n");
    }

    /// Splits one CSV line back into fields (quotes as RFC 4180).
    fn parse_line(line: &str) -> Vec<String> {
        let mut out = vec![];
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.trim_end_matches("\r\n").chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', true) => quoted = false,
                ('"', false) if cur.is_empty() => quoted = true,
                (',', false) => out.push(std::mem::take(&mut cur)),
                (c, _) => cur.push(c),
            }
        }
        out.push(cur);
        out
    }

    proptest! {
        #[test]
        fn csv_lines_round_trip(fields in proptest::collection::vec("[a-z ,\"\n]{0,12}", 1..6)) {
            let line = csv_line(&fields);
            prop_assert_eq!(parse_line(&line), fields);
        }
    }
}
