//! `tessera` — the Tessera server and its command line.

mod api;
mod cli;
mod health;
mod router;
mod serve;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line naming the setting and the cause; details are in the log when logging is up.
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
