//! The baseline: a plain physical table `flat_items` with the same 10 typed columns and the same rows (and the
//! same ids) as the logical table. Reads return each row as JSON, like the EAV side does, so both sides do the
//! work an API handler needs before serializing.
//!
//! `price` is never NULL in the generated data, so the keyset predicate below needs no NULL branch.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, QueryBuilder, Row as _, Sqlite};
use tessera_core::eav::format_timestamp;
use tessera_core::Database;
use uuid::Uuid;

use crate::data::{item, Item};
use crate::report::Progress;
use crate::{BoxResult, BATCH};

/// The flat table's indexes, as printed under the results.
pub const INDEXES: &str = "`PRIMARY KEY (id)` for the point read and \
    `INDEX (category, price DESC NULLS LAST, id)` for the page queries (their filter, sort and tie-break)";

const PG_CREATE: &str = "CREATE TABLE flat_items (id uuid PRIMARY KEY, sku text COLLATE \"C\", \
    title text COLLATE \"C\", description text COLLATE \"C\", qty bigint, price numeric, weight numeric, \
    active boolean, released date, updated timestamptz, category text COLLATE \"C\")";
const PG_INDEX: &str =
    "CREATE INDEX flat_items_category_price ON flat_items (category, price DESC NULLS LAST, id)";
const SQLITE_CREATE: &str = "CREATE TABLE flat_items (id TEXT PRIMARY KEY, sku TEXT, title TEXT, \
    description TEXT, qty INTEGER, price REAL, weight REAL, active BOOLEAN, released TEXT, updated TEXT, \
    category TEXT)";
const SQLITE_INDEX: &str = "CREATE INDEX flat_items_category_price ON flat_items (category, price DESC, id)";

const INSERT: &str = "INSERT INTO flat_items (id, sku, title, description, qty, price, weight, active, \
    released, updated, category) ";
const FIRST_PAGE: &str =
    "SELECT * FROM flat_items WHERE category = $1 ORDER BY price DESC NULLS LAST, id LIMIT 100";
const NEXT_PAGE: &str = "SELECT * FROM flat_items WHERE category = $1 \
    AND price <= $2 AND (price < $2 OR id > $3) ORDER BY price DESC NULLS LAST, id LIMIT 100";
const POINT_READ: &str = "SELECT * FROM flat_items WHERE id = $1";

/// Where a page ended: the sort key and id of its last row.
#[derive(Debug, Clone)]
pub enum Key {
    Postgres { price: Option<Decimal>, id: Uuid },
    Sqlite { price: Option<f64>, id: String },
}

/// One page of rows (as JSON) and where it ended.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub last: Option<Key>,
}

/// The flat table on the benchmark database.
#[derive(Debug, Clone)]
pub struct Flat {
    db: Database,
}

impl Flat {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Creates `flat_items` and its index (before loading, so loads pay for index upkeep as the EAV load does).
    pub async fn create(&self) -> Result<(), sqlx::Error> {
        match &self.db {
            Database::Postgres(pool) => {
                sqlx::query(PG_CREATE).execute(pool).await?;
                sqlx::query(PG_INDEX).execute(pool).await?;
            }
            Database::Sqlite(pool) => {
                sqlx::query(SQLITE_CREATE).execute(pool).await?;
                sqlx::query(SQLITE_INDEX).execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Loads rows `0..ids.len()` under the ids the EAV load gave them, 1,000 per INSERT; returns the time
    /// spent in the database.
    pub async fn load(&self, ids: &[Uuid]) -> BoxResult<Duration> {
        let mut busy = Duration::ZERO;
        let mut done = 0usize;
        let mut progress = Progress::new("flat", ids.len());
        for chunk in ids.chunks(BATCH) {
            let rows: Vec<(Uuid, Item)> =
                chunk.iter().enumerate().map(|(k, id)| (*id, item((done + k) as u64))).collect();
            let start = Instant::now();
            self.insert(&rows).await?;
            busy += start.elapsed();
            done += chunk.len();
            progress.update(done, busy);
        }
        Ok(busy)
    }

    /// Inserts `rows` (not empty) with one statement: several rows as a multi-row INSERT inside a
    /// transaction, a single row as one autocommitted INSERT.
    pub async fn insert(&self, rows: &[(Uuid, Item)]) -> Result<(), sqlx::Error> {
        match &self.db {
            Database::Postgres(pool) => {
                let mut insert = QueryBuilder::<Postgres>::new(INSERT);
                insert.push_values(rows, |mut b, (id, it)| {
                    b.push_bind(*id)
                        .push_bind(it.sku.clone())
                        .push_bind(it.title.clone())
                        .push_bind(it.description.clone())
                        .push_bind(it.qty)
                        .push_bind(it.price)
                        .push_bind(it.weight)
                        .push_bind(it.active)
                        .push_bind(it.released)
                        .push_bind(it.updated)
                        .push_bind(it.category.clone());
                });
                if rows.len() == 1 {
                    insert.build().execute(pool).await?;
                } else {
                    let mut tx = pool.begin().await?;
                    insert.build().execute(&mut *tx).await?;
                    tx.commit().await?;
                }
            }
            Database::Sqlite(pool) => {
                let mut insert = QueryBuilder::<Sqlite>::new(INSERT);
                insert.push_values(rows, |mut b, (id, it)| {
                    b.push_bind(id.hyphenated().to_string())
                        .push_bind(it.sku.clone())
                        .push_bind(it.title.clone())
                        .push_bind(it.description.clone())
                        .push_bind(it.qty)
                        .push_bind(it.price.to_f64())
                        .push_bind(it.weight.to_f64())
                        .push_bind(it.active)
                        .push_bind(it.released)
                        .push_bind(format_timestamp(&it.updated))
                        .push_bind(it.category.clone());
                });
                if rows.len() == 1 {
                    insert.build().execute(pool).await?;
                } else {
                    let mut tx = pool.begin().await?;
                    insert.build().execute(&mut *tx).await?;
                    tx.commit().await?;
                }
            }
        }
        Ok(())
    }

    /// `WHERE category = $1 ORDER BY price DESC NULLS LAST, id LIMIT 100`.
    pub async fn first_page(&self, category: &str) -> Result<Page, sqlx::Error> {
        match &self.db {
            Database::Postgres(pool) => {
                let rows = sqlx::query(FIRST_PAGE).bind(category).fetch_all(pool).await?;
                pg_page(&rows)
            }
            Database::Sqlite(pool) => {
                let rows = sqlx::query(FIRST_PAGE).bind(category).fetch_all(pool).await?;
                sqlite_page(&rows)
            }
        }
    }

    /// The page after `key`: the same query plus the keyset predicate on (price, id).
    pub async fn next_page(&self, category: &str, key: &Key) -> Result<Page, sqlx::Error> {
        match (&self.db, key) {
            (Database::Postgres(pool), Key::Postgres { price, id }) => {
                let rows =
                    sqlx::query(NEXT_PAGE).bind(category).bind(*price).bind(*id).fetch_all(pool).await?;
                pg_page(&rows)
            }
            (Database::Sqlite(pool), Key::Sqlite { price, id }) => {
                let rows = sqlx::query(NEXT_PAGE)
                    .bind(category)
                    .bind(*price)
                    .bind(id.as_str())
                    .fetch_all(pool)
                    .await?;
                sqlite_page(&rows)
            }
            _ => Err(sqlx::Error::Protocol("a keyset key of the other backend".into())),
        }
    }

    /// `SELECT * … WHERE id = $1`.
    pub async fn get(&self, id: Uuid) -> Result<Option<Value>, sqlx::Error> {
        match &self.db {
            Database::Postgres(pool) => {
                let row = sqlx::query(POINT_READ).bind(id).fetch_optional(pool).await?;
                row.as_ref().map(pg_json).transpose()
            }
            Database::Sqlite(pool) => {
                let row =
                    sqlx::query(POINT_READ).bind(id.hyphenated().to_string()).fetch_optional(pool).await?;
                row.as_ref().map(sqlite_json).transpose()
            }
        }
    }
}

/// Refreshes planner statistics of the whole benchmark database (both the EAV tables and `flat_items`).
pub async fn analyze(db: &Database) -> Result<(), sqlx::Error> {
    match db {
        Database::Postgres(pool) => sqlx::query("VACUUM (ANALYZE)").execute(pool).await.map(drop),
        Database::Sqlite(pool) => sqlx::query("ANALYZE").execute(pool).await.map(drop),
    }
}

fn pg_json(row: &PgRow) -> Result<Value, sqlx::Error> {
    let id: Uuid = row.try_get("id")?;
    let sku: Option<String> = row.try_get("sku")?;
    let title: Option<String> = row.try_get("title")?;
    let description: Option<String> = row.try_get("description")?;
    let qty: Option<i64> = row.try_get("qty")?;
    let price: Option<Decimal> = row.try_get("price")?;
    let weight: Option<Decimal> = row.try_get("weight")?;
    let active: Option<bool> = row.try_get("active")?;
    let released: Option<NaiveDate> = row.try_get("released")?;
    let updated: Option<DateTime<Utc>> = row.try_get("updated")?;
    let category: Option<String> = row.try_get("category")?;
    Ok(json!({
        "id": id,
        "values": {
            "sku": sku,
            "title": title,
            "description": description,
            "qty": qty,
            "price": price.map(|d| d.to_string()),
            "weight": weight.map(|d| d.to_string()),
            "active": active,
            "released": released.map(|d| d.format("%Y-%m-%d").to_string()),
            "updated": updated.as_ref().map(format_timestamp),
            "category": category,
        }
    }))
}

fn pg_page(rows: &[PgRow]) -> Result<Page, sqlx::Error> {
    let items = rows.iter().map(pg_json).collect::<Result<Vec<_>, _>>()?;
    let last = match rows.last() {
        Some(row) => Some(Key::Postgres { price: row.try_get("price")?, id: row.try_get("id")? }),
        None => None,
    };
    Ok(Page { items, last })
}

fn sqlite_json(row: &SqliteRow) -> Result<Value, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let sku: Option<String> = row.try_get("sku")?;
    let title: Option<String> = row.try_get("title")?;
    let description: Option<String> = row.try_get("description")?;
    let qty: Option<i64> = row.try_get("qty")?;
    let price: Option<f64> = row.try_get("price")?;
    let weight: Option<f64> = row.try_get("weight")?;
    let active: Option<bool> = row.try_get("active")?;
    let released: Option<String> = row.try_get("released")?;
    let updated: Option<String> = row.try_get("updated")?;
    let category: Option<String> = row.try_get("category")?;
    Ok(json!({
        "id": id,
        "values": {
            "sku": sku,
            "title": title,
            "description": description,
            "qty": qty,
            "price": price.map(|p| format!("{p:.2}")),
            "weight": weight.map(|w| format!("{w:.3}")),
            "active": active,
            "released": released,
            "updated": updated,
            "category": category,
        }
    }))
}

fn sqlite_page(rows: &[SqliteRow]) -> Result<Page, sqlx::Error> {
    let items = rows.iter().map(sqlite_json).collect::<Result<Vec<_>, _>>()?;
    let last = match rows.last() {
        Some(row) => Some(Key::Sqlite { price: row.try_get("price")?, id: row.try_get("id")? }),
        None => None,
    };
    Ok(Page { items, last })
}
