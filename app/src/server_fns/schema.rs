//! The schema designer (`schema:manage`): tables (create, rename, describe, settings, delete), their columns
//! (attach a new definition or one from the attribute library, reorder, detach) and constraints
//! ([`constraints`]). Each function calls `tessera_core::eav::Eav`, which validates names, types, defaults and
//! rules and answers RFC 9457 field errors.

pub mod constraints;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use self::constraints::ConstraintItem;
use crate::errors::AppError;

/// A column as the designer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignColumn {
    pub name: String,
    pub data_type: String,
    pub mandatory: bool,
    pub unique: bool,
    pub default_value: Option<String>,
    /// `enum`, `range`, `email`, … with its parameters as JSON.
    pub rule: Option<String>,
    pub masking: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub description: Option<String>,
    pub columns: usize,
    pub hierarchical: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDesign {
    pub name: String,
    pub description: Option<String>,
    pub hierarchical: bool,
    pub cache_policy: String,
    pub version: i64,
    /// In display order.
    pub columns: Vec<DesignColumn>,
    /// Definitions of the attribute library not attached to this table (to pick from).
    pub library: Vec<String>,
    pub constraints: Vec<ConstraintItem>,
    /// Every table of the workspace (what a foreign key may reference).
    pub tables: Vec<String>,
}

#[server(prefix = "/fn", endpoint = "schema/tables")]
pub async fn get_schema_tables() -> Result<Vec<TableSummary>, AppError> {
    let request = server::Request::capture()?;
    request.caller_with(server::SCHEMA).await?;
    let eav = request.services.eav();
    let page = eav.list_tables(None, Some(request.services.config.limits.max_page_size)).await?;
    Ok(server::items(&page)
        .iter()
        .map(|t| TableSummary {
            name: server::text(&t["table_name"]),
            description: t["description"].as_str().map(str::to_owned),
            columns: t["columns"].as_array().map_or(0, Vec::len),
            hierarchical: t["is_hierarchical"].as_bool().unwrap_or(false),
        })
        .collect())
}

/// A table of the ER diagram: its columns (name, type, part of the primary key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagramTable {
    pub name: String,
    pub columns: Vec<(String, String, bool)>,
}

/// A foreign key: the child table and columns, the referenced table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagramLink {
    pub from: String,
    pub columns: Vec<String>,
    pub to: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagram {
    pub tables: Vec<DiagramTable>,
    pub links: Vec<DiagramLink>,
}

/// Every table with its columns and foreign keys, for the ER diagram.
#[server(prefix = "/fn", endpoint = "schema/diagram")]
pub async fn get_diagram() -> Result<Diagram, AppError> {
    let request = server::Request::capture()?;
    request.caller_with(server::SCHEMA).await?;
    let eav = request.services.eav();
    let page = eav.list_tables(None, Some(request.services.config.limits.max_page_size)).await?;
    let mut diagram = Diagram { tables: Vec::new(), links: Vec::new() };
    for listed in server::items(&page) {
        let t = eav.get_table(&server::text(&listed["table_name"])).await?;
        let name = server::text(&t["table_name"]);
        let constraints = server::array(&t["constraints"]);
        let key: Vec<String> = constraints
            .iter()
            .filter(|c| c["constraint_type"] == "PRIMARY KEY")
            .flat_map(|c| server::array(&c["columns"]))
            .map(|c| server::text(&c))
            .collect();
        let columns = server::array(&t["columns"])
            .iter()
            .map(|c| {
                let column = server::text(&c["column_name"]);
                let in_key = key.contains(&column);
                (column, server::text(&c["data_type"]), in_key)
            })
            .collect();
        for fk in constraints.iter().filter(|c| c["constraint_type"] == "FOREIGN KEY") {
            diagram.links.push(DiagramLink {
                from: name.clone(),
                columns: server::array(&fk["columns"]).iter().map(server::text).collect(),
                to: server::text(&fk["referenced_table"]),
                name: server::text(&fk["constraint_name"]),
            });
        }
        diagram.tables.push(DiagramTable { name, columns });
    }
    Ok(diagram)
}

#[server(prefix = "/fn", endpoint = "schema/table")]
pub async fn get_design(table: String) -> Result<TableDesign, AppError> {
    let request = server::Request::capture()?;
    request.caller_with(server::SCHEMA).await?;
    let eav = request.services.eav();
    let t = eav.get_table(&table).await?;
    let columns: Vec<DesignColumn> = server::array(&t["columns"])
        .iter()
        .map(|c| DesignColumn {
            name: server::text(&c["column_name"]),
            data_type: server::text(&c["data_type"]),
            mandatory: c["is_mandatory"].as_bool().unwrap_or(false),
            unique: c["is_value_unique"].as_bool().unwrap_or(false),
            default_value: server::scalar(&c["default_value"]),
            rule: c["validation_rule_type"].as_str().map(|kind| {
                format!("{kind} {}", c["validation_parameters"]).trim_end_matches(" null").to_owned()
            }),
            masking: c["masking_rule"].as_str().map(str::to_owned),
            description: c["description"].as_str().map(str::to_owned),
        })
        .collect();
    let library = server::items(&eav.list_definitions().await?)
        .iter()
        .map(|d| server::text(&d["column_name"]))
        .filter(|name| !columns.iter().any(|c| &c.name == name))
        .collect();
    let constraints =
        server::items(&eav.list_constraints(&table).await?).iter().map(ConstraintItem::from_json).collect();
    let tables =
        server::items(&eav.list_tables(None, Some(request.services.config.limits.max_page_size)).await?)
            .iter()
            .map(|t| server::text(&t["table_name"]))
            .collect();
    Ok(TableDesign {
        name: server::text(&t["table_name"]),
        description: t["description"].as_str().map(str::to_owned),
        hierarchical: t["is_hierarchical"].as_bool().unwrap_or(false),
        cache_policy: server::text(&t["cache_policy"]),
        version: t["version"].as_i64().unwrap_or(0),
        columns,
        library,
        constraints,
        tables,
    })
}

/// Creates a table; answers the designer's path for it (a plain form is redirected there).
#[server(prefix = "/fn", endpoint = "schema/create-table")]
pub async fn create_table(
    table_name: String,
    description: String,
    hierarchical: Option<String>,
) -> Result<String, AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    let body = serde_json::json!({
        "table_name": table_name.trim(),
        "description": Some(description.trim()).filter(|d| !d.is_empty()),
        "is_hierarchical": hierarchical.is_some(),
    });
    request.services.eav().create_table(&actor, &body).await?;
    let path = format!("/schema/{}", table_name.trim());
    request.redirect_plain_form(&path);
    Ok(path)
}

/// Renames a table and sets its description, hierarchical flag and cache policy (`None`, `FullTable`,
/// `IndividualRows`); answers the designer's path under the (new) name (a plain form is redirected there).
#[server(prefix = "/fn", endpoint = "schema/settings")]
pub async fn update_table_settings(
    table: String,
    table_name: String,
    description: String,
    hierarchical: Option<String>,
    cache_policy: String,
) -> Result<String, AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    let mut body = serde_json::json!({
        "description": Some(description.trim()).filter(|d| !d.is_empty()),
        "is_hierarchical": hierarchical.is_some(),
        "cache_policy": cache_policy,
    });
    let new_name = table_name.trim();
    if new_name != table {
        body["table_name"] = serde_json::json!(new_name);
    }
    let updated = match request.services.eav().update_table(&actor, &table, &body).await {
        Ok(updated) => updated,
        // The name is taken: say so at the name.
        Err(duplicate @ tessera_core::Error::Duplicate(_)) => {
            return Err(server::at_field(duplicate, "table_name"))
        }
        Err(other) => return Err(other.into()),
    };
    let path = format!("/schema/{}", server::text(&updated["table_name"]));
    request.redirect_plain_form(&path);
    Ok(path)
}

/// Moves a column to `position` (0-based, clamped) of the table's display order by rewriting the
/// `display_order` of the columns whose place changes; answers the column names in their new order.
#[server(prefix = "/fn", endpoint = "schema/move-column")]
pub async fn move_column(table: String, column: String, position: usize) -> Result<Vec<String>, AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    let eav = request.services.eav();
    let described = eav.get_table(&table).await?;
    let current: Vec<(String, i64)> = server::array(&described["columns"])
        .iter()
        .map(|c| (server::text(&c["column_name"]), c["display_order"].as_i64().unwrap_or_default()))
        .collect();
    if !current.iter().any(|(name, _)| *name == column) {
        return Err(AppError::new(
            crate::errors::ErrorKind::NotFound,
            format!("table '{table}' has no column '{column}'"),
        ));
    }
    let mut order: Vec<String> =
        current.iter().map(|(name, _)| name.clone()).filter(|name| *name != column).collect();
    order.insert(position.min(order.len()), column);
    for (place, name) in (1_i64..).zip(&order) {
        if current.iter().any(|(n, o)| n == name && *o != place) {
            eav.update_column(&actor, &table, name, &serde_json::json!({ "display_order": place })).await?;
        }
    }
    request.redirect_plain_form(&format!("/schema/{table}"));
    Ok(order)
}

#[server(prefix = "/fn", endpoint = "schema/delete-table")]
pub async fn delete_table(table: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    request.services.eav().delete_table(&actor, &table).await?;
    request.redirect_plain_form("/schema");
    Ok(())
}

/// Attaches a column: a new definition (`data_type` given) or one of the library (`data_type` empty).
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/fn", endpoint = "schema/attach")]
pub async fn attach_column(
    table: String,
    column_name: String,
    data_type: String,
    mandatory: Option<String>,
    unique: Option<String>,
    default_value: String,
    masking_rule: String,
    description: String,
    validation_rule: String,
    validation_parameters: String,
) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    let mut body = serde_json::json!({
        "column_name": column_name.trim(),
        "is_mandatory": mandatory.is_some(),
        "is_value_unique": unique.is_some(),
    });
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    // The rule belongs to the attachment (also when the definition comes from the library).
    if let Some(rule) = given(&validation_rule) {
        body["validation_rule_type"] = serde_json::json!(rule);
        if let Some(parameters) = given(&validation_parameters) {
            body["validation_parameters"] = serde_json::from_str(&parameters).map_err(|e| {
                let message = format!("not valid JSON: {e}");
                let mut error = AppError::new(crate::errors::ErrorKind::Invalid, message.clone());
                error
                    .fields
                    .push(crate::errors::FieldMessage { field: "validation_parameters".into(), message });
                error
            })?;
        }
    }
    if let Some(data_type) = given(&data_type) {
        body["data_type"] = serde_json::json!(data_type);
        if let Some(default) = given(&default_value) {
            body["default_value"] = crate::server_fns::data::server::typed(&data_type, Some(&default));
        }
        if let Some(masking) = given(&masking_rule) {
            body["masking_rule"] = serde_json::json!(masking);
        }
        if let Some(description) = given(&description) {
            body["description"] = serde_json::json!(description);
        }
    }
    request.services.eav().attach_column(&actor, &table, &body).await?;
    request.redirect_plain_form(&format!("/schema/{table}"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "schema/detach")]
pub async fn detach_column(table: String, column: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    request.services.eav().detach_column(&actor, &table, &column).await?;
    request.redirect_plain_form(&format!("/schema/{table}"));
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    pub use super::super::request::{array, items, scalar, text, Request};
    use crate::errors::{AppError, ErrorKind, FieldMessage};

    /// The permission every designer function needs.
    pub const SCHEMA: &str = "schema:manage";

    /// A core error shown at one field of the designer's form (a taken name is a 409 without a field).
    pub fn at_field(error: tessera_core::Error, field: &str) -> AppError {
        let mut error = AppError::from(error);
        error.kind = ErrorKind::Invalid;
        error.fields.push(FieldMessage { field: field.to_owned(), message: error.message.clone() });
        error
    }

    /// A key's columns: in the order they were ticked (`order`, comma-separated) when that names exactly the
    /// ticked ones, else as ticked (table order).
    pub fn key_columns(ticked: Vec<String>, order: &str) -> Vec<String> {
        let ordered: Vec<String> =
            order.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        if ordered.len() == ticked.len() && ticked.iter().all(|c| ordered.contains(c)) {
            ordered
        } else {
            ticked
        }
    }
}
