//! The server killed with SIGKILL in the middle of its writes (issue 9), then
//! started again. Practitioners keep starting families, adding members and
//! writing sensitive notes from several browsers at once when the process
//! dies. Afterwards: every write the server acknowledged is there, no family
//! is left without its first member, no person outside a family, no note
//! without the people present or its readers, every new record has its
//! "create" audit event, `kindred audit verify` passes, and the server starts
//! and serves the new records.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kindred_demo::DEMO_PASSWORD;
use sqlx::SqlitePool;

mod support;

/// Concurrent browsers writing when the server is killed.
const WRITERS: usize = 6;
/// Acknowledged writes before the kill.
const KILL_AFTER: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acked {
    Family(i64),
    Member(i64),
    Contact(i64),
}

async fn one(pool: &SqlitePool, sql: &str) -> i64 {
    sqlx::query_as::<_, (i64,)>(sql).fetch_one(pool).await.unwrap().0
}

async fn ids(pool: &SqlitePool, sql: &str) -> Vec<i64> {
    sqlx::query_as::<_, (i64,)>(sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .collect()
}

/// One practitioner's browser: starts a family, adds a child, writes a
/// sensitive note about both; again and again until the server is gone.
async fn write_until_killed(
    base: String,
    email: &'static str,
    writer: usize,
    pool: SqlitePool,
    acked: Arc<std::sync::Mutex<Vec<Acked>>>,
    count: Arc<AtomicUsize>,
    ready: Arc<AtomicUsize>,
) {
    let c = support::browser();
    let res = support::sign_in(&c, &base, email, DEMO_PASSWORD).await;
    assert_eq!(res.status(), 303, "{email} signs in");
    let form = c.get(format!("{base}/families/new")).send().await.unwrap();
    let token = support::csrf(&form.text().await.unwrap());
    // Signed in: the server is killed only once every browser is writing.
    ready.fetch_add(1, Ordering::SeqCst);
    let me = one(&pool, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    let ack = |a: Acked| {
        acked.lock().unwrap().push(a);
        count.fetch_add(1, Ordering::SeqCst);
    };
    let today = time::OffsetDateTime::now_utc().date();
    let (d, m, y) = (
        today.day().to_string(),
        (today.month() as u8).to_string(),
        today.year().to_string(),
    );
    for i in 0.. {
        let name = format!("Crashtest{writer}x{i}");
        let Ok(res) = c
            .post(format!("{base}/families/new"))
            .form(&[
                ("csrf", token.as_str()),
                ("household_name", &format!("{name} household")),
                ("role", "parent"),
                ("given_name", "Morwenna"),
                ("family_name", &name),
                ("dob_day", "14"),
                ("dob_month", "3"),
                ("dob_year", "1991"),
                ("phone", "020 7946 0000"),
                ("line1", "1 Test Street"),
                ("town", "London"),
                ("postcode", "W2 1AA"),
            ])
            .send()
            .await
        else {
            return;
        };
        assert_eq!(res.status(), 303, "a new family is accepted");
        let family: i64 = res.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/families/")
            .parse()
            .unwrap();
        ack(Acked::Family(family));
        let Ok(res) = c
            .post(format!("{base}/families/{family}/members/new"))
            .form(&[
                ("csrf", token.as_str()),
                ("role", "child"),
                ("given_name", "Tegan"),
                ("family_name", &name),
                ("dob_day", "2"),
                ("dob_month", "9"),
                ("dob_year", "2019"),
            ])
            .send()
            .await
        else {
            return;
        };
        assert_eq!(res.status(), 303, "a new member is accepted");
        ack(Acked::Member(family));
        let people = ids(
            &pool,
            &format!("SELECT person_id FROM family_members WHERE family_id = {family}"),
        )
        .await;
        let me = me.to_string();
        let mut fields = vec![
            ("csrf", token.clone()),
            ("occurred_day", d.clone()),
            ("occurred_month", m.clone()),
            ("occurred_year", y.clone()),
            ("mode", "home_visit".to_string()),
            ("visibility", "sensitive".to_string()),
            ("reader", me),
            ("text", "Visit during the crash test.".to_string()),
        ];
        fields.extend(people.iter().map(|p| ("person", p.to_string())));
        let Ok(res) = c
            .post(format!("{base}/families/{family}/contacts/new"))
            .form(&fields)
            .send()
            .await
        else {
            return;
        };
        assert_eq!(res.status(), 303, "a note is accepted");
        ack(Acked::Contact(family));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_during_writes_leaves_no_partial_record_and_a_whole_audit_chain() {
    let dir = std::env::temp_dir().join(format!("kindred_faults_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/faults.db", dir.display());
    let bin = env!("CARGO_BIN_EXE_kindred");
    let mut cmd = Command::new(bin);
    cmd.args(["--db", &url, "demo", "--families", "40", "--listen", "127.0.0.1:0"])
        .env("KINDRED_LOG", "warn")
        .stderr(Stdio::null());
    let (mut child, base) = support::serving(cmd).await;

    // The store's own connection: the audit trail's file is attached to it.
    let kindred_store::Pool::Sqlite(pool) = kindred_store::Db::connect(&url).await.unwrap().pool else {
        unreachable!("a sqlite URL")
    };
    let last_family = one(&pool, "SELECT MAX(id) FROM families").await;
    let last_person = one(&pool, "SELECT MAX(id) FROM persons").await;
    let last_contact = one(&pool, "SELECT COALESCE(MAX(id), 0) FROM contacts").await;

    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(AtomicUsize::new(0));
    let emails = ["hv@westminster.example", "earlyhelp@westminster.example"];
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(write_until_killed(
                base.clone(),
                emails[w % emails.len()],
                w,
                pool.clone(),
                acked.clone(),
                count.clone(),
                ready.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    while ready.load(Ordering::SeqCst) < WRITERS || count.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the writers made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in writers {
        w.await.expect("a writer saw only accepted writes until the kill");
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= KILL_AFTER);

    // The audit chain verifies.
    let out = Command::new(bin)
        .args(["--db", &url, "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify after the kill: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Everything acknowledged is there.
    let families = ids(&pool, &format!("SELECT id FROM families WHERE id > {last_family}")).await;
    for a in &acked {
        let family = match a {
            Acked::Family(f) | Acked::Member(f) | Acked::Contact(f) => *f,
        };
        assert!(families.contains(&family), "acknowledged family {family} is kept");
        let members = one(
            &pool,
            &format!("SELECT COUNT(*) FROM family_members WHERE family_id = {family}"),
        )
        .await;
        let notes = one(
            &pool,
            &format!("SELECT COUNT(*) FROM contacts WHERE family_id = {family}"),
        )
        .await;
        match a {
            Acked::Member(_) => assert_eq!(members, 2, "acknowledged member of {family} is kept"),
            Acked::Contact(_) => assert_eq!(notes, 1, "acknowledged note on {family} is kept"),
            Acked::Family(_) => {}
        }
    }
    // No partial records.
    let empty = one(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM families f WHERE f.id > {last_family}
             AND NOT EXISTS (SELECT 1 FROM family_members m WHERE m.family_id = f.id)"
        ),
    )
    .await;
    assert_eq!(empty, 0, "no family without its first member");
    let homeless = one(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM persons p WHERE p.id > {last_person}
             AND NOT EXISTS (SELECT 1 FROM family_members m WHERE m.person_id = p.id)"
        ),
    )
    .await;
    assert_eq!(homeless, 0, "no person outside a family");
    let addressless = one(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM persons p JOIN family_members m ON m.person_id = p.id AND m.role = 'parent'
             WHERE p.id > {last_person} AND (p.phone IS NULL
               OR NOT EXISTS (SELECT 1 FROM addresses a WHERE a.person_id = p.id))"
        ),
    )
    .await;
    assert_eq!(addressless, 0, "no parent without the phone and address the form gave");
    let bare_notes = one(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM contacts c WHERE c.id > {last_contact}
             AND (NOT EXISTS (SELECT 1 FROM contact_people cp WHERE cp.contact_id = c.id)
               OR NOT EXISTS (SELECT 1 FROM contact_readers cr WHERE cr.contact_id = c.id))"
        ),
    )
    .await;
    assert_eq!(bare_notes, 0, "no note without the people present and its readers");
    // Every new record has its audit event.
    for (kind, table, last) in [
        ("family", "families", last_family),
        ("person", "persons", last_person),
        ("contact", "contacts", last_contact),
    ] {
        let unaudited = one(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM {table} t WHERE t.id > {last} AND NOT EXISTS
                   (SELECT 1 FROM audit_events e WHERE e.action = 'create' AND e.record_kind = '{kind}'
                    AND e.record_id = t.id)"
            ),
        )
        .await;
        assert_eq!(unaudited, 0, "every new {kind} has its create event");
    }
    pool.close().await;

    // The server starts again on the same file and serves what was written.
    let mut cmd = Command::new(bin);
    cmd.args(["--db", &url, "serve", "--listen", "127.0.0.1:0", "--mfa", "off"])
        .env("KINDRED_LOG", "warn")
        .stderr(Stdio::null());
    let (mut child, base) = support::serving(cmd).await;
    let c = support::browser();
    assert_eq!(
        support::sign_in(&c, &base, "hv@westminster.example", DEMO_PASSWORD)
            .await
            .status(),
        303
    );
    let kept: Vec<i64> = acked
        .iter()
        .filter_map(|a| match a {
            Acked::Contact(f) => Some(*f),
            _ => None,
        })
        .collect();
    let mut seen = 0;
    for f in &kept {
        let res = c.get(format!("{base}/families/{f}/contacts")).send().await.unwrap();
        // The early help worker's families are not the health visitor's.
        if res.status() == 200 {
            assert!(res.text().await.unwrap().contains("Visit during the crash test."));
            seen += 1;
        }
    }
    assert!(seen > 0, "the health visitor reads her notes after the restart");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
