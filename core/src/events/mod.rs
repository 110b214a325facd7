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
    if tx.backend() == crate::store::Backend::Postgres {
        return record_many_unnest(tx, actor, changes, now).await;
    }
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

/// PostgreSQL: the events and audit entries of all `changes` as arrays, two statements whatever their number.
async fn record_many_unnest(
    tx: &mut Tx,
    actor: &Actor,
    changes: &[Change<'_>],
    now: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    use crate::store::Arg;
    if changes.is_empty() {
        return Ok(());
    }
    let texts = |f: &dyn Fn(&Change<'_>) -> Option<String>| Arg::OptTexts(changes.iter().map(f).collect());
    let aggregates = Arg::Uuids(changes.iter().map(|c| c.aggregate_id).collect());
    let workspaces = Arg::Uuids(changes.iter().map(|c| c.workspace.0).collect());
    let mut events = tx.sql(
        "INSERT INTO domain_events (id, workspace_id, event_type, aggregate_id, aggregate_type, event_data, \
         created_at, status) SELECT u.id, u.workspace_id, u.event_type, u.aggregate_id, u.aggregate_type, \
         u.event_data::jsonb, $1, 'pending' FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], \
         $6::text[], $7::text[]) AS u(id, workspace_id, event_type, aggregate_id, aggregate_type, event_data)",
    );
    events.arg(now);
    events.arg(Arg::Uuids(changes.iter().map(|_| new_id()).collect()));
    events.arg(workspaces.clone());
    events.arg(texts(&|c| Some(c.event_type.to_owned())));
    events.arg(aggregates.clone());
    events.arg(texts(&|c| Some(c.aggregate_type.to_owned())));
    events.arg(texts(&|c| Some(c.data.to_string())));
    tx.execute(&events).await?;
    let mut audit = tx.sql(
        "INSERT INTO audit_log (id, workspace_id, actor_user_id, ip, user_agent, action, entity_type, entity_id, \
         before, after, created_at) SELECT u.id, u.workspace_id, $1, $2, $3, u.action, u.entity_type, \
         u.entity_id, u.before::jsonb, u.after::jsonb, $4 FROM unnest($5::uuid[], $6::uuid[], $7::text[], \
         $8::text[], $9::uuid[], $10::text[], $11::text[]) \
         AS u(id, workspace_id, action, entity_type, entity_id, before, after)",
    );
    audit.arg(actor.user_id);
    audit.arg(actor.ip.clone());
    audit.arg(actor.user_agent.clone());
    audit.arg(now);
    audit.arg(Arg::Uuids(changes.iter().map(|_| new_id()).collect()));
    audit.arg(workspaces);
    audit.arg(texts(&|c| Some(c.event_type.to_owned())));
    audit.arg(texts(&|c| Some(c.aggregate_type.to_owned())));
    audit.arg(aggregates);
    audit.arg(texts(&|c| c.before.as_ref().map(Value::to_string)));
    audit.arg(texts(&|c| c.after.as_ref().map(Value::to_string)));
    tx.execute(&audit).await?;
    Ok(())
}
