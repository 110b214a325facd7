//! Logical tables and the attribute library: create, describe, rename, delete tables; attach, change and
//! detach column definitions. Every change bumps the table's `version` and records its event and audit entry.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::input::{required, Fields, Patch};
use super::masking::MaskingRule;
use super::names::{ColumnName, TableName};
use super::rules::{parse_rule, ValidationRule};
use super::types::{parse_value, DataType, Value as Typed};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::{record, Actor, Change};
use crate::ids::{new_id, WorkspaceId};
use crate::store::{Arg, DbRow, Tx};

/// How reads of a table are cached (invalidated on every write, across instances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    None,
    FullTable,
    IndividualRows,
}

impl CachePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            CachePolicy::None => "None",
            CachePolicy::FullTable => "FullTable",
            CachePolicy::IndividualRows => "IndividualRows",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "None" => Some(CachePolicy::None),
            "FullTable" => Some(CachePolicy::FullTable),
            "IndividualRows" => Some(CachePolicy::IndividualRows),
            _ => None,
        }
    }
}

/// A column of a logical table: a library definition plus its attachment.
#[derive(Debug, Clone)]
pub struct Column {
    pub definition_id: Uuid,
    pub name: ColumnName,
    pub data_type: DataType,
    pub default_value: Option<Typed>,
    pub masking: MaskingRule,
    pub description: Option<String>,
    pub display_order: i32,
    pub is_mandatory: bool,
    pub is_value_unique: bool,
    pub rule: Option<ValidationRule>,
}

impl Column {
    pub fn to_json(&self) -> Value {
        json!({
            "column_name": self.name.as_str(),
            "data_type": self.data_type.as_str(),
            "is_mandatory": self.is_mandatory,
            "is_value_unique": self.is_value_unique,
            "default_value": self.default_value.as_ref().map(Typed::to_json),
            "validation_rule_type": self.rule.as_ref().map(ValidationRule::kind),
            "validation_parameters": self.rule.as_ref().map(ValidationRule::parameters),
            "masking_rule": match self.masking { MaskingRule::None => None, ref m => Some(m.as_str()) },
            "display_order": self.display_order,
            "description": self.description,
        })
    }
}

/// A logical table with its columns (in display order).
#[derive(Debug, Clone)]
pub struct Table {
    pub id: Uuid,
    pub workspace: WorkspaceId,
    pub name: TableName,
    pub description: Option<String>,
    pub is_hierarchical: bool,
    pub cache_policy: CachePolicy,
    pub is_system: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub columns: Vec<Column>,
    /// Declared constraints (and the implicit ones behind unique columns); foreign keys separately.
    pub constraints: Vec<super::constraints::Constraint>,
    /// Foreign keys of this table (it is the child).
    pub foreign_keys: Vec<super::foreign_keys::ForeignKey>,
    /// Foreign keys of any table referencing this one (it is the parent).
    pub referenced_by: Vec<super::foreign_keys::ForeignKey>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.as_str() == name)
    }

    /// The column named `name`, or a 400 naming `field` (`unknown_field`).
    pub fn require_column(&self, name: &str, field: impl Into<String>) -> Result<&Column> {
        self.column(name).ok_or_else(|| {
            Error::bad_request(
                field,
                ErrorCode::UnknownField,
                format!("table '{}' has no column '{name}'", self.name),
            )
        })
    }

    pub fn column_by_id(&self, id: Uuid) -> Option<&Column> {
        self.columns.iter().find(|c| c.definition_id == id)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "table_name": self.name.as_str(),
            "description": self.description,
            "is_hierarchical": self.is_hierarchical,
            "cache_policy": self.cache_policy.as_str(),
            "version": self.version,
            "columns": self.columns.iter().map(Column::to_json).collect::<Vec<_>>(),
            "constraints": self
                .constraints
                .iter()
                .filter(|c| !c.is_implicit())
                .map(|c| c.to_json(self))
                .chain(self.foreign_keys.iter().map(|f| f.to_json(self)))
                .collect::<Vec<_>>(),
            "created_at": super::types::format_timestamp(&self.created_at),
            "updated_at": self.updated_at.as_ref().map(super::types::format_timestamp),
        })
    }
}

/// Tables as last loaded by name, per process, for the read paths (point reads and queries). An entry is
/// only used after checking it against the stored schema `version` in the same round trip as the read, so
/// every instance sees schema changes made by any other at once; writes always load the table afresh.
#[derive(Debug, Default)]
pub struct TableCache {
    tables: std::sync::RwLock<std::collections::HashMap<(Uuid, String), std::sync::Arc<Table>>>,
}

impl TableCache {
    pub fn get(&self, ws: WorkspaceId, name: &str) -> Option<std::sync::Arc<Table>> {
        let tables = self.tables.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        tables.get(&(ws.0, name.to_owned())).cloned()
    }

    pub fn put(&self, table: &Table) {
        let mut tables = self.tables.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        tables
            .insert((table.workspace.0, table.name.as_str().to_owned()), std::sync::Arc::new(table.clone()));
    }

    pub fn forget(&self, ws: WorkspaceId, name: &str) {
        let mut tables = self.tables.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        tables.remove(&(ws.0, name.to_owned()));
    }
}

/// The stored schema version of a table (`None` when it no longer exists).
pub async fn stored_version(tx: &mut Tx, table: Uuid) -> Result<Option<i32>> {
    let mut sql = tx.sql("SELECT version FROM logical_tables WHERE id = ");
    sql.bind(table);
    Ok(tx.fetch_optional(&sql).await?.map(|row| row.i32("version")).transpose()?)
}

fn not_found(name: &str) -> Error {
    Error::NotFound(format!("table '{name}' not found"))
}

/// Loads a table and its columns by name.
pub async fn load_table(tx: &mut Tx, ws: WorkspaceId, name: &str) -> Result<Table> {
    let mut sql = tx.sql(
        "SELECT id, table_name, description, is_hierarchical, cache_policy, is_system, version, created_at, \
         updated_at FROM logical_tables WHERE workspace_id = ",
    );
    sql.bind(ws.0).push(" AND table_name = ").bind(name);
    let row = tx.fetch_optional(&sql).await?.ok_or_else(|| not_found(name))?;
    let id = row.uuid("id")?;
    let mut table = Table {
        id,
        workspace: ws,
        name: TableName::parse(&row.text("table_name")?, "table").map_err(|e| Error::BadRequest(vec![e]))?,
        description: row.opt_text("description")?,
        is_hierarchical: row.bool("is_hierarchical")?,
        cache_policy: CachePolicy::parse(&row.text("cache_policy")?).unwrap_or(CachePolicy::None),
        is_system: row.bool("is_system")?,
        version: row.i32("version")?,
        created_at: row.timestamp("created_at")?,
        updated_at: row.opt_timestamp("updated_at")?,
        columns: Vec::new(),
        constraints: Vec::new(),
        foreign_keys: Vec::new(),
        referenced_by: Vec::new(),
    };
    let mut sql = tx.sql(
        "SELECT d.id, d.column_name, d.data_type, d.default_value, d.masking_rule, d.description, d.version, \
         p.display_order, p.is_mandatory, p.is_value_unique, p.validation_rule_type, p.validation_parameters \
         FROM table_column_properties p JOIN column_definitions d ON d.id = p.column_definition_id \
         WHERE p.logical_table_id = ",
    );
    sql.bind(id).push(" ORDER BY p.display_order, d.column_name");
    for row in tx.fetch_all(&sql).await? {
        table.columns.push(column_from_row(&row)?);
    }
    table.constraints = super::constraints::load(tx, &table).await?;
    table.foreign_keys = super::foreign_keys::outgoing(tx, table.id).await?;
    table.referenced_by = super::foreign_keys::incoming(tx, table.id).await?;
    Ok(table)
}

fn corrupt(what: String) -> Error {
    Error::Store(crate::store::StoreError::Query(sqlx::Error::Protocol(what)))
}

fn column_from_row(row: &DbRow) -> Result<Column> {
    let definition = definition_from_row(row)?;
    let rule_type = row.opt_text("validation_rule_type")?;
    let params = rule_type.as_ref().map(|_| row.json("validation_parameters").unwrap_or(Value::Null));
    let rule = parse_rule(rule_type.as_deref(), params.as_ref(), definition.data_type)
        .map_err(|_| corrupt(format!("column {}: validation rule", definition.name)))?;
    Ok(Column {
        definition_id: definition.id,
        name: definition.name,
        data_type: definition.data_type,
        default_value: definition.default_value,
        masking: definition.masking,
        description: definition.description,
        display_order: row.i32("display_order")?,
        is_mandatory: row.bool("is_mandatory")?,
        is_value_unique: row.bool("is_value_unique")?,
        rule,
    })
}

/// Bumps the table's schema version (inside the change's transaction).
pub(crate) async fn bump_version(tx: &mut Tx, table: Uuid, actor: &Actor) -> Result<()> {
    let mut sql = tx.sql("UPDATE logical_tables SET version = version + 1, updated_at = ");
    sql.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(table);
    tx.execute(&sql).await?;
    Ok(())
}

/// Did a statement fail on a UNIQUE constraint? (Callers turn it into a 409 for a duplicate name.)
pub(crate) fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Store(crate::store::StoreError::Query(sqlx::Error::Database(db))) if db.is_unique_violation())
}

/// `POST /tables`.
pub async fn create_table(tx: &mut Tx, ws: WorkspaceId, actor: &Actor, body: &Value) -> Result<Table> {
    let mut f = Fields::new(body, "")?;
    let name = f.string("table_name");
    let name = required(&mut f, "table_name", name);
    let description = f.string("description");
    let is_hierarchical = f.bool("is_hierarchical");
    let cache_policy = f.string("cache_policy");
    let name = name.and_then(|n| TableName::parse(&n, "table_name").map_err(|e| f.error(e)).ok());
    let cache_policy = parse_cache_policy(&mut f, cache_policy);
    f.finish()?;
    let Some(name) = name else {
        return Err(Error::bad_request("table_name", ErrorCode::Required, "required"));
    };

    let id = new_id();
    let now = Utc::now();
    let mut sql = tx.sql(
        "INSERT INTO logical_tables (id, workspace_id, table_name, description, is_hierarchical, cache_policy, \
         is_system, version, created_at, created_by) VALUES (",
    );
    sql.bind(id)
        .push(", ")
        .bind(ws.0)
        .push(", ")
        .bind(name.as_str())
        .push(", ")
        .bind(description.given().flatten())
        .push(", ")
        .bind(matches!(is_hierarchical, Patch::Set(true)))
        .push(", ")
        .bind(cache_policy.unwrap_or(CachePolicy::None).as_str())
        .push(", ")
        .bind(false)
        .push(", 1, ")
        .bind(now)
        .push(", ")
        .bind(actor.user_id)
        .push(")");
    if let Err(e) = tx.execute(&sql).await.map_err(Error::from) {
        return Err(if is_unique_violation(&e) {
            Error::Duplicate(format!("a table named '{name}' already exists"))
        } else {
            e
        });
    }
    let table = load_table(tx, ws, name.as_str()).await?;
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "TableCreated",
            aggregate_type: "logical_table",
            aggregate_id: id,
            data: json!({ "table_id": id, "table_name": name.as_str() }),
            before: None,
            after: Some(table.to_json()),
        },
    )
    .await?;
    Ok(table)
}

fn parse_cache_policy(f: &mut Fields<'_>, value: Patch<String>) -> Option<CachePolicy> {
    match value {
        Patch::Set(s) => match CachePolicy::parse(&s) {
            Some(p) => Some(p),
            None => {
                let path = f.path("cache_policy");
                f.error(FieldError::new(
                    path,
                    ErrorCode::Enum,
                    "expected one of: None, FullTable, IndividualRows",
                ));
                None
            }
        },
        _ => None,
    }
}

/// `GET /tables`: all tables of the workspace, by name.
pub async fn list_tables(
    tx: &mut Tx,
    ws: WorkspaceId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Table>> {
    let mut sql = tx.sql("SELECT table_name FROM logical_tables WHERE workspace_id = ");
    sql.bind(ws.0);
    if let Some(after) = after {
        sql.push(" AND table_name > ").bind(after);
    }
    sql.push(" ORDER BY table_name LIMIT ").bind(limit);
    let names: Vec<String> =
        tx.fetch_all(&sql).await?.iter().map(|r| r.text("table_name")).collect::<Result<_, _>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        tables.push(load_table(tx, ws, &name).await?);
    }
    Ok(tables)
}

/// `PATCH /tables/{table}`: rename, describe, hierarchy flag, cache policy; optional expected `version`.
pub async fn update_table(
    tx: &mut Tx,
    ws: WorkspaceId,
    actor: &Actor,
    name: &str,
    body: &Value,
) -> Result<Table> {
    let before = load_table(tx, ws, name).await?;
    let mut f = Fields::new(body, "")?;
    let new_name = f.string("table_name");
    let description = f.string("description");
    let is_hierarchical = f.bool("is_hierarchical");
    let cache_policy = f.string("cache_policy");
    let version = f.i32("version");
    let new_name = match new_name {
        Patch::Set(n) => TableName::parse(&n, "table_name").map_err(|e| f.error(e)).ok(),
        Patch::Null => {
            f.error(FieldError::new("table_name", ErrorCode::Required, "a table needs a name"));
            None
        }
        Patch::Absent => None,
    };
    let cache_policy = parse_cache_policy(&mut f, cache_policy);
    f.finish()?;
    if let Patch::Set(v) = version {
        if v != before.version {
            return Err(Error::Conflict {
                detail: format!("table '{name}' is at version {}, not {v}", before.version),
                current: Some(Box::new(before.to_json())),
            });
        }
    }
    if let Patch::Set(false) = is_hierarchical {
        let mut sql = tx.sql("SELECT COUNT(*) AS n FROM table_rows WHERE logical_table_id = ");
        sql.bind(before.id).push(" AND parent_row_id IS NOT NULL");
        let n = tx.fetch_optional(&sql).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0);
        if n > 0 {
            return Err(Error::invalid(
                "is_hierarchical",
                ErrorCode::Hierarchy,
                format!("{n} rows have a parent; clear their parent_row_id first"),
            ));
        }
    }

    let mut sql = tx.sql("UPDATE logical_tables SET version = version + 1, updated_at = ");
    sql.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id);
    if let Some(n) = &new_name {
        sql.push(", table_name = ").bind(n.as_str());
    }
    if let Some(d) = description.given() {
        sql.push(", description = ").bind(d);
    }
    if let Patch::Set(h) = is_hierarchical {
        sql.push(", is_hierarchical = ").bind(h);
    }
    if let Some(p) = cache_policy {
        sql.push(", cache_policy = ").bind(p.as_str());
    }
    sql.push(" WHERE id = ").bind(before.id);
    if let Err(e) = tx.execute(&sql).await.map_err(Error::from) {
        return Err(if is_unique_violation(&e) {
            Error::Duplicate(format!(
                "a table named '{}' already exists",
                new_name.as_ref().map(TableName::as_str).unwrap_or_default()
            ))
        } else {
            e
        });
    }
    let after = load_table(tx, ws, new_name.as_ref().map_or(name, TableName::as_str)).await?;
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: if new_name.is_some() { "TableRenamed" } else { "TableUpdated" },
            aggregate_type: "logical_table",
            aggregate_id: after.id,
            data: json!({ "table_id": after.id, "table_name": after.name.as_str(), "version": after.version }),
            before: Some(before.to_json()),
            after: Some(after.to_json()),
        },
    )
    .await?;
    Ok(after)
}

/// `DELETE /tables/{table}`: the table, its attachments and all its rows and values, in one transaction.
pub async fn delete_table(tx: &mut Tx, ws: WorkspaceId, actor: &Actor, name: &str) -> Result<()> {
    let table = load_table(tx, ws, name).await?;
    let mut count = tx.sql("SELECT COUNT(*) AS n FROM table_rows WHERE logical_table_id = ");
    count.bind(table.id);
    let rows = tx.fetch_optional(&count).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0);
    // Constraints first (a self-referencing foreign key would otherwise block the cascade on PostgreSQL),
    // then values and rows explicitly (children before parents do not matter within one statement).
    for statement in [
        "DELETE FROM table_constraints WHERE logical_table_id = ",
        "DELETE FROM column_values WHERE logical_table_id = ",
        "DELETE FROM table_rows WHERE logical_table_id = ",
        "DELETE FROM table_column_properties WHERE logical_table_id = ",
        "DELETE FROM logical_tables WHERE id = ",
    ] {
        let mut sql = tx.sql(statement);
        sql.bind(table.id);
        tx.execute(&sql).await?;
    }
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "TableDeleted",
            aggregate_type: "logical_table",
            aggregate_id: table.id,
            data: json!({ "table_id": table.id, "table_name": table.name.as_str(), "rows_deleted": rows }),
            before: Some(table.to_json()),
            after: None,
        },
    )
    .await?;
    Ok(())
}

/// A library definition as stored.
#[derive(Debug, Clone)]
pub struct Definition {
    pub id: Uuid,
    pub name: ColumnName,
    pub data_type: DataType,
    pub default_value: Option<Typed>,
    pub masking: MaskingRule,
    pub description: Option<String>,
    pub version: i32,
}

impl Definition {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "column_name": self.name.as_str(),
            "data_type": self.data_type.as_str(),
            "default_value": self.default_value.as_ref().map(Typed::to_json),
            "masking_rule": match self.masking { MaskingRule::None => None, ref m => Some(m.as_str()) },
            "description": self.description,
            "version": self.version,
        })
    }
}

fn definition_from_row(row: &DbRow) -> Result<Definition> {
    let name_text = row.text("column_name")?;
    let data_type: DataType = row
        .text("data_type")?
        .parse()
        .map_err(|_| corrupt(format!("column {name_text}: unknown data type")))?;
    let default_value = match row.opt_text("default_value")? {
        Some(text) => {
            let json: Value =
                serde_json::from_str(&text).map_err(|_| corrupt(format!("column {name_text}: default")))?;
            parse_value(data_type, &json).map_err(|_| corrupt(format!("column {name_text}: default")))?
        }
        None => None,
    };
    Ok(Definition {
        id: row.uuid("id")?,
        name: ColumnName::parse(&name_text, "column_name").map_err(|e| Error::BadRequest(vec![e]))?,
        data_type,
        default_value,
        masking: MaskingRule::parse_opt(row.opt_text("masking_rule")?.as_deref())
            .map_err(|_| corrupt(format!("column {name_text}: masking rule")))?,
        description: row.opt_text("description")?,
        version: row.i32("version")?,
    })
}

/// Finds a library definition by name.
pub async fn find_definition(tx: &mut Tx, ws: WorkspaceId, name: &str) -> Result<Option<Definition>> {
    let mut sql = tx.sql(
        "SELECT id, column_name, data_type, default_value, masking_rule, description, version \
         FROM column_definitions WHERE workspace_id = ",
    );
    sql.bind(ws.0).push(" AND column_name = ").bind(name);
    tx.fetch_optional(&sql).await?.as_ref().map(definition_from_row).transpose()
}

/// `GET /columns`: the attribute library, by name.
pub async fn list_definitions(tx: &mut Tx, ws: WorkspaceId) -> Result<Vec<Definition>> {
    let mut sql = tx.sql(
        "SELECT id, column_name, data_type, default_value, masking_rule, description, version \
         FROM column_definitions WHERE workspace_id = ",
    );
    sql.bind(ws.0).push(" ORDER BY column_name");
    tx.fetch_all(&sql).await?.iter().map(definition_from_row).collect()
}

/// Parses a default against its type; the error names `default_value`.
fn parse_default(f: &mut Fields<'_>, data_type: DataType, raw: Option<&Value>) -> Option<Typed> {
    let raw = raw?;
    match parse_value(data_type, raw) {
        Ok(v) => v,
        Err(e) => {
            f.error(e.prefixed("default_value"));
            None
        }
    }
}

/// `POST /tables/{table}/columns`: attaches the library definition of that name (same type; other
/// definition-level fields omitted or equal) or creates it.
pub async fn attach_column(
    tx: &mut Tx,
    ws: WorkspaceId,
    actor: &Actor,
    table: &str,
    body: &Value,
) -> Result<Table> {
    let before = load_table(tx, ws, table).await?;
    let mut f = Fields::new(body, "")?;
    let name = f.string("column_name");
    let name = required(&mut f, "column_name", name);
    let data_type_text = f.string("data_type");
    let is_mandatory = f.bool("is_mandatory");
    let is_value_unique = f.bool("is_value_unique");
    let default_raw = f.raw("default_value").filter(|v| !v.is_null());
    let rule_type = f.string("validation_rule_type");
    let rule_params = f.raw("validation_parameters").filter(|v| !v.is_null());
    let masking_text = f.string("masking_rule");
    let display_order = f.i32("display_order");
    let description = f.string("description");

    let name = name.and_then(|n| ColumnName::parse(&n, "column_name").map_err(|e| f.error(e)).ok());
    let existing = match &name {
        Some(n) => find_definition(tx, ws, n.as_str()).await?,
        None => None,
    };
    let data_type = match (&data_type_text, &existing) {
        (Patch::Set(t), _) => match t.parse::<DataType>() {
            Ok(dt) => Some(dt),
            Err(_) => {
                f.error(FieldError::new(
                    "data_type",
                    ErrorCode::Enum,
                    "expected one of: String, Text, Int, Decimal, Boolean, Date, DateTime",
                ));
                None
            }
        },
        (_, Some(def)) => Some(def.data_type),
        _ => {
            f.error(FieldError::new(
                "data_type",
                ErrorCode::Required,
                "'data_type' is required for a new column",
            ));
            None
        }
    };
    let masking = match &masking_text {
        Patch::Set(m) => MaskingRule::parse_opt(Some(m)).map_err(|e| f.error(e)).ok(),
        _ => None,
    };
    let default_value = data_type.and_then(|dt| parse_default(&mut f, dt, default_raw));
    let rule = match data_type {
        Some(dt) => match parse_rule(rule_type.clone().given().flatten().as_deref(), rule_params, dt) {
            Ok(r) => r,
            Err(e) => {
                f.error(e);
                None
            }
        },
        None => None,
    };
    if let (Some(default), Some(rule)) = (&default_value, &rule) {
        if let Err(e) = rule.check(default) {
            f.error(e.prefixed("default_value"));
        }
    }
    f.finish()?;
    let (Some(name), Some(data_type)) = (name, data_type) else {
        return Err(Error::bad_request("column_name", ErrorCode::Required, "required"));
    };
    if before.column(name.as_str()).is_some() {
        return Err(Error::Duplicate(format!("table '{table}' already has a column '{name}'")));
    }

    let now = Utc::now();
    let definition_id = match &existing {
        Some(def) => {
            let mut clashes = Vec::new();
            if def.data_type != data_type {
                clashes.push(format!("data_type is {} in the attribute library", def.data_type.as_str()));
            }
            if default_raw.is_some() && def.default_value != default_value {
                clashes.push("default_value differs from the attribute library".to_owned());
            }
            if masking.is_some() && masking.as_ref() != Some(&def.masking) {
                clashes.push("masking_rule differs from the attribute library".to_owned());
            }
            if let Patch::Set(d) = &description {
                if def.description.as_deref() != Some(d.as_str()) {
                    clashes.push("description differs from the attribute library".to_owned());
                }
            }
            if !clashes.is_empty() {
                return Err(Error::Duplicate(format!(
                    "column definition '{name}' already exists: {}; omit those fields or change the definition \
                     with PATCH /columns/{name}",
                    clashes.join("; ")
                )));
            }
            def.id
        }
        None => {
            let id = new_id();
            let mut sql = tx.sql(
                "INSERT INTO column_definitions (id, workspace_id, column_name, data_type, default_value, \
                 masking_rule, description, version, created_at, created_by) VALUES (",
            );
            sql.bind(id)
                .push(", ")
                .bind(ws.0)
                .push(", ")
                .bind(name.as_str())
                .push(", ")
                .bind(data_type.as_str())
                .push(", ")
                .bind(default_value.as_ref().map(|v| v.to_json().to_string()))
                .push(", ")
                .bind(masking.as_ref().filter(|m| **m != MaskingRule::None).map(|m| m.as_str()))
                .push(", ")
                .bind(description.clone().given().flatten())
                .push(", 1, ")
                .bind(now)
                .push(", ")
                .bind(actor.user_id)
                .push(")");
            tx.execute(&sql).await?;
            id
        }
    };
    let order = match display_order {
        Patch::Set(o) => o,
        _ => before.columns.iter().map(|c| c.display_order).max().map_or(1, |m| m.saturating_add(1)),
    };
    let mandatory = matches!(is_mandatory, Patch::Set(true));
    let mut sql = tx.sql(
        "INSERT INTO table_column_properties (logical_table_id, column_definition_id, display_order, is_mandatory, \
         is_value_unique, validation_rule_type, validation_parameters, created_at, created_by) VALUES (",
    );
    sql.bind(before.id)
        .push(", ")
        .bind(definition_id)
        .push(", ")
        .bind(order)
        .push(", ")
        .bind(mandatory)
        .push(", ")
        .bind(matches!(is_value_unique, Patch::Set(true)))
        .push(", ")
        .bind(rule.as_ref().map(|r| r.kind().to_owned()))
        .push(", ")
        .bind(Arg::Json(rule.as_ref().map(ValidationRule::parameters)))
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(actor.user_id)
        .push(")");
    tx.execute(&sql).await?;

    // Existing rows: a default fills them; a mandatory column without a default cannot be added to a
    // table that has rows.
    let effective_default =
        default_value.clone().or_else(|| existing.as_ref().and_then(|d| d.default_value.clone()));
    let mut count = tx.sql("SELECT COUNT(*) AS n FROM table_rows WHERE logical_table_id = ");
    count.bind(before.id);
    let rows = tx.fetch_optional(&count).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0);
    if rows > 0 {
        match &effective_default {
            Some(default) => super::values::backfill(tx, before.id, definition_id, default, actor).await?,
            None if mandatory => {
                return Err(Error::invalid(
                    "is_mandatory",
                    ErrorCode::Required,
                    format!(
                    "table '{table}' has {rows} rows: a mandatory column needs a default_value to fill them"
                ),
                ))
            }
            None => {}
        }
    }
    bump_version(tx, before.id, actor).await?;
    let after = load_table(tx, ws, table).await?;
    if after.column(name.as_str()).is_some_and(|c| c.is_value_unique) {
        super::unique::rebuild_column_keys(tx, &after, name.as_str()).await?;
    }
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "ColumnAttached",
            aggregate_type: "logical_table",
            aggregate_id: after.id,
            data: json!({ "table_id": after.id, "column_name": name.as_str(), "definition_id": definition_id }),
            before: Some(before.to_json()),
            after: after.column(name.as_str()).map(Column::to_json),
        },
    )
    .await?;
    Ok(after)
}

/// `PATCH /tables/{table}/columns/{column}`: attachment-level fields. Existing values must satisfy the new
/// rules (422 listing the first offending rows otherwise).
pub async fn update_column(
    tx: &mut Tx,
    ws: WorkspaceId,
    actor: &Actor,
    table: &str,
    column: &str,
    body: &Value,
) -> Result<Table> {
    let before = load_table(tx, ws, table).await?;
    let current = before
        .column(column)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("table '{table}' has no column '{column}'")))?;
    let mut f = Fields::new(body, "")?;
    let display_order = f.i32("display_order");
    let is_mandatory = f.bool("is_mandatory");
    let is_value_unique = f.bool("is_value_unique");
    let rule_type = f.string("validation_rule_type");
    let rule_params_raw = f.raw("validation_parameters");
    let rule = if rule_type.is_absent() && rule_params_raw.is_none() {
        current.rule.clone()
    } else {
        let kind = match &rule_type {
            Patch::Absent => current.rule.as_ref().map(|r| r.kind().to_owned()),
            other => other.clone().given().flatten(),
        };
        match parse_rule(kind.as_deref(), rule_params_raw.filter(|v| !v.is_null()), current.data_type) {
            Ok(r) => r,
            Err(e) => {
                f.error(e);
                None
            }
        }
    };
    f.finish()?;
    let mandatory = match is_mandatory {
        Patch::Set(m) => m,
        _ => current.is_mandatory,
    };
    let unique = match is_value_unique {
        Patch::Set(u) => u,
        _ => current.is_value_unique,
    };
    let mut sql = tx.sql("UPDATE table_column_properties SET updated_at = ");
    sql.bind(Utc::now())
        .push(", updated_by = ")
        .bind(actor.user_id)
        .push(", is_mandatory = ")
        .bind(mandatory)
        .push(", is_value_unique = ")
        .bind(unique)
        .push(", validation_rule_type = ")
        .bind(rule.as_ref().map(|r| r.kind().to_owned()))
        .push(", validation_parameters = ")
        .bind(Arg::Json(rule.as_ref().map(ValidationRule::parameters)));
    if let Patch::Set(o) = display_order {
        sql.push(", display_order = ").bind(o);
    }
    sql.push(" WHERE logical_table_id = ")
        .bind(before.id)
        .push(" AND column_definition_id = ")
        .bind(current.definition_id);
    tx.execute(&sql).await?;
    bump_version(tx, before.id, actor).await?;
    let after = load_table(tx, ws, table).await?;
    super::values::check_existing(tx, &after, column).await?;
    if unique && !current.is_value_unique {
        super::unique::rebuild_column_keys(tx, &after, column).await?;
    } else if !unique && current.is_value_unique {
        super::unique::drop_column_keys(tx, &after, column).await?;
    }
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "ColumnUpdated",
            aggregate_type: "logical_table",
            aggregate_id: after.id,
            data: json!({ "table_id": after.id, "column_name": column }),
            before: Some(current.to_json()),
            after: after.column(column).map(Column::to_json),
        },
    )
    .await?;
    Ok(after)
}

/// `DELETE /tables/{table}/columns/{column}`: detaches the column and deletes its values in this table;
/// the library definition stays.
pub async fn detach_column(
    tx: &mut Tx,
    ws: WorkspaceId,
    actor: &Actor,
    table: &str,
    column: &str,
) -> Result<Table> {
    let before = load_table(tx, ws, table).await?;
    let current = before
        .column(column)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("table '{table}' has no column '{column}'")))?;
    super::unique::drop_column_keys(tx, &before, column).await?;
    for statement in [
        "DELETE FROM column_values WHERE logical_table_id = ",
        "DELETE FROM table_column_properties WHERE logical_table_id = ",
    ] {
        let mut sql = tx.sql(statement);
        sql.bind(before.id).push(" AND column_definition_id = ").bind(current.definition_id);
        tx.execute(&sql).await?;
    }
    bump_version(tx, before.id, actor).await?;
    let after = load_table(tx, ws, table).await?;
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "ColumnDetached",
            aggregate_type: "logical_table",
            aggregate_id: after.id,
            data: json!({ "table_id": after.id, "column_name": column }),
            before: Some(current.to_json()),
            after: None,
        },
    )
    .await?;
    Ok(after)
}

/// `PATCH /columns/{name}`: definition-level fields (default, masking, description) for every table using
/// it. The data type cannot change here (a later capability converts types with a preview).
pub async fn update_definition(
    tx: &mut Tx,
    ws: WorkspaceId,
    actor: &Actor,
    name: &str,
    body: &Value,
) -> Result<Definition> {
    let before = find_definition(tx, ws, name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("column definition '{name}' not found")))?;
    let mut f = Fields::new(body, "")?;
    let data_type = f.string("data_type");
    let default_raw = f.raw("default_value");
    let masking = f.string("masking_rule");
    let description = f.string("description");
    if let Patch::Set(t) = &data_type {
        if t != before.data_type.as_str() {
            f.error(FieldError::new(
                "data_type",
                ErrorCode::Invalid,
                "the data type of a definition cannot be changed",
            ));
        }
    }
    let default_value = match default_raw {
        None => None,
        Some(Value::Null) => Some(None),
        Some(raw) => Some(parse_default(&mut f, before.data_type, Some(raw))),
    };
    let masking = match masking {
        Patch::Set(m) => MaskingRule::parse_opt(Some(&m)).map_err(|e| f.error(e)).ok(),
        Patch::Null => Some(MaskingRule::None),
        Patch::Absent => None,
    };
    f.finish()?;
    let mut sql = tx.sql("UPDATE column_definitions SET version = version + 1, updated_at = ");
    sql.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id);
    if let Some(d) = &default_value {
        sql.push(", default_value = ").bind(d.as_ref().map(|v| v.to_json().to_string()));
    }
    if let Some(m) = &masking {
        sql.push(", masking_rule = ").bind((*m != MaskingRule::None).then(|| m.as_str()));
    }
    if let Some(d) = description.given() {
        sql.push(", description = ").bind(d);
    }
    sql.push(" WHERE id = ").bind(before.id);
    tx.execute(&sql).await?;
    // Every table using the definition changed its schema.
    let mut sql = tx.sql("UPDATE logical_tables SET version = version + 1 WHERE id IN (SELECT logical_table_id FROM table_column_properties WHERE column_definition_id = ");
    sql.bind(before.id).push(")");
    tx.execute(&sql).await?;
    let after = find_definition(tx, ws, name).await?.ok_or_else(|| Error::NotFound(name.to_owned()))?;
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "ColumnDefinitionUpdated",
            aggregate_type: "column_definition",
            aggregate_id: after.id,
            data: json!({ "definition_id": after.id, "column_name": name }),
            before: Some(before.to_json()),
            after: Some(after.to_json()),
        },
    )
    .await?;
    Ok(after)
}

/// `DELETE /columns/{name}`: only when no table uses the definition (422 otherwise).
pub async fn delete_definition(tx: &mut Tx, ws: WorkspaceId, actor: &Actor, name: &str) -> Result<()> {
    let def = find_definition(tx, ws, name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("column definition '{name}' not found")))?;
    let mut sql = tx.sql(
        "SELECT t.table_name FROM table_column_properties p JOIN logical_tables t ON t.id = p.logical_table_id \
         WHERE p.column_definition_id = ",
    );
    sql.bind(def.id).push(" ORDER BY t.table_name");
    let users: Vec<String> =
        tx.fetch_all(&sql).await?.iter().map(|r| r.text("table_name")).collect::<Result<_, _>>()?;
    if !users.is_empty() {
        // 409 is reserved for version conflicts and duplicate names (api.md): a definition in use is 422.
        return Err(Error::invalid(
            "column_name",
            ErrorCode::Invalid,
            format!("column definition '{name}' is used by: {}; detach it first", users.join(", ")),
        ));
    }
    let mut sql = tx.sql("DELETE FROM column_definitions WHERE id = ");
    sql.bind(def.id);
    tx.execute(&sql).await?;
    record(
        tx,
        actor,
        Change {
            workspace: ws,
            event_type: "ColumnDefinitionDeleted",
            aggregate_type: "column_definition",
            aggregate_id: def.id,
            data: json!({ "definition_id": def.id, "column_name": name }),
            before: Some(def.to_json()),
            after: None,
        },
    )
    .await?;
    Ok(())
}
