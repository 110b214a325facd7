//! The EAV side: the logical table `bench_items`, its load through `Eav::batch` (outbox and audit included),
//! and reading ids out of the service answers.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tessera_core::eav::batch::ItemResult;
use tessera_core::eav::Eav;
use tessera_core::events::Actor;
use uuid::Uuid;

use crate::data::{batch_body, COLUMNS, TABLE};
use crate::report::Progress;
use crate::{BoxResult, BATCH};

/// The rows loaded, in row order, and the time spent in `Eav::batch`.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub ids: Vec<Uuid>,
    pub busy: Duration,
}

/// Creates `bench_items` with its 10 columns (no cache policy, nothing mandatory or unique).
pub async fn create_schema(eav: &Eav, actor: &Actor) -> BoxResult<()> {
    eav.create_table(actor, &json!({ "table_name": TABLE })).await?;
    for (order, (name, data_type)) in COLUMNS.iter().enumerate() {
        let column = if *name == "sku" {
            json!({ "column_name": name, "data_type": data_type, "display_order": order, "is_value_unique": false })
        } else {
            json!({ "column_name": name, "data_type": data_type, "display_order": order })
        };
        eav.attach_column(actor, TABLE, &column).await?;
    }
    Ok(())
}

/// Loads rows `0..rows` in batches of 1,000 creates.
pub async fn load(eav: &Eav, actor: &Actor, rows: u64) -> BoxResult<Loaded> {
    let mut ids = Vec::with_capacity(rows as usize);
    let mut busy = Duration::ZERO;
    let mut progress = Progress::new("eav", rows as usize);
    let mut from = 0;
    while from < rows {
        let to = (from + BATCH as u64).min(rows);
        let body = batch_body(from, to);
        let start = Instant::now();
        let outcome = eav.batch(actor, TABLE, &body).await?;
        busy += start.elapsed();
        ids.extend(batch_ids(&outcome.results)?);
        from = to;
        progress.update(ids.len(), busy);
    }
    Ok(Loaded { ids, busy })
}

/// The `id` of a row as the services answer it.
pub fn row_id(row: &Value) -> BoxResult<Uuid> {
    let text = row.get("id").and_then(Value::as_str).ok_or("a row without an id")?;
    Ok(Uuid::parse_str(text)?)
}

/// The ids of the rows a batch of creates made, in order.
pub fn batch_ids(results: &[ItemResult]) -> BoxResult<Vec<Uuid>> {
    results
        .iter()
        .map(|result| match result {
            ItemResult::Ok(Some(row)) => row_id(row),
            ItemResult::Ok(None) => Err("a batch create answered no row".into()),
            ItemResult::Failed(e) => Err(format!("a batch operation failed: {e}").into()),
        })
        .collect()
}

/// The ids of the rows of a page (`{"items": [...]}`), as text.
pub fn page_ids(page: &Value) -> Vec<String> {
    page.get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items.iter().filter_map(|row| row.get("id").and_then(Value::as_str).map(str::to_owned)).collect()
        })
        .unwrap_or_default()
}
