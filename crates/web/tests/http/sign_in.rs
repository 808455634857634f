use crate::{PASSWORD, client, csrf, spawn_app, spawn_with};

#[tokio::test]
async fn sign_in_then_out() {
    let app = spawn_app().await;
    let c = client();
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let (c, token) = app.sign_in("lead@west.test").await;
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["cache-control"], "no-store");
    assert!(
        home.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(home.text().await.unwrap().contains("Khan household"));
    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login", "the session ended");
}

/// An unknown email gets the same status and the same page as a wrong password.
#[tokio::test]
async fn unknown_user_looks_like_wrong_password() {
    let app = spawn_app().await;
    let mut pages = vec![];
    for email in ["lead@west.test", "nobody@west.test"] {
        let c = client();
        let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let res = c
            .post(app.url("/login"))
            .form(&[
                ("csrf", csrf(&page).as_str()),
                ("email", email),
                ("password", "not the password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res
            .text()
            .await
            .unwrap()
            .replace(email, "EMAIL")
            .replace(&csrf(&page), "TOKEN");
        assert!(body.contains("Enter a correct email address and password"));
        pages.push(body);
    }
    assert_eq!(pages[0], pages[1]);
}

#[tokio::test]
async fn sign_in_is_throttled_after_repeated_failures() {
    let app = spawn_app().await;
    let c = client();
    let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf(&page);
    for _ in 0..5 {
        let res = c
            .post(app.url("/login"))
            .form(&[
                ("csrf", token.as_str()),
                ("email", "lead@west.test"),
                ("password", "wrong guess"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
    }
    // Even the right password is refused now, so guessing cannot continue.
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", token.as_str()),
            ("email", "lead@west.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // Other accounts are unaffected.
    app.sign_in("colleague@west.test").await;
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    let c = client();
    c.get(app.url("/login")).send().await.unwrap();
    let res = c
        .post(app.url("/login"))
        .form(&[("csrf", "forged"), ("email", "lead@west.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "sign-in needs the token from its own cookie");

    let (c, token) = app.sign_in("lead@west.test").await;
    for bad in ["", "forged"] {
        let res = c
            .post(app.url("/search"))
            .form(&[("csrf", bad), ("name", "Khan")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let res = c.post(app.url("/logout")).form(&[("csrf", bad)]).send().await.unwrap();
        assert_eq!(res.status(), 400);
    }
    let res = c
        .post(app.url("/search"))
        .form(&[("csrf", token.as_str()), ("name", "Khan")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn tls_deployments_use_host_prefixed_secure_cookies_and_hsts() {
    let db = kindred_store::testing::fresh_sqlite().await;
    let app = spawn_with(
        db,
        kindred_web::Config {
            tls: true,
            ..Default::default()
        },
    )
    .await;
    let res = client().get(app.url("/login")).send().await.unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let plain = spawn_app().await;
    let res = client().get(plain.url("/login")).send().await.unwrap();
    assert!(!res.headers()["set-cookie"].to_str().unwrap().starts_with("__Host-"));
    assert!(res.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn disabled_users_lose_their_sessions() {
    let app = spawn_app().await;
    let (c, _) = app.sign_in("colleague@west.test").await;
    let user = app.db.user_by_email("colleague@west.test").await.unwrap().unwrap();
    app.db.set_user_active(user.id, false).await.unwrap();
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login");
}
