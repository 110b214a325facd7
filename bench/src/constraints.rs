//! The constraint benchmark (issue 4): batch inserts of 1,000 rows into a logical table with a composite
//! UNIQUE and a FOREIGN KEY declared, against the same inserts into an identical table without constraints.
//! Target: ≤ 1.3× the cost without constraints.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tessera_core::eav::Eav;
use tessera_core::events::Actor;
use tessera_core::Database;

use crate::args::Args;
use crate::compare::median;
use crate::report::ms;
use crate::{BoxResult, BATCH};

const CATEGORIES: i64 = 20;

async fn table(eav: &Eav, actor: &Actor, name: &str) -> BoxResult<()> {
    eav.create_table(actor, &json!({ "table_name": name })).await?;
    for (column, ty) in [("sku", "String"), ("category_no", "Int"), ("qty", "Int"), ("note", "Text")] {
        eav.attach_column(actor, name, &json!({ "column_name": column, "data_type": ty })).await?;
    }
    Ok(())
}

fn batch(run: usize) -> Value {
    let operations: Vec<Value> = (0..BATCH)
        .map(|i| {
            let n = run * BATCH + i;
            json!({ "op": "create", "values": {
                "sku": format!("sku-{n:08}"), "category_no": (n as i64) % CATEGORIES, "qty": n % 1000,
                "note": "constraint benchmark row" } })
        })
        .collect();
    json!({ "operations": operations })
}

/// Runs the benchmark and returns its Markdown report.
pub async fn run(args: &Args, db: &Database) -> BoxResult<String> {
    let services = tessera_core::testing::services(db.clone());
    let eav = services.eav();
    let actor = Actor::system();

    eav.create_table(&actor, &json!({ "table_name": "categories" })).await?;
    eav.attach_column(&actor, "categories", &json!({ "column_name": "category_no", "data_type": "Int" }))
        .await?;
    eav.declare_constraint(
        &actor,
        "categories",
        &json!({ "constraint_name": "pk_categories",
        "constraint_type": "PRIMARY KEY", "columns": ["category_no"] }),
    )
    .await?;
    for n in 0..CATEGORIES {
        eav.create_row(&actor, "categories", &json!({ "values": { "category_no": n } })).await?;
    }
    table(&eav, &actor, "plain_items").await?;
    table(&eav, &actor, "keyed_items").await?;
    eav.declare_constraint(
        &actor,
        "keyed_items",
        &json!({ "constraint_name": "uq_sku_category",
        "constraint_type": "UNIQUE", "columns": ["sku", "category_no"] }),
    )
    .await?;
    eav.declare_constraint(
        &actor,
        "keyed_items",
        &json!({ "constraint_name": "fk_category",
        "constraint_type": "FOREIGN KEY", "columns": ["category_no"], "referenced_table": "categories" }),
    )
    .await?;

    let mut plain = Vec::new();
    let mut keyed = Vec::new();
    for run in 0..=args.runs {
        let body = batch(run);
        let started = Instant::now();
        eav.batch(&actor, "plain_items", &body).await?;
        let p = started.elapsed();
        let started = Instant::now();
        eav.batch(&actor, "keyed_items", &body).await?;
        let k = started.elapsed();
        if run > 0 {
            plain.push(p);
            keyed.push(k);
        }
        eprintln!("  batch {run}: plain {}, keyed {}", ms(p), ms(k));
    }
    let (p, k) = (median(plain), median(keyed));
    let ratio = k.as_secs_f64() / p.as_secs_f64().max(f64::EPSILON);
    let rate = |d: Duration| (BATCH as f64 / d.as_secs_f64().max(f64::EPSILON)).round();
    Ok(format!(
        "### Constraints — {}, {}, median of {} batches of {BATCH} rows\n\n\
         | Batch insert of 1,000 rows | Median | Rows/s |\n|---|---:|---:|\n\
         | no constraints | {} | {} |\n\
         | composite UNIQUE (sku, category_no) + FOREIGN KEY (category_no) | {} | {} |\n\n\
         Ratio with / without constraints: **{ratio:.2}×** (target ≤ 1.3×: {}).\n\n\
         Command: `cargo run --release -p tessera-bench -- --constraints --backend {} --runs {}`",
        chrono::Utc::now().format("%Y-%m-%d"),
        args.backend,
        args.runs,
        ms(p),
        rate(p),
        ms(k),
        rate(k),
        if ratio <= 1.3 { "met" } else { "**not met**" },
        args.backend,
        args.runs,
    ))
}
