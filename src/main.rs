//! The `kindred` binary: a thin command line over the library crates.

use std::io::{BufRead, IsTerminal};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use kindred_domain::model::{OrgKind, Profession, Role};
use kindred_store::Db;
use kindred_store::users::NewUser;

#[derive(Parser)]
#[command(
    name = "kindred",
    version,
    about = "The shared whole-family record and workflow for family hubs"
)]
struct Cli {
    /// Database URL: sqlite://FILE or postgres://…
    #[arg(long, global = true, env = "KINDRED_DATABASE_URL", default_value = kindred_store::DEFAULT_URL)]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Users reach Kindred over HTTPS (through a TLS-terminating proxy): use
    /// `__Host-` Secure cookies and send HSTS.
    #[arg(long, env = "KINDRED_HTTPS")]
    https: bool,
    /// SMTP server for email notifications, e.g. `smtp://mail.example.org:587?tls=required`.
    /// Without it, notifications are in the app only.
    #[arg(long, env = "KINDRED_SMTP_URL")]
    smtp_url: Option<String>,
    /// The From address of Kindred's email.
    #[arg(
        long,
        env = "KINDRED_MAIL_FROM",
        default_value = "Kindred <no-reply@kindred.invalid>"
    )]
    mail_from: String,
    /// Requests per second each client address may make to the public routes
    /// (the directory, self-referral, Open Referral UK, /oauth/token,
    /// /fhir/metadata, /api/openapi.json); over it they get 429 and Retry-After.
    /// 0 turns the limit off.
    #[arg(long, env = "KINDRED_RATE_LIMIT", default_value_t = kindred_web::rate_limit::RateLimit::DEFAULT.per_second.get())]
    rate_limit: u32,
    /// How many requests to the public routes one address may make at once.
    #[arg(long, env = "KINDRED_RATE_LIMIT_BURST", default_value_t = kindred_web::rate_limit::RateLimit::DEFAULT.burst.get())]
    rate_limit_burst: u32,
    /// The address of a proxy in front of Kindred (repeat, or comma-separate in
    /// the environment) whose X-Forwarded-For names the client, so that rate
    /// limits and sign-in throttles count each client rather than the proxy.
    #[arg(long = "trusted-proxy", env = "KINDRED_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Multi-factor authentication: `required` (the default for `serve`) asks
    /// every user whose roles reach case data for a code from an authenticator
    /// app after their password, and has them enrol at their first sign-in;
    /// `off` (the default for `demo`) asks no one.
    #[arg(long, env = "KINDRED_MFA", value_enum)]
    mfa: Option<MfaSetting>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MfaSetting {
    Required,
    Off,
}

impl From<MfaSetting> for kindred_web::Mfa {
    fn from(m: MfaSetting) -> Self {
        match m {
            MfaSetting::Required => kindred_web::Mfa::Required,
            MfaSetting::Off => kindred_web::Mfa::Off,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application.
    Serve(ServeArgs),
    /// Build a synthetic partnership into an empty database, print the demo sign-ins, and serve it.
    Demo {
        /// Number of families.
        #[arg(long, default_value_t = 5_000)]
        families: u32,
        /// Seed for the generator: the same seed gives the same partnership.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Build the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// The share of families, in percent, with a referral waiting in the triage queue.
        #[arg(long, default_value_t = 3.0)]
        open_referral_percent: f64,
        /// Build only the families, their people and the partner systems, with no
        /// casework, feeds, outcomes or directory: for benchmarks at a million persons.
        #[arg(long)]
        no_casework: bool,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Create or bring the database schema up to date.
    Migrate,
    /// Local authorities (tenants).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Partner organisations.
    Organisation {
        #[command(subcommand)]
        command: OrganisationCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Partner systems: OAuth2 clients for the FHIR API and Kindred's own API.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Make the missing transition-plan tasks for every tenant's young people
    /// approaching 18, and print how many were made. Running it again makes none.
    Transitions,
    /// Import a feed: `kindred import live_births births.csv --tenant westminster --organisation "…"`.
    /// Rows are checked one by one; rejected rows go to a rejects file with their line,
    /// column and reason, the rest land. Running the same file again duplicates nothing.
    Import(ImportArgs),
    /// Pull another directory's Open Referral UK 3.0 feed into a tenant's directory:
    /// `kindred import-oruk https://example.org/openreferral --tenant westminster`.
    /// Every page is read; running it again updates what changed and duplicates nothing;
    /// a service the feed no longer lists becomes inactive. Skipped records are listed with their reasons.
    ImportOruk(ImportOrukArgs),
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The retention rule of a tenant and the families it flags for review:
    /// `kindred retention --tenant westminster [--years 6]`. With `--years`,
    /// sets the rule first. Prints family numbers only; the privacy officer
    /// reviews them at /privacy/retention.
    Retention {
        #[arg(long)]
        tenant: String,
        /// Years after a family's last activity before it is flagged (1 to 100).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=100))]
        years: Option<i64>,
    },
    /// Find the records of one person across systems: deduplicate one CSV, or link two.
    Link(LinkArgs),
    /// Write an online, consistent copy of the database to FILE while the server
    /// runs, then check it. SQLite: `VACUUM INTO` (the copy is a database file;
    /// its integrity and audit chain are checked). PostgreSQL: `pg_dump
    /// --format=custom` (needs postgresql-client); restore with `pg_restore`.
    /// Never overwrites FILE.
    Backup {
        /// Where to write the copy; it must not exist.
        file: std::path::PathBuf,
    },
}

#[derive(Args)]
struct ImportOrukArgs {
    /// The feed's base URL (the one its `/services` hangs from).
    url: String,
    /// The tenant (local authority) code whose directory receives the services.
    #[arg(long)]
    tenant: String,
    /// What to call the feed (shown as "Listed by …"); the URL's host when not given.
    #[arg(long)]
    name: Option<String>,
}

/// `kindred link --input A.csv [--input B.csv] --output pairs.csv [--clusters clusters.csv]
/// [--threshold P] [--config link.toml] [--seed N]` (ignores `--db`).
#[derive(Args)]
struct LinkArgs {
    /// An input CSV; give one to deduplicate it, two to link the first to the second.
    #[arg(long = "input", required = true)]
    inputs: Vec<std::path::PathBuf>,
    /// Where to write `left_id,right_id,match_probability,match_weight`.
    #[arg(long)]
    output: std::path::PathBuf,
    /// Where to write `id,cluster_id` for every record.
    #[arg(long)]
    clusters: Option<std::path::PathBuf>,
    /// Keep and cluster pairs at or above this match probability (default 0.9, or the config's).
    #[arg(long)]
    threshold: Option<f64>,
    /// Settings (TOML): threshold, blocking rules, sample sizes.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Seed for the random sampling: the same seed gives the same output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Add a local authority: `kindred tenant add westminster "Westminster City Council"`.
    Add { code: String, name: String },
    /// How soon referrals must be triaged: `kindred tenant triage-time westminster --hours 16 --working-hours`.
    TriageTime {
        code: String,
        /// Hours after a referral arrives (1 to 672).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=672))]
        hours: u32,
        /// Count only working hours (Monday to Friday, 09:00 to 17:00 UK time).
        #[arg(long)]
        working_hours: bool,
    },
}

#[derive(Subcommand)]
enum OrganisationCommand {
    /// Add an organisation to a tenant.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// One of: early_help, childrens_social_care, health_visiting, midwifery, school,
        /// school_nursing, gp_practice, camhs, adult_mental_health, adult_social_care,
        /// housing, police, vcs, family_hub.
        #[arg(long)]
        kind: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is asked for on a terminal, or read as one line from standard input.
    Add {
        #[arg(long)]
        tenant: String,
        /// The organisation's exact name.
        #[arg(long)]
        organisation: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// For example health_visitor, social_worker, early_help_worker, administrator.
        #[arg(long)]
        profession: String,
        /// practitioner, triage, manager or admin; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a partner system acting for one organisation; prints its
    /// client id and secret (the secret is shown only this once).
    Add {
        #[arg(long)]
        tenant: String,
        /// The organisation's exact name.
        #[arg(long)]
        organisation: String,
        /// The system's name, shown to administrators and in the audit trail.
        #[arg(long)]
        name: String,
    },
}

#[derive(Args)]
struct ImportArgs {
    /// person_extract, live_births, missed_immunisations or antenatal_bookings.
    kind: String,
    /// The CSV file (with a header line).
    file: std::path::PathBuf,
    /// The local authority's code.
    #[arg(long)]
    tenant: String,
    /// The exact name of the organisation that supplies the file.
    #[arg(long)]
    organisation: String,
    /// For a person extract: a TOML file naming the extract's columns and source system.
    #[arg(long)]
    mapping: Option<std::path::PathBuf>,
    /// The source system the rows' keys belong to (default: the mapping's, or the feed's name).
    #[arg(long)]
    source_system: Option<String>,
    /// Where rejected rows go (default: FILE.rejects.csv, written only when a row is rejected).
    #[arg(long)]
    rejects: Option<std::path::PathBuf>,
    /// Match probability at or above which a row is linked to a person automatically.
    #[arg(long, default_value_t = kindred_domain::feeds::Thresholds::default().link)]
    link_threshold: f64,
    /// Match probability at or above which (and below the link threshold) a row waits for review.
    #[arg(long, default_value_t = kindred_domain::feeds::Thresholds::default().review)]
    review_threshold: f64,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain and report the first broken link.
    Verify,
}

fn link(args: LinkArgs) -> anyhow::Result<()> {
    let opts = kindred_linkage::cli::LinkOptions {
        inputs: args.inputs,
        output: args.output,
        clusters: args.clusters,
        threshold: args.threshold,
        config: args.config,
        seed: args.seed,
    };
    let s = kindred_linkage::cli::run(&opts, &kindred_linkage::progress::StderrProgress::new())?;
    println!(
        "Linked {} records: {} pairs at or above {}, {} clusters.",
        s.stats.records, s.pairs_written, s.threshold, s.stats.clusters
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KINDRED_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; plain text for files and journals.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Link(args) => link(args),
        Command::Backup { file } => {
            let summary = kindred_store::backup::backup(&cli.db, &file).await?;
            println!("{}", summary.line());
            Ok(())
        }
        Command::Serve(args) => {
            let db = Db::open(&cli.db).await.context("opening the database")?;
            let mfa = args.mfa.unwrap_or(MfaSetting::Required);
            if mfa == MfaSetting::Off {
                println!("Multi-factor authentication is off (--mfa off): a password alone signs anyone in.");
            }
            serve(db, args, mfa.into()).await
        }
        Command::Demo {
            families,
            seed,
            no_serve,
            open_referral_percent,
            no_casework,
            serve: args,
        } => {
            let db = Db::open(&cli.db).await.context("opening the database")?;
            let opts = kindred_demo::Options {
                families,
                seed,
                open_referral_percent,
                casework: !no_casework,
            };
            demo(&db, &opts).await?;
            if no_serve {
                return Ok(());
            }
            // Open afresh, so every connection plans with the statistics the
            // build ended with (`Db::analyze`), not those it started with.
            db.close().await;
            let db = Db::open(&cli.db).await.context("opening the database")?;
            let mfa = args.mfa.unwrap_or(MfaSetting::Off);
            if mfa == MfaSetting::Off {
                println!(
                    "Multi-factor authentication is off for the demo; add --mfa required to have each user enrol an authenticator app at first sign-in."
                );
            } else {
                println!(
                    "Multi-factor authentication is required: each demo user enrols an authenticator app at first sign-in."
                );
            }
            serve(db, args, mfa.into()).await
        }
        Command::Migrate => {
            Db::open(&cli.db).await.context("migrating the database")?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::Add { code, name },
        } => {
            let db = Db::open(&cli.db).await?;
            let t = db.create_tenant(&code, &name).await?;
            println!("Added tenant {} ({}).", t.code, t.id);
            Ok(())
        }
        Command::Tenant {
            command:
                TenantCommand::TriageTime {
                    code,
                    hours,
                    working_hours,
                },
        } => {
            let db = Db::open(&cli.db).await?;
            let t = db
                .tenant_by_code(&code)
                .await
                .with_context(|| format!("no tenant {code:?}"))?;
            let rule = kindred_domain::referral::DueRule {
                hours,
                working_hours_only: working_hours,
            };
            db.set_triage_rule(t.id, rule).await?;
            println!(
                "Referrals to {} are now due {hours} {} after they arrive.",
                t.code,
                if working_hours { "working hours" } else { "hours" }
            );
            Ok(())
        }
        Command::Organisation {
            command: OrganisationCommand::Add { tenant, name, kind },
        } => {
            let db = Db::open(&cli.db).await?;
            let t = db
                .tenant_by_code(&tenant)
                .await
                .with_context(|| format!("no tenant with code {tenant}"))?;
            let kind = OrgKind::parse(&kind).with_context(|| format!("unknown organisation kind {kind}"))?;
            let o = db.create_organisation(t.id, &name, kind).await?;
            println!("Added organisation {} ({}).", o.name, o.id);
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    tenant,
                    organisation,
                    email,
                    name,
                    profession,
                    roles,
                },
        } => {
            let db = Db::open(&cli.db).await?;
            user_add(&db, &tenant, &organisation, &email, &name, &profession, &roles).await
        }
        Command::Client {
            command:
                ClientCommand::Add {
                    tenant,
                    organisation,
                    name,
                },
        } => {
            let db = Db::open(&cli.db).await?;
            client_add(&db, &tenant, &organisation, &name).await
        }
        Command::Transitions => {
            let db = Db::open(&cli.db).await?;
            let made = db.create_all_transition_plans(kindred_store::today()).await?;
            db.audit(kindred_domain::audit::NewEvent {
                tenant_id: None,
                actor_user_id: None,
                action: kindred_domain::audit::AuditAction::Create,
                record_kind: "transition_list",
                record_id: None,
                family_id: None,
                route: "cli transitions".into(),
                detail: format!("tasks={made}"),
            })
            .await?;
            println!("Made {made} transition-plan task{}.", if made == 1 { "" } else { "s" });
            Ok(())
        }
        Command::Import(args) => {
            let db = Db::open(&cli.db).await?;
            import(&db, args).await
        }
        Command::ImportOruk(args) => {
            let db = Db::open(&cli.db).await?;
            import_oruk(&db, args).await
        }
        Command::Retention { tenant, years } => {
            let db = Db::open(&cli.db).await?;
            retention(&db, &tenant, years).await
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = Db::open(&cli.db).await?;
            let report = db.verify_audit().await?;
            match report.broken {
                None => {
                    println!("Audit chain intact: {} events verified.", report.checked);
                    Ok(())
                }
                Some(b) => bail!(
                    "Audit chain broken: {b} ({} events verified before it).",
                    report.checked
                ),
            }
        }
    }
}

async fn retention(db: &Db, tenant: &str, years: Option<i64>) -> anyhow::Result<()> {
    let t = db
        .tenant_by_code(tenant)
        .await
        .with_context(|| format!("no tenant with code {tenant:?}"))?;
    if let Some(y) = years {
        db.set_retention_rule(t.id, y, None).await?;
    }
    let rule = db.retention_rule(t.id).await?;
    let (due, total) = db.retention_due(t.id, kindred_store::today(), 1000).await?;
    db.audit(kindred_domain::audit::NewEvent {
        tenant_id: Some(t.id),
        actor_user_id: None,
        action: if years.is_some() {
            kindred_domain::audit::AuditAction::Update
        } else {
            kindred_domain::audit::AuditAction::Read
        },
        record_kind: "retention",
        record_id: None,
        family_id: None,
        route: "cli retention".into(),
        detail: format!("years={} flagged={total}", rule.years),
    })
    .await?;
    println!(
        "Retention rule for {}: flag a family {} years after its last activity{}.",
        t.code,
        rule.years,
        if rule.updated_at_ms.is_none() {
            " (the default)"
        } else {
            ""
        }
    );
    println!(
        "{total} famil{} flagged for review.",
        if total == 1 { "y" } else { "ies" }
    );
    for d in &due {
        println!(
            "  family {}: last activity {}",
            d.family_id,
            kindred_domain::dates::iso(d.last_activity)
        );
    }
    if total > due.len() as i64 {
        println!("  … and {} more", total - due.len() as i64);
    }
    Ok(())
}

async fn import_oruk(db: &Db, args: ImportOrukArgs) -> anyhow::Result<()> {
    let tenant = db
        .tenant_by_code(&args.tenant)
        .await
        .with_context(|| format!("no tenant with code {:?}", args.tenant))?;
    let url = args.url.trim().trim_end_matches('/').to_string();
    let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or("");
    if !(url.starts_with("http://") || url.starts_with("https://")) || host.is_empty() {
        bail!("the feed's URL must start with http:// or https://, like https://example.org/openreferral");
    }
    let name = args.name.unwrap_or_else(|| host.to_string());
    let source_id = db.upsert_directory_source(tenant.id, &name, &url).await?;
    let source = db
        .directory_source(source_id)
        .await?
        .context("the feed just recorded")?;
    let report = kindred_web::oruk_pull::pull(db, &source, &kindred_web::oruk_pull::client()).await?;
    println!("{}", report.summary());
    for s in &report.skipped {
        println!(
            "skipped {}: {}",
            if s.id.is_empty() { "(no id)" } else { &s.id },
            s.reason
        );
    }
    if report.error.is_some() {
        bail!("the pull stopped early; what was read has landed");
    }
    Ok(())
}

async fn import(db: &Db, args: ImportArgs) -> anyhow::Result<()> {
    use kindred_domain::feeds::{FeedKind, Thresholds};
    let kind = FeedKind::parse(&args.kind).with_context(|| {
        format!(
            "unknown feed {:?}: use one of {}",
            args.kind,
            FeedKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let tenant = db
        .tenant_by_code(&args.tenant)
        .await
        .with_context(|| format!("no tenant with code {:?}", args.tenant))?;
    let organisation = db
        .organisations(tenant.id)
        .await?
        .into_iter()
        .find(|o| o.name == args.organisation)
        .with_context(|| format!("no organisation named {:?} in {}", args.organisation, tenant.code))?;
    let mapping = match &args.mapping {
        Some(path) => Some(kindred_feeds::Mapping::parse(
            &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        )?),
        None => None,
    };
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let opts = kindred_feeds::ImportOptions {
        tenant_id: tenant.id,
        organisation_id: organisation.id,
        kind,
        source_system: args.source_system.clone(),
        mapping,
        file_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        started_by_user_id: None,
        thresholds: Thresholds {
            link: args.link_threshold,
            review: args.review_threshold,
        },
        today: kindred_store::today(),
    };
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(0);
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("Importing {}", kind.label()));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = |done: u64, total: u64| {
        if terminal {
            bar.set_length(total);
            bar.set_position(done);
        } else if total > 0 && (done * 10 / total) != ((done - done.min(kindred_feeds::BATCH as u64)) * 10 / total) {
            // Plain lines, about one per tenth of the file.
            eprintln!("import: {done}/{total} rows");
        }
    };
    let outcome = kindred_feeds::import(db, &bytes, &opts, &progress).await?;
    bar.finish_and_clear();
    db.audit(kindred_domain::audit::NewEvent {
        tenant_id: Some(tenant.id),
        actor_user_id: None,
        action: kindred_domain::audit::AuditAction::Create,
        record_kind: "import_run",
        record_id: Some(outcome.run_id),
        family_id: None,
        route: "cli import".into(),
        detail: format!("kind={} rows={}", kind.code(), outcome.rows),
    })
    .await?;
    let c = outcome.counts;
    println!(
        "Import {}: {} rows: {} new, {} changed, {} unchanged, {} rejected.",
        outcome.run_id, outcome.rows, c.new, c.updated, c.unchanged, c.rejected
    );
    println!(
        "Matching: {} linked, {} waiting for review, {} new people; {} counted only (no consent); {} tasks made; {} not shared with the hub.",
        c.linked, c.to_review, c.new_persons, c.counted_only, c.tasks_made, c.not_shared
    );
    if c.rejected > 0 {
        let path = args.rejects.clone().unwrap_or_else(|| {
            let mut p = args.file.clone().into_os_string();
            p.push(".rejects.csv");
            p.into()
        });
        let rejects = db.import_rejects(outcome.run_id).await?;
        std::fs::write(&path, kindred_feeds::rejects_csv(&rejects))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("Rejected rows, with their line, column and reason: {}", path.display());
    }
    Ok(())
}

async fn serve(db: Db, args: ServeArgs, mfa: kindred_web::Mfa) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let config = kindred_web::Config {
        tls: args.https,
        smtp: args.smtp_url.clone().map(|url| kindred_web::mail::Smtp {
            url,
            from: args.mail_from.clone(),
        }),
        public_rate_limit: kindred_web::rate_limit::RateLimit::new(args.rate_limit, args.rate_limit_burst),
        trusted_proxies: args.trusted_proxies.clone(),
        mfa,
        ..Default::default()
    };
    println!("Kindred is serving on http://{}", listener.local_addr()?);
    kindred_web::serve(db, config, listener).await
}

async fn demo(db: &Db, opts: &kindred_demo::Options) -> anyhow::Result<()> {
    let families = opts.families;
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(families as u64);
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} families ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("Building the demo partnership");
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = |done: u64, total: u64| {
        if terminal {
            bar.set_position(done);
        } else {
            eprintln!("demo: {done}/{total} families");
        }
    };
    let built = kindred_demo::build(db, opts, &progress).await?;
    bar.finish_and_clear();
    if let Some(s) = built {
        println!(
            "Built a demo partnership of {families} families in {:.1} s: {} referrals waiting for triage, {} contacts.",
            started.elapsed().as_secs_f64(),
            s.open_referrals,
            s.contacts
        );
        let stages: Vec<String> = s
            .stages
            .iter()
            .map(|(stage, secs)| format!("{stage} {secs:.1} s"))
            .collect();
        eprintln!("Time by stage: {}.", stages.join(", "));
        for (tenant, id) in &s.large_families {
            println!("A family of eight with 500 contacts this year ({tenant}): /families/{id}/profile");
        }
        if let Some((tenant, id)) = s.busiest_family {
            println!("A family of ten with 2,000 contacts this year ({tenant}): /families/{id}");
        }
        for (tenant, id) in &s.needs_add_up {
            println!("A family whose needs add up across services ({tenant}): /families/{id}");
        }
        for (id, code) in &s.portal_codes {
            println!("Family portal for a parent in /families/{id}: /portal/sign-in with the one-time code {code}");
        }
        for g in &s.glass {
            println!(
                "Break-glass ({}): family {} is sealed, and no one can break the glass on it; the privacy officer reviews the uses at /privacy/reviews",
                g.tenant, g.sealed_family
            );
            println!(
                "Try a break-glass ({}): sign in as {} and give the NHS number {} (a member of family {}, which they cannot see) at /break-glass",
                g.tenant, g.email, g.nhs_number, g.family_id
            );
        }
        for line in &s.consent {
            println!("{line}");
        }
        for (tenant, id, name) in &s.sar_subjects {
            println!(
                "A subject access request worth reading ({tenant}, as its privacy officer): /privacy/sar/{id} ({name}, a parent present at contacts)"
            );
        }
        for line in &s.retention {
            println!("Retention ({line}): as the privacy officer, /privacy/retention");
        }
        for line in &s.feeds {
            println!("Feeds ({line}): as the data officer, /imports and /matches; the hubs' reach at /reach");
        }
        for line in &s.outcomes {
            println!("Outcomes ({line}): a family's /families/ID/outcomes; the framework at /admin/outcomes");
        }
        for line in &s.early_identification {
            println!("Early identification ({line}): /early-identification as the triage officer or the manager");
        }
        for line in &s.directory {
            println!(
                "Service directory ({line}): /directory (public), /connections as the VCS worker, /admin/directory as the administrator"
            );
        }
        for (tenant, id, name, shared) in &s.reports {
            println!(
                "A saved report ({tenant}): /reports/{id} ({name}{})",
                if *shared { ", shared in its organisation" } else { "" }
            );
        }
    } else {
        println!("The database already holds a partnership; using it as it is.");
    }
    println!("Demo sign-ins:");
    for s in kindred_demo::SIGN_INS {
        println!("{}: {} / {}", s.role, s.email, kindred_demo::DEMO_PASSWORD);
    }
    println!("Demo partner systems (FHIR at /fhir, token at /oauth/token):");
    for c in kindred_demo::DEMO_CLIENTS {
        println!(
            "{} ({}): client_id {} / client_secret {}",
            c.name,
            c.tenant,
            c.client_id,
            kindred_demo::DEMO_CLIENT_SECRET
        );
    }
    Ok(())
}

async fn user_add(
    db: &Db,
    tenant: &str,
    organisation: &str,
    email: &str,
    name: &str,
    profession: &str,
    roles: &[String],
) -> anyhow::Result<()> {
    let t = db
        .tenant_by_code(tenant)
        .await
        .with_context(|| format!("no tenant with code {tenant}"))?;
    let org = db
        .organisations(t.id)
        .await?
        .into_iter()
        .find(|o| o.name == organisation)
        .with_context(|| format!("no organisation named {organisation:?} in {tenant}"))?;
    let profession = Profession::parse(profession).with_context(|| format!("unknown profession {profession}"))?;
    let roles = roles
        .iter()
        .map(|r| {
            Role::parse(r).with_context(|| format!("unknown role {r}: use practitioner, triage, manager or admin"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let password = if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("Password for the new user: ")?;
        if rpassword::prompt_password("Type it again: ")? != p {
            bail!("the passwords do not match");
        }
        p
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if let Err(e) = kindred_web::passwords::check_policy_for(&password, &[email, name]) {
        bail!("{e}");
    }
    let hash = kindred_web::passwords::hash(&password);
    let u = db
        .create_user(&NewUser {
            tenant_id: t.id,
            organisation_id: org.id,
            team_id: None,
            email: email.to_string(),
            display_name: name.to_string(),
            profession,
            roles,
            password_hash: hash,
        })
        .await?;
    db.audit(kindred_domain::audit::NewEvent {
        tenant_id: Some(t.id),
        actor_user_id: None,
        action: kindred_domain::audit::AuditAction::Create,
        record_kind: "user",
        record_id: Some(u.id),
        family_id: None,
        route: "cli user add".into(),
        detail: String::new(),
    })
    .await?;
    println!("Added user {} ({}).", u.email, u.id);
    Ok(())
}

async fn client_add(db: &Db, tenant: &str, organisation: &str, name: &str) -> anyhow::Result<()> {
    let t = db
        .tenant_by_code(tenant)
        .await
        .with_context(|| format!("no tenant with code {tenant}"))?;
    let org = db
        .organisations(t.id)
        .await?
        .into_iter()
        .find(|o| o.name == organisation)
        .with_context(|| format!("no organisation named {organisation:?} in {tenant}"))?;
    if name.trim().is_empty() {
        bail!("--name: enter the partner system's name");
    }
    let (client, secret) = kindred_web::api_auth::register(db, t.id, org.id, name, None, None).await?;
    db.audit(kindred_domain::audit::NewEvent {
        tenant_id: Some(t.id),
        actor_user_id: None,
        action: kindred_domain::audit::AuditAction::Create,
        record_kind: "user",
        record_id: Some(client.user_id),
        family_id: None,
        route: "cli client add".into(),
        detail: format!("api_client={}", client.id),
    })
    .await?;
    println!("Added partner system {} for {}.", client.name, org.name);
    println!("client_id: {}", client.client_id);
    println!("client_secret: {secret}");
    println!("Keep the secret safe: it is not stored and cannot be shown again.");
    Ok(())
}
