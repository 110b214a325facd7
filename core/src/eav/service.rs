//! The EAV facade: each call is one transaction (committed on success, rolled back on any error), plus the
//! table cache policies. REST handlers and server functions call these methods and nothing below them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::batch::{self, ItemResult, Mode};
use super::cursor::{Cursor, CursorCodec};
use super::query::{self, Query, QueryLimits};
use super::rows::{self, Relatives, UpdateMode, UpdateOptions};
use super::schema::{self, CachePolicy, Table};
use crate::cache::Cache;
use crate::error::{Error, ErrorCode, Result};
use crate::events::Actor;
use crate::ids::WorkspaceId;
use crate::store::Database;

/// Rows written through batches (by this process) since statistics were last refreshed.
static BULK_ROWS: AtomicU64 = AtomicU64::new(0);

/// Refresh planner statistics after this many rows written through batches.
const ANALYZE_EVERY: u64 = 100_000;

/// How long cached rows and pages live at most (writes invalidate them sooner).
const CACHE_TTL: Duration = Duration::from_secs(600);

/// The EAV services of one workspace.
#[derive(Debug, Clone)]
pub struct Eav {
    db: Database,
    cache: Cache,
    cursors: Arc<CursorCodec>,
    tables: Arc<schema::TableCache>,
    workspace: WorkspaceId,
    limits: QueryLimits,
    max_batch_operations: usize,
}

/// The result of a batch.
#[derive(Debug)]
pub struct BatchOutcome {
    pub mode: Mode,
    pub results: Vec<ItemResult>,
}

impl Eav {
    pub fn new(
        db: Database,
        cache: Cache,
        cursors: Arc<CursorCodec>,
        tables: Arc<schema::TableCache>,
        workspace: WorkspaceId,
        limits: QueryLimits,
        max_batch_operations: usize,
    ) -> Self {
        Self { db, cache, cursors, tables, workspace, limits, max_batch_operations }
    }

    /// The table for a read inside `tx`: the cached one when its stored version still matches (one small
    /// statement), otherwise loaded and cached.
    async fn table_for_read(&self, tx: &mut crate::store::Tx, name: &str) -> Result<Arc<Table>> {
        if let Some(table) = self.tables.get(self.workspace, name) {
            if schema::stored_version(tx, table.id).await? == Some(table.version) {
                return Ok(table);
            }
            self.tables.forget(self.workspace, name);
        }
        let table = schema::load_table(tx, self.workspace, name).await?;
        self.tables.put(&table);
        Ok(Arc::new(table))
    }

    pub fn limits(&self) -> QueryLimits {
        self.limits
    }

    async fn table(&self, name: &str) -> Result<Table> {
        let mut tx = self.db.begin_read().await?;
        let table = schema::load_table(&mut tx, self.workspace, name).await?;
        tx.commit().await?;
        Ok(table)
    }

    /// The id of a table by name (`None` when there is none): what per-table permissions name.
    pub async fn table_id(&self, name: &str) -> Result<Option<uuid::Uuid>> {
        let mut sql = self.db.sql("SELECT id FROM logical_tables WHERE workspace_id = ");
        sql.bind(self.workspace.0).push(" AND table_name = ").bind(name);
        Ok(self.db.fetch_optional(&sql).await?.map(|row| row.uuid("id")).transpose()?)
    }

    // --- Schema ------------------------------------------------------------------------------------------

    pub async fn create_table(&self, actor: &Actor, body: &Value) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let table = schema::create_table(&mut tx, self.workspace, actor, body).await?;
        tx.commit().await?;
        Ok(table.to_json())
    }

    /// Tables by name, `limit` per page; the cursor is the last name, signed.
    pub async fn list_tables(&self, cursor: Option<&str>, limit: Option<i64>) -> Result<Value> {
        let limit = limit.unwrap_or(self.limits.default_page_size);
        if limit < 1 || limit > self.limits.max_page_size {
            return Err(Error::bad_request(
                "limit",
                ErrorCode::Invalid,
                format!("limit must be between 1 and {}", self.limits.max_page_size),
            ));
        }
        let after = match cursor {
            Some(token) => {
                let c = self.cursors.decode(token, "tables")?;
                Some(c.values.first().and_then(Value::as_str).map(str::to_owned).unwrap_or_default())
            }
            None => None,
        };
        let mut tx = self.db.begin_read().await?;
        let mut tables = schema::list_tables(&mut tx, self.workspace, after.as_deref(), limit + 1).await?;
        tx.commit().await?;
        let more = tables.len() as i64 > limit;
        tables.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = match (more, tables.last()) {
            (true, Some(last)) => {
                Some(self.cursors.encode(&Cursor::new(vec![json!(last.name.as_str())], last.id), "tables"))
            }
            _ => None,
        };
        Ok(json!({ "items": tables.iter().map(Table::to_json).collect::<Vec<_>>(), "next_cursor": next }))
    }

    pub async fn get_table(&self, name: &str) -> Result<Value> {
        Ok(self.table(name).await?.to_json())
    }

    pub async fn update_table(&self, actor: &Actor, name: &str, body: &Value) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let table = schema::update_table(&mut tx, self.workspace, actor, name, body).await?;
        tx.commit().await?;
        self.invalidate_all(&table).await;
        Ok(table.to_json())
    }

    pub async fn delete_table(&self, actor: &Actor, name: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let table = schema::load_table(&mut tx, self.workspace, name).await?;
        schema::delete_table(&mut tx, self.workspace, actor, name).await?;
        tx.commit().await?;
        self.invalidate_all(&table).await;
        Ok(())
    }

    /// Attaches a column; answers the column as attached.
    pub async fn attach_column(&self, actor: &Actor, table: &str, body: &Value) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let after = schema::attach_column(&mut tx, self.workspace, actor, table, body).await?;
        tx.commit().await?;
        self.invalidate_all(&after).await;
        let name = body.get("column_name").and_then(Value::as_str).unwrap_or_default();
        Ok(after.column(name).map(schema::Column::to_json).unwrap_or(Value::Null))
    }

    pub async fn get_column(&self, table: &str, column: &str) -> Result<Value> {
        let table = self.table(table).await?;
        table
            .column(column)
            .map(schema::Column::to_json)
            .ok_or_else(|| Error::NotFound(format!("table '{}' has no column '{column}'", table.name)))
    }

    pub async fn update_column(
        &self,
        actor: &Actor,
        table: &str,
        column: &str,
        body: &Value,
    ) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let after = schema::update_column(&mut tx, self.workspace, actor, table, column, body).await?;
        tx.commit().await?;
        self.invalidate_all(&after).await;
        Ok(after.column(column).map(schema::Column::to_json).unwrap_or(Value::Null))
    }

    pub async fn detach_column(&self, actor: &Actor, table: &str, column: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let after = schema::detach_column(&mut tx, self.workspace, actor, table, column).await?;
        tx.commit().await?;
        self.invalidate_all(&after).await;
        Ok(())
    }

    // --- Constraints -------------------------------------------------------------------------------------

    /// Declares a constraint; 422 listing offending rows when existing data violates it.
    pub async fn declare_constraint(&self, actor: &Actor, table: &str, body: &Value) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let loaded = schema::load_table(&mut tx, self.workspace, table).await?;
        let constraint = super::constraints::declare(&mut tx, &loaded, actor, body).await?;
        tx.commit().await?;
        self.invalidate_all(&loaded).await;
        Ok(constraint)
    }

    /// Parses and type-checks a CHECK expression against `table`'s columns without declaring anything (the
    /// designer's live feedback): a bad expression is the 400 a declaration would answer, naming
    /// `check_expression`, syntax errors with their position.
    pub async fn parse_check(&self, table: &str, expression: &str) -> Result<()> {
        let mut tx = self.db.begin_read().await?;
        let table = self.table_for_read(&mut tx, table).await?;
        tx.commit().await?;
        super::check::parse_check(expression, &|c| table.column(c).map(|col| col.data_type))
            .map(drop)
            .map_err(|e| Error::BadRequest(vec![e]))
    }

    pub async fn list_constraints(&self, table: &str) -> Result<Value> {
        let table = self.table(table).await?;
        let mut items: Vec<Value> =
            table.constraints.iter().filter(|c| !c.is_implicit()).map(|c| c.to_json(&table)).collect();
        items.extend(table.foreign_keys.iter().map(|f| f.to_json(&table)));
        Ok(json!({ "items": items, "next_cursor": null }))
    }

    pub async fn get_constraint(&self, table: &str, name: &str) -> Result<Value> {
        let table = self.table(table).await?;
        table
            .constraints
            .iter()
            .find(|c| c.name == name && !c.is_implicit())
            .map(|c| c.to_json(&table))
            .or_else(|| table.foreign_keys.iter().find(|f| f.name == name).map(|f| f.to_json(&table)))
            .ok_or_else(|| Error::NotFound(format!("table '{}' has no constraint '{name}'", table.name)))
    }

    /// Enables or disables a constraint (`{"is_active": bool}`); enabling validates existing rows.
    pub async fn update_constraint(
        &self,
        actor: &Actor,
        table: &str,
        name: &str,
        body: &Value,
    ) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let loaded = schema::load_table(&mut tx, self.workspace, table).await?;
        let constraint = super::constraints::set_active(&mut tx, &loaded, actor, name, body).await?;
        tx.commit().await?;
        self.invalidate_all(&loaded).await;
        Ok(constraint)
    }

    pub async fn drop_constraint(&self, actor: &Actor, table: &str, name: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let loaded = schema::load_table(&mut tx, self.workspace, table).await?;
        super::constraints::drop(&mut tx, &loaded, actor, name).await?;
        tx.commit().await?;
        self.invalidate_all(&loaded).await;
        Ok(())
    }

    pub async fn list_definitions(&self) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        let defs = schema::list_definitions(&mut tx, self.workspace).await?;
        tx.commit().await?;
        Ok(
            json!({ "items": defs.iter().map(schema::Definition::to_json).collect::<Vec<_>>(), "next_cursor": null }),
        )
    }

    pub async fn get_definition(&self, name: &str) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        let def = schema::find_definition(&mut tx, self.workspace, name).await?;
        tx.commit().await?;
        def.map(|d| d.to_json())
            .ok_or_else(|| Error::NotFound(format!("column definition '{name}' not found")))
    }

    pub async fn update_definition(&self, actor: &Actor, name: &str, body: &Value) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let def = schema::update_definition(&mut tx, self.workspace, actor, name, body).await?;
        tx.commit().await?;
        Ok(def.to_json())
    }

    pub async fn delete_definition(&self, actor: &Actor, name: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        schema::delete_definition(&mut tx, self.workspace, actor, name).await?;
        tx.commit().await?;
        Ok(())
    }

    // --- Rows --------------------------------------------------------------------------------------------

    pub async fn create_row(&self, actor: &Actor, table: &str, body: &Value) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let table = schema::load_table(&mut tx, self.workspace, table).await?;
        let row = rows::create_in(&mut tx, &table, body, actor, "").await?;
        tx.commit().await?;
        self.invalidate(&table).await;
        Ok(row)
    }

    pub async fn get_row(&self, actor: &Actor, table: &str, id: Uuid) -> Result<Value> {
        // Fast path: a cached table without a cache policy is checked and read in one statement.
        if let Some(cached) = self.tables.get(self.workspace, table) {
            if cached.cache_policy == CachePolicy::None {
                match rows::read_one(&self.db, &cached, id, actor).await? {
                    Some((version, row)) if version == cached.version => {
                        return row.ok_or_else(|| {
                            Error::NotFound(format!("row {id} not found in table '{}'", cached.name))
                        });
                    }
                    _ => self.tables.forget(self.workspace, table),
                }
            }
        }
        let mut tx = self.db.begin_read().await?;
        let table = schema::load_table(&mut tx, self.workspace, table).await?;
        self.tables.put(&table);
        if table.cache_policy == CachePolicy::None {
            let row = rows::get(&mut tx, &table, id, actor).await?;
            tx.commit().await?;
            return Ok(row);
        }
        let key = format!("eav:row:{}:{}:{}:{id}", table.id, table.version, self.generation(&table).await);
        if let Some(row) = self.cache_get(&key).await {
            tx.commit().await?;
            return Ok(mask_row(&table, row, actor));
        }
        let row = rows::get(&mut tx, &table, id, &Actor::system()).await?;
        tx.commit().await?;
        self.cache_put(&key, &row).await;
        Ok(mask_row(&table, row, actor))
    }

    pub async fn update_row(
        &self,
        actor: &Actor,
        table: &str,
        id: Uuid,
        body: &Value,
        if_match: Option<i32>,
        mode: UpdateMode,
    ) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let table = schema::load_table(&mut tx, self.workspace, table).await?;
        let options = UpdateOptions { expected: if_match, mode, prefix: "" };
        let row = rows::update_in(&mut tx, &table, id, body, options, actor).await?;
        tx.commit().await?;
        self.invalidate(&table).await;
        Ok(row)
    }

    pub async fn delete_row(
        &self,
        actor: &Actor,
        table: &str,
        id: Uuid,
        version: Option<i32>,
        cascade: bool,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let table = schema::load_table(&mut tx, self.workspace, table).await?;
        rows::delete_in(&mut tx, &table, id, version, cascade, actor, "").await?;
        tx.commit().await?;
        self.invalidate(&table).await;
        Ok(())
    }

    pub async fn relatives(&self, actor: &Actor, table: &str, id: Uuid, which: Relatives) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        let table = schema::load_table(&mut tx, self.workspace, table).await?;
        let items = rows::relatives(&mut tx, &table, id, which, actor).await?;
        tx.commit().await?;
        Ok(json!({ "items": items }))
    }

    /// Runs a query; `FullTable` tables answer repeated queries from the cache until the next write.
    pub async fn query(&self, actor: &Actor, table: &str, query: &Query) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        let table = self.table_for_read(&mut tx, table).await?;
        let key = match table.cache_policy {
            CachePolicy::FullTable => Some(self.page_key(&table, query, actor).await),
            _ => None,
        };
        if let Some(key) = &key {
            if let Some(page) = self.cache_get(key).await {
                tx.commit().await?;
                return Ok(page);
            }
        }
        let page = query::run(&mut tx, &table, query, &self.cursors, actor).await?.to_json();
        tx.commit().await?;
        if let Some(key) = &key {
            self.cache_put(key, &page).await;
        }
        Ok(page)
    }

    /// The column names an export of `query` on `table` writes (its projection, or every column).
    pub async fn export_columns(&self, table: &str, query: &Query) -> Result<Vec<String>> {
        let table = self.table(table).await?;
        match &query.columns {
            None => Ok(table.columns.iter().map(|c| c.name.to_string()).collect()),
            Some(names) => {
                for (i, name) in names.iter().enumerate() {
                    table.require_column(name, format!("columns[{i}]"))?;
                }
                Ok(names.clone())
            }
        }
    }

    /// The next page of an export (1,000 rows), advancing `query`'s cursor; `None` when all rows were read.
    pub async fn export_next(
        &self,
        actor: &Actor,
        table: &str,
        query: &mut Query,
        done: &mut bool,
    ) -> Result<Option<Vec<Value>>> {
        if *done {
            return Ok(None);
        }
        query.limit = self.limits.max_page_size.min(1000);
        query.offset = None;
        query.total = query::Total::None;
        let mut tx = self.db.begin_read().await?;
        let loaded = self.table_for_read(&mut tx, table).await?;
        let page = query::run(&mut tx, &loaded, query, &self.cursors, actor).await?;
        tx.commit().await?;
        query.cursor = page.next_cursor.clone();
        *done = page.next_cursor.is_none();
        Ok(Some(page.items))
    }

    /// Runs a batch. `all_or_nothing`: any failure rolls everything back and is returned as the error (its
    /// fields name `operations[i]`). `continue`: every operation gets its own result.
    pub async fn batch(&self, actor: &Actor, table: &str, body: &Value) -> Result<BatchOutcome> {
        let batch = batch::parse(body, self.max_batch_operations)?;
        let mut tx = self.db.begin().await?;
        let loaded = schema::load_table(&mut tx, self.workspace, table).await?;
        let results = batch::run(&mut tx, &loaded, &batch, actor).await?;
        tx.commit().await?;
        self.invalidate(&loaded).await;
        self.note_bulk_write(batch.operations.len());
        Ok(BatchOutcome { mode: batch.mode, results })
    }

    /// Keeps planner statistics fresh after bulk loads (autovacuum's analyze may lag far behind an import):
    /// once `ANALYZE_EVERY` rows were written through batches by this process, statistics are refreshed in
    /// the background, so no request waits for it.
    fn note_bulk_write(&self, rows: usize) {
        let written = BULK_ROWS.fetch_add(rows as u64, Ordering::Relaxed) + rows as u64;
        if written < ANALYZE_EVERY
            || BULK_ROWS.compare_exchange(written, 0, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        let db = self.db.clone();
        tokio::spawn(async move {
            let result = match &db {
                Database::Postgres(pool) => {
                    // VACUUM also marks the new pages all-visible, so page queries read the value indexes
                    // without visiting the table (index-only scans) right after an import.
                    sqlx::query("VACUUM (ANALYZE) table_rows, column_values").execute(pool).await.map(drop)
                }
                Database::Sqlite(pool) => sqlx::query("PRAGMA optimize").execute(pool).await.map(drop),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "refreshing statistics after a bulk load failed");
            }
        });
    }

    // --- Cache policies ----------------------------------------------------------------------------------

    async fn cache_get(&self, key: &str) -> Option<Value> {
        match self.cache.get(key).await {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, "cache read failed; reading the database");
                None
            }
        }
    }

    async fn cache_put(&self, key: &str, value: &Value) {
        if let Err(e) = self.cache.set(key, value.to_string().as_bytes(), Some(CACHE_TTL)).await {
            tracing::debug!(error = %e, "cache write failed");
        }
    }

    async fn generation(&self, table: &Table) -> String {
        let key = format!("eav:gen:{}", table.id);
        if let Ok(Some(bytes)) = self.cache.get(&key).await {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        let fresh = crate::ids::new_id().to_string();
        let _ = self.cache.set(&key, fresh.as_bytes(), None).await;
        fresh
    }

    async fn page_key(&self, table: &Table, query: &Query, actor: &Actor) -> String {
        let generation = self.generation(table).await;
        let digest = Sha256::digest(format!("{query:?}|{}", actor.unmask).as_bytes());
        format!("eav:q:{}:{}:{generation}:{}", table.id, table.version, hex::encode(digest))
    }

    /// After a committed row write on a cached table: start a new generation. Failures are logged (entries
    /// expire anyway). Keys also carry the schema version, so schema and definition changes retire them too.
    async fn invalidate(&self, table: &Table) {
        if table.cache_policy == CachePolicy::None {
            return;
        }
        self.invalidate_all(table).await;
    }

    /// Like `invalidate`, whatever the policy (schema changes, which may switch the policy off). Row and
    /// page keys carry the table's generation, so one new generation retires every cached entry of the table
    /// (batches and cascading deletes included); they also carry the schema version, so schema and
    /// definition changes retire them too.
    async fn invalidate_all(&self, table: &Table) {
        let generation = crate::ids::new_id().to_string();
        if self.cache.set(&format!("eav:gen:{}", table.id), generation.as_bytes(), None).await.is_err() {
            tracing::warn!(table = %table.name, "cache invalidation failed; cached reads expire within 10 minutes");
        }
    }
}

/// Applies the table's masking rules to a cached (unmasked) row for `actor`.
fn mask_row(table: &Table, mut row: Value, actor: &Actor) -> Value {
    if actor.unmask {
        return row;
    }
    if let Some(values) = row.get_mut("values").and_then(Value::as_object_mut) {
        for column in &table.columns {
            if let Some(v) = values.get_mut(column.name.as_str()) {
                *v = column.masking.mask(v);
            }
        }
    }
    row
}
