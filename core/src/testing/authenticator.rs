//! A software passkey authenticator for tests (webauthn-rs' own `SoftPasskey`), shared by the core and the
//! HTTP passkey tests.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use uuid::Uuid;
use webauthn_authenticator_rs::prelude::{Url, WebauthnCError};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, PublicKeyCredential, PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions, RegisterPublicKeyCredential, RequestChallengeResponse,
};

/// One software authenticator, reachable two ways: through `WebauthnAuthenticator` (which, like a browser,
/// refuses to run a ceremony for an origin the RP id does not belong to) and directly (a hostile client
/// that skips those checks).
#[derive(Clone)]
pub struct Shared(Arc<Mutex<SoftPasskey>>);

impl AuthenticatorBackend for Shared {
    fn perform_register(
        &mut self,
        origin: Url,
        options: PublicKeyCredentialCreationOptions,
        timeout_ms: u32,
    ) -> Result<RegisterPublicKeyCredential, WebauthnCError> {
        let mut soft = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        AuthenticatorBackend::perform_register(&mut *soft, origin, options, timeout_ms)
    }

    fn perform_auth(
        &mut self,
        origin: Url,
        options: PublicKeyCredentialRequestOptions,
        timeout_ms: u32,
    ) -> Result<PublicKeyCredential, WebauthnCError> {
        let mut soft = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        AuthenticatorBackend::perform_auth(&mut *soft, origin, options, timeout_ms)
    }
}

/// A user's device: the browser-like client and the raw authenticator behind it.
pub struct Device {
    pub client: WebauthnAuthenticator<Shared>,
    pub raw: Shared,
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}

impl Device {
    pub fn new() -> Self {
        // `true`: the soft token claims user verification, which passkeys require.
        let raw = Shared(Arc::new(Mutex::new(SoftPasskey::new(true))));
        Self { client: WebauthnAuthenticator::new(raw.clone()), raw }
    }

    /// Answers `{"ceremony_id", "options"}` of a registration (or enrollment) start with a new credential.
    pub fn register(&mut self, origin: &Url, start: &Value) -> RegisterPublicKeyCredential {
        let mut options: CreationChallengeResponse =
            serde_json::from_value(start["options"].clone()).unwrap_or_else(|e| panic!("options: {e}"));
        // The server asks for a discoverable (resident) credential; SoftPasskey cannot store one and refuses
        // such requests. webauthn-rs does not verify residency, so the soft token is asked for a plain one.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
            selection.resident_key = None;
        }
        self.client.do_registration(origin.clone(), options).unwrap_or_else(|e| panic!("register: {e:?}"))
    }

    /// Answers the options of a sign-in start.
    pub fn sign(&mut self, origin: &Url, start: &Value) -> PublicKeyCredential {
        self.client
            .do_authentication(origin.clone(), request_options(start))
            .unwrap_or_else(|e| panic!("sign: {e:?}"))
    }

    /// Answers a discoverable sign-in start as a resident-key authenticator would. SoftPasskey only signs
    /// for a credential named in allowCredentials and returns no user handle: name the credential for it,
    /// and set the user handle afterwards (the signature covers authenticatorData and the client data hash,
    /// not the user handle).
    pub fn sign_discoverable(
        &mut self,
        origin: &Url,
        start: &Value,
        registered: &RegisterPublicKeyCredential,
        user_handle: Option<Uuid>,
    ) -> PublicKeyCredential {
        let mut options = request_options(start);
        options.public_key.allow_credentials = allow(registered);
        let mut assertion =
            self.client.do_authentication(origin.clone(), options).unwrap_or_else(|e| panic!("sign: {e:?}"));
        assertion.response.user_handle = user_handle.map(|id| id.as_bytes().to_vec().into());
        assertion
    }
}

/// An allowCredentials list naming `credential`.
pub fn allow(credential: &RegisterPublicKeyCredential) -> Vec<AllowCredentials> {
    vec![AllowCredentials { type_: "public-key".into(), id: credential.raw_id.clone(), transports: None }]
}

/// The request options of a sign-in start answer (`{"ceremony_id", "options"}`).
pub fn request_options(start: &Value) -> RequestChallengeResponse {
    serde_json::from_value(start["options"].clone()).unwrap_or_else(|e| panic!("options: {e}"))
}
