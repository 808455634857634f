//! Closed-loop load on the FHIR API of a Kindred server on loopback: each
//! client gets its own OAuth2 client-credentials token, then searches Patient
//! by NHS number (`identifier=https://fhir.nhs.uk/Id/nhs-number|…`) for a
//! random NHS number the system may see, over real HTTP, until time is up.
//!
//! The NHS numbers are collected first through the API itself
//! (`Patient?family=…`, pages of 100), so every search is a hit that builds
//! and audits a Patient. Latency is to the last byte, in an HdrHistogram (µs).
//!
//! `kindred-bench-fhir --base http://127.0.0.1:8181 --client-id demo-hv-westminster
//!  --client-secret kindred-demo-client-secret-2026 --clients 8 --seconds 30`

use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use clap::Parser;
use hdrhistogram::Histogram;
use rand::seq::SliceRandom;
use reqwest::{Client, Url, redirect};

#[derive(Parser)]
struct Args {
    /// The server, on a loopback address only.
    #[arg(long, default_value = "http://127.0.0.1:8181")]
    base: String,
    #[arg(long, default_value = "demo-hv-westminster")]
    client_id: String,
    #[arg(long, default_value = "kindred-demo-client-secret-2026")]
    client_secret: String,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Surnames whose visible patients give the NHS numbers to search for.
    #[arg(
        long,
        default_value = "Smith,Khan,Patel,Jones,Ahmed,Brown,Williams,Taylor,Ali,Okafor"
    )]
    surnames: String,
    /// Stop collecting after this many NHS numbers.
    #[arg(long, default_value_t = 2000)]
    max_numbers: usize,
}

fn loopback(base: &str) -> Result<Url> {
    let url = Url::parse(base).with_context(|| format!("bad --base {base:?}"))?;
    ensure!(url.scheme() == "http", "--base must be http:// (loopback only)");
    let host = url.host_str().unwrap_or_default();
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .with_context(|| format!("--base host {host:?} must be a loopback IP"))?;
    ensure!(
        ip.is_loopback(),
        "--base {ip} is not loopback; refusing to send load there"
    );
    Ok(url)
}

async fn token(http: &Client, base: &Url, args: &Args) -> Result<String> {
    let res = http
        .post(base.join("/oauth/token")?)
        .basic_auth(&args.client_id, Some(&args.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "system/*.read")])
        .send()
        .await?;
    ensure!(res.status().is_success(), "token request: {}", res.status());
    let body: serde_json::Value = res.json().await?;
    Ok(body["access_token"].as_str().context("no access_token")?.to_string())
}

/// NHS numbers of patients the system may see, found through the API.
async fn collect(http: &Client, base: &Url, bearer: &str, args: &Args) -> Result<Vec<String>> {
    let mut out = vec![];
    for surname in args.surnames.split(',') {
        let mut offset = 0;
        while out.len() < args.max_numbers && offset < 1000 {
            let url = base.join(&format!("/fhir/Patient?family={surname}&_count=100&_offset={offset}"))?;
            let res = http.get(url).bearer_auth(bearer).send().await?;
            ensure!(res.status().is_success(), "collecting: {}", res.status());
            let b: serde_json::Value = res.json().await?;
            let entries = b["entry"].as_array().cloned().unwrap_or_default();
            for e in &entries {
                for id in e["resource"]["identifier"].as_array().into_iter().flatten() {
                    if id["system"] == "https://fhir.nhs.uk/Id/nhs-number" {
                        out.extend(id["value"].as_str().map(str::to_string));
                    }
                }
            }
            if entries.len() < 100 {
                break;
            }
            offset += 100;
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let base = loopback(&args.base)?;
    let build = || {
        Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(args.timeout))
            .build()
    };
    let http = build()?;
    let bearer = token(&http, &base, &args).await?;
    let started = Instant::now();
    let numbers = collect(&http, &base, &bearer, &args).await?;
    ensure!(!numbers.is_empty(), "the system sees no patient with an NHS number");
    eprintln!(
        "collected {} NHS numbers in {:.1} s",
        numbers.len(),
        started.elapsed().as_secs_f64()
    );
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = vec![];
    for _ in 0..args.clients {
        let http = build()?;
        let bearer = token(&http, &base, &args).await?;
        let numbers = numbers.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
            let mut errors = 0u64;
            let mut misses = 0u64;
            while Instant::now() < deadline {
                let nhs = {
                    let mut rng = rand::thread_rng();
                    numbers.choose(&mut rng).cloned().unwrap_or_default()
                };
                let url = base
                    .join(&format!(
                        "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{nhs}"
                    ))
                    .expect("url");
                let t = Instant::now();
                let ok = match http.get(url).bearer_auth(&bearer).send().await {
                    Ok(res) if res.status().is_success() => match res.text().await {
                        Ok(body) => {
                            if !body.contains(&nhs) {
                                misses += 1;
                            }
                            true
                        }
                        Err(_) => false,
                    },
                    _ => false,
                };
                hist.record(t.elapsed().as_micros().max(1) as u64).ok();
                if !ok {
                    errors += 1;
                }
            }
            (hist, errors, misses)
        }));
    }
    let mut all = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let (mut errors, mut misses) = (0, 0);
    for t in tasks {
        let (h, e, m) = t.await?;
        all.add(&h)?;
        errors += e;
        misses += m;
    }
    let secs = args.seconds as f64;
    let ms = |q: f64| all.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "| scenario | clients | seconds | requests | errors | misses | req/s | p50 ms | p90 ms | p99 ms | max ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| FHIR Patient by NHS number | {} | {} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
        args.clients,
        args.seconds,
        all.len(),
        errors,
        misses,
        all.len() as f64 / secs,
        ms(0.5),
        ms(0.9),
        ms(0.99),
        all.max() as f64 / 1000.0
    );
    Ok(())
}
