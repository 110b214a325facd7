//! Security middleware around every response (spec §11): headers and CSP, the global per-IP rate limit with
//! `RateLimit-*` headers, and the Origin check that protects cookie-authenticated unsafe requests (CSRF).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_core::auth::ratelimit::{self, RateState};
use tessera_core::Services;

use crate::api::extract::{cookie, ACCESS_COOKIE, REFRESH_COOKIE};
use crate::api::Problem;

/// The policy of every response that is not an SSR page (those add a per-response nonce for the hydration
/// script: see `page_csp`). Styles may be inline (Leptos and Swagger UI set style attributes).
const BASE_CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

/// The policy of an SSR page whose inline scripts carry `nonce`.
pub fn page_csp(nonce: &str) -> String {
    BASE_CSP.replacen("script-src 'self'", &format!("script-src 'self' 'nonce-{nonce}'"), 1)
}

/// Adds the security headers (a CSP only where the handler set none).
pub async fn headers(State(services): State<Services>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    if services.config.public_url.starts_with("https://") {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(BASE_CSP));
    }
    response
}

fn client_ip(services: &Services, request: &Request) -> String {
    crate::api::extract::client_address(
        &services.config.auth.trusted_proxies,
        request.extensions(),
        request.headers(),
    )
    .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

fn set_rate_headers(headers: &mut HeaderMap, state: &RateState) {
    let pairs = [
        ("ratelimit-limit", state.limit),
        ("ratelimit-remaining", state.remaining),
        ("ratelimit-reset", state.reset.as_secs().max(1)),
    ];
    for (name, value) in pairs {
        headers.insert(HeaderName::from_static(name), value.into());
    }
}

/// Where the per-user limit (counted when the caller is authenticated, in `Caller`) leaves its state for
/// the response headers.
#[derive(Clone, Default)]
pub struct UserRate(pub Arc<Mutex<Option<RateState>>>);

impl UserRate {
    pub fn record(&self, state: RateState) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(state);
    }

    fn get(&self) -> Option<RateState> {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The global per-IP limit (health probes are exempt: an orchestrator must always reach them). The
/// `RateLimit-*` headers describe the tighter of the per-IP and the per-user limit.
pub async fn rate_limit(State(services): State<Services>, mut request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/health/") {
        return next.run(request).await;
    }
    let user_rate = UserRate::default();
    request.extensions_mut().insert(user_rate.clone());
    let limit = services.config.auth.rate_limit_ip_per_min;
    let bucket = format!("ip:{}", client_ip(&services, &request));
    let ip_state = ratelimit::hit(&services.cache, &bucket, limit, Duration::from_secs(60)).await;
    let mut response = match ip_state {
        Some(state) if state.limited => Problem::from(tessera_core::Error::TooManyRequests {
            detail: "too many requests from this address; slow down".into(),
            retry_after: state.reset,
        })
        .into_response(),
        _ => next.run(request).await,
    };
    let tighter = match (ip_state, user_rate.get()) {
        (Some(ip), Some(user)) => Some(if user.remaining < ip.remaining { user } else { ip }),
        (one, other) => one.or(other),
    };
    if let Some(state) = tighter {
        set_rate_headers(response.headers_mut(), &state);
    }
    response
}

/// CSRF: an unsafe request that relies on the session cookie (no `Authorization` header) must come from our
/// own origin (`Origin`, or `Referer` when a browser sends no Origin), and no unsafe request without
/// `Authorization` may name a foreign `Origin`. Bearer clients are not affected.
pub async fn origin_check(State(services): State<Services>, request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = request.headers();
    let no_authorization = headers.get(header::AUTHORIZATION).is_none();
    let uses_cookie = no_authorization
        && (cookie(headers, ACCESS_COOKIE).is_some() || cookie(headers, REFRESH_COOKIE).is_some());
    // A browser form or fetch from another site always carries its Origin: refuse it even without cookies
    // (login CSRF: signing a visitor into someone else's account).
    let foreign_origin = no_authorization
        && headers.get(header::ORIGIN).is_some()
        && !same_origin(headers, &services.config.public_url);
    if unsafe_method
        && (foreign_origin || (uses_cookie && !same_origin(headers, &services.config.public_url)))
    {
        let problem = Problem::new(
            StatusCode::FORBIDDEN,
            "cross-site request refused: the Origin of a cookie-authenticated request must be this site",
        );
        return problem.into_response();
    }
    next.run(request).await
}

fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let expected = public_url.trim_end_matches('/');
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == expected;
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|referer| referer == expected || referer.starts_with(&format!("{expected}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_the_nonce_and_wasm_only() {
        let policy = page_csp("abc");
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-eval'") || policy.contains("wasm-unsafe-eval"));
    }

    #[test]
    fn origin_must_match_exactly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://localhost:3000"));
        assert!(same_origin(&headers, "http://localhost:3000"));
        assert!(!same_origin(&headers, "http://localhost:30001"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://localhost:3000.evil.example"));
        assert!(!same_origin(&headers, "http://localhost:3000"));
        let mut referer = HeaderMap::new();
        referer.insert(header::REFERER, HeaderValue::from_static("http://localhost:3000/tables"));
        assert!(same_origin(&referer, "http://localhost:3000"));
        assert!(!same_origin(&HeaderMap::new(), "http://localhost:3000"));
    }
}
