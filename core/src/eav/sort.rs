//! Sort keys of data queries (`spec/api.md` "Sorting"): `?sort=title,-year` or a query body's
//! `"sort": [{"field": "title", "direction": "asc", "nulls": "last"}]`.
//!
//! NULLs sort last in both directions unless a key says `"nulls": "first"`; ties are always broken by row id
//! ascending (added by the SQL, not here), so sorting by `id` explicitly is allowed but never needed.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter::{parse_field, FieldRef};
use crate::error::{Error, ErrorCode, FieldError};

/// A sort has at most this many keys.
pub const MAX_SORT_KEYS: usize = 8;

/// At most this many unknown keys are reported per sort key.
const MAX_UNKNOWN_KEYS: usize = 10;

/// The keys a sort key object may have.
const SORT_KEY_KEYS: [&str; 3] = ["field", "direction", "nulls"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "asc" => Some(Direction::Asc),
            "desc" => Some(Direction::Desc),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where NULLs go; [`Nulls::Last`] by default, in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nulls {
    First,
    #[default]
    Last,
}

impl Nulls {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "first" => Some(Nulls::First),
            "last" => Some(Nulls::Last),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Nulls::First => "first",
            Nulls::Last => "last",
        }
    }
}

impl fmt::Display for Nulls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub field: FieldRef,
    pub direction: Direction,
    pub nulls: Nulls,
}

impl SortKey {
    /// Ascending, NULLs last.
    pub fn asc(field: FieldRef) -> Self {
        Self { field, direction: Direction::Asc, nulls: Nulls::Last }
    }

    /// Descending, NULLs last.
    pub fn desc(field: FieldRef) -> Self {
        Self { field, direction: Direction::Desc, nulls: Nulls::Last }
    }
}

impl fmt::Display for SortKey {
    /// `title asc nulls last`, `ext.a.b desc nulls first`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} nulls {}", self.field, self.direction, self.nulls)
    }
}

/// The canonical text of a sort, e.g. `title asc nulls last,year desc nulls last` (empty for no sort). Field
/// names cannot contain spaces or commas, so two different sorts never have the same text; use it in cursor
/// scopes.
pub fn canonical_sort(keys: &[SortKey]) -> String {
    keys.iter().map(SortKey::to_string).collect::<Vec<_>>().join(",")
}

/// Parses the `?sort=` query parameter: comma-separated fields, a leading `-` for descending (`+` or nothing for
/// ascending); NULLs last. Errors name the field `sort`.
pub fn parse_sort_param(s: &str) -> Result<Vec<SortKey>, Error> {
    if s.trim().is_empty() {
        return Err(Error::bad_request("sort", ErrorCode::Invalid, "sort must name at least one field"));
    }
    if s.split(',').count() > MAX_SORT_KEYS {
        return Err(too_many("sort"));
    }
    let mut errors = Vec::new();
    let mut keys = Vec::new();
    for (i, segment) in s.split(',').enumerate() {
        match parse_segment(segment, "sort", i) {
            Ok(key) => keys.push((i, key)),
            Err(e) => errors.push(e),
        }
    }
    check_duplicates(&keys, |_| "sort".to_owned(), &mut errors);
    finish(keys, errors)
}

/// Parses a query body's `sort`: an array of `{field, direction?, nulls?}` (direction `asc` by default, nulls
/// `last` by default; a string element is read like one `?sort=` segment, `"-year"`). `null` means no sort.
/// Errors name `sort[i].field` etc.
pub fn parse_sort_json(json: &Value) -> Result<Vec<SortKey>, Error> {
    let items = match json {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(Error::bad_request(
                "sort",
                ErrorCode::Invalid,
                "sort must be an array of {field, direction, nulls}",
            ))
        }
    };
    if items.len() > MAX_SORT_KEYS {
        return Err(too_many("sort"));
    }
    let mut errors = Vec::new();
    let mut keys = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("sort[{i}]");
        match item {
            Value::String(s) => match parse_segment(s, &path, i) {
                Ok(key) => keys.push((i, key)),
                Err(e) => errors.push(e),
            },
            Value::Object(obj) => {
                let before = errors.len();
                let unknown = obj.keys().filter(|key| !SORT_KEY_KEYS.contains(&key.as_str()));
                for key in unknown.take(MAX_UNKNOWN_KEYS) {
                    errors.push(FieldError::new(
                        format!("{path}.{}", echo(key)),
                        ErrorCode::UnknownField,
                        format!("unknown key `{}`: a sort key has field, direction and nulls", echo(key)),
                    ));
                }
                let field_path = format!("{path}.field");
                let field = match obj.get("field") {
                    Some(Value::String(s)) => match parse_field(s, &field_path) {
                        Ok(field) => Some(field),
                        Err(e) => {
                            errors.push(e);
                            None
                        }
                    },
                    None | Some(Value::Null) => {
                        errors.push(FieldError::new(field_path, ErrorCode::Invalid, "field is required"));
                        None
                    }
                    Some(_) => {
                        errors.push(FieldError::new(
                            field_path,
                            ErrorCode::Invalid,
                            "field must be a string",
                        ));
                        None
                    }
                };
                let direction = match obj.get("direction") {
                    None | Some(Value::Null) => Some(Direction::Asc),
                    Some(Value::String(s)) if Direction::from_name(s).is_some() => Direction::from_name(s),
                    Some(_) => {
                        errors.push(FieldError::new(
                            format!("{path}.direction"),
                            ErrorCode::Invalid,
                            "direction must be \"asc\" or \"desc\"",
                        ));
                        None
                    }
                };
                let nulls = match obj.get("nulls") {
                    None | Some(Value::Null) => Some(Nulls::Last),
                    Some(Value::String(s)) if Nulls::from_name(s).is_some() => Nulls::from_name(s),
                    Some(_) => {
                        errors.push(FieldError::new(
                            format!("{path}.nulls"),
                            ErrorCode::Invalid,
                            "nulls must be \"first\" or \"last\"",
                        ));
                        None
                    }
                };
                if errors.len() == before {
                    if let (Some(field), Some(direction), Some(nulls)) = (field, direction, nulls) {
                        keys.push((i, SortKey { field, direction, nulls }));
                    }
                }
            }
            _ => errors.push(FieldError::new(
                path,
                ErrorCode::Invalid,
                "expected a sort key {field, direction, nulls}",
            )),
        }
    }
    check_duplicates(&keys, |i| format!("sort[{i}].field"), &mut errors);
    finish(keys, errors)
}

/// One `?sort=` segment: `title`, `-year`, `+year` (surrounding whitespace ignored).
fn parse_segment(segment: &str, field: &str, index: usize) -> Result<SortKey, FieldError> {
    let segment = segment.trim();
    let (direction, name) = if let Some(rest) = segment.strip_prefix('-') {
        (Direction::Desc, rest)
    } else if let Some(rest) = segment.strip_prefix('+') {
        (Direction::Asc, rest)
    } else {
        (Direction::Asc, segment)
    };
    if name.is_empty() {
        return Err(FieldError::new(
            field,
            ErrorCode::Invalid,
            format!("sort key {} is empty: expected a field name, `-` before it for descending", index + 1),
        ));
    }
    let field = parse_field(name, field)?;
    Ok(SortKey { field, direction, nulls: Nulls::Last })
}

/// The same field twice is an error, reported at the later occurrence.
fn check_duplicates(
    keys: &[(usize, SortKey)],
    place: impl Fn(usize) -> String,
    errors: &mut Vec<FieldError>,
) {
    for (pos, (index, key)) in keys.iter().enumerate() {
        if keys.iter().take(pos).any(|(_, earlier)| earlier.field == key.field) {
            errors.push(FieldError::new(
                place(*index),
                ErrorCode::Invalid,
                format!("`{}` appears more than once in sort", key.field),
            ));
        }
    }
}

fn finish(keys: Vec<(usize, SortKey)>, errors: Vec<FieldError>) -> Result<Vec<SortKey>, Error> {
    if errors.is_empty() {
        Ok(keys.into_iter().map(|(_, key)| key).collect())
    } else {
        Err(Error::BadRequest(errors))
    }
}

fn too_many(field: &str) -> Error {
    Error::bad_request(field, ErrorCode::Invalid, format!("a sort has at most {MAX_SORT_KEYS} keys"))
}

/// User input for a message: at most 64 characters.
fn echo(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(64).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::super::filter::Promoted;
    use super::*;
    use serde_json::json;

    fn col(name: &str) -> FieldRef {
        FieldRef::Column(name.to_owned())
    }

    fn errors(result: Result<Vec<SortKey>, Error>) -> Vec<FieldError> {
        match result {
            Err(Error::BadRequest(errors)) => errors,
            other => panic!("expected BadRequest, got {other:?}"),
        }
    }

    fn one_error(result: Result<Vec<SortKey>, Error>, field: &str) -> FieldError {
        let errors = errors(result);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = errors.into_iter().next().unwrap();
        assert_eq!(e.field, field, "{e:?}");
        e
    }

    // ----- ?sort= -----

    #[test]
    fn param_basic() {
        assert_eq!(
            parse_sort_param("title,-year").unwrap(),
            [SortKey::asc(col("title")), SortKey::desc(col("year"))]
        );
        assert_eq!(parse_sort_param("title").unwrap(), [SortKey::asc(col("title"))]);
        assert_eq!(parse_sort_param("+title").unwrap(), [SortKey::asc(col("title"))]);
        assert_eq!(
            parse_sort_param(" title , -year ").unwrap(),
            [SortKey::asc(col("title")), SortKey::desc(col("year"))]
        );
    }

    #[test]
    fn param_promoted_and_ext() {
        assert_eq!(
            parse_sort_param("-updated_at,ext.profile.rank,id").unwrap(),
            [
                SortKey::desc(FieldRef::Promoted(Promoted::UpdatedAt)),
                SortKey::asc(FieldRef::Ext(vec!["profile".to_owned(), "rank".to_owned()])),
                SortKey::asc(FieldRef::Promoted(Promoted::Id)),
            ]
        );
    }

    #[test]
    fn param_nulls_default_last() {
        for key in parse_sort_param("a,-b").unwrap() {
            assert_eq!(key.nulls, Nulls::Last);
        }
    }

    #[test]
    fn param_empty_segments() {
        for bad in ["", " ", ",", "title,", ",title", "title,,year", "-", "+", "title,-"] {
            let errors = errors(parse_sort_param(bad));
            assert!(!errors.is_empty(), "{bad}");
            assert!(
                errors.iter().all(|e| e.field == "sort" && e.code == ErrorCode::Invalid),
                "{bad}: {errors:?}"
            );
        }
    }

    #[test]
    fn param_bad_names() {
        let e = one_error(parse_sort_param("Title"), "sort");
        assert_eq!(e.code, ErrorCode::Invalid);
        one_error(parse_sort_param("title,--year"), "sort");
        one_error(parse_sort_param("ext.a..b"), "sort");
        one_error(parse_sort_param("values"), "sort");
        assert_eq!(errors(parse_sort_param("A,B")).len(), 2);
    }

    #[test]
    fn param_limits() {
        let eight = (0..MAX_SORT_KEYS).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        assert_eq!(parse_sort_param(&eight).unwrap().len(), MAX_SORT_KEYS);
        let nine = (0..=MAX_SORT_KEYS).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        let e = one_error(parse_sort_param(&nine), "sort");
        assert!(e.message.contains('8'));
        one_error(parse_sort_param(&",".repeat(100_000)), "sort");
    }

    #[test]
    fn param_duplicates() {
        let e = one_error(parse_sort_param("title,-title"), "sort");
        assert!(e.message.contains("title"));
        one_error(parse_sort_param("ext.a,year,ext.a"), "sort");
        // different ext paths and a column named like a segment are different fields
        assert_eq!(parse_sort_param("ext.a,ext.a.b,a").unwrap().len(), 3);
    }

    // ----- JSON -----

    #[test]
    fn json_basic() {
        let keys = parse_sort_json(&json!([
            {"field": "title", "direction": "asc"},
            {"field": "year", "direction": "desc", "nulls": "first"},
            {"field": "code"},
            {"field": "ext.a", "direction": null, "nulls": null},
        ]))
        .unwrap();
        assert_eq!(
            keys,
            [
                SortKey::asc(col("title")),
                SortKey { field: col("year"), direction: Direction::Desc, nulls: Nulls::First },
                SortKey::asc(FieldRef::Promoted(Promoted::Code)),
                SortKey::asc(FieldRef::Ext(vec!["a".to_owned()])),
            ]
        );
    }

    #[test]
    fn json_null_and_empty_mean_no_sort() {
        assert!(parse_sort_json(&json!(null)).unwrap().is_empty());
        assert!(parse_sort_json(&json!([])).unwrap().is_empty());
    }

    #[test]
    fn json_string_elements() {
        assert_eq!(
            parse_sort_json(&json!(["title", "-year"])).unwrap(),
            [SortKey::asc(col("title")), SortKey::desc(col("year"))]
        );
        one_error(parse_sort_json(&json!(["title", ""])), "sort[1]");
    }

    #[test]
    fn json_errors() {
        one_error(parse_sort_json(&json!({"field": "title"})), "sort");
        one_error(parse_sort_json(&json!("title")), "sort");
        one_error(parse_sort_json(&json!([1])), "sort[0]");
        one_error(parse_sort_json(&json!([{"direction": "asc"}])), "sort[0].field");
        one_error(parse_sort_json(&json!([{"field": 1}])), "sort[0].field");
        one_error(parse_sort_json(&json!([{"field": "a"}, {"field": "Bad"}])), "sort[1].field");
        one_error(parse_sort_json(&json!([{"field": "a", "direction": "up"}])), "sort[0].direction");
        one_error(parse_sort_json(&json!([{"field": "a", "direction": "ASC"}])), "sort[0].direction");
        one_error(parse_sort_json(&json!([{"field": "a", "direction": 1}])), "sort[0].direction");
        one_error(parse_sort_json(&json!([{"field": "a", "nulls": "middle"}])), "sort[0].nulls");
        let e = one_error(parse_sort_json(&json!([{"field": "a", "dir": "desc"}])), "sort[0].dir");
        assert_eq!(e.code, ErrorCode::UnknownField);

        let mut obj = serde_json::Map::new();
        obj.insert("field".to_owned(), json!("a"));
        for i in 0..1000 {
            obj.insert(format!("k{i}"), json!(1));
        }
        assert_eq!(errors(parse_sort_json(&Value::Array(vec![Value::Object(obj)]))).len(), MAX_UNKNOWN_KEYS);
    }

    #[test]
    fn json_collects_errors() {
        let errors = errors(parse_sort_json(&json!([
            {"field": "Bad", "direction": "sideways"},
            {"field": "ok"},
            {"x": 1},
        ])));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sort[0].field", "sort[0].direction", "sort[2].x", "sort[2].field"]);
    }

    #[test]
    fn json_limits_and_duplicates() {
        let eight: Vec<Value> = (0..MAX_SORT_KEYS).map(|i| json!({"field": format!("c{i}")})).collect();
        assert_eq!(parse_sort_json(&Value::Array(eight)).unwrap().len(), MAX_SORT_KEYS);
        let nine: Vec<Value> = (0..=MAX_SORT_KEYS).map(|i| json!({"field": format!("c{i}")})).collect();
        one_error(parse_sort_json(&Value::Array(nine)), "sort");

        let e = one_error(
            parse_sort_json(&json!([{"field": "a"}, {"field": "b"}, {"field": "a", "direction": "desc"}])),
            "sort[2].field",
        );
        assert_eq!(e.code, ErrorCode::Invalid);
        // explicit id is allowed
        assert_eq!(parse_sort_json(&json!([{"field": "title"}, {"field": "id"}])).unwrap().len(), 2);
    }

    #[test]
    fn names_and_serde_agree() {
        for d in [Direction::Asc, Direction::Desc] {
            assert_eq!(Direction::from_name(d.name()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), json!(d.name()));
        }
        for n in [Nulls::First, Nulls::Last] {
            assert_eq!(Nulls::from_name(n.name()), Some(n));
            assert_eq!(serde_json::to_value(n).unwrap(), json!(n.name()));
        }
        assert_eq!(Direction::default(), Direction::Asc);
        assert_eq!(Nulls::default(), Nulls::Last);
    }

    #[test]
    fn canonical_text() {
        let keys = parse_sort_param("title,-ext.a.b").unwrap();
        assert_eq!(canonical_sort(&keys), "title asc nulls last,ext.a.b desc nulls last");
        assert_eq!(canonical_sort(&[]), "");
        let first = parse_sort_json(&json!([{"field": "title", "nulls": "first"}])).unwrap();
        assert_ne!(canonical_sort(&first), canonical_sort(&parse_sort_param("title").unwrap()));
    }
}
