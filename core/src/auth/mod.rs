//! Authentication, sessions and authorization (spec §5, §6): passwords, passkeys, JWT access tokens with
//! rotating refresh tokens, API tokens, lockout, password reset, RBAC and the audit-log reads.
//!
//! `Auth` is the one facade the REST handlers, the Leptos server functions and the CLI call. It knows
//! nothing about HTTP: callers pass an [`Actor`] (who, from which IP and user agent) and get back plain
//! data or an [`Error`](crate::Error).

pub mod aaguid;
pub mod api_tokens;
pub mod audit;
pub mod cookies;
pub mod keys;
pub mod lockout;
pub mod mailer;
pub mod passkeys;
pub mod password;
pub mod preferences;
pub mod ratelimit;
pub mod rbac;
pub mod sessions;
pub mod tokens;
pub mod users;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::Cache;
use crate::config::{Config, Secret};
use crate::store::Database;

pub use self::keys::KeyRing;
pub use self::mailer::Mailer;
pub use self::password::PasswordHasher;
pub use self::rbac::Permission;

/// An authenticated caller, resolved from an access token (JWT), a session cookie or an API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    /// The session behind a JWT (browser or API client that signed in); `None` for API tokens.
    pub session_id: Option<Uuid>,
    /// Set when the caller used an API token: its id and scopes. Scopes restrict what the user may do
    /// (a permission must be granted to the user *and* match a scope).
    pub api_token: Option<TokenScope>,
}

/// The id and scopes of the API token a request was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenScope {
    pub id: Uuid,
    pub scopes: Vec<String>,
}

/// The public part of a user, as the API returns it (`user` in the login answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

/// The answer of a successful sign-in or refresh (`POST /auth/login`, `/auth/refresh`,
/// `/auth/passkey/authenticate/finish`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginOutcome {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserSummary,
    /// Not part of the JSON body (the REST adapter puts it in a cookie); the session's id.
    #[serde(skip)]
    pub session_id: Uuid,
}

/// The authentication services. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Auth {
    pub(crate) db: Database,
    pub(crate) cache: Cache,
    pub(crate) config: Arc<Config>,
    pub(crate) keys: KeyRing,
    pub(crate) hasher: PasswordHasher,
    pub(crate) mailer: Mailer,
    pub(crate) webauthn: Arc<webauthn_rs::Webauthn>,
}

/// The client's address: the connecting peer, or — when the peer is one of `trusted` reverse proxies — the
/// nearest untrusted address in `X-Forwarded-For` (read right to left, as each proxy appends). Untrusted
/// peers cannot spoof an address this way.
pub fn client_ip(
    peer: Option<std::net::IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<std::net::IpAddr> =
        forwarded_for.unwrap_or_default().split(',').filter_map(|hop| hop.trim().parse().ok()).collect();
    hops.iter().rev().find(|ip| !trusted.contains(ip)).or(hops.first()).copied().or(Some(peer))
}

/// Why the authentication services could not be set up (bad public URL for WebAuthn, bad SMTP URL).
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct AuthSetupError {
    pub setting: &'static str,
    pub reason: String,
}

impl Auth {
    /// Builds the services; nothing is read from the database yet (keys load lazily).
    pub fn new(
        config: Arc<Config>,
        db: Database,
        cache: Cache,
        secret_key: &Secret,
    ) -> Result<Self, AuthSetupError> {
        let webauthn = Arc::new(passkeys::build_webauthn(&config.public_url, &config.auth.webauthn_origins)?);
        let mailer = Mailer::from_config(&config)?;
        let hasher = PasswordHasher::new(&config.auth)?;
        let keys = KeyRing::new(db.clone(), secret_key, &config);
        Ok(Self { db, cache, config, keys, hasher, mailer, webauthn })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The key ring (JWT signing and verification, JWKS).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The mailer (password-reset mail).
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::client_ip;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        // Not a trusted proxy: the peer, whatever the header says.
        assert_eq!(
            client_ip(Some(ip("203.0.113.5")), Some("198.51.100.1"), &trusted),
            Some(ip("203.0.113.5"))
        );
        // Behind trusted proxies: the nearest untrusted hop (a client-supplied prefix is ignored).
        let chain = "192.0.2.66, 198.51.100.7, 10.0.0.2";
        assert_eq!(client_ip(Some(proxy), Some(chain), &trusted), Some(ip("198.51.100.7")));
        // No header: the proxy itself.
        assert_eq!(client_ip(Some(proxy), None, &trusted), Some(proxy));
        assert_eq!(client_ip(None, Some(chain), &trusted), None);
    }
}
