//! Restricted persons, flags and alerts over real HTTP: a restricted person's
//! address, postcode, phone and email appear on no page for a worker without
//! permission (nor in their own family's portal), and postcode search does
//! not find them; a flag raised by social care reaches a voluntary sector
//! worker; a child protection enquiry alerts adult mental health once.

use kindred_domain::model::{MemberRole, OrgKind, Profession, Role, Sex};
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::restricted::PersonContact;
use kindred_store::testing;
use kindred_store::users::NewUser;

use crate::{TestApp, csrf, spawn_app, spawn_with};

const LINE1: &str = "17 Quillfeather Mews";
const POSTCODE: &str = "W2 9QX";
const PHONE: &str = "07700 900461";
const EMAIL: &str = "aisha.refuge@example.org";
const WITHHELD: &str = "Address withheld: restricted";

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

fn assert_hidden(html: &str, page: &str) {
    for secret in [LINE1, POSTCODE, PHONE, EMAIL, "Quillfeather", "9QX"] {
        assert!(!html.contains(secret), "{secret} leaked on {page}");
    }
}

fn assert_shown(html: &str, page: &str) {
    for secret in [LINE1, POSTCODE, PHONE, EMAIL] {
        assert!(html.contains(secret), "{secret} missing on {page}");
    }
}

/// Aisha Khan, the mother in the Khan family, with an address, phone and email.
async fn aisha(app: &TestApp) -> i64 {
    let mum = app
        .db
        .members(app.world.khan_family)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.person.given_name == "Aisha")
        .unwrap()
        .person
        .id;
    app.db
        .move_person(
            mum,
            &NewAddress {
                line1: LINE1.into(),
                line2: None,
                town: "London".into(),
                postcode: kindred_domain::Postcode::parse(POSTCODE).unwrap(),
                from_date: kindred_store::today(),
            },
        )
        .await
        .unwrap();
    // Her daughter lives with her: her address would give Aisha's away.
    app.db
        .move_person(
            app.world.khan_child,
            &NewAddress {
                line1: LINE1.into(),
                line2: None,
                town: "London".into(),
                postcode: kindred_domain::Postcode::parse(POSTCODE).unwrap(),
                from_date: kindred_store::today(),
            },
        )
        .await
        .unwrap();
    app.db
        .set_person_contact(
            mum,
            &PersonContact {
                phone: Some(PHONE.into()),
                email: Some(EMAIL.into()),
            },
        )
        .await
        .unwrap();
    mum
}

async fn search(app: &TestApp, c: &reqwest::Client, t: &str, fields: &[(&str, &str)]) -> String {
    let mut form = vec![("csrf", t)];
    form.extend_from_slice(fields);
    let res = post(c, app, "/search", &form).await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_restricted_persons_details_are_hidden_on_every_page_without_permission() {
    let app = spawn_app().await;
    let khan = app.world.khan_family;
    let mum = aisha(&app).await;
    let (lead, lt) = app.sign_in("lead@west.test").await;
    let (colleague, ct) = app.sign_in("colleague@west.test").await;

    // Before the restriction, the colleague (same health visiting service) sees everything.
    let (_, family) = get(&app, &colleague, &format!("/families/{khan}")).await;
    assert_shown(&family, "the family page, unrestricted");
    let hits = search(&app, &colleague, &ct, &[("postcode", POSTCODE)]).await;
    assert!(hits.contains("Aisha"), "postcode search finds an unrestricted person");

    // The lead marks Aisha restricted, and so may still see her details.
    let res = post(
        &lead,
        &app,
        &format!("/persons/{mum}/restricted"),
        &[("csrf", &lt), ("reason", "domestic_abuse")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let audit = app.db.audit_events_since(0, 100_000).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.record_kind == "restricted_person" && e.detail == "restricted reason=domestic_abuse"),
        "the reason is audited as a code"
    );
    for path in [format!("/families/{khan}"), format!("/persons/{mum}")] {
        let (status, html) = get(&app, &lead, &path).await;
        assert_eq!(status, 200);
        assert_shown(&html, &path);
    }
    let (status, edit) = get(&app, &lead, &format!("/persons/{mum}/edit")).await;
    assert_eq!(status, 200);
    assert!(edit.contains(PHONE) && edit.contains(EMAIL));
    assert!(
        search(&app, &lead, &lt, &[("postcode", POSTCODE)])
            .await
            .contains("Aisha")
    );

    // The colleague: the name stays, the details do not, on every page.
    for path in [
        format!("/families/{khan}"),
        format!("/persons/{mum}"),
        format!("/families/{khan}/profile"),
        format!("/families/{khan}/plan"),
        format!("/families/{khan}/portal"),
        format!("/families/{khan}/contacts"),
        "/transitions".to_string(),
        "/tasks".to_string(),
        "/".to_string(),
    ] {
        let (status, html) = get(&app, &colleague, &path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        assert_hidden(&html, &path);
    }
    let (_, family) = get(&app, &colleague, &format!("/families/{khan}")).await;
    assert!(family.contains("Aisha Khan") && family.contains(WITHHELD));
    let (_, person) = get(&app, &colleague, &format!("/persons/{mum}")).await;
    assert!(person.contains("Aisha Khan") && person.contains(WITHHELD));
    let child = app.world.khan_child;
    let (_, person) = get(&app, &colleague, &format!("/persons/{child}")).await;
    assert!(person.contains("Zara Khan") && person.contains(WITHHELD));
    assert_hidden(&person, "the page of the child living with her");
    assert!(
        !person.contains(&format!("/persons/{mum}/edit")),
        "no link to change her details"
    );
    for path in [format!("/persons/{mum}/edit"), format!("/persons/{mum}/address")] {
        assert_eq!(get(&app, &colleague, &path).await.0, 404, "{path}");
    }
    let res = post(
        &colleague,
        &app,
        &format!("/persons/{mum}/address"),
        &[
            ("csrf", &ct),
            ("line1", "1 New Road"),
            ("town", "London"),
            ("postcode", "W2 1AA"),
        ],
    )
    .await;
    assert_eq!(res.status(), 404, "no changing the address without permission");
    // Search: not found by postcode; found by name with the postcode withheld.
    let hits = search(&app, &colleague, &ct, &[("postcode", POSTCODE)]).await;
    assert!(
        !hits.contains("Aisha"),
        "postcode search does not find a restricted person"
    );
    assert!(
        !hits.contains(LINE1) && !hits.contains(PHONE),
        "only the postcode typed is on the page"
    );
    let hits = search(&app, &colleague, &ct, &[("name", "Aisha Khan")]).await;
    assert!(hits.contains("Aisha") && hits.contains(WITHHELD));
    assert_hidden(&hits, "name search");
    // A referral of the family carries no restricted address, for anyone.
    let res = post(
        &colleague,
        &app,
        "/referrals",
        &[("csrf", &ct), ("family_id", &khan.to_string())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let draft = res.headers()["location"].to_str().unwrap().to_string();
    let (status, html) = get(&app, &colleague, &draft).await;
    assert_eq!(status, 200);
    assert!(html.contains("Aisha"));
    assert_hidden(&html, "the referral draft");
    let referral_id: i64 = draft
        .trim_start_matches("/referrals/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    let people = app.db.referral_people(referral_id).await.unwrap();
    let copied = people.iter().find(|p| p.person_id == Some(mum)).unwrap();
    assert_eq!(copied.details.postcode, None, "no restricted postcode in the referral");
    let (_, html) = get(&app, &colleague, &format!("/referrals/{referral_id}")).await;
    assert_hidden(&html, "the referral");

    // Given permission, the colleague sees them; taken away, not again.
    let colleague_id = app.db.user_by_email("colleague@west.test").await.unwrap().unwrap().id;
    let res = post(
        &lead,
        &app,
        &format!("/persons/{mum}/restricted/permissions"),
        &[("csrf", &lt), ("user_id", &colleague_id.to_string())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, person) = get(&app, &colleague, &format!("/persons/{mum}")).await;
    assert_shown(&person, "the person page with permission");
    let res = post(
        &lead,
        &app,
        &format!("/persons/{mum}/restricted/permissions/{colleague_id}/revoke"),
        &[("csrf", &lt)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, person) = get(&app, &colleague, &format!("/persons/{mum}")).await;
    assert_hidden(&person, "the person page after revocation");
    // Without permission, the colleague cannot give it to themselves or lift the restriction.
    for path in [
        format!("/persons/{mum}/restricted/permissions"),
        format!("/persons/{mum}/restricted/lift"),
    ] {
        let res = post(
            &colleague,
            &app,
            &path,
            &[("csrf", &ct), ("user_id", &colleague_id.to_string())],
        )
        .await;
        assert_eq!(res.status(), 404, "{path}");
    }
    assert_hidden(
        &get(&app, &colleague, &format!("/persons/{mum}")).await.1,
        "after refused changes",
    );
}

#[tokio::test]
async fn a_restricted_member_is_hidden_from_their_own_familys_portal() {
    let app = spawn_app().await;
    let khan = app.world.khan_family;
    let mum = aisha(&app).await;
    let dad = app
        .db
        .create_person(
            1,
            &PersonDetails {
                given_name: "Omar".into(),
                family_name: "Khan".into(),
                preferred_name: None,
                date_of_birth: Some(time::macros::date!(1988 - 03 - 03)),
                expected_delivery: None,
                sex: Sex::Male,
                nhs_number: None,
                upn: None,
                language: None,
                interpreter_needed: false,
                send: false,
            },
        )
        .await
        .unwrap();
    app.db
        .add_member(khan, dad.id, MemberRole::Parent, kindred_store::today())
        .await
        .unwrap();
    app.db
        .move_person(
            dad.id,
            &NewAddress {
                line1: "5 Larkspur Row".into(),
                line2: None,
                town: "London".into(),
                postcode: kindred_domain::Postcode::parse("W9 3ZY").unwrap(),
                from_date: kindred_store::today(),
            },
        )
        .await
        .unwrap();
    let (lead, lt) = app.sign_in("lead@west.test").await;
    let res = post(
        &lead,
        &app,
        &format!("/persons/{mum}/restricted"),
        &[("csrf", &lt), ("reason", "domestic_abuse")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let mut codes = vec![];
    for p in [dad.id, mum] {
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/portal"),
            &[("csrf", &lt), ("person", &p.to_string())],
        )
        .await;
        assert_eq!(res.status(), 200);
        codes.push(crate::plan::shown_code(&res.text().await.unwrap()));
    }
    // Omar sees his own address and Aisha's name, never where she lives.
    let (omar, _) = crate::plan::portal_sign_in(&app, &codes[0]).await;
    for path in ["/portal", "/portal/access"] {
        let (status, html) = get(&app, &omar, path).await;
        assert_eq!(status, 200, "{path}");
        assert_hidden(&html, path);
        assert!(!html.contains(WITHHELD), "no hint that anything is withheld");
    }
    let (_, home) = get(&app, &omar, "/portal").await;
    assert!(home.contains("Aisha Khan"), "the member's name may be shown");
    assert!(home.contains("5 Larkspur Row"), "his own address is shown");
    // Aisha sees her own details; and Omar's, who is not restricted.
    let (aisha_portal, _) = crate::plan::portal_sign_in(&app, &codes[1]).await;
    let (_, home) = get(&app, &aisha_portal, "/portal").await;
    assert_shown(&home, "her own portal");
    assert!(home.contains("5 Larkspur Row"));
}

#[tokio::test]
async fn a_flag_raised_by_social_care_reaches_the_voluntary_sector_worker() {
    let app = spawn_app().await;
    let khan = app.world.khan_family;
    let child = app.world.khan_child;
    let today = kindred_store::today();
    let sw = app.db.user_by_email("sw@west.test").await.unwrap().unwrap();
    let vcs = app.db.user_by_email("vcs@west.test").await.unwrap().unwrap();
    app.db.add_team_member(khan, sw.id, today).await.unwrap();
    let (vcs_client, _) = app.sign_in("vcs@west.test").await;
    assert_eq!(get(&app, &vcs_client, &format!("/families/{khan}")).await.0, 404);
    app.db
        .add_involvement(khan, vcs.organisation_id, "Family support", today)
        .await
        .unwrap();
    let (social, st) = app.sign_in("sw@west.test").await;
    // A flag without a description is refused with a message, and nothing is lost.
    let res = post(
        &social,
        &app,
        &format!("/families/{khan}/flags"),
        &[
            ("csrf", &st),
            ("kind", "child_in_need"),
            ("person_id", &child.to_string()),
            ("description", " "),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Enter a description of the flag"));
    let res = post(
        &social,
        &app,
        &format!("/families/{khan}/flags"),
        &[
            ("csrf", &st),
            ("kind", "child_in_need"),
            ("person_id", &child.to_string()),
            ("description", "Section 17 assessment open, flag 4471"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // The voluntary sector worker sees it on the family page and the child's page, whatever consent says.
    for path in [format!("/families/{khan}"), format!("/persons/{child}")] {
        let (status, html) = get(&app, &vcs_client, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("flags-warning"), "a warning at the top of {path}");
        assert!(html.contains("Child in need"), "{path}");
        assert!(html.contains("Section 17 assessment open, flag 4471"), "{path}");
    }
    // A worker with no access to the family sees nothing of it.
    let (teacher, _) = app.sign_in("teacher@west.test").await;
    assert_eq!(get(&app, &teacher, &format!("/families/{khan}")).await.0, 404);
    // Social care ends it; it is gone.
    let flag = app.db.open_flags_of_family(khan).await.unwrap()[0].id;
    let res = post(
        &social,
        &app,
        &format!("/families/{khan}/flags/{flag}/end"),
        &[("csrf", &st), ("back", "")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = get(&app, &vcs_client, &format!("/families/{khan}")).await;
    assert!(!html.contains("flag 4471"));
}

#[tokio::test]
async fn a_child_protection_enquiry_alerts_adult_mental_health_once() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let today = kindred_store::today();
        let amh = app
            .db
            .create_organisation(1, "West Adult Mental Health", OrgKind::AdultMentalHealth)
            .await
            .unwrap();
        let worker = app
            .db
            .create_user(&NewUser {
                tenant_id: 1,
                organisation_id: amh.id,
                team_id: None,
                email: "amh@west.test".into(),
                display_name: "amh".into(),
                profession: Profession::MentalHealthPractitioner,
                roles: vec![Role::Practitioner],
                password_hash: kindred_web::passwords::hash(crate::PASSWORD),
            })
            .await
            .unwrap();
        app.db.add_team_member(khan, worker.id, today).await.unwrap();
        app.db
            .add_involvement(khan, amh.id, "Community mental health", today)
            .await
            .unwrap();
        let sw = app.db.user_by_email("sw@west.test").await.unwrap().unwrap();
        app.db.add_team_member(khan, sw.id, today).await.unwrap();

        // The administrator adds the rule.
        let (admin, at) = app.sign_in("admin@west.test").await;
        let (status, page) = get(&app, &admin, "/admin/alert-rules").await;
        assert_eq!(status, 200);
        assert!(page.contains("There are no alert rules"));
        let res = post(
            &admin,
            &app,
            "/admin/alert-rules",
            &[
                ("csrf", &at),
                ("trigger_flag", "child_protection_enquiry"),
                ("involved_org_kind", "adult_mental_health"),
                ("task_title", ""),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let res = post(
            &admin,
            &app,
            "/admin/alert-rules",
            &[
                ("csrf", &at),
                ("trigger_flag", "child_protection_enquiry"),
                ("involved_org_kind", "adult_mental_health"),
                (
                    "task_title",
                    "Child protection enquiry opened: check on the parent you support",
                ),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (_, page) = get(&app, &admin, "/admin/alert-rules").await;
        assert!(page.contains("check on the parent you support"));
        let (lead, _) = app.sign_in("lead@west.test").await;
        assert_eq!(
            get(&app, &lead, "/admin/alert-rules").await.0,
            404,
            "administrators only"
        );

        // Social care raises a child protection enquiry flag.
        let (social, st) = app.sign_in("sw@west.test").await;
        let res = post(
            &social,
            &app,
            &format!("/families/{khan}/flags"),
            &[
                ("csrf", &st),
                ("kind", "child_protection_enquiry"),
                ("person_id", ""),
                ("description", "Strategy discussion held"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (amh_client, _) = app.sign_in("amh@west.test").await;
        let (status, inbox) = get(&app, &amh_client, "/tasks").await;
        assert_eq!(status, 200);
        assert_eq!(
            inbox.matches("check on the parent you support").count(),
            1,
            "one alert in the adult mental health worker's inbox"
        );
        let alerts: Vec<_> = app
            .db
            .open_tasks_of_family(khan)
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.kind == "alert")
            .collect();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].assigned_user_id, Some(worker.id));
        // Applying the rules again makes no second alert for the same flag.
        let flag = app.db.open_flags_of_family(khan).await.unwrap()[0].id;
        assert!(app.db.raise_alerts(flag, today).await.unwrap().is_empty());
        let again = app
            .db
            .open_tasks_of_family(khan)
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.kind == "alert")
            .count();
        assert_eq!(again, 1, "exactly once");
        // Another kind of flag alerts no one.
        let res = post(
            &social,
            &app,
            &format!("/families/{khan}/flags"),
            &[("csrf", &st), ("kind", "young_carer"), ("description", "Cares for mum")],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (_, inbox) = get(&app, &amh_client, "/tasks").await;
        assert_eq!(inbox.matches("check on the parent you support").count(), 1);
        // The rule can be deleted.
        let rule = app.db.alert_rules(1).await.unwrap()[0].id;
        let (_, page) = get(&app, &admin, "/admin/alert-rules").await;
        let res = post(
            &admin,
            &app,
            &format!("/admin/alert-rules/{rule}/delete"),
            &[("csrf", &csrf(&page))],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert!(app.db.alert_rules(1).await.unwrap().is_empty());
    }
}
