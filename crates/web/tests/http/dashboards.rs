//! KPI dashboards and the partnership maturity matrix over real HTTP (issue
//! 7): the figures add up by hub, ward and district to what was recorded;
//! counts from 1 to 4 are withheld; only managers, analysts and data
//! officers of the tenant see them; a self-assessment needs every dimension
//! and keeps its history.

use kindred_domain::model::{Profession, Role};
use kindred_domain::{Postcode, model::OrgKind};
use kindred_store::contacts::NewContact;
use kindred_store::persons::NewAddress;
use kindred_store::users::NewUser;

use kindred_store::testing;

use crate::{PASSWORD, TestApp, spawn_app, spawn_with};

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The row of the table that `caption` names, for the area `area`: its cells.
fn row(page: &str, caption: &str, area: &str) -> Vec<String> {
    let table = page
        .split("<table")
        .find(|t| t.contains(caption))
        .unwrap_or_else(|| panic!("no table {caption}: {page}"));
    let row = table
        .split("<tr")
        .find(|r| r.contains(&format!(">{area}</th>")))
        .unwrap_or_else(|| panic!("no row {area} in {caption}: {table}"));
    row.split("<td")
        .skip(1)
        .map(|c| {
            let text = c.split_once('>').map(|x| x.1).unwrap_or("");
            let text = text.split("</td>").next().unwrap_or("");
            text.replace("<strong>", "").replace("</strong>", "").trim().to_string()
        })
        .collect()
}

/// West's hubs (North reaches W9, South W2), a ward, the Khan family in W9
/// and the Okafor family in W2 5, and this month's contacts: Khan 7 home
/// visits and 3 phone calls, Okafor 5 home visits.
async fn seed(app: &TestApp) -> i64 {
    let db = &app.db;
    let tenant = db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let t = tenant.tenant_id;
    let hub_org = db
        .create_organisation(t, "West Family Hubs", OrgKind::FamilyHub)
        .await
        .unwrap();
    db.create_hub_site(t, Some(hub_org.id), "North hub", None, &["W9".to_string()])
        .await
        .unwrap();
    db.create_hub_site(t, Some(hub_org.id), "South hub", None, &["W2".to_string()])
        .await
        .unwrap();
    db.set_ward(t, "Westbourne", &["W2 5".to_string()]).await.unwrap();
    let today = kindred_store::today();
    let address = |pc: &str| NewAddress {
        line1: "1 Test Street".into(),
        line2: None,
        town: "London".into(),
        postcode: Postcode::parse(pc).unwrap(),
        from_date: today,
    };
    let khan = db.members(app.world.khan_family).await.unwrap();
    db.move_person(khan[0].person.id, &address("W9 1AA")).await.unwrap();
    let okafor = db.members(app.world.other_family).await.unwrap();
    db.move_person(okafor[0].person.id, &address("W2 5XY")).await.unwrap();
    for (family, mode, n) in [
        (app.world.khan_family, "home_visit", 7),
        (app.world.khan_family, "phone", 3),
        (app.world.other_family, "home_visit", 5),
    ] {
        for _ in 0..n {
            db.add_contact(&NewContact {
                tenant_id: t,
                family_id: family,
                organisation_id: tenant.organisation_id,
                author_user_id: tenant.id,
                occurred_on: today,
                mode,
                visibility: "team",
                body: "Seen at home.".into(),
                people: vec![],
                readers: vec![],
            })
            .await
            .unwrap();
        }
    }
    let analyst = db
        .create_user(&NewUser {
            tenant_id: t,
            organisation_id: tenant.organisation_id,
            team_id: None,
            email: "figures@west.test".into(),
            display_name: "West analyst".into(),
            profession: Profession::Administrator,
            roles: vec![Role::Analyst],
            password_hash: kindred_web::passwords::hash(PASSWORD),
        })
        .await
        .unwrap();
    analyst.id
}

#[tokio::test]
async fn the_figures_add_up_by_area_and_small_counts_are_withheld() {
    for db in testing::fresh_databases().await {
        figures_add_up(spawn_with(db, Default::default()).await).await;
    }
}

async fn figures_add_up(app: TestApp) {
    seed(&app).await;
    let (manager, _) = app.sign_in("manager@west.test").await;
    let (status, page) = get(&manager, &app, "/dashboards?by=hub&months=3").await;
    assert_eq!(status, 200, "{page}");
    let caption = "Contacts by mode, by family hub";
    // Columns follow the contact modes in order; home visits, then phone calls, are the ones used here.
    let headers: Vec<&str> = page
        .split("<table")
        .find(|t| t.contains(caption))
        .unwrap()
        .split("<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">")
        .skip(1)
        .map(|h| h.split('<').next().unwrap())
        .collect();
    let home = headers
        .iter()
        .position(|h| *h == "Home visit")
        .expect("home visits column");
    let phone = headers
        .iter()
        .position(|h| h.starts_with("Phone"))
        .expect("phone column");
    let north = row(&page, caption, "North hub");
    let south = row(&page, caption, "South hub");
    let all = row(&page, caption, "All areas");
    assert_eq!(
        (north[home].as_str(), south[home].as_str(), all[home].as_str()),
        ("7", "5", "12")
    );
    // Three phone calls: withheld in the row and in the total.
    assert_eq!((north[phone].as_str(), all[phone].as_str()), ("[c]", "[c]"));
    assert!(!page.contains(">3</td>"), "a count of 3 is never shown");

    // By ward: the Okafor family's sector is in Westbourne; W9 is in no ward.
    let (_, page) = get(&manager, &app, "/dashboards?by=ward&months=3").await;
    let caption = "Contacts by mode, by ward";
    assert_eq!(row(&page, caption, "Westbourne")[home], "5");
    assert_eq!(row(&page, caption, "Outside every ward")[home], "7");
    // By district, month by month.
    let (status, page) = get(&manager, &app, "/dashboards/contact_modes?by=district&months=3").await;
    assert_eq!(status, 200);
    let cells = row(&page, "Home visit", "W9");
    assert_eq!(cells.last().map(String::as_str), Some("7"));
    let (status, _) = get(&manager, &app, "/dashboards/no_such_kpi").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn only_managers_analysts_and_data_officers_of_the_tenant_see_figures() {
    let app = spawn_app().await;
    seed(&app).await;
    let (analyst, _) = app.sign_in("figures@west.test").await;
    let (status, page) = get(&analyst, &app, "/dashboards").await;
    assert_eq!(status, 200);
    assert!(page.contains("North hub"), "{page}");
    // The analyst sees figures, never a family.
    for path in [
        format!("/families/{}", app.world.khan_family),
        format!("/families/{}/contacts", app.world.khan_family),
        "/search?q=Khan".to_string(),
    ] {
        let (status, body) = get(&analyst, &app, &path).await;
        assert!(status == 404 || !body.contains("Khan"), "{path}: {status}");
    }
    for email in ["lead@west.test", "admin@west.test", "triage@west.test"] {
        let (c, _) = app.sign_in(email).await;
        for path in ["/dashboards", "/dashboards/reach", "/maturity"] {
            assert_eq!(get(&c, &app, path).await.0, 404, "{email} {path}");
        }
    }
    // Another authority's manager sees their own (empty) figures, none of West's.
    let (east, _) = app.sign_in("stranger@east.test").await;
    let (status, page) = get(&east, &app, "/dashboards").await;
    assert_eq!(status, 200);
    assert!(!page.contains("North hub") && !page.contains(">12<"), "{page}");
}

#[tokio::test]
async fn a_self_assessment_needs_every_dimension_and_keeps_its_history() {
    for db in testing::fresh_databases().await {
        self_assessment(spawn_with(db, Default::default()).await).await;
    }
}

async fn self_assessment(app: TestApp) {
    let (manager, token) = app.sign_in("manager@west.test").await;
    let (status, page) = get(&manager, &app, "/maturity").await;
    assert_eq!(status, 200);
    assert!(page.contains("No self-assessment has been saved yet"));
    assert!(
        page.contains("Information-sharing agreements in force"),
        "evidence: {page}"
    );
    let mut form = vec![
        ("csrf", token.clone()),
        ("level_leadership", "early_progress".to_string()),
        ("level_commissioning", "basic".to_string()),
        ("level_information_sharing", "basic".to_string()),
        ("level_integrated_working", "basic".to_string()),
        ("comment_leadership", "Board set up in the spring.".to_string()),
    ];
    let res = manager.post(app.url("/maturity")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("Choose a level for it systems and data"), "{body}");
    assert!(body.contains("Board set up in the spring."), "what was typed is kept");
    form.push(("level_it", "basic".to_string()));
    let res = manager.post(app.url("/maturity")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    form[3] = ("level_information_sharing", "substantial".to_string());
    let res = manager.post(app.url("/maturity")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let (_, page) = get(&manager, &app, "/maturity?saved=1").await;
    assert!(page.contains("The self-assessment is saved"));
    let latest = page.split("<caption").nth(1).expect("the latest assessment");
    assert!(
        latest.contains("Information sharing</th><td class=\"govuk-table__cell\">Substantial progress</td><td class=\"govuk-table__cell\">Up"),
        "{latest}"
    );
    assert_eq!(
        page.matches("First rating").count(),
        5,
        "the first assessment: every dimension new"
    );
    let east = app.db.user_by_email("stranger@east.test").await.unwrap().unwrap();
    assert!(app.db.maturity_assessments(east.tenant_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_administrator_sets_the_wards_and_each_bad_line_is_named() {
    let app = spawn_app().await;
    let (admin, token) = app.sign_in("admin@west.test").await;
    let bad = "Westbourne: W2 5, W2 6\nHarrow Road W9\nMaida Vale: W9 77";
    let res = admin
        .post(app.url("/admin/wards"))
        .form(&[("csrf", token.as_str()), ("wards", bad)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("Line 2: Write the ward"), "{body}");
    assert!(body.contains("Line 3: W9 77 is not a postcode district"), "{body}");
    assert!(body.contains("Harrow Road W9"), "what was typed is kept");
    let t = app
        .db
        .user_by_email("admin@west.test")
        .await
        .unwrap()
        .unwrap()
        .tenant_id;
    assert!(
        app.db.wards(t).await.unwrap().is_empty(),
        "nothing saved from a form with errors"
    );
    let good = "Westbourne: w2 5, W2 6\nMaida Vale: W9";
    let res = admin
        .post(app.url("/admin/wards"))
        .form(&[("csrf", token.as_str()), ("wards", good)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let wards = app.db.wards(t).await.unwrap();
    let names: Vec<(&str, Vec<String>)> = wards.iter().map(|w| (w.name.as_str(), w.areas.clone())).collect();
    assert_eq!(
        names,
        [
            ("Maida Vale", vec!["W9".to_string()]),
            ("Westbourne", vec!["W2 5".to_string(), "W2 6".to_string()])
        ]
    );
    let (manager, _) = app.sign_in("manager@west.test").await;
    assert_eq!(get(&manager, &app, "/admin/wards").await.0, 404);
}
