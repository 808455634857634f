//! The Open Referral UK 3.0 API at `/openreferral` and the ORUK pull, over
//! real HTTP, on SQLite and on PostgreSQL when `KINDRED_TEST_DATABASE_URL`
//! is set.
//!
//! Every response is checked against the profile's schemas, copied into
//! `tests/standards/oruk` (see its SOURCE): the compiled JSON Schemas
//! (2020-12) for services and services at locations, the uncompiled ones for
//! taxonomies and terms, each list inside the profile's paging envelope, with
//! formats (uuid, date-time, email, uri) checked. The harness proves itself
//! on the profile's own examples first, and on a broken one.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use kindred_store::Db;
use kindred_store::directory::{
    ContactData, CostData, LanguageData, LocationData, OrganisationData, ScheduleData, ServiceData, TaxonomyData,
    TermData,
};
use kindred_store::testing;
use serde_json::{Value, json};

use crate::{TestApp, spawn_with};

// ---------------------------------------------------------------------------
// The schema harness.

fn standard(path: &str) -> Value {
    let full = format!("{}/tests/standards/oruk/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}")))
        .unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Info,
    ServiceList,
    Service,
    SalList,
    Sal,
    TaxonomyList,
    Taxonomy,
    TermList,
    Term,
}

const KINDS: [Kind; 9] = [
    Kind::Info,
    Kind::ServiceList,
    Kind::Service,
    Kind::SalList,
    Kind::Sal,
    Kind::TaxonomyList,
    Kind::Taxonomy,
    Kind::TermList,
    Kind::Term,
];

/// The profile's paging envelope (`components.schemas.Page` of its openapi.json),
/// every field required, around items of `item`.
fn page_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"],
        "properties": {
            "total_items": {"type": "integer"},
            "total_pages": {"type": "integer"},
            "page_number": {"type": "integer"},
            "size": {"type": "integer"},
            "first_page": {"type": "boolean"},
            "last_page": {"type": "boolean"},
            "empty": {"type": "boolean"},
            "contents": {"type": "array", "items": item}
        }
    })
}

fn schema(kind: Kind) -> Value {
    let term = standard("taxonomy_term.json");
    let taxonomy = || {
        let mut t = standard("taxonomy.json");
        // Its one `$ref` is to taxonomy_term.json, inlined here.
        t["properties"]["taxonomy_terms"]["items"] = term.clone();
        t
    };
    match kind {
        // The `/` response schema of the profile's openapi.json.
        Kind::Info => json!({
            "type": "object",
            "required": ["version"],
            "properties": {
                "version": {"type": "string"},
                "profile": {"type": "string", "format": "uri"},
                "openapi_url": {"type": "string", "format": "uri"}
            }
        }),
        Kind::ServiceList => page_of(standard("compiled/service_list.json")),
        Kind::Service => standard("compiled/service.json"),
        Kind::SalList => page_of(standard("compiled/service_at_location_list.json")),
        // The openapi.json names compiled/service.json for this endpoint, plainly
        // a slip: the profile's example of it is a service_at_location.
        Kind::Sal => standard("compiled/service_at_location.json"),
        Kind::TaxonomyList => page_of(taxonomy()),
        Kind::Taxonomy => taxonomy(),
        Kind::TermList => page_of(term.clone()),
        Kind::Term => term,
    }
}

fn validator(kind: Kind) -> &'static jsonschema::Validator {
    static V: OnceLock<Vec<(Kind, jsonschema::Validator)>> = OnceLock::new();
    let all = V.get_or_init(|| {
        KINDS
            .iter()
            .map(|k| {
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&schema(*k))
                    .unwrap_or_else(|e| panic!("schema {k:?}: {e}"));
                (*k, v)
            })
            .collect()
    });
    &all.iter().find(|(k, _)| *k == kind).unwrap().1
}

#[track_caller]
fn assert_valid(kind: Kind, v: &Value, what: &str) {
    let errors: Vec<String> = validator(kind)
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} is not a valid {kind:?}: {errors:#?}\n{v:#}");
}

#[test]
fn the_harness_accepts_the_profiles_examples_and_refuses_a_broken_one() {
    for (kind, file) in [
        (Kind::ServiceList, "examples/service_list.json"),
        (Kind::Service, "examples/service_full.json"),
        (Kind::SalList, "examples/service_at_location_list.json"),
        (Kind::Sal, "examples/service_at_location_full.json"),
        (Kind::TaxonomyList, "examples/taxonomy_list.json"),
        (Kind::Taxonomy, "examples/taxonomy.json"),
        (Kind::TermList, "examples/taxonomy_term_list.json"),
        (Kind::Term, "examples/taxonomy_term.json"),
    ] {
        assert_valid(kind, &standard(file), file);
    }
    let mut broken = standard("examples/service_full.json");
    broken["status"] = json!("open");
    broken["id"] = json!("not-a-uuid");
    broken["schedules"][0]["id"] = json!(7);
    broken.as_object_mut().unwrap().remove("name");
    let errors = validator(Kind::Service).iter_errors(&broken).count();
    assert!(errors >= 4, "{errors} errors");
    let mut page = standard("examples/service_list.json");
    page.as_object_mut().unwrap().remove("total_pages");
    assert!(!validator(Kind::ServiceList).is_valid(&page));
}

// ---------------------------------------------------------------------------
// A directory to publish.

struct Seeded {
    tenant: i64,
    /// Every service's UUID, in the order made.
    services: Vec<String>,
    /// The stored taxonomy and its terms (parent first, then its child).
    taxonomy: String,
    parent_term: String,
    child_term: String,
}

/// `n` services of one organisation at two locations. Service `i`:
/// ages `i % 5` to `i % 5 + 10`; runs on Monday (even `i`) or Saturday (odd),
/// opening at 09:00 (i.is_multiple_of(3)) or 13:30; in person, and online when `i.is_multiple_of(4)`;
/// the family hub offer when `i.is_multiple_of(2)`; the stored child term when `i.is_multiple_of(3)`;
/// serving SW1A (`i.is_multiple_of(5)`), W2 (`i % 5 == 1`) or anywhere. Its name is
/// "Service i", "Stay and play i" for `i.is_multiple_of(7)`. Service 1 is inactive.
async fn directory(db: &Db, tenant_code: &str, n: usize) -> Seeded {
    let tenant = db.tenant_by_code(tenant_code).await.unwrap().id;
    let org = db
        .create_dir_organisation(&OrganisationData {
            tenant_id: tenant,
            organisation_id: None,
            name: format!("{tenant_code} Family Hub Partnership"),
            description: "The family hubs of the borough.".into(),
            email: Some("hubs@example.org".into()),
            website: Some("https://example.org/hubs".into()),
        })
        .await
        .unwrap();
    let mut locations = vec![];
    for (name, pc) in [("North Family Hub", "SW1A 1AA"), ("South Family Hub", "W2 5LA")] {
        locations.push(
            db.create_location(&LocationData {
                tenant_id: tenant,
                name: name.into(),
                description: "A family hub.".into(),
                address_1: Some("1 High Street".into()),
                city: Some("London".into()),
                postcode: Some(pc.into()),
                latitude: Some(51.5),
                longitude: Some(-0.14),
                hub_site_id: None,
            })
            .await
            .unwrap(),
        );
    }
    let taxonomy = db
        .create_taxonomy(&TaxonomyData {
            tenant_id: Some(tenant),
            name: "Family needs".into(),
            description: "What families need help with.".into(),
            uri: Some("https://example.org/needs".into()),
            version: Some("1".into()),
        })
        .await
        .unwrap();
    let parent = db
        .create_term(&TermData {
            taxonomy_id: taxonomy,
            parent_id: None,
            code: "parenting".into(),
            name: "Parenting".into(),
            description: "Help with being a parent.".into(),
        })
        .await
        .unwrap();
    let child = db
        .create_term(&TermData {
            taxonomy_id: taxonomy,
            parent_id: Some(parent),
            code: "infant_feeding".into(),
            name: "Infant feeding".into(),
            description: "Help with feeding a baby.".into(),
        })
        .await
        .unwrap();
    let mut services = vec![];
    for i in 0..n {
        let (_, uuid) = db
            .create_service(&service_data(tenant, org, &locations, child, i))
            .await
            .unwrap();
        services.push(uuid);
    }
    let uuid_of_taxonomy = db.taxonomy(taxonomy).await.unwrap().unwrap().uuid;
    let terms = db.taxonomy_terms_page(Some(taxonomy), 1, 100).await.unwrap().1;
    let term_uuid = |id: i64| terms.iter().find(|t| t.id == id).unwrap().uuid.clone();
    Seeded {
        tenant,
        services,
        taxonomy: uuid_of_taxonomy,
        parent_term: term_uuid(parent),
        child_term: term_uuid(child),
    }
}

fn service_data(tenant: i64, org: i64, locations: &[i64], term: i64, i: usize) -> ServiceData {
    let min = (i % 5) as i64;
    ServiceData {
        tenant_id: tenant,
        dir_organisation_id: org,
        name: if i.is_multiple_of(7) {
            format!("Stay and play {i}")
        } else {
            format!("Service {i}")
        },
        description: format!("Sessions for families, number {i}."),
        url: Some(format!("https://example.org/services/{i}")),
        email: Some("hello@example.org".into()),
        status: if i == 1 { "inactive".into() } else { "active".into() },
        fees_description: Some("Free".into()),
        minimum_age: Some(min),
        maximum_age: Some(min + 10),
        send_up_to_25: i.is_multiple_of(6),
        family_hub_offer: i.is_multiple_of(2),
        start_for_life: i.is_multiple_of(10),
        connect_organisation_id: None,
        location_ids: locations.get(i % 2).copied().into_iter().collect(),
        schedules: vec![ScheduleData {
            location_id: locations.get(i % 2).copied(),
            freq: "WEEKLY".into(),
            byday: if i.is_multiple_of(2) { "MO".into() } else { "SA".into() },
            opens_at: Some(if i.is_multiple_of(3) {
                "09:00".into()
            } else {
                "13:30".into()
            }),
            closes_at: Some(if i.is_multiple_of(3) {
                "11:00".into()
            } else {
                "15:00".into()
            }),
            description: "Term time.".into(),
            valid_from: None,
            valid_to: None,
        }],
        costs: vec![CostData {
            option: "Per session".into(),
            amount: Some(250),
            amount_description: "£2.50 a session".into(),
        }],
        languages: vec![LanguageData {
            name: "English".into(),
            code: "en".into(),
        }],
        contacts: vec![ContactData {
            name: "Reception".into(),
            title: "Hub reception".into(),
            phone: Some("020 7946 0000".into()),
            email: Some("reception@example.org".into()),
        }],
        modes: if i.is_multiple_of(4) {
            vec!["in_person".into(), "online".into()]
        } else {
            vec!["in_person".into()]
        },
        areas: match i % 5 {
            0 => vec!["SW1A".into()],
            1 => vec!["W2".into()],
            _ => vec![],
        },
        term_ids: if i.is_multiple_of(3) { vec![term] } else { vec![] },
        last_modified_ms: None,
    }
}

// ---------------------------------------------------------------------------
// Helpers.

struct Got {
    status: u16,
    cors: Option<String>,
    content_type: String,
    body: Value,
}

async fn get(app: &TestApp, path: &str) -> Got {
    let res = reqwest::Client::new().get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let header = |n: &str| res.headers().get(n).map(|v| v.to_str().unwrap().to_string());
    let cors = header("access-control-allow-origin");
    let content_type = header("content-type").unwrap_or_default();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} gave {status}, not JSON ({e}): {text}"));
    Got {
        status,
        cors,
        content_type,
        body,
    }
}

/// GETs `path`, checks 200, CORS and the schema, and gives the body.
async fn ok(app: &TestApp, path: &str, kind: Kind) -> Value {
    let g = get(app, path).await;
    assert_eq!(g.status, 200, "{path}: {}", g.body);
    assert_eq!(g.cors.as_deref(), Some("*"), "{path}: CORS");
    assert!(
        g.content_type.starts_with("application/json"),
        "{path}: {}",
        g.content_type
    );
    assert_valid(kind, &g.body, path);
    g.body
}

fn ids(page: &Value) -> Vec<String> {
    page["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every service id a filter lists (pages of 100 are plenty here).
async fn listed(app: &TestApp, query: &str) -> BTreeSet<String> {
    let page = ok(
        app,
        &format!("/openreferral/services?per_page=100&{query}"),
        Kind::ServiceList,
    )
    .await;
    assert_eq!(
        page["total_items"].as_u64().unwrap() as usize,
        ids(&page).len(),
        "{query}"
    );
    ids(&page).into_iter().collect()
}

fn expected(seed: &Seeded, keep: impl Fn(usize) -> bool) -> BTreeSet<String> {
    seed.services
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1 && keep(*i))
        .map(|(_, u)| u.clone())
        .collect()
}

// ---------------------------------------------------------------------------
// The API.

#[tokio::test]
async fn every_endpoint_answers_valid_oruk_empty_paged_and_full() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;

        // A fresh directory: valid, empty lists (Kindred's fixed vocabularies apart).
        let info = ok(&app, "/openreferral", Kind::Info).await;
        assert_eq!(info["version"], "3.0");
        ok(&app, "/openreferral/", Kind::Info).await;
        let empty = ok(&app, "/openreferral/services", Kind::ServiceList).await;
        assert_eq!(
            (
                &empty["total_items"],
                &empty["total_pages"],
                &empty["empty"],
                &empty["first_page"],
                &empty["last_page"]
            ),
            (&json!(0), &json!(0), &json!(true), &json!(true), &json!(true))
        );
        let empty = ok(&app, "/openreferral/service_at_locations", Kind::SalList).await;
        assert_eq!(empty["size"], 0);
        // Kindred's two fixed taxonomies come first, then the stored (the needs taxonomy every database has).
        let fixed = ok(&app, "/openreferral/taxonomies", Kind::TaxonomyList).await;
        let taxonomies = fixed["total_items"].as_u64().unwrap();
        assert!(taxonomies >= 2);
        assert_eq!(fixed["contents"][0]["id"], kindred_domain::oruk::DELIVERY_TAXONOMY_ID);
        assert_eq!(fixed["contents"][1]["id"], kindred_domain::oruk::OFFER_TAXONOMY_ID);
        let fixed = ok(&app, "/openreferral/taxonomy_terms?per_page=100", Kind::TermList).await;
        let terms = fixed["total_items"].as_u64().unwrap();
        assert!(terms >= 7);
        assert_eq!(
            fixed["contents"][6]["id"],
            kindred_domain::oruk::OFFER_TAXONOMY.terms[2].id
        );

        // 23 services, one inactive: 22 listed, in pages of 10.
        let seed = directory(&app.db, "west", 23).await;
        let mut seen = vec![];
        for (page, size, last) in [(1, 10, false), (2, 10, false), (3, 2, true)] {
            let p = ok(
                &app,
                &format!("/openreferral/services?page={page}&per_page=10"),
                Kind::ServiceList,
            )
            .await;
            assert_eq!(
                (&p["total_items"], &p["total_pages"], &p["page_number"], &p["size"]),
                (&json!(22), &json!(3), &json!(page), &json!(size))
            );
            assert_eq!(
                (p["first_page"].as_bool(), p["last_page"].as_bool()),
                (Some(page == 1), Some(last))
            );
            assert!(
                p["contents"][0].get("schedules").is_none(),
                "a list's items carry one-to-one fields"
            );
            assert!(p["contents"][0]["organization"]["name"].is_string());
            seen.extend(ids(&p));
        }
        let beyond = ok(&app, "/openreferral/services?page=4&per_page=10", Kind::ServiceList).await;
        assert_eq!(
            (&beyond["size"], &beyond["empty"], &beyond["last_page"]),
            (&json!(0), &json!(true), &json!(true))
        );
        let all: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), all.len(), "no service on two pages");
        assert_eq!(
            all,
            expected(&seed, |_| true),
            "every active service once, the inactive one never"
        );
        let default = ok(&app, "/openreferral/services", Kind::ServiceList).await;
        assert_eq!(default["size"], 22, "50 to a page unless asked");

        // Each service in full.
        for (i, uuid) in seed.services.iter().enumerate() {
            let s = ok(&app, &format!("/openreferral/services/{uuid}"), Kind::Service).await;
            assert_eq!(s["id"], uuid.as_str());
            assert_eq!(
                s["status"],
                if i == 1 { "inactive" } else { "active" },
                "by id, any status"
            );
            assert_eq!(s["minimum_age"], json!((i % 5) as f64));
            assert_eq!(
                s["schedules"][0]["byday"],
                if i.is_multiple_of(2) { "MO" } else { "SA" }
            );
            assert_eq!(s["cost_options"][0]["amount"], json!(2.5));
            assert_eq!(s["contacts"][0]["phones"][0]["number"], "020 7946 0000");
            assert_eq!(
                s["service_at_locations"][0]["location"]["addresses"][0]["country"],
                "GB"
            );
            let terms: Vec<&str> = s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["taxonomy_term"]["name"].as_str().unwrap())
                .collect();
            assert!(terms.contains(&"In person"));
            assert_eq!(terms.contains(&"Online"), i.is_multiple_of(4), "{terms:?}");
            assert_eq!(terms.contains(&"Family hub offer"), i.is_multiple_of(2), "{terms:?}");
            assert_eq!(terms.contains(&"Infant feeding"), i.is_multiple_of(3), "{terms:?}");
        }

        // Services at locations: 22, each with its location and service.
        let sals = ok(&app, "/openreferral/service_at_locations?per_page=100", Kind::SalList).await;
        assert_eq!(sals["total_items"], 22);
        let first = sals["contents"][0]["id"].as_str().unwrap().to_string();
        let sal = ok(&app, &format!("/openreferral/service_at_locations/{first}"), Kind::Sal).await;
        assert_eq!(sal["location"]["id"], sals["contents"][0]["location"]["id"]);
        assert!(sal["service"]["schedules"].is_array());

        // Taxonomies and terms: Kindred's fixed ones first, then the stored.
        let tx = ok(
            &app,
            &format!("/openreferral/taxonomies?per_page=1&page={}", taxonomies + 1),
            Kind::TaxonomyList,
        )
        .await;
        assert_eq!(
            (&tx["total_items"], &tx["contents"][0]["id"], &tx["last_page"]),
            (&json!(taxonomies + 1), &json!(seed.taxonomy), &json!(true))
        );
        let t = ok(
            &app,
            &format!("/openreferral/taxonomies/{}", seed.taxonomy),
            Kind::Taxonomy,
        )
        .await;
        assert_eq!(t["taxonomy_terms"].as_array().unwrap().len(), 2);
        let t = ok(
            &app,
            &format!(
                "/openreferral/taxonomies/{}",
                kindred_domain::oruk::DELIVERY_TAXONOMY_ID
            ),
            Kind::Taxonomy,
        )
        .await;
        assert_eq!(t["taxonomy_terms"].as_array().unwrap().len(), 4);
        let page = ok(&app, "/openreferral/taxonomy_terms?per_page=4&page=2", Kind::TermList).await;
        assert_eq!((&page["total_items"], &page["size"]), (&json!(terms + 2), &json!(4)));
        let fixed_ids: Vec<&str> = kindred_domain::oruk::fixed_terms().map(|t| t.id).collect();
        for (i, want_fixed) in [(0, true), (1, true), (2, true), (3, false)] {
            let id = page["contents"][i]["id"].as_str().unwrap();
            assert_eq!(fixed_ids.contains(&id), want_fixed, "fixed terms 5–7, then the stored");
        }
        let by_tax = ok(
            &app,
            &format!("/openreferral/taxonomy_terms?taxonomy_id={}", seed.taxonomy),
            Kind::TermList,
        )
        .await;
        assert_eq!(by_tax["total_items"], 2);
        let children = ok(
            &app,
            &format!("/openreferral/taxonomy_terms?parent_id={}", seed.parent_term),
            Kind::TermList,
        )
        .await;
        assert_eq!(ids(&children), vec![seed.child_term.clone()]);
        let top = ok(
            &app,
            "/openreferral/taxonomy_terms?top_only=true&per_page=100",
            Kind::TermList,
        )
        .await;
        assert!(ids(&top).contains(&seed.parent_term) && !ids(&top).contains(&seed.child_term));
        let term = ok(
            &app,
            &format!("/openreferral/taxonomy_terms/{}", seed.child_term),
            Kind::Term,
        )
        .await;
        assert_eq!(term["parent_id"], seed.parent_term.as_str());
        ok(
            &app,
            "/openreferral/taxonomy_terms/90537ed4-3131-4d0f-8892-f351529471a4",
            Kind::Term,
        )
        .await;
        assert!(seed.tenant > 0);
    }
}

#[tokio::test]
async fn filters_narrow_to_exactly_the_services_that_match() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        let seed = directory(&app.db, "west", 23).await;
        let d = kindred_domain::oruk::DELIVERY_TAXONOMY.terms;
        let o = kindred_domain::oruk::OFFER_TAXONOMY.terms;
        let cases: Vec<(String, BTreeSet<String>)> = vec![
            ("search=stay+PLAY".into(), expected(&seed, |i| i.is_multiple_of(7))),
            ("search=sessions+number+12".into(), expected(&seed, |i| i == 12)),
            ("search=hub+partnership".into(), expected(&seed, |_| true)),
            (
                format!("taxonomy_term_id={}", seed.child_term),
                expected(&seed, |i| i.is_multiple_of(3)),
            ),
            (format!("taxonomy_term_id={}", seed.parent_term), BTreeSet::new()),
            (
                format!("taxonomy_id={}", seed.taxonomy),
                expected(&seed, |i| i.is_multiple_of(3)),
            ),
            (
                format!("taxonomy_term_id={}", d[1].id),
                expected(&seed, |i| i.is_multiple_of(4)),
            ),
            (
                format!("taxonomy_term_id={}", o[0].id),
                expected(&seed, |i| i.is_multiple_of(2)),
            ),
            (
                format!("taxonomy_term_id={}", o[1].id),
                expected(&seed, |i| i.is_multiple_of(10)),
            ),
            (
                format!("taxonomy_id={}", kindred_domain::oruk::OFFER_TAXONOMY_ID),
                expected(&seed, |i| {
                    i.is_multiple_of(2) || i.is_multiple_of(6) || i.is_multiple_of(10)
                }),
            ),
            ("minimum_age=3".into(), expected(&seed, |i| i % 5 >= 3)),
            ("maximum_age=11".into(), expected(&seed, |i| i % 5 + 10 <= 11)),
            (
                "minimum_age=1&maximum_age=12".into(),
                expected(&seed, |i| (1..=2).contains(&(i % 5))),
            ),
            ("day=MO".into(), expected(&seed, |i| i.is_multiple_of(2))),
            ("day=saturday".into(), expected(&seed, |i| i % 2 == 1)),
            ("start_time=12:00".into(), expected(&seed, |i| i % 3 != 0)),
            ("end_time=11:00".into(), expected(&seed, |i| i.is_multiple_of(3))),
            (
                "day=MO&start_time=09:00&end_time=11:00&search=stay".into(),
                expected(&seed, |i| {
                    i.is_multiple_of(2) && i.is_multiple_of(3) && i.is_multiple_of(7)
                }),
            ),
        ];
        for (query, want) in cases {
            assert_eq!(listed(&app, &query).await, want, "{query}");
        }
        // Postcode on /service_at_locations: services whose areas include the district, or with none.
        let not_w2: fn(usize) -> bool = |i| i % 5 != 1;
        let not_sw1a: fn(usize) -> bool = |i| i % 5 != 0;
        for (pc, keep) in [("SW1A 2AA", not_w2), ("w2", not_sw1a)] {
            let page = ok(
                &app,
                &format!("/openreferral/service_at_locations?per_page=100&postcode={pc}"),
                Kind::SalList,
            )
            .await;
            let got: BTreeSet<String> = page["contents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["service_id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, expected(&seed, keep), "{pc}");
        }
    }
}

#[tokio::test]
async fn bad_parameters_and_unknown_ids_are_json_with_cors() {
    let app = spawn_with(testing::fresh_sqlite().await, kindred_web::Config::default()).await;
    let seed = directory(&app.db, "west", 3).await;
    for (path, parameter) in [
        ("/openreferral/services?per_page=101", "per_page"),
        ("/openreferral/services?page=0", "page"),
        ("/openreferral/services?page=last", "page"),
        ("/openreferral/services?day=someday", "day"),
        ("/openreferral/services?taxonomy_term_id=parenting", "taxonomy_term_id"),
        ("/openreferral/services?minimum_age=old", "minimum_age"),
        ("/openreferral/services?start_time=9am", "start_time"),
        ("/openreferral/service_at_locations?postcode=nowhere", "postcode"),
        (
            "/openreferral/service_at_locations?postcode=SW1A+1AA&proximity=1000",
            "proximity",
        ),
        ("/openreferral/taxonomies?per_page=1000", "per_page"),
        ("/openreferral/taxonomy_terms?top_only=maybe", "top_only"),
    ] {
        let g = get(&app, path).await;
        assert_eq!(g.status, 400, "{path}");
        assert_eq!(g.cors.as_deref(), Some("*"), "{path}");
        assert_eq!(g.body["parameter"], parameter, "{path}");
        assert!(
            g.body["message"].as_str().unwrap().contains(parameter),
            "{path}: {}",
            g.body
        );
    }
    let unknown = "0e4b2f6a-9a55-4c37-8a6e-1a2b3c4d5e6f";
    for path in [
        format!("/openreferral/services/{unknown}"),
        "/openreferral/services/42".to_string(),
        format!("/openreferral/service_at_locations/{unknown}"),
        format!("/openreferral/taxonomies/{unknown}"),
        format!("/openreferral/taxonomy_terms/{unknown}"),
        "/openreferral/organizations".to_string(),
        // A term's id is not a service's.
        format!("/openreferral/services/{}", seed.child_term),
    ] {
        let g = get(&app, &path).await;
        assert_eq!(g.status, 404, "{path}");
        assert_eq!(g.cors.as_deref(), Some("*"), "{path}");
        assert_eq!(g.body["status"], 404, "{path}");
    }
    // Unknown parameters are ignored; upper-case ids are found.
    let upper = seed.services[0].to_uppercase();
    ok(&app, &format!("/openreferral/services/{upper}?cache=1"), Kind::Service).await;
}

// ---------------------------------------------------------------------------
// The pull, against our own server on loopback.

/// A service B pulled, read back from B's store.
struct Copy {
    service: kindred_store::directory::ServiceRow,
    modes: Vec<String>,
    areas: Vec<String>,
    schedules: Vec<kindred_store::openreferral::OrSchedule>,
    costs: Vec<kindred_store::openreferral::OrCost>,
    contacts: Vec<kindred_store::openreferral::OrContact>,
    locations: usize,
    terms: Vec<String>,
}

async fn imported(db: &Db, source: i64) -> Vec<Copy> {
    let rows = db.oruk_imported_services(source).await.unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut ch = db.oruk_children(&ids).await.unwrap();
    let mut out = vec![];
    for id in ids {
        let mut modes = ch.modes.remove(&id).unwrap_or_default();
        modes.sort();
        out.push(Copy {
            service: db.directory_service(id).await.unwrap().unwrap(),
            modes,
            areas: ch
                .areas
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.area)
                .collect(),
            schedules: ch.schedules.remove(&id).unwrap_or_default(),
            costs: ch.costs.remove(&id).unwrap_or_default(),
            contacts: ch.contacts.remove(&id).unwrap_or_default(),
            locations: ch.locations.remove(&id).unwrap_or_default().len(),
            terms: ch
                .terms
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.name)
                .collect(),
        });
    }
    out
}

#[tokio::test]
async fn a_pull_copies_every_page_then_only_what_changed_and_never_duplicates() {
    let dbs = testing::fresh_databases().await;
    let mut pairs = vec![];
    for db in dbs {
        let b = match db.backend() {
            kindred_store::Backend::Sqlite => testing::fresh_sqlite().await,
            kindred_store::Backend::Postgres => testing::fresh_postgres().await.unwrap(),
        };
        pairs.push((db, b));
    }
    for (a_db, b_db) in pairs {
        let a = spawn_with(a_db, kindred_web::Config::default()).await;
        let b = spawn_with(b_db, kindred_web::Config::default()).await;
        // 150 services: two pages of the pull's 100.
        let seed = directory(&a.db, "west", 150).await;
        // One of A's services makes no sense (older minimum than maximum): published, then refused by B.
        let bad_org = a.db.dir_organisations(seed.tenant).await.unwrap()[0].id;
        let mut bad = service_data(seed.tenant, bad_org, &[], 0, 2);
        bad.name = "Backwards ages".into();
        bad.minimum_age = Some(12);
        bad.maximum_age = Some(3);
        let (_, bad_uuid) = a.db.create_service(&bad).await.unwrap();

        let tenant = b.db.tenant_by_code("west").await.unwrap().id;
        let base = format!("{}/openreferral", a.addr);
        let source_id =
            b.db.upsert_directory_source(tenant, "West directory", &base)
                .await
                .unwrap();
        let source = b.db.directory_source(source_id).await.unwrap().unwrap();
        let client = kindred_web::oruk_pull::client();

        let r = kindred_web::oruk_pull::pull(&b.db, &source, &client).await.unwrap();
        assert_eq!(
            (r.pages, r.listed, r.created, r.updated, r.unchanged),
            (2, 150, 149, 0, 0),
            "{r:?}"
        );
        assert_eq!(r.skipped.len(), 1, "{r:?}");
        assert_eq!(r.skipped[0].id, bad_uuid);
        assert!(
            r.skipped[0]
                .reason
                .contains("minimum_age 12 is more than maximum_age 3"),
            "{r:?}"
        );
        assert!(r.error.is_none());

        // B holds A's active services, field for field.
        let copies = imported(&b.db, source_id).await;
        assert_eq!(copies.len(), 149);
        for (i, uuid) in seed.services.iter().enumerate() {
            let copy = copies
                .iter()
                .find(|c| c.service.external_id.as_deref() == Some(uuid.as_str()));
            if i == 1 {
                assert!(copy.is_none(), "the inactive service is not listed, so not pulled");
                continue;
            }
            let c = copy.unwrap_or_else(|| panic!("service {i} was not pulled"));
            let want = service_data(seed.tenant, 0, &[], 0, i);
            assert_eq!(c.service.name, want.name);
            assert_eq!(c.service.tenant_id, tenant);
            assert_eq!(
                (c.service.minimum_age, c.service.maximum_age),
                (want.minimum_age, want.maximum_age)
            );
            assert_eq!(
                (
                    c.service.family_hub_offer,
                    c.service.start_for_life,
                    c.service.send_up_to_25
                ),
                (want.family_hub_offer, want.start_for_life, want.send_up_to_25)
            );
            assert_eq!(c.modes, want.modes);
            assert_eq!(c.areas, want.areas);
            assert_eq!(c.schedules[0].byday, want.schedules[0].byday);
            assert_eq!(c.schedules[0].opens_at, want.schedules[0].opens_at);
            assert_eq!(c.costs[0].amount, Some(250));
            assert_eq!(c.contacts[0].phone.as_deref(), Some("020 7946 0000"));
            assert_eq!(c.locations, 1);
            assert_eq!(c.service.organisation_name, "west Family Hub Partnership");
            assert_eq!(c.terms.contains(&"Infant feeding".to_string()), i.is_multiple_of(3));
        }
        // What B pulled is A's to publish, not B's.
        let published = ok(&b, "/openreferral/services", Kind::ServiceList).await;
        assert_eq!(published["total_items"], 0);

        // Again: nothing changed, nothing fetched in full, nothing duplicated.
        let r = kindred_web::oruk_pull::pull(&b.db, &source, &client).await.unwrap();
        assert_eq!(
            (r.created, r.updated, r.unchanged, r.deactivated),
            (0, 0, 149, 0),
            "{r:?}"
        );
        assert_eq!(imported(&b.db, source_id).await.len(), 149);

        // A changes one service and closes another: B follows.
        let changed =
            a.db.directory_service_by_uuid(&seed.services[4])
                .await
                .unwrap()
                .unwrap();
        let mut d = service_data(seed.tenant, changed.dir_organisation_id, &[], 0, 4);
        d.name = "Baby massage".into();
        a.db.update_service(changed.id, &d).await.unwrap();
        let closed =
            a.db.directory_service_by_uuid(&seed.services[5])
                .await
                .unwrap()
                .unwrap();
        let mut d = service_data(seed.tenant, closed.dir_organisation_id, &[], 0, 5);
        d.status = "inactive".into();
        a.db.update_service(closed.id, &d).await.unwrap();
        let r = kindred_web::oruk_pull::pull(&b.db, &source, &client).await.unwrap();
        assert_eq!(
            (r.created, r.updated, r.unchanged, r.deactivated),
            (0, 1, 147, 1),
            "{r:?}"
        );
        let copies = imported(&b.db, source_id).await;
        assert_eq!(copies.len(), 149, "an inactive copy is kept, not deleted");
        let four = copies
            .iter()
            .find(|c| c.service.external_id.as_deref() == Some(seed.services[4].as_str()))
            .unwrap();
        assert_eq!(four.service.name, "Baby massage");
        assert_eq!(four.locations, 0, "children replaced");
        let five = copies
            .iter()
            .find(|c| c.service.external_id.as_deref() == Some(seed.services[5].as_str()))
            .unwrap();
        assert_eq!(five.service.status, "inactive");

        // The result is kept on the source.
        let kept = b.db.directory_source(source_id).await.unwrap().unwrap();
        assert!(kept.last_pulled_at_ms.is_some());
        let last: kindred_web::oruk_pull::PullReport =
            serde_json::from_str(kept.last_result.as_deref().unwrap()).unwrap();
        assert_eq!(last, r);
    }
}

#[tokio::test]
async fn an_unreachable_feed_deactivates_nothing_and_says_why() {
    let app = spawn_with(testing::fresh_sqlite().await, kindred_web::Config::default()).await;
    let tenant = app.db.tenant_by_code("west").await.unwrap().id;
    // A listener that is closed at once: nothing answers there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let id = app
        .db
        .upsert_directory_source(tenant, "Gone", &format!("http://127.0.0.1:{port}/openreferral"))
        .await
        .unwrap();
    let source = app.db.directory_source(id).await.unwrap().unwrap();
    let r = kindred_web::oruk_pull::pull(&app.db, &source, &kindred_web::oruk_pull::client())
        .await
        .unwrap();
    assert_eq!((r.pages, r.deactivated), (0, 0));
    assert!(r.error.as_deref().unwrap().contains("/services?page=1"), "{r:?}");
    // Our own API's 404 is not a feed either.
    let id = app
        .db
        .upsert_directory_source(tenant, "Wrong", &format!("{}/openreferral/nothing", app.addr))
        .await
        .unwrap();
    let source = app.db.directory_source(id).await.unwrap().unwrap();
    let r = kindred_web::oruk_pull::pull(&app.db, &source, &kindred_web::oruk_pull::client())
        .await
        .unwrap();
    assert!(r.error.as_deref().unwrap().contains("HTTP 404"), "{r:?}");
}

#[tokio::test]
async fn an_administrator_adds_a_feed_and_pulls_it_from_the_page() {
    let a = spawn_with(testing::fresh_sqlite().await, kindred_web::Config::default()).await;
    let b = spawn_with(testing::fresh_sqlite().await, kindred_web::Config::default()).await;
    directory(&a.db, "west", 4).await;
    let (c, token) = b.sign_in("admin@west.test").await;
    // Bad input names the field.
    let res = c
        .post(b.url("/admin/directory/sources"))
        .form(&[
            ("csrf", token.as_str()),
            ("name", ""),
            ("base_url", "ftp://example.org"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<a href=\"#name\">Enter a name for the feed</a>"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"#base_url\">Enter the base URL of the feed"),
        "{page}"
    );
    let res = c
        .post(b.url("/admin/directory/sources"))
        .form(&[
            ("csrf", token.as_str()),
            ("name", "West directory"),
            ("base_url", &format!("{}/openreferral/", a.addr)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let tenant = b.db.tenant_by_code("west").await.unwrap().id;
    let source = b.db.directory_sources(tenant).await.unwrap().remove(0);
    assert_eq!(source.base_url, format!("{}/openreferral", a.addr));
    let res = c
        .post(b.url(&format!("/admin/directory/sources/{}/pull", source.id)))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let mut pulled = None;
    for _ in 0..100 {
        let s = b.db.directory_source(source.id).await.unwrap().unwrap();
        if s.last_pulled_at_ms.is_some() {
            pulled = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(pulled.is_some(), "the pull ended");
    let page = c
        .get(b.url("/admin/directory/sources"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 page, 3 services listed: 3 new, 0 updated"), "{page}");
    // Someone who is not an administrator finds nothing there.
    let (c, token) = b.sign_in("lead@west.test").await;
    assert_eq!(
        c.get(b.url("/admin/directory/sources")).send().await.unwrap().status(),
        404
    );
    let res = c
        .post(b.url(&format!("/admin/directory/sources/{}/pull", source.id)))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
