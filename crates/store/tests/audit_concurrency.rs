//! Many concurrent appends, from two handles as two processes would hold, form
//! one unbroken chain: the group-committing writer and the head row together.

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_store::{Db, testing};

fn event(i: i64) -> NewEvent {
    NewEvent {
        tenant_id: Some(1),
        actor_user_id: Some(i % 7),
        action: AuditAction::Read,
        record_kind: "family",
        record_id: Some(i),
        family_id: Some(i),
        route: "test".into(),
        detail: format!("n={i}"),
    }
}

async fn hammer(url: &str) {
    let a = Db::open(url).await.unwrap();
    let b = Db::open(url).await.unwrap();
    let mut tasks = vec![];
    for i in 0..300i64 {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { db.audit(event(i)).await.unwrap().seq }));
    }
    let mut seqs = vec![];
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=300).collect::<Vec<_>>(),
        "every append got its own place in the chain"
    );
    let report = a.verify_audit().await.unwrap();
    assert_eq!((report.checked, report.broken), (300, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_from_two_handles_form_one_chain() {
    let path = std::env::temp_dir().join(format!("{}.db", testing::unique_name("kindred_audit")));
    hammer(&format!("sqlite://{}", path.display())).await;
    if let Some(url) = testing::fresh_postgres_url().await {
        hammer(&url).await;
    }
}
