//! `tessera serve`: migrate, bind, serve until SIGTERM/Ctrl-C, drain in-flight requests, close the pool.

use std::net::SocketAddr;

use tessera_core::auth::users::Bootstrap;
use tessera_core::{Config, Services};
use tokio::net::TcpListener;

use crate::cli::CliError;

pub async fn serve(config: Config) -> Result<(), CliError> {
    let addr = config.addr;
    let shutdown_timeout = config.limits.shutdown_timeout;
    let public_url = config.public_url.clone();

    // Migrations and the cache connection finish before the port opens.
    let services = Services::start(config).await?;
    // The first Owner exists (or a setup token is printed) before the port opens.
    match services.auth().bootstrap().await.map_err(|e| CliError::Admin(format!("bootstrap: {e}")))? {
        Bootstrap::Ready => {}
        Bootstrap::OwnerCreated(username) => {
            tracing::info!(username = %username, "created the Owner from TESSERA_ADMIN_USER");
        }
        Bootstrap::SetupToken(token) => {
            // Printed, never logged: logs are shipped elsewhere; the console is the operator's.
            println!("No user exists yet. Finish setup at {public_url}/setup with this one-time token (valid 24 h):");
            println!("    {token}");
        }
    }
    // Signing keys: create the first one now and rotate on schedule.
    let keys = services.auth().keys().clone();
    if let Err(e) = keys.rotate_if_due().await {
        tracing::warn!(error = %e, "signing key rotation failed; retrying hourly");
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = keys.rotate_if_due().await {
                tracing::warn!(error = %e, "signing key rotation failed");
            }
        }
    });
    let app = crate::router::build(services.clone());

    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Listen { addr: addr.to_string(), reason: e.to_string() })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Listen { addr: addr.to_string(), reason: e.to_string() })?;
    tracing::info!(
        addr = %local,
        public_url = %public_url,
        backend = %services.db.backend(),
        cache = services.cache.kind(),
        "Tessera is listening"
    );
    println!("Tessera is listening on http://{local} (public URL {public_url})");

    let (signalled_tx, signalled_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested: draining in-flight requests");
            let _ = signalled_tx.send(true);
        });

    let outcome = tokio::select! {
        result = server => result.map_err(|e| CliError::Serve(e.to_string())),
        () = drain_deadline(signalled_rx, shutdown_timeout) => {
            tracing::warn!(timeout_secs = shutdown_timeout.as_secs(), "requests still running after the grace period; stopping");
            Ok(())
        }
    };
    services.db.close().await;
    tracing::info!("stopped");
    outcome
}

/// Completes `timeout` after the shutdown signal arrived; never completes before it.
async fn drain_deadline(mut signalled: tokio::sync::watch::Receiver<bool>, timeout: std::time::Duration) {
    if signalled.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(timeout).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
