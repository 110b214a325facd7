//! The JSON API under `/api/v1`. Capabilities add one module each (`eav.rs`, `auth.rs`, …) contributing
//! documented endpoints; every error is RFC 9457 problem JSON. `/api/v1/openapi.json` is generated from the
//! same endpoint table, and `/api/docs` serves an interactive viewer from local assets.

mod auth;
mod docs;
mod eav;
pub mod extract;
pub mod openapi;
mod problem;

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};

pub use problem::Problem;

use crate::router::AppState;

/// `/api/v1`: every capability's endpoints, the OpenAPI document and a problem-JSON 404 for the rest.
pub fn router(max_batch_body_bytes: usize) -> Router<AppState> {
    let mut endpoints = eav::endpoints(max_batch_body_bytes);
    endpoints.extend(auth::endpoints());
    let document = Arc::new(openapi::document(&endpoints));
    let mut router = Router::new();
    for endpoint in endpoints {
        router = router.route(endpoint.path, endpoint.handler);
    }
    router
        .route("/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .fallback(|| async { Problem::not_found("no such API endpoint") })
}

/// `/api/docs`: the interactive API documentation (Swagger UI from `TESSERA_SITE_ROOT/api-docs`).
pub fn docs_router(site_root: &std::path::Path) -> Router<AppState> {
    docs::router(site_root)
}
