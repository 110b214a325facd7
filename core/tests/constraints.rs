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
