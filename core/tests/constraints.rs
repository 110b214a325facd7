//! Declared constraints on both backends: composite, case-insensitive and JSON-path keys, CHECK expressions,
//! declaration on existing data, enable/disable/drop, and race-free keys under concurrent writers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tessera_core::eav::rows::UpdateMode;
use tessera_core::eav::Eav;
use tessera_core::events::Actor;
use tessera_core::{Database, Error, ErrorCode, Violation};
use uuid::Uuid;

fn eav(db: &Database) -> Eav {
    tessera_core::testing::services(db.clone()).eav()
}

/// `order_lines(order_no Int, line_no Int, sku String, qty Int, price Decimal, email String)`.
async fn order_lines(eav: &Eav) {
    let sys = Actor::system();
    eav.create_table(&sys, &json!({"table_name": "order_lines"})).await.unwrap();
    for (name, ty) in [
        ("order_no", "Int"),
        ("line_no", "Int"),
        ("sku", "String"),
        ("qty", "Int"),
        ("price", "Decimal"),
        ("email", "String"),
    ] {
        eav.attach_column(&sys, "order_lines", &json!({"column_name": name, "data_type": ty})).await.unwrap();
    }
}

async fn insert(eav: &Eav, body: Value) -> Result<Value, Error> {
    eav.create_row(&Actor::system(), "order_lines", &body).await
}

fn id_of(row: &Value) -> Uuid {
    Uuid::parse_str(row["id"].as_str().unwrap()).unwrap()
}

/// Asserts a 422 constraint violation naming `constraint` with `code`; returns the violation.
#[track_caller]
fn expect_violation<T: std::fmt::Debug>(
    result: Result<T, Error>,
    constraint: &str,
    code: ErrorCode,
) -> Violation {
    match result {
        Err(Error::Violation { errors, violations }) => {
            assert!(errors.iter().any(|e| e.code == code), "expected {code:?}, got {errors:?}");
            violations
                .into_iter()
                .find(|v| v.constraint == constraint)
                .unwrap_or_else(|| panic!("no violation of {constraint}"))
        }
        other => panic!("expected a violation of {constraint}, got {other:?}"),
    }
}

#[track_caller]
fn expect_bad_request<T: std::fmt::Debug>(result: Result<T, Error>, needle: &str) {
    match result {
        Err(Error::BadRequest(errors)) => {
            assert!(
                errors.iter().any(|e| e.message.contains(needle) || e.field.contains(needle)),
                "{errors:?}"
            )
        }
        other => panic!("expected 400 mentioning {needle}, got {other:?}"),
    }
}

tessera_core::conformance! {
    async fn composite_primary_key(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        let pk = eav.declare_constraint(&sys, "order_lines",
            &json!({"constraint_name": "pk_lines", "constraint_type": "PRIMARY KEY", "columns": ["order_no", "line_no"]})).await.unwrap();
        assert_eq!(pk["columns"], json!(["order_no", "line_no"]));
        assert_eq!(eav.get_table("order_lines").await.unwrap()["constraints"][0]["constraint_name"], "pk_lines");

        let first = insert(&eav, json!({"values": {"order_no": 1, "line_no": 1, "sku": "a"}})).await.unwrap();
        insert(&eav, json!({"values": {"order_no": 1, "line_no": 2, "sku": "b"}})).await.unwrap();
        insert(&eav, json!({"values": {"order_no": 2, "line_no": 1, "sku": "c"}})).await.unwrap();
        let v = expect_violation(insert(&eav, json!({"values": {"order_no": 1, "line_no": 1}})).await, "pk_lines", ErrorCode::PrimaryKey);
        assert_eq!(v.kind, "PRIMARY KEY");
        assert_eq!(v.columns, ["order_no", "line_no"]);
        assert_eq!(v.values, [json!(1), json!(1)]);
        // A primary key implies NOT NULL.
        expect_violation(insert(&eav, json!({"values": {"order_no": 3}})).await, "pk_lines", ErrorCode::PrimaryKey);

        // Updating into a taken key fails; moving away frees it.
        let second = insert(&eav, json!({"values": {"order_no": 5, "line_no": 5}})).await.unwrap();
        let moved = eav.update_row(&sys, "order_lines", id_of(&second), &json!({"version": 1, "values": {"order_no": 1, "line_no": 2}}), None, UpdateMode::Merge).await;
        expect_violation(moved, "pk_lines", ErrorCode::PrimaryKey);
        eav.update_row(&sys, "order_lines", id_of(&first), &json!({"version": 1, "values": {"line_no": 9}}), None, UpdateMode::Merge).await.unwrap();
        insert(&eav, json!({"values": {"order_no": 1, "line_no": 1}})).await.unwrap();
        eav.delete_row(&sys, "order_lines", id_of(&second), None, false).await.unwrap();
        insert(&eav, json!({"values": {"order_no": 5, "line_no": 5}})).await.unwrap();

        // One primary key per table; names are unique.
        let again = eav.declare_constraint(&sys, "order_lines",
            &json!({"constraint_name": "pk_other", "constraint_type": "PRIMARY KEY", "columns": ["sku"]})).await;
        assert!(matches!(again, Err(Error::Duplicate(_))), "{again:?}");
        let same_name = eav.declare_constraint(&sys, "order_lines",
            &json!({"constraint_name": "pk_lines", "constraint_type": "UNIQUE", "columns": ["sku"]})).await;
        assert!(matches!(same_name, Err(Error::Duplicate(_))), "{same_name:?}");
    }

    async fn case_insensitive_and_json_path_unique_keys(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_email", "constraint_type": "UNIQUE",
            "columns": ["email"], "case_sensitive": false})).await.unwrap();
        insert(&eav, json!({"values": {"email": "Ann@Example.com"}})).await.unwrap();
        expect_violation(insert(&eav, json!({"values": {"email": "ann@example.COM"}})).await, "uq_email", ErrorCode::Unique);
        // NULLs never collide.
        insert(&eav, json!({"values": {"sku": "x"}})).await.unwrap();
        insert(&eav, json!({"values": {"sku": "y"}})).await.unwrap();

        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_handle", "constraint_type": "UNIQUE",
            "json_properties": [{"path": "profile.handle", "case_sensitive": false}]})).await.unwrap();
        insert(&eav, json!({"extended_properties": {"profile": {"handle": "Rocky"}}})).await.unwrap();
        let v = expect_violation(insert(&eav, json!({"extended_properties": {"profile": {"handle": "ROCKY"}}})).await, "uq_handle", ErrorCode::Unique);
        assert_eq!(v.values, [json!("ROCKY")]);
        insert(&eav, json!({"extended_properties": {"profile": {"handle": "rocky2"}}})).await.unwrap();

        // A case-sensitive composite key with a JSON path.
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_sku_region", "constraint_type": "UNIQUE",
            "columns": ["sku"], "json_properties": [{"path": "region"}]})).await.unwrap();
        insert(&eav, json!({"values": {"sku": "k"}, "extended_properties": {"region": "eu"}})).await.unwrap();
        insert(&eav, json!({"values": {"sku": "k"}, "extended_properties": {"region": "EU"}})).await.unwrap();
        expect_violation(insert(&eav, json!({"values": {"sku": "k"}, "extended_properties": {"region": "eu"}})).await, "uq_sku_region", ErrorCode::Unique);

        expect_bad_request(eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_bad",
            "constraint_type": "UNIQUE", "json_properties": [{"path": "a-b"}]})).await, "json_properties[0].path");
        expect_bad_request(eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_none",
            "constraint_type": "UNIQUE", "columns": ["nope"]})).await, "nope");
    }

    async fn check_constraints(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        let ck = eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_qty", "constraint_type": "CHECK",
            "check_expression": "qty BETWEEN 1 AND 100 AND (price IS NULL OR price >= 0)",
            "error_message": "quantity must be 1 to 100 and the price not negative"})).await.unwrap();
        assert_eq!(ck["columns"], json!(["price", "qty"]));
        insert(&eav, json!({"values": {"qty": 5, "price": "9.99"}})).await.unwrap();
        // NULL is not FALSE: a row without qty passes.
        insert(&eav, json!({"values": {"sku": "no qty"}})).await.unwrap();
        let v = expect_violation(insert(&eav, json!({"values": {"qty": 0}})).await, "ck_qty", ErrorCode::Check);
        assert_eq!(v.message, "quantity must be 1 to 100 and the price not negative");
        expect_violation(insert(&eav, json!({"values": {"qty": 2, "price": "-1"}})).await, "ck_qty", ErrorCode::Check);
        let row = insert(&eav, json!({"values": {"qty": 2}})).await.unwrap();
        let update = eav.update_row(&sys, "order_lines", id_of(&row), &json!({"version": 1, "values": {"qty": 500}}), None, UpdateMode::Merge).await;
        expect_violation(update, "ck_qty", ErrorCode::Check);

        // Keyword column names, functions, LIKE and regexp_like.
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_sku", "constraint_type": "CHECK",
            "check_expression": "sku IS NULL OR (length(sku) <= 8 AND upper(sku) NOT LIKE 'X%' AND regexp_like(sku, '^[a-z ]+$'))"})).await.unwrap();
        insert(&eav, json!({"values": {"qty": 1, "sku": "abc"}})).await.unwrap();
        expect_violation(insert(&eav, json!({"values": {"qty": 1, "sku": "xyz"}})).await, "ck_sku", ErrorCode::Check);
        expect_violation(insert(&eav, json!({"values": {"qty": 1, "sku": "ABC"}})).await, "ck_sku", ErrorCode::Check);

        // A runtime error (division by zero) rejects the write with 422.
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_ratio", "constraint_type": "CHECK",
            "check_expression": "line_no IS NULL OR 100 / line_no > 0"})).await.unwrap();
        expect_violation(insert(&eav, json!({"values": {"qty": 1, "line_no": 0}})).await, "ck_ratio", ErrorCode::Check);

        // Declaration errors: syntax with position, unknown column, not boolean.
        let syntax = eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_bad", "constraint_type": "CHECK",
            "check_expression": "qty >= (1 AND"})).await;
        expect_bad_request(syntax, "Line");
        expect_bad_request(eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_bad", "constraint_type": "CHECK",
            "check_expression": "missing > 1"})).await, "missing");
        expect_bad_request(eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_bad", "constraint_type": "CHECK",
            "check_expression": "qty; DROP TABLE table_rows"})).await, "check_expression");
    }

    async fn check_expressions_parse_without_declaring(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        eav.parse_check("order_lines", "qty > 0 AND price >= 0").await.unwrap();
        // Syntax errors carry their position; unknown columns and non-boolean expressions are named.
        expect_bad_request(eav.parse_check("order_lines", "qty >").await, "Line");
        expect_bad_request(eav.parse_check("order_lines", "missing > 1").await, "missing");
        expect_bad_request(eav.parse_check("order_lines", "qty + 1").await, "boolean");
        expect_bad_request(eav.parse_check("order_lines", "").await, "check_expression");
        match eav.parse_check("order_lines", "qty >").await {
            Err(Error::BadRequest(errors)) => assert_eq!(errors[0].field, "check_expression"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(eav.parse_check("no_such_table", "qty > 0").await, Err(Error::NotFound(_))));
        // Nothing was declared.
        assert!(eav.list_constraints("order_lines").await.unwrap()["items"].as_array().unwrap().is_empty());
    }

    async fn declaring_on_violating_data_lists_the_rows(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        let a = insert(&eav, json!({"values": {"sku": "dup", "qty": -1}})).await.unwrap();
        insert(&eav, json!({"values": {"sku": "dup", "qty": 3}})).await.unwrap();
        let err = eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_sku", "constraint_type": "UNIQUE", "columns": ["sku"]})).await;
        let v = expect_violation(err, "uq_sku", ErrorCode::Unique);
        assert_eq!(v.values, [json!("dup")]);
        assert!(eav.list_constraints("order_lines").await.unwrap()["items"].as_array().unwrap().is_empty(), "nothing declared");

        let err = eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "ck_pos", "constraint_type": "CHECK", "check_expression": "qty > 0"})).await;
        match err {
            Err(Error::Violation { errors, .. }) => {
                assert_eq!(errors.len(), 1);
                assert!(errors[0].field.contains(&id_of(&a).to_string()), "{errors:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    async fn enable_disable_drop(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "uq_sku", "constraint_type": "UNIQUE", "columns": ["sku"]})).await.unwrap();
        insert(&eav, json!({"values": {"sku": "a"}})).await.unwrap();
        let off = eav.update_constraint(&sys, "order_lines", "uq_sku", &json!({"is_active": false})).await.unwrap();
        assert_eq!(off["is_active"], false);
        insert(&eav, json!({"values": {"sku": "a"}})).await.unwrap();
        // Re-enabling checks the data again.
        expect_violation(eav.update_constraint(&sys, "order_lines", "uq_sku", &json!({"is_active": true})).await, "uq_sku", ErrorCode::Unique);
        assert_eq!(eav.get_constraint("order_lines", "uq_sku").await.unwrap()["is_active"], false);
        eav.drop_constraint(&sys, "order_lines", "uq_sku").await.unwrap();
        assert!(matches!(eav.get_constraint("order_lines", "uq_sku").await, Err(Error::NotFound(_))));
        assert!(matches!(eav.drop_constraint(&sys, "order_lines", "uq_sku").await, Err(Error::NotFound(_))));
    }

    async fn batches_roll_back_on_a_violation(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "pk_lines", "constraint_type": "PRIMARY KEY", "columns": ["order_no", "line_no"]})).await.unwrap();
        let batch = json!({"operations": [
            {"op": "create", "values": {"order_no": 1, "line_no": 1}},
            {"op": "create", "values": {"order_no": 1, "line_no": 2}},
            {"op": "create", "values": {"order_no": 1, "line_no": 1}},
        ]});
        match eav.batch(&sys, "order_lines", &batch).await {
            Err(Error::Violation { errors, .. }) => assert!(errors[0].field.starts_with("operations[2]"), "{errors:?}"),
            other => panic!("{other:?}"),
        }
        let q = tessera_core::eav::query::Query::from_json(&json!({"include_total": "exact"}), eav.limits()).unwrap();
        assert_eq!(eav.query(&sys, "order_lines", &q).await.unwrap()["total"], 0);
    }

    async fn concurrent_inserts_of_one_key_have_one_winner(db: Database) {
        let eav = eav(&db);
        order_lines(&eav).await;
        let sys = Actor::system();
        eav.declare_constraint(&sys, "order_lines", &json!({"constraint_name": "pk_lines", "constraint_type": "PRIMARY KEY", "columns": ["order_no", "line_no"]})).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let eav = eav.clone();
            tasks.push(tokio::spawn(async move { insert(&eav, json!({"values": {"order_no": 7, "line_no": 7, "qty": i}})).await }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::Violation { violations, .. }) => assert_eq!(violations[0].constraint, "pk_lines"),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(ok, 1, "exactly one of 50 concurrent inserts of the same key succeeds");
    }
}

// --- Foreign keys -----------------------------------------------------------------------------------------

/// `name(key Int PK [, extra columns])`.
async fn keyed_table(eav: &Eav, name: &str, key: &str, extra: &[(&str, &str, Value)]) {
    let sys = Actor::system();
    eav.create_table(&sys, &json!({"table_name": name})).await.unwrap();
    eav.attach_column(&sys, name, &json!({"column_name": key, "data_type": "Int"})).await.unwrap();
    for (column, ty, default) in extra {
        eav.attach_column(
            &sys,
            name,
            &json!({"column_name": column, "data_type": ty, "default_value": default}),
        )
        .await
        .unwrap();
    }
    eav.declare_constraint(
        &sys,
        name,
        &json!({"constraint_name": format!("pk_{name}"), "constraint_type": "PRIMARY KEY", "columns": [key]}),
    )
    .await
    .unwrap();
}

async fn add(eav: &Eav, table: &str, values: Value) -> Result<Value, Error> {
    eav.create_row(&Actor::system(), table, &json!({ "values": values })).await
}

async fn count(eav: &Eav, table: &str) -> i64 {
    let q = tessera_core::eav::query::Query::from_json(
        &json!({"include_total": "exact", "limit": 1}),
        eav.limits(),
    )
    .unwrap();
    eav.query(&Actor::system(), table, &q).await.unwrap()["total"].as_i64().unwrap()
}

async fn fk(
    eav: &Eav,
    table: &str,
    name: &str,
    columns: Value,
    parent: &str,
    on_delete: &str,
    on_update: &str,
) -> Result<Value, Error> {
    eav.declare_constraint(
        &Actor::system(),
        table,
        &json!({"constraint_name": name, "constraint_type": "FOREIGN KEY",
        "columns": columns, "referenced_table": parent, "on_delete": on_delete, "on_update": on_update}),
    )
    .await
}

tessera_core::conformance! {
    async fn foreign_key_restrict_and_match_simple(db: Database) {
        let eav = eav(&db);
        keyed_table(&eav, "customers", "customer_no", &[]).await;
        keyed_table(&eav, "orders", "order_no", &[("customer_no", "Int", Value::Null)]).await;
        fk(&eav, "orders", "fk_customer", json!(["customer_no"]), "customers", "RESTRICT", "NO ACTION").await.unwrap();
        let listed = eav.list_constraints("orders").await.unwrap();
        assert!(listed["items"].as_array().unwrap().iter().any(|c| c["constraint_type"] == "FOREIGN KEY" && c["referenced_table"] == "customers"));

        let ann = add(&eav, "customers", json!({"customer_no": 1})).await.unwrap();
        add(&eav, "orders", json!({"order_no": 10, "customer_no": 1})).await.unwrap();
        let v = expect_violation(add(&eav, "orders", json!({"order_no": 11, "customer_no": 2})).await, "fk_customer", ErrorCode::ForeignKey);
        assert_eq!(v.kind, "FOREIGN KEY");
        assert_eq!(v.values, [json!(2)]);
        // MATCH SIMPLE: a NULL key references nothing and is allowed.
        add(&eav, "orders", json!({"order_no": 12})).await.unwrap();
        // RESTRICT: the referenced customer cannot be deleted.
        let blocked = eav.delete_row(&Actor::system(), "customers", id_of(&ann), None, false).await;
        expect_violation(blocked, "fk_customer", ErrorCode::ForeignKey);
        // Declaration errors.
        let partial = eav.declare_constraint(&Actor::system(), "orders", &json!({"constraint_name": "fk_p", "constraint_type": "FOREIGN KEY",
            "columns": ["customer_no"], "referenced_table": "customers", "match_type": "PARTIAL"})).await;
        assert!(matches!(partial, Err(Error::Validation(_))), "{partial:?}");
        order_lines(&eav).await;
        let no_pk = fk(&eav, "orders", "fk_lines", json!(["order_no"]), "order_lines", "CASCADE", "CASCADE").await;
        assert!(matches!(no_pk, Err(Error::Validation(_))), "{no_pk:?}");
        keyed_table(&eav, "orphans", "orphan_no", &[("customer_no", "Int", Value::Null)]).await;
        add(&eav, "orphans", json!({"orphan_no": 1, "customer_no": 99})).await.unwrap();
        expect_violation(fk(&eav, "orphans", "fk_orphan", json!(["customer_no"]), "customers", "CASCADE", "CASCADE").await, "fk_orphan", ErrorCode::ForeignKey);
    }

    async fn foreign_key_cascades_across_a_chain(db: Database) {
        let eav = eav(&db);
        keyed_table(&eav, "customers", "customer_no", &[]).await;
        keyed_table(&eav, "orders", "order_no", &[("customer_no", "Int", Value::Null)]).await;
        keyed_table(&eav, "lines", "line_no", &[("order_no", "Int", Value::Null)]).await;
        fk(&eav, "orders", "fk_customer", json!(["customer_no"]), "customers", "CASCADE", "CASCADE").await.unwrap();
        fk(&eav, "lines", "fk_order", json!(["order_no"]), "orders", "CASCADE", "CASCADE").await.unwrap();
        let c1 = add(&eav, "customers", json!({"customer_no": 1})).await.unwrap();
        add(&eav, "customers", json!({"customer_no": 2})).await.unwrap();
        add(&eav, "orders", json!({"order_no": 10, "customer_no": 1})).await.unwrap();
        add(&eav, "orders", json!({"order_no": 20, "customer_no": 2})).await.unwrap();
        for (line, order) in [(1, 10), (2, 10), (3, 20)] {
            add(&eav, "lines", json!({"line_no": line, "order_no": order})).await.unwrap();
        }
        // ON UPDATE CASCADE: renumbering a customer carries its orders along.
        let c1 = eav.update_row(&Actor::system(), "customers", id_of(&c1), &json!({"version": 1, "values": {"customer_no": 100}}), None, UpdateMode::Merge).await.unwrap();
        let q = tessera_core::eav::query::Query::from_json(&json!({"filter": {"field": "customer_no", "op": "eq", "value": 100}}), eav.limits()).unwrap();
        assert_eq!(eav.query(&Actor::system(), "orders", &q).await.unwrap()["items"].as_array().unwrap().len(), 1);
        // ON DELETE CASCADE through two levels.
        eav.delete_row(&Actor::system(), "customers", id_of(&c1), None, false).await.unwrap();
        assert_eq!(count(&eav, "orders").await, 1);
        assert_eq!(count(&eav, "lines").await, 1);
    }

    async fn foreign_key_set_null_set_default_and_self_reference(db: Database) {
        let eav = eav(&db);
        keyed_table(&eav, "employees", "emp_no", &[("manager_no", "Int", Value::Null)]).await;
        fk(&eav, "employees", "fk_manager", json!(["manager_no"]), "employees", "SET NULL", "CASCADE").await.unwrap();
        let boss = add(&eav, "employees", json!({"emp_no": 1})).await.unwrap();
        let dev = add(&eav, "employees", json!({"emp_no": 2, "manager_no": 1})).await.unwrap();
        // A row may reference itself.
        add(&eav, "employees", json!({"emp_no": 3, "manager_no": 3})).await.unwrap();
        expect_violation(add(&eav, "employees", json!({"emp_no": 4, "manager_no": 42})).await, "fk_manager", ErrorCode::ForeignKey);
        eav.delete_row(&Actor::system(), "employees", id_of(&boss), None, false).await.unwrap();
        let dev = eav.get_row(&Actor::system(), "employees", id_of(&dev)).await.unwrap();
        assert_eq!(dev["values"]["manager_no"], Value::Null, "SET NULL cleared the reference");
        assert_eq!(dev["version"], 2);

        keyed_table(&eav, "warehouses", "warehouse_no", &[]).await;
        keyed_table(&eav, "stock", "stock_no", &[("stored_in", "Int", json!(0))]).await;
        fk(&eav, "stock", "fk_warehouse", json!(["stored_in"]), "warehouses", "SET DEFAULT", "NO ACTION").await.unwrap();
        add(&eav, "warehouses", json!({"warehouse_no": 0})).await.unwrap();
        let w7 = add(&eav, "warehouses", json!({"warehouse_no": 7})).await.unwrap();
        let item = add(&eav, "stock", json!({"stock_no": 1, "stored_in": 7})).await.unwrap();
        eav.delete_row(&Actor::system(), "warehouses", id_of(&w7), None, false).await.unwrap();
        let item = eav.get_row(&Actor::system(), "stock", id_of(&item)).await.unwrap();
        assert_eq!(item["values"]["stored_in"], 0, "SET DEFAULT moved the row to the default warehouse");
        // NO ACTION on update: the default warehouse cannot be renumbered while referenced.
        let w0 = eav.query(&Actor::system(), "warehouses", &tessera_core::eav::query::Query::from_json(
            &json!({"filter": {"field": "warehouse_no", "op": "eq", "value": 0}}), eav.limits()).unwrap()).await.unwrap();
        let w0 = id_of(&w0["items"][0]);
        let renumber = eav.update_row(&Actor::system(), "warehouses", w0, &json!({"version": 1, "values": {"warehouse_no": 5}}), None, UpdateMode::Merge).await;
        expect_violation(renumber, "fk_warehouse", ErrorCode::ForeignKey);
    }

    async fn foreign_key_match_full(db: Database) {
        let eav = eav(&db);
        let sys = Actor::system();
        eav.create_table(&sys, &json!({"table_name": "rooms"})).await.unwrap();
        for c in ["building", "room"] {
            eav.attach_column(&sys, "rooms", &json!({"column_name": c, "data_type": "Int"})).await.unwrap();
        }
        eav.declare_constraint(&sys, "rooms", &json!({"constraint_name": "pk_rooms", "constraint_type": "PRIMARY KEY", "columns": ["building", "room"]})).await.unwrap();
        keyed_table(&eav, "meetings", "meeting_no", &[("building", "Int", Value::Null), ("room", "Int", Value::Null)]).await;
        eav.declare_constraint(&sys, "meetings", &json!({"constraint_name": "fk_room", "constraint_type": "FOREIGN KEY",
            "columns": ["building", "room"], "referenced_table": "rooms", "match_type": "FULL"})).await.unwrap();
        add(&eav, "rooms", json!({"building": 1, "room": 101})).await.unwrap();
        add(&eav, "meetings", json!({"meeting_no": 1, "building": 1, "room": 101})).await.unwrap();
        add(&eav, "meetings", json!({"meeting_no": 2})).await.unwrap();
        expect_violation(add(&eav, "meetings", json!({"meeting_no": 3, "building": 1})).await, "fk_room", ErrorCode::ForeignKey);
        expect_violation(add(&eav, "meetings", json!({"meeting_no": 4, "building": 1, "room": 102})).await, "fk_room", ErrorCode::ForeignKey);
    }

    async fn a_parent_delete_racing_a_child_insert_never_leaves_an_orphan(db: Database) {
        let eav = eav(&db);
        keyed_table(&eav, "parents", "parent_no", &[]).await;
        keyed_table(&eav, "kids", "kid_no", &[("parent_no", "Int", Value::Null)]).await;
        fk(&eav, "kids", "fk_parent", json!(["parent_no"]), "parents", "NO ACTION", "NO ACTION").await.unwrap();
        for round in 0..50i64 {
            let parent = add(&eav, "parents", json!({"parent_no": round})).await.unwrap();
            let (e1, e2) = (eav.clone(), eav.clone());
            let delete = tokio::spawn(async move { e1.delete_row(&Actor::system(), "parents", id_of(&parent), None, false).await });
            let insert = tokio::spawn(async move { add(&e2, "kids", json!({"kid_no": round, "parent_no": round})).await });
            let (deleted, inserted) = (delete.await.unwrap(), insert.await.unwrap());
            assert!(!(deleted.is_ok() && inserted.is_ok()), "round {round}: both the parent delete and the child insert succeeded");
            assert!(deleted.is_ok() || inserted.is_ok(), "round {round}: neither succeeded: {deleted:?} {inserted:?}");
        }
        // No kid references a missing parent.
        let kids = eav.query(&Actor::system(), "kids", &tessera_core::eav::query::Query::from_json(&json!({"limit": 1000}), eav.limits()).unwrap()).await.unwrap();
        for kid in kids["items"].as_array().unwrap() {
            let p = kid["values"]["parent_no"].as_i64().unwrap();
            let q = tessera_core::eav::query::Query::from_json(&json!({"filter": {"field": "parent_no", "op": "eq", "value": p}, "include_total": "exact"}), eav.limits()).unwrap();
            assert_eq!(eav.query(&Actor::system(), "parents", &q).await.unwrap()["total"], 1, "kid of missing parent {p}");
        }
    }
}

tessera_core::conformance! {
    async fn cascades_stay_consistent_under_concurrent_edits(db: Database) {
        let eav = eav(&db);
        keyed_table(&eav, "authors", "author_no", &[]).await;
        keyed_table(&eav, "books", "book_no", &[("author_no", "Int", Value::Null), ("edition", "Int", Value::Null)]).await;
        fk(&eav, "books", "fk_author", json!(["author_no"]), "authors", "CASCADE", "CASCADE").await.unwrap();
        for round in 0..10i64 {
            let author = add(&eav, "authors", json!({"author_no": round})).await.unwrap();
            let mut books = Vec::new();
            for b in 0..5 {
                books.push(add(&eav, "books", json!({"book_no": round * 100 + b, "author_no": round})).await.unwrap());
            }
            let mut tasks = Vec::new();
            let e = eav.clone();
            tasks.push(tokio::spawn(async move {
                e.delete_row(&Actor::system(), "authors", id_of(&author), None, false).await.map(|_| ())
            }));
            for book in &books {
                let (e, id) = (eav.clone(), id_of(book));
                tasks.push(tokio::spawn(async move {
                    e.update_row(&Actor::system(), "books", id, &json!({"version": 1, "values": {"edition": 2}}), None, UpdateMode::Merge)
                        .await
                        .map(|_| ())
                }));
            }
            let mut delete_ok = false;
            for (i, task) in tasks.into_iter().enumerate() {
                let outcome = task.await.unwrap();
                if i == 0 {
                    delete_ok = outcome.is_ok();
                    assert!(delete_ok, "round {round}: the cascading delete failed: {outcome:?}");
                } else if let Err(e) = outcome {
                    // An edit may lose the race: the book is gone (404) — never an inconsistent state.
                    assert!(matches!(e, Error::NotFound(_)), "round {round}: unexpected {e:?}");
                }
            }
            assert!(delete_ok);
            let q = tessera_core::eav::query::Query::from_json(
                &json!({"filter": {"field": "author_no", "op": "eq", "value": round}, "include_total": "exact"}),
                eav.limits(),
            )
            .unwrap();
            assert_eq!(eav.query(&Actor::system(), "books", &q).await.unwrap()["total"], 0, "round {round}: books survived their author");
        }
    }
}
