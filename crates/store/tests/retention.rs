//! Retention and erasure (issue 9), on every backend under test: which
//! families the rule flags, keeping one until it is flagged again, and
//! erasing one — the family, its people in no other family, everything
//! that refers to them — with the audit chain still verifying.

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::{MemberRole, OrgKind, Profession, RelationshipKind, Role};
use kindred_store::contacts::NewContact;
use kindred_store::families::{Actor, Creator, Household, NewMember};
use kindred_store::persons::NewAddress;
use kindred_store::users::NewUser;
use kindred_store::{Db, StoreError, testing};
use time::{Date, Duration};

fn person(given: &str, family: &str, born: Date) -> NewMember {
    NewMember {
        details: testing::person_details(given, family, Some(born)),
        role: MemberRole::Parent,
        contact: Default::default(),
        address: Some(NewAddress {
            line1: "1 Old Road".into(),
            line2: None,
            town: "London".into(),
            postcode: kindred_domain::Postcode::parse("W2 1AA").unwrap(),
            from_date: born,
        }),
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    match &db.pool {
        kindred_store::Pool::Sqlite(p) => sqlx::query_as::<_, (i64,)>(sql).fetch_one(p).await.unwrap().0,
        kindred_store::Pool::Postgres(p) => sqlx::query_as::<_, (i64,)>(sql).fetch_one(p).await.unwrap().0,
    }
}

#[tokio::test]
async fn the_rule_flags_quiet_closed_families_and_erasure_keeps_the_audit_chain_whole() {
    for db in testing::fresh_databases().await {
        let backend = db.backend();
        let today = kindred_store::today();
        let t = db.create_tenant("west", "West").await.unwrap();
        let other = db.create_tenant("east", "East").await.unwrap();
        let org = db
            .create_organisation(t.id, "West Early Help", OrgKind::EarlyHelp)
            .await
            .unwrap();
        let user = db
            .create_user(&NewUser {
                tenant_id: t.id,
                organisation_id: org.id,
                team_id: None,
                email: "officer@example.org".into(),
                display_name: "Officer".into(),
                profession: Profession::EarlyHelpWorker,
                roles: vec![Role::Practitioner, Role::PrivacyOfficer],
                password_hash: "not-a-real-hash".into(),
            })
            .await
            .unwrap();
        let creator = Creator {
            user_id: user.id,
            organisation_id: org.id,
            service: "Early help".into(),
        };
        let actor = Actor {
            tenant_id: t.id,
            user_id: user.id,
            route: "test".into(),
        };
        let long_ago = today - Duration::days(365 * 10);
        let start = |name: &'static str| Household::New {
            name,
            creator: &creator,
        };
        // A: quiet for ten years, its episode closed nine years ago. Its
        // child has since moved to B, the other parent's family.
        let (a, mum) = db
            .add_new_person(
                start("Quiet household"),
                &person("Old", "Quiet", long_ago),
                long_ago,
                &actor,
            )
            .await
            .unwrap();
        let (b, dad) = db
            .add_new_person(start("Busy household"), &person("New", "Busy", long_ago), today, &actor)
            .await
            .unwrap();
        let (_, child) = db
            .add_new_person(
                Household::Existing(a),
                &person("Kid", "Quiet", long_ago),
                long_ago,
                &actor,
            )
            .await
            .unwrap();
        db.add_member(b, child.id, MemberRole::Child, today).await.unwrap();
        db.add_relationship(mum.id, child.id, RelationshipKind::ParentOf)
            .await
            .unwrap();
        let note = db
            .add_contact(&NewContact {
                tenant_id: t.id,
                family_id: a,
                organisation_id: org.id,
                author_user_id: user.id,
                occurred_on: long_ago,
                mode: "home_visit",
                visibility: "sensitive",
                body: "An old note.".into(),
                people: vec![mum.id, child.id],
                readers: vec![user.id],
            })
            .await
            .unwrap();
        // C: just as quiet, but its episode is still open.
        let (c, _) = db
            .add_new_person(
                start("Open household"),
                &person("Still", "Open", long_ago),
                long_ago,
                &actor,
            )
            .await
            .unwrap();
        let old_ms = (long_ago.midnight().assume_utc().unix_timestamp()) * 1000;
        let closed = today - Duration::days(365 * 9);
        for sql in [
            format!("UPDATE families SET updated_at_ms = {old_ms} WHERE id IN ({a}, {c})"),
            format!(
                "INSERT INTO episodes (tenant_id, family_id, level, status, stage, opened_on, closed_on)
                 VALUES ({}, {a}, 'targeted', 'closed', 'closure', '{long_ago}', '{closed}')",
                t.id
            ),
            format!(
                "INSERT INTO episodes (tenant_id, family_id, level, status, stage, opened_on)
                 VALUES ({}, {c}, 'targeted', 'open', 'plan', '{long_ago}')",
                t.id
            ),
        ] {
            testing::execute(&db, &sql).await.unwrap();
        }
        // A feed row about the mother was rejected once, then imported under
        // the same key; rows with another key, or another system's, stay.
        let run = |system: &str| {
            format!(
                "INSERT INTO import_runs (tenant_id, organisation_id, kind, source_system, file_name, file_sha256,
                   started_at_ms, status) VALUES ({}, {}, 'live_births', '{system}', 'f.csv', 'x', 0, 'done')",
                t.id, org.id
            )
        };
        let run_of = |system: &str| format!("(SELECT MAX(id) FROM import_runs WHERE source_system = '{system}')");
        let reject = |system: &str, raw: &str| {
            format!(
                "INSERT INTO import_rejects (import_run_id, line, column_name, reason, raw)
                 VALUES ({}, 2, 'nhs_number', 'not valid', '{raw}')",
                run_of(system)
            )
        };
        for sql in [
            run("pas"),
            run("other"),
            format!(
                "INSERT INTO source_records (tenant_id, organisation_id, kind, source_system, source_key, first_run_id,
                   last_run_id, payload, payload_hash, person_id, family_id, status, created_at_ms, updated_at_ms)
                 VALUES ({}, {}, 'live_births', 'pas', 'B-1', {run}, {run}, '{{}}', 'h', {}, {a}, 'linked', 0, 0)",
                t.id,
                org.id,
                mum.id,
                run = run_of("pas")
            ),
            reject("pas", "B-1,\"Quiet, Old\",999 000 001"),
            reject("pas", "B-10,Someone,Else"),
            reject("other", "B-1,Another,System"),
        ] {
            testing::execute(&db, &sql).await.unwrap();
        }
        db.audit(NewEvent {
            tenant_id: Some(t.id),
            actor_user_id: Some(user.id),
            action: AuditAction::Read,
            record_kind: "family",
            record_id: Some(a),
            family_id: Some(a),
            route: "test".into(),
            detail: String::new(),
        })
        .await
        .unwrap();

        // The default rule (six years) flags A only.
        let (due, total) = db.retention_due(t.id, today, 50).await.unwrap();
        assert_eq!(
            (due.iter().map(|d| d.family_id).collect::<Vec<_>>(), total),
            (vec![a], 1),
            "{backend:?}"
        );
        assert_eq!(
            due[0].last_activity, closed,
            "{backend:?}: the episode closed after the last change"
        );
        assert_eq!(due[0].members, 2);
        // A longer rule flags nothing yet; another council sees nothing.
        db.set_retention_rule(t.id, 12, Some(user.id)).await.unwrap();
        assert_eq!(db.retention_due(t.id, today, 50).await.unwrap().1, 0, "{backend:?}");
        db.set_retention_rule(t.id, 6, Some(user.id)).await.unwrap();
        assert_eq!(db.retention_due(other.id, today, 50).await.unwrap().1, 0);

        // Kept for a year: not flagged until then, then flagged again.
        let until = today + Duration::days(365);
        db.keep_family(a, until, "A sibling may return", today, &actor)
            .await
            .unwrap();
        assert_eq!(db.retention_due(t.id, today, 50).await.unwrap().1, 0, "{backend:?}");
        let later = until + Duration::days(1);
        let (due, _) = db.retention_due(t.id, later, 50).await.unwrap();
        assert!(due.iter().any(|d| d.family_id == a && d.kept_before), "{backend:?}");

        // Not flagged, or another council's: not found, nothing erased.
        let stranger = Actor {
            tenant_id: other.id,
            ..actor.clone()
        };
        for (family, who) in [(c, &actor), (b, &actor), (a, &stranger)] {
            assert!(
                matches!(
                    db.erase_family(family, "no", later, who).await,
                    Err(StoreError::NotFound)
                ),
                "{backend:?}: family {family} is not erased"
            );
        }
        let events_about_a = count(&db, &format!("SELECT COUNT(*) FROM audit_events WHERE family_id = {a}")).await;

        let erased = db
            .erase_family(a, "Retention period passed", later, &actor)
            .await
            .unwrap();
        assert_eq!(erased.persons, 1, "{backend:?}: the mother only; the child is in B");
        for (what, sql) in [
            ("family", format!("SELECT COUNT(*) FROM families WHERE id = {a}")),
            ("mother", format!("SELECT COUNT(*) FROM persons WHERE id = {}", mum.id)),
            (
                "addresses",
                format!("SELECT COUNT(*) FROM addresses WHERE person_id = {}", mum.id),
            ),
            (
                "memberships",
                format!("SELECT COUNT(*) FROM family_members WHERE family_id = {a}"),
            ),
            ("note", format!("SELECT COUNT(*) FROM contacts WHERE id = {note}")),
            (
                "feed row",
                format!("SELECT COUNT(*) FROM source_records WHERE person_id = {}", mum.id),
            ),
            (
                "rejected feed row",
                "SELECT COUNT(*) FROM import_rejects WHERE raw LIKE 'B-1,\"Quiet%'".into(),
            ),
            (
                "present",
                format!("SELECT COUNT(*) FROM contact_people WHERE contact_id = {note}"),
            ),
            (
                "readers",
                format!("SELECT COUNT(*) FROM contact_readers WHERE contact_id = {note}"),
            ),
            (
                "episodes",
                format!("SELECT COUNT(*) FROM episodes WHERE family_id = {a}"),
            ),
            (
                "team",
                format!("SELECT COUNT(*) FROM team_members WHERE family_id = {a}"),
            ),
            (
                "relationships",
                format!("SELECT COUNT(*) FROM relationships WHERE from_person_id = {}", mum.id),
            ),
        ] {
            assert_eq!(count(&db, &sql).await, 0, "{backend:?}: {what} erased");
        }
        assert!(erased.rows >= 12, "{backend:?}: {erased:?}");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM import_rejects").await,
            2,
            "{backend:?}: another key's reject, and another system's, stay"
        );
        // The child and B are untouched.
        assert_eq!(db.person(child.id).await.unwrap().given_name, "Kid");
        assert_eq!(db.person(dad.id).await.unwrap().given_name, "New");
        assert_eq!(db.members(b).await.unwrap().len(), 2, "{backend:?}");
        // The audit trail keeps every event about A, plus the erasure, and verifies.
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM audit_events WHERE family_id = {a}")).await,
            events_about_a + 1,
            "{backend:?}"
        );
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM audit_events WHERE family_id = {a} AND action = 'erase'")
            )
            .await,
            1
        );
        let report = db.verify_audit().await.unwrap();
        assert!(report.broken.is_none(), "{backend:?}: {report:?}");
        let decisions = db.retention_decisions(t.id, 10).await.unwrap();
        assert_eq!(
            decisions.iter().map(|d| d.decision.as_str()).collect::<Vec<_>>(),
            vec!["erase", "keep"]
        );
        assert_eq!(decisions[0].persons_erased, 1);
        // Erased once: there is nothing left to erase.
        assert!(matches!(
            db.erase_family(a, "again", later, &actor).await,
            Err(StoreError::NotFound)
        ));
    }
}
