//! Strict reading of JSON request bodies: every unknown field is reported by name (400), every wrong type by
//! field (400), and absent is told apart from an explicit `null`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, FieldError};

/// A field that may be absent, explicitly null, or set.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<T> {
    Absent,
    Null,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// The value to store when the field is given: `Some(None)` for null, `None` when absent.
    pub fn given(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Set(v) => Some(Some(v)),
        }
    }
}

/// Reads the fields of one JSON object, collecting errors instead of stopping at the first.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    allowed: BTreeSet<&'static str>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// `prefix` names the object in error paths (`""` for the body itself, `operations[2]` in a batch).
    pub fn new(value: &'a Value, prefix: &str) -> Result<Self, Error> {
        match value.as_object() {
            Some(obj) => {
                Ok(Self { obj, prefix: prefix.to_owned(), allowed: BTreeSet::new(), errors: Vec::new() })
            }
            None => Err(Error::bad_request(
                if prefix.is_empty() { "body" } else { prefix },
                ErrorCode::Type,
                "expected a JSON object",
            )),
        }
    }

    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    fn wrong(&mut self, name: &str, expected: &str) {
        let path = self.path(name);
        self.errors.push(FieldError::new(path, ErrorCode::Type, format!("expected {expected}")));
    }

    /// Records an error found while interpreting a field.
    pub fn error(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// The raw value of a field (marks it known).
    pub fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.allowed.insert(name);
        self.obj.get(name)
    }

    pub fn string(&mut self, name: &'static str) -> Patch<String> {
        match self.raw(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::String(s)) => Patch::Set(s.clone()),
            Some(_) => {
                self.wrong(name, "a string");
                Patch::Absent
            }
        }
    }

    pub fn bool(&mut self, name: &'static str) -> Patch<bool> {
        match self.raw(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::Bool(b)) => Patch::Set(*b),
            Some(_) => {
                self.wrong(name, "true or false");
                Patch::Absent
            }
        }
    }

    pub fn i64(&mut self, name: &'static str) -> Patch<i64> {
        match self.raw(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::Number(n)) if n.as_i64().is_some() => Patch::Set(n.as_i64().unwrap_or_default()),
            Some(_) => {
                self.wrong(name, "an integer");
                Patch::Absent
            }
        }
    }

    pub fn i32(&mut self, name: &'static str) -> Patch<i32> {
        match self.i64(name) {
            Patch::Set(n) => match i32::try_from(n) {
                Ok(n) => Patch::Set(n),
                Err(_) => {
                    let path = self.path(name);
                    self.errors.push(FieldError::new(
                        path,
                        ErrorCode::Range,
                        "out of range for a 32-bit integer",
                    ));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    pub fn uuid(&mut self, name: &'static str) -> Patch<uuid::Uuid> {
        match self.string(name) {
            Patch::Set(s) => match uuid::Uuid::parse_str(&s) {
                Ok(id) => Patch::Set(id),
                Err(_) => {
                    let path = self.path(name);
                    self.errors.push(FieldError::new(path, ErrorCode::Format, "expected a UUID"));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    /// A string that must be present and non-null. When it is not, the error is recorded (so `finish` fails)
    /// and the empty string returned.
    pub fn required_string(&mut self, name: &'static str) -> String {
        let value = self.string(name);
        required(self, name, value).unwrap_or_default()
    }

    /// An RFC 3339 timestamp (`2026-11-23T10:00:00Z`).
    pub fn timestamp(&mut self, name: &'static str) -> Patch<chrono::DateTime<chrono::Utc>> {
        match self.string(name) {
            Patch::Set(s) => match chrono::DateTime::parse_from_rfc3339(&s) {
                Ok(at) => Patch::Set(at.with_timezone(&chrono::Utc)),
                Err(_) => {
                    let path = self.path(name);
                    self.errors.push(FieldError::new(
                        path,
                        ErrorCode::Format,
                        "expected an RFC 3339 timestamp",
                    ));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    pub fn object(&mut self, name: &'static str) -> Patch<&'a Map<String, Value>> {
        match self.raw(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::Object(o)) => Patch::Set(o),
            Some(_) => {
                self.wrong(name, "a JSON object");
                Patch::Absent
            }
        }
    }

    /// Ends reading: unknown fields and collected errors become one 400.
    pub fn finish(mut self) -> Result<(), Error> {
        for key in self.obj.keys() {
            if !self.allowed.contains(key.as_str()) {
                let path = self.path(key);
                self.errors.push(FieldError::new(
                    path,
                    ErrorCode::UnknownField,
                    format!("unknown field '{key}'"),
                ));
            }
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::BadRequest(self.errors))
        }
    }
}

/// Requires a field that must be present and non-null.
pub fn required<T>(fields: &mut Fields<'_>, name: &'static str, value: Patch<T>) -> Option<T> {
    match value {
        Patch::Set(v) => Some(v),
        Patch::Absent | Patch::Null => {
            let path = fields.path(name);
            fields.error(FieldError::new(path, ErrorCode::Required, format!("'{name}' is required")));
            None
        }
    }
}

/// Applies an RFC 7396 JSON merge patch to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(patch_obj) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(target_obj) = target {
                for (key, value) in patch_obj {
                    if value.is_null() {
                        target_obj.remove(key);
                    } else {
                        merge_patch(target_obj.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The RFC 7396 merge patch that turns `before` into `after` (`merge_patch(before, diff) == after` whenever
/// `after` holds no JSON nulls inside objects, which a merge patch cannot express).
pub fn merge_diff(before: &Value, after: &Value) -> Value {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = Map::new();
            for key in old.keys().filter(|k| !new.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            for (key, value) in new {
                match old.get(key) {
                    Some(previous) if previous == value => {}
                    Some(previous) => {
                        patch.insert(key.clone(), merge_diff(previous, value));
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(patch)
        }
        _ => after.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_named() {
        let body = json!({"table_name": "a", "colour": "red"});
        let mut f = Fields::new(&body, "").unwrap();
        assert_eq!(f.string("table_name"), Patch::Set("a".into()));
        let Err(Error::BadRequest(errors)) = f.finish() else { panic!("expected 400") };
        assert_eq!(errors[0].field, "colour");
        assert_eq!(errors[0].code, ErrorCode::UnknownField);
    }

    #[test]
    fn absent_null_and_wrong_types() {
        let body = json!({"a": null, "b": 5, "c": "x"});
        let mut f = Fields::new(&body, "operations[1]").unwrap();
        assert_eq!(f.string("a"), Patch::Null);
        assert_eq!(f.bool("missing"), Patch::Absent);
        assert_eq!(f.i64("b"), Patch::Set(5));
        assert_eq!(f.i64("c"), Patch::Absent);
        let Err(Error::BadRequest(errors)) = f.finish() else { panic!("expected 400") };
        assert_eq!(errors[0].field, "operations[1].c");
        assert_eq!(errors[0].code, ErrorCode::Type);
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1]});
        merge_patch(&mut target, &json!({"a": {"b": 1}, "n": null}));
        assert_eq!(target, json!({"a": {"b": 1}}));
    }

    #[test]
    fn merge_diff_is_undone_by_merge_patch() {
        let before = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1], "gone": true});
        let after = json!({"a": 1, "b": {"c": 5}, "e": [1, 2], "new": "x"});
        let diff = merge_diff(&before, &after);
        assert_eq!(diff, json!({"gone": null, "b": {"c": 5, "d": null}, "e": [1, 2], "new": "x"}));
        let mut patched = before.clone();
        merge_patch(&mut patched, &diff);
        assert_eq!(patched, after);
        assert_eq!(merge_diff(&after, &after), json!({}));
    }
}
