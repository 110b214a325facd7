//! Storage: one `Database` handle over PostgreSQL or SQLite, chosen once at startup from `DATABASE_URL`.
//!
//! Each capability adds its queries in `postgres.rs` / `sqlite.rs` (or a sub-folder per capability) and one
//! backend-neutral method here; the conformance suite runs every service test against both.

mod postgres;
pub mod sql;
mod sqlite;

pub use sql::{Arg, DbRow, Sql, Tx};

use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

use crate::config::redact_url;
use crate::ids::WorkspaceId;

/// Which storage backend a database uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Storage errors. Display is one line and never contains a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL={url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// Not the database itself, but something a service needed to finish its work (cache, crypto, mail).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Options for opening a database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 10, connect_timeout: Duration::from_secs(5) }
    }
}

/// A connection pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Database {
    /// Opens a pool for `url` (`postgres://…`, `postgresql://…` or `sqlite:…`) and checks it answers.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect_error = |reason: String| StoreError::Connect { url: redact_url(url), reason };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres::connect(url, options)
                .await
                .map(Database::Postgres)
                .map_err(|e| connect_error(describe(&e)))
        } else if url.starts_with("sqlite:") {
            sqlite::connect(url, options).await.map(Database::Sqlite).map_err(|e| connect_error(describe(&e)))
        } else {
            Err(connect_error("unsupported scheme (expected postgres://, postgresql:// or sqlite:)".into()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Postgres(_) => Backend::Postgres,
            Database::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies every pending migration; each runs in its own transaction, so a failure leaves nothing
    /// half-applied. Safe with several instances starting at once (PostgreSQL advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match self {
            Database::Postgres(pool) => postgres::MIGRATOR.run(pool).await,
            Database::Sqlite(pool) => sqlite::MIGRATOR.run(pool).await,
        };
        result.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Checks the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Database::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Database::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    /// How many migrations have been applied successfully.
    pub async fn applied_migrations(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        Ok(match self {
            Database::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await?,
            Database::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await?,
        })
    }

    /// The number of migrations this build knows about.
    pub fn known_migrations(&self) -> usize {
        match self {
            Database::Postgres(_) => postgres::MIGRATOR.iter().count(),
            Database::Sqlite(_) => sqlite::MIGRATOR.iter().count(),
        }
    }

    /// The name of a workspace, if it exists.
    pub async fn workspace_name(&self, id: WorkspaceId) -> Result<Option<String>, StoreError> {
        Ok(match self {
            Database::Postgres(pool) => {
                sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(pool)
                    .await?
            }
            Database::Sqlite(pool) => {
                sqlx::query_scalar("SELECT name FROM workspaces WHERE id = ?1")
                    .bind(id.0.to_string())
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// Closes every connection (used on shutdown and by tests before dropping a database).
    pub async fn close(&self) {
        match self {
            Database::Postgres(pool) => pool.close().await,
            Database::Sqlite(pool) => pool.close().await,
        }
    }
}

/// A short, password-free description of a connection error.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Configuration(e) => format!("invalid URL ({e})"),
        sqlx::Error::Io(e) => e.to_string(),
        sqlx::Error::PoolTimedOut => "timed out connecting to the database".into(),
        sqlx::Error::Database(e) => e.message().to_owned(),
        other => other.to_string(),
    }
}
