//! The service directory and connecting a family to a service over real
//! HTTP (issue 8, F17), on SQLite and, when `KINDRED_TEST_DATABASE_URL` is
//! set, PostgreSQL. A hand-built directory of four services, each made to
//! be found by exactly one of the public search's filters (need, age with
//! 19–25 for SEND, area served, delivery mode, free, day); management whose
//! errors name their fields; and a connection's whole life: consent
//! required, a reason to decline, the history on both sides, an unrelated
//! organisation's worker shown not-found, the receiving organisation given
//! the family only when it accepts, and notifications on each step.

use kindred_store::Db;
use kindred_store::directory::{CostData, LocationData, OrganisationData, ScheduleData, ServiceData};
use kindred_store::testing;

use crate::{TestApp, client, spawn_with};

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

struct Fixture {
    baby_cafe: String,
    youth_club: String,
    old_group: String,
    baby_cafe_id: i64,
}

const NAMES: [&str; 4] = ["Baby café", "SEND youth club", "Debt helpline", "Old group"];

/// Four services of West Family Action (the world's voluntary organisation):
/// a free baby café on Thursdays in W2 for babies under one, which connects
/// families through Kindred; a paid SEND youth club on Wednesdays in SW3,
/// 13–18 and 19–25 with SEND, in person and online; a free debt helpline by
/// telephone for everyone everywhere; and an inactive group.
async fn fixture(app: &TestApp) -> Fixture {
    let db: &Db = &app.db;
    let vcs_user = db.user_by_email("vcs@west.test").await.unwrap().unwrap();
    let t = vcs_user.tenant_id;
    let terms = db.needs_terms().await.unwrap();
    let term = |code: &str| terms.iter().find(|x| x.code == code).unwrap().id;
    let org = db
        .create_dir_organisation(&OrganisationData {
            tenant_id: t,
            organisation_id: Some(vcs_user.organisation_id),
            name: "West Family Action".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let hall = db
        .create_location(&LocationData {
            tenant_id: t,
            name: "Church Street Family Hub".into(),
            postcode: Some("W2 1AA".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let base = |name: &str| ServiceData {
        tenant_id: t,
        dir_organisation_id: org,
        name: name.into(),
        description: format!("About the {name}"),
        status: "active".into(),
        ..Default::default()
    };
    let (baby_cafe_id, baby_cafe) = db
        .create_service(&ServiceData {
            minimum_age: Some(0),
            maximum_age: Some(1),
            family_hub_offer: true,
            start_for_life: true,
            modes: vec!["in_person".into()],
            areas: vec!["W2".into()],
            location_ids: vec![hall],
            schedules: vec![ScheduleData {
                byday: "TH".into(),
                opens_at: Some("10:00".into()),
                closes_at: Some("11:30".into()),
                ..Default::default()
            }],
            term_ids: vec![term("infant_feeding")],
            connect_organisation_id: Some(vcs_user.organisation_id),
            ..base(NAMES[0])
        })
        .await
        .unwrap();
    let (_, youth_club) = db
        .create_service(&ServiceData {
            minimum_age: Some(13),
            maximum_age: Some(18),
            send_up_to_25: true,
            family_hub_offer: true,
            modes: vec!["in_person".into(), "online".into()],
            areas: vec!["SW3".into()],
            schedules: vec![ScheduleData {
                byday: "WE".into(),
                ..Default::default()
            }],
            costs: vec![CostData {
                option: "Term".into(),
                amount: Some(500),
                amount_description: "a term".into(),
            }],
            term_ids: vec![term("youth")],
            ..base(NAMES[1])
        })
        .await
        .unwrap();
    db.create_service(&ServiceData {
        modes: vec!["telephone".into()],
        term_ids: vec![term("debt")],
        ..base(NAMES[2])
    })
    .await
    .unwrap();
    let (_, old_group) = db
        .create_service(&ServiceData {
            status: "inactive".into(),
            modes: vec!["in_person".into()],
            term_ids: vec![term("infant_feeding")],
            ..base(NAMES[3])
        })
        .await
        .unwrap();
    Fixture {
        baby_cafe,
        youth_club,
        old_group,
        baby_cafe_id,
    }
}

/// The services a results page lists, by name, in the order shown.
fn found(page: &str) -> Vec<&'static str> {
    let mut out: Vec<(usize, &'static str)> = NAMES
        .iter()
        .filter_map(|n| page.find(&format!(">{n}</a></h3>")).map(|at| (at, *n)))
        .collect();
    out.sort();
    out.into_iter().map(|x| x.1).collect()
}

#[tokio::test]
async fn families_find_services_by_each_filter_without_signing_in() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        let f = fixture(&app).await;
        let c = client();
        let search = |q: &'static str| {
            let (app, c) = (&app, &c);
            async move {
                let (status, page) = get(app, c, &format!("/directory?council=west&{q}")).await;
                assert_eq!(status, 200, "{q}: {page}");
                found(&page)
            }
        };
        assert_eq!(search("").await, ["Baby café", "Debt helpline", "SEND youth club"]);
        assert_eq!(search("need=infant_feeding").await, ["Baby café"]);
        assert_eq!(search("need=youth").await, ["SEND youth club"]);
        assert_eq!(search("age=0").await, ["Baby café", "Debt helpline"]);
        assert_eq!(search("age=16").await, ["Debt helpline", "SEND youth club"]);
        // 22: only with SEND does the youth club take them, and not past 25.
        assert_eq!(search("age=22").await, ["Debt helpline"]);
        assert_eq!(search("age=22&send=yes").await, ["Debt helpline", "SEND youth club"]);
        assert_eq!(search("age=26&send=yes").await, ["Debt helpline"]);
        // A full postcode is taken by its district; a service with no areas serves everyone.
        assert_eq!(search("postcode=w2+5ab").await, ["Baby café", "Debt helpline"]);
        assert_eq!(search("postcode=SW3").await, ["Debt helpline", "SEND youth club"]);
        assert_eq!(search("mode=online").await, ["SEND youth club"]);
        assert_eq!(search("mode=telephone").await, ["Debt helpline"]);
        assert_eq!(search("free=yes").await, ["Baby café", "Debt helpline"]);
        assert_eq!(search("day=TH").await, ["Baby café"]);
        assert_eq!(search("day=WE").await, ["SEND youth club"]);
        assert_eq!(search("need=infant_feeding&postcode=SW3").await, Vec::<&str>::new());
        // Bad input: the error summary names the field.
        for (q, field) in [
            ("age=ten", "age"),
            ("postcode=nowhere", "postcode"),
            ("need=unicorns", "need"),
            ("day=XX", "day"),
        ] {
            let (status, page) = get(&app, &c, &format!("/directory?{q}")).await;
            assert_eq!(status, 422, "{q}");
            assert!(page.contains(&format!("href=\"#{field}\"")), "{q}: {page}");
        }
        // A service's page; an inactive service is not found; neither is a made-up one.
        let (status, page) = get(&app, &c, &format!("/directory/services/{}", f.baby_cafe)).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Church Street Family Hub") && page.contains("Thursday, 10:00 to 11:30"),
            "{page}"
        );
        assert!(page.contains("0 to 1 years") && page.contains("Free"), "{page}");
        let (_, page) = get(&app, &c, &format!("/directory/services/{}", f.youth_club)).await;
        assert!(
            page.contains("up to 25 with special educational needs") && page.contains("£5"),
            "{page}"
        );
        assert_eq!(
            get(&app, &c, &format!("/directory/services/{}", f.old_group)).await.0,
            404
        );
        assert_eq!(get(&app, &c, "/directory/services/not-a-uuid").await.0, 404);
        // The offers, per council.
        let (_, page) = get(&app, &c, "/directory/family-hub?council=west").await;
        assert_eq!(found(&page), ["Baby café", "SEND youth club"]);
        let (_, page) = get(&app, &c, "/directory/start-for-life?council=west").await;
        assert_eq!(found(&page), ["Baby café"]);
        let (_, page) = get(&app, &c, "/directory/start-for-life?council=east").await;
        assert!(found(&page).is_empty() && page.contains("0 services"), "{page}");
        assert_eq!(get(&app, &c, "/directory/family-hub?council=atlantis").await.0, 404);
        // Public pages never show anyone's details.
        let (_, page) = get(&app, &c, "/directory?council=west").await;
        assert!(!page.contains("Khan") && !page.contains("Sign out"), "{page}");
    }
}

#[tokio::test]
async fn directory_managers_add_services_and_bad_input_names_the_field() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        fixture(&app).await;
        // A practitioner does not manage the directory.
        let (lead, _) = app.sign_in("lead@west.test").await;
        assert_eq!(get(&app, &lead, "/admin/directory").await.0, 404);
        assert_eq!(get(&app, &lead, "/admin/directory/services/new").await.0, 404);
        let (admin, token) = app.sign_in("admin@west.test").await;
        let (status, page) = get(&app, &admin, "/admin/directory").await;
        assert_eq!(status, 200);
        assert!(page.contains("Baby café") && page.contains("4 services"), "{page}");
        let (status, _, page) = post(
            &app,
            &admin,
            "/admin/directory/services/new",
            &[
                ("csrf", token.as_str()),
                ("minimum_age", "12"),
                ("maximum_age", "5"),
                ("areas", "W2, Narnia"),
                ("cost_amount", "lots"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        for field in [
            "organisation",
            "name",
            "description",
            "maximum_age",
            "areas",
            "cost_amount",
            "modes",
            "needs",
        ] {
            assert!(page.contains(&format!("href=\"#{field}\"")), "{field}: {page}");
        }
        let org = app
            .db
            .dir_organisations(
                app.db
                    .user_by_email("admin@west.test")
                    .await
                    .unwrap()
                    .unwrap()
                    .tenant_id,
            )
            .await
            .unwrap()[0]
            .id
            .to_string();
        let (status, location, _) = post(
            &app,
            &admin,
            "/admin/directory/services/new",
            &[
                ("csrf", token.as_str()),
                ("organisation", org.as_str()),
                ("name", "Dads' group"),
                ("description", "Saturday play for dads and their children"),
                ("status", "active"),
                ("minimum_age", "0"),
                ("maximum_age", "5"),
                ("needs", "parenting_early"),
                ("modes", "in_person"),
                ("days", "SA"),
                ("opens_at", "10:00"),
                ("closes_at", "12:00"),
                ("areas", "w9 3aa"),
                ("languages", "en"),
                ("languages", "pl"),
            ],
        )
        .await;
        assert_eq!((status, location.as_str()), (303, "/admin/directory"));
        let c = client();
        let (_, page) = get(&app, &c, "/directory?need=parenting_early&postcode=W9&day=SA").await;
        assert!(
            page.contains("Dads&#39; group") || page.contains("Dads' group"),
            "{page}"
        );
        assert!(page.contains("Saturday, 10:00 to 12:00"), "{page}");
        let (status, page) = get(&app, &admin, "/admin/directory/taxonomy").await;
        assert_eq!(status, 200);
        assert!(page.contains("Infant feeding"), "{page}");
    }
}

/// The count of a user's notifications whose message contains `text`.
async fn notified(db: &Db, email: &str, text: &str) -> usize {
    let u = db.user_by_email(email).await.unwrap().unwrap();
    db.notifications(u.id, 100)
        .await
        .unwrap()
        .iter()
        .filter(|n| n.message.contains(text))
        .count()
}

#[tokio::test]
async fn a_practitioner_connects_a_family_and_the_service_answers() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, kindred_web::Config::default()).await;
        let f = fixture(&app).await;
        let family = app.world.khan_family;
        let (lead, token) = app.sign_in("lead@west.test").await;
        let (vcs, vcs_token) = app.sign_in("vcs@west.test").await;
        let (teacher, _) = app.sign_in("teacher@west.test").await;
        let (stranger, _) = app.sign_in("stranger@east.test").await;
        let new = format!("/families/{family}/connections/new");
        let (status, page) = get(&app, &lead, &format!("{new}?service={}", f.baby_cafe)).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Baby café") && !page.contains("SEND youth club"),
            "only connectable services: {page}"
        );
        let (_, family_page) = get(&app, &lead, &format!("/families/{family}")).await;
        assert!(family_page.contains(&new), "{family_page}");
        // The voluntary sector worker is not working with the family yet.
        assert_eq!(get(&app, &vcs, &format!("/families/{family}")).await.0, 404);
        assert_eq!(get(&app, &vcs, &new).await.0, 404);
        let members = app.db.members(family).await.unwrap();
        let mum = members
            .iter()
            .find(|m| m.person.given_name == "Aisha")
            .unwrap()
            .person
            .id
            .to_string();
        let child = app.world.khan_child.to_string();
        let service = f.baby_cafe_id.to_string();
        let today = kindred_store::today();
        let (d, m, y) = (
            today.day().to_string(),
            (today.month() as u8).to_string(),
            today.year().to_string(),
        );
        let mut form = vec![
            ("csrf", token.as_str()),
            ("service", service.as_str()),
            ("people", mum.as_str()),
            ("people", child.as_str()),
            (
                "request_text",
                "Aisha would like help with breastfeeding Zara's little brother.",
            ),
            ("consent_day", d.as_str()),
            ("consent_month", m.as_str()),
            ("consent_year", y.as_str()),
            ("consent_how", "verbal"),
        ];
        // No consent recorded: refused, and nothing is sent.
        let (status, _, page) = post(&app, &lead, &new, &form).await;
        assert_eq!(status, 422);
        assert!(page.contains("href=\"#consent_person\""), "{page}");
        assert_eq!(notified(&app.db, "vcs@west.test", "New connection request").await, 0);
        form.push(("consent_person", mum.as_str()));
        let (status, location, _) = post(&app, &lead, &new, &form).await;
        assert_eq!(status, 303);
        let id: i64 = location.strip_prefix("/connections/").unwrap().parse().unwrap();
        assert_eq!(notified(&app.db, "vcs@west.test", "New connection request").await, 1);
        // An unrelated organisation's worker, and another council's: not found.
        for other in [&teacher, &stranger] {
            assert_eq!(get(&app, other, &format!("/connections/{id}")).await.0, 404);
            let (_, list) = get(&app, other, "/connections").await;
            assert!(!list.contains(&format!("C{id}<")), "{list}");
        }
        // The receiving organisation sees it in its inbox; opening it marks it opened.
        let (_, inbox) = get(&app, &vcs, "/connections?status=sent").await;
        assert!(inbox.contains(&format!("/connections/{id}\"")), "{inbox}");
        let (status, page) = get(&app, &vcs, &format!("/connections/{id}")).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("breastfeeding") && page.contains("Given by Aisha Khan"),
            "{page}"
        );
        assert!(page.contains(">Opened<"), "{page}");
        assert_eq!(notified(&app.db, "lead@west.test", "opened").await, 1);
        // Opening twice is one event.
        get(&app, &vcs, &format!("/connections/{id}")).await;
        assert_eq!(app.db.connection_events(id).await.unwrap().len(), 2);
        // Declining needs a reason; a sender cannot answer their own request.
        let (status, _, page) = post(
            &app,
            &vcs,
            &format!("/connections/{id}/decline"),
            &[("csrf", vcs_token.as_str()), ("reason", " ")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("href=\"#reason\""), "{page}");
        assert_eq!(
            post(
                &app,
                &lead,
                &format!("/connections/{id}/accept"),
                &[("csrf", token.as_str())]
            )
            .await
            .0,
            404
        );
        assert_eq!(
            get(&app, &vcs, &format!("/families/{family}")).await.0,
            404,
            "no access before accepting"
        );
        let (status, _, _) = post(
            &app,
            &vcs,
            &format!("/connections/{id}/accept"),
            &[("csrf", vcs_token.as_str())],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(notified(&app.db, "lead@west.test", "accepted").await, 1);
        // Accepting recorded the organisation's involvement: the worker now has the family.
        assert_eq!(get(&app, &vcs, &format!("/families/{family}")).await.0, 200);
        let (status, _, _) = post(
            &app,
            &vcs,
            &format!("/connections/{id}/complete"),
            &[("csrf", vcs_token.as_str())],
        )
        .await;
        assert_eq!(status, 303);
        // Both sides see the whole history, with who and when.
        for side in [&lead, &vcs] {
            let (status, page) = get(&app, side, &format!("/connections/{id}")).await;
            assert_eq!(status, 200);
            let history = &page[page.find("id=\"history\"").unwrap()..];
            let order: Vec<usize> = ["Sent", "Opened", "Accepted", "Completed"]
                .iter()
                .map(|s| {
                    history
                        .find(&format!("<strong>{s}</strong>"))
                        .unwrap_or_else(|| panic!("{s}: {history}"))
                })
                .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{history}");
            assert!(
                history.contains("by lead, West Health Visiting") && history.contains("by vcs, West Family Action"),
                "{history}"
            );
        }
        assert_eq!(notified(&app.db, "lead@west.test", "completed").await, 1);
        let (_, family_page) = get(&app, &lead, &format!("/families/{family}")).await;
        assert!(family_page.contains(&format!("/connections/{id}\"")), "{family_page}");

        // A second request, declined with a reason the sender reads.
        let (_, location, _) = post(&app, &lead, &new, &form).await;
        let second: i64 = location.strip_prefix("/connections/").unwrap().parse().unwrap();
        let (status, _, _) = post(
            &app,
            &vcs,
            &format!("/connections/{second}/decline"),
            &[
                ("csrf", vcs_token.as_str()),
                ("reason", "The group is full until September."),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, page) = get(&app, &lead, &format!("/connections/{second}")).await;
        assert!(
            page.contains(">Declined<") && page.contains("The group is full until September."),
            "{page}"
        );
        assert_eq!(notified(&app.db, "lead@west.test", "declined").await, 1);
        // Reads are audited against the family, with the basis.
        let events = app.db.audit_events_since(0, 10_000).await.unwrap();
        let reads = events
            .iter()
            .filter(|e| e.record_kind == "connection" && e.record_id == Some(id) && e.family_id == Some(family))
            .count();
        assert!(reads >= 6, "{reads} connection audit events");
    }
}
