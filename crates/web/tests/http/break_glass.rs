//! Break-glass over real HTTP: a reason and the password again open a family
//! the worker could not see, to look and not to change, until it expires;
//! wrong or missing answers open nothing; a sealed family is refused with the
//! same words as an NHS number nobody holds, and no override is made; the
//! privacy officer (and nobody else) reviews each use once; a safeguarding
//! override is shown on the family page and reviewed too.

use kindred_domain::NhsNumber;
use kindred_domain::model::{MemberRole, Profession, Role, Sex};
use kindred_domain::sharing::{BREAK_GLASS_MS, OverrideKind};
use kindred_store::overrides::NewOverride;
use kindred_store::persons::PersonDetails;
use kindred_store::testing;
use kindred_store::users::NewUser;

use crate::{PASSWORD, TestApp, spawn_with};

const REASON: &str = "Police called: the child was found alone at the station tonight";
const REFUSED: &str = "Emergency access could not be given for that NHS number.";

async fn read(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// POSTs a form; returns the status, the redirect target and the body.
async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let to = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, to, res.text().await.unwrap())
}

/// A valid test-range NHS number from a seed.
fn nhs(seed: u8) -> NhsNumber {
    (0..10u8)
        .find_map(|k| NhsNumber::from_first_nine([9, 9, 9, 4, 4, seed / 10 % 10, seed % 10, k, 1]))
        .unwrap()
}

/// A new member of `family` with an NHS number.
async fn member_with_nhs(app: &TestApp, family: i64, n: NhsNumber) {
    let t = app.db.family(family).await.unwrap().tenant_id;
    let p = app
        .db
        .create_person(
            t,
            &PersonDetails {
                given_name: "Sam".into(),
                family_name: "Glass".into(),
                preferred_name: None,
                date_of_birth: Some(time::macros::date!(2016 - 04 - 04)),
                expected_delivery: None,
                sex: Sex::Unknown,
                nhs_number: Some(n),
                upn: None,
                language: None,
                interpreter_needed: false,
                send: false,
            },
        )
        .await
        .unwrap();
    app.db
        .add_member(family, p.id, MemberRole::Child, kindred_store::today())
        .await
        .unwrap();
}

/// The West privacy officer.
pub(crate) async fn privacy_officer(app: &TestApp) -> i64 {
    let west = app.db.family(app.world.khan_family).await.unwrap().tenant_id;
    let org = app
        .db
        .user_by_email("lead@west.test")
        .await
        .unwrap()
        .unwrap()
        .organisation_id;
    app.db
        .create_user(&NewUser {
            tenant_id: west,
            organisation_id: org,
            team_id: None,
            email: "privacy@west.test".into(),
            display_name: "privacy".into(),
            profession: Profession::Administrator,
            roles: vec![Role::PrivacyOfficer],
            password_hash: kindred_web::passwords::hash(PASSWORD),
        })
        .await
        .unwrap()
        .id
}

fn glass_form<'a>(token: &'a str, nhs: &'a str, reason: &'a str, password: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("csrf", token),
        ("nhs_number", nhs),
        ("reason", reason),
        ("password", password),
    ]
}

#[tokio::test]
async fn break_glass_opens_a_family_to_look_until_it_expires_and_the_privacy_officer_reviews_it_once() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let number = nhs(1);
        member_with_nhs(&app, khan, number).await;
        let digits = number.as_digits();
        let (teacher, token) = app.sign_in("teacher@west.test").await;
        assert_eq!(read(&app, &teacher, &format!("/families/{khan}")).await.0, 404);

        // The way in: from search, and the form.
        let (_, _, results) = post(&app, &teacher, "/search", &[("csrf", &token), ("name", "Nobody")]).await;
        assert!(results.contains("href=\"/break-glass\""), "search links to break-glass");
        let (status, page) = read(&app, &teacher, "/break-glass").await;
        assert_eq!(status, 200);
        assert!(page.contains("Break the glass"));

        // Wrong password, short reason, bad NHS number: field errors, nothing opened.
        let (status, _, page) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &digits, "urgent", "not my password"),
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("The password is not correct"), "{page}");
        assert!(page.contains("The reason must be 20 characters or more"));
        assert!(page.contains("urgent"), "the reason typed is kept");
        assert!(!page.contains("not my password"), "the password is never sent back");
        let (status, _, page) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &digits, "", PASSWORD),
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("Enter the reason you need emergency access"));
        let (status, _, page) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, "123", REASON, PASSWORD),
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("href=\"#nhs_number\""), "{page}");
        let (status, _, page) = post(&app, &teacher, "/break-glass", &glass_form(&token, &digits, REASON, "")).await;
        assert_eq!(status, 422);
        assert!(page.contains("Enter your password to confirm it is you"));
        assert!(app.db.overrides_of_family(khan).await.unwrap().is_empty());
        assert_eq!(read(&app, &teacher, &format!("/families/{khan}")).await.0, 404);

        // The right password and a reason: the family opens, with the banner; Edit does not.
        let (status, to, _) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &number.to_string(), REASON, PASSWORD),
        )
        .await;
        assert_eq!((status, to.as_str()), (303, format!("/families/{khan}").as_str()));
        let (status, page) = read(&app, &teacher, &format!("/families/{khan}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Emergency access until"), "{page}");
        assert!(page.contains(REASON));
        assert!(page.contains("The privacy officer will review this."));
        assert!(
            !page.contains("/safeguarding-override"),
            "break-glass cannot record an override"
        );
        let (status, page) = read(&app, &teacher, &format!("/families/{khan}/profile")).await;
        assert_eq!(status, 200, "the 360° profile too");
        assert!(
            page.contains("Emergency access until"),
            "the banner on every family page"
        );
        assert_eq!(read(&app, &teacher, &format!("/families/{khan}/edit")).await.0, 404);
        assert_eq!(
            read(&app, &teacher, &format!("/families/{khan}/safeguarding-override"))
                .await
                .0,
            404
        );
        let overrides = app.db.overrides_of_family(khan).await.unwrap();
        assert_eq!(overrides.len(), 1);
        let glass = &overrides[0];
        assert_eq!(glass.kind(), Some(OverrideKind::BreakGlass));
        assert_eq!(glass.review_status, "pending");
        assert_eq!(glass.expires_at_ms - glass.started_at_ms, BREAK_GLASS_MS);
        // Again, with access already: sent to the family, nothing new.
        let (status, to, _) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &digits, REASON, PASSWORD),
        )
        .await;
        assert_eq!((status, to.as_str()), (303, format!("/families/{khan}").as_str()));
        assert_eq!(app.db.overrides_of_family(khan).await.unwrap().len(), 1);
        // Neither the reason nor the NHS number is in the audit trail.
        let events = app.db.audit_events_since(0, 10_000).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.record_kind == "access_override" && e.detail == "break_glass")
        );
        assert!(
            events
                .iter()
                .any(|e| e.action == "sign_in_failed" && e.record_kind == "break_glass")
        );
        assert!(events.iter().all(|e| !e.detail.contains("Police")
            && !e.detail.contains(&digits[..6])
            && !e.route.contains(&digits[..6])));

        // Expiry: an override whose time is up opens nothing.
        let sw = app.db.user_by_email("sw@west.test").await.unwrap().unwrap();
        let (social, _) = app.sign_in("sw@west.test").await;
        let now = kindred_store::now_ms();
        let tenant = app.db.family(khan).await.unwrap().tenant_id;
        app.db
            .create_override(&NewOverride {
                tenant_id: tenant,
                family_id: khan,
                user_id: sw.id,
                kind: OverrideKind::BreakGlass,
                reason: "An emergency five hours ago, long over now",
                started_at_ms: now - 5 * 3_600_000,
                expires_at_ms: now - 3_600_000,
            })
            .await
            .unwrap();
        assert_eq!(read(&app, &social, &format!("/families/{khan}")).await.0, 404);
        assert_eq!(read(&app, &social, &format!("/families/{khan}/profile")).await.0, 404);

        // The privacy officer's queue, and nobody else's.
        privacy_officer(&app).await;
        for email in [
            "teacher@west.test",
            "lead@west.test",
            "admin@west.test",
            "triage@west.test",
        ] {
            let (c, _) = app.sign_in(email).await;
            assert_eq!(read(&app, &c, "/privacy/reviews").await.0, 404, "{email}");
            assert_eq!(read(&app, &c, &format!("/privacy/reviews/{}", glass.id)).await.0, 404);
            assert_eq!(read(&app, &c, "/privacy/sealed").await.0, 404);
        }
        let (stranger, stoken) = app.sign_in("stranger@east.test").await;
        assert_eq!(read(&app, &stranger, "/privacy/reviews").await.0, 404);
        let (status, _, _) = post(
            &app,
            &stranger,
            &format!("/privacy/reviews/{}", glass.id),
            &[("csrf", &stoken), ("decision", "accepted")],
        )
        .await;
        assert_eq!(status, 404);
        let (officer, otoken) = app.sign_in("privacy@west.test").await;
        let (status, home) = read(&app, &officer, "/").await;
        assert_eq!(status, 200);
        assert!(home.contains("waiting for review"), "{home}");
        assert!(home.contains("href=\"/privacy/reviews\""));
        assert!(
            !home.contains("href=\"/search\""),
            "no case work for the privacy officer"
        );
        let (status, queue) = read(&app, &officer, "/privacy/reviews").await;
        assert_eq!(status, 200);
        assert!(queue.contains("Waiting for review (2)"), "{queue}");
        assert!(queue.contains("teacher") && queue.contains("West School"));
        assert!(queue.contains("Khan household") && queue.contains(&format!("Family {khan}")));
        assert!(queue.contains(REASON));
        assert!(queue.contains("Active now"));
        assert!(queue.contains("(ended)"), "the expired one");
        assert!(!queue.contains("Aisha"), "no case content: {queue}");
        assert_eq!(read(&app, &officer, &format!("/families/{khan}")).await.0, 404);
        let path = format!("/privacy/reviews/{}", glass.id);
        let (status, page) = read(&app, &officer, &path).await;
        assert_eq!(status, 200);
        assert!(page.contains("Record the review"));
        let (status, _, page) = post(&app, &officer, &path, &[("csrf", &otoken), ("decision", "referred")]).await;
        assert_eq!(status, 422);
        assert!(page.contains("Enter a note saying why you are referring this use"));
        let (status, _, page) = post(&app, &officer, &path, &[("csrf", &otoken)]).await;
        assert_eq!(status, 422);
        assert!(page.contains("Choose whether to accept this use or refer it"));
        let (status, to, _) = post(&app, &officer, &path, &[("csrf", &otoken), ("decision", "accepted")]).await;
        assert_eq!((status, to.as_str()), (303, "/privacy/reviews"));
        let (status, _, _) = post(
            &app,
            &officer,
            &path,
            &[("csrf", &otoken), ("decision", "referred"), ("note", "changed my mind")],
        )
        .await;
        assert_eq!(status, 409, "a review is recorded once");
        let (_, queue) = read(&app, &officer, "/privacy/reviews").await;
        assert!(queue.contains("Waiting for review (1)"));
        assert!(queue.contains("Accepted"));
        assert_eq!(
            app.db
                .overrides_of_family(khan)
                .await
                .unwrap()
                .iter()
                .find(|o| o.id == glass.id)
                .unwrap()
                .review_status,
            "accepted"
        );
        let expired = app
            .db
            .overrides_of_family(khan)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.user_id == sw.id)
            .unwrap();
        let (status, to, _) = post(
            &app,
            &officer,
            &format!("/privacy/reviews/{}", expired.id),
            &[
                ("csrf", &otoken),
                ("decision", "referred"),
                ("note", "No emergency on record"),
            ],
        )
        .await;
        assert_eq!((status, to.as_str()), (303, "/privacy/reviews"));
        let (_, queue) = read(&app, &officer, "/privacy/reviews").await;
        assert!(queue.contains("Referred for investigation") && queue.contains("No emergency on record"));
        assert!(queue.contains("Nothing is waiting for review."));
    }
}

#[tokio::test]
async fn a_sealed_family_is_refused_like_an_unknown_nhs_number_and_no_override_is_made() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let other = app.world.other_family;
        let number = nhs(2);
        member_with_nhs(&app, other, number).await;
        privacy_officer(&app).await;
        let (officer, otoken) = app.sign_in("privacy@west.test").await;
        // Sealing: field errors first.
        let (status, _, page) = post(
            &app,
            &officer,
            "/privacy/sealed",
            &[("csrf", &otoken), ("family_id", "abc"), ("reason", "")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("number must be a whole number, like 1234"));
        assert!(page.contains("Enter the reason for sealing"));
        let (status, _, page) = post(
            &app,
            &officer,
            "/privacy/sealed",
            &[("csrf", &otoken), ("family_id", "999999"), ("reason", "Adoption")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("There is no family with that number in your council"));
        let (status, to, _) = post(
            &app,
            &officer,
            "/privacy/sealed",
            &[
                ("csrf", &otoken),
                ("family_id", &other.to_string()),
                ("reason", "Adoption order made"),
            ],
        )
        .await;
        assert_eq!((status, to.as_str()), (303, "/privacy/sealed"));
        let (_, list) = read(&app, &officer, "/privacy/sealed").await;
        assert!(
            list.contains("Okafor household") && list.contains("Adoption order made"),
            "{list}"
        );

        let (teacher, token) = app.sign_in("teacher@west.test").await;
        let (status, _, sealed) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &number.as_digits(), REASON, PASSWORD),
        )
        .await;
        assert_eq!(status, 422);
        assert!(sealed.contains(REFUSED), "{sealed}");
        let (status, _, unknown) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &nhs(3).as_digits(), REASON, PASSWORD),
        )
        .await;
        assert_eq!(status, 422);
        let strip = |p: &str, n: &NhsNumber| p.replace(&n.as_digits(), "N");
        assert_eq!(
            strip(&sealed, &number),
            strip(&unknown, &nhs(3)),
            "a sealed family reads exactly like nobody"
        );
        assert!(app.db.overrides_of_family(other).await.unwrap().is_empty());
        assert_eq!(read(&app, &teacher, &format!("/families/{other}")).await.0, 404);
        let events = app.db.audit_events_since(0, 10_000).await.unwrap();
        assert_eq!(
            events
                .iter()
                .filter(|e| e.record_kind == "break_glass" && e.detail == "break_glass refused")
                .count(),
            2
        );

        // Unsealed, the same request opens it.
        let (status, _, _) = post(
            &app,
            &officer,
            &format!("/privacy/sealed/{other}/unseal"),
            &[("csrf", &otoken)],
        )
        .await;
        assert_eq!(status, 303);
        let (status, to, _) = post(
            &app,
            &teacher,
            "/break-glass",
            &glass_form(&token, &number.as_digits(), REASON, PASSWORD),
        )
        .await;
        assert_eq!((status, to.as_str()), (303, format!("/families/{other}").as_str()));
        assert_eq!(read(&app, &teacher, &format!("/families/{other}")).await.0, 200);
        // A worker of another council finds nothing in West.
        let (stranger, stoken) = app.sign_in("stranger@east.test").await;
        let (status, _, page) = post(
            &app,
            &stranger,
            "/break-glass",
            &glass_form(&stoken, &number.as_digits(), REASON, PASSWORD),
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains(REFUSED));
        // Administrators and privacy officers do not break the glass.
        let (admin, _) = app.sign_in("admin@west.test").await;
        assert_eq!(read(&app, &admin, "/break-glass").await.0, 404);
        assert_eq!(read(&app, &officer, "/break-glass").await.0, 404);
    }
}

#[tokio::test]
async fn a_safeguarding_override_is_shown_on_the_family_page_and_reviewed() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let path = format!("/families/{khan}/safeguarding-override");
        let (teacher, ttoken) = app.sign_in("teacher@west.test").await;
        assert_eq!(read(&app, &teacher, &path).await.0, 404);
        let (status, _, _) = post(&app, &teacher, &path, &[("csrf", &ttoken), ("reason", REASON)]).await;
        assert_eq!(status, 404);
        let (lead, token) = app.sign_in("lead@west.test").await;
        let (_, family) = read(&app, &lead, &format!("/families/{khan}")).await;
        assert!(family.contains(&format!("href=\"{path}\"")));
        assert_eq!(read(&app, &lead, &path).await.0, 200);
        let (status, _, page) = post(&app, &lead, &path, &[("csrf", &token), ("reason", "worried")]).await;
        assert_eq!(status, 422);
        assert!(page.contains("The reason must be 20 characters or more"));
        let why = "Disclosure of harm at the home visit; school must know today";
        let (status, to, _) = post(&app, &lead, &path, &[("csrf", &token), ("reason", why)]).await;
        assert_eq!(status, 303);
        assert!(to.starts_with(&format!("/families/{khan}")));
        // Everyone with access sees who, when, until and why.
        let (colleague, _) = app.sign_in("colleague@west.test").await;
        let (status, page) = read(&app, &colleague, &format!("/families/{khan}")).await;
        assert_eq!(status, 200);
        assert!(page.contains(why), "{page}");
        assert!(page.contains("lead (West Health Visiting)"));
        assert!(page.contains("shared without consent for safeguarding, until"));
        privacy_officer(&app).await;
        let (officer, _) = app.sign_in("privacy@west.test").await;
        let (_, queue) = read(&app, &officer, "/privacy/reviews").await;
        assert!(queue.contains("Safeguarding") && queue.contains(why), "{queue}");
    }
}
