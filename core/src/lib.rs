//! Tessera's core: configuration, storage, cache and (as capabilities land) the domain services.
//!
//! Nothing here knows about HTTP, Leptos or Tauri: the server and the Leptos server functions are thin
//! adapters over what this crate exposes.

pub mod auth;
pub mod cache;
pub mod config;
pub mod eav;
pub mod error;
pub mod events;
pub mod ids;
pub mod locale;
pub mod services;
pub mod store;

#[cfg(feature = "testing")]
pub mod testing;

pub use cache::{Cache, CacheError, CacheHealth};
pub use config::{Config, ConfigError, LogFormat};
pub use error::{Error, ErrorCode, FieldError, Violation};
pub use services::{Services, StartupError, SystemStatus};
pub use store::{Backend, Database, StoreError};
