//! Validated names of tables and columns (`^[a-z][a-z0-9_]{0,62}$`; SQL keywords are allowed and quoted
//! wherever they meet SQL) and extended-property JSON paths.

use std::borrow::Borrow;
use std::fmt;

use serde::Serialize;

use super::types::quote;
use crate::error::{ErrorCode, FieldError};

/// The rule table and column names follow.
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9_]{0,62}$";
/// Longest table or column name, in bytes (= characters, the names are ASCII).
pub const MAX_NAME_LEN: usize = 63;
/// Column names taken by promoted and system fields of a row.
pub const RESERVED_COLUMN_NAMES: [&str; 13] = [
    "id",
    "code",
    "display_value",
    "sort_order",
    "is_active",
    "parent_row_id",
    "version",
    "values",
    "extended_properties",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];
/// Most segments of an extended-property JSON path.
pub const MAX_JSON_PATH_SEGMENTS: usize = 16;
/// Longest segment of an extended-property JSON path.
pub const MAX_JSON_PATH_SEGMENT_LEN: usize = 64;

/// Whether `s` matches `^[a-z][a-z0-9_]{0,62}$`.
pub fn is_valid_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.len() <= MAX_NAME_LEN
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// Whether `s` is one of [`RESERVED_COLUMN_NAMES`].
pub fn is_reserved_column_name(s: &str) -> bool {
    RESERVED_COLUMN_NAMES.contains(&s)
}

fn check_name(s: &str, field: &str) -> Result<(), FieldError> {
    if is_valid_name(s) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            ErrorCode::Format,
            format!(
                "invalid name {}: must match {NAME_PATTERN} (a lowercase letter, then up to 62 lowercase letters, digits or underscores)",
                quote(s)
            ),
        ))
    }
}

macro_rules! name_type {
    ($name:ident) => {
        impl $name {
            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The name, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }
    };
}

/// A valid logical table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TableName(String);

impl TableName {
    /// Validates a table name; errors have code `format` and the given `field`.
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        check_name(s, field)?;
        Ok(TableName(s.to_owned()))
    }
}

name_type!(TableName);

/// A valid column name: the name rule, and not one of [`RESERVED_COLUMN_NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ColumnName(String);

impl ColumnName {
    /// Validates a column name; errors have the given `field` and code `format` (bad shape) or `invalid`
    /// (a reserved name).
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        check_name(s, field)?;
        if is_reserved_column_name(s) {
            return Err(FieldError::new(
                field,
                ErrorCode::Invalid,
                format!("{} is reserved (a promoted or system field of every row)", quote(s)),
            ));
        }
        Ok(ColumnName(s.to_owned()))
    }
}

name_type!(ColumnName);

/// Parses an extended-property JSON path: 1 to 16 segments joined by dots, each 1 to 64 characters of
/// `[A-Za-z0-9_]`. Errors have code `invalid` and the given `field`.
pub fn parse_json_path(path: &str, field: &str) -> Result<Vec<String>, FieldError> {
    let invalid = |message: String| FieldError::new(field, ErrorCode::Invalid, message);
    if path.is_empty() {
        return Err(invalid("the JSON path is empty".to_owned()));
    }
    let segments: Vec<&str> = path.split('.').collect();
    if segments.len() > MAX_JSON_PATH_SEGMENTS {
        return Err(invalid(format!(
            "invalid JSON path {}: at most {MAX_JSON_PATH_SEGMENTS} segments are allowed",
            quote(path)
        )));
    }
    for segment in &segments {
        let well_formed =
            !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !well_formed {
            return Err(invalid(format!(
                "invalid JSON path {}: segments are [A-Za-z0-9_]+ joined by dots",
                quote(path)
            )));
        }
        if segment.len() > MAX_JSON_PATH_SEGMENT_LEN {
            return Err(invalid(format!(
                "invalid JSON path {}: a segment may have at most {MAX_JSON_PATH_SEGMENT_LEN} characters",
                quote(path)
            )));
        }
    }
    Ok(segments.into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn valid_names() {
        for ok in ["a", "albums", "year", "select", "order", "name", "total", "a1", "a_b_c", "x__", "z9_"] {
            let t = TableName::parse(ok, "table_name").unwrap();
            assert_eq!(t.as_str(), ok);
            assert_eq!(t.to_string(), ok);
            assert_eq!(t.as_ref(), ok);
            let c = ColumnName::parse(ok, "column_name").unwrap();
            assert_eq!(c.as_str(), ok);
            assert_eq!(c, ok);
        }
        let longest = format!("a{}", "b".repeat(62));
        assert_eq!(TableName::parse(&longest, "table_name").unwrap().as_str().len(), 63);
        assert!(ColumnName::parse(&longest, "column_name").is_ok());
    }

    #[test]
    fn invalid_names() {
        let too_long = format!("a{}", "b".repeat(63));
        for bad in [
            "",
            "A",
            "Albums",
            "1abc",
            "_abc",
            "abc-def",
            "abc def",
            "abc.def",
            "ábc",
            "abc$",
            "aBc",
            too_long.as_str(),
        ] {
            let e = TableName::parse(bad, "table_name").unwrap_err();
            assert_eq!(e.code, ErrorCode::Format, "{bad:?}");
            assert_eq!(e.field, "table_name");
            assert!(e.message.contains(NAME_PATTERN), "{}", e.message);
            let e = ColumnName::parse(bad, "values.x").unwrap_err();
            assert_eq!(e.code, ErrorCode::Format, "{bad:?}");
            assert_eq!(e.field, "values.x");
        }
    }

    #[test]
    fn reserved_column_names() {
        for reserved in RESERVED_COLUMN_NAMES {
            let e = ColumnName::parse(reserved, "column_name").unwrap_err();
            assert_eq!(e.code, ErrorCode::Invalid, "{reserved}");
            assert_eq!(e.field, "column_name");
            assert!(e.message.contains("is reserved"), "{}", e.message);
            // Reserved names are fine for tables.
            assert!(TableName::parse(reserved, "table_name").is_ok());
        }
        assert!(ColumnName::parse("ids", "column_name").is_ok());
        assert!(ColumnName::parse("value", "column_name").is_ok());
        assert!(is_reserved_column_name("created_at"));
        assert!(!is_reserved_column_name("created"));
    }

    #[test]
    fn serialize_and_borrow() {
        let c = ColumnName::parse("title", "column_name").unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!("title"));
        let t = TableName::parse("albums", "table_name").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"albums\"");
        let mut map = HashMap::new();
        map.insert(c.clone(), 1);
        assert_eq!(map.get("title"), Some(&1));
        let s: String = c.clone().into();
        assert_eq!(s, "title");
        assert_eq!(c.into_string(), "title");
        let a = TableName::parse("a", "t").unwrap();
        let b = TableName::parse("b", "t").unwrap();
        assert!(a < b);
    }

    #[test]
    fn json_paths() {
        assert_eq!(parse_json_path("profile", "f").unwrap(), ["profile"]);
        assert_eq!(parse_json_path("profile.handle", "f").unwrap(), ["profile", "handle"]);
        assert_eq!(parse_json_path("A_1.b2.C_", "f").unwrap(), ["A_1", "b2", "C_"]);
        let sixteen = ["s"; 16].join(".");
        assert_eq!(parse_json_path(&sixteen, "f").unwrap().len(), 16);
        let seg64 = "x".repeat(64);
        assert_eq!(parse_json_path(&seg64, "f").unwrap(), [seg64]);
    }

    #[test]
    fn invalid_json_paths() {
        let seventeen = ["s"; 17].join(".");
        let seg65 = "x".repeat(65);
        for bad in [
            "",
            ".",
            "a.",
            ".a",
            "a..b",
            "a-b",
            "a b",
            "a.b c",
            "a[0]",
            "a.*",
            "ñ",
            "a'; drop table x; --",
            "$.a",
            seventeen.as_str(),
            seg65.as_str(),
        ] {
            let e = parse_json_path(bad, "filter.field").unwrap_err();
            assert_eq!(e.code, ErrorCode::Invalid, "{bad:?}");
            assert_eq!(e.field, "filter.field");
        }
    }
}
