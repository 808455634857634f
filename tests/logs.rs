//! No personal data in logs (issue 9). The real binary serves a demo with
//! every log level on (`KINDRED_LOG=debug`, SQL statements included); a
//! health visitor searches by name, date of birth, NHS number and postcode and
//! opens families and persons, a sign-in fails with a person's name in the
//! email, a partner system searches FHIR by NHS number and by name, and a
//! made-up address carries a name. Then the log must hold none of the demo's
//! names, NHS numbers or postcodes.

use std::process::Command;

use kindred_demo::{DEMO_CLIENT_SECRET, DEMO_PASSWORD};
use support::{csrf, sign_in};

mod support;

/// Every word of the log (runs of letters and digits), and every run of two
/// and three words joined by a space, to look names, NHS numbers (also as
/// "999 123 4567") and postcodes ("W2 1AA") up in.
fn phrases(log: &str) -> std::collections::HashSet<String> {
    let words: Vec<&str> = log
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = std::collections::HashSet::new();
    for (i, w) in words.iter().enumerate() {
        out.insert(w.to_string());
        if let Some(next) = words.get(i + 1) {
            out.insert(format!("{w} {next}"));
            if let Some(third) = words.get(i + 2) {
                out.insert(format!("{w} {next} {third}"));
            }
        }
    }
    out
}

#[derive(sqlx::FromRow)]
struct Person {
    id: i64,
    given: String,
    family: String,
    nhs: Option<String>,
    dob: Option<String>,
    postcode: Option<String>,
}

#[tokio::test]
async fn a_busy_session_leaves_no_names_nhs_numbers_or_postcodes_in_the_log() {
    let dir = std::env::temp_dir().join(format!("kindred_logs_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/logs.db", dir.display());
    let log_path = dir.join("kindred.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindred"));
    cmd.args(["--db", &url, "demo", "--families", "60", "--listen", "127.0.0.1:0"])
        .env("KINDRED_LOG", "debug")
        .stderr(std::fs::File::create(&log_path).unwrap());
    // The demo prints its sign-ins and then where it serves.
    let (mut child, base) = support::serving(cmd).await;

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let persons: Vec<Person> = sqlx::query_as(
        "SELECT p.id, p.given_name AS given, p.family_name AS family, p.nhs_number AS nhs,
                CAST(p.date_of_birth AS TEXT) AS dob,
                (SELECT a.postcode FROM addresses a WHERE a.person_id = p.id ORDER BY a.id DESC LIMIT 1) AS postcode
         FROM persons p ORDER BY p.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(persons.len() > 100, "the demo made its people");
    let members: Vec<(i64, i64)> = sqlx::query_as("SELECT person_id, family_id FROM family_members")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;

    let c = support::browser();
    // A failed sign-in with a person's name in the email.
    let p0 = &persons[20];
    let email = format!("{}.{}@westminster.example", p0.given, p0.family);
    let res = sign_in(&c, &base, &email, "wrong password").await;
    assert!(res.status().is_client_error());
    let res = sign_in(&c, &base, "hv@westminster.example", DEMO_PASSWORD).await;
    assert_eq!(res.status(), 303, "the health visitor signs in");
    let search = c
        .get(format!("{base}/search"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&search);
    let mut found = 0;
    for p in persons
        .iter()
        .filter(|p| p.nhs.is_some() && p.postcode.is_some())
        .step_by(7)
        .take(12)
    {
        let (y, m, d) = p
            .dob
            .as_deref()
            .and_then(|s| {
                let mut it = s.split('-');
                Some((it.next()?, it.next()?, it.next()?))
            })
            .unwrap_or(("", "", ""));
        for form in [
            vec![("name", format!("{} {}", p.given, p.family))],
            vec![("nhs_number", p.nhs.clone().unwrap())],
            vec![("postcode", p.postcode.clone().unwrap())],
            vec![
                ("dob_day", d.to_string()),
                ("dob_month", m.to_string()),
                ("dob_year", y.to_string()),
            ],
        ] {
            let mut fields = vec![("csrf", token.clone())];
            fields.extend(form);
            let page = c
                .post(format!("{base}/search"))
                .form(&fields)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if page.contains(&format!("/persons/{}", p.id)) {
                found += 1;
            }
        }
        c.get(format!("{base}/persons/{}", p.id)).send().await.unwrap();
        for (_, family) in members.iter().filter(|(person, _)| *person == p.id) {
            c.get(format!("{base}/families/{family}")).send().await.unwrap();
        }
        // A made-up address with a name and an NHS number in it.
        c.get(format!("{base}/families/{}/{}", p.family, p.nhs.clone().unwrap()))
            .send()
            .await
            .unwrap();
    }
    assert!(
        found > 0,
        "the searches found people, so their details passed through the server"
    );

    // A partner system searches FHIR by NHS number and by name.
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth("demo-hv-westminster", Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().expect("a token").to_string();
    for p in persons.iter().filter(|p| p.nhs.is_some()).step_by(11).take(10) {
        for q in [
            format!(
                "identifier=https://fhir.nhs.uk/Id/nhs-number|{}",
                p.nhs.clone().unwrap()
            ),
            format!("family={}&given={}", p.family, p.given),
        ] {
            let res = http
                .get(format!("{base}/fhir/Patient?{q}"))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "FHIR search {}", res.status());
        }
    }

    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("route=/search") && log.contains("route=/fhir/{type}"),
        "the log holds the requests (so the scan below looks at real output)"
    );
    let phrases = phrases(&log);
    let mut leaks = vec![];
    for p in &persons {
        for name in [&p.given, &p.family] {
            // Short names are also ordinary words in log text.
            if name.chars().count() >= 4
                && name
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w.len() >= 4 && phrases.contains(w))
            {
                leaks.push(format!("name of person {}", p.id));
            }
        }
        if let Some(n) = &p.nhs {
            let spaced = format!("{} {} {}", &n[..3], &n[3..6], &n[6..]);
            if phrases.contains(n.as_str()) || phrases.contains(&spaced) {
                leaks.push(format!("NHS number of person {}", p.id));
            }
        }
        if let Some(pc) = &p.postcode
            && (phrases.contains(pc.as_str()) || phrases.contains(&pc.replace(' ', "")))
        {
            leaks.push(format!("postcode of person {}", p.id));
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(leaks.is_empty(), "personal data in the log: {leaks:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
