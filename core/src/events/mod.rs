//! The outbox (`domain_events`) and the audit log, written in the same transaction as the change they
//! describe: either both the change and its records exist, or neither does.

use chrono::Utc;
use serde_json::Value;
use uuid::Uuid;

use crate::ids::{new_id, WorkspaceId};
use crate::store::{StoreError, Tx};

/// Who is acting, for `created_by`/`updated_by` stamps and the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// `None` for the system itself (migrations, bootstrap) and, until authentication lands, the API.
    pub user_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// May this actor see masked values in clear? (RBAC's `table:<id>:unmask`; true for the system.)
    pub unmask: bool,
}

impl Actor {
    /// The system itself: no user, sees everything.
    pub fn system() -> Self {
        Self { unmask: true, ..Self::default() }
    }

    /// A request's client before authentication: its address and user agent (at most 512 characters),
    /// for sessions and audit entries.
    pub fn client(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            user_id: None,
            ip: ip.map(|ip| ip.to_string()),
            user_agent: user_agent.map(|ua| ua.chars().take(512).collect()),
            unmask: false,
        }
    }
}

/// One change: its outbox event and its audit entry.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub workspace: WorkspaceId,
    /// `TableCreated`, `ColumnAttached`, `RowCreated`, `RowUpdated`, `RowDeleted`, …
    pub event_type: &'a str,
    /// `logical_table`, `column_definition`, `row`, …
    pub aggregate_type: &'a str,
    pub aggregate_id: Uuid,
    /// The event payload (what subscribers receive).
    pub data: Value,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Inserts the outbox event and the audit entry for `change` inside `tx`.
pub async fn record(tx: &mut Tx, actor: &Actor, change: Change<'_>) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut event = tx.sql(
        "INSERT INTO domain_events (id, workspace_id, event_type, aggregate_id, aggregate_type, event_data, \
         created_at, status) VALUES (",
    );
    event
        .bind(new_id())
        .push(", ")
        .bind(change.workspace.0)
        .push(", ")
        .bind(change.event_type)
        .push(", ")
        .bind(change.aggregate_id)
        .push(", ")
        .bind(change.aggregate_type)
        .push(", ")
        .bind(change.data)
        .push(", ")
        .bind(now)
        .push(", 'pending')");
    tx.execute(&event).await?;

    let mut audit = tx.sql(
        "INSERT INTO audit_log (id, workspace_id, actor_user_id, ip, user_agent, action, entity_type, entity_id, \
         before, after, created_at) VALUES (",
    );
    audit
        .bind(new_id())
        .push(", ")
        .bind(change.workspace.0)
        .push(", ")
        .bind(actor.user_id)
        .push(", ")
        .bind(actor.ip.clone())
        .push(", ")
        .bind(actor.user_agent.clone())
        .push(", ")
        .bind(change.event_type)
        .push(", ")
        .bind(change.aggregate_type)
        .push(", ")
        .bind(change.aggregate_id)
        .push(", ")
        .bind(crate::store::Arg::Json(change.before))
        .push(", ")
        .bind(crate::store::Arg::Json(change.after))
        .push(", ")
        .bind(now)
        .push(")");
    tx.execute(&audit).await?;
    Ok(())
}

/// Inserts the outbox events and audit entries of many changes with two statements per chunk.
pub async fn record_many(tx: &mut Tx, actor: &Actor, changes: &[Change<'_>]) -> Result<(), StoreError> {
    let now = Utc::now();
    // 11 parameters per audit entry; stay far below both backends' parameter limits.
    for chunk in changes.chunks(2_000) {
        let mut events = tx.sql(
            "INSERT INTO domain_events (id, workspace_id, event_type, aggregate_id, aggregate_type, event_data, \
             created_at, status) VALUES ",
        );
        let mut audit = tx.sql(
            "INSERT INTO audit_log (id, workspace_id, actor_user_id, ip, user_agent, action, entity_type, entity_id, \
             before, after, created_at) VALUES ",
        );
        for (i, change) in chunk.iter().enumerate() {
            let open = if i == 0 { "(" } else { ", (" };
            events
                .push(open)
                .bind(new_id())
                .push(", ")
                .bind(change.workspace.0)
                .push(", ")
                .bind(change.event_type);
            events.push(", ").bind(change.aggregate_id).push(", ").bind(change.aggregate_type).push(", ");
            events.bind(change.data.clone()).push(", ").bind(now).push(", 'pending')");
            audit
                .push(open)
                .bind(new_id())
                .push(", ")
                .bind(change.workspace.0)
                .push(", ")
                .bind(actor.user_id);
            audit.push(", ").bind(actor.ip.clone()).push(", ").bind(actor.user_agent.clone()).push(", ");
            audit
                .bind(change.event_type)
                .push(", ")
                .bind(change.aggregate_type)
                .push(", ")
                .bind(change.aggregate_id);
            audit.push(", ").bind(crate::store::Arg::Json(change.before.clone())).push(", ");
            audit.bind(crate::store::Arg::Json(change.after.clone())).push(", ").bind(now).push(")");
        }
        if !chunk.is_empty() {
            tx.execute(&events).await?;
            tx.execute(&audit).await?;
        }
    }
    Ok(())
}
