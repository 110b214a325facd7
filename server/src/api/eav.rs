//! Schema and Data endpoints of `spec/api.md`: thin adapters over `tessera_core::eav::Eav`.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tessera_core::eav::batch::{ok_item, ItemResult};
use tessera_core::eav::export::{self, Format};
use tessera_core::eav::query::Query;
use tessera_core::eav::rows::{Relatives, UpdateMode};
use tessera_core::Services;
use uuid::Uuid;

use super::extract::{if_match, ApiJson, ApiPath, ApiQuery, Caller};
use super::openapi::Endpoint;
use super::problem::Problem;

type ApiResult<T = Response> = Result<T, Problem>;

/// The Schema and Data endpoints, documented (see `openapi.rs`).
pub fn endpoints(max_batch_body_bytes: usize) -> Vec<Endpoint> {
    const READ: &[u16] = &[400, 404];
    const WRITE: &[u16] = &[400, 404, 409, 413, 415, 422];
    let page: &'static [(&'static str, &'static str)] =
        &[("limit", "page size"), ("cursor", "next_cursor of the previous page")];
    let big = || DefaultBodyLimit::max(max_batch_body_bytes);
    vec![
        Endpoint {
            method: "get",
            path: "/tables",
            tag: "Schema",
            summary: "List tables",
            request: None,
            ok: (200, Some("TableList")),
            query: page,
            errors: &[400],
            handler: get(list_tables),
        },
        Endpoint {
            method: "post",
            path: "/tables",
            tag: "Schema",
            summary: "Create a table",
            request: Some("TableCreate"),
            ok: (201, Some("Table")),
            query: &[],
            errors: WRITE,
            handler: post(create_table),
        },
        Endpoint {
            method: "get",
            path: "/tables/{table}",
            tag: "Schema",
            summary: "Describe a table",
            request: None,
            ok: (200, Some("Table")),
            query: &[],
            errors: READ,
            handler: get(get_table),
        },
        Endpoint {
            method: "patch",
            path: "/tables/{table}",
            tag: "Schema",
            summary: "Rename or change a table",
            request: Some("TableUpdate"),
            ok: (200, Some("Table")),
            query: &[],
            errors: WRITE,
            handler: patch(update_table),
        },
        Endpoint {
            method: "delete",
            path: "/tables/{table}",
            tag: "Schema",
            summary: "Delete a table and all its rows",
            request: None,
            ok: (204, None),
            query: &[],
            errors: READ,
            handler: delete(delete_table),
        },
        Endpoint {
            method: "get",
            path: "/tables/{table}/columns",
            tag: "Schema",
            summary: "List a table's columns",
            request: None,
            ok: (200, Some("ColumnList")),
            query: &[],
            errors: READ,
            handler: get(list_columns),
        },
        Endpoint {
            method: "post",
            path: "/tables/{table}/columns",
            tag: "Schema",
            summary: "Attach a column (new or from the attribute library)",
            request: Some("ColumnCreate"),
            ok: (201, Some("Column")),
            query: &[],
            errors: WRITE,
            handler: post(attach_column),
        },
        Endpoint {
            method: "get",
            path: "/tables/{table}/columns/{column}",
            tag: "Schema",
            summary: "Describe a column",
            request: None,
            ok: (200, Some("Column")),
            query: &[],
            errors: READ,
            handler: get(get_column),
        },
        Endpoint {
            method: "patch",
            path: "/tables/{table}/columns/{column}",
            tag: "Schema",
            summary: "Change a column's attachment (mandatory, unique, rule, order)",
            request: Some("ColumnUpdate"),
            ok: (200, Some("Column")),
            query: &[],
            errors: WRITE,
            handler: patch(update_column),
        },
        Endpoint {
            method: "delete",
            path: "/tables/{table}/columns/{column}",
            tag: "Schema",
            summary: "Detach a column (its values in this table are deleted)",
            request: None,
            ok: (204, None),
            query: &[],
            errors: READ,
            handler: delete(detach_column),
        },
        Endpoint {
            method: "get",
            path: "/tables/{table}/constraints",
            tag: "Constraints",
            summary: "List a table's constraints",
            request: None,
            ok: (200, Some("ConstraintList")),
            query: &[],
            errors: READ,
            handler: get(list_constraints),
        },
        Endpoint {
            method: "post",
            path: "/tables/{table}/constraints",
            tag: "Constraints",
            summary: "Declare a PRIMARY KEY, UNIQUE or CHECK constraint (existing rows must satisfy it)",
            request: Some("ConstraintCreate"),
            ok: (201, Some("Constraint")),
            query: &[],
            errors: WRITE,
            handler: post(declare_constraint),
        },
        Endpoint {
            method: "get",
            path: "/tables/{table}/constraints/{name}",
            tag: "Constraints",
            summary: "Describe a constraint",
            request: None,
            ok: (200, Some("Constraint")),
            query: &[],
            errors: READ,
            handler: get(get_constraint),
        },
        Endpoint {
            method: "patch",
            path: "/tables/{table}/constraints/{name}",
            tag: "Constraints",
            summary: "Enable or disable a constraint",
            request: Some("ConstraintUpdate"),
            ok: (200, Some("Constraint")),
            query: &[],
            errors: WRITE,
            handler: patch(update_constraint),
        },
        Endpoint {
            method: "delete",
            path: "/tables/{table}/constraints/{name}",
            tag: "Constraints",
            summary: "Drop a constraint",
            request: None,
            ok: (204, None),
            query: &[],
            errors: READ,
            handler: delete(drop_constraint),
        },
        Endpoint {
            method: "get",
            path: "/columns",
            tag: "Attribute library",
            summary: "List column definitions",
            request: None,
            ok: (200, Some("DefinitionList")),
            query: &[],
            errors: &[],
            handler: get(list_definitions),
        },
        Endpoint {
            method: "get",
            path: "/columns/{name}",
            tag: "Attribute library",
            summary: "Describe a column definition",
            request: None,
            ok: (200, Some("Definition")),
            query: &[],
            errors: READ,
            handler: get(get_definition),
        },
        Endpoint {
            method: "patch",
            path: "/columns/{name}",
            tag: "Attribute library",
            summary: "Change a definition for every table using it",
            request: Some("DefinitionUpdate"),
            ok: (200, Some("Definition")),
            query: &[],
            errors: WRITE,
            handler: patch(update_definition),
        },
        Endpoint {
            method: "delete",
            path: "/columns/{name}",
            tag: "Attribute library",
            summary: "Delete an unused definition",
            request: None,
            ok: (204, None),
            query: &[],
            errors: &[404, 422],
            handler: delete(delete_definition),
        },
        Endpoint {
            method: "get",
            path: "/data/{table}",
            tag: "Data",
            summary: "List rows (filter, sort, keyset pages)",
            request: None,
            ok: (200, Some("Page")),
            query: &[
                ("filter", "URL-encoded JSON filter"),
                ("sort", "e.g. title,-year"),
                ("columns", "comma-separated projection"),
                ("limit", "page size"),
                ("cursor", "next_cursor of the previous page"),
                ("offset", "rows to skip (instead of cursor)"),
                ("include_total", "exact | estimate"),
            ],
            errors: READ,
            handler: get(list_rows),
        },
        Endpoint {
            method: "post",
            path: "/data/{table}",
            tag: "Data",
            summary: "Create a row",
            request: Some("RowCreate"),
            ok: (201, Some("Row")),
            query: &[],
            errors: WRITE,
            handler: post(create_row),
        },
        Endpoint {
            method: "post",
            path: "/data/{table}/query",
            tag: "Data",
            summary: "Query rows",
            request: Some("Query"),
            ok: (200, Some("Page")),
            query: &[],
            errors: READ,
            handler: post(query_rows),
        },
        Endpoint {
            method: "post",
            path: "/data/{table}/export",
            tag: "Data",
            summary: "Export a query as CSV, JSON or XLSX (streamed)",
            request: Some("Export"),
            ok: (200, None),
            query: &[],
            errors: READ,
            handler: post(export).layer(big()),
        },
        Endpoint {
            method: "post",
            path: "/data/{table}/batch",
            tag: "Data",
            summary: "Apply up to 1,000 operations in order",
            request: Some("Batch"),
            ok: (200, Some("BatchResults")),
            query: &[],
            errors: WRITE,
            handler: post(batch).layer(big()),
        },
        Endpoint {
            method: "get",
            path: "/data/{table}/{id}",
            tag: "Data",
            summary: "Read a row (ETag = version)",
            request: None,
            ok: (200, Some("Row")),
            query: &[],
            errors: READ,
            handler: get(get_row),
        },
        Endpoint {
            method: "put",
            path: "/data/{table}/{id}",
            tag: "Data",
            summary: "Replace a row (version or If-Match required)",
            request: Some("RowUpdate"),
            ok: (200, Some("Row")),
            query: &[],
            errors: WRITE,
            handler: put(replace_row),
        },
        Endpoint {
            method: "patch",
            path: "/data/{table}/{id}",
            tag: "Data",
            summary: "Patch a row (merge; version or If-Match required)",
            request: Some("RowUpdate"),
            ok: (200, Some("Row")),
            query: &[],
            errors: WRITE,
            handler: patch(patch_row),
        },
        Endpoint {
            method: "delete",
            path: "/data/{table}/{id}",
            tag: "Data",
            summary: "Delete a row",
            request: None,
            ok: (204, None),
            query: &[("version", "expected version"), ("cascade_children", "delete the subtree too")],
            errors: &[400, 404, 409, 422],
            handler: delete(delete_row),
        },
        Endpoint {
            method: "get",
            path: "/data/{table}/{id}/children",
            tag: "Data",
            summary: "Direct children of a row",
            request: None,
            ok: (200, Some("RowList")),
            query: &[],
            errors: READ,
            handler: get(children),
        },
        Endpoint {
            method: "get",
            path: "/data/{table}/{id}/ancestors",
            tag: "Data",
            summary: "Path from the parent to the root",
            request: None,
            ok: (200, Some("RowList")),
            query: &[],
            errors: READ,
            handler: get(ancestors),
        },
        Endpoint {
            method: "get",
            path: "/data/{table}/{id}/descendants",
            tag: "Data",
            summary: "The whole subtree",
            request: None,
            ok: (200, Some("RowList")),
            query: &[],
            errors: READ,
            handler: get(descendants),
        },
    ]
}

/// Designing tables, columns and constraints.
const SCHEMA: &str = "schema:manage";

/// The row actions a batch body asks for (`create`, `update`, `delete`), each once.
fn batch_actions(body: &Value) -> Vec<&'static str> {
    let mut actions = Vec::new();
    for op in body.get("operations").and_then(Value::as_array).into_iter().flatten() {
        let action = match op.get("op").and_then(Value::as_str) {
            Some("update") => "update",
            Some("delete") => "delete",
            _ => "create",
        };
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    actions
}

fn created(location: String, body: Value) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn parse_id(text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| Problem::bad_field("id", format!("'{text}' is not a row id (UUID)")))
}

/// A row with its version as the ETag.
fn row_response(status: StatusCode, row: Value) -> Response {
    let etag = row.get("version").and_then(Value::as_i64).map(|v| format!("\"{v}\""));
    let mut response = (status, Json(row)).into_response();
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

// --- Tables ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageParams {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Tables the caller may read (all of them with `table:*:read`; else those with a per-table grant).
async fn list_tables(
    State(s): State<Services>,
    caller: Caller,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Value>> {
    let mut page = s.eav().list_tables(p.cursor.as_deref(), p.limit).await?;
    caller.keep_readable_tables(&mut page).await?;
    Ok(Json(page))
}

async fn create_table(State(s): State<Services>, caller: Caller, ApiJson(body): ApiJson) -> ApiResult {
    caller.require(SCHEMA).await?;
    let table = s.eav().create_table(&caller.actor, &body).await?;
    let name = table["table_name"].as_str().unwrap_or_default().to_owned();
    Ok(created(format!("/api/v1/tables/{name}"), table))
}

async fn get_table(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.table(&table, "read").await?;
    Ok(Json(s.eav().get_table(&table).await?))
}

async fn update_table(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    Ok(Json(s.eav().update_table(&actor, &table, &body).await?))
}

async fn delete_table(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    s.eav().delete_table(&actor, &table).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Columns ----------------------------------------------------------------------------------------------

async fn list_columns(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.table(&table, "read").await?;
    let table = s.eav().get_table(&table).await?;
    Ok(Json(json!({ "items": table["columns"], "next_cursor": null })))
}

async fn attach_column(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    let column = s.eav().attach_column(&actor, &table, &body).await?;
    let name = column["column_name"].as_str().unwrap_or_default().to_owned();
    Ok(created(format!("/api/v1/tables/{table}/columns/{name}"), column))
}

async fn get_column(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, column)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.table(&table, "read").await?;
    Ok(Json(s.eav().get_column(&table, &column).await?))
}

async fn update_column(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, column)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    Ok(Json(s.eav().update_column(&actor, &table, &column, &body).await?))
}

async fn detach_column(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, column)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    s.eav().detach_column(&actor, &table, &column).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Constraints ------------------------------------------------------------------------------------------

async fn list_constraints(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.table(&table, "read").await?;
    Ok(Json(s.eav().list_constraints(&table).await?))
}

async fn declare_constraint(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    let constraint = s.eav().declare_constraint(&actor, &table, &body).await?;
    let name = constraint["constraint_name"].as_str().unwrap_or_default().to_owned();
    Ok(created(format!("/api/v1/tables/{table}/constraints/{name}"), constraint))
}

async fn get_constraint(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, name)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.table(&table, "read").await?;
    Ok(Json(s.eav().get_constraint(&table, &name).await?))
}

async fn update_constraint(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    Ok(Json(s.eav().update_constraint(&actor, &table, &name, &body).await?))
}

async fn drop_constraint(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    s.eav().drop_constraint(&actor, &table, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_definitions(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(SCHEMA).await?;
    Ok(Json(s.eav().list_definitions().await?))
}

async fn get_definition(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(SCHEMA).await?;
    Ok(Json(s.eav().get_definition(&name).await?))
}

async fn update_definition(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    Ok(Json(s.eav().update_definition(&actor, &name, &body).await?))
}

async fn delete_definition(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(SCHEMA).await?;
    let actor = caller.actor;
    s.eav().delete_definition(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Rows -------------------------------------------------------------------------------------------------

async fn list_rows(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiQuery(params): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Json<Value>> {
    let actor = caller.table(&table, "read").await?;
    let eav = s.eav();
    let query = Query::from_params(&params, eav.limits())?;
    Ok(Json(eav.query(&actor, &table, &query).await?))
}

async fn query_rows(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    let actor = caller.table(&table, "read").await?;
    let eav = s.eav();
    let query = Query::from_json(&body, eav.limits())?;
    Ok(Json(eav.query(&actor, &table, &query).await?))
}

async fn create_row(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult {
    let actor = caller.table(&table, "create").await?;
    let row = s.eav().create_row(&actor, &table, &body).await?;
    let id = row["id"].as_str().unwrap_or_default().to_owned();
    let mut response = row_response(StatusCode::CREATED, row);
    if let Ok(value) = HeaderValue::from_str(&format!("/api/v1/data/{table}/{id}")) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn get_row(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, id)): ApiPath<(String, String)>,
) -> ApiResult {
    let actor = caller.table(&table, "read").await?;
    let row = s.eav().get_row(&actor, &table, parse_id(&id)?).await?;
    Ok(row_response(StatusCode::OK, row))
}

async fn update(
    s: Services,
    caller: Caller,
    table: String,
    id: String,
    headers: HeaderMap,
    body: Value,
    mode: UpdateMode,
) -> ApiResult {
    let actor = caller.table(&table, "update").await?;
    let expected = if_match(&headers)?;
    let row = s.eav().update_row(&actor, &table, parse_id(&id)?, &body, expected, mode).await?;
    Ok(row_response(StatusCode::OK, row))
}

async fn replace_row(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson,
) -> ApiResult {
    update(s, caller, table, id, headers, body, UpdateMode::Replace).await
}

async fn patch_row(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson,
) -> ApiResult {
    update(s, caller, table, id, headers, body, UpdateMode::Merge).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteParams {
    version: Option<i32>,
    #[serde(default)]
    cascade_children: bool,
}

async fn delete_row(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((table, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    let actor = caller.table(&table, "delete").await?;
    let version = params.version.or(if_match(&headers)?);
    s.eav().delete_row(&actor, &table, parse_id(&id)?, version, params.cascade_children).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn relatives(
    s: Services,
    caller: Caller,
    table: String,
    id: String,
    which: Relatives,
) -> ApiResult<Json<Value>> {
    let actor = caller.table(&table, "read").await?;
    Ok(Json(s.eav().relatives(&actor, &table, parse_id(&id)?, which).await?))
}

async fn children(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((t, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    relatives(s, caller, t, id, Relatives::Children).await
}

async fn ancestors(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((t, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    relatives(s, caller, t, id, Relatives::Ancestors).await
}

async fn descendants(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((t, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    relatives(s, caller, t, id, Relatives::Descendants).await
}

/// Batch: 200 with per-item results (`continue`, or `all_or_nothing` that succeeded); an
/// `all_or_nothing` failure is the failing operation's error (422/400/404/409), nothing applied.
async fn batch(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    let mut actor = None;
    for action in batch_actions(&body) {
        actor = Some(caller.table(&table, action).await?);
    }
    let actor = match actor {
        Some(actor) => actor,
        None => caller.table(&table, "create").await?,
    };
    let outcome = s.eav().batch(&actor, &table, &body).await?;
    let results: Vec<Value> = outcome
        .results
        .into_iter()
        .map(|item| match item {
            ItemResult::Ok(row) => ok_item(row),
            ItemResult::Failed(error) => json!({ "ok": false, "error": Problem::from(error) }),
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

/// Export: the query body plus `format` (csv, json, xlsx). CSV and JSON stream page by page; the first page
/// is read before answering, so a bad query is still a proper problem response.
async fn export(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(mut body): ApiJson,
) -> ApiResult {
    let actor = caller.table(&table, "read").await?;
    let format = match body.as_object_mut().and_then(|o| o.remove("format")) {
        Some(Value::String(f)) => Format::parse(&f)?,
        None => Format::Csv,
        Some(_) => return Err(Problem::bad_field("format", "expected csv, json or xlsx")),
    };
    let eav = s.eav();
    let mut query = Query::from_json(&body, eav.limits())?;
    let columns = eav.export_columns(&table, &query).await?;
    let mut done = false;
    let first = eav.export_next(&actor, &table, &mut query, &mut done).await?.unwrap_or_default();
    let disposition = format!("attachment; filename=\"{table}.{}\"", format.extension());
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
    ];

    if format == Format::Xlsx {
        let mut rows = first;
        while let Some(page) = eav.export_next(&actor, &table, &mut query, &mut done).await? {
            rows.extend(page);
        }
        let bytes = export::xlsx(&columns, &rows)?;
        return Ok((headers, bytes).into_response());
    }

    let head = match format {
        Format::Csv => export::csv_header(&columns),
        _ => "[".to_owned(),
    };
    let encode = move |rows: &[Value], first_chunk: bool, columns: &[String]| -> String {
        match format {
            Format::Csv => rows.iter().map(|r| export::csv_line(&export::cells(r, columns))).collect(),
            _ => {
                let parts: Vec<String> = rows.iter().map(Value::to_string).collect();
                let sep = if first_chunk || parts.is_empty() { "" } else { "," };
                format!("{sep}{}", parts.join(","))
            }
        }
    };
    let first_body = format!("{head}{}", encode(&first, true, &columns));
    let first_had_rows = !first.is_empty();
    let state = (eav, actor, table, query, done, columns, first_had_rows, false);
    let rest = futures::stream::unfold(
        state,
        move |(eav, actor, table, mut query, mut done, columns, any, finished)| async move {
            if finished {
                return None;
            }
            match eav.export_next(&actor, &table, &mut query, &mut done).await {
                Ok(Some(rows)) => {
                    let chunk = encode(&rows, !any, &columns);
                    let any = any || !rows.is_empty();
                    Some((
                        Ok::<_, std::io::Error>(chunk),
                        (eav, actor, table, query, done, columns, any, false),
                    ))
                }
                Ok(None) => {
                    let tail = if format == Format::Json { "]".to_owned() } else { String::new() };
                    Some((Ok(tail), (eav, actor, table, query, done, columns, any, true)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "export failed mid-stream");
                    Some((
                        Err(std::io::Error::other(e.to_string())),
                        (eav, actor, table, query, done, columns, any, true),
                    ))
                }
            }
        },
    );
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(first_body) }).chain(rest);
    Ok((headers, axum::body::Body::from_stream(stream)).into_response())
}
