//! The command-line contract: the real `kindred` binary against a fresh SQLite file.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kindred(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindred"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("KINDRED_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kindred");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn set_up_a_tenant_and_its_first_administrator_then_verify_the_audit_chain() {
    let dir = std::env::temp_dir().join(format!("kindred_cli_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/cli.db", dir.display());
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    ok(kindred(&db, &["migrate"], None));
    ok(kindred(
        &db,
        &["tenant", "add", "westminster", "Westminster City Council"],
        None,
    ));
    // How soon referrals are due: bad values are refused, good ones reported.
    let out = kindred(&db, &["tenant", "triage-time", "westminster", "--hours", "0"], None);
    assert!(
        !out.status.success() && text(&out).contains("--hours"),
        "{}",
        text(&out)
    );
    let out = ok(kindred(
        &db,
        &[
            "tenant",
            "triage-time",
            "westminster",
            "--hours",
            "16",
            "--working-hours",
        ],
        None,
    ));
    assert!(out.contains("due 16 working hours"), "{out}");
    let out = kindred(&db, &["tenant", "triage-time", "nowhere", "--hours", "16"], None);
    assert!(!out.status.success() && text(&out).contains("no tenant"));
    let out = kindred(
        &db,
        &[
            "organisation",
            "add",
            "--tenant",
            "westminster",
            "--name",
            "Early Help",
            "--kind",
            "nonsense",
        ],
        None,
    );
    assert!(!out.status.success() && text(&out).contains("unknown organisation kind"));
    ok(kindred(
        &db,
        &[
            "organisation",
            "add",
            "--tenant",
            "westminster",
            "--name",
            "Early Help",
            "--kind",
            "early_help",
        ],
        None,
    ));
    let add = |password: &str| {
        kindred(
            &db,
            &[
                "user",
                "add",
                "--tenant",
                "westminster",
                "--organisation",
                "Early Help",
                "--email",
                "first@example.org",
                "--name",
                "First Admin",
                "--profession",
                "administrator",
                "--role",
                "admin",
            ],
            Some(password),
        )
    };
    let out = add("short\n");
    assert!(
        !out.status.success() && text(&out).contains("12 characters"),
        "{}",
        text(&out)
    );
    let out = add("password1234\n");
    assert!(
        !out.status.success() && text(&out).contains("too common"),
        "{}",
        text(&out)
    );
    assert!(ok(add("a long enough first password\n")).contains("Added user first@example.org"));
    assert!(ok(kindred(&db, &["audit", "verify"], None)).contains("Audit chain intact: 1 events verified"));

    // An online backup: written, checked, summarised; never over an existing file.
    let copy = dir.join("backup.db");
    let copy_arg = copy.display().to_string();
    let out = ok(kindred(&db, &["backup", &copy_arg], None));
    assert!(
        out.contains("tables, integrity ok, 1 audit events, audit chain OK"),
        "{out}"
    );
    let out = kindred(&db, &["backup", &copy_arg], None);
    assert!(
        !out.status.success() && text(&out).contains("already exists"),
        "{}",
        text(&out)
    );
    let copy_db = format!("sqlite://{copy_arg}");
    assert!(ok(kindred(&copy_db, &["audit", "verify"], None)).contains("Audit chain intact: 1 events verified"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn demo_builds_a_partnership_and_prints_the_sign_ins() {
    let dir = std::env::temp_dir().join(format!("kindred_demo_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/demo.db", dir.display());
    let out = kindred(&db, &["demo", "--families", "200", "--no-serve"], None);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", text(&out));
    let sign_ins: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("@") && l.contains(" / "))
        .collect();
    assert!(sign_ins.len() >= 8, "{stdout}");
    for role in [
        "health visitor",
        "school nurse",
        "social worker",
        "early help worker",
        "triage officer",
        "VCS worker",
        "manager",
        "administrator",
    ] {
        assert!(
            sign_ins.iter().any(|l| l.starts_with(&format!("{role}: "))),
            "{role} in {stdout}"
        );
    }
    // The missing transition-plan tasks are made once: the demo made its own,
    // so a first run may make some more, and a second run makes none.
    let first = kindred(&db, &["transitions"], None);
    assert!(
        first.status.success() && text(&first).contains("transition-plan task"),
        "{}",
        text(&first)
    );
    let second = kindred(&db, &["transitions"], None);
    assert!(
        text(&second).contains("Made 0 transition-plan tasks."),
        "{}",
        text(&second)
    );
    // A second run keeps the data it finds.
    let again = kindred(&db, &["demo", "--families", "200", "--no-serve"], None);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already holds a partnership"));
    std::fs::remove_dir_all(&dir).ok();
}
