//! The `kindred link` contract: the real binary on small CSV files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kindred(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args(args)
        .env("KINDRED_LOG", "warn")
        .output()
        .expect("run kindred")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kindred_link_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn p(d: &Path, f: &str) -> String {
    d.join(f).display().to_string()
}

/// Three families. Olivia Smith has three records (a nickname-free typo, a
/// day/month swap, an NHS number with a failing check digit); her twin Amelia
/// shares everything but the first name and NHS number; Robert Brown appears
/// as "Bob" too. An unknown column (`favourite_colour`) must be ignored.
const PEOPLE: &str = "\
Record_ID,NHS_Number,First_Name,Middle_Name,Surname,DOB,Sex,Postcode,Address_Line,Source_System,favourite_colour
a1,9434765919,Olivia,,Smith,2015-03-04,F,LS1 4AB,12 Oak Road,gp,red
a2,943 476 5919,Olivia,Grace,Smith,04/03/2015,f,ls14ab,12 Oak Rd,school,blue
a3,9434765918,Olvia,,Smith,2015-04-03,F,LS1 4AB,12 Oak Road,housing,green
a4,4010232137,Amelia,,Smith,2015-03-04,F,LS1 4AB,12 Oak Road,gp,red
a5,,Amelia,,Smith,04/03/2015,F,LS1 4AB,12 Oak Rd,school,red
b1,9990001236,Robert,,Brown,1980-07-21,M,BD7 2XY,3 Mill Lane,gp,
b2,,Bob,,Brown,21/07/1980,M,BD7 2XY,3 Mill Ln,housing,
b3,,Margaret,,Brown,1982-11-02,F,BD7 2XY,3 Mill Lane,gp,
c1,,Kwame,,Mensah,2019-01-30,M,HX1 5QT,88 Church Street,early_help,
";

fn pairs(path: &str) -> Vec<(String, String, f64)> {
    let s = std::fs::read_to_string(path).unwrap();
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("left_id,right_id,match_probability,match_weight"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "{l}");
            let _: f64 = f[3].parse().unwrap();
            (f[0].to_owned(), f[1].to_owned(), f[2].parse().unwrap())
        })
        .collect()
}

fn clusters(path: &str) -> Vec<(String, String)> {
    let s = std::fs::read_to_string(path).unwrap();
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("id,cluster_id"));
    lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_owned(), b.to_owned())
        })
        .collect()
}

#[test]
fn dedupe_finds_the_duplicates_keeps_twins_apart_and_is_deterministic() {
    let d = dir("dedupe");
    std::fs::write(d.join("people.csv"), PEOPLE).unwrap();
    let run = |out: &str, cl: &str| {
        let o = kindred(&[
            "--db",
            "sqlite://unused.db",
            "link",
            "--input",
            &p(&d, "people.csv"),
            "--output",
            &p(&d, out),
            "--clusters",
            &p(&d, cl),
            "--seed",
            "7",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Linked 9 records"), "{}", text(&o));
        // counts only: no names or NHS numbers in what it prints
        assert!(!text(&o).to_lowercase().contains("olivia") && !text(&o).contains("9434765919"));
    };
    run("pairs1.csv", "clusters1.csv");
    run("pairs2.csv", "clusters2.csv");
    assert_eq!(
        std::fs::read(d.join("pairs1.csv")).unwrap(),
        std::fs::read(d.join("pairs2.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(d.join("clusters1.csv")).unwrap(),
        std::fs::read(d.join("clusters2.csv")).unwrap()
    );
    assert!(!std::path::Path::new("unused.db").exists(), "link ignores --db");

    let ps = pairs(&p(&d, "pairs1.csv"));
    let has = |a: &str, b: &str| ps.iter().any(|(l, r, _)| (l == a && r == b) || (l == b && r == a));
    assert!(has("a1", "a2") && has("a1", "a3") && has("a2", "a3"), "{ps:?}");
    assert!(has("a4", "a5"), "{ps:?}");
    assert!(has("b1", "b2"), "nickname: {ps:?}");
    for twin in ["a4", "a5"] {
        for o in ["a1", "a2", "a3"] {
            assert!(!has(twin, o), "twins merged: {ps:?}");
        }
    }
    assert!(!has("b1", "b3") && !has("b2", "b3"));
    assert!(ps.iter().all(|(_, _, prob)| *prob >= 0.9));

    let cs = clusters(&p(&d, "clusters1.csv"));
    let ids: Vec<&str> = cs.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        ["a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "c1"],
        "every record, in input order"
    );
    let c = |id: &str| cs.iter().find(|(i, _)| i == id).unwrap().1.clone();
    assert_eq!(
        c("a1"),
        c("a3"),
        "the record with a failing check digit is kept and linked"
    );
    assert_ne!(c("a1"), c("a4"));
    assert_ne!(c("c1"), c("b1"));
}

#[test]
fn link_mode_pairs_the_first_input_with_the_second() {
    let d = dir("link");
    let mut lines = PEOPLE.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let a: String = [header]
        .iter()
        .chain(rows.iter().step_by(2))
        .map(|l| format!("{l}\n"))
        .collect();
    let b: String = [header]
        .iter()
        .chain(rows.iter().skip(1).step_by(2))
        .map(|l| format!("{l}\n"))
        .collect();
    // the second input names its columns differently
    let b = b.replacen("Record_ID,NHS_Number,First_Name", "id,nhs_number,given_name", 1);
    std::fs::write(d.join("a.csv"), a).unwrap();
    std::fs::write(d.join("b.csv"), b).unwrap();
    let o = kindred(&[
        "link",
        "--input",
        &p(&d, "a.csv"),
        "--input",
        &p(&d, "b.csv"),
        "--output",
        &p(&d, "pairs.csv"),
        "--clusters",
        &p(&d, "clusters.csv"),
        "--threshold",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let ps = pairs(&p(&d, "pairs.csv"));
    let left = ["a1", "a3", "a5", "b2", "c1"];
    let right = ["a2", "a4", "b1", "b3"];
    assert!(!ps.is_empty());
    for (l, r, prob) in &ps {
        assert!(left.contains(&l.as_str()) && right.contains(&r.as_str()), "{l} {r}");
        assert!(*prob >= 0.5);
    }
    assert!(ps.iter().any(|(l, r, _)| l == "a1" && r == "a2"));
    assert!(ps.iter().any(|(l, r, _)| l == "b2" && r == "b1"));
    assert_eq!(clusters(&p(&d, "clusters.csv")).len(), 9);
}

#[test]
fn clear_errors_for_a_missing_id_column_and_a_duplicate_id() {
    let d = dir("errors");
    std::fs::write(d.join("noid.csv"), "first_name,surname\nOlivia,Smith\n").unwrap();
    let o = kindred(&["link", "--input", &p(&d, "noid.csv"), "--output", &p(&d, "pairs.csv")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no id column"), "{}", text(&o));

    std::fs::write(d.join("dup.csv"), "id,first_name\nx1,Olivia\nx2,Amelia\nx1,Ava\n").unwrap();
    let o = kindred(&["link", "--input", &p(&d, "dup.csv"), "--output", &p(&d, "pairs.csv")]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("duplicate id \"x1\" on lines 2 and 4"),
        "{}",
        text(&o)
    );

    std::fs::write(d.join("bad.toml"), "threshold = 2.0\n").unwrap();
    std::fs::write(d.join("ok.csv"), "id\nx1\n").unwrap();
    let o = kindred(&[
        "link",
        "--input",
        &p(&d, "ok.csv"),
        "--output",
        &p(&d, "pairs.csv"),
        "--config",
        &p(&d, "bad.toml"),
    ]);
    assert!(!o.status.success() && text(&o).contains("threshold"), "{}", text(&o));
}
