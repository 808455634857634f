//! The report builder over real HTTP (issue 7, F16), on SQLite and, when
//! `KINDRED_TEST_DATABASE_URL` is set, PostgreSQL: a hand-built partnership
//! of three hubs whose contacts by hub and month are counted by hand here and
//! compared cell by cell with the page and the CSV; small numbers withheld
//! (with the total protected); an analyst who reaches figures and never a
//! family; saved reports that stay within their organisation.

use kindred_domain::Postcode;
use kindred_domain::model::{MemberRole, Profession, Role, Sex};
use kindred_store::Db;
use kindred_store::contacts::NewContact;
use kindred_store::families::Creator;
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::testing;
use kindred_store::users::NewUser;
use time::macros::date;

use crate::{TestApp, spawn_with};

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The cells of the report table, row by row, as text.
fn table(html: &str) -> Vec<Vec<String>> {
    let start = html.find("id=\"report-table\"").expect("a report table");
    let body = &html[start..html[start..].find("</table>").unwrap() + start];
    let mut rows = vec![];
    for tr in body.split("<tr").skip(1) {
        let mut cells = vec![];
        for part in tr.split("</t").collect::<Vec<_>>() {
            if let Some(open) = part.rfind("<th").max(part.rfind("<td")) {
                let text = &part[open..];
                let text = &text[text.find('>').unwrap() + 1..];
                cells.push(text.replace("&#39;", "'").trim().to_string());
            }
        }
        rows.push(cells);
    }
    rows
}

struct Fixture {
    manager: String,
    tenant: i64,
}

/// Three hubs: North reaches the district W2, South the sector W2 5 (so
/// W2 5xx is South's though North reaches W2), East the district NW1. Four
/// families, at W2 1AA (North), W2 5LA (South), NW1 4BB (East) and SE1 7PB
/// (no hub), and their contacts in January and February 2025.
async fn fixture(app: &TestApp) -> Fixture {
    let db: &Db = &app.db;
    let manager = db.user_by_email("manager@west.test").await.unwrap().unwrap();
    let t = manager.tenant_id;
    let org = manager.organisation_id;
    for (name, areas) in [
        ("North Hub", vec!["W2".to_string()]),
        ("South Hub", vec!["W2 5".to_string()]),
        ("East Hub", vec!["NW1".to_string()]),
    ] {
        db.create_hub_site(t, Some(org), name, None, &areas).await.unwrap();
    }
    let lead = db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let creator = Creator {
        user_id: lead.id,
        organisation_id: lead.organisation_id,
        service: "Health visiting".into(),
    };
    // (postcode, contacts in January 2025, contacts in February 2025)
    let plan = [("W2 1AA", 7, 3), ("W2 5LA", 5, 0), ("NW1 4BB", 2, 6), ("SE1 7PB", 0, 1)];
    for (i, (postcode, jan, feb)) in plan.iter().enumerate() {
        let f = db
            .create_family(t, &format!("Fixture family {i}"), &creator, date!(2024 - 12 - 01))
            .await
            .unwrap();
        let p = db
            .create_person(
                t,
                &PersonDetails {
                    given_name: format!("Fixture{i}"),
                    family_name: "Reportson".into(),
                    preferred_name: None,
                    date_of_birth: Some(date!(2020 - 06 - 01)),
                    expected_delivery: None,
                    sex: Sex::Unknown,
                    nhs_number: Some(kindred_domain::NhsNumber::parse("9990000018").unwrap()),
                    upn: None,
                    language: None,
                    interpreter_needed: false,
                    send: false,
                },
            )
            .await
            .unwrap();
        db.add_member(f.id, p.id, MemberRole::Child, date!(2024 - 12 - 01))
            .await
            .unwrap();
        db.move_person(
            p.id,
            &NewAddress {
                line1: format!("{i} Fixture Street"),
                line2: None,
                town: "London".into(),
                postcode: Postcode::parse(postcode).unwrap(),
                from_date: date!(2024 - 12 - 01),
            },
        )
        .await
        .unwrap();
        for (month, n) in [(1u8, *jan), (2, *feb)] {
            for k in 0..n {
                db.add_contact(&NewContact {
                    tenant_id: t,
                    family_id: f.id,
                    organisation_id: lead.organisation_id,
                    author_user_id: lead.id,
                    occurred_on: time::Date::from_calendar_date(
                        2025,
                        time::Month::try_from(month).unwrap(),
                        1 + k as u8,
                    )
                    .unwrap(),
                    mode: "home_visit",
                    visibility: "team",
                    body: "A fixture contact.".into(),
                    people: vec![p.id],
                    readers: vec![],
                })
                .await
                .unwrap();
            }
        }
    }
    Fixture {
        manager: "manager@west.test".into(),
        tenant: t,
    }
}

fn builder_fields<'a>(token: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf", token),
        ("dataset", "contacts"),
        ("from_day", "1"),
        ("from_month", "1"),
        ("from_year", "2025"),
        ("to_day", "28"),
        ("to_month", "2"),
        ("to_year", "2025"),
    ];
    f.extend_from_slice(extra);
    f
}

#[tokio::test]
async fn contacts_by_hub_and_month_add_up_to_the_hand_count() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        let fx = fixture(&app).await;
        let (c, token) = app.sign_in(&fx.manager).await;
        // Counted by hand from the fixture: North 7 + 3, South 5 + 0,
        // East 2 + 6, no hub 0 + 1; 24 in all. 3, 2 and 1 are withheld.
        let res = c
            .post(app.url("/reports/new"))
            .form(&builder_fields(
                &token,
                &[
                    ("group1", "hub"),
                    ("group2", "month"),
                    ("measure_count", "yes"),
                    ("chart", "line"),
                    ("action", "preview"),
                ],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        let expected: Vec<Vec<&str>> = vec![
            vec!["Family hub", "Month", "Number of contacts"],
            vec!["East Hub", "January 2025", "[c]"],
            vec!["East Hub", "February 2025", "6"],
            vec!["North Hub", "January 2025", "7"],
            vec!["North Hub", "February 2025", "[c]"],
            vec!["South Hub", "January 2025", "5"],
            vec!["South Hub", "February 2025", "0"],
            vec!["Outside every hub's reach", "January 2025", "0"],
            vec!["Outside every hub's reach", "February 2025", "[c]"],
            vec!["Total", "", "24"],
        ];
        assert_eq!(table(&page), expected, "{page}");
        assert!(page.contains("role=\"img\"") && page.contains("aria-label=\"Line chart of number of contacts"));
        assert!(page.contains("[c] means a count from 1 to 4"));
        assert!(!page.contains("Reportson") && !page.contains("999 000 0018") && !page.contains("9990000018"));

        // Saved, the same figures on the page and in the CSV.
        let res = c
            .post(app.url("/reports/new"))
            .form(&builder_fields(
                &token,
                &[
                    ("group1", "hub"),
                    ("group2", "month"),
                    ("measure_count", "yes"),
                    ("measure_share", "yes"),
                    ("chart", "bar"),
                    ("name", "Contacts by hub and month"),
                    ("action", "save"),
                ],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let at = res.headers()["location"].to_str().unwrap().to_string();
        let (status, page) = get(&app, &c, &at).await;
        assert_eq!(status, 200);
        let shown = table(&page);
        assert_eq!(shown[3], vec!["North Hub", "January 2025", "7", "29.2%"]);
        assert_eq!(shown[4], vec!["North Hub", "February 2025", "[c]", "[c]"]);
        assert_eq!(shown[9], vec!["Total", "", "24", "100.0%"]);
        let csv = c.get(app.url(&format!("{at}/export.csv"))).send().await.unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        let lines: Vec<Vec<String>> = csv
            .lines()
            .map(|l| {
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(l.as_bytes())
                    .records()
                    .next()
                    .unwrap()
                    .unwrap()
                    .iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        assert_eq!(lines, shown, "the CSV is the table");

        // One hub's January only: North 7, South 5, East 2 — East is
        // withheld, and South with it, or 14 − 7 would give East away.
        let res = c
            .post(app.url("/reports/new"))
            .form(&[
                ("csrf", token.as_str()),
                ("dataset", "contacts"),
                ("group1", "hub"),
                ("measure_count", "yes"),
                ("chart", "bar"),
                ("from_day", "1"),
                ("from_month", "1"),
                ("from_year", "2025"),
                ("to_day", "31"),
                ("to_month", "1"),
                ("to_year", "2025"),
                ("action", "preview"),
            ])
            .send()
            .await
            .unwrap();
        let page = res.text().await.unwrap();
        assert_eq!(
            table(&page),
            vec![
                vec!["Family hub", "Number of contacts"],
                vec!["East Hub", "[c]"],
                vec!["North Hub", "7"],
                vec!["South Hub", "[c]"],
                vec!["Total", "14"],
            ]
        );
        // The store's own figures, before suppression, are the hand count.
        let def = kindred_domain::report::parse(
            &[
                ("dataset", "contacts"),
                ("group1", "hub"),
                ("measure_count", "yes"),
                ("measure_families", "yes"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap();
        let mut raw = app
            .db
            .run_report(&def, fx.tenant, kindred_store::today())
            .await
            .unwrap();
        raw.sort_by_key(|r| r.count);
        let counts: Vec<(i64, i64)> = raw.iter().map(|r| (r.count, r.distinct)).collect();
        assert_eq!(counts, vec![(1, 1), (5, 1), (8, 1), (10, 1)]);
        assert_eq!(counts.iter().map(|c| c.0).sum::<i64>(), 24);
    }
}

#[tokio::test]
async fn bad_choices_are_explained_and_kept() {
    let app = spawn_with(testing::fresh_sqlite().await, kindred_web::Config::default()).await;
    let (c, token) = app.sign_in("manager@west.test").await;
    let res = c
        .post(app.url("/reports/new"))
        .form(&[
            ("csrf", token.as_str()),
            ("dataset", "contacts"),
            ("group1", "month"),
            ("group2", "month"),
            ("chart", "line"),
            ("from_day", "31"),
            ("from_month", "2"),
            ("from_year", "2025"),
            ("name", "My unsaved report"),
            ("action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("There is a problem"));
    for (anchor, message) in [
        ("#group2", "Select a different second grouping, or none"),
        ("#measures", "Select at least one figure to show"),
        ("#from", "The start date must be a real date"),
    ] {
        assert!(
            page.contains(&format!("<a href=\"{anchor}\">{message}</a>")),
            "{message}: {page}"
        );
    }
    assert!(page.contains("value=\"My unsaved report\""), "the name is kept");
    assert!(page.contains("value=\"31\""), "the date is kept");
}

#[tokio::test]
async fn an_analyst_reaches_figures_and_never_a_family() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        let fx = fixture(&app).await;
        let manager = app.db.user_by_email(&fx.manager).await.unwrap().unwrap();
        app.db
            .create_user(&NewUser {
                tenant_id: fx.tenant,
                organisation_id: manager.organisation_id,
                team_id: None,
                email: "analyst@west.test".into(),
                display_name: "An Analyst".into(),
                profession: Profession::Analyst,
                roles: vec![Role::Analyst],
                password_hash: kindred_web::passwords::hash(crate::PASSWORD),
            })
            .await
            .unwrap();
        let (c, token) = app.sign_in("analyst@west.test").await;
        let (status, home) = get(&app, &c, "/").await;
        assert_eq!(status, 200);
        assert!(home.contains("Your work as analyst") && home.contains("href=\"/reports\""));
        assert!(!home.contains("Khan") && !home.contains("Okafor"));
        let (fam, child) = (app.world.khan_family, app.world.khan_child);
        for path in [
            format!("/families/{fam}"),
            format!("/families/{fam}/profile"),
            format!("/families/{fam}/contacts"),
            format!("/families/{fam}/plan"),
            format!("/families/{fam}/assessments"),
            format!("/families/{fam}/access-log"),
            format!("/families/{fam}/access-log.csv"),
            format!("/persons/{child}"),
            format!("/persons/{child}/access-log.csv"),
            format!("/privacy/sar/{child}"),
            "/privacy/audit.csv".into(),
        ] {
            let (status, body) = get(&app, &c, &path).await;
            assert_eq!(status, 404, "{path}");
            assert!(!body.contains("Khan") && !body.contains("Reportson"), "{path}");
        }
        // Lists: empty or not found, never a name.
        for path in [
            "/tasks",
            "/triage",
            "/pathway",
            "/transitions",
            "/matches",
            "/imports",
            "/reach",
        ] {
            let (status, body) = get(&app, &c, path).await;
            assert!(status == 200 || status == 404, "{path}: {status}");
            assert!(!body.contains("Khan") && !body.contains("Reportson"), "{path}");
        }
        let res = c
            .post(app.url("/search"))
            .form(&[("csrf", token.as_str()), ("name", "Khan")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let found = res.text().await.unwrap();
        assert!(!found.contains("Khan household") && !found.contains("Aisha"), "{found}");
        // Every dataset, by every grouping it offers: figures, no names.
        for spec in kindred_domain::report::CATALOGUE {
            for d in spec.dimensions {
                let res = c
                    .post(app.url("/reports/new"))
                    .form(&[
                        ("csrf", token.as_str()),
                        ("dataset", spec.dataset.code()),
                        ("group1", d.code()),
                        ("measure_count", "yes"),
                        ("chart", "bar"),
                        ("action", "preview"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{:?} by {:?}", spec.dataset, d);
                let page = res.text().await.unwrap();
                assert!(page.contains("id=\"report-table\""));
                for name in [
                    "Khan",
                    "Okafor",
                    "Aisha",
                    "Reportson",
                    "Fixture0",
                    "9990000018",
                    "Fixture Street",
                ] {
                    assert!(!page.contains(name), "{name} in {:?} by {:?}", spec.dataset, d);
                }
            }
        }
        // Running a report is audited as an aggregate read: no record named.
        let events = app.db.audit_events_since(0, 100_000).await.unwrap();
        let runs: Vec<_> = events.iter().filter(|e| e.record_kind == "report").collect();
        assert!(!runs.is_empty());
        assert!(runs.iter().all(|e| e.record_id.is_none() && e.family_id.is_none()));
    }
}

#[tokio::test]
async fn a_saved_report_stays_within_its_organisation() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        let fx = fixture(&app).await;
        let manager = app.db.user_by_email(&fx.manager).await.unwrap().unwrap();
        let eh = app.db.user_by_email("eh@west.test").await.unwrap().unwrap();
        let hash = kindred_web::passwords::hash(crate::PASSWORD);
        for (email, org) in [
            ("same-org-analyst@west.test", manager.organisation_id),
            ("other-org-analyst@west.test", eh.organisation_id),
        ] {
            app.db
                .create_user(&NewUser {
                    tenant_id: fx.tenant,
                    organisation_id: org,
                    team_id: None,
                    email: email.into(),
                    display_name: "Analyst".into(),
                    profession: Profession::Analyst,
                    roles: vec![Role::Analyst],
                    password_hash: hash.clone(),
                })
                .await
                .unwrap();
        }
        let (c, token) = app.sign_in(&fx.manager).await;
        let res = c
            .post(app.url("/reports/new"))
            .form(&builder_fields(
                &token,
                &[
                    ("group1", "hub"),
                    ("measure_count", "yes"),
                    ("chart", "bar"),
                    ("name", "Hub contacts"),
                    ("action", "save"),
                ],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let at = res.headers()["location"].to_str().unwrap().to_string();
        let (same, _) = app.sign_in("same-org-analyst@west.test").await;
        let (other, other_token) = app.sign_in("other-org-analyst@west.test").await;
        let (stranger, _) = app.sign_in("stranger@east.test").await;
        let (lead, _) = app.sign_in("lead@west.test").await;
        // Not shared yet: only its owner.
        assert_eq!(get(&app, &same, &at).await.0, 404);
        assert_eq!(get(&app, &c, &at).await.0, 200);
        let res = c
            .post(app.url(&format!("{at}/share")))
            .form(&[("csrf", token.as_str()), ("shared", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (status, list) = get(&app, &same, "/reports").await;
        assert_eq!(status, 200);
        assert!(list.contains("Hub contacts"));
        assert_eq!(get(&app, &same, &at).await.0, 200);
        assert_eq!(get(&app, &same, &format!("{at}/export.csv")).await.0, 200);
        // Another organisation, another council, a practitioner: not found.
        for who in [&other, &stranger, &lead] {
            assert_eq!(get(&app, who, &at).await.0, 404);
            assert_eq!(get(&app, who, &format!("{at}/export.csv")).await.0, 404);
        }
        assert!(!get(&app, &other, "/reports").await.1.contains("Hub contacts"));
        assert_eq!(get(&app, &lead, "/reports").await.0, 404);
        // Nobody but the owner changes it.
        let res = other
            .post(app.url(&format!("{at}/delete")))
            .form(&[("csrf", other_token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let res = c
            .post(app.url(&format!("{at}/delete")))
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(get(&app, &c, &at).await.0, 404);
    }
}
