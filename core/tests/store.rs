//! Storage conformance: the real migrations on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_core::ids::WorkspaceId;
use tessera_core::store::Backend;
use tessera_core::testing::TestDatabase;
use tessera_core::Database;

/// Every physical table of `spec/data-model.md` (webhooks arrive with their own issue).
const TABLES: &[&str] = &[
    "workspaces",
    "workspace_members",
    "logical_tables",
    "column_definitions",
    "table_column_properties",
    "table_rows",
    "column_values",
    "table_constraints",
    "constraint_columns",
    "unique_indexes",
    "unique_index_json_properties",
    "foreign_key_references",
    "check_constraints",
    "constraint_keys",
    "app_users",
    "user_passkeys",
    "sessions",
    "refresh_tokens",
    "signing_keys",
    "password_reset_tokens",
    "enrollment_tokens",
    "api_tokens",
    "roles",
    "permissions",
    "user_roles",
    "role_permissions",
    "row_policies",
    "domain_events",
    "audit_log",
    "job_leases",
];

async fn table_names(db: &Database) -> Vec<String> {
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Database::Sqlite(pool) => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(pool)
            .await
            .unwrap(),
    }
}

tessera_core::conformance! {
    async fn migrations_create_every_table(db: Database) {
        let names = table_names(&db).await;
        for table in TABLES {
            assert!(names.iter().any(|n| n == table), "{} is missing table {table}; has {names:?}", db.backend());
        }
        assert_eq!(db.applied_migrations().await.unwrap() as usize, db.known_migrations());
        assert!(db.known_migrations() >= 1);
    }

    async fn migrating_twice_changes_nothing(db: Database) {
        let before = db.applied_migrations().await.unwrap();
        db.migrate().await.unwrap();
        assert_eq!(db.applied_migrations().await.unwrap(), before);
    }

    async fn the_default_workspace_is_seeded(db: Database) {
        assert_eq!(db.workspace_name(WorkspaceId::DEFAULT).await.unwrap().as_deref(), Some("Default"));
        assert_eq!(db.workspace_name(WorkspaceId(uuid::Uuid::now_v7())).await.unwrap(), None);
    }

    async fn the_system_roles_are_seeded(db: Database) {
        let sql = "SELECT r.name FROM roles r WHERE r.is_system_role ORDER BY r.name";
        let roles: Vec<String> = match &db {
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        };
        assert_eq!(roles, ["Admin", "Editor", "Owner", "Viewer"]);
    }

    async fn global_role_names_are_unique_despite_null_workspace(db: Database) {
        let insert = "INSERT INTO roles (id, workspace_id, name, is_system_role, is_active, version, created_at) \
                      VALUES ($1, NULL, 'Auditors', false, true, 1, $2)";
        let now = "2026-01-01T00:00:00.000000Z";
        match &db {
            Database::Postgres(pool) => {
                let now = chrono::DateTime::parse_from_rfc3339(now).unwrap();
                sqlx::query(insert).bind(uuid::Uuid::now_v7()).bind(now).execute(pool).await.unwrap();
                let dup = sqlx::query(insert).bind(uuid::Uuid::now_v7()).bind(now).execute(pool).await;
                assert!(dup.is_err(), "a second global role with the same name must be rejected");
            }
            Database::Sqlite(pool) => {
                let insert = insert.replace("$1", "?1").replace("$2", "?2").replace("false, true", "0, 1");
                let insert = insert.as_str();
                sqlx::query(insert).bind(uuid::Uuid::now_v7().to_string()).bind(now).execute(pool).await.unwrap();
                let dup = sqlx::query(insert).bind(uuid::Uuid::now_v7().to_string()).bind(now).execute(pool).await;
                assert!(dup.is_err(), "a second global role with the same name must be rejected");
            }
        }
    }
}

#[tokio::test]
async fn column_values_is_hash_partitioned_on_postgres() {
    tessera_core::testing::run(Backend::Postgres, |db| async move {
        let Database::Postgres(pool) = &db else { unreachable!() };
        let strategy: String = sqlx::query_scalar(
            "SELECT pt.partstrat::text FROM pg_partitioned_table pt \
             JOIN pg_class c ON c.oid = pt.partrelid WHERE c.relname = 'column_values'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(strategy, "h");
        let partitions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'column_values'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(partitions, 16);
    })
    .await;
}

#[tokio::test]
async fn postgres_connections_run_without_jit() {
    tessera_core::testing::run(Backend::Postgres, |db| async move {
        let Database::Postgres(pool) = &db else { unreachable!() };
        let jit: String = sqlx::query_scalar("SHOW jit").fetch_one(pool).await.unwrap();
        assert_eq!(jit, "off");
    })
    .await;
}

/// A migration that fails half-way leaves nothing behind: each file runs in one transaction.
#[tokio::test]
async fn a_failing_migration_is_rolled_back_whole() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let fresh = TestDatabase::empty(backend).await;
        let dir = std::env::temp_dir().join(tessera_core::testing::unique_name("tessera_bad_migration"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("0001_half.sql"),
            "CREATE TABLE first_half (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n",
        )
        .unwrap();
        let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
        let result = match &fresh.db {
            Database::Postgres(pool) => migrator.run(pool).await,
            Database::Sqlite(pool) => migrator.run(pool).await,
        };
        assert!(result.is_err(), "{backend}: the broken migration must fail");
        let names = table_names(&fresh.db).await;
        assert!(
            !names.iter().any(|n| n == "first_half"),
            "{backend}: half a migration was applied: {names:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        fresh.remove().await;
    }
}

#[tokio::test]
async fn connection_errors_name_the_setting_and_hide_the_password() {
    let options = tessera_core::store::ConnectOptions {
        max_connections: 1,
        connect_timeout: std::time::Duration::from_secs(2),
    };
    let err = Database::connect("postgres://tessera:hunter2@127.0.0.1:1/nope", &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("DATABASE_URL=postgres://tessera:***@127.0.0.1:1/nope: "), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let err = Database::connect("postgres://[not a url", &options).await.unwrap_err().to_string();
    assert!(err.starts_with("DATABASE_URL="), "{err}");
}
