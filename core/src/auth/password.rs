//! Passwords (spec §5): argon2id PHC strings, the password policy, and a dummy hash for unknown users.
//!
//! Hashing is CPU- and memory-heavy, so it never runs on the async workers: every hash or verification
//! runs on `spawn_blocking`, and a semaphore bounds how many run at once (`TESSERA_ARGON2_CONCURRENCY`).
//! Verifying for an unknown user (or a passkey-only user) costs exactly as much as for a known one: the
//! password is checked against a dummy hash made with the current parameters, and the answer is "no".

use std::sync::Arc;

use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::config::AuthSettings;
use crate::error::{Error, ErrorCode, FieldError};

use super::AuthSetupError;

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters a password may have (bounds the hashing and the strength estimate).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Lowest accepted zxcvbn score (0–4).
pub const MIN_STRENGTH_SCORE: u8 = 3;

/// Salt length in bytes (argon2's recommendation).
const SALT_BYTES: usize = 16;
/// The password hashed into the dummy hash; never compared with anything a user could know.
const DUMMY_PASSWORD: &str = "tessera dummy password for unknown users";

/// Hashes and verifies passwords with argon2id on a bounded blocking pool. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// The hash unknown users are verified against, computed once with the current parameters.
    dummy: Arc<OnceCell<String>>,
}

/// The result of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches the stored hash. Always `false` when there was no stored hash.
    pub ok: bool,
    /// The stored hash uses another algorithm, version or cost than the current settings: hash the
    /// password again (only meaningful when `ok`, since that needs the plain password).
    pub needs_rehash: bool,
}

impl PasswordHasher {
    /// Builds the hasher from the argon2 settings; fails when argon2 rejects the cost parameters.
    pub fn new(settings: &AuthSettings) -> Result<Self, AuthSetupError> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|e| AuthSetupError {
            setting: "TESSERA_ARGON2_MEMORY_KIB",
            reason: format!(
                "invalid argon2 parameters (m={} KiB, t={}, p={}): {e}",
                settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism
            ),
        })?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(settings.argon2_concurrency.max(1))),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    /// Hashes `password` with a fresh random salt; returns the PHC string
    /// (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`).
    pub async fn hash(&self, password: &str) -> Result<String, Error> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run_blocking(move || hash_blocking(&params, &password)).await?
    }

    /// Checks `password` against the stored PHC string. `None` (unknown user, or a user without a
    /// password) is checked against the dummy hash, so it takes as long, and always answers `ok: false`.
    /// A stored value that is not a PHC string is treated like `None` (and logged).
    pub async fn verify(&self, phc: Option<&str>, password: &str) -> Result<Verified, Error> {
        let stored = match phc {
            Some(text) if PasswordHash::new(text).is_ok() => Some(text.to_owned()),
            Some(_) => {
                tracing::warn!("a stored password hash is not a PHC string; treating it as no password");
                None
            }
            None => None,
        };
        let known = stored.is_some();
        let target = match stored {
            Some(text) => text,
            None => self.dummy_hash().await?.to_owned(),
        };
        let params = self.params.clone();
        let password = password.to_owned();
        let (matched, differs) =
            self.run_blocking(move || verify_blocking(&params, &target, &password)).await?;
        Ok(Verified { ok: known && matched, needs_rehash: known && differs })
    }

    /// The dummy hash, computed on first use.
    async fn dummy_hash(&self) -> Result<&str, Error> {
        let hash = self.dummy.get_or_try_init(|| self.hash(DUMMY_PASSWORD)).await?;
        Ok(hash.as_str())
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the task, so the
    /// bound holds even when the caller stops waiting.
    async fn run_blocking<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(Error::internal)
    }
}

/// Checks the password policy: 12–128 characters and a zxcvbn score of at least 3. `user_inputs` are
/// words the estimate should treat as known to an attacker (username, e-mail, display name).
pub fn check_policy(password: &str, user_inputs: &[&str]) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(FieldError::new(
            "password",
            ErrorCode::Length,
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long (it has {chars})"),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if u8::from(estimate.score()) >= MIN_STRENGTH_SCORE {
        return Ok(());
    }
    let mut message = String::from("is too easy to guess.");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push(' ');
            message.push_str(&warning.to_string());
        }
        for suggestion in feedback.suggestions() {
            message.push(' ');
            message.push_str(&suggestion.to_string());
        }
    }
    if estimate.feedback().is_none_or(|f| f.suggestions().is_empty()) {
        message.push_str(" Use a longer password, for example a few unrelated words.");
    }
    Err(FieldError::new("password", ErrorCode::Format, message))
}

/// The argon2id context for the current parameters.
fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, Error> {
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(Error::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(Error::internal)?;
    let hash = argon2(params).hash_password(password.as_bytes(), &salt).map_err(Error::internal)?;
    Ok(hash.to_string())
}

/// Returns (the password matches, the hash differs from the current settings).
fn verify_blocking(params: &Params, phc: &str, password: &str) -> (bool, bool) {
    let Ok(hash) = PasswordHash::new(phc) else {
        return (false, true);
    };
    // Verification uses the algorithm and costs recorded in the hash itself.
    let matched = argon2(params).verify_password(password.as_bytes(), &hash).is_ok();
    (matched, differs_from(params, &hash))
}

/// Whether a stored hash was made with another algorithm, version, cost or output length than now.
fn differs_from(params: &Params, hash: &PasswordHash<'_>) -> bool {
    hash.algorithm.as_str() != Algorithm::Argon2id.as_str()
        || hash.version != Some(u32::from(Version::V0x13))
        || hash.params.iter().count() != 3
        || hash.params.get_decimal("m") != Some(params.m_cost())
        || hash.params.get_decimal("t") != Some(params.t_cost())
        || hash.params.get_decimal("p") != Some(params.p_cost())
        || hash.hash.map(|output| output.len()) != Some(Params::DEFAULT_OUTPUT_LEN)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn settings(m: u32, t: u32, p: u32) -> AuthSettings {
        AuthSettings {
            argon2_memory_kib: m,
            argon2_iterations: t,
            argon2_parallelism: p,
            ..AuthSettings::default()
        }
    }

    fn fast() -> PasswordHasher {
        PasswordHasher::new(&settings(8, 1, 1)).unwrap()
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        let short = check_policy("Xq7#pLm2", &[]).unwrap_err();
        assert_eq!((short.field.as_str(), short.code), ("password", ErrorCode::Length));

        let long = check_policy(&"a".repeat(129), &[]).unwrap_err();
        assert_eq!(long.code, ErrorCode::Length);

        // 12 characters, 24 bytes: long enough.
        let accented = "ñøþæßðéüîçåł";
        assert_eq!(accented.chars().count(), 12);
        assert_ne!(check_policy(accented, &[]).err().map(|e| e.code), Some(ErrorCode::Length));
    }

    #[test]
    fn policy_rejects_guessable_passwords_with_feedback() {
        let weak = check_policy("passwordpassword", &[]).unwrap_err();
        assert_eq!(weak.code, ErrorCode::Format);
        assert!(weak.message.starts_with("is too easy to guess."), "{}", weak.message);
        assert!(weak.message.len() > "is too easy to guess.".len(), "no feedback: {}", weak.message);

        let own_name = check_policy("alice.wonderland", &["alice.wonderland"]).unwrap_err();
        assert_eq!(own_name.code, ErrorCode::Format);
    }

    #[test]
    fn policy_accepts_strong_passwords() {
        check_policy("correct horse battery staple", &[]).unwrap();
        check_policy("vG7#q2!LmZp9$wRt", &["alice"]).unwrap();
    }

    #[test]
    fn invalid_parameters_name_the_setting() {
        let err = PasswordHasher::new(&settings(8, 1, 4)).unwrap_err();
        assert_eq!(err.setting, "TESSERA_ARGON2_MEMORY_KIB");
        assert!(PasswordHasher::new(&settings(64, 0, 1)).is_err());
    }

    #[tokio::test]
    async fn hash_then_verify_round_trips() {
        let hasher = fast();
        let phc = hasher.hash("correct horse battery staple").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");

        let good = hasher.verify(Some(&phc), "correct horse battery staple").await.unwrap();
        assert_eq!(good, Verified { ok: true, needs_rehash: false });
        let bad = hasher.verify(Some(&phc), "correct horse battery stapler").await.unwrap();
        assert!(!bad.ok);

        // Same password, different salt.
        let again = hasher.hash("correct horse battery staple").await.unwrap();
        assert_ne!(phc, again);
    }

    #[tokio::test]
    async fn verifying_without_a_hash_always_fails() {
        let hasher = fast();
        let none = hasher.verify(None, DUMMY_PASSWORD).await.unwrap();
        assert_eq!(none, Verified { ok: false, needs_rehash: false });
        let garbage = hasher.verify(Some("not a phc string"), "whatever").await.unwrap();
        assert!(!garbage.ok);
        // The dummy was computed once, with the current parameters.
        let dummy = hasher.dummy.get().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{dummy}");
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_a_rehash() {
        let old = fast();
        let phc = old.hash("correct horse battery staple").await.unwrap();

        let new = PasswordHasher::new(&settings(16, 2, 1)).unwrap();
        let verified = new.verify(Some(&phc), "correct horse battery staple").await.unwrap();
        assert_eq!(verified, Verified { ok: true, needs_rehash: true });

        let rehashed = new.hash("correct horse battery staple").await.unwrap();
        let verified = new.verify(Some(&rehashed), "correct horse battery staple").await.unwrap();
        assert_eq!(verified, Verified { ok: true, needs_rehash: false });
    }

    #[tokio::test]
    async fn other_argon2_variants_still_verify_but_need_a_rehash() {
        let params = Params::new(8, 1, 1, None).unwrap();
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password(b"correct horse battery staple", &salt)
            .unwrap()
            .to_string();
        let verified = fast().verify(Some(&argon2i), "correct horse battery staple").await.unwrap();
        assert_eq!(verified, Verified { ok: true, needs_rehash: true });
    }
}
