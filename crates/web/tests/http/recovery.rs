//! A lost PostgreSQL connection (issue 9): PostgreSQL ends every connection
//! Kindred holds, as a restart or a failover does. Kindred must recover by
//! itself: the next pages and writes work without restarting Kindred, and
//! the audit chain stays whole.

use kindred_store::Db;

/// Ends every connection to `database` but the caller's, from a separate
/// administrative connection; returns how many were ended.
async fn drop_connections(database: &str) -> i64 {
    let admin_url = std::env::var("KINDRED_TEST_DATABASE_URL").unwrap();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let (ended,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()) t WHERE ok",
    )
    .bind(database)
    .fetch_one(&admin)
    .await
    .unwrap();
    admin.close().await;
    ended
}

async fn current_database(db: &Db) -> String {
    match &db.pool {
        kindred_store::Pool::Postgres(p) => {
            sqlx::query_as::<_, (String,)>("SELECT current_database()")
                .fetch_one(p)
                .await
                .unwrap()
                .0
        }
        kindred_store::Pool::Sqlite(_) => unreachable!("a PostgreSQL test"),
    }
}

#[tokio::test]
async fn kindred_recovers_by_itself_when_postgresql_ends_its_connections() {
    let Some(db) = kindred_store::testing::fresh_postgres().await else {
        return;
    };
    let database = current_database(&db).await;
    let app = crate::spawn_with(db, kindred_web::Config::default()).await;
    let (c, token) = app.sign_in("lead@west.test").await;
    let family = app.url(&format!("/families/{}", app.world.khan_family));
    // Fill the pool with connections: several pages at once.
    let pages = |n: usize| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (c, family) = (c.clone(), family.clone());
                tokio::spawn(async move { c.get(&family).send().await.unwrap().status().as_u16() })
            })
            .collect();
        async move {
            let mut statuses = Vec::new();
            for h in handles {
                statuses.push(h.await.unwrap());
            }
            statuses
        }
    };
    assert!(pages(8).await.iter().all(|s| *s == 200));

    for round in 0..3 {
        let ended = drop_connections(&database).await;
        assert!(ended >= 1, "round {round}: PostgreSQL ended Kindred's connections");
        // No restart of Kindred: the very next requests work.
        let statuses = pages(8).await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: pages after the connections were lost: {statuses:?}"
        );
        let res = c
            .post(app.url("/families/new"))
            .form(&[
                ("csrf", token.as_str()),
                ("household_name", "Reconnect household"),
                ("role", "parent"),
                ("given_name", "Ffion"),
                ("family_name", "Reconnect"),
                ("dob_day", "3"),
                ("dob_month", "4"),
                ("dob_year", "1990"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            303,
            "round {round}: a write after the connections were lost"
        );
    }
    let report = app.db.verify_audit().await.unwrap();
    assert!(report.broken.is_none(), "the audit chain is whole: {report:?}");
    assert!(report.checked > 20);
}
