//! The OpenAPI 3.1 document, generated from the same endpoint table that builds the `/api/v1` router, so a
//! route cannot exist without its documentation (or the reverse). Schemas are JSON Schema 2020-12.

use axum::routing::MethodRouter;
use serde_json::{json, Map, Value};

use crate::router::AppState;

/// One documented operation and its handler.
pub struct Endpoint {
    pub method: &'static str,
    /// Path below `/api/v1`, with `{param}` segments.
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Component schema of the JSON request body.
    pub request: Option<&'static str>,
    /// Success status and component schema of its body (`None`: no body).
    pub ok: (u16, Option<&'static str>),
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// Error statuses this operation answers with problem JSON.
    pub errors: &'static [u16],
    pub handler: MethodRouter<AppState>,
}

/// The operations anonymous callers may use (spec: login, passkey sign-in, refresh, password reset, setup,
/// enrollment redemption); every other operation needs a bearer token or the session cookie.
pub const PUBLIC: &[(&str, &str)] = &[
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/password/reset/request"),
    ("post", "/auth/password/reset/confirm"),
    ("get", "/auth/setup"),
    ("post", "/auth/setup"),
    ("post", "/auth/enroll/start"),
    ("post", "/auth/enroll/finish"),
    ("post", "/auth/passkey/authenticate/start"),
    ("post", "/auth/passkey/authenticate/finish"),
];

/// Is this operation open to anonymous callers?
pub fn is_public(method: &str, path: &str) -> bool {
    PUBLIC.iter().any(|(m, p)| *m == method && *p == path)
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request: bad JSON, unknown field, bad filter, cursor or parameter",
        404 => "The table, column or row does not exist",
        409 => "Version conflict (the body carries `current`) or a duplicate schema name",
        413 => "The body exceeds the configured limit",
        415 => "The body is not application/json",
        422 => "Validation or constraint violation (type, mandatory, rule, unique, hierarchy)",
        401 => "Not signed in: no, an invalid or an expired token (or wrong credentials)",
        403 => "Signed in, but a permission is missing (the detail names it)",
        429 => "Rate limited or account locked (see Retry-After)",
        _ => "Error",
    }
}

/// The document for `endpoints`.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths = Map::new();
    for e in endpoints {
        let mut parameters: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        parameters.extend(
            e.query
                .iter()
                .map(|(name, description)| json!({ "name": name, "in": "query", "description": description, "schema": { "type": "string" } })),
        );
        let mut responses = Map::new();
        let (status, body) = e.ok;
        responses.insert(
            status.to_string(),
            match body {
                Some(schema) => json!({ "description": "Success", "content": { "application/json": { "schema": reference(schema) } } }),
                None => json!({ "description": "Success" }),
            },
        );
        let public = is_public(e.method, e.path);
        let guard: &[u16] = if public { &[429] } else { &[401, 403, 429] };
        for status in e.errors.iter().chain(guard).chain([500u16].iter()) {
            responses.insert(
                status.to_string(),
                json!({
                    "description": error_description(*status),
                    "content": { "application/problem+json": { "schema": reference("Problem") } }
                }),
            );
        }
        let mut operation = json!({
            "tags": [e.tag],
            "summary": e.summary,
            "operationId": format!("{}_{}", e.method, e.path.replace(['/', '{', '}'], "_").trim_matches('_')),
            "parameters": parameters,
            "responses": responses,
        });
        if !public {
            operation["security"] = json!([{ "bearer": [] }, { "cookie": [] }]);
        }
        if let Some(schema) = e.request {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": reference(schema) } } });
        }
        let entry = paths.entry(format!("/api/v1{}", e.path)).or_insert_with(|| json!({}));
        entry[e.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Tessera API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Logical tables on a hybrid EAV store. Errors are RFC 9457 problem JSON; decimals are strings; \
                            timestamps RFC 3339 UTC; lists use keyset pagination (`limit`, `cursor`, `next_cursor`)."
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer",
                            "description": "A JWT access token from /auth/login, or an API token (tsk_…)" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "tessera_access",
                            "description": "The browser session (unsafe methods also need a same-origin Origin)" }
            }
        },
    })
}

fn schemas() -> Value {
    let nullable_string = json!({ "type": ["string", "null"] });
    let data_type = json!({ "enum": ["String", "Text", "Int", "Decimal", "Boolean", "Date", "DateTime"] });
    let rule = json!({ "enum": ["email", "url", "regex", "range", "length", "enum", null] });
    let filter = json!({
        "description": "A condition {field, op, value, case_insensitive?} or a group {and: [...]} / {or: [...]}",
        "oneOf": [
            { "type": "object", "required": ["field", "op"], "properties": {
                "field": { "type": "string", "description": "promoted field, column name, or ext.<json.path>" },
                "op": { "enum": ["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "starts_with", "is_null", "between"] },
                "value": {}, "case_insensitive": { "type": "boolean" } }, "additionalProperties": false },
            { "type": "object", "required": ["and"], "properties": { "and": { "type": "array", "items": { "$ref": "#/components/schemas/Filter" } } }, "additionalProperties": false },
            { "type": "object", "required": ["or"], "properties": { "or": { "type": "array", "items": { "$ref": "#/components/schemas/Filter" } } }, "additionalProperties": false }
        ]
    });
    let column = json!({ "type": "object", "properties": {
        "column_name": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$" }, "data_type": data_type,
        "is_mandatory": { "type": "boolean" }, "is_value_unique": { "type": "boolean" }, "default_value": {},
        "validation_rule_type": rule, "validation_parameters": { "type": ["object", "null"] },
        "masking_rule": { "type": ["string", "null"], "description": "none | full | partial:<n> | email | hash" },
        "display_order": { "type": "integer" }, "description": nullable_string } });
    let row_fields = json!({
        "values": { "type": "object", "description": "column name → value (decimals as strings)" },
        "extended_properties": { "type": "object" },
        "code": nullable_string, "display_value": nullable_string,
        "sort_order": { "type": "integer" }, "is_active": { "type": "boolean" },
        "parent_row_id": { "type": ["string", "null"], "format": "uuid" } });
    let mut row_create = row_fields.clone();
    row_create["id"] =
        json!({ "type": "string", "format": "uuid", "description": "optional client-chosen id" });
    let mut row_update = row_fields.clone();
    row_update["version"] = json!({ "type": "integer", "description": "expected version (or If-Match)" });
    let mut row = row_fields;
    for (k, v) in [
        ("id", json!({ "type": "string", "format": "uuid" })),
        ("table", json!({ "type": "string" })),
        ("version", json!({ "type": "integer" })),
        ("created_at", json!({ "type": "string", "format": "date-time" })),
        ("created_by", json!({ "type": ["string", "null"] })),
        ("updated_at", json!({ "type": ["string", "null"], "format": "date-time" })),
        ("updated_by", json!({ "type": ["string", "null"] })),
    ] {
        row[k] = v;
    }
    let query = json!({ "type": "object", "additionalProperties": false, "properties": {
        "filter": { "$ref": "#/components/schemas/Filter" },
        "sort": { "type": "array", "items": { "type": "object", "required": ["field"], "properties": {
            "field": { "type": "string" }, "direction": { "enum": ["asc", "desc"] }, "nulls": { "enum": ["first", "last"] } } } },
        "columns": { "type": "array", "items": { "type": "string" } },
        "limit": { "type": "integer", "minimum": 1 }, "cursor": nullable_string,
        "offset": { "type": "integer", "minimum": 0 },
        "include_total": { "description": "false | true | \"exact\" | \"estimate\"" } } });
    let mut export = query.clone();
    export["properties"]["format"] = json!({ "enum": ["csv", "json", "xlsx"] });
    json!({
        "Object": { "type": "object", "description": "A JSON object (see spec/api.md for its fields)" },
        "Login": { "type": "object", "required": ["access_token", "refresh_token", "token_type", "expires_in", "user"],
            "properties": {
                "access_token": { "type": "string" }, "refresh_token": { "type": "string" },
                "token_type": { "const": "Bearer" }, "expires_in": { "type": "integer" },
                "user": { "type": "object", "properties": { "id": { "type": "string", "format": "uuid" },
                    "username": { "type": "string" }, "email": { "type": ["string", "null"] },
                    "display_name": { "type": ["string", "null"] } } } } },
        "Problem": { "type": "object", "required": ["type", "title", "status", "detail"], "properties": {
            "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
            "detail": { "type": "string" }, "instance": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "object", "properties": {
                "field": { "type": "string" }, "code": { "enum": ["required", "type", "format", "range", "length", "enum",
                    "unknown_field", "primary_key", "unique", "foreign_key", "check", "hierarchy", "version_conflict", "invalid"] },
                "message": { "type": "string" } } } },
            "violations": { "type": "array", "items": { "type": "object", "properties": {
                "constraint": { "type": "string" }, "type": { "type": "string" },
                "columns": { "type": "array", "items": { "type": "string" } }, "values": { "type": "array" },
                "message": { "type": "string" } } } },
            "current": { "description": "on 409: the resource as it is now" } } },
        "TableCreate": { "type": "object", "required": ["table_name"], "additionalProperties": false, "properties": {
            "table_name": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$" }, "description": nullable_string,
            "is_hierarchical": { "type": "boolean" }, "cache_policy": { "enum": ["None", "FullTable", "IndividualRows"] } } },
        "TableUpdate": { "type": "object", "additionalProperties": false, "properties": {
            "table_name": { "type": "string" }, "description": nullable_string, "is_hierarchical": { "type": "boolean" },
            "cache_policy": { "enum": ["None", "FullTable", "IndividualRows"] }, "version": { "type": "integer" } } },
        "Table": { "type": "object", "properties": {
            "id": { "type": "string", "format": "uuid" }, "table_name": { "type": "string" }, "description": nullable_string,
            "is_hierarchical": { "type": "boolean" }, "cache_policy": { "type": "string" }, "version": { "type": "integer" },
            "columns": { "type": "array", "items": { "$ref": "#/components/schemas/Column" } },
            "constraints": { "type": "array" } } },
        "TableList": { "type": "object", "properties": {
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/Table" } }, "next_cursor": nullable_string } },
        "Column": column,
        "ColumnCreate": column,
        "ColumnUpdate": { "type": "object", "additionalProperties": false, "properties": {
            "display_order": { "type": "integer" }, "is_mandatory": { "type": "boolean" }, "is_value_unique": { "type": "boolean" },
            "validation_rule_type": rule, "validation_parameters": { "type": ["object", "null"] } } },
        "ColumnList": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Column" } } } },
        "Definition": { "type": "object", "properties": {
            "id": { "type": "string", "format": "uuid" }, "column_name": { "type": "string" }, "data_type": data_type,
            "default_value": {}, "masking_rule": nullable_string, "description": nullable_string, "version": { "type": "integer" } } },
        "DefinitionUpdate": { "type": "object", "additionalProperties": false, "properties": {
            "default_value": {}, "masking_rule": nullable_string, "description": nullable_string } },
        "DefinitionList": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Definition" } } } },
        "Row": { "type": "object", "properties": row },
        "RowCreate": { "type": "object", "additionalProperties": false, "properties": row_create },
        "RowUpdate": { "type": "object", "additionalProperties": false, "properties": row_update },
        "RowList": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Row" } } } },
        "Constraint": { "type": "object", "properties": {
            "constraint_name": { "type": "string" }, "constraint_type": { "enum": ["PRIMARY KEY", "UNIQUE", "FOREIGN KEY", "CHECK"] },
            "columns": { "type": "array", "items": { "type": "string" } }, "is_active": { "type": "boolean" },
            "version": { "type": "integer" }, "case_sensitive": { "type": "boolean" },
            "json_properties": { "type": "array", "items": { "type": "object", "properties": {
                "path": { "type": "string" }, "case_sensitive": { "type": "boolean" } } } },
            "check_expression": { "type": "string" }, "error_message": nullable_string } },
        "ConstraintCreate": { "type": "object", "required": ["constraint_name", "constraint_type"], "properties": {
            "constraint_name": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$" },
            "constraint_type": { "enum": ["PRIMARY KEY", "UNIQUE", "FOREIGN KEY", "CHECK"] },
            "columns": { "type": "array", "items": { "type": "string" } }, "case_sensitive": { "type": "boolean" },
            "json_properties": { "type": "array", "items": { "type": "object", "required": ["path"], "properties": {
                "path": { "type": "string" }, "case_sensitive": { "type": "boolean" } } } },
            "check_expression": { "type": "string", "description": "SQL boolean expression over the row's columns" },
            "error_message": nullable_string,
            "referenced_table": { "type": "string" }, "on_delete": { "type": "string" }, "on_update": { "type": "string" },
            "match_type": { "enum": ["SIMPLE", "FULL", "PARTIAL"] } } },
        "ConstraintUpdate": { "type": "object", "required": ["is_active"], "additionalProperties": false,
            "properties": { "is_active": { "type": "boolean" } } },
        "ConstraintList": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Constraint" } } } },
        "Filter": filter,
        "Query": query,
        "Export": export,
        "Page": { "type": "object", "properties": {
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/Row" } }, "next_cursor": nullable_string,
            "total": { "type": ["integer", "null"] }, "total_is_estimate": { "type": ["boolean", "null"] } } },
        "Batch": { "type": "object", "required": ["operations"], "properties": {
            "mode": { "enum": ["all_or_nothing", "continue"] },
            "operations": { "type": "array", "items": { "type": "object", "required": ["op"], "properties": {
                "op": { "enum": ["create", "update", "delete"] }, "id": { "type": "string", "format": "uuid" },
                "version": { "type": "integer" }, "values": { "type": "object" }, "extended_properties": { "type": "object" },
                "cascade_children": { "type": "boolean" } } } } } },
        "BatchResults": { "type": "object", "properties": { "results": { "type": "array", "items": { "type": "object", "properties": {
            "ok": { "type": "boolean" }, "row": { "$ref": "#/components/schemas/Row" }, "error": { "$ref": "#/components/schemas/Problem" } } } } } },
    })
}
