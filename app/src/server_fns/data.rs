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
    /// The column has a masking rule and this user may not unmask: the grid shows the masked text and
    /// offers no editor (saving the masked text back would destroy the value).
    pub masked: bool,
    /// The table this column references when it is a one-column foreign key (the reference picker).
    pub references: Option<String>,
}

/// How this user arranged the grid of a table: column order, hidden columns, widths in pixels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridLayout {
    pub order: Vec<String>,
    pub hidden: Vec<String>,
    pub widths: Vec<(String, u32)>,
}

/// What the grid needs before its first rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridMeta {
    pub table: String,
    pub columns: Vec<GridColumn>,
    pub can_update: bool,
    pub can_create: bool,
    pub can_delete: bool,
    pub hierarchical: bool,
    /// Rows in the table: exact, or the planner's estimate above 100,000 rows (PostgreSQL).
    pub total: i64,
    pub total_is_estimate: bool,
    pub layout: GridLayout,
}

/// One row as the grid shows it: cell texts in column order (`None` = no value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRow {
    pub id: String,
    pub version: i64,
    pub cells: Vec<Option<String>>,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridPage {
    pub rows: Vec<GridRow>,
    pub next_cursor: Option<String>,
    /// The view's row count when it was asked for: `(count, is_estimate)`.
    pub total: Option<(i64, bool)>,
}

/// The answer to a cell edit: the row as saved, or — someone else changed it first — the row as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellSaved {
    Saved(GridRow),
    Conflict(GridRow),
}

/// One cell to write in a batch (paste, undo of a paste): the row at `version`, the text as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellEdit {
    pub id: String,
    pub version: i64,
    pub column: String,
    pub value: Option<String>,
}

/// A whole row for the row drawer: promoted fields, every value, the extended properties as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRecord {
    pub id: String,
    pub version: i64,
    pub code: Option<String>,
    pub display_value: Option<String>,
    pub parent: Option<String>,
    pub values: Vec<(String, Option<String>)>,
    /// Pretty-printed JSON object.
    pub extended_properties: String,
}

/// The JSON of what was typed into a cell (or a filter) of `data_type`: numbers and booleans as JSON when they
/// read as such (otherwise the text, which core refuses with a field error), everything else as text.
pub fn typed(data_type: &str, value: Option<&str>) -> serde_json::Value {
    use serde_json::Value;
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
    let columns = server::grid_columns(&described, actor.unmask);
    let (total, total_is_estimate) = server::count(&eav, &actor, &table, None).await?;
    let saved = services.grid_layout(&principal, actor.clone(), &table).await?;
    let names = |v: &serde_json::Value| server::array(v).iter().map(server::text).collect::<Vec<_>>();
    let layout = GridLayout {
        order: names(&saved["order"]),
        hidden: names(&saved["hidden"]),
        widths: saved["widths"]
            .as_object()
            .map(|w| w.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as u32)).collect())
            .unwrap_or_default(),
    };
    Ok(GridMeta {
        table,
        columns,
        can_update,
        can_create,
        can_delete,
        hierarchical: described["is_hierarchical"].as_bool().unwrap_or(false),
        total,
        total_is_estimate,
        layout,
    })
}

/// A page of rows. `view` is the JSON of the grid's sort and filter in the query grammar of `api.md`
/// (`{"sort": [{field, direction}…], "filter": {…}}`); `cursor` continues a previous page; `offset` jumps
/// (the grid uses it when the user scrolls far from the rows it has); `count` asks for the view's row count.
#[server(prefix = "/fn", endpoint = "data/rows")]
pub async fn get_grid_rows(
    table: String,
    view: String,
    cursor: Option<String>,
    offset: Option<i64>,
    limit: i64,
    count: bool,
) -> Result<GridPage, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "read").await?;
    let eav = services.eav();
    let mut body = server::view_query(&view)?;
    body["limit"] = serde_json::json!(limit);
    body["cursor"] = serde_json::json!(cursor);
    body["offset"] = serde_json::json!(offset);
    let query = tessera_core::eav::query::Query::from_json(&body, eav.limits())?;
    let columns: Vec<String> = eav.export_columns(&table, &query).await?;
    let page = eav.query(&actor, &table, &query).await?;
    let total = match count {
        true => Some(server::count(&eav, &actor, &table, body.get("filter").cloned()).await?),
        false => None,
    };
    Ok(GridPage {
        rows: server::items(&page).iter().map(|row| server::grid_row(row, &columns)).collect(),
        next_cursor: page["next_cursor"].as_str().map(str::to_owned),
        total,
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
    let row_id = server::row_id(&id)?;
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    let body = serde_json::json!({
        "version": version,
        "values": server::typed_values(&columns, [(column.as_str(), value.as_deref())])?,
    });
    server::update(&eav, &actor, &table, row_id, &body, &columns).await
}

/// Saves many cells as one all-or-nothing batch (a paste, or undoing one): `edits` is a JSON array of
/// [`CellEdit`]; edits of the same row become one update. Answers the saved rows, one per edited row in
/// the order of their first edit; an error names `operations[i]` (the i-th edited row).
#[server(prefix = "/fn", endpoint = "data/cells")]
pub async fn save_cells(table: String, edits: String) -> Result<Vec<GridRow>, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "update").await?;
    let eav = services.eav();
    let edits: Vec<CellEdit> = serde_json::from_str(&edits)
        .map_err(|e| AppError::new(crate::errors::ErrorKind::Invalid, format!("edits: {e}")))?;
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    let mut order: Vec<(String, i64)> = Vec::new();
    let mut by_row: std::collections::HashMap<String, Vec<(String, Option<String>)>> = Default::default();
    for edit in edits {
        if !by_row.contains_key(&edit.id) {
            order.push((edit.id.clone(), edit.version));
        }
        by_row.entry(edit.id).or_default().push((edit.column, edit.value));
    }
    let mut operations = Vec::with_capacity(order.len());
    for (id, version) in &order {
        let cells = by_row.remove(id).unwrap_or_default();
        let values = server::typed_values(&columns, cells.iter().map(|(c, v)| (c.as_str(), v.as_deref())))?;
        operations
            .push(serde_json::json!({ "op": "update", "id": id, "version": version, "values": values }));
    }
    let outcome = eav.batch(&actor, &table, &serde_json::json!({ "operations": operations })).await?;
    let names: Vec<String> = columns.into_iter().map(|c| c.name).collect();
    Ok(outcome
        .results
        .into_iter()
        .filter_map(|item| match item {
            tessera_core::eav::batch::ItemResult::Ok(Some(row)) => Some(server::grid_row(&row, &names)),
            _ => None,
        })
        .collect())
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
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    let mut body = serde_json::Map::new();
    for (name, text) in typed {
        let value = server::typed(server::data_type(&columns, &name), text.as_str());
        if !value.is_null() {
            body.insert(name, value);
        }
    }
    eav.create_row(&actor, &table, &serde_json::json!({ "values": body })).await?;
    Ok(())
}

/// Copies rows (all or none): values the user sees in clear, extended properties and parent (not the code,
/// which identifies a row). Masked
/// columns the user may not unmask are left to their defaults. Unique columns make the copy fail with the
/// constraint's error, as they should.
#[server(prefix = "/fn", endpoint = "data/duplicate")]
pub async fn duplicate_grid_rows(table: String, ids: String) -> Result<usize, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "create").await?;
    let actor = services.table_actor(&principal, actor, &table, "read").await?;
    let eav = services.eav();
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    let mut operations = Vec::new();
    for id in ids.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        let row = eav.get_row(&actor, &table, server::row_id(id)?).await?;
        let values: serde_json::Map<String, serde_json::Value> = columns
            .iter()
            .filter(|c| !c.masked)
            .filter_map(|c| Some((c.name.clone(), row["values"].get(&c.name)?.clone())))
            .filter(|(_, v)| !v.is_null())
            .collect();
        operations.push(serde_json::json!({
            "op": "create",
            "values": values,
            "extended_properties": row["extended_properties"],
            "parent_row_id": row["parent_row_id"],
        }));
    }
    let count = operations.len();
    eav.batch(&actor, &table, &serde_json::json!({ "operations": operations })).await?;
    Ok(count)
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

/// One row with everything the row drawer shows.
#[server(prefix = "/fn", endpoint = "data/record")]
pub async fn get_grid_record(table: String, id: String) -> Result<GridRecord, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "read").await?;
    let eav = services.eav();
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    let row = eav.get_row(&actor, &table, server::row_id(&id)?).await?;
    Ok(server::record(&row, &columns))
}

/// Saves the row drawer: code, display value and the extended properties (JSON text of an object; the
/// server sends core the merge patch from the stored object to this one, so removed keys are removed).
#[server(prefix = "/fn", endpoint = "data/record-save")]
pub async fn save_grid_record(
    table: String,
    id: String,
    version: i64,
    code: String,
    display_value: String,
    extended_properties: String,
) -> Result<CellSaved, AppError> {
    use crate::errors::{ErrorKind, FieldMessage};
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "update").await?;
    let eav = services.eav();
    let row_id = server::row_id(&id)?;
    let wanted: serde_json::Value = match serde_json::from_str(&extended_properties) {
        Ok(value @ serde_json::Value::Object(_)) => value,
        Ok(_) => serde_json::Value::Null,
        Err(e) => {
            let message = format!("not valid JSON: {e}");
            let mut error = AppError::new(ErrorKind::Invalid, message.clone());
            error.fields.push(FieldMessage { field: "extended_properties".into(), message });
            return Err(error);
        }
    };
    if wanted.is_null() {
        let message = "must be a JSON object".to_owned();
        let mut error = AppError::new(ErrorKind::Invalid, message.clone());
        error.fields.push(FieldMessage { field: "extended_properties".into(), message });
        return Err(error);
    }
    let stored = eav.get_row(&actor, &table, row_id).await?;
    let before = match &stored["extended_properties"] {
        serde_json::Value::Null => serde_json::json!({}),
        other => other.clone(),
    };
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let body = serde_json::json!({
        "version": version,
        "code": given(&code),
        "display_value": given(&display_value),
        "extended_properties": tessera_core::eav::input::merge_diff(&before, &wanted),
    });
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    server::update(&eav, &actor, &table, row_id, &body, &columns).await
}

/// Rows of the table a reference column points to, for the reference picker: `(key, label)` pairs, the key
/// being the referenced primary key's value and the label the row's display value or first text value.
/// `search` matches the key's start or a text value (case-insensitive); empty lists the first rows.
#[server(prefix = "/fn", endpoint = "data/references")]
pub async fn search_references(
    table: String,
    column: String,
    search: String,
) -> Result<Vec<(String, String)>, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let services = &request.services;
    let actor = services.table_actor(&principal, actor, &table, "read").await?;
    let eav = services.eav();
    let columns = server::grid_columns(&eav.get_table(&table).await?, actor.unmask);
    let Some(parent) = columns.iter().find(|c| c.name == column).and_then(|c| c.references.clone()) else {
        return Err(tessera_core::Error::bad_request(
            "column",
            tessera_core::ErrorCode::Invalid,
            format!("column '{column}' is not a one-column foreign key"),
        )
        .into());
    };
    let parent_actor = services.table_actor(&principal, actor, &parent, "read").await?;
    let described = eav.get_table(&parent).await?;
    let parent_columns = server::grid_columns(&described, parent_actor.unmask);
    let key = server::array(&described["constraints"])
        .iter()
        .find(|c| c["constraint_type"] == "PRIMARY KEY")
        .and_then(|c| c["columns"].get(0).map(server::text))
        .ok_or_else(|| AppError::new(crate::errors::ErrorKind::Invalid, "the referenced table has no key"))?;
    let key_type = server::data_type(&parent_columns, &key).to_owned();
    let texts: Vec<&GridColumn> = parent_columns
        .iter()
        .filter(|c| matches!(c.data_type.as_str(), "String" | "Text") && c.name != key && !c.masked)
        .take(3)
        .collect();
    let search = search.trim();
    let mut any = vec![serde_json::json!({
        "field": "display_value", "op": "contains", "value": search, "case_insensitive": true,
    })];
    match key_type.as_str() {
        "String" | "Text" => {
            any.push(serde_json::json!({ "field": key, "op": "starts_with", "value": search }))
        }
        _ => {
            let typed = server::typed(&key_type, Some(search));
            if !typed.is_string() {
                any.push(serde_json::json!({ "field": key, "op": "eq", "value": typed }));
            }
        }
    }
    for c in &texts {
        any.push(serde_json::json!({
            "field": c.name, "op": "contains", "value": search, "case_insensitive": true,
        }));
    }
    let mut body = serde_json::json!({ "limit": 20, "sort": [{ "field": key, "direction": "asc" }] });
    if !search.is_empty() {
        body["filter"] = serde_json::json!({ "or": any });
    }
    let query = tessera_core::eav::query::Query::from_json(&body, eav.limits())?;
    let page = eav.query(&parent_actor, &parent, &query).await?;
    Ok(server::items(&page)
        .iter()
        .filter_map(|row| {
            let key = server::scalar(&row["values"][key.as_str()])?;
            let label = server::scalar(&row["display_value"])
                .or_else(|| texts.iter().find_map(|c| server::scalar(&row["values"][c.name.as_str()])))
                .unwrap_or_default();
            Some((key, label))
        })
        .collect())
}

/// Remembers how this user arranged the grid of `table` (`layout` is the JSON of a [`GridLayout`]).
#[server(prefix = "/fn", endpoint = "data/layout")]
pub async fn save_grid_layout(table: String, layout: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let layout: GridLayout = serde_json::from_str(&layout)
        .map_err(|e| AppError::new(crate::errors::ErrorKind::Invalid, format!("layout: {e}")))?;
    let widths: serde_json::Map<String, serde_json::Value> =
        layout.widths.into_iter().map(|(c, px)| (c, serde_json::json!(px))).collect();
    let body = serde_json::json!({ "order": layout.order, "hidden": layout.hidden, "widths": widths });
    request.services.set_grid_layout(&principal, actor, &table, &body).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    pub use super::super::request::{array, items, scalar, text, Request};
    pub use super::typed;
    use super::{GridColumn, GridRecord, GridRow};
    use crate::errors::{AppError, ErrorKind};
    use serde_json::Value;

    /// The columns of a described table (`Eav::get_table`), in display order; `unmask`: may the caller
    /// see masked values in clear.
    pub fn grid_columns(described: &Value, unmask: bool) -> Vec<GridColumn> {
        let constraints = array(&described["constraints"]);
        array(&described["columns"])
            .iter()
            .map(|c| {
                let name = text(&c["column_name"]);
                let references = constraints
                    .iter()
                    .filter(|k| k["constraint_type"] == "FOREIGN KEY")
                    .find(|k| k["columns"].as_array().is_some_and(|cols| cols.len() == 1 && cols[0] == *name))
                    .map(|k| text(&k["referenced_table"]));
                GridColumn {
                    data_type: text(&c["data_type"]),
                    mandatory: c["is_mandatory"].as_bool().unwrap_or(false),
                    options: match c["validation_rule_type"].as_str() {
                        Some("enum") => c["validation_parameters"]["options"]
                            .as_array()
                            .map(|o| o.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    },
                    masked: !unmask && c["masking_rule"].is_string(),
                    references,
                    name,
                }
            })
            .collect()
    }

    /// The rows of a table matching `filter` (all without): the planner's estimate, free at any size but
    /// rough for small or fresh tables, so below 100,000 rows the exact count (cheap there) instead.
    pub async fn count(
        eav: &tessera_core::eav::Eav,
        actor: &tessera_core::events::Actor,
        table: &str,
        filter: Option<Value>,
    ) -> Result<(i64, bool), AppError> {
        let mut answer = (0, false);
        for kind in ["estimate", "exact"] {
            let mut body = serde_json::json!({ "limit": 1, "columns": [], "include_total": kind });
            if let Some(filter) = &filter {
                body["filter"] = filter.clone();
            }
            let query = tessera_core::eav::query::Query::from_json(&body, eav.limits())?;
            let page = eav.query(actor, table, &query).await?;
            answer =
                (page["total"].as_i64().unwrap_or(0), page["total_is_estimate"].as_bool().unwrap_or(false));
            if answer.0 >= 100_000 {
                break;
            }
        }
        Ok(answer)
    }

    /// A PATCH of one row, answered as the grid shows rows: saved, or the row as it is now when someone
    /// else changed it first.
    pub async fn update(
        eav: &tessera_core::eav::Eav,
        actor: &tessera_core::events::Actor,
        table: &str,
        id: uuid::Uuid,
        body: &Value,
        columns: &[GridColumn],
    ) -> Result<super::CellSaved, AppError> {
        use super::CellSaved;
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mode = tessera_core::eav::rows::UpdateMode::Merge;
        match eav.update_row(actor, table, id, body, None, mode).await {
            Ok(row) => Ok(CellSaved::Saved(grid_row(&row, &names))),
            Err(tessera_core::Error::Conflict { current: Some(current), .. }) => {
                Ok(CellSaved::Conflict(grid_row(&current, &names)))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The data type of a column (empty for an unknown one: core names it in its error).
    pub fn data_type<'a>(columns: &'a [GridColumn], name: &str) -> &'a str {
        columns.iter().find(|c| c.name == name).map(|c| c.data_type.as_str()).unwrap_or_default()
    }

    /// The `values` object of an update from cell texts; a masked column is refused (its text is the mask).
    pub fn typed_values<'a>(
        columns: &[GridColumn],
        cells: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Result<Value, AppError> {
        let mut values = serde_json::Map::new();
        for (name, text) in cells {
            if columns.iter().any(|c| c.name == name && c.masked) {
                return Err(tessera_core::Error::Forbidden(format!(
                    "the column '{name}' is masked for you; it cannot be edited here"
                ))
                .into());
            }
            values.insert(name.to_owned(), typed(data_type(columns, name), text));
        }
        Ok(Value::Object(values))
    }

    /// A row id from the page.
    pub fn row_id(id: &str) -> Result<uuid::Uuid, AppError> {
        uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::new(ErrorKind::Invalid, "not a row id"))
    }

    /// The query body of a grid view (`{"sort": […], "filter": {…}}`; empty = by id, everything).
    pub fn view_query(view: &str) -> Result<Value, AppError> {
        if view.trim().is_empty() {
            return Ok(serde_json::json!({}));
        }
        match serde_json::from_str::<Value>(view) {
            Ok(Value::Object(mut view)) => {
                let mut body = serde_json::Map::new();
                for key in ["sort", "filter"] {
                    if let Some(part) = view.remove(key).filter(|v| !v.is_null()) {
                        body.insert(key.to_owned(), part);
                    }
                }
                Ok(Value::Object(body))
            }
            _ => Err(AppError::new(ErrorKind::Invalid, "the view must be a JSON object")),
        }
    }

    /// A row of a core answer as grid cells, in `columns` order.
    pub fn grid_row(row: &Value, columns: &[String]) -> GridRow {
        GridRow {
            id: text(&row["id"]),
            version: row["version"].as_i64().unwrap_or(0),
            cells: columns.iter().map(|c| scalar(&row["values"][c.as_str()])).collect(),
            parent: row["parent_row_id"].as_str().map(str::to_owned),
        }
    }

    /// A row of a core answer for the row drawer.
    pub fn record(row: &Value, columns: &[GridColumn]) -> GridRecord {
        let ext = match &row["extended_properties"] {
            Value::Null => serde_json::json!({}),
            other => other.clone(),
        };
        GridRecord {
            id: text(&row["id"]),
            version: row["version"].as_i64().unwrap_or(0),
            code: row["code"].as_str().map(str::to_owned),
            display_value: row["display_value"].as_str().map(str::to_owned),
            parent: row["parent_row_id"].as_str().map(str::to_owned),
            values: columns
                .iter()
                .map(|c| (c.name.clone(), scalar(&row["values"][c.name.as_str()])))
                .collect(),
            extended_properties: serde_json::to_string_pretty(&ext).unwrap_or_default(),
        }
    }
}
