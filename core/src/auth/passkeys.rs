//! Passkeys (spec §5): registration by a signed-in user or with a one-time enrollment token issued by an
//! admin, username-first and usernameless (discoverable) sign-in, and the user's own list, rename, delete.
//!
//! Ceremony state stays on the server: the start step stores it in the cache under
//! `webauthn:<kind>:<ceremony_id>` for five minutes and hands the client only the `ceremony_id` with the
//! options; the finish step takes it (read and delete at once), so a ceremony completes at most once.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, WebauthnBuilder,
};
use webauthn_rs::Webauthn;
use webauthn_rs_proto::ResidentKeyRequirement;

use super::users::{audit_user, UserRecord};
use super::{aaguid, tokens, Auth, AuthSetupError, LoginOutcome, Principal};
use crate::error::{Error, ErrorCode, Result};
use crate::events::Actor;
use crate::ids::new_id;
use crate::store::{DbRow, Tx};

mod attestation;

/// How long a started ceremony can be finished.
const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);
/// How long an enrollment link stays valid.
const ENROLLMENT_TTL_DAYS: i64 = 7;
/// The longest passkey name.
const MAX_NAME_CHARS: usize = 100;

/// Ceremony kinds (the middle part of the cache key): a ceremony of one kind cannot finish as another.
const REGISTER: &str = "register";
const ENROLL: &str = "enroll";
const SIGN_IN: &str = "authenticate";

const PASSKEY_COLUMNS: &str = "id, user_id, credential_id, provider, aaguid, device_info, sign_count, \
     backup_eligible, backup_state, credential, is_active, created_at, last_used_at";

const CEREMONY_GONE: &str = "the ceremony expired or was already used";
const VERIFICATION_FAILED: &str = "passkey verification failed";
const INVALID_ENROLLMENT: &str = "invalid or expired enrollment token";

/// The WebAuthn relying party for `TESSERA_PUBLIC_URL`: its host is the RP id, its origin the one allowed
/// origin, "Tessera" the name authenticators show.
pub fn build_webauthn(public_url: &str, extra_origins: &[String]) -> Result<Webauthn, AuthSetupError> {
    let fail = |reason: String| AuthSetupError { setting: "TESSERA_PUBLIC_URL", reason };
    let url = Url::parse(public_url).map_err(|e| fail(format!("'{public_url}' is not a URL: {e}")))?;
    let rp_id = url
        .domain()
        .ok_or_else(|| {
            fail(format!(
                "'{public_url}' has no host name; passkeys need one (such as localhost), not an IP address"
            ))
        })?
        .to_owned();
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|e| fail(format!("'{public_url}' has no usable origin: {e}")))?;
    let mut builder = WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|e| fail(format!("cannot serve passkeys for '{public_url}': {e}")))?
        .rp_name("Tessera");
    // Further origins of the same relying party (the desktop client, a second host name).
    for extra in extra_origins {
        let url = Url::parse(extra).map_err(|e| AuthSetupError {
            setting: "TESSERA_WEBAUTHN_ORIGINS",
            reason: format!("'{extra}' is not a URL: {e}"),
        })?;
        builder = builder.append_allowed_origin(&url);
    }
    builder.build().map_err(|e| fail(format!("cannot serve passkeys for '{public_url}': {e}")))
}

/// A registration in progress (by a signed-in user, or with an enrollment token).
#[derive(Serialize, Deserialize)]
struct RegistrationCeremony {
    user_id: Uuid,
    enrollment_token_id: Option<Uuid>,
    state: PasskeyRegistration,
}

/// A sign-in in progress.
#[derive(Serialize, Deserialize)]
enum SignInCeremony {
    /// The user named themselves; their passkeys were offered.
    UsernameFirst { user_id: Uuid, state: PasskeyAuthentication },
    /// The authenticator picks a resident credential and names the user (user handle).
    Discoverable { state: DiscoverableAuthentication },
}

/// A `user_passkeys` row.
struct StoredPasskey {
    id: Uuid,
    user_id: Uuid,
    provider: Option<String>,
    aaguid: Option<Uuid>,
    device_info: Value,
    backup_eligible: bool,
    backup_state: bool,
    passkey: Passkey,
    is_active: bool,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl StoredPasskey {
    fn from_row(row: &DbRow) -> Result<Self> {
        let id = row.uuid("id")?;
        let passkey = serde_json::from_value(row.json("credential")?)
            .map_err(|e| Error::internal(format!("stored passkey {id} is unreadable: {e}")))?;
        Ok(Self {
            id,
            user_id: row.uuid("user_id")?,
            provider: row.opt_text("provider")?,
            aaguid: row.opt_uuid("aaguid")?,
            device_info: row.json("device_info")?,
            backup_eligible: row.bool("backup_eligible")?,
            backup_state: row.bool("backup_state")?,
            passkey,
            is_active: row.bool("is_active")?,
            created_at: row.timestamp("created_at")?,
            last_used_at: row.opt_timestamp("last_used_at")?,
        })
    }

    /// The API representation (`GET /auth/passkeys` items).
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.device_info.get("name").and_then(Value::as_str).unwrap_or("Passkey"),
            "provider": self.provider,
            "aaguid": self.aaguid,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "backup_eligible": self.backup_eligible,
            "backup_state": self.backup_state,
            "transports": self.device_info.get("transports").cloned().unwrap_or_else(|| json!([])),
        })
    }
}

/// The counter and backup flags of a serialized webauthn-rs `Passkey` (`{"cred": {...}}`).
struct CredentialState {
    sign_count: i64,
    backup_eligible: bool,
    backup_state: bool,
}

impl CredentialState {
    fn of(passkey: &Value) -> Self {
        Self {
            sign_count: passkey.pointer("/cred/counter").and_then(Value::as_i64).unwrap_or(0),
            backup_eligible: passkey
                .pointer("/cred/backup_eligible")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            backup_state: passkey.pointer("/cred/backup_state").and_then(Value::as_bool).unwrap_or(false),
        }
    }
}

fn ceremony_key(kind: &str, id: Uuid) -> String {
    format!("webauthn:{kind}:{id}")
}

fn ceremony_gone() -> Error {
    Error::bad_request("ceremony_id", ErrorCode::Invalid, CEREMONY_GONE)
}

fn verification_failed() -> Error {
    Error::Unauthenticated(VERIFICATION_FAILED.into())
}

fn invalid_enrollment() -> Error {
    Error::Unauthenticated(INVALID_ENROLLMENT.into())
}

fn passkey_not_found(id: Uuid) -> Error {
    Error::NotFound(format!("passkey {id} not found"))
}

/// A field that must be present (and not null).
fn required<'a>(body: &'a Value, field: &str) -> Result<&'a Value> {
    match body.get(field) {
        None | Some(Value::Null) => {
            Err(Error::bad_request(field, ErrorCode::Required, format!("{field} is required")))
        }
        Some(value) => Ok(value),
    }
}

fn uuid_field(body: &Value, field: &str) -> Result<Uuid> {
    required(body, field)?
        .as_str()
        .and_then(|text| Uuid::parse_str(text).ok())
        .ok_or_else(|| Error::bad_request(field, ErrorCode::Type, "expected a UUID"))
}

fn text_field<'a>(body: &'a Value, field: &str) -> Result<&'a str> {
    required(body, field)?
        .as_str()
        .ok_or_else(|| Error::bad_request(field, ErrorCode::Type, "expected a string"))
}

/// The WebAuthn credential the browser returned (`credential`).
fn credential_field<T: DeserializeOwned>(body: &Value) -> Result<T> {
    serde_json::from_value(required(body, "credential")?.clone()).map_err(|e| {
        Error::bad_request("credential", ErrorCode::Type, format!("not a WebAuthn credential: {e}"))
    })
}

/// A passkey name: trimmed, 1–100 characters. `None` when absent (or blank) and not `required`.
fn name_field(body: &Value, required_field: bool) -> Result<Option<String>> {
    let name = match body.get("name") {
        None | Some(Value::Null) if !required_field => return Ok(None),
        None | Some(Value::Null) => {
            return Err(Error::bad_request("name", ErrorCode::Required, "name is required"))
        }
        Some(Value::String(name)) => name.trim(),
        Some(_) => return Err(Error::bad_request("name", ErrorCode::Type, "expected a string")),
    };
    let chars = name.chars().count();
    if chars == 0 && !required_field {
        return Ok(None);
    }
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(Error::invalid("name", ErrorCode::Length, format!("1–{MAX_NAME_CHARS} characters")));
    }
    Ok(Some(name.to_owned()))
}

impl Auth {
    // --- Ceremony state --------------------------------------------------------------------------------

    async fn save_ceremony<T: Serialize>(&self, kind: &str, state: &T) -> Result<Uuid> {
        let id = new_id();
        let bytes = serde_json::to_vec(state).map_err(Error::internal)?;
        self.cache.set(&ceremony_key(kind, id), &bytes, Some(CEREMONY_TTL)).await?;
        Ok(id)
    }

    /// Takes the state of the ceremony named by `ceremony_id` in `body`: a second take finds nothing.
    async fn take_ceremony<T: DeserializeOwned>(&self, kind: &str, body: &Value) -> Result<T> {
        let id = uuid_field(body, "ceremony_id")?;
        let bytes = self.cache.take(&ceremony_key(kind, id)).await?.ok_or_else(ceremony_gone)?;
        serde_json::from_slice(&bytes).map_err(|_| ceremony_gone())
    }

    // --- Reads -----------------------------------------------------------------------------------------

    async fn passkeys_of(&self, user_id: Uuid, active_only: bool) -> Result<Vec<StoredPasskey>> {
        let mut sql = self.db.sql(&format!("SELECT {PASSKEY_COLUMNS} FROM user_passkeys WHERE user_id = "));
        sql.bind(user_id);
        if active_only {
            sql.push(" AND is_active = ").bind(true);
        }
        sql.push(" ORDER BY created_at, id");
        self.db.fetch_all(&sql).await?.iter().map(StoredPasskey::from_row).collect()
    }

    async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<StoredPasskey>> {
        let mut sql =
            self.db.sql(&format!("SELECT {PASSKEY_COLUMNS} FROM user_passkeys WHERE credential_id = "));
        sql.bind(credential_id);
        self.db.fetch_optional(&sql).await?.as_ref().map(StoredPasskey::from_row).transpose()
    }

    // --- Registration ----------------------------------------------------------------------------------

    /// `POST /auth/passkey/register/start`: options for a new passkey of the signed-in user.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn passkey_register_start(&self, principal: &Principal) -> Result<Value> {
        let user = self.current_user(principal).await?;
        self.start_registration(&user, REGISTER, None).await
    }

    /// `POST /auth/passkey/register/finish` `{"ceremony_id", "credential", "name"?}`: stores the passkey.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn passkey_register_finish(
        &self,
        principal: &Principal,
        actor: &Actor,
        body: &Value,
    ) -> Result<Value> {
        let user = self.current_user(principal).await?;
        let credential: RegisterPublicKeyCredential = credential_field(body)?;
        let name = name_field(body, false)?;
        let ceremony: RegistrationCeremony = self.take_ceremony(REGISTER, body).await?;
        if ceremony.user_id != user.id {
            return Err(ceremony_gone());
        }
        let mut tx = self.db.begin().await?;
        let passkey = self.store_passkey(&mut tx, actor, user.id, &ceremony.state, &credential, name).await?;
        tx.commit().await?;
        Ok(passkey)
    }

    /// Creation options asking for a discoverable credential (needed for usernameless sign-in), excluding
    /// the user's existing passkeys; the state is stored as webauthn-rs made it.
    async fn start_registration(
        &self,
        user: &UserRecord,
        kind: &str,
        enrollment_token_id: Option<Uuid>,
    ) -> Result<Value> {
        let exclude: Vec<CredentialID> =
            self.passkeys_of(user.id, false).await?.iter().map(|p| p.passkey.cred_id().clone()).collect();
        let exclude = if exclude.is_empty() { None } else { Some(exclude) };
        let display_name = user.display_name.as_deref().unwrap_or(&user.username);
        let (mut options, state) = self
            .webauthn
            .start_passkey_registration(user.id, &user.username, display_name, exclude)
            .map_err(Error::internal)?;
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        let ceremony = RegistrationCeremony { user_id: user.id, enrollment_token_id, state };
        let ceremony_id = self.save_ceremony(kind, &ceremony).await?;
        Ok(json!({ "ceremony_id": ceremony_id, "options": options }))
    }

    /// Verifies a registration response and inserts the passkey (with its audit entry) inside `tx`.
    async fn store_passkey(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        user_id: Uuid,
        state: &PasskeyRegistration,
        credential: &RegisterPublicKeyCredential,
        name: Option<String>,
    ) -> Result<Value> {
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, state)
            .map_err(|e| Error::invalid("credential", ErrorCode::Invalid, e.to_string()))?;
        let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice());
        let mut taken = tx.sql("SELECT id FROM user_passkeys WHERE credential_id = ");
        taken.bind(credential_id.clone());
        if tx.fetch_optional(&taken).await?.is_some() {
            return Err(Error::invalid(
                "credential",
                ErrorCode::Unique,
                "this passkey is already registered",
            ));
        }

        let attestation = attestation::read(credential.response.attestation_object.as_slice());
        let public_key = match &attestation.public_key {
            Some(bytes) => URL_SAFE_NO_PAD.encode(bytes),
            None => {
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(passkey.get_public_key()).map_err(Error::internal)?)
            }
        };
        let provider = attestation.aaguid.as_ref().and_then(aaguid::provider).map(str::to_owned);
        let name = name.or_else(|| provider.clone()).unwrap_or_else(|| "Passkey".to_owned());
        let transports = credential
            .response
            .transports
            .as_ref()
            .and_then(|t| serde_json::to_value(t).ok())
            .unwrap_or_else(|| json!([]));
        let device_info = json!({ "name": name, "transports": transports });
        let stored_credential = serde_json::to_value(&passkey).map_err(Error::internal)?;
        let counters = CredentialState::of(&stored_credential);

        let id = new_id();
        let now = Utc::now();
        let mut insert = tx.sql(
            "INSERT INTO user_passkeys (id, user_id, credential_id, public_key, attestation_type, provider, \
             device_info, aaguid, sign_count, backup_eligible, backup_state, credential, is_active, \
             created_at, created_by) VALUES (",
        );
        insert.bind(id).push(", ").bind(user_id).push(", ").bind(credential_id).push(", ");
        insert.bind(public_key).push(", ").bind(attestation.format.clone()).push(", ");
        insert.bind(provider.clone()).push(", ").bind(device_info.clone()).push(", ");
        insert.bind(attestation.aaguid).push(", ").bind(counters.sign_count).push(", ");
        insert.bind(counters.backup_eligible).push(", ").bind(counters.backup_state).push(", ");
        insert.bind(stored_credential).push(", ").bind(true).push(", ").bind(now).push(", ");
        insert.bind(actor.user_id).push(")");
        if let Err(e) = tx.execute(&insert).await.map_err(Error::from) {
            // Registered concurrently (the same credential finished twice at once).
            return Err(if crate::eav::schema::is_unique_violation(&e) {
                Error::invalid("credential", ErrorCode::Unique, "this passkey is already registered")
            } else {
                e
            });
        }

        let stored = StoredPasskey {
            id,
            user_id,
            provider,
            aaguid: attestation.aaguid,
            device_info,
            backup_eligible: counters.backup_eligible,
            backup_state: counters.backup_state,
            passkey,
            is_active: true,
            created_at: now,
            last_used_at: None,
        };
        let answer = stored.to_json();
        audit_user(tx, actor, "PasskeyAdded", user_id, None, Some(answer.clone())).await?;
        Ok(answer)
    }

    // --- Enrollment ------------------------------------------------------------------------------------

    /// `POST /users/{id}/enrollment-tokens`: a one-time link (7 days) to register a passkey for `user_id`.
    /// Earlier unused links of the user stop working.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn issue_enrollment_token(&self, actor: &Actor, user_id: Uuid) -> Result<Value> {
        let user = self
            .find_user(user_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {user_id} not found")))?;
        let (token, digest) = tokens::generate("tse_")?;
        let now = Utc::now();
        let expires_at = now + chrono::TimeDelta::days(ENROLLMENT_TTL_DAYS);
        let mut tx = self.db.begin().await?;
        super::rbac::guard_owner_account(&mut tx, actor, user.id).await?;
        let mut expire = tx.sql("UPDATE enrollment_tokens SET expires_at = ");
        expire.bind(now).push(" WHERE user_id = ").bind(user.id);
        expire.push(" AND used_at IS NULL AND expires_at > ").bind(now);
        tx.execute(&expire).await?;
        let id = new_id();
        let mut insert = tx.sql(
            "INSERT INTO enrollment_tokens (id, user_id, token_hash, expires_at, created_at, created_by) \
             VALUES (",
        );
        insert.bind(id).push(", ").bind(user.id).push(", ").bind(digest).push(", ").bind(expires_at);
        insert.push(", ").bind(now).push(", ").bind(actor.user_id).push(")");
        tx.execute(&insert).await?;
        let detail = json!({ "enrollment_token_id": id, "expires_at": expires_at });
        audit_user(&mut tx, actor, "EnrollmentTokenIssued", user.id, None, Some(detail)).await?;
        tx.commit().await?;
        let url = format!("{}/enroll?token={token}", self.config.public_url);
        Ok(json!({ "token": token, "expires_at": expires_at, "url": url }))
    }

    /// The token's id and user, when it exists, is unused and unexpired and the user may sign in.
    async fn redeemable_enrollment(&self, token: &str) -> Result<(Uuid, UserRecord)> {
        let mut sql = self.db.sql("SELECT id, user_id FROM enrollment_tokens WHERE token_hash = ");
        sql.bind(tokens::digest(token.trim()))
            .push(" AND used_at IS NULL AND expires_at > ")
            .bind(Utc::now());
        let row = self.db.fetch_optional(&sql).await?.ok_or_else(invalid_enrollment)?;
        let user = self
            .find_user(row.uuid("user_id")?)
            .await?
            .filter(UserRecord::can_sign_in)
            .ok_or_else(invalid_enrollment)?;
        Ok((row.uuid("id")?, user))
    }

    /// `POST /auth/enroll/start` `{"token"}`: creation options for the token's user.
    #[tracing::instrument(skip_all)]
    pub async fn enroll_start(&self, token: &str) -> Result<Value> {
        let (token_id, user) = self.redeemable_enrollment(token).await?;
        self.start_registration(&user, ENROLL, Some(token_id)).await
    }

    /// `POST /auth/enroll/finish` `{"token", "ceremony_id", "credential", "name"?}`: stores the passkey and
    /// uses up the token in the same transaction.
    #[tracing::instrument(skip_all)]
    pub async fn enroll_finish(&self, actor: &Actor, body: &Value) -> Result<Value> {
        let token = text_field(body, "token")?;
        let credential: RegisterPublicKeyCredential = credential_field(body)?;
        let name = name_field(body, false)?;
        let (token_id, user) = self.redeemable_enrollment(token).await?;
        let ceremony: RegistrationCeremony = self.take_ceremony(ENROLL, body).await?;
        if ceremony.user_id != user.id || ceremony.enrollment_token_id != Some(token_id) {
            return Err(ceremony_gone());
        }
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let mut used = tx.sql("UPDATE enrollment_tokens SET used_at = ");
        used.bind(now)
            .push(" WHERE id = ")
            .bind(token_id)
            .push(" AND used_at IS NULL AND expires_at > ")
            .bind(now);
        if tx.execute(&used).await? != 1 {
            return Err(invalid_enrollment());
        }
        let passkey = self.store_passkey(&mut tx, actor, user.id, &ceremony.state, &credential, name).await?;
        tx.commit().await?;
        Ok(passkey)
    }

    // --- Sign-in ---------------------------------------------------------------------------------------

    /// `POST /auth/passkey/authenticate/start` `{"username"?}`. With the name of a user who has passkeys,
    /// the options list them (username-first); otherwise (no name, unknown name, no passkeys: the answer
    /// does not say which) the authenticator is asked for a discoverable credential. The client chooses
    /// the mediation (modal by default; conditional for autofill).
    #[tracing::instrument(skip_all)]
    pub async fn passkey_authenticate_start(&self, body: &Value) -> Result<Value> {
        let username = match body.get("username") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.trim()).filter(|name| !name.is_empty()),
            Some(_) => return Err(Error::bad_request("username", ErrorCode::Type, "expected a string")),
        };
        let mut known = None;
        if let Some(username) = username {
            if let Some(user) = self.find_user_by_login(username).await? {
                let passkeys: Vec<Passkey> =
                    self.passkeys_of(user.id, true).await?.into_iter().map(|p| p.passkey).collect();
                if !passkeys.is_empty() {
                    known = Some((user.id, passkeys));
                }
            }
        }
        let (options, ceremony) = match known {
            Some((user_id, passkeys)) => {
                let (options, state) =
                    self.webauthn.start_passkey_authentication(&passkeys).map_err(Error::internal)?;
                (options, SignInCeremony::UsernameFirst { user_id, state })
            }
            None => {
                let (mut options, state) =
                    self.webauthn.start_discoverable_authentication().map_err(Error::internal)?;
                options.mediation = None;
                (options, SignInCeremony::Discoverable { state })
            }
        };
        let ceremony_id = self.save_ceremony(SIGN_IN, &ceremony).await?;
        Ok(json!({ "ceremony_id": ceremony_id, "options": options }))
    }

    /// `POST /auth/passkey/authenticate/finish` `{"ceremony_id", "credential"}`: verifies the assertion
    /// (signature, origin, challenge, counter), checks the account and signs in.
    #[tracing::instrument(skip_all)]
    pub async fn passkey_authenticate_finish(&self, actor: &Actor, body: &Value) -> Result<LoginOutcome> {
        let credential: PublicKeyCredential = credential_field(body)?;
        let ceremony: SignInCeremony = self.take_ceremony(SIGN_IN, body).await?;
        // Errors become text at once: nothing of webauthn-rs's error type is held across an await.
        let (user_id, verified) = match ceremony {
            SignInCeremony::UsernameFirst { user_id, state } => {
                let handle_matches = credential
                    .get_user_unique_id()
                    .is_none_or(|handle| handle == user_id.as_bytes().as_slice());
                let verified = if handle_matches {
                    self.webauthn
                        .finish_passkey_authentication(&credential, &state)
                        .map_err(|e| e.to_string())
                } else {
                    Err("the user handle names another user".to_owned())
                };
                (user_id, verified)
            }
            SignInCeremony::Discoverable { state } => {
                let Ok((user_id, _)) = self.webauthn.identify_discoverable_authentication(&credential) else {
                    return Err(verification_failed());
                };
                let keys: Vec<DiscoverableKey> = self
                    .passkeys_of(user_id, true)
                    .await?
                    .iter()
                    .map(|p| DiscoverableKey::from(&p.passkey))
                    .collect();
                let verified = self
                    .webauthn
                    .finish_discoverable_authentication(&credential, state, &keys)
                    .map_err(|e| e.to_string());
                (user_id, verified)
            }
        };
        let Some(user) = self.find_user(user_id).await? else {
            return Err(verification_failed());
        };
        let result = match verified {
            Ok(result) => result,
            Err(reason) => return Err(self.passkey_sign_in_failed(actor, user.id, &reason).await),
        };
        let credential_id = URL_SAFE_NO_PAD.encode(result.cred_id().as_slice());
        let stored =
            self.passkey_by_credential(&credential_id).await?.filter(|p| p.user_id == user.id && p.is_active);
        let Some(mut stored) = stored else {
            return Err(self.passkey_sign_in_failed(actor, user.id, "unknown or inactive passkey").await);
        };
        if !user.can_sign_in() {
            return Err(Error::Forbidden("account is deactivated".into()));
        }
        let now = Utc::now();
        if let Some(until) = user.locked_at(now) {
            return Err(Error::TooManyRequests {
                detail: "account locked; try again later".into(),
                retry_after: (until - now).to_std().unwrap_or_default(),
            });
        }

        stored.passkey.update_credential(&result);
        let stored_credential = serde_json::to_value(&stored.passkey).map_err(Error::internal)?;
        let counters = CredentialState::of(&stored_credential);
        let mut tx = self.db.begin().await?;
        let mut update = tx.sql("UPDATE user_passkeys SET credential = ");
        update.bind(stored_credential).push(", sign_count = ").bind(counters.sign_count);
        update.push(", backup_eligible = ").bind(counters.backup_eligible);
        update.push(", backup_state = ").bind(counters.backup_state).push(", last_used_at = ").bind(now);
        update.push(" WHERE id = ").bind(stored.id);
        tx.execute(&update).await?;
        // The owner is back: failed password attempts start over, as after a password sign-in.
        let mut reset =
            tx.sql("UPDATE app_users SET failed_login_attempts = 0, lockout_count = 0 WHERE id = ");
        reset.bind(user.id);
        tx.execute(&reset).await?;
        let pending =
            self.start_session_in(&mut tx, &user, "passkey", stored.provider.as_deref(), actor).await?;
        tx.commit().await?;
        self.complete_login(pending).await
    }

    /// Audits a failed passkey sign-in of a known user and returns the error to answer with.
    async fn passkey_sign_in_failed(&self, actor: &Actor, user_id: Uuid, reason: &str) -> Error {
        tracing::info!(%user_id, reason, "passkey sign-in failed");
        let audited = async {
            let mut tx = self.db.begin().await?;
            let detail = json!({ "method": "passkey", "reason": reason });
            audit_user(&mut tx, actor, "LoginFailed", user_id, None, Some(detail)).await?;
            tx.commit().await?;
            Ok::<(), Error>(())
        };
        match audited.await {
            Ok(()) => verification_failed(),
            Err(e) => e,
        }
    }

    // --- Management ------------------------------------------------------------------------------------

    /// `GET /auth/passkeys`: the caller's passkeys, oldest first.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_passkeys(&self, principal: &Principal) -> Result<Value> {
        let items: Vec<Value> =
            self.passkeys_of(principal.user_id, true).await?.iter().map(StoredPasskey::to_json).collect();
        Ok(json!({ "items": items }))
    }

    /// One of `user_id`'s passkeys, read inside `tx`.
    async fn own_passkey(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<StoredPasskey> {
        let mut sql = tx.sql(&format!("SELECT {PASSKEY_COLUMNS} FROM user_passkeys WHERE id = "));
        sql.bind(id).push(" AND user_id = ").bind(user_id);
        match tx.fetch_optional(&sql).await? {
            Some(row) => StoredPasskey::from_row(&row),
            None => Err(passkey_not_found(id)),
        }
    }

    /// `PATCH /auth/passkeys/{id}` `{"name"}`: renames one of the caller's passkeys.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, passkey_id = %id))]
    pub async fn rename_passkey(
        &self,
        principal: &Principal,
        actor: &Actor,
        id: Uuid,
        body: &Value,
    ) -> Result<Value> {
        let name = name_field(body, true)?
            .ok_or_else(|| Error::bad_request("name", ErrorCode::Required, "name is required"))?;
        let mut tx = self.db.begin().await?;
        let mut stored = Self::own_passkey(&mut tx, principal.user_id, id).await?;
        let before = stored.to_json();
        if !stored.device_info.is_object() {
            stored.device_info = json!({});
        }
        if let Some(info) = stored.device_info.as_object_mut() {
            info.insert("name".to_owned(), Value::String(name));
        }
        let mut update = tx.sql("UPDATE user_passkeys SET device_info = ");
        update.bind(stored.device_info.clone()).push(", updated_at = ").bind(Utc::now());
        update.push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(id);
        tx.execute(&update).await?;
        let after = stored.to_json();
        audit_user(&mut tx, actor, "PasskeyRenamed", principal.user_id, Some(before), Some(after.clone()))
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// `DELETE /auth/passkeys/{id}`: removes one of the caller's passkeys.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, passkey_id = %id))]
    pub async fn delete_passkey(&self, principal: &Principal, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let stored = Self::own_passkey(&mut tx, principal.user_id, id).await?;
        let mut delete = tx.sql("DELETE FROM user_passkeys WHERE id = ");
        delete.bind(id);
        tx.execute(&delete).await?;
        audit_user(&mut tx, actor, "PasskeyRemoved", principal.user_id, Some(stored.to_json()), None).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_relying_party_comes_from_the_public_url() {
        let webauthn = build_webauthn("http://localhost:3000", &[]).unwrap();
        assert_eq!(webauthn.get_allowed_origins(), &[Url::parse("http://localhost:3000").unwrap()]);
        let webauthn = build_webauthn("https://tessera.example.com/base", &[]).unwrap();
        assert_eq!(webauthn.get_allowed_origins(), &[Url::parse("https://tessera.example.com").unwrap()]);
        let extra = vec!["tauri://localhost".to_owned()];
        let webauthn = build_webauthn("http://localhost:3000", &extra).unwrap();
        assert_eq!(webauthn.get_allowed_origins().len(), 2);
        assert_eq!(webauthn.get_allowed_origins()[1], Url::parse("tauri://localhost").unwrap());
        let error = build_webauthn("http://localhost:3000", &["::".to_owned()]).unwrap_err();
        assert_eq!(error.setting, "TESSERA_WEBAUTHN_ORIGINS");
        for bad in ["not a url", "http://127.0.0.1:3000"] {
            let error = build_webauthn(bad, &[]).unwrap_err();
            assert_eq!(error.setting, "TESSERA_PUBLIC_URL");
            assert!(error.reason.contains(bad), "{error}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name_field(&json!({}), false).unwrap(), None);
        assert_eq!(name_field(&json!({ "name": "  " }), false).unwrap(), None);
        assert_eq!(name_field(&json!({ "name": " Laptop " }), true).unwrap().as_deref(), Some("Laptop"));
        assert!(matches!(name_field(&json!({ "name": "" }), true), Err(Error::Validation(_))));
        assert!(matches!(name_field(&json!({ "name": "x".repeat(101) }), true), Err(Error::Validation(_))));
        assert!(matches!(name_field(&json!({ "name": 5 }), false), Err(Error::BadRequest(_))));
        assert!(matches!(name_field(&json!({}), true), Err(Error::BadRequest(_))));
    }
}
