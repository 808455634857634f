//! Pulling another directory's Open Referral UK 3.0 feed into a tenant's
//! directory (issue 8): `kindred import-oruk` and the "Pull now" button on
//! `/admin/directory/sources` both call [`pull`].
//!
//! Every page of `/services` is read (following `total_pages`); a listed
//! service whose `last_modified` is the one kept from the last pull is left
//! alone, any other is fetched in full from `/services/{id}` (unless the list
//! already carries its children) and upserted by (source, the feed's id), so
//! pulling again never duplicates. Its organisation, locations and taxonomy
//! terms are upserted the same way; Kindred's own fixed terms (delivery
//! modes, the family hub and Start for Life offers, SEND 19–25) become the
//! columns they stand for. A record that cannot be read or makes no sense is
//! skipped with its reason, and the rest land. A service the feed no longer
//! lists becomes inactive, never deleted — but only after a complete listing:
//! a pull that failed part-way deactivates nothing. The outcome is kept on
//! the source as JSON (`last_result`).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use kindred_domain::oruk::{self, Page, Service};
use kindred_store::Db;
use kindred_store::directory::{
    ContactData, CostData, DirectorySource, LanguageData, LocationData, OrganisationData, ScheduleData, ServiceData,
    TaxonomyData, TermData,
};
use serde::{Deserialize, Serialize};

/// At most this many pages are read from one feed (a feed that never ends is cut off).
const MAX_PAGES: u64 = 10_000;
/// Services asked for per page (feeds may give fewer).
const PER_PAGE: u64 = 100;

/// What a pull did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PullReport {
    pub pages: u64,
    pub listed: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deactivated: u64,
    pub skipped: Vec<Skipped>,
    /// Why the pull stopped early, if it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The feed's id for the service, when it had one.
    pub id: String,
    pub reason: String,
}

impl PullReport {
    /// One line for the command line and the admin page.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} page{}, {} service{} listed: {} new, {} updated, {} unchanged, {} made inactive, {} skipped",
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            self.listed,
            if self.listed == 1 { "" } else { "s" },
            self.created,
            self.updated,
            self.unchanged,
            self.deactivated,
            self.skipped.len()
        );
        if let Some(e) = &self.error {
            s.push_str(&format!("; stopped early: {e}"));
        }
        s
    }
}

/// The client a pull uses: no proxies, no cookies, a timeout per request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!(
            "kindred/",
            env!("CARGO_PKG_VERSION"),
            " (Open Referral UK pull)"
        ))
        .build()
        .expect("an HTTP client")
}

async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> Result<T, String> {
    let res = client.get(url).send().await.map_err(|e| format!("{url}: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("{url}: HTTP {}", res.status().as_u16()));
    }
    let bytes = res.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{url}: not the JSON expected ({e})"))
}

/// Pulls `source` into its tenant's directory and records the outcome on it.
pub async fn pull(db: &Db, source: &DirectorySource, client: &reqwest::Client) -> anyhow::Result<PullReport> {
    let base = source.base_url.trim().trim_end_matches('/').to_string();
    let known: HashMap<String, (i64, i64, String)> = db
        .oruk_imported_services(source.id)
        .await?
        .into_iter()
        .map(|r| (r.external_id, (r.id, r.last_modified_ms, r.status)))
        .collect();
    let mut report = PullReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut importer = Importer {
        db,
        source,
        terms: HashMap::new(),
        taxonomies: HashMap::new(),
    };
    let mut page = 1u64;
    let complete = loop {
        let url = format!("{base}/services?page={page}&per_page={PER_PAGE}");
        let listing: Page<serde_json::Value> = match get_json(client, &url).await {
            Ok(p) => p,
            Err(e) => {
                report.error = Some(e);
                break false;
            }
        };
        report.pages += 1;
        let empty = listing.contents.is_empty();
        for item in listing.contents {
            report.listed += 1;
            let id = item.get("id").and_then(|v| v.as_str()).unwrap_or("").trim().to_string();
            if id.is_empty() {
                report.skipped.push(Skipped {
                    id: String::new(),
                    reason: "a listed service has no id".into(),
                });
                continue;
            }
            if !seen.insert(id.clone()) {
                continue;
            }
            let listed: Service = match serde_json::from_value(item) {
                Ok(s) => s,
                Err(e) => {
                    report.skipped.push(Skipped {
                        id,
                        reason: format!("not an ORUK service: {e}"),
                    });
                    continue;
                }
            };
            let modified = listed.last_modified.as_deref().and_then(oruk::parse_timestamp);
            if let (Some(m), Some((_, kept, _))) = (modified, known.get(&id))
                && m == *kept
            {
                report.unchanged += 1;
                continue;
            }
            let full = if listed.service_at_locations.is_some() && listed.attributes.is_some() {
                listed
            } else {
                let url = format!("{base}/services/{}", urlencode(&id));
                match get_json::<Service>(client, &url).await {
                    Ok(s) => s,
                    Err(e) => {
                        report.skipped.push(Skipped { id, reason: e });
                        continue;
                    }
                }
            };
            match importer.service(&id, &full).await {
                Ok(()) if known.contains_key(&id) => report.updated += 1,
                Ok(()) => report.created += 1,
                Err(reason) => report.skipped.push(Skipped { id, reason }),
            }
        }
        if empty || listing.last_page || page >= listing.total_pages {
            break true;
        }
        if page >= MAX_PAGES {
            report.error = Some(format!("the feed has more than {MAX_PAGES} pages"));
            break false;
        }
        page += 1;
    };
    if complete {
        for (ext, (id, _, status)) in &known {
            if !seen.contains(ext) && status != "inactive" {
                db.oruk_deactivate_service(*id).await?;
                report.deactivated += 1;
            }
        }
    }
    db.record_source_pull(source.id, kindred_store::now_ms(), &serde_json::to_string(&report)?)
        .await?;
    Ok(report)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Importer<'a> {
    db: &'a Db,
    source: &'a DirectorySource,
    /// The feed's term id → ours, within this pull.
    terms: HashMap<String, i64>,
    /// The feed's taxonomy id (or name) → ours.
    taxonomies: HashMap<String, i64>,
}

fn text(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_string()
}

fn opt_text(s: &Option<String>) -> Option<String> {
    Some(text(s)).filter(|s| !s.is_empty())
}

fn age(a: Option<f64>, field: &str) -> Result<Option<i64>, String> {
    match a {
        None => Ok(None),
        Some(a) if a.is_finite() && (0.0..=150.0).contains(&a) => Ok(Some(a.round() as i64)),
        Some(a) => Err(format!("{field} {a} is not an age in years")),
    }
}

impl Importer<'_> {
    async fn service(&mut self, id: &str, s: &Service) -> Result<(), String> {
        let tenant_id = self.source.tenant_id;
        let name = s.name.trim();
        if name.is_empty() {
            return Err("the service has no name".into());
        }
        if s.id.trim() != id {
            return Err(format!("the full record's id {} is not the listed id", s.id.trim()));
        }
        let status = s.status.trim().to_ascii_lowercase();
        if !["active", "inactive", "defunct", "temporarily closed"].contains(&status.as_str()) {
            return Err(format!("status \u{201c}{}\u{201d} is not an ORUK status", s.status));
        }
        let minimum_age = age(s.minimum_age, "minimum_age")?;
        let maximum_age = age(s.maximum_age, "maximum_age")?;
        if let (Some(lo), Some(hi)) = (minimum_age, maximum_age)
            && lo > hi
        {
            return Err(format!("minimum_age {lo} is more than maximum_age {hi}"));
        }
        let db_err = |e: kindred_store::StoreError| format!("could not be stored: {e}");

        // The organisation: the feed's, or one standing for the feed itself.
        let organisation = match &s.organization {
            Some(o) if !o.id.trim().is_empty() && !o.name.trim().is_empty() => Some((o.id.trim().to_string(), o)),
            _ => None,
        };
        let org_id = match organisation {
            Some((ext, o)) => self
                .db
                .upsert_dir_organisation(
                    self.source.id,
                    &ext,
                    &OrganisationData {
                        tenant_id,
                        organisation_id: None,
                        name: o.name.trim().to_string(),
                        description: o.description.trim().to_string(),
                        email: opt_text(&o.email),
                        website: opt_text(&o.website),
                    },
                )
                .await
                .map_err(db_err)?,
            None => self
                .db
                .upsert_dir_organisation(
                    self.source.id,
                    &format!("kindred:source:{}", self.source.id),
                    &OrganisationData {
                        tenant_id,
                        name: self.source.name.clone(),
                        ..OrganisationData::default()
                    },
                )
                .await
                .map_err(db_err)?,
        };

        // Locations, by the feed's location id; schedules may name one through its service_at_location.
        let mut location_ids = vec![];
        let mut location_of_sal: HashMap<String, i64> = HashMap::new();
        for sal in s.service_at_locations.iter().flatten() {
            let Some(l) = &sal.location else { continue };
            if l.id.trim().is_empty() {
                continue;
            }
            let address = l.addresses.iter().flatten().next();
            let data = LocationData {
                tenant_id,
                name: opt_text(&l.name).unwrap_or_else(|| {
                    address
                        .map(|a| a.address_1.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .unwrap_or_else(|| "Location".into())
                }),
                description: text(&l.description),
                address_1: address
                    .map(|a| a.address_1.trim().to_string())
                    .filter(|a| !a.is_empty()),
                city: address.map(|a| a.city.trim().to_string()).filter(|a| !a.is_empty()),
                postcode: address
                    .and_then(|a| kindred_domain::Postcode::parse(&a.postal_code).ok())
                    .map(|p| p.as_str().to_string()),
                latitude: l.latitude.filter(|x| (-90.0..=90.0).contains(x)),
                longitude: l.longitude.filter(|x| (-180.0..=180.0).contains(x)),
                hub_site_id: None,
            };
            let lid = self
                .db
                .upsert_location(self.source.id, l.id.trim(), &data)
                .await
                .map_err(db_err)?;
            if !location_ids.contains(&lid) {
                location_ids.push(lid);
            }
            location_of_sal.insert(sal.id.trim().to_string(), lid);
        }

        let schedules = s
            .schedules
            .iter()
            .flatten()
            .map(|x| ScheduleData {
                location_id: x
                    .service_at_location_id
                    .as_deref()
                    .and_then(|id| location_of_sal.get(id.trim()).copied()),
                freq: match text(&x.freq).to_ascii_uppercase().as_str() {
                    "MONTHLY" => "MONTHLY".into(),
                    _ => "WEEKLY".into(),
                },
                byday: oruk::Day::in_byday(&text(&x.byday))
                    .iter()
                    .map(|d| d.code())
                    .collect::<Vec<_>>()
                    .join(","),
                opens_at: x
                    .opens_at
                    .as_deref()
                    .and_then(oruk::parse_time)
                    .map(|t| t[..5].to_string()),
                closes_at: x
                    .closes_at
                    .as_deref()
                    .and_then(oruk::parse_time)
                    .map(|t| t[..5].to_string()),
                description: text(&x.description),
                valid_from: x.valid_from.as_deref().and_then(date),
                valid_to: x.valid_to.as_deref().and_then(date),
            })
            .collect();
        let costs = s
            .cost_options
            .iter()
            .flatten()
            .map(|c| CostData {
                option: text(&c.option),
                amount: c
                    .amount
                    .filter(|a| a.is_finite() && *a >= 0.0 && *a < 1e9)
                    .map(|a| (a * 100.0).round() as i64),
                amount_description: text(&c.amount_description),
            })
            .collect();
        let languages = s
            .languages
            .iter()
            .flatten()
            .filter_map(|l| {
                let name = opt_text(&l.name).or_else(|| opt_text(&l.code))?;
                Some(LanguageData {
                    code: opt_text(&l.code).unwrap_or_else(|| name.to_ascii_lowercase()),
                    name,
                })
            })
            .collect();
        let contacts = s
            .contacts
            .iter()
            .flatten()
            .map(|c| ContactData {
                name: text(&c.name),
                title: text(&c.title),
                phone: c
                    .phones
                    .iter()
                    .flatten()
                    .map(|p| p.number.trim().to_string())
                    .find(|n| !n.is_empty()),
                email: opt_text(&c.email),
            })
            .collect();
        let mut areas: Vec<String> = vec![];
        for a in s.service_areas.iter().flatten() {
            for candidate in [&a.extent, &a.name, &a.service_area] {
                if let Some(d) = candidate
                    .as_deref()
                    .and_then(|c| kindred_domain::postcode::parse_area(c).ok())
                    .filter(|d| !d.contains(' '))
                {
                    if !areas.contains(&d) {
                        areas.push(d);
                    }
                    break;
                }
            }
        }

        // Attributes: Kindred's fixed terms become columns; any other term is kept as the feed's.
        let (mut modes, mut hub, mut sfl, mut send) = (vec![], false, false, false);
        let mut term_ids = vec![];
        for a in s.attributes.iter().flatten() {
            let Some(t) = &a.taxonomy_term else { continue };
            let tid = if t.id.trim().is_empty() {
                a.taxonomy_term_id.clone().unwrap_or_default()
            } else {
                t.id.clone()
            };
            if let Some(fixed) = oruk::fixed_term(tid.trim()) {
                match fixed.code {
                    "family_hub_offer" => hub = true,
                    "start_for_life" => sfl = true,
                    "send_19_25" => send = true,
                    code => {
                        if !modes.iter().any(|m: &String| m == code) {
                            modes.push(code.to_string());
                        }
                    }
                }
                continue;
            }
            if tid.trim().is_empty() || t.name.trim().is_empty() {
                continue;
            }
            let id = self.term(tid.trim(), t).await.map_err(db_err)?;
            if !term_ids.contains(&id) {
                term_ids.push(id);
            }
        }

        let data = ServiceData {
            tenant_id,
            dir_organisation_id: org_id,
            name: name.to_string(),
            description: text(&s.description),
            url: opt_text(&s.url),
            email: opt_text(&s.email),
            status,
            fees_description: opt_text(&s.fees),
            minimum_age,
            maximum_age,
            send_up_to_25: send,
            family_hub_offer: hub,
            start_for_life: sfl,
            connect_organisation_id: None,
            location_ids,
            schedules,
            costs,
            languages,
            contacts,
            modes,
            areas,
            term_ids,
            last_modified_ms: s.last_modified.as_deref().and_then(oruk::parse_timestamp),
        };
        self.db
            .upsert_service(self.source.id, id, &data)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The feed's term, kept under the feed's taxonomy (or one standing for the feed).
    async fn term(&mut self, ext: &str, t: &oruk::TaxonomyTerm) -> kindred_store::Result<i64> {
        if let Some(id) = self.terms.get(ext) {
            return Ok(*id);
        }
        let tax_key = t
            .taxonomy_id
            .clone()
            .or_else(|| t.taxonomy.clone())
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| format!("kindred:source:{}", self.source.id));
        let taxonomy_id = match self.taxonomies.get(&tax_key) {
            Some(id) => *id,
            None => {
                let name = t
                    .taxonomy
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("{} terms", self.source.name));
                let id = self
                    .db
                    .upsert_taxonomy(
                        self.source.id,
                        &tax_key,
                        &TaxonomyData {
                            tenant_id: Some(self.source.tenant_id),
                            name,
                            description: String::new(),
                            uri: None,
                            version: None,
                        },
                    )
                    .await?;
                self.taxonomies.insert(tax_key, id);
                id
            }
        };
        let id = self
            .db
            .upsert_term(
                self.source.id,
                ext,
                &TermData {
                    taxonomy_id,
                    parent_id: None,
                    // The feed's id keeps codes unique within the taxonomy.
                    code: ext.to_string(),
                    name: t.name.trim().to_string(),
                    description: t.description.trim().to_string(),
                },
            )
            .await?;
        self.terms.insert(ext.to_string(), id);
        Ok(id)
    }
}

fn date(s: &str) -> Option<time::Date> {
    time::Date::parse(
        s.trim().get(..10)?,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}
