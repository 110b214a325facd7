//! Opaque secrets (refresh tokens, API tokens, reset and enrollment links, the setup token): 256 random
//! bits, shown once, stored only as a SHA-256 digest. A digest is enough (unlike passwords) because the
//! secret itself has full entropy; lookups are by digest, so no comparison leaks timing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A fresh secret with its `prefix` (`tsr_` refresh, `tsk_` API token, …) and its digest for storage.
pub fn generate(prefix: &str) -> Result<(String, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = digest(&token);
    Ok((token, digest))
}

/// The stored form of a secret: hex SHA-256.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_long_prefixed_unique_and_stored_as_digests() {
        let (a, da) = generate("tsr_").unwrap();
        let (b, db) = generate("tsr_").unwrap();
        assert!(a.starts_with("tsr_") && a.len() == 4 + 43, "{a}");
        assert_ne!(a, b);
        assert_ne!(da, db);
        assert_eq!(digest(&a), da);
        assert_eq!(da.len(), 64);
        assert!(!da.contains(&a[4..]));
    }
}
