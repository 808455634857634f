//! Kindred's own JSON API over real HTTP, on SQLite and (when
//! `KINDRED_TEST_DATABASE_URL` is set) PostgreSQL: the OpenAPI document
//! describes every route; a partner system's token (scope `api`) is needed;
//! it lists and reads only the families its organisation works with; bulk
//! referrals land in the triage queue, a retry makes nothing new, and every
//! rejected referral comes back with each field at fault; a partner system
//! publishes its own services into the directory, idempotently by its own id.

use kindred_store::testing;
use serde_json::{Value, json};

use crate::{TestApp, spawn_with};

async fn token(app: &TestApp, organisation: &str, scope: &str) -> String {
    token_in(app, "west", organisation, scope).await
}

async fn token_in(app: &TestApp, tenant: &str, organisation: &str, scope: &str) -> String {
    let west = app.db.tenant_by_code(tenant).await.unwrap();
    let org = app
        .db
        .organisations(west.id)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == organisation)
        .unwrap();
    let (client, secret) = kindred_web::api_auth::register(&app.db, west.id, org.id, organisation, None, None)
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(&client.client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn referral(reference: &str) -> Value {
    json!({
        "reference": reference,
        "summary": "Mother finding the new baby hard; rent arrears",
        "family_aware": true,
        "needs": ["parenting_early", "housing"],
        "consent": {"given": true, "by": "Mother", "on": "2026-01-05", "scope": "Early help"},
        "referrer": {"name": "Health visiting system", "role": "Health visitor", "email": "hv@west.test"},
        "people": [
            {"role": "parent", "given_name": "Bethan", "family_name": "Apiary", "date_of_birth": "1996-04-03",
             "postcode": "W2 5AB"},
            {"role": "child", "given_name": "Cai", "family_name": "Apiary", "date_of_birth": "2025-06-01"}
        ]
    })
}

#[tokio::test]
async fn the_document_describes_the_api_and_a_token_is_required() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let res = reqwest::get(app.url("/api/openapi.json")).await.unwrap();
        assert_eq!(res.status(), 200);
        let doc: Value = res.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/v1/families",
            "/api/v1/families/{id}",
            "/api/v1/referrals",
            "/api/v1/referrals/{reference}",
            "/api/v1/directory/services",
            "/api/v1/directory/services/{id}",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is not described");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
            "/oauth/token"
        );

        // No token, a made-up token, and a token without the api scope.
        let res = reqwest::get(app.url("/api/v1/families")).await.unwrap();
        assert_eq!(res.status(), 401);
        assert!(res.headers().get("www-authenticate").is_some());
        let (status, body) = get(&app, "not-a-token", "/api/v1/families").await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "invalid_token");
        let fhir_only = token(&app, "West Health Visiting", "system/*.read").await;
        let (status, body) = get(&app, &fhir_only, "/api/v1/families").await;
        assert_eq!(status, 403);
        assert_eq!(body["error"], "insufficient_scope");
        // A signed-in user's session is not a token.
        let (browser, _) = app.sign_in("lead@west.test").await;
        let res = browser.get(app.url("/api/v1/families")).send().await.unwrap();
        assert_eq!(res.status(), 401);
    }
}

#[tokio::test]
async fn a_system_sees_only_its_organisations_families() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let okafor = app.world.other_family;
        let hv = token(&app, "West Health Visiting", "api").await;
        let eh = token(&app, "West Early Help", "api").await;

        let (status, page) = get(&app, &hv, "/api/v1/families").await;
        assert_eq!(status, 200);
        let ids: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![khan]);
        let (_, page) = get(&app, &eh, "/api/v1/families").await;
        let ids: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![okafor]);

        let (status, family) = get(&app, &hv, &format!("/api/v1/families/{khan}")).await;
        assert_eq!(status, 200);
        assert_eq!(family["name"], "Khan household");
        let names: Vec<&str> = family["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["given_name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"Aisha") && names.contains(&"Zara"));
        assert!(
            family["involvements"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["organisation"] == "West Health Visiting")
        );

        // Another organisation's family, and one that does not exist, look the same.
        let (status, denied) = get(&app, &hv, &format!("/api/v1/families/{okafor}")).await;
        let (status2, missing) = get(&app, &hv, "/api/v1/families/999999").await;
        assert_eq!((status, status2), (404, 404));
        assert_eq!(denied, missing);
        let (status, _) = get(&app, &hv, "/api/v1/families/not-a-number").await;
        assert_eq!(status, 404);

        // Paging parameters are checked by name.
        let (status, body) = get(&app, &hv, "/api/v1/families?per_page=500").await;
        assert_eq!(status, 400);
        assert_eq!(body["field"], "per_page");
        let (status, body) = get(&app, &hv, "/api/v1/families?page=0").await;
        assert_eq!(status, 400);
        assert_eq!(body["field"], "page");

        // Every read is audited with the system as the actor.
        let events = app.db.family_access_log(khan, 50).await.unwrap();
        assert!(
            events.iter().any(|e| e.event.route == "api GET /api/v1/families/{id}"
                && e.actor_organisation.as_deref() == Some("West Health Visiting")),
            "no audit event for the API read"
        );
    }
}

#[tokio::test]
async fn bulk_referrals_land_once_and_rejections_name_each_field() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let hv = token(&app, "West Health Visiting", "api").await;
        let mut bad = referral("HV-2");
        bad["people"][0]["nhs_number"] = "9990000019".into();
        bad["needs"] = json!(["housing", "not-a-need"]);
        let body = json!({"referrals": [referral("HV-1"), bad, {"reference": 12}]});
        let (status, out) = post(&app, &hv, "/api/v1/referrals", &body).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!((out["created"].as_i64(), out["rejected"].as_i64()), (Some(1), Some(2)));
        assert_eq!(out["results"][0]["outcome"], "created");
        let fields: Vec<&str> = out["results"][1]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            vec!["referrals[1].needs[1]", "referrals[1].people[0].nhs_number"]
        );
        assert_eq!(out["results"][2]["errors"][0]["field"], "referrals[2].reference");

        // The referral is in the triage queue, with its people and needs.
        let id = out["results"][0]["id"].as_i64().unwrap();
        let r = app.db.referral(id).await.unwrap().unwrap();
        assert_eq!(r.status.code(), "open");
        assert_eq!(r.needs.len(), 2);
        assert_eq!(app.db.referral_people(id).await.unwrap().len(), 2);

        // A retry (the same batch again) makes nothing new.
        let (status, again) = post(&app, &hv, "/api/v1/referrals", &body).await;
        assert_eq!(status, 200);
        assert_eq!(again["results"][0]["outcome"], "already_sent");
        assert_eq!(again["results"][0]["id"].as_i64(), Some(id));
        let west = app.db.tenant_by_code("west").await.unwrap();
        assert_eq!(
            app.db.referral_id_by_reference(west.id, "HV-1").await.unwrap(),
            Some(id)
        );

        // The sender follows it by reference; another organisation cannot, nor reuse it.
        let (status, s) = get(&app, &hv, "/api/v1/referrals/HV-1").await;
        assert_eq!(status, 200);
        assert_eq!(s["status"], "open");
        let eh = token(&app, "West Early Help", "api").await;
        let (status, _) = get(&app, &eh, "/api/v1/referrals/HV-1").await;
        assert_eq!(status, 404);
        let (_, taken) = post(
            &app,
            &eh,
            "/api/v1/referrals",
            &json!({"referrals": [referral("HV-1")]}),
        )
        .await;
        assert_eq!(taken["results"][0]["outcome"], "rejected");
        assert_eq!(taken["results"][0]["errors"][0]["field"], "referrals[0].reference");

        // A body that is not a batch is refused as a whole, saying why.
        let res = reqwest::Client::new()
            .post(app.url("/api/v1/referrals"))
            .bearer_auth(&hv)
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"], "invalid_json");
        let many: Vec<Value> = (0..101).map(|i| referral(&format!("M-{i}"))).collect();
        let (status, e) = post(&app, &hv, "/api/v1/referrals", &json!({"referrals": many})).await;
        assert_eq!(status, 413);
        assert_eq!(e["field"], "referrals");
    }
}

fn service(external_id: &str, name: &str) -> Value {
    json!({
        "external_id": external_id,
        "name": name,
        "description": "Drop-in advice for families on money, debt and benefits",
        "minimum_age": 0,
        "maximum_age": 25,
        "needs": ["debt"],
        "delivery_modes": ["in_person", "telephone"],
        "areas": ["W2", "W9"],
        "languages": ["en", "so"],
        "schedules": [{"days": ["TU", "TH"], "opens_at": "10:00", "closes_at": "13:00"}],
        "costs": [{"amount_pence": 0, "description": "Free"}],
        "contacts": [{"name": "Advice line", "phone": "020 7946 0999"}],
        "locations": [{"external_id": "centre", "name": "Family Action centre", "postcode": "W2 5AB"}]
    })
}

#[tokio::test]
async fn a_partner_system_publishes_its_services_once_and_rejections_name_each_field() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let vcs = token(&app, "West Family Action", "api").await;
        // Before it has published anything, its own list is empty, and asking
        // for it writes nothing (no directory source is made for a read).
        let sources = app.db.directory_sources(1).await.unwrap().len();
        let (status, mine) = get(&app, &vcs, "/api/v1/directory/services?mine=true").await;
        assert_eq!((status, mine["total"].as_i64()), (200, Some(0)), "{mine}");
        assert_eq!(
            app.db.directory_sources(1).await.unwrap().len(),
            sources,
            "a read writes nothing"
        );
        let mut bad = service("bad-1", "");
        bad["areas"] = json!(["W2", "Narnia"]);
        bad["delivery_modes"] = json!(["by pigeon"]);
        let body = json!({"services": [service("money-1", "Money advice"), bad, {"external_id": 5},
            service("money-2", "Benefits check")]});
        let (status, out) = post(&app, &vcs, "/api/v1/directory/services", &body).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            (
                out["created"].as_i64(),
                out["updated"].as_i64(),
                out["rejected"].as_i64()
            ),
            (Some(2), Some(0), Some(2))
        );
        let fields: Vec<&str> = out["results"][1]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            vec![
                "services[1].name",
                "services[1].delivery_modes[0]",
                "services[1].areas[1]"
            ]
        );
        assert_eq!(out["results"][2]["errors"][0]["field"], "services[2].external_id");
        let id = out["results"][0]["id"].as_str().unwrap().to_string();

        // Publishing again updates in place: nothing new, the same id.
        let body = json!({"services": [service("money-1", "Money and debt advice")]});
        let (_, again) = post(&app, &vcs, "/api/v1/directory/services", &body).await;
        assert_eq!(again["results"][0]["outcome"], "updated");
        assert_eq!(again["results"][0]["id"], id.as_str());
        let (status, mine) = get(&app, &vcs, "/api/v1/directory/services?mine=true").await;
        assert_eq!(status, 200);
        assert_eq!(mine["total"], 2);
        let s = &mine["items"][0];
        assert_eq!(s["name"], "Benefits check");
        assert_eq!(s["organisation"]["name"], "West Family Action");
        assert_eq!(s["accepts_connections"], true);
        assert_eq!(s["schedules"][0]["days"], json!(["TU", "TH"]));
        assert_eq!(s["locations"][0]["postcode"], "W2 5AB");
        assert_eq!(s["listed_by"], "West Family Action (partner system)");

        // Another system of the partnership reads it, filtered; it has no external id for it.
        let hv = token(&app, "West Health Visiting", "api").await;
        let (status, one) = get(&app, &hv, &format!("/api/v1/directory/services/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(one["name"], "Money and debt advice");
        assert!(one.get("external_id").is_none());
        let (_, by_need) = get(&app, &hv, "/api/v1/directory/services?need=debt&district=W9&age=19").await;
        let names: Vec<&str> = by_need["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"Money and debt advice"), "{names:?}");
        let (_, elsewhere) = get(&app, &hv, "/api/v1/directory/services?need=debt&district=E1").await;
        assert!(
            !elsewhere["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == id.as_str())
        );
        let (status, e) = get(&app, &hv, "/api/v1/directory/services?need=flying").await;
        assert_eq!((status, e["field"].as_str()), (400, Some("need")));
        let (status, e) = get(&app, &hv, "/api/v1/directory/services?modified_since=yesterday").await;
        assert_eq!((status, e["field"].as_str()), (400, Some("modified_since")));

        // The public directory shows it, attributed; another council's system cannot read it.
        let page = reqwest::get(app.url(&format!("/directory/services/{id}")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Money and debt advice"));
        assert!(page.contains("West Family Action (partner system)"));
        let east = token_in(&app, "east", "East Early Help", "api").await;
        let (status, _) = get(&app, &east, &format!("/api/v1/directory/services/{id}")).await;
        assert_eq!(status, 404);
        let (_, east_list) = get(&app, &east, "/api/v1/directory/services?need=debt").await;
        assert_eq!(east_list["total"], 0);

        // Every write is audited; the partner system's feed is not offered for pulling.
        let events = app
            .db
            .audit_events_since(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.route == "api POST /api/v1/directory/services")
            .count();
        assert_eq!(events, 3);
        let (admin, _) = app.sign_in("admin@west.test").await;
        let sources = admin
            .get(app.url("/admin/directory/sources"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!sources.contains("urn:kindred") && !sources.contains("(partner system)"));

        // A directory manager's change through the form keeps what the form does not show.
        let mut two = service("money-2", "Benefits check");
        two["schedules"] = json!([{"days": ["MO"], "opens_at": "09:00", "closes_at": "10:00"},
            {"days": ["FR"], "opens_at": "14:00", "closes_at": "15:00"}]);
        two["contacts"] = json!([{"name": "Advice line", "phone": "020 7946 0999"}, {"email": "help@example.org"}]);
        let (_, out) = post(&app, &vcs, "/api/v1/directory/services", &json!({"services": [two]})).await;
        let two_id = out["results"][0]["id"].as_str().unwrap().to_string();
        let row = app.db.directory_service_by_uuid(&two_id).await.unwrap().unwrap();
        let form = admin
            .get(app.url(&format!("/admin/directory/services/{}/edit", row.id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = crate::csrf(&form);
        let org = row.dir_organisation_id.to_string();
        let res = admin
            .post(app.url(&format!("/admin/directory/services/{}/edit", row.id)))
            .form(&[
                ("csrf", csrf.as_str()),
                ("organisation", org.as_str()),
                ("name", "Benefits check (Mondays)"),
                ("description", "Benefits checks"),
                ("status", "active"),
                ("needs", "debt"),
                ("modes", "in_person"),
                ("days", "MO"),
                ("opens_at", "09:30"),
                ("closes_at", "10:30"),
                ("contact_name", "Advice line"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (_, after) = get(&app, &hv, &format!("/api/v1/directory/services/{two_id}")).await;
        assert_eq!(after["name"], "Benefits check (Mondays)");
        assert_eq!(after["schedules"].as_array().unwrap().len(), 2, "{after}");
        assert_eq!(after["schedules"][0]["opens_at"], "09:30");
        assert_eq!(after["contacts"][1]["email"], "help@example.org");

        // Too many, and not a batch.
        let many: Vec<Value> = (0..101).map(|i| service(&format!("m-{i}"), "x")).collect();
        let (status, e) = post(&app, &vcs, "/api/v1/directory/services", &json!({"services": many})).await;
        assert_eq!((status, e["field"].as_str()), (413, Some("services")));
        let (status, e) = post(&app, &vcs, "/api/v1/directory/services", &json!({"services": {}})).await;
        assert_eq!((status, e["error"].as_str()), (400, Some("invalid_json")));
    }
}
