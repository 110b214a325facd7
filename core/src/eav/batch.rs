//! `POST /data/{table}/batch`: up to `max_operations` creates, updates and deletes applied in order, each
//! seeing the earlier ones. `all_or_nothing` (default) rolls everything back on the first failure (422 with
//! `operations[i]…` fields); `continue` isolates each operation in a savepoint and reports per item.

use serde_json::{json, Value};

use super::input::{Fields, Patch};
use super::rows::{create_in, create_many_in, delete_in, update_in, UpdateMode, UpdateOptions};
use super::schema::Table;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::Actor;
use crate::store::Tx;

/// Batch mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    AllOrNothing,
    Continue,
}

/// The outcome of one operation in `continue` mode.
#[derive(Debug)]
pub enum ItemResult {
    Ok(Option<Value>),
    Failed(Error),
}

/// A parsed batch request.
pub struct Batch<'a> {
    pub mode: Mode,
    pub operations: &'a [Value],
}

/// Reads `{mode, operations}`; 400 for a malformed body or more than `max_operations` operations.
pub fn parse(body: &Value, max_operations: usize) -> Result<Batch<'_>> {
    let mut f = Fields::new(body, "")?;
    let mode = match f.string("mode") {
        Patch::Absent | Patch::Null => Some(Mode::AllOrNothing),
        Patch::Set(m) if m == "all_or_nothing" => Some(Mode::AllOrNothing),
        Patch::Set(m) if m == "continue" => Some(Mode::Continue),
        Patch::Set(_) => {
            f.error(FieldError::new("mode", ErrorCode::Enum, "expected all_or_nothing or continue"));
            None
        }
    };
    let operations = match f.raw("operations") {
        Some(Value::Array(ops)) => Some(ops.as_slice()),
        _ => {
            f.error(FieldError::new("operations", ErrorCode::Required, "expected an array of operations"));
            None
        }
    };
    f.finish()?;
    let (Some(mode), Some(operations)) = (mode, operations) else {
        return Err(Error::bad_request("operations", ErrorCode::Required, "expected an array of operations"));
    };
    if operations.is_empty() || operations.len() > max_operations {
        return Err(Error::bad_request(
            "operations",
            ErrorCode::Invalid,
            format!("a batch holds 1 to {max_operations} operations (got {})", operations.len()),
        ));
    }
    Ok(Batch { mode, operations })
}

/// Applies one operation. The operation object carries `op` plus the row body (create/update), `id`,
/// `version` and (delete) `cascade_children`.
async fn apply(tx: &mut Tx, table: &Table, op: &Value, index: usize, actor: &Actor) -> Result<Option<Value>> {
    let prefix = format!("operations[{index}]");
    let Some(obj) = op.as_object() else {
        return Err(Error::bad_request(prefix, ErrorCode::Type, "expected an object"));
    };
    let kind = obj.get("op").and_then(Value::as_str).unwrap_or_default();
    let mut body = obj.clone();
    body.remove("op");
    let id = match kind {
        "update" | "delete" => {
            let raw = body.remove("id");
            match raw.as_ref().and_then(Value::as_str).map(uuid::Uuid::parse_str) {
                Some(Ok(id)) => Some(id),
                _ => {
                    return Err(Error::bad_request(
                        format!("{prefix}.id"),
                        ErrorCode::Required,
                        "a row id is required",
                    ))
                }
            }
        }
        _ => None,
    };
    match (kind, id) {
        ("create", _) => create_in(tx, table, &Value::Object(body), actor, &prefix).await.map(Some),
        ("update", Some(id)) => {
            let options = UpdateOptions { expected: None, mode: UpdateMode::Merge, prefix: &prefix };
            update_in(tx, table, id, &Value::Object(body), options, actor).await.map(Some)
        }
        ("delete", Some(id)) => {
            let mut f = Fields::new(op, &prefix)?;
            let _ = f.raw("op");
            let _ = f.raw("id");
            let version = f.i32("version");
            let cascade = f.bool("cascade_children");
            f.finish()?;
            let expected = version.given().flatten();
            delete_in(tx, table, id, expected, matches!(cascade, Patch::Set(true)), actor, &prefix)
                .await
                .map(|()| None)
        }
        _ => Err(Error::bad_request(
            format!("{prefix}.op"),
            ErrorCode::Enum,
            "expected create, update or delete",
        )),
    }
}

/// Runs the batch inside `tx`. In `all_or_nothing` mode the first failure is returned (the caller drops the
/// transaction, rolling back); in `continue` mode every item gets a result.
pub async fn run(tx: &mut Tx, table: &Table, batch: &Batch<'_>, actor: &Actor) -> Result<Vec<ItemResult>> {
    let mut results = Vec::with_capacity(batch.operations.len());
    let mut index = 0;
    while let Some(op) = batch.operations.get(index) {
        match batch.mode {
            Mode::AllOrNothing => {
                // A run of consecutive creates is inserted in bulk (same effect as one by one: in order, and
                // later rows may name earlier ones as parents).
                let run = batch.operations.iter().skip(index).take_while(|op| is_create(op)).count();
                if run > 1 {
                    let inputs: Vec<(String, Value)> = batch.operations[index..index + run]
                        .iter()
                        .enumerate()
                        .map(|(i, op)| (format!("operations[{}]", index + i), without_op(op)))
                        .collect();
                    let borrowed: Vec<(String, &Value)> =
                        inputs.iter().map(|(p, v)| (p.clone(), v)).collect();
                    let rows = create_many_in(tx, table, &borrowed, actor).await?;
                    results.extend(rows.into_iter().map(|row| ItemResult::Ok(Some(row))));
                    index += run;
                    continue;
                }
                let row = apply(tx, table, op, index, actor).await.map_err(|e| locate(e, index))?;
                results.push(ItemResult::Ok(row));
            }
            Mode::Continue => {
                tx.savepoint("tessera_batch_item").await?;
                match apply(tx, table, op, index, actor).await {
                    Ok(row) => {
                        tx.release("tessera_batch_item").await?;
                        results.push(ItemResult::Ok(row));
                    }
                    Err(Error::Store(e)) => return Err(Error::Store(e)),
                    Err(e) => {
                        tx.rollback_to("tessera_batch_item").await?;
                        tx.release("tessera_batch_item").await?;
                        results.push(ItemResult::Failed(e));
                    }
                }
            }
        }
        index += 1;
    }
    Ok(results)
}

fn is_create(op: &Value) -> bool {
    op.get("op").and_then(Value::as_str) == Some("create")
}

/// The row body of a create operation (the operation without its `op` member).
fn without_op(op: &Value) -> Value {
    let mut body = op.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.remove("op");
    }
    body
}

/// Names the failing operation in errors that carry no field of their own (missing row, version conflict).
fn locate(error: Error, index: usize) -> Error {
    match error {
        Error::NotFound(message) => Error::NotFound(format!("operations[{index}]: {message}")),
        Error::Conflict { detail, current } => {
            Error::Conflict { detail: format!("operations[{index}]: {detail}"), current }
        }
        other => other,
    }
}

/// The JSON of a successful item (`{ok: true, row}`); failures are rendered by the adapter (problem JSON).
pub fn ok_item(row: Option<Value>) -> Value {
    match row {
        Some(row) => json!({ "ok": true, "row": row }),
        None => json!({ "ok": true }),
    }
}
