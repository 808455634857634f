//! Consent and information-sharing agreements over HTTP (issue 5): a
//! withdrawal takes effect on the very next request; a young person's own
//! consent needs a competence judgement; an agreement shares case notes
//! without consent only on a lawful basis other than consent, and only until
//! it ends; and two councils' workers meet only under a bi-borough agreement.

use kindred_domain::model::{ContactMode, NoteVisibility};
use kindred_store::contacts::NewContact;

use crate::{TestApp, spawn_app};

const NOTE: &str = "Mum says the new flat is damp; baby coughing at night";

async fn body(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The test world's Khan family has consented; these tests start without.
pub async fn without_consent(app: &TestApp) {
    let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let yesterday = kindred_store::today() - time::Duration::days(1);
    for c in app.db.consents_of_family(app.world.khan_family).await.unwrap() {
        app.db.withdraw_consent(c.id, lead.id, yesterday, "").await.unwrap();
    }
}

/// The Khan family, without consent, with the lead health visitor's
/// team-visible note, and the teacher (another organisation) in the team
/// around the family.
async fn khan_with_note(app: &TestApp) -> i64 {
    without_consent(app).await;
    let khan = app.world.khan_family;
    let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
    app.db
        .add_team_member(khan, teacher.id, kindred_store::today())
        .await
        .unwrap();
    app.db
        .add_contact(&NewContact {
            tenant_id: lead.tenant_id,
            family_id: khan,
            organisation_id: lead.organisation_id,
            author_user_id: lead.id,
            occurred_on: kindred_store::today(),
            mode: ContactMode::HomeVisit.code(),
            visibility: NoteVisibility::Team.code(),
            body: NOTE.into(),
            people: vec![],
            readers: vec![],
        })
        .await
        .unwrap();
    khan
}

fn today_parts() -> (String, String, String) {
    let t = kindred_store::today();
    (t.day().to_string(), (t.month() as u8).to_string(), t.year().to_string())
}

async fn mum(app: &TestApp) -> i64 {
    app.db.members(app.world.khan_family).await.unwrap()[0].person.id
}

#[tokio::test]
async fn withdrawal_of_consent_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let khan = khan_with_note(&app).await;
    let (lead, lt) = app.sign_in("lead@west.test").await;
    let (teacher, _) = app.sign_in("teacher@west.test").await;
    let contacts = format!("/families/{khan}/contacts");

    // No consent yet: the teacher sees the contact, not the note.
    let (_, page) = body(&teacher, &app, &contacts).await;
    assert!(!page.contains(NOTE));
    assert!(page.contains("Not shared"));

    // The lead records Aisha's consent, to all partners, through the form.
    let mum = mum(&app).await.to_string();
    let (d, m, y) = today_parts();
    let (status, _) = post(
        &lead,
        &app,
        &format!("/families/{khan}/consent"),
        &[
            ("csrf", lt.as_str()),
            ("person_id", mum.as_str()),
            ("given_by", mum.as_str()),
            ("purpose", "early_help_sharing"),
            ("all_partners", "yes"),
            ("given_day", d.as_str()),
            ("given_month", m.as_str()),
            ("given_year", y.as_str()),
            ("method", "written"),
            ("evidence", "Signed consent form, scanned"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = body(&teacher, &app, &contacts).await;
    assert!(page.contains(NOTE), "consent lets the note reach the school");
    // Everyone who may view the family sees the consent and why it shares.
    let (status, page) = body(&teacher, &app, &format!("/families/{khan}/consent")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Early help information sharing"));
    assert!(page.contains("Signed consent form, scanned"));
    assert!(page.contains("Shared with consent"));
    assert!(page.contains("Withdraw consent"), "the team may change the family");
    let (manager, _) = app.sign_in("manager@west.test").await;
    let (status, page) = body(&manager, &app, &format!("/families/{khan}/consent")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Signed consent form, scanned"));
    assert!(
        !page.contains("Withdraw consent"),
        "a manager oversees, through their staff"
    );
    assert!(!page.contains("Record consent"));
    let (_, family_page) = body(&teacher, &app, &format!("/families/{khan}")).await;
    assert!(
        family_page.contains("1 active consent for"),
        "the world's two were withdrawn"
    );

    // Withdrawn through the form: the very next request no longer shows it.
    let consent = app.db.consents_of_family(khan).await.unwrap()[0].id; // newest first
    let (status, _) = post(
        &lead,
        &app,
        &format!("/families/{khan}/consent/{consent}/withdraw"),
        &[("csrf", lt.as_str()), ("note", "Aisha changed her mind")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = body(&teacher, &app, &contacts).await;
    assert!(!page.contains(NOTE), "withdrawal takes effect at once");
    assert!(page.contains("Not shared"));
    let (_, page) = body(&lead, &app, &format!("/families/{khan}/consent")).await;
    assert!(page.contains("Withdrawn"));
    assert!(page.contains("Aisha changed her mind"));
    // The author still reads their own note.
    let (_, page) = body(&lead, &app, &contacts).await;
    assert!(page.contains(NOTE));
    // A consent of another family cannot be withdrawn through this one.
    let (status, _) = post(
        &lead,
        &app,
        &format!("/families/{}/consent/{consent}/withdraw", app.world.other_family),
        &[("csrf", lt.as_str())],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_young_persons_own_consent_needs_a_competence_judgement() {
    let app = spawn_app().await;
    without_consent(&app).await;
    let before = app.db.consents_of_family(app.world.khan_family).await.unwrap().len();
    let khan = app.world.khan_family;
    let (lead, lt) = app.sign_in("lead@west.test").await;
    let child = app.world.khan_child.to_string();
    let (d, m, y) = today_parts();
    let next_year = (kindred_store::today().year() + 1).to_string();
    let path = format!("/families/{khan}/consent");
    let (status, page) = post(
        &lead,
        &app,
        &path,
        &[
            ("csrf", lt.as_str()),
            ("person_id", child.as_str()),
            ("given_by", "self"),
            ("purpose", "early_help_sharing"),
            ("given_day", d.as_str()),
            ("given_month", m.as_str()),
            ("given_year", next_year.as_str()),
            ("method", "verbal"),
            ("evidence", "Said yes at school"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"competence-error\""), "{page}");
    assert!(page.contains("judgement of the young person"));
    assert!(page.contains("Select all partners, or at least one organisation"));
    assert!(page.contains("must be today or in the past"));
    assert!(page.contains("Said yes at school"), "nothing typed is lost");
    assert_eq!(app.db.consents_of_family(khan).await.unwrap().len(), before);

    // With a judgement, scoped to a kind of organisation: recorded.
    let (status, _) = post(
        &lead,
        &app,
        &path,
        &[
            ("csrf", lt.as_str()),
            ("person_id", child.as_str()),
            ("given_by", "self"),
            ("competence", "Understood what is shared and why"),
            ("purpose", "early_help_sharing"),
            ("kind", "school"),
            ("given_day", d.as_str()),
            ("given_month", m.as_str()),
            ("given_year", y.as_str()),
            ("method", "verbal"),
            ("evidence", "Said yes at school"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let c = &app.db.consents_of_family(khan).await.unwrap()[0];
    assert_eq!(c.given_by_person_id, None);
    assert_eq!(
        c.competence_judgement.as_deref(),
        Some("Understood what is shared and why")
    );
    assert!(!c.all_partners);
    let (_, page) = body(&lead, &app, &path).await;
    assert!(page.contains("judged competent"));
    assert!(page.contains("Understood what is shared and why"));
    // Someone who may not edit the family cannot record one.
    let (vcs, vt) = app.sign_in("vcs@west.test").await;
    let (status, _) = post(
        &vcs,
        &app,
        &path,
        &[("csrf", vt.as_str()), ("person_id", child.as_str())],
    )
    .await;
    assert_eq!(status, 404);
}

/// The organisations of the west tenant by name.
async fn org(app: &TestApp, name: &str) -> String {
    let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let all = app.db.organisations_by_tenant().await.unwrap();
    all.iter()
        .flat_map(|(_, orgs)| orgs.iter())
        .find(|o| o.name == name)
        .map(|o| o.id.to_string())
        .unwrap_or_else(|| panic!("no organisation {name} (tenant {})", lead.tenant_id))
}

async fn create_agreement(
    app: &TestApp,
    admin: &reqwest::Client,
    token: &str,
    title: &str,
    basis: &str,
    categories: &[&str],
    parties: &[String],
) -> i64 {
    let (d, m, y) = today_parts();
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", token),
        ("title", title),
        ("lawful_basis", basis),
        ("purpose", "early_help_sharing"),
        ("starts_day", d.as_str()),
        ("starts_month", m.as_str()),
        ("starts_year", y.as_str()),
    ];
    form.extend(categories.iter().map(|c| ("category", *c)));
    form.extend(parties.iter().map(|p| ("party", p.as_str())));
    let (status, page) = post(admin, app, "/admin/sharing-agreements", &form).await;
    assert_eq!(status, 303, "{page}");
    let west = app
        .db
        .user_by_email("admin@west.test")
        .await
        .unwrap()
        .unwrap()
        .tenant_id;
    app.db
        .agreements_for_tenant(west)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.title == title)
        .expect("the agreement is listed")
        .id
}

#[tokio::test]
async fn an_agreement_shares_notes_without_consent_until_it_ends() {
    let app = spawn_app().await;
    let khan = khan_with_note(&app).await;
    let (admin, at) = app.sign_in("admin@west.test").await;
    let (teacher, _) = app.sign_in("teacher@west.test").await;
    let contacts = format!("/families/{khan}/contacts");
    let parties = vec![org(&app, "West Health Visiting").await, org(&app, "West School").await];

    // Refused with a message per field, and nothing recorded.
    let (status, page) = post(&admin, &app, "/admin/sharing-agreements", &[("csrf", at.as_str())]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Enter the agreement&#39;s title") || page.contains("Enter the agreement's title"));
    assert!(page.contains("Select at least two organisations"));
    // The form lists both councils' organisations, grouped.
    let (_, page) = body(&admin, &app, "/admin/sharing-agreements").await;
    assert!(page.contains("East Borough (another council)"));
    assert!(page.contains("East Early Help"));

    // On the basis of consent it shares nothing by itself.
    create_agreement(
        &app,
        &admin,
        &at,
        "Consent-based protocol",
        "consent",
        &["case_notes", "identity"],
        &parties,
    )
    .await;
    let (_, page) = body(&teacher, &app, &contacts).await;
    assert!(!page.contains(NOTE));

    // On public task it shares case notes between its parties.
    let isa = create_agreement(
        &app,
        &admin,
        &at,
        "West health and schools",
        "public_task",
        &["case_notes"],
        &parties,
    )
    .await;
    let (_, page) = body(&teacher, &app, &contacts).await;
    assert!(page.contains(NOTE), "an active agreement shares without consent");
    let (_, page) = body(&teacher, &app, &format!("/families/{khan}/consent")).await;
    assert!(page.contains("West health and schools"), "the basis is named");
    let (_, page) = body(&admin, &app, "/admin/sharing-agreements").await;
    assert!(page.contains("West health and schools"));
    assert!(page.contains("Public task"));

    // Ended: it stops at once.
    let (status, _) = post(
        &admin,
        &app,
        &format!("/admin/sharing-agreements/{isa}/end"),
        &[("csrf", at.as_str())],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = body(&teacher, &app, &contacts).await;
    assert!(!page.contains(NOTE), "an ended agreement shares nothing");
    assert!(page.contains("Not shared"));
    // Only administrators manage agreements.
    let (status, _) = body(&teacher, &app, "/admin/sharing-agreements").await;
    assert_eq!(status, 404);
}

async fn add_purpose(app: &TestApp, admin: &reqwest::Client, at: &str, label: &str, code: &str) -> (u16, String) {
    post(
        admin,
        app,
        "/admin/consent-purposes",
        &[("csrf", at), ("label", label), ("code", code)],
    )
    .await
}

#[tokio::test]
async fn consent_purposes_are_added_once() {
    let app = spawn_app().await;
    let (admin, at) = app.sign_in("admin@west.test").await;
    let add = |label: &'static str, code: &'static str| add_purpose(&app, &admin, &at, label, code);
    assert_eq!(add("Youth club activities", "").await.0, 303);
    let (status, page) = add("Youth club activities", "").await;
    assert_eq!(status, 422);
    assert!(page.contains("A purpose with the code youth_club_activities already exists"));
    let (status, page) = add("Live births", "live_birth_data").await;
    assert_eq!(status, 422, "a built-in code is taken too");
    assert!(page.contains("already exists"));
    let (status, page) = add("Bad code", "Bad Code!").await;
    assert_eq!(status, 422);
    assert!(page.contains("lower case letters"));
    let (_, page) = body(&admin, &app, "/admin/consent-purposes").await;
    assert!(page.contains("youth_club_activities"));
    // The family's consent form offers it.
    let (lead, _) = app.sign_in("lead@west.test").await;
    let (_, page) = body(&lead, &app, &format!("/families/{}/consent", app.world.khan_family)).await;
    assert!(page.contains("Youth club activities"));
}

#[tokio::test]
async fn two_councils_meet_only_under_a_bi_borough_agreement() {
    let app = spawn_app().await;
    let khan = app.world.khan_family;
    let stranger = app.db.user_by_email("stranger@east.test").await.unwrap().unwrap();
    let (lead, lt) = app.sign_in("lead@west.test").await;
    let (east, _) = app.sign_in("stranger@east.test").await;
    let sid = stranger.id.to_string();

    // Without an agreement the lead cannot add them, and placed in the team
    // anyway (straight into the store) they get the ordinary not-found page.
    let (status, _) = post(
        &lead,
        &app,
        &format!("/families/{khan}/team"),
        &[("csrf", lt.as_str()), ("user_id", sid.as_str())],
    )
    .await;
    assert_eq!(status, 400, "a worker of another council is refused");
    let (_, page) = body(&lead, &app, &format!("/families/{khan}")).await;
    assert!(!page.contains("stranger ("), "nor offered");
    app.db
        .add_team_member(khan, stranger.id, kindred_store::today())
        .await
        .unwrap();
    let (status, page) = body(&east, &app, &format!("/families/{khan}")).await;
    let (missing_status, missing) = body(&east, &app, "/families/999999").await;
    assert_eq!((status, missing_status), (404, 404));
    assert_eq!(page, missing, "the same page as a family that does not exist");
    app.db
        .end_team_member(khan, stranger.id, kindred_store::today())
        .await
        .unwrap();

    // A bi-borough agreement for early help, sharing identity.
    let (admin, at) = app.sign_in("admin@west.test").await;
    create_agreement(
        &app,
        &admin,
        &at,
        "West and East bi-borough early help",
        "public_task",
        &["identity", "involvement"],
        &[
            org(&app, "West Health Visiting").await,
            org(&app, "East Early Help").await,
        ],
    )
    .await;
    // The lead is offered the east worker, and adds them.
    let (_, page) = body(&lead, &app, &format!("/families/{khan}")).await;
    assert!(page.contains("Partners of another council"));
    assert!(page.contains("stranger (East Early Help, East Borough)"));
    let (status, _) = post(
        &lead,
        &app,
        &format!("/families/{khan}/team"),
        &[("csrf", lt.as_str()), ("user_id", sid.as_str())],
    )
    .await;
    assert_eq!(status, 303);
    let (status, page) = body(&east, &app, &format!("/families/{khan}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Khan household"));
    // The other family of west stays out of reach.
    let (status, _) = body(&east, &app, &format!("/families/{}", app.world.other_family)).await;
    assert_eq!(status, 404);
}
