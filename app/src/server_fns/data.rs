//! The data grid: a table's columns, pages of its rows (keyset pages, or an `offset` to jump), and cell
//! edits. Each function checks `table:<id>:<action>` through `Services::table_actor` (as the REST API does)
//! and calls `tessera_core::eav::Eav`; masked columns come back masked unless the caller may unmask.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridColumn {
    pub name: String,
    /// `String`, `Text`, `Int`, `Decimal`, `Boolean`, `Date`, `DateTime`.
    pub data_type: String,
    pub mandatory: bool,
    /// The choices of an `enum` validation rule (empty otherwise).
    pub options: Vec<String>,
}

/// What the grid needs before its first rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridMeta {
    pub table: String,
    pub columns: Vec<GridColumn>,
    pub can_update: bool,
    pub can_create: bool,
    pub can_delete: bool,
    /// Rows in the table: exact, or the planner's estimate above 100,000 rows (PostgreSQL).
    pub total: i64,
    pub total_is_estimate: bool,
}

/// One row as the grid shows it: cell texts in column order (`None` = no value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRow {
    pub id: String,
    pub version: i64,
    pub cells: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridPage {
    pub rows: Vec<GridRow>,
    pub next_cursor: Option<String>,
}

/// The answer to a cell edit: the row as saved, or — someone else changed it first — the row as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellSaved {
    Saved(GridRow),
    Conflict(GridRow),
}

#[server(prefix = "/fn", endpoint = "data/meta")]
pub async fn get_grid_meta(table: String) -> Result<GridMeta, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "read").await?;
    let may = |action: &'static str| services.table_actor(&principal, actor.clone(), &table, action);
    let can_update = may("update").await.is_ok();
    let can_create = may("create").await.is_ok();
    let can_delete = may("delete").await.is_ok();
    let eav = services.eav();
    let described = eav.get_table(&table).await?;
    let columns = server::grid_columns(&described);
    // The planner's estimate is free at any size but rough for small or fresh tables: below 100,000 rows
    // the exact count is cheap, so the grid shows that.
    let mut total = 0;
    let mut total_is_estimate = false;
    for kind in ["estimate", "exact"] {
        let count = serde_json::json!({ "limit": 1, "columns": [], "include_total": kind });
        let query = tessera_core::eav::query::Query::from_json(&count, eav.limits())?;
        let page = eav.query(&actor, &table, &query).await?;
        total = page["total"].as_i64().unwrap_or(0);
        total_is_estimate = page["total_is_estimate"].as_bool().unwrap_or(false);
        if total >= 100_000 {
            break;
        }
    }
    Ok(GridMeta { table, columns, can_update, can_create, can_delete, total, total_is_estimate })
}

/// A page of rows. `sort` is `column:asc|desc` (empty: by id); `cursor` continues a previous page; `offset`
/// jumps (the grid uses it when the user scrolls far from the rows it has).
#[server(prefix = "/fn", endpoint = "data/rows")]
pub async fn get_grid_rows(
    table: String,
    sort: String,
    cursor: Option<String>,
    offset: Option<i64>,
    limit: i64,
) -> Result<GridPage, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "read").await?;
    let eav = services.eav();
    let mut body = serde_json::json!({ "limit": limit, "cursor": cursor, "offset": offset });
    if let Some((field, direction)) = sort.split_once(':') {
        body["sort"] = serde_json::json!([{ "field": field, "direction": direction }]);
    }
    let query = tessera_core::eav::query::Query::from_json(&body, eav.limits())?;
    let columns: Vec<String> = eav.export_columns(&table, &query).await?;
    let page = eav.query(&actor, &table, &query).await?;
    Ok(GridPage {
        rows: server::items(&page).iter().map(|row| server::grid_row(row, &columns)).collect(),
        next_cursor: page["next_cursor"].as_str().map(str::to_owned),
    })
}

/// Saves one cell (`value` as typed; empty = no value) if the row is still at `version`.
#[server(prefix = "/fn", endpoint = "data/cell")]
pub async fn save_cell(
    table: String,
    id: String,
    version: i64,
    column: String,
    value: Option<String>,
) -> Result<CellSaved, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "update").await?;
    let eav = services.eav();
    let row_id = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::new(crate::errors::ErrorKind::Invalid, "not a row id"))?;
    let described = eav.get_table(&table).await?;
    let columns = server::grid_columns(&described);
    let data_type =
        columns.iter().find(|c| c.name == column).map(|c| c.data_type.as_str()).unwrap_or_default();
    let body = serde_json::json!({
        "version": version,
        "values": { column.as_str(): server::typed(data_type, value.as_deref()) },
    });
    let names: Vec<String> = columns.into_iter().map(|c| c.name).collect();
    let mode = tessera_core::eav::rows::UpdateMode::Merge;
    match eav.update_row(&actor, &table, row_id, &body, None, mode).await {
        Ok(row) => Ok(CellSaved::Saved(server::grid_row(&row, &names))),
        Err(tessera_core::Error::Conflict { current: Some(current), .. }) => {
            Ok(CellSaved::Conflict(server::grid_row(&current, &names)))
        }
        Err(other) => Err(other.into()),
    }
}

/// Creates a row from the grid's new-row form: `values` is a JSON object of column name → text as typed
/// (empty = no value); core applies defaults, mandatory columns and rules.
#[server(prefix = "/fn", endpoint = "data/create")]
pub async fn create_grid_row(table: String, values: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "create").await?;
    let eav = services.eav();
    let typed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&values)
        .map_err(|_| AppError::new(crate::errors::ErrorKind::Invalid, "values must be a JSON object"))?;
    let columns = server::grid_columns(&eav.get_table(&table).await?);
    let mut body = serde_json::Map::new();
    for (name, text) in typed {
        let data_type =
            columns.iter().find(|c| c.name == name).map(|c| c.data_type.as_str()).unwrap_or_default();
        let value = server::typed(data_type, text.as_str());
        if !value.is_null() {
            body.insert(name, value);
        }
    }
    eav.create_row(&actor, &table, &serde_json::json!({ "values": body })).await?;
    Ok(())
}

/// Deletes rows (all or none); `ids` is a comma-separated list.
#[server(prefix = "/fn", endpoint = "data/delete")]
pub async fn delete_grid_rows(table: String, ids: String) -> Result<usize, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "delete").await?;
    let operations: Vec<serde_json::Value> = ids
        .split(',')
        .filter(|id| !id.trim().is_empty())
        .map(|id| serde_json::json!({ "op": "delete", "id": id.trim() }))
        .collect();
    let count = operations.len();
    services.eav().batch(&actor, &table, &serde_json::json!({ "operations": operations })).await?;
    Ok(count)
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    pub use super::super::request::{items, scalar, text, Request};
    use super::{GridColumn, GridRow};
    use serde_json::Value;

    /// The columns of a described table (`Eav::get_table`), in display order.
    pub fn grid_columns(described: &Value) -> Vec<GridColumn> {
        described["columns"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|c| GridColumn {
                name: text(&c["column_name"]),
                data_type: text(&c["data_type"]),
                mandatory: c["is_mandatory"].as_bool().unwrap_or(false),
                options: match c["validation_rule_type"].as_str() {
                    Some("enum") => c["validation_parameters"]["options"]
                        .as_array()
                        .map(|o| o.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                },
            })
            .collect()
    }

    /// A row of a core answer as grid cells, in `columns` order.
    pub fn grid_row(row: &Value, columns: &[String]) -> GridRow {
        GridRow {
            id: text(&row["id"]),
            version: row["version"].as_i64().unwrap_or(0),
            cells: columns.iter().map(|c| scalar(&row["values"][c.as_str()])).collect(),
        }
    }

    /// The JSON of what was typed into a cell of `data_type`: numbers and booleans as JSON when they read as
    /// such (otherwise the text, which core refuses with a field error), everything else as text.
    pub fn typed(data_type: &str, value: Option<&str>) -> Value {
        let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else { return Value::Null };
        match data_type {
            "Int" => text.parse::<i64>().map_or_else(|_| Value::from(text), Value::from),
            "Boolean" => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::from(other),
            },
            _ => Value::from(text),
        }
    }
}
