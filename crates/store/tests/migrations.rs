//! The two backends' migrations stay in step: the same versions with the same
//! descriptions, and running them again changes nothing.

use kindred_store::{Db, POSTGRES_MIGRATOR, SQLITE_MIGRATOR, on_pool, testing};

fn listing(m: &sqlx::migrate::Migrator) -> Vec<(i64, String)> {
    m.iter().map(|m| (m.version, m.description.to_string())).collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = listing(&SQLITE_MIGRATOR);
    let postgres = listing(&POSTGRES_MIGRATOR);
    assert!(!sqlite.is_empty(), "there is at least one migration");
    assert_eq!(
        sqlite, postgres,
        "SQLite and PostgreSQL migrations must have the same versions and descriptions"
    );
    let mut versions: Vec<i64> = sqlite.iter().map(|(v, _)| *v).collect();
    versions.dedup();
    assert_eq!(versions.len(), sqlite.len(), "versions are unique");
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "versions ascend: {versions:?}"
    );
    for m in SQLITE_MIGRATOR.iter().chain(POSTGRES_MIGRATOR.iter()) {
        assert!(
            !m.migration_type.is_down_migration(),
            "migrations are forward-only: {} {}",
            m.version,
            m.description
        );
    }
}

async fn applied(db: &Db) -> Vec<(i64, bool)> {
    on_pool!(db, |p| sqlx::query_as::<_, (i64, bool)>(
        "SELECT version, success FROM _sqlx_migrations ORDER BY version"
    )
    .fetch_all(p)
    .await)
    .expect("read _sqlx_migrations")
}

#[tokio::test]
async fn migrating_twice_is_a_no_op() {
    for db in testing::fresh_databases().await {
        let expected: Vec<(i64, bool)> = SQLITE_MIGRATOR.iter().map(|m| (m.version, true)).collect();
        assert_eq!(applied(&db).await, expected, "{:?}", db.backend());
        let tenant = db.create_tenant("t1", "Tenant one").await.unwrap();
        db.migrate().await.expect("second migrate succeeds");
        db.migrate().await.expect("third migrate succeeds");
        assert_eq!(applied(&db).await, expected, "{:?}", db.backend());
        assert_eq!(
            db.tenants().await.unwrap(),
            vec![tenant],
            "data survives a repeated migration"
        );
        db.verify_audit().await.unwrap();
        println!("migrating twice is a no-op on {:?}", db.backend());
        db.close().await;
    }
}
