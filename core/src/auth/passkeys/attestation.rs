//! The parts of a registration's attestation object that webauthn-rs does not keep: the attestation
//! format, the authenticator's AAGUID (which names the provider) and the COSE public key as encoded.

use serde::Deserialize;
use serde_cbor_2::Value as Cbor;
use uuid::Uuid;

/// What the attestation object says beyond what webauthn-rs keeps: the attestation format, the AAGUID and
/// the COSE public key exactly as the authenticator encoded it.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Attestation {
    pub format: Option<String>,
    pub aaguid: Option<Uuid>,
    pub public_key: Option<Vec<u8>>,
}

/// Reads an attestation object (CBOR); what cannot be read stays `None`.
pub(super) fn read(object: &[u8]) -> Attestation {
    let mut out = Attestation::default();
    let Ok(Cbor::Map(map)) = serde_cbor_2::from_slice::<Cbor>(object) else {
        return out;
    };
    if let Some(Cbor::Text(format)) = map.get(&Cbor::Text("fmt".to_owned())) {
        out.format = Some(format.clone());
    }
    if let Some(Cbor::Bytes(auth_data)) = map.get(&Cbor::Text("authData".to_owned())) {
        // rpIdHash (32) | flags (1) | signCount (4) | AAGUID (16) | credentialIdLength (2) | credentialId |
        // COSE key | extensions; the attested-credential part is there when flag AT (0x40) is set.
        if auth_data.get(32).is_some_and(|flags| *flags & 0x40 != 0) {
            out.aaguid = auth_data.get(37..53).and_then(|bytes| Uuid::from_slice(bytes).ok());
            out.public_key = cose_key(auth_data);
        }
    }
    out
}

/// The CBOR bytes of the credential public key in attested authenticator data.
fn cose_key(auth_data: &[u8]) -> Option<Vec<u8>> {
    let length = auth_data.get(53..55).and_then(|b| <[u8; 2]>::try_from(b).ok()).map(u16::from_be_bytes)?;
    let rest = auth_data.get(55 + usize::from(length)..)?;
    let mut decoder = serde_cbor_2::Deserializer::from_slice(rest);
    Cbor::deserialize(&mut decoder).ok()?;
    rest.get(..decoder.byte_offset()).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_aaguid_format_and_key_are_read_from_the_attestation_object() {
        let aaguid = Uuid::parse_str("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").unwrap();
        let mut key = BTreeMap::new();
        key.insert(Cbor::Integer(1), Cbor::Integer(2));
        key.insert(Cbor::Integer(3), Cbor::Integer(-7));
        let key = serde_cbor_2::to_vec(&Cbor::Map(key)).unwrap();
        let credential_id = [7u8; 5];
        let mut auth_data = vec![0u8; 32];
        auth_data.push(0x45);
        auth_data.extend_from_slice(&[0, 0, 0, 0]);
        auth_data.extend_from_slice(aaguid.as_bytes());
        auth_data.extend_from_slice(&[0, 5]);
        auth_data.extend_from_slice(&credential_id);
        auth_data.extend_from_slice(&key);
        auth_data.extend_from_slice(&[0xa0]); // an (empty) extensions map after the key
        let mut object = BTreeMap::new();
        object.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
        object.insert(Cbor::Text("authData".into()), Cbor::Bytes(auth_data.clone()));
        let parsed = read(&serde_cbor_2::to_vec(&Cbor::Map(object)).unwrap());
        assert_eq!(
            parsed,
            Attestation { format: Some("none".into()), aaguid: Some(aaguid), public_key: Some(key.clone()) }
        );

        // Without the AT flag there is no attested credential data.
        auth_data[32] = 0x05;
        let mut object = BTreeMap::new();
        object.insert(Cbor::Text("authData".into()), Cbor::Bytes(auth_data));
        let parsed = read(&serde_cbor_2::to_vec(&Cbor::Map(object)).unwrap());
        assert_eq!(parsed, Attestation::default());
        assert_eq!(read(b"garbage"), Attestation::default());
    }
}
