//! The JSON API under `/api/v1`. Capabilities add one module each (`eav.rs`, `auth.rs`, …); every error is
//! RFC 9457 problem JSON.

mod problem;

use axum::Router;

pub use problem::Problem;

use crate::router::AppState;

pub fn router() -> Router<AppState> {
    Router::new().fallback(|| async { Problem::not_found("no such API endpoint") })
}
