//! Record linkage for Kindred: find the records of one person across the
//! systems of a family-hub partnership.
//!
//! The pipeline: [`standardise`] each record (names, nicknames, postcodes,
//! dates, NHS numbers); intern the standard values ([`dataset::Dataset`]);
//! block by a union of rules ([`blocking`]); compare each blocked pair field by
//! field into levels ([`compare`]); score with Fellegi–Sunter ([`model::Model`]):
//! u by seeded random sampling, m by EM over comparison patterns, term
//! frequencies for names and postcodes, and family-aware levels so that twins,
//! siblings and a parent and child are not taken for one person; cluster the
//! links above a threshold ([`cluster`]).
//!
//! No IO beyond [`csvio`]; the same input and seed give the same output.

// Comparisons and levels are parallel arrays indexed by number; index loops
// read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]

pub mod addresses;
pub mod blocking;
pub mod cli;
pub mod cluster;
pub mod compare;
pub mod config;
pub mod csvio;
pub mod dataset;
pub mod dates;
pub mod em;
mod fx;
mod link;
pub mod model;
pub mod names;
pub mod nhs;
pub mod postcodes;
pub mod progress;
pub mod strings;

use serde::{Deserialize, Serialize};

pub use config::Config;
pub use link::{LinkStats, Linked, ScoredPair, link, link_dataset};
pub use model::{Contribution, Explanation, Model};
pub use progress::{NoProgress, Progress};

/// A record as a source system gives it: every field optional but the id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRecord {
    pub id: String,
    pub nhs_number: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub address: Option<String>,
    pub source_system: Option<String>,
}

/// Sex as recorded; anything else (unknown, not stated) is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// `m`, `male`, `1` → male; `f`, `female`, `2` → female (any case).
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim().to_ascii_lowercase().as_str() {
            "m" | "male" | "1" | "man" | "boy" => Some(Sex::Male),
            "f" | "female" | "2" | "woman" | "girl" => Some(Sex::Female),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

/// A standardised record. Every value is in its normal form, so equal values
/// mean equal facts; [`Record::to_raw`] gives the display form, and
/// standardising that again gives the same record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// Ten digits ([`nhs::normalise`]).
    pub nhs_number: Option<String>,
    /// Whether `nhs_number` passes its check digit; a failing number is kept
    /// as evidence (probably a typo).
    pub nhs_number_valid: bool,
    /// Normal form ([`names::standard_given_name`]); placeholders such as
    /// `baby` are missing.
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    /// Normal form ([`names::standard_family_name`]); the parts of a
    /// double-barrelled name are separated by one space.
    pub family_name: Option<String>,
    pub date_of_birth: Option<dates::Date>,
    pub sex: Option<Sex>,
    pub postcode: Option<postcodes::Standard>,
    pub address: Option<String>,
    pub source_system: Option<String>,
}

/// Standardise a raw record (see [`Record`]).
pub fn standardise(raw: &RawRecord) -> Record {
    let nhs_number = raw.nhs_number.as_deref().and_then(nhs::normalise);
    Record {
        id: raw.id.trim().to_owned(),
        nhs_number_valid: nhs_number.as_deref().is_some_and(nhs::check_digit_ok),
        nhs_number,
        given_name: raw.given_name.as_deref().and_then(names::standard_given_name),
        middle_name: raw.middle_name.as_deref().and_then(names::standard_given_name),
        family_name: raw.family_name.as_deref().and_then(names::standard_family_name),
        date_of_birth: raw.date_of_birth.as_deref().and_then(dates::parse_date),
        sex: raw.sex.as_deref().and_then(Sex::parse),
        postcode: raw.postcode.as_deref().and_then(postcodes::parse),
        address: raw.address.as_deref().and_then(addresses::standard_address),
        source_system: raw.source_system.as_deref().and_then(standard_source),
    }
}

/// A source system's name in normal form (lower case, trimmed).
pub fn standard_source(s: &str) -> Option<String> {
    let t = s.trim().to_lowercase();
    (!t.is_empty()).then_some(t)
}

impl Record {
    /// The display form of the record, as a raw record.
    pub fn to_raw(&self) -> RawRecord {
        RawRecord {
            id: self.id.clone(),
            nhs_number: self.nhs_number.clone(),
            given_name: self.given_name.clone(),
            middle_name: self.middle_name.clone(),
            family_name: self.family_name.clone(),
            date_of_birth: self.date_of_birth.map(|d| d.to_string()),
            sex: self.sex.map(|s| s.code().to_owned()),
            postcode: self.postcode.as_ref().map(|p| p.full.clone()),
            address: self.address.clone(),
            source_system: self.source_system.clone(),
        }
    }
}
