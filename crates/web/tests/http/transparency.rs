//! Transparency over real HTTP: who viewed a person's records (on screen and
//! as CSV) and who may not ask; the privacy officer's audit search by user
//! and by date, tenant-limited and refused to everyone else; subject access
//! request bundles (HTML and JSON) with third parties redacted by the
//! tenant's rules.

use kindred_domain::NhsNumber;
use kindred_domain::model::{MemberRole, Profession, RelationshipKind, Role, Sex};
use kindred_store::contacts::NewContact;
use kindred_store::families::Creator;
use kindred_store::persons::PersonDetails;
use kindred_store::testing;
use kindred_store::transparency::AuditFilter;
use kindred_store::users::NewUser;

use crate::{PASSWORD, TestApp, spawn_app, spawn_with};

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// A privacy officer of the West tenant, in West Early Help.
async fn privacy_officer(app: &TestApp) -> &'static str {
    let t = app.db.tenant_by_code("west").await.unwrap();
    let org = app
        .db
        .organisations(t.id)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "West Early Help")
        .unwrap();
    app.db
        .create_user(&NewUser {
            tenant_id: t.id,
            organisation_id: org.id,
            team_id: None,
            email: "privacy@west.test".into(),
            display_name: "Pat Privacy".into(),
            profession: Profession::Administrator,
            roles: vec![Role::PrivacyOfficer],
            password_hash: kindred_web::passwords::hash(PASSWORD),
        })
        .await
        .unwrap();
    "privacy@west.test"
}

fn nhs(seed: u8) -> NhsNumber {
    (0..10u8)
        .find_map(|last| NhsNumber::from_first_nine([9, 9, 9, seed, 1, 2, 3, 4, last]))
        .unwrap()
}

#[tokio::test]
async fn who_viewed_a_person_lists_another_workers_read_and_downloads_as_csv() {
    let app = spawn_app().await;
    let person = app.world.khan_child;
    let family = app.world.khan_family;
    // Another worker (same organisation as the lead) reads the child's record.
    let (colleague, _) = app.sign_in("colleague@west.test").await;
    assert_eq!(get(&colleague, &app, &format!("/persons/{person}")).await.0, 200);

    let (lead, _) = app.sign_in("lead@west.test").await;
    let (status, page) = get(&lead, &app, &format!("/persons/{person}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/persons/{person}/access-log")),
        "linked from the person page"
    );
    let (status, page) = get(&lead, &app, &format!("/persons/{person}/access-log")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("colleague, Health visitor, West Health Visiting"),
        "{page}"
    );
    assert!(page.contains("Their organisation is working with the family"));
    assert!(page.contains(&format!("/persons/{person}/access-log.csv")));

    let res = lead
        .get(app.url(&format!("/persons/{person}/access-log.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let body = res.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("when,who,organisation,role,action,record,why,route"));
    let row = body
        .lines()
        .find(|l| l.contains(",colleague,"))
        .expect("the colleague's read");
    let fields: Vec<&str> = row.split(',').collect();
    assert!(
        fields[0].ends_with('Z') && fields[0].contains('T'),
        "ISO 8601 UTC: {row}"
    );
    assert_eq!(
        &fields[1..],
        &[
            "colleague",
            "West Health Visiting",
            "Health visitor",
            "Viewed",
            "a person's record",
            "Their organisation is working with the family",
            "web GET /persons/{id}",
        ]
    );
    // The family's CSV has it too, and both downloads are audited as exports.
    let res = lead
        .get(app.url(&format!("/families/{family}/access-log.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.starts_with("when,who,organisation,role,action,record,why,route\r\n"));
    assert!(body.contains(",colleague,West Health Visiting,"));
    let (events, _) = app
        .db
        .audit_search(
            &AuditFilter {
                tenant_id: app.db.tenant_by_code("west").await.unwrap().id,
                action: Some("export".into()),
                ..Default::default()
            },
            10,
            0,
        )
        .await
        .unwrap();
    let routes: Vec<&str> = events.iter().map(|e| e.event.route.as_str()).collect();
    assert!(routes.contains(&"web GET /persons/{id}/access-log.csv"), "{routes:?}");
    assert!(routes.contains(&"web GET /families/{id}/access-log.csv"), "{routes:?}");

    // The printable access report is in plain words, grouped by month.
    let (status, page) = get(&lead, &app, &format!("/families/{family}/access-report")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Their service is working with your family"));

    // Without ViewAccessLog (involved organisation only, no relationship at all): not found.
    let (teacher, _) = app.sign_in("teacher@west.test").await;
    for c in [&colleague, &teacher] {
        for path in [
            format!("/persons/{person}/access-log"),
            format!("/persons/{person}/access-log.csv"),
            format!("/families/{family}/access-log.csv"),
            format!("/families/{family}/access-report"),
        ] {
            let (status, body) = get(c, &app, &path).await;
            assert_eq!(status, 404, "{path}");
            assert!(!body.contains("colleague,"), "{path}");
        }
    }
}

#[tokio::test]
async fn the_audit_search_filters_by_user_and_date_within_the_tenant_for_the_privacy_officer_only() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let officer = privacy_officer(&app).await;
        let (colleague, _) = app.sign_in("colleague@west.test").await;
        let person = app.world.khan_child;
        assert_eq!(get(&colleague, &app, &format!("/persons/{person}")).await.0, 200);
        let (stranger, _) = app.sign_in("stranger@east.test").await;
        let _ = get(&stranger, &app, "/").await;

        let (po, _) = app.sign_in(officer).await;
        let (status, page) = get(&po, &app, "/privacy/audit").await;
        assert_eq!(status, 200);
        assert!(page.contains("Audit search"));

        // By user: only that user's events, in the CSV of the same search.
        let (status, page) = get(&po, &app, "/privacy/audit?user=colleague%40west.test").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("colleague, Health visitor, West Health Visiting"));
        let (status, csv) = get(&po, &app, "/privacy/audit.csv?user=colleague%40west.test").await;
        assert_eq!(status, 200);
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r.split(',').nth(1) == Some("colleague")), "{csv}");
        assert!(rows.iter().any(|r| r.ends_with("web GET /persons/{id}")), "{csv}");

        // Everyone: the stranger's (East) events never appear in West's search.
        let (_, csv) = get(&po, &app, "/privacy/audit.csv").await;
        assert!(!csv.contains("stranger"), "{csv}");
        let (status, page) = get(&po, &app, "/privacy/audit?user=stranger%40east.test").await;
        assert_eq!(status, 422);
        assert!(page.contains("Enter the email address of someone in your council"));

        // By date: from tomorrow finds nothing; today finds the read; bad dates are named.
        let today = kindred_store::today();
        let tomorrow = today.next_day().unwrap();
        let q = |d: time::Date, prefix: &str| {
            format!(
                "{prefix}_day={}&{prefix}_month={}&{prefix}_year={}",
                d.day(),
                d.month() as u8,
                d.year()
            )
        };
        let (status, page) = get(&po, &app, &format!("/privacy/audit?{}", q(tomorrow, "from"))).await;
        assert_eq!(status, 200);
        assert!(page.contains("0 events"), "{page}");
        let (_, csv) = get(
            &po,
            &app,
            &format!(
                "/privacy/audit.csv?{}&{}&user=colleague%40west.test",
                q(today, "from"),
                q(today, "to")
            ),
        )
        .await;
        assert!(csv.lines().count() > 1, "{csv}");
        let (status, page) = get(&po, &app, "/privacy/audit?from_day=31&from_month=2&from_year=2025").await;
        assert_eq!(status, 422);
        assert!(page.contains("From date"), "{page}");
        let (status, page) = get(
            &po,
            &app,
            &format!("/privacy/audit?{}&{}", q(tomorrow, "from"), q(today, "to")),
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("To date must be the same as or after the from date"));
        let (status, page) = get(&po, &app, "/privacy/audit?record_id=abc").await;
        assert_eq!(status, 422);
        assert!(page.contains("Record number must be a whole number"));

        // The search itself is audited: which fields, never the values.
        let t = app.db.tenant_by_code("west").await.unwrap().id;
        let (events, _) = app
            .db
            .audit_search(
                &AuditFilter {
                    tenant_id: t,
                    record_kind: Some("audit_search".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .unwrap();
        assert!(
            events.iter().any(|e| e.event.detail.contains("fields=user ")),
            "{events:?}"
        );
        assert!(events.iter().all(|e| !e.event.detail.contains("colleague")));

        // Nobody else: not found.
        for email in ["lead@west.test", "admin@west.test", "manager@west.test"] {
            let (c, _) = app.sign_in(email).await;
            for path in [
                "/privacy/audit",
                "/privacy/audit.csv",
                "/privacy/sar",
                "/privacy/redaction-rules",
                &format!("/privacy/sar/{person}"),
                &format!("/privacy/sar/{person}.json"),
            ] {
                assert_eq!(get(&c, &app, path).await.0, 404, "{email} {path}");
            }
        }
    }
}

struct SarWorld {
    priya: i64,
    priya_nhs: NhsNumber,
    marek_nhs: NhsNumber,
}

/// A family of three: Priya Testwood (the subject), her partner Marek
/// Novakowski and their daughter Lena, with a note Priya and Marek were present
/// at, a sensitive note, and a consent Priya gave.
async fn sar_world(app: &TestApp) -> SarWorld {
    let db = &app.db;
    let t = db.tenant_by_code("west").await.unwrap();
    let lead = db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let today = kindred_store::today();
    let family = db
        .create_family(
            t.id,
            "Testwood household",
            &Creator {
                user_id: lead.id,
                organisation_id: lead.organisation_id,
                service: "Health visiting".into(),
            },
            today,
        )
        .await
        .unwrap();
    let person = |given: &str, family: &str, nhs: Option<NhsNumber>, dob: time::Date| PersonDetails {
        given_name: given.into(),
        family_name: family.into(),
        preferred_name: None,
        date_of_birth: Some(dob),
        expected_delivery: None,
        sex: Sex::Unknown,
        nhs_number: nhs,
        upn: None,
        language: None,
        interpreter_needed: false,
        send: false,
    };
    let (priya_nhs, marek_nhs) = (nhs(1), nhs(2));
    let priya = db
        .create_person(
            t.id,
            &person(
                "Priya",
                "Testwood",
                Some(priya_nhs),
                time::macros::date!(1991 - 06 - 07),
            ),
        )
        .await
        .unwrap();
    let marek = db
        .create_person(
            t.id,
            &person(
                "Marek",
                "Novakowski",
                Some(marek_nhs),
                time::macros::date!(1988 - 02 - 03),
            ),
        )
        .await
        .unwrap();
    let lena = db
        .create_person(
            t.id,
            &person("Lena", "Novakowski", None, time::macros::date!(2023 - 09 - 10)),
        )
        .await
        .unwrap();
    db.add_member(family.id, priya.id, MemberRole::Parent, today)
        .await
        .unwrap();
    db.add_member(family.id, marek.id, MemberRole::Parent, today)
        .await
        .unwrap();
    db.add_member(family.id, lena.id, MemberRole::Child, today)
        .await
        .unwrap();
    db.add_relationship(priya.id, marek.id, RelationshipKind::PartnerOf)
        .await
        .unwrap();
    db.add_contact(&NewContact {
        tenant_id: t.id,
        family_id: family.id,
        organisation_id: lead.organisation_id,
        author_user_id: lead.id,
        occurred_on: today,
        mode: "home_visit",
        visibility: "team",
        body: "Met Priya and MAREK at home, Lena Novakowski asleep. Priya said the plan is going well.".into(),
        people: vec![priya.id, marek.id],
        readers: vec![],
    })
    .await
    .unwrap();
    db.add_contact(&NewContact {
        tenant_id: t.id,
        family_id: family.id,
        organisation_id: lead.organisation_id,
        author_user_id: lead.id,
        occurred_on: today,
        mode: "phone",
        visibility: "sensitive",
        body: "Confidential disclosure recorded here.".into(),
        people: vec![priya.id],
        readers: vec![],
    })
    .await
    .unwrap();
    kindred_store::on_pool!(db, |p| sqlx::query(
        "INSERT INTO consents (tenant_id, person_id, given_by_person_id, purpose, all_partners, given_on, method,
           evidence, recorded_by_user_id, created_at_ms) VALUES ($1, $2, $2, 'early_help_sharing', TRUE, $3, 'written',
           'Signed form scanned', $4, 0)"
    )
    .bind(t.id)
    .bind(priya.id)
    .bind(today)
    .bind(lead.id)
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    SarWorld {
        priya: priya.id,
        priya_nhs,
        marek_nhs,
    }
}

#[tokio::test]
async fn a_subject_access_bundle_holds_the_subjects_data_and_redacts_others_by_the_rules() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let officer = privacy_officer(&app).await;
        let w = sar_world(&app).await;
        let (po, csrf) = app.sign_in(officer).await;

        // Found by NHS number; a wrong one is named.
        let res = po
            .post(app.url("/privacy/sar"))
            .form(&[("csrf", csrf.as_str()), ("nhs_number", &w.priya_nhs.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], format!("/privacy/sar/{}", w.priya).as_str());
        let res = po
            .post(app.url("/privacy/sar"))
            .form(&[("csrf", csrf.as_str()), ("nhs_number", "123")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("NHS number"));
        let res = po
            .post(app.url("/privacy/sar"))
            .form(&[("csrf", csrf.as_str()), ("person_id", "999999")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);

        let html_path = format!("/privacy/sar/{}", w.priya);
        let json_path = format!("/privacy/sar/{}.json", w.priya);
        let (status, html) = get(&po, &app, &html_path).await;
        assert_eq!(status, 200);
        let res = po.get(app.url(&json_path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let json = res.text().await.unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["format"], "kindred-sar/1");
        assert_eq!(parsed["subject"]["nhs_number"], w.priya_nhs.to_string());
        for (what, body) in [("html", &html), ("json", &json)] {
            assert!(
                body.contains(&w.priya_nhs.to_string()),
                "{what}: the subject's NHS number"
            );
            assert!(
                body.contains("said the plan is going well"),
                "{what}: a note they were present at"
            );
            assert!(body.contains("Signed form scanned"), "{what}: their consent");
            for other in ["Marek", "MAREK", "Novakowski", "Lena"] {
                assert!(!body.contains(other), "{what}: {other} must be redacted");
            }
            assert!(!body.contains(&w.marek_nhs.to_string()), "{what}");
            assert!(!body.contains(&w.marek_nhs.as_digits()), "{what}");
            assert!(body.contains("[redacted: third party]"), "{what}");
            assert!(
                !body.contains("Confidential disclosure"),
                "{what}: sensitive notes withheld"
            );
            assert!(body.contains("A note recorded as sensitive was withheld"), "{what}");
        }
        // Each bundle is audited as an export.
        let t = app.db.tenant_by_code("west").await.unwrap().id;
        let (events, _) = app
            .db
            .audit_search(
                &AuditFilter {
                    tenant_id: t,
                    record_kind: Some("sar".into()),
                    record_id: Some(w.priya),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .unwrap();
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.event.action == "export"));

        // Turn other_people off (keep sensitive notes withheld): the partner appears.
        let (_, rules_page) = get(&po, &app, "/privacy/redaction-rules").await;
        assert!(rules_page.contains("Redact other people"));
        let res = po
            .post(app.url("/privacy/redaction-rules"))
            .form(&[("csrf", csrf.as_str()), ("sensitive_notes", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (_, html) = get(&po, &app, &html_path).await;
        let (_, json) = get(&po, &app, &json_path).await;
        for body in [&html, &json] {
            assert!(body.contains("Marek Novakowski"));
            assert!(body.contains("MAREK"));
            assert!(!body.contains("Confidential disclosure"));
        }
        // Turn sensitive notes off too: the note is shown.
        po.post(app.url("/privacy/redaction-rules"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        let (_, json) = get(&po, &app, &json_path).await;
        assert!(json.contains("Confidential disclosure"));

        // Another tenant's privacy officer, or a worker: not found.
        let (lead, _) = app.sign_in("lead@west.test").await;
        assert_eq!(get(&lead, &app, &html_path).await.0, 404);
        assert_eq!(get(&po, &app, "/privacy/sar/abc").await.0, 404);
        assert_eq!(get(&po, &app, "/privacy/sar/987654.json").await.0, 404);
    }
}
