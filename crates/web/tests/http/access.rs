use kindred_store::testing;

use crate::{spawn_app, spawn_with};

/// A page the user may not see is byte-for-byte the page of a record that does not exist.
#[tokio::test]
async fn no_access_looks_exactly_like_not_found() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let (lead, _) = app.sign_in("lead@west.test").await;
        let family = format!("/families/{}", app.world.khan_family);
        let res = lead.get(app.url(&family)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Zara Khan"));

        let mut reference = None;
        for email in [
            "teacher@west.test",
            "admin@west.test",
            "stranger@east.test",
            "triage@west.test",
        ] {
            let (c, _) = app.sign_in(email).await;
            for path in [
                family.clone(),
                format!("/persons/{}", app.world.khan_child),
                format!("/families/{}/access-log", app.world.khan_family),
                format!("/families/{}/edit", app.world.khan_family),
            ] {
                let denied = c.get(app.url(&path)).send().await.unwrap();
                assert_eq!(denied.status(), 404, "{email} {path}");
                let body = denied.text().await.unwrap();
                assert!(!body.contains("Khan"), "{email} {path} must not reveal the record");
                let missing = c.get(app.url("/families/987654")).send().await.unwrap();
                assert_eq!(missing.status(), 404);
                let missing = missing.text().await.unwrap();
                // Same page but for the signed-in frame, which is the same for one user.
                assert_eq!(body, missing, "{email} {path}");
                reference.get_or_insert(body);
            }
        }
    }
}

#[tokio::test]
async fn working_relationships_open_the_record_and_each_view_is_audited() {
    let app = spawn_app().await;
    let family = format!("/families/{}", app.world.khan_family);
    // Same organisation as the lead: involvement gives access, but not to the access log.
    let (colleague, _) = app.sign_in("colleague@west.test").await;
    assert_eq!(colleague.get(app.url(&family)).send().await.unwrap().status(), 200);
    assert_eq!(
        colleague
            .get(app.url(&format!("{family}/access-log")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // A manager of the involved organisation sees the work and who looked at it.
    let (manager, _) = app.sign_in("manager@west.test").await;
    let log = manager
        .get(app.url(&format!("{family}/access-log")))
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), 200);
    let log = log.text().await.unwrap();
    assert!(log.contains("colleague"), "the colleague's view is listed");
    assert!(
        log.contains("organisation involved"),
        "with the reason access was allowed"
    );
    // A triage officer sees the family once a referral is open, and not after.
    let (triage, _) = app.sign_in("triage@west.test").await;
    assert_eq!(triage.get(app.url(&family)).send().await.unwrap().status(), 404);
    let referral = app.db.open_referral(1, app.world.khan_family).await.unwrap();
    assert_eq!(triage.get(app.url(&family)).send().await.unwrap().status(), 200);
    app.db.close_referral(referral).await.unwrap();
    assert_eq!(triage.get(app.url(&family)).send().await.unwrap().status(), 404);

    let report = app.db.verify_audit().await.unwrap();
    assert!(report.broken.is_none());
    let events = app.db.family_access_log(app.world.khan_family, 100).await.unwrap();
    assert!(events.iter().filter(|e| e.event.action == "read").count() >= 3);
}

#[tokio::test]
async fn search_finds_only_people_the_user_works_with() {
    let app = spawn_app().await;
    let (lead, token) = app.sign_in("lead@west.test").await;
    let res = lead
        .post(app.url("/search"))
        .form(&[("csrf", token.as_str()), ("name", "Kahn")])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Zara Khan") && body.contains("Aisha Khan"),
        "typo-tolerant"
    );
    assert!(!body.contains("Chidi"), "the Okafor family is not the lead's to see");
    let (eh, token) = app.sign_in("eh@west.test").await;
    let body = eh
        .post(app.url("/search"))
        .form(&[("csrf", token.as_str()), ("name", "khan")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Chidi Khan") && !body.contains("Zara"));
    let (admin, token) = app.sign_in("admin@west.test").await;
    let body = admin
        .post(app.url("/search"))
        .form(&[("csrf", token.as_str()), ("name", "khan")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("0 people found"));
    let searches = app
        .db
        .audit_events_since(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "search")
        .count();
    assert_eq!(searches, 3);
    // Search terms never reach the audit trail.
    assert!(
        app.db
            .audit_events_since(0, 1000)
            .await
            .unwrap()
            .iter()
            .all(|e| !e.detail.to_lowercase().contains("khan"))
    );
}

#[tokio::test]
async fn malformed_and_unknown_addresses_get_the_same_not_found_page() {
    let app = spawn_app().await;
    let (c, _) = app.sign_in("lead@west.test").await;
    let missing = c
        .get(app.url("/families/987654"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for path in [
        "/families/new/access-log",
        "/families/12abc",
        "/no/such/page",
        "/persons/-",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.text().await.unwrap(), missing, "{path}");
    }
}
