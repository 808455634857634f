//! Cross-cutting protections on every response: security headers, no caching
//! of pages, request logging without personal data, and simple metrics.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    /// Requests to public routes refused with 429 (`rate_limit`).
    pub rate_limited: AtomicU64,
    /// Request latency per method and route pattern (never a path: a path can
    /// carry an id, and the pattern set is small and fixed).
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

/// Upper bounds of the latency buckets, in seconds (Prometheus' defaults).
pub const LATENCY_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default, Clone)]
struct Histogram {
    /// Observations at or below each bound (not cumulative; summed when rendered).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Metrics {
    /// Counts one request to `route` (a pattern like `/families/{id}`) that took `seconds`.
    pub fn observe(&self, method: &str, route: &str, seconds: f64) {
        let mut map = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let h = map.entry((method.to_string(), route.to_string())).or_default();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| seconds <= *b) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum_seconds += seconds;
    }

    pub fn render(&self) -> String {
        let mut out = format!(
            "# TYPE kindred_http_requests_total counter\nkindred_http_requests_total {}\n\
             # TYPE kindred_http_client_errors_total counter\nkindred_http_client_errors_total {}\n\
             # TYPE kindred_http_server_errors_total counter\nkindred_http_server_errors_total {}\n\
             # TYPE kindred_http_rate_limited_total counter\nkindred_http_rate_limited_total {}\n",
            self.requests.load(Ordering::Relaxed),
            self.client_errors.load(Ordering::Relaxed),
            self.server_errors.load(Ordering::Relaxed),
            self.rate_limited.load(Ordering::Relaxed),
        );
        let map = self.latency.lock().unwrap_or_else(|e| e.into_inner()).clone();
        out.push_str(
            "# HELP kindred_http_request_duration_seconds Time to answer a request, by method and route pattern.\n\
             # TYPE kindred_http_request_duration_seconds histogram\n",
        );
        for ((method, route), h) in &map {
            let labels = format!("method=\"{}\",route=\"{}\"", label(method), label(route));
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                out.push_str(&format!(
                    "kindred_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}\n"
                ));
            }
            out.push_str(&format!(
                "kindred_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 kindred_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 kindred_http_request_duration_seconds_count{{{labels}}} {}\n",
                h.count, h.sum_seconds, h.count
            ));
        }
        out
    }
}

/// A Prometheus label value, escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let is_open_referral = req.uri().path() == "/openreferral" || req.uri().path().starts_with("/openreferral/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if is_open_referral {
        // Open Referral UK: any web page may read the directory, errors included.
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !is_asset {
        // Pages hold personal data: never keep them in a shared or browser cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// The client's address. From a trusted proxy, the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends
/// the address it was reached from, so entries further left were written by
/// the client and prove nothing); from any other peer the header is ignored,
/// so a client cannot choose the address its limits are counted under.
pub fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    for entry in forwarded_for.rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Something unreadable where the proxy writes: trust nothing past it.
            Err(_) => return peer,
        }
    }
    peer
}

/// Behind trusted proxies, every per-address limit (the public rate limit,
/// sign-in and self-referral throttles) counts the client, not the proxy:
/// the connection's address is replaced with [`client_ip`] before anything
/// reads it.
async fn forwarded(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let trusted = &state.config.trusted_proxies;
    if !trusted.is_empty()
        && let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied()
    {
        let header: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = client_ip(peer.ip(), &header.join(","), trusted);
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, peer.port())));
    }
    next.run(req).await
}

/// Whether percent-encoded text holds an encoded NUL character (`%00`).
/// No database column can store one (PostgreSQL refuses it), so a request
/// carrying one is refused at the edge with a clear message, not a 500.
pub(crate) fn holds_nul(encoded: &[u8]) -> bool {
    encoded.windows(3).any(|w| w == b"%00")
}

async fn refuse_nul(req: Request, next: Next) -> Response {
    let holds = req
        .uri()
        .path_and_query()
        .is_some_and(|pq| holds_nul(pq.as_str().as_bytes()));
    if holds {
        return crate::errors::AppError::BadRequest(
            "The address holds a NUL character (%00), which Kindred does not accept.",
        )
        .into_response();
    }
    next.run(req).await
}

/// Logs the route pattern (`/families/{id}`), never the path or query, which
/// could carry a name or NHS number.
async fn log(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    let status = res.status();
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    if status.is_client_error() {
        state.metrics.client_errors.fetch_add(1, Ordering::Relaxed);
    } else if status.is_server_error() {
        state.metrics.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    let elapsed = started.elapsed();
    state.metrics.observe(method.as_str(), &route, elapsed.as_secs_f64());
    tracing::info!(%method, %route, status = status.as_u16(), ms = elapsed.as_millis() as u64, "request");
    res
}

pub fn layers(app: Router<AppState>, state: AppState) -> Router<AppState> {
    app.route_layer(middleware::from_fn_with_state(state.clone(), log))
        .layer(middleware::from_fn_with_state(state.clone(), crate::auth::load_session))
        // Before the session is looked up: a refused request costs no query.
        .layer(middleware::from_fn_with_state(state.clone(), crate::rate_limit::limit))
        .layer(middleware::from_fn(refuse_nul))
        .layer(middleware::from_fn_with_state(state.clone(), headers))
        // First of all: who the client is, behind a trusted proxy.
        .layer(middleware::from_fn_with_state(state, forwarded))
        // Forms take 1 MiB (axum's extractor limit); the feed upload sets its own.
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::pages::UPLOAD_LIMIT,
        ))
        // Stop working for a client that has long given up.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            std::time::Duration::from_secs(30),
        ))
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_last_untrusted_forwarded_address_and_only_behind_a_trusted_proxy() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not from a proxy: the header is the client's own claim, ignored.
        assert_eq!(
            client_ip(ip("198.51.100.9"), "203.0.113.5", &proxies),
            ip("198.51.100.9")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), "203.0.113.5", &[]), ip("10.0.0.1"));
        // From the proxy: the address it saw; a client's forged entries to the left do not count.
        assert_eq!(client_ip(ip("10.0.0.1"), "203.0.113.5", &proxies), ip("203.0.113.5"));
        assert_eq!(
            client_ip(ip("10.0.0.1"), "1.2.3.4, 203.0.113.5", &proxies),
            ip("203.0.113.5")
        );
        // Through two proxies.
        assert_eq!(
            client_ip(ip("10.0.0.1"), "203.0.113.5, 10.0.0.2", &proxies),
            ip("203.0.113.5")
        );
        // Nothing usable: the proxy itself.
        assert_eq!(client_ip(ip("10.0.0.1"), "", &proxies), ip("10.0.0.1"));
        assert_eq!(
            client_ip(ip("10.0.0.1"), "1.2.3.4, not-an-address", &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), "2001:db8::7", &proxies), ip("2001:db8::7"));
    }
}
