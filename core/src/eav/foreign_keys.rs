//! FOREIGN KEY constraints: ordered child columns referencing the referenced table's PRIMARY KEY, MATCH
//! SIMPLE or FULL, and the referential actions NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT on
//! delete and on update of the parent key — across tables, chains and self-references, cycle-safe, in the
//! writer's transaction.
//!
//! Each child row's reference is kept in `foreign_key_refs(constraint_id, row_id, normalized_key)`; parents
//! find their children through `(constraint_id, normalized_key)`. Races: a child write locks the parent row
//! (`FOR KEY SHARE` on PostgreSQL) while it checks it; a parent delete or key change holds the parent row
//! `FOR UPDATE`; so a concurrent parent delete and child insert cannot both succeed. SQLite serialises writers.

use std::collections::HashSet;

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::constraints::{part, Constraint, Kind};
use super::schema::Table;
use super::types::Value as Typed;
use crate::error::{Error, ErrorCode, FieldError, Result, Violation};
use crate::events::{record, Actor, Change};
use crate::store::{Backend, Tx};

/// A referential action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_uppercase().as_str() {
            "NO ACTION" => Some(Action::NoAction),
            "RESTRICT" => Some(Action::Restrict),
            "CASCADE" => Some(Action::Cascade),
            "SET NULL" => Some(Action::SetNull),
            "SET DEFAULT" => Some(Action::SetDefault),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }
}

/// A foreign key as seen from either side.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub id: Uuid,
    pub name: String,
    pub child_table: Uuid,
    /// Child column definition ids, in key order.
    pub columns: Vec<Uuid>,
    pub parent_table: Uuid,
    pub parent_table_name: String,
    /// The referenced PRIMARY KEY constraint and its column definition ids.
    pub parent_pk: Uuid,
    pub parent_columns: Vec<Uuid>,
    pub case_sensitive: bool,
    pub on_delete: Action,
    pub on_update: Action,
    pub match_full: bool,
    pub is_active: bool,
    pub version: i32,
}

impl ForeignKey {
    pub fn to_json(&self, child: &Table) -> Value {
        let columns: Vec<String> = self
            .columns
            .iter()
            .filter_map(|id| child.column_by_id(*id))
            .map(|c| c.name.to_string())
            .collect();
        json!({
            "constraint_name": self.name,
            "constraint_type": "FOREIGN KEY",
            "columns": columns,
            "referenced_table": self.parent_table_name,
            "on_delete": self.on_delete.as_str(),
            "on_update": self.on_update.as_str(),
            "match_type": if self.match_full { "FULL" } else { "SIMPLE" },
            "is_active": self.is_active,
            "version": self.version,
        })
    }
}

const SELECT: &str = "SELECT c.id, c.constraint_name, c.logical_table_id AS child_table, c.is_active, c.version, \
     f.referenced_table_id, t.table_name AS parent_name, f.on_delete_action, f.on_update_action, f.match_type \
     FROM table_constraints c JOIN foreign_key_references f ON f.constraint_id = c.id \
     JOIN logical_tables t ON t.id = f.referenced_table_id WHERE ";

async fn load_where(tx: &mut Tx, column: &str, table: Uuid) -> Result<Vec<ForeignKey>> {
    let mut sql = tx.sql(SELECT);
    sql.push(column).push(" = ").bind(table).push(" ORDER BY c.constraint_name");
    let rows = tx.fetch_all(&sql).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.uuid("id")?;
        let parent_table = row.uuid("referenced_table_id")?;
        let columns = constraint_columns(tx, id).await?;
        let (parent_pk, parent_columns, case_sensitive) =
            primary_key_of(tx, parent_table).await?.unwrap_or((Uuid::nil(), Vec::new(), true));
        out.push(ForeignKey {
            id,
            name: row.text("constraint_name")?,
            child_table: row.uuid("child_table")?,
            columns,
            parent_table,
            parent_table_name: row.text("parent_name")?,
            parent_pk,
            parent_columns,
            case_sensitive,
            on_delete: Action::parse(&row.text("on_delete_action")?).unwrap_or(Action::NoAction),
            on_update: Action::parse(&row.text("on_update_action")?).unwrap_or(Action::NoAction),
            match_full: row.text("match_type")? == "FULL",
            is_active: row.bool("is_active")?,
            version: row.i32("version")?,
        });
    }
    Ok(out)
}

async fn constraint_columns(tx: &mut Tx, id: Uuid) -> Result<Vec<Uuid>> {
    let mut sql = tx.sql("SELECT column_definition_id FROM constraint_columns WHERE constraint_id = ");
    sql.bind(id).push(" ORDER BY ordinal_position");
    Ok(tx.fetch_all(&sql).await?.iter().map(|r| r.uuid("column_definition_id")).collect::<Result<_, _>>()?)
}

/// The active PRIMARY KEY of a table: (constraint id, column ids, case-sensitive).
async fn primary_key_of(tx: &mut Tx, table: Uuid) -> Result<Option<(Uuid, Vec<Uuid>, bool)>> {
    let mut sql = tx.sql(
        "SELECT c.id, u.is_case_sensitive FROM table_constraints c LEFT JOIN unique_indexes u ON u.constraint_id = c.id \
         WHERE c.constraint_type = 'PRIMARY KEY' AND c.is_active = ",
    );
    sql.bind(true).push(" AND c.logical_table_id = ").bind(table);
    let Some(row) = tx.fetch_optional(&sql).await? else { return Ok(None) };
    let id = row.uuid("id")?;
    let case = row.opt_bool("is_case_sensitive")?.unwrap_or(true);
    Ok(Some((id, constraint_columns(tx, id).await?, case)))
}

/// Foreign keys declared on `table` (it is the child).
pub async fn outgoing(tx: &mut Tx, table: Uuid) -> Result<Vec<ForeignKey>> {
    load_where(tx, "c.logical_table_id", table).await
}

/// Foreign keys referencing `table` (it is the parent).
pub async fn incoming(tx: &mut Tx, table: Uuid) -> Result<Vec<ForeignKey>> {
    load_where(tx, "f.referenced_table_id", table).await
}

/// The state of a child row's reference.
enum Reference {
    /// No reference (MATCH SIMPLE with a NULL component, or all NULL).
    None,
    /// Some but not all components NULL under MATCH FULL.
    Partial,
    Key(String),
}

fn reference(fk: &ForeignKey, table: &Table, values: &[Option<Typed>]) -> Reference {
    let mut parts = Vec::with_capacity(fk.columns.len());
    let mut nulls = 0;
    for id in &fk.columns {
        match table
            .columns
            .iter()
            .position(|c| c.definition_id == *id)
            .and_then(|i| values.get(i))
            .and_then(Option::as_ref)
        {
            Some(v) => parts.push(part(v, fk.case_sensitive)),
            None => nulls += 1,
        }
    }
    if nulls == fk.columns.len() {
        Reference::None
    } else if nulls > 0 {
        if fk.match_full {
            Reference::Partial
        } else {
            Reference::None
        }
    } else {
        Reference::Key(super::constraints::join_key(&parts))
    }
}

fn violation(
    fk: &ForeignKey,
    table: &Table,
    values: &[Option<Typed>],
    message: String,
    prefix: &str,
) -> Error {
    let columns: Vec<String> =
        fk.columns.iter().filter_map(|id| table.column_by_id(*id)).map(|c| c.name.to_string()).collect();
    let shown = fk
        .columns
        .iter()
        .map(|id| {
            table
                .columns
                .iter()
                .position(|c| c.definition_id == *id)
                .and_then(|i| values.get(i))
                .and_then(Option::as_ref)
                .map_or(Value::Null, Typed::to_json)
        })
        .collect();
    let target = match columns.as_slice() {
        [one] => format!("values.{one}"),
        _ => "values".to_owned(),
    };
    let field = if prefix.is_empty() { target } else { format!("{prefix}.{target}") };
    Error::Violation {
        errors: vec![FieldError::new(field, ErrorCode::ForeignKey, message.clone())],
        violations: vec![Violation {
            constraint: fk.name.clone(),
            kind: "FOREIGN KEY",
            columns,
            values: shown,
            message,
        }],
    }
}

/// Child side: checks every active foreign key of `table` for one row's final values (the parent must
/// exist, locked against a concurrent delete) and records the reference.
pub async fn enforce_child(
    tx: &mut Tx,
    table: &Table,
    row: Uuid,
    values: &[Option<Typed>],
    prefix: &str,
) -> Result<()> {
    enforce_child_change(tx, table, row, None, values, prefix).await
}

/// Like [`enforce_child`], skipping foreign keys whose columns did not change from `old` (as SQL does: an
/// update that leaves the key alone neither re-checks nor locks the parent — which also keeps unrelated edits
/// of children from deadlocking with a cascading delete of their parent).
pub async fn enforce_child_change(
    tx: &mut Tx,
    table: &Table,
    row: Uuid,
    old: Option<&[Option<Typed>]>,
    values: &[Option<Typed>],
    prefix: &str,
) -> Result<()> {
    for fk in table.foreign_keys.iter().filter(|f| f.is_active) {
        if let Some(old) = old {
            let same = fk.columns.iter().all(|id| {
                let i = table.columns.iter().position(|c| c.definition_id == *id);
                i.map(|i| old.get(i) == values.get(i)).unwrap_or(true)
            });
            if same {
                continue;
            }
        }
        let mut forget = tx.sql("DELETE FROM foreign_key_refs WHERE constraint_id = ");
        forget.bind(fk.id).push(" AND row_id = ").bind(row);
        match reference(fk, table, values) {
            Reference::None => {
                tx.execute(&forget).await?;
            }
            Reference::Partial => {
                let message = format!(
                    "foreign key '{}' is MATCH FULL: either all or none of its columns may be NULL",
                    fk.name
                );
                return Err(violation(fk, table, values, message, prefix));
            }
            Reference::Key(key) => {
                let mut find = tx.sql(
                    "SELECT r.id FROM constraint_keys k JOIN table_rows r ON r.id = k.row_id WHERE k.constraint_id = ",
                );
                find.bind(fk.parent_pk).push(" AND k.normalized_key = ").bind(key.as_str());
                if tx.backend() == Backend::Postgres {
                    find.push(" FOR KEY SHARE OF r");
                }
                if tx.fetch_optional(&find).await?.is_none() {
                    let message = format!(
                        "foreign key '{}': no row of '{}' has this key",
                        fk.name, fk.parent_table_name
                    );
                    return Err(violation(fk, table, values, message, prefix));
                }
                let mut remember =
                    tx.sql("INSERT INTO foreign_key_refs (constraint_id, row_id, normalized_key) VALUES (");
                remember.bind(fk.id).push(", ").bind(row).push(", ").bind(key.as_str());
                remember.push(") ON CONFLICT (constraint_id, row_id) DO UPDATE SET normalized_key = excluded.normalized_key");
                tx.execute(&remember).await?;
            }
        }
    }
    Ok(())
}

/// Like [`enforce_child`] for rows that were just inserted: one parent lookup (locked) and one reference
/// insert per foreign key and chunk.
pub async fn enforce_new(
    tx: &mut Tx,
    table: &Table,
    rows: &[super::constraints::NewRowRef<'_>],
) -> Result<()> {
    for fk in table.foreign_keys.iter().filter(|f| f.is_active) {
        let mut refs: Vec<(String, &super::constraints::NewRowRef<'_>)> = Vec::with_capacity(rows.len());
        for row in rows {
            let (_, values, _, prefix) = row;
            match reference(fk, table, values) {
                Reference::None => {}
                Reference::Partial => {
                    let message = format!(
                        "foreign key '{}' is MATCH FULL: either all or none of its columns may be NULL",
                        fk.name
                    );
                    return Err(violation(fk, table, values, message, prefix));
                }
                Reference::Key(key) => refs.push((key, row)),
            }
        }
        for chunk in refs.chunks(5_000) {
            let keys: Vec<String> =
                chunk.iter().map(|(k, _)| k.clone()).collect::<HashSet<_>>().into_iter().collect();
            let mut find = tx.sql(
                "SELECT k.normalized_key FROM constraint_keys k JOIN table_rows r ON r.id = k.row_id WHERE k.constraint_id = ",
            );
            find.bind(fk.parent_pk).push(" AND ");
            find.push_in_texts("k.normalized_key", keys);
            if tx.backend() == Backend::Postgres {
                find.push(" FOR KEY SHARE OF r");
            }
            let found: HashSet<String> = tx
                .fetch_all(&find)
                .await?
                .iter()
                .map(|r| r.text("normalized_key"))
                .collect::<Result<_, _>>()?;
            if let Some((_, (_, values, _, prefix))) = chunk.iter().find(|(k, _)| !found.contains(k)) {
                let message =
                    format!("foreign key '{}': no row of '{}' has this key", fk.name, fk.parent_table_name);
                return Err(violation(fk, table, values, message, prefix));
            }
            let mut remember =
                tx.sql("INSERT INTO foreign_key_refs (constraint_id, row_id, normalized_key) VALUES ");
            for (i, (key, (id, ..))) in chunk.iter().enumerate() {
                remember.push(if i == 0 { "(" } else { ", (" });
                remember.bind(fk.id).push(", ").bind(*id).push(", ").bind(key.as_str()).push(")");
            }
            tx.execute(&remember).await?;
        }
    }
    Ok(())
}

/// The rows referencing `key` through `fk`, except those already being deleted.
async fn children(tx: &mut Tx, fk: &ForeignKey, key: &str, skip: &HashSet<Uuid>) -> Result<Vec<Uuid>> {
    let mut sql = tx.sql("SELECT row_id FROM foreign_key_refs WHERE constraint_id = ");
    sql.bind(fk.id).push(" AND normalized_key = ").bind(key).push(" ORDER BY row_id");
    let ids: Vec<Uuid> =
        tx.fetch_all(&sql).await?.iter().map(|r| r.uuid("row_id")).collect::<Result<_, _>>()?;
    Ok(ids.into_iter().filter(|id| !skip.contains(id)).collect())
}

/// The PRIMARY KEY key of a parent row, if it has one.
async fn parent_key(tx: &mut Tx, pk: Uuid, row: Uuid) -> Result<Option<String>> {
    let mut sql = tx.sql("SELECT normalized_key FROM constraint_keys WHERE constraint_id = ");
    sql.bind(pk).push(" AND row_id = ").bind(row);
    Ok(tx.fetch_optional(&sql).await?.map(|r| r.text("normalized_key")).transpose()?)
}

/// A parent row that may not go (or change its key) because children reference it under `action`.
fn referenced(fk: &ForeignKey, action: Action, count: usize, child: &str) -> Error {
    let message = format!(
        "{count} row(s) of '{child}' still reference this row through foreign key '{}' ({})",
        fk.name,
        action.as_str()
    );
    Error::Violation {
        errors: vec![FieldError::new("id", ErrorCode::ForeignKey, message.clone())],
        violations: vec![Violation {
            constraint: fk.name.clone(),
            kind: "FOREIGN KEY",
            columns: Vec::new(),
            values: Vec::new(),
            message,
        }],
    }
}

/// Parent side of a delete: applies each referencing foreign key's ON DELETE action for `row` of `table`.
/// `deleting` holds every row this statement deletes (cycle safety and NO ACTION semantics).
pub async fn on_parent_delete(
    tx: &mut Tx,
    table: &Table,
    row: Uuid,
    deleting: &mut HashSet<Uuid>,
    actor: &Actor,
) -> Result<()> {
    deleting.insert(row);
    for fk in table.referenced_by.iter().filter(|f| f.is_active) {
        let Some(key) = parent_key(tx, fk.parent_pk, row).await? else { continue };
        let kids = children(tx, fk, &key, deleting).await?;
        if kids.is_empty() {
            continue;
        }
        let child = load_child(tx, table, fk.child_table).await?;
        match fk.on_delete {
            Action::NoAction | Action::Restrict => {
                return Err(referenced(fk, fk.on_delete, kids.len(), child.name.as_str()))
            }
            Action::Cascade => {
                for kid in kids {
                    if deleting.contains(&kid) {
                        continue;
                    }
                    Box::pin(delete_cascaded(tx, &child, kid, deleting, actor)).await?;
                }
            }
            Action::SetNull | Action::SetDefault => {
                for kid in kids {
                    set_reference(tx, &child, fk, kid, fk.on_delete, None, actor).await?;
                }
                // SET DEFAULT onto the very key being deleted leaves the children referencing it: rejected,
                // as in PostgreSQL.
                let still = children(tx, fk, &key, deleting).await?;
                if !still.is_empty() {
                    return Err(referenced(fk, fk.on_delete, still.len(), child.name.as_str()));
                }
            }
        }
    }
    Ok(())
}

/// Parent side of a key change (ON UPDATE): `old` → `new_values` of the parent's key columns.
pub async fn on_parent_key_change(
    tx: &mut Tx,
    table: &Table,
    old_key: &str,
    new_key: Option<&str>,
    new_values: &[Option<Typed>],
    actor: &Actor,
) -> Result<()> {
    if Some(old_key) == new_key {
        return Ok(());
    }
    for fk in table.referenced_by.iter().filter(|f| f.is_active) {
        let kids = children(tx, fk, old_key, &HashSet::new()).await?;
        if kids.is_empty() {
            continue;
        }
        let child = load_child(tx, table, fk.child_table).await?;
        match fk.on_update {
            Action::NoAction | Action::Restrict => {
                return Err(referenced(fk, fk.on_update, kids.len(), child.name.as_str()))
            }
            action => {
                let parent_values: Vec<Option<Typed>> = fk
                    .parent_columns
                    .iter()
                    .map(|id| {
                        table
                            .columns
                            .iter()
                            .position(|c| c.definition_id == *id)
                            .and_then(|i| new_values.get(i).cloned().flatten())
                    })
                    .collect();
                for kid in kids {
                    set_reference(tx, &child, fk, kid, action, Some(&parent_values), actor).await?;
                }
            }
        }
    }
    Ok(())
}

/// The child table of `fk` (the same table for self-references).
async fn load_child(tx: &mut Tx, parent: &Table, child: Uuid) -> Result<Table> {
    if child == parent.id {
        return Ok(parent.clone());
    }
    let mut sql = tx.sql("SELECT table_name FROM logical_tables WHERE id = ");
    sql.bind(child);
    let name = tx.fetch_optional(&sql).await?.map(|r| r.text("table_name")).transpose()?.unwrap_or_default();
    super::schema::load_table(tx, parent.workspace, &name).await
}

/// Deletes a row reached by ON DELETE CASCADE, after applying its own referencing keys.
async fn delete_cascaded(
    tx: &mut Tx,
    table: &Table,
    row: Uuid,
    deleting: &mut HashSet<Uuid>,
    actor: &Actor,
) -> Result<()> {
    on_parent_delete(tx, table, row, deleting, actor).await?;
    super::rows::delete_one(tx, table, row, actor).await
}

/// SET NULL / SET DEFAULT / CASCADE (update) on one child row: rewrites its foreign-key columns, then
/// re-checks the child's constraints and references.
async fn set_reference(
    tx: &mut Tx,
    child: &Table,
    fk: &ForeignKey,
    row: Uuid,
    action: Action,
    parent_values: Option<&[Option<Typed>]>,
    actor: &Actor,
) -> Result<()> {
    let mut values = super::rows::current_values(tx, child, row).await?;
    let old_values = values.clone();
    for (i, id) in fk.columns.iter().enumerate() {
        let Some(index) = child.columns.iter().position(|c| c.definition_id == *id) else { continue };
        let new = match action {
            Action::SetNull => None,
            Action::SetDefault => child.columns.get(index).and_then(|c| c.default_value.clone()),
            _ => parent_values.and_then(|p| p.get(i).cloned().flatten()),
        };
        if let (Some(slot), Some(column)) = (values.get_mut(index), child.columns.get(index)) {
            super::values::write(tx, child.id, row, column, new.as_ref(), actor).await?;
            *slot = new;
        }
    }
    let mut sql = tx.sql("UPDATE table_rows SET version = version + 1, updated_at = ");
    sql.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(row);
    tx.execute(&sql).await?;
    let ext = super::rows::current_ext(tx, child, row).await?;
    let prefix = format!("rows[{row}]");
    super::constraints::enforce(tx, child, &child.constraints, row, &values, &ext, &prefix).await?;
    enforce_child(tx, child, row, &values, &prefix).await?;
    // The rewritten columns may be part of the child's own primary key: its children follow (ON UPDATE).
    if !child.referenced_by.is_empty() {
        if let Some(pk) = child.constraints.iter().find(|c| c.is_active && matches!(c.kind, Kind::PrimaryKey))
        {
            let old_key = super::constraints::key_of(pk, child, &old_values, &ext);
            let new_key = super::constraints::key_of(pk, child, &values, &ext);
            if let Some(old_key) = old_key {
                Box::pin(on_parent_key_change(tx, child, &old_key, new_key.as_deref(), &values, actor))
                    .await?;
            }
        }
    }
    record(
        tx,
        actor,
        Change {
            workspace: child.workspace,
            event_type: "RowUpdated",
            aggregate_type: "row",
            aggregate_id: row,
            data: json!({ "table_id": child.id, "table": child.name.as_str(), "row_id": row, "cause": fk.name }),
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(())
}

/// Validates a new foreign key's definition and the existing child rows; returns it ready to store.
pub async fn prepare(
    tx: &mut Tx,
    table: &Table,
    name: &str,
    columns: &[Uuid],
    body: &Value,
) -> Result<ForeignKey> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let bad = |field: &str, message: String| Error::bad_request(field, ErrorCode::Invalid, message);
    let parent_name = text("referenced_table").ok_or_else(|| {
        Error::bad_request("referenced_table", ErrorCode::Required, "required for FOREIGN KEY")
    })?;
    let match_type = text("match_type").unwrap_or_else(|| "SIMPLE".to_owned()).to_uppercase();
    let match_full = match match_type.as_str() {
        "SIMPLE" => false,
        "FULL" => true,
        "PARTIAL" => {
            return Err(Error::invalid(
                "match_type",
                ErrorCode::ForeignKey,
                "MATCH PARTIAL is not supported (use SIMPLE or FULL)",
            ))
        }
        other => return Err(bad("match_type", format!("'{other}' is not SIMPLE or FULL"))),
    };
    let action = |key: &str| -> Result<Action> {
        match text(key) {
            None => Ok(Action::NoAction),
            Some(a) => Action::parse(&a).ok_or_else(|| {
                bad(key, format!("'{a}' is not NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT"))
            }),
        }
    };
    let (on_delete, on_update) = (action("on_delete")?, action("on_update")?);
    let parent = if parent_name == table.name.as_str() {
        table.clone()
    } else {
        super::schema::load_table(tx, table.workspace, &parent_name).await.map_err(|_| {
            Error::bad_request(
                "referenced_table",
                ErrorCode::UnknownField,
                format!("no table named '{parent_name}'"),
            )
        })?
    };
    let pk = parent.constraints.iter().find(|c| c.is_active && matches!(c.kind, Kind::PrimaryKey));
    let Some(pk) = pk.filter(|c: &&Constraint| c.json.is_empty()) else {
        return Err(Error::invalid(
            "referenced_table",
            ErrorCode::ForeignKey,
            format!("table '{parent_name}' has no active PRIMARY KEY over columns to reference"),
        ));
    };
    if pk.columns.len() != columns.len() {
        return Err(bad(
            "columns",
            format!(
                "'{parent_name}' has a {}-column primary key; {} columns given",
                pk.columns.len(),
                columns.len()
            ),
        ));
    }
    for (i, (mine, theirs)) in columns.iter().zip(&pk.columns).enumerate() {
        let (a, b) = (table.column_by_id(*mine), parent.column_by_id(*theirs));
        if let (Some(a), Some(b)) = (a, b) {
            if a.data_type != b.data_type {
                return Err(bad(
                    &format!("columns[{i}]"),
                    format!(
                        "'{}' is {} but '{}.{}' is {}",
                        a.name,
                        a.data_type.as_str(),
                        parent_name,
                        b.name,
                        b.data_type.as_str()
                    ),
                ));
            }
        }
    }
    Ok(ForeignKey {
        id: crate::ids::new_id(),
        name: name.to_owned(),
        child_table: table.id,
        columns: columns.to_vec(),
        parent_table: parent.id,
        parent_table_name: parent_name,
        parent_pk: pk.id,
        parent_columns: pk.columns.clone(),
        case_sensitive: pk.case_sensitive,
        on_delete,
        on_update,
        match_full,
        is_active: true,
        version: 1,
    })
}

/// Stores a prepared foreign key (its `table_constraints` row exists already).
pub async fn store(tx: &mut Tx, fk: &ForeignKey) -> Result<()> {
    let mut sql = tx.sql(
        "INSERT INTO foreign_key_references (id, constraint_id, referenced_table_id, on_update_action, on_delete_action, \
         match_type, created_at) VALUES (",
    );
    sql.bind(crate::ids::new_id()).push(", ").bind(fk.id).push(", ").bind(fk.parent_table).push(", ");
    sql.bind(fk.on_update.as_str()).push(", ").bind(fk.on_delete.as_str()).push(", ");
    sql.bind(if fk.match_full { "FULL" } else { "SIMPLE" }).push(", ").bind(Utc::now()).push(")");
    tx.execute(&sql).await?;
    Ok(())
}
