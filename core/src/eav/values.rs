//! Typed value storage in `column_values`: one row per (row, column) holding a non-null value in exactly one
//! typed column; NULL is the absence of that row.

use std::collections::HashMap;

use chrono::{NaiveTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::schema::{Column, Table};
use super::types::{DataType, Value as Typed};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::Actor;
use crate::ids::new_id;
use crate::store::{Arg, Backend, DbRow, Sql, Tx};

/// The storage column a data type lives in.
pub fn storage_column(data_type: DataType) -> &'static str {
    match data_type {
        DataType::String => "string_value",
        DataType::Text => "text_value",
        DataType::Int => "int_value",
        DataType::Decimal => "decimal_value",
        DataType::Boolean => "boolean_value",
        DataType::Date | DataType::DateTime => "date_value",
    }
}

/// The typed storage columns, as selected by every reader of values (`read_value` reads them back).
pub(crate) const STORED_COLUMNS: &str =
    "string_value, text_value, int_value, decimal_value, boolean_value, date_value";

/// The argument a typed value is bound as (for its storage column).
pub fn value_arg(value: &Typed) -> Arg {
    match value {
        Typed::String(s) | Typed::Text(s) => Arg::Text(Some(s.clone())),
        Typed::Int(i) => Arg::Int(Some(*i)),
        Typed::Decimal(d) => Arg::Decimal(Some(*d)),
        Typed::Boolean(b) => Arg::Bool(Some(*b)),
        Typed::Date(d) => Arg::Timestamp(Some(d.and_time(NaiveTime::MIN).and_utc())),
        Typed::DateTime(t) => Arg::Timestamp(Some(*t)),
    }
}

/// New values as typed arrays, one entry per value: what PostgreSQL inserts in one `unnest` statement.
#[derive(Debug, Default)]
pub(crate) struct ValueArrays {
    ids: Vec<Uuid>,
    rows: Vec<Uuid>,
    definitions: Vec<Uuid>,
    strings: Vec<Option<String>>,
    texts: Vec<Option<String>>,
    ints: Vec<Option<i64>>,
    decimals: Vec<Option<rust_decimal::Decimal>>,
    booleans: Vec<Option<bool>>,
    dates: Vec<Option<chrono::DateTime<Utc>>>,
}

impl ValueArrays {
    pub(crate) fn push(&mut self, row: Uuid, definition: Uuid, value: &Typed) {
        self.ids.push(new_id());
        self.rows.push(row);
        self.definitions.push(definition);
        self.strings.push(match value {
            Typed::String(s) => Some(s.clone()),
            _ => None,
        });
        self.texts.push(match value {
            Typed::Text(s) => Some(s.clone()),
            _ => None,
        });
        self.ints.push(match value {
            Typed::Int(i) => Some(*i),
            _ => None,
        });
        self.decimals.push(match value {
            Typed::Decimal(d) => Some(*d),
            _ => None,
        });
        self.booleans.push(match value {
            Typed::Boolean(b) => Some(*b),
            _ => None,
        });
        self.dates.push(match value {
            Typed::Date(d) => Some(d.and_time(NaiveTime::MIN).and_utc()),
            Typed::DateTime(t) => Some(*t),
            _ => None,
        });
    }

    /// Inserts every value into `table` (PostgreSQL): one statement text whatever the number of values.
    pub(crate) async fn insert(
        self,
        tx: &mut Tx,
        table: Uuid,
        created_at: Option<chrono::DateTime<Utc>>,
        actor: &Actor,
    ) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut sql = tx.sql(
            "INSERT INTO column_values (id, row_id, column_definition_id, logical_table_id, string_value, \
             text_value, int_value, decimal_value, boolean_value, date_value, version, created_at, created_by) \
             SELECT u.id, u.row_id, u.definition_id, $1, u.s, u.x, u.i, u.d, u.b, u.t, 1, $2, $3 \
             FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::int8[], $10::numeric[], \
             $11::bool[], $12::timestamptz[]) AS u(id, row_id, definition_id, s, x, i, d, b, t)",
        );
        sql.arg(table);
        sql.arg(created_at);
        sql.arg(actor.user_id);
        sql.arg(Arg::Uuids(self.ids));
        sql.arg(Arg::Uuids(self.rows));
        sql.arg(Arg::Uuids(self.definitions));
        sql.arg(Arg::OptTexts(self.strings));
        sql.arg(Arg::OptTexts(self.texts));
        sql.arg(Arg::OptInts(self.ints));
        sql.arg(Arg::OptDecimals(self.decimals));
        sql.arg(Arg::OptBools(self.booleans));
        sql.arg(Arg::OptTimestamps(self.dates));
        tx.execute(&sql).await?;
        Ok(())
    }
}

/// The SQLite ordering shadow of a decimal (`decimal_sort`): an exact, order-preserving text key.
pub(crate) fn decimal_sort(value: &Typed) -> Option<String> {
    match value {
        Typed::Decimal(d) => Some(decimal_key(d)),
        _ => None,
    }
}

/// An exact text key whose byte order is the numeric order of decimals, and which is equal for equal values
/// (`1.50` and `1.5`): sign class (`A` negative, `B` zero, `C` positive — letters, so SQLite's REAL column
/// affinity never turns a key into a number), a 3-digit exponent (inverted for negatives), then the
/// significant digits (nines-complemented and `~`-terminated for negatives).
pub fn decimal_key(d: &rust_decimal::Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        return "B".to_owned();
    }
    let digits = n.mantissa().unsigned_abs().to_string();
    let exponent = i64::try_from(digits.len()).unwrap_or(0) - i64::from(n.scale()) + 500;
    if n.is_sign_positive() {
        format!("C{exponent:03}{digits}")
    } else {
        let complement: String =
            digits.chars().map(|c| char::from(b'9' - (c as u8).saturating_sub(b'0'))).collect();
        format!("A{:03}{complement}~", 999 - exponent)
    }
}

/// Reads the value of `column` from a row selected with the typed storage columns.
pub fn read_value(row: &DbRow, data_type: DataType) -> Result<Option<Typed>> {
    Ok(match data_type {
        DataType::String => row.opt_text("string_value")?.map(Typed::String),
        DataType::Text => row.opt_text("text_value")?.map(Typed::Text),
        DataType::Int => row.opt_i64("int_value")?.map(Typed::Int),
        DataType::Decimal => row.opt_decimal("decimal_value")?.map(Typed::Decimal),
        DataType::Boolean => row.opt_bool("boolean_value")?.map(Typed::Boolean),
        DataType::Date => row.opt_timestamp("date_value")?.map(|t| Typed::Date(t.date_naive())),
        DataType::DateTime => row.opt_timestamp("date_value")?.map(Typed::DateTime),
    })
}

/// Writes (or, for `None`, removes) the value of one column of one row.
pub async fn write(
    tx: &mut Tx,
    table_id: Uuid,
    row_id: Uuid,
    column: &Column,
    value: Option<&Typed>,
    actor: &Actor,
) -> Result<()> {
    let Some(value) = value else {
        let mut sql = tx.sql("DELETE FROM column_values WHERE logical_table_id = ");
        sql.bind(table_id)
            .push(" AND row_id = ")
            .bind(row_id)
            .push(" AND column_definition_id = ")
            .bind(column.definition_id);
        tx.execute(&sql).await?;
        return Ok(());
    };
    let target = storage_column(column.data_type);
    let now = Utc::now();
    let sqlite = tx.backend() == Backend::Sqlite;
    let mut sql = tx.sql("INSERT INTO column_values (id, row_id, column_definition_id, logical_table_id, ");
    sql.push(target);
    if sqlite {
        sql.push(", decimal_sort");
    }
    sql.push(", version, created_at, created_by) VALUES (")
        .bind(new_id())
        .push(", ")
        .bind(row_id)
        .push(", ")
        .bind(column.definition_id)
        .push(", ")
        .bind(table_id)
        .push(", ")
        .bind(value_arg(value));
    if sqlite {
        sql.push(", ").bind(Arg::Text(decimal_sort(value)));
    }
    sql.push(", 1, ").bind(now).push(", ").bind(actor.user_id).push(
        ") ON CONFLICT (logical_table_id, row_id, column_definition_id) DO UPDATE SET \
         string_value = excluded.string_value, text_value = excluded.text_value, int_value = excluded.int_value, \
         decimal_value = excluded.decimal_value, boolean_value = excluded.boolean_value, \
         date_value = excluded.date_value, version = column_values.version + 1, \
         updated_at = excluded.created_at, updated_by = excluded.created_by",
    );
    if sqlite {
        sql.push(", decimal_sort = excluded.decimal_sort");
    }
    tx.execute(&sql).await?;
    Ok(())
}

/// Loads the values of `rows` as JSON objects keyed by column name (unmasked), restricted to `columns`.
pub async fn load(
    tx: &mut Tx,
    table: &Table,
    rows: &[Uuid],
    columns: &[&Column],
) -> Result<HashMap<Uuid, Map<String, Value>>> {
    let mut out: HashMap<Uuid, Map<String, Value>> = rows.iter().map(|id| (*id, Map::new())).collect();
    if rows.is_empty() || columns.is_empty() {
        return Ok(out);
    }
    let mut sql = tx.sql("SELECT row_id, column_definition_id, ");
    sql.push(STORED_COLUMNS).push(" FROM column_values WHERE logical_table_id = ");
    sql.bind(table.id).push(" AND ");
    sql.push_in_uuids("row_id", rows.to_vec());
    if columns.len() < table.columns.len() {
        sql.push(" AND ");
        sql.push_in_uuids("column_definition_id", columns.iter().map(|c| c.definition_id).collect());
    }
    for row in tx.fetch_all(&sql).await? {
        let definition = row.uuid("column_definition_id")?;
        let Some(column) = columns.iter().find(|c| c.definition_id == definition) else { continue };
        if let Some(value) = read_value(&row, column.data_type)? {
            out.entry(row.uuid("row_id")?).or_default().insert(column.name.to_string(), value.to_json());
        }
    }
    Ok(out)
}

/// Fills `default` into every row of the table that has no value for the column (a column was attached).
pub async fn backfill(
    tx: &mut Tx,
    table_id: Uuid,
    definition_id: Uuid,
    default: &Typed,
    actor: &Actor,
) -> Result<()> {
    let target = storage_column(default.data_type());
    let sqlite = tx.backend() == Backend::Sqlite;
    let id_expr = if sqlite {
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' \
         || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    } else {
        "gen_random_uuid()"
    };
    let mut sql = Sql::new(
        tx.backend(),
        "INSERT INTO column_values (id, row_id, column_definition_id, logical_table_id, ",
    );
    sql.push(target);
    if sqlite {
        sql.push(", decimal_sort");
    }
    sql.push(", version, created_at, created_by) SELECT ").push(id_expr).push(", r.id, ");
    sql.bind(definition_id).push(", r.logical_table_id, ").bind(value_arg(default));
    if sqlite {
        sql.push(", ").bind(Arg::Text(decimal_sort(default)));
    }
    sql.push(", 1, ").bind(Utc::now()).push(", ").bind(actor.user_id);
    sql.push(" FROM table_rows r WHERE r.logical_table_id = ").bind(table_id).push(
        " AND NOT EXISTS (SELECT 1 FROM column_values v WHERE v.logical_table_id = r.logical_table_id \
         AND v.row_id = r.id AND v.column_definition_id = ",
    );
    sql.bind(definition_id).push(")");
    tx.execute(&sql).await?;
    Ok(())
}

/// After a rule change: every existing row must satisfy `column`'s mandatory flag and validation rule.
/// 422 lists up to 100 offending rows.
pub async fn check_existing(tx: &mut Tx, table: &Table, column_name: &str) -> Result<()> {
    let Some(column) = table.column(column_name) else { return Ok(()) };
    let mut offending: Vec<FieldError> = Vec::new();
    if column.is_mandatory {
        let mut sql = tx.sql("SELECT r.id FROM table_rows r WHERE r.logical_table_id = ");
        sql.bind(table.id).push(
            " AND NOT EXISTS (SELECT 1 FROM column_values v WHERE v.logical_table_id = r.logical_table_id \
             AND v.row_id = r.id AND v.column_definition_id = ",
        );
        sql.bind(column.definition_id).push(") ORDER BY r.id LIMIT 100");
        for row in tx.fetch_all(&sql).await? {
            offending.push(FieldError::new(
                format!("rows[{}].{column_name}", row.uuid("id")?),
                ErrorCode::Required,
                "has no value but the column is mandatory",
            ));
        }
    }
    if let Some(rule) = &column.rule {
        let mut sql = tx.sql("SELECT row_id, ");
        sql.push(STORED_COLUMNS).push(" FROM column_values WHERE logical_table_id = ");
        sql.bind(table.id)
            .push(" AND column_definition_id = ")
            .bind(column.definition_id)
            .push(" ORDER BY row_id");
        for row in tx.fetch_all(&sql).await? {
            if offending.len() >= 100 {
                break;
            }
            if let Some(value) = read_value(&row, column.data_type)? {
                if let Err(e) = rule.check(&value) {
                    offending.push(e.prefixed(&format!("rows[{}].{column_name}", row.uuid("row_id")?)));
                }
            }
        }
    }
    if offending.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(offending))
    }
}

#[cfg(test)]
mod tests {
    use super::decimal_key;
    use rust_decimal::Decimal;

    #[test]
    fn decimal_keys_sort_like_the_numbers_and_ignore_trailing_zeros() {
        let values = [
            "-1000",
            "-12.5",
            "-12.45",
            "-1",
            "-0.123",
            "-0.12",
            "-0.0001",
            "0",
            "0.0001",
            "0.1",
            "0.10000000000000000000000001",
            "0.12",
            "0.123",
            "1",
            "9.99",
            "10",
            "12.45",
            "12.5",
            "1000",
            "79228162514264337593543950335",
        ];
        let keys: Vec<String> = values.iter().map(|v| decimal_key(&v.parse::<Decimal>().unwrap())).collect();
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
        assert_eq!(decimal_key(&"1.50".parse().unwrap()), decimal_key(&"1.5".parse().unwrap()));
        assert_eq!(decimal_key(&"-0.00".parse().unwrap()), decimal_key(&Decimal::ZERO));
    }
}
