//! Column-level uniqueness (`is_value_unique`), race-free: each unique column is backed by an implicit
//! UNIQUE constraint (`__unique_<column>`) whose normalised keys live in `constraint_keys`, whose primary key
//! `(constraint_id, normalized_key)` the database enforces in the row's own transaction. The constraints
//! capability generalises the same machinery to composite and case-insensitive keys.

use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::schema::Table;
use super::types::Value as Typed;
use super::values::read_value;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::ids::new_id;
use crate::store::Tx;

fn constraint_name(column: &str) -> String {
    format!("__unique_{column}")
}

/// The canonical key of a value: type-tagged so `1` and `"1"` differ, decimals normalised so `1.50` = `1.5`,
/// long texts hashed to stay within index limits.
pub fn normalized_key(value: &Typed) -> String {
    let key = match value {
        Typed::String(s) | Typed::Text(s) => format!("s:{s}"),
        Typed::Int(i) => format!("n:{i}"),
        Typed::Decimal(d) => format!("n:{}", d.normalize()),
        Typed::Boolean(b) => format!("b:{b}"),
        Typed::Date(d) => format!("d:{d}"),
        Typed::DateTime(t) => format!("t:{}", super::types::format_timestamp(t)),
    };
    if key.len() > 512 {
        format!("h:{}", hex::encode(Sha256::digest(key.as_bytes())))
    } else {
        key
    }
}

async fn constraint_id(tx: &mut Tx, table: &Table, column: &str) -> Result<Option<Uuid>> {
    let mut sql = tx.sql("SELECT id FROM table_constraints WHERE logical_table_id = ");
    sql.bind(table.id).push(" AND constraint_name = ").bind(constraint_name(column));
    Ok(tx.fetch_optional(&sql).await?.map(|r| r.uuid("id")).transpose()?)
}

/// Creates the implicit constraint of a column that became unique and indexes the existing values; 422
/// listing duplicates when the data already violates it.
pub async fn rebuild_column_keys(tx: &mut Tx, table: &Table, column_name: &str) -> Result<()> {
    let Some(column) = table.column(column_name) else { return Ok(()) };
    let id = match constraint_id(tx, table, column_name).await? {
        Some(id) => id,
        None => {
            let id = new_id();
            let now = Utc::now();
            let mut sql = tx.sql(
                "INSERT INTO table_constraints (id, logical_table_id, constraint_name, constraint_type, is_active, \
                 version, created_at) VALUES (",
            );
            sql.bind(id).push(", ").bind(table.id).push(", ").bind(constraint_name(column_name));
            sql.push(", 'UNIQUE', ").bind(true).push(", 1, ").bind(now).push(")");
            tx.execute(&sql).await?;
            let mut sql = tx.sql(
                "INSERT INTO constraint_columns (id, constraint_id, column_definition_id, ordinal_position, created_at) \
                 VALUES (",
            );
            sql.bind(new_id())
                .push(", ")
                .bind(id)
                .push(", ")
                .bind(column.definition_id)
                .push(", 1, ")
                .bind(now)
                .push(")");
            tx.execute(&sql).await?;
            id
        }
    };
    let mut sql = tx.sql("DELETE FROM constraint_keys WHERE constraint_id = ");
    sql.bind(id);
    tx.execute(&sql).await?;
    let mut sql = tx.sql("SELECT row_id, ");
    sql.push(super::values::STORED_COLUMNS).push(" FROM column_values WHERE logical_table_id = ");
    sql.bind(table.id)
        .push(" AND column_definition_id = ")
        .bind(column.definition_id)
        .push(" ORDER BY row_id");
    let mut duplicates = Vec::new();
    for row in tx.fetch_all(&sql).await? {
        let Some(value) = read_value(&row, column.data_type)? else { continue };
        let row_id = row.uuid("row_id")?;
        if !insert_key(tx, id, &normalized_key(&value), row_id).await? && duplicates.len() < 100 {
            duplicates.push(FieldError::new(
                format!("rows[{row_id}].{column_name}"),
                ErrorCode::Unique,
                format!("value {} appears in more than one row", value.to_json()),
            ));
        }
    }
    if duplicates.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(duplicates))
    }
}

/// Drops the implicit constraint of a column that is no longer unique (its keys cascade).
pub async fn drop_column_keys(tx: &mut Tx, table: &Table, column_name: &str) -> Result<()> {
    let mut sql = tx.sql("DELETE FROM table_constraints WHERE logical_table_id = ");
    sql.bind(table.id).push(" AND constraint_name = ").bind(constraint_name(column_name));
    tx.execute(&sql).await?;
    Ok(())
}

/// Inserts a key; false when another row already holds it. `ON CONFLICT DO NOTHING` keeps the
/// transaction usable on PostgreSQL (a failed INSERT would abort it).
async fn insert_key(tx: &mut Tx, constraint: Uuid, key: &str, row: Uuid) -> Result<bool> {
    let mut sql = tx.sql("INSERT INTO constraint_keys (constraint_id, normalized_key, row_id) VALUES (");
    sql.bind(constraint).push(", ").bind(key).push(", ").bind(row).push(") ON CONFLICT DO NOTHING");
    Ok(tx.execute(&sql).await? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_type_tagged_and_decimals_normalised() {
        let a = normalized_key(&Typed::Decimal("1.50".parse().unwrap()));
        let b = normalized_key(&Typed::Decimal("1.5".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(normalized_key(&Typed::String("1".into())), normalized_key(&Typed::Int(1)));
        let long = normalized_key(&Typed::Text("x".repeat(5000)));
        assert!(long.starts_with("h:") && long.len() == 66);
    }
}
