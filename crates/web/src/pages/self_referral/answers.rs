//! What a self-referral draft holds between pages, and each question page's
//! form parsed into it with GOV.UK error messages. Only valid answers are
//! saved; what was typed is shown back until it is valid.

use kindred_domain::Postcode;
use kindred_domain::dates::{self, DateError};
use kindred_domain::model::MemberRole;
use kindred_domain::referral::NEEDS;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::forms::Errors;

const MAX_NAME: usize = 100;
const MAX_LINE: usize = 200;
pub const MAX_STORY: usize = 5000;

/// The answers so far, kept as JSON in the draft.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Answers {
    /// Chosen when the draft starts. References are unique, so pressing Send
    /// twice can never make two referrals.
    pub reference: String,
    /// Sent (or taken from a bot): nothing but the reference is kept.
    pub sent: bool,
    pub given_name: String,
    pub family_name: String,
    /// ISO date.
    pub date_of_birth: String,
    pub address_line: String,
    pub postcode: String,
    pub hub_site_id: Option<i64>,
    /// The council was chosen from the list, because no hub's reach covers the postcode.
    pub council_chosen: bool,
    pub phone: String,
    pub email: String,
    /// `yes`, `no` or not answered.
    pub safe_message: String,
    pub people: Vec<PersonAnswer>,
    pub needs: Vec<String>,
    pub story: String,
    /// `yes` or `no`.
    pub consent: String,
}

/// Someone else in the family, as the parent or carer described them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PersonAnswer {
    pub given_name: String,
    pub family_name: String,
    /// A [`RELATIONSHIPS`] code.
    pub relationship: String,
    /// ISO date: the date of birth, or the due date of a baby not born yet.
    pub date: String,
}

/// (code, what the radio says, what check answers says, the role triage sees).
pub const RELATIONSHIPS: &[(&str, &str, &str, MemberRole)] = &[
    ("child", "A child", "Child", MemberRole::Child),
    (
        "unborn",
        "A baby who is not born yet",
        "Baby not born yet",
        MemberRole::Unborn,
    ),
    ("partner", "My partner", "Partner", MemberRole::Parent),
    ("adult", "Another adult in the family", "Other adult", MemberRole::Other),
];

fn relationship(code: &str) -> Option<&'static (&'static str, &'static str, &'static str, MemberRole)> {
    RELATIONSHIPS.iter().find(|r| r.0 == code)
}

impl PersonAnswer {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
    pub fn role(&self) -> MemberRole {
        relationship(&self.relationship)
            .map(|r| r.3)
            .unwrap_or(MemberRole::Other)
    }
    pub fn is_unborn(&self) -> bool {
        self.relationship == "unborn"
    }
    pub fn date(&self) -> Option<Date> {
        dates::parse_iso(&self.date).ok()
    }
    /// "Child, born 5 May 2022" or "Baby not born yet, due 1 March 2027".
    pub fn describe(&self) -> String {
        let label = relationship(&self.relationship).map(|r| r.2).unwrap_or("");
        let date = self.date().map(dates::long).unwrap_or_default();
        if self.is_unborn() {
            format!("{label}, due {date}")
        } else {
            format!("{label}, born {date}")
        }
    }
}

/// The question pages, in the order the journey asks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Name,
    DateOfBirth,
    Address,
    Council,
    Contact,
    People,
    Help,
    Words,
    Consent,
    Check,
}

impl Step {
    pub fn path(self) -> &'static str {
        match self {
            Step::Name => "/self-referral/name",
            Step::DateOfBirth => "/self-referral/date-of-birth",
            Step::Address => "/self-referral/address",
            Step::Council => "/self-referral/council",
            Step::Contact => "/self-referral/contact",
            Step::People => "/self-referral/people",
            Step::Help => "/self-referral/help",
            Step::Words => "/self-referral/your-words",
            Step::Consent => "/self-referral/consent",
            Step::Check => "/self-referral/check",
        }
    }
}

impl Answers {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    pub fn date_of_birth(&self) -> Option<Date> {
        dates::parse_iso(&self.date_of_birth).ok()
    }

    pub fn has_child(&self) -> bool {
        self.people
            .iter()
            .any(|p| matches!(p.role(), MemberRole::Child | MemberRole::Unborn))
    }

    /// The first question not yet answered, if any.
    pub fn missing(&self, tenant_id: Option<i64>) -> Option<Step> {
        if self.given_name.is_empty() || self.family_name.is_empty() {
            Some(Step::Name)
        } else if self.date_of_birth().is_none() {
            Some(Step::DateOfBirth)
        } else if self.postcode.is_empty() || self.address_line.is_empty() {
            Some(Step::Address)
        } else if tenant_id.is_none() {
            Some(Step::Council)
        } else if self.phone.is_empty() && self.email.is_empty() {
            Some(Step::Contact)
        } else if !self.has_child() {
            Some(Step::People)
        } else if self.needs.is_empty() {
            Some(Step::Help)
        } else if self.story.is_empty() {
            Some(Step::Words)
        } else if self.consent.is_empty() {
            Some(Step::Consent)
        } else {
            None
        }
    }

    /// What is left once the request is sent: the reference to show again.
    pub fn sent(&self) -> Answers {
        Answers {
            reference: self.reference.clone(),
            sent: true,
            ..Answers::default()
        }
    }

    /// The phone number as triage should see it, with whether a message may be left.
    pub fn phone_for_triage(&self) -> String {
        match (self.phone.is_empty(), self.safe_message.as_str()) {
            (true, _) => String::new(),
            (false, "no") => format!("{} (do not leave a message)", self.phone),
            (false, "yes") => format!("{} (safe to leave a message)", self.phone),
            _ => self.phone.clone(),
        }
    }
}

fn iso_parts(iso: &str) -> (String, String, String) {
    dates::parse_iso(iso)
        .map(|d| (d.day().to_string(), (d.month() as u8).to_string(), d.year().to_string()))
        .unwrap_or_default()
}

/// A name part: required, at most 100 characters.
fn name_part(value: &str, field: &'static str, what: &str, errors: &mut Errors) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, format!("Enter {what}"));
    } else if v.chars().count() > MAX_NAME {
        let mut label = what.split_once(' ').map(|(_, rest)| rest).unwrap_or(what).to_string();
        if let Some(first) = label.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        errors.add(field, format!("{label} must be {MAX_NAME} characters or less"));
    }
    v.to_string()
}

/// GOV.UK date input boxes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DateBoxes {
    pub day: String,
    pub month: String,
    pub year: String,
}

impl DateBoxes {
    fn from_iso(iso: &str) -> DateBoxes {
        let (day, month, year) = iso_parts(iso);
        DateBoxes { day, month, year }
    }
    fn parse(&self) -> Result<Date, DateError> {
        dates::parse_date_parts(&self.day, &self.month, &self.year)
    }
    fn is_blank(&self) -> bool {
        [&self.day, &self.month, &self.year].iter().all(|s| s.trim().is_empty())
    }
}

/// A date of birth: real, in the past, after 1900, and at least `min_age` years ago.
fn date_of_birth(
    boxes: &DateBoxes,
    today: Date,
    min_age: i32,
    field: &'static str,
    blank: &str,
    errors: &mut Errors,
) -> Option<Date> {
    if boxes.is_blank() {
        errors.add(field, blank);
        return None;
    }
    match boxes.parse().and_then(|d| dates::check_date_of_birth(d, today)) {
        Ok(d) if dates::age_in_years(d, today) < min_age => {
            errors.add(field, format!("Date of birth must be at least {min_age} years ago"));
            None
        }
        Ok(d) => Some(d),
        Err(DateError::TooOld) => {
            errors.add(field, "Date of birth must be after 1 January 1900");
            None
        }
        Err(e) => {
            errors.add(field, format!("Date of birth {e}"));
            None
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NameForm {
    pub given_name: String,
    pub family_name: String,
}

impl NameForm {
    pub fn from_answers(a: &Answers) -> NameForm {
        NameForm {
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
        }
    }
    pub fn apply(&self, a: &mut Answers, errors: &mut Errors) {
        let given = name_part(&self.given_name, "given_name", "your first name", errors);
        let family = name_part(&self.family_name, "family_name", "your last name", errors);
        if errors.is_empty() {
            a.given_name = given;
            a.family_name = family;
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DobForm {
    pub dob_day: String,
    pub dob_month: String,
    pub dob_year: String,
}

impl DobForm {
    pub fn from_answers(a: &Answers) -> DobForm {
        let b = DateBoxes::from_iso(&a.date_of_birth);
        DobForm {
            dob_day: b.day,
            dob_month: b.month,
            dob_year: b.year,
        }
    }
    pub fn apply(&self, a: &mut Answers, today: Date, errors: &mut Errors) {
        let boxes = DateBoxes {
            day: self.dob_day.clone(),
            month: self.dob_month.clone(),
            year: self.dob_year.clone(),
        };
        // Parents and carers: a young parent may be in their early teens.
        if let Some(d) = date_of_birth(&boxes, today, 10, "dob", "Enter your date of birth", errors) {
            a.date_of_birth = dates::iso(d);
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddressForm {
    pub address_line: String,
    pub postcode: String,
}

impl AddressForm {
    pub fn from_answers(a: &Answers) -> AddressForm {
        AddressForm {
            address_line: a.address_line.clone(),
            postcode: a.postcode.clone(),
        }
    }
    /// The postcode, when the whole form is valid.
    pub fn parse(&self, errors: &mut Errors) -> Option<(String, Postcode)> {
        let line = self.address_line.trim();
        if line.is_empty() {
            errors.add(
                "address_line",
                "Enter address line 1, typically the building and street",
            );
        } else if line.chars().count() > MAX_LINE {
            errors.add(
                "address_line",
                format!("Address line 1 must be {MAX_LINE} characters or less"),
            );
        }
        let postcode = if self.postcode.trim().is_empty() {
            errors.add("postcode", "Enter your postcode");
            None
        } else {
            match Postcode::parse(&self.postcode) {
                Ok(p) => Some(p),
                Err(_) => {
                    errors.add("postcode", "Enter a real postcode, like SW1A 1AA");
                    None
                }
            }
        };
        postcode.filter(|_| errors.is_empty()).map(|p| (line.to_string(), p))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CouncilForm {
    pub tenant_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub phone: String,
    pub email: String,
    pub safe_message: String,
}

fn valid_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    let allowed = s
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -()".contains(c) || (c == '+' && i == 0));
    allowed && (10..=15).contains(&digits)
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= 254
}

impl ContactForm {
    pub fn from_answers(a: &Answers) -> ContactForm {
        ContactForm {
            phone: a.phone.clone(),
            email: a.email.clone(),
            safe_message: a.safe_message.clone(),
        }
    }
    pub fn apply(&self, a: &mut Answers, errors: &mut Errors) {
        let phone = self.phone.trim();
        let email = self.email.trim();
        if phone.is_empty() && email.is_empty() {
            errors.add(
                "phone",
                "Enter a phone number or an email address, so we can contact you",
            );
        }
        if !phone.is_empty() && !valid_phone(phone) {
            errors.add(
                "phone",
                "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192",
            );
        }
        if !email.is_empty() && !valid_email(email) {
            errors.add(
                "email",
                "Enter an email address in the correct format, like name@example.com",
            );
        }
        if !matches!(self.safe_message.as_str(), "" | "yes" | "no") {
            errors.add("safe_message", "Select yes if it is safe to leave you a message");
        }
        if errors.is_empty() {
            a.phone = phone.to_string();
            a.email = email.to_string();
            a.safe_message = if phone.is_empty() {
                String::new()
            } else {
                self.safe_message.clone()
            };
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonForm {
    pub given_name: String,
    pub family_name: String,
    pub relationship: String,
    pub date_day: String,
    pub date_month: String,
    pub date_year: String,
}

impl PersonForm {
    pub fn from_person(p: &PersonAnswer) -> PersonForm {
        let b = DateBoxes::from_iso(&p.date);
        PersonForm {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            relationship: p.relationship.clone(),
            date_day: b.day,
            date_month: b.month,
            date_year: b.year,
        }
    }

    pub fn parse(&self, today: Date, errors: &mut Errors) -> Option<PersonAnswer> {
        let given = name_part(&self.given_name, "given_name", "their first name", errors);
        let family = name_part(&self.family_name, "family_name", "their last name", errors);
        let boxes = DateBoxes {
            day: self.date_day.clone(),
            month: self.date_month.clone(),
            year: self.date_year.clone(),
        };
        let date = match relationship(&self.relationship) {
            None => {
                errors.add("relationship", "Select who they are");
                None
            }
            Some(("unborn", ..)) => {
                if boxes.is_blank() {
                    errors.add("date", "Enter the date the baby is due");
                    None
                } else {
                    match boxes.parse() {
                        Ok(d) if d < today - Duration::days(60) => {
                            errors.add(
                                "date",
                                "Due date must be in the last 2 months or in the future. If the baby has been born, choose ‘A child’ and enter their date of birth",
                            );
                            None
                        }
                        Ok(d) if d > today + Duration::days(300) => {
                            errors.add("date", "Due date must be within the next 10 months");
                            None
                        }
                        Ok(d) => Some(d),
                        Err(e) => {
                            errors.add("date", format!("Due date {e}"));
                            None
                        }
                    }
                }
            }
            Some(_) => date_of_birth(&boxes, today, 0, "date", "Enter their date of birth", errors),
        };
        let date = date.filter(|_| errors.is_empty())?;
        Some(PersonAnswer {
            given_name: given,
            family_name: family,
            relationship: self.relationship.clone(),
            date: dates::iso(date),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct YesNoForm {
    pub answer: String,
}

impl YesNoForm {
    pub fn parse(&self) -> Option<bool> {
        match self.answer.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    }
}

/// The needs ticked, from the form's repeated `needs` fields.
pub fn parse_needs(pairs: &[(String, String)], errors: &mut Errors) -> Vec<String> {
    let mut needs: Vec<String> = NEEDS
        .iter()
        .filter(|n| pairs.iter().any(|(k, v)| k == "needs" && v == n.code))
        .map(|n| n.code.to_string())
        .collect();
    needs.dedup();
    if needs.is_empty() {
        errors.add("needs", "Select what you would like help with");
    }
    needs
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WordsForm {
    pub story: String,
}

impl WordsForm {
    pub fn apply(&self, a: &mut Answers, errors: &mut Errors) {
        let story = self.story.trim();
        if story.is_empty() {
            errors.add("story", "Tell us what is happening and what help you would like");
        } else if story.chars().count() > MAX_STORY {
            errors.add("story", "What you tell us must be 5,000 characters or less");
        } else {
            a.story = story.to_string();
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SendForm {
    /// The honeypot: hidden from people, filled in by bots.
    pub website: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 22);

    #[test]
    fn names_are_required_and_short() {
        let mut a = Answers::default();
        let mut e = Errors::default();
        NameForm {
            given_name: " ".into(),
            family_name: "x".repeat(101),
        }
        .apply(&mut a, &mut e);
        assert_eq!(e.get("given_name"), Some("Enter your first name"));
        assert_eq!(e.get("family_name"), Some("Last name must be 100 characters or less"));
        assert!(a.given_name.is_empty(), "nothing invalid is saved");
    }

    #[test]
    fn dates_of_birth_are_real_past_and_plausible() {
        let check = |d: &str, m: &str, y: &str| {
            let mut a = Answers::default();
            let mut e = Errors::default();
            DobForm {
                dob_day: d.into(),
                dob_month: m.into(),
                dob_year: y.into(),
            }
            .apply(&mut a, TODAY, &mut e);
            e.get("dob").map(str::to_string).ok_or(a.date_of_birth)
        };
        assert_eq!(check("", "", "").unwrap(), "Enter your date of birth");
        assert_eq!(check("31", "2", "2020").unwrap(), "Date of birth must be a real date");
        assert_eq!(check("1", "1", "2030").unwrap(), "Date of birth must be in the past");
        assert_eq!(
            check("1", "1", "1850").unwrap(),
            "Date of birth must be after 1 January 1900"
        );
        assert_eq!(
            check("1", "1", "2024").unwrap(),
            "Date of birth must be at least 10 years ago"
        );
        assert_eq!(check("3", "4", "1990").unwrap_err(), "1990-04-03");
    }

    #[test]
    fn contact_needs_one_well_formed_way() {
        let mut e = Errors::default();
        ContactForm::default().apply(&mut Answers::default(), &mut e);
        assert!(e.has("phone"));
        for (phone, email, ok) in [
            ("07700 900 982", "", true),
            ("+44 808 157 0192", "", true),
            ("", "name@example.com", true),
            ("0770", "", false),
            ("call me", "", false),
            ("", "name@example", false),
            ("", "name example.com", false),
        ] {
            let mut e = Errors::default();
            let f = ContactForm {
                phone: phone.into(),
                email: email.into(),
                safe_message: String::new(),
            };
            f.apply(&mut Answers::default(), &mut e);
            assert_eq!(e.is_empty(), ok, "{phone} {email}");
        }
    }

    #[test]
    fn unborn_babies_take_a_due_date() {
        let f = PersonForm {
            given_name: "Baby".into(),
            family_name: "Khan".into(),
            relationship: "unborn".into(),
            date_day: "1".into(),
            date_month: "3".into(),
            date_year: "2027".into(),
        };
        let p = f.parse(TODAY, &mut Errors::default()).unwrap();
        assert_eq!((p.role(), p.date()), (MemberRole::Unborn, Some(date!(2027 - 03 - 01))));
        let mut e = Errors::default();
        assert!(
            PersonForm {
                relationship: "child".into(),
                ..f
            }
            .parse(TODAY, &mut e)
            .is_none()
        );
        assert_eq!(e.get("date"), Some("Date of birth must be in the past"));
    }

    #[test]
    fn the_journey_asks_for_what_is_missing_in_order() {
        let mut a = Answers {
            given_name: "Aisha".into(),
            family_name: "Khan".into(),
            date_of_birth: "1990-01-01".into(),
            address_line: "1 High Street".into(),
            postcode: "W2 1AA".into(),
            ..Default::default()
        };
        assert_eq!(a.missing(None), Some(Step::Council));
        a.email = "a@example.com".into();
        assert_eq!(a.missing(Some(1)), Some(Step::People));
        a.people.push(PersonAnswer {
            relationship: "partner".into(),
            ..Default::default()
        });
        assert_eq!(a.missing(Some(1)), Some(Step::People), "a partner is not a child");
        a.people.push(PersonAnswer {
            relationship: "child".into(),
            ..Default::default()
        });
        assert_eq!(a.missing(Some(1)), Some(Step::Help));
        let mut e = Errors::default();
        a.needs = parse_needs(
            &[("needs".into(), "housing".into()), ("needs".into(), "nonsense".into())],
            &mut e,
        );
        assert_eq!(a.needs, vec!["housing"]);
        a.story = "We need help".into();
        a.consent = "no".into();
        assert_eq!(a.missing(Some(1)), None);
        let sent = a.sent();
        assert!(sent.sent && sent.given_name.is_empty() && sent.people.is_empty());
    }
}
