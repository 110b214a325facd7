//! Reading the audit log (`GET /audit`, `GET /audit/export`): filters, newest first, keyset pages.
//!
//! Audit ids are UUIDv7 (time-ordered), so the cursor is simply the last id of a page: any id is a valid
//! position and there is nothing to tamper with.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::Auth;
use crate::eav::export::csv_line;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::WorkspaceId;
use crate::store::DbRow;

/// The filters of `GET /audit` (query string).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    pub actor_user_id: Option<Uuid>,
    /// The event type: `LoginFailed`, `RowUpdated`, `RoleAssigned`, …
    pub action: Option<String>,
    /// `user`, `row`, `logical_table`, `role`, …
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// Inclusive lower and exclusive upper bound on `created_at` (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The columns of the CSV export, in order.
pub const CSV_COLUMNS: [&str; 10] = [
    "id",
    "created_at",
    "actor_user_id",
    "ip",
    "user_agent",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
];

fn entry_json(row: &DbRow) -> Result<Value> {
    Ok(json!({
        "id": row.uuid("id")?,
        "created_at": row.timestamp("created_at")?,
        "actor_user_id": row.opt_uuid("actor_user_id")?,
        "ip": row.opt_text("ip")?,
        "user_agent": row.opt_text("user_agent")?,
        "action": row.text("action")?,
        "entity_type": row.text("entity_type")?,
        "entity_id": row.opt_uuid("entity_id")?,
        "before": row.opt_json("before")?,
        "after": row.opt_json("after")?,
    }))
}

/// One CSV line of an audit entry (JSON columns as compact JSON text).
pub fn csv_row(entry: &Value) -> String {
    let cells: Vec<Value> = CSV_COLUMNS
        .iter()
        .map(|c| match entry.get(*c) {
            Some(v @ (Value::Object(_) | Value::Array(_))) => Value::String(v.to_string()),
            Some(v) => v.clone(),
            None => Value::Null,
        })
        .collect();
    csv_line(&cells)
}

/// The header line of the CSV export.
pub fn csv_header() -> String {
    csv_line(&CSV_COLUMNS.iter().map(|c| Value::String((*c).to_owned())).collect::<Vec<_>>())
}

impl Auth {
    /// One page of the audit log, newest first: `{items, next_cursor}`.
    pub async fn audit_page(&self, filter: &AuditFilter) -> Result<Value> {
        let limits = &self.config.limits;
        let limit = filter.limit.unwrap_or(limits.default_page_size);
        if !(1..=limits.max_page_size).contains(&limit) {
            return Err(Error::bad_request(
                "limit",
                ErrorCode::Range,
                format!("must be between 1 and {}", limits.max_page_size),
            ));
        }
        let after = match filter.cursor.as_deref() {
            Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
                Error::bad_request("cursor", ErrorCode::Invalid, "not a cursor of this list")
            })?),
            None => None,
        };
        let mut sql = self.db.sql(
            "SELECT id, created_at, actor_user_id, ip, user_agent, action, entity_type, entity_id, before, after \
             FROM audit_log WHERE workspace_id = ",
        );
        sql.bind(WorkspaceId::DEFAULT.0);
        if let Some(id) = filter.actor_user_id {
            sql.push(" AND actor_user_id = ").bind(id);
        }
        if let Some(action) = &filter.action {
            sql.push(" AND action = ").bind(action.clone());
        }
        if let Some(entity_type) = &filter.entity_type {
            sql.push(" AND entity_type = ").bind(entity_type.clone());
        }
        if let Some(id) = filter.entity_id {
            sql.push(" AND entity_id = ").bind(id);
        }
        if let Some(from) = filter.from {
            sql.push(" AND created_at >= ").bind(from);
        }
        if let Some(to) = filter.to {
            sql.push(" AND created_at < ").bind(to);
        }
        if let Some(after) = after {
            sql.push(" AND id < ").bind(after);
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
        let rows = self.db.fetch_all(&sql).await?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        let items = rows
            .iter()
            .take(usize::try_from(limit).unwrap_or(0))
            .map(entry_json)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor =
            if more { items.last().and_then(|e| e["id"].as_str()).map(str::to_owned) } else { None };
        Ok(json!({ "items": items, "next_cursor": next_cursor }))
    }
}
