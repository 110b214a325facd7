//! The filter grammar of data queries, syntactic layer (`spec/api.md` "Filters", `spec/product.md` §3 "Queries").
//!
//! A filter is one condition `{field, op, value, case_insensitive?}` or a group `{and: [...]}` / `{or: [...]}`
//! (nestable). This module checks the shape of the JSON and the syntax of field names; resolving fields against a
//! table's schema, checking value types and generating SQL happen elsewhere. Every error is a 400
//! ([`Error::BadRequest`]) naming the exact place, e.g. `filter.and[1].or[0].value`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::names::parse_json_path;
use crate::error::{Error, ErrorCode, FieldError};

/// Groups nest at most this deep (the top-level group is level 1).
pub const MAX_FILTER_DEPTH: usize = 8;
/// A filter holds at most this many conditions in total.
pub const MAX_FILTER_CONDITIONS: usize = 200;
/// `in` takes at most this many values.
pub const MAX_IN_VALUES: usize = 1000;
/// Parsing stops after this many errors (a huge malformed filter is not answered with a huge error list).
const MAX_ERRORS: usize = 100;
/// User input echoed in messages is cut to this many characters.
const ECHO_CHARS: usize = 64;

/// The keys a condition may have.
const CONDITION_KEYS: [&str; 4] = ["field", "op", "value", "case_insensitive"];

/// Reserved names that are neither promoted fields nor columns, so never a filter or sort field.
const NOT_A_FIELD: [&str; 2] = ["values", "extended_properties"];

/// A promoted or system field of a row (a column of `table_rows`, addressable by name in filters and sorts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Promoted {
    Id,
    Code,
    DisplayValue,
    SortOrder,
    IsActive,
    ParentRowId,
    Version,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
}

impl Promoted {
    /// Every promoted field, in row-representation order.
    pub const ALL: [Promoted; 11] = [
        Promoted::Id,
        Promoted::Code,
        Promoted::DisplayValue,
        Promoted::SortOrder,
        Promoted::IsActive,
        Promoted::ParentRowId,
        Promoted::Version,
        Promoted::CreatedAt,
        Promoted::CreatedBy,
        Promoted::UpdatedAt,
        Promoted::UpdatedBy,
    ];

    /// The promoted field of that (exact, lower-case) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The field's name in the API (and its column name in `table_rows`).
    pub const fn name(self) -> &'static str {
        match self {
            Promoted::Id => "id",
            Promoted::Code => "code",
            Promoted::DisplayValue => "display_value",
            Promoted::SortOrder => "sort_order",
            Promoted::IsActive => "is_active",
            Promoted::ParentRowId => "parent_row_id",
            Promoted::Version => "version",
            Promoted::CreatedAt => "created_at",
            Promoted::CreatedBy => "created_by",
            Promoted::UpdatedAt => "updated_at",
            Promoted::UpdatedBy => "updated_by",
        }
    }
}

impl fmt::Display for Promoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a filter condition or sort key refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldRef {
    /// A promoted or system field of the row.
    Promoted(Promoted),
    /// A column, by name. Syntactically valid; whether the table has it is checked when resolving.
    Column(String),
    /// A path into `extended_properties` (segments `^[A-Za-z0-9_]+$`, 1..=16 of them).
    Ext(Vec<String>),
}

impl fmt::Display for FieldRef {
    /// The field as written in the API: `id`, `title`, `ext.profile.handle`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Promoted(p) => f.write_str(p.name()),
            FieldRef::Column(name) => f.write_str(name),
            FieldRef::Ext(path) => write!(f, "ext.{}", path.join(".")),
        }
    }
}

/// Parses a field reference: a promoted field name, `ext.<path>`, or a column name (`^[a-z][a-z0-9_]{0,62}$`).
/// `field` is where the reference came from (`filter.and[0].field`, `sort`), for the error.
pub fn parse_field(s: &str, field: &str) -> Result<FieldRef, FieldError> {
    if let Some(promoted) = Promoted::from_name(s) {
        return Ok(FieldRef::Promoted(promoted));
    }
    if let Some(path) = s.strip_prefix("ext.") {
        return parse_json_path(path, field).map(FieldRef::Ext);
    }
    if is_column_syntax(s) && !NOT_A_FIELD.contains(&s) {
        return Ok(FieldRef::Column(s.to_owned()));
    }
    Err(FieldError::new(
        field,
        ErrorCode::Invalid,
        format!("unknown field `{}`: expected a promoted field name, a column name or ext.<path>", echo(s)),
    ))
}

/// `^[a-z][a-z0-9_]{0,62}$`
fn is_column_syntax(s: &str) -> bool {
    let mut chars = s.chars();
    let starts_well = matches!(chars.next(), Some(c) if c.is_ascii_lowercase());
    starts_well && s.len() <= 63 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// User input for a message: at most [`ECHO_CHARS`] characters.
fn echo(s: &str) -> String {
    if s.chars().count() <= ECHO_CHARS {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(ECHO_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    StartsWith,
    IsNull,
    Between,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::In,
        Op::Contains,
        Op::StartsWith,
        Op::IsNull,
        Op::Between,
    ];

    /// The operator of that (exact, snake_case) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The operator's name in the API.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::In => "in",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::IsNull => "is_null",
            Op::Between => "between",
        }
    }

    /// Whether `"case_insensitive": true` is allowed with this operator.
    pub const fn allows_case_insensitive(self) -> bool {
        matches!(self, Op::Eq | Op::Contains | Op::StartsWith)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value side of a condition; its shape follows the operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `eq, ne, lt, le, gt, ge, contains, starts_with`: one scalar (string, number or boolean; a string for
    /// `contains`/`starts_with`).
    One(Value),
    /// `in`: 1..=1000 scalars.
    Many(Vec<Value>),
    /// `between`: `[low, high]`, inclusive; both scalars.
    Range(Value, Value),
    /// `is_null`: `true` (is null) or `false` (is not null).
    IsNull(bool),
}

impl Operand {
    /// The operand as it is written in a filter's `value`.
    pub fn to_json(&self) -> Value {
        match self {
            Operand::One(v) => v.clone(),
            Operand::Many(vs) => Value::Array(vs.clone()),
            Operand::Range(low, high) => Value::Array(vec![low.clone(), high.clone()]),
            Operand::IsNull(b) => Value::Bool(*b),
        }
    }
}

/// One condition `{field, op, value, case_insensitive?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: FieldRef,
    pub op: Op,
    pub operand: Operand,
    /// Only ever true with `eq`, `contains` or `starts_with`, and then the value is a string.
    pub case_insensitive: bool,
}

impl Condition {
    /// The condition in its canonical JSON form (`case_insensitive` only when true).
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("field".to_owned(), Value::String(self.field.to_string()));
        obj.insert("op".to_owned(), Value::String(self.op.name().to_owned()));
        obj.insert("value".to_owned(), self.operand.to_json());
        if self.case_insensitive {
            obj.insert("case_insensitive".to_owned(), Value::Bool(true));
        }
        Value::Object(obj)
    }
}

/// A parsed filter. Groups are never empty.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Condition(Condition),
}

impl Filter {
    /// Every condition, depth first in document order (for resolving fields against the schema).
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Condition>) {
        match self {
            Filter::And(children) | Filter::Or(children) => {
                for child in children {
                    child.collect(out);
                }
            }
            Filter::Condition(condition) => out.push(condition),
        }
    }

    /// Every condition with its place in the request, depth first in document order: with `root` = `"filter"`,
    /// `("filter.and[1].or[0]", condition)`. Append `.field` / `.value` to report a resolution error exactly
    /// where [`parse_filter`] would have.
    pub fn conditions_with_paths(&self, root: &str) -> Vec<(String, &Condition)> {
        let mut out = Vec::new();
        self.collect_with_paths(root.to_owned(), &mut out);
        out
    }

    fn collect_with_paths<'a>(&'a self, path: String, out: &mut Vec<(String, &'a Condition)>) {
        let (key, children) = match self {
            Filter::And(children) => ("and", children),
            Filter::Or(children) => ("or", children),
            Filter::Condition(condition) => {
                out.push((path, condition));
                return;
            }
        };
        for (i, child) in children.iter().enumerate() {
            child.collect_with_paths(format!("{path}.{key}[{i}]"), out);
        }
    }

    /// The filter in its canonical JSON form (parses back to an equal filter; stable, so it can be hashed).
    pub fn to_json(&self) -> Value {
        let (key, children) = match self {
            Filter::And(children) => ("and", children),
            Filter::Or(children) => ("or", children),
            Filter::Condition(condition) => return condition.to_json(),
        };
        let mut obj = Map::new();
        obj.insert(key.to_owned(), Value::Array(children.iter().map(Filter::to_json).collect()));
        Value::Object(obj)
    }
}

/// Parses the `filter` of a query body (or the decoded `?filter=` parameter). All problems found are reported
/// together (up to a cap), each at its place (`filter.and[1].or[0].value`).
pub fn parse_filter(json: &Value) -> Result<Filter, Error> {
    let mut parser = Parser::default();
    let filter = parser.node(json, "filter", 1);
    match filter {
        Some(filter) if parser.errors.is_empty() => Ok(filter),
        _ if parser.errors.is_empty() => {
            Err(Error::bad_request("filter", ErrorCode::Invalid, "invalid filter"))
        }
        _ => Err(Error::BadRequest(parser.errors)),
    }
}

/// Parses the `?filter=` query parameter: URL-decoded JSON text.
pub fn parse_filter_param(s: &str) -> Result<Filter, Error> {
    let json: Value = serde_json::from_str(s).map_err(|e| {
        Error::bad_request("filter", ErrorCode::Invalid, format!("filter is not valid JSON: {e}"))
    })?;
    parse_filter(&json)
}

#[derive(Default)]
struct Parser {
    errors: Vec<FieldError>,
    conditions: usize,
    /// Set when parsing must stop (too many conditions or errors).
    stop: bool,
}

impl Parser {
    fn push(&mut self, error: FieldError) {
        self.errors.push(error);
        if self.errors.len() >= MAX_ERRORS {
            self.stop = true;
        }
    }

    fn invalid(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(FieldError::new(field, ErrorCode::Invalid, message));
    }

    /// A node at `path`; `depth` is the nesting level it would have as a group (the top level is 1).
    fn node(&mut self, json: &Value, path: &str, depth: usize) -> Option<Filter> {
        if self.stop {
            return None;
        }
        let group = json.as_object().and_then(|obj| match (obj.get("and"), obj.get("or")) {
            (Some(_), Some(_)) => Some((obj, None)),
            (Some(items), None) => Some((obj, Some(("and", items)))),
            (None, Some(items)) => Some((obj, Some(("or", items)))),
            (None, None) => None,
        });
        match group {
            Some((_, None)) => {
                self.invalid(path, "a group has exactly one key, `and` or `or`");
                None
            }
            Some((obj, Some((key, items)))) => self.group(obj, key, items, path, depth),
            None => self.condition(json, path).map(Filter::Condition),
        }
    }

    fn group(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        items: &Value,
        path: &str,
        depth: usize,
    ) -> Option<Filter> {
        let mut ok = true;
        for other in obj.keys().filter(|k| k.as_str() != key) {
            if self.stop {
                return None;
            }
            self.push(FieldError::new(
                format!("{path}.{}", echo(other)),
                ErrorCode::UnknownField,
                format!("unknown key `{}`: a group has exactly one key, `and` or `or`", echo(other)),
            ));
            ok = false;
        }
        if depth > MAX_FILTER_DEPTH {
            self.invalid(path, format!("filter groups nest at most {MAX_FILTER_DEPTH} levels deep"));
            return None;
        }
        let items_path = format!("{path}.{key}");
        let Some(items) = items.as_array() else {
            self.invalid(items_path, "expected an array of conditions or groups");
            return None;
        };
        if items.is_empty() {
            self.invalid(items_path, "a group needs at least one condition or group");
            return None;
        }
        let mut children = Vec::with_capacity(items.len().min(MAX_FILTER_CONDITIONS));
        for (i, item) in items.iter().enumerate() {
            match self.node(item, &format!("{items_path}[{i}]"), depth + 1) {
                Some(child) => children.push(child),
                None => ok = false,
            }
            if self.stop {
                return None;
            }
        }
        if !ok {
            return None;
        }
        Some(if key == "and" { Filter::And(children) } else { Filter::Or(children) })
    }

    fn condition(&mut self, json: &Value, path: &str) -> Option<Condition> {
        self.conditions += 1;
        if self.conditions > MAX_FILTER_CONDITIONS {
            self.invalid("filter", format!("a filter has at most {MAX_FILTER_CONDITIONS} conditions"));
            self.stop = true;
            return None;
        }
        let Some(obj) = json.as_object() else {
            self.invalid(
                path,
                "expected a condition {field, op, value} or a group {and: [...]} / {or: [...]}",
            );
            return None;
        };
        let errors_before = self.errors.len();

        for key in obj.keys() {
            if self.stop {
                return None;
            }
            if !CONDITION_KEYS.contains(&key.as_str()) {
                self.push(FieldError::new(
                    format!("{path}.{}", echo(key)),
                    ErrorCode::UnknownField,
                    format!(
                        "unknown key `{}`: a condition has field, op, value and case_insensitive",
                        echo(key)
                    ),
                ));
            }
        }

        let field_path = format!("{path}.field");
        let field = match obj.get("field") {
            None | Some(Value::Null) => {
                self.invalid(field_path, "field is required");
                None
            }
            Some(Value::String(s)) => match parse_field(s, &field_path) {
                Ok(field) => Some(field),
                Err(e) => {
                    self.push(e);
                    None
                }
            },
            Some(_) => {
                self.invalid(field_path, "field must be a string");
                None
            }
        };

        let op_path = format!("{path}.op");
        let op = match obj.get("op") {
            None | Some(Value::Null) => {
                self.invalid(op_path, "op is required");
                None
            }
            Some(Value::String(s)) => match Op::from_name(s) {
                Some(op) => Some(op),
                None => {
                    let known: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
                    self.invalid(
                        op_path,
                        format!("unknown operator `{}`: expected one of {}", echo(s), known.join(", ")),
                    );
                    None
                }
            },
            Some(_) => {
                self.invalid(op_path, "op must be a string");
                None
            }
        };

        let case_path = format!("{path}.case_insensitive");
        let case_insensitive = match obj.get("case_insensitive") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.invalid(case_path.clone(), "case_insensitive must be a boolean");
                false
            }
        };

        let value_path = format!("{path}.value");
        let operand = op.and_then(|op| self.operand(op, obj.get("value"), &value_path));

        if case_insensitive {
            match (op, &operand) {
                (Some(op), _) if !op.allows_case_insensitive() => self.invalid(
                    case_path,
                    format!("case_insensitive applies only to eq, contains and starts_with, not to {op}"),
                ),
                (Some(_), Some(Operand::One(value))) if !value.is_string() => {
                    self.invalid(value_path, "a case-insensitive comparison needs a string value")
                }
                _ => {}
            }
        }

        if self.errors.len() > errors_before {
            return None;
        }
        Some(Condition { field: field?, op: op?, operand: operand?, case_insensitive })
    }

    fn operand(&mut self, op: Op, value: Option<&Value>, path: &str) -> Option<Operand> {
        let Some(value) = value else {
            self.invalid(path, "value is required");
            return None;
        };
        match op {
            Op::IsNull => match value {
                Value::Bool(b) => Some(Operand::IsNull(*b)),
                _ => {
                    self.invalid(path, "is_null takes true (is null) or false (is not null)");
                    None
                }
            },
            Op::In => {
                let Some(items) = value.as_array() else {
                    self.invalid(path, "in takes an array of values");
                    return None;
                };
                if items.is_empty() {
                    self.invalid(path, "in takes at least one value");
                    return None;
                }
                if items.len() > MAX_IN_VALUES {
                    self.invalid(path, format!("in takes at most {MAX_IN_VALUES} values"));
                    return None;
                }
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    if let Err(message) = check_scalar(item) {
                        self.invalid(format!("{path}[{i}]"), message);
                        ok = false;
                        if self.stop {
                            break;
                        }
                    }
                }
                ok.then(|| Operand::Many(items.clone()))
            }
            Op::Between => match value.as_array().map(Vec::as_slice) {
                Some([low, high]) => {
                    let mut ok = true;
                    for (i, bound) in [low, high].into_iter().enumerate() {
                        if let Err(message) = check_scalar(bound) {
                            self.invalid(format!("{path}[{i}]"), message);
                            ok = false;
                        }
                    }
                    ok.then(|| Operand::Range(low.clone(), high.clone()))
                }
                _ => {
                    self.invalid(path, "between takes a two-element array [low, high]");
                    None
                }
            },
            Op::Contains | Op::StartsWith => match value {
                Value::String(_) => Some(Operand::One(value.clone())),
                _ => {
                    self.invalid(path, format!("{op} takes a string"));
                    None
                }
            },
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => match check_scalar(value) {
                Ok(()) => Some(Operand::One(value.clone())),
                Err(message) => {
                    self.invalid(path, message);
                    None
                }
            },
        }
    }
}

/// A comparable value: a string, number or boolean.
fn check_scalar(value: &Value) -> Result<(), &'static str> {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
        Value::Null => Err("null is not a comparable value: use op is_null"),
        Value::Array(_) | Value::Object(_) => Err("expected a string, number or boolean"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(result: Result<Filter, Error>) -> Vec<FieldError> {
        match result {
            Err(Error::BadRequest(errors)) => errors,
            other => panic!("expected BadRequest, got {other:?}"),
        }
    }

    fn one_error(json: Value) -> FieldError {
        let errors = errors(parse_filter(&json));
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    fn assert_error(json: Value, field: &str, code: ErrorCode) -> FieldError {
        let error = one_error(json);
        assert_eq!(error.field, field, "{error:?}");
        assert_eq!(error.code, code, "{error:?}");
        error
    }

    fn cond(field: FieldRef, op: Op, operand: Operand) -> Filter {
        Filter::Condition(Condition { field, op, operand, case_insensitive: false })
    }

    fn col(name: &str) -> FieldRef {
        FieldRef::Column(name.to_owned())
    }

    // ----- fields -----

    #[test]
    fn promoted_names_round_trip() {
        for p in Promoted::ALL {
            assert_eq!(Promoted::from_name(p.name()), Some(p));
            assert_eq!(parse_field(p.name(), "f").unwrap(), FieldRef::Promoted(p));
        }
        assert_eq!(Promoted::from_name("Id"), None);
        assert_eq!(Promoted::from_name("values"), None);
        assert_eq!(Promoted::DisplayValue.to_string(), "display_value");
    }

    #[test]
    fn parses_columns() {
        assert_eq!(parse_field("title", "f").unwrap(), col("title"));
        assert_eq!(parse_field("a", "f").unwrap(), col("a"));
        assert_eq!(parse_field("album_id2", "f").unwrap(), col("album_id2"));
        assert_eq!(parse_field("year", "f").unwrap(), col("year"));
        assert_eq!(parse_field("ext", "f").unwrap(), col("ext"));
        let longest = format!("a{}", "b".repeat(62));
        assert_eq!(parse_field(&longest, "f").unwrap(), col(&longest));
    }

    #[test]
    fn rejects_bad_field_names() {
        let too_long = format!("a{}", "b".repeat(63));
        let bad_names = [
            "",
            "Title",
            "9lives",
            "_x",
            "a-b",
            "a b",
            "a.b",
            "ünicode",
            "values",
            "extended_properties",
            too_long.as_str(),
        ];
        for bad in bad_names {
            let e = parse_field(bad, "filter.field").unwrap_err();
            assert_eq!(e.field, "filter.field", "{bad}");
            assert_eq!(e.code, ErrorCode::Invalid, "{bad}");
            assert!(e.message.contains("unknown field"), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn echoes_at_most_64_chars() {
        let long = "X".repeat(1000);
        let e = parse_field(&long, "f").unwrap_err();
        assert!(e.message.len() < 200, "{}", e.message);
    }

    #[test]
    fn parses_ext_paths() {
        assert_eq!(parse_field("ext.a", "f").unwrap(), FieldRef::Ext(vec!["a".to_owned()]));
        assert_eq!(
            parse_field("ext.profile.Handle_2", "f").unwrap(),
            FieldRef::Ext(vec!["profile".to_owned(), "Handle_2".to_owned()])
        );
        assert_eq!(parse_field("ext.profile.handle", "f").unwrap().to_string(), "ext.profile.handle");
        for bad in ["ext.", "ext.a..b", "ext.a-b", "ext.a.", "ext.$x"] {
            let e = parse_field(bad, "filter.field").unwrap_err();
            assert_eq!(e.field, "filter.field", "{bad}");
        }
    }

    // ----- conditions -----

    #[test]
    fn parses_a_single_condition() {
        let f = parse_filter(&json!({"field": "artist_id", "op": "eq", "value": 1})).unwrap();
        assert_eq!(f, cond(col("artist_id"), Op::Eq, Operand::One(json!(1))));
    }

    #[test]
    fn parses_every_operator() {
        let cases = [
            (json!({"field": "a", "op": "eq", "value": "x"}), Op::Eq, Operand::One(json!("x"))),
            (json!({"field": "a", "op": "ne", "value": true}), Op::Ne, Operand::One(json!(true))),
            (json!({"field": "a", "op": "lt", "value": 1.5}), Op::Lt, Operand::One(json!(1.5))),
            (json!({"field": "a", "op": "le", "value": -3}), Op::Le, Operand::One(json!(-3))),
            (
                json!({"field": "a", "op": "gt", "value": "2024-01-01"}),
                Op::Gt,
                Operand::One(json!("2024-01-01")),
            ),
            (json!({"field": "a", "op": "ge", "value": "12.50"}), Op::Ge, Operand::One(json!("12.50"))),
            (
                json!({"field": "a", "op": "in", "value": [1, "2", false]}),
                Op::In,
                Operand::Many(vec![json!(1), json!("2"), json!(false)]),
            ),
            (
                json!({"field": "a", "op": "contains", "value": "50%_off"}),
                Op::Contains,
                Operand::One(json!("50%_off")),
            ),
            (
                json!({"field": "a", "op": "starts_with", "value": ""}),
                Op::StartsWith,
                Operand::One(json!("")),
            ),
            (json!({"field": "a", "op": "is_null", "value": true}), Op::IsNull, Operand::IsNull(true)),
            (json!({"field": "a", "op": "is_null", "value": false}), Op::IsNull, Operand::IsNull(false)),
            (
                json!({"field": "a", "op": "between", "value": [1, 10]}),
                Op::Between,
                Operand::Range(json!(1), json!(10)),
            ),
        ];
        for (json, op, operand) in cases {
            assert_eq!(parse_filter(&json).unwrap(), cond(col("a"), op, operand), "{json}");
        }
    }

    #[test]
    fn op_names_round_trip_and_match_serde() {
        for op in Op::ALL {
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert_eq!(serde_json::to_value(op).unwrap(), json!(op.name()));
            assert_eq!(serde_json::from_value::<Op>(json!(op.name())).unwrap(), op);
        }
        assert_eq!(Op::from_name("EQ"), None);
    }

    #[test]
    fn promoted_and_ext_fields_in_conditions() {
        let f = parse_filter(&json!({"and": [
            {"field": "is_active", "op": "eq", "value": true},
            {"field": "ext.profile.city", "op": "eq", "value": "Oslo"},
        ]}))
        .unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                cond(FieldRef::Promoted(Promoted::IsActive), Op::Eq, Operand::One(json!(true))),
                cond(
                    FieldRef::Ext(vec!["profile".to_owned(), "city".to_owned()]),
                    Op::Eq,
                    Operand::One(json!("Oslo"))
                ),
            ])
        );
    }

    #[test]
    fn unknown_key_in_condition() {
        let e = assert_error(
            json!({"and": [{"field": "a", "op": "eq", "value": 1, "vaule": 2}]}),
            "filter.and[0].vaule",
            ErrorCode::UnknownField,
        );
        assert!(e.message.contains("vaule"));
    }

    #[test]
    fn missing_field_or_op() {
        assert_error(json!({"op": "eq", "value": 1}), "filter.field", ErrorCode::Invalid);
        assert_error(json!({"field": null, "op": "eq", "value": 1}), "filter.field", ErrorCode::Invalid);
        assert_error(json!({"field": 3, "op": "eq", "value": 1}), "filter.field", ErrorCode::Invalid);
        assert_error(json!({"field": "a", "value": 1}), "filter.op", ErrorCode::Invalid);
        assert_error(json!({"field": "a", "op": 1, "value": 1}), "filter.op", ErrorCode::Invalid);
        assert_error(json!({"field": "a", "op": "eq"}), "filter.value", ErrorCode::Invalid);
        assert_error(json!({"field": "a", "op": "is_null"}), "filter.value", ErrorCode::Invalid);
    }

    #[test]
    fn reports_all_problems_of_a_condition() {
        let errors = errors(parse_filter(&json!({"x": 1})));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["filter.x", "filter.field", "filter.op"]);
        assert_eq!(errors.first().unwrap().code, ErrorCode::UnknownField);
    }

    #[test]
    fn unknown_operator() {
        let e =
            assert_error(json!({"field": "a", "op": "like", "value": "x"}), "filter.op", ErrorCode::Invalid);
        assert!(e.message.contains("like"));
        assert!(e.message.contains("starts_with"));
    }

    #[test]
    fn unknown_field_name_in_condition() {
        assert_error(
            json!({"field": "Bad Name", "op": "eq", "value": 1}),
            "filter.field",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"or": [{"field": "a", "op": "eq", "value": 1}, {"field": "ext.a..b", "op": "eq", "value": 1}]}),
            "filter.or[1].field",
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn in_needs_a_non_empty_array_of_scalars() {
        assert_error(json!({"field": "a", "op": "in", "value": 1}), "filter.value", ErrorCode::Invalid);
        assert_error(json!({"field": "a", "op": "in", "value": []}), "filter.value", ErrorCode::Invalid);
        assert_error(
            json!({"field": "a", "op": "in", "value": [1, null]}),
            "filter.value[1]",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "in", "value": [[1]]}),
            "filter.value[0]",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "in", "value": [{"a": 1}]}),
            "filter.value[0]",
            ErrorCode::Invalid,
        );
        let many: Vec<i64> = (0..1000).collect();
        assert!(parse_filter(&json!({"field": "a", "op": "in", "value": many})).is_ok());
        let too_many: Vec<i64> = (0..1001).collect();
        let e = assert_error(
            json!({"field": "a", "op": "in", "value": too_many}),
            "filter.value",
            ErrorCode::Invalid,
        );
        assert!(e.message.contains("1000"));
    }

    #[test]
    fn between_needs_two_scalars() {
        assert_error(
            json!({"field": "a", "op": "between", "value": [1]}),
            "filter.value",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "between", "value": [1, 2, 3]}),
            "filter.value",
            ErrorCode::Invalid,
        );
        assert_error(json!({"field": "a", "op": "between", "value": 1}), "filter.value", ErrorCode::Invalid);
        assert_error(
            json!({"field": "a", "op": "between", "value": {"low": 1}}),
            "filter.value",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "between", "value": [1, null]}),
            "filter.value[1]",
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn is_null_needs_a_boolean() {
        assert_error(
            json!({"field": "a", "op": "is_null", "value": "yes"}),
            "filter.value",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "is_null", "value": null}),
            "filter.value",
            ErrorCode::Invalid,
        );
        assert_error(json!({"field": "a", "op": "is_null", "value": 1}), "filter.value", ErrorCode::Invalid);
    }

    #[test]
    fn comparisons_need_a_scalar() {
        for op in ["eq", "ne", "lt", "le", "gt", "ge"] {
            let e = assert_error(
                json!({"field": "a", "op": op, "value": null}),
                "filter.value",
                ErrorCode::Invalid,
            );
            assert!(e.message.contains("is_null"), "{}", e.message);
            assert_error(json!({"field": "a", "op": op, "value": [1]}), "filter.value", ErrorCode::Invalid);
            assert_error(json!({"field": "a", "op": op, "value": {}}), "filter.value", ErrorCode::Invalid);
        }
    }

    #[test]
    fn contains_and_starts_with_need_a_string() {
        for op in ["contains", "starts_with"] {
            assert_error(json!({"field": "a", "op": op, "value": 1}), "filter.value", ErrorCode::Invalid);
            assert_error(json!({"field": "a", "op": op, "value": null}), "filter.value", ErrorCode::Invalid);
            assert_error(json!({"field": "a", "op": op, "value": true}), "filter.value", ErrorCode::Invalid);
        }
    }

    #[test]
    fn case_insensitive() {
        for op in [Op::Eq, Op::Contains, Op::StartsWith] {
            let f =
                parse_filter(&json!({"field": "a", "op": op.name(), "value": "X", "case_insensitive": true}))
                    .unwrap();
            assert_eq!(
                f,
                Filter::Condition(Condition {
                    field: col("a"),
                    op,
                    operand: Operand::One(json!("X")),
                    case_insensitive: true
                })
            );
        }
        // false and null are the default, allowed with any operator
        let f =
            parse_filter(&json!({"field": "a", "op": "lt", "value": 1, "case_insensitive": false})).unwrap();
        assert_eq!(f, cond(col("a"), Op::Lt, Operand::One(json!(1))));
        let f =
            parse_filter(&json!({"field": "a", "op": "eq", "value": 1, "case_insensitive": null})).unwrap();
        assert_eq!(f, cond(col("a"), Op::Eq, Operand::One(json!(1))));

        for op in ["ne", "lt", "le", "gt", "ge"] {
            assert_error(
                json!({"field": "a", "op": op, "value": "x", "case_insensitive": true}),
                "filter.case_insensitive",
                ErrorCode::Invalid,
            );
        }
        assert_error(
            json!({"field": "a", "op": "in", "value": ["x"], "case_insensitive": true}),
            "filter.case_insensitive",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "eq", "value": "x", "case_insensitive": "yes"}),
            "filter.case_insensitive",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"field": "a", "op": "eq", "value": 5, "case_insensitive": true}),
            "filter.value",
            ErrorCode::Invalid,
        );
    }

    // ----- groups -----

    #[test]
    fn nested_groups() {
        let f = parse_filter(&json!({"and": [
            {"field": "a", "op": "eq", "value": 1},
            {"or": [
                {"field": "b", "op": "gt", "value": 2},
                {"field": "c", "op": "is_null", "value": true},
            ]},
        ]}))
        .unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                cond(col("a"), Op::Eq, Operand::One(json!(1))),
                Filter::Or(vec![
                    cond(col("b"), Op::Gt, Operand::One(json!(2))),
                    cond(col("c"), Op::IsNull, Operand::IsNull(true)),
                ]),
            ])
        );
    }

    #[test]
    fn error_paths_in_nested_groups() {
        assert_error(
            json!({"and": [
                {"field": "a", "op": "eq", "value": 1},
                {"or": [{"field": "b", "op": "eq", "value": null}]},
            ]}),
            "filter.and[1].or[0].value",
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn collects_errors_from_several_conditions() {
        let errors = errors(parse_filter(&json!({"and": [
            {"field": "a", "op": "eq", "value": null},
            {"field": "b", "op": "eq", "value": 1},
            {"field": "c", "op": "nope", "value": 1},
        ]})));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["filter.and[0].value", "filter.and[2].op"]);
    }

    #[test]
    fn group_shape_errors() {
        assert_error(json!({"and": []}), "filter.and", ErrorCode::Invalid);
        assert_error(json!({"or": []}), "filter.or", ErrorCode::Invalid);
        assert_error(json!({"and": {"field": "a"}}), "filter.and", ErrorCode::Invalid);
        assert_error(
            json!({"and": [{"field": "a", "op": "eq", "value": 1}], "or": []}),
            "filter",
            ErrorCode::Invalid,
        );
        assert_error(
            json!({"and": [{"field": "a", "op": "eq", "value": 1}], "field": "b"}),
            "filter.field",
            ErrorCode::UnknownField,
        );
        assert_error(json!({"and": [1]}), "filter.and[0]", ErrorCode::Invalid);
        assert_error(json!({"and": [[]]}), "filter.and[0]", ErrorCode::Invalid);
        assert_error(json!({"and": [{"or": []}]}), "filter.and[0].or", ErrorCode::Invalid);
    }

    #[test]
    fn top_level_must_be_an_object() {
        for bad in [json!(null), json!([]), json!("a = 1"), json!(1), json!({})] {
            let errors = errors(parse_filter(&bad));
            assert!(errors.iter().all(|e| e.field.starts_with("filter")), "{errors:?}");
            assert!(!errors.is_empty());
        }
        assert_error(json!([{"field": "a", "op": "eq", "value": 1}]), "filter", ErrorCode::Invalid);
    }

    fn nested(levels: usize) -> Value {
        let mut v = json!({"field": "title", "op": "eq", "value": "x"});
        for _ in 0..levels {
            v = json!({"and": [v]});
        }
        v
    }

    #[test]
    fn depth_limit() {
        assert!(parse_filter(&nested(MAX_FILTER_DEPTH)).is_ok());
        let path = format!("filter{}", ".and[0]".repeat(MAX_FILTER_DEPTH));
        let e = assert_error(nested(MAX_FILTER_DEPTH + 1), &path, ErrorCode::Invalid);
        assert!(e.message.contains('8'));
        // far too deep still answers with one error
        assert_eq!(errors(parse_filter(&nested(100))).len(), 1);
    }

    fn conditions_json(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"field": "a", "op": "eq", "value": i})).collect()
    }

    #[test]
    fn condition_count_limit() {
        let f = parse_filter(&json!({"or": conditions_json(MAX_FILTER_CONDITIONS)})).unwrap();
        assert_eq!(f.conditions().len(), MAX_FILTER_CONDITIONS);

        let e = assert_error(
            json!({"or": conditions_json(MAX_FILTER_CONDITIONS + 1)}),
            "filter",
            ErrorCode::Invalid,
        );
        assert!(e.message.contains("200"));

        // counted across groups
        let half = MAX_FILTER_CONDITIONS / 2 + 1;
        assert_error(
            json!({"and": [{"or": conditions_json(half)}, {"or": conditions_json(half)}]}),
            "filter",
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn error_list_is_capped() {
        let groups: Vec<Value> = (0..5000).map(|_| json!({"and": []})).collect();
        let found = errors(parse_filter(&json!({"or": groups})));
        assert!(found.len() <= MAX_ERRORS, "{}", found.len());

        let junk: Vec<Value> = (0..5000).map(|_| json!(1)).collect();
        let found = errors(parse_filter(&json!({"or": junk})));
        assert!(found.len() <= MAX_FILTER_CONDITIONS + 1, "{}", found.len());

        let mut obj = Map::new();
        for i in 0..5000 {
            obj.insert(format!("k{i}"), json!(1));
        }
        let found = errors(parse_filter(&Value::Object(obj)));
        assert!(found.len() <= MAX_ERRORS, "{}", found.len());
    }

    // ----- query parameter -----

    #[test]
    fn filter_param() {
        let f = parse_filter_param(r#"{"field":"title","op":"starts_with","value":"Let"}"#).unwrap();
        assert_eq!(f, cond(col("title"), Op::StartsWith, Operand::One(json!("Let"))));

        for bad in ["", "{", "title eq 1", r#"{"field":"a",}"#] {
            let e = match parse_filter_param(bad) {
                Err(Error::BadRequest(errors)) => errors,
                other => panic!("{bad}: {other:?}"),
            };
            assert_eq!(e.len(), 1);
            assert_eq!(e.first().unwrap().field, "filter");
            assert_eq!(e.first().unwrap().code, ErrorCode::Invalid);
        }

        let e = match parse_filter_param(r#"{"field":"a","op":"eq"}"#) {
            Err(Error::BadRequest(errors)) => errors,
            other => panic!("{other:?}"),
        };
        assert_eq!(e.first().unwrap().field, "filter.value");
    }

    // ----- helpers on the parsed filter -----

    #[test]
    fn conditions_flatten_in_document_order() {
        let f = parse_filter(&json!({"or": [
            {"and": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
            {"field": "c", "op": "eq", "value": 3},
        ]}))
        .unwrap();
        let names: Vec<String> = f.conditions().iter().map(|c| c.field.to_string()).collect();
        assert_eq!(names, ["a", "b", "c"]);

        let single = parse_filter(&json!({"field": "id", "op": "is_null", "value": false})).unwrap();
        assert_eq!(single.conditions().len(), 1);
    }

    #[test]
    fn conditions_with_paths_match_error_paths() {
        let f = parse_filter(&json!({"or": [
            {"and": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
            {"field": "c", "op": "eq", "value": 3},
        ]}))
        .unwrap();
        let paths: Vec<(String, String)> =
            f.conditions_with_paths("filter").into_iter().map(|(p, c)| (p, c.field.to_string())).collect();
        assert_eq!(
            paths,
            [
                ("filter.or[0].and[0]".to_owned(), "a".to_owned()),
                ("filter.or[0].and[1]".to_owned(), "b".to_owned()),
                ("filter.or[1]".to_owned(), "c".to_owned()),
            ]
        );
        let single = parse_filter(&json!({"field": "a", "op": "eq", "value": 1})).unwrap();
        let paths = single.conditions_with_paths("filter");
        assert_eq!(paths.first().unwrap().0, "filter");
    }

    #[test]
    fn to_json_round_trips() {
        let source = json!({"and": [
            {"field": "a", "op": "eq", "value": "x", "case_insensitive": true},
            {"or": [
                {"field": "ext.p.q", "op": "in", "value": [1, 2]},
                {"field": "created_at", "op": "between", "value": ["2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]},
                {"field": "parent_row_id", "op": "is_null", "value": true},
                {"field": "b", "op": "lt", "value": 3, "case_insensitive": false},
            ]},
        ]});
        let f = parse_filter(&source).unwrap();
        let canonical = f.to_json();
        assert_eq!(parse_filter(&canonical).unwrap(), f);
        // canonical form drops a false case_insensitive and is stable
        assert_eq!(canonical.to_string(), parse_filter(&canonical).unwrap().to_json().to_string());
        assert!(!canonical.to_string().contains("false"));
    }
}
