//! The health and agency data feeds (F4, F12, F18): what each feed's rows
//! hold, how a row is checked, and what a match probability leads to. Pure
//! rules; `crates/feeds` reads the files and `crates/store` keeps the rows.
//!
//! Every row is checked on its own and either accepted whole or rejected with
//! each problem's column and reason, so a file with a few bad rows still
//! lands its good ones.

use time::Date;

use crate::model::code_enum;
use crate::{NhsNumber, Postcode};

code_enum!(
    /// The feeds Kindred takes in.
    FeedKind {
        PersonExtract = "person_extract": "Agency person extract",
        LiveBirths = "live_births": "Monthly live births",
        MissedImmunisations = "missed_immunisations": "Missed immunisations",
        AntenatalBookings = "antenatal_bookings": "Antenatal bookings",
        PathwayContacts = "pathway_contacts": "Pathway contacts done (health visiting)",
        SchoolAttendance = "school_attendance": "School attendance",
        HousingArrears = "housing_arrears": "Housing rent arrears",
    }
);

code_enum!(
    /// Where a source record stands.
    RecordStatus {
        Linked = "linked": "Linked automatically",
        LinkedReviewed = "linked_reviewed": "Linked after review",
        Review = "review": "Waiting for review",
        NewPerson = "new_person": "New person",
        CountedOnly = "counted_only": "Counted only (no consent)",
    }
);

code_enum!(
    /// A reviewer's answer about one candidate.
    ReviewDecision {
        Pending = "pending": "Waiting for review",
        Link = "link": "Same person: linked",
        NotMatch = "not_match": "Not a match",
        Unsure = "unsure": "Unsure",
        Superseded = "superseded": "Another candidate was chosen",
    }
);

code_enum!(
    /// How a link was made.
    LinkMethod {
        Automatic = "automatic": "Automatically, above the upper threshold",
        Reviewed = "reviewed": "By a reviewer",
    }
);

code_enum!(
    ImportStatus {
        Running = "running": "Running",
        Done = "done": "Finished",
        Interrupted = "interrupted": "Interrupted (run it again: nothing is duplicated)",
        Failed = "failed": "Failed",
    }
);

impl FeedKind {
    /// The column holding each row's key in its source system.
    pub fn key_column(self) -> &'static str {
        match self {
            FeedKind::PersonExtract => "id",
            FeedKind::LiveBirths => "birth_id",
            FeedKind::MissedImmunisations => "record_id",
            FeedKind::AntenatalBookings => "booking_id",
            FeedKind::PathwayContacts => "record_id",
            FeedKind::SchoolAttendance => "record_id",
            FeedKind::HousingArrears => "record_id",
        }
    }

    /// The columns a file of this feed has (a person extract's come from its mapping file).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            FeedKind::PersonExtract => &[
                "id",
                "nhs_number",
                "given_name",
                "middle_name",
                "family_name",
                "date_of_birth",
                "sex",
                "postcode",
                "address",
            ],
            FeedKind::LiveBirths => &[
                "birth_id",
                "nhs_number",
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "mother_nhs_number",
                "mother_given_name",
                "mother_family_name",
                "mother_date_of_birth",
                "address",
                "postcode",
                "consent",
            ],
            FeedKind::MissedImmunisations => &[
                "record_id",
                "nhs_number",
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "postcode",
                "vaccine",
                "due_on",
            ],
            FeedKind::AntenatalBookings => &[
                "booking_id",
                "nhs_number",
                "given_name",
                "family_name",
                "date_of_birth",
                "address",
                "postcode",
                "booking_date",
                "expected_delivery",
                "consent",
            ],
            FeedKind::PathwayContacts => &[
                "record_id",
                "nhs_number",
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "postcode",
                "stage",
                "completed_on",
                "breastfeeding",
            ],
            FeedKind::SchoolAttendance => &[
                "record_id",
                "upn",
                "nhs_number",
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "postcode",
                "term",
                "attendance_percent",
            ],
            FeedKind::HousingArrears => &[
                "record_id",
                "nhs_number",
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "address",
                "postcode",
                "weeks_in_arrears",
                "as_at",
            ],
        }
    }

    /// Columns that must have a value on every row.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            FeedKind::PersonExtract => &["id", "family_name"],
            FeedKind::LiveBirths => &["birth_id", "date_of_birth", "postcode", "consent"],
            FeedKind::MissedImmunisations => &[
                "record_id",
                "given_name",
                "family_name",
                "date_of_birth",
                "vaccine",
                "due_on",
            ],
            FeedKind::AntenatalBookings => &[
                "booking_id",
                "given_name",
                "family_name",
                "postcode",
                "expected_delivery",
                "consent",
            ],
            FeedKind::PathwayContacts => &["record_id", "family_name", "stage", "completed_on"],
            FeedKind::SchoolAttendance => &[
                "record_id",
                "given_name",
                "family_name",
                "date_of_birth",
                "term",
                "attendance_percent",
            ],
            FeedKind::HousingArrears => &["record_id", "given_name", "family_name", "weeks_in_arrears", "as_at"],
        }
    }

    /// Whether the feed carries a consent column: rows without consent are only counted.
    pub fn needs_consent(self) -> bool {
        matches!(self, FeedKind::LiveBirths | FeedKind::AntenatalBookings)
    }
}

/// One problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub column: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(column: &str, reason: impl Into<String>) -> Self {
        FieldError {
            column: column.to_string(),
            reason: reason.into(),
        }
    }
}

/// A person as a feed row describes them, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// As given. An NHS number that fails its check digit is kept here (it is
    /// still evidence for matching, probably a typo) but never stored on a person.
    pub nhs_number: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub address: Option<String>,
}

impl Identity {
    /// The NHS number, only when it passes the check digit.
    pub fn valid_nhs_number(&self) -> Option<NhsNumber> {
        self.nhs_number.as_deref().and_then(|n| NhsNumber::parse(n).ok())
    }

    pub fn postcode(&self) -> Option<Postcode> {
        self.postcode.as_deref().and_then(|p| Postcode::parse(p).ok())
    }

    /// Enough to make a person record from: a family name, and a given name or a date of birth.
    pub fn is_nameable(&self) -> bool {
        self.family_name.is_some() && (self.given_name.is_some() || self.date_of_birth.is_some())
    }
}

/// A checked row of any feed. The identity is who the row is matched on: the
/// person of an extract or an immunisation, the mother of a birth or a booking.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedRow {
    pub source_key: String,
    pub identity: Identity,
    /// The baby of a live birth.
    pub baby: Option<Identity>,
    pub consent: Option<bool>,
    /// The date the row is about: birth, missed immunisation due date, booking.
    pub event_on: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub vaccine: Option<String>,
    /// The universal pathway stage a pathway contact completed.
    #[serde(default)]
    pub stage: Option<String>,
    /// A pupil's Unique Pupil Number (school attendance), check letter valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// The school term of an attendance figure, as "Autumn 2025".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Attendance in tenths of a percent (865 is 86.5%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance_tenths: Option<u16>,
    /// Rent arrears in tenths of a week (45 is 4.5 weeks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrears_weeks_tenths: Option<u16>,
    /// At the 6–8 week review: how the baby is fed (`total`, `partial` or `none`).
    #[serde(default)]
    pub breastfeeding: Option<String>,
}

/// How a baby is fed at the 6–8 week review, as the health visiting record
/// says it: totally or partially breastfed, or not breastfed.
pub fn breastfeeding(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "total" | "totally" | "exclusive" | "exclusively" => Some("total"),
        "partial" | "partially" | "mixed" => Some("partial"),
        "none" | "not" | "no" | "formula" => Some("none"),
        _ => None,
    }
}

/// A row's cells by column name (the feed's own names; a mapping file has
/// already renamed an extract's).
pub trait Cells {
    fn get(&self, column: &str) -> Option<&str>;
}

impl Cells for std::collections::HashMap<String, String> {
    fn get(&self, column: &str) -> Option<&str> {
        std::collections::HashMap::get(self, column).map(String::as_str)
    }
}

/// Parses a date as feeds write them: `2025-03-07`, `07/03/2025`, `7/3/2025`,
/// `07-03-2025` or `20250307` (day before month, as in England).
pub fn parse_feed_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Ok(d) = crate::dates::parse_iso(s) {
        return Some(d);
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return crate::dates::parse_date_parts(&s[6..8], &s[4..6], &s[0..4]).ok();
    }
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    if parts.len() == 3 && parts[2].len() == 4 {
        return crate::dates::parse_date_parts(parts[0], parts[1], parts[2]).ok();
    }
    None
}

fn cell<'a>(c: &'a dyn Cells, column: &str) -> Option<&'a str> {
    c.get(column).map(str::trim).filter(|v| !v.is_empty())
}

fn text(c: &dyn Cells, column: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = cell(c, column)?;
    if v.chars().count() > 200 {
        errors.push(FieldError::new(column, "is longer than 200 characters"));
        return None;
    }
    Some(v.to_string())
}

fn date(c: &dyn Cells, column: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let v = cell(c, column)?;
    let d = parse_feed_date(v);
    if d.is_none() {
        errors.push(FieldError::new(
            column,
            "is not a date: write it as YYYY-MM-DD or DD/MM/YYYY",
        ));
    }
    d
}

fn nhs(c: &dyn Cells, column: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = cell(c, column)?;
    let digits: String = v.chars().filter(|ch| !ch.is_whitespace() && *ch != '-').collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError::new(column, "must be 10 digits"));
        return None;
    }
    Some(digits)
}

fn postcode(c: &dyn Cells, column: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = cell(c, column)?;
    match Postcode::parse(v) {
        Ok(p) => Some(p.as_str().to_string()),
        Err(_) => {
            errors.push(FieldError::new(column, "is not a UK postcode"));
            None
        }
    }
}

fn sex(c: &dyn Cells, column: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = cell(c, column)?;
    match v.to_ascii_lowercase().as_str() {
        "f" | "female" | "2" => Some("female".into()),
        "m" | "male" | "1" => Some("male".into()),
        "u" | "unknown" | "0" | "9" | "x" | "other" | "indeterminate" => Some("unknown".into()),
        _ => {
            errors.push(FieldError::new(column, "must be female, male or unknown (F, M, U)"));
            None
        }
    }
}

fn yes_no(c: &dyn Cells, column: &str, errors: &mut Vec<FieldError>) -> Option<bool> {
    let v = cell(c, column)?;
    match v.to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "1" => Some(true),
        "n" | "no" | "false" | "0" => Some(false),
        _ => {
            errors.push(FieldError::new(column, "must be yes or no"));
            None
        }
    }
}

fn identity(c: &dyn Cells, prefix: &str, errors: &mut Vec<FieldError>) -> Identity {
    let col = |name: &str| format!("{prefix}{name}");
    Identity {
        nhs_number: nhs(c, &col("nhs_number"), errors),
        given_name: text(c, &col("given_name"), errors),
        middle_name: text(c, &col("middle_name"), errors),
        family_name: text(c, &col("family_name"), errors),
        date_of_birth: date(c, &col("date_of_birth"), errors),
        sex: sex(c, &col("sex"), errors),
        postcode: postcode(c, "postcode", errors),
        address: text(c, "address", errors),
    }
}

/// A number with at most one decimal place, as tenths, from 0 to `max`
/// tenths ("86.5", "86.5%" and "86" are all right).
fn tenths(c: &dyn Cells, column: &str, max: u16, what: &str, errors: &mut Vec<FieldError>) -> Option<u16> {
    let v = cell(c, column)?;
    let v = v.trim_end_matches('%').trim();
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let parsed = if digits(whole) && (frac.is_empty() || (frac.len() == 1 && digits(frac))) && whole.len() <= 4 {
        let w: u32 = whole.parse().ok()?;
        let f: u32 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
        Some(w * 10 + f).filter(|t| *t <= u32::from(max)).map(|t| t as u16)
    } else {
        None
    };
    if parsed.is_none() {
        errors.push(FieldError::new(
            column,
            format!("must be {what}, with at most one decimal place"),
        ));
    }
    parsed
}

/// A school term, "Autumn 2025" (also "2025 autumn", any case), as its label
/// and its first day, as early identification dates it: autumn 1 September,
/// spring 1 January, summer 15 April.
pub fn parse_term(s: &str) -> Option<(String, Date)> {
    let words: Vec<String> = s.split_whitespace().map(str::to_ascii_lowercase).collect();
    let (season, year) = match words.as_slice() {
        [a, b] if b.len() == 4 && b.bytes().all(|c| c.is_ascii_digit()) => (a.as_str(), b.parse::<i32>().ok()?),
        [a, b] if a.len() == 4 && a.bytes().all(|c| c.is_ascii_digit()) => (b.as_str(), a.parse::<i32>().ok()?),
        _ => return None,
    };
    if !(2000..=2100).contains(&year) {
        return None;
    }
    let (label, month, day) = match season {
        "autumn" => ("Autumn", time::Month::September, 1),
        "spring" => ("Spring", time::Month::January, 1),
        "summer" => ("Summer", time::Month::April, 15),
        _ => return None,
    };
    Some((
        format!("{label} {year}"),
        Date::from_calendar_date(year, month, day).ok()?,
    ))
}

/// Checks one row of `kind`, dated `today` (no date of birth after it).
/// Either the whole row, or every problem found with it.
pub fn check_row(kind: FeedKind, cells: &dyn Cells, today: Date) -> Result<FeedRow, Vec<FieldError>> {
    let mut errors = Vec::new();
    for column in kind.required() {
        if cell(cells, column).is_none() {
            errors.push(FieldError::new(column, "is missing"));
        }
    }
    let source_key = cell(cells, kind.key_column()).unwrap_or_default().to_string();
    if source_key.chars().count() > 100 {
        errors.push(FieldError::new(kind.key_column(), "is longer than 100 characters"));
    }
    let mut row = FeedRow {
        source_key,
        identity: Identity::default(),
        baby: None,
        consent: None,
        event_on: None,
        expected_delivery: None,
        vaccine: None,
        stage: None,
        upn: None,
        term: None,
        attendance_tenths: None,
        arrears_weeks_tenths: None,
        breastfeeding: None,
    };
    match kind {
        FeedKind::PersonExtract => {
            row.identity = identity(cells, "", &mut errors);
            if row.identity.given_name.is_none() && row.identity.date_of_birth.is_none() {
                errors.push(FieldError::new("given_name", "is missing, and so is the date of birth"));
            }
        }
        FeedKind::LiveBirths => {
            let mut baby = identity(cells, "", &mut errors);
            row.identity = identity(cells, "mother_", &mut errors);
            baby.postcode = row.identity.postcode.clone();
            if baby.family_name.is_none() {
                baby.family_name = row.identity.family_name.clone();
            }
            row.event_on = baby.date_of_birth;
            row.consent = yes_no(cells, "consent", &mut errors);
            if row.consent == Some(true) && row.identity.family_name.is_none() {
                errors.push(FieldError::new(
                    "mother_family_name",
                    "is missing: with consent, the family hub needs the mother's name",
                ));
            }
            row.baby = Some(baby);
        }
        FeedKind::MissedImmunisations => {
            row.identity = identity(cells, "", &mut errors);
            row.vaccine = text(cells, "vaccine", &mut errors);
            row.event_on = date(cells, "due_on", &mut errors);
        }
        FeedKind::PathwayContacts => {
            row.identity = identity(cells, "", &mut errors);
            row.event_on = date(cells, "completed_on", &mut errors);
            if let Some(stage) = cell(cells, "stage") {
                let known = crate::pathway::PathwayModel::ALL
                    .iter()
                    .any(|m| m.stage(stage).is_some());
                if known {
                    row.stage = Some(stage.to_string());
                } else {
                    errors.push(FieldError::new(
                        "stage",
                        "is not a pathway stage: use antenatal, new_birth, six_eight_weeks, nine_twelve_months, two_year (or a Greater Manchester stage)",
                    ));
                }
            }
            if row.event_on.is_some_and(|d| d > today) {
                errors.push(FieldError::new("completed_on", "is in the future"));
            }
            if let Some(feeding) = cell(cells, "breastfeeding") {
                match breastfeeding(feeding) {
                    Some(_) if row.stage.as_deref().is_some_and(|s| s != "six_eight_weeks") => {
                        errors.push(FieldError::new(
                            "breastfeeding",
                            "is recorded only at the 6–8 week review (stage six_eight_weeks)",
                        ))
                    }
                    Some(code) => row.breastfeeding = Some(code.to_string()),
                    None => errors.push(FieldError::new(
                        "breastfeeding",
                        "must be total, partial or none (how the baby is fed at 6–8 weeks)",
                    )),
                }
            }
        }
        FeedKind::SchoolAttendance => {
            row.identity = identity(cells, "", &mut errors);
            if let Some(v) = cell(cells, "upn") {
                match crate::model::Upn::parse(v) {
                    Ok(u) => row.upn = Some(u.as_str().to_string()),
                    Err(crate::model::UpnError::Shape) => errors.push(FieldError::new(
                        "upn",
                        "must be 13 characters: a letter, then 12 digits",
                    )),
                    Err(crate::model::UpnError::CheckLetter) => errors.push(FieldError::new(
                        "upn",
                        "is not a real UPN: its check letter does not match",
                    )),
                }
            }
            if let Some(v) = cell(cells, "term") {
                match parse_term(v) {
                    Some((label, starts)) if starts <= today => {
                        row.term = Some(label);
                        row.event_on = Some(starts);
                    }
                    Some(_) => errors.push(FieldError::new("term", "has not started yet")),
                    None => errors.push(FieldError::new(
                        "term",
                        "is not a school term: write it as Autumn 2025, Spring 2026 or Summer 2026",
                    )),
                }
            }
            row.attendance_tenths = tenths(
                cells,
                "attendance_percent",
                1000,
                "a percentage from 0 to 100",
                &mut errors,
            );
        }
        FeedKind::HousingArrears => {
            row.identity = identity(cells, "", &mut errors);
            row.event_on = date(cells, "as_at", &mut errors);
            if row.event_on.is_some_and(|d| d > today) {
                errors.push(FieldError::new("as_at", "is in the future"));
            }
            row.arrears_weeks_tenths = tenths(
                cells,
                "weeks_in_arrears",
                5200,
                "a number of weeks from 0 to 520",
                &mut errors,
            );
        }
        FeedKind::AntenatalBookings => {
            row.identity = identity(cells, "", &mut errors);
            row.event_on = date(cells, "booking_date", &mut errors);
            row.expected_delivery = date(cells, "expected_delivery", &mut errors);
            row.consent = yes_no(cells, "consent", &mut errors);
        }
    }
    for (column, d) in [
        ("date_of_birth", row.baby.as_ref().and_then(|b| b.date_of_birth)),
        (
            if kind == FeedKind::LiveBirths {
                "mother_date_of_birth"
            } else {
                "date_of_birth"
            },
            row.identity.date_of_birth,
        ),
    ] {
        if let Some(d) = d
            && d > today
        {
            errors.push(FieldError::new(column, "is in the future"));
        }
    }
    if errors.is_empty() {
        Ok(row)
    } else {
        errors.dedup();
        Err(errors)
    }
}

/// The two match-probability thresholds of an import.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// At or above: linked automatically.
    pub link: f64,
    /// At or above (and below `link`): to the review queue. Below: a new person.
    pub review: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            link: 0.99,
            review: 0.5,
        }
    }
}

/// What a row's best candidate leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOutcome {
    Link,
    Review,
    NewPerson,
}

impl Thresholds {
    pub fn check(self) -> Result<Self, String> {
        if !(0.0..=1.0).contains(&self.review) || !(0.0..=1.0).contains(&self.link) {
            return Err("thresholds are probabilities between 0 and 1".into());
        }
        if self.review > self.link {
            return Err("the review threshold must not be above the link threshold".into());
        }
        Ok(self)
    }

    /// A row with no candidate at all is a new person.
    pub fn outcome(self, best_probability: Option<f64>) -> MatchOutcome {
        match best_probability {
            Some(p) if p >= self.link => MatchOutcome::Link,
            Some(p) if p >= self.review => MatchOutcome::Review,
            _ => MatchOutcome::NewPerson,
        }
    }
}

/// The date a family hub should make its antenatal contact: from 28 weeks of
/// pregnancy, that is 12 weeks before the expected delivery.
pub fn antenatal_contact_due(expected_delivery: Date) -> Date {
    expected_delivery - time::Duration::weeks(12)
}

/// One data row of a feed file: its line number, Kindred's column → cell,
/// and the row as it was written (for a rejects file).
pub type CsvRow = (i64, std::collections::HashMap<String, String>, String);

/// Reads a feed file's CSV: the header (a byte-order mark and spaces
/// ignored, names matched without regard to case) names each row's cells by
/// Kindred's columns, through `mapping` (Kindred's column → the file's
/// header) for an agency person extract. A file without a column that every
/// row needs, or that is not CSV, is refused with a message saying why.
/// Checking each row is `check_row`'s work.
pub fn read_csv(
    bytes: &[u8],
    kind: FeedKind,
    mapping: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Vec<CsvRow>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the header line cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    // Which of the file's columns is each of Kindred's.
    let mut ours: Vec<Option<String>> = vec![None; header.len()];
    let wanted: Vec<(String, String)> = match (kind, mapping) {
        (FeedKind::PersonExtract, Some(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        (FeedKind::PersonExtract, None) => {
            return Err("an agency person extract needs a mapping file (--mapping)".into());
        }
        _ => kind.columns().iter().map(|c| (c.to_string(), c.to_string())).collect(),
    };
    for (k, theirs) in &wanted {
        match header.iter().position(|h| h.eq_ignore_ascii_case(theirs)) {
            Some(i) => ours[i] = Some(k.clone()),
            None if kind.required().contains(&k.as_str()) || k == kind.key_column() => {
                return Err(format!(
                    "the header has no `{theirs}` column, which every row needs; the header is: {}",
                    header.join(",")
                ));
            }
            None => {}
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("the file is not valid CSV: {e}"))?;
        let line = record.position().map(|p| p.line() as i64).unwrap_or(0);
        let mut cells = std::collections::HashMap::new();
        for (i, v) in record.iter().enumerate() {
            if let Some(Some(k)) = ours.get(i) {
                cells.insert(k.clone(), v.to_string());
            }
        }
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(vec![]);
        w.write_record(&record).map_err(|e| e.to_string())?;
        let raw = String::from_utf8_lossy(&w.into_inner().unwrap_or_default())
            .trim_end()
            .to_string();
        rows.push((line, cells, raw));
    }
    Ok(rows)
}

/// The cells of one rejected row's raw line, as [`read_csv`] wrote it (empty
/// when the line is not CSV).
pub fn raw_fields(raw: &str) -> Vec<String> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(raw.as_bytes())
        .records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(String::from).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::date;

    fn cells(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn dates_in_the_formats_feeds_write() {
        for s in [
            "2025-03-07",
            "07/03/2025",
            "7/3/2025",
            "07-03-2025",
            "20250307",
            " 07.03.2025 ",
        ] {
            assert_eq!(parse_feed_date(s), Some(date!(2025 - 03 - 07)), "{s}");
        }
        for s in ["2025-02-30", "13/13/2025", "7/3/25", "yesterday", ""] {
            assert_eq!(parse_feed_date(s), None, "{s}");
        }
    }

    #[test]
    fn a_birth_row_reports_every_problem_with_its_column() {
        let today = date!(2026 - 11 - 01);
        let bad = cells(&[
            ("birth_id", "B1"),
            ("date_of_birth", "31/02/2026"),
            ("postcode", "NOT A PC"),
            ("consent", "maybe"),
            ("nhs_number", "12345"),
        ]);
        let errors = check_row(FeedKind::LiveBirths, &bad, today).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        for c in ["date_of_birth", "postcode", "consent", "nhs_number"] {
            assert!(columns.contains(&c), "{c} missing from {columns:?}");
        }
        let good = cells(&[
            ("birth_id", "B1"),
            ("date_of_birth", "2026-10-03"),
            ("postcode", "w2 5ab"),
            ("consent", "Y"),
            ("mother_family_name", "Okafor"),
            ("mother_given_name", "Ada"),
            ("nhs_number", "999 000 0018"),
        ]);
        let row = check_row(FeedKind::LiveBirths, &good, today).unwrap();
        assert_eq!(row.consent, Some(true));
        assert_eq!(row.event_on, Some(date!(2026 - 10 - 03)));
        let baby = row.baby.unwrap();
        assert_eq!(baby.family_name.as_deref(), Some("Okafor"));
        assert_eq!(baby.postcode.as_deref(), Some("W2 5AB"));
    }

    #[test]
    fn an_nhs_number_failing_its_check_digit_is_kept_as_evidence() {
        let today = date!(2026 - 11 - 01);
        let row = check_row(
            FeedKind::PersonExtract,
            &cells(&[
                ("id", "7"),
                ("family_name", "Khan"),
                ("given_name", "Ali"),
                ("nhs_number", "9990000019"),
            ]),
            today,
        )
        .unwrap();
        assert_eq!(row.identity.nhs_number.as_deref(), Some("9990000019"));
        assert_eq!(row.identity.valid_nhs_number(), None);
    }

    #[test]
    fn no_date_of_birth_in_the_future() {
        let today = date!(2026 - 11 - 01);
        let e = check_row(
            FeedKind::PersonExtract,
            &cells(&[("id", "7"), ("family_name", "Khan"), ("date_of_birth", "2027-01-01")]),
            today,
        )
        .unwrap_err();
        assert_eq!(e, vec![FieldError::new("date_of_birth", "is in the future")]);
    }

    #[test]
    fn attendance_and_arrears_rows_are_checked_column_by_column() {
        let today = date!(2026 - 11 - 01);
        let rest = "820200101001";
        let upn = format!("{}{rest}", crate::model::Upn::check_letter(rest).unwrap());
        let good = cells(&[
            ("record_id", "SA-1"),
            ("upn", &upn),
            ("given_name", "Tobi"),
            ("family_name", "Okafor"),
            ("date_of_birth", "2016-03-02"),
            ("term", "autumn 2026"),
            ("attendance_percent", "86.5%"),
        ]);
        let row = check_row(FeedKind::SchoolAttendance, &good, today).unwrap();
        assert_eq!(row.attendance_tenths, Some(865));
        assert_eq!(row.term.as_deref(), Some("Autumn 2026"));
        assert_eq!(row.event_on, Some(date!(2026 - 09 - 01)));
        assert_eq!(row.upn.as_deref(), Some(upn.as_str()));
        let bad = cells(&[
            ("record_id", "SA-2"),
            ("upn", "A820200101001"),
            ("given_name", "Tobi"),
            ("family_name", "Okafor"),
            ("date_of_birth", "2016-03-02"),
            ("term", "Michaelmas"),
            ("attendance_percent", "101"),
        ]);
        let errors = check_row(FeedKind::SchoolAttendance, &bad, today).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(columns, ["upn", "term", "attendance_percent"], "{errors:?}");
        let future = cells(&[
            ("record_id", "SA-3"),
            ("given_name", "Tobi"),
            ("family_name", "Okafor"),
            ("date_of_birth", "2016-03-02"),
            ("term", "Spring 2027"),
            ("attendance_percent", "90"),
        ]);
        assert_eq!(
            check_row(FeedKind::SchoolAttendance, &future, today).unwrap_err(),
            vec![FieldError::new("term", "has not started yet")]
        );
        let arrears = cells(&[
            ("record_id", "HA-1"),
            ("given_name", "Amina"),
            ("family_name", "Okafor"),
            ("weeks_in_arrears", "4.5"),
            ("as_at", "01/10/2026"),
        ]);
        let row = check_row(FeedKind::HousingArrears, &arrears, today).unwrap();
        assert_eq!(
            (row.arrears_weeks_tenths, row.event_on),
            (Some(45), Some(date!(2026 - 10 - 01)))
        );
        let bad = cells(&[
            ("record_id", "HA-2"),
            ("given_name", "Amina"),
            ("family_name", "Okafor"),
            ("weeks_in_arrears", "four"),
            ("as_at", "2026-12-01"),
        ]);
        let errors = check_row(FeedKind::HousingArrears, &bad, today).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(columns, ["as_at", "weeks_in_arrears"], "{errors:?}");
        for (v, ok) in [
            ("0", Some(0)),
            ("4.55", None),
            ("-1", None),
            ("520", Some(5200)),
            ("521", None),
        ] {
            let c = cells(&[("w", v)]);
            let mut e = vec![];
            assert_eq!(tenths(&c, "w", 5200, "weeks", &mut e), ok, "{v}");
        }
    }

    #[test]
    fn thresholds_route_a_match() {
        let t = Thresholds::default();
        assert_eq!(t.outcome(None), MatchOutcome::NewPerson);
        assert_eq!(t.outcome(Some(0.2)), MatchOutcome::NewPerson);
        assert_eq!(t.outcome(Some(0.5)), MatchOutcome::Review);
        assert_eq!(t.outcome(Some(0.98)), MatchOutcome::Review);
        assert_eq!(t.outcome(Some(0.995)), MatchOutcome::Link);
        assert!(Thresholds { link: 0.4, review: 0.6 }.check().is_err());
    }

    #[test]
    fn a_raw_line_reads_back_as_the_cells_it_was_written_from() {
        assert_eq!(raw_fields("a,\"b,c\",d"), vec!["a", "b,c", "d"]);
        assert!(raw_fields("").is_empty());
    }
}
