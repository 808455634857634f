//! HTTP tests: the real server on port 0 over a fresh database, driven by a
//! real HTTP client. One binary, one `spawn_app`, one fixture world.

mod access;
mod api;
mod break_glass;
mod consent;
mod dashboards;
mod development;
mod directory;
mod early_identification;
mod episodes;
mod feeds;
mod fhir;
mod forms;
mod front_door;
mod leak;
mod metrics;
mod mfa;
mod note_routes;
mod openreferral;
mod outcomes;
mod pathway;
mod plan;
mod rate_limit;
mod recovery;
mod reports;
mod restricted;
mod retention;
mod self_referral;
mod sign_in;
mod transitions;
mod transparency;

use kindred_domain::model::{MemberRole, OrgKind, Profession, Role, Sex};
use kindred_store::Db;
use kindred_store::families::Creator;
use kindred_store::persons::PersonDetails;
use kindred_store::users::NewUser;
use kindred_web::Config;

pub const PASSWORD: &str = "a long test passphrase";

pub struct TestApp {
    pub addr: String,
    pub db: Db,
    pub world: World,
}

/// A small partnership: two tenants, and users with and without a working
/// relationship with the Khan family.
pub struct World {
    pub khan_family: i64,
    pub khan_child: i64,
    pub other_family: i64,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(kindred_store::testing::fresh_sqlite().await, Config::default()).await
}

pub async fn spawn_with(db: Db, config: Config) -> TestApp {
    let world = seed(&db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let served = db.clone();
    tokio::spawn(async move { kindred_web::serve(served, config, listener).await });
    TestApp { addr, db, world }
}

async fn seed(db: &Db) -> World {
    let hash = kindred_web::passwords::hash(PASSWORD);
    let t = db.create_tenant("west", "West Borough").await.unwrap();
    let t2 = db.create_tenant("east", "East Borough").await.unwrap();
    let hv = db
        .create_organisation(t.id, "West Health Visiting", OrgKind::HealthVisiting)
        .await
        .unwrap();
    let eh = db
        .create_organisation(t.id, "West Early Help", OrgKind::EarlyHelp)
        .await
        .unwrap();
    let school = db
        .create_organisation(t.id, "West School", OrgKind::School)
        .await
        .unwrap();
    let vcs = db
        .create_organisation(t.id, "West Family Action", OrgKind::Vcs)
        .await
        .unwrap();
    let csc = db
        .create_organisation(t.id, "West Children's Social Care", OrgKind::ChildrensSocialCare)
        .await
        .unwrap();
    let east = db
        .create_organisation(t2.id, "East Early Help", OrgKind::EarlyHelp)
        .await
        .unwrap();
    let user = |tenant_id, organisation_id, email: &str, profession, roles| NewUser {
        tenant_id,
        organisation_id,
        team_id: None,
        email: email.into(),
        display_name: email.split('@').next().unwrap().to_string(),
        profession,
        roles,
        password_hash: hash.clone(),
    };
    let lead = db
        .create_user(&user(
            t.id,
            hv.id,
            "lead@west.test",
            Profession::HealthVisitor,
            vec![Role::Practitioner],
        ))
        .await
        .unwrap();
    for (tenant, org, email, profession, roles) in [
        (
            t.id,
            hv.id,
            "colleague@west.test",
            Profession::HealthVisitor,
            vec![Role::Practitioner],
        ),
        (
            t.id,
            school.id,
            "teacher@west.test",
            Profession::Teacher,
            vec![Role::Practitioner],
        ),
        (
            t.id,
            eh.id,
            "triage@west.test",
            Profession::EarlyHelpWorker,
            vec![Role::Triage],
        ),
        (
            t.id,
            hv.id,
            "manager@west.test",
            Profession::HealthVisitor,
            vec![Role::Manager],
        ),
        (
            t.id,
            eh.id,
            "admin@west.test",
            Profession::Administrator,
            vec![Role::Admin],
        ),
        (
            t.id,
            vcs.id,
            "vcs@west.test",
            Profession::VcsWorker,
            vec![Role::Practitioner],
        ),
        (
            t.id,
            csc.id,
            "sw@west.test",
            Profession::SocialWorker,
            vec![Role::Practitioner],
        ),
        (
            t2.id,
            east.id,
            "stranger@east.test",
            Profession::EarlyHelpWorker,
            vec![Role::Practitioner, Role::Triage, Role::Manager],
        ),
    ] {
        db.create_user(&user(tenant, org, email, profession, roles))
            .await
            .unwrap();
    }
    let today = kindred_store::today();
    let person = |given: &str, family: &str, dob: time::Date| PersonDetails {
        given_name: given.into(),
        family_name: family.into(),
        preferred_name: None,
        date_of_birth: Some(dob),
        expected_delivery: None,
        sex: Sex::Unknown,
        nhs_number: None,
        upn: None,
        language: None,
        interpreter_needed: false,
        send: false,
    };
    let creator = Creator {
        user_id: lead.id,
        organisation_id: hv.id,
        service: "Health visiting".into(),
    };
    let khan = db.create_family(t.id, "Khan household", &creator, today).await.unwrap();
    let mum = db
        .create_person(t.id, &person("Aisha", "Khan", time::macros::date!(1990 - 01 - 01)))
        .await
        .unwrap();
    let child = db
        .create_person(t.id, &person("Zara", "Khan", time::macros::date!(2022 - 05 - 05)))
        .await
        .unwrap();
    db.add_member(khan.id, mum.id, MemberRole::Parent, today).await.unwrap();
    db.add_member(khan.id, child.id, MemberRole::Child, today)
        .await
        .unwrap();
    db.set_lead(khan.id, lead.id, today).await.unwrap();
    // Aisha consented, for herself and Zara, to early help information sharing
    // with every partner: what the health visitor writes reaches the school.
    // (The consent tests withdraw it first: `consent::without_consent`.)
    for p in [mum.id, child.id] {
        db.record_consent(&kindred_store::consents::NewConsent {
            tenant_id: t.id,
            person_id: p,
            given_by_person_id: Some(mum.id),
            competence_judgement: None,
            purpose: kindred_domain::sharing::EARLY_HELP_SHARING.into(),
            all_partners: true,
            organisation_ids: vec![],
            kinds: vec![],
            given_on: today - time::Duration::days(30),
            method: kindred_domain::sharing::ConsentMethod::Written,
            evidence: "Signed consent form".into(),
            recorded_by_user_id: lead.id,
        })
        .await
        .unwrap();
    }
    // A family of the early help service only: the health visitors have no relationship with it.
    let eh_worker = db
        .create_user(&user(
            t.id,
            eh.id,
            "eh@west.test",
            Profession::EarlyHelpWorker,
            vec![Role::Practitioner],
        ))
        .await
        .unwrap();
    let other = db
        .create_family(
            t.id,
            "Okafor household",
            &Creator {
                user_id: eh_worker.id,
                organisation_id: eh.id,
                service: "Family support".into(),
            },
            today,
        )
        .await
        .unwrap();
    let o = db
        .create_person(t.id, &person("Chidi", "Khan", time::macros::date!(2015 - 02 - 02)))
        .await
        .unwrap();
    db.add_member(other.id, o.id, MemberRole::Child, today).await.unwrap();
    World {
        khan_family: khan.id,
        khan_child: child.id,
        other_family: other.id,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.addr)
    }

    /// Signs in and returns the client and a CSRF token for forms.
    pub async fn sign_in(&self, email: &str) -> (reqwest::Client, String) {
        let c = client();
        let page = c.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let res = c
            .post(self.url("/login"))
            .form(&[("csrf", csrf(&page).as_str()), ("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "sign-in for {email}");
        let home = c.get(self.url("/search")).send().await.unwrap().text().await.unwrap();
        let token = csrf(&home);
        (c, token)
    }
}
