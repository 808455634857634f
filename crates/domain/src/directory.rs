//! The service directory (F17), shaped like Open Referral UK 3.0: the
//! vocabularies (service status, delivery modes, days of the week, languages,
//! the needs taxonomy), who a service is for (ages, and 19 to 25 with special
//! educational needs and disabilities), what makes a service free, the
//! service form's checks, and connecting a family to a service: its statuses
//! and how one leads to the next. Directory records are public information;
//! a connection request is case content.

use crate::model::code_enum;
use crate::postcode::{self, Postcode};

code_enum!(
    /// ORUK's service status.
    ServiceStatus {
        Active = "active": "Active",
        Inactive = "inactive": "Inactive",
        Defunct = "defunct": "Defunct",
        TemporarilyClosed = "temporarily closed": "Temporarily closed",
    }
);

code_enum!(
    /// How a service is delivered (ORUK `attending_type`, extended with outreach).
    DeliveryMode {
        InPerson = "in_person": "In person",
        Online = "online": "Online",
        Telephone = "telephone": "By telephone",
        Outreach = "outreach": "Outreach (they come to you)",
    }
);

code_enum!(
    /// A day of the week as iCalendar's `BYDAY` writes it, which ORUK schedules use.
    Day {
        Monday = "MO": "Monday",
        Tuesday = "TU": "Tuesday",
        Wednesday = "WE": "Wednesday",
        Thursday = "TH": "Thursday",
        Friday = "FR": "Friday",
        Saturday = "SA": "Saturday",
        Sunday = "SU": "Sunday",
    }
);

code_enum!(
    /// How often a schedule repeats (iCalendar `FREQ`).
    Frequency {
        Weekly = "WEEKLY": "Every week",
        Monthly = "MONTHLY": "Every month",
    }
);

code_enum!(
    /// Where a connection request is: sent → opened → accepted or declined;
    /// accepted → completed.
    ConnectionStatus {
        Sent = "sent": "Sent",
        Opened = "opened": "Opened",
        Accepted = "accepted": "Accepted",
        Declined = "declined": "Declined",
        Completed = "completed": "Completed",
    }
);

code_enum!(
    /// How the family gave their consent to be connected.
    ConsentHow {
        Verbal = "verbal": "Verbally, in person or by phone",
        Written = "written": "In writing",
        Digital = "digital": "By email, text or online form",
    }
);

/// Ages in years: a service's bounds are inclusive; none means no bound.
pub const MAX_AGE: i64 = 120;
/// Young people with special educational needs and disabilities may use
/// services for them up to this age (SEND Code of Practice: 0 to 25).
pub const SEND_MAX_AGE: i64 = 25;

/// Whether someone of `age` (years) may use a service for `min`..=`max`
/// years. A service that says it is open to 19–25 year olds with SEND
/// (`send_up_to_25`) also takes a young person with SEND older than its
/// maximum, up to 25. The store's search mirrors this rule in SQL.
pub fn eligible(min: Option<i64>, max: Option<i64>, send_up_to_25: bool, age: i64, has_send: bool) -> bool {
    let above_min = min.is_none_or(|m| age >= m);
    let below_max = max.is_none_or(|m| age <= m) || (send_up_to_25 && has_send && age <= SEND_MAX_AGE);
    above_min && below_max
}

/// Parses a comma-separated `BYDAY` (`mo, TH`) into its normal form (`MO,TH`),
/// in week order with no repeats; an empty string is no day.
pub fn parse_byday(input: &str) -> Result<String, String> {
    let mut days = vec![];
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let day = Day::parse(&part.to_ascii_uppercase()).ok_or_else(|| format!("{part} is not a day"))?;
        if !days.contains(&day) {
            days.push(day);
        }
    }
    days.sort();
    Ok(days.iter().map(|d| d.code()).collect::<Vec<_>>().join(","))
}

/// Whether a schedule's `BYDAY` includes `day`.
pub fn byday_includes(byday: &str, day: Day) -> bool {
    byday.split(',').any(|d| d.trim().eq_ignore_ascii_case(day.code()))
}

/// The days of a `BYDAY`, for showing.
pub fn byday_days(byday: &str) -> Vec<Day> {
    byday
        .split(',')
        .filter_map(|d| Day::parse(&d.trim().to_ascii_uppercase()))
        .collect()
}

/// A time of day as `HH:MM` (24-hour); accepts `9:30` and `09:30`.
pub fn parse_time(input: &str) -> Option<String> {
    let (h, m) = input.trim().split_once(':')?;
    let h: u8 = h.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    (h < 24 && m < 60 && input.trim().len() <= 5).then(|| format!("{h:02}:{m:02}"))
}

/// An amount of money in pounds (`4`, `4.50`, `£4.50`) as pence.
pub fn parse_pounds(input: &str) -> Option<i64> {
    let s = input.trim().trim_start_matches('£').trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || whole.len() > 7 {
        return None;
    }
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let pence: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole.parse::<i64>().ok()? * 100 + pence)
}

/// Pence as pounds for showing: `£4.50`, `£4`.
pub fn format_pence(pence: i64) -> String {
    if pence % 100 == 0 {
        format!("£{}", pence / 100)
    } else {
        format!("£{}.{:02}", pence / 100, pence % 100)
    }
}

/// A service is free when none of its cost options asks for money.
pub fn is_free(amounts: &[Option<i64>]) -> bool {
    !amounts.iter().any(|a| a.is_some_and(|p| p > 0))
}

/// An area served, as a postcode district: a district (`W2`) as it is, a
/// sector or a full postcode by its district.
pub fn parse_district(input: &str) -> Result<String, postcode::PostcodeError> {
    if let Ok(p) = Postcode::parse(input) {
        return Ok(p.district().to_string());
    }
    let area = postcode::parse_area(input)?;
    Ok(area.split(' ').next().unwrap_or_default().to_string())
}

/// The source address that stands for a partner system publishing its
/// organisation's services through Kindred's API (by its account's id), as
/// opposed to an Open Referral feed that is pulled.
pub fn partner_system_source(account_id: i64) -> String {
    format!("{PARTNER_SYSTEM_SOURCE}{account_id}")
}

const PARTNER_SYSTEM_SOURCE: &str = "urn:kindred:partner-system:";

/// Whether a directory source is a partner system publishing through the API
/// (not a feed to pull).
pub fn is_partner_system_source(base_url: &str) -> bool {
    base_url.starts_with(PARTNER_SYSTEM_SOURCE)
}

/// A language a service is offered in: its ISO 639-1 code and English name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    pub code: &'static str,
    pub name: &'static str,
}

/// The languages the directory forms offer: English and the languages most
/// spoken at home in the two demo boroughs (2021 census).
pub const LANGUAGES: &[Language] = &[
    Language {
        code: "en",
        name: "English",
    },
    Language {
        code: "ar",
        name: "Arabic",
    },
    Language {
        code: "bn",
        name: "Bengali",
    },
    Language {
        code: "fr",
        name: "French",
    },
    Language {
        code: "it",
        name: "Italian",
    },
    Language {
        code: "es",
        name: "Spanish",
    },
    Language {
        code: "pt",
        name: "Portuguese",
    },
    Language {
        code: "pl",
        name: "Polish",
    },
    Language {
        code: "ro",
        name: "Romanian",
    },
    Language {
        code: "so",
        name: "Somali",
    },
    Language {
        code: "fa",
        name: "Persian (Farsi)",
    },
    Language {
        code: "tl",
        name: "Tagalog",
    },
    Language {
        code: "ur",
        name: "Urdu",
    },
];

pub fn language(code: &str) -> Option<&'static Language> {
    LANGUAGES.iter().find(|l| l.code == code)
}

/// One term of the built-in needs taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedTerm {
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

/// The built-in taxonomy every tenant's services are tagged with.
pub const NEEDS_TAXONOMY_NAME: &str = "Kindred needs";
pub const NEEDS_TAXONOMY_URI: &str = "https://kindred.example.org/taxonomies/needs";
pub const NEEDS_TAXONOMY_VERSION: &str = "1";

/// The needs taxonomy: the referral needs list (`referral::NEEDS`, the same
/// codes, so a referral's needs find services) and the universal offer's
/// needs a family hub also meets.
pub const NEED_TERMS: &[NeedTerm] = &[
    NeedTerm {
        code: "parenting_early",
        name: "Parenting a baby or young child",
        description: "Parenting programmes, groups and advice for parents of under-fives",
    },
    NeedTerm {
        code: "infant_feeding",
        name: "Infant feeding",
        description: "Breastfeeding and infant feeding support",
    },
    NeedTerm {
        code: "early_development",
        name: "Early language and development",
        description: "Speech, language, play and learning for young children",
    },
    NeedTerm {
        code: "play_and_learning",
        name: "Stay and play",
        description: "Play sessions and early learning for babies and young children",
    },
    NeedTerm {
        code: "perinatal_mental_health",
        name: "Perinatal mental health",
        description: "Support for parents' mental health in pregnancy and after birth",
    },
    NeedTerm {
        code: "parent_mental_health",
        name: "Parent or carer's mental health",
        description: "Support for a parent or carer's wellbeing and mental health",
    },
    NeedTerm {
        code: "child_mental_health",
        name: "Child or young person's mental health",
        description: "Emotional wellbeing and mental health support for children and young people",
    },
    NeedTerm {
        code: "physical_health",
        name: "Health and disability",
        description: "Health services, health visiting and disability support",
    },
    NeedTerm {
        code: "send_support",
        name: "Special educational needs and disabilities (SEND)",
        description: "Support for children and young people with SEND, and their families",
    },
    NeedTerm {
        code: "school_attendance",
        name: "School attendance",
        description: "Help to go to school regularly",
    },
    NeedTerm {
        code: "youth",
        name: "Youth activities",
        description: "Youth clubs, sport and activities for young people",
    },
    NeedTerm {
        code: "behaviour",
        name: "Behaviour and family relationships",
        description: "Help with behaviour at home and family relationships",
    },
    NeedTerm {
        code: "parental_conflict",
        name: "Parental conflict",
        description: "Help for parents who argue or are separating",
    },
    NeedTerm {
        code: "domestic_abuse",
        name: "Domestic abuse",
        description: "Support and safety for anyone affected by domestic abuse",
    },
    NeedTerm {
        code: "substance_use",
        name: "Drugs and alcohol",
        description: "Support with drug or alcohol use in the family",
    },
    NeedTerm {
        code: "young_carer",
        name: "Young carers",
        description: "Support for children who care for someone at home",
    },
    NeedTerm {
        code: "housing",
        name: "Housing",
        description: "Housing advice and help to avoid homelessness",
    },
    NeedTerm {
        code: "debt",
        name: "Money and debt",
        description: "Debt advice, benefits and help with the cost of living",
    },
    NeedTerm {
        code: "worklessness",
        name: "Employment and skills",
        description: "Help to find work, training and adult learning",
    },
];

pub fn need_term(code: &str) -> Option<&'static NeedTerm> {
    NEED_TERMS.iter().find(|t| t.code == code)
}

/// A problem with a form field: which field, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn err(out: &mut Vec<FieldError>, field: &'static str, message: impl Into<String>) {
    out.push(FieldError {
        field,
        message: message.into(),
    });
}

/// The service form as typed, before any check.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ServiceInput {
    pub name: String,
    pub description: String,
    pub url: String,
    pub email: String,
    pub status: String,
    pub fees_description: String,
    pub minimum_age: String,
    pub maximum_age: String,
    pub send_up_to_25: bool,
    pub family_hub_offer: bool,
    pub start_for_life: bool,
    pub modes: Vec<String>,
    pub areas: String,
    pub days: Vec<String>,
    pub opens_at: String,
    pub closes_at: String,
    pub schedule_description: String,
    pub cost_amount: String,
    pub cost_description: String,
    pub languages: Vec<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
}

/// The service form's values once they pass the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceValues {
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: ServiceStatus,
    pub fees_description: Option<String>,
    pub minimum_age: Option<i64>,
    pub maximum_age: Option<i64>,
    pub send_up_to_25: bool,
    pub family_hub_offer: bool,
    pub start_for_life: bool,
    pub modes: Vec<DeliveryMode>,
    pub areas: Vec<String>,
    /// `BYDAY`, empty when no day was chosen (no schedule).
    pub byday: String,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub schedule_description: String,
    /// Pence; none when not stated.
    pub cost_amount: Option<i64>,
    pub cost_description: String,
    pub languages: Vec<&'static Language>,
    pub contact_name: String,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Whether `s` looks like an email address (one `@`, a dotted domain, no spaces).
pub fn email_shape(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !s.contains(' ')
}

fn parse_age(out: &mut Vec<FieldError>, field: &'static str, what: &str, input: &str) -> Option<i64> {
    let t = input.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(a) if (0..=MAX_AGE).contains(&a) => Some(a),
        _ => {
            err(
                out,
                field,
                format!("{what} must be a whole number of years from 0 to {MAX_AGE}"),
            );
            None
        }
    }
}

/// Checks the service form; every problem names its field.
pub fn check_service(input: &ServiceInput) -> Result<ServiceValues, Vec<FieldError>> {
    let mut out = vec![];
    let name = input.name.trim().to_string();
    if name.is_empty() {
        err(&mut out, "name", "Enter the service's name");
    } else if name.chars().count() > 200 {
        err(&mut out, "name", "The service's name must be 200 characters or fewer");
    }
    let description = input.description.trim().to_string();
    if description.is_empty() {
        err(&mut out, "description", "Enter a description of the service");
    }
    let url = opt(&input.url);
    if let Some(u) = &url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        err(
            &mut out,
            "url",
            "Enter the website as a full address, like https://example.org",
        );
    }
    let email = opt(&input.email);
    if email.as_deref().is_some_and(|e| !email_shape(e)) {
        err(
            &mut out,
            "email",
            "Enter an email address in the correct format, like name@example.org",
        );
    }
    let status = if input.status.trim().is_empty() {
        Some(ServiceStatus::Active)
    } else {
        ServiceStatus::parse(input.status.trim())
    };
    if status.is_none() {
        err(&mut out, "status", "Select the service's status");
    }
    let minimum_age = parse_age(&mut out, "minimum_age", "Minimum age", &input.minimum_age);
    let maximum_age = parse_age(&mut out, "maximum_age", "Maximum age", &input.maximum_age);
    if let (Some(lo), Some(hi)) = (minimum_age, maximum_age)
        && lo > hi
    {
        err(
            &mut out,
            "maximum_age",
            "Maximum age must be the same as or more than the minimum age",
        );
    }
    if input.send_up_to_25 && minimum_age.is_some_and(|m| m > SEND_MAX_AGE) {
        err(
            &mut out,
            "minimum_age",
            "A service for young people with SEND up to 25 must start at 25 or younger",
        );
    }
    let mut modes = vec![];
    for m in &input.modes {
        match DeliveryMode::parse(m) {
            Some(d) if !modes.contains(&d) => modes.push(d),
            Some(_) => {}
            None => err(&mut out, "modes", "Select how the service is delivered from the list"),
        }
    }
    if modes.is_empty() && !out.iter().any(|e| e.field == "modes") {
        err(&mut out, "modes", "Select how the service is delivered");
    }
    let mut areas = vec![];
    for a in input
        .areas
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match parse_district(a) {
            Ok(d) if !areas.contains(&d) => areas.push(d),
            Ok(_) => {}
            Err(_) => {
                err(
                    &mut out,
                    "areas",
                    format!("{a} is not a postcode district: enter districts like W2, SW3"),
                );
                break;
            }
        }
    }
    let mut days = vec![];
    for d in &input.days {
        match Day::parse(d) {
            Some(day) if !days.contains(&day) => days.push(day),
            Some(_) => {}
            None => err(&mut out, "days", "Select the days from the list"),
        }
    }
    days.sort();
    let byday = days.iter().map(|d| d.code()).collect::<Vec<_>>().join(",");
    let mut time = |field: &'static str, what: &str, s: &str| -> Option<String> {
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        let parsed = parse_time(t);
        if parsed.is_none() {
            err(
                &mut out,
                field,
                format!("Enter the time it {what} as hours and minutes, like 09:30"),
            );
        }
        parsed
    };
    let opens_at = time("opens_at", "opens", &input.opens_at);
    let closes_at = time("closes_at", "closes", &input.closes_at);
    if let (Some(o), Some(c)) = (&opens_at, &closes_at)
        && c <= o
    {
        err(&mut out, "closes_at", "The closing time must be after the opening time");
    }
    if byday.is_empty() && (opens_at.is_some() || closes_at.is_some()) {
        err(
            &mut out,
            "days",
            "Select the days the service runs, or leave the times blank",
        );
    }
    let cost_amount = match opt(&input.cost_amount) {
        None => None,
        Some(s) => {
            let p = parse_pounds(&s);
            if p.is_none() {
                err(
                    &mut out,
                    "cost_amount",
                    "Enter the cost in pounds, like 4.50, or leave it blank if it is free",
                );
            }
            p
        }
    };
    let mut languages = vec![];
    for code in &input.languages {
        match language(code) {
            Some(l) if !languages.contains(&l) => languages.push(l),
            Some(_) => {}
            None => err(&mut out, "languages", "Select the languages from the list"),
        }
    }
    let contact_phone = opt(&input.contact_phone);
    if let Some(p) = &contact_phone
        && !p
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '+' || c == '(' || c == ')' || c == '-')
    {
        err(
            &mut out,
            "contact_phone",
            "Enter a telephone number, like 020 7946 0000",
        );
    }
    let contact_email = opt(&input.contact_email);
    if contact_email.as_deref().is_some_and(|e| !email_shape(e)) {
        err(
            &mut out,
            "contact_email",
            "Enter the contact's email address in the correct format, like name@example.org",
        );
    }
    if !out.is_empty() {
        return Err(out);
    }
    Ok(ServiceValues {
        name,
        description,
        url,
        email,
        status: status.unwrap_or(ServiceStatus::Active),
        fees_description: opt(&input.fees_description),
        minimum_age,
        maximum_age,
        send_up_to_25: input.send_up_to_25,
        family_hub_offer: input.family_hub_offer,
        start_for_life: input.start_for_life,
        modes,
        areas,
        byday,
        opens_at,
        closes_at,
        schedule_description: input.schedule_description.trim().to_string(),
        cost_amount,
        cost_description: input.cost_description.trim().to_string(),
        languages,
        contact_name: input.contact_name.trim().to_string(),
        contact_phone,
        contact_email,
    })
}

/// What someone does to a connection request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionAction {
    /// A user of the receiving organisation opens it for the first time.
    Open,
    Accept,
    /// Declining needs a reason, which the sender sees.
    Decline {
        reason: String,
    },
    Complete,
}

/// Where `action` takes a request in `status`, or why it cannot.
pub fn connection_next(status: ConnectionStatus, action: &ConnectionAction) -> Result<ConnectionStatus, &'static str> {
    use ConnectionStatus::*;
    match (status, action) {
        (Sent, ConnectionAction::Open) => Ok(Opened),
        (Sent | Opened, ConnectionAction::Accept) => Ok(Accepted),
        (Sent | Opened, ConnectionAction::Decline { reason }) => {
            if reason.trim().is_empty() {
                Err("Enter why you are declining the request")
            } else {
                Ok(Declined)
            }
        }
        (Accepted, ConnectionAction::Complete) => Ok(Completed),
        (_, ConnectionAction::Open) => Err("The request has already been opened"),
        (Accepted | Declined | Completed, ConnectionAction::Accept | ConnectionAction::Decline { .. }) => {
            Err("The request has already been answered")
        }
        (_, ConnectionAction::Complete) => Err("Only an accepted request can be completed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ages_and_send_to_25() {
        assert!(eligible(Some(0), Some(5), false, 3, false));
        assert!(!eligible(Some(0), Some(5), false, 6, false));
        assert!(eligible(None, None, false, 40, false));
        assert!(!eligible(Some(13), Some(18), true, 22, false));
        assert!(eligible(Some(13), Some(18), true, 22, true));
        assert!(!eligible(Some(13), Some(18), true, 26, true));
        assert!(!eligible(Some(13), Some(18), false, 22, true));
        assert!(!eligible(Some(13), Some(18), true, 12, true));
    }

    #[test]
    fn days_and_times() {
        assert_eq!(parse_byday("th, mo,MO").unwrap(), "MO,TH");
        assert!(parse_byday("XX").is_err());
        assert!(byday_includes("MO,TH", Day::Thursday));
        assert!(!byday_includes("MO,TH", Day::Tuesday));
        assert_eq!(parse_time("9:30").as_deref(), Some("09:30"));
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("nine"), None);
    }

    #[test]
    fn money() {
        assert_eq!(parse_pounds("£4.50"), Some(450));
        assert_eq!(parse_pounds("4.5"), Some(450));
        assert_eq!(parse_pounds("12"), Some(1200));
        assert_eq!(parse_pounds("4.555"), None);
        assert_eq!(parse_pounds("-3"), None);
        assert_eq!(format_pence(450), "£4.50");
        assert_eq!(format_pence(1200), "£12");
        assert!(is_free(&[]));
        assert!(is_free(&[None, Some(0)]));
        assert!(!is_free(&[Some(0), Some(300)]));
    }

    #[test]
    fn districts() {
        assert_eq!(parse_district("w2 5ab").unwrap(), "W2");
        assert_eq!(parse_district("sw3").unwrap(), "SW3");
        assert_eq!(parse_district("W2 5").unwrap(), "W2");
        assert!(parse_district("nowhere").is_err());
    }

    #[test]
    fn the_needs_taxonomy_uses_the_referral_needs_codes() {
        for t in NEED_TERMS {
            if let Some(n) = crate::referral::need(t.code) {
                assert_eq!(n.code, t.code);
            }
        }
        assert!(crate::referral::need("domestic_abuse").is_some() && need_term("domestic_abuse").is_some());
        let mut codes: Vec<_> = NEED_TERMS.iter().map(|t| t.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), NEED_TERMS.len());
    }

    #[test]
    fn the_service_form_names_each_field_in_error() {
        let bad = ServiceInput {
            url: "example.org".into(),
            email: "nope".into(),
            minimum_age: "ten".into(),
            maximum_age: "3".into(),
            areas: "W2, Narnia".into(),
            opens_at: "10:00".into(),
            closes_at: "9:00".into(),
            cost_amount: "free-ish".into(),
            ..Default::default()
        };
        let errors = check_service(&bad).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        for f in [
            "name",
            "description",
            "url",
            "email",
            "minimum_age",
            "modes",
            "areas",
            "closes_at",
            "days",
            "cost_amount",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let good = ServiceInput {
            name: "Stay and play".into(),
            description: "Songs and play".into(),
            minimum_age: "0".into(),
            maximum_age: "5".into(),
            modes: vec!["in_person".into()],
            areas: "w2 5ab, W9".into(),
            days: vec!["TH".into(), "MO".into()],
            opens_at: "9:30".into(),
            closes_at: "11:30".into(),
            languages: vec!["en".into(), "ar".into()],
            ..Default::default()
        };
        let v = check_service(&good).unwrap();
        assert_eq!(v.areas, vec!["W2", "W9"]);
        assert_eq!(v.byday, "MO,TH");
        assert_eq!(v.status, ServiceStatus::Active);
        assert_eq!(v.opens_at.as_deref(), Some("09:30"));
    }

    #[test]
    fn connection_lifecycle() {
        use ConnectionStatus::*;
        assert_eq!(connection_next(Sent, &ConnectionAction::Open), Ok(Opened));
        assert_eq!(connection_next(Opened, &ConnectionAction::Accept), Ok(Accepted));
        assert!(connection_next(Opened, &ConnectionAction::Decline { reason: " ".into() }).is_err());
        assert_eq!(
            connection_next(Opened, &ConnectionAction::Decline { reason: "Full".into() }),
            Ok(Declined)
        );
        assert_eq!(connection_next(Accepted, &ConnectionAction::Complete), Ok(Completed));
        assert!(connection_next(Declined, &ConnectionAction::Accept).is_err());
        assert!(connection_next(Opened, &ConnectionAction::Complete).is_err());
    }

    proptest! {
        #[test]
        fn without_send_the_bounds_decide(min in proptest::option::of(0i64..30), max in proptest::option::of(0i64..30),
                                          send25: bool, age in 0i64..40) {
            let plain = min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m);
            prop_assert_eq!(eligible(min, max, send25, age, false), plain);
            // SEND only ever widens eligibility, and never past 25.
            let with_send = eligible(min, max, send25, age, true);
            prop_assert!(with_send || !plain);
            if with_send && !plain {
                prop_assert!(send25 && age <= SEND_MAX_AGE);
            }
        }

        #[test]
        fn any_order_of_days_normalises_the_same(days in proptest::sample::subsequence(Day::ALL.to_vec(), 0..7)) {
            let mut reversed: Vec<_> = days.iter().map(|d| d.code().to_lowercase()).collect();
            reversed.reverse();
            let a = parse_byday(&days.iter().map(|d| d.code()).collect::<Vec<_>>().join(",")).unwrap();
            let b = parse_byday(&reversed.join(" , ")).unwrap();
            prop_assert_eq!(&a, &b);
            for d in Day::ALL {
                prop_assert_eq!(byday_includes(&a, *d), days.contains(d));
            }
        }
    }
}
