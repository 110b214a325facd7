//! Differential test of the CHECK expression engine (`tessera_core::eav::check`) against PostgreSQL as the oracle
//! (spec §4 "CHECK", issue 4): deterministic, well-typed expressions over a bigint, a numeric, two texts and a date,
//! evaluated by Tessera and by PostgreSQL on the same generated rows (NULLs included), must give the same result —
//! TRUE, FALSE, NULL or the same kind of error.
//!
//! The expression is rendered twice by the test itself: once in Tessera's syntax, once for PostgreSQL, where
//! integer literals are `bigint` (Tessera's `Int` is 64-bit), strings compare under `COLLATE "C"` (code point
//! order) and NULLs carry their type. Row values are bound, never spliced. `regexp_like` is left out (PostgreSQL's
//! regular-expression syntax differs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgPool, Row as _};
use tessera_core::eav::check::{parse_check, CheckError};
use tessera_core::eav::{DataType, Value};
use tessera_core::store::Backend;
use tessera_core::testing::TestDatabase;
use tessera_core::Database;

/// Expressions generated; each is evaluated on `ROWS_PER_EXPRESSION` rows.
const EXPRESSIONS: usize = 700;
const ROWS_PER_EXPRESSION: usize = 3;
/// How deep the generated boolean expressions nest.
const DEPTH: u32 = 3;

/// Characters of generated strings: ASCII letters of both cases, LIKE wildcards, the default escape, a quote and
/// non-ASCII characters without case (so `lower` / `upper` agree with PostgreSQL's `"C"` collation).
const UTF8_ALPHABET: &[char] =
    &['a', 'b', 'A', 'B', 'z', 'Z', ' ', '0', '%', '_', '\\', '\'', '€', '中', '😀'];
const ASCII_ALPHABET: &[char] = &['a', 'b', 'A', 'B', 'z', 'Z', ' ', '0', '%', '_', '\\', '\''];

const INT_EXTREMES: &[i64] =
    &[i64::MAX, i64::MIN, i64::MAX - 1, 4_611_686_018_427_387_904, -4_611_686_018_427_387_904, 3_037_000_500];
const ROW_DECIMALS: &[&str] = &["1.50", "-2.5", "0.00", "3", "100.125", "0.3333", "7", "-0.01", "12.5"];
const DECIMAL_LITERALS: &[&str] =
    &["0.0", "1.0", "2.5", "0.5", "1.50", "3.0", "10.0", "0.01", "100.25", "7.0", "0.00", "1.125"];

// ---------------------------------------------------------------------------------------------------------------
// Deterministic generation
// ---------------------------------------------------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
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

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Uniform in `low..=high`.
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }
}

/// One expression in both dialects.
#[derive(Debug, Clone)]
struct Sql {
    ours: String,
    pg: String,
}

fn both(text: &str) -> Sql {
    Sql { ours: text.to_owned(), pg: text.to_owned() }
}

fn typed_null(pg: &str) -> Sql {
    Sql { ours: "NULL".to_owned(), pg: pg.to_owned() }
}

fn binary(left: &Sql, op: &str, right: &Sql) -> Sql {
    Sql {
        ours: format!("({} {op} {})", left.ours, right.ours),
        pg: format!("({} {op} {})", left.pg, right.pg),
    }
}

fn call(name: &str, args: &[Sql]) -> Sql {
    let ours: Vec<&str> = args.iter().map(|a| a.ours.as_str()).collect();
    let pg: Vec<&str> = args.iter().map(|a| a.pg.as_str()).collect();
    Sql { ours: format!("{name}({})", ours.join(", ")), pg: format!("{name}({})", pg.join(", ")) }
}

fn negated(x: &Sql) -> Sql {
    Sql { ours: format!("(-{})", x.ours), pg: format!("(-{})", x.pg) }
}

fn text_literal(value: &str) -> Sql {
    let quoted = format!("'{}'", value.replace('\'', "''"));
    Sql { pg: format!("({quoted} COLLATE \"C\")"), ours: quoted }
}

fn date_literal(date: NaiveDate) -> Sql {
    let text = date.format("%Y-%m-%d").to_string();
    Sql { ours: format!("'{text}'"), pg: format!("('{text}'::date)") }
}

/// The scalar kinds the generator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Num,
    Text,
    Date,
}

const KINDS: &[Kind] = &[Kind::Int, Kind::Num, Kind::Text, Kind::Date];

#[derive(Debug, Clone)]
struct Row {
    a: Option<i64>,
    b: Option<Decimal>,
    s: Option<String>,
    t: Option<String>,
    d: Option<NaiveDate>,
}

impl Row {
    fn value(&self, name: &str) -> Option<Value> {
        match name {
            "a" => self.a.map(Value::Int),
            "b" => self.b.map(Value::Decimal),
            "s" => self.s.clone().map(Value::Text),
            "t" => self.t.clone().map(Value::Text),
            "d" => self.d.map(Value::Date),
            _ => None,
        }
    }
}

fn column_type(name: &str) -> Option<DataType> {
    match name {
        "a" => Some(DataType::Int),
        "b" => Some(DataType::Decimal),
        "s" => Some(DataType::String),
        "t" => Some(DataType::Text),
        "d" => Some(DataType::Date),
        _ => None,
    }
}

struct Generator {
    rng: XorShift,
    alphabet: &'static [char],
}

impl Generator {
    fn string(&mut self, max_len: usize) -> String {
        let len = self.rng.below(max_len + 1);
        (0..len).map(|_| self.rng.pick(self.alphabet)).collect()
    }

    /// A LIKE pattern that never ends with a dangling escape (PostgreSQL reports that error only when matching
    /// reaches it; Tessera always does).
    fn pattern(&mut self, escape: Option<char>) -> String {
        let mut out = String::new();
        for _ in 0..self.rng.below(6) {
            match self.rng.below(7) {
                0 => out.push('%'),
                1 => out.push('_'),
                2 => {
                    if let Some(e) = escape {
                        out.push(e);
                        out.push(self.rng.pick(&['%', '_', e, 'a']));
                    }
                }
                _ => {
                    let c = self.rng.pick(self.alphabet);
                    let special = c == '%' || c == '_' || Some(c) == escape;
                    match (special, escape) {
                        (false, _) => out.push(c),
                        (true, Some(e)) => {
                            out.push(e);
                            out.push(c);
                        }
                        (true, None) => {}
                    }
                }
            }
        }
        out
    }

    fn date(&mut self) -> NaiveDate {
        let year = 2023 + self.rng.range(0, 2) as i32;
        NaiveDate::from_ymd_opt(year, 1 + self.rng.below(12) as u32, 1 + self.rng.below(28) as u32).unwrap()
    }

    fn row(&mut self) -> Row {
        Row {
            a: if self.rng.percent(15) {
                None
            } else if self.rng.percent(10) {
                Some(self.rng.pick(INT_EXTREMES))
            } else {
                Some(self.rng.range(-30, 30))
            },
            b: if self.rng.percent(15) { None } else { Some(self.rng.pick(ROW_DECIMALS).parse().unwrap()) },
            s: if self.rng.percent(15) { None } else { Some(self.string(5)) },
            t: if self.rng.percent(15) { None } else { Some(self.pattern(Some('\\'))) },
            d: if self.rng.percent(15) { None } else { Some(self.date()) },
        }
    }

    fn int_literal(&mut self, extremes: bool) -> Sql {
        let value = if extremes && self.rng.percent(15) {
            self.rng.pick(INT_EXTREMES)
        } else if self.rng.percent(12) {
            0
        } else {
            self.rng.range(-20, 20)
        };
        let ours = if value < 0 { format!("({value})") } else { value.to_string() };
        Sql { ours, pg: format!("({value})::bigint") }
    }

    fn num_literal(&mut self) -> Sql {
        let text = self.rng.pick(DECIMAL_LITERALS);
        if self.rng.percent(30) {
            both(&format!("(-{text})"))
        } else {
            both(text)
        }
    }

    /// A bigint expression (may overflow: both sides must then report it).
    fn int(&mut self, depth: u32) -> Sql {
        if depth == 0 || self.rng.percent(30) {
            return match self.rng.below(5) {
                0 | 1 => both("a"),
                2 => typed_null("(NULL::bigint)"),
                _ => self.int_literal(true),
            };
        }
        let d = depth - 1;
        match self.rng.below(10) {
            0..=5 => {
                let op = self.rng.pick(&["+", "-", "*", "/", "%"]);
                let left = self.int(d);
                let right = self.int(d);
                binary(&left, op, &right)
            }
            6 => negated(&self.int(d)),
            7 => call("abs", &[self.int(d)]),
            8 => {
                // PostgreSQL's length() is a 32-bit integer; Tessera's Int is 64-bit.
                let x = self.text(d);
                Sql { ours: format!("length({})", x.ours), pg: format!("(length({}))::bigint", x.pg) }
            }
            _ => {
                let x = self.int(d);
                let y = self.int(d);
                call("coalesce", &[x, y])
            }
        }
    }

    /// A small integer (|x| < 1000 or so), for mixing into decimals without leaving the 28-digit range.
    fn small_int(&mut self) -> Sql {
        match self.rng.below(4) {
            0 => Sql { ours: "(a % 1000)".to_owned(), pg: "(a % (1000)::bigint)".to_owned() },
            _ => self.int_literal(false),
        }
    }

    /// A numeric expression of moderate magnitude.
    fn num(&mut self, depth: u32) -> Sql {
        if depth == 0 || self.rng.percent(30) {
            return match self.rng.below(6) {
                0 | 1 => both("b"),
                2 => typed_null("(NULL::numeric)"),
                3 => self.small_int(),
                _ => self.num_literal(),
            };
        }
        let d = depth - 1;
        match self.rng.below(9) {
            0..=5 => {
                let op = self.rng.pick(&["+", "-", "*", "/", "%"]);
                let x = self.num(d);
                let y = if self.rng.percent(30) { self.small_int() } else { self.num(d) };
                if self.rng.percent(50) {
                    binary(&x, op, &y)
                } else {
                    binary(&y, op, &x)
                }
            }
            6 => negated(&self.num(d)),
            7 => call("abs", &[self.num(d)]),
            _ => {
                let x = self.num(d);
                let y = if self.rng.percent(50) { self.small_int() } else { self.num(d) };
                call("coalesce", &[x, y])
            }
        }
    }

    fn text(&mut self, depth: u32) -> Sql {
        if depth == 0 || self.rng.percent(35) {
            return match self.rng.below(6) {
                0 | 1 => both("s"),
                2 => both("t"),
                3 => typed_null("(NULL::text COLLATE \"C\")"),
                _ => {
                    let value = self.string(4);
                    text_literal(&value)
                }
            };
        }
        let d = depth - 1;
        match self.rng.below(6) {
            0 => call("lower", &[self.text(d)]),
            1 => call("upper", &[self.text(d)]),
            2 | 3 => {
                let x = self.text(d);
                let y = self.text(d);
                binary(&x, "||", &y)
            }
            4 => {
                // `text || bigint` is a stable function in PostgreSQL (not constant-folded, which changes when
                // errors surface); `text || text` on an explicit cast is immutable and gives the same text.
                let x = self.text(d);
                let y = self.int(d);
                Sql {
                    ours: format!("({} || {})", x.ours, y.ours),
                    pg: format!("({} || (({})::text COLLATE \"C\"))", x.pg, y.pg),
                }
            }
            _ => {
                let x = self.text(d);
                let y = self.text(d);
                call("coalesce", &[x, y])
            }
        }
    }

    /// A date expression whose type Tessera can tell without literals (`d` itself or `coalesce(d, …)`), so that
    /// string literals next to it read as dates.
    fn anchored_date(&mut self) -> Sql {
        if self.rng.percent(70) {
            both("d")
        } else {
            let literal = date_literal(self.date());
            call("coalesce", &[both("d"), literal])
        }
    }

    fn any_date(&mut self) -> Sql {
        match self.rng.below(5) {
            0 => self.anchored_date(),
            1 => typed_null("(NULL::date)"),
            _ => date_literal(self.date()),
        }
    }

    /// A scalar of `kind`; dates are anchored when `anchored`.
    fn scalar(&mut self, kind: Kind, depth: u32, anchored: bool) -> Sql {
        match kind {
            Kind::Int => self.int(depth),
            Kind::Num => self.num(depth),
            Kind::Text => self.text(depth),
            Kind::Date if anchored => self.anchored_date(),
            Kind::Date => self.any_date(),
        }
    }

    /// A literal (or NULL) of `kind`, for IN lists.
    fn literal(&mut self, kind: Kind) -> Sql {
        if self.rng.percent(12) {
            return match kind {
                Kind::Int => typed_null("(NULL::bigint)"),
                Kind::Num => typed_null("(NULL::numeric)"),
                Kind::Text => typed_null("(NULL::text COLLATE \"C\")"),
                Kind::Date => typed_null("(NULL::date)"),
            };
        }
        match kind {
            Kind::Int => self.int_literal(false),
            Kind::Num => {
                if self.rng.percent(30) {
                    self.int_literal(false)
                } else {
                    self.num_literal()
                }
            }
            Kind::Text => {
                let value = self.string(3);
                text_literal(&value)
            }
            Kind::Date => date_literal(self.date()),
        }
    }

    fn boolean(&mut self, depth: u32) -> Sql {
        if depth == 0 || self.rng.percent(15) {
            return match self.rng.below(8) {
                0 => both("TRUE"),
                1 => both("FALSE"),
                2 => typed_null("(NULL::boolean)"),
                _ => self.predicate(0),
            };
        }
        let d = depth - 1;
        match self.rng.below(10) {
            0..=4 => self.predicate(d),
            5 => {
                let x = self.boolean(d);
                let y = self.boolean(d);
                binary(&x, "AND", &y)
            }
            6 => {
                let x = self.boolean(d);
                let y = self.boolean(d);
                binary(&x, "OR", &y)
            }
            7 => {
                let x = self.boolean(d);
                Sql { ours: format!("(NOT {})", x.ours), pg: format!("(NOT {})", x.pg) }
            }
            8 => {
                let op = self.rng.pick(&["=", "<>"]);
                let x = self.boolean(d);
                let y = self.boolean(d);
                binary(&x, op, &y)
            }
            _ => {
                let test = self.rng.pick(&["IS TRUE", "IS NOT TRUE", "IS FALSE", "IS NOT FALSE"]);
                let x = self.boolean(d);
                Sql { ours: format!("({} {test})", x.ours), pg: format!("({} {test})", x.pg) }
            }
        }
    }

    fn predicate(&mut self, depth: u32) -> Sql {
        let kind = self.rng.pick(KINDS);
        match self.rng.below(10) {
            0..=2 => {
                let op = self.rng.pick(&["=", "<>", "<", "<=", ">", ">="]);
                let left = self.scalar(kind, depth, true);
                let right = self.scalar(kind, depth, false);
                binary(&left, op, &right)
            }
            3 => {
                let value = self.scalar(kind, depth, true);
                let items: Vec<Sql> = (0..1 + self.rng.below(4)).map(|_| self.literal(kind)).collect();
                let not = if self.rng.percent(40) { "NOT " } else { "" };
                let list = call("", &items);
                Sql {
                    ours: format!("({} {not}IN {})", value.ours, list.ours),
                    pg: format!("({} {not}IN {})", value.pg, list.pg),
                }
            }
            4 => {
                let value = self.scalar(kind, depth, true);
                let low = self.scalar(kind, depth, false);
                let high = self.scalar(kind, depth, false);
                let not = if self.rng.percent(40) { "NOT " } else { "" };
                Sql {
                    ours: format!("({} {not}BETWEEN {} AND {})", value.ours, low.ours, high.ours),
                    pg: format!("({} {not}BETWEEN {} AND {})", value.pg, low.pg, high.pg),
                }
            }
            5 | 6 => {
                let value = self.text(depth);
                let (escape, clause) = match self.rng.below(3) {
                    0 => (Some('\\'), ""),
                    1 => (Some('!'), " ESCAPE '!'"),
                    _ => (None, " ESCAPE ''"),
                };
                let pattern = if clause.is_empty() && self.rng.percent(25) {
                    both("t")
                } else {
                    let pattern = self.pattern(escape);
                    text_literal(&pattern)
                };
                let not = if self.rng.percent(30) { "NOT " } else { "" };
                Sql {
                    ours: format!("({} {not}LIKE {}{clause})", value.ours, pattern.ours),
                    pg: format!("({} {not}LIKE {}{clause})", value.pg, pattern.pg),
                }
            }
            7 => {
                let value =
                    if self.rng.percent(20) { self.boolean(depth) } else { self.scalar(kind, depth, false) };
                let test = if self.rng.percent(50) { "IS NULL" } else { "IS NOT NULL" };
                Sql { ours: format!("({} {test})", value.ours), pg: format!("({} {test})", value.pg) }
            }
            _ => {
                let left = self.scalar(kind, depth, true);
                let right = self.scalar(kind, depth, false);
                let test = if self.rng.percent(50) { "IS DISTINCT FROM" } else { "IS NOT DISTINCT FROM" };
                binary(&left, test, &right)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing outcomes
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    True,
    False,
    Null,
    DivisionByZero,
    Overflow,
    /// An invalid LIKE pattern or escape.
    Pattern,
    /// Anything else (a bug on one side or the other).
    Error(String),
}

fn tessera_outcome(result: Result<Option<bool>, CheckError>) -> Outcome {
    match result {
        Ok(Some(true)) => Outcome::True,
        Ok(Some(false)) => Outcome::False,
        Ok(None) => Outcome::Null,
        Err(CheckError::DivisionByZero) => Outcome::DivisionByZero,
        Err(CheckError::Overflow(_)) => Outcome::Overflow,
        Err(CheckError::Type(message)) if message.contains("escape") => Outcome::Pattern,
        Err(other) => Outcome::Error(other.to_string()),
    }
}

async fn postgres_outcome(pool: &PgPool, sql: &str, row: &Row) -> Outcome {
    let result = sqlx::query(sql)
        .bind(row.a)
        .bind(row.b)
        .bind(row.s.clone())
        .bind(row.t.clone())
        .bind(row.d)
        .fetch_one(pool)
        .await;
    match result {
        Ok(record) => match record.try_get::<Option<bool>, _>(0) {
            Ok(Some(true)) => Outcome::True,
            Ok(Some(false)) => Outcome::False,
            Ok(None) => Outcome::Null,
            Err(e) => Outcome::Error(format!("decoding the result: {e}")),
        },
        Err(sqlx::Error::Database(e)) => match e.code().as_deref() {
            Some("22012") => Outcome::DivisionByZero,
            Some("22003") => Outcome::Overflow,
            Some("22025" | "22019") => Outcome::Pattern,
            code => Outcome::Error(format!("PostgreSQL error {code:?}: {}", e.message())),
        },
        Err(e) => panic!("PostgreSQL query failed: {e}\n{sql}"),
    }
}

#[derive(Debug, Default)]
struct Tally {
    true_: usize,
    false_: usize,
    null: usize,
    errors: usize,
}

impl Tally {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::True => self.true_ += 1,
            Outcome::False => self.false_ += 1,
            Outcome::Null => self.null += 1,
            _ => self.errors += 1,
        }
    }
}

#[tokio::test]
async fn check_expressions_agree_with_postgresql() {
    let fresh = TestDatabase::empty(Backend::Postgres).await;
    let pool = match &fresh.db {
        Database::Postgres(pool) => pool.clone(),
        _ => unreachable!(),
    };
    let encoding: String = sqlx::query_scalar("SHOW server_encoding").fetch_one(&pool).await.unwrap();
    let alphabet = if encoding.eq_ignore_ascii_case("UTF8") { UTF8_ALPHABET } else { ASCII_ALPHABET };
    let mut generator = Generator { rng: XorShift(0x2545_F491_4F6C_DD1D), alphabet };

    let mut compared = 0usize;
    let mut tally = Tally::default();
    let mut disagreements = Vec::new();
    for _ in 0..EXPRESSIONS {
        let expression = generator.boolean(DEPTH);
        let check = parse_check(&expression.ours, &column_type);
        let sql = format!(
            "SELECT ({})::boolean FROM (SELECT $1::bigint AS a, $2::numeric AS b, $3::text COLLATE \"C\" AS s, \
             $4::text COLLATE \"C\" AS t, $5::date AS d) AS r",
            expression.pg
        );
        for _ in 0..ROWS_PER_EXPRESSION {
            let row = generator.row();
            let ours = match &check {
                Ok(check) => tessera_outcome(check.evaluate(&|name: &str| row.value(name))),
                Err(e) => Outcome::Error(format!("rejected at declaration: {}", e.message)),
            };
            let theirs = postgres_outcome(&pool, &sql, &row).await;
            compared += 1;
            tally.count(&theirs);
            if ours != theirs {
                disagreements.push(format!(
                    "tessera:    {}\npostgresql: {}\nrow: {row:?}\ntessera gives {ours:?}, PostgreSQL gives {theirs:?}",
                    expression.ours, expression.pg
                ));
            }
        }
    }
    drop(pool);
    fresh.remove().await;

    eprintln!(
        "{compared} cases compared; PostgreSQL outcomes: {tally:?}; {} disagreements",
        disagreements.len()
    );
    assert!(compared >= 1500, "only {compared} cases compared");
    assert!(
        disagreements.is_empty(),
        "{} of {compared} cases disagree with PostgreSQL; the first ones:\n\n{}",
        disagreements.len(),
        disagreements.iter().take(12).cloned().collect::<Vec<_>>().join("\n\n")
    );
    // The generator must exercise every outcome, not only one.
    assert!(tally.true_ >= 100 && tally.false_ >= 100 && tally.null >= 50, "{tally:?}");
}
