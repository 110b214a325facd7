//! JWT access tokens (spec §5): compact JWS signed with Ed25519 (`alg: EdDSA`), with a `kid` naming the
//! signing key, keys rotated and published as a JWKS.
//!
//! The JWS is written by hand over OpenSSL (already in the tree for WebAuthn) so the accepted shapes stay
//! small: exactly three parts, a header with only `alg` (exactly `EdDSA`), `typ` (`JWT` when present) and
//! `kid`, a 64-byte signature, then the claims (`iss`, `aud`, `exp`, `iat`).
//!
//! Keys live in `signing_keys`: the raw 32-byte public key (base64url), and the PKCS#8 private key sealed
//! with AES-256-GCM under SHA-256(`tessera:signing-keys:` + `TESSERA_SECRET_KEY`), stored as
//! base64(nonce ‖ ciphertext ‖ tag) with the `kid` bytes as associated data. A key signs for
//! `TESSERA_SIGNING_KEY_ROTATION_SECS` and verifies until `not_after` (rotation + access-token lifetime).
//! Every instance caches the keys; several instances may race to create a key, which is harmless (each
//! key is valid, the newest signs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use openssl::pkey::{Id, PKey, PKeyRef, Private, Public};
use openssl::sign::{Signer, Verifier};
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::config::{Config, Secret};
use crate::error::Error;
use crate::ids::new_id;
use crate::store::Database;

/// The only JWS algorithm issued and accepted.
pub const ALGORITHM: &str = "EdDSA";
/// The `aud` of every access token.
pub const AUDIENCE: &str = "tessera";
/// How far in the future `iat` may be (clock skew between instances).
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;
/// An unknown `kid` reloads the keys from the database at most this often.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(10);
/// Expired keys are deleted this long after their `not_after`.
const DELETE_AFTER_DAYS: i64 = 1;
/// Longer tokens are rejected before any decoding.
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The one answer to every bad token.
const INVALID_TOKEN: &str = "invalid or expired access token";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const SIGNATURE_LEN: usize = 64;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: `TESSERA_PUBLIC_URL`.
    pub iss: String,
    /// Audience: always `tessera`.
    pub aud: String,
    /// The user.
    pub sub: Uuid,
    /// The session the token belongs to (revoking it revokes the token at the next check).
    pub sid: Uuid,
    pub username: String,
    /// Issued at (seconds since the Unix epoch).
    pub iat: i64,
    /// Expires at (seconds since the Unix epoch).
    pub exp: i64,
    /// The token's own id.
    pub jti: Uuid,
}

/// The JOSE header. Anything besides `alg`, `typ` and `kid` (`crit`, `jku`, `jwk`, `x5u`, …) is refused.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    kid: String,
}

/// One signing key as cached in memory.
struct LoadedKey {
    kid: Uuid,
    public: PKey<Public>,
    /// The raw public key, as published in the JWKS (`x`).
    public_b64: String,
    /// `None` when the key cannot be decrypted (another `TESSERA_SECRET_KEY`): it still verifies but never
    /// signs.
    private: Option<PKey<Private>>,
    created_at: DateTime<Utc>,
    not_after: Option<DateTime<Utc>>,
}

impl LoadedKey {
    fn verifies_at(&self, now: DateTime<Utc>) -> bool {
        self.not_after.is_none_or(|t| t > now)
    }
}

#[derive(Default)]
struct KeyCache {
    keys: Vec<Arc<LoadedKey>>,
    /// When the keys were last read from the database (`None`: never).
    loaded_at: Option<Instant>,
    /// When an unknown `kid` last caused a reload.
    miss_reload_at: Option<Instant>,
}

/// Issues and verifies access tokens; publishes the JWKS; rotates keys. Cheap to clone.
#[derive(Clone)]
pub struct KeyRing {
    db: Database,
    /// AES-256-GCM key sealing the private keys at rest.
    sealing_key: Arc<[u8; 32]>,
    issuer: Arc<str>,
    access_ttl: Duration,
    rotation: TimeDelta,
    cache: Arc<RwLock<KeyCache>>,
    /// Serializes key creation within this instance.
    creating: Arc<Mutex<()>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("issuer", &self.issuer)
            .field("audience", &AUDIENCE)
            .field("access_ttl", &self.access_ttl)
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Builds the key ring; keys are read (or created) on first use.
    pub fn new(db: Database, secret_key: &Secret, config: &Config) -> Self {
        Self {
            db,
            sealing_key: Arc::new(sealing_key(secret_key)),
            issuer: Arc::from(config.public_url.as_str()),
            access_ttl: config.auth.access_token_ttl,
            rotation: TimeDelta::from_std(config.auth.signing_key_rotation).unwrap_or(TimeDelta::MAX),
            cache: Arc::new(RwLock::new(KeyCache::default())),
            creating: Arc::new(Mutex::new(())),
        }
    }

    /// Issues an access token for `user_id` in `session_id`; returns it with its lifetime in seconds.
    pub async fn issue(
        &self,
        user_id: Uuid,
        username: &str,
        session_id: Uuid,
    ) -> Result<(String, u64), Error> {
        let key = self.signing_key().await?;
        let private =
            key.private.as_ref().ok_or_else(|| Error::internal("signing key without private key"))?;
        let expires_in = self.access_ttl.as_secs();
        let iat = Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.to_string(),
            aud: AUDIENCE.to_owned(),
            sub: user_id,
            sid: session_id,
            username: username.to_owned(),
            iat,
            exp: iat.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX)),
            jti: new_id(),
        };
        let header =
            Header { alg: ALGORITHM.to_owned(), typ: Some("JWT".to_owned()), kid: key.kid.to_string() };
        Ok((sign_token(private, &header, &claims)?, expires_in))
    }

    /// Checks a token's shape, signature and claims. Every problem with the token gives the same
    /// `Unauthenticated("invalid or expired access token")`; only a failing database is another error.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, Error> {
        let Some(parsed) = parse_token(token) else {
            return Err(invalid_token());
        };
        let Some(key) = self.verification_key(parsed.kid).await? else {
            return Err(invalid_token());
        };
        let now = Utc::now();
        if !key.verifies_at(now) || !verify_signature(&key.public, parsed.signing_input, &parsed.signature) {
            return Err(invalid_token());
        }
        let claims: AccessClaims = serde_json::from_slice(&parsed.payload).map_err(|_| invalid_token())?;
        let now = now.timestamp();
        let valid = claims.iss == *self.issuer
            && claims.aud == AUDIENCE
            && claims.exp > now
            && claims.iat <= now.saturating_add(MAX_CLOCK_SKEW_SECS);
        if valid {
            Ok(claims)
        } else {
            Err(invalid_token())
        }
    }

    /// The public keys that still verify tokens, as a JWKS (`/.well-known/jwks.json`). Creates the first
    /// key when there is none, so the set is never empty.
    pub async fn jwks(&self) -> Result<serde_json::Value, Error> {
        self.signing_key().await?;
        self.refresh_if_older_than(RELOAD_INTERVAL).await?;
        let now = Utc::now();
        let cache = self.cache.read().await;
        let keys: Vec<serde_json::Value> = cache
            .keys
            .iter()
            .filter(|key| key.verifies_at(now))
            .map(|key| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": key.public_b64,
                    "kid": key.kid.to_string(),
                    "alg": ALGORITHM,
                    "use": "sig",
                })
            })
            .collect();
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// The periodic job: creates the next key when the current one is past its rotation time, and deletes
    /// keys whose `not_after` passed more than a day ago.
    pub async fn rotate_if_due(&self) -> Result<(), Error> {
        self.reload().await?;
        self.signing_key().await?;
        let cutoff = Utc::now()
            .checked_sub_signed(TimeDelta::days(DELETE_AFTER_DAYS))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut sql = self.db.sql("DELETE FROM signing_keys WHERE not_after < ");
        sql.bind(cutoff);
        let deleted = self.db.execute(&sql).await?;
        if deleted > 0 {
            tracing::info!(deleted, "deleted expired JWT signing keys");
            self.reload().await?;
        }
        Ok(())
    }

    /// The key to sign with: the newest one still inside its rotation period, created when there is none.
    async fn signing_key(&self) -> Result<Arc<LoadedKey>, Error> {
        self.refresh_if_older_than(Duration::MAX).await?;
        if let Some(key) = self.current(Utc::now()).await {
            return Ok(key);
        }
        let _creating = self.creating.lock().await;
        // Another task or instance may have created one meanwhile.
        self.reload().await?;
        if let Some(key) = self.current(Utc::now()).await {
            return Ok(key);
        }
        self.create_key().await?;
        self.reload().await?;
        let key = self.current(Utc::now()).await;
        key.ok_or_else(|| Error::internal("a new signing key could not be read back"))
    }

    async fn current(&self, now: DateTime<Utc>) -> Option<Arc<LoadedKey>> {
        let cache = self.cache.read().await;
        cache
            .keys
            .iter()
            .filter(|key| key.private.is_some() && self.rotation_due(key) > now)
            .max_by_key(|key| (key.created_at, key.kid))
            .cloned()
    }

    fn rotation_due(&self, key: &LoadedKey) -> DateTime<Utc> {
        key.created_at.checked_add_signed(self.rotation).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The key named `kid`; an unknown `kid` reloads the keys (at most once per [`RELOAD_INTERVAL`]),
    /// since another instance may have created it.
    async fn verification_key(&self, kid: Uuid) -> Result<Option<Arc<LoadedKey>>, Error> {
        self.refresh_if_older_than(Duration::MAX).await?;
        if let Some(key) = self.find(kid).await {
            return Ok(Some(key));
        }
        let throttled = {
            let mut cache = self.cache.write().await;
            let throttled = cache.miss_reload_at.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL);
            if !throttled {
                cache.miss_reload_at = Some(Instant::now());
            }
            throttled
        };
        // Within the throttle window only a kid that really exists (just created by another instance) may
        // reload: tokens with made-up kids must not delay that.
        if throttled && !self.kid_exists(kid).await? {
            return Ok(None);
        }
        self.reload().await?;
        Ok(self.find(kid).await)
    }

    async fn kid_exists(&self, kid: Uuid) -> Result<bool, Error> {
        let mut sql = self.db.sql("SELECT id FROM signing_keys WHERE id = ");
        sql.bind(kid);
        Ok(self.db.fetch_optional(&sql).await?.is_some())
    }

    async fn find(&self, kid: Uuid) -> Option<Arc<LoadedKey>> {
        self.cache.read().await.keys.iter().find(|key| key.kid == kid).cloned()
    }

    /// Reloads when the keys were never loaded, or were loaded longer than `max_age` ago.
    async fn refresh_if_older_than(&self, max_age: Duration) -> Result<(), Error> {
        let stale = self.cache.read().await.loaded_at.is_none_or(|at| at.elapsed() > max_age);
        if stale {
            self.reload().await?;
        }
        Ok(())
    }

    /// Reads every live key from the database into the cache.
    async fn reload(&self) -> Result<(), Error> {
        let mut sql = self.db.sql(
            "SELECT id, public_key, private_key, created_at, not_after FROM signing_keys \
             WHERE retired_at IS NULL AND algorithm = ",
        );
        sql.bind(ALGORITHM);
        let rows = self.db.fetch_all(&sql).await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let kid = row.uuid("id")?;
            let Some(public) = decode_public_key(&row.text("public_key")?) else {
                tracing::warn!(%kid, "skipping a signing key whose public key is malformed");
                continue;
            };
            let private = open_private_key(&self.sealing_key, kid, &row.text("private_key")?);
            if private.is_none() {
                tracing::warn!(
                    %kid,
                    "a signing key cannot be decrypted (was TESSERA_SECRET_KEY changed?); it only verifies"
                );
            }
            keys.push(Arc::new(LoadedKey {
                kid,
                public_b64: row.text("public_key")?,
                public,
                private,
                created_at: row.timestamp("created_at")?,
                not_after: row.opt_timestamp("not_after")?,
            }));
        }
        let mut cache = self.cache.write().await;
        cache.keys = keys;
        cache.loaded_at = Some(Instant::now());
        Ok(())
    }

    /// Generates a key and stores it (public key in clear, private key sealed).
    async fn create_key(&self) -> Result<(), Error> {
        let kid = new_id();
        let key = PKey::generate_ed25519().map_err(Error::internal)?;
        let public = URL_SAFE_NO_PAD.encode(key.raw_public_key().map_err(Error::internal)?);
        let der = key.private_key_to_pkcs8().map_err(Error::internal)?;
        let sealed = seal(&self.sealing_key, kid, &der)?;
        let created_at = Utc::now();
        let not_after = created_at
            .checked_add_signed(self.rotation)
            .and_then(|t| t.checked_add_signed(TimeDelta::from_std(self.access_ttl).ok()?))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut sql = self.db.sql(
            "INSERT INTO signing_keys (id, algorithm, public_key, private_key, created_at, not_after) \
             VALUES (",
        );
        sql.bind(kid).push(", ").bind(ALGORITHM).push(", ").bind(public).push(", ").bind(sealed);
        sql.push(", ").bind(created_at).push(", ").bind(not_after).push(")");
        self.db.execute(&sql).await?;
        tracing::info!(%kid, "created a JWT signing key");
        Ok(())
    }
}

fn invalid_token() -> Error {
    Error::Unauthenticated(INVALID_TOKEN.into())
}

/// SHA-256(`tessera:signing-keys:` + secret): the AES-256-GCM key sealing private keys.
fn sealing_key(secret: &Secret) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"tessera:signing-keys:");
    hasher.update(secret.expose().as_bytes());
    let digest = hasher.finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_slice());
    key
}

/// Seals `plain` for the key `kid`: base64(nonce ‖ ciphertext ‖ tag).
fn seal(key: &[u8; 32], kid: Uuid, plain: &[u8]) -> Result<String, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(Error::internal)?;
    let mut tag = [0u8; TAG_LEN];
    let ciphertext =
        encrypt_aead(Cipher::aes_256_gcm(), key, Some(nonce.as_slice()), kid.as_bytes(), plain, &mut tag)
            .map_err(Error::internal)?;
    let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len() + TAG_LEN);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&ciphertext);
    blob.extend_from_slice(&tag);
    Ok(STANDARD.encode(blob))
}

/// Opens what [`seal`] produced; `None` when it is malformed, tampered with or sealed under another key.
fn open(key: &[u8; 32], kid: Uuid, sealed: &str) -> Option<Vec<u8>> {
    let blob = STANDARD.decode(sealed).ok()?;
    let (nonce, rest) = blob.split_at_checked(NONCE_LEN)?;
    let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(TAG_LEN)?)?;
    decrypt_aead(Cipher::aes_256_gcm(), key, Some(nonce), kid.as_bytes(), ciphertext, tag).ok()
}

fn open_private_key(key: &[u8; 32], kid: Uuid, sealed: &str) -> Option<PKey<Private>> {
    let der = open(key, kid, sealed)?;
    let private = PKey::private_key_from_pkcs8(&der).ok()?;
    (private.id() == Id::ED25519).then_some(private)
}

fn decode_public_key(x: &str) -> Option<PKey<Public>> {
    let raw = URL_SAFE_NO_PAD.decode(x).ok()?;
    PKey::public_key_from_raw_bytes(&raw, Id::ED25519).ok()
}

/// `base64url(header).base64url(claims).base64url(signature)`.
fn sign_token(key: &PKeyRef<Private>, header: &Header, claims: &AccessClaims) -> Result<String, Error> {
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).map_err(Error::internal)?);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(Error::internal)?);
    let signing_input = format!("{header}.{payload}");
    let mut signer = Signer::new_without_digest(key).map_err(Error::internal)?;
    let signature = signer.sign_oneshot_to_vec(signing_input.as_bytes()).map_err(Error::internal)?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn verify_signature(key: &PKeyRef<Public>, signing_input: &str, signature: &[u8]) -> bool {
    Verifier::new_without_digest(key)
        .and_then(|mut verifier| verifier.verify_oneshot(signature, signing_input.as_bytes()))
        .unwrap_or(false)
}

/// A token whose shape and header are acceptable; signature and claims are not checked yet.
struct ParsedToken<'a> {
    kid: Uuid,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn parse_token(token: &str) -> Option<ParsedToken<'_>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (header_b64, payload_b64, signature_b64) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
    if header.alg != ALGORITHM || header.typ.as_deref().is_some_and(|typ| typ != "JWT") {
        return None;
    }
    let kid = Uuid::parse_str(&header.kid).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature_b64).ok()?;
    if signature.len() != SIGNATURE_LEN {
        return None;
    }
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
    let signing_input = token.get(..header_b64.len() + 1 + payload_b64.len())?;
    Some(ParsedToken { kid, signing_input, payload, signature })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "http://localhost:3000".into(),
            aud: AUDIENCE.into(),
            sub: new_id(),
            sid: new_id(),
            username: "alice".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_900,
            jti: new_id(),
        }
    }

    fn b64(json: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    #[test]
    fn sealed_private_keys_open_only_with_the_same_secret_and_kid() {
        let key = sealing_key(&Secret::new("s".repeat(40)));
        let kid = new_id();
        let sealed = seal(&key, kid, b"private key bytes").unwrap();
        assert!(!sealed.contains("cHJpdmF0ZSBrZXkgYnl0ZXM"), "plain text leaked: {sealed}");
        assert_eq!(open(&key, kid, &sealed).unwrap(), b"private key bytes");
        // Fresh nonce each time.
        assert_ne!(seal(&key, kid, b"private key bytes").unwrap(), sealed);

        let other_secret = sealing_key(&Secret::new("t".repeat(40)));
        assert!(open(&other_secret, kid, &sealed).is_none());
        assert!(open(&key, new_id(), &sealed).is_none(), "the kid is bound as associated data");
        assert!(open(&key, kid, "AAAA").is_none());
        assert!(open(&key, kid, "not base64!").is_none());
    }

    #[test]
    fn tokens_signed_here_parse_and_verify() {
        let private = PKey::generate_ed25519().unwrap();
        let public =
            PKey::public_key_from_raw_bytes(&private.raw_public_key().unwrap(), Id::ED25519).unwrap();
        let kid = new_id();
        let header = Header { alg: ALGORITHM.into(), typ: Some("JWT".into()), kid: kid.to_string() };
        let token = sign_token(&private, &header, &claims()).unwrap();

        let parsed = parse_token(&token).unwrap();
        assert_eq!(parsed.kid, kid);
        assert!(verify_signature(&public, parsed.signing_input, &parsed.signature));
        assert!(!verify_signature(&public, &format!("{}x", parsed.signing_input), &parsed.signature));

        let other = PKey::generate_ed25519().unwrap();
        let other = PKey::public_key_from_raw_bytes(&other.raw_public_key().unwrap(), Id::ED25519).unwrap();
        assert!(!verify_signature(&other, parsed.signing_input, &parsed.signature));
    }

    #[test]
    fn only_the_expected_header_shape_parses() {
        let kid = new_id().to_string();
        let payload = b64(&serde_json::to_value(claims()).unwrap());
        let signature = URL_SAFE_NO_PAD.encode([0u8; SIGNATURE_LEN]);
        let token = |header: serde_json::Value| format!("{}.{payload}.{signature}", b64(&header));

        assert!(parse_token(&token(serde_json::json!({"alg": "EdDSA", "kid": kid}))).is_some());
        assert!(parse_token(&token(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}))).is_some());

        let refused = [
            serde_json::json!({"alg": "none", "kid": kid}),
            serde_json::json!({"alg": "HS256", "kid": kid}),
            serde_json::json!({"alg": "eddsa", "kid": kid}),
            serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}),
            serde_json::json!({"alg": "EdDSA"}),
            serde_json::json!({"alg": "EdDSA", "kid": "not-a-uuid"}),
            serde_json::json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"]}),
            serde_json::json!({"alg": "EdDSA", "kid": kid, "jku": "https://evil.example/jwks"}),
            serde_json::json!({"alg": "EdDSA", "kid": kid, "jwk": {"kty": "OKP"}}),
        ];
        for header in refused {
            assert!(parse_token(&token(header.clone())).is_none(), "accepted {header}");
        }

        let good = token(serde_json::json!({"alg": "EdDSA", "kid": kid}));
        assert!(parse_token(&format!("{good}.extra")).is_none());
        assert!(parse_token(good.rsplit_once('.').unwrap().0).is_none());
        assert!(parse_token(&format!("{}.", good.rsplit_once('.').unwrap().0)).is_none(), "empty signature");
        assert!(parse_token(&format!("{good}==")).is_none(), "padding");
        assert!(parse_token("").is_none());
        assert!(parse_token(&"a".repeat(MAX_TOKEN_LEN + 1)).is_none());
    }
}
