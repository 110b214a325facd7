//! Server functions, one file per area. Endpoints are pinned (`prefix` + `endpoint`) so a desktop build
//! talks to any server of the same version. Each is a thin adapter over `tessera_core`.

pub mod account;
pub mod admin;
pub mod auth;
pub mod data;
#[cfg(feature = "ssr")]
pub mod request;
pub mod schema;
pub mod system;
