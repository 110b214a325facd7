//! `tessera-bench`: the benchmark of issue 3 (P1). Loads N rows into a logical table of 10 mixed-type columns
//! (through the EAV services, outbox and audit included) and the same rows into a flat physical table, then
//! measures — median of `--runs` runs after a warm-up — the first page of 100 with one filter and one sort,
//! the next keyset page, a point read by id, a single insert and a batch insert of 1,000 (EAV time, flat time,
//! ratio), and over HTTP against the real router: first page, point read and batch ingest.
//!
//! Prints a Markdown table for `docs/benchmarks.md` on stdout; progress goes to stderr. See `README.md`.

mod args;
mod compare;
mod constraints;
mod data;
mod flat;
mod http;
mod logical;
mod report;

use tessera_core::config::redact_url;
use tessera_core::events::Actor;
use tessera_core::testing::TestDatabase;
use tessera_core::Database;

use crate::args::Args;
use crate::data::TABLE;
use crate::flat::Flat;
use crate::report::{group, per_second, Report};

/// Every fallible step of the harness answers this.
pub type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Rows per batch, for loading and for the batch measurements.
pub const BATCH: usize = 1_000;

#[tokio::main]
async fn main() -> BoxResult<()> {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{}", crate::args::USAGE);
            return Ok(());
        }
        Err(message) => {
            eprintln!("tessera-bench: {message}\n\n{}", crate::args::USAGE);
            std::process::exit(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; numbers are only representative with --release");
    }
    eprintln!("creating a fresh {} database…", args.backend);
    let fresh = TestDatabase::migrated(args.backend).await;
    if args.constraints {
        let outcome = constraints::run(&args, &fresh.db).await;
        if !args.keep {
            fresh.remove().await;
        }
        println!("{}", outcome?);
        return Ok(());
    }
    if args.load_only {
        load_only(&args, &fresh.db).await?;
        println!("{}", fresh.url);
        return Ok(());
    }
    let outcome = run(&args, &fresh.db).await;
    if args.keep {
        eprintln!("kept the database: {}", redact_url(&fresh.url));
    } else {
        fresh.remove().await;
    }
    match outcome {
        Ok(report) => {
            println!("{report}");
            Ok(())
        }
        Err(e) => {
            eprintln!("tessera-bench failed: {e}");
            Err(e)
        }
    }
}

/// Loads the logical table only and refreshes statistics; the database is kept for a server to use.
async fn load_only(args: &Args, db: &Database) -> BoxResult<()> {
    let services = tessera_core::testing::services_with(db.clone(), tessera_core::Cache::memory(), &[]);
    let eav = services.eav();
    let actor = Actor::system();
    logical::create_schema(&eav, &actor).await?;
    eprintln!("loading {} rows into the logical table {TABLE}…", group(args.rows));
    logical::load(&eav, &actor, args.rows).await?;
    eprintln!("VACUUM ANALYZE…");
    flat::analyze(db).await?;
    Ok(())
}

async fn run(args: &Args, db: &Database) -> BoxResult<Report> {
    // No rate limits: the benchmark is one client hammering loopback on purpose.
    let services = tessera_core::testing::services_with(
        db.clone(),
        tessera_core::Cache::memory(),
        &[("TESSERA_RATE_LIMIT_IP_PER_MIN", "0"), ("TESSERA_RATE_LIMIT_USER_PER_MIN", "0")],
    );
    let eav = services.eav();
    let actor = Actor::system();
    let flat = Flat::new(db.clone());

    logical::create_schema(&eav, &actor).await?;
    flat.create().await?;

    eprintln!(
        "loading {} rows into the logical table {TABLE} (Eav::batch, 1,000 per batch)…",
        group(args.rows)
    );
    let loaded = logical::load(&eav, &actor, args.rows).await?;
    eprintln!("loading the same rows into the flat table flat_items (multi-row INSERTs of 1,000)…");
    let flat_busy = flat.load(&loaded.ids).await?;
    eprintln!("VACUUM ANALYZE…");
    flat::analyze(db).await?;

    let mut next_index = args.rows;
    eprintln!("measuring in process ({} runs after 1 warm-up)…", args.runs);
    let comparisons = compare::all(&eav, &actor, &flat, &loaded.ids, &mut next_index, args.runs).await?;
    let requests = args.runs * 10;
    eprintln!("measuring over HTTP ({requests} requests of each kind after 1 warm-up)…");
    let http = http::measure(&services, &loaded.ids, &mut next_index, requests).await?;

    Ok(Report {
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        backend: args.backend,
        rows: args.rows,
        runs: args.runs,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        release: !cfg!(debug_assertions),
        command: args.command(),
        eav_load: per_second(args.rows, loaded.busy),
        flat_load: per_second(args.rows, flat_busy),
        comparisons,
        http,
    })
}
