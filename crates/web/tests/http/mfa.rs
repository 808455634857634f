//! TOTP multi-factor authentication (issue 9), over real HTTP on SQLite and,
//! when `KINDRED_TEST_DATABASE_URL` is set, PostgreSQL. With MFA required a
//! right password gives a pending session that reaches nothing but the MFA
//! pages and sign-out; codes are computed here from the secret the enrolment
//! page shows, with `kindred_domain::totp` (itself checked against the RFC
//! 6238 vectors).

use kindred_domain::totp;
use kindred_store::{Db, testing};
use kindred_web::{Config, Mfa};

use crate::{PASSWORD, TestApp, client, csrf, spawn_with};

async fn spawn_required(db: Db) -> TestApp {
    spawn_with(
        db,
        Config {
            mfa: Mfa::Required,
            ..Config::default()
        },
    )
    .await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code for the current time step, and the step.
fn code_now(secret: &str) -> (String, u64) {
    let key = totp::decode_secret(secret).expect("a base32 secret");
    let t = now();
    (totp::code_at(&key, t), totp::step_at(t))
}

fn code_for(secret: &str, step: u64) -> String {
    totp::code_for_step(&totp::decode_secret(secret).unwrap(), step)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Signs in with the password alone; returns the client and where it was sent.
async fn password_only(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let c = client();
    let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = c
        .post(app.url("/login"))
        .form(&[("csrf", csrf(&page).as_str()), ("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "password sign-in for {email}");
    let to = location(&res);
    (c, to)
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let to = location(&res);
    (status, to, res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let to = location(&res);
    (status, to, res.text().await.unwrap())
}

/// The secret the enrolment page shows, without its spaces.
fn shown_secret(html: &str) -> String {
    let at = html
        .find("<code id=\"secret\">")
        .expect("the secret on the enrolment page")
        + "<code id=\"secret\">".len();
    html[at..].split('<').next().unwrap().replace(' ', "")
}

fn recovery_codes(html: &str) -> Vec<String> {
    let list = html
        .split("id=\"recovery-codes\"")
        .nth(1)
        .expect("the recovery codes")
        .split("</ul>")
        .next()
        .unwrap();
    list.split("<code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect()
}

/// A pending session enrols: the page, the QR code, a confirming code.
/// Returns the secret, the recovery codes and the step accepted.
async fn enrol(app: &TestApp, c: &reqwest::Client) -> (String, Vec<String>, u64) {
    let (status, to, _) = get(c, app, "/mfa").await;
    assert_eq!((status, to.as_str()), (303, "/mfa/enrol"), "not enrolled: to enrolment");
    let (status, _, page) = get(c, app, "/mfa/enrol").await;
    assert_eq!(status, 200);
    assert!(page.contains("Set up two-step verification"));
    assert!(
        page.contains("src=\"data:image/svg+xml;base64,"),
        "a QR code as an image"
    );
    assert!(page.contains("otpauth://totp/Kindred%3A"), "the otpauth URI");
    assert!(!page.contains("<script>"), "no inline script");
    let secret = shown_secret(&page);
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let (again_status, _, again) = get(c, app, "/mfa/enrol").await;
    assert_eq!(again_status, 200);
    assert_eq!(shown_secret(&again), secret, "the same secret until confirmed");
    let (code, step) = code_now(&secret);
    let (status, _, page) = post(c, app, "/mfa/enrol", &[("csrf", &csrf(&page)), ("code", &code)]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Save your recovery codes"));
    let codes = recovery_codes(&page);
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 14), "{codes:?}");
    (secret, codes, step)
}

/// Every route of the router, its parameters filled with ids of the world.
fn every_get_path(app: &TestApp) -> Vec<String> {
    let fam = app.world.khan_family.to_string();
    let person = app.world.khan_child.to_string();
    kindred_web::route_paths()
        .into_iter()
        .map(|p| {
            p.split('/')
                .map(|seg| match seg {
                    "{id}" if p.starts_with("/families/") => fam.clone(),
                    "{id}" if p.starts_with("/persons/") => person.clone(),
                    s if s.starts_with('{') => "1".into(),
                    s => s.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .map(|p| if p.is_empty() { "/".into() } else { p })
        .collect()
}

#[tokio::test]
async fn a_pending_session_reaches_nothing_but_the_mfa_pages() {
    for db in testing::fresh_databases().await {
        let app = spawn_required(db).await;
        let (c, to) = password_only(&app, "lead@west.test").await;
        assert_eq!(to, "/mfa", "a right password leads to the second factor");
        let family = format!("/families/{}", app.world.khan_family);
        for path in ["/", family.as_str(), "/search", "/tasks", "/login"] {
            let (status, to, body) = get(&c, &app, path).await;
            assert_eq!((status, to.as_str()), (303, "/mfa"), "{path}");
            assert!(!body.contains("Khan"), "{path}");
        }
        // Every route the router declares: a redirect to /mfa, or 401 in JSON.
        for path in every_get_path(&app) {
            if path.starts_with("/mfa") || path == "/logout" {
                continue;
            }
            let (status, to, body) = get(&c, &app, &path).await;
            assert!(
                (status == 303 && to == "/mfa") || status == 401,
                "{path}: {status} {to}"
            );
            for secret in ["Khan", "Aisha", "Zara", "Okafor"] {
                assert!(!body.contains(secret), "{path} shows {secret}");
            }
        }
        let (status, _, body) = get(&c, &app, "/imports/1/progress").await;
        assert_eq!(status, 401, "JSON answers 401");
        assert!(body.contains("mfa_required"));
        // The search form cannot be posted either, even with the pending session's token.
        let (_, _, page) = get(&c, &app, "/mfa/enrol").await;
        let token = csrf(&page);
        let (status, to, body) = post(&c, &app, "/search", &[("csrf", &token), ("name", "Khan")]).await;
        assert_eq!((status, to.as_str()), (303, "/mfa"));
        assert!(!body.contains("Zara"));
        // Signing out works from a pending session.
        let (status, to, _) = post(&c, &app, "/logout", &[("csrf", &token)]).await;
        assert_eq!((status, to.as_str()), (303, "/login"));
        let (_, to, _) = get(&c, &app, "/mfa").await;
        assert_eq!(to, "/login", "the pending session ended");
    }
}

#[tokio::test]
async fn enrol_confirm_then_codes_replays_and_recovery_codes() {
    for db in testing::fresh_databases().await {
        let app = spawn_required(db).await;
        let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
        let (c, _) = password_only(&app, "lead@west.test").await;
        let (_, _, page) = get(&c, &app, "/mfa/enrol").await;
        // A wrong confirming code is refused with an error summary.
        let secret = shown_secret(&page);
        let (good, step) = code_now(&secret);
        let wrong = code_for(&secret, step + 5);
        assert_ne!(wrong, good);
        let (status, _, body) = post(&c, &app, "/mfa/enrol", &[("csrf", &csrf(&page)), ("code", &wrong)]).await;
        assert_eq!(status, 422);
        assert!(body.contains("govuk-error-summary"), "{body}");
        assert!(body.contains("href=\"#code\""));
        let (secret, codes, step) = enrol(&app, &c).await;
        // The session is now a full one: the family opens.
        let family = format!("/families/{}", app.world.khan_family);
        let (status, _, body) = get(&c, &app, &family).await;
        assert_eq!(status, 200);
        assert!(body.contains("Khan household"));
        let (status, _, body) = get(&c, &app, "/mfa").await;
        assert_eq!(status, 200);
        assert!(body.contains("Set up on"), "the user's own status");
        assert!(body.contains("id=\"mfa-codes-left\">10<"));
        // An enrolled user is never shown the secret again.
        let (status, to, _) = get(&c, &app, "/mfa/enrol").await;
        assert_eq!((status, to.as_str()), (303, "/mfa"));

        // Next sign-in: the code page.
        let (c2, to) = password_only(&app, "lead@west.test").await;
        assert_eq!(to, "/mfa");
        let (status, _, page) = get(&c2, &app, "/mfa").await;
        assert_eq!(status, 200);
        assert!(page.contains("Enter the 6-digit code from your authenticator app"));
        let token = csrf(&page);
        // The code that confirmed the enrolment cannot be used again.
        let replayed = code_for(&secret, step);
        let (status, _, body) = post(&c2, &app, "/mfa", &[("csrf", &token), ("code", &replayed)]).await;
        assert_eq!(status, 422, "a replayed code is refused");
        assert!(body.contains("govuk-error-summary"));
        let (status, to, _) = get(&c2, &app, &family).await;
        assert_eq!((status, to.as_str()), (303, "/mfa"), "still pending");
        // The next step's code is accepted (within one step of now), once.
        let next = code_for(&secret, step + 1);
        let (status, to, _) = post(&c2, &app, "/mfa", &[("csrf", &token), ("code", &next)]).await;
        assert_eq!((status, to.as_str()), (303, "/"));
        let (status, _, _) = get(&c2, &app, &family).await;
        assert_eq!(status, 200);
        let (c3, _) = password_only(&app, "lead@west.test").await;
        let (_, _, page) = get(&c3, &app, "/mfa").await;
        let (status, _, _) = post(&c3, &app, "/mfa", &[("csrf", &csrf(&page)), ("code", &next)]).await;
        assert_eq!(status, 422, "the same code in another session is a replay too");

        // A recovery code works once, typed in any case and spacing.
        let typed = codes[0].to_uppercase().replace('-', " ");
        let (status, to, _) = post(&c3, &app, "/mfa", &[("csrf", &csrf(&page)), ("code", &typed)]).await;
        assert_eq!((status, to.as_str()), (303, "/"));
        let (c4, _) = password_only(&app, "lead@west.test").await;
        let (_, _, page) = get(&c4, &app, "/mfa").await;
        let (status, _, _) = post(&c4, &app, "/mfa", &[("csrf", &csrf(&page)), ("code", &codes[0])]).await;
        assert_eq!(status, 422, "a used recovery code is refused");
        let (status, to, _) = post(&c4, &app, "/mfa", &[("csrf", &csrf(&page)), ("code", &codes[1])]).await;
        assert_eq!((status, to.as_str()), (303, "/"));
        assert_eq!(app.db.mfa_recovery_codes_left(lead.id).await.unwrap(), 8);

        // Audited, with no secret or code in any event.
        let events = app.db.audit_events_since(0, 10_000).await.unwrap();
        let mfa: Vec<_> = events.iter().filter(|e| e.record_kind == "mfa").collect();
        let has = |action: &str, detail: &str| {
            mfa.iter()
                .any(|e| e.action == action && e.detail.contains(detail) && e.actor_user_id == Some(lead.id))
        };
        assert!(has("create", "enrolled"));
        assert!(has("sign_in_failed", "enrolment code refused"));
        assert!(has("sign_in_failed", "code refused"));
        assert!(has("sign_in", "authenticator app"));
        assert!(has("sign_in", "recovery code"));
        assert!(has("update", "recovery code used; 9 left"));
        for e in &events {
            let text = format!("{} {}", e.route, e.detail);
            assert!(!text.contains(&secret), "a secret in the audit trail");
            for code in codes.iter().chain([&next, &replayed, &good]) {
                assert!(!text.contains(code.as_str()), "a code in the audit trail: {text}");
            }
        }
    }
}

#[tokio::test]
async fn wrong_codes_count_in_the_sign_in_throttle() {
    for db in testing::fresh_databases().await {
        let app = spawn_required(db).await;
        let (c, _) = password_only(&app, "colleague@west.test").await;
        let (secret, _, step) = enrol(&app, &c).await;
        let (c, _) = password_only(&app, "colleague@west.test").await;
        let (_, _, page) = get(&c, &app, "/mfa").await;
        let token = csrf(&page);
        let wrong = code_for(&secret, step + 7);
        for i in 0..5 {
            let (status, _, body) = post(&c, &app, "/mfa", &[("csrf", &token), ("code", &wrong)]).await;
            assert_eq!(status, 422, "attempt {i}");
            assert!(body.contains("The code is not correct or has already been used"));
            assert!(body.contains("govuk-error-summary"));
        }
        // The sixth attempt is refused before it is checked, even with the right code…
        let right = code_for(&secret, step + 1);
        let (status, _, _) = post(&c, &app, "/mfa", &[("csrf", &token), ("code", &right)]).await;
        assert_eq!(status, 429, "too many wrong codes");
        // …and a fresh password sign-in does not wipe the count.
        let fresh = client();
        let login = fresh.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let res = fresh
            .post(app.url("/login"))
            .form(&[
                ("csrf", csrf(&login).as_str()),
                ("email", "colleague@west.test"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "the account is throttled for password sign-in too");
        let (status, to, _) = get(&c, &app, &format!("/families/{}", app.world.khan_family)).await;
        assert_eq!((status, to.as_str()), (303, "/mfa"));
    }
}

#[tokio::test]
async fn an_administrator_reset_makes_the_user_enrol_again() {
    for db in testing::fresh_databases().await {
        let app = spawn_required(db).await;
        let (c, _) = password_only(&app, "triage@west.test").await;
        let (secret, _, _) = enrol(&app, &c).await;
        let triage = app.db.user_by_email("triage@west.test").await.unwrap().unwrap();
        let (status, _, _) = get(&c, &app, "/triage").await;
        assert_eq!(status, 200);

        // The administrator is not asked for a second factor.
        let (admin, to) = password_only(&app, "admin@west.test").await;
        assert_eq!(to, "/", "an administrator who sees no case content is not forced");
        let (status, _, page) = get(&admin, &app, "/admin/users").await;
        assert_eq!(status, 200);
        assert!(page.contains(&format!("/admin/users/{}/mfa-reset", triage.id)));
        let (status, to, _) = post(
            &admin,
            &app,
            &format!("/admin/users/{}/mfa-reset", triage.id),
            &[("csrf", &csrf(&page))],
        )
        .await;
        assert_eq!((status, to.as_str()), (303, "/admin/users"));
        let admin_user = app.db.user_by_email("admin@west.test").await.unwrap().unwrap();
        let events = app.db.audit_events_since(0, 10_000).await.unwrap();
        assert!(events.iter().any(|e| e.record_kind == "mfa"
            && e.action == "update"
            && e.record_id == Some(triage.id)
            && e.actor_user_id == Some(admin_user.id)
            && e.detail.contains("reset")));
        // Resetting ended the user's sessions.
        let (status, to, _) = get(&c, &app, "/triage").await;
        assert_eq!((status, to.as_str()), (303, "/login"));
        // A practitioner's pending session cannot reach the reset.
        let (lead, _) = password_only(&app, "lead@west.test").await;
        let (_, _, page) = get(&lead, &app, "/mfa/enrol").await;
        let (status, _, _) = post(
            &lead,
            &app,
            &format!("/admin/users/{}/mfa-reset", triage.id),
            &[("csrf", &csrf(&page))],
        )
        .await;
        assert_eq!(status, 303, "a pending session is sent to /mfa");

        // At the next sign-in the user enrols again, with a new secret.
        let (c, to) = password_only(&app, "triage@west.test").await;
        assert_eq!(to, "/mfa");
        let (new_secret, _, _) = enrol(&app, &c).await;
        assert_ne!(new_secret, secret);
        let (status, _, _) = get(&c, &app, "/triage").await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn mfa_off_lets_everyone_through_and_administrators_may_enrol() {
    let app = spawn_with(testing::fresh_sqlite().await, Config::default()).await;
    for email in ["lead@west.test", "triage@west.test", "manager@west.test"] {
        let (c, to) = password_only(&app, email).await;
        assert_eq!(to, "/", "{email}");
        let (status, _, _) = get(&c, &app, "/search").await;
        assert_eq!(status, 200, "{email}");
    }
    // An enrolled user is not asked either while MFA is off.
    let (c, _) = password_only(&app, "admin@west.test").await;
    let (status, _, page) = get(&c, &app, "/mfa").await;
    assert_eq!(status, 200);
    assert!(page.contains("Not set up"));
    let (status, _, page) = get(&c, &app, "/mfa/enrol").await;
    assert_eq!(status, 200);
    let secret = shown_secret(&page);
    let (code, _) = code_now(&secret);
    let (status, _, page) = post(&c, &app, "/mfa/enrol", &[("csrf", &csrf(&page)), ("code", &code)]).await;
    assert_eq!(status, 200);
    assert_eq!(recovery_codes(&page).len(), 10);
    let (c, to) = password_only(&app, "admin@west.test").await;
    assert_eq!(to, "/");
    let (status, _, _) = get(&c, &app, "/admin/users").await;
    assert_eq!(status, 200);

    // With MFA required, an enrolled administrator is still not forced.
    let app = spawn_required(testing::fresh_sqlite().await).await;
    let (c, to) = password_only(&app, "admin@west.test").await;
    assert_eq!(to, "/");
    let (status, _, _) = get(&c, &app, "/admin/users").await;
    assert_eq!(status, 200);
}

/// A secret shown to one session is no use to another: someone else who
/// knows the password and opened the enrolment page first gets nothing.
#[tokio::test]
async fn each_session_is_shown_its_own_secret_until_one_confirms() {
    let app = spawn_required(testing::fresh_sqlite().await).await;
    let (first, _) = password_only(&app, "manager@west.test").await;
    let (_, _, first_page) = get(&first, &app, "/mfa/enrol").await;
    let first_secret = shown_secret(&first_page);
    let (second, _) = password_only(&app, "manager@west.test").await;
    let (_, _, second_page) = get(&second, &app, "/mfa/enrol").await;
    let second_secret = shown_secret(&second_page);
    assert_ne!(first_secret, second_secret);
    // The first session's code no longer confirms anything.
    let (code, _) = code_now(&first_secret);
    let (status, to, _) = post(
        &first,
        &app,
        "/mfa/enrol",
        &[("csrf", &csrf(&first_page)), ("code", &code)],
    )
    .await;
    assert_eq!((status, to.as_str()), (303, "/mfa/enrol"));
    let (status, _, _) = get(&first, &app, "/").await;
    assert_eq!(status, 303, "still pending");
    // The second session enrols with its own.
    let (code, _) = code_now(&second_secret);
    let (status, _, _) = post(
        &second,
        &app,
        "/mfa/enrol",
        &[("csrf", &csrf(&second_page)), ("code", &code)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = get(&second, &app, "/").await;
    assert_eq!(status, 200);
}
