//! The storage conformance story: one walk through every storage operation,
//! run on SQLite always and on PostgreSQL when `KINDRED_TEST_DATABASE_URL` is set.

use kindred_domain::access::{self, FamilyAction};
use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::{MemberRole, OrgKind, Profession, RelationshipKind, Role, Sex};
use kindred_domain::{NhsNumber, Postcode};
use kindred_store::families::Creator;
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::search::{SearchCriteria, Total};
use kindred_store::users::NewUser;
use kindred_store::{Db, StoreError, testing};
use time::macros::date;

fn details(given: &str, family: &str, dob: Option<time::Date>, nhs: Option<&str>) -> PersonDetails {
    PersonDetails {
        given_name: given.into(),
        family_name: family.into(),
        preferred_name: None,
        date_of_birth: dob,
        expected_delivery: None,
        sex: Sex::Unknown,
        nhs_number: nhs.map(|n| NhsNumber::parse(n).unwrap()),
        upn: None,
        language: Some("English".into()),
        interpreter_needed: false,
        send: false,
    }
}

fn new_user(tenant_id: i64, organisation_id: i64, email: &str, roles: Vec<Role>) -> NewUser {
    NewUser {
        tenant_id,
        organisation_id,
        team_id: None,
        email: email.into(),
        display_name: email.split('@').next().unwrap().into(),
        profession: Profession::HealthVisitor,
        roles,
        password_hash: "not-a-real-hash".into(),
    }
}

#[tokio::test]
async fn storage_story_on_every_backend() {
    for db in testing::fresh_databases().await {
        story(&db).await;
        restricted_and_flags(&db).await;
        println!("storage story passed on {:?}", db.backend());
    }
}

/// TOTP enrolment, replay protection, recovery codes, MFA-pending sessions
/// and an administrator's reset, on one backend.
async fn mfa(db: &Db, user: i64, other: i64, tenant: i64) {
    assert!(db.mfa_enrolment(user).await.unwrap().is_none());
    db.create_session("pending", user, "pc", true).await.unwrap();
    let (s, _) = db.session("pending").await.unwrap().unwrap();
    assert!(s.mfa_pending, "a session made pending stays pending");
    // The web layer completes a session only after a code; the store swaps it.
    assert!(db.complete_session_mfa("pending", "full", "fc2").await.unwrap());
    let (s, _) = db.session("full").await.unwrap().unwrap();
    assert_eq!((s.mfa_pending, s.csrf_token.as_str()), (false, "fc2"));
    assert!(
        db.session("pending").await.unwrap().is_none(),
        "the old token is worthless"
    );
    assert!(
        !db.complete_session_mfa("full", "again", "x").await.unwrap(),
        "only a pending session is completed"
    );

    let e = db.begin_mfa_enrolment(user, "SECRETZERO", "s0").await.unwrap();
    assert_eq!(
        (e.secret.as_str(), e.enrolled(), e.last_step),
        ("SECRETZERO", false, None)
    );
    let e = db.begin_mfa_enrolment(user, "SECRETONE", "s1").await.unwrap();
    assert_eq!(
        (e.secret.as_str(), e.session_hash.as_str()),
        ("SECRETONE", "s1"),
        "another session gets a secret of its own"
    );
    let again = db.begin_mfa_enrolment(user, "SECRETTWO", "s1").await.unwrap();
    assert_eq!(
        again.secret, "SECRETONE",
        "the same session sees the same secret until confirmed"
    );
    assert!(!db.accept_mfa_step(user, 10).await.unwrap(), "no step before enrolment");
    assert!(
        !db.confirm_mfa_enrolment(user, "SECRETTWO", "s1", 100, &[])
            .await
            .unwrap(),
        "a secret the user was not shown confirms nothing"
    );
    assert!(
        !db.confirm_mfa_enrolment(user, "SECRETONE", "s0", 100, &[])
            .await
            .unwrap(),
        "nor does another session"
    );
    let hashes = vec!["h1".to_string(), "h2".to_string()];
    assert!(
        db.confirm_mfa_enrolment(user, "SECRETONE", "s1", 100, &hashes)
            .await
            .unwrap()
    );
    assert!(
        !db.confirm_mfa_enrolment(user, "SECRETONE", "s1", 101, &hashes)
            .await
            .unwrap(),
        "confirmed once"
    );
    let e = db.mfa_enrolment(user).await.unwrap().unwrap();
    assert!(e.enrolled());
    assert_eq!(e.last_step, Some(100));
    assert_eq!(
        db.begin_mfa_enrolment(user, "SECRETTHREE", "s3").await.unwrap().secret,
        "SECRETONE",
        "an enrolled secret is never replaced"
    );
    assert!(
        !db.accept_mfa_step(user, 100).await.unwrap(),
        "the same step twice is a replay"
    );
    assert!(!db.accept_mfa_step(user, 99).await.unwrap(), "an older step too");
    assert!(db.accept_mfa_step(user, 101).await.unwrap());
    assert_eq!(db.mfa_enrolment(user).await.unwrap().unwrap().last_step, Some(101));
    assert_eq!(db.mfa_recovery_codes_left(user).await.unwrap(), 2);
    assert!(
        !db.use_mfa_recovery_code(other, "h1").await.unwrap(),
        "another user's code"
    );
    assert!(db.use_mfa_recovery_code(user, "h1").await.unwrap());
    assert!(
        !db.use_mfa_recovery_code(user, "h1").await.unwrap(),
        "a code works once"
    );
    assert!(!db.use_mfa_recovery_code(user, "nope").await.unwrap());
    assert_eq!(db.mfa_recovery_codes_left(user).await.unwrap(), 1);
    assert_eq!(db.mfa_enrolled_users(tenant).await.unwrap(), vec![user]);

    // The reset: enrolment, codes and sessions go.
    assert!(db.reset_mfa(user).await.unwrap());
    assert!(db.mfa_enrolment(user).await.unwrap().is_none());
    assert_eq!(db.mfa_recovery_codes_left(user).await.unwrap(), 0);
    assert!(
        db.session("full").await.unwrap().is_none(),
        "a reset ends the user's sessions"
    );
    assert!(db.mfa_enrolled_users(tenant).await.unwrap().is_empty());
    assert!(!db.reset_mfa(user).await.unwrap(), "nothing left to reset");
    assert_eq!(
        db.begin_mfa_enrolment(user, "SECRETFOUR", "s4").await.unwrap().secret,
        "SECRETFOUR",
        "after a reset the user enrols afresh"
    );
    assert!(db.reset_mfa(user).await.unwrap());
}

async fn story(db: &Db) {
    // Tenants, organisations, hub sites and teams.
    let west = db
        .create_tenant("westminster", "Westminster City Council")
        .await
        .unwrap();
    let kc = db.create_tenant("rbkc", "Kensington and Chelsea").await.unwrap();
    assert_eq!(db.tenants().await.unwrap().len(), 2);
    assert_eq!(db.tenant_by_code("rbkc").await.unwrap(), kc);
    assert!(matches!(
        db.create_tenant("rbkc", "again").await,
        Err(StoreError::Conflict(_))
    ));
    let hv = db
        .create_organisation(west.id, "Central London Health Visiting", OrgKind::HealthVisiting)
        .await
        .unwrap();
    let eh = db
        .create_organisation(west.id, "Westminster Early Help", OrgKind::EarlyHelp)
        .await
        .unwrap();
    let kc_org = db
        .create_organisation(kc.id, "RBKC Early Help", OrgKind::EarlyHelp)
        .await
        .unwrap();
    assert_eq!(db.organisation(hv.id).await.unwrap().kind, OrgKind::HealthVisiting);
    assert_eq!(db.organisations(west.id).await.unwrap().len(), 2);
    let site = db
        .create_hub_site(
            west.id,
            Some(eh.id),
            "Church Street Family Hub",
            None,
            &["W2".into(), "nw8 8".into()],
        )
        .await
        .unwrap();
    assert_eq!(site.reach_areas, vec!["NW8 8".to_string(), "W2".to_string()]);
    let pc = Postcode::parse("NW8 8AB").unwrap();
    assert_eq!(
        db.hub_site_for(west.id, &pc).await.unwrap().map(|s| s.id),
        Some(site.id)
    );
    assert_eq!(
        db.hub_site_for(west.id, &Postcode::parse("NW8 7AB").unwrap())
            .await
            .unwrap(),
        None
    );
    let team = db
        .create_team(west.id, eh.id, Some(site.id), "Church Street Early Help")
        .await
        .unwrap();
    assert_eq!(db.teams(west.id).await.unwrap(), vec![team.clone()]);

    // Users and sessions.
    let mut nu = new_user(west.id, hv.id, "Hannah.HV@example.org", vec![Role::Practitioner]);
    nu.team_id = Some(team.id);
    let hannah = db.create_user(&nu).await.unwrap();
    assert_eq!(hannah.email, "hannah.hv@example.org");
    assert!(matches!(db.create_user(&nu).await, Err(StoreError::Conflict(_))));
    let eric = db
        .create_user(&new_user(west.id, eh.id, "eric@example.org", vec![Role::Practitioner]))
        .await
        .unwrap();
    let tara = db
        .create_user(&new_user(west.id, eh.id, "tara@example.org", vec![Role::Triage]))
        .await
        .unwrap();
    let mona = db
        .create_user(&new_user(west.id, hv.id, "mona@example.org", vec![Role::Manager]))
        .await
        .unwrap();
    let adam = db
        .create_user(&new_user(west.id, eh.id, "adam@example.org", vec![Role::Admin]))
        .await
        .unwrap();
    let kim = db
        .create_user(&new_user(kc.id, kc_org.id, "kim@example.org", vec![Role::Practitioner]))
        .await
        .unwrap();
    assert_eq!(
        db.user_by_email("HANNAH.hv@example.org ").await.unwrap().unwrap().id,
        hannah.id
    );
    assert!(db.user_by_email("nobody@example.org").await.unwrap().is_none());
    assert_eq!(db.users(west.id).await.unwrap().len(), 5);
    db.create_session("tokenhash", hannah.id, "csrf", false).await.unwrap();
    let (session, user) = db.session("tokenhash").await.unwrap().unwrap();
    assert_eq!(
        (
            session.user_id,
            session.csrf_token.as_str(),
            user.id,
            session.mfa_pending
        ),
        (hannah.id, "csrf", hannah.id, false)
    );
    db.touch_session("tokenhash", session.last_seen_ms + 5).await.unwrap();
    assert_eq!(
        db.session("tokenhash").await.unwrap().unwrap().0.last_seen_ms,
        session.last_seen_ms + 5
    );
    db.set_password_hash(hannah.id, "another-hash").await.unwrap();
    assert_eq!(db.user(hannah.id).await.unwrap().password_hash, "another-hash");
    db.set_user_active(hannah.id, false).await.unwrap();
    assert!(
        db.session("tokenhash").await.unwrap().is_none(),
        "disabling a user ends their sessions"
    );
    db.set_user_active(hannah.id, true).await.unwrap();
    db.create_session("t2", hannah.id, "c2", false).await.unwrap();
    db.delete_session("t2").await.unwrap();
    assert!(db.session("t2").await.unwrap().is_none());

    // Multi-factor authentication: a pending session, an enrolment, codes.
    mfa(db, hannah.id, eric.id, west.id).await;

    // Login failures.
    db.record_login_failure("k").await.unwrap();
    db.record_login_failure("k").await.unwrap();
    assert_eq!(db.login_failures_since("k", 0).await.unwrap(), 2);
    assert_eq!(
        db.login_failures_since("k", kindred_store::now_ms() + 60_000)
            .await
            .unwrap(),
        0
    );
    db.clear_login_failures("k").await.unwrap();
    assert_eq!(db.login_failures_since("k", 0).await.unwrap(), 0);

    // Persons, names and addresses.
    let mum = db
        .create_person(
            west.id,
            &details("Aisha", "Khan", Some(date!(1994 - 03 - 12)), Some("9990000018")),
        )
        .await
        .unwrap();
    let child = db
        .create_person(west.id, &details("Zara", "Khan", Some(date!(2021 - 07 - 01)), None))
        .await
        .unwrap();
    let mut unborn = details("Baby", "Khan", None, None);
    unborn.expected_delivery = Some(date!(2027 - 01 - 20));
    let unborn = db.create_person(west.id, &unborn).await.unwrap();
    assert!(unborn.is_unborn());
    assert_eq!(
        db.person(mum.id).await.unwrap().nhs_number.map(|n| n.as_digits()),
        Some("9990000018".into())
    );
    let mut renamed = PersonDetails::from(&mum);
    renamed.family_name = "Khan-Ahmed".into();
    let mum = db.update_person(mum.id, &renamed, date!(2024 - 05 - 01)).await.unwrap();
    assert_eq!(mum.family_name, "Khan-Ahmed");
    let prev = db.previous_names(mum.id).await.unwrap();
    assert_eq!(
        (prev[0].family_name.as_str(), prev[0].until_date),
        ("Khan", Some(date!(2024 - 05 - 01)))
    );
    let addr = |line1: &str, pc: &str, from| NewAddress {
        line1: line1.into(),
        line2: None,
        town: "London".into(),
        postcode: Postcode::parse(pc).unwrap(),
        from_date: from,
    };
    db.move_person(mum.id, &addr("1 Church Street", "NW8 8AB", date!(2020 - 01 - 01)))
        .await
        .unwrap();
    db.move_person(mum.id, &addr("2 Edgware Road", "W2 1AA", date!(2025 - 01 - 01)))
        .await
        .unwrap();
    let addresses = db.addresses(mum.id).await.unwrap();
    assert_eq!(addresses.len(), 2);
    assert_eq!((addresses[0].postcode.as_str(), addresses[0].to_date), ("W2 1AA", None));
    assert_eq!(addresses[1].to_date, Some(date!(2025 - 01 - 01)));

    // Families, members, relationships, team, lead and involvements.
    let creator = Creator {
        user_id: hannah.id,
        organisation_id: hv.id,
        service: "Health visiting".into(),
    };
    let fam = db
        .create_family(west.id, "Khan household", &creator, date!(2024 - 01 - 01))
        .await
        .unwrap();
    db.rename_family(fam.id, "Khan-Ahmed household").await.unwrap();
    assert_eq!(db.family(fam.id).await.unwrap().name, "Khan-Ahmed household");
    db.add_member(fam.id, mum.id, MemberRole::Parent, date!(2024 - 01 - 01))
        .await
        .unwrap();
    db.add_member(fam.id, child.id, MemberRole::Child, date!(2024 - 01 - 01))
        .await
        .unwrap();
    db.add_member(fam.id, unborn.id, MemberRole::Unborn, date!(2024 - 06 - 01))
        .await
        .unwrap();
    let second = db
        .create_family(west.id, "Grandparents", &creator, date!(2024 - 01 - 01))
        .await
        .unwrap();
    db.add_member(second.id, child.id, MemberRole::Child, date!(2024 - 02 - 01))
        .await
        .unwrap();
    assert_eq!(
        db.families_of_person(child.id).await.unwrap().len(),
        2,
        "a person may belong to several families"
    );
    db.end_membership(second.id, child.id, date!(2024 - 03 - 01))
        .await
        .unwrap();
    assert_eq!(
        db.members(second.id).await.unwrap()[0].left_on,
        Some(date!(2024 - 03 - 01))
    );
    let members = db.members(fam.id).await.unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(members[0].person.id, mum.id, "adults first");
    db.add_relationship(mum.id, child.id, RelationshipKind::ParentOf)
        .await
        .unwrap();
    db.add_relationship(mum.id, child.id, RelationshipKind::ParentOf)
        .await
        .unwrap();
    assert_eq!(db.relationships(fam.id).await.unwrap().len(), 1);
    db.add_team_member(fam.id, eric.id, date!(2024 - 02 - 01))
        .await
        .unwrap();
    db.set_lead(fam.id, eric.id, date!(2024 - 02 - 01)).await.unwrap();
    db.set_lead(fam.id, hannah.id, date!(2024 - 03 - 01)).await.unwrap();
    let history = db.lead_history(fam.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].user_id, history[0].to_ms), (hannah.id, None));
    assert!(history[1].to_ms.is_some());
    assert_eq!(db.family(fam.id).await.unwrap().lead_user_id, Some(hannah.id));
    db.end_team_member(fam.id, eric.id, date!(2024 - 04 - 01))
        .await
        .unwrap();
    let team_now = db.team(fam.id).await.unwrap();
    assert_eq!(team_now.iter().filter(|t| t.until_date.is_none()).count(), 1);
    let inv = db
        .add_involvement(fam.id, eh.id, "Family support", date!(2024 - 02 - 01))
        .await
        .unwrap();
    assert_eq!(db.involvements(fam.id).await.unwrap().len(), 2);

    // Access facts, the SQL mirror of the policy, and search.
    let facts = db.family_facts(fam.id).await.unwrap().unwrap();
    assert_eq!(facts.lead_user_id, Some(hannah.id));
    assert_eq!(facts.team_user_ids, vec![hannah.id]);
    assert!(facts.involved_organisation_ids.contains(&eh.id));
    assert!(db.family_facts(9_999_999).await.unwrap().is_none());
    let eric = db.user(eric.id).await.unwrap();
    assert!(
        access::family(&eric.subject(), &facts, FamilyAction::View).allowed(),
        "early help is involved"
    );
    db.end_involvement(inv, date!(2024 - 05 - 01)).await.unwrap();
    let facts = db.family_facts(fam.id).await.unwrap().unwrap();
    assert!(
        !access::family(&eric.subject(), &facts, FamilyAction::View).allowed(),
        "involvement ended"
    );
    let tara = db.user(tara.id).await.unwrap();
    assert_eq!(
        db.visible_families(&tara.subject(), 10, 0).await.unwrap().1,
        Total::Exactly(0)
    );
    let referral = db.open_referral(west.id, fam.id).await.unwrap();
    assert_eq!(
        db.visible_families(&tara.subject(), 10, 0).await.unwrap().1,
        Total::Exactly(1)
    );
    db.close_referral(referral).await.unwrap();
    assert_eq!(
        db.visible_families(&tara.subject(), 10, 0).await.unwrap().1,
        Total::Exactly(0)
    );
    let mona = db.user(mona.id).await.unwrap();
    let (list, total) = db.visible_families(&mona.subject(), 10, 0).await.unwrap();
    assert_eq!(total, Total::Exactly(2));
    assert_eq!(list.iter().find(|f| f.id == fam.id).unwrap().members, 3);
    for u in [&adam, &kim] {
        assert_eq!(
            db.visible_families(&db.user(u.id).await.unwrap().subject(), 10, 0)
                .await
                .unwrap()
                .1,
            Total::Exactly(0)
        );
    }

    let hannah = db.user(hannah.id).await.unwrap();
    let by = |name: &str| SearchCriteria {
        name: Some(name.into()),
        ..Default::default()
    };
    let hits = db
        .search_persons(&hannah.subject(), &by("Zarra Kahn"), 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "typo-tolerant");
    assert_eq!(hits[0].person.id, child.id);
    assert_eq!(hits[0].families.len(), 2);
    let hits = db
        .search_persons(
            &hannah.subject(),
            &SearchCriteria {
                nhs_number: NhsNumber::parse("999 000 0018").ok(),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!((hits.len(), hits[0].postcode.as_deref()), (1, Some("W2 1AA")));
    let hits = db
        .search_persons(
            &hannah.subject(),
            &SearchCriteria {
                postcode: Postcode::parse("nw88ab").ok(),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "previous addresses are searched too");
    let hits = db
        .search_persons(
            &hannah.subject(),
            &SearchCriteria {
                date_of_birth: Some(date!(2021 - 07 - 01)),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert!(
        db.search_persons(&kim.subject(), &by("Khan"), 10)
            .await
            .unwrap()
            .is_empty(),
        "other tenant"
    );
    assert!(
        db.search_persons(&hannah.subject(), &SearchCriteria::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Contacts and case notes: who was present, who else may read a sensitive
    // note, counts per organisation, and how many workers are active at once.
    let today = kindred_store::today();
    let note = |days: i64, people: Vec<i64>, visibility, readers: Vec<i64>| kindred_store::contacts::NewContact {
        tenant_id: west.id,
        family_id: fam.id,
        organisation_id: hv.id,
        author_user_id: hannah.id,
        occurred_on: today - time::Duration::days(days),
        mode: "home_visit",
        visibility,
        body: format!("note {days}"),
        people,
        readers,
    };
    let older = db.add_contact(&note(30, vec![mum.id], "team", vec![])).await.unwrap();
    let newer = db
        .add_contact(&note(2, vec![mum.id, child.id], "sensitive", vec![hannah.id]))
        .await
        .unwrap();
    db.add_contact(&note(400, vec![child.id], "profession", vec![]))
        .await
        .unwrap();
    let (page, total) = db.contacts_of_family(fam.id, 2, 0).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), vec![newer, older]);
    assert_eq!(page[0].present.len(), 2);
    assert_eq!(page[0].readers, vec![hannah.id]);
    assert_eq!(page[0].visibility, "sensitive");
    assert_eq!(page[0].body, "note 2");
    assert_eq!(page[1].organisation_name, "Central London Health Visiting");
    let year_ago = today - time::Duration::days(365);
    let counts = db.contact_counts(fam.id, year_ago).await.unwrap();
    assert_eq!((counts.len(), counts[0].contacts), (1, 2));
    assert_eq!(db.member_contact_total(fam.id, year_ago).await.unwrap(), 2);
    assert!(db.active_professionals(fam.id, year_ago).await.unwrap() >= 1);

    // Family-led assessments, repeated: oldest first, each with its scores.
    for (days, score) in [(60, 3u8), (5, 7u8)] {
        db.create_assessment(&kindred_store::assessments::NewAssessment {
            tenant_id: west.id,
            family_id: fam.id,
            author_user_id: hannah.id,
            assessed_on: today - time::Duration::days(days),
            strengths: "We stick together".into(),
            changes: "Getting to school on time".into(),
            future: "Calmer mornings".into(),
            scores: vec![("education".into(), score, "Mornings are hard".into())],
        })
        .await
        .unwrap();
    }
    let assessments = db.assessments_of_family(fam.id).await.unwrap();
    assert_eq!(assessments.len(), 2);
    assert_eq!(
        assessments[0].scores,
        vec![("education".to_string(), 3, "Mornings are hard".to_string())]
    );
    assert_eq!(assessments[1].scores[0].1, 7);
    assert_eq!(assessments[1].author_name, "Hannah.HV");

    // A tenant's own assessment areas: saved in order, replaced whole.
    {
        use kindred_domain::assessment::TenantArea;
        assert!(db.assessment_areas(west.id).await.unwrap().is_empty());
        let area = |code: &str, question: &str, asked| TenantArea {
            code: code.into(),
            question: question.into(),
            asked,
        };
        let saved = vec![
            area("housing", "Our flat", true),
            area("crime", "Trouble", false),
            area("own_1", "Faith", true),
        ];
        db.save_assessment_areas(west.id, &saved).await.unwrap();
        assert_eq!(db.assessment_areas(west.id).await.unwrap(), saved);
        db.save_assessment_areas(west.id, &saved[2..]).await.unwrap();
        assert_eq!(db.assessment_areas(west.id).await.unwrap(), saved[2..].to_vec());
        db.save_assessment_areas(west.id, &[]).await.unwrap();
    }

    // What the family page adds up: referral needs and open flags, with who recorded them.
    {
        let r = db
            .create_referral(&kindred_store::referrals::NewReferral {
                tenant_id: west.id,
                route: kindred_domain::referral::Route::Professional,
                referrer_user_id: Some(hannah.id),
                referrer_organisation_id: Some(hannah.organisation_id),
                referrer: Default::default(),
                family_id: Some(fam.id),
                reference: "KR-STORY-NEEDS".into(),
            })
            .await
            .unwrap();
        let details = kindred_store::referrals::ReferralDetails {
            needs: vec!["housing".into(), "debt".into()],
            ..Default::default()
        };
        db.update_referral_details(r.id, &details).await.unwrap();
        assert!(
            db.recorded_needs(fam.id, 0).await.unwrap().referral_needs.is_empty(),
            "a draft records nothing"
        );
        db.submit_referral(r.id, Some(hannah.id), None).await.unwrap();
        db.add_flag(
            west.id,
            fam.id,
            Some(child.id),
            "young_carer",
            "Cares for mum",
            Some(hannah.id),
            date!(2026 - 01 - 01),
        )
        .await
        .unwrap();
        let rn = db.recorded_needs(fam.id, 0).await.unwrap();
        let mut needs = rn.referral_needs.clone();
        needs.sort();
        assert_eq!(
            needs,
            vec![
                ("debt".to_string(), Some(hannah.organisation_id)),
                ("housing".to_string(), Some(hannah.organisation_id))
            ]
        );
        assert!(
            rn.flags
                .contains(&("young_carer".to_string(), Some(hannah.organisation_id)))
        );
        assert!(
            db.recorded_needs(fam.id, kindred_store::now_ms() + 1)
                .await
                .unwrap()
                .referral_needs
                .is_empty()
        );
    }

    // The family plan: goal, actions, status with a comment, review, versions.
    {
        use kindred_domain::plan::{ActionStatus, GoalStatus, Owner};
        use kindred_store::plans::{Author, NewAction, NewGoal, NewReview};
        let goal = db
            .add_plan_goal(&NewGoal {
                tenant_id: west.id,
                family_id: fam.id,
                area: "education".into(),
                words: "Zara gets to nursery every day".into(),
                baseline_score: Some(3),
                shared_with_family: true,
                by_user: hannah.id,
            })
            .await
            .unwrap();
        let new_action = |description: &str, owner, due_on, shared| NewAction {
            tenant_id: west.id,
            family_id: fam.id,
            goal_id: goal,
            description: description.into(),
            owner,
            due_on,
            shared_with_family: shared,
            by_user: hannah.id,
        };
        let late = db
            .add_plan_action(&new_action(
                "Book a visit",
                Owner::Worker(hannah.id),
                date!(2025 - 01 - 01),
                true,
            ))
            .await
            .unwrap();
        let mums = db
            .add_plan_action(&new_action(
                "Bedtime chart",
                Owner::FamilyMember(mum.id),
                date!(2030 - 01 - 01),
                false,
            ))
            .await
            .unwrap();
        // An action cannot hang off another family's goal.
        let mut stray = new_action("Stray", Owner::Worker(hannah.id), date!(2030 - 01 - 01), true);
        stray.family_id = second.id;
        assert!(db.add_plan_action(&stray).await.is_err());
        let today = date!(2026 - 06 - 01);
        let overdue = db.overdue_actions(hannah.id, today).await.unwrap();
        assert_eq!(overdue.iter().map(|a| a.id).collect::<Vec<_>>(), vec![late]);
        db.set_action_status(
            fam.id,
            mums,
            ActionStatus::InProgress,
            Author::Person(mum.id),
            "Two good nights",
            today,
        )
        .await
        .unwrap();
        assert!(
            db.set_action_status(second.id, mums, ActionStatus::Done, Author::User(hannah.id), "", today)
                .await
                .is_err()
        );
        db.add_plan_comment(fam.id, late, Author::User(hannah.id), "Rang twice")
            .await
            .unwrap();
        assert!(
            db.add_plan_comment(second.id, late, Author::User(hannah.id), "x")
                .await
                .is_err()
        );
        db.add_plan_review(&NewReview {
            tenant_id: west.id,
            family_id: fam.id,
            reviewed_on: today,
            by_user: hannah.id,
            summary: "Going well".into(),
            next_review_on: Some(date!(2026 - 09 - 01)),
            scores: vec![(goal, 7)],
            goal_statuses: vec![],
        })
        .await
        .unwrap();
        db.set_goal_status(fam.id, goal, GoalStatus::Achieved, hannah.id)
            .await
            .unwrap();
        let plan = db.plan_of_family(fam.id).await.unwrap();
        assert_eq!(plan.goals.len(), 1);
        let g = &plan.goals[0];
        assert_eq!(
            (g.baseline_score, g.latest_score, g.status),
            (Some(3), Some(7), GoalStatus::Achieved)
        );
        assert_eq!(g.actions.len(), 2);
        assert_eq!(g.actions[1].owner, Some(Owner::FamilyMember(mum.id)));
        assert_eq!(g.actions[1].status, ActionStatus::InProgress);
        assert_eq!(g.actions[1].owner_name, "Aisha Khan-Ahmed");
        assert_eq!(plan.reviews.len(), 1);
        let comments = db.plan_comments(fam.id).await.unwrap();
        assert_eq!(comments.len(), 2);
        assert!(comments[0].by_family && comments[0].author_name == "Aisha Khan-Ahmed");
        assert_eq!(comments[0].progress.as_deref(), Some("in_progress"));
        // Goal, two actions, a status, a review, a goal status: six versions.
        let versions = db.plan_versions(fam.id).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![6, 5, 4, 3, 2, 1]
        );
        assert_eq!(plan.version, 6);
        let v2 = db.plan_version(fam.id, 2).await.unwrap().unwrap();
        assert_eq!(v2.goals[0].actions.len(), 1);
        assert_eq!(v2.goals[0].actions[0].owner, format!("user:{}", hannah.id));
        assert!(db.plan_version(fam.id, 7).await.unwrap().is_none());

        // The portal: an invitation, a one-time code, a session; revoking ends it.
        let invite = db
            .create_portal_invite(west.id, fam.id, mum.id, Some("Aisha@Example.test"), hannah.id)
            .await
            .unwrap();
        assert_eq!(
            db.portal_invites_for_email("aisha@example.TEST").await.unwrap(),
            vec![invite]
        );
        let now = kindred_store::now_ms();
        db.add_portal_code(invite, "code-hash", now + 60_000).await.unwrap();
        db.add_portal_code(invite, "old-hash", now - 1).await.unwrap();
        assert_eq!(db.redeem_portal_code("old-hash", now).await.unwrap(), None);
        assert_eq!(db.redeem_portal_code("code-hash", now).await.unwrap(), Some(invite));
        assert_eq!(
            db.redeem_portal_code("code-hash", now).await.unwrap(),
            None,
            "once only"
        );
        db.create_portal_session("token-hash", invite, "csrf").await.unwrap();
        let s = db.portal_session("token-hash").await.unwrap().unwrap();
        assert_eq!(
            (s.family_id, s.person_id, s.person_name.as_str()),
            (fam.id, mum.id, "Aisha Khan-Ahmed")
        );
        db.touch_portal_session("token-hash", now + 5).await.unwrap();
        assert!(!db.revoke_portal_invite(second.id, invite).await.unwrap());
        assert!(db.revoke_portal_invite(fam.id, invite).await.unwrap());
        assert!(db.portal_session("token-hash").await.unwrap().is_none());
        let listed = db.portal_invites(fam.id).await.unwrap();
        assert!(listed[0].revoked_at_ms.is_some());
        db.delete_portal_session("token-hash").await.unwrap();
    }
    // Child development: each tenant's own cut-offs, set, changed and removed.
    db.set_asq_cutoff(
        west.id,
        Some(hannah.id),
        "asq3",
        24,
        "communication",
        Some((2500, 3000)),
    )
    .await
    .unwrap();
    db.set_asq_cutoff(
        west.id,
        Some(hannah.id),
        "asq3",
        24,
        "communication",
        Some((2250, 3000)),
    )
    .await
    .unwrap();
    db.set_asq_cutoff(west.id, None, "asq3", 24, "fine_motor", Some((2000, 2500)))
        .await
        .unwrap();
    db.set_asq_cutoff(west.id, None, "asq3", 24, "fine_motor", None)
        .await
        .unwrap();
    db.set_asq_cutoff(kc.id, None, "asqse", 24, "total", Some((6000, 4500)))
        .await
        .unwrap();
    let cuts = db.asq_cutoffs(west.id).await.unwrap();
    assert_eq!(cuts.len(), 1);
    assert_eq!((cuts[0].area.as_str(), cuts[0].cutoff_centi), ("communication", 2250));
    assert_eq!(db.asq_cutoffs(kc.id).await.unwrap()[0].instrument, "asqse");
    // Questionnaires and the integrated review at two.
    let q = |instrument: &str, interval: u8, scores: Vec<(String, u16)>| kindred_store::development::NewQuestionnaire {
        tenant_id: west.id,
        family_id: fam.id,
        person_id: child.id,
        instrument: instrument.into(),
        interval_months: interval,
        completed_on: today - time::Duration::days(3),
        author_user_id: hannah.id,
        notes: "Completed with mum at home".into(),
        scores,
    };
    let asq = db
        .create_questionnaire(&q(
            "asq3",
            24,
            vec![("communication".into(), 20), ("gross_motor".into(), 55)],
        ))
        .await
        .unwrap();
    db.create_questionnaire(&q("asqse", 24, vec![("total".into(), 65)]))
        .await
        .unwrap();
    let qs = db.questionnaires_of_family(fam.id).await.unwrap();
    assert_eq!(qs.len(), 2);
    let first = qs.iter().find(|x| x.id == asq).unwrap();
    assert_eq!(first.scores.len(), 2);
    assert!(first.scores.contains(&("communication".to_string(), 20)));
    assert_eq!(first.author_name, "Hannah.HV");
    db.create_two_year_review(&kindred_store::development::NewTwoYearReview {
        tenant_id: west.id,
        family_id: fam.id,
        person_id: child.id,
        reviewed_on: today,
        author_user_id: hannah.id,
        questionnaire_id: Some(asq),
        weight_grams: Some(12_400),
        height_mm: None,
        health_notes: "Growing well".into(),
        setting_name: "Little Acorns Nursery".into(),
        eyfs_communication: "some_concerns".into(),
        eyfs_physical: "on_track".into(),
        eyfs_psed: "on_track".into(),
        eyfs_notes: String::new(),
        parent_views: "Worried about talking".into(),
        next_steps: "Stay and play: talking group".into(),
    })
    .await
    .unwrap();
    let reviews = db.two_year_reviews_of_family(fam.id).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        (
            reviews[0].questionnaire_id,
            reviews[0].weight_grams,
            reviews[0].height_mm
        ),
        (Some(asq), Some(12_400), None)
    );
    assert_eq!(reviews[0].eyfs_communication, "some_concerns");
    // The common early help assessment: a draft, saved, completed, then read-only.
    let mut text = kindred_store::early_help::EarlyHelpText {
        reason: "Nursery noticed few words".into(),
        ..Default::default()
    };
    let eha = db
        .create_early_help_assessment(west.id, fam.id, hannah.id, today, &text, None)
        .await
        .unwrap();
    text.set_section("strengths", "Loving grandparents nearby".into());
    text.outcome = "team_around_family".into();
    db.update_early_help_assessment(eha, fam.id, &text, None).await.unwrap();
    assert!(matches!(
        db.update_early_help_assessment(eha, second.id, &text, None).await,
        Err(StoreError::Conflict(_))
    ));
    db.update_early_help_assessment(eha, fam.id, &text, Some((hannah.id, today)))
        .await
        .unwrap();
    assert!(matches!(
        db.update_early_help_assessment(eha, fam.id, &Default::default(), None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let done = db.early_help_assessment(fam.id, eha).await.unwrap().unwrap();
    assert!(done.is_completed());
    assert_eq!(done.text.section("strengths"), "Loving grandparents nearby");
    assert_eq!(done.completed_by_name.as_deref(), Some("Hannah.HV"));
    assert!(db.early_help_assessment(second.id, eha).await.unwrap().is_none());
    let again = db
        .create_early_help_assessment(west.id, fam.id, hannah.id, today, &done.text, Some(today))
        .await
        .unwrap();
    let all = db.early_help_assessments_of_family(fam.id).await.unwrap();
    assert_eq!(all.iter().map(|a| a.id).collect::<Vec<_>>(), vec![again, eha]);
    assert_eq!(all[0].text, done.text);
    // Episodes and their timelines; tasks, inboxes and caseloads.
    episodes_and_tasks(db, west.id, fam.id, &hannah, &eric, team.id).await;

    // Transitions: young people approaching 18 and Year 6 children in families
    // with open work, and their transition-plan tasks, made once.
    transitions(db, (west.id, kc.id), (hv.id, eh.id, kc_org.id), (&hannah, &eric, &kim)).await;

    // Break-glass and safeguarding overrides, their review, sealed families.
    overrides(db, (west.id, kc.id), fam.id, (&tara, &hannah, &kim)).await;

    // Consent and information-sharing agreements (issue 5).
    consents_and_agreements(db, (west.id, kc.id), (hv.id, eh.id, kc_org.id), (&hannah, &eric, &kim)).await;

    // The audit chain.
    for i in 0..3 {
        db.audit(NewEvent {
            tenant_id: Some(west.id),
            actor_user_id: Some(hannah.id),
            action: AuditAction::Read,
            record_kind: "family",
            record_id: Some(fam.id),
            family_id: Some(fam.id),
            route: format!("story {i}"),
            detail: "lead_professional".into(),
        })
        .await
        .unwrap();
    }
    let log = db.family_access_log(fam.id, 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].actor_name.as_deref(), Some("Hannah.HV"));
    assert_eq!(log[0].event.seq, 3);
    assert_eq!(db.audit_events_since(1, 10).await.unwrap().len(), 2);
    let report = db.verify_audit().await.unwrap();
    assert_eq!((report.checked, report.broken), (3, None));
    // Transparency: who viewed a person, the audit search, redaction rules,
    // and everything held about one person.
    transparency(db, (west.id, kc.id), (fam.id, second.id), (mum.id, child.id), &hannah).await;
    db.ping().await.unwrap();
}

async fn transparency(
    db: &Db,
    (west, kc): (i64, i64),
    (fam, second): (i64, i64),
    (mum, child): (i64, i64),
    hannah: &kindred_store::users::User,
) {
    use kindred_store::transparency::AuditFilter;
    // A read of the child through the second family: the mother was never in it.
    db.audit(NewEvent {
        tenant_id: Some(west),
        actor_user_id: Some(hannah.id),
        action: AuditAction::Export,
        record_kind: "person",
        record_id: Some(child),
        family_id: Some(second),
        route: "story person".into(),
        detail: "lead_professional".into(),
    })
    .await
    .unwrap();
    let mums = db.person_audit_rows(mum, 100).await.unwrap();
    assert_eq!(mums.len(), 3, "the family's events while she is a member");
    assert!(mums.iter().all(|r| r.event.family_id == Some(fam)));
    let childs = db.person_audit_rows(child, 100).await.unwrap();
    assert_eq!(childs.len(), 4);
    assert_eq!(childs[0].event.route, "story person");
    assert_eq!(childs[0].actor_profession.as_deref(), Some("health_visitor"));
    let rows = db.family_audit_rows(fam, 10).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].actor_organisation.as_deref(),
        Some("Central London Health Visiting")
    );

    let all = AuditFilter {
        tenant_id: west,
        ..Default::default()
    };
    let (page, total) = db.audit_search(&all, 2, 0).await.unwrap();
    assert_eq!((page.len(), total), (2, 4));
    assert!(page[0].event.seq > page[1].event.seq, "newest first");
    let (_, total) = db.audit_search(&all, 2, 2).await.unwrap();
    assert_eq!(total, 4);
    let by = |f: AuditFilter| async move { db.audit_search(&f, 50, 0).await.unwrap().1 };
    assert_eq!(
        by(AuditFilter {
            tenant_id: kc,
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        by(AuditFilter {
            actor_user_id: Some(hannah.id),
            ..all.clone()
        })
        .await,
        4
    );
    assert_eq!(
        by(AuditFilter {
            action: Some("export".into()),
            ..all.clone()
        })
        .await,
        1
    );
    assert_eq!(
        by(AuditFilter {
            record_kind: Some("person".into()),
            record_id: Some(child),
            ..all.clone()
        })
        .await,
        1
    );
    assert_eq!(
        by(AuditFilter {
            family_id: Some(second),
            ..all.clone()
        })
        .await,
        1
    );
    let now = kindred_store::now_ms();
    assert_eq!(
        by(AuditFilter {
            from_ms: Some(now + 86_400_000),
            ..all.clone()
        })
        .await,
        0
    );
    assert_eq!(
        by(AuditFilter {
            to_ms: Some(now + 86_400_000),
            ..all.clone()
        })
        .await,
        4
    );

    // Redaction rules: none stored until chosen; chosen again replaces.
    assert!(db.redaction_rules(west).await.unwrap().is_empty());
    db.set_redaction_rule(west, "other_people", false).await.unwrap();
    db.set_redaction_rule(west, "other_people", true).await.unwrap();
    db.set_redaction_rule(west, "staff_names", true).await.unwrap();
    assert_eq!(
        db.redaction_rules(west).await.unwrap(),
        vec![("other_people".to_string(), true), ("staff_names".to_string(), true)]
    );
    assert!(db.redaction_rules(kc).await.unwrap().is_empty());

    // Finding the subject, and everything held about them.
    assert_eq!(db.person_by_nhs_number(west, "9990000018").await.unwrap(), Some(mum));
    assert_eq!(db.person_by_nhs_number(kc, "9990000018").await.unwrap(), None);
    assert_eq!(db.person_tenant(mum).await.unwrap(), Some(west));
    assert_eq!(db.person_tenant(987_654).await.unwrap(), None);
    let src = db.subject_access_source(mum).await.unwrap();
    assert_eq!(src.identity.nhs_number, "999 000 0018");
    assert_eq!(src.identity.family_name, "Khan-Ahmed");
    assert_eq!(src.identity.previous_names.len(), 1);
    assert!(src.families.iter().any(|f| f.family_id == fam && f.role == "Parent"));
    assert_eq!(src.contacts.len(), 2, "the two contacts she was present at");
    assert!(
        src.contacts
            .iter()
            .any(|c| c.visibility == "sensitive" && c.present.contains(&child))
    );
    assert!(src.third_parties.iter().any(|t| t.key == child));
    assert!(!src.third_parties.iter().any(|t| t.key == mum));
    assert!(!src.assessments.is_empty());
    assert!(!src.early_help_assessments.is_empty());
    assert_eq!(src.access_log.len(), 3);
    assert_eq!(db.sar_candidate(fam).await.unwrap().map(|c| c.0), Some(mum));
}

/// Episodes: opened, moved through their stages, stepped up and down, closed
/// and reopened, each change on the timeline. Tasks: added, listed in the
/// worker's and the team's inboxes (open and soonest due first), completed,
/// overdue for the manager, and counted in the caseload.
async fn episodes_and_tasks(
    db: &Db,
    tenant: i64,
    family: i64,
    hannah: &kindred_store::users::User,
    eric: &kindred_store::users::User,
    team: i64,
) {
    use kindred_store::episodes::{EpisodeUpdate, NewEpisodeEvent};
    use kindred_store::tasks::NewTask;
    let today = kindred_store::today();
    let ep = db
        .open_episode(tenant, family, None, Some(hannah.id), "3", Some(hannah.id), today)
        .await
        .unwrap();
    let e = db.episode(ep).await.unwrap().unwrap();
    assert_eq!(
        (e.status.as_str(), e.stage.as_str(), e.level.as_str()),
        ("open", "assessment", "3")
    );
    assert_eq!(e.lead_name.as_deref(), Some("Hannah.HV"));
    assert!(db.episode(ep + 1000).await.unwrap().is_none());
    let event = |kind, from: &str, to: &str, detail: &str| NewEpisodeEvent {
        by_user_id: Some(hannah.id),
        kind,
        from_value: Some(from.into()),
        to_value: Some(to.into()),
        detail: detail.into(),
    };
    let mut state = EpisodeUpdate {
        status: "open",
        stage: "plan",
        level: "3",
        lead_user_id: Some(hannah.id),
        closed_on: None,
        close_reason: None,
        outcome: None,
    };
    db.update_episode(ep, &state, &event("stage_changed", "assessment", "plan", ""))
        .await
        .unwrap();
    state.level = "4";
    db.update_episode(ep, &state, &event("stepped_up", "3", "4", ""))
        .await
        .unwrap();
    state.lead_user_id = Some(eric.id);
    db.update_episode(ep, &state, &event("lead_changed", "Hannah.HV", "eric", ""))
        .await
        .unwrap();
    state = EpisodeUpdate {
        status: "closed",
        stage: "closure",
        closed_on: Some(today),
        close_reason: Some("Children's social care lead now".into()),
        outcome: Some("stepped_up"),
        ..state
    };
    db.update_episode(
        ep,
        &state,
        &event("closed", "plan", "closure", "Children's social care lead now"),
    )
    .await
    .unwrap();
    let closed = db.episode(ep).await.unwrap().unwrap();
    assert_eq!(
        (
            closed.status.as_str(),
            closed.stage.as_str(),
            closed.level.as_str(),
            closed.outcome.as_deref()
        ),
        ("closed", "closure", "4", Some("stepped_up"))
    );
    assert_eq!(
        (closed.closed_on, closed.lead_name.as_deref()),
        (Some(today), Some("eric"))
    );
    let reopened = EpisodeUpdate {
        status: "open",
        stage: "assessment",
        closed_on: None,
        close_reason: None,
        outcome: None,
        ..state
    };
    db.update_episode(ep, &reopened, &event("reopened", "closure", "assessment", ""))
        .await
        .unwrap();
    let second = db
        .open_episode(tenant, family, None, None, "2", None, today - time::Duration::days(400))
        .await
        .unwrap();
    let timeline = db.episode_events(ep).await.unwrap();
    assert_eq!(
        timeline.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec![
            "opened",
            "stage_changed",
            "stepped_up",
            "lead_changed",
            "closed",
            "reopened"
        ]
    );
    assert_eq!(timeline[0].by_name.as_deref(), Some("Hannah.HV"));
    assert_eq!(timeline[4].detail, "Children's social care lead now");
    assert_eq!(timeline[2].to_value.as_deref(), Some("4"));
    assert_eq!(db.episode_events(second).await.unwrap()[0].by_user_id, None);
    let counts = db.episode_event_counts(tenant).await.unwrap();
    assert!(counts.contains(&("opened".to_string(), 2)) && counts.contains(&("reopened".to_string(), 1)));
    let episodes = db.episodes_of_family(family).await.unwrap();
    assert_eq!(episodes.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ep, second]);

    // Tasks: Hannah's own, her team's, and Eric's.
    let task = |kind, user: Option<i64>, team: Option<i64>, due: i64, title: &str| NewTask {
        tenant_id: tenant,
        kind,
        family_id: Some(family),
        episode_id: Some(ep),
        assigned_user_id: user,
        assigned_team_id: team,
        title: title.into(),
        due_on: today + time::Duration::days(due),
        created_by_user_id: Some(hannah.id),
    };
    let later = db
        .add_task(&task("follow_up", Some(hannah.id), None, 10, "Ring about nursery"))
        .await
        .unwrap();
    let overdue = db
        .add_task(&task("review_due", Some(hannah.id), None, -3, "Review the plan"))
        .await
        .unwrap();
    let team_task = db
        .add_task(&task("alert", None, Some(team), 0, "Missed immunisation"))
        .await
        .unwrap();
    let erics = db
        .add_task(&task("review_due", Some(eric.id), None, -1, "Review"))
        .await
        .unwrap();
    let mine = db.tasks_of_user(hannah.id, false, 10).await.unwrap();
    assert_eq!(mine.iter().map(|t| t.id).collect::<Vec<_>>(), vec![overdue, later]);
    assert_eq!(mine[0].family_name.as_deref(), Some("Khan-Ahmed household"));
    assert_eq!(mine[0].assigned_user_name.as_deref(), Some("Hannah.HV"));
    let teams = db.tasks_of_team(team, true, 10).await.unwrap();
    assert_eq!(
        teams.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![overdue, team_task, later]
    );
    assert_eq!(teams[1].assigned_team_name.as_deref(), Some("Church Street Early Help"));
    assert_eq!(db.task_counts(hannah.id, today).await.unwrap(), (2, 1));
    assert!(db.complete_task(later, hannah.id).await.unwrap());
    assert!(!db.complete_task(later, hannah.id).await.unwrap(), "only once");
    let done = db.task(later).await.unwrap().unwrap();
    assert_eq!(
        (done.status.as_str(), done.completed_by_user_id),
        ("done", Some(hannah.id))
    );
    let mine = db.tasks_of_user(hannah.id, false, 10).await.unwrap();
    assert_eq!(
        mine.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![overdue, later],
        "open first"
    );
    assert_eq!(db.tasks_of_user(hannah.id, true, 10).await.unwrap().len(), 1);
    assert_eq!(db.open_tasks_of_family(family).await.unwrap().len(), 3);
    assert_eq!(db.reassign_episode_tasks(ep, "review_due", eric.id).await.unwrap(), 2);
    assert_eq!(db.task(overdue).await.unwrap().unwrap().assigned_user_id, Some(eric.id));
    assert_eq!(db.complete_episode_tasks(ep, "review_due", eric.id).await.unwrap(), 2);
    assert_eq!(db.task_counts(hannah.id, today).await.unwrap(), (0, 0));
    assert_eq!(db.task_counts(eric.id, today).await.unwrap(), (0, 0));
    let still = db
        .add_task(&task("follow_up", Some(eric.id), None, -5, "Chase housing"))
        .await
        .unwrap();
    // Overdue across Eric's organisation, then across Hannah's team.
    let over = db
        .overdue_tasks_of(eric.organisation_id, None, today, 10)
        .await
        .unwrap();
    assert_eq!(over.iter().map(|t| t.id).collect::<Vec<_>>(), vec![still]);
    assert!(!over.iter().any(|t| t.id == erics), "done");
    assert!(
        db.overdue_tasks_of(hannah.organisation_id, Some(team), today, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let load = db.caseload(eric.organisation_id, None, today).await.unwrap();
    let eric_load = load.iter().find(|r| r.user_id == eric.id).unwrap();
    assert_eq!(
        (eric_load.open_episodes, eric_load.open_tasks, eric_load.overdue_tasks),
        (1, 1, 1)
    );
    let hv_load = db.caseload(hannah.organisation_id, Some(team), today).await.unwrap();
    assert_eq!(hv_load.len(), 1);
    assert!(hv_load[0].families >= 1, "Hannah leads the family");
}

/// Transitions (F19): who is approaching 18 or in Year 6 in a family with open
/// work, narrowed to what a reader may see; the services involved; one
/// transition-plan task per young person, however often they are made.
async fn transitions(
    db: &Db,
    (west, kc): (i64, i64),
    (hv, eh, kc_org): (i64, i64, i64),
    (hannah, eric, kim): (
        &kindred_store::users::User,
        &kindred_store::users::User,
        &kindred_store::users::User,
    ),
) {
    use kindred_domain::transition::{add_months, year_6_birth_window};
    let today = kindred_store::today();
    let creator = |u: &kindred_store::users::User, org: i64| Creator {
        user_id: u.id,
        organisation_id: org,
        service: "Family support".into(),
    };
    let person = |tenant: i64, given: &'static str, dob: time::Date| async move {
        db.create_person(tenant, &details(given, "Teen", Some(dob), None))
            .await
            .unwrap()
            .id
    };
    let (y6_from, y6_to) = year_6_birth_window(today);
    // Hannah's family: a 17-year-old turning 18 in three months, a 16-year-old,
    // one who has left, a Year 6 and a Year 5 child.
    let a = db
        .create_family(west, "Teen household", &creator(hannah, hv), today)
        .await
        .unwrap()
        .id;
    let soon = person(west, "Soon", add_months(today, 3 - 216)).await;
    let sixteen = person(west, "Sixteen", add_months(today, -16 * 12)).await;
    let gone = person(west, "Gone", add_months(today, 2 - 216)).await;
    let y6 = person(west, "Six", y6_from).await;
    let y5 = person(west, "Five", y6_to + time::Duration::days(1)).await;
    for p in [soon, sixteen, gone, y6, y5] {
        db.add_member(a, p, MemberRole::Child, today).await.unwrap();
    }
    db.end_membership(a, gone, today).await.unwrap();
    // Eric's family: its involvement ends, then an episode opens.
    let b = db
        .create_family(west, "Later household", &creator(eric, eh), today)
        .await
        .unwrap()
        .id;
    let later = person(west, "Later", add_months(today, 5 - 216)).await;
    let later_y6 = person(west, "LaterSix", y6_to).await;
    db.add_member(b, later, MemberRole::Child, today).await.unwrap();
    db.add_member(b, later_y6, MemberRole::Child, today).await.unwrap();
    let inv = db.involvements(b).await.unwrap()[0].id;
    db.end_involvement(inv, today).await.unwrap();
    // Another borough's young person.
    let c = db
        .create_family(kc, "Other household", &creator(kim, kc_org), today)
        .await
        .unwrap()
        .id;
    let theirs = person(kc, "Theirs", add_months(today, 1 - 216)).await;
    db.add_member(c, theirs, MemberRole::Child, today).await.unwrap();

    let ids = |v: &[kindred_store::transitions::YoungPerson]| v.iter().map(|y| y.person_id).collect::<Vec<_>>();
    let all = db.approaching_18(west, None, today).await.unwrap();
    assert_eq!(ids(&all), vec![soon], "no open work in the Later household yet");
    db.open_episode(west, b, None, Some(eric.id), "2", Some(eric.id), today)
        .await
        .unwrap();
    let all = db.approaching_18(west, None, today).await.unwrap();
    assert_eq!(ids(&all), vec![soon, later], "an open episode counts; oldest first");
    assert_eq!(all[0].family_id, a);
    assert_eq!(all[0].given_name, "Soon");
    // Hannah sees her family's young person only; the policy agrees.
    let hers = db.approaching_18(west, Some(&hannah.subject()), today).await.unwrap();
    assert_eq!(ids(&hers), vec![soon]);
    let facts = db.family_facts(a).await.unwrap().unwrap();
    assert!(access::family(&hannah.subject(), &facts, FamilyAction::View).allowed());
    assert_eq!(ids(&db.approaching_18(kc, None, today).await.unwrap()), vec![theirs]);
    // Year 6: an open involvement is needed, an episode is not enough.
    assert_eq!(ids(&db.year_6(west, None, today).await.unwrap()), vec![y6]);
    assert!(db.year_6(west, Some(&eric.subject()), today).await.unwrap().is_empty());
    let services = db.services_involved(&[a, b]).await.unwrap();
    assert_eq!(services[&a], vec!["Central London Health Visiting".to_string()]);
    assert!(!services.contains_key(&b));

    // Tasks: one each, to the family's first team member; made once.
    assert!(db.transition_tasks(&[soon, later]).await.unwrap().is_empty());
    assert_eq!(
        db.create_transition_plans(&all, today, Some(hannah.id)).await.unwrap(),
        2
    );
    assert_eq!(
        db.create_transition_plans(&all, today, Some(hannah.id)).await.unwrap(),
        0
    );
    let tasks = db.transition_tasks(&[soon, later, sixteen]).await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[&soon].assigned_user_id, Some(hannah.id));
    assert_eq!(tasks[&later].assigned_user_id, Some(eric.id));
    assert_eq!(tasks[&soon].family_id, Some(a));
    assert_eq!(tasks[&soon].status, "open");
    // The lead professional comes first.
    db.set_lead(c, kim.id, today).await.unwrap();
    assert_eq!(
        db.create_all_transition_plans(today).await.unwrap(),
        1,
        "the other borough's"
    );
    assert_eq!(db.create_all_transition_plans(today).await.unwrap(), 0);
    assert_eq!(
        db.transition_tasks(&[theirs]).await.unwrap()[&theirs].assigned_user_id,
        Some(kim.id)
    );
}

/// Restricted persons and their contact details; flags; alert rules and the
/// alerts they make, once per flag and organisation (issue 5).
async fn restricted_and_flags(db: &Db) {
    let today = kindred_store::today();
    let t = db.create_tenant("flags", "Flag Borough").await.unwrap().id;
    let hv = db
        .create_organisation(t, "Flag Health Visiting", OrgKind::HealthVisiting)
        .await
        .unwrap()
        .id;
    let amh = db
        .create_organisation(t, "Flag Adult Mental Health", OrgKind::AdultMentalHealth)
        .await
        .unwrap()
        .id;
    let police = db
        .create_organisation(t, "Flag Police", OrgKind::Police)
        .await
        .unwrap()
        .id;
    let housing = db
        .create_organisation(t, "Flag Housing", OrgKind::Housing)
        .await
        .unwrap()
        .id;
    let worker = db
        .create_user(&new_user(t, hv, "hv@flags.test", vec![Role::Practitioner]))
        .await
        .unwrap();
    let amh_manager = db
        .create_user(&new_user(t, amh, "amh-manager@flags.test", vec![Role::Manager]))
        .await
        .unwrap();
    let police_team = db.create_team(t, police, None, "Safeguarding unit").await.unwrap().id;
    let family = db
        .create_family(
            t,
            "Flag household",
            &Creator {
                user_id: worker.id,
                organisation_id: hv,
                service: "Health visiting".into(),
            },
            today,
        )
        .await
        .unwrap()
        .id;
    let mum = db
        .create_person(t, &details("Rae", "Flag", Some(date!(1991 - 04 - 04)), None))
        .await
        .unwrap()
        .id;
    db.add_member(family, mum, MemberRole::Parent, today).await.unwrap();

    // Contact details.
    let contact = kindred_store::restricted::PersonContact {
        phone: Some("07700 900123".into()),
        email: Some("rae@example.org".into()),
    };
    db.set_person_contact(mum, &contact).await.unwrap();
    assert_eq!(db.person_contacts(&[mum]).await.unwrap()[&mum], contact);
    // Restriction: the marker is permitted; others are granted and revoked.
    assert!(!db.restriction_facts(&[mum]).await.unwrap()[&mum].restricted);
    db.mark_restricted(mum, worker.id).await.unwrap();
    let f = &db.restriction_facts(&[mum]).await.unwrap()[&mum];
    assert!(f.restricted);
    assert_eq!(f.permitted_user_ids, vec![worker.id]);
    db.grant_restricted_permission(mum, amh_manager.id, worker.id)
        .await
        .unwrap();
    db.grant_restricted_permission(mum, amh_manager.id, worker.id)
        .await
        .unwrap();
    assert_eq!(db.restricted_permissions(mum).await.unwrap().len(), 2);
    assert!(db.revoke_restricted_permission(mum, amh_manager.id).await.unwrap());
    assert!(!db.revoke_restricted_permission(mum, amh_manager.id).await.unwrap());
    // Postcode search does not find her for anyone but the permitted worker.
    db.move_person(
        mum,
        &NewAddress {
            line1: "1 Flag Street".into(),
            line2: None,
            town: "London".into(),
            postcode: Postcode::parse("SW1A 9ZZ").unwrap(),
            from_date: today,
        },
    )
    .await
    .unwrap();
    let by_postcode = SearchCriteria {
        postcode: Some(Postcode::parse("SW1A 9ZZ").unwrap()),
        ..Default::default()
    };
    assert_eq!(
        db.search_persons(&worker.subject(), &by_postcode, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    db.add_team_member(family, amh_manager.id, today).await.unwrap();
    assert!(
        db.search_persons(&amh_manager.subject(), &by_postcode, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Her baby, living with her, is found by no one but the permitted worker either.
    let baby = db
        .create_person(t, &details("Kit", "Flag", Some(date!(2025 - 01 - 01)), None))
        .await
        .unwrap()
        .id;
    db.add_member(family, baby, MemberRole::Child, today).await.unwrap();
    db.move_person(
        baby,
        &NewAddress {
            line1: "1 flag street".into(),
            line2: None,
            town: "London".into(),
            postcode: Postcode::parse("SW1A 9ZZ").unwrap(),
            from_date: today,
        },
    )
    .await
    .unwrap();
    let f = &db.restriction_facts(&[baby]).await.unwrap()[&baby];
    assert!(f.restricted && f.permitted_user_ids == vec![worker.id]);
    assert!(!db.own_restriction_facts(&[baby]).await.unwrap()[&baby].restricted);
    assert!(
        db.search_persons(&amh_manager.subject(), &by_postcode, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.search_persons(&worker.subject(), &by_postcode, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    db.unmark_restricted(mum).await.unwrap();
    assert!(!db.restriction_facts(&[baby]).await.unwrap()[&baby].restricted);
    let f = &db.restriction_facts(&[mum]).await.unwrap()[&mum];
    assert!(!f.restricted && f.permitted_user_ids.is_empty());
    db.end_team_member(family, amh_manager.id, today).await.unwrap();

    // Alert rules.
    let rule = |kind: &str, org: &str| kindred_store::flags::NewAlertRule {
        tenant_id: t,
        trigger_flag: "child_protection_enquiry".into(),
        involved_org_kind: org.into(),
        task_title: kind.into(),
        created_by_user_id: worker.id,
    };
    db.add_alert_rule(&rule("Check on the parent", "adult_mental_health"))
        .await
        .unwrap();
    db.add_alert_rule(&rule("Second rule, same organisation", "adult_mental_health"))
        .await
        .unwrap();
    db.add_alert_rule(&rule("Police check", "police")).await.unwrap();
    let housing_rule = db.add_alert_rule(&rule("Housing check", "housing")).await.unwrap();
    assert_eq!(db.alert_rules(t).await.unwrap().len(), 4);
    assert!(db.delete_alert_rule(t, housing_rule).await.unwrap());
    assert!(!db.delete_alert_rule(t + 1000, housing_rule).await.unwrap());
    for org in [amh, police, housing] {
        db.add_involvement(family, org, "Support", today).await.unwrap();
    }
    // Flags: raised, alerts made once per organisation, to a manager (no
    // worker of theirs in the team) or a team (no manager).
    let flag = db
        .raise_flag(&kindred_store::flags::NewFlag {
            tenant_id: t,
            family_id: family,
            person_id: Some(mum),
            kind: "child_protection_enquiry".into(),
            description: "Strategy meeting held".into(),
            raised_by_user_id: worker.id,
            raised_on: today,
        })
        .await
        .unwrap();
    let made = db.raise_alerts(flag, today).await.unwrap();
    assert_eq!(made.len(), 2, "adult mental health once, police once");
    assert!(db.raise_alerts(flag, today).await.unwrap().is_empty());
    let alerts: Vec<_> = db
        .open_tasks_of_family(family)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == "alert")
        .collect();
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts
            .iter()
            .any(|a| a.assigned_user_id == Some(amh_manager.id) && a.title == "Check on the parent")
    );
    assert!(alerts.iter().any(|a| a.assigned_team_id == Some(police_team)));
    assert!(alerts.iter().all(|a| a.due_on > today));
    let flags = db.open_flags_of_family(family).await.unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].person_name.as_deref(), Some("Rae Flag"));
    assert_eq!(db.open_flags_of_person(mum).await.unwrap().len(), 1);
    assert!(db.end_flag(flag, worker.id, today).await.unwrap());
    assert!(!db.end_flag(flag, worker.id, today).await.unwrap());
    assert!(db.open_flags_of_family(family).await.unwrap().is_empty());
    assert_eq!(db.flag(flag).await.unwrap().unwrap().ended_by_user_id, Some(worker.id));
    assert!(
        db.raise_alerts(flag, today).await.unwrap().is_empty(),
        "an ended flag alerts no one"
    );
    // Raised as the web does: the flag, its alerts and its event in one transaction.
    let actor = kindred_store::families::Actor {
        tenant_id: t,
        user_id: worker.id,
        route: "test raise".into(),
    };
    let (second, tasks) = db
        .raise_flag_with_alerts(
            &kindred_store::flags::NewFlag {
                tenant_id: t,
                family_id: family,
                person_id: None,
                kind: "child_protection_enquiry".into(),
                description: "  Second enquiry  ".into(),
                raised_by_user_id: worker.id,
                raised_on: today,
            },
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(tasks.len(), 2, "the same two organisations alerted");
    assert!(
        db.raise_alerts(second, today).await.unwrap().is_empty(),
        "already alerted"
    );
    assert_eq!(db.flag(second).await.unwrap().unwrap().description, "Second enquiry");
    let log = db.family_access_log(family, 5).await.unwrap();
    let raised = &log[0].event;
    assert_eq!(
        (raised.action.as_str(), raised.record_kind.as_str(), raised.record_id),
        ("create", "flag", Some(second))
    );
    assert_eq!(raised.detail, "kind=child_protection_enquiry alerts=2");
    assert_eq!(raised.route, "test raise");
    assert_eq!(
        kindred_store::flags::working_days_after(date!(2026 - 01 - 09), 2),
        date!(2026 - 01 - 13),
        "Friday plus two working days is Tuesday"
    );
}

/// Overrides: a break-glass recorded and seen in the policy's facts until it
/// expires, a safeguarding override, the privacy officer's queue (pending
/// first) and a review recorded once; a family sealed and unsealed with the
/// officer and the reason; families found by a member's NHS number.
async fn overrides(
    db: &Db,
    (west, kc): (i64, i64),
    fam: i64,
    (tara, hannah, kim): (
        &kindred_store::users::User,
        &kindred_store::users::User,
        &kindred_store::users::User,
    ),
) {
    use kindred_domain::sharing::{BREAK_GLASS_MS, OverrideKind, ReviewStatus, SAFEGUARDING_OVERRIDE_MS};
    use kindred_store::overrides::NewOverride;
    let now = kindred_store::now_ms();
    let officer = db
        .create_user(&new_user(
            west,
            hannah.organisation_id,
            "pat@example.org",
            vec![Role::PrivacyOfficer],
        ))
        .await
        .unwrap();
    let nhs = NhsNumber::parse("9990000018").unwrap();
    assert_eq!(db.current_families_of_nhs_number(west, &nhs).await.unwrap(), vec![fam]);
    assert!(db.current_families_of_nhs_number(kc, &nhs).await.unwrap().is_empty());

    let glass = db
        .create_override(&NewOverride {
            tenant_id: west,
            family_id: fam,
            user_id: tara.id,
            kind: OverrideKind::BreakGlass,
            reason: "Police at the door asking about the children tonight",
            started_at_ms: now - 1_000,
            expires_at_ms: now + BREAK_GLASS_MS,
        })
        .await
        .unwrap();
    let facts = db.family_facts(fam).await.unwrap().unwrap();
    assert!(facts.break_glass_user_ids.contains(&tara.id));
    let bg = db.active_break_glass(fam, tara.id, now).await.unwrap().unwrap();
    assert_eq!(bg.id, glass);
    assert_eq!(bg.kind(), Some(OverrideKind::BreakGlass));
    assert!(bg.active(now));
    assert!(db.active_break_glass(fam, hannah.id, now).await.unwrap().is_none());
    assert!(
        db.active_break_glass(fam, tara.id, now + BREAK_GLASS_MS)
            .await
            .unwrap()
            .is_none()
    );
    // An old one, expired: not in the facts.
    let old = db
        .create_override(&NewOverride {
            tenant_id: west,
            family_id: fam,
            user_id: kim.id,
            kind: OverrideKind::BreakGlass,
            reason: "An emergency some weeks ago, now long over",
            started_at_ms: now - 30 * 86_400_000,
            expires_at_ms: now - 30 * 86_400_000 + BREAK_GLASS_MS,
        })
        .await
        .unwrap();
    assert!(
        !db.family_facts(fam)
            .await
            .unwrap()
            .unwrap()
            .break_glass_user_ids
            .contains(&kim.id)
    );
    let safeguarding = db
        .create_override(&NewOverride {
            tenant_id: west,
            family_id: fam,
            user_id: hannah.id,
            kind: OverrideKind::Safeguarding,
            reason: "Disclosure at the home visit: share with school now",
            started_at_ms: now,
            expires_at_ms: now + SAFEGUARDING_OVERRIDE_MS,
        })
        .await
        .unwrap();
    let of_family = db.overrides_of_family(fam).await.unwrap();
    assert_eq!(
        of_family.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![safeguarding, glass, old]
    );
    assert_eq!(of_family[0].user_name, "Hannah.HV");
    assert_eq!(of_family[0].family_name, "Khan-Ahmed household");

    // The queue: pending, oldest first; decided after.
    assert_eq!(db.pending_override_count(west).await.unwrap(), 3);
    assert_eq!(db.pending_override_count(kc).await.unwrap(), 0);
    db.review_override(west, old, ReviewStatus::Accepted, officer.id, None, now)
        .await
        .unwrap();
    assert!(matches!(
        db.review_override(west, old, ReviewStatus::Referred, officer.id, Some("again"), now)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.review_override(kc, glass, ReviewStatus::Accepted, officer.id, None, now)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.review_override(west, glass, ReviewStatus::Pending, officer.id, None, now)
            .await,
        Err(StoreError::Conflict(_))
    ));
    db.review_override(
        west,
        glass,
        ReviewStatus::Referred,
        officer.id,
        Some("No emergency on the record"),
        now,
    )
    .await
    .unwrap();
    let queue = db.overrides_for_review(west, 10).await.unwrap();
    assert_eq!(
        queue.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![safeguarding, glass, old]
    );
    assert_eq!(queue[0].status(), Some(ReviewStatus::Pending));
    assert_eq!(queue[1].status(), Some(ReviewStatus::Referred));
    assert_eq!(queue[1].reviewer_name.as_deref(), Some("pat"));
    assert_eq!(queue[1].review_note.as_deref(), Some("No emergency on the record"));
    assert_eq!(queue[1].organisation_name, "Westminster Early Help");
    assert_eq!(db.overrides_for_review(west, 1).await.unwrap().len(), 2);
    assert!(db.overrides_for_review(kc, 10).await.unwrap().is_empty());
    assert_eq!(
        db.override_in(west, glass).await.unwrap().unwrap().reviewed_by_user_id,
        Some(officer.id)
    );
    assert!(db.override_in(kc, glass).await.unwrap().is_none());

    // Sealing: no break-glass opens a sealed family.
    assert!(db.sealed_families(west).await.unwrap().is_empty());
    assert!(
        db.set_family_sealed(west, fam, true, "Adoption order made", officer.id, now)
            .await
            .unwrap()
    );
    assert!(
        !db.set_family_sealed(west, fam, true, "Again", officer.id, now)
            .await
            .unwrap()
    );
    assert!(matches!(
        db.set_family_sealed(kc, fam, true, "Not theirs", kim.id, now).await,
        Err(StoreError::NotFound)
    ));
    let sealed = db.sealed_families(west).await.unwrap();
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0].family_id, fam);
    assert_eq!(sealed[0].reason.as_deref(), Some("Adoption order made"));
    assert_eq!(sealed[0].by_name.as_deref(), Some("pat"));
    let facts = db.family_facts(fam).await.unwrap().unwrap();
    assert!(facts.sealed);
    assert!(!access::break_glass(&tara.subject(), &facts));
    assert_eq!(
        db.family_name_in(west, fam).await.unwrap().as_deref(),
        Some("Khan-Ahmed household")
    );
    assert!(db.family_name_in(kc, fam).await.unwrap().is_none());
    assert!(
        db.set_family_sealed(west, fam, false, "", officer.id, now)
            .await
            .unwrap()
    );
    assert!(db.sealed_families(west).await.unwrap().is_empty());
    assert!(!db.family_facts(fam).await.unwrap().unwrap().sealed);
}

/// Consents (recorded, scoped, withdrawn at once, listed per family and
/// person), a tenant's own purposes, and information-sharing agreements
/// across tenants (created, listed for each tenant they touch, ended), and
/// what the sharing rules then read from them.
async fn consents_and_agreements(
    db: &Db,
    (west, kc): (i64, i64),
    (hv, eh, kc_org): (i64, i64, i64),
    (hannah, eric, kim): (
        &kindred_store::users::User,
        &kindred_store::users::User,
        &kindred_store::users::User,
    ),
) {
    use kindred_domain::sharing::{
        self, ConsentMethod, DataCategory, EARLY_HELP_SHARING, LawfulBasis, SharingBasis, shares,
    };
    use kindred_store::consents::{NewAgreement, NewConsent};
    let today = kindred_store::today();
    let at = sharing::At {
        today,
        now_ms: kindred_store::now_ms(),
    };
    let creator = Creator {
        user_id: hannah.id,
        organisation_id: hv,
        service: "Health visiting".into(),
    };
    let fam = db
        .create_family(west, "Consent household", &creator, today)
        .await
        .unwrap()
        .id;
    let parent = db
        .create_person(west, &details("Priya", "Shah", Some(date!(1990 - 02 - 02)), None))
        .await
        .unwrap()
        .id;
    let teen = db
        .create_person(west, &details("Dev", "Shah", Some(date!(2010 - 06 - 06)), None))
        .await
        .unwrap()
        .id;
    db.add_member(fam, parent, MemberRole::Parent, today).await.unwrap();
    db.add_member(fam, teen, MemberRole::Child, today).await.unwrap();

    // A parent consents for her son, to every partner; nothing crosses before.
    assert_eq!(
        shares(
            &eric.subject(),
            &db.sharing_facts(fam).await.unwrap().unwrap(),
            hv,
            EARLY_HELP_SHARING,
            DataCategory::CaseNotes,
            at
        ),
        None
    );
    let c1 = db
        .record_consent(&NewConsent {
            tenant_id: west,
            person_id: teen,
            given_by_person_id: Some(parent),
            competence_judgement: None,
            purpose: EARLY_HELP_SHARING.into(),
            all_partners: true,
            organisation_ids: vec![],
            kinds: vec![],
            given_on: today,
            method: ConsentMethod::Written,
            evidence: "Signed consent form scanned".into(),
            recorded_by_user_id: hannah.id,
        })
        .await
        .unwrap();
    // The young person for himself, to named organisations and a kind.
    let c2 = db
        .record_consent(&NewConsent {
            tenant_id: west,
            person_id: teen,
            given_by_person_id: None,
            competence_judgement: Some("Understands what will be shared and why".into()),
            purpose: "youth_club".into(),
            all_partners: false,
            organisation_ids: vec![eh],
            kinds: vec![OrgKind::School],
            given_on: today - time::Duration::days(3),
            method: ConsentMethod::Verbal,
            evidence: "Said yes at the home visit".into(),
            recorded_by_user_id: eric.id,
        })
        .await
        .unwrap();
    let all = db.consents_of_family(fam).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c1, c2],
        "newest first"
    );
    assert_eq!(all[0].given_by_name.as_deref(), Some("Priya Shah"));
    assert_eq!(all[0].person_name, "Dev Shah");
    assert!(all[0].all_partners && all[0].active(today));
    assert_eq!(all[1].organisations, vec![(eh, "Westminster Early Help".to_string())]);
    assert_eq!(all[1].kinds, vec![OrgKind::School]);
    assert_eq!(
        all[1].competence_judgement.as_deref(),
        Some("Understands what will be shared and why")
    );
    assert_eq!(all[1].given_by_person_id, None);
    assert_eq!(db.consents_of_person(teen).await.unwrap().len(), 2);
    assert!(db.consents_of_person(parent).await.unwrap().is_empty());
    assert_eq!(db.active_consent_count(fam, today).await.unwrap(), 2);
    let facts = db.sharing_facts(fam).await.unwrap().unwrap();
    assert_eq!(facts.consents.len(), 2);
    assert_eq!(
        shares(
            &eric.subject(),
            &facts,
            hv,
            EARLY_HELP_SHARING,
            DataCategory::CaseNotes,
            at
        ),
        Some(SharingBasis::Consent(c1))
    );

    // Withdrawn today: at once, and only once.
    assert!(
        db.withdraw_consent(c1, hannah.id, today, "Mum asked us to stop")
            .await
            .unwrap()
    );
    assert!(!db.withdraw_consent(c1, hannah.id, today, "again").await.unwrap());
    let c = db.consent(c1).await.unwrap().unwrap();
    assert_eq!(c.withdrawn_on, Some(today));
    assert_eq!(c.withdrawn_by_name.as_deref(), Some("Hannah.HV"));
    assert_eq!(c.withdrawal_note.as_deref(), Some("Mum asked us to stop"));
    assert!(!c.active(today));
    assert_eq!(db.active_consent_count(fam, today).await.unwrap(), 1);
    let facts = db.sharing_facts(fam).await.unwrap().unwrap();
    assert_eq!(
        shares(
            &eric.subject(),
            &facts,
            hv,
            EARLY_HELP_SHARING,
            DataCategory::CaseNotes,
            at
        ),
        None
    );

    // The tenant's own purposes: listed by label, a duplicate code refused.
    db.add_consent_purpose(west, "youth_club", "Youth club activities")
        .await
        .unwrap();
    db.add_consent_purpose(west, "a_parenting", "Parenting course")
        .await
        .unwrap();
    assert!(matches!(
        db.add_consent_purpose(west, "youth_club", "Again").await,
        Err(StoreError::Conflict(_))
    ));
    db.add_consent_purpose(kc, "youth_club", "Another borough's")
        .await
        .unwrap();
    assert_eq!(
        db.consent_purposes(west).await.unwrap(),
        vec![
            ("a_parenting".to_string(), "Parenting course".to_string()),
            ("youth_club".to_string(), "Youth club activities".to_string())
        ]
    );

    // Agreements: one of Westminster's, one bi-borough made by RBKC.
    let local = db
        .create_agreement(&NewAgreement {
            tenant_id: west,
            title: "Westminster early help partnership".into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![DataCategory::Identity, DataCategory::CaseNotes],
            starts_on: today - time::Duration::days(10),
            ends_on: None,
            organisation_ids: vec![hv, eh, hv],
            created_by_user_id: eric.id,
        })
        .await
        .unwrap();
    let bi = db
        .create_agreement(&NewAgreement {
            tenant_id: kc,
            title: "Bi-borough early help".into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![DataCategory::Identity, DataCategory::Involvement],
            starts_on: today,
            ends_on: Some(today + time::Duration::days(365)),
            organisation_ids: vec![eh, kc_org],
            created_by_user_id: kim.id,
        })
        .await
        .unwrap();
    let west_list = db.agreements_for_tenant(west).await.unwrap();
    assert_eq!(west_list.iter().map(|a| a.id).collect::<Vec<_>>(), vec![bi, local]);
    let kc_list = db.agreements_for_tenant(kc).await.unwrap();
    assert_eq!(kc_list.iter().map(|a| a.id).collect::<Vec<_>>(), vec![bi]);
    let a = db.agreement(local).await.unwrap().unwrap();
    assert_eq!(a.parties.len(), 2, "a party named twice is one party");
    assert_eq!(a.categories, vec!["identity".to_string(), "case_notes".to_string()]);
    assert_eq!(a.lawful_basis, "public_task");
    assert_eq!(a.created_by_name, "eric");
    assert!(a.active(today));
    let b = db.agreement(bi).await.unwrap().unwrap();
    assert_eq!(
        b.parties
            .iter()
            .map(|p| (p.organisation_id, p.tenant_id))
            .collect::<Vec<_>>(),
        vec![(kc_org, kc), (eh, west)],
        "by tenant name, then organisation"
    );
    // The policy's facts see both: notes cross within Westminster, and RBKC's
    // early help becomes a partner of Westminster's families.
    let facts = db.sharing_facts(fam).await.unwrap().unwrap();
    assert_eq!(
        shares(
            &eric.subject(),
            &facts,
            hv,
            EARLY_HELP_SHARING,
            DataCategory::CaseNotes,
            at
        ),
        Some(SharingBasis::Agreement(local))
    );
    let ff = db.family_facts(fam).await.unwrap().unwrap();
    assert_eq!(ff.partner_organisation_ids, vec![kc_org]);
    let workers = db.workers_of_organisations(&ff.partner_organisation_ids).await.unwrap();
    assert_eq!(workers.iter().map(|w| w.user_id).collect::<Vec<_>>(), vec![kim.id]);
    assert_eq!(workers[0].tenant_name, "Kensington and Chelsea");
    assert!(db.workers_of_organisations(&[]).await.unwrap().is_empty());

    // Ended today it still covers today; ended yesterday it covers nothing.
    db.end_agreement(local, today - time::Duration::days(1)).await.unwrap();
    assert!(matches!(
        db.end_agreement(local + 1000, today).await,
        Err(StoreError::NotFound)
    ));
    let facts = db.sharing_facts(fam).await.unwrap().unwrap();
    assert_eq!(
        shares(
            &eric.subject(),
            &facts,
            hv,
            EARLY_HELP_SHARING,
            DataCategory::CaseNotes,
            at
        ),
        None
    );
    db.end_agreement(bi, today - time::Duration::days(1)).await.unwrap();
    assert!(
        db.family_facts(fam)
            .await
            .unwrap()
            .unwrap()
            .partner_organisation_ids
            .is_empty()
    );

    // Every organisation of the deployment, by tenant, for the picker.
    let groups = db.organisations_by_tenant().await.unwrap();
    assert_eq!(groups.iter().map(|(t, _)| t.id).collect::<Vec<_>>(), vec![west, kc]);
    assert!(groups[1].1.iter().any(|o| o.id == kc_org));
}
