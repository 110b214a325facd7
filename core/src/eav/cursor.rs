//! Opaque, tamper-checked keyset cursors (`spec/api.md`: "Lists use keyset pagination").
//!
//! A cursor holds the sort-key values and the id of the last row of a page. On the wire it is
//! base64url (no padding) of `version byte 1 ‖ JSON payload ‖ HMAC-SHA256(key, scope ‖ 0x00 ‖ payload)`.
//! The `scope` binds a cursor to one query shape (table, canonical sort, filter hash), so a cursor from
//! another query or table is rejected. Every failure is the same 400 on the field `cursor`, revealing nothing
//! about which check failed.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, ErrorCode};

type HmacSha256 = Hmac<Sha256>;

/// The format version, the first byte of every cursor.
pub const CURSOR_VERSION: u8 = 1;
/// Longer tokens are rejected without being decoded.
pub const MAX_CURSOR_LEN: usize = 32 * 1024;
/// The one message of every cursor error.
pub const INVALID_CURSOR: &str = "invalid or expired cursor";

const TAG_LEN: usize = 32;
const KEY_CONTEXT: &[u8] = b"tessera-cursor-v1";

/// Where the last row of a page stands in the query's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The sort-key values of the last row, in sort order.
    pub values: Vec<Value>,
    /// The last row's id (the final tie breaker).
    pub id: Uuid,
}

impl Cursor {
    pub fn new(values: Vec<Value>, id: Uuid) -> Self {
        Self { values, id }
    }
}

/// The JSON payload as decoded; `encode` writes the same two keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    v: Vec<Value>,
    id: Uuid,
}

/// Encodes and verifies cursors with a key derived from the server's secret.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CursorCodec").finish_non_exhaustive()
    }
}

impl CursorCodec {
    /// A codec keyed with SHA-256(`"tessera-cursor-v1"` ‖ `secret`).
    pub fn new(secret: &[u8]) -> Self {
        let mut hasher = <Sha256 as Digest>::new();
        Digest::update(&mut hasher, KEY_CONTEXT);
        Digest::update(&mut hasher, secret);
        let digest = Digest::finalize(hasher);
        let mut key = [0u8; 32];
        for (to, from) in key.iter_mut().zip(digest.iter()) {
            *to = *from;
        }
        Self { key }
    }

    /// The cursor as an opaque URL-safe token, valid only for the same `scope`.
    pub fn encode(&self, cursor: &Cursor, scope: &str) -> String {
        let mut payload = Map::new();
        payload.insert("v".to_owned(), Value::Array(cursor.values.clone()));
        payload.insert("id".to_owned(), Value::String(cursor.id.to_string()));
        let payload = Value::Object(payload).to_string();

        let tag = Mac::finalize(self.mac(scope, payload.as_bytes())).into_bytes();
        let mut bytes = Vec::with_capacity(1 + payload.len() + TAG_LEN);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(payload.as_bytes());
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor of a token made by [`CursorCodec::encode`] with the same secret and `scope`; anything else is
    /// a 400 on `cursor` ("invalid or expired cursor").
    pub fn decode(&self, token: &str, scope: &str) -> Result<Cursor, Error> {
        self.try_decode(token, scope)
            .ok_or_else(|| Error::bad_request("cursor", ErrorCode::Invalid, INVALID_CURSOR))
    }

    fn try_decode(&self, token: &str, scope: &str) -> Option<Cursor> {
        if token.is_empty() || token.len() > MAX_CURSOR_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != CURSOR_VERSION {
            return None;
        }
        let (payload, tag) = rest.split_at_checked(rest.len().checked_sub(TAG_LEN)?)?;
        // Constant-time comparison.
        Mac::verify_slice(self.mac(scope, payload), tag).ok()?;
        let payload: Payload = serde_json::from_slice(payload).ok()?;
        Some(Cursor { values: payload.v, id: payload.id })
    }

    /// HMAC-SHA256 keyed with `self.key`, fed `scope ‖ 0x00 ‖ payload`.
    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        // HMAC zero-pads a key shorter than the hash's block size; doing that here gives the fixed-size key that
        // the infallible constructor takes (identical to `new_from_slice(&self.key)`, which cannot fail but
        // returns a Result).
        let mut block: hmac::digest::Key<HmacSha256> = Default::default();
        for (to, from) in block.iter_mut().zip(self.key.iter()) {
            *to = *from;
        }
        let mut mac = <HmacSha256 as Mac>::new(&block);
        Mac::update(&mut mac, scope.as_bytes());
        Mac::update(&mut mac, &[0]);
        Mac::update(&mut mac, payload);
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;
    use serde_json::json;

    const SCOPE: &str = "table:0193;sort:title asc nulls last;filter:abc";

    fn codec() -> CursorCodec {
        CursorCodec::new(b"server secret")
    }

    fn cursor() -> Cursor {
        Cursor::new(
            vec![
                json!("Let There Be Rock"),
                json!(1977),
                json!(null),
                json!(true),
                json!("12.50"),
                json!(-0.5),
            ],
            Uuid::parse_str("0193a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").unwrap(),
        )
    }

    fn assert_rejected(result: Result<Cursor, Error>) {
        match result {
            Err(Error::BadRequest(errors)) => {
                assert_eq!(errors, [FieldError::new("cursor", ErrorCode::Invalid, INVALID_CURSOR)]);
            }
            other => panic!("expected a rejected cursor, got {other:?}"),
        }
    }

    /// A token with a valid tag over arbitrary bytes (to test checks behind the tag).
    fn forge(codec: &CursorCodec, version: u8, payload: &[u8], scope: &str) -> String {
        let tag = Mac::finalize(codec.mac(scope, payload)).into_bytes();
        let mut bytes = vec![version];
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn round_trip() {
        let codec = codec();
        let token = codec.encode(&cursor(), SCOPE);
        assert_eq!(codec.decode(&token, SCOPE).unwrap(), cursor());
        // a fresh codec with the same secret accepts it too (another instance, a restart)
        assert_eq!(CursorCodec::new(b"server secret").decode(&token, SCOPE).unwrap(), cursor());
    }

    #[test]
    fn round_trip_empty_values_and_empty_scope() {
        let codec = codec();
        let c = Cursor::new(vec![], Uuid::nil());
        assert_eq!(codec.decode(&codec.encode(&c, ""), "").unwrap(), c);
    }

    #[test]
    fn token_is_url_safe_and_unpadded() {
        let token = codec().encode(&cursor(), SCOPE);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{token}");
        assert!(token.len() <= MAX_CURSOR_LEN);
    }

    #[test]
    fn encoding_is_deterministic() {
        assert_eq!(codec().encode(&cursor(), SCOPE), codec().encode(&cursor(), SCOPE));
    }

    #[test]
    fn tampered_bytes_are_rejected() {
        let codec = codec();
        let token = codec.encode(&cursor(), SCOPE);
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            if let Some(b) = tampered.get_mut(i) {
                *b ^= 0x01;
            }
            assert_rejected(codec.decode(&URL_SAFE_NO_PAD.encode(&tampered), SCOPE));
        }
        // truncated or extended
        let short = bytes.get(..bytes.len() - 1).unwrap();
        assert_rejected(codec.decode(&URL_SAFE_NO_PAD.encode(short), SCOPE));
        let mut long = bytes.clone();
        long.push(0);
        assert_rejected(codec.decode(&URL_SAFE_NO_PAD.encode(&long), SCOPE));
    }

    #[test]
    fn tampered_payload_with_recomputed_tag_needs_the_key() {
        // an attacker who edits the JSON cannot recompute the tag without the key
        let codec = codec();
        let other = CursorCodec::new(b"attacker guess");
        let payload = br#"{"id":"0193a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b","v":["Z"]}"#;
        assert_rejected(codec.decode(&forge(&other, CURSOR_VERSION, payload, SCOPE), SCOPE));
        // the same bytes with the right key are accepted (the forge helper is faithful)
        let accepted = codec.decode(&forge(&codec, CURSOR_VERSION, payload, SCOPE), SCOPE).unwrap();
        assert_eq!(accepted.values, vec![json!("Z")]);
    }

    #[test]
    fn other_scope_is_rejected() {
        let codec = codec();
        let token = codec.encode(&cursor(), SCOPE);
        assert_rejected(codec.decode(&token, "table:0193;sort:title desc nulls last;filter:abc"));
        assert_rejected(codec.decode(&token, ""));
        // the separator keeps scope and payload apart
        let token = codec.encode(&cursor(), "a");
        assert_rejected(codec.decode(&token, "a\0"));
    }

    #[test]
    fn other_secret_is_rejected() {
        let token = codec().encode(&cursor(), SCOPE);
        assert_rejected(CursorCodec::new(b"another secret").decode(&token, SCOPE));
        assert_rejected(CursorCodec::new(b"").decode(&token, SCOPE));
    }

    #[test]
    fn garbage_is_rejected() {
        let codec = codec();
        for garbage in ["", "x", "!!!!", "not a cursor", "AAAA", "AQ", "null", "eyJ2IjpbXX0", "////", "a+b/"]
        {
            assert_rejected(codec.decode(garbage, SCOPE));
        }
        // padding is not accepted
        let token = codec.encode(&cursor(), SCOPE);
        assert_rejected(codec.decode(&format!("{token}="), SCOPE));
        assert_rejected(codec.decode(&format!(" {token}"), SCOPE));
    }

    #[test]
    fn over_long_tokens_are_rejected() {
        let codec = codec();
        assert_rejected(codec.decode(&"A".repeat(MAX_CURSOR_LEN + 1), SCOPE));
        // even a genuine one
        let big = Cursor::new(vec![json!("x".repeat(MAX_CURSOR_LEN))], Uuid::nil());
        let token = codec.encode(&big, SCOPE);
        assert!(token.len() > MAX_CURSOR_LEN);
        assert_rejected(codec.decode(&token, SCOPE));
    }

    #[test]
    fn wrong_version_is_rejected() {
        let codec = codec();
        let payload = br#"{"id":"0193a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b","v":[]}"#;
        assert!(codec.decode(&forge(&codec, CURSOR_VERSION, payload, SCOPE), SCOPE).is_ok());
        for version in [0u8, 2, 255] {
            assert_rejected(codec.decode(&forge(&codec, version, payload, SCOPE), SCOPE));
        }
    }

    #[test]
    fn bad_json_behind_a_valid_tag_is_rejected() {
        let codec = codec();
        let payloads: [&[u8]; 8] = [
            b"not json",
            b"",
            b"[]",
            br#"{"v":[]}"#,
            br#"{"id":"0193a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"}"#,
            br#"{"id":"nope","v":[]}"#,
            br#"{"id":"0193a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b","v":{}}"#,
            br#"{"id":"0193a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b","v":[],"x":1}"#,
        ];
        for payload in payloads {
            assert_rejected(codec.decode(&forge(&codec, CURSOR_VERSION, payload, SCOPE), SCOPE));
        }
    }

    #[test]
    fn padded_key_equals_hmac_of_the_32_byte_key() {
        let codec = codec();
        let ours = Mac::finalize(codec.mac("s", b"p")).into_bytes();
        let mut reference = <HmacSha256 as Mac>::new_from_slice(&codec.key).unwrap();
        Mac::update(&mut reference, b"s\0p");
        assert_eq!(ours, Mac::finalize(reference).into_bytes());
    }

    #[test]
    fn key_is_derived_from_context_and_secret() {
        let mut hasher = <Sha256 as Digest>::new();
        Digest::update(&mut hasher, b"tessera-cursor-v1secret");
        let expected: [u8; 32] = Digest::finalize(hasher).into();
        assert_eq!(CursorCodec::new(b"secret").key, expected);
        assert_ne!(CursorCodec::new(b"secret").key, CursorCodec::new(b"secret2").key);
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let shown = format!("{:?}", codec());
        assert_eq!(shown, "CursorCodec { .. }");
    }
}
