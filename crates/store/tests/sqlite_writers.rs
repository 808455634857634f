//! Two processes writing one SQLite file at once (two handles, as `serve`
//! and `kindred import` would hold): transactions that read before they
//! write wait their turn instead of failing with "database is locked".

use kindred_domain::model::{OrgKind, Profession, Role};
use kindred_store::Db;
use kindred_store::families::Creator;
use kindred_store::users::NewUser;

#[tokio::test]
async fn concurrent_read_then_write_transactions_from_two_handles_all_succeed() {
    let path = std::env::temp_dir().join(format!("kindred_writers_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let a = Db::open(&url).await.unwrap();
    let b = Db::open(&url).await.unwrap();
    let t = a.create_tenant("west", "West").await.unwrap();
    let org = a
        .create_organisation(t.id, "West Early Help", OrgKind::EarlyHelp)
        .await
        .unwrap();
    let user = a
        .create_user(&NewUser {
            tenant_id: t.id,
            organisation_id: org.id,
            team_id: None,
            email: "writer@example.org".into(),
            display_name: "Writer".into(),
            profession: Profession::EarlyHelpWorker,
            roles: vec![Role::Practitioner],
            password_hash: "not-a-real-hash".into(),
        })
        .await
        .unwrap();
    let creator = Creator {
        user_id: user.id,
        organisation_id: org.id,
        service: "Early help".into(),
    };
    let today = kindred_store::today();
    let mut families = vec![];
    for i in 0..8 {
        families.push(
            a.create_family(t.id, &format!("Family {i}"), &creator, today)
                .await
                .unwrap()
                .id,
        );
    }
    // Each task reads a family's seal and then writes the change and its
    // history row; the two handles interleave them on every family.
    let mut tasks = vec![];
    for i in 0..240usize {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        let family = families[i % families.len()];
        let (tenant, by) = (t.id, user.id);
        tasks.push(tokio::spawn(async move {
            db.set_family_sealed(tenant, family, (i / 8) % 2 == 0, "test", by, i as i64)
                .await
        }));
    }
    let mut failures = vec![];
    for task in tasks {
        if let Err(e) = task.await.unwrap() {
            failures.push(e.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 240 writes failed: {:?}",
        failures.len(),
        failures.first()
    );
}
