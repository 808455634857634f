//! The audit trail against an attacker with direct database access: the
//! append-only triggers refuse edits, and once they are dropped every kind of
//! tampering (edit, delete, cut the tail, rewrite with a recomputed hash) is
//! reported by `verify_audit` at the right place.

use kindred_domain::audit::{AuditAction, Broken, NewEvent, hash_event};
use kindred_store::{Backend, Db, on_pool, testing};

const EVENTS: i64 = 20;

/// A fresh database on every backend, each holding an intact chain of 20 events.
async fn chains() -> Vec<Db> {
    let mut out = vec![];
    for db in testing::fresh_databases().await {
        for i in 1..=EVENTS {
            let ev = db
                .audit(NewEvent {
                    tenant_id: Some(1),
                    actor_user_id: Some(100 + i % 3),
                    action: if i % 2 == 0 {
                        AuditAction::Read
                    } else {
                        AuditAction::Search
                    },
                    record_kind: "family",
                    record_id: Some(i),
                    family_id: Some(i % 4),
                    route: format!("test GET /families/{i}"),
                    detail: "lead_professional".into(),
                })
                .await
                .unwrap();
            assert_eq!(ev.seq, i);
        }
        let report = db.verify_audit().await.unwrap();
        assert_eq!(
            (report.checked, report.broken),
            (EVENTS as u64, None),
            "{:?}",
            db.backend()
        );
        out.push(db);
    }
    out
}

async fn exec(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    on_pool!(db, |p| sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()))
}

/// What an attacker with the database owner's rights does first.
async fn drop_append_only_triggers(db: &Db) {
    match db.backend() {
        Backend::Sqlite => {
            exec(db, "DROP TRIGGER audit_events_no_update").await.unwrap();
            exec(db, "DROP TRIGGER audit_events_no_delete").await.unwrap();
        }
        Backend::Postgres => {
            exec(db, "DROP TRIGGER audit_events_no_update ON audit_events")
                .await
                .unwrap();
        }
    }
}

async fn verify(db: &Db) -> (u64, Option<Broken>) {
    let r = db.verify_audit().await.unwrap();
    (r.checked, r.broken)
}

#[tokio::test]
async fn triggers_refuse_edits_and_an_edit_is_detected() {
    for db in chains().await {
        let b = db.backend();
        let err = exec(&db, "UPDATE audit_events SET detail = 'x' WHERE seq = 5")
            .await
            .expect_err("the append-only trigger refuses an UPDATE");
        assert!(err.to_string().contains("append-only"), "{b:?}: unexpected error {err}");
        exec(&db, "DELETE FROM audit_events WHERE seq = 5")
            .await
            .expect_err("the append-only trigger refuses a DELETE");
        assert_eq!(
            verify(&db).await,
            (EVENTS as u64, None),
            "{b:?}: refused changes leave the chain intact"
        );

        drop_append_only_triggers(&db).await;
        assert_eq!(
            exec(&db, "UPDATE audit_events SET detail = 'x' WHERE seq = 7")
                .await
                .unwrap(),
            1
        );
        assert_eq!(verify(&db).await, (6, Some(Broken::Content { seq: 7 })), "{b:?}");
        println!("edit detected on {b:?}");
    }
}

#[tokio::test]
async fn a_deleted_row_is_a_gap() {
    for db in chains().await {
        let b = db.backend();
        drop_append_only_triggers(&db).await;
        assert_eq!(exec(&db, "DELETE FROM audit_events WHERE seq = 12").await.unwrap(), 1);
        assert_eq!(
            verify(&db).await,
            (
                11,
                Some(Broken::Gap {
                    expected_seq: 12,
                    found_seq: 13
                })
            ),
            "{b:?}"
        );
        println!("deletion detected on {b:?}");
    }
}

#[tokio::test]
async fn a_cut_tail_is_truncation() {
    for db in chains().await {
        let b = db.backend();
        drop_append_only_triggers(&db).await;
        assert_eq!(exec(&db, "DELETE FROM audit_events WHERE seq > 17").await.unwrap(), 3);
        assert_eq!(
            verify(&db).await,
            (
                17,
                Some(Broken::Truncated {
                    head_seq: EVENTS,
                    last_seq: 17
                })
            ),
            "{b:?}"
        );
        println!("truncation detected on {b:?}");
    }
}

/// Rewrites `seq` with a new detail and a correctly recomputed hash for it.
async fn rewrite_with_recomputed_hash(db: &Db, seq: i64) {
    let mut ev = db.audit_events_since(seq - 1, 1).await.unwrap().pop().unwrap();
    assert_eq!(ev.seq, seq);
    ev.detail = "organisation_involved".into();
    ev.hash = hash_event(&ev);
    let n = on_pool!(db, |p| sqlx::query(
        "UPDATE audit_events SET detail = $1, hash = $2 WHERE seq = $3"
    )
    .bind(&ev.detail)
    .bind(&ev.hash)
    .bind(seq)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_rewritten_row_breaks_the_next_link() {
    for db in chains().await {
        let b = db.backend();
        drop_append_only_triggers(&db).await;
        rewrite_with_recomputed_hash(&db, 4).await;
        assert_eq!(
            verify(&db).await,
            (4, Some(Broken::Link { seq: 5 })),
            "{b:?}: row 4 is self-consistent, but row 5 no longer links to it"
        );
        println!("rewrite detected on {b:?}");
    }
}

#[tokio::test]
async fn a_rewritten_last_row_disagrees_with_the_head() {
    for db in chains().await {
        let b = db.backend();
        drop_append_only_triggers(&db).await;
        rewrite_with_recomputed_hash(&db, EVENTS).await;
        assert_eq!(
            verify(&db).await,
            (EVENTS as u64, Some(Broken::Link { seq: EVENTS })),
            "{b:?}: the chain head still holds the original hash"
        );
    }
}
