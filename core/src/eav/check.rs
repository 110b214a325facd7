//! CHECK constraints (`spec/product.md` §4): a boolean expression in SQL expression syntax over the columns of a
//! row, parsed once when the constraint is declared ([`parse_check`]) and evaluated in Rust for every written row
//! ([`CheckExpr::evaluate`], [`CheckExpr::passes`]). Pure: no database, no async. The expression text is never
//! concatenated into SQL.
//!
//! # Language
//!
//! - Literals: integers (`42`; beyond the `Int` range they are decimals, like PostgreSQL's `numeric`), decimals
//!   (`1.50`, `.5`, `1e3`), strings (`'it''s'`), `TRUE`, `FALSE`, `NULL`, `DATE 'YYYY-MM-DD'`.
//! - Column names: `^[a-z][a-z0-9_]{0,62}$`; unquoted names are lowercased, SQL keywords may be double-quoted
//!   (`"year"`). An unknown column is a declaration error.
//! - Operators: `=`, `<>`, `!=`, `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `/`, `%`, unary `-` / `+`, `||`, `AND`, `OR`,
//!   `NOT`, `[NOT] IN (…)`, `[NOT] BETWEEN … AND …`, `[NOT] LIKE … [ESCAPE …]`, `IS [NOT] NULL`,
//!   `IS [NOT] TRUE|FALSE|UNKNOWN`, `IS [NOT] DISTINCT FROM`, parentheses.
//! - Functions: `length(s)`, `lower(s)`, `upper(s)`, `abs(n)`, `coalesce(a, b, …)`, `regexp_like(value, pattern)`
//!   (Rust `regex` syntax, unanchored; flags inline, e.g. `(?i)`).
//!
//! Anything else (subqueries, casts, `CASE`, other functions and operators, parameters) is a declaration error
//! naming the construct. Syntax errors carry the position (`at Line: 1, Column: 7`).
//!
//! # Semantics (PostgreSQL's, with strings compared under `COLLATE "C"`)
//!
//! - Three-valued logic: comparisons and arithmetic with NULL give NULL; `AND` / `OR` / `NOT` are Kleene logic and
//!   short-circuit left to right (`FALSE AND x` and `TRUE OR x` do not evaluate `x`); `x IN (a, NULL)` is TRUE on a
//!   match, else NULL; `x BETWEEN a AND b` is `x >= a AND x <= b`; `coalesce` returns its first non-NULL argument
//!   and evaluates no further.
//! - Numbers: `Int` with `Int` stays `Int` with checked arithmetic (overflow: "integer out of range"); division
//!   truncates toward zero; `/` or `%` by zero: "division by zero". With a `Decimal` operand the operation is
//!   decimal (overflow: "numeric out of range"); a decimal quotient is rounded to PostgreSQL's result scale (at
//!   least 16 significant digits, and at most 28 decimal places). `Int` and `Decimal` compare numerically.
//! - Strings compare by code point; `length` counts characters; `lower` / `upper` are Unicode; `||` with NULL is
//!   NULL and turns a non-text operand into its text form.
//! - `LIKE`: `%` any sequence, `_` one character, case-sensitive, default escape `\`, `ESCAPE ''` disables it; a
//!   pattern ending with the escape character is an error (at declaration when the pattern is a literal), whatever
//!   the value — PostgreSQL reports it only when matching reaches the end of the pattern.
//! - A `Date` / `DateTime` compared with a string literal reads the literal as `YYYY-MM-DD` (or RFC 3339 for
//!   `DateTime`); an unreadable literal is a declaration error. A `Date` compares with a `DateTime` as midnight UTC.
//! - Type mismatches (`'abc' + 1`, a string compared with a number, a non-boolean expression) are declaration errors;
//!   the same mistakes on values of an unexpected type at run time are [`CheckError::Type`].
//!
//! A row passes the constraint unless the expression is FALSE: NULL passes.
//!
//! # Limits
//!
//! At most [`MAX_SOURCE_CHARS`] characters and [`MAX_DEPTH`] levels of nesting (the SQL parser's own recursion
//! limit is lower for parenthesised nesting). Regular expressions compile with a 1 MiB size limit. Parsing runs on
//! a short-lived thread with a large stack, so hostile input can neither overflow the caller's stack nor, should the
//! parser library panic, bring the caller down.

use std::cmp::Ordering;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use regex::{Regex, RegexBuilder};
use rust_decimal::Decimal;
use sqlparser::ast::{
    BinaryOperator, DataType as SqlDataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, ObjectNamePart, UnaryOperator, Value as SqlValue, ValueWithSpan,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use super::rules::REGEX_SIZE_LIMIT;
use super::types::{format_date, parse_date, parse_decimal, parse_timestamp, quote, DataType, Value};
use crate::error::{ErrorCode, FieldError};

/// The request field declaration errors name.
pub const CHECK_FIELD: &str = "check_expression";
/// Longest accepted expression, in characters.
pub const MAX_SOURCE_CHARS: usize = 4096;
/// Deepest accepted nesting of sub-expressions (each operator, function call and parenthesis is a level).
pub const MAX_DEPTH: usize = 64;

/// Stack of the thread the SQL parser runs on (reserved address space; only touched pages are used).
const PARSER_STACK_BYTES: usize = 32 << 20;
/// How many regular expressions compiled at run time (patterns that are not literals) one expression keeps.
const REGEX_CACHE_SIZE: usize = 16;
/// Messages echoing the parser's view of the input are cut beyond this many characters.
const MAX_MESSAGE_CHARS: usize = 300;

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

/// A parsed, type-checked CHECK expression, ready to evaluate against rows. Cheap to share (`Send + Sync`);
/// cloning gives an independent copy (with an empty regex cache).
#[derive(Clone)]
pub struct CheckExpr {
    source: String,
    columns: Vec<String>,
    root: Node,
    regexes: RegexCache,
}

/// A runtime error evaluating a CHECK expression; the write is rejected (422). Messages read like PostgreSQL's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// `/` or `%` by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// An arithmetic result out of range: "integer out of range" or "numeric out of range".
    #[error("{0}")]
    Overflow(String),
    /// A value of an unexpected type (the row does not match the declared column types), a non-boolean result,
    /// or an invalid `LIKE` pattern / escape.
    #[error("{0}")]
    Type(String),
    /// A `regexp_like` pattern that does not compile.
    #[error("{0}")]
    Regex(String),
}

/// Parses and type-checks a CHECK expression.
///
/// `column_type` gives the data type of a column of the table, `None` for an unknown column. Every error names
/// the field [`CHECK_FIELD`] with code [`ErrorCode::Check`]; syntax errors include the position
/// (`syntax error: Expected: an expression, found: ) at Line: 1, Column: 7`).
pub fn parse_check(
    source: &str,
    column_type: &dyn Fn(&str) -> Option<DataType>,
) -> Result<CheckExpr, FieldError> {
    let error = |message: String| FieldError::new(CHECK_FIELD, ErrorCode::Check, message);
    if source.chars().count() > MAX_SOURCE_CHARS {
        return Err(error(format!(
            "the CHECK expression is too long (at most {MAX_SOURCE_CHARS} characters)"
        )));
    }
    if source.trim().is_empty() {
        return Err(error("the CHECK expression is empty".to_owned()));
    }
    let mut root = parse_syntax_isolated(source).map_err(error)?;
    let mut checker = Checker { column_type, columns: BTreeSet::new() };
    let ty = checker.check(&mut root).map_err(error)?;
    if !matches!(ty, Ty::Bool | Ty::Null) {
        return Err(error(format!("a CHECK expression must be boolean, but this one gives {}", ty.name())));
    }
    Ok(CheckExpr {
        source: source.to_owned(),
        columns: checker.columns.into_iter().collect(),
        root,
        regexes: RegexCache::default(),
    })
}

impl CheckExpr {
    /// The expression as declared.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The columns the expression references: deduplicated, sorted.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Evaluates the expression on a row. `row` gives a column's value, `None` for NULL (or a column the row
    /// lacks). `Ok(None)` is SQL NULL.
    pub fn evaluate(&self, row: &dyn Fn(&str) -> Option<Value>) -> Result<Option<bool>, CheckError> {
        let evaluator = Evaluator { row, regexes: &self.regexes };
        match evaluator.eval(&self.root)? {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(b)),
            Some(other) => Err(CheckError::Type(format!(
                "a CHECK expression must give a boolean, not {}",
                type_name(&other)
            ))),
        }
    }

    /// Whether the row satisfies the constraint: true unless the expression is FALSE (NULL passes).
    pub fn passes(&self, row: &dyn Fn(&str) -> Option<Value>) -> Result<bool, CheckError> {
        Ok(self.evaluate(row)? != Some(false))
    }
}

impl fmt::Debug for CheckExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckExpr")
            .field("source", &self.source)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// Two expressions are equal when declared with the same text over the same columns.
impl PartialEq for CheckExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.columns == other.columns
    }
}

impl Eq for CheckExpr {}

// ---------------------------------------------------------------------------------------------------------------
// The expression tree
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Node {
    /// A constant; `None` is NULL. String literals are `Value::Text`.
    Literal(Option<Value>),
    /// A column; `position` is the parser's " at Line: …, Column: …" (for messages).
    Column {
        name: String,
        position: String,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Node>,
    },
    Binary {
        op: BinOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    IsNull {
        expr: Box<Node>,
        negated: bool,
    },
    /// `IS [NOT] TRUE` / `IS [NOT] FALSE`.
    IsBool {
        expr: Box<Node>,
        value: bool,
        negated: bool,
    },
    /// `IS [NOT] DISTINCT FROM`; `negated` is `IS NOT DISTINCT FROM`.
    Distinct {
        left: Box<Node>,
        right: Box<Node>,
        negated: bool,
    },
    InList {
        expr: Box<Node>,
        list: Vec<Node>,
        negated: bool,
    },
    Between {
        expr: Box<Node>,
        low: Box<Node>,
        high: Box<Node>,
        negated: bool,
    },
    /// `compiled` is set at declaration when the pattern and the escape are literals.
    Like {
        expr: Box<Node>,
        pattern: Box<Node>,
        escape: Option<Box<Node>>,
        negated: bool,
        compiled: Option<Vec<LikeToken>>,
    },
    /// `length`, `lower`, `upper`, `abs` (one argument) and `coalesce` (`promote` converts its result to the
    /// common type of its arguments).
    Call {
        func: Func,
        args: Vec<Node>,
        promote: Promote,
    },
    /// `compiled` is set at declaration when the pattern is a literal.
    RegexpLike {
        value: Box<Node>,
        pattern: Box<Node>,
        compiled: Option<Regex>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnaryOp {
    Not,
    Neg,
    Pos,
}

impl UnaryOp {
    fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Not => "NOT",
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Concat => "||",
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }

    fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    fn is_arithmetic(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Length,
    Lower,
    Upper,
    Abs,
    Coalesce,
    RegexpLike,
}

impl Func {
    fn name(self) -> &'static str {
        match self {
            Func::Length => "length",
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::Abs => "abs",
            Func::Coalesce => "coalesce",
            Func::RegexpLike => "regexp_like",
        }
    }
}

/// How `coalesce` converts its result to the common type of its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Promote {
    None,
    /// `Int` → `Decimal`.
    Decimal,
    /// `Date` → `DateTime` (midnight UTC).
    DateTime,
}

impl Promote {
    fn apply(self, value: Value) -> Value {
        match (self, value) {
            (Promote::Decimal, Value::Int(i)) => Value::Decimal(Decimal::from(i)),
            (Promote::DateTime, Value::Date(d)) => Value::DateTime(midnight(d)),
            (_, value) => value,
        }
    }
}

/// One element of a compiled `LIKE` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LikeToken {
    /// `%`: any sequence of characters.
    Any,
    /// `_`: exactly one character.
    One,
    /// A character matched literally.
    Char(char),
}

impl Node {
    fn is_string_literal(&self) -> bool {
        matches!(self, Node::Literal(Some(Value::Text(_))))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Syntax: sqlparser → Node
// ---------------------------------------------------------------------------------------------------------------

/// Runs [`parse_syntax`] on its own thread with a large stack: sqlparser recurses once per nesting level with big
/// frames in debug builds, and dropping its tree recurses too. A panic inside the parser library becomes an error.
fn parse_syntax_isolated(source: &str) -> Result<Node, String> {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("tessera-check-parse".to_owned())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || parse_syntax(source));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("syntax error: the expression could not be parsed".to_owned())),
            // No thread available (resource limits, or a platform without threads): parse here.
            Err(_) => parse_syntax(source),
        }
    })
}

/// Parses `source` as one SQL expression (PostgreSQL dialect) and converts it to our tree.
fn parse_syntax(source: &str) -> Result<Node, String> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(source).map_err(|e| syntax_error(e, source))?;
    let expr = parser.parse_expr().map_err(|e| syntax_error(e, source))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let message = format!("Expected: end of expression, found: {next}{}", next.span.start);
        return Err(syntax_error(ParserError::ParserError(message), source));
    }
    convert(&expr, 1)
}

/// A parser error as a message, with the position (the end of the input when the parser gives none).
fn syntax_error(error: ParserError, source: &str) -> String {
    let detail = match error {
        ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
        ParserError::RecursionLimitExceeded => {
            return format!("syntax error: the expression is nested too deeply (at most {MAX_DEPTH} levels)")
        }
    };
    let detail = if detail.contains(" at Line: ") { detail } else { format!("{detail}{}", end_of(source)) };
    format!("syntax error: {}", shorten(&detail))
}

/// " at Line: l, Column: c" of the end of `source` (lines and columns counted from 1, in characters).
fn end_of(source: &str) -> String {
    let line = source.matches('\n').count() + 1;
    let column = source.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    format!(" at Line: {line}, Column: {column}")
}

/// Cuts the middle out of a long message, keeping its start and its end (where the position is).
fn shorten(message: &str) -> String {
    let count = message.chars().count();
    if count <= MAX_MESSAGE_CHARS {
        return message.to_owned();
    }
    let head: String = message.chars().take(200).collect();
    let tail: String = message.chars().skip(count - 80).collect();
    format!("{head} … {tail}")
}

fn too_deep() -> String {
    format!("the expression is nested too deeply (at most {MAX_DEPTH} levels)")
}

fn boxed(expr: &Expr, depth: usize) -> Result<Box<Node>, String> {
    convert(expr, depth).map(Box::new)
}

/// Converts a sqlparser expression at nesting level `depth` (the root is 1), rejecting what is not supported.
fn convert(expr: &Expr, depth: usize) -> Result<Node, String> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let next = depth + 1;
    match expr {
        Expr::Identifier(ident) => column(ident),
        Expr::Value(value) => literal(value, false),
        Expr::TypedString(typed) => match (&typed.data_type, &typed.value.value) {
            (SqlDataType::Date, SqlValue::SingleQuotedString(text)) => match parse_date(text) {
                Some(date) => Ok(Node::Literal(Some(Value::Date(date)))),
                None => Err(format!(
                    "{} is not a valid date (expected YYYY-MM-DD){}",
                    quote(text),
                    typed.value.span.start
                )),
            },
            _ => Err(format!(
                "typed literals other than DATE 'YYYY-MM-DD' are not supported{}",
                typed.value.span.start
            )),
        },
        Expr::Nested(inner) => convert(inner, next),
        Expr::UnaryOp { op, expr: inner } => {
            let op = match op {
                UnaryOperator::Not => UnaryOp::Not,
                UnaryOperator::Plus => UnaryOp::Pos,
                UnaryOperator::Minus => match &**inner {
                    // `-9223372036854775808` is one literal, as in PostgreSQL.
                    Expr::Value(number) if matches!(number.value, SqlValue::Number(..)) => {
                        return literal(number, true)
                    }
                    _ => UnaryOp::Neg,
                },
                other => return Err(format!("operator {other} is not supported")),
            };
            Ok(Node::Unary { op, expr: boxed(inner, next)? })
        }
        Expr::BinaryOp { left, op, right } => {
            let op = binary_operator(op)?;
            let left = boxed(left, next)?;
            let right = boxed(right, next)?;
            Ok(Node::Binary { op, left, right })
        }
        Expr::IsNull(inner) | Expr::IsUnknown(inner) => {
            Ok(Node::IsNull { expr: boxed(inner, next)?, negated: false })
        }
        Expr::IsNotNull(inner) | Expr::IsNotUnknown(inner) => {
            Ok(Node::IsNull { expr: boxed(inner, next)?, negated: true })
        }
        Expr::IsTrue(inner) => Ok(Node::IsBool { expr: boxed(inner, next)?, value: true, negated: false }),
        Expr::IsNotTrue(inner) => Ok(Node::IsBool { expr: boxed(inner, next)?, value: true, negated: true }),
        Expr::IsFalse(inner) => Ok(Node::IsBool { expr: boxed(inner, next)?, value: false, negated: false }),
        Expr::IsNotFalse(inner) => {
            Ok(Node::IsBool { expr: boxed(inner, next)?, value: false, negated: true })
        }
        Expr::IsDistinctFrom(left, right) => {
            let left = boxed(left, next)?;
            let right = boxed(right, next)?;
            Ok(Node::Distinct { left, right, negated: false })
        }
        Expr::IsNotDistinctFrom(left, right) => {
            let left = boxed(left, next)?;
            let right = boxed(right, next)?;
            Ok(Node::Distinct { left, right, negated: true })
        }
        Expr::InList { expr: inner, list, negated } => {
            if list.is_empty() {
                return Err("IN needs at least one value".to_owned());
            }
            let expr = boxed(inner, next)?;
            let list = list.iter().map(|item| convert(item, next)).collect::<Result<Vec<_>, _>>()?;
            Ok(Node::InList { expr, list, negated: *negated })
        }
        Expr::Between { expr: inner, negated, low, high } => {
            let expr = boxed(inner, next)?;
            let low = boxed(low, next)?;
            let high = boxed(high, next)?;
            Ok(Node::Between { expr, low, high, negated: *negated })
        }
        Expr::Like { negated, any, expr: inner, pattern, escape_char } => {
            if *any {
                return Err("LIKE ANY is not supported".to_owned());
            }
            let expr = boxed(inner, next)?;
            let pattern = boxed(pattern, next)?;
            let escape = match escape_char {
                Some(escape) => Some(boxed(escape, next)?),
                None => None,
            };
            Ok(Node::Like { expr, pattern, escape, negated: *negated, compiled: None })
        }
        Expr::Function(function) => convert_function(function, next),
        Expr::CompoundIdentifier(_) | Expr::CompoundFieldAccess { .. } => {
            Err("qualified names such as t.column are not allowed: write the column name alone".to_owned())
        }
        Expr::InSubquery { .. } | Expr::Exists { .. } | Expr::Subquery(_) => {
            Err("subqueries are not allowed".to_owned())
        }
        Expr::ILike { .. } => Err("ILIKE is not supported: use lower(…) LIKE …".to_owned()),
        Expr::SimilarTo { .. } => {
            Err("SIMILAR TO is not supported: use regexp_like(value, pattern)".to_owned())
        }
        Expr::RLike { .. } => {
            Err("REGEXP / RLIKE are not supported: use regexp_like(value, pattern)".to_owned())
        }
        Expr::Cast { .. } => Err("type casts are not supported".to_owned()),
        Expr::Case { .. } => Err("CASE expressions are not supported".to_owned()),
        Expr::Collate { .. } => {
            Err("COLLATE is not supported: strings always compare by code point".to_owned())
        }
        Expr::AnyOp { .. } | Expr::AllOp { .. } => Err("ANY / ALL are not supported: use IN (…)".to_owned()),
        Expr::Tuple(_) => Err("row values such as (a, b) are not supported".to_owned()),
        Expr::Array(_) => Err("arrays are not supported".to_owned()),
        Expr::Interval(_) => Err("intervals are not supported".to_owned()),
        Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => Err("* is not allowed".to_owned()),
        Expr::Extract { .. } => Err("function extract is not supported".to_owned()),
        Expr::Substring { .. } => Err("function substring is not supported".to_owned()),
        Expr::Trim { .. } => Err("function trim is not supported".to_owned()),
        Expr::Position { .. } => Err("function position is not supported".to_owned()),
        Expr::Overlay { .. } => Err("function overlay is not supported".to_owned()),
        Expr::Ceil { .. } => Err("function ceil is not supported".to_owned()),
        Expr::Floor { .. } => Err("function floor is not supported".to_owned()),
        _ => Err("this kind of expression is not supported in a CHECK constraint".to_owned()),
    }
}

fn binary_operator(op: &BinaryOperator) -> Result<BinOp, String> {
    Ok(match op {
        BinaryOperator::Plus => BinOp::Add,
        BinaryOperator::Minus => BinOp::Sub,
        BinaryOperator::Multiply => BinOp::Mul,
        BinaryOperator::Divide => BinOp::Div,
        BinaryOperator::Modulo => BinOp::Mod,
        BinaryOperator::StringConcat => BinOp::Concat,
        BinaryOperator::Eq => BinOp::Eq,
        BinaryOperator::NotEq => BinOp::Ne,
        BinaryOperator::Lt => BinOp::Lt,
        BinaryOperator::LtEq => BinOp::Le,
        BinaryOperator::Gt => BinOp::Gt,
        BinaryOperator::GtEq => BinOp::Ge,
        BinaryOperator::And => BinOp::And,
        BinaryOperator::Or => BinOp::Or,
        other => return Err(format!("operator {other} is not supported")),
    })
}

/// Whether `name` is a valid column name: `^[a-z][a-z0-9_]{0,62}$`.
fn is_column_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    first_ok && name.len() <= 63 && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An identifier as PostgreSQL reads it: unquoted names are lowercased (ASCII), quoted ones are kept.
fn identifier_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_ascii_lowercase()
    }
}

fn column(ident: &Ident) -> Result<Node, String> {
    let name = identifier_name(ident);
    if !is_column_name(&name) {
        return Err(format!(
            "{} is not a valid column name (expected lowercase letters, digits and _){}",
            quote(&ident.value),
            ident.span.start
        ));
    }
    Ok(Node::Column { name, position: ident.span.start.to_string() })
}

/// A literal; `negative` (numbers only) folds a leading unary minus into it.
fn literal(value: &ValueWithSpan, negative: bool) -> Result<Node, String> {
    let at = value.span.start;
    let converted = match &value.value {
        SqlValue::Number(text, false) => Some(parse_number(text, negative).map_err(|m| format!("{m}{at}"))?),
        SqlValue::SingleQuotedString(text) => Some(Value::Text(text.clone())),
        SqlValue::Boolean(b) => Some(Value::Boolean(*b)),
        SqlValue::Null => None,
        SqlValue::Placeholder(name) => return Err(format!("parameters such as {name} are not allowed{at}")),
        _ => return Err(format!("only standard string literals ('…') and numbers are supported{at}")),
    };
    Ok(Node::Literal(converted))
}

/// A numeric literal: digits only → `Int` when it fits (else `Decimal`, like PostgreSQL); with a point or an
/// exponent → `Decimal`. `_` separators are ignored.
fn parse_number(text: &str, negative: bool) -> Result<Value, String> {
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    let sign = if negative { "-" } else { "" };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(int) = format!("{sign}{digits}").parse::<i64>() {
            return Ok(Value::Int(int));
        }
    }
    let (mantissa, exponent) = match digits.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (digits.as_str(), None),
    };
    let mut normalized = String::from(sign);
    if mantissa.starts_with('.') {
        normalized.push('0');
    }
    normalized.push_str(mantissa);
    if mantissa.ends_with('.') {
        normalized.push('0');
    }
    if let Some(exponent) = exponent {
        normalized.push('e');
        normalized.push_str(exponent);
    }
    parse_decimal(&normalized).map(Value::Decimal).map_err(|e| {
        if e.code == ErrorCode::Range {
            format!(
                "the number {sign}{text} is out of range (at most 28 significant digits and 28 decimal places)"
            )
        } else {
            format!("{} is not a valid number", quote(text))
        }
    })
}

fn convert_function(function: &Function, depth: usize) -> Result<Node, String> {
    let (name, at) = match function.name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => (identifier_name(ident), ident.span.start),
        _ => return Err("qualified function names are not supported".to_owned()),
    };
    let func = match name.as_str() {
        "length" => Func::Length,
        "lower" => Func::Lower,
        "upper" => Func::Upper,
        "abs" => Func::Abs,
        "coalesce" => Func::Coalesce,
        "regexp_like" => Func::RegexpLike,
        _ => {
            let hint = if matches!(function.args, FunctionArguments::None) && is_column_name(&name) {
                format!(" (to refer to a column named {name}, write \"{name}\")")
            } else {
                String::new()
            };
            return Err(format!("function {name} is not supported{at}{hint}"));
        }
    };
    let plain = !function.uses_odbc_syntax
        && matches!(function.parameters, FunctionArguments::None)
        && function.filter.is_none()
        && function.null_treatment.is_none()
        && function.over.is_none()
        && function.within_group.is_empty();
    let list = match &function.args {
        FunctionArguments::List(list)
            if plain && list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
        {
            list
        }
        FunctionArguments::Subquery(_) => return Err("subqueries are not allowed".to_owned()),
        _ => return Err(format!("unsupported syntax in the call of {name}{at}: write {name}(argument, …)")),
    };
    let mut args = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => args.push(convert(expr, depth)?),
            FunctionArg::Unnamed(_) => return Err(format!("* is not allowed in {name}(…){at}")),
            _ => return Err(format!("named arguments are not supported ({name}){at}")),
        }
    }
    match func {
        Func::Coalesce if args.is_empty() => Err(format!("coalesce needs at least one argument{at}")),
        Func::Coalesce => Ok(Node::Call { func, args, promote: Promote::None }),
        Func::RegexpLike => {
            let mut args = args.into_iter();
            match (args.next(), args.next(), args.next()) {
                (Some(value), Some(pattern), None) => Ok(Node::RegexpLike {
                    value: Box::new(value),
                    pattern: Box::new(pattern),
                    compiled: None,
                }),
                _ => Err(format!(
                    "regexp_like takes exactly 2 arguments (value, pattern); put flags in the pattern, e.g. (?i){at}"
                )),
            }
        }
        _ if args.len() == 1 => Ok(Node::Call { func, args, promote: Promote::None }),
        _ => Err(format!("function {name} takes exactly 1 argument{at}")),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Types: resolve columns, check operand types, coerce date literals, precompile patterns
// ---------------------------------------------------------------------------------------------------------------

/// The static type of an expression. `Null` is the type of the NULL literal (compatible with everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Null,
    Text,
    Int,
    Decimal,
    Bool,
    Date,
    DateTime,
}

impl Ty {
    fn of_data_type(data_type: DataType) -> Ty {
        match data_type {
            DataType::String | DataType::Text => Ty::Text,
            DataType::Int => Ty::Int,
            DataType::Decimal => Ty::Decimal,
            DataType::Boolean => Ty::Bool,
            DataType::Date => Ty::Date,
            DataType::DateTime => Ty::DateTime,
        }
    }

    fn of_value(value: &Value) -> Ty {
        Ty::of_data_type(value.data_type())
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Null => "NULL",
            Ty::Text => "text",
            Ty::Int => "Int",
            Ty::Decimal => "Decimal",
            Ty::Bool => "Boolean",
            Ty::Date => "Date",
            Ty::DateTime => "DateTime",
        }
    }
}

fn expect_bool(ty: Ty, what: &str) -> Result<(), String> {
    if matches!(ty, Ty::Bool | Ty::Null) {
        Ok(())
    } else {
        Err(format!("the argument of {what} must be boolean, not {}", ty.name()))
    }
}

fn expect_text(ty: Ty, what: &str) -> Result<(), String> {
    if matches!(ty, Ty::Text | Ty::Null) {
        Ok(())
    } else {
        Err(format!("{what} takes text, not {}", ty.name()))
    }
}

fn arithmetic_type(op: BinOp, left: Ty, right: Ty) -> Result<Ty, String> {
    match (left, right) {
        (Ty::Null, Ty::Null) => Ok(Ty::Null),
        (Ty::Int | Ty::Null, Ty::Int | Ty::Null) => Ok(Ty::Int),
        (Ty::Int | Ty::Decimal | Ty::Null, Ty::Int | Ty::Decimal | Ty::Null) => Ok(Ty::Decimal),
        _ => Err(format!("operator {} is not defined for {} and {}", op.symbol(), left.name(), right.name())),
    }
}

/// The common type of values compared with each other (or merged by `coalesce`). A string literal next to a
/// `Date` / `DateTime` operand is read as a date / timestamp, in place.
fn unify(items: &mut [&mut Node], tys: &mut [Ty], what: &str) -> Result<Ty, String> {
    let mut anchor = None;
    for (node, ty) in items.iter().zip(tys.iter()) {
        if *ty != Ty::Null && !node.is_string_literal() {
            anchor = Some(*ty);
            break;
        }
    }
    if let Some(target @ (Ty::Date | Ty::DateTime)) = anchor {
        for (node, ty) in items.iter_mut().zip(tys.iter_mut()) {
            if node.is_string_literal() {
                coerce_literal(node, target)?;
                *ty = target;
            }
        }
    }
    let mut common = Ty::Null;
    for ty in tys.iter() {
        common = match (common, *ty) {
            (common, Ty::Null) => common,
            (Ty::Null, ty) => ty,
            (Ty::Int, Ty::Decimal) | (Ty::Decimal, Ty::Int) => Ty::Decimal,
            (Ty::Date, Ty::DateTime) | (Ty::DateTime, Ty::Date) => Ty::DateTime,
            (a, b) if a == b => a,
            (a, b) => {
                return Err(format!("type mismatch in {what}: cannot compare {} with {}", a.name(), b.name()))
            }
        };
    }
    Ok(common)
}

/// Replaces a string literal by the date / timestamp it denotes.
fn coerce_literal(node: &mut Node, target: Ty) -> Result<(), String> {
    let Node::Literal(Some(Value::Text(text))) = node else { return Ok(()) };
    let value = match target {
        Ty::Date => Value::Date(
            parse_date(text)
                .ok_or_else(|| format!("{} is not a valid date (expected YYYY-MM-DD)", quote(text)))?,
        ),
        Ty::DateTime => Value::DateTime(parse_date(text).map(midnight).or_else(|| parse_timestamp(text)).ok_or_else(
            || {
                format!(
                    "{} is not a valid timestamp (expected YYYY-MM-DD or RFC 3339 such as 2024-01-31T12:00:00Z)",
                    quote(text)
                )
            },
        )?),
        _ => return Ok(()),
    };
    *node = Node::Literal(Some(value));
    Ok(())
}

struct Checker<'a> {
    column_type: &'a dyn Fn(&str) -> Option<DataType>,
    columns: BTreeSet<String>,
}

impl Checker<'_> {
    /// The static type of `node`; resolves its columns, coerces date literals and compiles literal patterns.
    fn check(&mut self, node: &mut Node) -> Result<Ty, String> {
        match node {
            Node::Literal(value) => Ok(value.as_ref().map_or(Ty::Null, Ty::of_value)),
            Node::Column { name, position } => match (self.column_type)(name.as_str()) {
                Some(data_type) => {
                    self.columns.insert(name.clone());
                    Ok(Ty::of_data_type(data_type))
                }
                None => Err(format!("unknown column {name}{position}")),
            },
            Node::Unary { op, expr } => {
                let ty = self.check(expr)?;
                match *op {
                    UnaryOp::Not => {
                        expect_bool(ty, "NOT")?;
                        Ok(Ty::Bool)
                    }
                    UnaryOp::Neg | UnaryOp::Pos => {
                        if matches!(ty, Ty::Int | Ty::Decimal | Ty::Null) {
                            Ok(ty)
                        } else {
                            Err(format!("unary {} is not defined for {}", op.symbol(), ty.name()))
                        }
                    }
                }
            }
            Node::Binary { op, left, right } => {
                let op = *op;
                let left_ty = self.check(left)?;
                let right_ty = self.check(right)?;
                if op.is_comparison() {
                    unify(&mut [&mut **left, &mut **right], &mut [left_ty, right_ty], op.symbol())?;
                    Ok(Ty::Bool)
                } else if op.is_arithmetic() {
                    arithmetic_type(op, left_ty, right_ty)
                } else if op == BinOp::Concat {
                    if matches!(left_ty, Ty::Text | Ty::Null) || matches!(right_ty, Ty::Text | Ty::Null) {
                        Ok(Ty::Text)
                    } else {
                        Err(format!(
                            "operator || is not defined for {} and {}",
                            left_ty.name(),
                            right_ty.name()
                        ))
                    }
                } else {
                    expect_bool(left_ty, op.symbol())?;
                    expect_bool(right_ty, op.symbol())?;
                    Ok(Ty::Bool)
                }
            }
            Node::IsNull { expr, .. } => {
                self.check(expr)?;
                Ok(Ty::Bool)
            }
            Node::IsBool { expr, .. } => {
                let ty = self.check(expr)?;
                expect_bool(ty, "IS TRUE / IS FALSE")?;
                Ok(Ty::Bool)
            }
            Node::Distinct { left, right, .. } => {
                let left_ty = self.check(left)?;
                let right_ty = self.check(right)?;
                unify(&mut [&mut **left, &mut **right], &mut [left_ty, right_ty], "IS DISTINCT FROM")?;
                Ok(Ty::Bool)
            }
            Node::InList { expr, list, .. } => {
                let mut tys = Vec::with_capacity(list.len() + 1);
                tys.push(self.check(expr)?);
                for item in list.iter_mut() {
                    tys.push(self.check(item)?);
                }
                let mut items: Vec<&mut Node> = Vec::with_capacity(tys.len());
                items.push(&mut **expr);
                items.extend(list.iter_mut());
                unify(&mut items, &mut tys, "IN")?;
                Ok(Ty::Bool)
            }
            Node::Between { expr, low, high, .. } => {
                let expr_ty = self.check(expr)?;
                let low_ty = self.check(low)?;
                let high_ty = self.check(high)?;
                unify(
                    &mut [&mut **expr, &mut **low, &mut **high],
                    &mut [expr_ty, low_ty, high_ty],
                    "BETWEEN",
                )?;
                Ok(Ty::Bool)
            }
            Node::Like { expr, pattern, escape, compiled, .. } => {
                let expr_ty = self.check(expr)?;
                expect_text(expr_ty, "LIKE")?;
                let pattern_ty = self.check(pattern)?;
                expect_text(pattern_ty, "LIKE")?;
                if let Some(escape) = escape.as_mut() {
                    let escape_ty = self.check(escape)?;
                    expect_text(escape_ty, "ESCAPE")?;
                }
                let escape_char = match escape.as_deref() {
                    None => Some(Some('\\')),
                    Some(Node::Literal(Some(Value::Text(text)))) => {
                        Some(escape_char_of(text).map_err(|e| e.to_string())?)
                    }
                    Some(_) => None,
                };
                if let (Some(escape_char), Node::Literal(Some(Value::Text(text)))) = (escape_char, &**pattern)
                {
                    *compiled = Some(compile_like(text, escape_char).map_err(|e| e.to_string())?);
                }
                Ok(Ty::Bool)
            }
            Node::RegexpLike { value, pattern, compiled } => {
                let value_ty = self.check(value)?;
                expect_text(value_ty, "regexp_like")?;
                let pattern_ty = self.check(pattern)?;
                expect_text(pattern_ty, "regexp_like")?;
                if let Node::Literal(Some(Value::Text(text))) = &**pattern {
                    *compiled = Some(compile_regex(text).map_err(|e| e.to_string())?);
                }
                Ok(Ty::Bool)
            }
            Node::Call { func, args, promote } => {
                let func = *func;
                let mut tys = Vec::with_capacity(args.len());
                for arg in args.iter_mut() {
                    tys.push(self.check(arg)?);
                }
                if func == Func::Coalesce {
                    let mut items: Vec<&mut Node> = args.iter_mut().collect();
                    let ty = unify(&mut items, &mut tys, "coalesce")?;
                    *promote = match ty {
                        Ty::Decimal => Promote::Decimal,
                        Ty::DateTime => Promote::DateTime,
                        _ => Promote::None,
                    };
                    return Ok(ty);
                }
                match (func, tys.as_slice()) {
                    (Func::Length, [ty]) => {
                        expect_text(*ty, "length")?;
                        Ok(Ty::Int)
                    }
                    (Func::Lower | Func::Upper, [ty]) => {
                        expect_text(*ty, func.name())?;
                        Ok(Ty::Text)
                    }
                    (Func::Abs, [ty]) => {
                        if matches!(ty, Ty::Int | Ty::Decimal | Ty::Null) {
                            Ok(*ty)
                        } else {
                            Err(format!("abs takes a number, not {}", ty.name()))
                        }
                    }
                    _ => Err(format!("function {} takes exactly 1 argument", func.name())),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------------------

struct Evaluator<'a> {
    row: &'a dyn Fn(&str) -> Option<Value>,
    regexes: &'a RegexCache,
}

impl Evaluator<'_> {
    fn eval(&self, node: &Node) -> Result<Option<Value>, CheckError> {
        match node {
            Node::Literal(value) => Ok(value.clone()),
            Node::Column { name, .. } => Ok((self.row)(name.as_str())),
            Node::Unary { op, expr } => match op {
                UnaryOp::Not => Ok(self.eval_bool(expr, "NOT")?.map(|b| Value::Boolean(!b))),
                UnaryOp::Neg => self.eval(expr)?.map(negate).transpose(),
                UnaryOp::Pos => self.eval(expr)?.map(positive).transpose(),
            },
            Node::Binary { op: BinOp::And, left, right } => {
                let left = self.eval_bool(left, "AND")?;
                if left == Some(false) {
                    return Ok(Some(Value::Boolean(false)));
                }
                let right = self.eval_bool(right, "AND")?;
                Ok(and3(left, right).map(Value::Boolean))
            }
            Node::Binary { op: BinOp::Or, left, right } => {
                let left = self.eval_bool(left, "OR")?;
                if left == Some(true) {
                    return Ok(Some(Value::Boolean(true)));
                }
                let right = self.eval_bool(right, "OR")?;
                Ok(or3(left, right).map(Value::Boolean))
            }
            Node::Binary { op, left, right } => {
                // Both operands are evaluated (their errors surface) before NULL short-cuts the operator.
                let left = self.eval(left)?;
                let right = self.eval(right)?;
                let (Some(left), Some(right)) = (left, right) else { return Ok(None) };
                apply_binary(*op, left, right).map(Some)
            }
            Node::IsNull { expr, negated } => {
                Ok(Some(Value::Boolean(self.eval(expr)?.is_none() != *negated)))
            }
            Node::IsBool { expr, value, negated } => {
                let is = self.eval_bool(expr, "IS TRUE / IS FALSE")? == Some(*value);
                Ok(Some(Value::Boolean(is != *negated)))
            }
            Node::Distinct { left, right, negated } => {
                let left = self.eval(left)?;
                let right = self.eval(right)?;
                let distinct = match (&left, &right) {
                    (None, None) => false,
                    (Some(l), Some(r)) => compare_values(l, r)? != Ordering::Equal,
                    _ => true,
                };
                Ok(Some(Value::Boolean(distinct != *negated)))
            }
            Node::InList { expr, list, negated } => {
                let value = self.eval(expr)?;
                let mut saw_null = value.is_none();
                for item in list {
                    let item = self.eval(item)?;
                    match (&value, &item) {
                        (Some(v), Some(i)) => {
                            if compare_values(v, i)? == Ordering::Equal {
                                return Ok(Some(Value::Boolean(!*negated)));
                            }
                        }
                        _ => saw_null = true,
                    }
                }
                Ok(if saw_null { None } else { Some(Value::Boolean(*negated)) })
            }
            Node::Between { expr, low, high, negated } => {
                // x BETWEEN a AND b is x >= a AND x <= b (NOT BETWEEN: x < a OR x > b), short-circuiting alike.
                let value = self.eval(expr)?;
                let low_value = self.eval(low)?;
                let at_least_low = compare_optional(&value, &low_value)?.map(|o| o != Ordering::Less);
                let between = if at_least_low == Some(false) {
                    Some(false)
                } else {
                    let high_value = self.eval(high)?;
                    let at_most_high = compare_optional(&value, &high_value)?.map(|o| o != Ordering::Greater);
                    and3(at_least_low, at_most_high)
                };
                Ok(between.map(|b| Value::Boolean(b != *negated)))
            }
            Node::Like { expr, pattern, escape, negated, compiled } => {
                let value = self.eval(expr)?;
                let pattern_value = self.eval(pattern)?;
                let escape_value = match escape {
                    Some(escape) => Some(self.eval(escape)?),
                    None => None,
                };
                let (Some(value), Some(pattern_value)) = (value, pattern_value) else { return Ok(None) };
                let escape_char = match escape_value {
                    None => Some('\\'),
                    Some(None) => return Ok(None),
                    Some(Some(escape)) => escape_char_of(text_of(&escape, "ESCAPE")?)?,
                };
                let text = text_of(&value, "LIKE")?;
                let matched = match compiled {
                    Some(tokens) => like_match(tokens, text),
                    None => like_match(&compile_like(text_of(&pattern_value, "LIKE")?, escape_char)?, text),
                };
                Ok(Some(Value::Boolean(matched != *negated)))
            }
            Node::RegexpLike { value, pattern, compiled } => {
                let value = self.eval(value)?;
                let pattern_value = self.eval(pattern)?;
                let (Some(value), Some(pattern_value)) = (value, pattern_value) else { return Ok(None) };
                let text = text_of(&value, "regexp_like")?;
                let matched = match compiled {
                    Some(regex) => regex.is_match(text),
                    None => self.regexes.get(text_of(&pattern_value, "regexp_like")?)?.is_match(text),
                };
                Ok(Some(Value::Boolean(matched)))
            }
            Node::Call { func: Func::Coalesce, args, promote } => {
                for arg in args {
                    if let Some(value) = self.eval(arg)? {
                        return Ok(Some(promote.apply(value)));
                    }
                }
                Ok(None)
            }
            Node::Call { func, args, .. } => {
                let [arg] = args.as_slice() else {
                    return Err(CheckError::Type(format!(
                        "function {} takes exactly 1 argument",
                        func.name()
                    )));
                };
                let Some(value) = self.eval(arg)? else { return Ok(None) };
                apply_function(*func, value).map(Some)
            }
        }
    }

    fn eval_bool(&self, node: &Node, what: &str) -> Result<Option<bool>, CheckError> {
        match self.eval(node)? {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(b)),
            Some(other) => Err(CheckError::Type(format!(
                "the argument of {what} must be boolean, not {}",
                type_name(&other)
            ))),
        }
    }
}

/// Kleene AND.
fn and3(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match (left, right) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Kleene OR.
fn or3(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match (left, right) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// The type name used in runtime messages.
fn type_name(value: &Value) -> &'static str {
    Ty::of_value(value).name()
}

fn text_of<'v>(value: &'v Value, what: &str) -> Result<&'v str, CheckError> {
    match value {
        Value::String(s) | Value::Text(s) => Ok(s.as_str()),
        other => Err(CheckError::Type(format!("{what} takes text, not {}", type_name(other)))),
    }
}

fn int_overflow() -> CheckError {
    CheckError::Overflow("integer out of range".to_owned())
}

fn numeric_overflow() -> CheckError {
    CheckError::Overflow("numeric out of range".to_owned())
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// PostgreSQL has no negative zero.
fn positive_zero(d: Decimal) -> Decimal {
    if d.is_zero() && d.is_sign_negative() {
        -d
    } else {
        d
    }
}

fn negate(value: Value) -> Result<Value, CheckError> {
    match value {
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(int_overflow),
        Value::Decimal(d) => Ok(Value::Decimal(positive_zero(-d))),
        other => Err(CheckError::Type(format!("unary - is not defined for {}", type_name(&other)))),
    }
}

fn positive(value: Value) -> Result<Value, CheckError> {
    match value {
        Value::Int(_) | Value::Decimal(_) => Ok(value),
        other => Err(CheckError::Type(format!("unary + is not defined for {}", type_name(&other)))),
    }
}

/// Compares two non-NULL values: strings by code point, numbers numerically (`Int` with `Decimal` too), dates
/// with timestamps as midnight UTC.
fn compare_values(a: &Value, b: &Value) -> Result<Ordering, CheckError> {
    Ok(match (a, b) {
        (Value::String(x) | Value::Text(x), Value::String(y) | Value::Text(y)) => x.as_str().cmp(y.as_str()),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), Value::Decimal(y)) => Decimal::from(*x).cmp(y),
        (Value::Decimal(x), Value::Int(y)) => x.cmp(&Decimal::from(*y)),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Date(x), Value::DateTime(y)) => midnight(*x).cmp(y),
        (Value::DateTime(x), Value::Date(y)) => x.cmp(&midnight(*y)),
        _ => {
            return Err(CheckError::Type(format!("cannot compare {} with {}", type_name(a), type_name(b))));
        }
    })
}

/// `None` when either side is NULL.
fn compare_optional(a: &Option<Value>, b: &Option<Value>) -> Result<Option<Ordering>, CheckError> {
    match (a, b) {
        (Some(a), Some(b)) => compare_values(a, b).map(Some),
        _ => Ok(None),
    }
}

/// A non-AND/OR binary operator on two non-NULL values.
fn apply_binary(op: BinOp, left: Value, right: Value) -> Result<Value, CheckError> {
    let test: fn(Ordering) -> bool = match op {
        BinOp::Eq => Ordering::is_eq,
        BinOp::Ne => Ordering::is_ne,
        BinOp::Lt => Ordering::is_lt,
        BinOp::Le => Ordering::is_le,
        BinOp::Gt => Ordering::is_gt,
        BinOp::Ge => Ordering::is_ge,
        BinOp::Concat => return Ok(Value::Text(format!("{}{}", to_text(&left), to_text(&right)))),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => return arithmetic(op, left, right),
        BinOp::And | BinOp::Or => {
            return Err(CheckError::Type(format!("{} is not an arithmetic operator", op.symbol())))
        }
    };
    compare_values(&left, &right).map(|o| Value::Boolean(test(o)))
}

fn arithmetic(op: BinOp, left: Value, right: Value) -> Result<Value, CheckError> {
    match (left, right) {
        (Value::Int(x), Value::Int(y)) => int_arithmetic(op, x, y).map(Value::Int),
        (Value::Int(x), Value::Decimal(y)) => decimal_arithmetic(op, Decimal::from(x), y).map(Value::Decimal),
        (Value::Decimal(x), Value::Int(y)) => decimal_arithmetic(op, x, Decimal::from(y)).map(Value::Decimal),
        (Value::Decimal(x), Value::Decimal(y)) => decimal_arithmetic(op, x, y).map(Value::Decimal),
        (left, right) => Err(CheckError::Type(format!(
            "operator {} is not defined for {} and {}",
            op.symbol(),
            type_name(&left),
            type_name(&right)
        ))),
    }
}

fn int_arithmetic(op: BinOp, x: i64, y: i64) -> Result<i64, CheckError> {
    let result = match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => {
            if y == 0 {
                return Err(CheckError::DivisionByZero);
            }
            // Truncates toward zero; i64::MIN / -1 overflows.
            x.checked_div(y)
        }
        BinOp::Mod => {
            if y == 0 {
                return Err(CheckError::DivisionByZero);
            }
            // Like PostgreSQL, i64::MIN % -1 is 0 rather than an overflow.
            if y == -1 {
                Some(0)
            } else {
                x.checked_rem(y)
            }
        }
        _ => return Err(CheckError::Type(format!("{} is not an arithmetic operator", op.symbol()))),
    };
    result.ok_or_else(int_overflow)
}

fn decimal_arithmetic(op: BinOp, x: Decimal, y: Decimal) -> Result<Decimal, CheckError> {
    let result = match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => {
            if y.is_zero() {
                return Err(CheckError::DivisionByZero);
            }
            x.checked_div(y).map(|mut quotient| {
                quotient.rescale(division_scale(&x, &y));
                quotient
            })
        }
        BinOp::Mod => {
            if y.is_zero() {
                return Err(CheckError::DivisionByZero);
            }
            x.checked_rem(y)
        }
        _ => return Err(CheckError::Type(format!("{} is not an arithmetic operator", op.symbol()))),
    };
    result.map(positive_zero).ok_or_else(numeric_overflow)
}

/// The result scale PostgreSQL gives `x / y` on `numeric` (`select_div_scale`): at least 16 significant digits and
/// no less than either operand's scale — capped at the 28 decimal places a `Decimal` holds.
fn division_scale(x: &Decimal, y: &Decimal) -> u32 {
    let (weight_x, first_x) = base_10000_head(x);
    let (weight_y, first_y) = base_10000_head(y);
    let mut quotient_weight = weight_x - weight_y;
    if first_x <= first_y {
        quotient_weight -= 1;
    }
    let scale = (16 - quotient_weight * 4).max(i64::from(x.scale())).max(i64::from(y.scale())).max(0);
    u32::try_from(scale.min(28)).unwrap_or(28)
}

/// The weight and value of the first non-zero base-10000 digit of `d` (PostgreSQL's `numeric` layout); (0, 0) for
/// zero.
fn base_10000_head(d: &Decimal) -> (i64, u128) {
    let mantissa = d.mantissa().unsigned_abs();
    let Some(log10) = mantissa.checked_ilog10() else { return (0, 0) };
    let scale = i64::from(d.scale());
    let weight = (i64::from(log10) - scale).div_euclid(4);
    let shift = -scale - 4 * weight;
    let first = if shift >= 0 {
        u32::try_from(shift).ok().and_then(|s| 10u128.checked_pow(s)).and_then(|p| mantissa.checked_mul(p))
    } else {
        u32::try_from(-shift).ok().and_then(|s| 10u128.checked_pow(s)).and_then(|p| mantissa.checked_div(p))
    };
    (weight, first.unwrap_or(0))
}

/// The text form of a value for `||`: as PostgreSQL prints it (dates `YYYY-MM-DD`, timestamps in UTC).
fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) | Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Date(d) => format_date(d),
        Value::DateTime(t) => {
            let micros = t.timestamp_subsec_micros();
            let fraction = if micros == 0 {
                String::new()
            } else {
                format!(".{micros:06}").trim_end_matches('0').to_owned()
            };
            format!("{}{fraction}+00", t.format("%Y-%m-%d %H:%M:%S"))
        }
    }
}

fn apply_function(func: Func, value: Value) -> Result<Value, CheckError> {
    match func {
        Func::Length => {
            let count = text_of(&value, "length")?.chars().count();
            Ok(Value::Int(i64::try_from(count).unwrap_or(i64::MAX)))
        }
        Func::Lower => Ok(Value::Text(text_of(&value, "lower")?.to_lowercase())),
        Func::Upper => Ok(Value::Text(text_of(&value, "upper")?.to_uppercase())),
        Func::Abs => match value {
            Value::Int(i) => i.checked_abs().map(Value::Int).ok_or_else(int_overflow),
            Value::Decimal(d) => Ok(Value::Decimal(d.abs())),
            other => Err(CheckError::Type(format!("abs takes a number, not {}", type_name(&other)))),
        },
        Func::Coalesce | Func::RegexpLike => {
            Err(CheckError::Type(format!("function {} takes more than 1 argument", func.name())))
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// LIKE and regular expressions
// ---------------------------------------------------------------------------------------------------------------

/// The escape character an `ESCAPE` string denotes: `''` none, one character that character.
fn escape_char_of(escape: &str) -> Result<Option<char>, CheckError> {
    let mut chars = escape.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        _ => Err(CheckError::Type(format!(
            "invalid escape string {}: it must be empty or one character",
            quote(escape)
        ))),
    }
}

fn compile_like(pattern: &str, escape: Option<char>) -> Result<Vec<LikeToken>, CheckError> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let token = if Some(c) == escape {
            match chars.next() {
                Some(literal) => LikeToken::Char(literal),
                None => {
                    return Err(CheckError::Type(
                        "LIKE pattern must not end with escape character".to_owned(),
                    ))
                }
            }
        } else if c == '%' {
            LikeToken::Any
        } else if c == '_' {
            LikeToken::One
        } else {
            LikeToken::Char(c)
        };
        let repeated_any = token == LikeToken::Any && tokens.last() == Some(&LikeToken::Any);
        if !repeated_any {
            tokens.push(token);
        }
    }
    Ok(tokens)
}

/// Whether `text` matches the whole pattern, character by character. Greedy with backtracking to the last `%`:
/// O(len(text) × len(pattern)) at worst, no recursion.
fn like_match(pattern: &[LikeToken], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut p) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(LikeToken::Any) => {
                backtrack = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(LikeToken::One) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(LikeToken::Char(expected)) if text.get(t) == Some(expected) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((after_any, start)) => {
                p = after_any;
                t = start + 1;
                backtrack = Some((after_any, start + 1));
            }
            None => return false,
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|token| *token == LikeToken::Any))
}

fn compile_regex(pattern: &str) -> Result<Regex, CheckError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| CheckError::Regex(format!("invalid regular expression {}: {e}", quote(pattern))))
}

/// Regular expressions compiled at run time (patterns read from the row), the most recent few.
#[derive(Default)]
struct RegexCache(Mutex<VecDeque<(String, Regex)>>);

impl RegexCache {
    fn get(&self, pattern: &str) -> Result<Regex, CheckError> {
        {
            let cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, regex)) = cache.iter().find(|(p, _)| p == pattern) {
                return Ok(regex.clone());
            }
        }
        let regex = compile_regex(pattern)?;
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= REGEX_CACHE_SIZE {
            cache.pop_front();
        }
        cache.push_back((pattern.to_owned(), regex.clone()));
        Ok(regex)
    }
}

impl Clone for RegexCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl fmt::Debug for RegexCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegexCache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The columns the tests declare.
    fn types(name: &str) -> Option<DataType> {
        match name {
            "a" | "i" | "year" | "user" => Some(DataType::Int),
            "n" => Some(DataType::Decimal),
            "s" | "p" => Some(DataType::String),
            "t" => Some(DataType::Text),
            "flag" => Some(DataType::Boolean),
            "d" => Some(DataType::Date),
            "ts" => Some(DataType::DateTime),
            _ => None,
        }
    }

    fn parse(source: &str) -> CheckExpr {
        parse_check(source, &types).unwrap_or_else(|e| panic!("{source:?} should parse: {}", e.message))
    }

    /// The declaration error message (asserting field and code).
    fn rejected(source: &str) -> String {
        let error = parse_check(source, &types).expect_err(source);
        assert_eq!(error.field, CHECK_FIELD, "{source}");
        assert_eq!(error.code, ErrorCode::Check, "{source}");
        assert!(!error.message.is_empty());
        error.message
    }

    fn eval_row(source: &str, row: &[(&str, Value)]) -> Result<Option<bool>, CheckError> {
        let lookup = |name: &str| row.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        parse(source).evaluate(&lookup)
    }

    /// Evaluates an expression without columns.
    fn eval(source: &str) -> Option<bool> {
        eval_row(source, &[]).unwrap_or_else(|e| panic!("{source:?} failed: {e}"))
    }

    fn eval_err(source: &str) -> CheckError {
        eval_row(source, &[]).expect_err(source)
    }

    fn dec(s: &str) -> Decimal {
        parse_decimal(s).unwrap()
    }

    fn date(s: &str) -> Value {
        Value::Date(parse_date(s).unwrap())
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn comparisons() {
        for (source, expected) in [
            ("1 = 1", true),
            ("1 = 2", false),
            ("1 <> 1", false),
            ("1 != 2", true),
            ("1 < 2", true),
            ("2 < 1", false),
            ("2 <= 2", true),
            ("3 <= 2", false),
            ("3 > 2", true),
            ("3 >= 4", false),
            ("4 >= 4", true),
            ("1.0 = 1", true),
            ("1 = 1.00", true),
            ("2 > 1.5", true),
            ("0.1 + 0.2 = 0.3", true),
            ("'a' < 'b'", true),
            ("'a' = 'a'", true),
            ("TRUE = TRUE", true),
            ("FALSE < TRUE", true),
            ("TRUE <> FALSE", true),
        ] {
            assert_eq!(eval(source), Some(expected), "{source}");
        }
    }

    #[test]
    fn null_logic_tables() {
        let values = [("TRUE", Some(true)), ("FALSE", Some(false)), ("NULL", None)];
        for (l, lv) in values {
            for (r, rv) in values {
                let and = match (lv, rv) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                let or = match (lv, rv) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                };
                assert_eq!(eval(&format!("{l} AND {r}")), and, "{l} AND {r}");
                assert_eq!(eval(&format!("{l} OR {r}")), or, "{l} OR {r}");
            }
            assert_eq!(eval(&format!("NOT {l}")), lv.map(|b| !b), "NOT {l}");
        }
        for source in ["NULL = NULL", "1 = NULL", "NULL <> 1", "NULL < 1", "'a' >= NULL", "NULL + 1 = 2"] {
            assert_eq!(eval(source), None, "{source}");
        }
        assert_eq!(eval("NULL"), None);
        assert_eq!(eval("NOT (1 = 2)"), Some(true));
        // Short-circuit: the right side is not evaluated once the result is known.
        assert_eq!(eval("FALSE AND 1 / 0 = 1"), Some(false));
        assert_eq!(eval("TRUE OR 1 / 0 = 1"), Some(true));
        assert_eq!(eval_err("NULL AND 1 / 0 = 1"), CheckError::DivisionByZero);
        assert_eq!(eval_err("1 / 0 = 1 OR TRUE"), CheckError::DivisionByZero);
    }

    #[test]
    fn passes_unless_false() {
        let check = parse("a > 0");
        assert!(check.passes(&|_: &str| Some(Value::Int(1))).unwrap());
        assert!(!check.passes(&|_: &str| Some(Value::Int(0))).unwrap());
        assert!(check.passes(&|_: &str| None).unwrap(), "NULL passes");
        assert_eq!(check.evaluate(&|_: &str| None).unwrap(), None);
        let failing = parse("a / 0 > 0");
        assert_eq!(failing.passes(&|_: &str| Some(Value::Int(1))), Err(CheckError::DivisionByZero));
        assert!(failing.passes(&|_: &str| None).unwrap(), "NULL / 0 is NULL, no error");
    }

    #[test]
    fn integer_arithmetic() {
        for source in [
            "2 + 3 * 4 = 14",
            "(2 + 3) * 4 = 20",
            "7 - 10 = -3",
            "7 / 2 = 3",
            "-7 / 2 = -3",
            "7 / -2 = -3",
            "7 % 3 = 1",
            "-7 % 3 = -1",
            "7 % -3 = 1",
            "- 5 = -5",
            "-(-5) = 5",
            "+5 = 5",
            "-9223372036854775808 < 0",
            "(-9223372036854775808) % (-1) = 0",
            "9223372036854775807 = 9223372036854775807",
        ] {
            assert_eq!(eval(source), Some(true), "{source}");
        }
        let row = [("a", Value::Int(5)), ("i", Value::Int(-3))];
        assert_eq!(eval_row("-a = -5 AND a * i = -15 AND a / i = -1 AND a % i = 2", &row), Ok(Some(true)));
    }

    #[test]
    fn division_by_zero_and_overflow() {
        for source in ["1 / 0 = 1", "1 % 0 = 1", "1.5 / 0 = 1", "1 / 0.0 = 1", "1.5 % 0.00 = 1"] {
            assert_eq!(eval_err(source), CheckError::DivisionByZero, "{source}");
        }
        for source in [
            "9223372036854775807 + 1 > 0",
            "-9223372036854775808 - 1 < 0",
            "9223372036854775807 * 2 > 0",
            "-(-9223372036854775808) > 0",
            "(-9223372036854775808) / (-1) > 0",
            "abs(-9223372036854775808) > 0",
        ] {
            assert_eq!(eval_err(source), CheckError::Overflow("integer out of range".into()), "{source}");
        }
        assert_eq!(
            eval_err("9999999999999999999999999999 * 10 > 0"),
            CheckError::Overflow("numeric out of range".into())
        );
        assert_eq!(CheckError::DivisionByZero.to_string(), "division by zero");
        assert_eq!(CheckError::Overflow("integer out of range".into()).to_string(), "integer out of range");
        // Beyond the Int range a literal is a decimal, like PostgreSQL's numeric: no overflow.
        assert_eq!(eval("9223372036854775808 > 9223372036854775807"), Some(true));
        assert_eq!(eval("9223372036854775807 + 1.0 = 9223372036854775808"), Some(true));
        assert!(rejected("a > 99999999999999999999999999999999").contains("out of range"));
    }

    #[test]
    fn decimal_arithmetic_follows_postgresql() {
        for source in [
            "1.5 * 2 = 3",
            "10 / 4.0 = 2.5",
            "1 / 3.0 = 0.33333333333333333333",
            "2.0 / 3 = 0.66666666666666666667",
            "1 / 3.0 * 3 < 1",
            "7.5 % 2 = 1.5",
            "-7.5 % 2 = -1.5",
            "abs(-1.5) = 1.5",
            "-(1.5) = -1.5",
            ".5 = 0.5",
            "5. = 5",
            "1e3 = 1000",
            "2.5E-1 = 0.25",
            "1_000 = 1000",
        ] {
            assert_eq!(eval(source), Some(true), "{source}");
        }
        let quotient = |x: &str, y: &str| decimal_arithmetic(BinOp::Div, dec(x), dec(y)).unwrap().to_string();
        assert_eq!(quotient("10", "4.0"), "2.5000000000000000");
        assert_eq!(quotient("1", "3.0"), "0.33333333333333333333");
        assert_eq!(quotient("2.0", "3"), "0.66666666666666666667");
        assert_eq!(quotient("1.50", "3"), "0.50000000000000000000");
        assert_eq!(quotient("100000", "3"), "33333.333333333333");
        assert!(!decimal_arithmetic(BinOp::Mul, dec("-0.5"), dec("0")).unwrap().is_sign_negative());
        let row = [("n", Value::Decimal(dec("2.50"))), ("a", Value::Int(2))];
        assert_eq!(
            eval_row("n * a = 5 AND n + a = 4.5 AND a - n = -0.5 AND n / a = 1.25", &row),
            Ok(Some(true))
        );
    }

    #[test]
    fn between() {
        for (source, expected) in [
            ("5 BETWEEN 1 AND 10", Some(true)),
            ("1 BETWEEN 1 AND 10", Some(true)),
            ("10 BETWEEN 1 AND 10", Some(true)),
            ("11 BETWEEN 1 AND 10", Some(false)),
            ("5 NOT BETWEEN 1 AND 10", Some(false)),
            ("0 NOT BETWEEN 1 AND 10", Some(true)),
            ("NULL BETWEEN 1 AND 2", None),
            ("5 BETWEEN NULL AND 4", Some(false)),
            ("5 BETWEEN NULL AND 10", None),
            ("5 NOT BETWEEN NULL AND 4", Some(true)),
            ("0 BETWEEN 1 AND 1 / 0", Some(false)),
            ("1.5 BETWEEN 1 AND 2", Some(true)),
            ("'b' BETWEEN 'a' AND 'c'", Some(true)),
            ("10 BETWEEN 5 AND 1", Some(false)),
        ] {
            assert_eq!(eval(source), expected, "{source}");
        }
        assert_eq!(eval_err("5 BETWEEN 1 AND 1 / 0"), CheckError::DivisionByZero);
        assert_eq!(eval("2 BETWEEN 1 AND 3 AND TRUE"), Some(true));
    }

    #[test]
    fn in_lists() {
        for (source, expected) in [
            ("2 IN (1, 2)", Some(true)),
            ("3 IN (1, 2)", Some(false)),
            ("3 IN (1, NULL)", None),
            ("1 IN (1, NULL)", Some(true)),
            ("3 NOT IN (1, 2)", Some(true)),
            ("3 NOT IN (1, NULL)", None),
            ("1 NOT IN (1, NULL)", Some(false)),
            ("NULL IN (1)", None),
            ("NULL NOT IN (1)", None),
            ("1 IN (1.0)", Some(true)),
            ("'a' IN ('a', 'b')", Some(true)),
            ("'c' IN ('a', 'b')", Some(false)),
            ("2 IN (1 + 1)", Some(true)),
        ] {
            assert_eq!(eval(source), expected, "{source}");
        }
        assert!(rejected("a IN ('x')").contains("cannot compare Int with text"));
    }

    #[test]
    fn like() {
        for (source, expected) in [
            ("'abc' LIKE 'a%'", Some(true)),
            ("'abc' LIKE '%c'", Some(true)),
            ("'abc' LIKE '%b%'", Some(true)),
            ("'abc' LIKE '_b_'", Some(true)),
            ("'abc' LIKE 'a_'", Some(false)),
            ("'abc' LIKE 'abc'", Some(true)),
            ("'ABC' LIKE 'abc'", Some(false)),
            ("'' LIKE '%'", Some(true)),
            ("'' LIKE '_'", Some(false)),
            ("'x' LIKE ''", Some(false)),
            ("'aaa' LIKE '%a%a%a%'", Some(true)),
            ("'aa' LIKE '%a%a%a%'", Some(false)),
            ("'abcabd' LIKE '%ab_'", Some(true)),
            ("'mississippi' LIKE 'm%iss%ppi'", Some(true)),
            ("'a%c' LIKE 'a\\%c'", Some(true)),
            ("'abc' LIKE 'a\\%c'", Some(false)),
            ("'a_c' LIKE 'a\\_c'", Some(true)),
            ("'a\\c' LIKE 'a\\\\c'", Some(true)),
            ("'a_c' LIKE 'a!_c' ESCAPE '!'", Some(true)),
            ("'abc' LIKE 'a!_c' ESCAPE '!'", Some(false)),
            ("'a!c' LIKE 'a!!c' ESCAPE '!'", Some(true)),
            ("'a\\c' LIKE 'a\\c' ESCAPE ''", Some(true)),
            ("'abc' LIKE 'a_c' ESCAPE ''", Some(true)),
            ("'日本語' LIKE '日_語'", Some(true)),
            ("'日本語' LIKE '___'", Some(true)),
            ("'abc' NOT LIKE 'a%'", Some(false)),
            ("'abc' NOT LIKE 'b%'", Some(true)),
            ("NULL LIKE 'a'", None),
            ("'a' LIKE NULL", None),
            ("'a' LIKE 'a' ESCAPE NULL", None),
        ] {
            assert_eq!(eval(source), expected, "{source}");
        }
        assert!(rejected("'a' LIKE 'a\\'").contains("must not end with escape character"));
        assert!(rejected("'a' LIKE 'a!' ESCAPE '!'").contains("must not end with escape character"));
        assert!(rejected("'a' LIKE 'a' ESCAPE 'ab'").contains("invalid escape string"));
        assert!(rejected("a LIKE '1%'").contains("LIKE takes text, not Int"));
        // Patterns read from the row are compiled at run time.
        let row = [("s", text("a%c")), ("p", text("a\\%c"))];
        assert_eq!(eval_row("s LIKE p", &row), Ok(Some(true)));
        let row = [("s", text("abc")), ("p", text("ab\\"))];
        assert!(matches!(eval_row("s LIKE p", &row), Err(CheckError::Type(m)) if m.contains("escape")));
        let row = [("s", text("a_c")), ("p", text("a#_c")), ("t", text("#"))];
        assert_eq!(eval_row("s LIKE p ESCAPE t", &row), Ok(Some(true)));
        let row = [("s", text("abc")), ("p", text("a%")), ("t", text("##"))];
        assert!(matches!(eval_row("s LIKE p ESCAPE t", &row), Err(CheckError::Type(_))));
    }

    #[test]
    fn like_is_linear_enough_on_hostile_patterns() {
        let value = "a".repeat(2000);
        let pattern = format!("{}b", "%a".repeat(200));
        let row = [("s", text(&value)), ("p", text(&pattern))];
        assert_eq!(eval_row("s LIKE p", &row), Ok(Some(false)));
    }

    #[test]
    fn is_null_is_true_is_distinct() {
        for (source, expected) in [
            ("NULL IS NULL", true),
            ("1 IS NULL", false),
            ("1 IS NOT NULL", true),
            ("NULL IS NOT NULL", false),
            ("TRUE IS TRUE", true),
            ("NULL IS TRUE", false),
            ("NULL IS NOT TRUE", true),
            ("FALSE IS NOT TRUE", true),
            ("FALSE IS FALSE", true),
            ("NULL IS FALSE", false),
            ("NULL IS NOT FALSE", true),
            ("TRUE IS NOT FALSE", true),
            ("NULL IS UNKNOWN", true),
            ("TRUE IS NOT UNKNOWN", true),
            ("NULL IS DISTINCT FROM NULL", false),
            ("NULL IS DISTINCT FROM 1", true),
            ("1 IS DISTINCT FROM 1.0", false),
            ("1 IS DISTINCT FROM 2", true),
            ("NULL IS NOT DISTINCT FROM NULL", true),
            ("1 IS NOT DISTINCT FROM NULL", false),
        ] {
            assert_eq!(eval(source), Some(expected), "{source}");
        }
        let check = parse("s IS NOT NULL AND flag IS NOT FALSE");
        assert_eq!(check.evaluate(&|name: &str| (name == "s").then(|| text("x"))), Ok(Some(true)));
        assert_eq!(check.evaluate(&|_: &str| None), Ok(Some(false)));
    }

    #[test]
    fn functions() {
        for source in [
            "length('héllo') = 5",
            "length('') = 0",
            "length('😀') = 1",
            "lower('ÀBC') = 'àbc'",
            "upper('straße') = 'STRASSE'",
            "LOWER('X') = 'x'",
            "abs(-5) = 5",
            "abs(5) = 5",
            "abs(-1.5) = 1.5",
            "coalesce(NULL, 2) = 2",
            "coalesce(1, 1 / 0) = 1",
            "coalesce(NULL, NULL, 'c') = 'c'",
            "coalesce(NULL, NULL) IS NULL",
            "length(NULL) IS NULL",
            "abs(NULL) IS NULL",
            "lower(NULL) IS NULL",
            "regexp_like('abc', '^a.c$')",
            "regexp_like('xabcx', 'b')",
            "NOT regexp_like('abc', '^b')",
            "regexp_like('ABC', '(?i)^abc$')",
            "regexp_like(NULL, 'a') IS NULL",
            "regexp_like('a', NULL) IS NULL",
        ] {
            assert_eq!(eval(source), Some(true), "{source}");
        }
        // coalesce converts to the common type: Int → Decimal, so no Int overflow below.
        let row = [("a", Value::Int(i64::MAX))];
        assert_eq!(eval_row("coalesce(a, 0.5) + 1 > 0", &row), Ok(Some(true)));
        assert_eq!(
            eval_row("coalesce(a, 1) + 1 > 0", &row),
            Err(CheckError::Overflow("integer out of range".into()))
        );
        assert!(rejected("regexp_like(s, '(')").contains("invalid regular expression"));
        assert!(rejected("regexp_like(s, 'a', 'i')").contains("exactly 2 arguments"));
        assert!(rejected("abs(a, 1) > 0").contains("exactly 1 argument"));
        assert!(rejected("length(a) > 0").contains("length takes text, not Int"));
        assert!(rejected("lower(1) = 'a'").contains("lower takes text"));
        assert!(rejected("abs('x') = 1").contains("abs takes a number"));
        assert!(rejected("coalesce(a, 'x') = 1").contains("cannot compare"));
        // Patterns read from the row: compiled at run time, cached, errors at run time.
        let check = parse("regexp_like(s, p)");
        for _ in 0..3 {
            let row = |name: &str| Some(text(if name == "s" { "abc" } else { "^a" }));
            assert_eq!(check.evaluate(&row), Ok(Some(true)));
        }
        for i in 0..40 {
            let pattern = format!("^{i}$");
            let row = |name: &str| Some(text(if name == "s" { "7" } else { pattern.as_str() }));
            assert_eq!(check.evaluate(&row), Ok(Some(i == 7)));
        }
        let bad = |name: &str| Some(text(if name == "s" { "abc" } else { "(" }));
        assert!(
            matches!(check.evaluate(&bad), Err(CheckError::Regex(m)) if m.contains("invalid regular expression"))
        );
        let huge = |name: &str| Some(text(if name == "s" { "abc" } else { "\\w{5000}\\w{5000}" }));
        assert!(matches!(check.evaluate(&huge), Err(CheckError::Regex(_))));
    }

    #[test]
    fn concatenation() {
        for source in [
            "'a' || 'b' = 'ab'",
            "'a' || 1 = 'a1'",
            "1 || 'a' = '1a'",
            "'x' || 2.50 = 'x2.50'",
            "'x' || TRUE = 'xtrue'",
            "('x' || NULL) IS NULL",
            "'a' || 'b' || 'c' = 'abc'",
        ] {
            assert_eq!(eval(source), Some(true), "{source}");
        }
        let row = [("s", text("n")), ("a", Value::Int(-3)), ("d", date("2024-01-31"))];
        assert_eq!(eval_row("s || a = 'n-3' AND s || d = 'n2024-01-31'", &row), Ok(Some(true)));
        let ts = Utc.with_ymd_and_hms(2024, 1, 31, 12, 0, 5).unwrap();
        assert_eq!(to_text(&Value::DateTime(ts)), "2024-01-31 12:00:05+00");
        let ts = ts + chrono::Duration::microseconds(500_000);
        assert_eq!(to_text(&Value::DateTime(ts)), "2024-01-31 12:00:05.5+00");
        assert!(rejected("1 || 2 = '12'").contains("operator || is not defined for Int and Int"));
    }

    #[test]
    fn strings_compare_by_code_point() {
        for source in [
            "'B' < 'a'",
            "'Z' < 'a'",
            "'a' < 'é'",
            "'é' < '€'",
            "'€' < '😀'",
            "'abc' < 'abd'",
            "'ab' < 'abc'",
            "'' < 'a'",
            "'a' <> 'A'",
        ] {
            assert_eq!(eval(source), Some(true), "{source}");
        }
        let row = [("s", Value::String("a".into())), ("t", Value::Text("a".into()))];
        assert_eq!(eval_row("s = t", &row), Ok(Some(true)), "String and Text compare as text");
    }

    #[test]
    fn dates_and_timestamps() {
        let row = [
            ("d", date("2024-06-01")),
            ("ts", Value::DateTime(Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 0).unwrap())),
        ];
        for source in [
            "d > '2024-01-01'",
            "'2024-01-01' < d",
            "d = '2024-06-01'",
            "d BETWEEN '2024-01-01' AND '2024-12-31'",
            "d IN ('2023-01-01', '2024-06-01')",
            "d NOT IN ('2023-01-01')",
            "coalesce(d, '2000-01-01') = '2024-06-01'",
            "d IS DISTINCT FROM '2024-06-02'",
            "d = DATE '2024-06-01'",
            "ts >= '2024-06-01'",
            "ts < '2024-06-01T10:00:01Z'",
            "ts = '2024-06-01T12:00:00+02:00'",
            "d < ts",
            "ts > d",
            "d || '' = '2024-06-01'",
        ] {
            assert_eq!(eval_row(source, &row), Ok(Some(true)), "{source}");
        }
        assert!(rejected("d = '2024-13-01'").contains("is not a valid date"));
        assert!(rejected("d > 'yesterday'").contains("is not a valid date"));
        assert!(rejected("ts > 'noon'").contains("is not a valid timestamp"));
        assert!(rejected("d IN ('2024-01-01', 'x')").contains("is not a valid date"));
        assert!(rejected("d = DATE '2024-02-30'").contains("is not a valid date"));
        assert!(rejected("d = 1").contains("cannot compare Date with Int"));
        assert!(rejected("d = s").contains("cannot compare Date with text"));
    }

    #[test]
    fn keyword_column_names() {
        let row = [("year", Value::Int(2024)), ("user", Value::Int(1))];
        assert_eq!(eval_row("\"year\" > 2000", &row), Ok(Some(true)));
        assert_eq!(eval_row("year > 2000", &row), Ok(Some(true)));
        assert_eq!(eval_row("YEAR > 2000", &row), Ok(Some(true)));
        assert_eq!(eval_row("\"user\" = 1", &row), Ok(Some(true)));
        assert_eq!(parse("\"year\" > 2000 AND year < 3000").columns(), ["year"]);
        let message = rejected("user = 1");
        assert!(message.contains("function user is not supported"), "{message}");
        assert!(message.contains("\"user\""), "{message}");
        assert!(rejected("\"Year\" > 1").contains("is not a valid column name"));
        assert!(rejected("\"a b\" > 1").contains("is not a valid column name"));
        assert!(rejected(&format!("{} > 1", "x".repeat(64))).contains("is not a valid column name"));
    }

    #[test]
    fn columns_and_source() {
        let check = parse("i > 1 OR (n > 1 AND a < 2 AND n < 5)");
        assert_eq!(check.columns(), ["a", "i", "n"]);
        assert_eq!(check.source(), "i > 1 OR (n > 1 AND a < 2 AND n < 5)");
        assert_eq!(parse("1 = 1").columns(), [] as [&str; 0]);
        let clone = check.clone();
        assert_eq!(clone, check);
        assert!(format!("{check:?}").contains("i > 1"));
        fn shareable<T: Send + Sync>(_: &T) {}
        shareable(&check);
    }

    #[test]
    fn unknown_columns_name_the_position() {
        let message = rejected("foo > 1");
        assert!(message.contains("unknown column foo"), "{message}");
        assert!(message.contains("Line: 1, Column: 1"), "{message}");
        let message = rejected("a > 1 AND\n  bar < 2");
        assert!(message.contains("unknown column bar at Line: 2, Column: 3"), "{message}");
    }

    #[test]
    fn syntax_errors_report_the_position() {
        let message = rejected("a = = 1");
        assert!(message.starts_with("syntax error"), "{message}");
        assert!(message.contains("Line: 1, Column: 5"), "{message}");
        let message = rejected("a = 1;");
        assert!(message.contains("found: ;"), "{message}");
        assert!(message.contains("Line: 1, Column: 6"), "{message}");
        let message = rejected("a = 1 b");
        assert!(message.contains("end of expression"), "{message}");
        assert!(message.contains("Line: 1, Column: 7"), "{message}");
        let message = rejected("s = 'abc");
        assert!(message.contains("Unterminated string literal"), "{message}");
        assert!(message.contains("Line: 1"), "{message}");
        let message = rejected("a =");
        assert!(message.contains("Line: 1, Column: 4"), "{message}");
        let message = rejected("a = 1\nAND = 2");
        assert!(message.contains("Line: 2"), "{message}");
        let message = rejected("(a = 1");
        assert!(message.contains("Line: 1"), "{message}");
        assert!(rejected("").contains("empty"));
        assert!(rejected("   \n ").contains("empty"));
        assert!(rejected("a = 1; DROP TABLE x").contains("syntax error"));
    }

    #[test]
    fn unsupported_constructs_are_named() {
        for (source, expected) in [
            ("(SELECT 1) = 1", "subqueries are not allowed"),
            ("EXISTS (SELECT 1)", "subqueries are not allowed"),
            ("a IN (SELECT 1)", "subqueries are not allowed"),
            ("foo(a) = 1", "function foo is not supported"),
            ("count(*) > 1", "function count is not supported"),
            ("now() > ts", "function now is not supported"),
            ("CAST(a AS TEXT) = '1'", "type casts are not supported"),
            ("a::text = '1'", "type casts are not supported"),
            ("CASE WHEN a = 1 THEN TRUE END", "CASE expressions are not supported"),
            ("s ILIKE 'a'", "ILIKE is not supported"),
            ("s SIMILAR TO 'a'", "SIMILAR TO is not supported"),
            ("x.a = 1", "qualified names"),
            ("a = $1", "parameters such as $1 are not allowed"),
            ("a ^ 2 = 4", "operator ^ is not supported"),
            ("a & 1 = 1", "is not supported"),
            ("a = ANY(ARRAY[1, 2])", "not supported"),
            ("s = E'x'", "only standard string literals"),
            ("s = $$x$$", "only standard string literals"),
            ("(a, n) = (1, 2)", "row values"),
            ("s COLLATE \"C\" = 'a'", "COLLATE is not supported"),
            ("s LIKE ANY ('a')", "is not supported"),
            ("coalesce() IS NULL", ""),
            ("TIMESTAMP '2024-01-01' < ts", "typed literals"),
        ] {
            let message = rejected(source);
            assert!(message.contains(expected), "{source}: {message}");
        }
    }

    #[test]
    fn type_errors_at_declaration() {
        for (source, expected) in [
            ("'abc' + 1 = 2", "operator + is not defined for text and Int"),
            ("s = 1", "cannot compare text with Int"),
            ("a = 'x'", "cannot compare Int with text"),
            ("flag > 1", "cannot compare Boolean with Int"),
            ("a", "must be boolean"),
            ("a + 1", "must be boolean"),
            ("'x'", "must be boolean"),
            ("NOT a", "NOT must be boolean"),
            ("a AND TRUE", "AND must be boolean"),
            ("-s = 'x'", "unary - is not defined for text"),
            ("a IS TRUE", "must be boolean"),
            ("a BETWEEN 'a' AND 'b'", "cannot compare"),
            ("a IS DISTINCT FROM s", "cannot compare"),
            ("ts + 1 > ts", "operator + is not defined"),
        ] {
            let message = rejected(source);
            assert!(message.contains(expected), "{source}: {message}");
        }
        assert!(parse_check("flag", &types).is_ok());
        assert!(parse_check("NULL", &types).is_ok());
    }

    #[test]
    fn runtime_type_errors_when_the_row_does_not_match() {
        let row = [("a", text("x")), ("flag", Value::Int(1)), ("s", Value::Int(1))];
        assert!(matches!(eval_row("a + 1 > 0", &row), Err(CheckError::Type(_))));
        assert!(matches!(eval_row("a > 0", &row), Err(CheckError::Type(_))));
        assert!(matches!(eval_row("flag", &row), Err(CheckError::Type(m)) if m.contains("boolean")));
        assert!(matches!(eval_row("flag AND TRUE", &row), Err(CheckError::Type(_))));
        assert!(matches!(eval_row("length(s) > 0", &row), Err(CheckError::Type(_))));
        assert!(matches!(eval_row("s LIKE 'a'", &row), Err(CheckError::Type(_))));
        assert!(matches!(eval_row("regexp_like(s, 'a')", &row), Err(CheckError::Type(_))));
    }

    #[test]
    fn limits() {
        let long = format!("a = 1 {}", " ".repeat(MAX_SOURCE_CHARS));
        assert!(rejected(&long).contains("too long"));
        let ok = format!("a = 1{}", " ".repeat(MAX_SOURCE_CHARS - 5));
        assert!(parse_check(&ok, &types).is_ok());
        let parens = format!("{}a{} = 1", "(".repeat(200), ")".repeat(200));
        assert!(rejected(&parens).contains("nested too deeply"));
        let chain = format!("{}1 = 1", "1 + ".repeat(1000));
        assert!(rejected(&chain).contains("nested too deeply"));
        // (Beyond its recursion limit, sqlparser reads the innermost NOT as an identifier: still an error.)
        let nots = format!("{}TRUE", "NOT ".repeat(1000));
        rejected(&nots);
        let minus = format!("{}1 = 1", "- ".repeat(1000));
        assert!(rejected(&minus).contains("nested too deeply"));
        let ands = format!("{}TRUE", "TRUE AND ".repeat(400));
        assert!(rejected(&ands).contains("nested too deeply"));
        let calls = format!("{}1{} = 1", "abs(".repeat(300), ")".repeat(300));
        assert!(rejected(&calls).contains("nested too deeply"));
        // Moderate nesting is fine.
        let moderate = format!("{}a{} = 1", "(".repeat(20), ")".repeat(20));
        assert!(parse_check(&moderate, &types).is_ok());
        let chain = format!("{}1 = 31", "1 + ".repeat(30));
        assert_eq!(eval(&chain), Some(true));
        let in_list = format!("a IN ({}0)", "1, ".repeat(1000));
        assert!(parse_check(&in_list, &types).is_ok());
    }

    // -----------------------------------------------------------------------------------------------------------
    // Property test: no input makes parsing or evaluation panic (or overflow the stack)
    // -----------------------------------------------------------------------------------------------------------

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

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const SOUP: &[&str] = &[
        "a",
        "i",
        "n",
        "s",
        "t",
        "p",
        "flag",
        "d",
        "ts",
        "year",
        "\"year\"",
        "zz",
        "\"Z\"",
        "(",
        "(",
        ")",
        ")",
        ",",
        "+",
        "-",
        "*",
        "/",
        "%",
        "||",
        "=",
        "<>",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "AND",
        "OR",
        "NOT",
        "IN",
        "BETWEEN",
        "LIKE",
        "ESCAPE",
        "IS",
        "NULL",
        "TRUE",
        "FALSE",
        "DISTINCT",
        "FROM",
        "UNKNOWN",
        "length",
        "lower",
        "upper",
        "abs",
        "coalesce",
        "regexp_like",
        "SELECT",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "::",
        "CAST",
        "AS",
        "INT",
        "'x'",
        "'it''s'",
        "'%a_'",
        "'\\'",
        "'(?i)a+'",
        "'(('",
        "'",
        "\"",
        "0",
        "1",
        "-1",
        "2.5",
        ".5",
        "5.",
        "1e3",
        "1e99999",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "99999999999999999999999999999999",
        "0.0000000000000000000000000000001",
        "$1",
        "?",
        ";",
        "--",
        "/*",
        "*/",
        "E'x'",
        "$$x$$",
        "[",
        "]",
        "{",
        "}",
        "@",
        "#",
        "^",
        "~",
        "&",
        "|",
        "é",
        "😀",
        "\u{0}",
        "\n",
        "\t",
        "DATE",
        "'2024-01-01'",
        "'2024-13-45'",
        "INTERVAL",
        "EXISTS",
        "ANY",
        "ALL",
        "ILIKE",
        "SIMILAR",
        "TO",
        "COLLATE",
        "\"C\"",
        "x.a",
        "*",
        "ARRAY",
        "ROW",
        "OVER",
        "FILTER",
        "WITHIN",
        "GROUP",
        "ORDER",
        "BY",
        "1_000",
        "0x1F",
        "X'1F'",
        "U&'x'",
        "N'x'",
        "->",
        "->>",
        "@>",
        "<<",
        ">>",
        "!",
        "!!",
        "|/",
        "||/",
        "~~",
    ];

    const CHARS: &[char] = &[
        'a', 'z', 'A', '0', '9', ' ', '(', ')', '\'', '"', '%', '_', '\\', '-', '+', '*', '/', '<', '>', '=',
        '!', '|', ',', '.', ';', ':', '$', '?', '@', '#', '[', ']', '{', '}', 'é', '€', '😀', '\u{0}', '\n',
        '\u{202e}',
    ];

    fn garbage(rng: &mut XorShift) -> String {
        match rng.below(6) {
            0 => (0..rng.below(40)).map(|_| CHARS[rng.below(CHARS.len())]).collect(),
            1 => {
                let depth = 1 + rng.below(150);
                format!("{}{}{}", "(".repeat(depth), rng.pick(SOUP), ")".repeat(rng.below(depth + 2)))
            }
            2 => {
                let unit = rng.pick(&["NOT ", "- ", "+ ", "abs(", "coalesce(", "(", "a + ", "TRUE AND "]);
                format!("{}{}", unit.repeat(rng.below(120)), rng.pick(SOUP))
            }
            _ => {
                let count = 1 + rng.below(30);
                let mut out = String::new();
                for _ in 0..count {
                    out.push_str(rng.pick(SOUP));
                    if rng.percent(70) {
                        out.push(' ');
                    }
                }
                out
            }
        }
    }

    /// A mostly well-typed expression of the given kind (0 bool, 1 int, 2 decimal, 3 text, 4 date).
    fn structured(rng: &mut XorShift, kind: usize, depth: usize) -> String {
        let leaf = depth == 0 || rng.percent(30);
        let other_kind = rng.below(5);
        match kind {
            1 => {
                if leaf {
                    return rng
                        .pick(&[
                            "a",
                            "i",
                            "year",
                            "0",
                            "1",
                            "-7",
                            "NULL",
                            "9223372036854775807",
                            "(-9223372036854775808)",
                        ])
                        .to_owned();
                }
                match rng.below(6) {
                    0 => format!("abs({})", structured(rng, 1, depth - 1)),
                    1 => format!("length({})", structured(rng, 3, depth - 1)),
                    2 => format!("(-{})", structured(rng, 1, depth - 1)),
                    3 => format!(
                        "coalesce({}, {})",
                        structured(rng, 1, depth - 1),
                        structured(rng, 1, depth - 1)
                    ),
                    _ => format!(
                        "({} {} {})",
                        structured(rng, 1, depth - 1),
                        rng.pick(&["+", "-", "*", "/", "%"]),
                        structured(rng, 1, depth - 1)
                    ),
                }
            }
            2 => {
                if leaf {
                    return rng
                        .pick(&["n", "1.5", "0.0", "(-2.25)", "NULL", "a", "9999999999999999999999999999"])
                        .to_owned();
                }
                format!(
                    "({} {} {})",
                    structured(rng, 2, depth - 1),
                    rng.pick(&["+", "-", "*", "/", "%"]),
                    structured(rng, 1 + other_kind % 2, depth - 1)
                )
            }
            3 => {
                if leaf {
                    return rng
                        .pick(&["s", "t", "p", "''", "'abc'", "'a%'", "'é😀'", "NULL", "'\\'"])
                        .to_owned();
                }
                match rng.below(4) {
                    0 => format!("lower({})", structured(rng, 3, depth - 1)),
                    1 => format!("upper({})", structured(rng, 3, depth - 1)),
                    2 => format!(
                        "({} || {})",
                        structured(rng, 3, depth - 1),
                        structured(rng, other_kind % 4, depth - 1)
                    ),
                    _ => format!(
                        "coalesce({}, {})",
                        structured(rng, 3, depth - 1),
                        structured(rng, 3, depth - 1)
                    ),
                }
            }
            4 => rng.pick(&["d", "'2024-01-01'", "coalesce(d, '2020-02-29')", "NULL", "ts"]).to_owned(),
            _ => {
                if leaf {
                    return rng.pick(&["TRUE", "FALSE", "NULL", "flag", "a > 0", "s = t"]).to_owned();
                }
                let sub = 1 + rng.below(4);
                match rng.below(10) {
                    0 => format!("({} AND {})", structured(rng, 0, depth - 1), structured(rng, 0, depth - 1)),
                    1 => format!("({} OR {})", structured(rng, 0, depth - 1), structured(rng, 0, depth - 1)),
                    2 => format!("(NOT {})", structured(rng, 0, depth - 1)),
                    3 => format!(
                        "({} IS {}NULL)",
                        structured(rng, other_kind, depth - 1),
                        if rng.percent(50) { "NOT " } else { "" }
                    ),
                    4 => format!(
                        "({} IN ({}, {}))",
                        structured(rng, sub, depth - 1),
                        structured(rng, sub, 0),
                        structured(rng, sub, 0)
                    ),
                    5 => format!(
                        "({} {}BETWEEN {} AND {})",
                        structured(rng, sub, depth - 1),
                        if rng.percent(50) { "NOT " } else { "" },
                        structured(rng, sub, depth - 1),
                        structured(rng, sub, depth - 1)
                    ),
                    6 => format!(
                        "({} LIKE {}{})",
                        structured(rng, 3, depth - 1),
                        structured(rng, 3, depth - 1),
                        rng.pick(&["", " ESCAPE '!'", " ESCAPE ''", " ESCAPE p"])
                    ),
                    7 => format!(
                        "regexp_like({}, {})",
                        structured(rng, 3, depth - 1),
                        rng.pick(&["'^a'", "p", "'(?i)x|y'", "NULL"])
                    ),
                    8 => format!(
                        "({} IS {}TRUE)",
                        structured(rng, 0, depth - 1),
                        if rng.percent(50) { "NOT " } else { "" }
                    ),
                    _ => format!(
                        "({} {} {})",
                        structured(rng, sub, depth - 1),
                        rng.pick(&["=", "<>", "<", "<=", ">", ">="]),
                        structured(rng, sub, depth - 1)
                    ),
                }
            }
        }
    }

    fn random_value(rng: &mut XorShift, name: &str) -> Option<Value> {
        if rng.percent(15) {
            return None;
        }
        // Now and then a value of the wrong type, to exercise runtime type errors.
        let kind = if rng.percent(8) { rng.below(7) } else { usize::MAX };
        let declared = match (kind, types(name)) {
            (usize::MAX, Some(t)) => t,
            (k, _) => DataType::ALL[k % DataType::ALL.len()],
        };
        let strings = ["", "abc", "a%c", "ab\\", "^a", "(", "é😀", "7", "x_y"];
        Some(match declared {
            DataType::String => Value::String(strings[rng.below(strings.len())].to_owned()),
            DataType::Text => Value::Text(strings[rng.below(strings.len())].to_owned()),
            DataType::Int => Value::Int([0, 1, -1, 7, i64::MAX, i64::MIN, 1 << 40][rng.below(7)]),
            DataType::Decimal => {
                Value::Decimal(dec(
                    ["0", "1.5", "-2.25", "0.001", "9999999999999999999999999999"][rng.below(5)]
                ))
            }
            DataType::Boolean => Value::Boolean(rng.percent(50)),
            DataType::Date => date(["2024-01-01", "2020-02-29", "0001-01-01"][rng.below(3)]),
            DataType::DateTime => Value::DateTime(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()),
        })
    }

    fn exercise(rng: &mut XorShift, source: &str) -> bool {
        match parse_check(source, &types) {
            Err(error) => {
                assert_eq!(error.field, CHECK_FIELD);
                assert_eq!(error.code, ErrorCode::Check);
                assert!(!error.message.is_empty(), "{source:?}");
                false
            }
            Ok(check) => {
                assert_eq!(check.source(), source);
                assert!(check.columns().windows(2).all(|w| w[0] < w[1]), "{:?}", check.columns());
                assert!(check.columns().iter().all(|c| types(c).is_some()));
                for _ in 0..4 {
                    let values: Vec<(String, Option<Value>)> =
                        check.columns().iter().map(|c| (c.clone(), random_value(rng, c))).collect();
                    let row =
                        |name: &str| values.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.clone());
                    match check.evaluate(&row) {
                        Ok(result) => assert_eq!(check.passes(&row), Ok(result != Some(false)), "{source}"),
                        Err(error) => {
                            assert!(!error.to_string().is_empty());
                            assert_eq!(check.passes(&row), Err(error), "{source}");
                        }
                    }
                }
                true
            }
        }
    }

    #[test]
    fn no_input_panics() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let source = garbage(&mut rng);
            exercise(&mut rng, &source);
        }
        let mut parsed = 0;
        for i in 0..2000 {
            let mut source = structured(&mut rng, 0, 1 + i % 5);
            if rng.percent(15) {
                // Damage it: insert a random token somewhere (on a character boundary).
                let boundaries: Vec<usize> = source.char_indices().map(|(at, _)| at).collect();
                let at = boundaries[rng.below(boundaries.len())];
                source.insert_str(at, rng.pick(SOUP));
            }
            if exercise(&mut rng, &source) {
                parsed += 1;
            }
        }
        assert!(parsed > 1000, "only {parsed} of 2000 generated expressions parsed");
    }
}
