//! Which product holds a passkey, from the AAGUID its authenticator reports at registration: a bundled map
//! of well-known authenticators (the community list at github.com/passkeydev/passkey-authenticator-aaguids
//! has more). Unknown AAGUIDs, and the all-zero AAGUID of authenticators that do not say (or were not asked
//! to), have no provider.

use uuid::Uuid;

/// AAGUID (lower-case, hyphenated) → provider name.
const PROVIDERS: &[(&str, &str)] = &[
    ("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "Google Password Manager"),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    ("dd4ec289-e01d-41c9-bb89-70fa845d4bf2", "iCloud Keychain"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"),
    ("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series"),
    ("fa2b99dc-9e39-4257-8f92-4a30d23c4118", "YubiKey 5 Series"),
    ("2fc0579f-8113-47ea-b116-bb5a8db9202a", "YubiKey 5 Series"),
    ("c5ef55ff-ad9a-4b9f-b580-adebafe026d0", "YubiKey 5 Series"),
    ("73bb0cd4-e502-49b8-9c6f-b59445bf720b", "YubiKey 5 Series"),
    ("50726f74-6f6e-5061-7373-50726f746f6e", "Proton Pass"),
];

/// The provider of an authenticator, when its AAGUID is a known one.
pub fn provider(aaguid: &Uuid) -> Option<&'static str> {
    if aaguid.is_nil() {
        return None;
    }
    let key = aaguid.hyphenated().to_string();
    PROVIDERS.iter().find(|(id, _)| *id == key).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_entry_is_a_canonical_uuid() {
        for (id, _) in PROVIDERS {
            let parsed = Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.hyphenated().to_string(), *id, "{id} must be lower-case and hyphenated");
            assert!(provider(&parsed).is_some(), "{id}");
        }
    }

    #[test]
    fn known_unknown_and_zero_aaguids() {
        let icloud = Uuid::parse_str("FBFC3007-154E-4ECC-8C0B-6E020557D7BD").unwrap();
        assert_eq!(provider(&icloud), Some("iCloud Keychain"));
        let google = Uuid::parse_str("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").unwrap();
        assert_eq!(provider(&google), Some("Google Password Manager"));
        let hello = Uuid::parse_str("6028b017-b1d4-4c02-b4b3-afcdafc96bb2").unwrap();
        assert_eq!(provider(&hello), Some("Windows Hello"));
        let yubikey = Uuid::parse_str("cb69481e-8ff7-4039-93ec-0a2729a154a8").unwrap();
        assert_eq!(provider(&yubikey), Some("YubiKey 5 Series"));
        assert_eq!(provider(&Uuid::nil()), None);
        assert_eq!(provider(&Uuid::from_u128(42)), None);
    }
}
