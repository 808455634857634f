//! `kindred backup` while a writer keeps going: the copy is one consistent
//! snapshot (every family with the involvement and team row made in its
//! transaction, counts between before and after) and its audit chain verifies.
//! SQLite always; PostgreSQL (pg_dump, then pg_restore into a fresh database)
//! when `KINDRED_TEST_DATABASE_URL` is set.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::Role;
use kindred_store::backup::{self, BackupError};
use kindred_store::families::Creator;
use kindred_store::{Db, on_pool, testing};
use time::macros::date;

/// Families, involvements, team rows and audit events.
async fn counts(db: &Db) -> [i64; 4] {
    let mut out = [0; 4];
    for (i, table) in ["families", "involvements", "team_members", "audit_events"]
        .iter()
        .enumerate()
    {
        let sql = format!("SELECT count(*) FROM {table}");
        out[i] = on_pool!(db, |p| sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await).unwrap();
    }
    out
}

/// One unit of work as the server does it: a family (with its involvement and
/// team row, in one transaction), then its audit event.
async fn write_one(db: &Db, tenant_id: i64, creator: &Creator, n: u64) {
    let f = db
        .create_family(tenant_id, &format!("Family {n}"), creator, date!(2026 - 01 - 05))
        .await
        .unwrap();
    db.audit(NewEvent {
        tenant_id: Some(tenant_id),
        actor_user_id: Some(creator.user_id),
        action: AuditAction::Create,
        record_kind: "family",
        record_id: Some(f.id),
        family_id: Some(f.id),
        route: "test backup".into(),
        detail: String::new(),
    })
    .await
    .unwrap();
}

/// Takes a backup of `url` into `file` while a writer keeps inserting, and
/// returns the counts just before the backup started and after it finished.
async fn backup_under_load(url: &str, file: &Path) -> ([i64; 4], [i64; 4], backup::BackupSummary) {
    let db = Db::open(url).await.unwrap();
    let (tenant_id, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
    for n in 0..40 {
        write_one(&db, tenant_id, &creator, n).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop, creator) = (db.clone(), stop.clone(), creator.clone());
        tokio::spawn(async move {
            let mut n = 1_000;
            while !stop.load(Ordering::Relaxed) {
                write_one(&db, tenant_id, &creator, n).await;
                n += 1;
            }
            n - 1_000
        })
    };
    // Let the writer get going before the copy starts.
    while counts(&db).await[0] < 60 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = counts(&db).await;
    let summary = backup::backup(url, file).await.expect("backup");
    let mid = counts(&db).await;
    // And keep writing a little after it.
    while counts(&db).await[0] < mid[0] + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written >= 30, "the writer kept writing ({written} families)");
    let after = counts(&db).await;
    let report = db.verify_audit().await.unwrap();
    assert_eq!(report.broken, None, "the live chain is intact");
    db.close().await;
    (before, after, summary)
}

async fn check_copy(copy: &Db, before: [i64; 4], after: [i64; 4]) {
    let [families, involvements, team, events] = counts(copy).await;
    assert!(
        (before[0]..=after[0]).contains(&families),
        "families in the copy ({families}) between before ({}) and after ({})",
        before[0],
        after[0]
    );
    assert!(families < after[0], "the copy is a snapshot, not the final state");
    assert_eq!(
        (involvements, team),
        (families, families),
        "every family's transaction is wholly in the copy or wholly out"
    );
    assert!((before[3]..=after[3]).contains(&events));
    let report = copy.verify_audit().await.unwrap();
    assert_eq!(report.broken, None, "the copy's audit chain verifies");
    assert_eq!(report.checked, events as u64);
}

fn temp_file(name: &str, ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}.{ext}", testing::unique_name(name)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_backup_while_writing_is_a_consistent_snapshot() {
    let live = temp_file("kindred_live", "db");
    let url = format!("sqlite://{}", live.display());
    let file = temp_file("kindred_backup", "db");
    let (before, after, summary) = backup_under_load(&url, &file).await;

    assert_eq!(summary.file, file);
    assert_eq!(summary.bytes, std::fs::metadata(&file).unwrap().len());
    assert!(summary.tables > 50, "every table is copied ({})", summary.tables);
    let events = summary.audit_events.expect("SQLite copies are verified");
    assert!(summary.line().contains("audit chain OK"), "{}", summary.line());

    // Restore: a SQLite backup is the database; open it as the server would.
    let copy = Db::open(&format!("sqlite://{}", file.display())).await.unwrap();
    check_copy(&copy, before, after).await;
    assert_eq!(counts(&copy).await[3] as u64, events);
    copy.close().await;

    // A backup never overwrites a file.
    let again = backup::backup(&url, &file).await;
    assert!(matches!(again, Err(BackupError::Exists(_))), "{again:?}");
}

#[tokio::test]
async fn a_damaged_copy_fails_the_check() {
    let live = temp_file("kindred_live", "db");
    let url = format!("sqlite://{}", live.display());
    let db = Db::open(&url).await.unwrap();
    let (tenant_id, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
    for n in 0..5 {
        write_one(&db, tenant_id, &creator, n).await;
    }
    db.close().await;
    let file = temp_file("kindred_backup", "db");
    backup::backup(&url, &file).await.expect("backup");
    // Someone edits an audit event in the copy: the check must say so.
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete);
    let copy = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    for sql in [
        "DROP TRIGGER audit_events_no_update",
        "UPDATE audit_events SET detail = 'edited' WHERE seq = 3",
    ] {
        sqlx::query(sql).execute(&copy).await.unwrap();
    }
    copy.close().await;
    let checked = backup::verify_sqlite_copy(&file).await;
    assert!(matches!(checked, Err(BackupError::ChainBroken(_))), "{checked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_backup_while_writing_restores_to_a_consistent_snapshot() {
    let Some(url) = testing::fresh_postgres_url().await else {
        eprintln!("KINDRED_TEST_DATABASE_URL not set: PostgreSQL backup not tested");
        return;
    };
    let file = temp_file("kindred_backup", "dump");
    let (before, after, summary) = backup_under_load(&url, &file).await;
    assert!(
        summary.tables > 50,
        "every table is in the archive ({})",
        summary.tables
    );
    assert_eq!(summary.audit_events, None);

    let target = testing::fresh_postgres_url().await.unwrap();
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&target)
        .arg(&file)
        .output()
        .expect("pg_restore (postgresql-client) is installed");
    assert!(
        out.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = Db::open(&target).await.unwrap();
    check_copy(&copy, before, after).await;
    copy.close().await;
}
