//! The Open Referral UK API's benchmark (issue 8).
//!
//! `seed` fills a new SQLite database, through Kindred's migrations and the
//! directory's own store functions, with one council's directory: 10,000
//! services (by default) of 20 organisations at 40 locations, each with a
//! schedule, a cost, a language, a contact, delivery modes, an area and,
//! for one in three, a taxonomy term.
//!
//! `run` serves that database with the real router on a loopback port in
//! this process and runs `--clients` concurrent clients (closed loop, one
//! connection each) for `--seconds` per case against
//! `/openreferral/services`: pages of 50 at the start, middle and end of the
//! list, and with filters. Latency is to the last byte of the body, in an
//! HdrHistogram (µs); any non-200 counts as an error. It prints one Markdown
//! row per case.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use kindred_domain::oruk::{self, Page, Service, TaxonomyTerm};
use kindred_store::Db;
use kindred_store::directory::{
    ContactData, CostData, LanguageData, LocationData, OrganisationData, ScheduleData, ServiceData, TaxonomyData,
    TermData,
};

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value = "sqlite:///tmp/kindred-bench-oruk.db")]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make the directory (the database must be new).
    Seed {
        #[arg(long, default_value_t = 10_000)]
        services: usize,
    },
    /// Serve it and measure.
    Run {
        #[arg(long, default_value_t = 8)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let db = Db::open(&cli.db).await.context("open the database")?;
    match cli.command {
        Command::Seed { services } => seed(&db, services).await,
        Command::Run { clients, seconds } => run(db, clients, seconds).await,
    }
}

async fn seed(db: &Db, n: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let tenant = db.create_tenant("bench", "Bench Borough").await?.id;
    let mut orgs = vec![];
    for i in 0..20 {
        orgs.push(
            db.create_dir_organisation(&OrganisationData {
                tenant_id: tenant,
                name: format!("Organisation {i}"),
                description: "Runs services for families.".into(),
                ..OrganisationData::default()
            })
            .await?,
        );
    }
    let mut locations = vec![];
    for i in 0..40 {
        locations.push(
            db.create_location(&LocationData {
                tenant_id: tenant,
                name: format!("Family hub {i}"),
                address_1: Some(format!("{i} High Street")),
                city: Some("London".into()),
                postcode: Some(format!("W{} 5LA", i % 12 + 1)),
                ..LocationData::default()
            })
            .await?,
        );
    }
    let taxonomy = db
        .create_taxonomy(&TaxonomyData {
            tenant_id: Some(tenant),
            name: "Needs".into(),
            description: "What families need help with.".into(),
            ..TaxonomyData::default()
        })
        .await?;
    let mut terms = vec![];
    for (code, name) in [
        ("feeding", "Infant feeding"),
        ("parenting", "Parenting"),
        ("money", "Money"),
    ] {
        terms.push(
            db.create_term(&TermData {
                taxonomy_id: taxonomy,
                parent_id: None,
                code: code.into(),
                name: name.into(),
                description: String::new(),
            })
            .await?,
        );
    }
    const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    for i in 0..n {
        let location = locations[i % locations.len()];
        db.create_service(&ServiceData {
            tenant_id: tenant,
            dir_organisation_id: orgs[i % orgs.len()],
            name: format!("Service {i}"),
            description: format!("Sessions for families with young children, number {i}."),
            url: Some(format!("https://example.org/services/{i}")),
            email: Some("hello@example.org".into()),
            status: "active".into(),
            fees_description: Some("Free".into()),
            minimum_age: Some((i % 5) as i64),
            maximum_age: Some((i % 5) as i64 + 10),
            family_hub_offer: i.is_multiple_of(2),
            start_for_life: i.is_multiple_of(10),
            location_ids: vec![location],
            schedules: vec![ScheduleData {
                location_id: Some(location),
                freq: "WEEKLY".into(),
                byday: DAYS[i % 7].into(),
                opens_at: Some("09:30".into()),
                closes_at: Some("11:30".into()),
                description: "Term time.".into(),
                ..ScheduleData::default()
            }],
            costs: vec![CostData {
                option: "Per session".into(),
                amount: Some((i % 3) as i64 * 150),
                amount_description: String::new(),
            }],
            languages: vec![LanguageData {
                name: "English".into(),
                code: "en".into(),
            }],
            contacts: vec![ContactData {
                name: "Reception".into(),
                title: "Hub reception".into(),
                phone: Some("020 7946 0000".into()),
                email: None,
            }],
            modes: if i.is_multiple_of(4) {
                vec!["in_person".into(), "online".into()]
            } else {
                vec!["in_person".into()]
            },
            areas: vec![format!("W{}", i % 12 + 1)],
            term_ids: if i.is_multiple_of(3) {
                vec![terms[(i / 3) % terms.len()]]
            } else {
                vec![]
            },
            ..ServiceData::default()
        })
        .await?;
    }
    println!("seeded {n} services in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn run(db: Db, clients: usize, seconds: u64) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let served = db.clone();
    tokio::spawn(async move { kindred_web::serve(served, kindred_web::Config::default(), listener).await });
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let first: Page<Service> = page(&http, &format!("{base}/openreferral/services?per_page=50")).await?;
    if first.total_items == 0 {
        bail!("the database has no services: run `seed` first");
    }
    let last = first.total_pages;
    let term = first_stored_term(&http, &base).await?;
    let cases = vec![
        ("page 1".to_string(), "per_page=50&page=1".to_string()),
        (format!("page {}", last / 2), format!("per_page=50&page={}", last / 2)),
        (format!("page {last} (last)"), format!("per_page=50&page={last}")),
        ("day=MO, page 2".to_string(), "per_page=50&page=2&day=MO".to_string()),
        (
            "taxonomy_term_id, page 2".to_string(),
            format!("per_page=50&page=2&taxonomy_term_id={term}"),
        ),
        (
            "search=families, page 100".to_string(),
            "per_page=50&page=100&search=families".to_string(),
        ),
        (
            "minimum_age=2&maximum_age=13".to_string(),
            "per_page=50&minimum_age=2&maximum_age=13".to_string(),
        ),
    ];
    println!(
        "{} services, {} pages of 50; {clients} clients, {seconds} s per case",
        first.total_items, last
    );
    println!("| case | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, query) in cases {
        let url = format!("{base}/openreferral/services?{query}");
        let until = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let url = url.clone();
            let http = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()?;
            tasks.spawn(async move {
                let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                let mut errors = 0u64;
                while Instant::now() < until {
                    let t = Instant::now();
                    let ok = match http.get(&url).send().await {
                        Ok(res) => res.status().as_u16() == 200 && res.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    hist.saturating_record(t.elapsed().as_micros() as u64);
                    if !ok {
                        errors += 1;
                    }
                }
                (hist, errors)
            });
        }
        let started = Instant::now();
        let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
        let mut errors = 0;
        while let Some(r) = tasks.join_next().await {
            let (h, e) = r?;
            hist.add(h).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            errors += e;
        }
        let secs = started.elapsed().as_secs_f64();
        let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "| {name} | {} | {errors} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
            hist.len(),
            hist.len() as f64 / secs,
            ms(0.5),
            ms(0.9),
            ms(0.99),
            hist.max() as f64 / 1000.0
        );
    }
    Ok(())
}

async fn page<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> anyhow::Result<Page<T>> {
    Ok(http.get(url).send().await?.error_for_status()?.json().await?)
}

/// The first stored (not fixed) taxonomy term.
async fn first_stored_term(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let p: Page<TaxonomyTerm> = page(http, &format!("{base}/openreferral/taxonomy_terms?per_page=100")).await?;
    p.contents
        .into_iter()
        .find(|t| oruk::fixed_term(&t.id).is_none())
        .map(|t| t.id)
        .context("no stored taxonomy term: run `seed` first")
}
