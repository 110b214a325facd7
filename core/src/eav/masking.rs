//! Masking rules of column definitions (`none`, `full`, `partial:<n>`, `email`, `hash`), applied on every read
//! path to the JSON representation of a value unless the caller holds `unmask` on the table.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::types::quote;
use crate::error::{ErrorCode, FieldError};

/// The request field naming the masking rule.
pub const MASKING_FIELD: &str = "masking_rule";
/// The masking character (U+2022 BULLET).
pub const BULLET: char = '\u{2022}';
/// What `full` shows for any non-null value: six bullets, whatever the length.
pub const FULL_MASK: &str = "\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}";
/// Bounds of `n` in `partial:<n>`.
pub const PARTIAL_MIN: usize = 1;
pub const PARTIAL_MAX: usize = 64;

/// A masking rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MaskingRule {
    /// Values are shown as they are.
    #[default]
    None,
    /// Any non-null value becomes `••••••`.
    Full,
    /// All but the last `n` characters become bullets.
    Partial(usize),
    /// `alice@example.com` → `a•••@example.com`; a non-email is masked like `Full`.
    Email,
    /// `sha256:` + the first 16 hex digits of the SHA-256 of the value: equal values stay groupable.
    Hash,
}

impl MaskingRule {
    /// The canonical text: `none`, `full`, `partial:4`, `email`, `hash`.
    pub fn as_str(&self) -> String {
        match self {
            MaskingRule::None => "none".to_owned(),
            MaskingRule::Full => "full".to_owned(),
            MaskingRule::Partial(n) => format!("partial:{n}"),
            MaskingRule::Email => "email".to_owned(),
            MaskingRule::Hash => "hash".to_owned(),
        }
    }

    /// Whether the rule leaves values unchanged.
    pub fn is_none(&self) -> bool {
        matches!(self, MaskingRule::None)
    }

    /// Masks the JSON representation of a value (as the API returns it). `null` stays `null`.
    ///
    /// The "string form" masked by `partial`, `email` and `hash` is the string itself for a JSON string and the
    /// JSON text otherwise (`42`, `true`).
    pub fn mask(&self, value: &Json) -> Json {
        if value.is_null() {
            return Json::Null;
        }
        match self {
            MaskingRule::None => value.clone(),
            MaskingRule::Full => Json::String(FULL_MASK.to_owned()),
            MaskingRule::Partial(n) => Json::String(mask_partial(&string_form(value), *n)),
            MaskingRule::Email => match value {
                Json::String(s) => Json::String(mask_email(s).unwrap_or_else(|| FULL_MASK.to_owned())),
                _ => Json::String(FULL_MASK.to_owned()),
            },
            MaskingRule::Hash => Json::String(hash_value(&string_form(value))),
        }
    }
}

impl fmt::Display for MaskingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl Serialize for MaskingRule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

impl FromStr for MaskingRule {
    type Err = FieldError;

    /// Exact, lower-case names; `partial:<n>` with 1 ≤ n ≤ 64 (decimal digits only). Errors name the field
    /// `masking_rule` (code `invalid`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(MaskingRule::None),
            "full" => Ok(MaskingRule::Full),
            "email" => Ok(MaskingRule::Email),
            "hash" => Ok(MaskingRule::Hash),
            _ => match s.strip_prefix("partial:") {
                Some(n) => {
                    let valid = !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit());
                    n.parse::<usize>()
                        .ok()
                        .filter(|n| valid && (PARTIAL_MIN..=PARTIAL_MAX).contains(n))
                        .map(MaskingRule::Partial)
                        .ok_or_else(|| {
                            FieldError::new(
                                MASKING_FIELD,
                                ErrorCode::Invalid,
                                format!(
                                    "invalid masking rule {}: partial:<n> needs a whole number n from {PARTIAL_MIN} to {PARTIAL_MAX}",
                                    quote(s)
                                ),
                            )
                        })
                }
                None => Err(FieldError::new(
                    MASKING_FIELD,
                    ErrorCode::Invalid,
                    format!(
                        "unknown masking rule {}; allowed: none, full, partial:<n> ({PARTIAL_MIN} ≤ n ≤ {PARTIAL_MAX}), email, hash",
                        quote(s)
                    ),
                )),
            },
        }
    }
}

/// Parses an optional masking rule; absent means `none`.
pub fn parse_masking(s: Option<&str>) -> Result<MaskingRule, FieldError> {
    match s {
        None => Ok(MaskingRule::None),
        Some(s) => s.parse(),
    }
}

impl MaskingRule {
    /// Same as [`parse_masking`]: absent means `none`.
    pub fn parse_opt(s: Option<&str>) -> Result<Self, FieldError> {
        parse_masking(s)
    }
}

fn string_form(value: &Json) -> Cow<'_, str> {
    match value {
        Json::String(s) => Cow::Borrowed(s.as_str()),
        other => Cow::Owned(other.to_string()),
    }
}

/// Bullets for all but the last `keep` characters (all bullets when the text is no longer than `keep`).
fn mask_partial(text: &str, keep: usize) -> String {
    let count = text.chars().count();
    if count <= keep {
        return std::iter::repeat_n(BULLET, count).collect();
    }
    let hidden = count - keep;
    std::iter::repeat_n(BULLET, hidden).chain(text.chars().skip(hidden)).collect()
}

/// `first char of the local part` + `•••` + `@domain`; `None` if the text is not shaped like an email.
fn mask_email(text: &str) -> Option<String> {
    let (local, domain) = text.split_once('@')?;
    if domain.is_empty() || domain.contains('@') {
        return None;
    }
    let first = local.chars().next()?;
    Some(format!("{first}{BULLET}{BULLET}{BULLET}@{domain}"))
}

fn hash_value(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(16);
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_and_print() {
        for (text, rule) in [
            ("none", MaskingRule::None),
            ("full", MaskingRule::Full),
            ("partial:4", MaskingRule::Partial(4)),
            ("partial:1", MaskingRule::Partial(1)),
            ("partial:64", MaskingRule::Partial(64)),
            ("email", MaskingRule::Email),
            ("hash", MaskingRule::Hash),
        ] {
            assert_eq!(text.parse::<MaskingRule>().unwrap(), rule);
            assert_eq!(rule.as_str(), text);
            assert_eq!(rule.to_string(), text);
            assert_eq!(serde_json::to_value(rule).unwrap(), json!(text));
        }
        assert_eq!("partial:04".parse::<MaskingRule>().unwrap().as_str(), "partial:4");
        assert_eq!(parse_masking(None).unwrap(), MaskingRule::None);
        assert_eq!(parse_masking(Some("hash")).unwrap(), MaskingRule::Hash);
        assert_eq!(MaskingRule::parse_opt(None).unwrap(), MaskingRule::None);
        assert_eq!(MaskingRule::parse_opt(Some("partial:2")).unwrap(), MaskingRule::Partial(2));
        assert_eq!(MaskingRule::default(), MaskingRule::None);
        assert!(MaskingRule::None.is_none());
        assert!(!MaskingRule::Full.is_none());
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "None",
            "FULL",
            "partial",
            "partial:",
            "partial:0",
            "partial:65",
            "partial:-1",
            "partial:+4",
            "partial: 4",
            "partial:4x",
            "partial:99999999999999999999999",
            "sha256",
            " full",
        ] {
            let e = parse_masking(Some(bad)).unwrap_err();
            assert_eq!(e.field, MASKING_FIELD, "{bad:?}");
            assert_eq!(e.code, ErrorCode::Invalid, "{bad:?}");
        }
        let e = "partial:0".parse::<MaskingRule>().unwrap_err();
        assert!(e.message.contains("from 1 to 64"), "{}", e.message);
        let e = "blur".parse::<MaskingRule>().unwrap_err();
        assert!(e.message.contains("\"blur\""), "{}", e.message);
        assert!(e.message.contains("partial:<n>"), "{}", e.message);
    }

    #[test]
    fn null_stays_null() {
        for rule in [
            MaskingRule::None,
            MaskingRule::Full,
            MaskingRule::Partial(2),
            MaskingRule::Email,
            MaskingRule::Hash,
        ] {
            assert_eq!(rule.mask(&Json::Null), Json::Null);
        }
    }

    #[test]
    fn none_leaves_values() {
        for v in [json!("secret"), json!(42), json!(true), json!("10.50"), json!({"a": 1})] {
            assert_eq!(MaskingRule::None.mask(&v), v);
        }
    }

    #[test]
    fn full_hides_length() {
        let full = json!(FULL_MASK);
        assert_eq!(FULL_MASK, "••••••");
        assert_eq!(MaskingRule::Full.mask(&json!("a")), full);
        assert_eq!(MaskingRule::Full.mask(&json!("a much longer secret value")), full);
        assert_eq!(MaskingRule::Full.mask(&json!("")), full);
        assert_eq!(MaskingRule::Full.mask(&json!(123456789)), full);
        assert_eq!(MaskingRule::Full.mask(&json!(false)), full);
        assert_eq!(FULL_MASK.chars().count(), 6);
        assert!(FULL_MASK.chars().all(|c| c == BULLET));
    }

    #[test]
    fn partial_keeps_last_chars() {
        let p4 = MaskingRule::Partial(4);
        assert_eq!(p4.mask(&json!("4111111111111111")), json!(format!("{}1111", "•".repeat(12))));
        assert_eq!(p4.mask(&json!("12345")), json!("•2345"));
        assert_eq!(p4.mask(&json!("1234")), json!("••••"));
        assert_eq!(p4.mask(&json!("12")), json!("••"));
        assert_eq!(p4.mask(&json!("")), json!(""));
        // Characters, not bytes.
        assert_eq!(p4.mask(&json!("ñandú😀é")), json!("•••dú😀é"));
        assert_eq!(MaskingRule::Partial(1).mask(&json!("日本語")), json!("••語"));
        // Numbers and booleans use their JSON text.
        assert_eq!(MaskingRule::Partial(2).mask(&json!(123456)), json!("••••56"));
        assert_eq!(MaskingRule::Partial(2).mask(&json!(true)), json!("••ue"));
        // Decimals are strings in the API.
        assert_eq!(MaskingRule::Partial(3).mask(&json!("1234.50")), json!("••••.50"));
    }

    #[test]
    fn email_keeps_first_char_and_domain() {
        let m = MaskingRule::Email;
        assert_eq!(m.mask(&json!("alice@example.com")), json!("a•••@example.com"));
        assert_eq!(m.mask(&json!("a@example.com")), json!("a•••@example.com"));
        assert_eq!(m.mask(&json!("ñu@correo.es")), json!("ñ•••@correo.es"));
        for not_email in
            [json!("not an email"), json!("@example.com"), json!("a@"), json!("a@b@c"), json!(42)]
        {
            assert_eq!(m.mask(&not_email), json!(FULL_MASK), "{not_email}");
        }
    }

    #[test]
    fn hash_is_stable_and_short() {
        let h = MaskingRule::Hash;
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(h.mask(&json!("abc")), json!("sha256:ba7816bf8f01cfea"));
        // SHA-256("") = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        assert_eq!(h.mask(&json!("")), json!("sha256:e3b0c44298fc1c14"));
        assert_eq!(h.mask(&json!("same")), h.mask(&json!("same")));
        assert_ne!(h.mask(&json!("same")), h.mask(&json!("Same")));
        // A number hashes its JSON text: 42 and "42" group together.
        assert_eq!(h.mask(&json!(42)), h.mask(&json!("42")));
        let Json::String(text) = h.mask(&json!("anything")) else { panic!("not a string") };
        assert_eq!(text.len(), "sha256:".len() + 16);
        assert!(text["sha256:".len()..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
