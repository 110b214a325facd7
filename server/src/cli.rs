//! Command line: `tessera serve` (default), `tessera migrate`, `tessera health`, `tessera admin create`.

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
    /// Administration from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user holding the Owner role. The password is read from TESSERA_ADMIN_PASSWORD or, when that
    /// is not set, from the first line of standard input (never from the command line, where `ps` shows it).
    Create {
        /// Lower-case username: letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
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
    #[error("{0}")]
    Admin(String),
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
        Command::Admin { command: AdminCommand::Create { username, email, display_name } } => {
            let password = match &config.auth.admin_password {
                Some(password) => password.expose().to_owned(),
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| CliError::Admin(format!("stdin: {e}")))?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let services = Services::start(config).await?;
            let new = tessera_core::auth::users::NewUser {
                username,
                email,
                display_name,
                password: Some(password),
            };
            let created = services.auth().create_owner(&tessera_core::events::Actor::system(), &new).await;
            services.db.close().await;
            let user = created.map_err(|e| CliError::Admin(admin_error(&e)))?;
            println!("created Owner '{}' ({})", user.username, user.id);
            Ok(())
        }
    }
}

/// One line naming every field problem (the CLI has no problem JSON).
fn admin_error(error: &tessera_core::Error) -> String {
    match error {
        tessera_core::Error::Validation(errors) | tessera_core::Error::BadRequest(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
