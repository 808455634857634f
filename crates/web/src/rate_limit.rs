//! Rate limits on the routes anyone may call without signing in: the service
//! directory, the Open Referral UK API, the self-referral, the OAuth token
//! endpoint, the FHIR capability statement and the OpenAPI document.
//!
//! One token bucket per client IP address (the connection's peer address),
//! shared by all of those routes (`governor`'s GCRA). Over the limit a client
//! gets 429 with `Retry-After`: a GOV.UK page on HTML routes, JSON on API
//! routes (a FHIR `OperationOutcome` under `/fhir`). Signed-in pages are never
//! counted here; sign-in has its own throttle on failures (`auth.rs`).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppState;

/// Requests per second per client address, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// What `kindred serve` uses unless told otherwise: generous for people
    /// and for partner systems, a wall for a script in a loop.
    pub const DEFAULT: RateLimit = RateLimit {
        per_second: NonZeroU32::new(20).unwrap(),
        burst: NonZeroU32::new(60).unwrap(),
    };

    /// `per_second` of 0 means no limit; a burst of 0 means three seconds' worth.
    pub fn new(per_second: u32, burst: u32) -> Option<RateLimit> {
        let per_second = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).unwrap_or(per_second.saturating_mul(NonZeroU32::new(3).unwrap()));
        Some(RateLimit { per_second, burst })
    }
}

/// What kind of answer a limited route gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Public {
    Html,
    Json,
    Fhir,
}

/// Whether `path` is a public route under the limit, and how it answers.
pub fn public_route(path: &str) -> Option<Public> {
    let under = |base: &str| path == base || path.starts_with(&format!("{base}/"));
    if under("/directory") || under("/self-referral") {
        Some(Public::Html)
    } else if under("/openreferral") || path == "/oauth/token" || path == "/api/openapi.json" {
        Some(Public::Json)
    } else if path == "/fhir/metadata" {
        Some(Public::Fhir)
    } else {
        None
    }
}

/// The buckets, one per client address.
pub struct Limiter {
    buckets: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter {
            buckets: DefaultKeyedRateLimiter::keyed(Quota::per_second(limit.per_second).allow_burst(limit.burst)),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` to go ahead, or how many whole seconds to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        // Forget idle addresses now and then, so the table stays small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
        self.buckets.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.buckets.clock().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(limiter), Some(kind)) = (state.limiter.as_deref(), public_route(req.uri().path())) else {
        return next.run(req).await;
    };
    let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return next.run(req).await;
    };
    match limiter.check(peer.ip()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            too_many(kind, wait)
        }
    }
}

fn too_many(kind: Public, wait: u64) -> Response {
    let message = format!(
        "Too many requests from your address: wait {wait} second{}, then try again.",
        if wait == 1 { "" } else { "s" }
    );
    let mut res = match kind {
        Public::Html => crate::errors::page(StatusCode::TOO_MANY_REQUESTS, "Too many requests", message, None),
        Public::Json => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({
                "error": "too_many_requests",
                "error_description": message,
                "retry_after": wait,
            })),
        )
            .into_response(),
        Public::Fhir => {
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(serde_json::json!({
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "throttled", "diagnostics": message}],
                })),
            )
                .into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json"));
            res
        }
    };
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_routes_and_only_those() {
        assert_eq!(public_route("/directory"), Some(Public::Html));
        assert_eq!(public_route("/directory/services/abc"), Some(Public::Html));
        assert_eq!(public_route("/self-referral/name"), Some(Public::Html));
        assert_eq!(public_route("/openreferral/services"), Some(Public::Json));
        assert_eq!(public_route("/openreferral"), Some(Public::Json));
        assert_eq!(public_route("/oauth/token"), Some(Public::Json));
        assert_eq!(public_route("/api/openapi.json"), Some(Public::Json));
        assert_eq!(public_route("/fhir/metadata"), Some(Public::Fhir));
        for signed_in in [
            "/",
            "/families/1",
            "/fhir/Patient",
            "/api/families",
            "/directoryx",
            "/login",
            "/assets/x.css",
        ] {
            assert_eq!(public_route(signed_in), None, "{signed_in}");
        }
    }

    #[test]
    fn a_bucket_per_address() {
        let l = Limiter::new(RateLimit::new(1, 2).unwrap());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!((l.check(a), l.check(a)), (Ok(()), Ok(())));
        assert_eq!(l.check(a), Err(1), "the third at once waits about a second");
        assert_eq!(l.check(b), Ok(()), "another address has its own bucket");
        assert_eq!(RateLimit::new(0, 10), None, "0 turns the limit off");
        assert_eq!(RateLimit::new(5, 0).unwrap().burst.get(), 15);
    }
}
