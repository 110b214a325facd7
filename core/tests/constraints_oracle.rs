#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Differential test of declared constraints against PostgreSQL as the oracle (issue 4, "Tests"): each scenario
//! builds the same schema twice — as logical tables with declared PRIMARY KEY / UNIQUE / FOREIGN KEY / CHECK
//! constraints in Tessera (on PostgreSQL and on SQLite, through `conformance!`), and as real physical tables in a
//! scratch PostgreSQL database — then applies the same sequence of writes to both (hand-written edge cases first,
//! then a deterministic pseudo-random sequence), one facade call / one autocommitted statement per operation.
//! Tessera must accept and reject exactly the operations PostgreSQL accepts and rejects, and end with the same
//! rows (NULLs included). Strings compare under `COLLATE "C"`; rows are identified by their primary key.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde_json::{json, Map, Value};
use sqlx::{PgPool, Postgres, Row as _};
use tessera_core::eav::query::Query;
use tessera_core::eav::rows::UpdateMode;
use tessera_core::eav::Eav;
use tessera_core::events::Actor;
use tessera_core::testing::TestDatabase;
use tessera_core::{Backend, Database, Error};
use uuid::Uuid;

/// Pseudo-random operations per scenario, after its hand-written ones.
const RANDOM_OPS: usize = 60;
/// Mismatched operations listed per scenario in a failure report.
const SHOWN_MISMATCHES: usize = 12;
const ACTIONS: [&str; 5] = ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"];

// --- Schema and operations ----------------------------------------------------------------------------------

/// A column: `Int` / `bigint`, or `String` / `text COLLATE "C"`; `domain` is what generated operations write.
#[derive(Debug, Clone)]
struct Col {
    name: &'static str,
    text: bool,
    default: Option<i64>,
    domain: Vec<Value>,
}

#[derive(Debug, Clone)]
struct Tbl {
    name: String,
    cols: Vec<Col>,
    /// Indexes into `cols` of the PRIMARY KEY, in key order.
    pk: Vec<usize>,
}

/// A value of the compact notations below: `-` is NULL, an integer is an Int, anything else a string.
fn val(s: &str) -> Value {
    match (s, s.parse::<i64>()) {
        ("-", _) => Value::Null,
        (_, Ok(n)) => json!(n),
        _ => json!(s),
    }
}

/// A table whose first `pk` columns are its PRIMARY KEY. `spec` lists `;`-separated columns as
/// `name v,v,… [default=d]`: the values generated operations write (`-` = NULL; never in a key), String when
/// any of them is a string, Int otherwise.
fn tbl(name: String, pk: usize, spec: &'static str) -> Tbl {
    let cols = spec
        .split(';')
        .map(|col| {
            let mut words = col.split_whitespace();
            let column = words.next().unwrap();
            let domain: Vec<Value> = words.next().unwrap().split(',').map(val).collect();
            let default = words.next().map(|d| d.trim_start_matches("default=").parse::<i64>().unwrap());
            Col { name: column, text: domain.iter().any(Value::is_string), default, domain }
        })
        .collect();
    Tbl { name, cols, pk: (0..pk).collect() }
}

/// A constraint besides each table's primary key (tables and columns are indexes).
#[derive(Debug, Clone)]
enum Decl {
    /// `Fk(child, columns, parent, on_delete, on_update, match_full)`: `columns` of `child` reference the
    /// primary key of `parent`.
    Fk(usize, Vec<usize>, usize, &'static str, &'static str, bool),
    /// `UniqueCi(table, column)`: a case-insensitive UNIQUE (oracle: a unique index on `lower(column)`).
    UniqueCi(usize, usize),
    /// `Check(table, expression)`.
    Check(usize, &'static str),
}

/// One write; `key` holds the primary-key values of the targeted row.
#[derive(Debug, Clone)]
enum Op {
    Insert { t: usize, vals: Vec<Value> },
    Update { t: usize, key: Vec<Value>, col: usize, val: Value },
    Delete { t: usize, key: Vec<Value> },
}

/// Operations, `;`-separated: `I<t> v,v,…` inserts a row (every column) into table `t`; `U<t> k,… c=v` sets
/// column `c` of the row of `t` whose primary key is `k,…`; `D<t> k,…` deletes that row.
fn ops(script: &str) -> Vec<Op> {
    fn list(values: &str) -> Vec<Value> {
        values.split(',').map(val).collect()
    }
    script
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|step| {
            let words: Vec<&str> = step.split_whitespace().collect();
            let t: usize = words[0][1..].parse().unwrap();
            match (&words[0][..1], words.as_slice()) {
                ("I", [_, values]) => Op::Insert { t, vals: list(values) },
                ("D", [_, key]) => Op::Delete { t, key: list(key) },
                ("U", [_, key, set]) => {
                    let (col, value) = set.split_once('=').unwrap();
                    Op::Update { t, key: list(key), col: col.parse().unwrap(), val: val(value) }
                }
                _ => panic!("bad step {step:?}"),
            }
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Scenario {
    name: String,
    tables: Vec<Tbl>,
    decls: Vec<Decl>,
    /// Hand-written operations, run before the generated ones.
    seeds: Vec<Op>,
}

fn scenario(name: String, tables: Vec<Tbl>, decls: Vec<Decl>, seeds: &str) -> Scenario {
    Scenario { name, tables, decls, seeds: ops(seeds) }
}

struct XorShift(u64);

impl XorShift {
    /// Seeded from the scenario's name (FNV-1a), so every scenario has its own fixed sequence.
    fn for_name(name: &str) -> Self {
        let hash = name
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        Self(hash | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick(&mut self, items: &[Value]) -> Value {
        items[self.below(items.len())].clone()
    }
}

fn random_key(rng: &mut XorShift, t: &Tbl) -> Vec<Value> {
    t.pk.iter().map(|&c| rng.pick(&t.cols[c].domain)).collect()
}

/// ~45% inserts, ~27% updates of one column (keys included), ~28% deletes, over random tables.
fn random_ops(sc: &Scenario) -> Vec<Op> {
    let mut rng = XorShift::for_name(&sc.name);
    let mut out = Vec::with_capacity(RANDOM_OPS);
    for _ in 0..RANDOM_OPS {
        let t = rng.below(sc.tables.len());
        let table = &sc.tables[t];
        let roll = rng.below(100);
        out.push(if roll < 45 {
            Op::Insert { t, vals: table.cols.iter().map(|c| rng.pick(&c.domain)).collect() }
        } else if roll < 72 {
            let key = random_key(&mut rng, table);
            let col = rng.below(table.cols.len());
            Op::Update { t, key, col, val: rng.pick(&table.cols[col].domain) }
        } else {
            Op::Delete { t, key: random_key(&mut rng, table) }
        });
    }
    out
}

fn constraint_name(sc: &Scenario, k: usize) -> String {
    let table = match &sc.decls[k] {
        Decl::Fk(table, ..) | Decl::UniqueCi(table, _) | Decl::Check(table, _) => *table,
    };
    format!("c{k}_{}", sc.tables[table].name)
}

fn column_names(t: &Tbl, cols: &[usize]) -> Vec<&'static str> {
    cols.iter().map(|&c| t.cols[c].name).collect()
}

fn key_text(t: &Tbl, key: &[Value]) -> String {
    t.pk.iter().zip(key).map(|(&c, v)| format!("{} = {v}", t.cols[c].name)).collect::<Vec<_>>().join(" AND ")
}

fn describe(sc: &Scenario, op: &Op) -> String {
    match op {
        Op::Insert { t, vals } => {
            let table = &sc.tables[*t];
            let values: Vec<String> = vals.iter().map(Value::to_string).collect();
            let cols = column_names(table, &(0..table.cols.len()).collect::<Vec<_>>()).join(", ");
            format!("INSERT INTO {} ({cols}) VALUES ({})", table.name, values.join(", "))
        }
        Op::Update { t, key, col, val } => {
            let table = &sc.tables[*t];
            format!(
                "UPDATE {} SET {} = {val} WHERE {}",
                table.name,
                table.cols[*col].name,
                key_text(table, key)
            )
        }
        Op::Delete { t, key } => {
            let table = &sc.tables[*t];
            format!("DELETE FROM {} WHERE {}", table.name, key_text(table, key))
        }
    }
}

/// Accepted, or rejected with the reason.
type Outcome = Result<(), String>;

fn verdict(outcome: &Outcome) -> String {
    match outcome {
        Ok(()) => "accepted".to_owned(),
        Err(reason) => format!("rejected ({reason})"),
    }
}

// --- Tessera ------------------------------------------------------------------------------------------------

async fn setup_tessera(eav: &Eav, sc: &Scenario) {
    let sys = Actor::system();
    for t in &sc.tables {
        eav.create_table(&sys, &json!({"table_name": t.name}))
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
        for c in &t.cols {
            let data_type = if c.text { "String" } else { "Int" };
            let body = json!({"column_name": c.name, "data_type": data_type, "default_value": c.default});
            eav.attach_column(&sys, &t.name, &body)
                .await
                .unwrap_or_else(|e| panic!("{}.{}: {e:?}", t.name, c.name));
        }
        let body = json!({"constraint_name": format!("pk_{}", t.name), "constraint_type": "PRIMARY KEY",
            "columns": column_names(t, &t.pk)});
        eav.declare_constraint(&sys, &t.name, &body)
            .await
            .unwrap_or_else(|e| panic!("pk of {}: {e:?}", t.name));
    }
    for (k, decl) in sc.decls.iter().enumerate() {
        let name = constraint_name(sc, k);
        let (table, body) = match decl {
            Decl::Fk(child, cols, parent, on_delete, on_update, full) => {
                let t = &sc.tables[*child];
                let match_type = if *full { "FULL" } else { "SIMPLE" };
                let body = json!({"constraint_name": name, "constraint_type": "FOREIGN KEY",
                    "columns": column_names(t, cols), "referenced_table": sc.tables[*parent].name,
                    "on_delete": on_delete, "on_update": on_update, "match_type": match_type});
                (t, body)
            }
            Decl::UniqueCi(table, col) => {
                let t = &sc.tables[*table];
                let column = t.cols[*col].name;
                let body = json!({"constraint_name": name, "constraint_type": "UNIQUE",
                    "columns": [column], "case_sensitive": false});
                (t, body)
            }
            Decl::Check(table, expr) => {
                let t = &sc.tables[*table];
                (t, json!({"constraint_name": name, "constraint_type": "CHECK", "check_expression": expr}))
            }
        };
        eav.declare_constraint(&sys, &table.name, &body).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

/// The id and version of the row of `t` whose primary key is `key`, if there is one.
async fn find(eav: &Eav, t: &Tbl, key: &[Value]) -> Option<(Uuid, i64)> {
    let conditions: Vec<Value> =
        t.pk.iter()
            .zip(key)
            .map(|(&c, v)| json!({"field": t.cols[c].name, "op": "eq", "value": v}))
            .collect();
    let filter = if conditions.len() == 1 { conditions[0].clone() } else { json!({ "and": conditions }) };
    let query = Query::from_json(&json!({"filter": filter, "limit": 10}), eav.limits()).unwrap();
    let page = eav.query(&Actor::system(), &t.name, &query).await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert!(items.len() <= 1, "{} rows of {} have the key {}", items.len(), t.name, key_text(t, key));
    items
        .first()
        .map(|row| (Uuid::parse_str(row["id"].as_str().unwrap()).unwrap(), row["version"].as_i64().unwrap()))
}

/// One facade call; an update or delete of a key no row has is accepted without a call (as in SQL).
async fn tessera_apply(eav: &Eav, sc: &Scenario, op: &Op) -> Outcome {
    let sys = Actor::system();
    let result = match op {
        Op::Insert { t, vals } => {
            let table = &sc.tables[*t];
            let mut values = Map::new();
            for (c, v) in table.cols.iter().zip(vals) {
                values.insert(c.name.to_owned(), v.clone());
            }
            eav.create_row(&sys, &table.name, &json!({ "values": Value::Object(values) })).await.map(drop)
        }
        Op::Update { t, key, col, val } => {
            let table = &sc.tables[*t];
            match find(eav, table, key).await {
                None => Ok(()),
                Some((id, version)) => {
                    let mut values = Map::new();
                    values.insert(table.cols[*col].name.to_owned(), val.clone());
                    let body = json!({"version": version, "values": Value::Object(values)});
                    eav.update_row(&sys, &table.name, id, &body, None, UpdateMode::Merge).await.map(drop)
                }
            }
        }
        Op::Delete { t, key } => {
            let table = &sc.tables[*t];
            match find(eav, table, key).await {
                None => Ok(()),
                Some((id, _)) => eav.delete_row(&sys, &table.name, id, None, false).await,
            }
        }
    };
    match result {
        Ok(()) => Ok(()),
        Err(e @ (Error::Violation { .. } | Error::Validation(_))) => Err(e.to_string()),
        Err(other) => panic!("{}: {}: unexpected error {other:?}", sc.name, describe(sc, op)),
    }
}

/// Every row of `t` as a JSON array of its column values, sorted.
async fn tessera_rows(eav: &Eav, t: &Tbl) -> Vec<String> {
    let query = Query::from_json(&json!({"limit": 1000}), eav.limits()).unwrap();
    let page = eav.query(&Actor::system(), &t.name, &query).await.unwrap();
    let mut rows: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| Value::Array(t.cols.iter().map(|c| item["values"][c.name].clone()).collect()).to_string())
        .collect();
    rows.sort();
    rows
}

// --- The oracle ---------------------------------------------------------------------------------------------

fn q(name: &str) -> String {
    format!("\"{name}\"")
}

fn q_list(t: &Tbl, cols: &[usize]) -> String {
    cols.iter().map(|&c| q(t.cols[c].name)).collect::<Vec<_>>().join(", ")
}

async fn ddl(pool: &PgPool, sql: &str) {
    sqlx::query::<Postgres>(sql).execute(pool).await.unwrap_or_else(|e| panic!("oracle DDL {sql}: {e}"));
}

async fn setup_oracle(pool: &PgPool, sc: &Scenario) {
    for t in &sc.tables {
        let mut parts: Vec<String> = t
            .cols
            .iter()
            .map(|c| {
                let ty = if c.text { "text COLLATE \"C\"" } else { "bigint" };
                let default = c.default.map(|d| format!(" DEFAULT {d}")).unwrap_or_default();
                format!("{} {ty}{default}", q(c.name))
            })
            .collect();
        parts.push(format!("PRIMARY KEY ({})", q_list(t, &t.pk)));
        ddl(pool, &format!("CREATE TABLE {} ({})", q(&t.name), parts.join(", "))).await;
    }
    for (k, decl) in sc.decls.iter().enumerate() {
        let name = q(&constraint_name(sc, k));
        let sql = match decl {
            Decl::Fk(child, cols, parent, on_delete, on_update, full) => {
                let (c, p) = (&sc.tables[*child], &sc.tables[*parent]);
                let match_type = if *full { "FULL" } else { "SIMPLE" };
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {name} FOREIGN KEY ({}) REFERENCES {} ({}) MATCH {match_type} \
                     ON DELETE {on_delete} ON UPDATE {on_update}",
                    q(&c.name),
                    q_list(c, cols),
                    q(&p.name),
                    q_list(p, &p.pk)
                )
            }
            Decl::UniqueCi(table, col) => {
                let t = &sc.tables[*table];
                format!("CREATE UNIQUE INDEX {name} ON {} (lower({}))", q(&t.name), q(t.cols[*col].name))
            }
            Decl::Check(table, expr) => {
                format!("ALTER TABLE {} ADD CONSTRAINT {name} CHECK ({expr})", q(&sc.tables[*table].name))
            }
        };
        ddl(pool, &sql).await;
    }
}

fn where_key(t: &Tbl, first: usize) -> String {
    t.pk.iter()
        .enumerate()
        .map(|(i, &c)| format!("{} = ${}", q(t.cols[c].name), first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// One autocommitted statement, every value bound.
async fn oracle_apply(pool: &PgPool, sc: &Scenario, op: &Op) -> Outcome {
    let mut binds: Vec<(&Col, &Value)> = Vec::new();
    let sql = match op {
        Op::Insert { t, vals } => {
            let table = &sc.tables[*t];
            binds.extend(table.cols.iter().zip(vals));
            let all: Vec<usize> = (0..table.cols.len()).collect();
            let params: Vec<String> = (1..=table.cols.len()).map(|i| format!("${i}")).collect();
            format!("INSERT INTO {} ({}) VALUES ({})", q(&table.name), q_list(table, &all), params.join(", "))
        }
        Op::Update { t, key, col, val } => {
            let table = &sc.tables[*t];
            binds.push((&table.cols[*col], val));
            binds.extend(table.pk.iter().map(|&c| &table.cols[c]).zip(key));
            format!(
                "UPDATE {} SET {} = $1 WHERE {}",
                q(&table.name),
                q(table.cols[*col].name),
                where_key(table, 2)
            )
        }
        Op::Delete { t, key } => {
            let table = &sc.tables[*t];
            binds.extend(table.pk.iter().map(|&c| &table.cols[c]).zip(key));
            format!("DELETE FROM {} WHERE {}", q(&table.name), where_key(table, 1))
        }
    };
    let mut query = sqlx::query::<Postgres>(&sql);
    for (col, value) in binds {
        query =
            if col.text { query.bind(value.as_str().map(str::to_owned)) } else { query.bind(value.as_i64()) };
    }
    match query.execute(pool).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) => Err(e.to_string()),
        Err(other) => panic!("{}: oracle {sql}: {other}", sc.name),
    }
}

async fn oracle_rows(pool: &PgPool, t: &Tbl) -> Vec<String> {
    let all: Vec<usize> = (0..t.cols.len()).collect();
    let sql = format!("SELECT {} FROM {}", q_list(t, &all), q(&t.name));
    let rows = sqlx::query::<Postgres>(&sql).fetch_all(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out: Vec<String> = rows
        .iter()
        .map(|row| {
            let values = t.cols.iter().enumerate().map(|(i, c)| {
                if c.text {
                    json!(row.try_get::<Option<String>, _>(i).unwrap())
                } else {
                    json!(row.try_get::<Option<i64>, _>(i).unwrap())
                }
            });
            Value::Array(values.collect()).to_string()
        })
        .collect();
    out.sort();
    out
}

// --- Running and comparing ----------------------------------------------------------------------------------

/// Rows only in `a`, rows only in `b` (multiset difference).
fn difference(a: &[String], b: &[String]) -> (Vec<String>, Vec<String>) {
    let mut rest = b.to_vec();
    let mut only_a = Vec::new();
    for row in a {
        match rest.iter().position(|r| r == row) {
            Some(i) => {
                rest.remove(i);
            }
            None => only_a.push(row.clone()),
        }
    }
    (only_a, rest)
}

/// Runs one scenario on both sides; `Some(report)` when they disagree.
async fn run_scenario(eav: &Eav, pool: &PgPool, sc: &Scenario) -> Option<String> {
    setup_tessera(eav, sc).await;
    setup_oracle(pool, sc).await;
    let mut ops = sc.seeds.clone();
    ops.extend(random_ops(sc));
    let (mut ours, mut theirs) = (Vec::with_capacity(ops.len()), Vec::with_capacity(ops.len()));
    for op in &ops {
        ours.push(tessera_apply(eav, sc, op).await);
        theirs.push(oracle_apply(pool, sc, op).await);
    }
    let mut problems = Vec::new();
    let accepted = theirs.iter().filter(|o| o.is_ok()).count();
    if accepted == 0 || accepted == ops.len() {
        problems.push(format!(
            "  PostgreSQL accepted {accepted} of {} operations: the scenario tests nothing",
            ops.len()
        ));
    }
    let mismatched: Vec<usize> = (0..ops.len()).filter(|&i| ours[i].is_ok() != theirs[i].is_ok()).collect();
    for &i in mismatched.iter().take(SHOWN_MISMATCHES) {
        let origin = if i < sc.seeds.len() { "hand-written" } else { "generated" };
        problems.push(format!(
            "  op #{i} ({origin}) {}:\n      tessera  {}\n      postgres {}",
            describe(sc, &ops[i]),
            verdict(&ours[i]),
            verdict(&theirs[i])
        ));
    }
    if mismatched.len() > SHOWN_MISMATCHES {
        problems.push(format!("  … and {} more mismatched operations", mismatched.len() - SHOWN_MISMATCHES));
    }
    for t in &sc.tables {
        let (a, b) = (tessera_rows(eav, t).await, oracle_rows(pool, t).await);
        if a != b {
            let (only_ours, only_theirs) = difference(&a, &b);
            problems.push(format!(
                "  final rows of {} ({}) differ: only in tessera {only_ours:?}, only in postgres {only_theirs:?}",
                t.name,
                column_names(t, &(0..t.cols.len()).collect::<Vec<_>>()).join(", ")
            ));
        }
    }
    println!(
        "{}: {} operations, {accepted} accepted by PostgreSQL, {} mismatched",
        sc.name,
        ops.len(),
        mismatched.len()
    );
    if problems.is_empty() {
        None
    } else {
        Some(format!("scenario '{}' ({} operations):\n{}", sc.name, ops.len(), problems.join("\n")))
    }
}

/// Runs `scenarios` on Tessera over `db` and on a scratch PostgreSQL database (the oracle), removed afterwards.
async fn differential(db: Database, scenarios: Vec<Scenario>) {
    let eav = tessera_core::testing::services(db.clone()).eav();
    let oracle = TestDatabase::empty(Backend::Postgres).await;
    let pool = match &oracle.db {
        Database::Postgres(pool) => pool.clone(),
        _ => unreachable!(),
    };
    let outcome = AssertUnwindSafe(async {
        let mut reports = Vec::new();
        for sc in &scenarios {
            reports.extend(run_scenario(&eav, &pool, sc).await);
        }
        reports
    })
    .catch_unwind()
    .await;
    oracle.remove().await;
    match outcome {
        Ok(reports) => assert!(
            reports.is_empty(),
            "Tessera on {:?} disagrees with PostgreSQL in {} of {} scenarios:\n{}",
            db.backend(),
            reports.len(),
            scenarios.len(),
            reports.join("\n")
        ),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

// --- Scenarios (tables are suffixed with the variant, so one database holds them all) ---------------------------

/// `parents_v(parent_no)` ← `kids_v(kid_no, parent_ref DEFAULT 0)`; parent 0 is the SET DEFAULT target (the
/// referencing column has its own name: in Tessera a default belongs to the workspace-wide column definition).
/// The seeds start with parents 0, 1, 2; kids 1 and 2 → 1, kid 3 → NULL, kid 4 → 0 (the default); kid 5 → 9
/// (refused).
fn parent_kid(
    name: String,
    v: usize,
    on_delete: &'static str,
    on_update: &'static str,
    full: bool,
    more: &str,
) -> Scenario {
    let tables = vec![
        tbl(format!("parents_{v}"), 1, "parent_no 0,1,2,3,5"),
        tbl(format!("kids_{v}"), 1, "kid_no 1,2,3,4,5,6; parent_ref 0,1,2,3,5,9,- default=0"),
    ];
    let seeds = format!("I0 0; I0 1; I0 2; I1 1,1; I1 2,1; I1 3,-; I1 4,0; I1 5,9; {more}");
    scenario(name, tables, vec![Decl::Fk(1, vec![1], 0, on_delete, on_update, full)], &seeds)
}

/// 1. Every ON DELETE action × MATCH SIMPLE / FULL on a one-column key: delete a referenced parent, then the
///    default parent itself (SET DEFAULT cannot rescue its kids), move a kid, delete the rest and a missing key.
fn on_delete_scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for (i, action) in ACTIONS.into_iter().enumerate() {
        for full in [false, true] {
            let name = format!("ON DELETE {action} MATCH {}", if full { "FULL" } else { "SIMPLE" });
            let more = "D0 1; D0 0; U1 3 1=2; D0 2; D0 7";
            out.push(parent_kid(name, i * 2 + usize::from(full), action, "NO ACTION", full, more));
        }
    }
    out
}

/// 2. Every ON UPDATE action: renumber a referenced parent, keep a key unchanged, renumber the default parent,
///    move a kid, renumber again.
fn on_update_scenarios() -> Vec<Scenario> {
    let more = "U0 1 0=5; U0 2 0=2; U0 0 0=3; U1 4 1=5; U0 5 0=1";
    let each = ACTIONS.into_iter().enumerate();
    each.map(|(v, action)| parent_kid(format!("ON UPDATE {action}"), v, "NO ACTION", action, false, more))
        .collect()
}

/// 3. A two-column key `rooms_v(building, room)` ← `meetings_v(meeting_no, building, room)`, MATCH SIMPLE and
///    FULL, with rows holding one NULL component (and a missing building beside a NULL room).
fn composite_scenarios() -> Vec<Scenario> {
    let actions = [("CASCADE", "CASCADE"), ("SET NULL", "SET NULL"), ("RESTRICT", "NO ACTION")];
    let mut out = Vec::new();
    for (i, (on_delete, on_update)) in actions.into_iter().enumerate() {
        for full in [false, true] {
            let v = i * 2 + usize::from(full);
            let tables = vec![
                tbl(format!("rooms_{v}"), 2, "building 1,2; room 1,2,3"),
                tbl(format!("meetings_{v}"), 1, "meeting_no 1,2,3,4,5,6,7,8; building 1,2,9,-; room 1,2,3,-"),
            ];
            let match_type = if full { "FULL" } else { "SIMPLE" };
            let name = format!("composite ON DELETE {on_delete} ON UPDATE {on_update} MATCH {match_type}");
            let seeds =
                "I0 1,1; I0 1,2; I0 2,1; I1 1,1,1; I1 2,1,-; I1 3,-,-; I1 4,9,-; I1 5,1,2; I1 6,2,2; \
                I1 7,2,1; U0 1,1 1=3; D0 1,2; U1 3 1=2; U1 3 2=1; U1 7 2=-; D0 2,1";
            out.push(scenario(
                name,
                tables,
                vec![Decl::Fk(1, vec![1, 2], 0, on_delete, on_update, full)],
                seeds,
            ));
        }
    }
    out
}

/// 4. A three-level chain `customers_v` ← `orders_v` ← `lines_v`: all CASCADE, RESTRICT at the bottom, SET NULL
///    at the top; and a chain whose middle key contains the customer, so renumbering a customer changes the orders'
///    keys, which must cascade on to the lines.
fn chain_scenarios() -> Vec<Scenario> {
    let variants = [
        ("all CASCADE", ("CASCADE", "CASCADE"), ("CASCADE", "CASCADE")),
        ("CASCADE over RESTRICT", ("CASCADE", "CASCADE"), ("RESTRICT", "RESTRICT")),
        ("SET NULL over CASCADE", ("SET NULL", "CASCADE"), ("CASCADE", "NO ACTION")),
    ];
    let mut out = Vec::new();
    for (v, (label, top, bottom)) in variants.into_iter().enumerate() {
        let tables = vec![
            tbl(format!("customers_{v}"), 1, "customer_no 1,2,3"),
            tbl(format!("orders_{v}"), 1, "order_no 10,11,20,21; customer_no 1,2,3,-"),
            tbl(format!("lines_{v}"), 1, "line_no 100,101,102,103,104; order_no 10,11,20,21,-"),
        ];
        let decls = vec![
            Decl::Fk(1, vec![1], 0, top.0, top.1, false),
            Decl::Fk(2, vec![1], 1, bottom.0, bottom.1, false),
        ];
        let seeds = "I0 1; I0 2; I1 10,1; I1 11,1; I1 20,2; I2 100,10; I2 101,10; I2 102,11; I2 103,20; \
            I2 104,-; D0 1; U0 2 0=3; U1 20 0=21; D1 20; D0 3";
        out.push(scenario(format!("chain: {label}"), tables, decls, seeds));
    }
    let v = variants.len();
    let tables = vec![
        tbl(format!("customers_{v}"), 1, "customer_no 1,2,3"),
        tbl(format!("orders_{v}"), 2, "customer_no 1,2,3; order_no 10,11"),
        tbl(format!("lines_{v}"), 1, "line_no 100,101,102,103,104; customer_no 1,2,3,-; order_no 10,11,-"),
    ];
    let decls = vec![
        Decl::Fk(1, vec![0], 0, "CASCADE", "CASCADE", false),
        Decl::Fk(2, vec![1, 2], 1, "CASCADE", "CASCADE", false),
    ];
    let seeds = "I0 1; I0 2; I1 1,10; I1 1,11; I1 2,10; I2 100,1,10; I2 101,1,11; I2 102,2,10; I2 103,-,10; \
        U0 1 0=3; U1 2,10 1=11; D0 3";
    out.push(scenario("chain: key carried down two levels".to_owned(), tables, decls, seeds));
    out
}

/// 5. A self-reference `employees_v.manager_no` → `employees_v.emp_no`, SET NULL and CASCADE: delete the
///    manager (2) of a manager (3 manages 4), renumber a manager, renumber then delete a row managing itself, then
///    make a cycle 8 ↔ 9 and delete one of them.
fn self_reference_scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for (v, action) in ["SET NULL", "CASCADE"].into_iter().enumerate() {
        let tables = vec![tbl(
            format!("employees_{v}"),
            1,
            "emp_no 1,2,3,4,5,6,7,8,9; manager_no 1,2,3,4,5,6,7,8,9,-",
        )];
        let seeds =
            "I0 1,-; I0 2,1; I0 3,2; I0 4,3; I0 5,5; I0 6,9; I0 7,1; D0 2; U0 1 0=8; U0 5 0=6; D0 6; \
            I0 9,8; U0 8 1=9; D0 8";
        let name = format!("self-reference ON DELETE/UPDATE {action}");
        out.push(scenario(name, tables, vec![Decl::Fk(0, vec![1], 0, action, action, false)], seeds));
    }
    out
}

/// 6. A case-insensitive UNIQUE on `users.email` (oracle: a unique index on `lower(email)`); NULLs never collide.
fn case_insensitive_unique_scenario() -> Vec<Scenario> {
    let tables = vec![tbl(
        "users".to_owned(),
        1,
        "user_no 1,2,3,4,5,6; email ann@x.io,Ann@X.io,ANN@x.io,bob@x.io,BOB@x.io,-",
    )];
    let seeds =
        "I0 1,ann@x.io; I0 2,ANN@x.io; I0 3,-; I0 4,-; U0 3 1=Ann@X.io; U0 1 1=Ann@X.io; I0 5,bob@x.io; \
        U0 5 0=6; D0 1; I0 2,ANN@X.IO";
    vec![scenario("case-insensitive UNIQUE".to_owned(), tables, vec![Decl::UniqueCi(0, 1)], seeds)]
}

/// 7. A CHECK over nullable columns: it passes unless FALSE (`NULL AND FALSE` is FALSE).
fn check_scenario() -> Vec<Scenario> {
    let tables =
        vec![tbl("items".to_owned(), 1, "item_no 1,2,3,4,5,6; qty -1,0,1,5,-; price 0,999,1000,5000,-")];
    let check = Decl::Check(0, "qty > 0 AND (price IS NULL OR price < 1000)");
    let seeds = "I0 1,1,-; I0 2,-,-; I0 3,-,2000; I0 4,0,-; I0 5,5,999; U0 5 2=1000; U0 2 1=-1; U0 2 2=5000; U0 1 2=-";
    vec![scenario("CHECK with NULLs".to_owned(), tables, vec![check], seeds)]
}

tessera_core::conformance! {
    async fn on_delete_actions_match_postgres(db: Database) {
        differential(db, on_delete_scenarios()).await;
    }

    async fn on_update_actions_match_postgres(db: Database) {
        differential(db, on_update_scenarios()).await;
    }

    async fn composite_foreign_keys_match_postgres(db: Database) {
        differential(db, composite_scenarios()).await;
    }

    async fn foreign_key_chains_match_postgres(db: Database) {
        differential(db, chain_scenarios()).await;
    }

    async fn self_references_match_postgres(db: Database) {
        differential(db, self_reference_scenarios()).await;
    }

    async fn case_insensitive_unique_matches_postgres(db: Database) {
        differential(db, case_insensitive_unique_scenario()).await;
    }

    async fn check_with_nulls_matches_postgres(db: Database) {
        differential(db, check_scenario()).await;
    }
}
