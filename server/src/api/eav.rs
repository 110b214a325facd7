//! Schema and Data endpoints of `spec/api.md`: thin adapters over `tessera_core::eav::Eav`.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
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
use super::problem::Problem;
use crate::router::AppState;

type ApiResult<T = Response> = Result<T, Problem>;

pub fn router(max_batch_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/tables", get(list_tables).post(create_table))
        .route("/tables/{table}", get(get_table).patch(update_table).delete(delete_table))
        .route("/tables/{table}/columns", get(list_columns).post(attach_column))
        .route("/tables/{table}/columns/{column}", get(get_column).patch(update_column).delete(detach_column))
        .route("/columns", get(list_definitions))
        .route("/columns/{name}", get(get_definition).patch(update_definition).delete(delete_definition))
        .route("/data/{table}", get(list_rows).post(create_row))
        .route("/data/{table}/query", post(query_rows))
        .route("/data/{table}/export", post(export).layer(DefaultBodyLimit::max(max_batch_body_bytes)))
        .route("/data/{table}/batch", post(batch).layer(DefaultBodyLimit::max(max_batch_body_bytes)))
        .route("/data/{table}/{id}", get(get_row).put(replace_row).patch(patch_row).delete(delete_row))
        .route("/data/{table}/{id}/children", get(children))
        .route("/data/{table}/{id}/ancestors", get(ancestors))
        .route("/data/{table}/{id}/descendants", get(descendants))
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

async fn list_tables(State(s): State<Services>, ApiQuery(p): ApiQuery<PageParams>) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().list_tables(p.cursor.as_deref(), p.limit).await?))
}

async fn create_table(State(s): State<Services>, Caller(actor): Caller, ApiJson(body): ApiJson) -> ApiResult {
    let table = s.eav().create_table(&actor, &body).await?;
    let name = table["table_name"].as_str().unwrap_or_default().to_owned();
    Ok(created(format!("/api/v1/tables/{name}"), table))
}

async fn get_table(State(s): State<Services>, ApiPath(table): ApiPath<String>) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().get_table(&table).await?))
}

async fn update_table(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().update_table(&actor, &table, &body).await?))
}

async fn delete_table(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.eav().delete_table(&actor, &table).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Columns ----------------------------------------------------------------------------------------------

async fn list_columns(State(s): State<Services>, ApiPath(table): ApiPath<String>) -> ApiResult<Json<Value>> {
    let table = s.eav().get_table(&table).await?;
    Ok(Json(json!({ "items": table["columns"], "next_cursor": null })))
}

async fn attach_column(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult {
    let column = s.eav().attach_column(&actor, &table, &body).await?;
    let name = column["column_name"].as_str().unwrap_or_default().to_owned();
    Ok(created(format!("/api/v1/tables/{table}/columns/{name}"), column))
}

async fn get_column(
    State(s): State<Services>,
    ApiPath((table, column)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().get_column(&table, &column).await?))
}

async fn update_column(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath((table, column)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().update_column(&actor, &table, &column, &body).await?))
}

async fn detach_column(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath((table, column)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.eav().detach_column(&actor, &table, &column).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_definitions(State(s): State<Services>) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().list_definitions().await?))
}

async fn get_definition(State(s): State<Services>, ApiPath(name): ApiPath<String>) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().get_definition(&name).await?))
}

async fn update_definition(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().update_definition(&actor, &name, &body).await?))
}

async fn delete_definition(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.eav().delete_definition(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Rows -------------------------------------------------------------------------------------------------

async fn list_rows(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiQuery(params): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Json<Value>> {
    let eav = s.eav();
    let query = Query::from_params(&params, eav.limits())?;
    Ok(Json(eav.query(&actor, &table, &query).await?))
}

async fn query_rows(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    let eav = s.eav();
    let query = Query::from_json(&body, eav.limits())?;
    Ok(Json(eav.query(&actor, &table, &query).await?))
}

async fn create_row(
    State(s): State<Services>,
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult {
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
    Caller(actor): Caller,
    ApiPath((table, id)): ApiPath<(String, String)>,
) -> ApiResult {
    let row = s.eav().get_row(&actor, &table, parse_id(&id)?).await?;
    Ok(row_response(StatusCode::OK, row))
}

async fn update(
    s: Services,
    actor: Caller,
    table: String,
    id: String,
    headers: HeaderMap,
    body: Value,
    mode: UpdateMode,
) -> ApiResult {
    let expected = if_match(&headers)?;
    let row = s.eav().update_row(&actor.0, &table, parse_id(&id)?, &body, expected, mode).await?;
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
    Caller(actor): Caller,
    ApiPath((table, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    let version = params.version.or(if_match(&headers)?);
    s.eav().delete_row(&actor, &table, parse_id(&id)?, version, params.cascade_children).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn relatives(
    s: Services,
    actor: Caller,
    table: String,
    id: String,
    which: Relatives,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.eav().relatives(&actor.0, &table, parse_id(&id)?, which).await?))
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
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
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
    Caller(actor): Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(mut body): ApiJson,
) -> ApiResult {
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
