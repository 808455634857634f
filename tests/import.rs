//! `kindred import` as an operator runs it: killed halfway (kill -9) and run
//! again, nothing is duplicated and nothing is lost; rejected rows go to a
//! rejects file with their line numbers.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kindred_store::Db;

fn kindred(db: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kindred"));
    c.arg("--db").arg(db).args(args).env("KINDRED_LOG", "warn");
    c
}

fn run(db: &str, args: &[&str]) -> Output {
    let o = kindred(db, args).output().expect("run kindred");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

async fn one(db: &Db, sql: &str) -> i64 {
    let (n,): (i64,) = match &db.pool {
        kindred_store::Pool::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        kindred_store::Pool::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    };
    n
}

const ROWS: usize = 3000;

/// A synthetic housing extract: distinct people, one bad row every 500.
fn extract() -> String {
    let first = [
        "Amina", "Tobi", "Zara", "Leo", "Mia", "Noah", "Olivia", "Jack", "Isla", "Harry", "Ava", "Oscar",
    ];
    let last = [
        "Okafor", "Brennan", "Khan", "Stone", "Nwosu", "Smith", "Jones", "Patel", "Ahmed", "Murphy", "Kelly",
    ];
    let mut s = String::from("Ref,Forename,Surname,DOB,Post Code,Notes\n");
    for i in 0..ROWS {
        let dob = if i % 500 == 499 {
            "31/02/2001".to_string()
        } else {
            format!("{:02}/{:02}/{}", 1 + i % 28, 1 + (i / 28) % 12, 1950 + (i / 336) % 70)
        };
        s.push_str(&format!(
            "R{i},{},{}-{},{dob},W{} {}AB,free text never kept\n",
            first[i % first.len()],
            last[(i / 7) % last.len()],
            i,
            1 + i % 11,
            1 + i % 9
        ));
    }
    s
}

#[tokio::test]
async fn an_import_killed_halfway_and_run_again_duplicates_nothing_and_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("kindred_import_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.db");
    let _ = std::fs::remove_file(&path);
    let db_url = format!("sqlite://{}", path.display());
    run(&db_url, &["tenant", "add", "westminster", "Westminster City Council"]);
    run(
        &db_url,
        &[
            "organisation",
            "add",
            "--tenant",
            "westminster",
            "--name",
            "Westminster Housing",
            "--kind",
            "housing",
        ],
    );
    let file = dir.join("housing.csv");
    std::fs::write(&file, extract()).unwrap();
    let mapping = dir.join("housing.toml");
    std::fs::write(
        &mapping,
        "source_system = \"northgate\"\n[columns]\nid = \"Ref\"\ngiven_name = \"Forename\"\nfamily_name = \"Surname\"\ndate_of_birth = \"DOB\"\npostcode = \"Post Code\"\n",
    )
    .unwrap();
    let args = [
        "import",
        "person_extract",
        file.to_str().unwrap(),
        "--tenant",
        "westminster",
        "--organisation",
        "Westminster Housing",
        "--mapping",
        mapping.to_str().unwrap(),
    ];
    let db = Db::open(&db_url).await.unwrap();

    // Start it, wait until some batches have landed, and kill it mid-write.
    let mut child = kindred(&db_url, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let done_before_kill = loop {
        let done = one(&db, "SELECT COALESCE(MAX(rows_done), 0) FROM import_runs").await;
        if done >= 600 {
            child.kill().unwrap(); // SIGKILL: no chance to tidy up
            child.wait().unwrap();
            break done;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the import made no progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!((done_before_kill as usize) < ROWS, "killed halfway");
    let kept = one(&db, "SELECT COUNT(*) FROM source_records").await;
    let persons = one(&db, "SELECT COUNT(*) FROM persons").await;
    assert!(kept > 0 && (kept as usize) < ROWS, "{kept}");
    // Every kept record is whole: its person was written with it.
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM source_records WHERE person_id IS NULL AND status <> 'review'"
        )
        .await,
        0
    );
    assert_eq!(
        persons,
        one(&db, "SELECT COUNT(*) FROM source_records WHERE status = 'new_person'").await
    );

    // Run it again: it finishes, and each row is kept exactly once.
    let out = run(&db_url, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    let rejected = ROWS / 500;
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM source_records").await as usize,
        ROWS - rejected
    );
    assert_eq!(
        one(&db, "SELECT COUNT(DISTINCT source_key) FROM source_records").await as usize,
        ROWS - rejected
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM persons").await,
        one(&db, "SELECT COUNT(*) FROM source_records WHERE status = 'new_person'").await
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM import_runs WHERE status = 'interrupted'").await,
        1
    );
    assert!(text.contains(&format!("{kept} unchanged")), "{text}");
    // The rejects file names each bad row's line (the header is line 1).
    let rejects = std::fs::read_to_string(format!("{}.rejects.csv", file.display())).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "line,column,reason,row");
    assert_eq!(lines.len(), 1 + rejected, "{rejects}");
    assert!(lines[1].starts_with("501,date_of_birth,is not a date"), "{}", lines[1]);
    // Columns the mapping does not name are never kept.
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM source_records WHERE payload LIKE '%free text%'"
        )
        .await,
        0
    );
    // The audit chain still verifies.
    run(&db_url, &["audit", "verify"]);
    let _ = std::fs::remove_dir_all(&dir);
}
