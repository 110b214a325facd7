//! PostgreSQL specifics: pool options and migrations.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;

use super::ConnectOptions;

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<PgPool, sqlx::Error> {
    // JIT compilation pays off for long analytical queries, not for the short interactive ones Tessera runs:
    // it added 39–206 ms to single page queries on a 1M-row table (docs/research/eav-query-plans.md §7).
    let connect = PgConnectOptions::from_str(url)?.application_name("tessera").options([("jit", "off")]);
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect)
        .await
}
