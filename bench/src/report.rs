//! Progress lines (stderr) and the Markdown report (stdout), ready to paste into `docs/benchmarks.md`.

use std::fmt;
use std::time::Duration;

use tessera_core::Backend;

/// Load progress is printed every this many rows.
const PROGRESS_EVERY: usize = 100_000;

/// Prints load progress to stderr every 100,000 rows and at the end.
#[derive(Debug)]
pub struct Progress {
    what: &'static str,
    total: usize,
    next: usize,
}

impl Progress {
    pub fn new(what: &'static str, total: usize) -> Self {
        Self { what, total, next: PROGRESS_EVERY.min(total) }
    }

    /// `done` rows loaded so far, `busy` spent in the database.
    pub fn update(&mut self, done: usize, busy: Duration) {
        if done < self.next {
            return;
        }
        let (what, total) = (self.what, self.total);
        eprintln!(
            "  {what:<4} {:>9} / {} rows  ({} rows/s)",
            group(done as u64),
            group(total as u64),
            group(per_second(done as u64, busy) as u64)
        );
        self.next = if done >= self.total {
            usize::MAX
        } else {
            ((done / PROGRESS_EVERY + 1) * PROGRESS_EVERY).min(self.total)
        };
    }
}

/// `n` with thousands separators: `1,000,000`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let parts: Vec<&str> =
        digits.as_bytes().rchunks(3).rev().map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    parts.join(",")
}

/// Items per second.
pub fn per_second(items: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        items as f64 / secs
    } else {
        0.0
    }
}

/// Milliseconds, with three decimals below 1 ms and two above.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1_000.0;
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn yes_no(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "**no**"
    }
}

/// One EAV-vs-flat number (medians).
#[derive(Debug, Clone)]
pub struct Comparison {
    pub name: &'static str,
    pub eav: Duration,
    pub flat: Duration,
    /// The highest acceptable EAV/flat ratio, when the issue sets one.
    pub target: Option<f64>,
}

impl Comparison {
    pub fn ratio(&self) -> f64 {
        let flat = self.flat.as_secs_f64();
        if flat > 0.0 {
            self.eav.as_secs_f64() / flat
        } else {
            f64::INFINITY
        }
    }
}

/// The numbers measured over HTTP (medians).
#[derive(Debug, Clone)]
pub struct HttpNumbers {
    pub requests: usize,
    pub first_page: Duration,
    pub point_read: Duration,
    /// One `POST …/batch` of [`crate::BATCH`] creates.
    pub batch: Duration,
}

/// Everything the run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub date: String,
    pub backend: Backend,
    pub rows: u64,
    pub runs: usize,
    pub cores: usize,
    pub release: bool,
    pub command: String,
    /// Rows per second of the initial loads (time spent in `Eav::batch` / in the flat INSERTs).
    pub eav_load: f64,
    pub flat_load: f64,
    pub comparisons: Vec<Comparison>,
    pub http: HttpNumbers,
}

/// Target of the HTTP first page (ms), point read (ms) and batch ingest (rows/s), from issue 3.
const HTTP_PAGE_MS: f64 = 12.0;
const HTTP_POINT_MS: f64 = 2.0;
const HTTP_INGEST_ROWS_PER_S: f64 = 5_000.0;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batch = crate::BATCH as u64;
        writeln!(
            f,
            "### EAV benchmark — {}, {}, {} rows, median of {} runs, {} cores",
            self.date,
            self.backend,
            group(self.rows),
            self.runs,
            self.cores
        )?;
        writeln!(f)?;
        if !self.release {
            writeln!(f, "**Debug build: not representative; run with `--release`.**")?;
            writeln!(f)?;
        }
        writeln!(f, "| In process (server time) | EAV | Flat table | EAV / flat | Target | Met |")?;
        writeln!(f, "|---|---:|---:|---:|---|---|")?;
        writeln!(
            f,
            "| Initial load, {} rows per batch (EAV with outbox + audit) | {} rows/s | {} rows/s | — | — | — |",
            group(batch),
            group(self.eav_load as u64),
            group(self.flat_load as u64)
        )?;
        for c in &self.comparisons {
            let (target, met) = match c.target {
                Some(t) => (format!("≤ {t}×"), yes_no(c.ratio() <= t)),
                None => ("—".to_owned(), "—"),
            };
            writeln!(
                f,
                "| {} | {} | {} | {:.2}× | {target} | {met} |",
                c.name,
                ms(c.eav),
                ms(c.flat),
                c.ratio()
            )?;
        }
        writeln!(f)?;
        let h = &self.http;
        let page_ms = h.first_page.as_secs_f64() * 1_000.0;
        let point_ms = h.point_read.as_secs_f64() * 1_000.0;
        let ingest = per_second(batch, h.batch);
        writeln!(
            f,
            "| Over HTTP (loopback, keep-alive, median of {} requests) | Median | Target | Met |",
            h.requests
        )?;
        writeln!(f, "|---|---:|---|---|")?;
        writeln!(
            f,
            "| `POST /api/v1/data/bench_items/query`, first page of 100 | {} | ≤ {HTTP_PAGE_MS} ms | {} |",
            ms(h.first_page),
            yes_no(page_ms <= HTTP_PAGE_MS)
        )?;
        writeln!(
            f,
            "| `GET /api/v1/data/bench_items/{{id}}`, point read | {} | ≤ {HTTP_POINT_MS} ms | {} |",
            ms(h.point_read),
            yes_no(point_ms <= HTTP_POINT_MS)
        )?;
        writeln!(
            f,
            "| `POST /api/v1/data/bench_items/batch`, {} creates (outbox + audit) | {} rows/s ({} per batch) | ≥ {} rows/s | {} |",
            group(batch),
            group(ingest as u64),
            ms(h.batch),
            group(HTTP_INGEST_ROWS_PER_S as u64),
            yes_no(ingest >= HTTP_INGEST_ROWS_PER_S)
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "Data: logical table `bench_items` with 10 columns (String ×3, Text, Int, Decimal ×2, Boolean, Date, \
             DateTime), deterministic rows, 20 categories. Page queries: filter `category = \"cat-07\"`, sort \
             `price desc` (ties by id), 100 rows. Flat baseline `flat_items`: the same typed columns and rows, \
             with {}. Both loaded before measuring, then `VACUUM ANALYZE`d (PostgreSQL; SQLite: `ANALYZE`), as autovacuum and the engine's refresh after bulk loads leave them.",
            crate::flat::INDEXES
        )?;
        writeln!(f)?;
        write!(f, "Command: `{}`", self.command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_000_000), "1,000,000");
        assert_eq!(group(12_345_678), "12,345,678");
    }
}
