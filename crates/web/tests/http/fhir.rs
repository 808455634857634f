//! The FHIR R4 API and OAuth2 client credentials over real HTTP, on SQLite
//! and (when `KINDRED_TEST_DATABASE_URL` is set) PostgreSQL: every resource
//! type, the CapabilityStatement and searchset Bundles (empty and paged) are
//! valid against HL7's FHIR R4 JSON schema (a copy in
//! `tests/standards/fhir-r4/`); tokens follow RFC 6749; a partner system sees
//! exactly what its organisation's practitioners may see, restricted notes
//! and a restricted person's address never, and every call is audited with
//! the system as the actor.

use std::sync::OnceLock;

use kindred_domain::model::{MemberRole, OrgKind, RelationshipKind, Sex};
use kindred_domain::nhs_number::NhsNumber;
use kindred_domain::plan::Owner;
use kindred_domain::postcode::Postcode;
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::testing;
use serde_json::Value;

use crate::{TestApp, csrf, spawn_app, spawn_with};

const NHS: &str = "9997654323";
const SEALED_NHS: &str = "9990001111";
const PROFESSION_NOTE: &str = "Profession-only note: Quillon marker";
const TEAM_NOTE: &str = "Team note: Brackwater marker";
const RESTRICTED_LINE: &str = "17 Quillfeather Mews";

/// HL7's FHIR R4 schema, read and parsed once per test binary.
fn definitions() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standards/fhir-r4/fhir.schema.json");
        let text = std::fs::read_to_string(path).expect("the FHIR R4 schema copy");
        let schema: Value = serde_json::from_str(&text).unwrap();
        schema["definitions"].clone()
    })
}

/// One compiled validator per resource type, each compiled once.
fn validate(resource: &Value) {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static VALIDATORS: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> = OnceLock::new();
    let ty = resource["resourceType"].as_str().expect("a resourceType").to_string();
    let validator = {
        let mut map = VALIDATORS.get_or_init(Default::default).lock().unwrap();
        *map.entry(ty.clone()).or_insert_with(|| {
            let wrapped = serde_json::json!({
                "$schema": "http://json-schema.org/draft-06/schema#",
                "$ref": format!("#/definitions/{ty}"),
                "definitions": definitions(),
            });
            Box::leak(Box::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft6)
                    .build(&wrapped)
                    .expect("the FHIR schema compiles"),
            ))
        })
    };
    let errors: Vec<String> = validator.iter_errors(resource).map(|e| format!("{e:?}")).collect();
    assert!(
        errors.is_empty(),
        "{ty} is not valid FHIR R4: {errors:#?}\n{resource:#}"
    );
    // A Bundle's entries are validated as their own types too.
    if let Some(entries) = resource["entry"].as_array() {
        for e in entries {
            validate(&e["resource"]);
        }
    }
}

struct Fx {
    mum: i64,
    yusuf: i64,
    khan: i64,
    other_family: i64,
    sealed_person: i64,
    /// West Health Visiting's system: involved with the Khan family.
    hv_user: i64,
    hv_token: String,
    /// West Early Help's system: involved with the Okafor family only.
    eh_token: String,
    /// East Early Help's system: another tenant.
    east_token: String,
    hv_client: (String, String),
}

async fn token(app: &TestApp, id: &str, secret: &str) -> String {
    let res = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "system/*.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "system/*.read");
    body["access_token"].as_str().unwrap().to_string()
}

async fn setup(app: &TestApp) -> Fx {
    let db = &app.db;
    let today = kindred_store::today();
    let west = db.tenant_by_code("west").await.unwrap();
    let east = db.tenant_by_code("east").await.unwrap();
    let org = |tenant: i64, name: &'static str| async move {
        db.organisations(tenant)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap()
    };
    let hv = org(west.id, "West Health Visiting").await;
    let eh = org(west.id, "West Early Help").await;
    let east_eh = org(east.id, "East Early Help").await;
    let lead = db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let eh_worker = db.user_by_email("eh@west.test").await.unwrap().unwrap();
    let khan = app.world.khan_family;
    let members = db.members(khan).await.unwrap();
    let mum = members
        .iter()
        .find(|m| m.person.given_name == "Aisha")
        .unwrap()
        .person
        .id;
    let child = app.world.khan_child;
    let person = |given: &str, nhs: &str| PersonDetails {
        given_name: given.into(),
        family_name: "Khan".into(),
        preferred_name: None,
        date_of_birth: Some(time::macros::date!(2019 - 03 - 04)),
        expected_delivery: None,
        sex: Sex::Male,
        nhs_number: Some(NhsNumber::parse(nhs).unwrap()),
        upn: None,
        language: Some("Urdu".into()),
        interpreter_needed: false,
        send: false,
    };
    let yusuf = db.create_person(west.id, &person("Yusuf", NHS)).await.unwrap().id;
    db.add_member(khan, yusuf, MemberRole::Child, today).await.unwrap();
    let address = |line: &str| NewAddress {
        line1: line.into(),
        line2: None,
        town: "London".into(),
        postcode: Postcode::parse("W2 9QX").unwrap(),
        from_date: today,
    };
    db.move_person(yusuf, &address("4 Orchard Row")).await.unwrap();
    // Aisha is restricted: her address reaches nobody without permission.
    db.move_person(mum, &address(RESTRICTED_LINE)).await.unwrap();
    db.mark_restricted(mum, lead.id).await.unwrap();
    db.add_relationship(mum, yusuf, RelationshipKind::ParentOf)
        .await
        .unwrap();
    db.add_relationship(mum, child, RelationshipKind::ParentOf)
        .await
        .unwrap();
    db.open_episode(west.id, khan, None, Some(lead.id), "3", Some(lead.id), today)
        .await
        .unwrap();
    let goal = db
        .add_plan_goal(&kindred_store::plans::NewGoal {
            tenant_id: west.id,
            family_id: khan,
            area: String::new(),
            words: "Yusuf is settled at nursery".into(),
            baseline_score: Some(3),
            shared_with_family: true,
            by_user: lead.id,
        })
        .await
        .unwrap();
    db.add_plan_action(&kindred_store::plans::NewAction {
        tenant_id: west.id,
        family_id: khan,
        goal_id: goal,
        description: "Visit the nursery together".into(),
        owner: Owner::Worker(lead.id),
        due_on: today + time::Duration::days(14),
        shared_with_family: true,
        by_user: lead.id,
    })
    .await
    .unwrap();
    db.open_referral(west.id, khan).await.unwrap();
    db.raise_flag(&kindred_store::flags::NewFlag {
        tenant_id: west.id,
        family_id: khan,
        person_id: Some(yusuf),
        kind: "young_carer".into(),
        description: "Cares for his mother".into(),
        raised_by_user_id: lead.id,
        raised_on: today,
    })
    .await
    .unwrap();
    db.create_assessment(&kindred_store::assessments::NewAssessment {
        tenant_id: west.id,
        family_id: khan,
        author_user_id: lead.id,
        assessed_on: today,
        strengths: "Warm and loving home".into(),
        changes: String::new(),
        future: String::new(),
        scores: vec![("education".into(), 5, String::new())],
    })
    .await
    .unwrap();
    for (visibility, body) in [("profession", PROFESSION_NOTE), ("team", TEAM_NOTE)] {
        db.add_contact(&kindred_store::contacts::NewContact {
            tenant_id: west.id,
            family_id: khan,
            organisation_id: hv.id,
            author_user_id: lead.id,
            occurred_on: today,
            mode: "home_visit",
            visibility,
            body: body.into(),
            people: vec![yusuf],
            readers: vec![],
        })
        .await
        .unwrap();
    }
    // A sealed family of the early help service only.
    let sealed = db
        .create_family(
            west.id,
            "Sealed household",
            &kindred_store::families::Creator {
                user_id: eh_worker.id,
                organisation_id: eh.id,
                service: "Family support".into(),
            },
            today,
        )
        .await
        .unwrap();
    let sealed_person = db
        .create_person(west.id, &person("Idris", SEALED_NHS))
        .await
        .unwrap()
        .id;
    db.add_member(sealed.id, sealed_person, MemberRole::Child, today)
        .await
        .unwrap();
    db.set_family_sealed(
        west.id,
        sealed.id,
        true,
        "Adoption",
        eh_worker.id,
        kindred_store::now_ms(),
    )
    .await
    .unwrap();
    let (hv_sys, hv_secret) = kindred_web::api_auth::register(db, west.id, hv.id, "West HV EPR", None, None)
        .await
        .unwrap();
    let (eh_sys, eh_secret) = kindred_web::api_auth::register(db, west.id, eh.id, "West EH case system", None, None)
        .await
        .unwrap();
    let (east_sys, east_secret) = kindred_web::api_auth::register(db, east.id, east_eh.id, "East EH", None, None)
        .await
        .unwrap();
    assert_eq!(east_eh.kind, OrgKind::EarlyHelp);
    Fx {
        mum,
        yusuf,
        khan,
        other_family: app.world.other_family,
        sealed_person,
        hv_user: hv_sys.user_id,
        hv_token: token(app, &hv_sys.client_id, &hv_secret).await,
        eh_token: token(app, &eh_sys.client_id, &eh_secret).await,
        east_token: token(app, &east_sys.client_id, &east_secret).await,
        hv_client: (hv_sys.client_id, hv_secret),
    }
}

/// GET with a bearer token: status, body (validated as FHIR), and content type.
async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    for secret in [
        PROFESSION_NOTE,
        TEAM_NOTE,
        RESTRICTED_LINE,
        "Quillon",
        "Brackwater",
        "Quillfeather",
    ] {
        assert!(!text.contains(secret), "{secret} leaked through {path}");
    }
    assert!(ct.starts_with("application/fhir+json"), "{path}: {ct}");
    let body: Value = serde_json::from_str(&text).unwrap();
    validate(&body);
    (status, body)
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["resource"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn resources_and_policy(app: TestApp) {
    let fx = setup(&app).await;
    let t = &fx.hv_token;

    // The CapabilityStatement needs no token.
    let res = reqwest::get(app.url("/fhir/metadata")).await.unwrap();
    assert_eq!(res.status(), 200);
    let cap: Value = res.json().await.unwrap();
    validate(&cap);
    assert_eq!(cap["fhirVersion"], "4.0.0");
    let listed: Vec<&str> = cap["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for ty in [
        "Patient",
        "RelatedPerson",
        "Group",
        "EpisodeOfCare",
        "CareTeam",
        "CarePlan",
        "Goal",
        "ServiceRequest",
        "Consent",
        "Flag",
        "QuestionnaireResponse",
    ] {
        assert!(listed.contains(&ty), "{ty} missing from the CapabilityStatement");
    }
    assert!(cap.to_string().contains("/oauth/token"));

    // Patient search by NHS number: the UK Core identifier, the address.
    let (s, b) = get(
        &app,
        t,
        &format!("/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS}"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["type"], "searchset");
    assert_eq!(b["total"], 1);
    let p = &b["entry"][0]["resource"];
    assert_eq!(p["id"], fx.yusuf.to_string());
    assert_eq!(p["identifier"][0]["system"], "https://fhir.nhs.uk/Id/nhs-number");
    assert_eq!(p["identifier"][0]["value"], NHS);
    assert_eq!(p["birthDate"], "2019-03-04");
    assert_eq!(p["gender"], "male");
    assert_eq!(p["address"][0]["postalCode"], "W2 9QX");
    assert_eq!(p["communication"][0]["language"]["text"], "Urdu");
    for q in [
        "family=kha&given=yus",
        "birthdate=2019-03-04",
        "address-postalcode=w29qx",
    ] {
        let (_, b) = get(&app, t, &format!("/fhir/Patient?{q}")).await;
        assert!(ids(&b).contains(&fx.yusuf.to_string()), "{q}");
    }

    // A restricted person: the Patient, never her address.
    let (s, p) = get(&app, t, &format!("/fhir/Patient/{}", fx.mum)).await;
    assert_eq!(s, 200);
    assert!(p.get("address").is_none());

    // Paging: three Khans the system may see, one a page.
    let (_, page1) = get(&app, t, "/fhir/Patient?family=Khan&_count=1").await;
    assert_eq!(
        page1["total"], 3,
        "Aisha, Zara and Yusuf; not Chidi (Okafor), not Idris (sealed)"
    );
    assert_eq!(ids(&page1).len(), 1);
    let next = page1["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .expect("a next link")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &next[next.find("/fhir/").unwrap()..];
    let (_, page2) = get(&app, t, path).await;
    assert_eq!(ids(&page2).len(), 1);
    assert_ne!(ids(&page1), ids(&page2));
    let (_, last) = get(&app, t, "/fhir/Patient?family=Khan&_count=1&_offset=2").await;
    assert!(last["link"].as_array().unwrap().iter().all(|l| l["relation"] != "next"));

    // An empty search result is a valid Bundle with total 0.
    let (s, empty) = get(&app, t, "/fhir/Patient?family=Nobodyhere").await;
    assert_eq!((s, &empty["total"]), (200, &Value::from(0)));
    assert!(empty.get("entry").is_none());

    // Every other resource type, searched by patient and read by id.
    let patient = format!("Patient/{}", fx.yusuf);
    for (ty, param) in [
        ("RelatedPerson", "patient"),
        ("Group", "member"),
        ("EpisodeOfCare", "patient"),
        ("CareTeam", "patient"),
        ("CarePlan", "patient"),
        ("Goal", "patient"),
        ("ServiceRequest", "patient"),
        ("Consent", "patient"),
        ("Flag", "patient"),
        ("QuestionnaireResponse", "subject"),
    ] {
        let who = if ty == "Consent" {
            format!("Patient/{}", fx.mum)
        } else {
            patient.clone()
        };
        let (s, b) = get(&app, t, &format!("/fhir/{ty}?{param}={who}")).await;
        assert_eq!(s, 200, "{ty}");
        let found = ids(&b);
        assert!(!found.is_empty(), "{ty} found nothing for {who}");
        let (s, r) = get(&app, t, &format!("/fhir/{ty}/{}", found[0])).await;
        assert_eq!(s, 200, "{ty}/{}", found[0]);
        assert_eq!(r["resourceType"], ty);
        // The East system and the early help system (not involved) get 404 for it.
        for other in [&fx.east_token, &fx.eh_token] {
            let (s, oo) = get(&app, other, &format!("/fhir/{ty}/{}", found[0])).await;
            assert_eq!(s, 404, "{ty} reached a system without a relationship");
            assert_eq!(oo["resourceType"], "OperationOutcome");
            let (_, b) = get(&app, other, &format!("/fhir/{ty}?{param}={who}")).await;
            assert_eq!(b["total"], 0, "{ty} search reached a system without a relationship");
        }
    }
    let (_, group) = get(&app, t, &format!("/fhir/Group/{}", fx.khan)).await;
    assert_eq!(group["member"].as_array().unwrap().len(), 3);

    // The early help system sees its own family and not the Khans; a sealed
    // family it is involved with is still its own, but never the health visitors'.
    let (s, _) = get(&app, &fx.eh_token, &format!("/fhir/Group/{}", fx.other_family)).await;
    assert_eq!(s, 200);
    let (s, _) = get(&app, t, &format!("/fhir/Group/{}", fx.other_family)).await;
    assert_eq!(s, 404);
    let (s, _) = get(&app, t, &format!("/fhir/Patient/{}", fx.sealed_person)).await;
    assert_eq!(s, 404);
    let (_, b) = get(
        &app,
        t,
        &format!("/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{SEALED_NHS}"),
    )
    .await;
    assert_eq!(b["total"], 0);
    // Across tenants: not found, like a record that does not exist.
    let (s, _) = get(&app, &fx.east_token, &format!("/fhir/Patient/{}", fx.yusuf)).await;
    assert_eq!(s, 404);
    let (s, _) = get(&app, t, "/fhir/Patient/987654321").await;
    assert_eq!(s, 404);

    // Bad input names the parameter.
    let (s, oo) = get(
        &app,
        t,
        "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|123",
    )
    .await;
    assert_eq!(s, 400);
    assert!(oo["issue"][0]["diagnostics"].as_str().unwrap().contains("identifier"));
    let (s, oo) = get(&app, t, "/fhir/Patient?colour=blue").await;
    assert_eq!(s, 400);
    assert!(oo["issue"][0]["diagnostics"].as_str().unwrap().contains("colour"));
    let (s, _) = get(&app, t, "/fhir/Medication/1").await;
    assert_eq!(s, 404);

    // Every call is audited with the system's account as the actor.
    let events: Vec<(String, String)> = app
        .db
        .audit_events_since(0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor_user_id == Some(fx.hv_user))
        .map(|e| (e.route, e.detail))
        .collect();
    assert!(events.iter().any(|(route, _)| route == "fhir GET /fhir/Patient"));
    assert!(events.iter().any(|(route, _)| route == "fhir GET /fhir/Patient/{id}"));
    assert!(
        events
            .iter()
            .any(|(route, _)| route == "fhir GET /fhir/QuestionnaireResponse")
    );
    assert!(events.iter().any(|(route, _)| route == "api POST /oauth/token"));
    // A refused read is audited as the search or nothing; a granted one always.
    assert!(events.len() > 30, "only {} events", events.len());
    assert!(app.db.verify_audit().await.unwrap().broken.is_none());
    let _ = fx.hv_client;
}

#[tokio::test]
async fn fhir_resources_are_valid_and_follow_the_policy() {
    resources_and_policy(spawn_app().await).await;
}

#[tokio::test]
async fn fhir_resources_are_valid_and_follow_the_policy_on_postgres() {
    if let Some(db) = testing::fresh_postgres().await {
        resources_and_policy(spawn_with(db, kindred_web::Config::default()).await).await;
    }
}

async fn oauth(app: TestApp) {
    let fx = setup(&app).await;
    let (id, secret) = fx.hv_client.clone();
    let c = reqwest::Client::new();
    let post = |form: Vec<(&'static str, String)>, basic: Option<(String, String)>| {
        let mut r = c.post(app.url("/oauth/token")).form(&form);
        if let Some((u, p)) = basic {
            r = r.basic_auth(u, Some(p));
        }
        r.send()
    };
    let grant = || vec![("grant_type", "client_credentials".to_string())];

    // Client credentials in the form work too; no scope asked gets every scope.
    let res = post(
        vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", id.clone()),
            ("client_secret", secret.clone()),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "system/*.read api");

    // A wrong secret: invalid_client, 401, with a challenge.
    let res = post(grant(), Some((id.clone(), "wrong".into()))).await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // No credentials at all.
    let res = post(grant(), None).await.unwrap();
    assert_eq!(res.status(), 401);
    // The wrong grant and an unknown scope.
    let res = post(
        vec![("grant_type", "password".into())],
        Some((id.clone(), secret.clone())),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    let res = post(
        vec![
            ("grant_type", "client_credentials".into()),
            ("scope", "system/*.write".into()),
        ],
        Some((id.clone(), secret.clone())),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");

    // A token for the api scope only cannot read FHIR.
    let res = post(
        vec![("grant_type", "client_credentials".into()), ("scope", "api".into())],
        Some((id.clone(), secret.clone())),
    )
    .await
    .unwrap();
    let api_only = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/fhir/Patient/{}", fx.yusuf);
    let status = |token: Option<String>| {
        let mut r = c.get(app.url(&path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let res = r.send().await.unwrap();
            let challenge = res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let ok = res.status() == 200;
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["resourceType"] == "OperationOutcome", !ok, "{body}");
            (challenge, body["issue"][0]["code"].as_str().unwrap_or("").to_string())
        }
    };
    assert!(status(Some(api_only)).await.0.contains("insufficient_scope"));
    // No token, a made-up token.
    let (challenge, code) = status(None).await;
    assert!(challenge.starts_with("Bearer"));
    assert_eq!(code, "login");
    let (challenge, _) = status(Some("not-a-token".into())).await;
    assert!(challenge.contains("error=\"invalid_token\""));
    // Expired and revoked tokens.
    let client = app.db.api_client_secret(&id).await.unwrap().unwrap().0;
    let expired = "expired-token-for-the-test";
    app.db
        .create_api_token(
            &kindred_web::passwords::sha256_hex(expired),
            client.id,
            "system/*.read",
            -1000,
        )
        .await
        .unwrap();
    assert!(status(Some(expired.into())).await.0.contains("invalid_token"));
    let good = token(&app, &id, &secret).await;
    assert!(status(Some(good.clone())).await.0.is_empty(), "a good token works");
    app.db
        .revoke_api_token(&kindred_web::passwords::sha256_hex(&good))
        .await
        .unwrap();
    assert!(status(Some(good)).await.0.contains("invalid_token"));
    // Disabling the system revokes its tokens and refuses new ones.
    let good = token(&app, &id, &secret).await;
    app.db.set_api_client_active(client.id, false).await.unwrap();
    assert!(status(Some(good)).await.0.contains("invalid_token"));
    let res = post(grant(), Some((id.clone(), secret.clone()))).await.unwrap();
    assert_eq!(res.status(), 401);

    // Failed client authentications are throttled like failed sign-ins.
    let mut last = 0;
    for _ in 0..7 {
        last = post(grant(), Some((id.clone(), "guess".into())))
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn oauth_tokens_follow_rfc_6749() {
    oauth(spawn_app().await).await;
}

#[tokio::test]
async fn oauth_tokens_follow_rfc_6749_on_postgres() {
    if let Some(db) = testing::fresh_postgres().await {
        oauth(spawn_with(db, kindred_web::Config::default()).await).await;
    }
}

/// The administrator registers a system (the secret shown once), sees the
/// field named when it is missing, and disables it.
#[tokio::test]
async fn administrators_register_and_disable_partner_systems() {
    let app = spawn_app().await;
    let (c, form_token) = app.sign_in("admin@west.test").await;
    let page = c
        .get(app.url("/admin/partner-systems"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Register a partner system"));
    let hv = app
        .db
        .organisations(app.db.tenant_by_code("west").await.unwrap().id)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "West Health Visiting")
        .unwrap();
    let res = c
        .post(app.url("/admin/partner-systems"))
        .form(&[("csrf", form_token.as_str()), ("name", ""), ("organisation_id", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Enter the partner system"));
    assert!(html.contains("Select the organisation the system acts for"));
    let res = c
        .post(app.url("/admin/partner-systems"))
        .form(&[
            ("csrf", form_token.as_str()),
            ("name", "Child health EPR"),
            ("organisation_id", &hv.id.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let at = html.find("id=\"client-secret\">").unwrap() + "id=\"client-secret\">".len();
    let secret = html[at..].split('<').next().unwrap().to_string();
    let client = app.db.api_clients(hv.tenant_id).await.unwrap().remove(0);
    let bearer = token(&app, &client.client_id, &secret).await;
    // Shown once: the list does not show it again.
    let page = c
        .get(app.url("/admin/partner-systems"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&secret));
    assert!(page.contains("Child health EPR"));
    let res = c
        .post(app.url(&format!("/admin/partner-systems/{}/active", client.id)))
        .form(&[("csrf", form_token.as_str()), ("active", "no")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = reqwest::Client::new()
        .get(app.url("/fhir/Patient?family=Khan"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A practitioner gets not-found for the page.
    let (p, _) = app.sign_in("lead@west.test").await;
    let res = p.get(app.url("/admin/partner-systems")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let _ = csrf;
}
