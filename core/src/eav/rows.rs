//! Rows of logical tables: create, read, replace (PUT), patch (PATCH), delete; hierarchy reads. Typed values,
//! defaults, mandatory columns, validation rules, masking on read, hierarchy rules and optimistic concurrency.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::input::{merge_patch, Fields, Patch};
use super::schema::{Column, Table};
use super::types::{format_timestamp, parse_value, Value as Typed};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::{record, Actor, Change};
use crate::ids::new_id;
use crate::store::{Arg, DbRow, Tx};

/// The promoted and system fields of a row, as stored in `table_rows`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowHead {
    pub id: Uuid,
    pub code: Option<String>,
    pub display_value: Option<String>,
    pub sort_order: i32,
    pub is_active: bool,
    pub parent_row_id: Option<Uuid>,
    pub extended_properties: Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

pub(crate) const HEAD_COLUMNS: &str =
    "r.id, r.code, r.display_value, r.sort_order, r.is_active, r.parent_row_id, \
     r.extended_properties, r.version, r.created_at, r.created_by, r.updated_at, r.updated_by";

impl RowHead {
    pub(crate) fn from_row(row: &DbRow) -> Result<Self> {
        Ok(Self {
            id: row.uuid("id")?,
            code: row.opt_text("code")?,
            display_value: row.opt_text("display_value")?,
            sort_order: row.i32("sort_order")?,
            is_active: row.bool("is_active")?,
            parent_row_id: row.opt_uuid("parent_row_id")?,
            extended_properties: row.json("extended_properties")?,
            version: row.i32("version")?,
            created_at: row.timestamp("created_at")?,
            created_by: row.opt_uuid("created_by")?,
            updated_at: row.opt_timestamp("updated_at")?,
            updated_by: row.opt_uuid("updated_by")?,
        })
    }

    /// The API representation; `values` already masked as the reader may see them.
    pub fn to_json(&self, table: &Table, values: Map<String, Value>) -> Value {
        json!({
            "id": self.id,
            "table": table.name.as_str(),
            "version": self.version,
            "code": self.code,
            "display_value": self.display_value,
            "sort_order": self.sort_order,
            "is_active": self.is_active,
            "parent_row_id": self.parent_row_id,
            "values": values,
            "extended_properties": self.extended_properties,
            "created_at": format_timestamp(&self.created_at),
            "created_by": self.created_by,
            "updated_at": self.updated_at.as_ref().map(format_timestamp),
            "updated_by": self.updated_by,
        })
    }
}

fn row_not_found(table: &Table, id: Uuid) -> Error {
    Error::NotFound(format!("row {id} not found in table '{}'", table.name))
}

/// Reads the head of one row (locked for update on PostgreSQL when `lock`).
async fn read_head(tx: &mut Tx, table: &Table, id: Uuid, lock: bool) -> Result<Option<RowHead>> {
    let mut sql = tx.sql("SELECT ");
    sql.push(HEAD_COLUMNS).push(" FROM table_rows r WHERE r.logical_table_id = ").bind(table.id);
    sql.push(" AND r.id = ").bind(id);
    if lock && tx.backend() == crate::store::Backend::Postgres {
        sql.push(" FOR UPDATE");
    }
    tx.fetch_optional(&sql).await?.as_ref().map(RowHead::from_row).transpose()
}

/// Builds the API representation of rows (in the given order), values restricted to `columns` and masked
/// unless the actor may unmask.
pub async fn render(
    tx: &mut Tx,
    table: &Table,
    heads: &[RowHead],
    columns: &[&Column],
    actor: &Actor,
) -> Result<Vec<Value>> {
    let ids: Vec<Uuid> = heads.iter().map(|h| h.id).collect();
    let mut values = super::values::load(tx, table, &ids, columns).await?;
    Ok(heads
        .iter()
        .map(|head| {
            let stored = values.remove(&head.id).unwrap_or_default();
            let mut shown = Map::new();
            for column in columns {
                let value = stored.get(column.name.as_str()).cloned().unwrap_or(Value::Null);
                let value = if actor.unmask { value } else { column.masking.mask(&value) };
                shown.insert(column.name.to_string(), value);
            }
            head.to_json(table, shown)
        })
        .collect())
}

async fn render_one(tx: &mut Tx, table: &Table, head: &RowHead, actor: &Actor) -> Result<Value> {
    let columns: Vec<&Column> = table.columns.iter().collect();
    let mut rendered = render(tx, table, std::slice::from_ref(head), &columns, actor).await?;
    rendered.pop().ok_or_else(|| row_not_found(table, head.id))
}

/// `GET /data/{table}/{id}`.
pub async fn get(tx: &mut Tx, table: &Table, id: Uuid, actor: &Actor) -> Result<Value> {
    let head = read_head(tx, table, id, false).await?.ok_or_else(|| row_not_found(table, id))?;
    render_one(tx, table, &head, actor).await
}

/// Reads one row and all its values in a single statement, with the table's stored schema version (so a
/// cached `table` can be checked in the same round trip; a single statement reads one snapshot, so no
/// transaction is needed). `None` when the table is gone; `Some((version, None))` when the row is missing.
pub async fn read_one(
    db: &crate::store::Database,
    table: &Table,
    id: Uuid,
    actor: &Actor,
) -> Result<Option<(i32, Option<Value>)>> {
    let mut sql = db.sql("SELECT t.version AS table_version, ");
    // The value columns' names are unique to column_values, so they need no alias.
    sql.push(HEAD_COLUMNS).push(", x.column_definition_id, ").push(super::values::STORED_COLUMNS);
    let t = sql.arg(table.id);
    let row_id = sql.arg(id);
    sql.push(&format!(
        " FROM logical_tables t LEFT JOIN table_rows r ON r.logical_table_id = {t} AND r.id = {row_id} \
         LEFT JOIN column_values x ON x.logical_table_id = {t} AND x.row_id = r.id WHERE t.id = {t}"
    ));
    let rows = db.fetch_all(&sql).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let version = first.i32("table_version")?;
    if first.opt_uuid("id")?.is_none() {
        return Ok(Some((version, None)));
    }
    let head = RowHead::from_row(first)?;
    let mut stored: HashMap<Uuid, Typed> = HashMap::new();
    for row in &rows {
        let Some(definition) = row.opt_uuid("column_definition_id")? else { continue };
        if let Some(column) = table.column_by_id(definition) {
            if let Some(value) = super::values::read_value(row, column.data_type)? {
                stored.insert(definition, value);
            }
        }
    }
    let mut shown = Map::new();
    for column in &table.columns {
        let value = stored.get(&column.definition_id).map_or(Value::Null, Typed::to_json);
        let value = if actor.unmask { value } else { column.masking.mask(&value) };
        shown.insert(column.name.to_string(), value);
    }
    Ok(Some((version, Some(head.to_json(table, shown)))))
}

/// A parsed create/update body.
#[derive(Debug)]
pub struct RowInput {
    /// Columns given in `values`, with their typed value (`None` = explicit null).
    pub values: Vec<(usize, Option<Typed>)>,
    pub extended_properties: Patch<Map<String, Value>>,
    pub code: Patch<String>,
    pub display_value: Patch<String>,
    pub sort_order: Patch<i32>,
    pub is_active: Patch<bool>,
    pub parent_row_id: Patch<Uuid>,
    pub version: Patch<i32>,
    /// A client-chosen id on create (so later operations of a batch can reference the row).
    pub id: Patch<Uuid>,
}

/// Parses a row body: unknown fields and unknown columns are 400 naming them; values that do not convert
/// to their column's type are 422.
pub fn parse_input(table: &Table, body: &Value, prefix: &str, with_version: bool) -> Result<RowInput> {
    let mut f = Fields::new(body, prefix)?;
    let values_raw = f.object("values");
    let extended_properties = f.object("extended_properties");
    let code = f.string("code");
    let display_value = f.string("display_value");
    let sort_order = f.i32("sort_order");
    let is_active = f.bool("is_active");
    let parent_row_id = f.uuid("parent_row_id");
    let version = if with_version { f.i32("version") } else { Patch::Absent };
    let id = if with_version { Patch::Absent } else { f.uuid("id") };
    let mut unknown = Vec::new();
    let mut invalid = Vec::new();
    let mut values = Vec::new();
    if let Patch::Set(raw) = values_raw {
        for (name, json) in raw {
            let path = f.path(&format!("values.{name}"));
            match table.columns.iter().position(|c| c.name.as_str() == name) {
                None => unknown.push(FieldError::new(
                    path,
                    ErrorCode::UnknownField,
                    format!("table '{}' has no column '{name}'", table.name),
                )),
                Some(index) => match table.columns.get(index).map(|c| parse_value(c.data_type, json)) {
                    Some(Ok(value)) => values.push((index, value)),
                    Some(Err(e)) => invalid.push(e.prefixed(&path)),
                    None => {}
                },
            }
        }
    }
    for e in unknown {
        f.error(e);
    }
    f.finish()?;
    if !invalid.is_empty() {
        return Err(Error::Validation(invalid));
    }
    Ok(RowInput {
        values,
        extended_properties: match extended_properties {
            Patch::Set(m) => Patch::Set(m.clone()),
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        },
        code,
        display_value,
        sort_order,
        is_active,
        parent_row_id,
        version,
        id,
    })
}

/// Checks mandatory columns and validation rules of the final values of a row (all columns).
fn check_values(table: &Table, values: &[Option<Typed>], prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (column, value) in table.columns.iter().zip(values) {
        let path = if prefix.is_empty() {
            format!("values.{}", column.name)
        } else {
            format!("{prefix}.values.{}", column.name)
        };
        match value {
            None if column.is_mandatory => {
                errors.push(FieldError::new(
                    path,
                    ErrorCode::Required,
                    format!("'{}' is mandatory", column.name),
                ));
            }
            Some(v) => {
                if let Some(rule) = &column.rule {
                    if let Err(e) = rule.check(v) {
                        errors.push(e.prefixed(&path));
                    }
                }
            }
            None => {}
        }
    }
    errors
}

/// Checks a parent: the table must be hierarchical, the parent a row of the same table, and (for an
/// existing row) not the row itself or one of its descendants.
async fn check_parent(
    tx: &mut Tx,
    table: &Table,
    row: Option<Uuid>,
    parent: Uuid,
    field: &str,
) -> Result<()> {
    let hierarchy = |message: String| Error::invalid(field, ErrorCode::Hierarchy, message);
    if !table.is_hierarchical {
        return Err(hierarchy(format!("table '{}' is not hierarchical", table.name)));
    }
    if read_head(tx, table, parent, false).await?.is_none() {
        return Err(hierarchy(format!("parent {parent} is not a row of table '{}'", table.name)));
    }
    if let Some(row) = row {
        if ancestors_of(tx, table, parent).await?.iter().chain(std::iter::once(&parent)).any(|a| *a == row) {
            return Err(hierarchy(format!("parent {parent} would make a cycle")));
        }
    }
    Ok(())
}

/// Ids from `row`'s parent up to the root (nearest first).
async fn ancestors_of(tx: &mut Tx, table: &Table, row: Uuid) -> Result<Vec<Uuid>> {
    let mut sql = tx.sql(
        "WITH RECURSIVE up(id, parent_row_id, depth) AS (SELECT id, parent_row_id, 0 FROM table_rows \
         WHERE logical_table_id = ",
    );
    sql.bind(table.id).push(" AND id = ").bind(row).push(
        " UNION ALL SELECT r.id, r.parent_row_id, up.depth + 1 FROM table_rows r JOIN up ON r.id = up.parent_row_id \
         WHERE up.depth < 10000) SELECT id FROM up WHERE depth > 0 ORDER BY depth",
    );
    tx.fetch_all(&sql).await?.iter().map(|r| r.uuid("id").map_err(Error::from)).collect()
}

/// Ids of `row`'s whole subtree (without `row`), nearest first.
async fn descendants_of(tx: &mut Tx, table: &Table, row: Uuid) -> Result<Vec<Uuid>> {
    let mut sql =
        tx.sql("WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM table_rows WHERE logical_table_id = ");
    sql.bind(table.id).push(" AND id = ").bind(row).push(
        " UNION ALL SELECT r.id, down.depth + 1 FROM table_rows r JOIN down ON r.parent_row_id = down.id \
         WHERE down.depth < 10000) SELECT id FROM down WHERE depth > 0 ORDER BY depth, id",
    );
    tx.fetch_all(&sql).await?.iter().map(|r| r.uuid("id").map_err(Error::from)).collect()
}

async fn heads_by_ids(tx: &mut Tx, table: &Table, ids: &[Uuid]) -> Result<Vec<RowHead>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = tx.sql("SELECT ");
    sql.push(HEAD_COLUMNS)
        .push(" FROM table_rows r WHERE r.logical_table_id = ")
        .bind(table.id)
        .push(" AND ");
    sql.push_in_uuids("r.id", ids.to_vec());
    let mut by_id: HashMap<Uuid, RowHead> = HashMap::new();
    for row in tx.fetch_all(&sql).await? {
        let head = RowHead::from_row(&row)?;
        by_id.insert(head.id, head);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Which rows of a hierarchy to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relatives {
    Children,
    Ancestors,
    Descendants,
}

/// `GET /data/{table}/{id}/children|ancestors|descendants`. Children by `sort_order`, then id; ancestors
/// from the parent to the root; descendants breadth-first.
pub async fn relatives(
    tx: &mut Tx,
    table: &Table,
    id: Uuid,
    which: Relatives,
    actor: &Actor,
) -> Result<Vec<Value>> {
    read_head(tx, table, id, false).await?.ok_or_else(|| row_not_found(table, id))?;
    let heads = match which {
        Relatives::Children => {
            let mut sql = tx.sql("SELECT ");
            sql.push(HEAD_COLUMNS).push(" FROM table_rows r WHERE r.logical_table_id = ").bind(table.id);
            sql.push(" AND r.parent_row_id = ").bind(id).push(" ORDER BY r.sort_order, r.id");
            tx.fetch_all(&sql).await?.iter().map(RowHead::from_row).collect::<Result<Vec<_>>>()?
        }
        Relatives::Ancestors => {
            let ids = ancestors_of(tx, table, id).await?;
            heads_by_ids(tx, table, &ids).await?
        }
        Relatives::Descendants => {
            let ids = descendants_of(tx, table, id).await?;
            heads_by_ids(tx, table, &ids).await?
        }
    };
    let columns: Vec<&Column> = table.columns.iter().collect();
    render(tx, table, &heads, &columns, actor).await
}

/// Writes all column values of a row that changed and maintains unique keys.
async fn write_values(
    tx: &mut Tx,
    table: &Table,
    row: Uuid,
    old: &[Option<Typed>],
    new: &[Option<Typed>],
    actor: &Actor,
) -> Result<()> {
    for ((column, old), new) in table.columns.iter().zip(old).zip(new) {
        if old == new {
            continue;
        }
        super::values::write(tx, table.id, row, column, new.as_ref(), actor).await?;
    }
    Ok(())
}

/// The current typed values of one row, in column order.
pub(crate) async fn current_values(tx: &mut Tx, table: &Table, row: Uuid) -> Result<Vec<Option<Typed>>> {
    let mut sql = tx.sql("SELECT column_definition_id, ");
    sql.push(super::values::STORED_COLUMNS).push(" FROM column_values WHERE logical_table_id = ");
    sql.bind(table.id).push(" AND row_id = ").bind(row);
    let mut values: Vec<Option<Typed>> = vec![None; table.columns.len()];
    for r in tx.fetch_all(&sql).await? {
        let definition = r.uuid("column_definition_id")?;
        if let Some(index) = table.columns.iter().position(|c| c.definition_id == definition) {
            if let (Some(slot), Some(column)) = (values.get_mut(index), table.columns.get(index)) {
                *slot = super::values::read_value(&r, column.data_type)?;
            }
        }
    }
    Ok(values)
}

/// Creates a row inside `tx`; `prefix` names the body in errors (batch operations).
pub async fn create_in(
    tx: &mut Tx,
    table: &Table,
    body: &Value,
    actor: &Actor,
    prefix: &str,
) -> Result<Value> {
    let mut rows = create_many_in(tx, table, &[(prefix.to_owned(), body)], actor).await?;
    rows.pop().ok_or_else(|| Error::NotFound("no row was created".into()))
}

/// A validated new row, ready to insert.
struct NewRow<'a> {
    prefix: &'a str,
    head: RowHead,
    values: Vec<Option<Typed>>,
}

/// Most bound parameters per statement (PostgreSQL allows 65,535, SQLite 32,766).
const MAX_PARAMS: usize = 30_000;

/// Creates rows in bulk, in order, with a constant number of statements per chunk (rows, values, keys,
/// events, audit) instead of a dozen round trips per row. A row may name as parent a row created earlier in
/// the same call. Errors name the failing input's prefix; nothing is written when one fails (the caller's
/// transaction rolls back). Returns the rows as `actor` may see them.
pub async fn create_many_in(
    tx: &mut Tx,
    table: &Table,
    inputs: &[(String, &Value)],
    actor: &Actor,
) -> Result<Vec<Value>> {
    let now = Utc::now();
    let mut rows: Vec<NewRow<'_>> = Vec::with_capacity(inputs.len());
    let mut ids = std::collections::HashSet::with_capacity(inputs.len());
    for (prefix, body) in inputs {
        let prefix = prefix.as_str();
        let field = |name: &str| if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
        let input = parse_input(table, body, prefix, false)?;
        let mut values: Vec<Option<Typed>> = table.columns.iter().map(|c| c.default_value.clone()).collect();
        for (index, value) in input.values {
            if let Some(slot) = values.get_mut(index) {
                *slot = value;
            }
        }
        let errors = check_values(table, &values, prefix);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let parent = input.parent_row_id.given().flatten();
        if let Some(parent) = parent {
            if ids.contains(&parent) {
                if !table.is_hierarchical {
                    let message = format!("table '{}' is not hierarchical", table.name);
                    return Err(Error::invalid(field("parent_row_id"), ErrorCode::Hierarchy, message));
                }
            } else {
                check_parent(tx, table, None, parent, &field("parent_row_id")).await?;
            }
        }
        let id = match input.id {
            Patch::Set(id) => id,
            _ => new_id(),
        };
        if !ids.insert(id) {
            return Err(Error::invalid(field("id"), ErrorCode::Unique, format!("id {id} appears twice")));
        }
        let head = RowHead {
            id,
            code: input.code.given().flatten(),
            display_value: input.display_value.given().flatten(),
            sort_order: match input.sort_order {
                Patch::Set(s) => s,
                _ => 0,
            },
            is_active: !matches!(input.is_active, Patch::Set(false)),
            parent_row_id: parent,
            extended_properties: match input.extended_properties {
                Patch::Set(m) => Value::Object(m),
                _ => Value::Object(Map::new()),
            },
            version: 1,
            created_at: now,
            created_by: actor.user_id,
            updated_at: None,
            updated_by: None,
        };
        rows.push(NewRow { prefix, head, values });
    }

    insert_heads(tx, table, &rows).await?;
    insert_values(tx, table, &rows, actor).await?;
    let refs: Vec<super::constraints::NewRowRef<'_>> = rows
        .iter()
        .map(|r| (r.head.id, r.values.as_slice(), &r.head.extended_properties, r.prefix))
        .collect();
    super::constraints::enforce_new(tx, table, &refs).await?;
    super::foreign_keys::enforce_new(tx, table, &refs).await?;

    let full: Vec<Value> = rows.iter().map(|r| render_new(table, r, &Actor::system())).collect();
    let changes: Vec<Change<'_>> = rows
        .iter()
        .zip(&full)
        .map(|(row, after)| Change {
            workspace: table.workspace,
            event_type: "RowCreated",
            aggregate_type: "row",
            aggregate_id: row.head.id,
            data: json!({ "table_id": table.id, "table": table.name.as_str(), "row_id": row.head.id, "version": 1 }),
            before: None,
            after: Some(after.clone()),
        })
        .collect();
    crate::events::record_many(tx, actor, &changes).await?;
    Ok(if actor.unmask { full } else { rows.iter().map(|r| render_new(table, r, actor)).collect() })
}

/// The API representation of a row that was just built in memory.
fn render_new(table: &Table, row: &NewRow<'_>, actor: &Actor) -> Value {
    let mut shown = Map::new();
    for (column, value) in table.columns.iter().zip(&row.values) {
        let json = value.as_ref().map_or(Value::Null, Typed::to_json);
        shown.insert(column.name.to_string(), if actor.unmask { json } else { column.masking.mask(&json) });
    }
    row.head.to_json(table, shown)
}

async fn insert_heads(tx: &mut Tx, table: &Table, rows: &[NewRow<'_>]) -> Result<()> {
    if tx.backend() == crate::store::Backend::Postgres {
        // One statement text whatever the batch size: the rows travel as arrays.
        let mut sql = tx.sql(
            "INSERT INTO table_rows (id, workspace_id, logical_table_id, code, display_value, sort_order, is_active, \
             parent_row_id, extended_properties, version, created_at, created_by) \
             SELECT u.id, $1, $2, u.code, u.display_value, u.sort_order, u.is_active, u.parent_row_id, \
             u.extended_properties::jsonb, 1, $3, $4 \
             FROM unnest($5::uuid[], $6::text[], $7::text[], $8::int4[], $9::bool[], $10::uuid[], $11::text[]) \
             AS u(id, code, display_value, sort_order, is_active, parent_row_id, extended_properties) \
             ON CONFLICT (id) DO NOTHING",
        );
        let first = rows.first().map(|r| (r.head.created_at, r.head.created_by));
        sql.arg(table.workspace.0);
        sql.arg(table.id);
        sql.arg(first.map(|f| f.0));
        sql.arg(first.and_then(|f| f.1));
        sql.arg(Arg::Uuids(rows.iter().map(|r| r.head.id).collect()));
        sql.arg(Arg::OptTexts(rows.iter().map(|r| r.head.code.clone()).collect()));
        sql.arg(Arg::OptTexts(rows.iter().map(|r| r.head.display_value.clone()).collect()));
        sql.arg(Arg::OptInt4s(rows.iter().map(|r| Some(r.head.sort_order)).collect()));
        sql.arg(Arg::OptBools(rows.iter().map(|r| Some(r.head.is_active)).collect()));
        sql.arg(Arg::OptUuids(rows.iter().map(|r| r.head.parent_row_id).collect()));
        sql.arg(Arg::OptTexts(rows.iter().map(|r| Some(r.head.extended_properties.to_string())).collect()));
        let inserted = tx.execute(&sql).await?;
        return refuse_taken_ids(tx, rows, inserted).await;
    }
    for chunk in rows.chunks(MAX_PARAMS / 12) {
        let mut sql = tx.sql(
            "INSERT INTO table_rows (id, workspace_id, logical_table_id, code, display_value, sort_order, is_active, \
             parent_row_id, extended_properties, version, created_at, created_by) VALUES ",
        );
        for (i, row) in chunk.iter().enumerate() {
            let h = &row.head;
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(h.id).push(", ").bind(table.workspace.0).push(", ").bind(table.id).push(", ");
            sql.bind(h.code.clone()).push(", ").bind(h.display_value.clone()).push(", ").bind(h.sort_order);
            sql.push(", ").bind(h.is_active).push(", ").bind(h.parent_row_id).push(", ");
            sql.bind(Arg::Json(Some(h.extended_properties.clone()))).push(", ").bind(1i32).push(", ");
            sql.bind(h.created_at).push(", ").bind(h.created_by).push(")");
        }
        sql.push(" ON CONFLICT (id) DO NOTHING");
        let inserted = tx.execute(&sql).await?;
        refuse_taken_ids(tx, chunk, inserted).await?;
    }
    Ok(())
}

/// Client-chosen ids that exist already are refused (race-free: the primary key decided, `ON CONFLICT DO
/// NOTHING` skipped them): a 422 naming the first such input when fewer than all `rows` were inserted.
async fn refuse_taken_ids(tx: &mut Tx, rows: &[NewRow<'_>], inserted: u64) -> Result<()> {
    if inserted == rows.len() as u64 {
        return Ok(());
    }
    let mut existing = tx.sql("SELECT id FROM table_rows WHERE ");
    existing.push_in_uuids("id", rows.iter().map(|r| r.head.id).collect());
    existing.push(" AND created_at <> ").bind(rows.first().map(|r| r.head.created_at));
    let taken: Vec<Uuid> =
        tx.fetch_all(&existing).await?.iter().map(|r| r.uuid("id")).collect::<Result<_, _>>()?;
    let culprit = rows.iter().find(|r| taken.contains(&r.head.id)).or(rows.first());
    let (prefix, id) = culprit.map_or(("", Uuid::nil()), |r| (r.prefix, r.head.id));
    let field = if prefix.is_empty() { "id".to_owned() } else { format!("{prefix}.id") };
    Err(Error::invalid(field, ErrorCode::Unique, format!("a row with id {id} already exists")))
}

async fn insert_values(tx: &mut Tx, table: &Table, rows: &[NewRow<'_>], actor: &Actor) -> Result<()> {
    if tx.backend() == crate::store::Backend::Postgres {
        let mut arrays = super::values::ValueArrays::default();
        for row in rows {
            for (column, value) in table.columns.iter().zip(&row.values) {
                if let Some(value) = value {
                    arrays.push(row.head.id, column.definition_id, value);
                }
            }
        }
        let created_at = rows.first().map(|r| r.head.created_at);
        return arrays.insert(tx, table.id, created_at, actor).await;
    }
    // (row, column, value) triples, grouped by storage column so each statement names one typed column.
    for column in &table.columns {
        let target = super::values::storage_column(column.data_type);
        let index = table.columns.iter().position(|c| c.definition_id == column.definition_id).unwrap_or(0);
        let present: Vec<(&NewRow<'_>, &Typed)> = rows
            .iter()
            .filter_map(|r| r.values.get(index).and_then(Option::as_ref).map(|v| (r, v)))
            .collect();
        for chunk in present.chunks(MAX_PARAMS / 9) {
            let mut sql =
                tx.sql("INSERT INTO column_values (id, row_id, column_definition_id, logical_table_id, ");
            sql.push(target).push(", decimal_sort, version, created_at, created_by) VALUES ");
            for (i, (row, value)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(new_id())
                    .push(", ")
                    .bind(row.head.id)
                    .push(", ")
                    .bind(column.definition_id)
                    .push(", ");
                sql.bind(table.id).push(", ").bind(super::values::value_arg(value));
                sql.push(", ").bind(Arg::Text(super::values::decimal_sort(value)));
                sql.push(", 1, ").bind(row.head.created_at).push(", ").bind(actor.user_id).push(")");
            }
            tx.execute(&sql).await?;
        }
    }
    Ok(())
}

fn with_prefix(e: Error, prefix: &str) -> Error {
    if prefix.is_empty() {
        return e;
    }
    match e {
        Error::Validation(errors) => {
            Error::Validation(errors.into_iter().map(|e| e.prefixed(prefix)).collect())
        }
        Error::BadRequest(errors) => {
            Error::BadRequest(errors.into_iter().map(|e| e.prefixed(prefix)).collect())
        }
        other => other,
    }
}

/// How an update treats what the body leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// PATCH: absent fields keep their value; `extended_properties` is a JSON merge patch.
    Merge,
    /// PUT: absent fields take their defaults (values: null); `extended_properties` is replaced.
    Replace,
}

/// Options of an update.
#[derive(Debug, Clone, Copy)]
pub struct UpdateOptions<'a> {
    /// The `If-Match` version, used when the body carries no `version`.
    pub expected: Option<i32>,
    pub mode: UpdateMode,
    /// Names the body in errors (`operations[3]` in a batch; empty otherwise).
    pub prefix: &'a str,
}

/// Updates a row inside `tx`.
pub async fn update_in(
    tx: &mut Tx,
    table: &Table,
    id: Uuid,
    body: &Value,
    options: UpdateOptions<'_>,
    actor: &Actor,
) -> Result<Value> {
    let UpdateOptions { expected, mode, prefix } = options;
    let input = parse_input(table, body, prefix, true)?;
    let field = |name: &str| if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
    let expected = match (input.version.clone(), expected) {
        (Patch::Set(v), _) => v,
        (_, Some(v)) => v,
        _ => {
            return Err(Error::bad_request(
                field("version"),
                ErrorCode::Required,
                "the expected version is required (body field 'version' or If-Match)",
            ))
        }
    };
    let head = read_head(tx, table, id, true).await?.ok_or_else(|| row_not_found(table, id))?;
    if head.version != expected {
        let current = render_one(tx, table, &head, actor).await?;
        return Err(Error::Conflict {
            detail: format!("row {id} is at version {}, not {expected}", head.version),
            current: Some(Box::new(current)),
        });
    }
    let old = current_values(tx, table, id).await?;
    let mut new = match mode {
        UpdateMode::Merge => old.clone(),
        UpdateMode::Replace => vec![None; table.columns.len()],
    };
    for (index, value) in input.values {
        if let Some(slot) = new.get_mut(index) {
            *slot = value;
        }
    }
    let errors = check_values(table, &new, prefix);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let keep_or = |patch: Patch<String>, current: &Option<String>| match (mode, patch) {
        (_, Patch::Set(v)) => Some(v),
        (_, Patch::Null) | (UpdateMode::Replace, Patch::Absent) => None,
        (UpdateMode::Merge, Patch::Absent) => current.clone(),
    };
    let code = keep_or(input.code, &head.code);
    let display_value = keep_or(input.display_value, &head.display_value);
    let sort_order = match (mode, input.sort_order) {
        (_, Patch::Set(s)) => s,
        (UpdateMode::Merge, Patch::Absent) => head.sort_order,
        _ => 0,
    };
    let is_active = match (mode, input.is_active) {
        (_, Patch::Set(a)) => a,
        (UpdateMode::Merge, Patch::Absent) => head.is_active,
        _ => true,
    };
    let parent = match (mode, input.parent_row_id) {
        (_, Patch::Set(p)) => Some(p),
        (UpdateMode::Merge, Patch::Absent) => head.parent_row_id,
        _ => None,
    };
    if parent != head.parent_row_id {
        if let Some(parent) = parent {
            check_parent(tx, table, Some(id), parent, &field("parent_row_id")).await?;
        }
    }
    let ext = match (mode, input.extended_properties) {
        (UpdateMode::Merge, Patch::Set(patch)) => {
            let mut ext = head.extended_properties.clone();
            merge_patch(&mut ext, &Value::Object(patch));
            ext
        }
        (UpdateMode::Merge, Patch::Absent) => head.extended_properties.clone(),
        (UpdateMode::Replace, Patch::Set(m)) => Value::Object(m),
        _ => Value::Object(Map::new()),
    };
    let before = render_one(tx, table, &head, &Actor::system()).await?;
    let mut sql = tx.sql("UPDATE table_rows SET version = version + 1, updated_at = ");
    sql.bind(Utc::now())
        .push(", updated_by = ")
        .bind(actor.user_id)
        .push(", code = ")
        .bind(code)
        .push(", display_value = ")
        .bind(display_value)
        .push(", sort_order = ")
        .bind(sort_order)
        .push(", is_active = ")
        .bind(is_active)
        .push(", parent_row_id = ")
        .bind(parent)
        .push(", extended_properties = ")
        .bind(Arg::Json(Some(ext.clone())))
        .push(" WHERE logical_table_id = ")
        .bind(table.id)
        .push(" AND id = ")
        .bind(id)
        .push(" AND version = ")
        .bind(expected);
    if tx.execute(&sql).await? != 1 {
        // Only reachable if the lock above was not taken (it always is); report as a conflict.
        return Err(Error::Conflict { detail: format!("row {id} changed concurrently"), current: None });
    }
    write_values(tx, table, id, &old, &new, actor).await.map_err(|e| with_prefix(e, prefix))?;
    super::constraints::enforce(tx, table, &table.constraints, id, &new, &ext, prefix).await?;
    super::foreign_keys::enforce_child_change(tx, table, id, Some(&old), &new, prefix).await?;
    // ON UPDATE actions when this row's primary key changed and other rows reference it.
    if !table.referenced_by.is_empty() {
        if let Some(pk) = table
            .constraints
            .iter()
            .find(|c| c.is_active && matches!(c.kind, super::constraints::Kind::PrimaryKey))
        {
            let old_key = super::constraints::key_of(pk, table, &old, &head.extended_properties);
            let new_key = super::constraints::key_of(pk, table, &new, &ext);
            if let Some(old_key) = old_key {
                super::foreign_keys::on_parent_key_change(
                    tx,
                    table,
                    &old_key,
                    new_key.as_deref(),
                    &new,
                    actor,
                )
                .await?;
            }
        }
    }
    let head = read_head(tx, table, id, false).await?.ok_or_else(|| row_not_found(table, id))?;
    let after = render_one(tx, table, &head, &Actor::system()).await?;
    record(
        tx,
        actor,
        Change {
            workspace: table.workspace,
            event_type: "RowUpdated",
            aggregate_type: "row",
            aggregate_id: id,
            data: json!({ "table_id": table.id, "table": table.name.as_str(), "row_id": id, "version": head.version }),
            before: Some(before),
            after: Some(after.clone()),
        },
    )
    .await?;
    if actor.unmask {
        Ok(after)
    } else {
        render_one(tx, table, &head, actor).await
    }
}

/// Deletes a row inside `tx`. With children: 422 unless `cascade_children`, which deletes the subtree.
pub async fn delete_in(
    tx: &mut Tx,
    table: &Table,
    id: Uuid,
    expected: Option<i32>,
    cascade_children: bool,
    actor: &Actor,
    prefix: &str,
) -> Result<()> {
    let head = read_head(tx, table, id, true).await?.ok_or_else(|| row_not_found(table, id))?;
    if let Some(expected) = expected {
        if head.version != expected {
            let current = render_one(tx, table, &head, actor).await?;
            return Err(Error::Conflict {
                detail: format!("row {id} is at version {}, not {expected}", head.version),
                current: Some(Box::new(current)),
            });
        }
    }
    let descendants = descendants_of(tx, table, id).await?;
    if !descendants.is_empty() && !cascade_children {
        let field = if prefix.is_empty() { "id".to_owned() } else { format!("{prefix}.id") };
        return Err(Error::invalid(
            field,
            ErrorCode::Hierarchy,
            format!(
                "row {id} has {} descendant rows; delete them first or ask to cascade",
                descendants.len()
            ),
        ));
    }
    // Every row this delete removes, so foreign keys between them do not block it (NO ACTION semantics)
    // and cascades stay cycle-safe.
    let mut deleting: std::collections::HashSet<Uuid> = descendants.iter().copied().collect();
    deleting.insert(id);
    // Deepest first, so no row is ever left pointing at a deleted parent.
    for row in descendants.iter().rev().chain(std::iter::once(&id)) {
        super::foreign_keys::on_parent_delete(tx, table, *row, &mut deleting, actor)
            .await
            .map_err(|e| with_prefix(e, prefix))?;
        delete_one(tx, table, *row, actor).await?;
    }
    Ok(())
}

/// Deletes one row (values and keys cascade) and records its event; referential actions are the caller's.
pub(crate) async fn delete_one(tx: &mut Tx, table: &Table, row: Uuid, actor: &Actor) -> Result<()> {
    let before = match read_head(tx, table, row, true).await? {
        Some(h) => render_one(tx, table, &h, &Actor::system()).await?,
        None => return Ok(()),
    };
    let mut children = tx.sql("SELECT COUNT(*) AS n FROM table_rows WHERE logical_table_id = ");
    children.bind(table.id).push(" AND parent_row_id = ").bind(row);
    let n = tx.fetch_optional(&children).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0);
    if n > 0 {
        let message = format!("row {row} of '{}' has {n} child rows in its hierarchy", table.name);
        return Err(Error::invalid("id", ErrorCode::Hierarchy, message));
    }
    let mut sql = tx.sql("DELETE FROM table_rows WHERE logical_table_id = ");
    sql.bind(table.id).push(" AND id = ").bind(row);
    tx.execute(&sql).await?;
    record(
        tx,
        actor,
        Change {
            workspace: table.workspace,
            event_type: "RowDeleted",
            aggregate_type: "row",
            aggregate_id: row,
            data: json!({ "table_id": table.id, "table": table.name.as_str(), "row_id": row }),
            before: Some(before),
            after: None,
        },
    )
    .await?;
    Ok(())
}

/// The extended properties of one row.
pub(crate) async fn current_ext(tx: &mut Tx, table: &Table, row: Uuid) -> Result<Value> {
    Ok(read_head(tx, table, row, false)
        .await?
        .map(|h| h.extended_properties)
        .unwrap_or(Value::Object(Map::new())))
}
