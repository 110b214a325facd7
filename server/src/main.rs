//! `tessera` — the Tessera server and its command line.

use std::process::ExitCode;

use clap::Parser;
use tessera_server::cli;

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
