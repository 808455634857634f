//! Open Referral UK 3.0 (the UK profile of HSDS 3.0) on the wire: the JSON
//! Kindred publishes at `/openreferral` and reads when it pulls another
//! directory's feed, and the query parameters of the list endpoints.
//!
//! The same types serve both directions. Every optional field is left out
//! when it has no value (the schemas type them as strings or numbers, never
//! null), and every field is optional or defaulted when read, so a feed that
//! leaves things out, sends `null` or adds fields of its own still parses;
//! only `id`, `name` and `status` of a service are required, as in the schema.
//!
//! Lists of child records are `Option<Vec<_>>`: `None` on a list endpoint's
//! items ("only one-to-one fields"), `Some` (perhaps empty) on a full record.

use serde::{Deserialize, Serialize};

/// What `/` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_url: Option<String>,
}

/// The HSDS version this API speaks.
pub const VERSION: &str = "3.0";
/// Where the UK profile is described.
pub const PROFILE: &str = "https://github.com/OpenReferralUK/uk-profile";
/// The profile's OpenAPI description, which this API follows.
pub const OPENAPI_URL: &str = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json";

impl Info {
    pub fn kindred() -> Info {
        Info {
            version: VERSION.into(),
            profile: Some(PROFILE.into()),
            openapi_url: Some(OPENAPI_URL.into()),
        }
    }
}

/// The paging envelope around every list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total_items: u64,
    pub total_pages: u64,
    pub page_number: u64,
    pub size: u64,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    #[serde(default = "Vec::new")]
    pub contents: Vec<T>,
}

impl<T> Page<T> {
    /// Page `page_number` (from 1) of `total_items`, `per_page` to a page.
    /// `total_pages` is 0 when there is nothing; a page beyond the last is
    /// empty and says it is the last.
    pub fn new(contents: Vec<T>, total_items: u64, paging: Paging) -> Page<T> {
        let total_pages = total_items.div_ceil(paging.per_page.max(1));
        Page {
            total_items,
            total_pages,
            page_number: paging.page,
            size: contents.len() as u64,
            first_page: paging.page == 1,
            last_page: paging.page >= total_pages,
            empty: contents.is_empty(),
            contents,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            total_items: self.total_items,
            total_pages: self.total_pages,
            page_number: self.page_number,
            size: self.size,
            first_page: self.first_page,
            last_page: self.last_page,
            empty: self.empty,
            contents: self.contents.into_iter().map(f).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// Required by the schema: an empty string when Kindred has none.
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_organization_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Service {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `active`, `inactive`, `defunct` or `temporarily closed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accreditations: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assured_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assurer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// RFC 3339 date and time of the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedules: Option<Vec<Schedule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_areas: Option<Vec<ServiceArea>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_at_locations: Option<Vec<ServiceAtLocation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<Language>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_options: Option<Vec<CostOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Contact>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<Attribute>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schedule {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_at_location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtstart: Option<String>,
    /// `WEEKLY` or `MONTHLY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// iCalendar days, comma separated: `MO,WE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byday: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bymonthday: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `HH:MM:SS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attending_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceArea {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<String>,
    /// Kindred publishes postcode districts as `postcode` extents (`SW1A`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_area: Option<String>,
}

/// A service at one of its locations. On `/service_at_locations` it carries
/// the service (list items: one-to-one fields only) and the location.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceAtLocation {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Box<Service>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
    pub id: String,
    /// `physical`, `postal` or `virtual`.
    pub location_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<Address>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Address {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    #[serde(default)]
    pub address_1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_2: Option<String>,
    #[serde(default)]
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub state_province: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub country: String,
    /// `physical`, `postal` or `virtual`.
    #[serde(default)]
    pub address_type: String,
}

/// HSDS 3.0 gives a language its name and code; the UK profile lists only
/// the identifiers, and allows more.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Language {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CostOption {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_description: Option<String>,
}

/// A service's contact point: a role and its phones, never a private person's details.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<Phone>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Phone {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Links a record to a taxonomy term: how needs, delivery modes and offers travel.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Attribute {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_term_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_term: Option<TaxonomyTerm>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Taxonomy {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaxonomyTerm {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The taxonomy's name (free text in the schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
}

// ---------------------------------------------------------------------------
// Kindred's own vocabularies, published as taxonomies with fixed ids.
//
// How a service is delivered (in person, online, by telephone, outreach) and
// whether it is part of the family hub offer, the Start for Life offer or open
// to young people aged 19 to 25 with SEND travel as `attributes` linking
// these terms, as HSDS intends for anything its fields do not name. The ids
// never change, so another directory can filter on them, and an import from
// another Kindred maps them back to the same columns.

/// A term of one of Kindred's fixed taxonomies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedTerm {
    pub id: &'static str,
    pub taxonomy_id: &'static str,
    /// The delivery mode's code (`in_person`) or the offer's (`family_hub_offer`).
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

/// A fixed taxonomy and its terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedTaxonomy {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub terms: &'static [FixedTerm],
}

pub const DELIVERY_TAXONOMY_ID: &str = "4a288543-daa0-4f09-b8a6-08518ab96c1d";
pub const OFFER_TAXONOMY_ID: &str = "ad48f25b-18bd-4156-a151-588f8cc0930c";

pub const DELIVERY_TAXONOMY: FixedTaxonomy = FixedTaxonomy {
    id: DELIVERY_TAXONOMY_ID,
    name: "Kindred delivery mode",
    description: "How a service is delivered.",
    terms: &[
        FixedTerm {
            id: "90537ed4-3131-4d0f-8892-f351529471a4",
            taxonomy_id: DELIVERY_TAXONOMY_ID,
            code: "in_person",
            name: "In person",
            description: "Delivered face to face at a location.",
        },
        FixedTerm {
            id: "d371788e-87b1-4e74-a756-2cf4ad359661",
            taxonomy_id: DELIVERY_TAXONOMY_ID,
            code: "online",
            name: "Online",
            description: "Delivered online.",
        },
        FixedTerm {
            id: "61283565-828c-46e7-803b-162f6ee73a19",
            taxonomy_id: DELIVERY_TAXONOMY_ID,
            code: "telephone",
            name: "By telephone",
            description: "Delivered by telephone.",
        },
        FixedTerm {
            id: "ea75fdc2-8bbc-460f-b724-7f1cbed9365e",
            taxonomy_id: DELIVERY_TAXONOMY_ID,
            code: "outreach",
            name: "Outreach",
            description: "The service comes to the family.",
        },
    ],
};

pub const OFFER_TAXONOMY: FixedTaxonomy = FixedTaxonomy {
    id: OFFER_TAXONOMY_ID,
    name: "Kindred offer",
    description: "The local offers a service is part of, and who beyond its ages it is open to.",
    terms: &[
        FixedTerm {
            id: "0a9760db-5e44-45b3-8bda-e56f4c0d6dc0",
            taxonomy_id: OFFER_TAXONOMY_ID,
            code: "family_hub_offer",
            name: "Family hub offer",
            description: "Part of the local family hub offer.",
        },
        FixedTerm {
            id: "36bd9d3c-6151-4778-aae4-d2ead3804757",
            taxonomy_id: OFFER_TAXONOMY_ID,
            code: "start_for_life",
            name: "Start for Life offer",
            description: "Part of the Start for Life offer (conception to age 2).",
        },
        FixedTerm {
            id: "40085c45-0bcf-44f9-b649-64db2fb46aea",
            taxonomy_id: OFFER_TAXONOMY_ID,
            code: "send_19_25",
            name: "Young people aged 19 to 25 with SEND",
            description: "Open to young people aged 19 to 25 with special educational needs or disabilities, beyond the service's usual maximum age.",
        },
    ],
};

/// Kindred's fixed taxonomies, in the order the API lists them (before the stored ones).
pub const FIXED_TAXONOMIES: [FixedTaxonomy; 2] = [DELIVERY_TAXONOMY, OFFER_TAXONOMY];

/// Every fixed term, delivery modes first.
pub fn fixed_terms() -> impl Iterator<Item = &'static FixedTerm> {
    FIXED_TAXONOMIES.iter().flat_map(|t| t.terms.iter())
}

pub fn fixed_term(id: &str) -> Option<&'static FixedTerm> {
    fixed_terms().find(|t| t.id.eq_ignore_ascii_case(id))
}

pub fn fixed_taxonomy(id: &str) -> Option<&'static FixedTaxonomy> {
    FIXED_TAXONOMIES.iter().find(|t| t.id.eq_ignore_ascii_case(id))
}

impl FixedTaxonomy {
    pub fn to_oruk(&self) -> Taxonomy {
        Taxonomy {
            id: self.id.into(),
            name: self.name.into(),
            description: self.description.into(),
            uri: None,
            version: Some("1".into()),
        }
    }
}

impl FixedTerm {
    pub fn taxonomy(&self) -> &'static FixedTaxonomy {
        FIXED_TAXONOMIES
            .iter()
            .find(|t| t.id == self.taxonomy_id)
            .expect("every fixed term's taxonomy is fixed")
    }

    pub fn to_oruk(&self) -> TaxonomyTerm {
        TaxonomyTerm {
            id: self.id.into(),
            name: self.name.into(),
            description: self.description.into(),
            code: Some(self.code.into()),
            parent_id: None,
            taxonomy: Some(self.taxonomy().name.into()),
            taxonomy_id: Some(self.taxonomy_id.into()),
            term_uri: None,
            term: Some(self.name.into()),
        }
    }
}

/// A UUID that always follows from `base` and `tag` (the SHA-256 of both, as
/// a version 8 UUID): for records Kindred keeps inside another (a contact's
/// phone, a location's address, a service's attribute) that need an id of
/// their own on the wire and the same one on every request.
pub fn derived_uuid(base: &str, tag: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(base.as_bytes());
    h.update([0u8]);
    h.update(tag.as_bytes());
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..])
}

/// Unix milliseconds as the RFC 3339 `last_modified` (`2026-11-29T20:31:05.123Z`).
pub fn timestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// An RFC 3339 date and time as unix milliseconds (for a pulled `last_modified`).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

// ---------------------------------------------------------------------------
// Query parameters.

/// The largest page a client may ask for; more is refused, not trimmed.
pub const MAX_PER_PAGE: u64 = 100;
/// The page size when a client does not say.
pub const DEFAULT_PER_PAGE: u64 = 50;
const MAX_PAGE: u64 = 1_000_000;

/// A bad query parameter: its name and what is wrong, as the API's 400 says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct ParamError {
    pub parameter: &'static str,
    pub message: String,
}

fn bad(parameter: &'static str, message: impl Into<String>) -> ParamError {
    ParamError {
        parameter,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// From 1.
    pub page: u64,
    pub per_page: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl Paging {
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

/// A day of the week as iCalendar writes it in `byday`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Day {
    Mo,
    Tu,
    We,
    Th,
    Fr,
    Sa,
    Su,
}

impl Day {
    pub const ALL: [Day; 7] = [Day::Mo, Day::Tu, Day::We, Day::Th, Day::Fr, Day::Sa, Day::Su];

    pub fn code(self) -> &'static str {
        match self {
            Day::Mo => "MO",
            Day::Tu => "TU",
            Day::We => "WE",
            Day::Th => "TH",
            Day::Fr => "FR",
            Day::Sa => "SA",
            Day::Su => "SU",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Day::Mo => "monday",
            Day::Tu => "tuesday",
            Day::We => "wednesday",
            Day::Th => "thursday",
            Day::Fr => "friday",
            Day::Sa => "saturday",
            Day::Su => "sunday",
        }
    }

    /// `MO`, `mo`, `Monday`, `mon`.
    pub fn parse(s: &str) -> Option<Day> {
        let s = s.trim().to_ascii_lowercase();
        Day::ALL
            .into_iter()
            .find(|d| s == d.code().to_ascii_lowercase() || s == d.name() || (s.len() == 3 && d.name().starts_with(&s)))
    }

    /// The days in an iCalendar `byday` (`MO,WE`, `1MO`, `-1FR`), ignoring what it cannot read.
    pub fn in_byday(byday: &str) -> Vec<Day> {
        byday
            .split(',')
            .filter_map(|part| {
                let code = part
                    .trim()
                    .trim_start_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
                Day::ALL.into_iter().find(|d| d.code().eq_ignore_ascii_case(code))
            })
            .collect()
    }
}

/// The filters of `/services` and `/service_at_locations`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceQuery {
    pub paging: Paging,
    /// Words that must all appear in the service's name, description or organisation's name.
    pub search: Option<String>,
    pub taxonomy_term_id: Option<String>,
    pub taxonomy_id: Option<String>,
    /// Services whose minimum age is at least this (the profile's wording).
    pub minimum_age: Option<f64>,
    /// Services whose maximum age is at most this.
    pub maximum_age: Option<f64>,
    /// Services with a schedule on this day.
    pub day: Option<Day>,
    /// Services with a schedule opening at or after this time (`HH:MM:SS`).
    pub start_time: Option<String>,
    /// Services with a schedule closing at or before this time.
    pub end_time: Option<String>,
    /// `/service_at_locations` only: the postcode district a service area must cover.
    pub postcode_district: Option<String>,
}

/// `page` and `per_page` from a query string's pairs.
pub fn parse_paging(pairs: &[(String, String)]) -> Result<Paging, ParamError> {
    let mut p = Paging::default();
    for (k, v) in pairs {
        match k.as_str() {
            "page" => {
                p.page = match v.trim().parse::<u64>() {
                    Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                    _ => return Err(bad("page", "page must be a whole number from 1")),
                }
            }
            "per_page" => {
                p.per_page = match v.trim().parse::<u64>() {
                    Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
                    _ => {
                        return Err(bad(
                            "per_page",
                            format!("per_page must be a whole number from 1 to {MAX_PER_PAGE}"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(p)
}

/// Whether `s` is a UUID in its usual hyphenated form.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn uuid_param(parameter: &'static str, v: &str) -> Result<Option<String>, ParamError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if !is_uuid(v) {
        return Err(bad(parameter, format!("{parameter} must be a UUID")));
    }
    Ok(Some(v.to_ascii_lowercase()))
}

fn age_param(parameter: &'static str, v: &str) -> Result<Option<f64>, ParamError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=150.0).contains(&n) => Ok(Some(n)),
        _ => Err(bad(
            parameter,
            format!("{parameter} must be a number of years from 0 to 150"),
        )),
    }
}

/// `HH:MM` or `HH:MM:SS`, as `HH:MM:SS`.
pub fn parse_time(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.trim().split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
    let (h, m, s) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && s < 60).then(|| format!("{h:02}:{m:02}:{s:02}"))
}

fn time_param(parameter: &'static str, v: &str) -> Result<Option<String>, ParamError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    parse_time(v)
        .map(Some)
        .ok_or_else(|| bad(parameter, format!("{parameter} must be a time such as 09:30")))
}

/// The filters of `/services` (`with_postcode` false) or `/service_at_locations`
/// (true: `postcode` and `proximity` are that endpoint's). Parameters the
/// profile does not define are ignored; one it defines with a bad value is refused.
pub fn parse_service_query(pairs: &[(String, String)], with_postcode: bool) -> Result<ServiceQuery, ParamError> {
    let mut q = ServiceQuery {
        paging: parse_paging(pairs)?,
        ..ServiceQuery::default()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "search" => {
                let words = v.split_whitespace().collect::<Vec<_>>().join(" ");
                if words.chars().count() > 200 {
                    return Err(bad("search", "search must be 200 characters or fewer"));
                }
                q.search = (!words.is_empty()).then_some(words);
            }
            "taxonomy_term_id" => q.taxonomy_term_id = uuid_param("taxonomy_term_id", v)?,
            "taxonomy_id" => q.taxonomy_id = uuid_param("taxonomy_id", v)?,
            "minimum_age" => q.minimum_age = age_param("minimum_age", v)?,
            "maximum_age" => q.maximum_age = age_param("maximum_age", v)?,
            "day" if !v.trim().is_empty() => {
                q.day = Some(
                    Day::parse(v).ok_or_else(|| bad("day", "day must be a day of the week, such as MO or monday"))?,
                )
            }
            "start_time" => q.start_time = time_param("start_time", v)?,
            "end_time" => q.end_time = time_param("end_time", v)?,
            "postcode" if with_postcode && !v.trim().is_empty() => {
                let district = match crate::Postcode::parse(v) {
                    Ok(pc) => pc.district().to_string(),
                    // A district alone (`SW1A`) is enough to say which areas cover it.
                    Err(_) => crate::postcode::parse_area(v)
                        .ok()
                        .filter(|a| !a.contains(' '))
                        .ok_or_else(|| {
                            bad(
                                "postcode",
                                "postcode must be a UK postcode, such as SW1A 1AA, or its district, such as SW1A",
                            )
                        })?,
                };
                q.postcode_district = Some(district);
            }
            "proximity" if with_postcode && !v.trim().is_empty() => {
                return Err(bad(
                    "proximity",
                    "proximity is not supported: this directory has no postcode centroids; use postcode alone",
                ));
            }
            _ => {}
        }
    }
    if let (Some(min), Some(max)) = (q.minimum_age, q.maximum_age)
        && min > max
    {
        return Err(bad("minimum_age", "minimum_age must not be more than maximum_age"));
    }
    Ok(q)
}

/// The filters of `/taxonomy_terms`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TermQuery {
    pub paging: Paging,
    pub taxonomy_id: Option<String>,
    pub parent_id: Option<String>,
    /// Only terms without a parent.
    pub top_only: bool,
}

pub fn parse_term_query(pairs: &[(String, String)]) -> Result<TermQuery, ParamError> {
    let mut q = TermQuery {
        paging: parse_paging(pairs)?,
        ..TermQuery::default()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "taxonomy_id" => q.taxonomy_id = uuid_param("taxonomy_id", v)?,
            "parent_id" => q.parent_id = uuid_param("parent_id", v)?,
            "top_only" => {
                q.top_only = match v.trim().to_ascii_lowercase().as_str() {
                    "" | "false" | "0" => false,
                    "true" | "1" => true,
                    _ => return Err(bad("top_only", "top_only must be true or false")),
                }
            }
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn paging_envelope() {
        let p = Page::new(vec![1, 2], 52, Paging { page: 2, per_page: 50 });
        assert_eq!(
            (p.total_pages, p.size, p.first_page, p.last_page, p.empty),
            (2, 2, false, true, false)
        );
        let p: Page<u8> = Page::new(vec![], 0, Paging::default());
        assert_eq!(
            (p.total_pages, p.first_page, p.last_page, p.empty),
            (0, true, true, true)
        );
        let p: Page<u8> = Page::new(vec![], 52, Paging { page: 9, per_page: 50 });
        assert_eq!((p.page_number, p.last_page, p.empty), (9, true, true));
    }

    #[test]
    fn parameters_are_checked_by_name() {
        let e = parse_service_query(&pairs(&[("per_page", "101")]), false).unwrap_err();
        assert_eq!(e.parameter, "per_page");
        for (k, v) in [
            ("page", "0"),
            ("page", "two"),
            ("taxonomy_term_id", "needs"),
            ("minimum_age", "-1"),
            ("maximum_age", "old"),
            ("day", "someday"),
            ("start_time", "25:00"),
            ("end_time", "9am"),
        ] {
            assert_eq!(parse_service_query(&pairs(&[(k, v)]), false).unwrap_err().parameter, k);
        }
        // postcode and proximity belong to /service_at_locations only.
        assert!(parse_service_query(&pairs(&[("postcode", "nowhere")]), false).is_ok());
        assert_eq!(
            parse_service_query(&pairs(&[("postcode", "nowhere")]), true)
                .unwrap_err()
                .parameter,
            "postcode"
        );
        let q = parse_service_query(
            &pairs(&[
                ("postcode", "sw1a 1aa"),
                ("day", "Tuesday"),
                ("start_time", "09:30"),
                ("search", "  stay   and play "),
                ("anything", "else"),
            ]),
            true,
        )
        .unwrap();
        assert_eq!(q.postcode_district.as_deref(), Some("SW1A"));
        assert_eq!(q.day, Some(Day::Tu));
        assert_eq!(q.start_time.as_deref(), Some("09:30:00"));
        assert_eq!(q.search.as_deref(), Some("stay and play"));
        assert_eq!(
            parse_service_query(&pairs(&[("minimum_age", "5"), ("maximum_age", "4")]), false)
                .unwrap_err()
                .parameter,
            "minimum_age"
        );
        assert_eq!(
            parse_term_query(&pairs(&[("top_only", "yes")])).unwrap_err().parameter,
            "top_only"
        );
        assert!(parse_term_query(&pairs(&[("top_only", "true")])).unwrap().top_only);
    }

    #[test]
    fn byday_reads_ical() {
        assert_eq!(
            Day::in_byday("MO,we, 1FR,-1SU,XX"),
            vec![Day::Mo, Day::We, Day::Fr, Day::Su]
        );
        assert_eq!(Day::parse("sat"), Some(Day::Sa));
    }

    #[test]
    fn a_feed_with_nulls_and_extras_parses_and_writes_no_nulls() {
        let s: Service = serde_json::from_str(
            r#"{"id":"ac148810-d857-441c-9679-408f346de14b","name":"Play","status":"active",
                "description":null,"minimum_age":0,"schedules":null,"x_local":true,
                "contacts":[{"id":"1e7efce3-639b-4880-940c-b95cd30cdb50","phones":[{"id":"p","number":"0100"}]}]}"#,
        )
        .unwrap();
        assert_eq!(s.minimum_age, Some(0.0));
        assert!(s.schedules.is_none());
        let out = serde_json::to_string(&s).unwrap();
        assert!(!out.contains("null"), "{out}");
    }

    #[test]
    fn derived_ids_are_stable_uuids() {
        let a = derived_uuid("ac148810-d857-441c-9679-408f346de14b", "phone");
        assert!(is_uuid(&a));
        assert_eq!(a, derived_uuid("ac148810-d857-441c-9679-408f346de14b", "phone"));
        assert_ne!(a, derived_uuid("ac148810-d857-441c-9679-408f346de14b", "address"));
        assert!(fixed_terms().all(|t| is_uuid(t.id) && is_uuid(t.taxonomy_id)));
    }

    proptest! {
        #[test]
        fn timestamps_round_trip(ms in 0i64..4_102_444_800_000) {
            prop_assert_eq!(parse_timestamp(&timestamp(ms)), Some(ms));
        }


        #[test]
        fn every_page_is_consistent(total in 0u64..500, per_page in 1u64..=100, page in 1u64..20) {
            let start = (page - 1) * per_page;
            let n = total.saturating_sub(start).min(per_page);
            let p = Page::new(vec![(); n as usize], total, Paging { page, per_page });
            prop_assert_eq!(p.total_pages * per_page >= total, true);
            prop_assert!(p.total_pages == 0 || (p.total_pages - 1) * per_page < total);
            prop_assert_eq!(p.empty, n == 0);
            prop_assert_eq!(p.last_page, page >= p.total_pages);
            prop_assert_eq!(p.first_page, page == 1);
            // Following pages until the last one visits every item once.
            if page <= p.total_pages { prop_assert!(n > 0); }
        }

        #[test]
        fn times_round_trip(h in 0u32..24, m in 0u32..60) {
            prop_assert_eq!(parse_time(&format!("{h:02}:{m:02}")), Some(format!("{h:02}:{m:02}:00")));
        }
    }
}
