//! Kindred's HTTP face: server-rendered pages in GOV.UK Design System markup,
//! sign-in and sessions, and the routes every user and system reaches.
//!
//! Data flows one way: form → parsed domain value → policy decision (in
//! [`access`]) → store → audit → response. Handlers never query for personal
//! data except through [`access`], which asks `kindred_domain::access` and
//! writes the audit event.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use kindred_store::Db;

pub mod access;
pub mod api;
pub mod api_auth;
mod assets;
pub mod auth;
pub mod errors;
pub mod fhir;
mod forms;
mod layout;
pub mod mail;
pub mod mfa;
pub mod oruk_pull;
mod pages;
pub use pages::route_paths;
pub mod passwords;
pub mod rate_limit;
pub mod security;

/// How this server is reached. Secrets are never stored here.
#[derive(Debug, Clone)]
pub struct Config {
    /// Served to users over TLS (directly or by a proxy): `__Host-` cookies, `Secure`, HSTS.
    pub tls: bool,
    /// Failed sign-ins for one email within the window before sign-in is refused.
    pub max_failures_per_account: i64,
    /// Failed sign-ins from one address within the window.
    pub max_failures_per_address: i64,
    pub throttle_window_ms: i64,
    /// A session ends after this long without a request…
    pub idle_timeout_ms: i64,
    /// …and after this long in all.
    pub absolute_timeout_ms: i64,
    /// Where email goes (the outbox is drained only when this is set).
    pub smtp: Option<mail::Smtp>,
    /// A self-referral sent sooner than this after it was started is taken for a bot's.
    pub self_referral_min_ms: i64,
    /// Self-referrals started from one address in an hour.
    pub self_referral_starts_per_hour: i64,
    /// Self-referrals sent from one address in an hour.
    pub self_referral_sends_per_hour: i64,
    /// Requests per client address to the public routes (no sign-in):
    /// `None` is no limit. `kindred serve` sets [`rate_limit::RateLimit::DEFAULT`]
    /// unless `--rate-limit 0`; tests and benches leave it off.
    pub public_rate_limit: Option<rate_limit::RateLimit>,
    /// Proxies (exact addresses) whose `X-Forwarded-For` names the client:
    /// see [`security::client_ip`]. Empty: the peer address is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whether users whose roles reach case data must give a TOTP code after
    /// their password. `kindred serve` requires it unless `--mfa off`;
    /// `Config::default()` (tests and benches) and `kindred demo` leave it off.
    pub mfa: Mfa,
}

/// The server's multi-factor authentication setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mfa {
    /// No second factor is asked for (users who enrolled are not asked either).
    #[default]
    Off,
    /// Every user whose roles reach case data (`kindred_domain::access::mfa_required`)
    /// enrols at their first sign-in and gives a code at every sign-in after.
    Required,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tls: false,
            max_failures_per_account: 5,
            max_failures_per_address: 50,
            throttle_window_ms: 15 * 60 * 1000,
            idle_timeout_ms: 30 * 60 * 1000,
            absolute_timeout_ms: 12 * 60 * 60 * 1000,
            smtp: None,
            self_referral_min_ms: 5000,
            self_referral_starts_per_hour: 10,
            self_referral_sends_per_hour: 3,
            public_rate_limit: None,
            trusted_proxies: vec![],
            mfa: Mfa::Off,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<security::Metrics>,
    /// The public routes' buckets, when they are limited.
    pub limiter: Option<Arc<rate_limit::Limiter>>,
}

pub fn router(db: Db, config: Config) -> Router {
    let state = AppState {
        db,
        limiter: config.public_rate_limit.map(|l| Arc::new(rate_limit::Limiter::new(l))),
        config: Arc::new(config),
        metrics: Arc::default(),
    };
    let app = pages::routes().merge(assets::routes());
    security::layers(app, state.clone()).with_state(state)
}

/// Keeps the database's planner statistics current as records arrive
/// ([`Db::optimize`]): at start, then every hour.
fn spawn_planner_upkeep(db: Db) {
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            if let Err(e) = db.optimize().await {
                tracing::warn!(error = %e, "the planner's statistics could not be refreshed");
            }
        }
    });
}

/// Serves until Ctrl-C.
pub async fn serve(db: Db, config: Config, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    if let Some(smtp) = config.smtp.clone() {
        mail::spawn_sender(db.clone(), smtp)?;
    }
    spawn_planner_upkeep(db.clone());
    let app = router(db, config);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
