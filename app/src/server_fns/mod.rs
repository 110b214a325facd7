//! Server functions, one file per area. Endpoints are pinned (`prefix` + `endpoint`) so a desktop build
//! talks to any server of the same version.

pub mod auth;
pub mod system;
