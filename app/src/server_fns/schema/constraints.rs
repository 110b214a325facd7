//! The designer's constraints editor (`schema:manage`): declare a PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK
//! constraint from the form's fields (built into the JSON body of `api.md`), drop one, and parse a CHECK
//! expression as it is typed.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::server as shared;
use crate::errors::AppError;

/// What a foreign key references and how it reacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub table: String,
    pub on_delete: String,
    pub on_update: String,
    /// `SIMPLE` or `FULL`.
    pub match_type: String,
}

/// A declared constraint as the designer lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstraintItem {
    pub name: String,
    /// `PRIMARY KEY`, `UNIQUE`, `FOREIGN KEY` or `CHECK`.
    pub kind: String,
    /// In key order.
    pub columns: Vec<String>,
    pub active: bool,
    /// Keys: whether values compare case-sensitively, and the extended-property paths (with their own flag).
    pub case_sensitive: bool,
    pub json_paths: Vec<(String, bool)>,
    pub references: Option<Reference>,
    /// CHECK: the expression and its error message.
    pub check: Option<(String, Option<String>)>,
}

#[cfg(feature = "ssr")]
impl ConstraintItem {
    /// From a constraint of `Eav::list_constraints`.
    pub fn from_json(c: &serde_json::Value) -> Self {
        let text = |key: &str| shared::text(&c[key]);
        Self {
            name: text("constraint_name"),
            kind: text("constraint_type"),
            columns: shared::array(&c["columns"]).iter().map(shared::text).collect(),
            active: c["is_active"].as_bool().unwrap_or(true),
            case_sensitive: c["case_sensitive"].as_bool().unwrap_or(true),
            json_paths: shared::array(&c["json_properties"])
                .iter()
                .map(|j| (shared::text(&j["path"]), j["case_sensitive"].as_bool().unwrap_or(true)))
                .collect(),
            references: c["referenced_table"].as_str().map(|table| Reference {
                table: table.to_owned(),
                on_delete: text("on_delete"),
                on_update: text("on_update"),
                match_type: text("match_type"),
            }),
            check: c["check_expression"]
                .as_str()
                .map(|e| (e.to_owned(), c["error_message"].as_str().map(str::to_owned))),
        }
    }
}

/// Declares a constraint. `columns` are the ticked columns (table order); `column_order` the same names in
/// the order they were ticked (the hydrated form), which wins when it names the same columns. Keys take
/// `case_sensitive` and comma-separated `json_paths`; foreign keys `referenced_table`, `on_delete`,
/// `on_update` and `match_type`; CHECK `check_expression` and `error_message`. Other fields are ignored.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/fn", endpoint = "schema/declare-constraint")]
pub async fn declare_constraint(
    table: String,
    constraint_name: String,
    constraint_type: String,
    columns: Option<Vec<String>>,
    column_order: Option<String>,
    case_sensitive: Option<String>,
    json_paths: Option<String>,
    referenced_table: Option<String>,
    on_delete: Option<String>,
    on_update: Option<String>,
    match_type: Option<String>,
    check_expression: Option<String>,
    error_message: Option<String>,
) -> Result<(), AppError> {
    use serde_json::json;

    let request = shared::Request::capture()?;
    let (_, actor) = request.caller_with(shared::SCHEMA).await?;
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let name = constraint_name.trim().to_owned();
    let kind = constraint_type.trim().to_uppercase();
    let columns = shared::key_columns(columns.unwrap_or_default(), column_order.as_deref().unwrap_or(""));
    let mut body = json!({ "constraint_name": name, "constraint_type": kind });
    match kind.as_str() {
        "PRIMARY KEY" | "UNIQUE" => {
            let case_sensitive = case_sensitive.is_some();
            body["columns"] = json!(columns);
            body["case_sensitive"] = json!(case_sensitive);
            let paths: Vec<_> = json_paths
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|path| json!({ "path": path, "case_sensitive": case_sensitive }))
                .collect();
            if !paths.is_empty() {
                body["json_properties"] = json!(paths);
            }
        }
        "FOREIGN KEY" => {
            body["columns"] = json!(columns);
            body["referenced_table"] = json!(given(referenced_table));
            body["on_delete"] = json!(given(on_delete));
            body["on_update"] = json!(given(on_update));
            body["match_type"] = json!(given(match_type));
        }
        "CHECK" => {
            body["check_expression"] = json!(check_expression.unwrap_or_default());
            body["error_message"] = json!(given(error_message));
        }
        // Core names what is wrong with the type.
        _ => {}
    }
    let eav = request.services.eav();
    match eav.declare_constraint(&actor, &table, &body).await {
        Ok(_) => {}
        // A taken name, or a second primary key: said at the field that caused it.
        Err(duplicate @ tessera_core::Error::Duplicate(_)) => {
            let taken = eav.get_constraint(&table, &name).await.is_ok();
            return Err(shared::at_field(
                duplicate,
                if taken { "constraint_name" } else { "constraint_type" },
            ));
        }
        Err(other) => return Err(other.into()),
    }
    request.redirect_plain_form(&format!("/schema/{table}"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "schema/drop-constraint")]
pub async fn drop_constraint(table: String, name: String) -> Result<(), AppError> {
    let request = shared::Request::capture()?;
    let (_, actor) = request.caller_with(shared::SCHEMA).await?;
    request.services.eav().drop_constraint(&actor, &table, &name).await?;
    request.redirect_plain_form(&format!("/schema/{table}"));
    Ok(())
}

/// Parses and type-checks a CHECK expression against the table's columns: `None` when it would be accepted,
/// otherwise the parser's message (with the position of a syntax error).
#[server(prefix = "/fn", endpoint = "schema/parse-check")]
pub async fn parse_check_expression(table: String, expression: String) -> Result<Option<String>, AppError> {
    let request = shared::Request::capture()?;
    request.caller_with(shared::SCHEMA).await?;
    match request.services.eav().parse_check(&table, &expression).await {
        Ok(()) => Ok(None),
        Err(tessera_core::Error::BadRequest(errors)) => {
            Ok(Some(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ")))
        }
        Err(other) => Err(other.into()),
    }
}
