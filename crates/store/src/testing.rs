//! Fresh databases for tests: SQLite always, PostgreSQL too when
//! `KINDRED_TEST_DATABASE_URL` names a server. Each call gets its own database.

use crate::Db;

/// Every backend under test, each a new, migrated, empty database.
pub async fn fresh_databases() -> Vec<Db> {
    let mut out = vec![fresh_sqlite().await];
    if let Some(pg) = fresh_postgres().await {
        out.push(pg);
    }
    out
}

pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A migrated SQLite database in a new file under the system temp folder.
pub async fn fresh_sqlite() -> Db {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("kindred_test")));
    Db::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open SQLite test database")
}

/// The URL of a new empty PostgreSQL database, if `KINDRED_TEST_DATABASE_URL` is set.
pub async fn fresh_postgres_url() -> Option<String> {
    let base = std::env::var("KINDRED_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())?;
    let admin = Db::connect(&base).await.expect("connect to KINDRED_TEST_DATABASE_URL");
    let name = unique_name("kindred_test");
    crate::on_pool!(admin, |p| sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    .expect("create test database");
    admin.close().await;
    let (prefix, _) = match base.rsplit_once('/') {
        Some((prefix, rest)) if !prefix.ends_with('/') => (prefix.to_string(), rest.to_string()),
        _ => (base.trim_end_matches('/').to_string(), String::new()),
    };
    let query = base.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    Some(format!("{prefix}/{name}{query}"))
}

pub async fn fresh_postgres() -> Option<Db> {
    let url = fresh_postgres_url().await?;
    Some(Db::open(&url).await.expect("open PostgreSQL test database"))
}

/// Runs one statement on a test database: for the random worlds of the leak
/// test, which set up consents, agreements and overrides without a page.
pub async fn execute(db: &Db, sql: &str) -> crate::Result<u64> {
    Ok(crate::on_pool!(db, |p| sqlx::query(sql)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
}

/// A tenant ("west") with an early help organisation and one worker of it
/// holding `roles`: the tenant's id and the worker as the `Creator` of
/// families. The start most store tests need.
pub async fn early_help_worker(db: &Db, roles: &[kindred_domain::model::Role]) -> (i64, crate::families::Creator) {
    use kindred_domain::model::{OrgKind, Profession};
    let t = db.create_tenant("west", "West").await.expect("tenant");
    let org = db
        .create_organisation(t.id, "West Early Help", OrgKind::EarlyHelp)
        .await
        .expect("organisation");
    let user = db
        .create_user(&crate::users::NewUser {
            tenant_id: t.id,
            organisation_id: org.id,
            team_id: None,
            email: "worker@west.example".into(),
            display_name: "West Worker".into(),
            profession: Profession::EarlyHelpWorker,
            roles: roles.to_vec(),
            password_hash: "not-a-real-hash".into(),
        })
        .await
        .expect("user");
    let creator = crate::families::Creator {
        user_id: user.id,
        organisation_id: org.id,
        service: "Early help".into(),
    };
    (t.id, creator)
}

/// A person's details with only a name and a date of birth, the rest empty.
pub fn person_details(given: &str, family: &str, born: Option<time::Date>) -> crate::persons::PersonDetails {
    crate::persons::PersonDetails {
        given_name: given.into(),
        family_name: family.into(),
        preferred_name: None,
        date_of_birth: born,
        expected_delivery: None,
        sex: kindred_domain::model::Sex::Unknown,
        nhs_number: None,
        upn: None,
        language: None,
        interpreter_needed: false,
        send: false,
    }
}
