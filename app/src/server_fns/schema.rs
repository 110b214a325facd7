//! The schema designer (`schema:manage`): tables (create, describe, delete) and their columns (attach a new
//! definition or one from the attribute library, detach). Each function calls `tessera_core::eav::Eav`, which
//! validates names, types, defaults and rules and answers RFC 9457 field errors.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
    pub columns: Vec<DesignColumn>,
    /// Definitions of the attribute library not attached to this table (to pick from).
    pub library: Vec<String>,
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
    Ok(TableDesign {
        name: server::text(&t["table_name"]),
        description: t["description"].as_str().map(str::to_owned),
        hierarchical: t["is_hierarchical"].as_bool().unwrap_or(false),
        cache_policy: server::text(&t["cache_policy"]),
        version: t["version"].as_i64().unwrap_or(0),
        columns,
        library,
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
) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(server::SCHEMA).await?;
    let mut body = serde_json::json!({
        "column_name": column_name.trim(),
        "is_mandatory": mandatory.is_some(),
        "is_value_unique": unique.is_some(),
    });
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
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

    /// The permission every designer function needs.
    pub const SCHEMA: &str = "schema:manage";
}
