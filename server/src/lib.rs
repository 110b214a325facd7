#![recursion_limit = "512"]
//! The Tessera server: axum router (Leptos SSR, `/api/v1`, health), CLI and startup. The binary is
//! `src/main.rs`; the library exists so integration tests can drive the router in process.

pub mod api;
pub mod cli;
pub mod health;
pub mod router;
pub mod security;
pub mod serve;
pub mod telemetry;
