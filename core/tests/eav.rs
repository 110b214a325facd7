//! EAV conformance (`spec/product.md` §3, `spec/api.md`): schema, rows, concurrency, hierarchy, queries, batches,
//! outbox/audit and cache policies, through the `Eav` facade, on PostgreSQL and SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt::Debug;

use serde_json::{json, Value};
use tessera_core::eav::batch::{ItemResult, Mode};
use tessera_core::eav::query::Query;
use tessera_core::eav::rows::{Relatives, UpdateMode};
use tessera_core::eav::Eav;
use tessera_core::events::Actor;
use tessera_core::{Backend, Database, Error, ErrorCode, FieldError};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/// `partial:4` of "abcdefgh".
const PARTIAL_MASKED: &str = "\u{2022}\u{2022}\u{2022}\u{2022}efgh";
/// `full` of any non-null value.
const FULL_MASKED: &str = "\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}";
const ROW_KEYS: [&str; 14] = [
    "id",
    "table",
    "version",
    "code",
    "display_value",
    "sort_order",
    "is_active",
    "parent_row_id",
    "values",
    "extended_properties",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];

/// One facade per test (its in-memory cache is shared by clones).
fn setup(db: &Database) -> Eav {
    tessera_core::testing::services(db.clone()).eav()
}

/// `products`: one column of every type, with the usual rules, a default and a masking rule.
async fn shop(eav: &Eav, table: &str) {
    let sys = Actor::system();
    eav.create_table(&sys, &json!({ "table_name": table })).await.unwrap();
    for column in [
        json!({"column_name": "name", "data_type": "String", "is_mandatory": true}),
        json!({"column_name": "price", "data_type": "Decimal", "validation_rule_type": "range",
               "validation_parameters": {"min": 0}}),
        json!({"column_name": "qty", "data_type": "Int", "default_value": 0}),
        json!({"column_name": "released", "data_type": "Date"}),
        json!({"column_name": "added", "data_type": "DateTime"}),
        json!({"column_name": "active_flag", "data_type": "Boolean"}),
        json!({"column_name": "email", "data_type": "String", "validation_rule_type": "email"}),
        json!({"column_name": "secret", "data_type": "String", "masking_rule": "partial:4"}),
        json!({"column_name": "category", "data_type": "String", "validation_rule_type": "enum",
               "validation_parameters": {"options": ["a", "b", "c"]}}),
    ] {
        eav.attach_column(&sys, table, &column).await.unwrap_or_else(|e| panic!("attach {column}: {e:?}"));
    }
}

/// A table with one String column `label`.
async fn labelled(eav: &Eav, body: Value) {
    let sys = Actor::system();
    let name = body["table_name"].as_str().unwrap().to_owned();
    eav.create_table(&sys, &body).await.unwrap();
    eav.attach_column(&sys, &name, &json!({"column_name": "label", "data_type": "String"})).await.unwrap();
}

fn row_id(row: &Value) -> Uuid {
    row["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()).unwrap_or_else(|| panic!("no id in {row}"))
}

fn ids_of(page: &Value) -> Vec<Uuid> {
    page["items"].as_array().unwrap_or_else(|| panic!("no items in {page}")).iter().map(row_id).collect()
}

async fn create(eav: &Eav, table: &str, body: Value) -> Uuid {
    let row = eav
        .create_row(&Actor::system(), table, &body)
        .await
        .unwrap_or_else(|e| panic!("create in {table} {body}: {e:?}"));
    row_id(&row)
}

async fn get(eav: &Eav, actor: &Actor, table: &str, id: Uuid) -> Value {
    eav.get_row(actor, table, id).await.unwrap_or_else(|e| panic!("get {table}/{id}: {e:?}"))
}

async fn patch(eav: &Eav, table: &str, id: Uuid, body: Value) -> Result<Value, Error> {
    eav.update_row(&Actor::system(), table, id, &body, None, UpdateMode::Merge).await
}

async fn query(eav: &Eav, actor: &Actor, table: &str, body: Value) -> Result<Value, Error> {
    let q = Query::from_json(&body, eav.limits())?;
    eav.query(actor, table, &q).await
}

async fn count(eav: &Eav, table: &str) -> i64 {
    let page =
        query(eav, &Actor::system(), table, json!({"include_total": "exact", "limit": 1})).await.unwrap();
    page["total"].as_i64().unwrap_or_else(|| panic!("no total in {page}"))
}

async fn table_version(eav: &Eav, table: &str) -> i64 {
    eav.get_table(table).await.unwrap()["version"].as_i64().unwrap()
}

async fn relatives(eav: &Eav, table: &str, id: Uuid, which: Relatives) -> Vec<Uuid> {
    ids_of(&eav.relatives(&Actor::system(), table, id, which).await.unwrap())
}

fn errors_of(e: &Error) -> &[FieldError] {
    match e {
        Error::BadRequest(errors) | Error::Validation(errors) => errors,
        _ => &[],
    }
}

#[track_caller]
fn expect_validation<T: Debug>(result: Result<T, Error>, field: &str, code: ErrorCode) {
    match result {
        Err(Error::Validation(errors)) | Err(Error::Violation { errors, .. }) => assert!(
            errors.iter().any(|e| e.field == field && e.code == code),
            "expected 422 {code:?} on {field}, got {errors:?}"
        ),
        other => panic!("expected 422 {code:?} on {field}, got {other:?}"),
    }
}

#[track_caller]
fn expect_bad_request<T: Debug>(result: Result<T, Error>, field: &str, code: Option<ErrorCode>) {
    match result {
        Err(Error::BadRequest(errors)) => assert!(
            errors.iter().any(|e| e.field == field && code.is_none_or(|c| e.code == c)),
            "expected 400 {code:?} on {field}, got {errors:?}"
        ),
        other => panic!("expected 400 {code:?} on {field}, got {other:?}"),
    }
}

#[track_caller]
fn expect_not_found<T: Debug>(result: Result<T, Error>) {
    assert!(matches!(result, Err(Error::NotFound(_))), "expected 404, got {result:?}");
}

#[track_caller]
fn expect_duplicate<T: Debug>(result: Result<T, Error>) {
    assert!(matches!(result, Err(Error::Duplicate(_))), "expected 409 duplicate, got {result:?}");
}

/// A version conflict; answers the `current` state it carries.
#[track_caller]
fn expect_conflict<T: Debug>(result: Result<T, Error>) -> Value {
    match result {
        Err(Error::Conflict { current: Some(current), .. }) => *current,
        other => panic!("expected 409 with the current state, got {other:?}"),
    }
}

// --- Query fixture: 30 rows with NULLs, promoted fields and extended properties --------------------------------

const NAMES: [&str; 10] =
    ["apple", "Apple", "banana", "B", "a", "é", "cherry", "Cherry pie", "date", "éclair"];
const COLORS: [&str; 3] = ["red", "green", "blue"];

#[derive(Debug, Clone)]
struct Seed {
    id: Uuid,
    name: String,
    /// Cents.
    price: Option<i64>,
    qty: Option<i64>,
    category: Option<&'static str>,
    /// Day of January 2024.
    released: Option<i64>,
    code: Option<String>,
    sort_order: i64,
    is_active: bool,
    color: Option<&'static str>,
    size: Option<i64>,
    width: i64,
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

async fn seed_products(eav: &Eav) -> Vec<Seed> {
    shop(eav, "products").await;
    let mut seeds = Vec::new();
    for i in 0..30_i64 {
        let k = usize::try_from(i).unwrap();
        let name = if i < 10 { NAMES[k].to_owned() } else { format!("{} {i}", NAMES[k % 10]) };
        let category = match i % 4 {
            0 => Some("a"),
            1 => Some("b"),
            2 => Some("c"),
            _ => None,
        };
        let mut seed = Seed {
            id: Uuid::nil(),
            name,
            price: (i % 7 != 3).then_some((i % 6) * 125),
            qty: (i % 5 != 0).then_some(i * 3 % 17),
            category,
            released: (i % 3 != 2).then_some(i + 1),
            code: (i % 3 != 0).then(|| format!("C{i:03}")),
            sort_order: i % 5,
            is_active: i % 4 != 1,
            color: (i % 5 != 4).then_some(COLORS[k % 3]),
            size: (i % 2 == 0).then_some(i),
            width: i,
        };
        let mut ext = json!({"dims": {"w": i}});
        if let Some(c) = seed.color {
            ext["color"] = json!(c);
        }
        if let Some(s) = seed.size {
            ext["size"] = json!(s);
        }
        let body = json!({
            "code": seed.code, "sort_order": seed.sort_order, "is_active": seed.is_active,
            "extended_properties": ext,
            "values": {
                "name": seed.name, "price": seed.price.map(cents), "qty": seed.qty, "category": seed.category,
                "released": seed.released.map(|d| format!("2024-01-{d:02}")),
            },
        });
        seed.id = create(eav, "products", body).await;
        seeds.push(seed);
    }
    seeds
}

/// Runs `filter` and compares the ids with the rows `expected` selects (which must be a proper, non-empty subset).
async fn check_filter(eav: &Eav, seeds: &[Seed], filter: Value, expected: impl Fn(&Seed) -> bool) {
    let page = query(eav, &Actor::system(), "products", json!({"filter": filter.clone(), "limit": 1000}))
        .await
        .unwrap_or_else(|e| panic!("filter {filter}: {e:?}"));
    let mut got = ids_of(&page);
    got.sort();
    let mut want: Vec<Uuid> = seeds.iter().filter(|s| expected(s)).map(|s| s.id).collect();
    want.sort();
    assert!(!want.is_empty() && want.len() < seeds.len(), "filter {filter} does not discriminate");
    assert_eq!(got, want, "filter {filter}");
}

/// Orders optional keys: NULLs last unless `nulls_first`, in both directions.
fn by<T: Ord>(a: Option<T>, b: Option<T>, desc: bool, nulls_first: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) if nulls_first => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) if nulls_first => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) if desc => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// The seeds in `cmp` order, ties by id ascending.
fn expected_order(seeds: &[Seed], cmp: impl Fn(&Seed, &Seed) -> Ordering) -> Vec<Uuid> {
    let mut sorted: Vec<&Seed> = seeds.iter().collect();
    sorted.sort_by(|a, b| cmp(a, b).then(a.id.cmp(&b.id)));
    sorted.iter().map(|s| s.id).collect()
}

async fn sorted_ids(eav: &Eav, sort: Value) -> Vec<Uuid> {
    let page = query(eav, &Actor::system(), "products", json!({"sort": sort.clone(), "limit": 1000}))
        .await
        .unwrap_or_else(|e| panic!("sort {sort}: {e:?}"));
    ids_of(&page)
}

/// Follows `next_cursor` from the first page to the last.
async fn all_pages(eav: &Eav, base: &Value, limit: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut body = base.clone();
        body["limit"] = json!(limit);
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let page = query(eav, &Actor::system(), "products", body).await.unwrap();
        let page_ids = ids_of(&page);
        assert!(page_ids.len() <= limit, "{page}");
        ids.extend(page_ids);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
    panic!("pagination of {base} did not end");
}

// --- Outbox and audit ------------------------------------------------------------------------------------------

async fn events_of(db: &Database, id: Uuid) -> Vec<(String, String)> {
    let mut sql = db.sql("SELECT event_type, aggregate_type FROM domain_events WHERE aggregate_id = ");
    sql.bind(id).push(" ORDER BY created_at, id");
    let rows = db.fetch_all(&sql).await.unwrap();
    rows.iter().map(|r| (r.text("event_type").unwrap(), r.text("aggregate_type").unwrap())).collect()
}

struct AuditEntry {
    action: String,
    entity_type: String,
    actor: Option<Uuid>,
    before: Option<Value>,
    after: Option<Value>,
}

async fn audit_of(db: &Database, id: Uuid) -> Vec<AuditEntry> {
    let mut sql = db.sql(
        "SELECT action, entity_type, actor_user_id, CAST(before AS TEXT) AS before_json, \
         CAST(after AS TEXT) AS after_json FROM audit_log WHERE entity_id = ",
    );
    sql.bind(id).push(" ORDER BY created_at, id");
    let json = |text: Option<String>| text.map(|t| serde_json::from_str::<Value>(&t).unwrap());
    let rows = db.fetch_all(&sql).await.unwrap();
    rows.iter()
        .map(|r| AuditEntry {
            action: r.text("action").unwrap(),
            entity_type: r.text("entity_type").unwrap(),
            actor: r.opt_uuid("actor_user_id").unwrap(),
            before: json(r.opt_text("before_json").unwrap()),
            after: json(r.opt_text("after_json").unwrap()),
        })
        .collect()
}

async fn count_records(db: &Database, table: &str) -> i64 {
    let sql = db.sql(&format!("SELECT COUNT(*) AS n FROM {table}"));
    db.fetch_optional(&sql).await.unwrap().unwrap().i64("n").unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

tessera_core::conformance! {
    // --- 1. Tables ---------------------------------------------------------------------------------------------

    async fn table_lifecycle(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        let body = json!({"table_name": "alpha", "description": "first"});
        let created = eav.create_table(&sys, &body).await.unwrap();
        assert!(created["id"].as_str().is_some_and(|s| Uuid::parse_str(s).is_ok()), "{created}");
        assert_eq!(created["table_name"], "alpha");
        assert_eq!(created["description"], "first");
        assert_eq!(created["version"], 1);
        assert_eq!(created["columns"], json!([]));
        assert_eq!(created["is_hierarchical"], false);
        assert_eq!(created["cache_policy"], "None");
        expect_duplicate(eav.create_table(&sys, &json!({"table_name": "alpha"})).await);
        for bad in ["Bad-Name", "1abc", "a b"] {
            expect_bad_request(
                eav.create_table(&sys, &json!({"table_name": bad})).await,
                "table_name",
                Some(ErrorCode::Format),
            );
        }
        let unknown = eav.create_table(&sys, &json!({"table_name": "gamma", "colour": "red"})).await;
        expect_bad_request(unknown, "colour", Some(ErrorCode::UnknownField));
        let policy = eav.create_table(&sys, &json!({"table_name": "gamma", "cache_policy": "Sometimes"})).await;
        expect_bad_request(policy, "cache_policy", Some(ErrorCode::Enum));
        expect_not_found(eav.get_table("gamma").await);
        expect_not_found(eav.get_table("missing").await);
        assert_eq!(eav.get_table("alpha").await.unwrap()["id"], created["id"]);

        // Rename: the version bumps, rows follow the table.
        eav.attach_column(&sys, "alpha", &json!({"column_name": "label", "data_type": "String"})).await.unwrap();
        let row = create(&eav, "alpha", json!({"values": {"label": "kept"}})).await;
        let renamed =
            eav.update_table(&sys, "alpha", &json!({"table_name": "alpha2", "version": 2})).await.unwrap();
        assert_eq!(renamed["table_name"], "alpha2");
        assert_eq!(renamed["version"], 3);
        assert_eq!(renamed["id"], created["id"]);
        expect_not_found(eav.get_table("alpha").await);
        assert_eq!(get(&eav, &sys, "alpha2", row).await["values"]["label"], "kept");
        let body = json!({"version": 1, "description": "x"});
        let stale = expect_conflict(eav.update_table(&sys, "alpha2", &body).await);
        assert_eq!(stale["version"], 3);

        // Delete: rows go with the table; a new table of that name starts empty.
        eav.delete_table(&sys, "alpha2").await.unwrap();
        expect_not_found(eav.get_table("alpha2").await);
        expect_not_found(eav.get_row(&sys, "alpha2", row).await);
        expect_not_found(eav.delete_table(&sys, "alpha2").await);
        labelled(&eav, json!({"table_name": "alpha2"})).await;
        assert_eq!(count(&eav, "alpha2").await, 0);
        expect_not_found(eav.get_row(&sys, "alpha2", row).await);
        eav.delete_table(&sys, "alpha2").await.unwrap();

        // Listing: pages of 2, by name, each table once.
        for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
            eav.create_table(&sys, &json!({"table_name": name})).await.unwrap();
        }
        let (mut seen, mut cursor, mut pages) = (Vec::<String>::new(), None::<String>, 0);
        loop {
            let page = eav.list_tables(cursor.as_deref(), Some(2)).await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "{page}");
            seen.extend(items.iter().map(|t| t["table_name"].as_str().unwrap().to_owned()));
            pages += 1;
            assert!(pages <= 5, "listing does not end");
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ["alpha", "bravo", "charlie", "delta", "echo"]);
        expect_bad_request(eav.list_tables(Some("garbage"), Some(2)).await, "cursor", None);
        expect_bad_request(eav.list_tables(None, Some(5000)).await, "limit", None);
    }

    // --- 2. Attribute library ----------------------------------------------------------------------------------

    async fn attribute_library(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        for t in ["first", "second", "third"] {
            eav.create_table(&sys, &json!({"table_name": t})).await.unwrap();
        }
        let title = json!({"column_name": "title", "data_type": "String", "description": "A title"});
        let column = eav.attach_column(&sys, "first", &title).await.unwrap();
        assert_eq!(column["column_name"], "title");
        assert_eq!(column["data_type"], "String");
        assert_eq!(table_version(&eav, "first").await, 2);
        assert_eq!(eav.get_definition("title").await.unwrap()["description"], "A title");

        // The same name elsewhere reuses the definition; clashes are 409.
        eav.attach_column(&sys, "second", &json!({"column_name": "title"})).await.unwrap();
        assert_eq!(eav.get_column("second", "title").await.unwrap()["data_type"], "String");
        let defs = eav.list_definitions().await.unwrap();
        let titles = defs["items"].as_array().unwrap().iter().filter(|d| d["column_name"] == "title").count();
        assert_eq!(titles, 1, "{defs}");
        expect_duplicate(
            eav.attach_column(&sys, "third", &json!({"column_name": "title", "data_type": "Int"})).await,
        );
        expect_duplicate(
            eav.attach_column(&sys, "third", &json!({"column_name": "title", "description": "other"})).await,
        );
        expect_duplicate(eav.attach_column(&sys, "first", &json!({"column_name": "title"})).await);
        assert_eq!(eav.get_table("third").await.unwrap()["columns"], json!([]));
        assert_eq!(table_version(&eav, "third").await, 1);

        // A default must convert to the type; nothing is created otherwise.
        let bad_default = json!({"column_name": "weight", "data_type": "Int", "default_value": "heavy"});
        let err = eav.attach_column(&sys, "third", &bad_default).await.unwrap_err();
        assert!(errors_of(&err).iter().any(|e| e.field == "default_value"), "{err:?}");
        expect_not_found(eav.get_definition("weight").await);

        // Every schema change bumps the version; detaching deletes the values.
        let v = table_version(&eav, "first").await;
        eav.update_column(&sys, "first", "title", &json!({"display_order": 9})).await.unwrap();
        assert_eq!(table_version(&eav, "first").await, v + 1);
        let row = create(&eav, "first", json!({"values": {"title": "hello"}})).await;
        eav.detach_column(&sys, "first", "title").await.unwrap();
        assert_eq!(table_version(&eav, "first").await, v + 2);
        expect_not_found(eav.get_column("first", "title").await);
        assert!(get(&eav, &sys, "first", row).await["values"].get("title").is_none());
        eav.attach_column(&sys, "first", &json!({"column_name": "title"})).await.unwrap();
        assert_eq!(table_version(&eav, "first").await, v + 3);
        assert!(get(&eav, &sys, "first", row).await["values"]["title"].is_null(), "detached values stay deleted");

        // A definition in use cannot be deleted; an unused one can.
        expect_validation(eav.delete_definition(&sys, "title").await, "column_name", ErrorCode::Invalid);
        eav.detach_column(&sys, "first", "title").await.unwrap();
        eav.detach_column(&sys, "second", "title").await.unwrap();
        eav.delete_definition(&sys, "title").await.unwrap();
        expect_not_found(eav.get_definition("title").await);

        // Changing a definition changes it for every table using it.
        let qty = json!({"column_name": "qty", "data_type": "Int", "default_value": 0});
        eav.attach_column(&sys, "first", &qty).await.unwrap();
        eav.attach_column(&sys, "second", &qty).await.unwrap();
        assert_eq!(get(&eav, &sys, "first", row).await["values"]["qty"], 0, "existing rows get the default");
        let (v1, v2) = (table_version(&eav, "first").await, table_version(&eav, "second").await);
        let def = eav.update_definition(&sys, "qty", &json!({"default_value": 7})).await.unwrap();
        assert_eq!(def["default_value"], 7);
        assert_eq!(table_version(&eav, "first").await, v1 + 1);
        assert_eq!(table_version(&eav, "second").await, v2 + 1);
        for t in ["first", "second"] {
            assert_eq!(eav.get_column(t, "qty").await.unwrap()["default_value"], 7);
            let id = create(&eav, t, json!({"values": {}})).await;
            assert_eq!(get(&eav, &sys, t, id).await["values"]["qty"], 7, "{t}");
        }
        expect_bad_request(
            eav.update_definition(&sys, "qty", &json!({"data_type": "String"})).await,
            "data_type",
            None,
        );
    }

    // --- 3. Mandatory columns on tables with rows -------------------------------------------------------------

    async fn mandatory_column_on_a_table_with_rows(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        labelled(&eav, json!({"table_name": "notes"})).await;
        let id = create(&eav, "notes", json!({"values": {"label": "hello"}})).await;
        let v = table_version(&eav, "notes").await;
        let status = json!({"column_name": "status", "data_type": "String", "is_mandatory": true});
        expect_validation(eav.attach_column(&sys, "notes", &status).await, "is_mandatory", ErrorCode::Required);
        assert_eq!(table_version(&eav, "notes").await, v, "a refused change leaves the schema alone");
        expect_not_found(eav.get_column("notes", "status").await);
        expect_not_found(eav.get_definition("status").await);

        let status = json!({"column_name": "status", "data_type": "String", "is_mandatory": true,
                            "default_value": "open"});
        eav.attach_column(&sys, "notes", &status).await.unwrap();
        assert_eq!(table_version(&eav, "notes").await, v + 1);
        assert_eq!(get(&eav, &sys, "notes", id).await["values"]["status"], "open");
        let fresh = create(&eav, "notes", json!({"values": {"label": "new"}})).await;
        assert_eq!(get(&eav, &sys, "notes", fresh).await["values"]["status"], "open");
        let explicit_null = eav.create_row(&sys, "notes", &json!({"values": {"status": null}})).await;
        expect_validation(explicit_null, "values.status", ErrorCode::Required);
    }

    // --- 4. Rows: types, defaults, validation ------------------------------------------------------------------

    async fn row_values_round_trip_and_validate(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        shop(&eav, "products").await;
        let row = eav.create_row(&sys, "products", &json!({
            "values": {"name": "Widget", "price": "10.50", "qty": 3, "released": "2024-02-29",
                       "added": "2024-03-10T15:30:00+02:00", "active_flag": true, "email": "buyer@example.com",
                       "secret": "abcdefgh", "category": "b"},
            "code": "W-1", "display_value": "Widget", "sort_order": 4, "is_active": false,
            "extended_properties": {"tags": ["x"], "n": 1.5},
        })).await.unwrap();
        let values = json!({"name": "Widget", "price": "10.50", "qty": 3, "released": "2024-02-29",
                            "added": "2024-03-10T13:30:00.000000Z", "active_flag": true,
                            "email": "buyer@example.com", "secret": "abcdefgh", "category": "b"});
        let id = row_id(&row);
        for row in [row, get(&eav, &sys, "products", id).await] {
            for key in ROW_KEYS {
                assert!(row.get(key).is_some(), "{key} missing in {row}");
            }
            assert_eq!(row["values"], values);
            assert_eq!(row["table"], "products");
            assert_eq!(row["version"], 1);
            assert_eq!(row["code"], "W-1");
            assert_eq!(row["display_value"], "Widget");
            assert_eq!(row["sort_order"], 4);
            assert_eq!(row["is_active"], false);
            assert!(row["parent_row_id"].is_null() && row["updated_at"].is_null());
            assert_eq!(row["extended_properties"], json!({"tags": ["x"], "n": 1.5}));
            let created_at = row["created_at"].as_str().unwrap();
            assert!(created_at.len() == 27 && created_at.ends_with('Z'), "{created_at}");
        }
        // Decimals are exact and keep their scale.
        for (given, shown) in [
            (json!("12345678901234567890.12345678"), "12345678901234567890.12345678"),
            (json!(12.25), "12.25"),
            (json!("0.10"), "0.10"),
        ] {
            let id = create(&eav, "products", json!({"values": {"name": "d", "price": given}})).await;
            assert_eq!(get(&eav, &sys, "products", id).await["values"]["price"], shown);
        }
        // Defaults apply when absent, not when explicitly null; every attached column is present.
        let plain = create(&eav, "products", json!({"values": {"name": "p"}})).await;
        let plain = get(&eav, &sys, "products", plain).await;
        assert_eq!(plain["values"], json!({"name": "p", "price": null, "qty": 0, "released": null, "added": null,
                                          "active_flag": null, "email": null, "secret": null, "category": null}));
        assert_eq!(plain["extended_properties"], json!({}));
        assert_eq!(plain["sort_order"], 0);
        assert_eq!(plain["is_active"], true);
        let nulled = create(&eav, "products", json!({"values": {"name": "n", "qty": null}})).await;
        assert!(get(&eav, &sys, "products", nulled).await["values"]["qty"].is_null());
        let stored = count(&eav, "products").await;
        assert_eq!(stored, 6);

        let attempt = |values: Value| {
            let eav = eav.clone();
            async move { eav.create_row(&Actor::system(), "products", &json!({"values": values})).await }
        };
        expect_validation(attempt(json!({"qty": 1})).await, "values.name", ErrorCode::Required);
        expect_validation(attempt(json!({"name": null})).await, "values.name", ErrorCode::Required);
        expect_validation(attempt(json!({"name": "x", "qty": "abc"})).await, "values.qty", ErrorCode::Type);
        let released = attempt(json!({"name": "x", "released": "2023-02-29"})).await;
        expect_validation(released, "values.released", ErrorCode::Type);
        let added = attempt(json!({"name": "x", "added": "2024-03-10 15:30"})).await;
        expect_validation(added, "values.added", ErrorCode::Type);
        let flag = attempt(json!({"name": "x", "active_flag": "yes"})).await;
        expect_validation(flag, "values.active_flag", ErrorCode::Type);
        expect_validation(attempt(json!({"name": "x", "price": -1})).await, "values.price", ErrorCode::Range);
        expect_validation(attempt(json!({"name": "x", "email": "x"})).await, "values.email", ErrorCode::Format);
        expect_validation(attempt(json!({"name": "x", "category": "z"})).await, "values.category", ErrorCode::Enum);
        expect_validation(attempt(json!({"name": "x", "category": "A"})).await, "values.category", ErrorCode::Enum);
        let nope = attempt(json!({"name": "x", "nope": 1})).await;
        expect_bad_request(nope, "values.nope", Some(ErrorCode::UnknownField));
        let top = eav.create_row(&sys, "products", &json!({"values": {"name": "x"}, "colour": "red"})).await;
        expect_bad_request(top, "colour", Some(ErrorCode::UnknownField));
        assert_eq!(count(&eav, "products").await, stored, "failed creates store nothing");
    }

    // --- 5. Masking --------------------------------------------------------------------------------------------

    async fn masking_applies_unless_the_reader_may_unmask(db: Database) {
        let eav = setup(&db);
        let (sys, reader) = (Actor::system(), Actor::default());
        shop(&eav, "products").await;
        let created = eav
            .create_row(&reader, "products", &json!({"values": {"name": "m", "secret": "abcdefgh"}}))
            .await
            .unwrap();
        assert_eq!(created["values"]["secret"], PARTIAL_MASKED);
        let id = row_id(&created);
        assert_eq!(get(&eav, &reader, "products", id).await["values"]["secret"], PARTIAL_MASKED);
        assert_eq!(get(&eav, &sys, "products", id).await["values"]["secret"], "abcdefgh");
        let empty = create(&eav, "products", json!({"values": {"name": "n"}})).await;
        assert!(get(&eav, &reader, "products", empty).await["values"]["secret"].is_null(), "null stays null");

        let by_id = json!({"filter": {"field": "id", "op": "eq", "value": id}});
        let page = query(&eav, &reader, "products", by_id.clone()).await.unwrap();
        assert_eq!(page["items"][0]["values"]["secret"], PARTIAL_MASKED);
        let page = query(&eav, &sys, "products", by_id).await.unwrap();
        assert_eq!(page["items"][0]["values"]["secret"], "abcdefgh");

        let body = json!({"version": 1, "values": {"qty": 2}});
        let updated = eav.update_row(&reader, "products", id, &body, None, UpdateMode::Merge).await.unwrap();
        assert_eq!(updated["values"]["secret"], PARTIAL_MASKED);
        let stale = eav.update_row(&reader, "products", id, &body, None, UpdateMode::Merge).await;
        let current = expect_conflict(stale);
        assert_eq!(current["values"]["secret"], PARTIAL_MASKED);
        assert_eq!(get(&eav, &sys, "products", id).await["values"]["secret"], "abcdefgh", "stored in clear");

        // Filtering or sorting by a masked column would reveal it (through counts and order): refused.
        let probe = json!({"filter": {"field": "secret", "op": "starts_with", "value": "abc"}, "include_total": "exact"});
        let refused = query(&eav, &reader, "products", probe.clone()).await;
        assert!(
            matches!(&refused, Err(tessera_core::Error::Forbidden(m)) if m.contains("'secret'")),
            "{refused:?}"
        );
        let sorted = query(&eav, &reader, "products", json!({"sort": [{"field": "secret"}]})).await;
        assert!(matches!(sorted, Err(tessera_core::Error::Forbidden(_))), "{sorted:?}");
        assert_eq!(query(&eav, &sys, "products", probe).await.unwrap()["total"], 1, "the system may");
    }

    // --- 6. Optimistic concurrency -----------------------------------------------------------------------------

    async fn optimistic_concurrency_and_update_modes(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        shop(&eav, "products").await;
        let id = create(&eav, "products", json!({
            "values": {"name": "w", "qty": 1, "price": "2.00"}, "code": "K",
            "extended_properties": {"a": 1, "b": {"c": 1, "d": 2}, "e": "x"},
        })).await;
        let row = patch(&eav, "products", id, json!({"version": 1, "values": {"qty": 5}})).await.unwrap();
        assert_eq!(row["version"], 2, "a value-only change bumps the version");
        assert_eq!(row["values"]["qty"], 5);
        assert_eq!(row["values"]["name"], "w");
        assert_eq!(row["code"], "K");
        assert!(row["updated_at"].is_string());

        let stale = patch(&eav, "products", id, json!({"version": 1, "values": {"qty": 6}})).await;
        let current = expect_conflict(stale);
        assert_eq!(current["version"], 2);
        assert_eq!(current["values"]["qty"], 5);
        let row = eav
            .update_row(&sys, "products", id, &json!({"values": {"qty": 7}}), Some(2), UpdateMode::Merge)
            .await
            .unwrap();
        assert_eq!(row["version"], 3, "If-Match works like the body's version");
        expect_bad_request(patch(&eav, "products", id, json!({"values": {"qty": 8}})).await, "version", None);
        expect_not_found(patch(&eav, "products", Uuid::now_v7(), json!({"version": 1})).await);

        let body = json!({"version": 3, "extended_properties": {"a": null, "b": {"c": 9}, "f": [1, 2]}});
        let row = patch(&eav, "products", id, body).await.unwrap();
        assert_eq!(row["extended_properties"], json!({"b": {"c": 9, "d": 2}, "e": "x", "f": [1, 2]}));
        assert_eq!(row["values"]["qty"], 7);
        assert_eq!(row["version"], 4);

        let put = json!({"version": 4, "values": {"name": "only"}, "extended_properties": {"z": true}});
        let row = eav.update_row(&sys, "products", id, &put, None, UpdateMode::Replace).await.unwrap();
        assert_eq!(row["version"], 5);
        assert_eq!(row["values"]["name"], "only");
        assert!(row["values"]["price"].is_null(), "PUT clears absent values: {row}");
        assert!(row["code"].is_null(), "PUT clears absent promoted fields: {row}");
        assert_eq!(row["extended_properties"], json!({"z": true}));
        let put = json!({"version": 5, "values": {"qty": 1}});
        let missing = eav.update_row(&sys, "products", id, &put, None, UpdateMode::Replace).await;
        expect_validation(missing, "values.name", ErrorCode::Required);
        let row = eav.update_row(&sys, "products", id, &json!({"version": 5}), None, UpdateMode::Replace).await;
        expect_validation(row, "values.name", ErrorCode::Required);

        let current = expect_conflict(eav.delete_row(&sys, "products", id, Some(1), false).await);
        assert_eq!(current["version"], 5);
        eav.delete_row(&sys, "products", id, Some(5), false).await.unwrap();
        expect_not_found(eav.get_row(&sys, "products", id).await);
        expect_not_found(eav.delete_row(&sys, "products", id, None, false).await);
    }

    // --- 7. Concurrent updates ---------------------------------------------------------------------------------

    async fn concurrent_patches_with_one_version_have_one_winner(db: Database) {
        let eav = setup(&db);
        eav.create_table(&Actor::system(), &json!({"table_name": "counters"})).await.unwrap();
        let n = json!({"column_name": "n", "data_type": "Int"});
        eav.attach_column(&Actor::system(), "counters", &n).await.unwrap();
        let id = create(&eav, "counters", json!({"values": {"n": -1}})).await;
        let mut tasks = Vec::new();
        for i in 0..50_i64 {
            let eav = eav.clone();
            tasks.push(tokio::spawn(async move {
                let body = json!({"version": 1, "values": {"n": i}});
                (i, eav.update_row(&Actor::default(), "counters", id, &body, None, UpdateMode::Merge).await)
            }));
        }
        let (mut winners, mut conflicts) = (Vec::new(), 0);
        for task in tasks {
            match task.await.unwrap() {
                (i, Ok(row)) => {
                    assert_eq!(row["version"], 2);
                    assert_eq!(row["values"]["n"], i);
                    winners.push(i);
                }
                (_, Err(Error::Conflict { .. })) => conflicts += 1,
                (i, Err(other)) => panic!("update {i}: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        assert_eq!(conflicts, 49);
        let row = get(&eav, &Actor::system(), "counters", id).await;
        assert_eq!(row["version"], 2);
        assert_eq!(row["values"]["n"], winners[0]);
    }

    // --- 8. Unique columns -------------------------------------------------------------------------------------

    async fn unique_columns_are_race_free(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        eav.create_table(&sys, &json!({"table_name": "members"})).await.unwrap();
        let handle = json!({"column_name": "handle", "data_type": "String", "is_value_unique": true});
        eav.attach_column(&sys, "members", &handle).await.unwrap();
        let ann = create(&eav, "members", json!({"values": {"handle": "ann"}})).await;
        let dup = eav.create_row(&sys, "members", &json!({"values": {"handle": "ann"}})).await;
        expect_validation(dup, "values.handle", ErrorCode::Unique);
        let bob = create(&eav, "members", json!({"values": {"handle": "bob"}})).await;
        let taken = patch(&eav, "members", bob, json!({"version": 1, "values": {"handle": "ann"}})).await;
        expect_validation(taken, "values.handle", ErrorCode::Unique);
        let row = patch(&eav, "members", bob, json!({"version": 1, "values": {"handle": "cat"}})).await.unwrap();
        assert_eq!(row["values"]["handle"], "cat");
        // Values freed by an update or a delete can be taken again; NULLs never collide.
        patch(&eav, "members", ann, json!({"version": 1, "values": {"handle": "dan"}})).await.unwrap();
        create(&eav, "members", json!({"values": {"handle": "ann"}})).await;
        eav.delete_row(&sys, "members", bob, None, false).await.unwrap();
        create(&eav, "members", json!({"values": {"handle": "cat"}})).await;
        create(&eav, "members", json!({"values": {}})).await;
        create(&eav, "members", json!({"values": {"handle": null}})).await;

        let mut tasks = Vec::new();
        for _ in 0..20 {
            let eav = eav.clone();
            tasks.push(tokio::spawn(async move {
                eav.create_row(&Actor::default(), "members", &json!({"values": {"handle": "race"}})).await
            }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(Error::Validation(errors)) | Err(Error::Violation { errors, .. }) => {
                    assert!(errors.iter().any(|e| e.code == ErrorCode::Unique), "{errors:?}");
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(created, 1);
        let race = json!({"filter": {"field": "handle", "op": "eq", "value": "race"}, "include_total": "exact"});
        assert_eq!(query(&eav, &sys, "members", race).await.unwrap()["total"], 1);
    }

    // --- 9. Hierarchy ------------------------------------------------------------------------------------------

    async fn hierarchy_rules_and_relatives(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        shop(&eav, "products").await;
        let flat = create(&eav, "products", json!({"values": {"name": "p"}})).await;
        let child_of_flat = json!({"values": {"name": "q"}, "parent_row_id": flat});
        let refused = eav.create_row(&sys, "products", &child_of_flat).await;
        expect_validation(refused, "parent_row_id", ErrorCode::Hierarchy);

        labelled(&eav, json!({"table_name": "tree", "is_hierarchical": true})).await;
        let node = |label: &str, parent: Option<Uuid>, sort: i32| {
            json!({"values": {"label": label}, "parent_row_id": parent, "sort_order": sort})
        };
        let root = create(&eav, "tree", node("root", None, 0)).await;
        let b = create(&eav, "tree", node("b", Some(root), 2)).await;
        let a = create(&eav, "tree", node("a", Some(root), 1)).await;
        let c = create(&eav, "tree", node("c", Some(root), 1)).await;
        let b1 = create(&eav, "tree", node("b1", Some(b), 0)).await;
        let b1x = create(&eav, "tree", node("b1x", Some(b1), 0)).await;
        for parent in [flat, Uuid::now_v7()] {
            let orphan = eav.create_row(&sys, "tree", &node("x", Some(parent), 0)).await;
            expect_validation(orphan, "parent_row_id", ErrorCode::Hierarchy);
        }
        for parent in [b1x, b, root] {
            let cycle = patch(&eav, "tree", root, json!({"version": 1, "parent_row_id": parent})).await;
            expect_validation(cycle, "parent_row_id", ErrorCode::Hierarchy);
        }
        let moved = patch(&eav, "tree", b1x, json!({"version": 1, "parent_row_id": a})).await.unwrap();
        assert_eq!(moved["parent_row_id"], json!(a));
        patch(&eav, "tree", b1x, json!({"version": 2, "parent_row_id": b1})).await.unwrap();

        let mut children = [(1, a), (1, c), (2, b)];
        children.sort();
        let want: Vec<Uuid> = children.iter().map(|(_, id)| *id).collect();
        assert_eq!(relatives(&eav, "tree", root, Relatives::Children).await, want, "by sort_order, then id");
        assert_eq!(relatives(&eav, "tree", b1x, Relatives::Ancestors).await, vec![b1, b, root]);
        assert!(relatives(&eav, "tree", root, Relatives::Ancestors).await.is_empty());
        let descendants = relatives(&eav, "tree", root, Relatives::Descendants).await;
        assert_eq!(descendants.len(), 5, "{descendants:?}");
        let mut level1 = descendants[..3].to_vec();
        level1.sort();
        let mut abc = vec![a, b, c];
        abc.sort();
        assert_eq!(level1, abc);
        assert_eq!(descendants[3..], [b1, b1x]);
        expect_not_found(eav.relatives(&sys, "tree", Uuid::now_v7(), Relatives::Children).await);

        expect_validation(eav.delete_row(&sys, "tree", root, None, false).await, "id", ErrorCode::Hierarchy);
        assert_eq!(count(&eav, "tree").await, 6, "a refused delete deletes nothing");
        eav.delete_row(&sys, "tree", b, Some(1), true).await.unwrap();
        for gone in [b, b1, b1x] {
            expect_not_found(eav.get_row(&sys, "tree", gone).await);
        }
        assert_eq!(relatives(&eav, "tree", root, Relatives::Children).await.len(), 2);
        eav.delete_row(&sys, "tree", a, None, false).await.unwrap();
        assert_eq!(count(&eav, "tree").await, 2);
    }

    // --- 10. Queries -------------------------------------------------------------------------------------------

    async fn query_filters_match_the_data(db: Database) {
        let eav = setup(&db);
        let seeds = seed_products(&eav).await;
        let f = |field: &str, op: &str, value: Value| json!({"field": field, "op": op, "value": value});
        let ci = |field: &str, op: &str, value: &str| {
            json!({"field": field, "op": op, "value": value, "case_insensitive": true})
        };
        let price = |s: &Seed, p: fn(i64) -> bool| s.price.is_some_and(p);
        let qty = |s: &Seed, p: fn(i64) -> bool| s.qty.is_some_and(p);
        let code = |s: &Seed, p: fn(&str) -> bool| s.code.as_deref().is_some_and(p);
        let color = |s: &Seed, p: fn(&str) -> bool| s.color.is_some_and(p);
        // Columns.
        check_filter(&eav, &seeds, f("category", "eq", json!("a")), |s| s.category == Some("a")).await;
        check_filter(&eav, &seeds, f("category", "ne", json!("a")), |s| s.category.is_some_and(|c| c != "a")).await;
        check_filter(&eav, &seeds, f("price", "lt", json!("2.50")), |s| price(s, |p| p < 250)).await;
        check_filter(&eav, &seeds, f("price", "le", json!(2.5)), |s| price(s, |p| p <= 250)).await;
        check_filter(&eav, &seeds, f("price", "gt", json!("1.25")), |s| price(s, |p| p > 125)).await;
        check_filter(&eav, &seeds, f("price", "ge", json!(5)), |s| price(s, |p| p >= 500)).await;
        check_filter(&eav, &seeds, f("qty", "eq", json!(3)), |s| s.qty == Some(3)).await;
        check_filter(&eav, &seeds, f("qty", "ne", json!(3)), |s| qty(s, |q| q != 3)).await;
        check_filter(&eav, &seeds, f("qty", "lt", json!(5)), |s| qty(s, |q| q < 5)).await;
        check_filter(&eav, &seeds, f("qty", "le", json!(4)), |s| qty(s, |q| q <= 4)).await;
        check_filter(&eav, &seeds, f("qty", "gt", json!(10)), |s| qty(s, |q| q > 10)).await;
        check_filter(&eav, &seeds, f("qty", "ge", json!(10)), |s| qty(s, |q| q >= 10)).await;
        let in_ac = f("category", "in", json!(["a", "c"]));
        check_filter(&eav, &seeds, in_ac, |s| matches!(s.category, Some("a" | "c"))).await;
        check_filter(&eav, &seeds, f("qty", "in", json!([0, 3, 6])), |s| qty(s, |q| [0, 3, 6].contains(&q))).await;
        check_filter(&eav, &seeds, f("name", "contains", json!("an")), |s| s.name.contains("an")).await;
        check_filter(&eav, &seeds, f("name", "contains", json!("App")), |s| s.name.contains("App")).await;
        check_filter(&eav, &seeds, ci("name", "contains", "App"), |s| s.name.to_lowercase().contains("app")).await;
        check_filter(&eav, &seeds, f("name", "starts_with", json!("apple")), |s| s.name.starts_with("apple")).await;
        let apple = ci("name", "starts_with", "APPLE");
        check_filter(&eav, &seeds, apple, |s| s.name.to_lowercase().starts_with("apple")).await;
        check_filter(&eav, &seeds, ci("name", "eq", "APPLE"), |s| s.name.to_lowercase() == "apple").await;
        check_filter(&eav, &seeds, f("price", "is_null", json!(true)), |s| s.price.is_none()).await;
        check_filter(&eav, &seeds, f("price", "is_null", json!(false)), |s| s.price.is_some()).await;
        check_filter(&eav, &seeds, f("released", "is_null", json!(true)), |s| s.released.is_none()).await;
        let between = f("price", "between", json!(["1.25", "3.75"]));
        check_filter(&eav, &seeds, between, |s| price(s, |p| (125..=375).contains(&p))).await;
        check_filter(&eav, &seeds, f("released", "between", json!(["2024-01-05", "2024-01-12"])),
            |s| s.released.is_some_and(|d| (5..=12).contains(&d))).await;
        // Promoted fields.
        check_filter(&eav, &seeds, f("id", "eq", json!(seeds[5].id)), |s| s.id == seeds[5].id).await;
        check_filter(&eav, &seeds, f("code", "eq", json!("C004")), |s| s.code.as_deref() == Some("C004")).await;
        check_filter(&eav, &seeds, f("code", "ne", json!("C004")), |s| code(s, |c| c != "C004")).await;
        check_filter(&eav, &seeds, f("code", "lt", json!("C010")), |s| code(s, |c| c < "C010")).await;
        let prefix = f("code", "starts_with", json!("C01"));
        check_filter(&eav, &seeds, prefix, |s| code(s, |c| c.starts_with("C01"))).await;
        check_filter(&eav, &seeds, f("code", "is_null", json!(true)), |s| s.code.is_none()).await;
        check_filter(&eav, &seeds, f("sort_order", "in", json!([1, 3])), |s| [1, 3].contains(&s.sort_order)).await;
        let between = f("sort_order", "between", json!([1, 2]));
        check_filter(&eav, &seeds, between, |s| (1..=2).contains(&s.sort_order)).await;
        check_filter(&eav, &seeds, f("sort_order", "gt", json!(2)), |s| s.sort_order > 2).await;
        check_filter(&eav, &seeds, f("is_active", "eq", json!(false)), |s| !s.is_active).await;
        // Extended properties (strings and numbers, nested paths).
        check_filter(&eav, &seeds, f("ext.color", "eq", json!("red")), |s| s.color == Some("red")).await;
        check_filter(&eav, &seeds, f("ext.color", "ne", json!("red")), |s| color(s, |c| c != "red")).await;
        let in_rb = f("ext.color", "in", json!(["red", "blue"]));
        check_filter(&eav, &seeds, in_rb, |s| color(s, |c| c == "red" || c == "blue")).await;
        check_filter(&eav, &seeds, f("ext.color", "starts_with", json!("gr")), |s| s.color == Some("green")).await;
        check_filter(&eav, &seeds, f("ext.color", "is_null", json!(true)), |s| s.color.is_none()).await;
        check_filter(&eav, &seeds, f("ext.size", "is_null", json!(false)), |s| s.size.is_some()).await;
        check_filter(&eav, &seeds, f("ext.size", "gt", json!(10)), |s| s.size.is_some_and(|v| v > 10)).await;
        let between = f("ext.size", "between", json!([4, 8]));
        check_filter(&eav, &seeds, between, |s| s.size.is_some_and(|v| (4..=8).contains(&v))).await;
        check_filter(&eav, &seeds, f("ext.dims.w", "ge", json!(20)), |s| s.width >= 20).await;
        check_filter(&eav, &seeds, f("ext.dims.w", "lt", json!(3)), |s| s.width < 3).await;
        // Groups.
        let nested = json!({"or": [
            {"and": [f("category", "eq", json!("a")), f("price", "ge", json!("2.50"))]},
            {"and": [f("is_active", "eq", json!(false)), f("ext.size", "is_null", json!(true))]},
        ]});
        check_filter(&eav, &seeds, nested, |s| {
            (s.category == Some("a") && price(s, |p| p >= 250)) || (!s.is_active && s.size.is_none())
        }).await;
        let all_of = json!({"and": [f("category", "in", json!(["a", "b"])), f("qty", "ge", json!(5)),
                                    f("ext.color", "eq", json!("green"))]});
        check_filter(&eav, &seeds, all_of, |s| {
            matches!(s.category, Some("a" | "b")) && qty(s, |q| q >= 5) && s.color == Some("green")
        }).await;
    }

    async fn query_sorting(db: Database) {
        let eav = setup(&db);
        let seeds = seed_products(&eav).await;
        let want = expected_order(&seeds, |a, b| {
            by(a.category, b.category, false, false).then(by(a.price, b.price, true, false))
        });
        let sort = json!([{"field": "category", "direction": "asc"}, {"field": "price", "direction": "desc"}]);
        assert_eq!(sorted_ids(&eav, sort).await, want, "category asc, price desc, NULLs last");
        let want = expected_order(&seeds, |a, b| by(a.category, b.category, true, false));
        let sort = json!([{"field": "category", "direction": "desc"}]);
        assert_eq!(sorted_ids(&eav, sort).await, want, "desc: NULLs last, ties by id");
        let want = expected_order(&seeds, |a, b| by(a.price, b.price, false, true));
        assert_eq!(sorted_ids(&eav, json!([{"field": "price", "nulls": "first"}])).await, want);
        let want = expected_order(&seeds, |a, b| by(a.price, b.price, true, true));
        let sort = json!([{"field": "price", "direction": "desc", "nulls": "first"}]);
        assert_eq!(sorted_ids(&eav, sort).await, want);
        let want = expected_order(&seeds, |a, b| by(a.code.as_deref(), b.code.as_deref(), true, false));
        assert_eq!(sorted_ids(&eav, json!([{"field": "code", "direction": "desc"}])).await, want);
        let want = expected_order(&seeds, |a, b| {
            a.sort_order.cmp(&b.sort_order).then(by(a.color, b.color, true, true))
        });
        let sort = json!([{"field": "sort_order"}, {"field": "ext.color", "direction": "desc", "nulls": "first"}]);
        assert_eq!(sorted_ids(&eav, sort).await, want);
        let want = expected_order(&seeds, |_, _| Ordering::Equal);
        assert_eq!(sorted_ids(&eav, Value::Null).await, want, "no sort: by id");

        // Strings by code point: "B" < "a" < "é".
        let want = expected_order(&seeds, |a, b| a.name.cmp(&b.name));
        let got = sorted_ids(&eav, json!([{"field": "name"}])).await;
        assert_eq!(got, want);
        let position = |name: &str| {
            let id = seeds.iter().find(|s| s.name == name).unwrap().id;
            got.iter().position(|g| *g == id).unwrap()
        };
        assert!(position("B") < position("a") && position("a") < position("é"));
    }

    async fn query_pagination(db: Database) {
        let eav = setup(&db);
        let seeds = seed_products(&eav).await;
        let sys = Actor::system();
        let by_category = json!([{"field": "category"}, {"field": "price", "direction": "desc"}]);
        let active = json!({"field": "is_active", "op": "eq", "value": true});
        for base in [
            json!({"sort": by_category}),
            json!({"sort": [{"field": "price", "nulls": "first"}], "filter": active}),
            json!({"sort": [{"field": "name", "direction": "desc"}, {"field": "ext.color"}]}),
            json!({}),
        ] {
            let mut single = base.clone();
            single["limit"] = json!(1000);
            let full = ids_of(&query(&eav, &sys, "products", single).await.unwrap());
            let paged = all_pages(&eav, &base, 7).await;
            assert_eq!(paged, full, "keyset pages of {base}");
            assert_eq!(paged.iter().collect::<HashSet<_>>().len(), paged.len(), "no duplicates");
            let mut by_offset = Vec::new();
            for offset in (0..35).step_by(7) {
                let mut body = base.clone();
                body["limit"] = json!(7);
                body["offset"] = json!(offset);
                by_offset.extend(ids_of(&query(&eav, &sys, "products", body).await.unwrap()));
            }
            assert_eq!(by_offset, full, "offset pages of {base}");
        }
        assert_eq!(all_pages(&eav, &json!({}), 7).await.len(), seeds.len());

        // Cursors are bound to their query and tamper-checked.
        let first = query(&eav, &sys, "products", json!({"sort": by_category, "limit": 7})).await.unwrap();
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let mut chars: Vec<char> = cursor.chars().collect();
        let mid = chars.len() / 2;
        chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        let body = json!({"sort": by_category, "limit": 7, "cursor": tampered});
        expect_bad_request(query(&eav, &sys, "products", body).await, "cursor", None);
        let body = json!({"sort": [{"field": "name"}], "limit": 7, "cursor": cursor});
        expect_bad_request(query(&eav, &sys, "products", body).await, "cursor", None);
        let body = json!({"sort": by_category, "filter": active, "limit": 7, "cursor": cursor});
        expect_bad_request(query(&eav, &sys, "products", body).await, "cursor", None);
        let body = json!({"sort": by_category, "limit": 7, "cursor": cursor, "include_total": "exact"});
        let second = query(&eav, &sys, "products", body).await.unwrap();
        assert_eq!(second["items"].as_array().unwrap().len(), 7);
        assert_eq!(second["total"], 30, "the total ignores the cursor");
    }

    async fn query_totals_projection_and_bad_input(db: Database) {
        let eav = setup(&db);
        let seeds = seed_products(&eav).await;
        let sys = Actor::system();
        let in_a = json!({"field": "category", "op": "eq", "value": "a"});
        let expected = seeds.iter().filter(|s| s.category == Some("a")).count();
        let page = query(&eav, &sys, "products", json!({"filter": in_a, "limit": 3, "include_total": "exact"}))
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        assert_eq!(page["total"].as_u64(), Some(expected as u64));
        assert_eq!(page["total_is_estimate"], false);
        let estimate = json!({"filter": in_a, "include_total": "estimate"});
        let page = query(&eav, &sys, "products", estimate).await.unwrap();
        assert!(page["total"].as_i64().is_some_and(|n| n >= 0), "{page}");
        assert_eq!(page["total_is_estimate"], db.backend() == Backend::Postgres);
        let page = query(&eav, &sys, "products", json!({"limit": 2})).await.unwrap();
        assert!(page["total"].is_null(), "no total unless asked");

        let page = query(&eav, &sys, "products", json!({"columns": ["name"], "limit": 5})).await.unwrap();
        for item in page["items"].as_array().unwrap() {
            let keys: Vec<&String> = item["values"].as_object().unwrap().keys().collect();
            assert_eq!(keys, ["name"], "{item}");
        }

        let bad = |body: Value| {
            let eav = eav.clone();
            async move { query(&eav, &Actor::system(), "products", body).await }
        };
        let unknown = bad(json!({"filter": {"field": "nope", "op": "eq", "value": 1}})).await;
        expect_bad_request(unknown, "filter.field", Some(ErrorCode::UnknownField));
        let filter = |field: &str, op: &str, value: Value| {
            json!({"filter": {"field": field, "op": op, "value": value}})
        };
        expect_bad_request(bad(filter("ext.a-b", "eq", json!(1))).await, "filter.field", None);
        expect_bad_request(bad(filter("qty", "eq", json!("abc"))).await, "filter.value", None);
        expect_bad_request(bad(filter("qty", "contains", json!("1"))).await, "filter.op", None);
        expect_bad_request(bad(filter("qty", "near", json!(1))).await, "filter.op", None);
        expect_bad_request(bad(json!({"filter": {"and": [in_a, {"field": "nope", "op": "eq", "value": 1}]}})).await,
            "filter.and[1].field", None);
        expect_bad_request(bad(json!({"sort": [{"field": "nope"}]})).await, "sort[0].field", None);
        expect_bad_request(bad(json!({"columns": ["nope"]})).await, "columns[0]", None);
        expect_bad_request(bad(json!({"limit": 5000})).await, "limit", None);
        expect_bad_request(bad(json!({"limit": 0})).await, "limit", None);
        expect_bad_request(bad(json!({"cursor": "abc", "offset": 3})).await, "offset", None);
        expect_bad_request(bad(json!({"colour": "red"})).await, "colour", Some(ErrorCode::UnknownField));
        expect_not_found(query(&eav, &sys, "missing", json!({})).await);
    }

    // --- 11. Batches -------------------------------------------------------------------------------------------

    async fn batches(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        shop(&eav, "products").await;
        let make = |name: &str| json!({"op": "create", "values": {"name": name}});
        let bad_price = json!({"op": "create", "values": {"name": "three", "price": -1}});
        let body = json!({"operations": [make("one"), make("two"), bad_price]});
        let failed = eav.batch(&sys, "products", &body).await;
        match failed {
            Err(Error::Validation(errors)) => {
                assert!(errors.iter().all(|e| e.field.starts_with("operations[2]")), "{errors:?}");
                let price = errors.iter().find(|e| e.field == "operations[2].values.price");
                assert_eq!(price.map(|e| e.code), Some(ErrorCode::Range), "{errors:?}");
            }
            other => panic!("expected 422, got {other:?}"),
        }
        assert_eq!(count(&eav, "products").await, 0, "all_or_nothing rolls back the earlier operations");

        let missing = Uuid::now_v7();
        let body = json!({"mode": "continue", "operations": [
            make("one"), {"op": "create", "values": {"qty": 1}}, make("three"), {"op": "delete", "id": missing},
        ]});
        let outcome = eav.batch(&sys, "products", &body).await.unwrap();
        assert_eq!(outcome.mode, Mode::Continue);
        let mut created = Vec::new();
        for (i, result) in outcome.results.iter().enumerate() {
            match (i, result) {
                (0 | 2, ItemResult::Ok(Some(row))) => created.push(row_id(row)),
                (1, ItemResult::Failed(Error::Validation(errors))) => {
                    let name = errors.iter().find(|e| e.field == "operations[1].values.name");
                    assert_eq!(name.map(|e| e.code), Some(ErrorCode::Required), "{errors:?}");
                }
                (3, ItemResult::Failed(Error::NotFound(_))) => {}
                other => panic!("unexpected result {other:?}"),
            }
        }
        assert_eq!(outcome.results.len(), 4);
        assert_eq!(count(&eav, "products").await, 2, "continue keeps the good operations");

        let (one, three) = (created[0], created[1]);
        let body = json!({"operations": [
            {"op": "update", "id": one, "version": 1, "values": {"qty": 9}},
            {"op": "delete", "id": three, "version": 1},
        ]});
        let outcome = eav.batch(&sys, "products", &body).await.unwrap();
        assert_eq!(outcome.mode, Mode::AllOrNothing);
        match &outcome.results[..] {
            [ItemResult::Ok(Some(row)), ItemResult::Ok(None)] => {
                assert_eq!(row["version"], 2);
                assert_eq!(row["values"]["qty"], 9);
            }
            other => panic!("unexpected results {other:?}"),
        }
        expect_not_found(eav.get_row(&sys, "products", three).await);
        let stale = json!({"operations": [{"op": "update", "id": one, "version": 1, "values": {"qty": 10}}]});
        expect_conflict(eav.batch(&sys, "products", &stale).await);
        assert_eq!(get(&eav, &sys, "products", one).await["values"]["qty"], 9);

        let many: Vec<Value> = (0..1001).map(|i| make(&format!("n{i}"))).collect();
        expect_bad_request(eav.batch(&sys, "products", &json!({"operations": many})).await, "operations", None);
        expect_bad_request(eav.batch(&sys, "products", &json!({"operations": []})).await, "operations", None);
        let mode = eav.batch(&sys, "products", &json!({"mode": "sometimes", "operations": [make("x")]})).await;
        expect_bad_request(mode, "mode", None);
        assert_eq!(count(&eav, "products").await, 1);

        // A later operation may reference a row created earlier in the same batch.
        labelled(&eav, json!({"table_name": "tree", "is_hierarchical": true})).await;
        let parent = Uuid::now_v7();
        let body = json!({"operations": [
            {"op": "create", "id": parent, "values": {"label": "p"}},
            {"op": "create", "values": {"label": "c"}, "parent_row_id": parent},
        ]});
        let outcome = eav.batch(&sys, "tree", &body).await.unwrap();
        match &outcome.results[..] {
            [ItemResult::Ok(Some(p)), ItemResult::Ok(Some(c))] => {
                assert_eq!(row_id(p), parent);
                assert_eq!(c["parent_row_id"], json!(parent));
            }
            other => panic!("unexpected results {other:?}"),
        }
        assert_eq!(relatives(&eav, "tree", parent, Relatives::Children).await.len(), 1);
    }

    // --- 12. Outbox and audit ----------------------------------------------------------------------------------

    async fn writes_record_events_and_audit_entries(db: Database) {
        let eav = setup(&db);
        shop(&eav, "products").await;
        let user = Uuid::now_v7();
        let (ip, user_agent) = (Some("192.0.2.7".to_owned()), Some("tests".to_owned()));
        let actor = Actor { user_id: Some(user), ip, user_agent, unmask: false };
        let row = eav.create_row(&actor, "products", &json!({"values": {"name": "audited"}})).await.unwrap();
        let id = row_id(&row);
        assert_eq!(row["created_by"], json!(user));
        let body = json!({"version": 1, "values": {"name": "changed"}});
        let row = eav.update_row(&actor, "products", id, &body, None, UpdateMode::Merge).await.unwrap();
        assert_eq!(row["updated_by"], json!(user));
        eav.delete_row(&actor, "products", id, Some(2), false).await.unwrap();

        let row_event = |t: &str| (t.to_owned(), "row".to_owned());
        assert_eq!(
            events_of(&db, id).await,
            vec![row_event("RowCreated"), row_event("RowUpdated"), row_event("RowDeleted")]
        );
        let audit = audit_of(&db, id).await;
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["RowCreated", "RowUpdated", "RowDeleted"]);
        for entry in &audit {
            assert_eq!(entry.entity_type, "row");
            assert_eq!(entry.actor, Some(user));
        }
        let name = |v: &Option<Value>| v.as_ref().map(|v| v["values"]["name"].clone());
        assert!(audit[0].before.is_none());
        assert_eq!(name(&audit[0].after), Some(json!("audited")));
        assert_eq!(name(&audit[1].before), Some(json!("audited")));
        assert_eq!(name(&audit[1].after), Some(json!("changed")));
        assert_eq!(name(&audit[2].before), Some(json!("changed")));
        assert!(audit[2].after.is_none());

        let (events, entries) = (count_records(&db, "domain_events").await, count_records(&db, "audit_log").await);
        let failed = eav.create_row(&actor, "products", &json!({"values": {"qty": 1}})).await;
        expect_validation(failed, "values.name", ErrorCode::Required);
        let failed = eav.create_row(&actor, "products", &json!({"values": {"name": "x", "price": -1}})).await;
        expect_validation(failed, "values.price", ErrorCode::Range);
        assert_eq!(count_records(&db, "domain_events").await, events, "a failed write records no event");
        assert_eq!(count_records(&db, "audit_log").await, entries, "a failed write records no audit entry");
    }

    // --- 13. Cache policies ------------------------------------------------------------------------------------

    async fn cache_policies_are_invalidated_by_writes(db: Database) {
        let eav = setup(&db);
        let (sys, reader) = (Actor::system(), Actor::default());
        let labels = |actor: Actor, table: &'static str| {
            let eav = eav.clone();
            async move {
                let page = query(&eav, &actor, table, json!({})).await.unwrap();
                page["items"].as_array().unwrap().iter().map(|r| r["values"]["label"].clone()).collect::<Vec<_>>()
            }
        };
        for (table, policy) in [("rows_cached", "IndividualRows"), ("table_cached", "FullTable")] {
            let body = json!({"table_name": table, "cache_policy": policy});
            let created = eav.create_table(&sys, &body).await.unwrap();
            assert_eq!(created["cache_policy"], policy);
            eav.attach_column(&sys, table, &json!({"column_name": "label", "data_type": "String"})).await.unwrap();
            let pin = json!({"column_name": "pin", "data_type": "String", "masking_rule": "full"});
            eav.attach_column(&sys, table, &pin).await.unwrap();
            let id = create(&eav, table, json!({"values": {"label": "v1", "pin": "1234"}})).await;
            for _ in 0..2 {
                assert_eq!(get(&eav, &sys, table, id).await["values"]["pin"], "1234", "{policy}");
                assert_eq!(get(&eav, &reader, table, id).await["values"]["pin"], FULL_MASKED, "{policy}");
                assert_eq!(labels(sys.clone(), table).await, [json!("v1")], "{policy}");
            }
            let page = query(&eav, &reader, table, json!({})).await.unwrap();
            assert_eq!(page["items"][0]["values"]["pin"], FULL_MASKED, "{policy}");

            patch(&eav, table, id, json!({"version": 1, "values": {"label": "v2"}})).await.unwrap();
            assert_eq!(get(&eav, &sys, table, id).await["values"]["label"], "v2", "{policy}: row after update");
            assert_eq!(get(&eav, &reader, table, id).await["values"]["label"], "v2", "{policy}");
            assert_eq!(labels(sys.clone(), table).await, [json!("v2")], "{policy}: query after update");
            let second = create(&eav, table, json!({"values": {"label": "w1"}})).await;
            assert_eq!(labels(sys.clone(), table).await, [json!("v2"), json!("w1")], "{policy}: after create");
            eav.delete_row(&sys, table, id, None, false).await.unwrap();
            expect_not_found(eav.get_row(&sys, table, id).await);
            assert_eq!(labels(sys.clone(), table).await, [json!("w1")], "{policy}: after delete");
            // A schema change retires cached rows and pages.
            let shade = json!({"column_name": "shade", "data_type": "String", "default_value": "dark"});
            eav.attach_column(&sys, table, &shade).await.unwrap();
            assert_eq!(get(&eav, &sys, table, second).await["values"]["shade"], "dark", "{policy}");
            let page = query(&eav, &sys, table, json!({})).await.unwrap();
            assert_eq!(page["items"][0]["values"]["shade"], "dark", "{policy}");
        }
    }

    async fn cached_rows_follow_batch_writes_and_cascading_deletes(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        let body = json!({"table_name": "cached_tree", "is_hierarchical": true, "cache_policy": "IndividualRows"});
        labelled(&eav, body).await;
        let parent = create(&eav, "cached_tree", json!({"values": {"label": "p"}})).await;
        let child = create(&eav, "cached_tree", json!({"values": {"label": "c"}, "parent_row_id": parent})).await;
        assert_eq!(get(&eav, &sys, "cached_tree", child).await["values"]["label"], "c");
        let body = json!({"operations": [{"op": "update", "id": child, "version": 1, "values": {"label": "c2"}}]});
        let outcome = eav.batch(&sys, "cached_tree", &body).await.unwrap();
        assert!(matches!(&outcome.results[..], [ItemResult::Ok(Some(_))]), "{outcome:?}");
        assert_eq!(
            get(&eav, &sys, "cached_tree", child).await["values"]["label"],
            "c2",
            "a batch update must invalidate the cached row"
        );
        eav.delete_row(&sys, "cached_tree", parent, None, true).await.unwrap();
        expect_not_found(eav.get_row(&sys, "cached_tree", child).await);
    }

    async fn cached_pages_follow_definition_changes(db: Database) {
        let eav = setup(&db);
        let (sys, reader) = (Actor::system(), Actor::default());
        labelled(&eav, json!({"table_name": "cached_pages", "cache_policy": "FullTable"})).await;
        create(&eav, "cached_pages", json!({"values": {"label": "in clear"}})).await;
        let page = query(&eav, &reader, "cached_pages", json!({})).await.unwrap();
        assert_eq!(page["items"][0]["values"]["label"], "in clear");
        eav.update_definition(&sys, "label", &json!({"masking_rule": "full"})).await.unwrap();
        let page = query(&eav, &reader, "cached_pages", json!({})).await.unwrap();
        assert_eq!(page["items"][0]["values"]["label"], FULL_MASKED, "a new masking rule applies to cached pages");
    }

    // --- Decimals compare exactly on both backends -------------------------------------------------------------

    async fn decimal_filters_and_sorts_are_exact(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        shop(&eav, "products").await;
        let low = create(&eav, "products", json!({"values": {"name": "low", "price": "0.1"}})).await;
        let high = json!({"values": {"name": "high", "price": "0.10000000000000001"}});
        let high = create(&eav, "products", high).await;
        let eq = json!({"filter": {"field": "price", "op": "eq", "value": "0.1"}});
        assert_eq!(ids_of(&query(&eav, &sys, "products", eq).await.unwrap()), [low]);
        let gt = json!({"filter": {"field": "price", "op": "gt", "value": "0.1"}});
        assert_eq!(ids_of(&query(&eav, &sys, "products", gt).await.unwrap()), [high]);
        let desc = json!({"sort": [{"field": "price", "direction": "desc"}]});
        assert_eq!(ids_of(&query(&eav, &sys, "products", desc).await.unwrap()), [high, low]);
    }

    // --- Page queries: the index walk and the general statement agree ---------------------------------------

    async fn pages_agree_with_a_full_sort_at_every_selectivity(db: Database) {
        // 2,400 rows, walked 1,000 sort entries at a time for pages of 25 (the smallest walk budget): filters
        // from 1 % to 80 %, ties in the first key cut by the walk, NULL sort values at the end, cursors
        // inside tie groups. On PostgreSQL the walk answers some pages and the general statement the rest;
        // on SQLite the general statement answers all of them. Either way the order is the oracle's.
        let eav = setup(&db);
        let sys = Actor::system();
        eav.create_table(&sys, &json!({"table_name": "walk"})).await.unwrap();
        for column in [
            json!({"column_name": "score", "data_type": "Int"}),
            json!({"column_name": "price", "data_type": "Decimal"}),
            json!({"column_name": "tag", "data_type": "String"}),
            json!({"column_name": "day", "data_type": "Date"}),
        ] {
            eav.attach_column(&sys, "walk", &column).await.unwrap();
        }
        struct W {
            id: Uuid,
            score: i64,
            price: Option<i64>,
            tag: String,
            day: Option<i64>,
        }
        let mut rows: Vec<W> = Vec::new();
        for chunk in 0..3_i64 {
            let mut operations = Vec::new();
            let mut made = Vec::new();
            for i in chunk * 800..(chunk + 1) * 800 {
                let w = W {
                    id: Uuid::now_v7(),
                    score: (i * 7919) % 37,
                    price: (i % 11 != 0).then_some((i * 104_729) % 500),
                    tag: format!("t{:02}", (i * 31) % 100),
                    day: (i % 13 != 0).then_some(1 + (i * 17) % 28),
                };
                operations.push(json!({"op": "create", "id": w.id, "values": {
                    "score": w.score, "price": w.price.map(cents), "tag": w.tag,
                    "day": w.day.map(|d| format!("2024-02-{d:02}")),
                }}));
                made.push(w);
            }
            let outcome = eav.batch(&sys, "walk", &json!({"operations": operations})).await.unwrap();
            assert_eq!(outcome.results.len(), 800);
            rows.extend(made);
        }
        type Keep = Box<dyn Fn(&W) -> bool>;
        let filters: Vec<(Value, Keep)> = vec![
            (json!(null), Box::new(|_| true)),
            (json!({"field": "tag", "op": "eq", "value": "t07"}), Box::new(|w| w.tag == "t07")),
            (
                json!({"field": "tag", "op": "in", "value": ["t01", "t02", "t03", "t04", "t05"]}),
                Box::new(|w| ["t01", "t02", "t03", "t04", "t05"].contains(&w.tag.as_str())),
            ),
            (json!({"field": "score", "op": "lt", "value": 30}), Box::new(|w| w.score < 30)),
            (
                json!({"or": [{"field": "tag", "op": "starts_with", "value": "t9"},
                              {"field": "day", "op": "is_null", "value": true}]}),
                Box::new(|w| w.tag.starts_with("t9") || w.day.is_none()),
            ),
        ];
        type Cmp = Box<dyn Fn(&W, &W) -> Ordering>;
        let sorts: Vec<(Value, Cmp)> = vec![
            (
                json!([{"field": "price", "direction": "desc"}]),
                Box::new(|a, b| by(a.price, b.price, true, false)),
            ),
            (json!([{"field": "score"}]), Box::new(|a, b| a.score.cmp(&b.score))),
            (
                json!([{"field": "day", "direction": "desc"}, {"field": "price"}]),
                Box::new(|a, b| by(a.day, b.day, true, false).then(by(a.price, b.price, false, false))),
            ),
            (
                json!([{"field": "score", "direction": "desc"}, {"field": "tag", "direction": "desc"}]),
                Box::new(|a, b| b.score.cmp(&a.score).then(b.tag.cmp(&a.tag))),
            ),
        ];
        for (filter, keep) in &filters {
            for (sort, cmp) in &sorts {
                let mut want: Vec<&W> = rows.iter().filter(|w| keep(w)).collect();
                want.sort_by(|a, b| cmp(a, b).then(a.id.cmp(&b.id)));
                let want: Vec<Uuid> = want.iter().take(150).map(|w| w.id).collect();
                let mut got = Vec::new();
                let mut cursor: Option<String> = None;
                while got.len() < want.len() {
                    let mut body = json!({"filter": filter, "sort": sort, "limit": 25});
                    if let Some(c) = &cursor {
                        body["cursor"] = json!(c);
                    }
                    let page = query(&eav, &sys, "walk", body).await.unwrap();
                    got.extend(ids_of(&page));
                    match page["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_owned()),
                        None => break,
                    }
                }
                got.truncate(want.len());
                assert_eq!(got, want, "filter {filter}, sort {sort}");
            }
        }
    }

    async fn long_text_values_are_stored_and_searched(db: Database) {
        let eav = setup(&db);
        let sys = Actor::system();
        eav.create_table(&sys, &json!({"table_name": "notes"})).await.unwrap();
        eav.attach_column(&sys, "notes", &json!({"column_name": "body", "data_type": "Text"})).await.unwrap();
        let long: String = (0..2_000).map(|i| format!("{i:05}")).collect();
        let id = create(&eav, "notes", json!({"values": {"body": long}})).await;
        assert_eq!(get(&eav, &sys, "notes", id).await["values"]["body"], json!(long));
        let hit = json!({"filter": {"field": "body", "op": "contains", "value": "01999"}});
        assert_eq!(ids_of(&query(&eav, &sys, "notes", hit).await.unwrap()), [id]);
        let miss = json!({"filter": {"field": "body", "op": "contains", "value": "x"}});
        assert!(ids_of(&query(&eav, &sys, "notes", miss).await.unwrap()).is_empty());
        let patched = patch(&eav, "notes", id, json!({"version": 1, "values": {"body": "short"}})).await.unwrap();
        assert_eq!(patched["values"]["body"], "short");
    }

    async fn reads_see_schema_changes_made_by_another_instance(db: Database) {
        // Two facades over one database with their own table caches, as two server instances would be.
        let (first, second) = (setup(&db), setup(&db));
        let (sys, reader) = (Actor::system(), Actor::default());
        labelled(&first, json!({"table_name": "shared"})).await;
        let id = create(&first, "shared", json!({"values": {"label": "abcdefgh"}})).await;
        assert_eq!(get(&first, &reader, "shared", id).await["values"]["label"], "abcdefgh");
        assert_eq!(query(&first, &reader, "shared", json!({})).await.unwrap()["items"][0]["values"]["label"], "abcdefgh");

        second.update_definition(&sys, "label", &json!({"masking_rule": "partial:4"})).await.unwrap();
        let qty = json!({"column_name": "qty", "data_type": "Int", "default_value": 7});
        second.attach_column(&sys, "shared", &qty).await.unwrap();
        let row = get(&first, &reader, "shared", id).await;
        assert_eq!(row["values"], json!({"label": PARTIAL_MASKED, "qty": 7}), "{row}");
        let page = query(&first, &reader, "shared", json!({"sort": [{"field": "qty"}]})).await.unwrap();
        assert_eq!(page["items"][0]["values"], json!({"label": PARTIAL_MASKED, "qty": 7}), "{page}");

        second.delete_table(&sys, "shared").await.unwrap();
        labelled(&second, json!({"table_name": "shared"})).await;
        expect_not_found(first.get_row(&reader, "shared", id).await);
        assert!(ids_of(&query(&first, &reader, "shared", json!({})).await.unwrap()).is_empty());
    }
}
