//! Logging: JSON (default) or pretty, filtered by `TESSERA_LOG_LEVEL` (or `RUST_LOG`).

use tessera_core::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

use crate::cli::CliError;

pub fn init(config: &Config) -> Result<(), CliError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives),
        _ => EnvFilter::try_new(&config.log_level),
    }
    .map_err(|e| CliError::LogFilter(e.to_string()))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stdout);
    let result = match config.log_format {
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
        }
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // A subscriber may already be installed (tests); that is fine.
    let _ = result;
    Ok(())
}
