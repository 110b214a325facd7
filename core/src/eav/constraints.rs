//! Declared integrity constraints of a logical table: PRIMARY KEY and UNIQUE (ordered composite columns,
//! optional case-insensitivity, optional extended-property JSON paths) and CHECK (a SQL boolean expression
//! evaluated in Rust). Keys are enforced race-free through `constraint_keys` (see decision 0004), written in
//! the row's transaction. Column-level `is_value_unique` is the implicit one-column UNIQUE `__unique_<column>`.

use chrono::Utc;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::check::{parse_check, CheckExpr};
use super::input::{Fields, Patch};
use super::names::parse_json_path;
use super::schema::Table;
use super::types::Value as Typed;
use crate::error::{Error, ErrorCode, FieldError, Result, Violation};
use crate::events::{record, Actor, Change};
use crate::ids::new_id;
use crate::store::{DbRow, Tx};

/// Names of implicit constraints start with this (user names match `^[a-z]…`, so they never collide).
pub const IMPLICIT_PREFIX: &str = "__unique_";

/// What a constraint enforces.
#[derive(Debug, Clone)]
pub enum Kind {
    PrimaryKey,
    Unique,
    Check { expr: Box<CheckExpr>, message: Option<String> },
}

impl Kind {
    pub fn sql_name(&self) -> &'static str {
        match self {
            Kind::PrimaryKey => "PRIMARY KEY",
            Kind::Unique => "UNIQUE",
            Kind::Check { .. } => "CHECK",
        }
    }
}

/// One extended-property component of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPart {
    pub path: Vec<String>,
    pub case_sensitive: bool,
}

/// A declared constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub id: Uuid,
    pub name: String,
    pub kind: Kind,
    /// Column definition ids, in key order.
    pub columns: Vec<Uuid>,
    pub case_sensitive: bool,
    pub json: Vec<JsonPart>,
    pub is_active: bool,
    pub version: i32,
}

impl Constraint {
    pub fn is_implicit(&self) -> bool {
        self.name.starts_with(IMPLICIT_PREFIX)
    }

    pub fn is_key(&self) -> bool {
        matches!(self.kind, Kind::PrimaryKey | Kind::Unique)
    }

    fn column_names(&self, table: &Table) -> Vec<String> {
        self.columns.iter().filter_map(|id| table.column_by_id(*id)).map(|c| c.name.to_string()).collect()
    }

    pub fn to_json(&self, table: &Table) -> Value {
        let mut out = json!({
            "constraint_name": self.name,
            "constraint_type": self.kind.sql_name(),
            "columns": self.column_names(table),
            "is_active": self.is_active,
            "version": self.version,
        });
        match &self.kind {
            Kind::PrimaryKey | Kind::Unique => {
                out["case_sensitive"] = json!(self.case_sensitive);
                out["json_properties"] = self
                    .json
                    .iter()
                    .map(|j| json!({ "path": j.path.join("."), "case_sensitive": j.case_sensitive }))
                    .collect();
            }
            Kind::Check { expr, message } => {
                out["check_expression"] = json!(expr.source());
                out["error_message"] = json!(message);
            }
        }
        out
    }
}

/// Loads the constraints of a table (implicit ones included).
pub async fn load(tx: &mut Tx, table: &Table) -> Result<Vec<Constraint>> {
    let mut sql = tx.sql(
        "SELECT c.id, c.constraint_name, c.constraint_type, c.is_active, c.version, u.id AS unique_id, \
         u.is_case_sensitive, k.check_expression, k.error_message FROM table_constraints c \
         LEFT JOIN unique_indexes u ON u.constraint_id = c.id LEFT JOIN check_constraints k ON k.constraint_id = c.id \
         WHERE c.logical_table_id = ",
    );
    sql.bind(table.id).push(" AND c.constraint_type <> 'FOREIGN KEY' ORDER BY c.constraint_name");
    let rows = tx.fetch_all(&sql).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(from_row(tx, table, &row).await?);
    }
    Ok(out)
}

async fn from_row(tx: &mut Tx, table: &Table, row: &DbRow) -> Result<Constraint> {
    let id = row.uuid("id")?;
    let name = row.text("constraint_name")?;
    let mut sql = tx.sql("SELECT column_definition_id FROM constraint_columns WHERE constraint_id = ");
    sql.bind(id).push(" ORDER BY ordinal_position");
    let columns: Vec<Uuid> =
        tx.fetch_all(&sql).await?.iter().map(|r| r.uuid("column_definition_id")).collect::<Result<_, _>>()?;
    let mut json_parts = Vec::new();
    if let Some(unique_id) = row.opt_uuid("unique_id")? {
        let mut sql = tx.sql(
            "SELECT property_path, is_case_sensitive FROM unique_index_json_properties WHERE unique_index_id = ",
        );
        sql.bind(unique_id).push(" ORDER BY ordinal_position");
        for r in tx.fetch_all(&sql).await? {
            let path = r.text("property_path")?;
            json_parts.push(JsonPart {
                path: path.split('.').map(str::to_owned).collect(),
                case_sensitive: r.bool("is_case_sensitive")?,
            });
        }
    }
    let kind = match row.text("constraint_type")?.as_str() {
        "PRIMARY KEY" => Kind::PrimaryKey,
        "CHECK" => {
            let source = row.opt_text("check_expression")?.unwrap_or_default();
            let expr = parse_check(&source, &|c| table.column(c).map(|col| col.data_type))
                .map_err(|e| Error::Validation(vec![e.prefixed(&format!("constraints.{name}"))]))?;
            Kind::Check { expr: Box::new(expr), message: row.opt_text("error_message")? }
        }
        _ => Kind::Unique,
    };
    Ok(Constraint {
        id,
        name,
        kind,
        columns,
        case_sensitive: row.opt_bool("is_case_sensitive")?.unwrap_or(true),
        json: json_parts,
        is_active: row.bool("is_active")?,
        version: row.i32("version")?,
    })
}

/// One key component as canonical text: type-tagged, case-folded when asked.
pub(crate) fn part(value: &Typed, case_sensitive: bool) -> String {
    let key = super::unique::normalized_key(value);
    if case_sensitive {
        key
    } else {
        key.to_lowercase()
    }
}

fn json_part(value: &Value, case_sensitive: bool) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => format!("s:{s}"),
        Value::Number(n) => format!("n:{}", n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())),
        Value::Bool(b) => format!("b:{b}"),
        other => format!("j:{other}"),
    };
    Some(if case_sensitive { text } else { text.to_lowercase() })
}

/// The key of a row under `constraint`; `None` when a component is NULL (SQL: NULLs never collide).
pub fn key_of(
    constraint: &Constraint,
    table: &Table,
    values: &[Option<Typed>],
    ext: &Value,
) -> Option<String> {
    let mut parts = Vec::with_capacity(constraint.columns.len() + constraint.json.len());
    for id in &constraint.columns {
        let index = table.columns.iter().position(|c| c.definition_id == *id)?;
        parts.push(part(values.get(index)?.as_ref()?, constraint.case_sensitive));
    }
    for j in &constraint.json {
        let mut node = ext;
        for seg in &j.path {
            node = node.get(seg)?;
        }
        parts.push(json_part(node, j.case_sensitive)?);
    }
    Some(join_key(&parts))
}

/// Joins key components; long keys are hashed to stay within index limits.
pub(crate) fn join_key(parts: &[String]) -> String {
    let key = parts.join("\u{1f}");
    if key.len() > 512 {
        format!("h:{}", hex::encode(Sha256::digest(key.as_bytes())))
    } else {
        key
    }
}

fn display_values(
    constraint: &Constraint,
    table: &Table,
    values: &[Option<Typed>],
    ext: &Value,
) -> Vec<Value> {
    let mut out = Vec::new();
    for id in &constraint.columns {
        let index = table.columns.iter().position(|c| c.definition_id == *id);
        out.push(
            index.and_then(|i| values.get(i)).and_then(Option::as_ref).map_or(Value::Null, Typed::to_json),
        );
    }
    for j in &constraint.json {
        let mut node = Some(ext);
        for seg in &j.path {
            node = node.and_then(|n| n.get(seg));
        }
        out.push(node.cloned().unwrap_or(Value::Null));
    }
    out
}

fn violation(
    constraint: &Constraint,
    table: &Table,
    values: Vec<Value>,
    code: ErrorCode,
    message: String,
    prefix: &str,
) -> Error {
    // A one-column constraint points at its column (so a grid can show the error on the cell).
    let columns = constraint.column_names(table);
    let target = match (columns.as_slice(), constraint.json.is_empty()) {
        ([one], true) => format!("values.{one}"),
        _ => "values".to_owned(),
    };
    let field = if prefix.is_empty() { target } else { format!("{prefix}.{target}") };
    Error::Violation {
        errors: vec![FieldError::new(field, code, message.clone())],
        violations: vec![Violation {
            constraint: constraint.name.clone(),
            kind: constraint.kind.sql_name(),
            columns: constraint.column_names(table),
            values,
            message,
        }],
    }
}

/// Checks and records every active constraint for one row's final state (create or update): CHECK
/// expressions, PRIMARY KEY non-null components, and the keys of PRIMARY KEY / UNIQUE constraints.
pub async fn enforce(
    tx: &mut Tx,
    table: &Table,
    constraints: &[Constraint],
    row: Uuid,
    values: &[Option<Typed>],
    ext: &Value,
    prefix: &str,
) -> Result<()> {
    for c in constraints.iter().filter(|c| c.is_active) {
        match &c.kind {
            Kind::Check { expr, message } => {
                let lookup = |name: &str| {
                    table
                        .columns
                        .iter()
                        .position(|col| col.name.as_str() == name)
                        .and_then(|i| values.get(i).cloned().flatten())
                };
                match expr.passes(&lookup) {
                    Ok(true) => {}
                    Ok(false) => {
                        let message = message
                            .clone()
                            .unwrap_or_else(|| format!("check constraint '{}' failed", c.name));
                        let shown = expr
                            .columns()
                            .iter()
                            .map(|n| lookup(n).as_ref().map_or(Value::Null, Typed::to_json))
                            .collect();
                        let mut error = violation(c, table, shown, ErrorCode::Check, message, prefix);
                        if let Error::Violation { violations, .. } = &mut error {
                            if let Some(v) = violations.first_mut() {
                                v.columns = expr.columns().to_vec();
                            }
                        }
                        return Err(error);
                    }
                    Err(e) => {
                        let message = format!("check constraint '{}' could not be evaluated: {e}", c.name);
                        return Err(violation(c, table, Vec::new(), ErrorCode::Check, message, prefix));
                    }
                }
            }
            Kind::PrimaryKey | Kind::Unique => {
                let key = key_of(c, table, values, ext);
                let is_pk = matches!(c.kind, Kind::PrimaryKey);
                if key.is_none() && is_pk {
                    return Err(null_in_primary_key(c, table, values, ext, prefix));
                }
                if !set_key(tx, c.id, row, key.as_deref()).await? {
                    return Err(key_taken(c, table, values, ext, prefix));
                }
            }
        }
    }
    Ok(())
}

/// One new row for [`enforce_new`]: id, final values, extended properties, error prefix.
pub type NewRowRef<'a> = (Uuid, &'a [Option<Typed>], &'a Value, &'a str);

/// Like [`enforce`] for rows that were just inserted (no old keys to replace), with one statement per
/// constraint and chunk instead of two per row: CHECKs in memory, keys inserted in bulk
/// (`ON CONFLICT DO NOTHING RETURNING` tells which collided, race-free as ever).
pub async fn enforce_new(tx: &mut Tx, table: &Table, rows: &[NewRowRef<'_>]) -> Result<()> {
    for c in table.constraints.iter().filter(|c| c.is_active) {
        if let Kind::Check { .. } = c.kind {
            for (id, values, ext, prefix) in rows {
                enforce(tx, table, std::slice::from_ref(c), *id, values, ext, prefix).await?;
            }
            continue;
        }
        let is_pk = matches!(c.kind, Kind::PrimaryKey);
        let code = if is_pk { ErrorCode::PrimaryKey } else { ErrorCode::Unique };
        let mut keyed: Vec<(String, &NewRowRef<'_>)> = Vec::with_capacity(rows.len());
        let mut seen = std::collections::HashSet::with_capacity(rows.len());
        for row in rows {
            let (_, values, ext, prefix) = row;
            match key_of(c, table, values, ext) {
                None if is_pk => return Err(null_in_primary_key(c, table, values, ext, prefix)),
                None => {}
                Some(key) => {
                    if !seen.insert(key.clone()) {
                        let message = format!("'{}' holds the same key twice in this request", c.name);
                        return Err(violation(
                            c,
                            table,
                            display_values(c, table, values, ext),
                            code,
                            message,
                            prefix,
                        ));
                    }
                    keyed.push((key, row));
                }
            }
        }
        for chunk in keyed.chunks(5_000) {
            let mut sql =
                tx.sql("INSERT INTO constraint_keys (constraint_id, normalized_key, row_id) VALUES ");
            for (i, (key, (id, ..))) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(c.id).push(", ").bind(key.as_str()).push(", ").bind(*id).push(")");
            }
            sql.push(" ON CONFLICT DO NOTHING RETURNING normalized_key");
            let inserted: std::collections::HashSet<String> = tx
                .fetch_all(&sql)
                .await?
                .iter()
                .map(|r| r.text("normalized_key"))
                .collect::<Result<_, _>>()?;
            if let Some((_, (_, values, ext, prefix))) = chunk.iter().find(|(key, _)| !inserted.contains(key))
            {
                return Err(key_taken(c, table, values, ext, prefix));
            }
        }
    }
    Ok(())
}

/// The violation of a PRIMARY KEY with a NULL component (a primary key implies NOT NULL).
fn null_in_primary_key(
    c: &Constraint,
    table: &Table,
    values: &[Option<Typed>],
    ext: &Value,
    prefix: &str,
) -> Error {
    let message = format!("primary key '{}' may not contain NULL", c.name);
    violation(c, table, display_values(c, table, values, ext), ErrorCode::PrimaryKey, message, prefix)
}

/// The violation of a PRIMARY KEY / UNIQUE constraint whose key another row holds.
fn key_taken(c: &Constraint, table: &Table, values: &[Option<Typed>], ext: &Value, prefix: &str) -> Error {
    let is_pk = matches!(c.kind, Kind::PrimaryKey);
    let code = if is_pk { ErrorCode::PrimaryKey } else { ErrorCode::Unique };
    let shown = display_values(c, table, values, ext);
    let what = if is_pk { "primary key" } else { "unique constraint" };
    let message = format!("{what} '{}' already holds {}", c.name, Value::Array(shown.clone()));
    violation(c, table, shown, code, message, prefix)
}

/// Replaces the key of `row` under constraint `id`; false when another row holds `key`.
async fn set_key(tx: &mut Tx, id: Uuid, row: Uuid, key: Option<&str>) -> Result<bool> {
    let mut sql = tx.sql("DELETE FROM constraint_keys WHERE constraint_id = ");
    sql.bind(id).push(" AND row_id = ").bind(row);
    tx.execute(&sql).await?;
    let Some(key) = key else { return Ok(true) };
    let mut sql = tx.sql("INSERT INTO constraint_keys (constraint_id, normalized_key, row_id) VALUES (");
    sql.bind(id).push(", ").bind(key).push(", ").bind(row).push(") ON CONFLICT DO NOTHING");
    Ok(tx.execute(&sql).await? == 1)
}

/// Every row of the table with its typed values and extended properties (for declaring on existing data).
async fn all_rows(tx: &mut Tx, table: &Table) -> Result<Vec<(Uuid, Vec<Option<Typed>>, Value)>> {
    let mut sql = tx.sql("SELECT r.id, r.extended_properties FROM table_rows r WHERE r.logical_table_id = ");
    sql.bind(table.id).push(" ORDER BY r.id");
    let heads: Vec<(Uuid, Value)> = tx
        .fetch_all(&sql)
        .await?
        .iter()
        .map(|r| Ok((r.uuid("id")?, r.json("extended_properties")?)))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(heads.len());
    for (id, ext) in heads {
        let values = super::rows::current_values(tx, table, id).await?;
        out.push((id, values, ext));
    }
    Ok(out)
}

/// Validates existing rows against a new or re-enabled constraint and (keys) writes their keys; 422 with
/// the first 100 offending rows.
async fn validate_existing(tx: &mut Tx, table: &Table, c: &Constraint) -> Result<()> {
    if c.is_key() {
        let mut sql = tx.sql("DELETE FROM constraint_keys WHERE constraint_id = ");
        sql.bind(c.id);
        tx.execute(&sql).await?;
    }
    let mut errors = Vec::new();
    let mut violations = Vec::new();
    for (row, values, ext) in all_rows(tx, table).await? {
        if errors.len() >= 100 {
            break;
        }
        let one = std::slice::from_ref(c);
        if let Err(e) = enforce(tx, table, one, row, &values, &ext, &format!("rows[{row}]")).await {
            match e {
                Error::Violation { errors: es, violations: vs } => {
                    errors.extend(es);
                    violations.extend(vs);
                }
                other => return Err(other),
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Violation { errors, violations })
    }
}

fn bad(field: &str, message: impl Into<String>) -> Error {
    Error::bad_request(field, ErrorCode::Invalid, message)
}

/// `POST /tables/{table}/constraints`.
pub async fn declare(tx: &mut Tx, table: &Table, actor: &Actor, body: &Value) -> Result<Value> {
    let mut f = Fields::new(body, "")?;
    let name = f.string("constraint_name");
    let kind = f.string("constraint_type");
    let columns_raw = f.raw("columns");
    let case_sensitive = f.bool("case_sensitive");
    let json_raw = f.raw("json_properties");
    let check_expression = f.string("check_expression");
    let error_message = f.string("error_message");
    // Foreign-key fields are known (so a FOREIGN KEY declaration reaches its own answer below).
    let _ = (f.raw("referenced_table"), f.raw("on_delete"), f.raw("on_update"), f.raw("match_type"));
    f.finish()?;
    let Patch::Set(name) = name else {
        return Err(Error::bad_request("constraint_name", ErrorCode::Required, "required"));
    };
    if !super::names::is_valid_name(&name) {
        return Err(Error::bad_request(
            "constraint_name",
            ErrorCode::Format,
            "must match ^[a-z][a-z0-9_]{0,62}$",
        ));
    }
    let Patch::Set(kind) = kind else {
        return Err(Error::bad_request("constraint_type", ErrorCode::Required, "required"));
    };
    let kind_name = kind.to_uppercase();
    let mut columns = Vec::new();
    if let Some(raw) = columns_raw.filter(|v| !v.is_null()) {
        let Some(items) = raw.as_array() else {
            return Err(bad("columns", "expected an array of column names"));
        };
        for (i, item) in items.iter().enumerate() {
            let name = item.as_str().unwrap_or_default();
            let column = table.require_column(name, format!("columns[{i}]"))?;
            if columns.contains(&column.definition_id) {
                return Err(bad(&format!("columns[{i}]"), format!("column '{name}' appears twice")));
            }
            columns.push(column.definition_id);
        }
    }
    let mut json_parts = Vec::new();
    if let Some(raw) = json_raw.filter(|v| !v.is_null()) {
        let Some(items) = raw.as_array() else { return Err(bad("json_properties", "expected an array")) };
        for (i, item) in items.iter().enumerate() {
            let field = format!("json_properties[{i}]");
            let path =
                item.get("path").and_then(Value::as_str).ok_or_else(|| bad(&field, "'path' is required"))?;
            let segments =
                parse_json_path(path, &format!("{field}.path")).map_err(|e| Error::BadRequest(vec![e]))?;
            let case = match item.get("case_sensitive") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(bad(&format!("{field}.case_sensitive"), "expected true or false")),
            };
            json_parts.push(JsonPart { path: segments, case_sensitive: case });
        }
    }
    let kind = match kind_name.as_str() {
        "PRIMARY KEY" | "UNIQUE" => {
            if columns.is_empty() && json_parts.is_empty() {
                return Err(bad("columns", "a key needs at least one column or JSON property"));
            }
            if kind_name == "PRIMARY KEY" {
                Kind::PrimaryKey
            } else {
                Kind::Unique
            }
        }
        "CHECK" => {
            let Patch::Set(source) = check_expression else {
                return Err(Error::bad_request(
                    "check_expression",
                    ErrorCode::Required,
                    "required for CHECK",
                ));
            };
            let expr = parse_check(&source, &|c| table.column(c).map(|col| col.data_type))
                .map_err(|e| Error::BadRequest(vec![e]))?;
            columns =
                expr.columns().iter().filter_map(|n| table.column(n)).map(|c| c.definition_id).collect();
            Kind::Check { expr: Box::new(expr), message: error_message.given().flatten() }
        }
        "FOREIGN KEY" => return declare_foreign_key(tx, table, actor, &name, &columns, body).await,
        _ => {
            return Err(Error::bad_request(
                "constraint_type",
                ErrorCode::Enum,
                "expected PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK",
            ))
        }
    };
    let constraint = Constraint {
        id: new_id(),
        name,
        kind,
        columns,
        case_sensitive: !matches!(case_sensitive, Patch::Set(false)),
        json: json_parts,
        is_active: true,
        version: 1,
    };
    if matches!(constraint.kind, Kind::PrimaryKey)
        && load(tx, table).await?.iter().any(|c| matches!(c.kind, Kind::PrimaryKey))
    {
        return Err(Error::Duplicate(format!("table '{}' already has a primary key", table.name)));
    }
    insert(tx, table, &constraint, actor).await?;
    validate_existing(tx, table, &constraint).await?;
    super::schema::bump_version(tx, table.id, actor).await?;
    record(
        tx,
        actor,
        Change {
            workspace: table.workspace,
            event_type: "ConstraintDeclared",
            aggregate_type: "logical_table",
            aggregate_id: table.id,
            data: json!({ "table_id": table.id, "constraint_name": constraint.name }),
            before: None,
            after: Some(constraint.to_json(table)),
        },
    )
    .await?;
    Ok(constraint.to_json(table))
}

/// Declares a FOREIGN KEY: validates it against the referenced primary key and every existing child row.
async fn declare_foreign_key(
    tx: &mut Tx,
    table: &Table,
    actor: &Actor,
    name: &str,
    columns: &[Uuid],
    body: &Value,
) -> Result<Value> {
    if columns.is_empty() {
        return Err(bad("columns", "a foreign key needs at least one column"));
    }
    let fk = super::foreign_keys::prepare(tx, table, name, columns, body).await?;
    insert_base(tx, table, fk.id, name, "FOREIGN KEY", columns, actor).await?;
    super::foreign_keys::store(tx, &fk).await?;
    let mut with = table.clone();
    with.foreign_keys = vec![fk.clone()];
    let mut errors = Vec::new();
    let mut violations = Vec::new();
    for (row, values, _) in all_rows(tx, table).await? {
        if errors.len() >= 100 {
            break;
        }
        match super::foreign_keys::enforce_child(tx, &with, row, &values, &format!("rows[{row}]")).await {
            Ok(()) => {}
            Err(Error::Violation { errors: es, violations: vs }) => {
                errors.extend(es);
                violations.extend(vs);
            }
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Violation { errors, violations });
    }
    super::schema::bump_version(tx, table.id, actor).await?;
    let shown = fk.to_json(table);
    record(
        tx,
        actor,
        Change {
            workspace: table.workspace,
            event_type: "ConstraintDeclared",
            aggregate_type: "logical_table",
            aggregate_id: table.id,
            data: json!({ "table_id": table.id, "constraint_name": name }),
            before: None,
            after: Some(shown.clone()),
        },
    )
    .await?;
    Ok(shown)
}

/// Inserts the `table_constraints` row and its ordered columns; 409 on a duplicate name.
async fn insert_base(
    tx: &mut Tx,
    table: &Table,
    id: Uuid,
    name: &str,
    kind: &str,
    columns: &[Uuid],
    actor: &Actor,
) -> Result<()> {
    let now = Utc::now();
    let mut sql = tx.sql(
        "INSERT INTO table_constraints (id, logical_table_id, constraint_name, constraint_type, is_active, version, \
         created_at, created_by) VALUES (",
    );
    sql.bind(id).push(", ").bind(table.id).push(", ").bind(name).push(", ").bind(kind);
    sql.push(", ")
        .bind(true)
        .push(", 1, ")
        .bind(now)
        .push(", ")
        .bind(actor.user_id)
        .push(") ON CONFLICT DO NOTHING");
    if tx.execute(&sql).await? == 0 {
        return Err(Error::Duplicate(format!(
            "table '{}' already has a constraint named '{name}'",
            table.name
        )));
    }
    for (i, column) in columns.iter().enumerate() {
        let mut sql = tx.sql(
            "INSERT INTO constraint_columns (id, constraint_id, column_definition_id, ordinal_position, created_at) VALUES (",
        );
        sql.bind(new_id()).push(", ").bind(id).push(", ").bind(*column).push(", ");
        sql.bind(i32::try_from(i + 1).unwrap_or(i32::MAX)).push(", ").bind(now).push(")");
        tx.execute(&sql).await?;
    }
    Ok(())
}

async fn insert(tx: &mut Tx, table: &Table, c: &Constraint, actor: &Actor) -> Result<()> {
    let now = Utc::now();
    insert_base(tx, table, c.id, &c.name, c.kind.sql_name(), &c.columns, actor).await?;
    match &c.kind {
        Kind::PrimaryKey | Kind::Unique => {
            let unique_id = new_id();
            let mut sql = tx.sql(
                "INSERT INTO unique_indexes (id, constraint_id, is_case_sensitive, created_at) VALUES (",
            );
            sql.bind(unique_id)
                .push(", ")
                .bind(c.id)
                .push(", ")
                .bind(c.case_sensitive)
                .push(", ")
                .bind(now)
                .push(")");
            tx.execute(&sql).await?;
            for (i, j) in c.json.iter().enumerate() {
                let mut sql = tx.sql(
                    "INSERT INTO unique_index_json_properties (id, unique_index_id, property_path, is_case_sensitive, \
                     ordinal_position, created_at) VALUES (",
                );
                sql.bind(new_id()).push(", ").bind(unique_id).push(", ").bind(j.path.join(".")).push(", ");
                sql.bind(j.case_sensitive)
                    .push(", ")
                    .bind(i32::try_from(i + 1).unwrap_or(i32::MAX))
                    .push(", ");
                sql.bind(now).push(")");
                tx.execute(&sql).await?;
            }
        }
        Kind::Check { expr, message } => {
            let mut sql = tx.sql(
                "INSERT INTO check_constraints (id, constraint_id, check_expression, error_message, created_at) VALUES (",
            );
            sql.bind(new_id()).push(", ").bind(c.id).push(", ").bind(expr.source()).push(", ");
            sql.bind(message.clone()).push(", ").bind(now).push(")");
            tx.execute(&sql).await?;
        }
    }
    Ok(())
}

/// Finds a declared (not implicit) constraint by name.
pub async fn find(tx: &mut Tx, table: &Table, name: &str) -> Result<Constraint> {
    load(tx, table)
        .await?
        .into_iter()
        .find(|c| c.name == name && !c.is_implicit())
        .ok_or_else(|| Error::NotFound(format!("table '{}' has no constraint '{name}'", table.name)))
}

/// `PATCH /tables/{table}/constraints/{name}`: `{"is_active": bool}`; enabling validates existing rows.
pub async fn set_active(
    tx: &mut Tx,
    table: &Table,
    actor: &Actor,
    name: &str,
    body: &Value,
) -> Result<Value> {
    let mut f = Fields::new(body, "")?;
    let active = f.bool("is_active");
    f.finish()?;
    let Patch::Set(active) = active else {
        return Err(Error::bad_request("is_active", ErrorCode::Required, "required"));
    };
    if let Some(fk) = table.foreign_keys.iter().find(|f| f.name == name) {
        let mut sql = tx.sql("UPDATE table_constraints SET is_active = ");
        sql.bind(active).push(", version = version + 1, updated_at = ").bind(Utc::now());
        sql.push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(fk.id);
        tx.execute(&sql).await?;
        let mut after = fk.clone();
        after.is_active = active;
        after.version += 1;
        if active {
            let mut with = table.clone();
            with.foreign_keys = vec![after.clone()];
            for (row, values, _) in all_rows(tx, table).await? {
                super::foreign_keys::enforce_child(tx, &with, row, &values, &format!("rows[{row}]")).await?;
            }
        } else {
            let mut sql = tx.sql("DELETE FROM foreign_key_refs WHERE constraint_id = ");
            sql.bind(fk.id);
            tx.execute(&sql).await?;
        }
        super::schema::bump_version(tx, table.id, actor).await?;
        return Ok(after.to_json(table));
    }
    set_active_key(tx, table, actor, name, active).await.map(|c| c.to_json(table))
}

async fn set_active_key(
    tx: &mut Tx,
    table: &Table,
    actor: &Actor,
    name: &str,
    active: bool,
) -> Result<Constraint> {
    let current = find(tx, table, name).await?;
    let mut sql = tx.sql("UPDATE table_constraints SET is_active = ");
    sql.bind(active).push(", version = version + 1, updated_at = ").bind(Utc::now());
    sql.push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(current.id);
    tx.execute(&sql).await?;
    let after = Constraint { is_active: active, version: current.version + 1, ..current.clone() };
    if active && !current.is_active {
        validate_existing(tx, table, &after).await?;
    } else if !active && after.is_key() {
        let mut sql = tx.sql("DELETE FROM constraint_keys WHERE constraint_id = ");
        sql.bind(after.id);
        tx.execute(&sql).await?;
    }
    super::schema::bump_version(tx, table.id, actor).await?;
    record(
        tx,
        actor,
        Change {
            workspace: table.workspace,
            event_type: if active { "ConstraintEnabled" } else { "ConstraintDisabled" },
            aggregate_type: "logical_table",
            aggregate_id: table.id,
            data: json!({ "table_id": table.id, "constraint_name": name }),
            before: Some(current.to_json(table)),
            after: Some(after.to_json(table)),
        },
    )
    .await?;
    Ok(after)
}

/// `DELETE /tables/{table}/constraints/{name}`.
pub async fn drop(tx: &mut Tx, table: &Table, actor: &Actor, name: &str) -> Result<()> {
    let (id, before) = match table.foreign_keys.iter().find(|f| f.name == name) {
        Some(fk) => (fk.id, fk.to_json(table)),
        None => {
            let current = find(tx, table, name).await?;
            (current.id, current.to_json(table))
        }
    };
    let mut sql = tx.sql("DELETE FROM table_constraints WHERE id = ");
    sql.bind(id);
    tx.execute(&sql).await?;
    super::schema::bump_version(tx, table.id, actor).await?;
    record(
        tx,
        actor,
        Change {
            workspace: table.workspace,
            event_type: "ConstraintDropped",
            aggregate_type: "logical_table",
            aggregate_id: table.id,
            data: json!({ "table_id": table.id, "constraint_name": name }),
            before: Some(before),
            after: None,
        },
    )
    .await?;
    Ok(())
}
