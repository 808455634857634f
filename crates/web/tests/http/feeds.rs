//! The feeds over real HTTP (issue 6): the data officer uploads a file and
//! reads its summary and rejected rows, works the match review queue (link,
//! undo, a new person) with every comparison's weight beside the records;
//! nobody else sees these pages, and a data officer of another authority
//! gets the same "not found" as for a record that does not exist.

use kindred_domain::feeds::{FeedKind, Thresholds};
use kindred_domain::model::{Profession, Role};
use kindred_store::users::NewUser;

use crate::{PASSWORD, TestApp, csrf, spawn_app};

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Adds a data officer to a tenant (by code) and signs them in; returns the client and a CSRF token.
async fn data_officer(app: &TestApp, tenant: &str, email: &str) -> (reqwest::Client, String) {
    let t = app.db.tenant_by_code(tenant).await.unwrap();
    let org = app.db.organisations(t.id).await.unwrap()[0].id;
    app.db
        .create_user(&NewUser {
            tenant_id: t.id,
            organisation_id: org,
            team_id: None,
            email: email.into(),
            display_name: "Dee Data".into(),
            profession: Profession::Administrator,
            roles: vec![Role::DataOfficer],
            password_hash: kindred_web::passwords::hash(PASSWORD),
        })
        .await
        .unwrap();
    let c = crate::client();
    let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = c
        .post(app.url("/login"))
        .form(&[("csrf", csrf(&page).as_str()), ("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (status, imports) = get(app, &c, "/imports").await;
    assert_eq!(status, 200);
    (c, csrf(&imports))
}

fn upload(token: &str, kind: &str, org: i64, file: Option<&str>) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", token.to_string())
        .text("kind", kind.to_string())
        .text("organisation", org.to_string());
    if let Some(f) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(f.as_bytes().to_vec()).file_name("births.csv"),
        );
    }
    form
}

const BIRTHS: &str = "birth_id,nhs_number,given_name,family_name,date_of_birth,sex,mother_nhs_number,mother_given_name,mother_family_name,mother_date_of_birth,address,postcode,consent
B-1,9990000042,Zara,Okafor,2026-10-28,F,,Amina,Okafor,14/07/1994,12 Porchester Road,W2 5AB,yes
B-2,,Leo,Brennan,2026-10-32,M,,Siobhan,Brennan,1998-02-03,4 Westbourne Park Villas,W2 5EA,Y
";

#[tokio::test]
async fn the_data_officer_uploads_a_feed_and_reads_what_happened_to_each_row() {
    let app = spawn_app().await;
    let (c, token) = data_officer(&app, "west", "data@west.test").await;
    let west = app.db.tenant_by_code("west").await.unwrap();
    let hv = app.db.organisations(west.id).await.unwrap()[0].id;
    // Nothing to upload, then a file missing a column every row needs: the form says what is wrong.
    let res = c
        .post(app.url("/imports"))
        .multipart(upload(&token, "live_births", hv, None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Choose a CSV file to upload"));
    let res = c
        .post(app.url("/imports"))
        .multipart(upload(
            &token,
            "live_births",
            hv,
            Some("birth_id,date_of_birth\nB-1,2026-10-01\n"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("the header has no `postcode` column")
    );
    // A forged form is refused.
    let res = c
        .post(app.url("/imports"))
        .multipart(upload("forged", "live_births", hv, Some(BIRTHS)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // The real upload: imported in the background, its page shows the progress, then the summary.
    let res = c
        .post(app.url("/imports"))
        .multipart(upload(&token, "live_births", hv, Some(BIRTHS)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let run_page = res.headers()["location"].to_str().unwrap().to_string();
    let mut page = String::new();
    for _ in 0..100 {
        page = get(&app, &c, &run_page).await.1;
        if page.contains("Finished") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("Finished"), "{page}");
    assert!(
        page.contains("2: 1 new, 0 changed, 0 unchanged since an earlier import, 1 rejected"),
        "{page}"
    );
    // Line 3 (the header is line 1): its date of birth is not a date.
    assert!(
        page.contains(">3</td>") && page.contains("date_of_birth is not a date"),
        "{page}"
    );
    let (status, progress) = get(&app, &c, &format!("{run_page}/progress")).await;
    assert_eq!(status, 200);
    assert_eq!(progress, r#"{"done":2,"running":false,"total":2}"#);
    let (status, csv) = get(&app, &c, &format!("{run_page}/rejects.csv")).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("line,column,reason,row\n3,date_of_birth,"), "{csv}");
    let (_, list) = get(&app, &c, "/imports").await;
    assert!(list.contains("births.csv"));

    // Nobody else: a practitioner, a manager, and the data officer of another authority.
    let (lead, _) = app.sign_in("lead@west.test").await;
    let (east, _) = data_officer(&app, "east", "data@east.test").await;
    for (who, client) in [("practitioner", &lead), ("east data officer", &east)] {
        for path in [
            run_page.clone(),
            format!("{run_page}/rejects.csv"),
            format!("{run_page}/progress"),
        ] {
            assert_eq!(get(&app, client, &path).await.0, 404, "{who} on {path}");
        }
    }
    assert_eq!(get(&app, &lead, "/imports").await.0, 404);
    assert_eq!(get(&app, &lead, "/matches").await.0, 404);
    assert_eq!(get(&app, &lead, "/reach").await.0, 404);
    let (manager, _) = app.sign_in("manager@west.test").await;
    let (status, reach) = get(&app, &manager, "/reach").await;
    assert_eq!(status, 200);
    assert!(reach.contains("Reach: births against families registered"));
}

#[tokio::test]
async fn the_match_review_links_undoes_and_makes_a_new_person_with_the_weights_shown() {
    let app = spawn_app().await;
    let (c, token) = data_officer(&app, "west", "data@west.test").await;
    let west = app.db.tenant_by_code("west").await.unwrap();
    let org = app.db.organisations(west.id).await.unwrap()[0].id;
    let aisha = app
        .db
        .members(app.world.khan_family)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.person.given_name == "Aisha")
        .unwrap()
        .person
        .id;
    // A housing extract naming Aisha: every candidate waits for review.
    let out = kindred_feeds::import(
        &app.db,
        b"Ref,First,Last,Born\nH-1,Aisha,Khan,01/01/1990\n",
        &kindred_feeds::ImportOptions {
            tenant_id: west.id,
            organisation_id: org,
            kind: FeedKind::PersonExtract,
            source_system: None,
            mapping: Some(
                kindred_feeds::Mapping::parse(
                    "source_system = \"housing\"\n[columns]\nid = \"Ref\"\ngiven_name = \"First\"\nfamily_name = \"Last\"\ndate_of_birth = \"Born\"\n",
                )
                .unwrap(),
            ),
            file_name: "housing.csv".into(),
            started_by_user_id: None,
            thresholds: Thresholds { link: 1.0, review: 0.0 },
            today: kindred_store::today(),
        },
        &|_: u64, _: u64| {},
    )
    .await
    .unwrap();
    assert_eq!(out.counts.to_review, 1);
    let record = app.db.review_queue(west.id, 10).await.unwrap()[0].source_record_id;
    let (_, queue) = get(&app, &c, "/matches").await;
    assert!(queue.contains(&format!("/matches/{record}")));
    let (status, page) = get(&app, &c, &format!("/matches/{record}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("Person {aisha}: Aisha Khan")), "{page}");
    for shown in ["First name", "Date of birth", "Field by field: match weight"] {
        assert!(page.contains(shown), "{shown} missing");
    }
    // Viewing a candidate is audited on the candidate's own access log.
    let events = app.db.audit_events_since(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.record_kind == "person" && e.record_id == Some(aisha) && e.route == "web GET /matches/{id}")
    );
    // Link her.
    let res = c
        .post(app.url(&format!("/matches/{record}")))
        .form(&[
            ("csrf", token.as_str()),
            ("decision", "link"),
            ("person", &aisha.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, page) = get(&app, &c, &format!("/matches/{record}")).await;
    assert!(page.contains("Linked after review"), "{page}");
    assert!(app.db.review_queue(west.id, 10).await.unwrap().is_empty());
    // Her person page now lists the housing record, for a worker of the supplying organisation.
    let (lead, _) = app.sign_in("lead@west.test").await;
    let (_, person) = get(&app, &lead, &format!("/persons/{aisha}")).await;
    assert!(
        person.contains("Records in other systems") && person.contains("H-1"),
        "{person}"
    );
    // Deciding again is refused with a reason, not an error page.
    let res = c
        .post(app.url(&format!("/matches/{record}")))
        .form(&[("csrf", token.as_str()), ("decision", "new_person")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("no longer waiting for review"));
    // Undo: back in the queue, with the history.
    let res = c
        .post(app.url(&format!("/matches/{record}/undo")))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, page) = get(&app, &c, &format!("/matches/{record}")).await;
    assert!(
        page.contains("Waiting for review") && page.contains("Undone by Dee Data"),
        "{page}"
    );
    // None of them: a new person, and the source record is kept.
    let res = c
        .post(app.url(&format!("/matches/{record}")))
        .form(&[("csrf", token.as_str()), ("decision", "new_person")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let r = app.db.source_record(record).await.unwrap();
    assert_eq!(r.status, "new_person");
    assert!(r.person_id.is_some_and(|p| p != aisha));
    // Another authority's data officer: not found, to read or to decide.
    let (east, east_token) = data_officer(&app, "east", "data@east.test").await;
    assert_eq!(get(&app, &east, &format!("/matches/{record}")).await.0, 404);
    let res = east
        .post(app.url(&format!("/matches/{record}")))
        .form(&[("csrf", east_token.as_str()), ("decision", "new_person")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
