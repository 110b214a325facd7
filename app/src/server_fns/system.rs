//! System status for the landing page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the landing page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    pub backend: String,
    pub migrations_applied: i64,
    pub workspace: String,
    pub cache: String,
    /// The check number the client sent, echoed back.
    pub check: u32,
}

/// Reads the installation's state from the database (signed-in users only).
#[server(prefix = "/fn", endpoint = "system/status")]
pub async fn get_status(check: u32) -> Result<StatusView, crate::errors::AppError> {
    let request = super::request::Request::capture()?;
    request.caller().await?;
    let status = request.services.status().await.map_err(|e| {
        tracing::error!(error = %e, "reading the system status failed");
        crate::errors::AppError::new(crate::errors::ErrorKind::Server, "the database is not available")
    })?;
    Ok(StatusView {
        backend: status.backend.to_string(),
        migrations_applied: status.migrations_applied,
        workspace: status.workspace,
        cache: status.cache,
        check,
    })
}
