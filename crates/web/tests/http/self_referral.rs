//! The public self-referral, driven like a browser: question pages, check
//! your answers, send, and the referral waiting in the triage queue.

use kindred_domain::referral::Route;
use kindred_store::Db;
use kindred_store::referrals::{NewReferral, QueueFilter, Referrer};
use kindred_store::testing;
use kindred_web::Config;
use reqwest::{Client, Response};

use crate::{TestApp, client, csrf, spawn_with};

/// No wait between starting and sending, so tests need not sleep.
fn quick() -> Config {
    Config {
        self_referral_min_ms: 0,
        ..Config::default()
    }
}

/// The app, with a West Borough hub that reaches W2.
async fn app_with_hub(db: Db, config: Config) -> TestApp {
    let app = spawn_with(db, config).await;
    let west = app.db.tenant_by_code("west").await.unwrap();
    app.db
        .create_hub_site(west.id, None, "Westbourne Family Hub", None, &["W2".to_string()])
        .await
        .unwrap();
    app
}

fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// A visitor part way through the journey.
struct Visitor<'a> {
    app: &'a TestApp,
    c: Client,
    token: String,
}

impl<'a> Visitor<'a> {
    /// Presses "Start now".
    async fn start(app: &'a TestApp) -> Visitor<'a> {
        let c = client();
        let start = c.get(app.url("/self-referral")).send().await.unwrap();
        assert_eq!(start.status(), 200);
        let body = start.text().await.unwrap();
        assert!(body.contains("Ask your family hub for help") && body.contains("call 999"));
        assert!(body.contains("govuk-button--start") && !body.contains("Sign out"));
        let res = c.post(app.url("/self-referral/start")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/self-referral/name");
        let page = c.get(app.url("/self-referral/name")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let token = csrf(&page.text().await.unwrap());
        Visitor { app, c, token }
    }

    async fn get(&self, path: &str) -> Response {
        self.c.get(self.app.url(path)).send().await.unwrap()
    }

    async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form = vec![("csrf", self.token.as_str())];
        form.extend_from_slice(fields);
        self.c.post(self.app.url(path)).form(&form).send().await.unwrap()
    }

    /// Posts a valid answer and checks where it leads.
    async fn answer(&self, path: &str, fields: &[(&str, &str)], next: &str) {
        let res = self.post(path, fields).await;
        assert_eq!(res.status(), 303, "{path}: {}", res.text().await.unwrap());
        assert_eq!(location(&res), next, "{path}");
    }

    /// Posts an invalid answer: 422 and the page again.
    async fn refused(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let res = self.post(path, fields).await;
        assert_eq!(res.status(), 422, "{path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("govuk-error-summary") && body.contains("<title>Error: "),
            "{path}"
        );
        body
    }

    /// Every question answered, up to check your answers.
    async fn answer_everything(&self) {
        self.answer(
            "/self-referral/name",
            &[("given_name", "Agnieszka"), ("family_name", "Nowak")],
            "/self-referral/date-of-birth",
        )
        .await;
        self.answer(
            "/self-referral/date-of-birth",
            &[("dob_day", "28"), ("dob_month", "2"), ("dob_year", "1990")],
            "/self-referral/address",
        )
        .await;
        self.answer(
            "/self-referral/address",
            &[("address_line", "1 High Street"), ("postcode", "w2 1aa")],
            "/self-referral/contact",
        )
        .await;
        self.answer(
            "/self-referral/contact",
            &[("phone", "07700 900 982"), ("email", ""), ("safe_message", "no")],
            "/self-referral/people",
        )
        .await;
        let res = self.get("/self-referral/people").await;
        assert_eq!(location(&res), "/self-referral/people/new", "nobody added yet");
        self.answer(
            "/self-referral/people/new",
            &[
                ("given_name", "Kasia"),
                ("family_name", "Nowak"),
                ("relationship", "child"),
                ("date_day", "3"),
                ("date_month", "4"),
                ("date_year", "2019"),
            ],
            "/self-referral/people",
        )
        .await;
        self.answer("/self-referral/people", &[("answer", "no")], "/self-referral/help")
            .await;
        self.answer(
            "/self-referral/help",
            &[("needs", "housing"), ("needs", "debt")],
            "/self-referral/your-words",
        )
        .await;
        self.answer(
            "/self-referral/your-words",
            &[("story", "We are behind on rent.\nThe children share one room.")],
            "/self-referral/consent",
        )
        .await;
        self.answer("/self-referral/consent", &[("answer", "yes")], "/self-referral/check")
            .await;
    }

    async fn send(&self, honeypot: &str) -> Response {
        self.post("/self-referral/send", &[("website", honeypot)]).await
    }
}

async fn queue(app: &TestApp, tenant: &str) -> Vec<kindred_store::referrals::QueueRow> {
    let t = app.db.tenant_by_code(tenant).await.unwrap();
    let (rows, total) = app.db.triage_queue(t.id, &QueueFilter::default(), 50, 0).await.unwrap();
    assert_eq!(rows.len() as i64, total);
    rows
}

#[tokio::test]
async fn a_family_asks_for_help_and_the_request_joins_the_one_triage_queue() {
    for db in testing::fresh_databases().await {
        let app = app_with_hub(db, quick()).await;
        let login = client()
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            login.contains("href=\"/self-referral\""),
            "the sign-in page offers the public route"
        );

        let v = Visitor::start(&app).await;
        v.answer_everything().await;
        // A second person by the add-another loop, then one changed from check your answers.
        v.answer(
            "/self-referral/people",
            &[("answer", "yes")],
            "/self-referral/people/new",
        )
        .await;
        v.answer(
            "/self-referral/people/new",
            &[
                ("given_name", "Baby"),
                ("family_name", "Nowak"),
                ("relationship", "unborn"),
                ("date_day", "1"),
                ("date_month", "1"),
                ("date_year", &(kindred_store::today().year() + 1).to_string()),
            ],
            "/self-referral/people",
        )
        .await;
        let people = v.page("/self-referral/people").await;
        assert!(people.contains("You have added 2 people") && people.contains("Baby not born yet, due 1 January"));
        let change = v.page("/self-referral/name?change=yes").await;
        assert!(change.contains("href=\"/self-referral/check\" class=\"govuk-back-link\""));
        assert!(change.contains("value=\"Agnieszka\""), "earlier answers are shown");
        v.answer(
            "/self-referral/name",
            &[("given_name", "Aga"), ("family_name", "Nowak"), ("change", "yes")],
            "/self-referral/check",
        )
        .await;
        let check = v.page("/self-referral/check").await;
        for expected in [
            "Aga Nowak",
            "28 February 1990",
            "1 High Street",
            "W2 1AA",
            "07700 900 982",
            "Kasia Nowak: Child, born 3 April 2019",
            "Housing or somewhere to live",
            "Money or debt",
            "We are behind on rent.<br>The children share one room.",
            "href=\"/self-referral/help?change=yes\"",
            "Leave this blank",
        ] {
            assert!(check.contains(expected), "check answers shows {expected}");
        }

        let res = v.send("").await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            location(&res),
            "/self-referral/confirmation",
            "no personal data in the URL"
        );
        let done = v.page("/self-referral/confirmation").await;
        assert!(done.contains("Request sent") && done.contains("govuk-panel--confirmation"));
        assert!(done.contains("West Borough") && done.contains("within 2 days"));
        let reference = done
            .split("<strong>")
            .nth(1)
            .unwrap()
            .split("</strong>")
            .next()
            .unwrap();
        assert!(reference.starts_with("KR-"), "{reference}");
        assert!(!done.contains("Aga"), "the confirmation repeats no personal data");
        // The answers are gone from the draft: the question pages now lead to the confirmation.
        let res = v.get("/self-referral/name").await;
        assert_eq!(location(&res), "/self-referral/confirmation");

        // A professional referral in the same tenant: both routes, one queue.
        let west = app.db.tenant_by_code("west").await.unwrap();
        let professional = app
            .db
            .create_referral(&NewReferral {
                tenant_id: west.id,
                route: Route::Professional,
                referrer_user_id: None,
                referrer_organisation_id: None,
                referrer: Referrer::default(),
                family_id: None,
                reference: "KR-PROF-0001".into(),
            })
            .await
            .unwrap();
        app.db.submit_referral(professional.id, None, None).await.unwrap();
        let rows = queue(&app, "west").await;
        assert_eq!(rows.len(), 2);
        let mut routes: Vec<&str> = rows.iter().map(|r| r.route.as_str()).collect();
        routes.sort();
        assert_eq!(routes, vec!["professional", "self"]);
        let row = rows.iter().find(|r| r.route == "self").unwrap();
        assert_eq!(row.reference, reference);
        assert_eq!(row.hub_name.as_deref(), Some("Westbourne Family Hub"));
        assert_eq!(row.people, 3);
        assert!(queue(&app, "east").await.is_empty(), "other tenants never see it");

        let r = app.db.referral(row.id).await.unwrap().unwrap();
        assert_eq!(r.needs, vec!["debt", "housing"]);
        assert_eq!(r.referrer.name, "Aga Nowak");
        assert_eq!(r.referrer.phone, "07700 900 982 (do not leave a message)");
        assert!(r.consent.given && r.family_aware && r.referrer_user_id.is_none());
        assert_eq!(r.consent.by, "Aga Nowak");
        assert!(r.summary.starts_with("We are behind on rent."));
        let people = app.db.referral_people(row.id).await.unwrap();
        let roles: Vec<&str> = people.iter().map(|p| p.role.code()).collect();
        assert_eq!(roles, vec!["parent", "child", "unborn"]);
        assert_eq!(people[0].details.postcode.as_deref(), Some("W2 1AA"));
        assert_eq!(
            people[1].details.date_of_birth,
            Some(time::macros::date!(2019 - 04 - 03))
        );
        assert!(people[2].details.date_of_birth.is_none() && people[2].details.expected_delivery.is_some());

        let events = app.db.audit_events_since(0, 1000).await.unwrap();
        let created: Vec<_> = events
            .iter()
            .filter(|e| e.record_kind == "referral" && e.record_id == Some(row.id))
            .collect();
        assert_eq!(created.len(), 1);
        assert_eq!(
            (
                created[0].actor_user_id,
                created[0].action.as_str(),
                created[0].detail.as_str()
            ),
            (None, "create", "self_referral")
        );
    }
}

#[tokio::test]
async fn bad_self_referral_input_gets_govuk_errors_and_loses_nothing_already_entered() {
    for db in testing::fresh_databases().await {
        let app = app_with_hub(db, quick()).await;
        let v = Visitor::start(&app).await;

        let body = v
            .refused("/self-referral/name", &[("given_name", " "), ("family_name", "Nowak")])
            .await;
        assert!(body.contains("href=\"#given_name\">Enter your first name"));
        assert!(body.contains("id=\"given_name-error\""));
        assert!(body.contains("value=\"Nowak\""), "what was typed is kept");
        v.answer(
            "/self-referral/name",
            &[("given_name", "Agnieszka"), ("family_name", "Nowak")],
            "/self-referral/date-of-birth",
        )
        .await;

        let body = v
            .refused(
                "/self-referral/date-of-birth",
                &[("dob_day", "31"), ("dob_month", "2"), ("dob_year", "2020")],
            )
            .await;
        assert!(body.contains("href=\"#dob\">Date of birth must be a real date"));
        assert!(body.contains("value=\"31\"") && body.contains("value=\"2\"") && body.contains("value=\"2020\""));
        v.answer(
            "/self-referral/date-of-birth",
            &[("dob_day", "28"), ("dob_month", "2"), ("dob_year", "1990")],
            "/self-referral/address",
        )
        .await;

        let body = v
            .refused(
                "/self-referral/address",
                &[("address_line", "1 High Street"), ("postcode", "not a postcode")],
            )
            .await;
        assert!(body.contains("href=\"#postcode\">Enter a real postcode, like SW1A 1AA"));
        assert!(body.contains("value=\"not a postcode\"") && body.contains("value=\"1 High Street\""));
        v.answer(
            "/self-referral/address",
            &[("address_line", "1 High Street"), ("postcode", "W2 1AA")],
            "/self-referral/contact",
        )
        .await;

        let body = v
            .refused("/self-referral/contact", &[("phone", ""), ("email", "nowak@")])
            .await;
        assert!(body.contains("href=\"#email\">Enter an email address in the correct format"));
        assert!(body.contains("value=\"nowak@\""));
        v.answer(
            "/self-referral/contact",
            &[("email", "nowak@example.com")],
            "/self-referral/people",
        )
        .await;

        let body = v
            .refused(
                "/self-referral/people/new",
                &[
                    ("given_name", "Kasia"),
                    ("family_name", ""),
                    ("relationship", "child"),
                    ("date_day", "3"),
                    ("date_month", "4"),
                    ("date_year", "2019"),
                ],
            )
            .await;
        assert!(body.contains("href=\"#family_name\">Enter their last name"));
        assert!(body.contains("value=\"Kasia\"") && body.contains("value=\"child\" checked"));
        // A partner alone is not enough: the hub helps families with children.
        v.answer(
            "/self-referral/people/new",
            &[
                ("given_name", "Piotr"),
                ("family_name", "Nowak"),
                ("relationship", "partner"),
                ("date_day", "1"),
                ("date_month", "1"),
                ("date_year", "1988"),
            ],
            "/self-referral/people",
        )
        .await;
        let body = v.refused("/self-referral/people", &[("answer", "no")]).await;
        assert!(body.contains("href=\"#answer\">Add at least one child, or a baby who is not born yet"));
        let body = v.refused("/self-referral/people", &[]).await;
        assert!(body.contains("Select yes if you need to add anyone else"));
        v.answer(
            "/self-referral/people/new",
            &[
                ("given_name", "Kasia"),
                ("family_name", "Nowak"),
                ("relationship", "child"),
                ("date_day", "3"),
                ("date_month", "4"),
                ("date_year", "2019"),
            ],
            "/self-referral/people",
        )
        .await;
        let edit = v.page("/self-referral/people/1").await;
        assert!(edit.contains("value=\"Piotr\"") && edit.contains("value=\"partner\" checked"));
        let body = v
            .refused(
                "/self-referral/people/1",
                &[
                    ("given_name", "Piotr"),
                    ("family_name", "Nowak-Kowalski"),
                    ("relationship", "partner"),
                    ("date_day", "1"),
                    ("date_month", "13"),
                    ("date_year", "1988"),
                ],
            )
            .await;
        assert!(body.contains("href=\"#date\">Date of birth must be a real date") && body.contains("value=\"13\""));
        v.answer(
            "/self-referral/people/1",
            &[
                ("given_name", "Piotr"),
                ("family_name", "Nowak-Kowalski"),
                ("relationship", "partner"),
                ("date_day", "1"),
                ("date_month", "12"),
                ("date_year", "1988"),
            ],
            "/self-referral/people",
        )
        .await;
        let remove = v.page("/self-referral/people/2/remove").await;
        assert!(remove.contains("Are you sure you want to remove Kasia Nowak?"));
        assert_eq!(v.get("/self-referral/people/3").await.status(), 404);
        v.answer("/self-referral/people", &[("answer", "no")], "/self-referral/help")
            .await;

        let body = v.refused("/self-referral/help", &[]).await;
        assert!(body.contains("href=\"#needs\">Select what you would like help with"));
        let body = v.refused("/self-referral/your-words", &[("story", "")]).await;
        assert!(body.contains("href=\"#story\">Tell us what is happening"));
        let long = "a".repeat(5001);
        let body = v.refused("/self-referral/your-words", &[("story", &long)]).await;
        assert!(body.contains("5,000 characters or less") && body.contains(&long));
        let body = v.refused("/self-referral/consent", &[]).await;
        assert!(body.contains("href=\"#answer\">Select yes if we can share"));

        // Nothing already entered was lost along the way.
        assert!(v.page("/self-referral/name").await.contains("value=\"Agnieszka\""));
        let dob = v.page("/self-referral/date-of-birth").await;
        assert!(dob.contains("value=\"28\"") && dob.contains("value=\"1990\""));
        assert!(dob.contains("autocomplete=\"bday-day\""));
        let address = v.page("/self-referral/address").await;
        assert!(address.contains("value=\"W2 1AA\"") && address.contains("autocomplete=\"postal-code\""));
        assert!(
            v.page("/self-referral/contact")
                .await
                .contains("value=\"nowak@example.com\"")
        );
        let people = v.page("/self-referral/people").await;
        assert!(people.contains("Piotr Nowak-Kowalski") && people.contains("Kasia Nowak"));
        // Check your answers is not reached with questions unanswered.
        assert_eq!(location(&v.get("/self-referral/check").await), "/self-referral/help");
    }
}

#[tokio::test]
async fn a_postcode_no_hub_reaches_asks_for_the_council() {
    let app = app_with_hub(testing::fresh_sqlite().await, quick()).await;
    let v = Visitor::start(&app).await;
    v.answer(
        "/self-referral/name",
        &[("given_name", "Ada"), ("family_name", "Obi")],
        "/self-referral/date-of-birth",
    )
    .await;
    v.answer(
        "/self-referral/date-of-birth",
        &[("dob_day", "1"), ("dob_month", "5"), ("dob_year", "1985")],
        "/self-referral/address",
    )
    .await;
    v.answer(
        "/self-referral/address",
        &[("address_line", "2 Mile End Road"), ("postcode", "E1 4NS")],
        "/self-referral/council",
    )
    .await;
    let body = v.refused("/self-referral/council", &[]).await;
    assert!(body.contains("href=\"#tenant_id\">Select the council area you live in") && body.contains("East Borough"));
    let east = app.db.tenant_by_code("east").await.unwrap();
    v.answer(
        "/self-referral/council",
        &[("tenant_id", &east.id.to_string())],
        "/self-referral/contact",
    )
    .await;
    assert!(
        v.page("/self-referral/council")
            .await
            .contains(&format!("value=\"{}\" checked", east.id))
    );
}

#[tokio::test]
async fn a_filled_honeypot_is_told_success_and_creates_nothing() {
    let app = app_with_hub(testing::fresh_sqlite().await, quick()).await;
    let v = Visitor::start(&app).await;
    v.answer_everything().await;
    let res = v.send("http://spam.example").await;
    assert_eq!(location(&res), "/self-referral/confirmation");
    let done = v.page("/self-referral/confirmation").await;
    assert!(done.contains("Request sent") && done.contains("KR-"));
    assert!(queue(&app, "west").await.is_empty());
}

#[tokio::test]
async fn sending_faster_than_a_person_reads_is_refused() {
    let app = app_with_hub(testing::fresh_sqlite().await, Config::default()).await;
    let v = Visitor::start(&app).await;
    v.answer_everything().await;
    let res = v.send("").await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("href=\"#check-answers\">Check your answers, then send your request"));
    assert!(queue(&app, "west").await.is_empty());
}

#[tokio::test]
async fn sends_and_starts_are_rate_limited_per_address() {
    let app = app_with_hub(testing::fresh_sqlite().await, quick()).await;
    for _ in 0..3 {
        let v = Visitor::start(&app).await;
        v.answer_everything().await;
        assert_eq!(location(&v.send("").await), "/self-referral/confirmation");
    }
    let v = Visitor::start(&app).await;
    v.answer_everything().await;
    let res = v.send("").await;
    assert_eq!(res.status(), 429);
    let body = res.text().await.unwrap();
    assert!(body.contains("There is a problem") && body.contains("phone your family hub"));
    assert_eq!(queue(&app, "west").await.len(), 3);
    // Four drafts started so far; the tenth is the last this hour.
    for _ in 4..10 {
        let res = client().post(app.url("/self-referral/start")).send().await.unwrap();
        assert_eq!(res.status(), 303);
    }
    let res = client().post(app.url("/self-referral/start")).send().await.unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn sending_twice_makes_one_referral() {
    for db in testing::fresh_databases().await {
        let app = app_with_hub(db, quick()).await;
        let v = Visitor::start(&app).await;
        v.answer_everything().await;
        // A double click: two sends at once.
        let (a, b) = tokio::join!(v.send(""), v.send(""));
        for res in [a, b] {
            assert_eq!(res.status(), 303);
            assert_eq!(location(&res), "/self-referral/confirmation");
        }
        // Back, then send again.
        let res = v.send("").await;
        assert_eq!(location(&res), "/self-referral/confirmation");
        assert_eq!(queue(&app, "west").await.len(), 1);
    }
}

#[tokio::test]
async fn forms_without_the_drafts_csrf_token_are_refused() {
    let app = app_with_hub(testing::fresh_sqlite().await, quick()).await;
    let v = Visitor::start(&app).await;
    let url = app.url("/self-referral/name");
    let missing =
        v.c.post(&url)
            .form(&[("given_name", "Eve"), ("family_name", "Forger")])
            .send()
            .await
            .unwrap();
    assert_eq!(missing.status(), 400);
    let wrong =
        v.c.post(&url)
            .form(&[("csrf", "0123"), ("given_name", "Eve"), ("family_name", "Forger")])
            .send()
            .await
            .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(
        !v.page("/self-referral/name").await.contains("Forger"),
        "nothing was saved"
    );
    let res = v.c.post(app.url("/self-referral/send")).send().await.unwrap();
    assert_eq!(res.status(), 400);

    // Without a draft at all: back to the start, which says why.
    let stranger = client();
    let res = stranger
        .post(&url)
        .form(&[("csrf", v.token.as_str()), ("given_name", "Eve")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/self-referral/expired");
    let page = stranger
        .get(app.url("/self-referral/expired"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your answers were not kept") && page.contains("Start now"));
}

#[tokio::test]
async fn the_draft_cookie_is_host_only_secure_and_http_only_over_tls() {
    let tls = Config { tls: true, ..quick() };
    for (config, name, secure) in [
        (tls, "__Host-kindred-selfref=", true),
        (quick(), "kindred-selfref=", false),
    ] {
        let app = app_with_hub(testing::fresh_sqlite().await, config).await;
        let res = client().post(app.url("/self-referral/start")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with(name), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
    }
    let app = app_with_hub(testing::fresh_sqlite().await, quick()).await;
    let res = client()
        .post(app.url("/self-referral/start"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        400,
        "another site cannot start (and so reset) a visitor's draft"
    );
}
