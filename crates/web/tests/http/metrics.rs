//! `/metrics`: request latency histograms per route pattern, in Prometheus'
//! text format, never with a path's own ids.

use crate::spawn_app;

#[tokio::test]
async fn metrics_give_latency_histograms_per_route_pattern() {
    let app = spawn_app().await;
    let (c, _) = app.sign_in("lead@west.test").await;
    for _ in 0..3 {
        assert_eq!(c.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    }
    let family = app.world.khan_family;
    assert_eq!(
        c.get(app.url(&format!("/families/{family}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = c.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains("# TYPE kindred_http_request_duration_seconds histogram"),
        "{text}"
    );
    let healthz = r#"{method="GET",route="/healthz""#;
    assert!(
        text.contains(&format!("kindred_http_request_duration_seconds_count{healthz}}} 3")),
        "{text}"
    );
    assert!(text.contains(&format!(
        "kindred_http_request_duration_seconds_bucket{healthz},le=\"+Inf\"}} 3"
    )));
    // Buckets are cumulative: never fewer at a larger bound.
    let counts: Vec<u64> = text
        .lines()
        .filter(|l| l.starts_with(&format!("kindred_http_request_duration_seconds_bucket{healthz}")))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 12);
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(text.contains(r#"kindred_http_request_duration_seconds_count{method="GET",route="/families/{id}"} 1"#));
    assert!(
        !text.contains(&format!("/families/{family}\"")),
        "the pattern, never the path"
    );
    assert!(text.contains(r#"route="/login""#), "sign-in was counted too");
}
