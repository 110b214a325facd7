//! Backend-neutral SQL: a statement with typed arguments, executed on PostgreSQL or SQLite.
//!
//! Statements use `$1, $2, …` placeholders, which both backends accept. Arguments are typed (`Arg`) and
//! encoded per backend: UUIDs are `uuid` on PostgreSQL and hyphenated TEXT on SQLite, timestamps `timestamptz`
//! vs TEXT `YYYY-MM-DDTHH:MM:SS.ffffffZ`, decimals `numeric` vs exact TEXT, JSON `jsonb` vs TEXT. Values read
//! back go through `DbRow`, which undoes the same encodings. Identifiers never come from input: every name in
//! SQL text is a constant of this crate; everything a user typed is an `Arg`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Row as _, Sqlite, Transaction};
use uuid::Uuid;

use super::{Backend, Database, StoreError};

/// A typed, nullable argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Int(Option<i64>),
    Int4(Option<i32>),
    Bool(Option<bool>),
    Decimal(Option<Decimal>),
    Real(Option<f64>),
    Timestamp(Option<DateTime<Utc>>),
    Json(Option<serde_json::Value>),
    /// A list of UUIDs; use with [`Sql::push_in_uuids`].
    Uuids(Vec<Uuid>),
    /// A list of strings; use with [`Sql::push_in_texts`].
    Texts(Vec<String>),
    /// Nullable typed arrays: the columns of a PostgreSQL `unnest(…)` bulk insert (on SQLite they bind as a
    /// JSON array, for `json_each`).
    OptUuids(Vec<Option<Uuid>>),
    OptTexts(Vec<Option<String>>),
    OptInts(Vec<Option<i64>>),
    OptInt4s(Vec<Option<i32>>),
    OptBools(Vec<Option<bool>>),
    OptDecimals(Vec<Option<Decimal>>),
    OptTimestamps(Vec<Option<DateTime<Utc>>>),
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(Some(v))
    }
}
impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Arg::Uuid(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int4(Some(v))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Timestamp(Some(v))
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::Timestamp(v)
    }
}
impl From<serde_json::Value> for Arg {
    fn from(v: serde_json::Value) -> Self {
        Arg::Json(Some(v))
    }
}

/// The timestamp text format stored by SQLite (text order = time order).
pub fn sqlite_timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_sqlite_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A statement under construction: SQL text plus its arguments.
#[derive(Debug, Clone)]
pub struct Sql {
    backend: Backend,
    text: String,
    args: Vec<Arg>,
    persistent: bool,
}

impl Sql {
    pub fn new(backend: Backend, text: &str) -> Self {
        Self { backend, text: text.to_owned(), args: Vec::new(), persistent: true }
    }

    /// Whether the statement is prepared once per connection and kept (the default). PostgreSQL switches a
    /// kept statement to a generic plan after five runs; a statement whose best plan depends on its
    /// arguments is sent unnamed instead, and planned for its arguments every time.
    pub fn set_persistent(&mut self, persistent: bool) -> &mut Self {
        self.persistent = persistent;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Appends constant SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Adds an argument and returns its placeholder (`$n`), without appending it.
    pub fn arg(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// Adds an argument and appends its placeholder.
    pub fn bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        let placeholder = self.arg(arg);
        self.text.push_str(&placeholder);
        self
    }

    /// Appends `<expr> IN (<ids>)`, as `= ANY($n)` on PostgreSQL and a `json_each` sub-select on SQLite.
    pub fn push_in_uuids(&mut self, expr: &str, ids: Vec<Uuid>) -> &mut Self {
        match self.backend {
            Backend::Postgres => {
                let p = self.arg(Arg::Uuids(ids));
                self.push(&format!("{expr} = ANY({p})"))
            }
            Backend::Sqlite => {
                let p = self.arg(Arg::Uuids(ids));
                self.push(&format!("{expr} IN (SELECT value FROM json_each({p}))"))
            }
        }
    }

    /// Appends `<expr> IN (<values>)` for text values.
    pub fn push_in_texts(&mut self, expr: &str, values: Vec<String>) -> &mut Self {
        let p = self.arg(Arg::Texts(values));
        match self.backend {
            Backend::Postgres => self.push(&format!("{expr} = ANY({p})")),
            Backend::Sqlite => self.push(&format!("{expr} IN (SELECT value FROM json_each({p}))")),
        }
    }

    fn pg_query(&self) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        let mut q = sqlx::query(&self.text).persistent(self.persistent);
        for arg in &self.args {
            q = match arg {
                Arg::Uuid(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
                Arg::Int4(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Decimal(v) => q.bind(*v),
                Arg::Real(v) => q.bind(*v),
                Arg::Timestamp(v) => q.bind(*v),
                Arg::Json(v) => q.bind(v.clone().map(sqlx::types::Json)),
                Arg::Uuids(v) => q.bind(v.clone()),
                Arg::Texts(v) => q.bind(v.clone()),
                Arg::OptUuids(v) => q.bind(v.clone()),
                Arg::OptTexts(v) => q.bind(v.clone()),
                Arg::OptInts(v) => q.bind(v.clone()),
                Arg::OptInt4s(v) => q.bind(v.clone()),
                Arg::OptBools(v) => q.bind(v.clone()),
                Arg::OptDecimals(v) => q.bind(v.clone()),
                Arg::OptTimestamps(v) => q.bind(v.clone()),
            };
        }
        q
    }

    fn sqlite_query(&self) -> sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for arg in &self.args {
            q = match arg {
                Arg::Uuid(v) => q.bind(v.map(|u| u.hyphenated().to_string())),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
                Arg::Int4(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Decimal(v) => q.bind(v.map(|d| d.to_string())),
                Arg::Real(v) => q.bind(*v),
                Arg::Timestamp(v) => q.bind(v.as_ref().map(sqlite_timestamp)),
                Arg::Json(v) => q.bind(v.as_ref().map(|j| j.to_string())),
                Arg::Uuids(v) => {
                    let list: Vec<String> = v.iter().map(|u| u.hyphenated().to_string()).collect();
                    q.bind(serde_json::Value::from(list).to_string())
                }
                Arg::Texts(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
                Arg::OptUuids(v) => {
                    let list: Vec<Option<String>> =
                        v.iter().map(|u| u.map(|u| u.hyphenated().to_string())).collect();
                    q.bind(serde_json::Value::from(list).to_string())
                }
                Arg::OptTexts(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
                Arg::OptInts(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
                Arg::OptInt4s(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
                Arg::OptBools(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
                Arg::OptDecimals(v) => {
                    let list: Vec<Option<String>> = v.iter().map(|d| d.map(|d| d.to_string())).collect();
                    q.bind(serde_json::Value::from(list).to_string())
                }
                Arg::OptTimestamps(v) => {
                    let list: Vec<Option<String>> =
                        v.iter().map(|t| t.as_ref().map(sqlite_timestamp)).collect();
                    q.bind(serde_json::Value::from(list).to_string())
                }
            };
        }
        q
    }
}

/// A row read from either backend.
pub enum DbRow {
    Pg(PgRow),
    Sqlite(SqliteRow),
}

fn decode_error(column: &str, what: &str) -> StoreError {
    StoreError::Query(sqlx::Error::ColumnDecode { index: column.to_owned(), source: what.to_owned().into() })
}

impl DbRow {
    pub fn uuid(&self, col: &str) -> Result<Uuid, StoreError> {
        self.opt_uuid(col)?.ok_or_else(|| decode_error(col, "unexpected NULL"))
    }

    pub fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>, StoreError> {
        match self {
            DbRow::Pg(r) => Ok(r.try_get(col)?),
            DbRow::Sqlite(r) => match r.try_get::<Option<String>, _>(col)? {
                Some(s) => Uuid::parse_str(&s).map(Some).map_err(|_| decode_error(col, "not a UUID")),
                None => Ok(None),
            },
        }
    }

    pub fn text(&self, col: &str) -> Result<String, StoreError> {
        self.opt_text(col)?.ok_or_else(|| decode_error(col, "unexpected NULL"))
    }

    pub fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(match self {
            DbRow::Pg(r) => r.try_get(col)?,
            DbRow::Sqlite(r) => r.try_get(col)?,
        })
    }

    pub fn i64(&self, col: &str) -> Result<i64, StoreError> {
        self.opt_i64(col)?.ok_or_else(|| decode_error(col, "unexpected NULL"))
    }

    /// An integer column of any width (INTEGER columns are 4 bytes on PostgreSQL).
    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(match self {
            DbRow::Pg(r) => match r.try_get::<Option<i64>, _>(col) {
                Ok(v) => v,
                Err(_) => r.try_get::<Option<i32>, _>(col)?.map(i64::from),
            },
            DbRow::Sqlite(r) => r.try_get(col)?,
        })
    }

    pub fn i32(&self, col: &str) -> Result<i32, StoreError> {
        Ok(match self {
            DbRow::Pg(r) => r.try_get(col)?,
            DbRow::Sqlite(r) => r.try_get(col)?,
        })
    }

    pub fn bool(&self, col: &str) -> Result<bool, StoreError> {
        self.opt_bool(col)?.ok_or_else(|| decode_error(col, "unexpected NULL"))
    }

    pub fn opt_bool(&self, col: &str) -> Result<Option<bool>, StoreError> {
        Ok(match self {
            DbRow::Pg(r) => r.try_get(col)?,
            DbRow::Sqlite(r) => r.try_get(col)?,
        })
    }

    pub fn opt_decimal(&self, col: &str) -> Result<Option<Decimal>, StoreError> {
        match self {
            DbRow::Pg(r) => Ok(r.try_get(col)?),
            DbRow::Sqlite(r) => match r.try_get::<Option<String>, _>(col)? {
                Some(s) => s.parse().map(Some).map_err(|_| decode_error(col, "not a decimal")),
                None => Ok(None),
            },
        }
    }

    pub fn timestamp(&self, col: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_timestamp(col)?.ok_or_else(|| decode_error(col, "unexpected NULL"))
    }

    pub fn opt_timestamp(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self {
            DbRow::Pg(r) => Ok(r.try_get(col)?),
            DbRow::Sqlite(r) => match r.try_get::<Option<String>, _>(col)? {
                Some(s) => {
                    parse_sqlite_timestamp(&s).map(Some).ok_or_else(|| decode_error(col, "not a timestamp"))
                }
                None => Ok(None),
            },
        }
    }

    pub fn json(&self, col: &str) -> Result<serde_json::Value, StoreError> {
        match self {
            DbRow::Pg(r) => Ok(r.try_get::<sqlx::types::Json<serde_json::Value>, _>(col)?.0),
            DbRow::Sqlite(r) => {
                let text: String = r.try_get(col)?;
                serde_json::from_str(&text).map_err(|_| decode_error(col, "not JSON"))
            }
        }
    }

    /// A nullable JSON column (SQL NULL → JSON null).
    pub fn opt_json(&self, col: &str) -> Result<serde_json::Value, StoreError> {
        match self {
            DbRow::Pg(r) => Ok(r
                .try_get::<Option<sqlx::types::Json<serde_json::Value>>, _>(col)?
                .map_or(serde_json::Value::Null, |j| j.0)),
            DbRow::Sqlite(r) => match r.try_get::<Option<String>, _>(col)? {
                Some(text) => serde_json::from_str(&text).map_err(|_| decode_error(col, "not JSON")),
                None => Ok(serde_json::Value::Null),
            },
        }
    }
}

/// An open transaction on either backend. Dropped without `commit`, it rolls back.
pub enum Tx {
    Pg(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Database {
    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front, so
    /// concurrent writers queue behind the busy timeout instead of failing on lock upgrade.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Database::Postgres(pool) => Tx::Pg(pool.begin().await?),
            Database::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Begins a read-only unit of work: a consistent snapshot for several reads (plain `BEGIN`, so SQLite
    /// readers do not take the write lock).
    pub async fn begin_read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Database::Postgres(pool) => Tx::Pg(pool.begin().await?),
            Database::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
        })
    }

    pub fn sql(&self, text: &str) -> Sql {
        Sql::new(self.backend(), text)
    }

    pub async fn fetch_all(&self, sql: &Sql) -> Result<Vec<DbRow>, StoreError> {
        Ok(match self {
            Database::Postgres(pool) => {
                sql.pg_query().fetch_all(pool).await?.into_iter().map(DbRow::Pg).collect()
            }
            Database::Sqlite(pool) => {
                sql.sqlite_query().fetch_all(pool).await?.into_iter().map(DbRow::Sqlite).collect()
            }
        })
    }

    pub async fn fetch_optional(&self, sql: &Sql) -> Result<Option<DbRow>, StoreError> {
        Ok(match self {
            Database::Postgres(pool) => sql.pg_query().fetch_optional(pool).await?.map(DbRow::Pg),
            Database::Sqlite(pool) => sql.sqlite_query().fetch_optional(pool).await?.map(DbRow::Sqlite),
        })
    }

    pub async fn execute(&self, sql: &Sql) -> Result<u64, StoreError> {
        Ok(match self {
            Database::Postgres(pool) => sql.pg_query().execute(pool).await?.rows_affected(),
            Database::Sqlite(pool) => sql.sqlite_query().execute(pool).await?.rows_affected(),
        })
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Pg(_) => Backend::Postgres,
            Tx::Sqlite(_) => Backend::Sqlite,
        }
    }

    pub fn sql(&self, text: &str) -> Sql {
        Sql::new(self.backend(), text)
    }

    pub async fn fetch_all(&mut self, sql: &Sql) -> Result<Vec<DbRow>, StoreError> {
        Ok(match self {
            Tx::Pg(tx) => sql.pg_query().fetch_all(&mut **tx).await?.into_iter().map(DbRow::Pg).collect(),
            Tx::Sqlite(tx) => {
                sql.sqlite_query().fetch_all(&mut **tx).await?.into_iter().map(DbRow::Sqlite).collect()
            }
        })
    }

    pub async fn fetch_optional(&mut self, sql: &Sql) -> Result<Option<DbRow>, StoreError> {
        Ok(match self {
            Tx::Pg(tx) => sql.pg_query().fetch_optional(&mut **tx).await?.map(DbRow::Pg),
            Tx::Sqlite(tx) => sql.sqlite_query().fetch_optional(&mut **tx).await?.map(DbRow::Sqlite),
        })
    }

    pub async fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Pg(tx) => sql.pg_query().execute(&mut **tx).await?.rows_affected(),
            Tx::Sqlite(tx) => sql.sqlite_query().execute(&mut **tx).await?.rows_affected(),
        })
    }

    /// Runs a raw constant statement (SAVEPOINT handling and the like).
    async fn raw(&mut self, text: &str) -> Result<(), StoreError> {
        match self {
            Tx::Pg(tx) => sqlx::query(text).execute(&mut **tx).await.map(drop)?,
            Tx::Sqlite(tx) => sqlx::query(text).execute(&mut **tx).await.map(drop)?,
        }
        Ok(())
    }

    /// Sets a savepoint; `name` is a constant chosen by the caller.
    pub async fn savepoint(&mut self, name: &'static str) -> Result<(), StoreError> {
        self.raw(&format!("SAVEPOINT {name}")).await
    }

    pub async fn rollback_to(&mut self, name: &'static str) -> Result<(), StoreError> {
        self.raw(&format!("ROLLBACK TO SAVEPOINT {name}")).await
    }

    pub async fn release(&mut self, name: &'static str) -> Result<(), StoreError> {
        self.raw(&format!("RELEASE SAVEPOINT {name}")).await
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Pg(tx) => tx.commit().await?,
            Tx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
