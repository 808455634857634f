//! Rate limits on the public routes: over a (small, configured) limit one
//! address gets 429 with Retry-After — a GOV.UK page on HTML routes, JSON on
//! the APIs — while signed-in pages are never limited by it.

use std::time::Duration;

use kindred_web::Config;
use kindred_web::rate_limit::RateLimit;

use crate::{client, spawn_with};

#[tokio::test]
async fn public_routes_answer_429_over_the_limit_and_signed_in_pages_do_not() {
    let config = Config {
        public_rate_limit: RateLimit::new(1, 3),
        ..Config::default()
    };
    let app = spawn_with(kindred_store::testing::fresh_sqlite().await, config).await;
    let c = client();
    for _ in 0..3 {
        assert_eq!(c.get(app.url("/directory")).send().await.unwrap().status(), 200);
    }
    let res = c.get(app.url("/directory")).send().await.unwrap();
    assert_eq!(res.status(), 429, "the fourth at once is refused");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"<h1 class="govuk-heading-l">Too many requests</h1>"#),
        "{page}"
    );
    assert!(page.contains("govuk-template"), "a whole GOV.UK page");

    // One bucket for every public route; the APIs answer in JSON.
    let res = c.get(app.url("/openreferral/services")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    let res = c.get(app.url("/fhir/metadata")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(body["issue"][0]["code"], "throttled");
    let res = c
        .post(app.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);

    // Signed-in pages from the same address go on as usual.
    let (staff, _) = app.sign_in("colleague@west.test").await;
    for _ in 0..30 {
        assert_eq!(staff.get(app.url("/")).send().await.unwrap().status(), 200);
    }
    let metrics = c.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kindred_http_rate_limited_total 4"), "{metrics}");

    // After the wait it asked for, the address is served again.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(c.get(app.url("/directory")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn without_a_configured_limit_nothing_is_refused() {
    let app = spawn_with(kindred_store::testing::fresh_sqlite().await, Config::default()).await;
    let c = client();
    for _ in 0..100 {
        assert_eq!(c.get(app.url("/fhir/metadata")).send().await.unwrap().status(), 200);
    }
}

/// Behind a trusted proxy each client has its own bucket (named by the
/// proxy's X-Forwarded-For); without that trust the header is ignored, so a
/// client cannot dodge the limit by naming another address.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_and_a_forged_header_changes_nothing() {
    let from = |c: &reqwest::Client, app: &crate::TestApp, who: &str| {
        c.get(app.url("/directory"))
            .header("x-forwarded-for", who.to_string())
            .send()
    };
    let config = Config {
        public_rate_limit: RateLimit::new(1, 2),
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Config::default()
    };
    let app = spawn_with(kindred_store::testing::fresh_sqlite().await, config).await;
    let c = client();
    for _ in 0..2 {
        assert_eq!(from(&c, &app, "203.0.113.5").await.unwrap().status(), 200);
    }
    assert_eq!(from(&c, &app, "203.0.113.5").await.unwrap().status(), 429);
    assert_eq!(
        from(&c, &app, "203.0.113.6").await.unwrap().status(),
        200,
        "another client behind the same proxy has its own bucket"
    );

    let config = Config {
        public_rate_limit: RateLimit::new(1, 2),
        ..Config::default()
    };
    let app = spawn_with(kindred_store::testing::fresh_sqlite().await, config).await;
    for who in ["203.0.113.5", "203.0.113.6"] {
        assert_eq!(from(&c, &app, who).await.unwrap().status(), 200);
    }
    assert_eq!(
        from(&c, &app, "203.0.113.7").await.unwrap().status(),
        429,
        "untrusted, the header is ignored: one bucket for the connection's address"
    );
}
