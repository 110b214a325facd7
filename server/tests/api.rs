//! The Schema and Data endpoints of `spec/api.md`, driven in process through the real router on both
//! backends: status codes, headers, bodies, and every error shape (RFC 9457 problem JSON).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tessera_core::auth::users::NewUser;
use tessera_core::events::Actor;
use tessera_core::{Cache, Database};
use tower::ServiceExt;

/// The router, with every request signed in as an Owner (unless the request names its own credentials).
async fn app(db: &Database) -> Router {
    let services = tessera_core::testing::services_with(
        db.clone(),
        Cache::memory(),
        &[
            ("TESSERA_MAX_BODY_BYTES", "65536"),
            ("TESSERA_MAX_BATCH_OPERATIONS", "50"),
            ("TESSERA_RATE_LIMIT_IP_PER_MIN", "0"),
        ],
    );
    let auth = services.auth();
    let owner = NewUser {
        username: "owner".into(),
        password: Some("correct horse battery staple 42".into()),
        ..NewUser::default()
    };
    auth.create_owner(&Actor::system(), &owner).await.unwrap();
    let login = auth.login(&Actor::system(), "owner", "correct horse battery staple 42").await.unwrap();
    let bearer = HeaderValue::from_str(&format!("Bearer {}", login.access_token)).unwrap();
    tessera_server::router::build(services).layer(axum::middleware::map_request(
        move |mut request: Request<Body>| {
            let bearer = bearer.clone();
            async move {
                if !request.headers().contains_key(header::AUTHORIZATION) {
                    request.headers_mut().insert(header::AUTHORIZATION, bearer);
                }
                request
            }
        },
    ))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body =
        if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    Reply { status, headers, body }
}

async fn call(app: &Router, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut builder = Request::builder().method(method).uri(path);
    let body = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(app, builder.body(body).unwrap()).await
}

fn assert_problem(reply: &Reply, status: u16) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json", "{}", reply.body);
    assert_eq!(reply.body["status"], status, "{}", reply.body);
    assert!(reply.body["title"].is_string() && reply.body["detail"].is_string(), "{}", reply.body);
}

fn first_error(reply: &Reply) -> (String, String) {
    let e = &reply.body["errors"][0];
    (e["field"].as_str().unwrap_or_default().to_owned(), e["code"].as_str().unwrap_or_default().to_owned())
}

/// Creates `albums(title String mandatory, year Int, price Decimal ≥ 0)`.
async fn albums(app: &Router) {
    let r = call(app, Method::POST, "/api/v1/tables", Some(json!({"table_name": "albums"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for column in [
        json!({"column_name": "title", "data_type": "String", "is_mandatory": true}),
        json!({"column_name": "year", "data_type": "Int"}),
        json!({"column_name": "price", "data_type": "Decimal", "validation_rule_type": "range",
               "validation_parameters": {"min": 0}}),
    ] {
        let r = call(app, Method::POST, "/api/v1/tables/albums/columns", Some(column)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

async fn create_album(app: &Router, title: &str, year: i64) -> Value {
    let r = call(
        app,
        Method::POST,
        "/api/v1/data/albums",
        Some(json!({"values": {"title": title, "year": year}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

tessera_core::conformance! {
    async fn schema_endpoints(db: Database) {
        let app = app(&db).await;
        let r = call(&app, Method::POST, "/api/v1/tables", Some(json!({"table_name": "albums", "description": "LPs"}))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.headers[header::LOCATION], "/api/v1/tables/albums");
        assert_eq!(r.body["table_name"], "albums");
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.body["columns"], json!([]));

        let dup = call(&app, Method::POST, "/api/v1/tables", Some(json!({"table_name": "albums"}))).await;
        assert_problem(&dup, 409);

        let r = call(&app, Method::POST, "/api/v1/tables/albums/columns",
            Some(json!({"column_name": "title", "data_type": "String", "is_mandatory": true}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.headers[header::LOCATION], "/api/v1/tables/albums/columns/title");
        assert_eq!(r.body["is_mandatory"], true);

        let r = call(&app, Method::GET, "/api/v1/tables/albums/columns/title", None).await;
        assert_eq!(r.body["data_type"], "String");
        let r = call(&app, Method::PATCH, "/api/v1/tables/albums/columns/title",
            Some(json!({"validation_rule_type": "length", "validation_parameters": {"max": 100}}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["validation_rule_type"], "length");
        let r = call(&app, Method::GET, "/api/v1/tables/albums/columns", None).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

        let r = call(&app, Method::GET, "/api/v1/tables/albums", None).await;
        assert_eq!(r.body["version"], 3, "two schema changes bump the version: {}", r.body);

        let r = call(&app, Method::GET, "/api/v1/columns", None).await;
        assert_eq!(r.body["items"][0]["column_name"], "title");
        let r = call(&app, Method::PATCH, "/api/v1/columns/title", Some(json!({"description": "Album title"}))).await;
        assert_eq!(r.body["description"], "Album title", "{}", r.body);
        let r = call(&app, Method::GET, "/api/v1/columns/title", None).await;
        assert_eq!(r.body["description"], "Album title");
        let r = call(&app, Method::GET, "/api/v1/tables/albums", None).await;
        assert_eq!(r.body["version"], 4, "a definition change is a schema change of every table using it");

        let r = call(&app, Method::PATCH, "/api/v1/tables/albums", Some(json!({"table_name": "records", "version": 4}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["table_name"], "records");
        let stale = call(&app, Method::PATCH, "/api/v1/tables/records", Some(json!({"description": "x", "version": 1}))).await;
        assert_problem(&stale, 409);

        let r = call(&app, Method::GET, "/api/v1/tables?limit=10", None).await;
        assert_eq!(r.body["items"][0]["table_name"], "records");

        let r = call(&app, Method::DELETE, "/api/v1/tables/records/columns/title", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = call(&app, Method::DELETE, "/api/v1/columns/title", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = call(&app, Method::DELETE, "/api/v1/tables/records", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let missing = call(&app, Method::GET, "/api/v1/tables/records", None).await;
        assert_problem(&missing, 404);
        assert!(missing.body["detail"].as_str().unwrap().contains("records"));
    }

    async fn row_endpoints(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        let r = call(&app, Method::POST, "/api/v1/data/albums",
            Some(json!({"values": {"title": "Let There Be Rock", "year": 1977, "price": 12.5}, "extended_properties": {"label": "Atlantic"}}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.headers[header::LOCATION], format!("/api/v1/data/albums/{id}"));
        assert_eq!(r.headers[header::ETAG], "\"1\"");
        assert_eq!(r.body["values"]["price"], "12.5", "decimals are strings");
        assert_eq!(r.body["table"], "albums");

        let r = call(&app, Method::GET, &format!("/api/v1/data/albums/{id}"), None).await;
        assert_eq!(r.headers[header::ETAG], "\"1\"");
        assert_eq!(r.body["extended_properties"]["label"], "Atlantic");

        // PATCH with If-Match.
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(format!("/api/v1/data/albums/{id}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, "\"1\"")
            .body(Body::from(json!({"values": {"year": 1976}}).to_string()))
            .unwrap();
        let r = send(&app, request).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["values"]["year"], 1976);

        let stale = call(&app, Method::PATCH, &format!("/api/v1/data/albums/{id}"), Some(json!({"version": 1, "values": {"year": 1}}))).await;
        assert_problem(&stale, 409);
        assert_eq!(stale.body["current"]["version"], 2, "409 carries the current row");
        assert_eq!(first_error(&stale).1, "version_conflict");

        let r = call(&app, Method::PUT, &format!("/api/v1/data/albums/{id}"), Some(json!({"version": 2, "values": {"title": "Powerage"}}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["values"]["year"], Value::Null, "PUT replaces: absent values become null");
        assert_eq!(r.body["extended_properties"], json!({}));

        let stale = call(&app, Method::DELETE, &format!("/api/v1/data/albums/{id}?version=1"), None).await;
        assert_problem(&stale, 409);
        let r = call(&app, Method::DELETE, &format!("/api/v1/data/albums/{id}?version=3"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_problem(&call(&app, Method::GET, &format!("/api/v1/data/albums/{id}"), None).await, 404);
        assert_problem(&call(&app, Method::PATCH, &format!("/api/v1/data/albums/{id}"), Some(json!({"version": 3}))).await, 404);
    }

    async fn list_and_query_endpoints(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        for (title, year) in [("Back in Black", 1980), ("Highway to Hell", 1979), ("Powerage", 1978), ("High Voltage", 1976)] {
            create_album(&app, title, year).await;
        }
        let filter = urlencode(&json!({"field": "year", "op": "ge", "value": 1978}).to_string());
        let r = call(&app, Method::GET, &format!("/api/v1/data/albums?filter={filter}&sort=-year&limit=2"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let years: Vec<i64> = r.body["items"].as_array().unwrap().iter().map(|i| i["values"]["year"].as_i64().unwrap()).collect();
        assert_eq!(years, [1980, 1979]);
        let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
        let r = call(&app, Method::GET, &format!("/api/v1/data/albums?filter={filter}&sort=-year&limit=2&cursor={}", urlencode(&cursor)), None).await;
        assert_eq!(r.body["items"][0]["values"]["year"], 1978);
        assert_eq!(r.body["next_cursor"], Value::Null);

        let r = call(&app, Method::POST, "/api/v1/data/albums/query", Some(json!({
            "filter": {"or": [{"field": "title", "op": "starts_with", "value": "High"}, {"field": "year", "op": "eq", "value": 1980}]},
            "sort": [{"field": "title", "direction": "asc"}],
            "columns": ["title"],
            "include_total": "exact"
        }))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let titles: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|i| i["values"]["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Back in Black", "High Voltage", "Highway to Hell"]);
        assert_eq!(r.body["total"], 3);
        assert!(r.body["items"][0]["values"].get("year").is_none(), "projection keeps only the named columns");
    }

    async fn hierarchy_endpoints(db: Database) {
        let app = app(&db).await;
        call(&app, Method::POST, "/api/v1/tables", Some(json!({"table_name": "org", "is_hierarchical": true}))).await;
        let root = call(&app, Method::POST, "/api/v1/data/org", Some(json!({"display_value": "CEO"}))).await.body;
        let root_id = root["id"].as_str().unwrap();
        let mid = call(&app, Method::POST, "/api/v1/data/org", Some(json!({"display_value": "CTO", "parent_row_id": root_id}))).await.body;
        let mid_id = mid["id"].as_str().unwrap();
        let leaf = call(&app, Method::POST, "/api/v1/data/org", Some(json!({"display_value": "Dev", "parent_row_id": mid_id}))).await.body;
        let leaf_id = leaf["id"].as_str().unwrap();

        let r = call(&app, Method::GET, &format!("/api/v1/data/org/{root_id}/children"), None).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let r = call(&app, Method::GET, &format!("/api/v1/data/org/{leaf_id}/ancestors"), None).await;
        let names: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|i| i["display_value"].as_str().unwrap()).collect();
        assert_eq!(names, ["CTO", "CEO"]);
        let r = call(&app, Method::GET, &format!("/api/v1/data/org/{root_id}/descendants"), None).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);

        let cycle = call(&app, Method::PATCH, &format!("/api/v1/data/org/{root_id}"), Some(json!({"version": 1, "parent_row_id": leaf_id}))).await;
        assert_problem(&cycle, 422);
        assert_eq!(first_error(&cycle).1, "hierarchy");
        let blocked = call(&app, Method::DELETE, &format!("/api/v1/data/org/{root_id}"), None).await;
        assert_problem(&blocked, 422);
        let r = call(&app, Method::DELETE, &format!("/api/v1/data/org/{root_id}?cascade_children=true"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_problem(&call(&app, Method::GET, &format!("/api/v1/data/org/{leaf_id}"), None).await, 404);
    }

    async fn bad_input_is_problem_json(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        let album = create_album(&app, "Powerage", 1978).await;
        let id = album["id"].as_str().unwrap();

        // Malformed JSON, wrong content type, too large.
        let request = Request::builder().method(Method::POST).uri("/api/v1/data/albums")
            .header(header::CONTENT_TYPE, "application/json").body(Body::from("{\"values\": ")).unwrap();
        assert_problem(&send(&app, request).await, 400);
        let request = Request::builder().method(Method::POST).uri("/api/v1/data/albums")
            .header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap();
        assert_problem(&send(&app, request).await, 415);
        let huge = json!({"values": {"title": "x".repeat(70_000)}});
        assert_problem(&call(&app, Method::POST, "/api/v1/data/albums", Some(huge)).await, 413);

        // Unknown things.
        let r = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "a"}, "colour": "red"}))).await;
        assert_problem(&r, 400);
        assert_eq!(first_error(&r), ("colour".to_owned(), "unknown_field".to_owned()));
        let r = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "a", "label": "x"}}))).await;
        assert_problem(&r, 400);
        assert_eq!(first_error(&r), ("values.label".to_owned(), "unknown_field".to_owned()));
        assert_problem(&call(&app, Method::GET, "/api/v1/data/nope", None).await, 404);
        assert_problem(&call(&app, Method::GET, "/api/v1/tables/albums/columns/nope", None).await, 404);
        assert_problem(&call(&app, Method::GET, "/api/v1/data/albums/not-a-uuid", None).await, 400);
        assert_problem(&call(&app, Method::GET, "/api/v1/data/albums?colour=red", None).await, 400);

        // Wrong types and rules.
        let r = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "a", "year": "nineteen"}}))).await;
        assert_problem(&r, 422);
        assert_eq!(first_error(&r), ("values.year".to_owned(), "type".to_owned()));
        let r = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"year": 1}}))).await;
        assert_problem(&r, 422);
        assert_eq!(first_error(&r), ("values.title".to_owned(), "required".to_owned()));
        let r = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "a", "price": "-1"}}))).await;
        assert_problem(&r, 422);
        assert_eq!(first_error(&r), ("values.price".to_owned(), "range".to_owned()));

        // Queries.
        assert_problem(&call(&app, Method::GET, "/api/v1/data/albums?cursor=garbage", None).await, 400);
        let bad_field = urlencode(&json!({"field": "nope", "op": "eq", "value": 1}).to_string());
        assert_problem(&call(&app, Method::GET, &format!("/api/v1/data/albums?filter={bad_field}"), None).await, 400);
        let odd_path = urlencode(&json!({"field": "ext.a-b", "op": "eq", "value": 1}).to_string());
        assert_problem(&call(&app, Method::GET, &format!("/api/v1/data/albums?filter={odd_path}"), None).await, 400);
        assert_problem(&call(&app, Method::GET, "/api/v1/data/albums?limit=5000", None).await, 400);
        assert_problem(&call(&app, Method::POST, "/api/v1/data/albums/query", Some(json!({"filter": {"field": "year", "op": "between", "value": 1}}))).await, 400);

        // Missing version on update; a bad If-Match.
        assert_problem(&call(&app, Method::PATCH, &format!("/api/v1/data/albums/{id}"), Some(json!({"values": {"year": 1}}))).await, 400);
        let request = Request::builder().method(Method::PATCH).uri(format!("/api/v1/data/albums/{id}"))
            .header(header::CONTENT_TYPE, "application/json").header(header::IF_MATCH, "\"abc\"")
            .body(Body::from("{}")).unwrap();
        assert_problem(&send(&app, request).await, 400);
    }

    async fn batch_endpoint(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        let r = call(&app, Method::POST, "/api/v1/data/albums/batch", Some(json!({"operations": [
            {"op": "create", "values": {"title": "One"}},
            {"op": "create", "values": {"title": "Two", "year": "bad"}},
        ]}))).await;
        assert_problem(&r, 422);
        assert!(first_error(&r).0.starts_with("operations[1]"), "{}", r.body);
        let r = call(&app, Method::POST, "/api/v1/data/albums/query", Some(json!({"include_total": "exact"}))).await;
        assert_eq!(r.body["total"], 0, "all_or_nothing left nothing behind");

        let r = call(&app, Method::POST, "/api/v1/data/albums/batch", Some(json!({"mode": "continue", "operations": [
            {"op": "create", "values": {"title": "One"}},
            {"op": "create", "values": {"year": 1}},
            {"op": "create", "values": {"title": "Three"}},
        ]}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results[0]["ok"], true);
        assert_eq!(results[1]["ok"], false);
        assert_eq!(results[1]["error"]["status"], 422);
        assert_eq!(results[2]["ok"], true);
        let one = results[0]["row"]["id"].as_str().unwrap();

        let r = call(&app, Method::POST, "/api/v1/data/albums/batch", Some(json!({"operations": [
            {"op": "update", "id": one, "version": 1, "values": {"year": 2001}},
            {"op": "delete", "id": one, "version": 2},
        ]}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_problem(&call(&app, Method::GET, &format!("/api/v1/data/albums/{one}"), None).await, 404);

        let too_many: Vec<Value> = (0..51).map(|i| json!({"op": "create", "values": {"title": format!("t{i}")}})).collect();
        assert_problem(&call(&app, Method::POST, "/api/v1/data/albums/batch", Some(json!({"operations": too_many}))).await, 400);
        assert_problem(&call(&app, Method::POST, "/api/v1/data/albums/batch", Some(json!({"operations": []}))).await, 400);
    }

    async fn export_endpoint_streams_every_row(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        // 1,230 rows: more than one export page (1,000).
        for chunk in 0..41 {
            let ops: Vec<Value> = (0..30).map(|i| json!({"op": "create", "values": {"title": format!("t{:05}", chunk * 30 + i), "year": 1970 + i}})).collect();
            let r = call(&app, Method::POST, "/api/v1/data/albums/batch", Some(json!({"operations": ops}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let request = |body: Value| Request::builder().method(Method::POST).uri("/api/v1/data/albums/export")
            .header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap();

        let response = app.clone().oneshot(request(json!({"format": "csv", "sort": [{"field": "title"}]}))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(response.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("albums.csv"));
        let text = String::from_utf8(axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1 + 1230, "header plus every row");
        assert!(lines[0].starts_with("id,code,display_value,sort_order,is_active,parent_row_id,title,year,price"), "{}", lines[0]);
        assert!(lines[1].contains(",t00000,1970,"), "{}", lines[1]);
        assert!(lines[1230].contains(",t01229,"), "{}", lines[1230]);

        let filtered = json!({"format": "json", "filter": {"field": "year", "op": "eq", "value": 1970}, "columns": ["title"]});
        let response = app.clone().oneshot(request(filtered)).await.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let rows: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(rows.len(), 41);
        assert!(rows.iter().all(|r| r["values"].get("year").is_none() && r["values"]["title"].is_string()));

        let response = app.clone().oneshot(request(json!({"format": "xlsx"}))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&bytes[..2], b"PK", "an xlsx file is a zip archive");

        assert_problem(&send(&app, request(json!({"format": "pdf"}))).await, 400);
        assert_problem(&send(&app, request(json!({"columns": ["nope"]}))).await, 400);
    }

    async fn constraint_endpoints(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        let r = call(&app, Method::POST, "/api/v1/tables/albums/constraints", Some(json!({
            "constraint_name": "uq_title", "constraint_type": "UNIQUE", "columns": ["title"], "case_sensitive": false}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.headers[header::LOCATION], "/api/v1/tables/albums/constraints/uq_title");
        let r = call(&app, Method::POST, "/api/v1/tables/albums/constraints", Some(json!({
            "constraint_name": "ck_year", "constraint_type": "CHECK", "check_expression": "year >= 1900",
            "error_message": "year must be 1900 or later"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        create_album(&app, "Powerage", 1978).await;
        let dup = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "POWERAGE", "year": 1979}}))).await;
        assert_problem(&dup, 422);
        assert_eq!(first_error(&dup), ("values.title".to_owned(), "unique".to_owned()));
        let v = &dup.body["violations"][0];
        assert_eq!((v["constraint"].as_str(), v["type"].as_str()), (Some("uq_title"), Some("UNIQUE")));
        assert_eq!(v["columns"], json!(["title"]));
        assert_eq!(v["values"], json!(["POWERAGE"]));
        let old = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "Old", "year": 1800}}))).await;
        assert_problem(&old, 422);
        assert_eq!(old.body["violations"][0]["message"], "year must be 1900 or later");

        let syntax = call(&app, Method::POST, "/api/v1/tables/albums/constraints", Some(json!({
            "constraint_name": "ck_bad", "constraint_type": "CHECK", "check_expression": "year >= (1"}))).await;
        assert_problem(&syntax, 400);
        assert!(syntax.body["errors"][0]["message"].as_str().unwrap().contains("Line"), "{}", syntax.body);
        assert_problem(&call(&app, Method::POST, "/api/v1/tables/albums/constraints", Some(json!({
            "constraint_name": "uq_title", "constraint_type": "UNIQUE", "columns": ["year"]}))).await, 409);

        let r = call(&app, Method::GET, "/api/v1/tables/albums/constraints", None).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
        let r = call(&app, Method::PATCH, "/api/v1/tables/albums/constraints/ck_year", Some(json!({"is_active": false}))).await;
        assert_eq!(r.body["is_active"], false, "{}", r.body);
        let r = call(&app, Method::POST, "/api/v1/data/albums", Some(json!({"values": {"title": "Old", "year": 1800}}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "a disabled constraint is not enforced: {}", r.body);
        let r = call(&app, Method::PATCH, "/api/v1/tables/albums/constraints/ck_year", Some(json!({"is_active": true}))).await;
        assert_problem(&r, 422);
        let r = call(&app, Method::DELETE, "/api/v1/tables/albums/constraints/ck_year", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_problem(&call(&app, Method::GET, "/api/v1/tables/albums/constraints/ck_year", None).await, 404);
    }

    async fn foreign_key_and_primary_key_violations(db: Database) {
        let app = app(&db).await;
        for (table, columns) in [("artists", vec!["artist_no"]), ("records", vec!["record_no", "artist_no"])] {
            call(&app, Method::POST, "/api/v1/tables", Some(json!({"table_name": table}))).await;
            for c in columns {
                call(&app, Method::POST, &format!("/api/v1/tables/{table}/columns"), Some(json!({"column_name": c, "data_type": "Int"}))).await;
            }
        }
        let pk = |table: &str, column: &str| json!({"constraint_name": format!("pk_{table}"), "constraint_type": "PRIMARY KEY", "columns": [column]});
        assert_eq!(call(&app, Method::POST, "/api/v1/tables/artists/constraints", Some(pk("artists", "artist_no"))).await.status, StatusCode::CREATED);
        assert_eq!(call(&app, Method::POST, "/api/v1/tables/records/constraints", Some(pk("records", "record_no"))).await.status, StatusCode::CREATED);
        let partial = call(&app, Method::POST, "/api/v1/tables/records/constraints", Some(json!({"constraint_name": "fk_artist",
            "constraint_type": "FOREIGN KEY", "columns": ["artist_no"], "referenced_table": "artists", "match_type": "PARTIAL"}))).await;
        assert_problem(&partial, 422);
        let missing = call(&app, Method::POST, "/api/v1/tables/records/constraints", Some(json!({"constraint_name": "fk_artist",
            "constraint_type": "FOREIGN KEY", "columns": ["artist_no"], "referenced_table": "nope"}))).await;
        assert_problem(&missing, 400);
        let r = call(&app, Method::POST, "/api/v1/tables/records/constraints", Some(json!({"constraint_name": "fk_artist",
            "constraint_type": "FOREIGN KEY", "columns": ["artist_no"], "referenced_table": "artists", "on_delete": "RESTRICT"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["on_delete"], "RESTRICT");

        let acdc = call(&app, Method::POST, "/api/v1/data/artists", Some(json!({"values": {"artist_no": 1}}))).await.body;
        let orphan = call(&app, Method::POST, "/api/v1/data/records", Some(json!({"values": {"record_no": 1, "artist_no": 2}}))).await;
        assert_problem(&orphan, 422);
        assert_eq!(first_error(&orphan), ("values.artist_no".to_owned(), "foreign_key".to_owned()));
        assert_eq!(orphan.body["violations"][0]["type"], "FOREIGN KEY");
        assert_eq!(call(&app, Method::POST, "/api/v1/data/records", Some(json!({"values": {"record_no": 1, "artist_no": 1}}))).await.status, StatusCode::CREATED);
        let dup = call(&app, Method::POST, "/api/v1/data/records", Some(json!({"values": {"record_no": 1, "artist_no": 1}}))).await;
        assert_problem(&dup, 422);
        assert_eq!(first_error(&dup).1, "primary_key");
        let null_key = call(&app, Method::POST, "/api/v1/data/records", Some(json!({"values": {"artist_no": 1}}))).await;
        assert_eq!(first_error(&null_key).1, "primary_key");
        let blocked = call(&app, Method::DELETE, &format!("/api/v1/data/artists/{}", acdc["id"].as_str().unwrap()), None).await;
        assert_problem(&blocked, 422);
        assert_eq!(first_error(&blocked).1, "foreign_key");
    }

    async fn concurrent_patches_over_http(db: Database) {
        let app = app(&db).await;
        albums(&app).await;
        let album = create_album(&app, "Powerage", 1978).await;
        let id = album["id"].as_str().unwrap().to_owned();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (app, id) = (app.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                call(&app, Method::PATCH, &format!("/api/v1/data/albums/{id}"), Some(json!({"version": 1, "values": {"year": 2000 + i}}))).await.status
            }));
        }
        let mut ok = 0;
        let mut conflict = 0;
        for task in tasks {
            match task.await.unwrap() {
                StatusCode::OK => ok += 1,
                StatusCode::CONFLICT => conflict += 1,
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!((ok, conflict), (1, 49));
        let r = call(&app, Method::GET, &format!("/api/v1/data/albums/{id}"), None).await;
        assert_eq!(r.body["version"], 2);
    }
}

/// The OpenAPI document lists every endpoint the router serves, and each documented operation is routed
/// (a documented path never falls through to the API's 404).
#[tokio::test]
async fn openapi_document_matches_the_router() {
    tessera_core::testing::run(tessera_core::Backend::Sqlite, |db| async move {
        let app = app(&db).await;
        let r = call(&app, Method::GET, "/api/v1/openapi.json", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["openapi"], "3.1.0");
        let paths = r.body["paths"].as_object().unwrap();
        for required in [
            "/api/v1/tables",
            "/api/v1/tables/{table}/columns/{column}",
            "/api/v1/columns/{name}",
            "/api/v1/data/{table}/query",
            "/api/v1/data/{table}/batch",
            "/api/v1/data/{table}/export",
            "/api/v1/data/{table}/{id}/descendants",
        ] {
            assert!(paths.contains_key(required), "{required} is not documented");
        }
        let mut operations = 0;
        for (path, methods) in paths {
            for (method, operation) in methods.as_object().unwrap() {
                operations += 1;
                assert!(operation["responses"]["500"].is_object(), "{method} {path} documents its errors");
                let concrete = path
                    .replace("{table}", "nope")
                    .replace("{column}", "c")
                    .replace("{name}", "c")
                    .replace("{id}", "00000000-0000-0000-0000-000000000000");
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = matches!(m, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));
                let reply = call(&app, m, &concrete, body).await;
                let fell_through =
                    reply.status == StatusCode::NOT_FOUND && reply.body["detail"] == "no such API endpoint";
                assert!(
                    !fell_through && reply.status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is not routed"
                );
            }
        }
        assert!(operations >= 26, "{operations} operations");
        let schemas = r.body["components"]["schemas"].as_object().unwrap();
        for schema in ["Problem", "Row", "Query", "Batch", "Table", "Column"] {
            assert!(schemas.contains_key(schema), "schema {schema} missing");
        }

        let docs = app.clone().oneshot(Request::get("/api/docs").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(docs.status(), StatusCode::OK);
        let html = axum::body::to_bytes(docs.into_body(), usize::MAX).await.unwrap();
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains("/api/docs/assets/swagger-ui-bundle.js") && !html.contains("cdn"), "{html}");
    })
    .await;
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
