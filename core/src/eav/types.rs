//! Column data types and typed values: conversion from the JSON the API receives, back to the JSON it returns,
//! the timestamp storage format, and same-type comparison.
//!
//! A value that does not convert to its column's type is an error (code `type`, or `range` when it is a number
//! out of range), never a silent NULL. Errors carry an empty `field`; the caller prefixes the column name
//! (`FieldError::prefixed`).

use std::cmp::Ordering;
use std::fmt;
use std::num::IntErrorKind;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

/// Most significant digits (and decimal places) a `Decimal` value may have.
pub const MAX_DECIMAL_DIGITS: usize = 28;

/// The storage / API format of timestamps: RFC 3339, UTC, microseconds, `Z`.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The data type of a column. (De)serialized as exactly its variant name (`"String"`, `"DateTime"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DataType {
    String,
    Text,
    Int,
    Decimal,
    Boolean,
    Date,
    DateTime,
}

impl DataType {
    /// Every data type, in declaration order.
    pub const ALL: [DataType; 7] = [
        DataType::String,
        DataType::Text,
        DataType::Int,
        DataType::Decimal,
        DataType::Boolean,
        DataType::Date,
        DataType::DateTime,
    ];

    /// The canonical name (`"String"`, `"Int"`, …), as stored and as used in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            DataType::String => "String",
            DataType::Text => "Text",
            DataType::Int => "Int",
            DataType::Decimal => "Decimal",
            DataType::Boolean => "Boolean",
            DataType::Date => "Date",
            DataType::DateTime => "DateTime",
        }
    }

    /// `String` or `Text`.
    pub fn is_textual(&self) -> bool {
        matches!(self, DataType::String | DataType::Text)
    }

    /// `Int` or `Decimal`.
    pub fn is_numeric(&self) -> bool {
        matches!(self, DataType::Int | DataType::Decimal)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataType {
    type Err = FieldError;

    /// Exact, case-sensitive names. The error names the field `data_type` (code `invalid`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataType::ALL.iter().copied().find(|t| t.as_str() == s).ok_or_else(|| {
            let allowed: Vec<&str> = DataType::ALL.iter().map(|t| t.as_str()).collect();
            FieldError::new(
                "data_type",
                ErrorCode::Invalid,
                format!("unknown data type {}; allowed: {}", quote(s), allowed.join(", ")),
            )
        })
    }
}

/// A non-null typed value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    String(String),
    Text(String),
    Int(i64),
    /// Exact; the scale given is kept (`"10.50"` stays `10.50`).
    Decimal(Decimal),
    Boolean(bool),
    /// A calendar date, never shifted by time zones.
    Date(NaiveDate),
    /// A point in time, UTC, microsecond precision.
    DateTime(DateTime<Utc>),
}

impl Value {
    /// The data type this value belongs to.
    pub fn data_type(&self) -> DataType {
        match self {
            Value::String(_) => DataType::String,
            Value::Text(_) => DataType::Text,
            Value::Int(_) => DataType::Int,
            Value::Decimal(_) => DataType::Decimal,
            Value::Boolean(_) => DataType::Boolean,
            Value::Date(_) => DataType::Date,
            Value::DateTime(_) => DataType::DateTime,
        }
    }

    /// The API representation: strings as strings, Int as a number, Decimal as an exact string, Boolean as a
    /// bool, Date as `YYYY-MM-DD`, DateTime as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::String(s) | Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Decimal(d) => serde_json::Value::String(d.to_string()),
            Value::Boolean(b) => serde_json::Value::Bool(*b),
            Value::Date(d) => serde_json::Value::String(format_date(d)),
            Value::DateTime(t) => serde_json::Value::String(format_timestamp(t)),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Converts the JSON given for a column of type `data_type`. JSON `null` is `Ok(None)`.
///
/// - `String`, `Text`: a JSON string only (length limits are validation rules).
/// - `Int`: a JSON integer within i64, an integral float (`4.0`), or a string holding an integer (`"42"`).
/// - `Decimal`: a JSON number or a string (`"10.50"`, `"-3"`, `"1.5e3"`), exact, at most 28 significant digits
///   and 28 decimal places; the scale given is kept.
/// - `Boolean`: a JSON bool only.
/// - `Date`: a string `YYYY-MM-DD` (strict; year ≥ 1).
/// - `DateTime`: an RFC 3339 string with an offset (`Z` or `±HH:MM`), converted to UTC and truncated to
///   microseconds.
///
/// Errors have an empty `field` and code `type` (`range` for numbers out of range).
pub fn parse_value(data_type: DataType, json: &serde_json::Value) -> Result<Option<Value>, FieldError> {
    if json.is_null() {
        return Ok(None);
    }
    let value = match data_type {
        DataType::String => Value::String(expect_string(json, "a string")?.to_owned()),
        DataType::Text => Value::Text(expect_string(json, "a string")?.to_owned()),
        DataType::Int => Value::Int(parse_int_json(json)?),
        DataType::Decimal => Value::Decimal(parse_decimal_json(json)?),
        DataType::Boolean => match json {
            serde_json::Value::Bool(b) => Value::Boolean(*b),
            other => return Err(type_error(format!("expected true or false, got {}", describe(other)))),
        },
        DataType::Date => {
            let s = expect_string(json, "a date as YYYY-MM-DD")?;
            Value::Date(parse_date_strict(s)?)
        }
        DataType::DateTime => {
            let s = expect_string(json, "an RFC 3339 timestamp such as 2024-01-31T12:00:00Z")?;
            let t = DateTime::parse_from_rfc3339(s).map_err(|_| {
                type_error(format!(
                    "expected an RFC 3339 timestamp with an offset such as 2024-01-31T12:00:00Z, got {}",
                    quote(s)
                ))
            })?;
            Value::DateTime(t.with_timezone(&Utc).trunc_subsecs(6))
        }
    };
    Ok(Some(value))
}

/// Parses an exact decimal from its text: optional sign, digits, optional `.digits`, optional exponent
/// (`e`/`E`, optional sign, up to 4 digits). No spaces, underscores, `NaN` or `inf`. The scale given is kept
/// (`"10.50"` → 10.50); trailing fractional zeros are dropped only when needed to fit the limits.
/// Errors: code `type` when not a number, `range` when it needs more than 28 significant digits or decimal
/// places.
pub fn parse_decimal(s: &str) -> Result<Decimal, FieldError> {
    let not_a_number = || {
        type_error(format!(
            "expected a decimal number (a JSON number or a string such as \"10.50\"), got {}",
            quote(s)
        ))
    };
    let (negative, unsigned) = if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    };
    let (number, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((number, exponent)) => (number, Some(exponent)),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((int_part, frac_part)) => {
            if !is_digits(frac_part) {
                return Err(not_a_number());
            }
            (int_part, frac_part)
        }
        None => (number, ""),
    };
    if !is_digits(int_part) {
        return Err(not_a_number());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (sign, digits) = if let Some(rest) = e.strip_prefix('-') {
                (-1, rest)
            } else if let Some(rest) = e.strip_prefix('+') {
                (1, rest)
            } else {
                (1, e)
            };
            if !is_digits(digits) || digits.len() > 4 {
                return Err(not_a_number());
            }
            sign * digits.parse::<i64>().map_err(|_| not_a_number())?
        }
    };

    let mut digits: String = int_part.chars().chain(frac_part.chars()).skip_while(|c| *c == '0').collect();
    let mut scale = i64::try_from(frac_part.len()).map_err(|_| out_of_range_decimal())? - exponent;
    if digits.is_empty() {
        // Zero: keep the scale given as far as it fits.
        scale = scale.clamp(0, MAX_DECIMAL_DIGITS as i64);
    } else if scale < 0 {
        let zeros = usize::try_from(-scale).map_err(|_| out_of_range_decimal())?;
        if digits.len() + zeros > MAX_DECIMAL_DIGITS {
            return Err(out_of_range_decimal());
        }
        digits.extend(std::iter::repeat_n('0', zeros));
        scale = 0;
    }
    // Trailing fractional zeros do not change the value: drop them only if needed to fit.
    while (digits.len() > MAX_DECIMAL_DIGITS || scale > MAX_DECIMAL_DIGITS as i64)
        && scale > 0
        && digits.ends_with('0')
    {
        digits.pop();
        scale -= 1;
    }
    if digits.len() > MAX_DECIMAL_DIGITS || scale > MAX_DECIMAL_DIGITS as i64 {
        return Err(out_of_range_decimal());
    }
    let mantissa: i128 =
        if digits.is_empty() { 0 } else { digits.parse().map_err(|_| out_of_range_decimal())? };
    let mantissa = if negative { -mantissa } else { mantissa };
    let scale = u32::try_from(scale).map_err(|_| out_of_range_decimal())?;
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| out_of_range_decimal())
}

/// Parses a strict `YYYY-MM-DD` calendar date (year 0001–9999). `None` if malformed or not a real date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let bytes = s.as_bytes();
    if bytes.len() != 10 {
        return None;
    }
    let well_formed =
        bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !well_formed {
        return None;
    }
    let year: i32 = s.get(0..4)?.parse().ok()?;
    let month: u32 = s.get(5..7)?.parse().ok()?;
    let day: u32 = s.get(8..10)?.parse().ok()?;
    if year < 1 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `YYYY-MM-DD`.
pub fn format_date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The storage / API format of a timestamp: `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

/// Parses a stored timestamp: the storage format or any RFC 3339 timestamp (converted to UTC). Also accepts
/// the offset-less `YYYY-MM-DD HH:MM:SS[.f]` (or with `T`) that SQLite's `CURRENT_TIMESTAMP` writes, read as
/// UTC. Truncated to microseconds. For user input use [`parse_value`], which requires an offset.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc).trunc_subsecs(6));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(s, format).ok())
        .map(|naive| naive.and_utc().trunc_subsecs(6))
}

/// Compares two values of the same type: strings by code point, numbers and decimals numerically
/// (`1.0 == 1.00`), booleans `false < true`, dates and timestamps chronologically. `None` when the types
/// differ (including `String` vs `Text`).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) | (Value::Text(x), Value::Text(y)) => {
            Some(x.as_str().cmp(y.as_str()))
        }
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Decimal(x), Value::Decimal(y)) => Some(x.cmp(y)),
        (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn parse_date_strict(s: &str) -> Result<NaiveDate, FieldError> {
    let bytes = s.as_bytes();
    let shaped = bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(type_error(format!("expected a date as YYYY-MM-DD, got {}", quote(s))));
    }
    parse_date(s).ok_or_else(|| type_error(format!("{} is not a valid calendar date", quote(s))))
}

fn parse_int_json(json: &serde_json::Value) -> Result<i64, FieldError> {
    match json {
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            if n.is_u64() {
                return Err(out_of_range_int(&n.to_string()));
            }
            match n.as_f64() {
                Some(f) if f.is_finite() && f.fract() == 0.0 => {
                    // 2^63, exactly representable; i64 covers [-2^63, 2^63).
                    let limit = -(i64::MIN as f64);
                    if (-limit..limit).contains(&f) {
                        Ok(f as i64)
                    } else {
                        Err(out_of_range_int(&n.to_string()))
                    }
                }
                _ => Err(type_error(format!("expected an integer, got {n}"))),
            }
        }
        serde_json::Value::String(s) => match s.parse::<i64>() {
            Ok(i) => Ok(i),
            Err(e) if matches!(e.kind(), IntErrorKind::PosOverflow | IntErrorKind::NegOverflow) => {
                Err(out_of_range_int(s))
            }
            Err(_) => Err(type_error(format!("expected an integer, got {}", quote(s)))),
        },
        other => Err(type_error(format!(
            "expected an integer (a JSON integer or a string holding one), got {}",
            describe(other)
        ))),
    }
}

fn parse_decimal_json(json: &serde_json::Value) -> Result<Decimal, FieldError> {
    match json {
        // Without serde_json's arbitrary_precision, floats arrive as f64 and are read from their shortest text.
        serde_json::Value::Number(n) => parse_decimal(&n.to_string()),
        serde_json::Value::String(s) => parse_decimal(s),
        other => Err(type_error(format!(
            "expected a decimal number (a JSON number or a string such as \"10.50\"), got {}",
            describe(other)
        ))),
    }
}

fn expect_string<'a>(json: &'a serde_json::Value, expected: &str) -> Result<&'a str, FieldError> {
    match json {
        serde_json::Value::String(s) => Ok(s),
        other => Err(type_error(format!("expected {expected}, got {}", describe(other)))),
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn type_error(message: String) -> FieldError {
    FieldError::new("", ErrorCode::Type, message)
}

fn out_of_range_int(text: &str) -> FieldError {
    FieldError::new(
        "",
        ErrorCode::Range,
        format!("{} is out of range for Int (-9223372036854775808 to 9223372036854775807)", quote(text)),
    )
}

fn out_of_range_decimal() -> FieldError {
    FieldError::new(
        "",
        ErrorCode::Range,
        format!(
            "decimal out of range: at most {MAX_DECIMAL_DIGITS} significant digits and {MAX_DECIMAL_DIGITS} decimal places are supported"
        ),
    )
}

/// What kind of JSON value this is, for messages (the value itself for scalars, shortened).
fn describe(json: &serde_json::Value) -> String {
    match json {
        serde_json::Value::Null => "null".to_owned(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => format!("the number {n}"),
        serde_json::Value::String(s) => format!("the string {}", quote(s)),
        serde_json::Value::Array(_) => "an array".to_owned(),
        serde_json::Value::Object(_) => "an object".to_owned(),
    }
}

/// A user-supplied text, quoted and escaped, shortened to 40 characters.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() > MAX {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}…")
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};
    use serde_json::json;

    fn dec(s: &str) -> Decimal {
        parse_decimal(s).unwrap()
    }

    fn parse(t: DataType, j: serde_json::Value) -> Value {
        parse_value(t, &j).unwrap().unwrap()
    }

    fn err(t: DataType, j: serde_json::Value) -> FieldError {
        parse_value(t, &j).unwrap_err()
    }

    #[test]
    fn data_type_names_round_trip() {
        for t in DataType::ALL {
            assert_eq!(t.as_str().parse::<DataType>().unwrap(), t);
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
            assert_eq!(serde_json::from_value::<DataType>(json!(t.as_str())).unwrap(), t);
        }
        assert_eq!(serde_json::to_value(DataType::DateTime).unwrap(), json!("DateTime"));
    }

    #[test]
    fn unknown_data_type_lists_allowed() {
        let e = "string".parse::<DataType>().unwrap_err();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.field, "data_type");
        assert!(e.message.contains("\"string\""), "{}", e.message);
        assert!(e.message.contains("String, Text, Int, Decimal, Boolean, Date, DateTime"), "{}", e.message);
        assert!(serde_json::from_value::<DataType>(json!("Float")).is_err());
    }

    #[test]
    fn null_is_none_for_every_type() {
        for t in DataType::ALL {
            assert_eq!(parse_value(t, &serde_json::Value::Null).unwrap(), None);
        }
    }

    #[test]
    fn strings_and_texts() {
        assert_eq!(parse(DataType::String, json!("héllo")), Value::String("héllo".into()));
        assert_eq!(parse(DataType::Text, json!("")), Value::Text(String::new()));
        let long = "x".repeat(10_000);
        assert_eq!(parse(DataType::String, json!(long)), Value::String(long.clone()));
        for bad in [json!(1), json!(true), json!([]), json!({})] {
            let e = err(DataType::String, bad.clone());
            assert_eq!(e.code, ErrorCode::Type, "{bad}");
            assert_eq!(e.field, "");
            assert_eq!(err(DataType::Text, bad).code, ErrorCode::Type);
        }
        assert!(err(DataType::String, json!(42)).message.contains("the number 42"));
    }

    #[test]
    fn ints() {
        assert_eq!(parse(DataType::Int, json!(42)), Value::Int(42));
        assert_eq!(parse(DataType::Int, json!(-7)), Value::Int(-7));
        assert_eq!(parse(DataType::Int, json!(i64::MAX)), Value::Int(i64::MAX));
        assert_eq!(parse(DataType::Int, json!(i64::MIN)), Value::Int(i64::MIN));
        assert_eq!(parse(DataType::Int, json!("42")), Value::Int(42));
        assert_eq!(parse(DataType::Int, json!("-42")), Value::Int(-42));
        assert_eq!(parse(DataType::Int, json!(4.0)), Value::Int(4));
        assert_eq!(parse(DataType::Int, json!(-1e3)), Value::Int(-1000));
    }

    #[test]
    fn int_rejections() {
        for bad in [
            json!(4.5),
            json!("4.0"),
            json!("abc"),
            json!(""),
            json!(" 4"),
            json!(true),
            json!([1]),
            json!({}),
        ] {
            let e = err(DataType::Int, bad.clone());
            assert_eq!(e.code, ErrorCode::Type, "{bad}");
        }
        for bad in [
            json!(u64::MAX),
            json!("9223372036854775808"),
            json!("-9223372036854775809"),
            json!(1e19),
            json!(-1e300),
        ] {
            let e = err(DataType::Int, bad.clone());
            assert_eq!(e.code, ErrorCode::Range, "{bad}: {}", e.message);
        }
    }

    #[test]
    fn decimals_are_exact_and_keep_scale() {
        assert_eq!(parse(DataType::Decimal, json!("10.50")).to_json(), json!("10.50"));
        assert_eq!(parse(DataType::Decimal, json!(0.1)).to_json(), json!("0.1"));
        assert_eq!(parse(DataType::Decimal, json!("0.1")).to_json(), json!("0.1"));
        assert_eq!(parse(DataType::Decimal, json!(10)).to_json(), json!("10"));
        assert_eq!(parse(DataType::Decimal, json!(-3)).to_json(), json!("-3"));
        assert_eq!(parse(DataType::Decimal, json!("+3.25")).to_json(), json!("3.25"));
        assert_eq!(parse(DataType::Decimal, json!("007.5")).to_json(), json!("7.5"));
        assert_eq!(parse(DataType::Decimal, json!("0.000")).to_json(), json!("0.000"));
        // 0.1 + 0.2 is exactly 0.3 (unlike f64).
        let sum = dec("0.1") + dec("0.2");
        assert_eq!(sum, dec("0.3"));
        assert_eq!(sum.to_string(), "0.3");
    }

    #[test]
    fn decimal_exponents() {
        assert_eq!(dec("1.5e3").to_string(), "1500");
        assert_eq!(dec("15E-1").to_string(), "1.5");
        assert_eq!(dec("1e+2").to_string(), "100");
        assert_eq!(dec("-2.5e-3").to_string(), "-0.0025");
        // f64 JSON numbers serialize large / small magnitudes with exponents.
        assert_eq!(parse(DataType::Decimal, json!(1e16)).to_json(), json!("10000000000000000"));
        assert_eq!(parse(DataType::Decimal, json!(1.5e-7)).to_json(), json!("0.00000015"));
    }

    #[test]
    fn decimal_28_digit_limit() {
        let max28 = "9".repeat(28);
        assert_eq!(dec(&max28).to_string(), max28);
        assert_eq!(dec(&format!("-{max28}")).to_string(), format!("-{max28}"));
        let frac28 = format!("0.{}", "1".repeat(28));
        assert_eq!(dec(&frac28).to_string(), frac28);
        let tiny = format!("0.{}1", "0".repeat(27));
        assert_eq!(dec(&tiny).to_string(), tiny);
        let e = parse_decimal(&"9".repeat(29)).unwrap_err();
        assert_eq!(e.code, ErrorCode::Range);
        assert!(e.message.contains("28"), "{}", e.message);
        assert_eq!(parse_decimal(&format!("1.{}", "1".repeat(28))).unwrap_err().code, ErrorCode::Range);
        assert_eq!(parse_decimal(&format!("0.{}1", "0".repeat(28))).unwrap_err().code, ErrorCode::Range);
        assert_eq!(parse_decimal("1e28").unwrap_err().code, ErrorCode::Range);
        assert_eq!(dec("1e27").to_string(), format!("1{}", "0".repeat(27)));
        assert_eq!(err(DataType::Decimal, json!(1e30)).code, ErrorCode::Range);
        // Trailing zeros beyond the limits are dropped (the value is unchanged).
        assert_eq!(dec(&format!("1.{}", "0".repeat(40))), Decimal::ONE);
        assert_eq!(dec(&format!("0.{}", "0".repeat(40))), Decimal::ZERO);
    }

    #[test]
    fn decimal_rejections() {
        for bad in [
            "",
            "-",
            "+",
            ".",
            "1.",
            ".5",
            "1..2",
            "1.2.3",
            "NaN",
            "nan",
            "inf",
            "-Infinity",
            "1_000",
            " 1",
            "1 ",
            "0x10",
            "1e",
            "1e+",
            "e5",
            "1e99999",
            "1,5",
            "--1",
        ] {
            let e = parse_decimal(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::Type, "{bad:?}");
            assert_eq!(e.field, "");
        }
        for bad in [json!(true), json!([]), json!({"a": 1})] {
            assert_eq!(err(DataType::Decimal, bad).code, ErrorCode::Type);
        }
    }

    #[test]
    fn decimal_comparison_is_numeric() {
        assert_eq!(compare(&Value::Decimal(dec("1.0")), &Value::Decimal(dec("1.00"))), Some(Ordering::Equal));
        assert_eq!(compare(&Value::Decimal(dec("2")), &Value::Decimal(dec("10"))), Some(Ordering::Less));
        assert_eq!(
            compare(&Value::Decimal(dec("-0.5")), &Value::Decimal(dec("-0.25"))),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(parse(DataType::Boolean, json!(true)), Value::Boolean(true));
        assert_eq!(parse(DataType::Boolean, json!(false)), Value::Boolean(false));
        for bad in [json!("true"), json!("false"), json!(1), json!(0), json!([])] {
            assert_eq!(err(DataType::Boolean, bad.clone()).code, ErrorCode::Type, "{bad}");
        }
    }

    #[test]
    fn dates_are_strict_and_unshifted() {
        let d = parse(DataType::Date, json!("2024-02-29"));
        assert_eq!(d, Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()));
        assert_eq!(d.to_json(), json!("2024-02-29"));
        assert_eq!(parse(DataType::Date, json!("0001-01-01")).to_json(), json!("0001-01-01"));
        assert_eq!(parse(DataType::Date, json!("9999-12-31")).to_json(), json!("9999-12-31"));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-32",
            "0000-01-01",
            "2024-1-5",
            "24-01-05",
            "2024/01/05",
            "2024-01-05T00:00:00Z",
            "2024-01-05 ",
            "+2024-01-05",
            "",
        ] {
            let e = err(DataType::Date, json!(bad));
            assert_eq!(e.code, ErrorCode::Type, "{bad:?}");
        }
        assert_eq!(err(DataType::Date, json!(20240105)).code, ErrorCode::Type);
        assert!(err(DataType::Date, json!("2023-02-29")).message.contains("not a valid calendar date"));
        assert_eq!(parse_date("2024-12-31"), NaiveDate::from_ymd_opt(2024, 12, 31));
        assert_eq!(parse_date("2024-12-31x"), None);
    }

    #[test]
    fn datetimes_convert_to_utc() {
        let t = parse(DataType::DateTime, json!("2024-01-31T23:30:00+02:00"));
        assert_eq!(t, Value::DateTime(Utc.with_ymd_and_hms(2024, 1, 31, 21, 30, 0).unwrap()));
        assert_eq!(t.to_json(), json!("2024-01-31T21:30:00.000000Z"));
        let t = parse(DataType::DateTime, json!("2024-01-31T23:30:00-05:00"));
        assert_eq!(t.to_json(), json!("2024-02-01T04:30:00.000000Z"));
        let t = parse(DataType::DateTime, json!("2024-01-31T12:00:00Z"));
        assert_eq!(t.to_json(), json!("2024-01-31T12:00:00.000000Z"));
        let t = parse(DataType::DateTime, json!("2024-01-31T12:00:00.123456Z"));
        assert_eq!(t.to_json(), json!("2024-01-31T12:00:00.123456Z"));
        // Sub-microsecond digits are truncated to the stored precision.
        let t = parse(DataType::DateTime, json!("2024-01-31T12:00:00.123456789Z"));
        assert_eq!(t.to_json(), json!("2024-01-31T12:00:00.123456Z"));
        if let Value::DateTime(t) = t {
            assert_eq!(t.nanosecond(), 123_456_000);
        }
        for bad in [
            json!("2024-01-31T12:00:00"),
            json!("2024-01-31"),
            json!("2024-01-31T25:00:00Z"),
            json!("yesterday"),
            json!(1706702400),
            json!(true),
        ] {
            assert_eq!(err(DataType::DateTime, bad.clone()).code, ErrorCode::Type, "{bad}");
        }
    }

    #[test]
    fn timestamps_format_and_parse() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 7, 8, 9).unwrap() + chrono::TimeDelta::microseconds(42);
        let s = format_timestamp(&t);
        assert_eq!(s, "2024-03-05T07:08:09.000042Z");
        assert_eq!(parse_timestamp(&s), Some(t));
        assert_eq!(parse_timestamp("2024-03-05T08:08:09.000042+01:00"), Some(t));
        assert_eq!(
            parse_timestamp("2024-03-05 07:08:09"),
            Some(Utc.with_ymd_and_hms(2024, 3, 5, 7, 8, 9).unwrap())
        );
        assert_eq!(parse_timestamp("2024-03-05T07:08:09.000042"), Some(t));
        assert_eq!(parse_timestamp("not a time"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn to_json_round_trips() {
        let values = [
            Value::String("a \"quoted\" ☃".into()),
            Value::Text("long\ntext".into()),
            Value::Int(-12),
            Value::Decimal(dec("123.4500")),
            Value::Boolean(true),
            Value::Date(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap()),
            Value::DateTime(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()),
        ];
        for v in values {
            let j = v.to_json();
            assert_eq!(parse_value(v.data_type(), &j).unwrap(), Some(v.clone()), "{j}");
            assert_eq!(serde_json::to_value(&v).unwrap(), j);
        }
        assert_eq!(Value::Int(5).to_json(), json!(5));
        assert_eq!(Value::Decimal(dec("5.10")).to_json(), json!("5.10"));
    }

    #[test]
    fn data_type_of_values() {
        assert_eq!(Value::String(String::new()).data_type(), DataType::String);
        assert_eq!(Value::Text(String::new()).data_type(), DataType::Text);
        assert_eq!(Value::Int(0).data_type(), DataType::Int);
        assert_eq!(Value::Decimal(Decimal::ZERO).data_type(), DataType::Decimal);
        assert_eq!(Value::Boolean(false).data_type(), DataType::Boolean);
        assert!(DataType::Text.is_textual());
        assert!(!DataType::Int.is_textual());
        assert!(DataType::Decimal.is_numeric());
        assert!(!DataType::Date.is_numeric());
    }

    #[test]
    fn comparisons() {
        let s = |x: &str| Value::String(x.into());
        assert_eq!(compare(&s("a"), &s("b")), Some(Ordering::Less));
        // Code point order: uppercase before lowercase, 'é' (U+00E9) after 'z'.
        assert_eq!(compare(&s("Z"), &s("a")), Some(Ordering::Less));
        assert_eq!(compare(&s("é"), &s("z")), Some(Ordering::Greater));
        assert_eq!(compare(&s("\u{FFFF}"), &s("\u{10000}")), Some(Ordering::Less));
        assert_eq!(compare(&Value::Int(3), &Value::Int(-3)), Some(Ordering::Greater));
        assert_eq!(compare(&Value::Boolean(false), &Value::Boolean(true)), Some(Ordering::Less));
        let d1 = Value::Date(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
        let d2 = Value::Date(NaiveDate::from_ymd_opt(2021, 1, 1).unwrap());
        assert_eq!(compare(&d1, &d2), Some(Ordering::Less));
        let t1 = Value::DateTime(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(compare(&t1, &t1), Some(Ordering::Equal));
        assert_eq!(compare(&Value::Int(1), &Value::Decimal(Decimal::ONE)), None);
        assert_eq!(compare(&s("a"), &Value::Text("a".into())), None);
        assert_eq!(compare(&d1, &t1), None);
    }

    #[test]
    fn quote_shortens() {
        assert_eq!(quote("ab"), "\"ab\"");
        let q = quote(&"x".repeat(100));
        assert!(q.ends_with('…'));
        assert_eq!(q.chars().count(), 43);
    }
}
