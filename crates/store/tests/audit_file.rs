//! SQLite keeps the audit trail in a file of its own beside the database
//! (`kindred.db-audit`): reads, which append events, leave the records' file
//! unchanged; a database or backup that carries its trail inside has it moved
//! out when opened, continuing the same chain; and a database opened with an
//! audit file that is missing or belongs to another database is refused with
//! a message naming the file.

use std::path::{Path, PathBuf};

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::Role;
use kindred_store::backup;
use kindred_store::families::Creator;
use kindred_store::{Db, StoreError, on_pool, sqlite_audit_file, testing};
use sqlx::Connection;
use time::macros::date;

fn temp_db(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}.db", testing::unique_name(name)))
}

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn audit_path(path: &Path) -> PathBuf {
    sqlite_audit_file(&url(path))
        .unwrap()
        .expect("a file database has an audit file")
}

async fn read_event(db: &Db, family_id: i64) {
    db.audit(NewEvent {
        tenant_id: Some(1),
        actor_user_id: Some(7),
        action: AuditAction::Read,
        record_kind: "family",
        record_id: Some(family_id),
        family_id: Some(family_id),
        route: "test GET /families".into(),
        detail: "lead_professional".into(),
    })
    .await
    .unwrap();
}

/// A database at `path` with a family and `events` read events; closed.
async fn database_with_events(path: &Path, events: i64) {
    let db = Db::open(&url(path)).await.unwrap();
    for i in 1..=events {
        read_event(&db, i).await;
    }
    db.close().await;
}

async fn count(db: &Db, sql: &str) -> i64 {
    on_pool!(db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
}

/// Opens, checks the chain end to end, and returns how many events it holds.
async fn open_and_verify(path: &Path) -> i64 {
    let db = Db::open(&url(path)).await.unwrap();
    let report = db.verify_audit().await.unwrap();
    assert_eq!(report.broken, None);
    let n = count(&db, "SELECT count(*) FROM audit_events").await;
    assert_eq!(report.checked, n as u64);
    assert_eq!(
        count(&db, "SELECT count(*) FROM main.sqlite_master WHERE name LIKE 'audit%'").await,
        0,
        "the records' file holds no audit tables once opened"
    );
    db.close().await;
    n
}

/// A backup of the database at `path`: one file, with the trail inside.
async fn backup_of(path: &Path, name: &str) -> PathBuf {
    let file = temp_db(name);
    backup::backup(&url(path), &file).await.expect("backup");
    file
}

/// Changes when another connection commits to the records' file.
async fn version(c: &mut sqlx::SqliteConnection) -> i64 {
    sqlx::query_scalar::<_, i64>("PRAGMA main.data_version")
        .fetch_one(c)
        .await
        .unwrap()
}

fn expect_refusal(opened: Result<Db, StoreError>, file: &Path, says: &str) {
    match opened {
        Err(StoreError::AuditFile(msg)) => {
            assert!(msg.contains(&file.display().to_string()), "names the file: {msg}");
            assert!(msg.contains(says), "{msg}");
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("opened with an audit file it should refuse"),
    }
}

#[tokio::test]
async fn reads_leave_the_records_file_unchanged() {
    let path = temp_db("kindred_split");
    let db = Db::open(&url(&path)).await.unwrap();
    let (tenant_id, creator): (i64, Creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
    let family = db
        .create_family(tenant_id, "Family", &creator, date!(2026 - 01 - 05))
        .await
        .unwrap();

    // Another connection to the records' file alone, as a reader would hold.
    let mut watcher = sqlx::SqliteConnection::connect(&url(&path)).await.unwrap();
    let before = version(&mut watcher).await;
    for _ in 0..5 {
        read_event(&db, family.id).await;
    }
    assert_eq!(
        version(&mut watcher).await,
        before,
        "appending audit events does not change the records' file"
    );
    db.create_family(tenant_id, "Another", &creator, date!(2026 - 01 - 06))
        .await
        .unwrap();
    assert_ne!(version(&mut watcher).await, before, "a record's write does");
    watcher.close().await.unwrap();

    assert_eq!(count(&db, "SELECT count(*) FROM audit.audit_events").await, 5);
    // Still append-only in its own file: the triggers came with the tables.
    for sql in [
        "UPDATE audit_events SET detail = 'x' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
    ] {
        let refused = on_pool!(db, |p| sqlx::query(sql).execute(p).await.map(|_| ()));
        let refused = refused.expect_err(sql).to_string();
        assert!(refused.contains("append-only"), "{sql}: {refused}");
    }
    db.close().await;
    assert!(audit_path(&path).exists());
    assert_eq!(open_and_verify(&path).await, 5);
}

#[tokio::test]
async fn a_trail_inside_the_database_moves_out_and_the_chain_continues() {
    let live = temp_db("kindred_live");
    database_with_events(&live, 6).await;
    // A backup carries its trail inside, as every database did before the split.
    let restored = backup_of(&live, "kindred_restored").await;
    assert!(!audit_path(&restored).exists());
    assert_eq!(open_and_verify(&restored).await, 6);
    assert!(audit_path(&restored).exists());
    let triggers = {
        let db = Db::open(&url(&restored)).await.unwrap();
        let n = count(&db, "SELECT count(*) FROM audit.sqlite_master WHERE type = 'trigger'").await;
        db.close().await;
        n
    };
    assert_eq!(triggers, 2, "the append-only triggers moved with the trail");

    let db = Db::open(&url(&restored)).await.unwrap();
    read_event(&db, 1).await;
    let report = db.verify_audit().await.unwrap();
    assert_eq!(
        (report.checked, report.broken),
        (7, None),
        "appends continue the moved chain"
    );
    db.close().await;
}

#[tokio::test]
async fn a_restored_backup_beside_its_own_longer_trail_keeps_the_longer_trail() {
    let live = temp_db("kindred_live");
    database_with_events(&live, 4).await;
    let early = backup_of(&live, "kindred_early").await;
    let db = Db::open(&url(&live)).await.unwrap();
    for i in 0..3 {
        read_event(&db, i).await;
    }
    db.close().await;
    // The operator puts the older backup in place and leaves the live audit file.
    let target = temp_db("kindred_target");
    std::fs::copy(&early, &target).unwrap();
    std::fs::copy(audit_path(&live), audit_path(&target)).unwrap();
    assert_eq!(
        open_and_verify(&target).await,
        7,
        "the events after the backup are kept"
    );
}

#[tokio::test]
async fn an_audit_file_behind_the_database_is_brought_up_to_date() {
    let live = temp_db("kindred_live");
    database_with_events(&live, 3).await;
    // An audit file holding the first three events (a copy that stopped short).
    let early = backup_of(&live, "kindred_early").await;
    assert_eq!(open_and_verify(&early).await, 3);
    let db = Db::open(&url(&live)).await.unwrap();
    for i in 0..4 {
        read_event(&db, i).await;
    }
    db.close().await;
    let late = backup_of(&live, "kindred_late").await;
    std::fs::copy(audit_path(&early), audit_path(&late)).unwrap();
    assert_eq!(open_and_verify(&late).await, 7, "the four later events are copied in");
}

#[tokio::test]
async fn another_databases_audit_file_is_refused() {
    let ours = temp_db("kindred_ours");
    database_with_events(&ours, 3).await;
    let theirs = temp_db("kindred_theirs");
    database_with_events(&theirs, 5).await;
    let restored = backup_of(&ours, "kindred_restored").await;
    std::fs::copy(audit_path(&theirs), audit_path(&restored)).unwrap();
    let file = audit_path(&restored);
    expect_refusal(Db::open(&url(&restored)).await, &file, "differ at event 3");

    // A database already opened (its trail moved out and marked) with
    // another database's audit file put in place of its own.
    let settled = temp_db("kindred_settled");
    database_with_events(&settled, 2).await;
    assert_eq!(open_and_verify(&settled).await, 2);
    std::fs::copy(audit_path(&theirs), audit_path(&settled)).unwrap();
    expect_refusal(Db::open(&url(&settled)).await, &audit_path(&settled), "first event");

    // A new database beside a stale audit file that has events.
    let fresh = temp_db("kindred_fresh");
    std::fs::copy(audit_path(&theirs), audit_path(&fresh)).unwrap();
    expect_refusal(Db::open(&url(&fresh)).await, &audit_path(&fresh), "the database is new");
}

#[tokio::test]
async fn a_missing_audit_file_is_refused() {
    let path = temp_db("kindred_lost");
    database_with_events(&path, 2).await;
    std::fs::remove_file(audit_path(&path)).unwrap();
    for _ in 0..2 {
        expect_refusal(
            Db::open(&url(&path)).await,
            &audit_path(&path),
            "audit trail is missing",
        );
    }
}
