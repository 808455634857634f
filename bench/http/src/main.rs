//! Closed-loop HTTP load generator for a Kindred server on this machine.
//!
//! Every client signs in with its own session, then loops until the time is
//! up: `family` fetches a random family page, `search` posts a surname search,
//! `mixed` does 80% family pages and 20% searches, `triage` fetches the
//! triage queue (page 1 most often, else one of its first 20 pages), and
//! `profile` fetches the 360° profile of `--profile-family`, and `one-family`
//! that family's page (the figure for a family with thousands of contacts).
//! `load` mixes reads and writes (family pages, searches, case notes written
//! on a family, new families): run it as a practitioner who may write on the
//! families they see. `--server-pid` samples the server's memory. Each request's latency (to
//! the last byte of the body) goes into an HdrHistogram in microseconds; any
//! non-2xx status, transport error, timeout or search page without results
//! heading counts as an error. `--think-ms` makes each client a person at a
//! screen rather than a robot: after every response it waits a random time,
//! exponentially distributed with that mean (the interactive model of
//! JMeter's timers or Locust's `wait_time`); without it the loop is closed
//! and every client asks again at once, which measures capacity. Failed requests are recorded at the time they
//! failed (a timeout at `--timeout`), so percentiles never hide them.
//!
//! Safety: the base URL must be a loopback address (127.0.0.0/8, ::1 or
//! `localhost`, which is pinned to 127.0.0.1), redirects are never followed,
//! proxies are ignored, and every run stops by itself after `--seconds` (plus
//! at most one request timeout).

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, StatusCode, Url, redirect};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Surnames common in the demo partnership, and a few deliberate typos that
/// the typo-tolerant search should still match.
const SURNAMES: &[&str] = &[
    "Smith", "Khan", "Patel", "Jones", "Ahmed", "Hughes", "Okafor", "Nowak", "Silva", "Begum", "Brown", "Taylor",
    "Ali", "Murphy", "Singh", // typos:
    "Smiht", "Kahn", "Pattel", "Jnoes", "Okafur",
];

const MAX_CLIENTS: usize = 1000;
const MAX_SECONDS: u64 = 3600;

#[derive(Parser, Debug)]
#[command(version, about = "HTTP benchmark for a Kindred server on loopback")]
struct Args {
    /// Server base URL; must be on loopback.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// Concurrent clients, each with its own session and connection.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Duration of each scenario.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    #[arg(long, default_value = "manager@westminster.example")]
    user: String,
    #[arg(long, env = "KINDRED_BENCH_PASSWORD", default_value = "kindred-demo-2026")]
    password: String,
    /// One or more scenarios, comma-separated; run one after another on the same sessions.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mixed")]
    scenario: Vec<Scenario>,
    /// Home-page pages (25 families each) to walk when collecting family ids.
    #[arg(long, default_value_t = 40)]
    max_pages: u32,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Seed for the random choices (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// The family whose 360° profile the `profile` scenario fetches, and whose
    /// page the `one-family` scenario fetches.
    #[arg(long)]
    profile_family: Option<i64>,
    /// The server's process id: its resident memory is sampled every 10 s
    /// during each scenario and printed (is memory flat under load?).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Mean think time in milliseconds between a client's requests
    /// (exponentially distributed, capped at ten times the mean); 0: none.
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Family,
    Search,
    Mixed,
    Triage,
    Profile,
    OneFamily,
    /// Reads and writes together, as a working day: 60% family pages, 15%
    /// searches, 20% case notes written on a family, 5% new families.
    Load,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Family => "family",
            Scenario::Search => "search",
            Scenario::Mixed => "mixed",
            Scenario::Triage => "triage",
            Scenario::Profile => "profile",
            Scenario::OneFamily => "one-family",
            Scenario::Load => "load",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Family,
    Search,
    Triage,
    Profile,
    OneFamily,
    Note,
    NewFamily,
}

/// One signed-in client: its own cookie jar, connection and CSRF token.
struct Session {
    http: Client,
    csrf: String,
}

/// Results of one kind of request, merged across clients.
struct KindStats {
    hist: Histogram<u64>,
    /// Non-2xx responses by status.
    statuses: BTreeMap<u16, u64>,
    /// Transport errors and timeouts.
    transport: u64,
    /// 2xx pages that were not what was asked for (e.g. a search with no results heading).
    bad_page: u64,
    /// Search only: results shown, summed.
    hits: u64,
}

impl KindStats {
    fn new() -> Self {
        KindStats {
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds"),
            statuses: BTreeMap::new(),
            transport: 0,
            bad_page: 0,
            hits: 0,
        }
    }
    fn errors(&self) -> u64 {
        self.statuses.values().sum::<u64>() + self.transport + self.bad_page
    }
    fn requests(&self) -> u64 {
        self.hist.len()
    }
    fn merge(&mut self, o: &KindStats) {
        self.hist.add(&o.hist).expect("same bounds");
        for (k, v) in &o.statuses {
            *self.statuses.entry(*k).or_default() += v;
        }
        self.transport += o.transport;
        self.bad_page += o.bad_page;
        self.hits += o.hits;
    }
}

struct ClientStats {
    family: KindStats,
    search: KindStats,
    triage: KindStats,
    profile: KindStats,
    note: KindStats,
    new_family: KindStats,
}

impl ClientStats {
    fn new() -> Self {
        ClientStats {
            family: KindStats::new(),
            search: KindStats::new(),
            triage: KindStats::new(),
            profile: KindStats::new(),
            note: KindStats::new(),
            new_family: KindStats::new(),
        }
    }
    fn merge(&mut self, o: &ClientStats) {
        self.family.merge(&o.family);
        self.search.merge(&o.search);
        self.triage.merge(&o.triage);
        self.profile.merge(&o.profile);
        self.note.merge(&o.note);
        self.new_family.merge(&o.new_family);
    }
}

/// Accepts only loopback targets; returns the base URL and, for `localhost`,
/// the address it must resolve to.
fn loopback_base(s: &str) -> Result<(Url, Option<(String, SocketAddr)>)> {
    let url = Url::parse(s).with_context(|| format!("bad --base {s:?}"))?;
    ensure!(url.scheme() == "http", "--base must be http:// (loopback only)");
    let host = url.host_str().ok_or_else(|| anyhow!("--base has no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    if host.eq_ignore_ascii_case("localhost") {
        let pin = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        return Ok((url.clone(), Some((host.to_string(), pin))));
    }
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| anyhow!("--base host {host:?} must be a loopback IP or localhost"))?;
    ensure!(
        ip.is_loopback(),
        "--base {ip} is not a loopback address; refusing to send load there"
    );
    Ok((url, None))
}

fn client(pin: &Option<(String, SocketAddr)>, timeout: Duration) -> Result<Client> {
    let mut b = Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    if let Some((host, addr)) = pin {
        b = b.resolve(host, *addr);
    }
    Ok(b.build()?)
}

/// The value of the hidden `csrf` input on a page.
fn hidden_csrf(page: &str) -> Result<String> {
    const MARK: &str = r#"name="csrf" value=""#;
    let i = page.find(MARK).ok_or_else(|| anyhow!("no csrf field on the page"))? + MARK.len();
    let end = page[i..].find('"').ok_or_else(|| anyhow!("unterminated csrf value"))?;
    Ok(page[i..i + end].to_string())
}

async fn sign_in(
    base: &Url,
    pin: &Option<(String, SocketAddr)>,
    timeout: Duration,
    user: &str,
    password: &str,
) -> Result<Session> {
    let http = client(pin, timeout)?;
    let login = base.join("/login")?;
    let page = http.get(login.clone()).send().await?;
    ensure!(page.status() == StatusCode::OK, "GET /login: {}", page.status());
    let signin_csrf = hidden_csrf(&page.text().await?)?;
    let r = http
        .post(login)
        .form(&[("csrf", signin_csrf.as_str()), ("email", user), ("password", password)])
        .send()
        .await?;
    ensure!(
        r.status() == StatusCode::SEE_OTHER,
        "POST /login: {} (wrong user or password?)",
        r.status()
    );
    ensure!(
        r.headers().get("location").is_none_or(|l| l != "/mfa"),
        "the server asks for a second factor: serve it with --mfa off for load tests"
    );
    let page = http.get(base.join("/search")?).send().await?;
    ensure!(
        page.status() == StatusCode::OK,
        "GET /search after sign-in: {}",
        page.status()
    );
    let csrf = hidden_csrf(&page.text().await?)?;
    Ok(Session { http, csrf })
}

/// Family ids linked from `href="/families/{id}"` on a page.
fn family_links(page: &str, out: &mut Vec<i64>, seen: &mut HashSet<i64>) {
    const MARK: &str = r#"href="/families/"#;
    let mut rest = page;
    while let Some(i) = rest.find(MARK) {
        rest = &rest[i + MARK.len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if rest[digits.len()..].starts_with('"')
            && let Ok(id) = digits.parse::<i64>()
            && seen.insert(id)
        {
            out.push(id);
        }
    }
}

async fn collect_families(s: &Session, base: &Url, max_pages: u32) -> Result<Vec<i64>> {
    let mut ids = vec![];
    let mut seen = HashSet::new();
    for page in 1..=max_pages.max(1) {
        let r = s.http.get(base.join(&format!("/?page={page}"))?).send().await?;
        ensure!(r.status() == StatusCode::OK, "GET /?page={page}: {}", r.status());
        let body = r.text().await?;
        family_links(&body, &mut ids, &mut seen);
        if !body.contains(r#"rel="next""#) {
            break;
        }
    }
    Ok(ids)
}

/// The N in "<h2 …>N people found</h2>" (or "More than N people found") on a search results page.
fn search_hits(page: &str) -> Option<u64> {
    let i = page.find(" found</h2>")?;
    let head = &page[..i];
    let start = head.rfind('>')? + 1;
    head[start..].split_whitespace().find_map(|w| w.parse().ok())
}

/// What one client does in a scenario, besides its session and seed.
#[derive(Clone, Copy)]
struct Plan {
    scenario: Scenario,
    deadline: Instant,
    profile_family: Option<i64>,
    think_ms: u64,
}

async fn run_client(s: Arc<Session>, base: Arc<Url>, families: Arc<Vec<i64>>, plan: Plan, seed: u64) -> ClientStats {
    let Plan {
        scenario,
        deadline,
        profile_family,
        think_ms,
    } = plan;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut st = ClientStats::new();
    let search_url = base.join("/search").expect("join");
    while Instant::now() < deadline {
        think(&mut rng, think_ms).await;
        let kind = match scenario {
            Scenario::Family => Kind::Family,
            Scenario::Search => Kind::Search,
            Scenario::Mixed if rng.gen_bool(0.8) => Kind::Family,
            Scenario::Mixed => Kind::Search,
            Scenario::Triage => Kind::Triage,
            Scenario::Profile => Kind::Profile,
            Scenario::OneFamily => Kind::OneFamily,
            Scenario::Load => match rng.gen_range(0..100) {
                0..60 => Kind::Family,
                60..75 => Kind::Search,
                75..95 => Kind::Note,
                _ => Kind::NewFamily,
            },
        };
        let req = match kind {
            Kind::Family => {
                let id = families[rng.gen_range(0..families.len())];
                s.http.get(base.join(&format!("/families/{id}")).expect("join"))
            }
            Kind::Search => {
                let name = SURNAMES[rng.gen_range(0..SURNAMES.len())];
                s.http.post(search_url.clone()).form(&[
                    ("csrf", s.csrf.as_str()),
                    ("name", name),
                    ("dob_day", ""),
                    ("dob_month", ""),
                    ("dob_year", ""),
                    ("nhs_number", ""),
                    ("postcode", ""),
                ])
            }
            Kind::Triage => {
                let page = if rng.gen_bool(0.7) { 1 } else { rng.gen_range(1..=20) };
                s.http.get(base.join(&format!("/triage?page={page}")).expect("join"))
            }
            Kind::Profile => {
                let id = profile_family.expect("checked in main");
                s.http.get(base.join(&format!("/families/{id}/profile")).expect("join"))
            }
            Kind::OneFamily => {
                let id = profile_family.expect("checked in main");
                s.http.get(base.join(&format!("/families/{id}")).expect("join"))
            }
            Kind::Note => {
                let id = families[rng.gen_range(0..families.len())];
                // As a practitioner does: open the form, tick who was there, save.
                // Only the save is timed; a form that cannot be opened is an error.
                let form = s
                    .http
                    .get(base.join(&format!("/families/{id}/contacts/new")).expect("join"))
                    .send()
                    .await;
                let page = match form {
                    Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
                    Ok(r) => {
                        *st.note.statuses.entry(r.status().as_u16()).or_default() += 1;
                        continue;
                    }
                    Err(_) => {
                        st.note.transport += 1;
                        continue;
                    }
                };
                let Some(person) = first_person(&page) else {
                    st.note.bad_page += 1;
                    continue;
                };
                let (d, m, y) = today();
                s.http
                    .post(base.join(&format!("/families/{id}/contacts/new")).expect("join"))
                    .form(&[
                        ("csrf", s.csrf.as_str()),
                        ("occurred_day", d.as_str()),
                        ("occurred_month", m.as_str()),
                        ("occurred_year", y.as_str()),
                        ("mode", "phone"),
                        ("visibility", "team"),
                        ("person", person.as_str()),
                        ("text", "Load test: phoned to check in; no change."),
                    ])
            }
            Kind::NewFamily => {
                let n: u32 = rng.r#gen();
                let family_name = format!("Loadtest{n}");
                s.http.post(base.join("/families/new").expect("join")).form(&[
                    ("csrf", s.csrf.as_str()),
                    ("household_name", &format!("{family_name} household")),
                    ("role", "parent"),
                    ("given_name", "Rhiannon"),
                    ("family_name", &family_name),
                    ("dob_day", "9"),
                    ("dob_month", "11"),
                    ("dob_year", "1993"),
                    ("line1", "1 Load Street"),
                    ("town", "London"),
                    ("postcode", "W2 1AA"),
                ])
            }
        };
        let k = match kind {
            Kind::Family => &mut st.family,
            Kind::Search => &mut st.search,
            Kind::Triage => &mut st.triage,
            // One scenario runs at a time: the single-family kinds share a slot.
            Kind::Profile | Kind::OneFamily => &mut st.profile,
            Kind::Note => &mut st.note,
            Kind::NewFamily => &mut st.new_family,
        };
        let t0 = Instant::now();
        let outcome = match req.send().await {
            Ok(r) => {
                let status = r.status();
                r.bytes().await.map(|b| (status, b))
            }
            Err(e) => Err(e),
        };
        let micros = t0.elapsed().as_micros() as u64;
        match outcome {
            Ok((status, body)) => {
                k.hist.saturating_record(micros.max(1));
                let written = matches!(kind, Kind::Note | Kind::NewFamily);
                if written {
                    // A write is accepted with a redirect to what it changed.
                    if status != StatusCode::SEE_OTHER {
                        *k.statuses.entry(status.as_u16()).or_default() += 1;
                    }
                } else if !status.is_success() {
                    *k.statuses.entry(status.as_u16()).or_default() += 1;
                } else if kind == Kind::Search {
                    match search_hits(&String::from_utf8_lossy(&body)) {
                        Some(n) => k.hits += n,
                        None => k.bad_page += 1,
                    }
                } else {
                    // Each page is checked for what it must show, so an error page cannot pass.
                    let must_show = match kind {
                        Kind::Triage => Some("waiting, soonest due first"),
                        Kind::Profile => Some("360° profile"),
                        Kind::OneFamily => Some("contacts with the family in the last 12 months"),
                        _ => None,
                    };
                    if must_show.is_some_and(|m| !String::from_utf8_lossy(&body).contains(m)) {
                        k.bad_page += 1;
                    }
                }
            }
            Err(_) => {
                // Recorded too (a timeout at its limit), so a run of timeouts
                // shows in the percentiles rather than vanishing from them.
                k.hist.saturating_record(micros.max(1));
                k.transport += 1;
                // A dead server should not turn into a busy loop.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    st
}

/// A person's pause before the next request: exponential with mean
/// `mean_ms`, capped at ten times the mean (nothing when `mean_ms` is 0).
async fn think(rng: &mut StdRng, mean_ms: u64) {
    if mean_ms == 0 {
        return;
    }
    let u: f64 = rng.r#gen();
    let ms = (-(mean_ms as f64) * (1.0 - u).ln()).min(10.0 * mean_ms as f64);
    tokio::time::sleep(Duration::from_micros((ms * 1000.0) as u64)).await;
}

/// The first family member offered on the new-contact form ("who was there").
fn first_person(page: &str) -> Option<String> {
    const MARK: &str = r#"name="person" type="checkbox" value=""#;
    let i = page.find(MARK)? + MARK.len();
    let digits: String = page[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    (!digits.is_empty()).then_some(digits)
}

/// Today as the day, month and year boxes of a form.
fn today() -> (String, String, String) {
    let d = time::OffsetDateTime::now_utc().date();
    (d.day().to_string(), (d.month() as u8).to_string(), d.year().to_string())
}

/// The resident set size of process `pid` in MiB, from /proc.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

struct Row {
    scenario: &'static str,
    kind: &'static str,
    clients: usize,
    secs: f64,
    requests: u64,
    errors: u64,
    rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    note: String,
}

fn row(scenario: Scenario, kind: &'static str, k: &KindStats, clients: usize, secs: f64) -> Row {
    let h = &k.hist;
    let mut note = vec![];
    if !k.statuses.is_empty() {
        note.push(format!("statuses {:?}", k.statuses));
    }
    if k.transport > 0 {
        note.push(format!("{} transport errors/timeouts", k.transport));
    }
    if k.bad_page > 0 {
        note.push(format!("{} search pages without results heading", k.bad_page));
    }
    let ok = h.len().saturating_sub(k.errors());
    if kind == "search" && ok > 0 {
        note.push(format!("mean {:.1} results shown", k.hits as f64 / ok as f64));
    }
    Row {
        scenario: scenario.name(),
        kind,
        clients,
        secs,
        requests: k.requests(),
        errors: k.errors(),
        rps: k.requests() as f64 / secs,
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
        note: note.join("; "),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let (base, pin) = loopback_base(&args.base)?;
    ensure!(
        (1..=MAX_CLIENTS).contains(&args.clients),
        "--clients must be 1..={MAX_CLIENTS}"
    );
    ensure!(
        (1..=MAX_SECONDS).contains(&args.seconds),
        "--seconds must be 1..={MAX_SECONDS}"
    );
    let timeout = Duration::from_secs(args.timeout.clamp(1, 120));
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });

    // Sign every client in (argon2 on the server makes this slow; not measured).
    let t = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..args.clients {
        let (base, pin, user, pw) = (base.clone(), pin.clone(), args.user.clone(), args.password.clone());
        set.spawn(async move { (i, sign_in(&base, &pin, timeout, &user, &pw).await) });
    }
    let mut sessions: Vec<Option<Session>> = (0..args.clients).map(|_| None).collect();
    while let Some(r) = set.join_next().await {
        let (i, s) = r?;
        sessions[i] = Some(s.with_context(|| format!("client {i} could not sign in"))?);
    }
    let sessions: Vec<Arc<Session>> = sessions.into_iter().map(|s| Arc::new(s.unwrap())).collect();
    eprintln!(
        "signed in {} clients as {} in {:.1}s",
        args.clients,
        args.user,
        t.elapsed().as_secs_f64()
    );

    let families = collect_families(&sessions[0], &base, args.max_pages).await?;
    ensure!(
        args.profile_family.is_some()
            || !args
                .scenario
                .iter()
                .any(|s| matches!(s, Scenario::Profile | Scenario::OneFamily)),
        "the profile and one-family scenarios need --profile-family ID"
    );
    if families.is_empty()
        && args
            .scenario
            .iter()
            .any(|s| matches!(s, Scenario::Family | Scenario::Mixed | Scenario::Load))
    {
        bail!("{} sees no families; nothing to fetch", args.user);
    }
    eprintln!(
        "collected {} family ids from up to {} pages",
        families.len(),
        args.max_pages
    );
    let families = Arc::new(families);
    let base = Arc::new(base);

    let mut rows = vec![];
    let mut memory = vec![];
    for (n, &scenario) in args.scenario.iter().enumerate() {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(args.seconds);
        let mut sampler = args.server_pid.map(|pid| tokio::spawn(sample_memory(pid, deadline)));
        let mut set = JoinSet::new();
        for (i, s) in sessions.iter().enumerate() {
            set.spawn(run_client(
                s.clone(),
                base.clone(),
                families.clone(),
                Plan {
                    scenario,
                    deadline,
                    profile_family: args.profile_family,
                    think_ms: args.think_ms,
                },
                seed.wrapping_add((n * MAX_CLIENTS + i) as u64),
            ));
        }
        let mut all = ClientStats::new();
        // Hard stop: the deadline plus one request timeout plus slack.
        let hard = deadline + timeout + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(hard, set.join_next()).await {
                Ok(Some(r)) => {
                    all.merge(&r?);
                }
                Ok(None) => break,
                Err(_) => {
                    eprintln!("warning: clients still busy past the hard stop; aborting them");
                    set.abort_all();
                    break;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let c = args.clients;
        match scenario {
            Scenario::Family => rows.push(row(scenario, "family", &all.family, c, secs)),
            Scenario::Search => rows.push(row(scenario, "search", &all.search, c, secs)),
            Scenario::Triage => rows.push(row(scenario, "triage", &all.triage, c, secs)),
            Scenario::Profile => rows.push(row(scenario, "profile", &all.profile, c, secs)),
            Scenario::OneFamily => rows.push(row(scenario, "one family", &all.profile, c, secs)),
            Scenario::Mixed => {
                let mut both = KindStats::new();
                both.merge(&all.family);
                both.merge(&all.search);
                rows.push(row(scenario, "family", &all.family, c, secs));
                rows.push(row(scenario, "search", &all.search, c, secs));
                rows.push(row(scenario, "all", &both, c, secs));
            }
            Scenario::Load => {
                let mut every = KindStats::new();
                for k in [&all.family, &all.search, &all.note, &all.new_family] {
                    every.merge(k);
                }
                rows.push(row(scenario, "family", &all.family, c, secs));
                rows.push(row(scenario, "search", &all.search, c, secs));
                rows.push(row(scenario, "case note (write)", &all.note, c, secs));
                rows.push(row(scenario, "new family (write)", &all.new_family, c, secs));
                rows.push(row(scenario, "all", &every, c, secs));
            }
        }
        let shown = match scenario {
            Scenario::Mixed => 3,
            Scenario::Load => 5,
            _ => 1,
        };
        if let Some(series) = sampler.take() {
            let series = series.await?;
            memory.push((scenario.name(), series));
        }
        for r in &rows[rows.len() - shown..] {
            println!(
                "{}/{}: clients={} secs={:.1} requests={} errors={} throughput={:.1} req/s p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms{}",
                r.scenario,
                r.kind,
                r.clients,
                r.secs,
                r.requests,
                r.errors,
                r.rps,
                r.p50,
                r.p90,
                r.p99,
                r.max,
                if r.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.note)
                }
            );
        }
    }

    println!();
    if args.think_ms > 0 {
        println!(
            "each client thinks {} ms on average (exponential) between requests",
            args.think_ms
        );
    }
    println!(
        "| scenario | request | clients | seconds | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.1} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.scenario, r.kind, r.clients, r.secs, r.requests, r.errors, r.rps, r.p50, r.p90, r.p99, r.max
        );
    }
    for (scenario, series) in memory {
        let Some((first, last)) = series.first().zip(series.last()) else {
            continue;
        };
        let max = series.iter().map(|(_, m)| *m).fold(0.0, f64::max);
        let samples: Vec<String> = series.iter().map(|(t, m)| format!("{t}s {m:.0}")).collect();
        println!();
        println!(
            "server memory (RSS MiB) during {scenario}: first {:.0}, last {:.0}, max {max:.0}; samples: {}",
            first.1,
            last.1,
            samples.join(", ")
        );
    }
    Ok(())
}

/// The server's resident memory every 10 seconds until `deadline`: (seconds in, MiB).
async fn sample_memory(pid: u32, deadline: Instant) -> Vec<(u64, f64)> {
    let start = Instant::now();
    let mut out = vec![];
    loop {
        if let Some(m) = rss_mib(pid) {
            out.push((start.elapsed().as_secs(), m));
        }
        if Instant::now() >= deadline {
            return out;
        }
        tokio::time::sleep_until((Instant::now() + Duration::from_secs(10)).min(deadline)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(loopback_base("http://127.0.0.1:8080").is_ok());
        assert!(loopback_base("http://127.1.2.3:8080").is_ok());
        assert!(loopback_base("http://[::1]:8080").is_ok());
        assert!(loopback_base("http://localhost:8080").unwrap().1.is_some());
        assert!(loopback_base("http://10.0.0.1:8080").is_err());
        assert!(loopback_base("http://192.168.1.1").is_err());
        assert!(loopback_base("http://example.com").is_err());
        assert!(loopback_base("https://127.0.0.1").is_err());
    }

    #[test]
    fn parses_pages() {
        let page = r#"<input type="hidden" name="csrf" value="abc123"><a href="/families/12">A</a>
            <a href="/families/new">new</a><a href="/families/12">again</a><a href="/families/7/edit">e</a>"#;
        assert_eq!(hidden_csrf(page).unwrap(), "abc123");
        let (mut ids, mut seen) = (vec![], HashSet::new());
        family_links(page, &mut ids, &mut seen);
        assert_eq!(ids, vec![12]);
        assert_eq!(
            search_hits(r#"<h2 class="govuk-heading-m">37 people found</h2>"#),
            Some(37)
        );
        assert_eq!(
            search_hits(r#"<h2 class="govuk-heading-m">1 person found</h2>"#),
            Some(1)
        );
        assert_eq!(
            search_hits(r#"<h2 class="govuk-heading-m">More than 50 people found</h2>"#),
            Some(50)
        );
        assert_eq!(search_hits("<h1>Search</h1>"), None);
        let form = r#"<input class="govuk-checkboxes__input" id="person-41" name="person" type="checkbox" value="41">"#;
        assert_eq!(first_person(form).as_deref(), Some("41"));
        assert_eq!(first_person("<form></form>"), None);
    }
}
