//! Early identification over real HTTP (issue 7, F20), on SQLite and on
//! PostgreSQL when `KINDRED_TEST_DATABASE_URL` is set. The feeds arrive the
//! real way (`kindred_feeds::import`): missed immunisations, school
//! attendance and rent arrears, matched to the families' members; adult
//! mental health is a recorded involvement. The list explains every entry:
//! a family with signals from two services is listed with exactly those facts
//! and their sources; one service's signal, an open episode or a service
//! already acting keeps a family off; a viewer sees only families whose
//! facts visible to them qualify; a decision moves a family to "decided"
//! until a new fact arrives; everyone else gets not-found.

use kindred_domain::NhsNumber;
use kindred_domain::feeds::{FeedKind, Thresholds};
use kindred_domain::model::{MemberRole, OrgKind, Profession, Role, Sex};
use kindred_domain::sharing::{DataCategory, EARLY_IDENTIFICATION, LawfulBasis};
use kindred_feeds::{ImportOptions, import};
use kindred_store::Db;
use kindred_store::consents::NewAgreement;
use kindred_store::families::Creator;
use kindred_store::persons::PersonDetails;
use kindred_store::testing;
use kindred_store::users::NewUser;
use kindred_web::Config;
use time::Duration;

use crate::{PASSWORD, TestApp, spawn_with};

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

struct Orgs {
    tenant: i64,
}

/// A family of a parent and a child, with NHS numbers and dates of birth the feeds match on.
async fn family(db: &Db, tenant: i64, creator: &Creator, surname: &str, nhs: [&str; 2]) -> (i64, i64, i64) {
    let today = kindred_store::today();
    let person = |given: &str, dob: time::Date, nhs: &str| PersonDetails {
        given_name: given.into(),
        family_name: surname.into(),
        preferred_name: None,
        date_of_birth: Some(dob),
        expected_delivery: None,
        sex: Sex::Unknown,
        nhs_number: Some(NhsNumber::parse(nhs).unwrap()),
        upn: None,
        language: None,
        interpreter_needed: false,
        send: false,
    };
    let f = db
        .create_family(tenant, &format!("{surname} family"), creator, today)
        .await
        .unwrap();
    let parent = db
        .create_person(tenant, &person("Parent", time::macros::date!(1988 - 04 - 04), nhs[0]))
        .await
        .unwrap();
    let child = db
        .create_person(tenant, &person("Child", time::macros::date!(2016 - 09 - 09), nhs[1]))
        .await
        .unwrap();
    db.add_member(f.id, parent.id, MemberRole::Parent, today).await.unwrap();
    db.add_member(f.id, child.id, MemberRole::Child, today).await.unwrap();
    (f.id, parent.id, child.id)
}

async fn feed(db: &Db, o: &Orgs, kind: FeedKind, supplier: i64, source: &str, csv: &str) {
    let out = import(
        db,
        csv.as_bytes(),
        &ImportOptions {
            tenant_id: o.tenant,
            organisation_id: supplier,
            kind,
            source_system: Some(source.into()),
            mapping: None,
            file_name: format!("{source}.csv"),
            started_by_user_id: None,
            thresholds: Thresholds::default(),
            today: kindred_store::today(),
        },
        &|_: u64, _: u64| {},
    )
    .await
    .unwrap();
    assert_eq!(out.counts.rejected, 0, "{source}: {:?}", out.counts);
}

/// Adds a user and signs them in.
async fn user(
    app: &TestApp,
    tenant: i64,
    org: i64,
    email: &str,
    profession: Profession,
    roles: Vec<Role>,
) -> reqwest::Client {
    app.db
        .create_user(&NewUser {
            tenant_id: tenant,
            organisation_id: org,
            team_id: None,
            email: email.into(),
            display_name: email.split('@').next().unwrap().into(),
            profession,
            roles,
            password_hash: kindred_web::passwords::hash(PASSWORD),
        })
        .await
        .unwrap();
    app.sign_in(email).await.0
}

/// The card of one family on the page, from its heading to the next card.
fn card(page: &str, family_id: i64) -> Option<&str> {
    let at = page.find(&format!("id=\"family-{family_id}\""))?;
    let rest = &page[at..];
    let end = rest[1..]
        .find("class=\"govuk-summary-card\"")
        .map(|e| e + 1)
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

fn section<'a>(page: &'a str, heading: &str) -> &'a str {
    let at = page.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let rest = &page[at..];
    let end = rest[1..].find("<h2").map(|e| e + 1).unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test]
async fn early_identification_explains_every_entry() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Config::default()).await;
        let db = &app.db;
        let today = kindred_store::today();
        let west = db.tenant_by_code("west").await.unwrap();
        let orgs = db.organisations(west.id).await.unwrap();
        let by_name = |n: &str| orgs.iter().find(|o| o.name == n).unwrap().id;
        let (eh, school) = (by_name("West Early Help"), by_name("West School"));
        let child_health = db
            .create_organisation(west.id, "West Child Health Records", OrgKind::HealthVisiting)
            .await
            .unwrap()
            .id;
        let housing = db
            .create_organisation(west.id, "West Housing", OrgKind::Housing)
            .await
            .unwrap()
            .id;
        let amh = db
            .create_organisation(west.id, "West Adult Mental Health", OrgKind::AdultMentalHealth)
            .await
            .unwrap()
            .id;
        let hub = db
            .create_organisation(west.id, "West Family Hub", OrgKind::FamilyHub)
            .await
            .unwrap()
            .id;
        let o = Orgs { tenant: west.id };
        let admin = db.user_by_email("admin@west.test").await.unwrap().unwrap();
        let agreement = |title: &str, orgs: Vec<i64>, categories: Vec<DataCategory>| NewAgreement {
            tenant_id: west.id,
            title: title.into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_IDENTIFICATION.into()],
            categories,
            starts_on: today - Duration::days(30),
            ends_on: None,
            organisation_ids: orgs,
            created_by_user_id: admin.id,
        };
        // The front door sees everything for early identification; the family
        // hub only education and housing (its agreement names no health or involvement data).
        db.create_agreement(&agreement(
            "Early identification: partners to the front door",
            vec![eh, child_health, school, housing, amh],
            vec![
                DataCategory::Health,
                DataCategory::Education,
                DataCategory::Housing,
                DataCategory::Involvement,
            ],
        ))
        .await
        .unwrap();
        db.create_agreement(&agreement(
            "Early identification: schools and housing to the hub",
            vec![hub, child_health, school, housing, amh],
            vec![DataCategory::Education, DataCategory::Housing],
        ))
        .await
        .unwrap();
        let creator = Creator {
            user_id: admin.id,
            organisation_id: eh,
            service: "Early help".into(),
        };
        // Adeyemi: health, education and housing. Brown: education only.
        // Campbell: two services, but an open episode. Doyle: health and adult
        // mental health. Evans: severe absence, which the school acts on alone.
        let (adeyemi, adeyemi_parent, adeyemi_child) =
            family(db, west.id, &creator, "Adeyemi", ["9990001006", "9990001014"]).await;
        let (brown, _, _) = family(db, west.id, &creator, "Brown", ["9990001022", "9990001030"]).await;
        let (campbell, _, _) = family(db, west.id, &creator, "Campbell", ["9990001049", "9990001057"]).await;
        let (doyle, _, _) = family(db, west.id, &creator, "Doyle", ["9990001065", "9990001073"]).await;
        let (evans, _, _) = family(db, west.id, &creator, "Evans", ["9990001081", "9990001103"]).await;
        db.open_episode(
            west.id,
            campbell,
            None,
            None,
            kindred_domain::referral::Level::SingleAgency.code(),
            Some(admin.id),
            today,
        )
        .await
        .unwrap();
        db.add_involvement(doyle, amh, "Community mental health team", today - Duration::days(400))
            .await
            .unwrap();
        let recent = (today - Duration::days(20)).to_string();
        let missed = format!(
            "record_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,vaccine,due_on
IM-1,9990001014,Child,Adeyemi,2016-09-09,U,,MMR 2,{recent}
IM-2,9990001057,Child,Campbell,2016-09-09,U,,MMR 2,{recent}
IM-3,9990001073,Child,Doyle,2016-09-09,U,,4-in-1 pre-school booster,{recent}
"
        );
        feed(
            db,
            &o,
            FeedKind::MissedImmunisations,
            child_health,
            "child-health",
            &missed,
        )
        .await;
        let term = kindred_domain::feeds::parse_term(&format!("Autumn {}", today.year()))
            .filter(|(_, d)| *d <= today)
            .map(|(l, _)| l)
            .unwrap_or_else(|| format!("Spring {}", today.year()));
        let attendance = format!(
            "record_id,upn,nhs_number,given_name,family_name,date_of_birth,sex,postcode,term,attendance_percent
SA-1,,9990001014,Child,Adeyemi,2016-09-09,U,,{term},86.5
SA-2,,9990001030,Child,Brown,2016-09-09,U,,{term},80
SA-3,,9990001103,Child,Evans,2016-09-09,U,,{term},45
"
        );
        feed(db, &o, FeedKind::SchoolAttendance, school, "school-mis", &attendance).await;
        let arrears = format!(
            "record_id,nhs_number,given_name,family_name,date_of_birth,sex,address,postcode,weeks_in_arrears,as_at
HA-1,9990001006,Parent,Adeyemi,1988-04-04,U,,,5.5,{recent}
HA-2,9990001049,Parent,Campbell,1988-04-04,U,,,6,{recent}
HA-3,9990001081,Parent,Evans,1988-04-04,U,,,4,{recent}
"
        );
        feed(db, &o, FeedKind::HousingArrears, housing, "housing-rents", &arrears).await;

        // The triage officer (West Early Help, party to the first agreement).
        let (triage, token) = app.sign_in("triage@west.test").await;
        let (status, page) = get(&app, &triage, "/early-identification").await;
        assert_eq!(status, 200, "{page}");
        assert!(
            page.contains("href=\"/early-identification\""),
            "the navigation offers it"
        );
        assert!(page.contains("at least two different services"), "the rule in words");
        let open = section(&page, ">Waiting for a decision (");
        let a = card(open, adeyemi).expect("Adeyemi listed");
        // Exactly its three facts, each with its source and why it reaches the viewer.
        assert_eq!(a.matches("data-fact=").count(), 3, "{a}");
        for s in [
            "Missed immunisation: MMR 2 not given",
            "West Child Health Records",
            "child-health",
            "School absence: 86.5% attendance",
            "West School",
            "school-mis",
            "Rent arrears: 5.5 weeks in arrears",
            "West Housing",
            "housing-rents",
            "Parent Adeyemi",
            "Child Adeyemi",
            "Early identification: partners to the front door",
        ] {
            assert!(a.contains(s), "{s} missing from {a}");
        }
        assert!(!a.contains("score"), "no score");
        let d = card(open, doyle).expect("Doyle listed");
        assert!(d.contains("Open to adult mental health services") && d.contains("West Adult Mental Health"));
        assert_eq!(d.matches("data-fact=").count(), 2, "{d}");
        for (id, why) in [
            (brown, "one service"),
            (campbell, "open episode"),
            (evans, "school acting"),
        ] {
            assert!(card(&page, id).is_none(), "{why}: {id} listed");
        }
        assert!(!page.contains("Brown family") && !page.contains("Campbell family") && !page.contains("Evans family"));
        // Every family shown is audited as a read of that family, with its reason.
        let log = db.family_access_log(adeyemi, 50).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.event.detail == "early_identification" && e.event.record_kind == "family"),
            "audited"
        );
        assert!(
            db.family_access_log(brown, 50)
                .await
                .unwrap()
                .iter()
                .all(|e| e.event.detail != "early_identification")
        );

        // The family hub's practitioner sees only education and housing: the
        // Adeyemis qualify on those alone (with two facts); the Doyles, whose
        // signals are health and mental health, do not appear at all.
        let hub_worker = user(
            &app,
            west.id,
            hub,
            "hub@west.test",
            Profession::FamilyNavigator,
            vec![Role::Practitioner],
        )
        .await;
        let (status, page) = get(&app, &hub_worker, "/early-identification").await;
        assert_eq!(status, 200);
        let a = card(&page, adeyemi).expect("Adeyemi listed for the hub");
        assert_eq!(a.matches("data-fact=").count(), 2, "{a}");
        assert!(!a.contains("MMR 2") && !a.contains("West Child Health Records"), "{a}");
        assert!(card(&page, doyle).is_none() && !page.contains("Doyle"), "{page}");

        // No agreement for the viewer's organisation, no case role, the wrong
        // kind of practitioner, another authority: not found, as for a page that does not exist.
        for email in [
            "manager@west.test",
            "admin@west.test",
            "teacher@west.test",
            "stranger@east.test",
        ] {
            let (c, _) = app.sign_in(email).await;
            let (status, page) = get(&app, &c, "/early-identification").await;
            assert_eq!(status, 404, "{email}");
            assert!(!page.contains("Adeyemi"));
        }
        let (teacher, teacher_token) = app.sign_in("teacher@west.test").await;
        let res = teacher
            .post(app.url("/early-identification/decisions"))
            .form(&[
                ("csrf", teacher_token.as_str()),
                ("family_id", adeyemi.to_string().as_str()),
                ("decision", "offer_made"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);

        // A decision: "not appropriate" needs a reason, said where it is missing.
        let post = |fields: Vec<(&'static str, String)>| {
            let triage = triage.clone();
            let url = app.url("/early-identification/decisions");
            async move { triage.post(url).form(&fields).send().await.unwrap() }
        };
        let res = post(vec![
            ("csrf", token.clone()),
            ("family_id", adeyemi.to_string()),
            ("decision", "not_appropriate".into()),
            ("reason", String::new()),
        ])
        .await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("govuk-error-summary") && body.contains(&format!("href=\"#reason-{adeyemi}\"")),
            "{body}"
        );
        assert!(body.contains("Enter why an offer of early help is not appropriate"));
        // A family not on the viewer's list cannot be decided: not found.
        let res = post(vec![
            ("csrf", token.clone()),
            ("family_id", brown.to_string()),
            ("decision", "offer_made".into()),
        ])
        .await;
        assert_eq!(res.status(), 404);
        // Without the CSRF token, nothing.
        let res = post(vec![
            ("family_id", adeyemi.to_string()),
            ("decision", "offer_made".into()),
        ])
        .await;
        assert!(res.status().is_client_error());
        let res = post(vec![
            ("csrf", token.clone()),
            ("family_id", adeyemi.to_string()),
            ("decision", "not_appropriate".into()),
            ("reason", "Already known to the school's pastoral team".into()),
        ])
        .await;
        assert_eq!(res.status(), 303);
        let (_, page) = get(&app, &triage, "/early-identification?recorded=1").await;
        assert!(page.contains("Decision recorded"));
        assert!(card(section(&page, ">Waiting for a decision ("), adeyemi).is_none());
        let decided = card(section(&page, ">Decided ("), adeyemi).expect("under decided");
        assert!(decided.contains("Not appropriate") && decided.contains("pastoral team") && decided.contains("triage"));
        // The hub sees the decision too: one decision per family.
        let (_, page) = get(&app, &hub_worker, "/early-identification").await;
        assert!(card(section(&page, ">Decided ("), adeyemi).is_some());

        // A new fact after the decision brings the family back.
        let later = format!(
            "record_id,nhs_number,given_name,family_name,date_of_birth,sex,address,postcode,weeks_in_arrears,as_at
HA-4,9990001006,Parent,Adeyemi,1988-04-04,U,,,7,{}
",
            today
        );
        feed(db, &o, FeedKind::HousingArrears, housing, "housing-rents", &later).await;
        let (_, page) = get(&app, &triage, "/early-identification").await;
        let back = card(section(&page, ">Waiting for a decision ("), adeyemi).expect("back on the open list");
        assert!(back.contains("7.0 weeks in arrears"), "the latest figure: {back}");
        let _ = (adeyemi_parent, adeyemi_child);
    }
}
