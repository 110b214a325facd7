//! Test support (feature `testing`): every test gets its own fresh database with the real migrations, on
//! PostgreSQL and on SQLite, through one body written once.
//!
//! ```ignore
//! tessera_core::conformance! {
//!     async fn default_workspace_exists(db: Database) {
//!         assert_eq!(db.workspace_name(WorkspaceId::DEFAULT).await.unwrap().as_deref(), Some("Default"));
//!     }
//! }
//! ```
//! expands to `default_workspace_exists::postgres` and `default_workspace_exists::sqlite`.
//!
//! PostgreSQL comes from `TESSERA_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432`), Redis from
//! `TESSERA_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Both must be running: a missing service
//! fails the test loudly, it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod authenticator;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use futures::FutureExt;
use sqlx::{Connection, Executor, PgConnection};

use crate::store::{Backend, ConnectOptions, Database};

/// The PostgreSQL server tests create their databases on (a URL without a database name).
pub fn pg_server_url() -> String {
    std::env::var("TESSERA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The Redis server tests use; each test takes its own key prefix.
pub fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A unique, readable name for test resources.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A freshly created, migrated database owned by one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub db: Database,
    /// The URL the database can be reached at (e.g. to start a server process on it).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Postgres { name: String },
    Sqlite { dir: PathBuf },
}

impl TestDatabase {
    /// Creates an empty database (no migrations applied).
    pub async fn empty(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => {
                let name = unique_name("tessera_test");
                let mut admin = admin_connection().await;
                admin.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await.unwrap();
                admin.close().await.unwrap();
                let url = format!("{}/{name}", pg_server_url().trim_end_matches('/'));
                let db = Database::connect(&url, &test_options()).await.unwrap();
                Self { db, url, cleanup: Cleanup::Postgres { name } }
            }
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name("tessera_test"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite:{}", dir.join("tessera.db").display());
                let db = Database::connect(&url, &test_options()).await.unwrap();
                Self { db, url, cleanup: Cleanup::Sqlite { dir } }
            }
        }
    }

    /// Creates a database and applies the real migrations.
    pub async fn migrated(backend: Backend) -> Self {
        let this = Self::empty(backend).await;
        this.db.migrate().await.unwrap();
        this
    }

    /// Closes the pool and removes the database.
    pub async fn remove(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::Postgres { name } => {
                let mut admin = admin_connection().await;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await
                    .unwrap();
                admin.close().await.unwrap();
            }
            Cleanup::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

fn test_options() -> ConnectOptions {
    ConnectOptions { max_connections: 5, ..ConnectOptions::default() }
}

async fn admin_connection() -> PgConnection {
    let url = format!("{}/postgres", pg_server_url().trim_end_matches('/'));
    PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL for tests is not reachable at {url} (TESSERA_TEST_PG_URL): {e}")
    })
}

/// The cache each backend is deployed with: Redis (with a key prefix of its own) beside PostgreSQL, the
/// in-process cache beside SQLite — so tests on PostgreSQL exercise the multi-instance setup.
pub async fn cache_for(db: &Database) -> crate::Cache {
    match db.backend() {
        Backend::Postgres => {
            let prefix = format!("{}:", unique_name("tessera-test"));
            crate::Cache::redis(&redis_url(), &prefix).await.unwrap()
        }
        Backend::Sqlite => crate::Cache::memory(),
    }
}

/// Services over `db` with the default configuration, an in-process cache and a fixed test secret.
pub fn services(db: Database) -> crate::Services {
    services_with(db, crate::Cache::memory(), &[])
}

/// Services over `db` and `cache`, with configuration overrides given as environment variables.
pub fn services_with(db: Database, cache: crate::Cache, env: &[(&str, &str)]) -> crate::Services {
    // Cheap password hashing unless a test asks otherwise (argon2's defaults cost ~19 MiB per hash).
    let mut vars: Vec<(String, String)> = vec![
        ("TESSERA_ARGON2_MEMORY_KIB".into(), "64".into()),
        ("TESSERA_ARGON2_ITERATIONS".into(), "1".into()),
    ];
    vars.retain(|(k, _)| !env.iter().any(|(name, _)| name == k));
    vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config =
        crate::Config::load(None, &move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    crate::Services::from_parts(config, db, cache, crate::config::Secret::new("t".repeat(64))).unwrap()
}

/// Runs `test` against a fresh migrated database on `backend`, removing the database afterwards even when
/// the test fails.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    let fresh = TestDatabase::migrated(backend).await;
    let outcome = AssertUnwindSafe(test(fresh.db.clone())).catch_unwind().await;
    fresh.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Writes one test body and runs it on both backends: `name::postgres` and `name::sqlite`.
#[macro_export]
macro_rules! conformance {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident : Database) $body:block)+) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::testing::run($crate::store::Backend::Postgres, |$db: $crate::store::Database| async move $body).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::testing::run($crate::store::Backend::Sqlite, |$db: $crate::store::Database| async move $body).await
                }
            }
        )+
    };
}
