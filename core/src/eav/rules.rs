//! Validation rules attached to a table column (`validation_rule_type` + `validation_parameters`).
//!
//! [`parse_rule`] validates a declaration (errors name `validation_rule_type` or `validation_parameters`, code
//! `invalid`); [`ValidationRule::check`] validates a value (codes `format`, `range`, `length`, `enum`; empty
//! `field`, the caller prefixes the column name). Rules apply to non-null values only: NULL is the business of
//! `is_mandatory`.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

use super::types::{parse_decimal, quote, DataType, Value};
use crate::error::{ErrorCode, FieldError};

/// The request field naming the rule type.
pub const RULE_TYPE_FIELD: &str = "validation_rule_type";
/// The request field holding the rule parameters.
pub const RULE_PARAMETERS_FIELD: &str = "validation_parameters";
/// Compiled-size limit of `regex` patterns.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The rule type names, as accepted by [`parse_rule`].
pub const RULE_TYPES: [&str; 6] = ["email", "url", "regex", "range", "length", "enum"];

/// How many enum options an error message lists before eliding the rest.
const MAX_OPTIONS_IN_MESSAGE: usize = 20;

/// A validation rule of a column.
#[derive(Debug, Clone)]
pub enum ValidationRule {
    /// A pragmatic email address check.
    Email,
    /// An absolute `http`/`https` URL with a host.
    Url,
    /// The value must contain a match of the pattern (Rust `regex` syntax, unanchored like `regexp_like`;
    /// anchor with `^…$` to match the whole value). The source is `Regex::as_str()`.
    Regex(regex::Regex),
    /// Inclusive numeric bounds (Int and Decimal columns).
    Range { min: Option<Decimal>, max: Option<Decimal> },
    /// Inclusive length bounds in characters (Unicode scalar values), not bytes.
    Length { min: Option<usize>, max: Option<usize> },
    /// The value must equal one of the options exactly (case-sensitive).
    Enum(Vec<String>),
}

impl PartialEq for ValidationRule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Email, Self::Email) | (Self::Url, Self::Url) => true,
            (Self::Regex(a), Self::Regex(b)) => a.as_str() == b.as_str(),
            (Self::Range { min: a1, max: a2 }, Self::Range { min: b1, max: b2 }) => a1 == b1 && a2 == b2,
            (Self::Length { min: a1, max: a2 }, Self::Length { min: b1, max: b2 }) => a1 == b1 && a2 == b2,
            (Self::Enum(a), Self::Enum(b)) => a == b,
            _ => false,
        }
    }
}

impl ValidationRule {
    /// The rule type name: `email`, `url`, `regex`, `range`, `length` or `enum`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Url => "url",
            Self::Regex(_) => "regex",
            Self::Range { .. } => "range",
            Self::Length { .. } => "length",
            Self::Enum(_) => "enum",
        }
    }

    /// The canonical parameters, to store back (parsing them with [`parse_rule`] gives the same rule):
    /// `{}`, `{"pattern"}`, `{"min", "max"}` (decimals as strings; absent bounds omitted),
    /// `{"min", "max"}` (integers), `{"options"}`.
    pub fn parameters(&self) -> Json {
        match self {
            Self::Email | Self::Url => Json::Object(Map::new()),
            Self::Regex(regex) => {
                let mut map = Map::new();
                map.insert("pattern".to_owned(), Json::String(regex.as_str().to_owned()));
                Json::Object(map)
            }
            Self::Range { min, max } => {
                let mut map = Map::new();
                if let Some(min) = min {
                    map.insert("min".to_owned(), Json::String(min.to_string()));
                }
                if let Some(max) = max {
                    map.insert("max".to_owned(), Json::String(max.to_string()));
                }
                Json::Object(map)
            }
            Self::Length { min, max } => {
                let mut map = Map::new();
                if let Some(min) = min {
                    map.insert("min".to_owned(), Json::from(*min));
                }
                if let Some(max) = max {
                    map.insert("max".to_owned(), Json::from(*max));
                }
                Json::Object(map)
            }
            Self::Enum(options) => {
                let mut map = Map::new();
                map.insert(
                    "options".to_owned(),
                    Json::Array(options.iter().map(|o| Json::String(o.clone())).collect()),
                );
                Json::Object(map)
            }
        }
    }

    /// Checks a non-null value. Codes: email/url/regex → `format`, range → `range`, length → `length`,
    /// enum → `enum`; a value of a type the rule does not apply to → `type`. `field` is empty.
    pub fn check(&self, value: &Value) -> Result<(), FieldError> {
        match self {
            Self::Email => {
                if is_valid_email(self.text(value)?) {
                    Ok(())
                } else {
                    Err(value_error(ErrorCode::Format, "must be a valid email address".to_owned()))
                }
            }
            Self::Url => {
                if is_valid_url(self.text(value)?) {
                    Ok(())
                } else {
                    Err(value_error(
                        ErrorCode::Format,
                        "must be an absolute http or https URL with a host".to_owned(),
                    ))
                }
            }
            Self::Regex(regex) => {
                if regex.is_match(self.text(value)?) {
                    Ok(())
                } else {
                    Err(value_error(ErrorCode::Format, format!("must match the pattern {}", regex.as_str())))
                }
            }
            Self::Range { min, max } => {
                let number = match value {
                    Value::Int(i) => Decimal::from(*i),
                    Value::Decimal(d) => *d,
                    other => return Err(self.not_applicable(other)),
                };
                if let Some(min) = min.as_ref().filter(|min| number < **min) {
                    return Err(value_error(ErrorCode::Range, format!("must be at least {min}")));
                }
                if let Some(max) = max.as_ref().filter(|max| number > **max) {
                    return Err(value_error(ErrorCode::Range, format!("must be at most {max}")));
                }
                Ok(())
            }
            Self::Length { min, max } => {
                let length = self.text(value)?.chars().count();
                if let Some(min) = min.filter(|min| length < *min) {
                    let unit = if min == 1 { "character" } else { "characters" };
                    return Err(value_error(
                        ErrorCode::Length,
                        format!("must be at least {min} {unit} long"),
                    ));
                }
                if let Some(max) = max.filter(|max| length > *max) {
                    let unit = if max == 1 { "character" } else { "characters" };
                    return Err(value_error(ErrorCode::Length, format!("must be at most {max} {unit} long")));
                }
                Ok(())
            }
            Self::Enum(options) => {
                let text = self.text(value)?;
                if options.iter().any(|o| o == text) {
                    Ok(())
                } else {
                    Err(value_error(ErrorCode::Enum, format!("must be one of: {}", list_options(options))))
                }
            }
        }
    }

    fn text<'a>(&self, value: &'a Value) -> Result<&'a str, FieldError> {
        match value {
            Value::String(s) | Value::Text(s) => Ok(s),
            other => Err(self.not_applicable(other)),
        }
    }

    fn not_applicable(&self, value: &Value) -> FieldError {
        value_error(
            ErrorCode::Type,
            format!("the {} rule does not apply to a {} value", self.kind(), value.data_type().as_str()),
        )
    }
}

/// Validates a rule declaration for a column of type `data_type`.
///
/// `rule_type` `None` means no rule (`Ok(None)`); parameters must then be absent, null or `{}`.
/// Parameters: email, url: absent, null or `{}`; regex: `{"pattern": "…"}`; range: `{"min", "max"}` (numbers
/// or decimal strings, at least one, min ≤ max; Int/Decimal columns only); length: `{"min", "max"}`
/// (non-negative integers, at least one, min ≤ max); enum: `{"options": ["a", …]}` (non-empty, unique
/// strings). email, url, regex, length and enum apply to String/Text columns only. Unknown parameter keys are
/// rejected; null bounds count as absent.
pub fn parse_rule(
    rule_type: Option<&str>,
    parameters: Option<&Json>,
    data_type: DataType,
) -> Result<Option<ValidationRule>, FieldError> {
    let params = match parameters {
        None | Some(Json::Null) => None,
        Some(Json::Object(map)) => Some(map),
        Some(_) => return Err(params_error("must be a JSON object".to_owned())),
    };
    let Some(rule_type) = rule_type else {
        if params.is_some_and(|map| !map.is_empty()) {
            return Err(params_error("given without a validation_rule_type".to_owned()));
        }
        return Ok(None);
    };
    let empty = Map::new();
    let params = params.unwrap_or(&empty);

    let rule = match rule_type {
        "email" | "url" => {
            require_textual(rule_type, data_type)?;
            if !params.is_empty() {
                return Err(params_error(format!("the {rule_type} rule takes no parameters")));
            }
            if rule_type == "email" {
                ValidationRule::Email
            } else {
                ValidationRule::Url
            }
        }
        "regex" => {
            require_textual(rule_type, data_type)?;
            only_keys(rule_type, params, &["pattern"])?;
            let pattern = match params.get("pattern") {
                Some(Json::String(pattern)) if !pattern.is_empty() => pattern,
                Some(Json::String(_)) => return Err(params_error("pattern must not be empty".to_owned())),
                Some(_) => return Err(params_error("pattern must be a string".to_owned())),
                None => return Err(params_error("the regex rule needs {\"pattern\": \"…\"}".to_owned())),
            };
            let regex = regex::RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| params_error(format!("invalid pattern: {e}")))?;
            ValidationRule::Regex(regex)
        }
        "range" => {
            if !data_type.is_numeric() {
                return Err(rule_type_error(format!(
                    "the range rule applies only to Int and Decimal columns, not {}",
                    data_type.as_str()
                )));
            }
            only_keys(rule_type, params, &["min", "max"])?;
            let min = range_bound(params, "min")?;
            let max = range_bound(params, "max")?;
            match (min, max) {
                (None, None) => {
                    return Err(params_error("the range rule needs \"min\", \"max\" or both".to_owned()))
                }
                (Some(min), Some(max)) if min > max => {
                    return Err(params_error(format!("min ({min}) must not be greater than max ({max})")))
                }
                _ => {}
            }
            ValidationRule::Range { min, max }
        }
        "length" => {
            require_textual(rule_type, data_type)?;
            only_keys(rule_type, params, &["min", "max"])?;
            let min = length_bound(params, "min")?;
            let max = length_bound(params, "max")?;
            match (min, max) {
                (None, None) => {
                    return Err(params_error("the length rule needs \"min\", \"max\" or both".to_owned()))
                }
                (Some(min), Some(max)) if min > max => {
                    return Err(params_error(format!("min ({min}) must not be greater than max ({max})")))
                }
                _ => {}
            }
            ValidationRule::Length { min, max }
        }
        "enum" => {
            require_textual(rule_type, data_type)?;
            only_keys(rule_type, params, &["options"])?;
            let items = match params.get("options") {
                Some(Json::Array(items)) if !items.is_empty() => items,
                Some(Json::Array(_)) => return Err(params_error("options must not be empty".to_owned())),
                Some(_) => return Err(params_error("options must be an array of strings".to_owned())),
                None => return Err(params_error("the enum rule needs {\"options\": [\"…\", …]}".to_owned())),
            };
            let mut options = Vec::with_capacity(items.len());
            let mut seen = HashSet::with_capacity(items.len());
            for item in items {
                let Json::String(option) = item else {
                    return Err(params_error("options must be an array of strings".to_owned()));
                };
                if !seen.insert(option.as_str()) {
                    return Err(params_error(format!("option {} appears more than once", quote(option))));
                }
                options.push(option.clone());
            }
            ValidationRule::Enum(options)
        }
        other => {
            return Err(rule_type_error(format!(
                "unknown validation rule type {}; allowed: {}",
                quote(other),
                RULE_TYPES.join(", ")
            )))
        }
    };
    Ok(Some(rule))
}

/// A pragmatic email check: exactly one `@`; a non-empty local part of at most 64 characters without spaces,
/// quotes, brackets or consecutive / leading / trailing dots; a domain of dot-separated labels (letters,
/// digits, hyphens not at the ends, non-ASCII allowed) with at least one dot and a non-numeric last label;
/// at most 254 characters in total.
pub fn is_valid_email(s: &str) -> bool {
    if s.chars().count() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.chars().count() > 64 || domain.contains('@') {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    if local.chars().any(|c| matches!(c, '(' | ')' | '<' | '>' | ',' | ';' | ':' | '\\' | '"' | '[' | ']')) {
        return false;
    }
    if !domain.contains('.') || !is_valid_host_name(domain) {
        return false;
    }
    domain.rsplit('.').next().is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

/// A strict, small URL check: scheme `http` or `https` (any case), `://`, an optional `userinfo@`, a host (a
/// host name of dot-separated labels, an IPv4 address, or a bracketed IPv6 address), an optional port
/// (1–5 digits, ≤ 65535), then an optional path / query / fragment without spaces, control characters or
/// `<>"{}|\^\``, with valid `%` escapes.
pub fn is_valid_url(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            if userinfo.is_empty() || userinfo.contains('@') || !percent_escapes_ok(userinfo) {
                return false;
            }
            host_port
        }
        None => authority,
    };
    let (host_ok, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((ipv6, after)) = bracketed.split_once(']') else {
            return false;
        };
        let ok = ipv6.contains(':') && ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        let port = if after.is_empty() {
            None
        } else if let Some(port) = after.strip_prefix(':') {
            Some(port)
        } else {
            return false;
        };
        (ok, port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (is_valid_host_name(host), Some(port)),
            None => (is_valid_host_name(host_port), None),
        }
    };
    if !host_ok {
        return false;
    }
    if let Some(port) = port {
        let digits_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if !digits_ok || port.parse::<u16>().is_err() {
            return false;
        }
    }
    let bad_char = |c: char| matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`');
    !tail.chars().any(bad_char) && percent_escapes_ok(tail)
}

/// Dot-separated labels of letters, digits and hyphens (not at a label's ends; non-ASCII letters allowed for
/// internationalized names), each 1–63 characters, at most 253 characters in total.
fn is_valid_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.chars().count() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric()))
        })
}

/// Every `%` is followed by two hex digits.
fn percent_escapes_ok(s: &str) -> bool {
    s.split('%')
        .skip(1)
        .all(|part| part.as_bytes().get(..2).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)))
}

fn require_textual(rule_type: &str, data_type: DataType) -> Result<(), FieldError> {
    if data_type.is_textual() {
        Ok(())
    } else {
        Err(rule_type_error(format!(
            "the {rule_type} rule applies only to String and Text columns, not {}",
            data_type.as_str()
        )))
    }
}

fn only_keys(rule_type: &str, params: &Map<String, Json>, allowed: &[&str]) -> Result<(), FieldError> {
    match params.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(params_error(format!(
            "unknown parameter {} for the {rule_type} rule; allowed: {}",
            quote(key),
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn range_bound(params: &Map<String, Json>, key: &str) -> Result<Option<Decimal>, FieldError> {
    let parsed = match params.get(key) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Number(n)) => parse_decimal(&n.to_string()),
        Some(Json::String(s)) => parse_decimal(s),
        Some(_) => return Err(params_error(format!("{key} must be a number or a decimal string"))),
    };
    parsed.map(Some).map_err(|e| params_error(format!("{key}: {}", e.message)))
}

fn length_bound(params: &Map<String, Json>, key: &str) -> Result<Option<usize>, FieldError> {
    match params.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| params_error(format!("{key} must be a non-negative integer"))),
        Some(_) => Err(params_error(format!("{key} must be a non-negative integer"))),
    }
}

fn list_options(options: &[String]) -> String {
    let shown: Vec<String> =
        options.iter().take(MAX_OPTIONS_IN_MESSAGE).map(String::as_str).map(quote).collect();
    let list = shown.join(", ");
    if options.len() > MAX_OPTIONS_IN_MESSAGE {
        format!("{list} (and {} more)", options.len() - MAX_OPTIONS_IN_MESSAGE)
    } else {
        list
    }
}

fn value_error(code: ErrorCode, message: String) -> FieldError {
    FieldError::new("", code, message)
}

fn rule_type_error(message: String) -> FieldError {
    FieldError::new(RULE_TYPE_FIELD, ErrorCode::Invalid, message)
}

fn params_error(message: String) -> FieldError {
    FieldError::new(RULE_PARAMETERS_FIELD, ErrorCode::Invalid, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::str::FromStr;

    fn rule(kind: &str, params: Json, t: DataType) -> ValidationRule {
        parse_rule(Some(kind), Some(&params), t).unwrap().unwrap()
    }

    fn decl_err(kind: Option<&str>, params: Json, t: DataType) -> FieldError {
        let e = parse_rule(kind, Some(&params), t).unwrap_err();
        assert_eq!(e.code, ErrorCode::Invalid, "{}", e.message);
        e
    }

    fn s(x: &str) -> Value {
        Value::String(x.to_owned())
    }

    fn d(x: &str) -> Decimal {
        Decimal::from_str(x).unwrap()
    }

    #[test]
    fn no_rule() {
        assert_eq!(parse_rule(None, None, DataType::String).unwrap(), None);
        assert_eq!(parse_rule(None, Some(&Json::Null), DataType::Int).unwrap(), None);
        assert_eq!(parse_rule(None, Some(&json!({})), DataType::Int).unwrap(), None);
        let e = decl_err(None, json!({"min": 1}), DataType::Int);
        assert_eq!(e.field, RULE_PARAMETERS_FIELD);
    }

    #[test]
    fn unknown_rule_type() {
        let e = decl_err(Some("phone"), Json::Null, DataType::String);
        assert_eq!(e.field, RULE_TYPE_FIELD);
        assert!(e.message.contains("\"phone\""), "{}", e.message);
        assert!(e.message.contains("email, url, regex, range, length, enum"), "{}", e.message);
        assert_eq!(decl_err(Some("Email"), Json::Null, DataType::String).field, RULE_TYPE_FIELD);
    }

    #[test]
    fn parameters_must_be_an_object() {
        for bad in [json!([]), json!("x"), json!(1)] {
            let e = decl_err(Some("email"), bad, DataType::String);
            assert_eq!(e.field, RULE_PARAMETERS_FIELD);
        }
    }

    #[test]
    fn email_rule() {
        let r = rule("email", Json::Null, DataType::String);
        assert_eq!(r, ValidationRule::Email);
        assert_eq!(parse_rule(Some("email"), None, DataType::Text).unwrap(), Some(ValidationRule::Email));
        assert_eq!(rule("email", json!({}), DataType::Text), ValidationRule::Email);
        for ok in [
            "a@example.com",
            "first.last+tag@sub.example.co.uk",
            "x_y-z@b-c.io",
            "ñandú@correo.es",
            "u@dömain.de",
        ] {
            assert!(r.check(&s(ok)).is_ok(), "{ok}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(251));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@example.com",
            "a@b@example.com",
            "a b@example.com",
            "a@exa mple.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
            "a@-example.com",
            "a@1.2.3.4",
            "\"a\"@example.com",
            "<a@example.com>",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            let e = r.check(&s(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::Format, "{bad:?}");
            assert_eq!(e.field, "");
        }
        assert!(is_valid_email(&format!("{}@example.com", "a".repeat(64))));
    }

    #[test]
    fn url_rule() {
        let r = rule("url", Json::Null, DataType::String);
        assert_eq!(r, ValidationRule::Url);
        for ok in [
            "http://example.com",
            "https://example.com/",
            "HTTPS://Example.COM/path/to?x=1&y=%20#frag",
            "http://localhost:8080",
            "http://127.0.0.1/x",
            "http://[::1]:3000/",
            "http://[2001:db8::1]",
            "https://user:pass@example.com/",
            "https://bücher.de/ñ",
            "http://example.com?q",
            "http://example.com#top",
        ] {
            assert!(r.check(&s(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "mailto:a@example.com",
            "http:/example.com",
            "http://",
            "http:///path",
            "http://exa mple.com",
            "http://example.com/a b",
            "http://example.com:",
            "http://example.com:99999",
            "http://example.com:8a",
            "http://-example.com",
            "http://example..com",
            "http://example_host.com",
            "http://[::1",
            "http://[::1]x",
            "http://[zz]",
            "http://@example.com",
            "http://example.com/<script>",
            "http://example.com/%zz",
            "http://example.com/%2",
            "javascript://alert(1)",
        ] {
            let e = r.check(&s(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::Format, "{bad:?}");
        }
    }

    #[test]
    fn email_and_url_take_no_parameters_and_need_text() {
        let e = decl_err(Some("url"), json!({"strict": true}), DataType::String);
        assert_eq!(e.field, RULE_PARAMETERS_FIELD);
        let e = decl_err(Some("email"), Json::Null, DataType::Int);
        assert_eq!(e.field, RULE_TYPE_FIELD);
        assert!(e.message.contains("String and Text"), "{}", e.message);
        assert_eq!(decl_err(Some("url"), Json::Null, DataType::Date).field, RULE_TYPE_FIELD);
    }

    #[test]
    fn regex_rule() {
        let r = rule("regex", json!({"pattern": "^[A-Z]{3}-\\d+$"}), DataType::String);
        assert!(r.check(&s("ABC-123")).is_ok());
        let e = r.check(&s("abc-123")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Format);
        assert!(e.message.contains("^[A-Z]{3}-\\d+$"), "{}", e.message);
        // Unanchored patterns match anywhere.
        let r = rule("regex", json!({"pattern": "\\d"}), DataType::Text);
        assert!(r.check(&Value::Text("abc1".into())).is_ok());
        assert!(r.check(&Value::Text("abc".into())).is_err());
        assert_eq!(r.kind(), "regex");
    }

    #[test]
    fn regex_declaration_errors() {
        let e = decl_err(Some("regex"), json!({"pattern": "("}), DataType::String);
        assert_eq!(e.field, RULE_PARAMETERS_FIELD);
        assert!(e.message.starts_with("invalid pattern:"), "{}", e.message);
        assert!(e.message.len() > "invalid pattern: ".len());
        decl_err(Some("regex"), json!({}), DataType::String);
        decl_err(Some("regex"), Json::Null, DataType::String);
        decl_err(Some("regex"), json!({"pattern": 5}), DataType::String);
        decl_err(Some("regex"), json!({"pattern": ""}), DataType::String);
        decl_err(Some("regex"), json!({"pattern": "a", "flags": "i"}), DataType::String);
        let e = decl_err(Some("regex"), json!({"pattern": "a"}), DataType::Int);
        assert_eq!(e.field, RULE_TYPE_FIELD);
        // Too big once compiled.
        let e = decl_err(Some("regex"), json!({"pattern": "\\w{1000}{1000}"}), DataType::String);
        assert_eq!(e.field, RULE_PARAMETERS_FIELD);
    }

    #[test]
    fn range_rule() {
        let r = rule("range", json!({"min": 1, "max": "10.5"}), DataType::Decimal);
        assert_eq!(r, ValidationRule::Range { min: Some(d("1")), max: Some(d("10.5")) });
        assert!(r.check(&Value::Decimal(d("1"))).is_ok());
        assert!(r.check(&Value::Decimal(d("10.50"))).is_ok());
        let e = r.check(&Value::Decimal(d("10.51"))).unwrap_err();
        assert_eq!(e.code, ErrorCode::Range);
        assert_eq!(e.message, "must be at most 10.5");
        let e = r.check(&Value::Decimal(d("0.99"))).unwrap_err();
        assert_eq!(e.code, ErrorCode::Range);
        assert_eq!(e.message, "must be at least 1");

        let r = rule("range", json!({"min": 0}), DataType::Int);
        assert!(r.check(&Value::Int(0)).is_ok());
        assert!(r.check(&Value::Int(i64::MAX)).is_ok());
        assert_eq!(r.check(&Value::Int(-1)).unwrap_err().code, ErrorCode::Range);

        let r = rule("range", json!({"max": 2.5, "min": null}), DataType::Int);
        assert!(r.check(&Value::Int(2)).is_ok());
        assert_eq!(r.check(&Value::Int(3)).unwrap_err().code, ErrorCode::Range);
        assert_eq!(r.check(&s("x")).unwrap_err().code, ErrorCode::Type);

        // min == max is fine.
        let r = rule("range", json!({"min": "5", "max": 5}), DataType::Int);
        assert!(r.check(&Value::Int(5)).is_ok());
    }

    #[test]
    fn range_declaration_errors() {
        decl_err(Some("range"), json!({}), DataType::Int);
        decl_err(Some("range"), Json::Null, DataType::Int);
        decl_err(Some("range"), json!({"min": null, "max": null}), DataType::Int);
        let e = decl_err(Some("range"), json!({"min": 10, "max": 1}), DataType::Int);
        assert_eq!(e.field, RULE_PARAMETERS_FIELD);
        assert!(e.message.contains("min (10)"), "{}", e.message);
        let e = decl_err(Some("range"), json!({"min": "ten"}), DataType::Int);
        assert!(e.message.starts_with("min:"), "{}", e.message);
        decl_err(Some("range"), json!({"min": true}), DataType::Decimal);
        decl_err(Some("range"), json!({"min": 1, "step": 2}), DataType::Decimal);
        decl_err(Some("range"), json!({"max": "1e40"}), DataType::Decimal);
        let e = decl_err(Some("range"), json!({"min": 1}), DataType::String);
        assert_eq!(e.field, RULE_TYPE_FIELD);
        assert!(e.message.contains("Int and Decimal"), "{}", e.message);
    }

    #[test]
    fn length_rule_counts_characters() {
        let r = rule("length", json!({"min": 2, "max": 4}), DataType::String);
        assert!(r.check(&s("ab")).is_ok());
        assert!(r.check(&s("abcd")).is_ok());
        // 4 characters, 8+ bytes.
        assert!(r.check(&s("ñáéí")).is_ok());
        assert!(r.check(&s("😀😀😀😀")).is_ok());
        let e = r.check(&s("😀😀😀😀😀")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Length);
        assert_eq!(e.message, "must be at most 4 characters long");
        let e = r.check(&s("é")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Length);
        assert_eq!(e.message, "must be at least 2 characters long");

        let r = rule("length", json!({"min": 1}), DataType::Text);
        assert_eq!(
            r.check(&Value::Text(String::new())).unwrap_err().message,
            "must be at least 1 character long"
        );
        assert!(r.check(&Value::Text("x".repeat(100_000))).is_ok());
        assert_eq!(r.check(&Value::Int(1)).unwrap_err().code, ErrorCode::Type);

        let r = rule("length", json!({"max": 0}), DataType::Text);
        assert!(r.check(&Value::Text(String::new())).is_ok());
    }

    #[test]
    fn length_declaration_errors() {
        decl_err(Some("length"), json!({}), DataType::String);
        decl_err(Some("length"), json!({"min": -1}), DataType::String);
        decl_err(Some("length"), json!({"min": 1.5}), DataType::String);
        decl_err(Some("length"), json!({"min": "1"}), DataType::String);
        decl_err(Some("length"), json!({"min": 5, "max": 4}), DataType::String);
        decl_err(Some("length"), json!({"max": 4, "exact": 4}), DataType::String);
        let e = decl_err(Some("length"), json!({"max": 4}), DataType::Decimal);
        assert_eq!(e.field, RULE_TYPE_FIELD);
    }

    #[test]
    fn enum_rule() {
        let r = rule("enum", json!({"options": ["red", "green", "blue"]}), DataType::String);
        assert!(r.check(&s("green")).is_ok());
        let e = r.check(&s("Green")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Enum);
        assert_eq!(e.message, "must be one of: \"red\", \"green\", \"blue\"");
        let many: Vec<String> = (0..30).map(|i| format!("o{i}")).collect();
        let r = rule("enum", json!({"options": many}), DataType::Text);
        let e = r.check(&Value::Text("x".into())).unwrap_err();
        assert!(e.message.ends_with("(and 10 more)"), "{}", e.message);
    }

    #[test]
    fn enum_declaration_errors() {
        decl_err(Some("enum"), json!({}), DataType::String);
        decl_err(Some("enum"), json!({"options": []}), DataType::String);
        decl_err(Some("enum"), json!({"options": "red"}), DataType::String);
        decl_err(Some("enum"), json!({"options": ["a", 1]}), DataType::String);
        let e = decl_err(Some("enum"), json!({"options": ["a", "b", "a"]}), DataType::String);
        assert!(e.message.contains("more than once"), "{}", e.message);
        decl_err(Some("enum"), json!({"options": ["a"], "labels": ["A"]}), DataType::String);
        assert_eq!(decl_err(Some("enum"), json!({"options": ["1"]}), DataType::Int).field, RULE_TYPE_FIELD);
    }

    #[test]
    fn kinds_and_parameters_round_trip() {
        let rules = [
            (rule("email", Json::Null, DataType::String), "email", json!({})),
            (rule("url", json!({}), DataType::String), "url", json!({})),
            (
                rule("regex", json!({"pattern": "^a+$"}), DataType::String),
                "regex",
                json!({"pattern": "^a+$"}),
            ),
            (
                rule("range", json!({"min": 1.5, "max": 10}), DataType::Decimal),
                "range",
                json!({"min": "1.5", "max": "10"}),
            ),
            (rule("range", json!({"max": "7"}), DataType::Int), "range", json!({"max": "7"})),
            (
                rule("length", json!({"min": 0, "max": 3}), DataType::Text),
                "length",
                json!({"min": 0, "max": 3}),
            ),
            (rule("length", json!({"max": 3}), DataType::Text), "length", json!({"max": 3})),
            (
                rule("enum", json!({"options": ["x", "y"]}), DataType::String),
                "enum",
                json!({"options": ["x", "y"]}),
            ),
        ];
        for (r, kind, params) in rules {
            assert_eq!(r.kind(), kind);
            assert_eq!(r.parameters(), params, "{kind}");
            let t = if kind == "range" { DataType::Decimal } else { DataType::String };
            let again = parse_rule(Some(r.kind()), Some(&r.parameters()), t).unwrap().unwrap();
            assert_eq!(again, r);
        }
        assert_ne!(ValidationRule::Email, ValidationRule::Url);
    }

    #[test]
    fn percent_escapes() {
        assert!(percent_escapes_ok("a%20b%2Fc"));
        assert!(percent_escapes_ok(""));
        assert!(!percent_escapes_ok("%"));
        assert!(!percent_escapes_ok("a%2"));
        assert!(!percent_escapes_ok("a%g0"));
        assert!(!percent_escapes_ok("%é0"));
    }
}
