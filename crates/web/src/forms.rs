//! Form input parsed into domain values, with GOV.UK-style messages that say
//! what is wrong with which field. One pattern for every form: a `…Form`
//! struct of strings, a `parse` that returns the value or [`Errors`].

use kindred_domain::dates::{self, DateError};
use kindred_domain::model::{Sex, Upn};
use kindred_domain::{NhsNumber, Postcode};
use kindred_store::persons::{NewAddress, Person, PersonDetails};
use kindred_store::restricted::PersonContact;
use serde::Deserialize;
use time::Date;

#[derive(Debug, Clone)]
pub struct FieldError {
    /// The id of the field in error: fixed for most forms, made from a
    /// tenant's own codes for configurable ones.
    pub field: std::borrow::Cow<'static, str>,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, field: impl Into<std::borrow::Cow<'static, str>>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn list(&self) -> &[FieldError] {
        &self.0
    }
}

/// A field of a form read as repeated keys (`CsrfForm<Vec<(String, String)>>`):
/// the first value for `key`, trimmed, or empty.
pub fn field(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Whether a checkbox sent as `key=yes` is ticked.
pub fn ticked(pairs: &[(String, String)], key: &str) -> bool {
    pairs.iter().any(|(k, v)| k == key && v == "yes")
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A UK phone number as entered, spaces tidied, when its digits are one:
/// 10 or 11 digits starting 0, or +44 and 9 or 10 more digits.
pub fn uk_phone(s: &str) -> Option<String> {
    let t = s.trim();
    if t.chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+')))
    {
        return None;
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let ok = if t.starts_with('+') {
        t.matches('+').count() == 1
            && digits.starts_with("44")
            && (11..=12).contains(&digits.len())
            && !digits[2..].starts_with('0')
    } else {
        !t.contains('+') && digits.starts_with('0') && (10..=11).contains(&digits.len())
    };
    ok.then(|| t.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Whether a string looks like an email address: one @, something before
/// it, a dot in the domain, no spaces, at most 254 characters.
pub fn email_shape(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !s.chars().any(char::is_whitespace)
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn date_message(label: &str, e: DateError) -> String {
    format!("{label} {e}")
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonForm {
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: String,
    pub dob_day: String,
    pub dob_month: String,
    pub dob_year: String,
    pub unborn: String,
    pub edd_day: String,
    pub edd_month: String,
    pub edd_year: String,
    pub sex: String,
    pub nhs_number: String,
    pub upn: String,
    pub language: String,
    pub interpreter: String,
    pub send: String,
    pub phone: String,
    pub email: String,
}

impl PersonForm {
    pub fn from_person(p: &Person) -> PersonForm {
        let parts = |d: Option<Date>| {
            d.map(|d| (d.day().to_string(), (d.month() as u8).to_string(), d.year().to_string()))
                .unwrap_or_default()
        };
        let (dob_day, dob_month, dob_year) = parts(p.date_of_birth);
        let (edd_day, edd_month, edd_year) = parts(p.expected_delivery);
        PersonForm {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            preferred_name: p.preferred_name.clone().unwrap_or_default(),
            dob_day,
            dob_month,
            dob_year,
            unborn: if p.is_unborn() { "yes".into() } else { String::new() },
            edd_day,
            edd_month,
            edd_year,
            sex: p.sex.code().into(),
            nhs_number: p.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
            upn: p.upn.as_ref().map(|u| u.as_str().to_string()).unwrap_or_default(),
            language: p.language.clone().unwrap_or_default(),
            interpreter: if p.interpreter_needed {
                "yes".into()
            } else {
                String::new()
            },
            send: if p.send { "yes".into() } else { String::new() },
            phone: String::new(),
            email: String::new(),
        }
    }

    /// The form filled with a person's phone and email too.
    pub fn with_contact(mut self, c: Option<&PersonContact>) -> PersonForm {
        if let Some(c) = c {
            self.phone = c.phone.clone().unwrap_or_default();
            self.email = c.email.clone().unwrap_or_default();
        }
        self
    }

    /// The phone and email, checked lightly: a UK phone number's digits, an
    /// email's shape. Errors are added to `errors`.
    pub fn parse_contact(&self, errors: &mut Errors) -> PersonContact {
        let phone = opt(&self.phone).and_then(|p| match uk_phone(&p) {
            Some(p) => Some(p),
            None => {
                errors.add(
                    "phone",
                    "Enter a UK phone number, like 01632 960 001, 07700 900 982 or +44 7700 900 982",
                );
                None
            }
        });
        let email = opt(&self.email).and_then(|e| {
            if email_shape(&e) {
                Some(e)
            } else {
                errors.add(
                    "email",
                    "Enter an email address in the correct format, like name@example.com",
                );
                None
            }
        });
        PersonContact { phone, email }
    }

    pub fn parse(&self, today: Date, errors: &mut Errors) -> Option<PersonDetails> {
        let given = self.given_name.trim();
        let family = self.family_name.trim();
        if given.is_empty() {
            errors.add("given_name", "Enter a first name");
        } else if given.chars().count() > 100 {
            errors.add("given_name", "First name must be 100 characters or fewer");
        }
        if family.is_empty() {
            errors.add("family_name", "Enter a last name");
        } else if family.chars().count() > 100 {
            errors.add("family_name", "Last name must be 100 characters or fewer");
        }
        let unborn = self.unborn == "yes";
        let mut date_of_birth = None;
        let mut expected_delivery = None;
        if unborn {
            match dates::parse_date_parts(&self.edd_day, &self.edd_month, &self.edd_year) {
                Ok(d) if d < today - time::Duration::days(60) => {
                    errors.add("edd", "Expected date of delivery must be recent or in the future: if the baby is born, enter their date of birth instead")
                }
                Ok(d) => expected_delivery = Some(d),
                Err(e) => errors.add("edd", date_message("Expected date of delivery", e)),
            }
        } else {
            match dates::parse_date_parts(&self.dob_day, &self.dob_month, &self.dob_year)
                .and_then(|d| dates::check_date_of_birth(d, today))
            {
                Ok(d) => date_of_birth = Some(d),
                Err(e) => errors.add("dob", date_message("Date of birth", e)),
            }
        }
        let sex = match self.sex.as_str() {
            "" => Sex::Unknown,
            s => Sex::parse(s).unwrap_or_else(|| {
                errors.add("sex", "Select a sex from the list");
                Sex::Unknown
            }),
        };
        let nhs_number = match opt(&self.nhs_number) {
            None => None,
            Some(s) => match NhsNumber::parse(&s) {
                Ok(n) => Some(n),
                Err(e) => {
                    errors.add("nhs_number", e.to_string());
                    None
                }
            },
        };
        let upn = match opt(&self.upn) {
            None => None,
            Some(s) => match Upn::parse(&s) {
                Ok(u) => Some(u),
                Err(e) => {
                    errors.add("upn", e.to_string());
                    None
                }
            },
        };
        if !errors.is_empty() {
            return None;
        }
        Some(PersonDetails {
            given_name: given.to_string(),
            family_name: family.to_string(),
            preferred_name: opt(&self.preferred_name),
            date_of_birth,
            expected_delivery,
            sex,
            nhs_number,
            upn,
            language: opt(&self.language),
            interpreter_needed: self.interpreter == "yes",
            send: self.send == "yes",
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddressForm {
    pub line1: String,
    pub line2: String,
    pub town: String,
    pub postcode: String,
    pub from_day: String,
    pub from_month: String,
    pub from_year: String,
}

impl AddressForm {
    pub fn is_blank(&self) -> bool {
        [&self.line1, &self.line2, &self.town, &self.postcode]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    /// `default_from` is used when no move-in date is given.
    pub fn parse(&self, default_from: Date, errors: &mut Errors) -> Option<NewAddress> {
        if self.line1.trim().is_empty() {
            errors.add("line1", "Enter address line 1, typically the building and street");
        }
        if self.town.trim().is_empty() {
            errors.add("town", "Enter town or city");
        }
        let postcode = match Postcode::parse(&self.postcode) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.add("postcode", e.to_string());
                None
            }
        };
        let from_date = if [&self.from_day, &self.from_month, &self.from_year]
            .iter()
            .all(|s| s.trim().is_empty())
        {
            Some(default_from)
        } else {
            match dates::parse_date_parts(&self.from_day, &self.from_month, &self.from_year) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.add("from", date_message("Date they moved in", e));
                    None
                }
            }
        };
        Some(NewAddress {
            line1: self.line1.trim().to_string(),
            line2: opt(&self.line2),
            town: self.town.trim().to_string(),
            postcode: postcode?,
            from_date: from_date?,
        })
        .filter(|_| errors.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn phone_and_email_are_checked_lightly() {
        assert_eq!(uk_phone("07700  900982").as_deref(), Some("07700 900982"));
        assert!(uk_phone("+44 7700 900 982").is_some());
        assert!(uk_phone("(01632) 960-001").is_some());
        assert!(uk_phone("7700 900982").is_none());
        assert!(uk_phone("+44 07700 900982").is_none());
        assert!(uk_phone("0770090098x").is_none());
        assert!(uk_phone("077009009821").is_none());
        assert!(email_shape("sam.k@example.org"));
        assert!(!email_shape("sam.k@example"));
        assert!(!email_shape("sam k@example.org"));
        assert!(!email_shape("@example.org"));
        let mut errors = Errors::default();
        let f = PersonForm {
            phone: "123".into(),
            email: "nope".into(),
            ..Default::default()
        };
        f.parse_contact(&mut errors);
        assert!(errors.has("phone") && errors.has("email"));
    }

    #[test]
    fn person_form_reports_each_bad_field() {
        let f = PersonForm {
            given_name: "".into(),
            family_name: "Khan".into(),
            dob_day: "31".into(),
            dob_month: "2".into(),
            dob_year: "2020".into(),
            nhs_number: "999 000 0019".into(),
            ..Default::default()
        };
        let mut e = Errors::default();
        assert!(f.parse(date!(2026 - 01 - 01), &mut e).is_none());
        assert_eq!(e.get("given_name"), Some("Enter a first name"));
        assert_eq!(e.get("dob"), Some("Date of birth must be a real date"));
        assert!(e.get("nhs_number").unwrap().contains("check digit"));
    }

    #[test]
    fn unborn_babies_take_an_expected_date() {
        let f = PersonForm {
            given_name: "Baby".into(),
            family_name: "Khan".into(),
            unborn: "yes".into(),
            edd_day: "1".into(),
            edd_month: "3".into(),
            edd_year: "2026".into(),
            ..Default::default()
        };
        let mut e = Errors::default();
        let d = f.parse(date!(2026 - 01 - 01), &mut e).unwrap();
        assert_eq!(
            (d.date_of_birth, d.expected_delivery),
            (None, Some(date!(2026 - 03 - 01)))
        );
    }
}
