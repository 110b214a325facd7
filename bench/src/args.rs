//! Command-line options, parsed by hand.

use tessera_core::Backend;

pub const USAGE: &str = "\
usage: tessera-bench [--backend postgres|sqlite] [--rows N] [--runs R] [--keep] [--constraints] [--load-only]

  --backend B  postgres (default) or sqlite. PostgreSQL comes from TESSERA_TEST_PG_URL
               (default postgres://postgres@127.0.0.1:5432; a role that may create databases)
  --rows N     rows to load (default 1000000 on postgres, 100000 on sqlite; at least 5000)
  --runs R     measured runs per number, median reported (default 7; one warm-up run comes first;
               the HTTP numbers use R x 10 requests)
  --keep       keep the benchmark database afterwards (its URL is printed)
  --constraints  only the constraint benchmark: batch inserts with a composite UNIQUE and a FOREIGN KEY
               declared against the same inserts without constraints (R batches of 1,000 each)
  --load-only  only load the logical table, keep the database and print its URL on stdout (for the grid
               benchmark, which runs a server and Chromium on it: bench/grid.sh)";

/// Fewer rows leave the measured category without a second page.
const MIN_ROWS: u64 = 5_000;

#[derive(Debug, Clone)]
pub struct Args {
    pub backend: Backend,
    pub rows: u64,
    pub runs: usize,
    pub keep: bool,
    pub constraints: bool,
    pub load_only: bool,
}

impl Args {
    /// Parses the arguments after the program name; `Ok(None)` when help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Self>, String> {
        let mut backend = Backend::Postgres;
        let mut rows = None;
        let mut runs = 7;
        let mut keep = false;
        let mut constraints = false;
        let mut load_only = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            match flag.as_str() {
                "--backend" => {
                    backend = match value(&flag, inline, &mut args)?.as_str() {
                        "postgres" | "postgresql" | "pg" => Backend::Postgres,
                        "sqlite" => Backend::Sqlite,
                        other => {
                            return Err(format!("--backend: expected postgres or sqlite, got '{other}'"))
                        }
                    }
                }
                "--rows" => rows = Some(number(&flag, &value(&flag, inline, &mut args)?)?),
                "--runs" => runs = number(&flag, &value(&flag, inline, &mut args)?)? as usize,
                "--keep" => keep = true,
                "--constraints" => constraints = true,
                "--load-only" => load_only = true,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown argument '{other}'")),
            }
        }
        let rows = rows.unwrap_or(match backend {
            Backend::Postgres => 1_000_000,
            Backend::Sqlite => 100_000,
        });
        if rows < MIN_ROWS {
            return Err(format!("--rows: at least {MIN_ROWS} rows are needed"));
        }
        if runs == 0 {
            return Err("--runs: at least 1".to_owned());
        }
        Ok(Some(Self { backend, rows, runs, keep, constraints, load_only }))
    }

    /// The command that reproduces this run, with every option spelled out.
    pub fn command(&self) -> String {
        let keep = if self.keep { " --keep" } else { "" };
        format!(
            "cargo run --release -p tessera-bench -- --backend {} --rows {} --runs {}{keep}",
            self.backend, self.rows, self.runs
        )
    }
}

/// The value of `flag`: after `=` or the next argument.
fn value(
    flag: &str,
    inline: Option<String>,
    rest: &mut impl Iterator<Item = String>,
) -> Result<String, String> {
    inline.or_else(|| rest.next()).ok_or_else(|| format!("{flag} needs a value"))
}

/// A whole number; `_` and `,` may group digits (`1_000_000`).
fn number(flag: &str, text: &str) -> Result<u64, String> {
    text.replace(['_', ','], "").parse().map_err(|_| format!("{flag}: expected a whole number, got '{text}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults_depend_on_the_backend() {
        let pg = parse(&[]).unwrap().unwrap();
        assert_eq!((pg.backend, pg.rows, pg.runs, pg.keep), (Backend::Postgres, 1_000_000, 7, false));
        let lite = parse(&["--backend", "sqlite"]).unwrap().unwrap();
        assert_eq!(lite.rows, 100_000);
    }

    #[test]
    fn reads_every_option() {
        let a = parse(&["--backend=sqlite", "--rows", "20_000", "--runs=5", "--keep"]).unwrap().unwrap();
        assert_eq!((a.backend, a.rows, a.runs, a.keep), (Backend::Sqlite, 20_000, 5, true));
        assert_eq!(
            a.command(),
            "cargo run --release -p tessera-bench -- --backend sqlite --rows 20000 --runs 5 --keep"
        );
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--rows", "10"]).is_err());
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--rows"]).is_err());
    }
}
