//! The report builder's benchmark (issue 7, F16).
//!
//! `generate` makes a SQLite database through Kindred's own migrations and
//! bulk loader: one council, twelve family hubs each reaching a postcode
//! district (two more districts lie outside every reach), 1,000,000 persons
//! in families of three with their addresses, and 5,000,000 contacts over
//! 24 months — each contact's hub set by the same SQL the application uses.
//! `run` times the real report (contacts by hub × month, count) through
//! `Db::run_report` and `domain::report::tabulate`, several runs, median.
//! `export` writes the same contacts as CSV for DuckDB (`duckdb_report.py`).

use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kindred_domain::report;
use kindred_store::Db;
use kindred_store::bulk::{AddressRow, Batch, ContactRow, FamilyRow, PersonRow};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value = "sqlite://bench/reports/data/reports.db")]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Generate {
        #[arg(long, default_value_t = 1_000_000)]
        persons: i64,
        #[arg(long, default_value_t = 5_000_000)]
        contacts: i64,
    },
    Run {
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
    Export {
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

const DISTRICTS: [&str; 14] = [
    "W2", "W9", "W10", "W11", "NW1", "NW6", "NW8", "SW1", "SW3", "SW5", "SW7", "SW10", "E1", "SE1",
];

struct Labels;
impl report::Labels for Labels {
    fn hub(&self, id: &str) -> Option<String> {
        Some(format!("Hub {id}"))
    }
    fn organisation(&self, id: &str) -> Option<String> {
        Some(format!("Organisation {id}"))
    }
    fn tenant(&self, _: &str) -> Option<String> {
        Some("Bench".into())
    }
}

fn hub_by_month() -> report::Definition {
    let fields: Vec<(String, String)> = [
        ("dataset", "contacts"),
        ("group1", "hub"),
        ("group2", "month"),
        ("measure_count", "yes"),
        ("chart", "line"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    report::parse(&fields).expect("the benchmark's report parses")
}

async fn generate(db: &Db, persons: i64, contacts: i64) -> anyhow::Result<()> {
    use kindred_domain::model::{OrgKind, Profession, Role};
    let t = db.create_tenant("bench", "Bench Borough").await?;
    let org = db
        .create_organisation(t.id, "Bench Early Help", OrgKind::EarlyHelp)
        .await?;
    for (i, d) in DISTRICTS.iter().take(12).enumerate() {
        db.create_hub_site(t.id, Some(org.id), &format!("Hub {}", i + 1), None, &[d.to_string()])
            .await?;
    }
    let mut users = vec![];
    for i in 0..20 {
        let u = db
            .create_user(&kindred_store::users::NewUser {
                tenant_id: t.id,
                organisation_id: org.id,
                team_id: None,
                email: format!("worker{i}@bench.example"),
                display_name: format!("Worker {i}"),
                profession: Profession::EarlyHelpWorker,
                roles: vec![Role::Practitioner],
                password_hash: "!".into(),
            })
            .await?;
        users.push(u.id);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let families = persons / 3 + i64::from(persons % 3 != 0);
    let per_family = contacts as f64 / families as f64;
    let start = time::macros::date!(2024 - 04 - 01);
    let (mut person_id, mut contact_id, mut made_contacts) = (0i64, 0i64, 0i64);
    let per_batch = 5_000;
    let began = Instant::now();
    let mut family_id = 0i64;
    while family_id < families {
        let mut b = Batch::default();
        for _ in 0..per_batch.min(families - family_id) {
            family_id += 1;
            b.families.push(FamilyRow {
                id: family_id,
                tenant_id: t.id,
                name: format!("Bench family {family_id}"),
                lead_user_id: None,
            });
            let district = DISTRICTS[rng.gen_range(0..DISTRICTS.len())];
            let postcode = format!("{district} {}AB", rng.gen_range(1..10));
            for k in 0..3 {
                if person_id >= persons {
                    break;
                }
                person_id += 1;
                b.persons.push(PersonRow {
                    id: person_id,
                    tenant_id: t.id,
                    given_name: format!("Given{person_id}"),
                    family_name: format!("Family{family_id}"),
                    preferred_name: None,
                    date_of_birth: Some(start - time::Duration::days(rng.gen_range(0..15_000))),
                    expected_delivery: None,
                    sex: "unknown",
                    nhs_number: None,
                    upn: None,
                    language: None,
                    interpreter_needed: false,
                    send: false,
                });
                b.addresses.push(AddressRow {
                    person_id,
                    line1: format!("{family_id} Bench Street"),
                    town: "London".into(),
                    postcode: postcode.clone(),
                    from_date: start,
                    to_date: None,
                });
                b.members
                    .push((family_id, person_id, if k == 0 { "parent" } else { "child" }, start));
            }
            // Contacts spread evenly: this family's share, rounded so the total is exact.
            let due = ((family_id as f64 * per_family).round() as i64).min(contacts);
            while made_contacts < due {
                made_contacts += 1;
                contact_id += 1;
                b.contacts.push(ContactRow {
                    id: contact_id,
                    tenant_id: t.id,
                    family_id,
                    organisation_id: org.id,
                    author_user_id: users[rng.gen_range(0..users.len())],
                    occurred_on: start + time::Duration::days(rng.gen_range(0..730)),
                    mode: "home_visit",
                    visibility: "team",
                    body: "Bench contact.".into(),
                });
            }
        }
        db.bulk_insert(&b).await.context("loading a batch")?;
        eprintln!(
            "{family_id}/{families} families, {person_id} persons, {made_contacts} contacts ({:.0} s)",
            began.elapsed().as_secs_f64()
        );
    }
    db.reset_id_sequences().await?;
    db.analyze().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { persons, contacts } => {
            if let Some(path) = cli.db.strip_prefix("sqlite://") {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
                if let Some(dir) = std::path::Path::new(path).parent() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            let db = Db::open(&cli.db).await?;
            generate(&db, persons, contacts).await?;
        }
        Command::Run { runs } => {
            let db = Db::open(&cli.db).await?;
            let tenant = db.tenant_by_code("bench").await?.id;
            let def = hub_by_month();
            let today = kindred_store::today();
            // One run to warm the page cache, as DuckDB's table is in memory.
            let warm = db.run_report(&def, tenant, today).await?;
            let mut times = vec![];
            let mut cells = 0;
            let mut total = 0;
            for _ in 0..runs {
                let t0 = Instant::now();
                let raw = db.run_report(&def, tenant, today).await?;
                let table = report::tabulate(&def, &raw, &Labels);
                times.push(t0.elapsed().as_secs_f64());
                assert!(table.rows.len() >= raw.len());
                cells = raw.len();
                total = raw.iter().map(|r| r.count).sum::<i64>();
            }
            assert!(!warm.is_empty(), "the report has rows");
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "sqlite_median_s={:.4} min_s={:.4} max_s={:.4} runs={runs} groups={cells} contacts={total}",
                times[times.len() / 2],
                times[0],
                times[times.len() - 1]
            );
        }
        Command::Export { out } => {
            let db = Db::open(&cli.db).await?;
            let tenant = db.tenant_by_code("bench").await?.id;
            let mut w = std::io::BufWriter::new(std::fs::File::create(&out)?);
            use std::io::Write;
            writeln!(w, "tenant_id,hub_site_id,occurred_on")?;
            let mut after = 0;
            loop {
                let page = db.contact_hub_dates(tenant, after, 500_000).await?;
                let Some(last) = page.last() else { break };
                after = last.0;
                for (_, hub, on) in &page {
                    match hub {
                        Some(h) => writeln!(w, "{tenant},{h},{on}")?,
                        None => writeln!(w, "{tenant},,{on}")?,
                    }
                }
            }
        }
    }
    Ok(())
}
