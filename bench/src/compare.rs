//! The five in-process measurements, EAV against the flat table. Every run times the EAV call, then the
//! equivalent flat statement; the first run is a warm-up and is not counted; medians are reported.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tessera_core::eav::query::Query;
use tessera_core::eav::Eav;
use tessera_core::events::Actor;
use uuid::Uuid;

use crate::data::{batch_body, item, Item, Rng, TABLE};
use crate::flat::{Flat, Key};
use crate::logical::{batch_ids, page_ids, row_id};
use crate::report::Comparison;
use crate::{BoxResult, BATCH};

/// The category the page queries filter on.
pub const CATEGORY: &str = "cat-07";
/// Rows per page.
pub const PAGE: u64 = 100;

/// The query body of the page measurements: one filter, one sort, 100 rows; `cursor` for the next page.
pub fn page_query(cursor: Option<&str>) -> Value {
    let mut body = json!({
        "filter": { "field": "category", "op": "eq", "value": CATEGORY },
        "sort": [{ "field": "price", "direction": "desc" }],
        "limit": PAGE,
    });
    if let (Some(cursor), Some(obj)) = (cursor, body.as_object_mut()) {
        obj.insert("cursor".to_owned(), Value::String(cursor.to_owned()));
    }
    body
}

/// The median (mean of the two middle values for an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    let mid = samples.len() / 2;
    match (samples.len() % 2, samples.get(mid), mid.checked_sub(1).and_then(|i| samples.get(i))) {
        (1, Some(m), _) => *m,
        (_, Some(high), Some(low)) => (*high + *low) / 2,
        _ => Duration::ZERO,
    }
}

/// Timings of one measurement, warm-up excluded.
#[derive(Debug, Default)]
struct Samples {
    eav: Vec<Duration>,
    flat: Vec<Duration>,
}

impl Samples {
    fn record(&mut self, run: usize, eav: Duration, flat: Duration) {
        if run > 0 {
            self.eav.push(eav);
            self.flat.push(flat);
        }
    }

    fn finish(self, name: &'static str, target: Option<f64>) -> Comparison {
        Comparison { name, eav: median(self.eav), flat: median(self.flat), target }
    }
}

/// Runs the five measurements. `next_index` is the number of the next row to create (inserts add rows to
/// both tables, with the same data and ids, so the tables stay equal).
pub async fn all(
    eav: &Eav,
    actor: &Actor,
    flat: &Flat,
    ids: &[Uuid],
    next_index: &mut u64,
    runs: usize,
) -> BoxResult<Vec<Comparison>> {
    let (first, cursors) = first_page(eav, actor, flat, runs).await?;
    let next = next_page(eav, actor, flat, &cursors, runs).await?;
    let point = point_read(eav, actor, flat, ids, runs).await?;
    let single = single_insert(eav, actor, flat, next_index, runs).await?;
    let batch = batch_insert(eav, actor, flat, next_index, runs).await?;
    Ok(vec![first, next, point, single, batch])
}

/// Where the first page ended, on both sides.
struct Cursors {
    eav: String,
    flat: Key,
}

async fn first_page(eav: &Eav, actor: &Actor, flat: &Flat, runs: usize) -> BoxResult<(Comparison, Cursors)> {
    let body = page_query(None);
    let mut samples = Samples::default();
    let mut cursors = None;
    for run in 0..=runs {
        let start = Instant::now();
        let query = Query::from_json(&body, eav.limits())?;
        let page = eav.query(actor, TABLE, &query).await?;
        let eav_time = start.elapsed();
        let start = Instant::now();
        let flat_page = flat.first_page(CATEGORY).await?;
        let flat_time = start.elapsed();
        samples.record(run, eav_time, flat_time);
        if run == 0 {
            check_same_rows("first page", &page, &flat_page.items);
            let eav_cursor = page.get("next_cursor").and_then(Value::as_str).map(str::to_owned);
            cursors = match (eav_cursor, flat_page.last) {
                (Some(eav), Some(flat)) => Some(Cursors { eav, flat }),
                _ => None,
            };
        }
    }
    let cursors = cursors.ok_or("the first page has no next page: load more rows")?;
    let name = "First page of 100 (1 filter, 1 sort)";
    Ok((samples.finish(name, Some(2.0)), cursors))
}

async fn next_page(
    eav: &Eav,
    actor: &Actor,
    flat: &Flat,
    cursors: &Cursors,
    runs: usize,
) -> BoxResult<Comparison> {
    let body = page_query(Some(cursors.eav.as_str()));
    let mut samples = Samples::default();
    for run in 0..=runs {
        let start = Instant::now();
        let query = Query::from_json(&body, eav.limits())?;
        let page = eav.query(actor, TABLE, &query).await?;
        let eav_time = start.elapsed();
        let start = Instant::now();
        let flat_page = flat.next_page(CATEGORY, &cursors.flat).await?;
        let flat_time = start.elapsed();
        samples.record(run, eav_time, flat_time);
        if run == 0 {
            check_same_rows("next page", &page, &flat_page.items);
        }
    }
    Ok(samples.finish("Next keyset page of 100", Some(2.0)))
}

async fn point_read(
    eav: &Eav,
    actor: &Actor,
    flat: &Flat,
    ids: &[Uuid],
    runs: usize,
) -> BoxResult<Comparison> {
    let mut rng = Rng::new(0x0B0B);
    let mut samples = Samples::default();
    for run in 0..=runs {
        let id = ids.get(rng.position(ids.len())).copied().ok_or("no rows loaded")?;
        let start = Instant::now();
        let row = eav.get_row(actor, TABLE, id).await?;
        let eav_time = start.elapsed();
        let start = Instant::now();
        let flat_row = flat.get(id).await?;
        let flat_time = start.elapsed();
        samples.record(run, eav_time, flat_time);
        if row_id(&row)? != id || flat_row.is_none() {
            return Err(format!("point read of {id} did not find the row on both sides").into());
        }
    }
    Ok(samples.finish("Point read by id", Some(1.5)))
}

async fn single_insert(
    eav: &Eav,
    actor: &Actor,
    flat: &Flat,
    next_index: &mut u64,
    runs: usize,
) -> BoxResult<Comparison> {
    let mut samples = Samples::default();
    for run in 0..=runs {
        let it = item(*next_index);
        *next_index += 1;
        let body = it.row_body();
        let start = Instant::now();
        let row = eav.create_row(actor, TABLE, &body).await?;
        let eav_time = start.elapsed();
        let rows = [(row_id(&row)?, it)];
        let start = Instant::now();
        flat.insert(&rows).await?;
        let flat_time = start.elapsed();
        samples.record(run, eav_time, flat_time);
    }
    Ok(samples.finish("Single insert", None))
}

async fn batch_insert(
    eav: &Eav,
    actor: &Actor,
    flat: &Flat,
    next_index: &mut u64,
    runs: usize,
) -> BoxResult<Comparison> {
    let size = BATCH as u64;
    let mut samples = Samples::default();
    for run in 0..=runs {
        let from = *next_index;
        *next_index += size;
        let body = batch_body(from, from + size);
        let start = Instant::now();
        let outcome = eav.batch(actor, TABLE, &body).await?;
        let eav_time = start.elapsed();
        let rows: Vec<(Uuid, Item)> =
            batch_ids(&outcome.results)?.into_iter().zip((from..).map(item)).collect();
        let start = Instant::now();
        flat.insert(&rows).await?;
        let flat_time = start.elapsed();
        samples.record(run, eav_time, flat_time);
    }
    Ok(samples.finish("Batch insert of 1,000 rows", None))
}

/// Both sides should answer the same rows in the same order; if not, the comparison is suspect: say so loudly
/// (after a long load, a warning is more useful than an abort).
fn check_same_rows(what: &str, eav_page: &Value, flat_items: &[Value]) {
    let eav = page_ids(eav_page);
    let flat: Vec<String> = flat_items
        .iter()
        .filter_map(|row| row.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if eav.len() as u64 != PAGE || eav != flat {
        eprintln!(
            "WARNING: {what}: the EAV query and the flat query disagree ({} vs {} rows, first ids {:?} vs {:?})",
            eav.len(),
            flat.len(),
            eav.first(),
            flat.first()
        );
    }
}
