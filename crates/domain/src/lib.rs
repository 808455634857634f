//! Kindred's domain: the types and rules of the whole-family record, with no IO.
//!
//! Values that cross the edge of the system are parsed here (`NhsNumber::parse`,
//! `Postcode::parse`, dates) so that an invalid value cannot exist past it. The
//! access policy and the audit chain live here so that every page, API and
//! export asks the same code.

pub mod access;
pub mod assessment;
pub mod audit;
pub mod dates;
pub mod development;
pub mod directory;
pub mod early_identification;
pub mod episode;
pub mod feeds;
pub mod kpi;
pub mod maturity;
pub mod model;
pub mod names;
pub mod needs;
pub mod nhs_number;
pub mod oruk;
pub mod outcomes;
pub mod pathway;
pub mod plan;
pub mod postcode;
pub mod redaction;
pub mod referral;
pub mod report;
pub mod sharing;
pub mod suppression;
pub mod task;
pub mod totp;
pub mod transition;
pub mod transparency;

pub use nhs_number::{NhsNumber, NhsNumberError};
pub use postcode::{Postcode, PostcodeError};
