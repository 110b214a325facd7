//! Command line: `tessera serve` (default), `tessera migrate`, `tessera health`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tessera_core::{Config, ConfigError, Services, StartupError};

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Tessera — a self-hosted data platform on a hybrid EAV store")]
pub struct Cli {
    /// A TOML configuration file (also `TESSERA_CONFIG`); environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run migrations, then serve the web app and the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Ask a running server on TESSERA_ADDR whether it is ready (exit 0) or not (exit 1).
    Health,
}

/// Anything that stops a command, shown as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("TESSERA_ADDR={addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("TESSERA_LOG_LEVEL: {0}")]
    LogFilter(String),
    #[error("server error: {0}")]
    Serve(String),
    #[error("not ready: {0}")]
    NotReady(String),
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = Config::from_env(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            crate::telemetry::init(&config)?;
            crate::serve::serve(config).await
        }
        Command::Migrate => {
            crate::telemetry::init(&config)?;
            let services = Services::start(config).await?;
            let applied = services.db.applied_migrations().await.map_err(StartupError::from)?;
            println!("{} database is up to date: {applied} migrations applied", services.db.backend());
            services.db.close().await;
            Ok(())
        }
        Command::Health => crate::health::probe(config.addr).await,
    }
}
