//! `/health/live`, `/health/ready` and the `tessera health` probe.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use tessera_core::Services;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::CliError;

/// The process is up (no dependencies checked).
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

/// 200 when the database answers (`ready`, or `degraded` when only the cache is down); 503 otherwise.
pub async fn ready(State(services): State<Services>) -> impl IntoResponse {
    let readiness = services.readiness().await;
    let status = if readiness.is_serving() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(readiness))
}

/// `tessera health`: asks the server on `addr` for `/health/ready` (for container health checks).
pub async fn probe(addr: SocketAddr) -> Result<(), CliError> {
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    };
    let not_ready = |reason: String| CliError::NotReady(format!("http://{target}/health/ready: {reason}"));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(target).await?;
        stream
            .write_all(b"GET /health/ready HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .map_err(|_| not_ready("timed out".into()))?
        .map_err(|e| not_ready(e.to_string()))?;
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        println!("ready");
        Ok(())
    } else {
        Err(not_ready(status_line.to_owned()))
    }
}
