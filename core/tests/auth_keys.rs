//! JWT access tokens and signing keys (spec §5) on both backends: round trips, forgeries, claims checks,
//! the JWKS, keys sealed at rest, rotation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{TimeDelta, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, PKeyRef, Private};
use openssl::sign::{Signer, Verifier};
use openssl::symm::{decrypt_aead, Cipher};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tessera_core::auth::KeyRing;
use tessera_core::config::{Config, Secret};
use tessera_core::{Database, Error};
use uuid::Uuid;

const INVALID: &str = "invalid or expired access token";

fn config() -> Config {
    Config::load(None, &|_| None).unwrap()
}

fn secret() -> Secret {
    Secret::new("k".repeat(64))
}

fn ring(db: &Database) -> KeyRing {
    KeyRing::new(db.clone(), &secret(), &config())
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_json(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    (decode_json(it.next().unwrap()), decode_json(it.next().unwrap()))
}

fn kid_of(token: &str) -> Uuid {
    Uuid::parse_str(parts(token).0["kid"].as_str().unwrap()).unwrap()
}

fn with(claims: &Value, name: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[name] = value;
    claims
}

fn sign_ed25519(key: &PKeyRef<Private>, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = Signer::new_without_digest(key).unwrap().sign_oneshot_to_vec(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signature))
}

fn sign_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let key = PKey::hmac(secret).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signer.sign_to_vec().unwrap()))
}

async fn assert_rejected(ring: &KeyRing, token: &str, why: &str) {
    match ring.verify(token).await {
        Err(Error::Unauthenticated(message)) => assert_eq!(message, INVALID, "{why}"),
        other => panic!("{why}: expected Unauthenticated, got {other:?}"),
    }
}

/// A row of `signing_keys`.
struct StoredKey {
    kid: Uuid,
    public_key: String,
    private_key: String,
}

async fn stored_keys(db: &Database) -> Vec<StoredKey> {
    let rows = db
        .fetch_all(&db.sql("SELECT id, public_key, private_key FROM signing_keys ORDER BY created_at, id"))
        .await
        .unwrap();
    rows.iter()
        .map(|row| StoredKey {
            kid: row.uuid("id").unwrap(),
            public_key: row.text("public_key").unwrap(),
            private_key: row.text("private_key").unwrap(),
        })
        .collect()
}

/// Opens a sealed private key the documented way: AES-256-GCM under SHA-256("tessera:signing-keys:" +
/// secret), base64(nonce ‖ ciphertext ‖ tag), the kid bytes as associated data.
fn open_private_key(secret: &Secret, key: &StoredKey) -> PKey<Private> {
    let aes_key = Sha256::digest(format!("tessera:signing-keys:{}", secret.expose()));
    let blob = STANDARD.decode(&key.private_key).unwrap();
    let (nonce, rest) = blob.split_at(12);
    let (ciphertext, tag) = rest.split_at(rest.len() - 16);
    let der = decrypt_aead(
        Cipher::aes_256_gcm(),
        aes_key.as_slice(),
        Some(nonce),
        key.kid.as_bytes(),
        ciphertext,
        tag,
    )
    .unwrap();
    PKey::private_key_from_pkcs8(&der).unwrap()
}

tessera_core::conformance! {
    async fn issued_tokens_verify_on_every_instance(db: Database) {
        let ring = ring(&db);
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, expires_in) = ring.issue(user, "alice", session).await.unwrap();
        assert_eq!(expires_in, 900);

        let claims = ring.verify(&token).await.unwrap();
        assert_eq!((claims.sub, claims.sid, claims.username.as_str()), (user, session, "alice"));
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("http://localhost:3000", "tessera"));
        assert_eq!(claims.exp - claims.iat, 900);
        assert!((claims.iat - Utc::now().timestamp()).abs() < 5);

        let (header, _) = parts(&token);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "JWT");
        let stored = stored_keys(&db).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(kid_of(&token), stored[0].kid);

        // Another instance on the same database and secret verifies it and signs with the same key.
        let other = KeyRing::new(db.clone(), &secret(), &config());
        assert_eq!(other.verify(&token).await.unwrap(), claims);
        let (second, _) = other.issue(user, "alice", session).await.unwrap();
        assert_eq!(kid_of(&second), stored[0].kid);
        assert_ne!(ring.verify(&second).await.unwrap().jti, claims.jti);
        assert_eq!(stored_keys(&db).await.len(), 1);
    }

    async fn forged_and_tampered_tokens_are_rejected(db: Database) {
        let ring = ring(&db);
        let (token, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        let (header, claims) = parts(&token);
        let kid = header["kid"].as_str().unwrap().to_owned();
        let segments: Vec<&str> = token.split('.').collect();

        let evil = b64(with(&claims, "username", json!("root")).to_string());
        let tampered = format!("{}.{evil}.{}", segments[0], segments[2]);
        assert_rejected(&ring, &tampered, "tampered payload").await;

        let none_header = b64(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
        assert_rejected(&ring, &format!("{none_header}.{}.", segments[1]), "alg none, no signature").await;
        assert_rejected(&ring, &format!("{none_header}.{}.{}", segments[1], segments[2]), "alg none").await;

        let jwks = ring.jwks().await.unwrap();
        let x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
        let hs256 = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
        assert_rejected(&ring, &sign_hs256(x.as_bytes(), &hs256, &claims), "HS256 with x as secret").await;
        let raw_public = URL_SAFE_NO_PAD.decode(&x).unwrap();
        assert_rejected(&ring, &sign_hs256(&raw_public, &hs256, &claims), "HS256 with the raw key").await;

        let stranger = PKey::generate_ed25519().unwrap();
        assert_rejected(&ring, &sign_ed25519(&stranger, &header, &claims), "another key, same kid").await;
        let unknown = json!({"alg": "EdDSA", "typ": "JWT", "kid": Uuid::now_v7().to_string()});
        assert_rejected(&ring, &sign_ed25519(&stranger, &unknown, &claims), "unknown kid").await;

        let garbage: Vec<String> = vec![
            String::new(),
            "a.b.c".into(),
            "...".into(),
            format!("{token}x"),
            format!("{token}.{}", segments[2]),
            token[1..].to_owned(),
            format!(" {token}"),
        ];
        for bad in &garbage {
            assert_rejected(&ring, bad, &format!("garbage {bad:?}")).await;
        }
        // The genuine token still verifies after all that.
        ring.verify(&token).await.unwrap();
    }

    async fn claims_and_header_are_checked(db: Database) {
        let ring = ring(&db);
        let (token, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        let stored = stored_keys(&db).await;
        let key = open_private_key(&secret(), &stored[0]);
        let (header, claims) = parts(&token);

        // Re-signing the same claims with the real key verifies: the cases below fail for their claims only.
        ring.verify(&sign_ed25519(&key, &header, &claims)).await.unwrap();
        let now = Utc::now().timestamp();
        let soon = with(&claims, "iat", json!(now + 30));
        ring.verify(&sign_ed25519(&key, &header, &soon)).await.unwrap();

        let mut no_exp = claims.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        let cases = [
            ("expired", with(&claims, "exp", json!(now - 1))),
            ("expires now", with(&claims, "exp", json!(now))),
            ("no exp", no_exp),
            ("wrong audience", with(&claims, "aud", json!("someone-else"))),
            ("audience list", with(&claims, "aud", json!(["tessera"]))),
            ("wrong issuer", with(&claims, "iss", json!("https://evil.example"))),
            ("issued in the future", with(&claims, "iat", json!(now + 120))),
        ];
        for (why, bad) in cases {
            assert_rejected(&ring, &sign_ed25519(&key, &header, &bad), why).await;
        }

        let kid = header["kid"].clone();
        for bad_header in [
            json!({"alg": "EdDSA", "typ": "JOSE", "kid": kid}),
            json!({"alg": "EdDSA", "typ": "JWT", "kid": kid, "jku": "https://evil.example/jwks"}),
            json!({"alg": "Ed25519", "typ": "JWT", "kid": kid}),
            json!({"alg": "EdDSA", "typ": "JWT"}),
        ] {
            assert_rejected(&ring, &sign_ed25519(&key, &bad_header, &claims), &bad_header.to_string()).await;
        }
        ring.verify(&sign_ed25519(&key, &json!({"alg": "EdDSA", "kid": kid}), &claims)).await.unwrap();

        // A zero lifetime gives tokens that are already expired.
        let mut instant = config();
        instant.auth.access_token_ttl = Duration::ZERO;
        let instant = KeyRing::new(db.clone(), &secret(), &instant);
        let (expired, expires_in) = instant.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        assert_eq!(expires_in, 0);
        assert_rejected(&instant, &expired, "zero lifetime").await;
        // Another public URL means another issuer.
        let mut elsewhere = config();
        elsewhere.public_url = "https://elsewhere.example".into();
        assert_rejected(&KeyRing::new(db.clone(), &secret(), &elsewhere), &token, "other issuer").await;
    }

    async fn the_jwks_publishes_the_signing_key(db: Database) {
        let ring = ring(&db);
        let jwks = ring.jwks().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{jwks}");
        let published = &keys[0];
        assert_eq!(published["kty"], "OKP");
        assert_eq!(published["crv"], "Ed25519");
        assert_eq!(published["alg"], "EdDSA");
        assert_eq!(published["use"], "sig");
        let stored = stored_keys(&db).await;
        assert_eq!(published["kid"], stored[0].kid.to_string());
        assert_eq!(published["x"], stored[0].public_key);

        // Anyone holding the JWKS can check a token's signature.
        let (token, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        let raw = URL_SAFE_NO_PAD.decode(published["x"].as_str().unwrap()).unwrap();
        assert_eq!(raw.len(), 32);
        let public = PKey::public_key_from_raw_bytes(&raw, Id::ED25519).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut verifier = Verifier::new_without_digest(&public).unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(verifier.verify_oneshot(&signature, input.as_bytes()).unwrap());
    }

    async fn private_keys_are_sealed_at_rest(db: Database) {
        let ring = ring(&db);
        let (token, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        let stored = stored_keys(&db).await;
        let key = open_private_key(&secret(), &stored[0]);
        assert_eq!(URL_SAFE_NO_PAD.decode(&stored[0].public_key).unwrap(), key.raw_public_key().unwrap());

        let der = key.private_key_to_pkcs8().unwrap();
        let raw_private = key.raw_private_key().unwrap();
        let sealed = STANDARD.decode(&stored[0].private_key).unwrap();
        assert_ne!(stored[0].private_key, STANDARD.encode(&der));
        assert_eq!(sealed.len(), 12 + der.len() + 16);
        assert!(!sealed.windows(der.len()).any(|w| w == der.as_slice()), "plain DER stored");
        assert!(!sealed.windows(raw_private.len()).any(|w| w == raw_private.as_slice()), "raw key stored");

        // With another secret the key cannot sign, but still verifies; a key of its own is created to sign.
        let other_secret = KeyRing::new(db.clone(), &Secret::new("z".repeat(64)), &config());
        other_secret.verify(&token).await.unwrap();
        let (own, _) = other_secret.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        assert_ne!(kid_of(&own), stored[0].kid);
        assert_eq!(stored_keys(&db).await.len(), 2);
    }

    async fn keys_rotate_and_old_tokens_keep_verifying(db: Database) {
        let mut rotating = config();
        rotating.auth.signing_key_rotation = Duration::from_secs(60);
        let ring = KeyRing::new(db.clone(), &secret(), &rotating);
        let (old_token, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        let old_kid = kid_of(&old_token);

        // Another instance that has the old key cached.
        let other = KeyRing::new(db.clone(), &secret(), &rotating);
        other.verify(&old_token).await.unwrap();

        ring.rotate_if_due().await.unwrap();
        let (same, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        assert_eq!(kid_of(&same), old_kid, "not due yet");

        // The key was made two minutes ago: past its 60 s rotation.
        let mut backdate = db.sql("UPDATE signing_keys SET created_at = ");
        backdate.bind(Utc::now() - TimeDelta::seconds(120));
        db.execute(&backdate).await.unwrap();
        ring.rotate_if_due().await.unwrap();

        let (new_token, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        let new_kid = kid_of(&new_token);
        assert_ne!(new_kid, old_kid);
        ring.verify(&old_token).await.unwrap();
        ring.verify(&new_token).await.unwrap();
        let jwks = ring.jwks().await.unwrap();
        let kids: Vec<&str> =
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert!(kids.contains(&old_kid.to_string().as_str()) && kids.contains(&new_kid.to_string().as_str()));

        // The other instance learns the new kid by reloading.
        other.verify(&new_token).await.unwrap();
        other.verify(&old_token).await.unwrap();

        // Within 10 s of an unknown-kid reload, made-up kids do not trigger reloads, but a key that another
        // instance really created is found (one lookup by kid) and verifies.
        let stranger = PKey::generate_ed25519().unwrap();
        let unknown = json!({"alg": "EdDSA", "typ": "JWT", "kid": Uuid::now_v7().to_string()});
        let third = KeyRing::new(db.clone(), &secret(), &rotating);
        third.verify(&old_token).await.unwrap();
        let forged = sign_ed25519(&stranger, &unknown, &parts(&old_token).1);
        assert_rejected(&third, &forged, "unknown kid").await;
        let mut backdate = db.sql("UPDATE signing_keys SET created_at = ");
        backdate.bind(Utc::now() - TimeDelta::seconds(120));
        db.execute(&backdate).await.unwrap();
        ring.rotate_if_due().await.unwrap();
        let (newest, _) = ring.issue(Uuid::now_v7(), "alice", Uuid::now_v7()).await.unwrap();
        assert_eq!(third.verify(&newest).await.unwrap().username, "alice", "a new key of another instance");
        let another = json!({"alg": "EdDSA", "typ": "JWT", "kid": Uuid::now_v7().to_string()});
        assert_rejected(&third, &sign_ed25519(&stranger, &another, &parts(&old_token).1), "made-up kid").await;

        // Keys whose not_after passed more than a day ago are deleted.
        let mut expire = db.sql("UPDATE signing_keys SET not_after = ");
        expire.bind(Utc::now() - TimeDelta::days(2)).push(" WHERE id = ").bind(old_kid);
        db.execute(&expire).await.unwrap();
        ring.rotate_if_due().await.unwrap();
        assert!(stored_keys(&db).await.iter().all(|k| k.kid != old_kid));
        assert_rejected(&ring, &old_token, "deleted key").await;
        ring.verify(&new_token).await.unwrap();
        let jwks = ring.jwks().await.unwrap();
        assert!(jwks["keys"].as_array().unwrap().iter().all(|k| k["kid"] != old_kid.to_string()));
    }
}
