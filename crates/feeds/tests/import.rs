//! The feeds against a real database (SQLite always, PostgreSQL when
//! `KINDRED_TEST_DATABASE_URL` is set): rows checked with their line numbers,
//! idempotent re-runs, births routed to the hub whose reach covers them,
//! immunisations only within the sharing rules, and the review queue.

use kindred_domain::feeds::{FeedKind, RecordStatus, ReviewDecision, Thresholds};
use kindred_domain::model::{MemberRole, OrgKind, Profession, Role, Sex};
use kindred_domain::sharing::{DataCategory, EARLY_HELP_SHARING, LawfulBasis};
use kindred_domain::{NhsNumber, Postcode};
use kindred_feeds::{ImportOptions, Mapping, Resolution, import, resolve};
use kindred_store::Db;
use kindred_store::families::Creator;
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::testing::{execute, fresh_databases};
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 20);

struct World {
    tenant: i64,
    maternity: i64,
    child_health: i64,
    hub_org: i64,
    hub_team: i64,
    worker: i64,
    /// Amina Okafor, in the Okafor family, at W2 5AB.
    mother: i64,
    mother_family: i64,
    /// Her son Tobi, born 2026-03-02.
    child: i64,
}

async fn world(db: &Db) -> World {
    let t = db.create_tenant("westminster", "Westminster").await.unwrap();
    let maternity = db
        .create_organisation(t.id, "St Mary's Maternity", OrgKind::Midwifery)
        .await
        .unwrap();
    let child_health = db
        .create_organisation(t.id, "Child Health Records", OrgKind::HealthVisiting)
        .await
        .unwrap();
    let hub_org = db
        .create_organisation(t.id, "Church Street Family Hub", OrgKind::FamilyHub)
        .await
        .unwrap();
    let hub = db
        .create_hub_site(t.id, Some(hub_org.id), "Church Street", None, &["W2".to_string()])
        .await
        .unwrap();
    let team = db
        .create_team(t.id, hub_org.id, Some(hub.id), "Church Street team")
        .await
        .unwrap();
    let ew = db
        .create_organisation(t.id, "Early Help", OrgKind::EarlyHelp)
        .await
        .unwrap();
    let worker = db
        .create_user(&kindred_store::users::NewUser {
            tenant_id: t.id,
            organisation_id: ew.id,
            team_id: None,
            email: "worker@example.org".into(),
            display_name: "A Worker".into(),
            profession: Profession::EarlyHelpWorker,
            roles: vec![Role::Practitioner, Role::DataOfficer],
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    let person = |given: &str, dob: Date, nhs: &str, sex: Sex| PersonDetails {
        given_name: given.into(),
        family_name: "Okafor".into(),
        preferred_name: None,
        date_of_birth: Some(dob),
        expected_delivery: None,
        sex,
        nhs_number: Some(NhsNumber::parse(nhs).unwrap()),
        upn: None,
        language: None,
        interpreter_needed: false,
        send: false,
    };
    let mother = db
        .create_person(t.id, &person("Amina", date!(1994 - 07 - 14), "9990000026", Sex::Female))
        .await
        .unwrap();
    let child = db
        .create_person(t.id, &person("Tobi", date!(2026 - 03 - 02), "9990000034", Sex::Male))
        .await
        .unwrap();
    let creator = Creator {
        user_id: worker.id,
        organisation_id: ew.id,
        service: "Early help".into(),
    };
    let f = db
        .create_family(t.id, "Okafor family", &creator, date!(2026 - 03 - 10))
        .await
        .unwrap();
    db.add_member(f.id, mother.id, MemberRole::Parent, date!(2026 - 03 - 10))
        .await
        .unwrap();
    db.add_member(f.id, child.id, MemberRole::Child, date!(2026 - 03 - 10))
        .await
        .unwrap();
    for id in [mother.id, child.id] {
        db.move_person(
            id,
            &NewAddress {
                line1: "12 Porchester Road".into(),
                line2: None,
                town: "London".into(),
                postcode: Postcode::parse("W2 5AB").unwrap(),
                from_date: date!(2026 - 03 - 10),
            },
        )
        .await
        .unwrap();
    }
    World {
        tenant: t.id,
        maternity: maternity.id,
        child_health: child_health.id,
        hub_org: hub_org.id,
        hub_team: team.id,
        worker: worker.id,
        mother: mother.id,
        mother_family: f.id,
        child: child.id,
    }
}

fn options(w: &World, kind: FeedKind, supplier: i64) -> ImportOptions {
    ImportOptions {
        tenant_id: w.tenant,
        organisation_id: supplier,
        kind,
        source_system: None,
        mapping: None,
        file_name: "feed.csv".into(),
        started_by_user_id: None,
        thresholds: Thresholds::default(),
        today: TODAY,
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    let (n,): (i64,) = match &db.pool {
        kindred_store::Pool::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        kindred_store::Pool::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    };
    n
}

const BIRTHS: &str = "birth_id,nhs_number,given_name,family_name,date_of_birth,sex,mother_nhs_number,mother_given_name,mother_family_name,mother_date_of_birth,address,postcode,consent
B-1,9990000042,Zara,Okafor,2026-10-28,F,9990000026,Amina,Okafor,14/07/1994,12 Porchester Road,W2 5AB,yes
B-2,9990000050,Leo,Brennan,2026-10-30,M,,Siobhan,Brennan,1998-02-03,4 Westbourne Park Villas,W2 5EA,Y
B-3,9990000069,,Khan,2026-10-02,M,,Fatima,Khan,1990-05-05,1 Harrow Road,W2 6AA,no
B-4,,Ada,Nwosu,31/02/2026,F,,Grace,Nwosu,1992-01-01,,NOT A POSTCODE,maybe
B-5,9990000077,Mia,Stone,2026-10-12,F,,Kate,Stone,1985-09-09,9 Elgin Avenue,NW6 1AA,yes
";

#[tokio::test]
async fn births_land_once_route_to_the_hub_and_count_the_rest() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let opts = options(&w, FeedKind::LiveBirths, w.maternity);
        let out = import(&db, BIRTHS.as_bytes(), &opts, &|_: u64, _: u64| {})
            .await
            .unwrap();
        let c = out.counts;
        assert_eq!((out.rows, c.new, c.rejected), (5, 4, 3), "{c:?}");
        // Line 5 of the file (the header is line 1) fails on three columns at once.
        let rejects = db.import_rejects(out.run_id).await.unwrap();
        assert!(rejects.iter().all(|r| r.line == 5), "{rejects:?}");
        let cols: Vec<&str> = rejects.iter().map(|r| r.column_name.as_str()).collect();
        assert_eq!(cols, ["date_of_birth", "postcode", "consent"]);
        assert!(rejects[0].raw.starts_with("B-4,"));
        // Amina is linked (NHS number, name, date of birth, postcode), her baby
        // joins her family; Siobhan is new, with a new family; the Khan birth
        // has no consent: counted, and nothing about them kept.
        assert_eq!((c.linked, c.counted_only), (1, 1), "{c:?}");
        assert_eq!(
            c.tasks_made, 2,
            "the two consented births in the hub's area; NW6 is outside it"
        );
        let zara = count(&db, "SELECT COUNT(*) FROM persons WHERE given_name = 'Zara'").await;
        assert_eq!(zara, 1);
        let in_family = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM family_members m JOIN persons p ON p.id = m.person_id
                 WHERE m.family_id = {} AND p.given_name = 'Zara' AND m.role = 'child'",
                w.mother_family
            ),
        )
        .await;
        assert_eq!(in_family, 1, "the baby joins the mother's family");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM persons WHERE family_name = 'Khan'").await,
            0
        );
        let khan = count(&db, "SELECT COUNT(*) FROM source_records WHERE payload LIKE '%Fatima%'").await;
        assert_eq!(khan, 0, "a counted-only row keeps no name");
        let tasks = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM tasks WHERE kind = 'welcome_contact' AND assigned_team_id = {}",
                w.hub_team
            ),
        )
        .await;
        assert_eq!(tasks, 2);
        let hub_involved = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM involvements WHERE organisation_id = {} AND family_id = {}",
                w.hub_org, w.mother_family
            ),
        )
        .await;
        assert_eq!(hub_involved, 1, "the hub is involved, so its staff can open the family");
        // Reach: births in the hub's area in October, with consent or without.
        let reach = db.reach(w.tenant, date!(2026 - 01 - 01), TODAY).await.unwrap();
        let hub_row = reach
            .iter()
            .find(|r| r.hub_site_id.is_some() && r.month == "2026-10")
            .unwrap();
        assert_eq!((hub_row.births, hub_row.with_consent, hub_row.registered), (3, 2, 0));

        // The same file again: nothing new, nothing duplicated.
        let before = (
            count(&db, "SELECT COUNT(*) FROM persons").await,
            count(&db, "SELECT COUNT(*) FROM families").await,
            count(&db, "SELECT COUNT(*) FROM tasks").await,
            count(&db, "SELECT COUNT(*) FROM source_records").await,
        );
        let again = import(&db, BIRTHS.as_bytes(), &opts, &|_: u64, _: u64| {})
            .await
            .unwrap();
        assert_eq!(
            (again.counts.new, again.counts.unchanged, again.counts.rejected),
            (0, 4, 3)
        );
        let after = (
            count(&db, "SELECT COUNT(*) FROM persons").await,
            count(&db, "SELECT COUNT(*) FROM families").await,
            count(&db, "SELECT COUNT(*) FROM tasks").await,
            count(&db, "SELECT COUNT(*) FROM source_records").await,
        );
        assert_eq!(before, after);
        // A corrected row updates its record; it does not add one.
        let corrected = BIRTHS.replace("B-2,9990000050,Leo,", "B-2,9990000050,Leon,");
        let fixed = import(&db, corrected.as_bytes(), &opts, &|_: u64, _: u64| {})
            .await
            .unwrap();
        assert_eq!((fixed.counts.new, fixed.counts.updated), (0, 1));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM source_records").await, after.3);
    }
}

const IMMUNISATIONS: &str = "record_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,vaccine,due_on
IM-1,9990000034,Tobi,Okafor,02/03/2026,M,W2 5AB,MMR 1,2026-10-01
";

#[tokio::test]
async fn missed_immunisations_reach_the_hub_only_within_the_sharing_rules() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let opts = options(&w, FeedKind::MissedImmunisations, w.child_health);
        let out = import(&db, IMMUNISATIONS.as_bytes(), &opts, &|_: u64, _: u64| {})
            .await
            .unwrap();
        assert_eq!(
            (out.counts.linked, out.counts.tasks_made, out.counts.not_shared),
            (1, 0, 1)
        );
        let linked: (i64,) = (count(&db, "SELECT person_id FROM source_records WHERE source_key = 'IM-1'").await,);
        assert_eq!(linked.0, w.child);
        // An agreement lets child health data reach the hub for early help.
        db.create_agreement(&kindred_store::consents::NewAgreement {
            tenant_id: w.tenant,
            title: "Child health to family hubs".into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![DataCategory::Health],
            starts_on: date!(2026 - 01 - 01),
            ends_on: None,
            organisation_ids: vec![w.child_health, w.hub_org],
            created_by_user_id: w.worker,
        })
        .await
        .unwrap();
        let next = IMMUNISATIONS.replace("IM-1,", "IM-2,");
        let out = import(&db, next.as_bytes(), &opts, &|_: u64, _: u64| {}).await.unwrap();
        assert_eq!(
            (out.counts.linked, out.counts.tasks_made, out.counts.not_shared),
            (1, 1, 0)
        );
        let task = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM tasks WHERE kind = 'follow_up' AND title LIKE '%MMR 1%' AND family_id = {} AND assigned_team_id = {}",
                w.mother_family, w.hub_team
            ),
        )
        .await;
        assert_eq!(task, 1);
    }
}

#[tokio::test]
async fn an_uncertain_match_waits_for_review_and_a_link_can_be_undone() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let mapping = Mapping::parse(
            "source_system = \"housing\"\n[columns]\nid = \"Ref\"\ngiven_name = \"Forename\"\nfamily_name = \"Surname\"\ndate_of_birth = \"DOB\"\npostcode = \"Post Code\"\n",
        )
        .unwrap();
        let mut opts = options(&w, FeedKind::PersonExtract, w.hub_org);
        opts.mapping = Some(mapping);
        // Any candidate at all goes to review.
        opts.thresholds = Thresholds { link: 1.0, review: 0.0 };
        let file = "Ref,Forename,Surname,DOB,Post Code,Rent arrears\nH-9,Amina,Okafor,14/07/1994,W2 5AB,yes\nH-10,Nobody,Else-Entirely,1950-01-01,,no\n";
        let out = import(&db, file.as_bytes(), &opts, &|_: u64, _: u64| {}).await.unwrap();
        assert_eq!(
            (out.counts.to_review, out.counts.new_persons),
            (1, 1),
            "{:?}",
            out.counts
        );
        let queue = db.review_queue(w.tenant, 10).await.unwrap();
        assert_eq!(queue.len(), 1);
        let record = queue[0].source_record_id;
        let candidates = db.review_candidates(record).await.unwrap();
        assert!(
            candidates.iter().any(|c| c.person_id == w.mother),
            "Amina is a candidate"
        );

        // Unsure leaves it waiting; linking takes it out of the queue.
        let amina = candidates.iter().find(|c| c.person_id == w.mother).unwrap();
        db.decide_candidate(amina.review_id, ReviewDecision::Unsure, w.worker)
            .await
            .unwrap();
        assert_eq!(db.review_queue(w.tenant, 10).await.unwrap().len(), 1);
        assert!(
            resolve(&db, record, Resolution::Link(w.mother), w.worker, TODAY)
                .await
                .unwrap()
        );
        let r = db.source_record(record).await.unwrap();
        assert_eq!(
            (r.person_id, r.status.as_str()),
            (Some(w.mother), RecordStatus::LinkedReviewed.code())
        );
        assert!(db.review_queue(w.tenant, 10).await.unwrap().is_empty());
        // A second resolution of a decided record is refused.
        assert!(
            !resolve(&db, record, Resolution::NewPerson, w.worker, TODAY)
                .await
                .unwrap()
        );

        // Undo: back to the queue, the history kept, nothing deleted.
        assert_eq!(db.undo_link(record, w.worker).await.unwrap(), Some(w.mother));
        let r = db.source_record(record).await.unwrap();
        assert_eq!((r.person_id, r.status.as_str()), (None, RecordStatus::Review.code()));
        let links = db.record_links(record).await.unwrap();
        assert_eq!(links.len(), 1);
        assert!(links[0].undone_at_ms.is_some());
        assert_eq!(db.review_queue(w.tenant, 10).await.unwrap().len(), 1);
        let persons = count(&db, "SELECT COUNT(*) FROM persons").await;
        assert!(
            resolve(&db, record, Resolution::NewPerson, w.worker, TODAY)
                .await
                .unwrap()
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM persons").await, persons + 1);
        // The extract's own columns beyond the mapping were never kept.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM source_records WHERE payload LIKE '%arrears%'"
            )
            .await,
            0
        );
        let _ = execute(&db, "SELECT 1").await;
    }
}

#[tokio::test]
async fn a_file_that_cannot_be_read_lands_nothing_and_says_why() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let opts = options(&w, FeedKind::LiveBirths, w.maternity);
        let e = import(
            &db,
            b"birth_id,date_of_birth,postcode\nB-1,2026-10-01,W2 5AB\n",
            &opts,
            &|_: u64, _: u64| {},
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("`consent`"), "{e}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM import_runs").await, 0);
        // A repeated key is a rejected row, not a duplicate record.
        let twice = "birth_id,date_of_birth,postcode,consent\nB-1,2026-10-01,W2 5AB,no\nB-1,2026-10-02,W2 5AB,no\n";
        let out = import(&db, twice.as_bytes(), &opts, &|_: u64, _: u64| {})
            .await
            .unwrap();
        assert_eq!((out.counts.new, out.counts.rejected), (1, 1));
        let r = db.import_rejects(out.run_id).await.unwrap();
        assert_eq!(
            (r[0].line, r[0].reason.as_str()),
            (3, "repeats the key of line 2: each row needs its own key")
        );
    }
}

#[tokio::test]
async fn imported_pathway_contacts_complete_the_childs_stage() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let opts = options(&w, FeedKind::PathwayContacts, w.child_health);
        let file =
            "record_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,stage,completed_on,breastfeeding
PC-1,9990000034,Tobi,Okafor,2026-03-02,M,W2 5AB,six_eight_weeks,2026-04-15,Partially
PC-2,9990000034,Tobi,Okafor,2026-03-02,M,W2 5AB,fourteen_months,2026-05-01,
PC-3,9990000034,Tobi,Okafor,2026-03-02,M,W2 5AB,new_birth,2026-03-14,total
PC-4,9990000034,Tobi,Okafor,2026-03-02,M,W2 5AB,six_eight_weeks,2026-04-15,sometimes
";
        let out = import(&db, file.as_bytes(), &opts, &|_: u64, _: u64| {}).await.unwrap();
        assert_eq!((out.counts.linked, out.counts.rejected), (1, 3));
        let r = db.import_rejects(out.run_id).await.unwrap();
        let rejects: Vec<(i64, &str)> = r.iter().map(|r| (r.line, r.column_name.as_str())).collect();
        assert_eq!(rejects, [(3, "stage"), (4, "breastfeeding"), (5, "breastfeeding")]);
        // The 6–8 week review's feeding is what the breastfeeding indicator counts.
        let facts = db
            .kpi_facts(
                w.tenant,
                date!(2026 - 01 - 01),
                date!(2026 - 12 - 31),
                date!(2026 - 11 - 30),
            )
            .await
            .unwrap();
        let fed: Vec<(time::Date, bool)> = facts
            .iter()
            .filter(|f| f.kpi == kindred_domain::kpi::Kpi::Breastfeeding)
            .map(|f| (f.on, f.counts))
            .collect();
        assert_eq!(fed, [(date!(2026 - 04 - 15), true)]);
        let done = db.pathway_completions(&[w.child]).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(
            (done[0].stage.as_str(), done[0].completed_on),
            ("six_eight_weeks", date!(2026 - 04 - 15))
        );
        // Again: nothing more.
        import(&db, file.as_bytes(), &opts, &|_: u64, _: u64| {}).await.unwrap();
        assert_eq!(db.pathway_completions(&[w.child]).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn two_reviewers_deciding_at_once_decide_a_record_once() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let mut opts = options(&w, FeedKind::PersonExtract, w.hub_org);
        opts.mapping = Some(
            Mapping::parse(
                "source_system = \"housing\"\n[columns]\nid = \"Ref\"\ngiven_name = \"F\"\nfamily_name = \"S\"\n",
            )
            .unwrap(),
        );
        opts.thresholds = Thresholds { link: 1.0, review: 0.0 };
        import(&db, b"Ref,F,S\nH-1,Amina,Okafor\n", &opts, &|_: u64, _: u64| {})
            .await
            .unwrap();
        let record = db.review_queue(w.tenant, 10).await.unwrap()[0].source_record_id;
        let persons = count(&db, "SELECT COUNT(*) FROM persons").await;
        let (a, b) = tokio::join!(
            resolve(&db, record, Resolution::NewPerson, w.worker, TODAY),
            resolve(&db, record, Resolution::NewPerson, w.worker, TODAY)
        );
        let decided = [a, b].into_iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(decided, 1, "exactly one decision lands");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM persons").await, persons + 1);
    }
}

const ATTENDANCE: &str =
    "record_id,upn,nhs_number,given_name,family_name,date_of_birth,sex,postcode,term,attendance_percent
SA-1,,9990000034,Tobi,Okafor,2026-03-02,M,W2 5AB,Autumn 2026,86.5
SA-2,A820200101001,,Tobi,Okafor,2026-03-02,M,W2 5AB,Summer 2026,88
SA-3,,,Ola,Adeyemi,2016-05-05,F,W2 5EA,Michaelmas 2026,101%
";

const ARREARS: &str =
    "record_id,nhs_number,given_name,family_name,date_of_birth,sex,address,postcode,weeks_in_arrears,as_at
HA-1,9990000026,Amina,Okafor,14/07/1994,F,12 Porchester Road,W2 5AB,5.5,2026-11-01
HA-2,,Amina,Okafor,14/07/1994,F,12 Porchester Road,W2 5AB,lots,2027-01-01
";

#[tokio::test]
async fn school_attendance_and_rent_arrears_land_as_facts_about_their_people() {
    for db in fresh_databases().await {
        let w = world(&db).await;
        let school = db
            .create_organisation(w.tenant, "Hallfield Primary", OrgKind::School)
            .await
            .unwrap();
        let housing = db
            .create_organisation(w.tenant, "Westminster Housing", OrgKind::Housing)
            .await
            .unwrap();
        let out = import(
            &db,
            ATTENDANCE.as_bytes(),
            &options(&w, FeedKind::SchoolAttendance, school.id),
            &|_: u64, _: u64| {},
        )
        .await
        .unwrap();
        // Line 3's UPN fails its check letter; line 4's term and percentage are wrong.
        assert_eq!(
            (out.rows, out.counts.new, out.counts.rejected),
            (3, 1, 3),
            "{:?}",
            out.counts
        );
        let rejects = db.import_rejects(out.run_id).await.unwrap();
        let where_: Vec<(i64, &str)> = rejects.iter().map(|r| (r.line, r.column_name.as_str())).collect();
        assert_eq!(where_, [(3, "upn"), (4, "term"), (4, "attendance_percent")]);
        assert_eq!(out.counts.linked, 1);
        let (person,): (i64,) = (count(&db, "SELECT person_id FROM source_records WHERE source_key = 'SA-1'").await,);
        assert_eq!(person, w.child, "matched to the child through the linkage");
        // The effects are the source record only: no task, no new family.
        assert_eq!(out.counts.tasks_made, 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM families").await, 1);
        let payload = count(
            &db,
            "SELECT COUNT(*) FROM source_records WHERE source_key = 'SA-1' AND payload LIKE '%\"attendance_tenths\":865%' AND event_on = '2026-09-01'",
        )
        .await;
        assert_eq!(payload, 1, "86.5% kept as 865 tenths, dated by its term");

        let out = import(
            &db,
            ARREARS.as_bytes(),
            &options(&w, FeedKind::HousingArrears, housing.id),
            &|_: u64, _: u64| {},
        )
        .await
        .unwrap();
        assert_eq!((out.counts.new, out.counts.linked, out.counts.rejected), (1, 1, 2));
        let rejects = db.import_rejects(out.run_id).await.unwrap();
        let where_: Vec<(i64, &str)> = rejects.iter().map(|r| (r.line, r.column_name.as_str())).collect();
        assert_eq!(where_, [(3, "as_at"), (3, "weeks_in_arrears")]);
        let (person,): (i64,) = (count(&db, "SELECT person_id FROM source_records WHERE source_key = 'HA-1'").await,);
        assert_eq!(person, w.mother);

        // A pupil already known by UPN is linked on it, whatever the name says.
        let rest = "820200101001";
        let upn = format!("{}{rest}", kindred_domain::model::Upn::check_letter(rest).unwrap());
        execute(&db, &format!("UPDATE persons SET upn = '{upn}' WHERE id = {}", w.child))
            .await
            .unwrap();
        let by_upn = format!(
            "record_id,upn,given_name,family_name,date_of_birth,term,attendance_percent\nSA-9,{upn},Toby,Okafur,2015-01-01,Spring 2026,91\n"
        );
        let out = import(
            &db,
            by_upn.as_bytes(),
            &options(&w, FeedKind::SchoolAttendance, school.id),
            &|_: u64, _: u64| {},
        )
        .await
        .unwrap();
        assert_eq!(out.counts.linked, 1);
        let (person,): (i64,) = (count(&db, "SELECT person_id FROM source_records WHERE source_key = 'SA-9'").await,);
        assert_eq!(person, w.child);
    }
}
