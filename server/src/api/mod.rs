//! The JSON API under `/api/v1`. Capabilities add one module each (`eav.rs`, `auth.rs`, …); every error is
//! RFC 9457 problem JSON.

mod eav;
mod extract;
mod problem;

use axum::Router;

pub use problem::Problem;

use crate::router::AppState;

pub fn router(max_batch_body_bytes: usize) -> Router<AppState> {
    eav::router(max_batch_body_bytes).fallback(|| async { Problem::not_found("no such API endpoint") })
}
