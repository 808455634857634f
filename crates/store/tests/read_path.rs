//! The read path. `Db::pinned`: a page's reads on one held connection, on
//! every backend. Reads through a pinned handle see what the pool committed,
//! writes made through it still land, and many more pages pinning at once
//! than there are connections to pin neither deadlock nor starve the writes
//! (the audit writer included) of a connection. And `Db::analyze` leaves
//! SQLite no STAT4 samples, which would make it re-plan statements on every
//! run.

use std::time::Duration;

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::Role;
use kindred_store::families::Creator;
use kindred_store::testing;

#[tokio::test]
async fn pinned_reads_see_commits_and_many_pages_pinning_at_once_all_finish() {
    for db in testing::fresh_databases().await {
        let (tenant, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
        let today = kindred_store::today();
        let family = db.create_family(tenant, "Pinned", &creator, today).await.unwrap().id;

        let pinned = db.pinned().await.unwrap();
        assert_eq!(pinned.family(family).await.unwrap().name, "Pinned");
        // A write through the pinned handle goes to the pool and commits.
        let second = pinned
            .create_family(tenant, "Second", &creator, today)
            .await
            .unwrap()
            .id;
        assert_eq!(db.family(second).await.unwrap().name, "Second");
        // Pinning a pinned handle again takes no second connection.
        let again = pinned.pinned().await.unwrap();
        assert_eq!(again.team(family).await.unwrap().len(), 1);
        if db.backend() == kindred_store::Backend::Sqlite {
            // SQLite: the pinned reads are one snapshot, taken at the first.
            assert!(matches!(
                pinned.family(second).await,
                Err(kindred_store::StoreError::NotFound)
            ));
        }
        drop((pinned, again));
        // The snapshot goes with the handle: a new pin sees the write.
        assert_eq!(db.pinned().await.unwrap().family(second).await.unwrap().name, "Second");

        // Forty pages at once, each holding its connection while it writes
        // (a family) and audits through the pool: more than can be pinned.
        let mut pages = vec![];
        for i in 0..40i64 {
            let db = db.clone();
            let creator = Creator {
                service: format!("Early help {i}"),
                ..creator.clone()
            };
            pages.push(tokio::spawn(async move {
                let page = db.pinned().await?;
                page.family(family).await?;
                let made = page
                    .create_family(tenant, &format!("Family {i}"), &creator, today)
                    .await?;
                page.audit(NewEvent {
                    tenant_id: Some(tenant),
                    actor_user_id: Some(creator.user_id),
                    action: AuditAction::Read,
                    record_kind: "family",
                    record_id: Some(made.id),
                    family_id: Some(made.id),
                    route: "test".into(),
                    detail: String::new(),
                })
                .await?;
                page.members(made.id).await?;
                Ok::<_, kindred_store::StoreError>(made.id)
            }));
        }
        let all = tokio::time::timeout(Duration::from_secs(60), async {
            let mut made = vec![];
            for p in pages {
                made.push(p.await.unwrap().unwrap());
            }
            made
        })
        .await
        .expect("forty pinned pages finished within a minute (no deadlock)");
        assert_eq!(all.len(), 40);
        for id in all {
            assert!(db.family(id).await.unwrap().name.starts_with("Family "));
        }
        assert!(db.verify_audit().await.unwrap().broken.is_none());
    }
}

#[tokio::test]
async fn analyze_leaves_sqlite_row_estimates_but_no_value_samples() {
    let db = testing::fresh_sqlite().await;
    let (tenant, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
    let today = kindred_store::today();
    for i in 0..50 {
        db.create_family(tenant, &format!("Family {i}"), &creator, today)
            .await
            .unwrap();
    }
    db.analyze().await.unwrap();
    let kindred_store::Pool::Sqlite(p) = &db.pool else {
        unreachable!()
    };
    let (stat1,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sqlite_stat1")
        .fetch_one(p)
        .await
        .unwrap();
    // Built without STAT4 (.cargo/config.toml) there is no such table; had
    // the flags been lost, `analyze` must still have emptied it.
    let stat4: Option<(i64,)> = sqlx::query_as("SELECT COUNT(*) FROM sqlite_stat4")
        .fetch_optional(p)
        .await
        .ok()
        .flatten();
    assert!(stat1 > 0, "ANALYZE kept the row estimates");
    assert!(
        stat4.is_none_or(|(n,)| n == 0),
        "no STAT4 samples left to re-plan statements by"
    );
}

/// A database that started empty holds only what its migrations measured
/// of empty tables; `optimize` (run by `kindred serve`) measures the tables
/// that have filled since, so the planner knows a big table from a small one.
#[tokio::test]
async fn optimize_measures_tables_that_have_grown_since_the_migrations() {
    let db = testing::fresh_sqlite().await;
    let (tenant, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
    let today = kindred_store::today();
    let kindred_store::Pool::Sqlite(p) = &db.pool else {
        unreachable!()
    };
    let families_rows = || async {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT stat FROM sqlite_stat1 WHERE tbl = 'families'")
            .fetch_all(p)
            .await
            .unwrap();
        rows.into_iter()
            .filter_map(|(stat,)| stat.split(' ').next()?.parse::<i64>().ok())
            .max()
    };
    let before = families_rows().await;
    assert!(
        before.unwrap_or(0) < 10,
        "the migrations measured an empty table: {before:?}"
    );
    for i in 0..300 {
        db.create_family(tenant, &format!("Family {i}"), &creator, today)
            .await
            .unwrap();
    }
    db.optimize().await.unwrap();
    let after = families_rows().await;
    assert!(
        after.is_some_and(|n| n >= 100),
        "optimize measured the 300 families: {after:?}"
    );
}
