//! Queries over a logical table: filters (promoted fields, columns, `ext.<path>`), AND/OR groups,
//! multi-column sort (NULLs last unless asked, ties by id, code-point strings), keyset pagination with an
//! opaque tamper-checked cursor or an `offset`, projection and an optional exact or estimated total.
//!
//! Every value is a bound argument; every identifier in the SQL is a constant of this module; JSON paths are
//! validated and bound (`#>> $n` on PostgreSQL, `json_extract(…, $n)` on SQLite).

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use super::cursor::{Cursor, CursorCodec};
use super::filter::{parse_filter, parse_filter_param, Condition, FieldRef, Filter, Op, Operand, Promoted};
use super::input::{Fields, Patch};
use super::rows::{render, RowHead, HEAD_COLUMNS};
use super::schema::{Column, Table};
use super::sort::{canonical_sort, parse_sort_json, parse_sort_param, Direction, Nulls, SortKey};
use super::types::{parse_timestamp, DataType};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::Actor;
use crate::store::{Arg, Backend, Sql, Tx};

/// How to count the matching rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    None,
    Exact,
    Estimate,
}

/// A validated query.
#[derive(Debug, Clone)]
pub struct Query {
    pub filter: Option<Filter>,
    pub sort: Vec<SortKey>,
    pub columns: Option<Vec<String>>,
    pub limit: i64,
    pub cursor: Option<String>,
    pub offset: Option<i64>,
    pub total: Total,
}

/// Query limits (configurable).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub default_page_size: i64,
    pub max_page_size: i64,
}

fn bad(field: &str, message: impl Into<String>) -> Error {
    Error::bad_request(field, ErrorCode::Invalid, message)
}

fn check_limit(limit: i64, limits: QueryLimits) -> Result<i64> {
    if limit < 1 || limit > limits.max_page_size {
        return Err(bad("limit", format!("limit must be between 1 and {}", limits.max_page_size)));
    }
    Ok(limit)
}

fn parse_total(value: Option<&Value>) -> Result<Total> {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(Total::None),
        Some(Value::Bool(true)) => Ok(Total::Exact),
        Some(Value::String(s)) if s == "exact" => Ok(Total::Exact),
        Some(Value::String(s)) if s == "estimate" => Ok(Total::Estimate),
        Some(Value::String(s)) if s == "none" || s == "false" => Ok(Total::None),
        Some(Value::String(s)) if s == "true" => Ok(Total::Exact),
        _ => Err(bad("include_total", "expected true, false, \"exact\" or \"estimate\"")),
    }
}

impl Query {
    /// `POST /data/{table}/query` body.
    pub fn from_json(body: &Value, limits: QueryLimits) -> Result<Self> {
        let mut f = Fields::new(body, "")?;
        let filter = f.raw("filter").filter(|v| !v.is_null()).map(parse_filter);
        let sort = f.raw("sort").filter(|v| !v.is_null()).map(parse_sort_json);
        let columns = match f.raw("columns") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut names = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => names.push(s.to_owned()),
                        None => f.error(FieldError::new(
                            format!("columns[{i}]"),
                            ErrorCode::Type,
                            "expected a column name",
                        )),
                    }
                }
                Some(names)
            }
            Some(_) => {
                f.error(FieldError::new("columns", ErrorCode::Type, "expected an array of column names"));
                None
            }
        };
        let limit = f.i64("limit");
        let cursor = f.string("cursor");
        let offset = f.i64("offset");
        let total = parse_total(f.raw("include_total"));
        f.finish()?;
        let limit = match limit {
            Patch::Set(l) => check_limit(l, limits)?,
            _ => limits.default_page_size,
        };
        let query = Query {
            filter: filter.transpose()?,
            sort: sort.transpose()?.unwrap_or_default(),
            columns,
            limit,
            cursor: cursor.given().flatten(),
            offset: offset.given().flatten(),
            total: total?,
        };
        query.check_paging()
    }

    /// `GET /data/{table}?filter=&sort=&columns=&limit=&cursor=&offset=&include_total=`.
    pub fn from_params(params: &[(String, String)], limits: QueryLimits) -> Result<Self> {
        let mut query = Query {
            filter: None,
            sort: Vec::new(),
            columns: None,
            limit: limits.default_page_size,
            cursor: None,
            offset: None,
            total: Total::None,
        };
        for (key, value) in params {
            match key.as_str() {
                "filter" => query.filter = Some(parse_filter_param(value)?),
                "sort" => query.sort = parse_sort_param(value)?,
                "columns" => {
                    query.columns = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    )
                }
                "limit" => {
                    query.limit = check_limit(
                        value.parse().map_err(|_| bad("limit", "expected a whole number"))?,
                        limits,
                    )?
                }
                "cursor" => query.cursor = Some(value.clone()).filter(|c| !c.is_empty()),
                "offset" => {
                    query.offset = Some(value.parse().map_err(|_| bad("offset", "expected a whole number"))?)
                }
                "include_total" => query.total = parse_total(Some(&Value::String(value.clone())))?,
                other => {
                    return Err(Error::bad_request(
                        other,
                        ErrorCode::UnknownField,
                        format!("unknown query parameter '{other}'"),
                    ))
                }
            }
        }
        query.check_paging()
    }

    fn check_paging(self) -> Result<Self> {
        if self.cursor.is_some() && self.offset.is_some() {
            return Err(bad("offset", "use either cursor or offset, not both"));
        }
        if self.offset.is_some_and(|o| o < 0) {
            return Err(bad("offset", "offset must not be negative"));
        }
        Ok(self)
    }
}

/// How a field is stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Decimal,
    Bool,
    Date,
    Timestamp,
    Uuid,
    /// An extended property: compared by the JSON type of the operand.
    Ext,
}

fn kind_of(data_type: DataType) -> Kind {
    match data_type {
        DataType::String | DataType::Text => Kind::Text,
        DataType::Int => Kind::Int,
        DataType::Decimal => Kind::Decimal,
        DataType::Boolean => Kind::Bool,
        DataType::Date => Kind::Date,
        DataType::DateTime => Kind::Timestamp,
    }
}

fn promoted(p: Promoted) -> (&'static str, Kind) {
    match p {
        Promoted::Id => ("r.id", Kind::Uuid),
        Promoted::Code => ("r.code", Kind::Text),
        Promoted::DisplayValue => ("r.display_value", Kind::Text),
        Promoted::SortOrder => ("r.sort_order", Kind::Int),
        Promoted::IsActive => ("r.is_active", Kind::Bool),
        Promoted::ParentRowId => ("r.parent_row_id", Kind::Uuid),
        Promoted::Version => ("r.version", Kind::Int),
        Promoted::CreatedAt => ("r.created_at", Kind::Timestamp),
        Promoted::CreatedBy => ("r.created_by", Kind::Uuid),
        Promoted::UpdatedAt => ("r.updated_at", Kind::Timestamp),
        Promoted::UpdatedBy => ("r.updated_by", Kind::Uuid),
    }
}

/// The storage expression of a column value inside the alias `a` (decimals compare through the REAL
/// shadow on SQLite).
fn value_expr(alias: &str, column: &Column, backend: Backend) -> String {
    let storage = match (column.data_type, backend) {
        (DataType::Decimal, Backend::Sqlite) => "decimal_sort",
        (dt, _) => super::values::storage_column(dt),
    };
    format!("{alias}.{storage}")
}

/// Converts a JSON operand to a bound argument of `kind`; 400 naming `field` when it does not fit.
fn operand_arg(kind: Kind, value: &Value, backend: Backend, field: &str) -> Result<Arg> {
    let wrong = |expected: &str| Error::bad_request(field, ErrorCode::Type, format!("expected {expected}"));
    Ok(match kind {
        Kind::Text => Arg::Text(Some(value.as_str().ok_or_else(|| wrong("a string"))?.to_owned())),
        Kind::Int => Arg::Int(Some(value.as_i64().ok_or_else(|| wrong("an integer"))?)),
        Kind::Decimal => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(wrong("a decimal (string or number)")),
            };
            let d: Decimal = text.parse().map_err(|_| wrong("a decimal"))?;
            match backend {
                Backend::Postgres => Arg::Decimal(Some(d)),
                Backend::Sqlite => Arg::Text(Some(super::values::decimal_key(&d))),
            }
        }
        Kind::Bool => Arg::Bool(Some(value.as_bool().ok_or_else(|| wrong("true or false"))?)),
        Kind::Date => {
            let s = value.as_str().ok_or_else(|| wrong("a date (YYYY-MM-DD)"))?;
            let d =
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| wrong("a date (YYYY-MM-DD)"))?;
            Arg::Timestamp(Some(d.and_time(NaiveTime::MIN).and_utc()))
        }
        Kind::Timestamp => {
            let s = value.as_str().ok_or_else(|| wrong("an RFC 3339 timestamp"))?;
            Arg::Timestamp(Some(parse_timestamp(s).ok_or_else(|| wrong("an RFC 3339 timestamp"))?))
        }
        Kind::Uuid => Arg::Uuid(Some(
            value.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| wrong("a UUID"))?,
        )),
        Kind::Ext => match value {
            Value::String(s) => Arg::Text(Some(s.clone())),
            Value::Bool(b) => Arg::Bool(Some(*b)),
            Value::Number(n) => match backend {
                Backend::Postgres => {
                    Arg::Decimal(Some(n.to_string().parse().map_err(|_| wrong("a number"))?))
                }
                Backend::Sqlite => Arg::Real(n.as_f64()),
            },
            _ => return Err(wrong("a string, number or boolean")),
        },
    })
}

/// The SQL expression of an extended property, typed after the operand (`text`, `number` or `bool`).
fn ext_expr(sql: &mut Sql, path: &[String], as_type: &str) -> String {
    match sql.backend() {
        Backend::Postgres => {
            let p = sql.arg(Arg::Texts(path.to_vec()));
            match as_type {
                "number" => format!(
                    "(CASE WHEN jsonb_typeof(r.extended_properties #> {p}) = 'number' \
                     THEN (r.extended_properties #>> {p})::numeric END)"
                ),
                "bool" => format!(
                    "(CASE WHEN jsonb_typeof(r.extended_properties #> {p}) = 'boolean' \
                     THEN (r.extended_properties #>> {p})::boolean END)"
                ),
                _ => format!("((r.extended_properties #>> {p}) COLLATE \"C\")"),
            }
        }
        Backend::Sqlite => {
            let p = sql.arg(format!("$.{}", path.join(".")));
            match as_type {
                "number" => format!(
                    "(CASE WHEN json_type(r.extended_properties, {p}) IN ('integer', 'real') \
                     THEN json_extract(r.extended_properties, {p}) END)"
                ),
                "bool" => format!(
                    "(CASE WHEN json_type(r.extended_properties, {p}) IN ('true', 'false') \
                     THEN json_extract(r.extended_properties, {p}) END)"
                ),
                _ => format!("CAST(json_extract(r.extended_properties, {p}) AS TEXT)"),
            }
        }
    }
}

fn ext_type_of(value: &Value) -> &'static str {
    match value {
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "text",
    }
}

/// A comparison of `expr` with the operand of `cond`.
fn predicate(sql: &mut Sql, expr: &str, kind: Kind, cond: &Condition, field: &str) -> Result<String> {
    let backend = sql.backend();
    let ci = cond.case_insensitive;
    let wrap = |e: &str| if ci { format!("lower({e})") } else { e.to_owned() };
    let one = |sql: &mut Sql, v: &Value| -> Result<String> {
        let arg = operand_arg(kind, v, backend, &format!("{field}.value"))?;
        Ok(sql.arg(arg))
    };
    Ok(match (&cond.op, &cond.operand) {
        (Op::IsNull, Operand::IsNull(true)) => format!("{expr} IS NULL"),
        (Op::IsNull, _) => format!("{expr} IS NOT NULL"),
        (op @ (Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge), Operand::One(v)) => {
            let symbol = match op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                _ => ">=",
            };
            let p = one(sql, v)?;
            format!("{} {symbol} {}", wrap(expr), wrap(&p))
        }
        (Op::In, Operand::Many(values)) => {
            let mut placeholders = Vec::with_capacity(values.len());
            for v in values {
                placeholders.push(one(sql, v)?);
            }
            format!("{expr} IN ({})", placeholders.join(", "))
        }
        (Op::Between, Operand::Range(low, high)) => {
            let (a, b) = (one(sql, low)?, one(sql, high)?);
            format!("{expr} BETWEEN {a} AND {b}")
        }
        (op @ (Op::Contains | Op::StartsWith), Operand::One(v)) => {
            if !matches!(kind, Kind::Text | Kind::Ext) {
                return Err(bad(
                    &format!("{field}.op"),
                    format!("{} applies to text fields only", op.name()),
                ));
            }
            let p = one(sql, v)?;
            let (e, p) = (wrap(expr), wrap(&p));
            match (op, backend) {
                (Op::Contains, Backend::Postgres) => format!("strpos({e}, {p}) > 0"),
                (Op::Contains, Backend::Sqlite) => format!("instr({e}, {p}) > 0"),
                (_, Backend::Postgres) => format!("left({e}, length({p})) = {p}"),
                (_, Backend::Sqlite) => format!("substr({e}, 1, length({p})) = {p}"),
            }
        }
        _ => return Err(bad(field, "operator and value do not match")),
    })
}

/// The SQL of a filter: a boolean expression over alias `r` (promoted fields, extended properties) and the
/// row id expression `row` (column values are probed by row id, so a walk can filter before reading heads).
fn filter_sql(sql: &mut Sql, table: &Table, filter: &Filter, path: &str, row: &str) -> Result<String> {
    match filter {
        Filter::And(items) | Filter::Or(items) => {
            let (word, key) =
                if matches!(filter, Filter::And(_)) { (" AND ", "and") } else { (" OR ", "or") };
            let mut parts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                parts.push(filter_sql(sql, table, item, &format!("{path}.{key}[{i}]"), row)?);
            }
            Ok(format!("({})", parts.join(word)))
        }
        Filter::Condition(cond) => condition_sql(sql, table, cond, path, row),
    }
}

fn condition_sql(sql: &mut Sql, table: &Table, cond: &Condition, path: &str, row: &str) -> Result<String> {
    match &cond.field {
        FieldRef::Promoted(p) => {
            let (expr, kind) = promoted(*p);
            predicate(sql, expr, kind, cond, path)
        }
        FieldRef::Ext(segments) => {
            let as_type = match &cond.operand {
                Operand::One(v) => ext_type_of(v),
                Operand::Many(vs) => vs.first().map_or("text", ext_type_of),
                Operand::Range(low, _) => ext_type_of(low),
                Operand::IsNull(_) => "any",
            };
            let expr = if as_type == "any" {
                match sql.backend() {
                    Backend::Postgres => {
                        let p = sql.arg(Arg::Texts(segments.clone()));
                        format!("(r.extended_properties #>> {p})")
                    }
                    Backend::Sqlite => {
                        let p = sql.arg(format!("$.{}", segments.join(".")));
                        format!("json_extract(r.extended_properties, {p})")
                    }
                }
            } else {
                ext_expr(sql, segments, as_type)
            };
            predicate(sql, &expr, Kind::Ext, cond, path)
        }
        FieldRef::Column(name) => {
            let column = table.require_column(name, format!("{path}.field"))?;
            let t = sql.arg(table.id);
            let c = sql.arg(column.definition_id);
            // OFFSET 0 keeps the probe a per-row lookup: PostgreSQL does not turn it into a join it would
            // reorder (docs/research/eav-query-plans.md, rule R2).
            let exists = format!(
                "EXISTS (SELECT 1 FROM column_values v WHERE v.logical_table_id = {t} AND v.row_id = {row} \
                 AND v.column_definition_id = {c}"
            );
            let close = if sql.backend() == Backend::Postgres { " OFFSET 0)" } else { ")" };
            if let (Op::IsNull, Operand::IsNull(is_null)) = (&cond.op, &cond.operand) {
                return Ok(if *is_null {
                    format!("NOT {exists}{close}")
                } else {
                    format!("{exists}{close}")
                });
            }
            let expr = value_expr("v", column, sql.backend());
            let pred = predicate(sql, &expr, kind_of(column.data_type), cond, path)?;
            Ok(format!("{exists} AND {pred}{close}"))
        }
    }
}

/// A resolved sort key: the SQL expression, its kind, direction and NULL placement.
struct ResolvedKey {
    expr: String,
    kind: Kind,
    direction: Direction,
    nulls: Nulls,
}

/// The keyset predicate: rows strictly after `cursor` in the sort order (keys, then id ascending).
fn keyset_sql(sql: &mut Sql, keys: &[ResolvedKey], cursor: &Cursor, row: &str) -> Result<String> {
    let backend = sql.backend();
    let mut disjuncts = Vec::new();
    let mut equal_prefix: Vec<String> = Vec::new();
    for (key, value) in keys.iter().zip(&cursor.values) {
        let e = &key.expr;
        let bound = if value.is_null() { None } else { Some(sql.arg(cursor_arg(key.kind, value, backend)?)) };
        let after = match (&bound, key.direction, key.nulls) {
            (None, _, Nulls::Last) => None,
            (None, _, Nulls::First) => Some(format!("{e} IS NOT NULL")),
            (Some(p), Direction::Asc, Nulls::Last) => Some(format!("({e} > {p} OR {e} IS NULL)")),
            (Some(p), Direction::Asc, Nulls::First) => Some(format!("{e} > {p}")),
            (Some(p), Direction::Desc, Nulls::Last) => Some(format!("({e} < {p} OR {e} IS NULL)")),
            (Some(p), Direction::Desc, Nulls::First) => Some(format!("{e} < {p}")),
        };
        if let Some(after) = after {
            let mut parts = equal_prefix.clone();
            parts.push(after);
            disjuncts.push(format!("({})", parts.join(" AND ")));
        }
        equal_prefix.push(match &bound {
            None => format!("{e} IS NULL"),
            Some(p) => format!("{e} = {p}"),
        });
    }
    let id = sql.arg(cursor.id);
    let mut parts = equal_prefix;
    parts.push(format!("{row} > {id}"));
    disjuncts.push(format!("({})", parts.join(" AND ")));
    Ok(format!("({})", disjuncts.join(" OR ")))
}

fn invalid_cursor() -> Error {
    Error::bad_request("cursor", ErrorCode::Invalid, super::cursor::INVALID_CURSOR)
}

/// Cursor values are stored as strings (exact for decimals, timestamps and reals) or JSON scalars.
fn cursor_arg(kind: Kind, value: &Value, backend: Backend) -> Result<Arg> {
    let text = value.as_str();
    Ok(match kind {
        Kind::Text | Kind::Ext => Arg::Text(Some(text.ok_or_else(invalid_cursor)?.to_owned())),
        Kind::Int => Arg::Int(Some(value.as_i64().ok_or_else(invalid_cursor)?)),
        Kind::Bool => Arg::Bool(Some(value.as_bool().ok_or_else(invalid_cursor)?)),
        Kind::Decimal => match backend {
            Backend::Postgres => {
                Arg::Decimal(Some(text.and_then(|t| t.parse().ok()).ok_or_else(invalid_cursor)?))
            }
            Backend::Sqlite => Arg::Text(Some(text.ok_or_else(invalid_cursor)?.to_owned())),
        },
        Kind::Date | Kind::Timestamp => {
            Arg::Timestamp(Some(text.and_then(parse_timestamp).ok_or_else(invalid_cursor)?))
        }
        Kind::Uuid => Arg::Uuid(Some(text.and_then(|t| Uuid::parse_str(t).ok()).ok_or_else(invalid_cursor)?)),
    })
}

/// Reads sort key `k{i}` of a result row into its cursor form.
fn cursor_value(row: &crate::store::DbRow, name: &str, kind: Kind, backend: Backend) -> Result<Value> {
    Ok(match kind {
        Kind::Text | Kind::Ext => row.opt_text(name)?.map_or(Value::Null, Value::String),
        Kind::Int => row.opt_i64(name)?.map_or(Value::Null, Value::from),
        Kind::Bool => row.opt_bool(name)?.map_or(Value::Null, Value::Bool),
        Kind::Decimal => match backend {
            Backend::Postgres => row.opt_decimal(name)?.map_or(Value::Null, |d| Value::String(d.to_string())),
            // The exact order key of `decimal_sort` (see `values::decimal_key`).
            Backend::Sqlite => row.opt_text(name)?.map_or(Value::Null, Value::String),
        },
        Kind::Date | Kind::Timestamp => row
            .opt_timestamp(name)?
            .map_or(Value::Null, |t| Value::String(super::types::format_timestamp(&t))),
        Kind::Uuid => row.opt_uuid(name)?.map_or(Value::Null, |u| Value::String(u.to_string())),
    })
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
    pub total_is_estimate: bool,
}

impl Page {
    pub fn to_json(&self) -> Value {
        json!({
            "items": self.items,
            "next_cursor": self.next_cursor,
            "total": self.total,
            "total_is_estimate": self.total.map(|_| self.total_is_estimate),
        })
    }
}

/// Runs `query` on `table`.
/// A filter or sort on a masked column would reveal its values (through the count or the order of the
/// answer) to an actor who may only see them masked: refused with 403, naming the column.
fn refuse_masked(table: &Table, query: &Query, actor: &Actor) -> Result<()> {
    if actor.unmask {
        return Ok(());
    }
    let masked = |field: &FieldRef| match field {
        FieldRef::Column(name) => {
            table.column(name).filter(|c| !c.masking.is_none()).map(|c| c.name.to_string())
        }
        _ => None,
    };
    let filtered = query.filter.iter().flat_map(|f| f.conditions()).find_map(|c| masked(&c.field));
    let sorted = query.sort.iter().find_map(|k| masked(&k.field));
    match filtered.map(|c| (c, "filter on")).or(sorted.map(|c| (c, "sort by"))) {
        Some((column, what)) => {
            Err(Error::Forbidden(format!("the column '{column}' is masked for you: you may not {what} it")))
        }
        None => Ok(()),
    }
}

pub async fn run(
    tx: &mut Tx,
    table: &Table,
    query: &Query,
    cursors: &CursorCodec,
    actor: &Actor,
) -> Result<Page> {
    refuse_masked(table, query, actor)?;
    let backend = tx.backend();
    let columns: Vec<&Column> = match &query.columns {
        None => table.columns.iter().collect(),
        Some(names) => {
            let mut picked = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                picked.push(table.require_column(name, format!("columns[{i}]"))?);
            }
            picked
        }
    };

    let scope = format!(
        "{}|{}|{}|{}",
        table.id,
        table.version,
        canonical_sort(&query.sort),
        query.filter.as_ref().map(|f| f.to_json().to_string()).unwrap_or_default()
    );
    let cursor = match &query.cursor {
        Some(token) => {
            let cursor = cursors.decode(token, &scope)?;
            if cursor.values.len() != query.sort.len() {
                return Err(invalid_cursor());
            }
            Some(cursor)
        }
        None => None,
    };

    // The index walk answers a full page when the filter matches often enough along the sort order; any
    // other outcome (a short page, other shapes) is answered by the general statement.
    let mut rows = Vec::new();
    let mut keys = Vec::new();
    if let Some((sql, walk_keys)) = page_statement(backend, table, query, cursor.as_ref(), true)? {
        rows = tx.fetch_all(&sql).await?;
        keys = walk_keys;
    }
    if rows.len() as i64 <= query.limit {
        let (sql, general_keys) = page_statement(backend, table, query, cursor.as_ref(), false)?
            .ok_or_else(|| bad("sort", "no statement for this query"))?;
        rows = tx.fetch_all(&sql).await?;
        keys = general_keys;
    }
    let has_more = rows.len() as i64 > query.limit;
    let mut heads = Vec::with_capacity(rows.len());
    let mut last_keys = None;
    for row in rows.iter().take(usize::try_from(query.limit).unwrap_or(usize::MAX)) {
        let head = RowHead::from_row(row)?;
        let mut values = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            values.push(cursor_value(row, &format!("k{i}"), key.kind, backend)?);
        }
        last_keys = Some(Cursor::new(values, head.id));
        heads.push(head);
    }
    let next_cursor = match (has_more, last_keys) {
        (true, Some(cursor)) => Some(cursors.encode(&cursor, &scope)),
        _ => None,
    };
    let items = render(tx, table, &heads, &columns, actor).await?;

    let (total, total_is_estimate) = match query.total {
        Total::None => (None, false),
        Total::Exact => (Some(count(tx, table, query, false).await?), false),
        Total::Estimate => match backend {
            Backend::Postgres => (Some(count(tx, table, query, true).await?), true),
            Backend::Sqlite => (Some(count(tx, table, query, false).await?), false),
        },
    };
    Ok(Page { items, next_cursor, total, total_is_estimate })
}

/// Sort-index entries a walk reads at most before the general statement takes over: 25 pages' worth, so a
/// filter matching about 4 % of the rows along the sort order still fills a page (research §5).
fn walk_budget(limit: i64) -> i64 {
    (limit + 1).saturating_mul(25).clamp(1_000, 25_000)
}

/// Does the filter read promoted fields or extended properties (which live on the row's head)?
fn reads_head(filter: &Filter) -> bool {
    match filter {
        Filter::And(items) | Filter::Or(items) => items.iter().any(reads_head),
        Filter::Condition(cond) => !matches!(cond.field, FieldRef::Column(_)),
    }
}

/// A sort key other than a walked one: its expression over `r` (promoted, extended properties) or over the
/// value joined by `join(alias, column)`.
fn sort_key(
    sql: &mut Sql,
    table: &Table,
    i: usize,
    key: &SortKey,
    joins: &mut String,
    join: impl Fn(&str, &Column, &str) -> String,
) -> Result<ResolvedKey> {
    let (expr, kind) = match &key.field {
        FieldRef::Promoted(p) => {
            let (e, k) = promoted(*p);
            (e.to_owned(), k)
        }
        FieldRef::Ext(path) => (ext_expr(sql, path, "text"), Kind::Ext),
        FieldRef::Column(name) => {
            let column = table.require_column(name, format!("sort[{i}].field"))?;
            let c = sql.arg(column.definition_id);
            let alias = format!("s{i}");
            joins.push_str(&join(&alias, column, &c));
            (value_expr(&alias, column, sql.backend()), kind_of(column.data_type))
        }
    };
    Ok(ResolvedKey { expr, kind, direction: key.direction, nulls: key.nulls })
}

/// `expr AS k{i}`; promoted integers are INTEGER (int4) on PostgreSQL, and keys are read back as BIGINT.
fn key_column(i: usize, key: &ResolvedKey) -> String {
    if key.kind == Kind::Int {
        format!("CAST({} AS BIGINT) AS k{i}", key.expr)
    } else {
        format!("{} AS k{i}", key.expr)
    }
}

fn order_by(keys: &[ResolvedKey], row: &str) -> String {
    let mut parts: Vec<String> = keys
        .iter()
        .map(|key| {
            let dir = if key.direction == Direction::Asc { "ASC" } else { "DESC" };
            let nulls = if key.nulls == Nulls::First { "FIRST" } else { "LAST" };
            format!("{} {dir} NULLS {nulls}", key.expr)
        })
        .collect();
    parts.push(format!("{row} ASC"));
    parts.join(", ")
}

/// The page statement and its resolved sort keys: the index walk when `walk` (see [`walk_statement`]),
/// otherwise the general statement, which answers every query.
fn page_statement(
    backend: Backend,
    table: &Table,
    query: &Query,
    cursor: Option<&Cursor>,
    walk: bool,
) -> Result<Option<(Sql, Vec<ResolvedKey>)>> {
    if walk {
        return walk_statement(backend, table, query, cursor);
    }
    let mut sql = Sql::new(backend, "");
    // Filters and sorts on columns depend on the data far more than the planner's generic estimates know:
    // plan this statement for its actual arguments every time (research §7).
    sql.set_persistent(false);
    let t = sql.arg(table.id);
    let mut conditions = vec![format!("r.logical_table_id = {t}")];
    let mut joins = String::new();
    let mut keys = Vec::with_capacity(query.sort.len());
    for (i, key) in query.sort.iter().enumerate() {
        keys.push(sort_key(&mut sql, table, i, key, &mut joins, |alias, _, c| {
            format!(
                " LEFT JOIN column_values {alias} ON {alias}.logical_table_id = r.logical_table_id \
                 AND {alias}.row_id = r.id AND {alias}.column_definition_id = {c}"
            )
        })?);
    }
    if let Some(filter) = &query.filter {
        conditions.push(filter_sql(&mut sql, table, filter, "filter", "r.id")?);
    }
    if let Some(cursor) = cursor {
        conditions.push(keyset_sql(&mut sql, &keys, cursor, "r.id")?);
    }
    let selected: Vec<String> =
        keys.iter().enumerate().map(|(i, k)| format!(", {}", key_column(i, k))).collect();
    let mut text = format!(
        "SELECT {HEAD_COLUMNS}{} FROM table_rows r{joins} WHERE {} ORDER BY {} LIMIT {}",
        selected.concat(),
        conditions.join(" AND "),
        order_by(&keys, "r.id"),
        sql.arg(query.limit + 1)
    );
    if let Some(offset) = query.offset {
        text.push_str(&format!(" OFFSET {}", sql.arg(offset)));
    }
    sql.push(&text);
    Ok(Some((sql, keys)))
}

/// PostgreSQL's index walk (docs/decisions/0009-eav-page-queries.md): read the first sort column's value index
/// `(table, column, value, row)` in page order, whole groups of equal values at a time and at most
/// `walk_budget` entries; probe the filter per walked row (index lookups by row id); stop once a page of
/// hits and the rest of the last hit's group are found; read the heads of those rows only. Every group it
/// keeps is complete, so sorting the hits by the remaining keys and the id is exact. A page it cannot fill
/// (fewer hits within the budget, or the NULL region reached) is left to the general statement.
///
/// `None` when the query cannot be walked: SQLite, an offset, a first key that is not an indexed column
/// (`Text`, `Boolean`, promoted fields, extended properties), NULLs first, or a cursor in the NULL region.
fn walk_statement(
    backend: Backend,
    table: &Table,
    query: &Query,
    cursor: Option<&Cursor>,
) -> Result<Option<(Sql, Vec<ResolvedKey>)>> {
    let first = match (backend, query.offset, query.sort.first()) {
        (Backend::Postgres, None, Some(first)) if first.nulls == Nulls::Last => first,
        _ => return Ok(None),
    };
    let FieldRef::Column(name) = &first.field else { return Ok(None) };
    let Some(column) = table.column(name) else { return Ok(None) };
    if matches!(column.data_type, DataType::Text | DataType::Boolean) {
        return Ok(None);
    }
    let mut sql = Sql::new(backend, "");
    let kind = kind_of(column.data_type);
    let v = format!("s.{}", super::values::storage_column(column.data_type));
    let (t, c) = (sql.arg(table.id), sql.arg(column.definition_id));
    let dir = if first.direction == Direction::Desc { "DESC" } else { "ASC" };
    let mut bound = String::new();
    if let Some(cursor) = cursor {
        match cursor.values.first() {
            Some(value) if !value.is_null() => {
                let p = sql.arg(cursor_arg(kind, value, backend)?);
                bound = format!(" AND {v} {} {p}", if dir == "DESC" { "<=" } else { ">=" });
            }
            _ => return Ok(None),
        }
    }
    let budget = sql.arg(walk_budget(query.limit));
    let walk = format!(
        "(SELECT s.row_id, {v} AS k0 FROM column_values s WHERE s.logical_table_id = {t} \
         AND s.column_definition_id = {c} AND {v} IS NOT NULL{bound} ORDER BY {v} {dir} \
         FETCH FIRST {budget} ROWS WITH TIES) p"
    );
    // Lookups per walked row are LATERAL … OFFSET 0: PostgreSQL keeps them nested-loop probes in walk order
    // instead of hashing a whole table's values.
    let head = |row: &str| {
        format!(
            " CROSS JOIN LATERAL (SELECT * FROM table_rows x WHERE x.logical_table_id = {t} AND x.id = {row} \
             OFFSET 0) r"
        )
    };
    let mut joins = String::new();
    let needs_head = query.filter.as_ref().is_some_and(reads_head)
        || query.sort.iter().skip(1).any(|k| !matches!(k.field, FieldRef::Column(_)));
    if needs_head {
        joins.push_str(&head("p.row_id"));
    }
    let mut keys =
        vec![ResolvedKey { expr: "p.k0".to_owned(), kind, direction: first.direction, nulls: first.nulls }];
    for (i, key) in query.sort.iter().enumerate().skip(1) {
        keys.push(sort_key(&mut sql, table, i, key, &mut joins, |alias, column, c| {
            let value = value_expr("x", column, backend);
            format!(
                " LEFT JOIN LATERAL (SELECT {value} FROM column_values x WHERE x.logical_table_id = {t} \
                 AND x.row_id = p.row_id AND x.column_definition_id = {c} OFFSET 0) {alias} ON true"
            )
        })?);
    }
    let mut conditions = vec!["true".to_owned()];
    if let Some(filter) = &query.filter {
        conditions.push(filter_sql(&mut sql, table, filter, "filter", "p.row_id")?);
    }
    if let Some(cursor) = cursor {
        conditions.push(keyset_sql(&mut sql, &keys, cursor, "p.row_id")?);
    }
    let n = sql.arg(query.limit + 1);
    let hits: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!(", {}", key_column(i, k))).collect();
    let page_keys: Vec<ResolvedKey> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ResolvedKey {
            expr: format!("h.k{i}"),
            kind: k.kind,
            direction: k.direction,
            nulls: k.nulls,
        })
        .collect();
    let selected: Vec<String> = (0..keys.len()).map(|i| format!(", h.k{i} AS k{i}")).collect();
    sql.push(&format!(
        "WITH h AS MATERIALIZED (SELECT p.row_id{} FROM {walk}{joins} WHERE {} ORDER BY p.k0 {dir} \
         FETCH FIRST {n} ROWS WITH TIES) SELECT {HEAD_COLUMNS}{} FROM h{} ORDER BY {} LIMIT {n}",
        hits.concat(),
        conditions.join(" AND "),
        selected.concat(),
        head("h.row_id"),
        order_by(&page_keys, "h.row_id"),
    ));
    Ok(Some((sql, page_keys)))
}

/// Counts matching rows, exactly or (PostgreSQL) from the planner's estimate.
async fn count(tx: &mut Tx, table: &Table, query: &Query, estimate: bool) -> Result<i64> {
    let backend = tx.backend();
    let mut sql =
        Sql::new(backend, if estimate { "EXPLAIN (FORMAT JSON) SELECT 1" } else { "SELECT COUNT(*) AS n" });
    sql.push(" FROM table_rows r WHERE r.logical_table_id = ").bind(table.id);
    if let Some(filter) = &query.filter {
        let clause = filter_sql(&mut sql, table, filter, "filter", "r.id")?;
        sql.push(" AND ").push(&clause);
    }
    let row = tx.fetch_optional(&sql).await?.ok_or_else(|| bad("include_total", "no count"))?;
    if estimate {
        let plan = row.json("QUERY PLAN")?;
        let rows = plan.pointer("/0/Plan/Plan Rows").and_then(Value::as_f64).unwrap_or(0.0);
        Ok(rows.round() as i64)
    } else {
        Ok(row.i64("n")?)
    }
}
