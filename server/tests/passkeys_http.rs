#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Passkeys over HTTP (spec §5; `api.md` Passkeys), driven in process through the real router on both
//! backends with a software authenticator: registration, username-first and discoverable sign-in,
//! single-use ceremonies, origin and counter checks, inactive accounts, enrollment links, and the user's own
//! list, rename and delete. The ceremony tricks (no resident key for SoftPasskey, the emulated discoverable
//! sign-in, the hostile client for another origin) live in `tessera_core::testing::authenticator`.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tessera_core::auth::users::NewUser;
use tessera_core::events::Actor;
use tessera_core::{Database, Services};
use uuid::Uuid;

mod common;
use common::{Client, Reply};
use tessera_core::testing::authenticator::{request_options, Device};
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_rs_proto::{PublicKeyCredential, RegisterPublicKeyCredential};

const PASSWORD: &str = "correct horse battery staple 42";
const REGISTER_START: &str = "/api/v1/auth/passkey/register/start";
const REGISTER_FINISH: &str = "/api/v1/auth/passkey/register/finish";
const SIGN_IN_START: &str = "/api/v1/auth/passkey/authenticate/start";
const SIGN_IN_FINISH: &str = "/api/v1/auth/passkey/authenticate/finish";
const PASSKEYS: &str = "/api/v1/auth/passkeys";

// -----------------------------------------------------------------------------------------------------------
// HTTP client
// -----------------------------------------------------------------------------------------------------------

/// The router of services with the per-IP limits off (every `oneshot` request shares the "unknown" IP),
/// and the origin passkey ceremonies must name.
struct Env {
    services: Services,
    client: Client,
    origin: Url,
}

impl Env {
    async fn new(db: &Database) -> Self {
        let vars = [("TESSERA_RATE_LIMIT_IP_PER_MIN", "0"), ("TESSERA_RATE_LIMIT_LOGIN_PER_MIN", "0")];
        let cache = tessera_core::testing::cache_for(db).await;
        let services = tessera_core::testing::services_with(db.clone(), cache, &vars);
        let origin = Url::parse(&services.config.public_url).unwrap();
        let client = Client::new(&services);
        Self { services, client, origin }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.client.call(method, path, token, body).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// A user with password [`PASSWORD`] (an Owner when `owner`), and an access token of theirs.
    async fn user(&self, username: &str, owner: bool) -> (Uuid, String) {
        let new = NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            password: Some(PASSWORD.into()),
            ..NewUser::default()
        };
        let auth = self.services.auth();
        let user = if owner {
            auth.create_owner(&Actor::system(), &new).await.unwrap()
        } else {
            auth.create_user(&Actor::system(), &new).await.unwrap()
        };
        let outcome = auth.login(&Actor::system(), username, PASSWORD).await.unwrap();
        (user.id, outcome.access_token)
    }

    /// Registers a passkey over HTTP for the bearer of `token`: the finish reply and the credential.
    async fn register(
        &self,
        device: &mut Device,
        token: &str,
        name: Option<&str>,
    ) -> (Reply, RegisterPublicKeyCredential) {
        let start = self.call(Method::POST, REGISTER_START, Some(token), None).await;
        assert_eq!(start.status, StatusCode::OK, "register start: {}", start.text);
        let credential = device.register(&self.origin, &start.body);
        let body =
            json!({ "ceremony_id": start.body["ceremony_id"], "credential": credential, "name": name });
        let finish = self.post(REGISTER_FINISH, Some(token), body).await;
        (finish, credential)
    }

    /// Starts a sign-in with `body` (`{"username"?}`); expects 200.
    async fn sign_in_start(&self, body: Value) -> Value {
        let start = self.post(SIGN_IN_START, None, body).await;
        assert_eq!(start.status, StatusCode::OK, "sign-in start: {}", start.text);
        start.body
    }

    async fn sign_in_finish(&self, start: &Value, credential: &PublicKeyCredential) -> Reply {
        let body = json!({ "ceremony_id": start["ceremony_id"], "credential": credential });
        self.post(SIGN_IN_FINISH, None, body).await
    }

    /// A username-first sign-in with `device`, over HTTP.
    async fn sign_in(&self, device: &mut Device, username: &str) -> Reply {
        let start = self.sign_in_start(json!({ "username": username })).await;
        let credential = device.sign(&self.origin, &start);
        self.sign_in_finish(&start, &credential).await
    }
}

fn assert_problem(r: &Reply, status: u16, context: &str) {
    assert_eq!(r.status.as_u16(), status, "{context}: {}", r.text);
    assert_eq!(r.header("content-type"), "application/problem+json", "{context}: {}", r.text);
    assert_eq!(r.body["status"], status, "{context}: {}", r.text);
}

/// The 401 of a refused passkey.
fn assert_verification_failed(r: &Reply, context: &str) {
    assert_problem(r, 401, context);
    assert_eq!(r.body["detail"], "passkey verification failed", "{context}: {}", r.text);
}

/// The 400 of a ceremony that is gone (finished, expired or unknown).
fn assert_ceremony_gone(r: &Reply, context: &str) {
    assert_problem(r, 400, context);
    assert_eq!(r.body["errors"][0]["field"], "ceremony_id", "{context}: {}", r.text);
}

/// A sign-in answer: the tokens in the body and the session cookies; returns the access token.
fn signed_in(r: &Reply, user_id: Uuid) -> String {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["user"]["id"], user_id.to_string(), "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer", "{}", r.text);
    assert!(r.body["refresh_token"].as_str().is_some_and(|t| !t.is_empty()), "{}", r.text);
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    let cookies = r.cookies();
    assert!(cookies.iter().any(|c| c.starts_with(&format!("tessera_access={access};"))), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("tessera_refresh=")), "{cookies:?}");
    access
}

async fn count(db: &Database, sql_text: &str, id: Uuid) -> i64 {
    let mut sql = db.sql(sql_text);
    sql.bind(id);
    db.fetch_optional(&sql).await.unwrap().unwrap().i64("n").unwrap()
}

// -----------------------------------------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------------------------------------

tessera_core::conformance! {
    async fn register_then_sign_in_username_first_and_manage(db: Database) {
        let env = Env::new(&db).await;
        let (alice, token) = env.user("alice", false).await;
        let mut device = Device::new();

        let start = env.call(Method::POST, REGISTER_START, Some(token.as_str()), None).await;
        assert_eq!(start.status, StatusCode::OK, "{}", start.text);
        assert!(start.body["ceremony_id"].is_string(), "{}", start.text);
        let selection = &start.body["options"]["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required", "{}", start.text);
        let credential = device.register(&env.origin, &start.body);
        let body = json!({
            "ceremony_id": start.body["ceremony_id"], "credential": credential, "name": " Laptop "
        });
        let finish = env.post(REGISTER_FINISH, Some(token.as_str()), body).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);
        assert_eq!(finish.body["name"], "Laptop", "{}", finish.text);
        // SoftPasskey reports the all-zero AAGUID: no provider.
        assert_eq!(finish.body["provider"], Value::Null, "{}", finish.text);
        let passkey_id = finish.body["id"].as_str().unwrap().to_owned();

        // Username-first sign-in (by name, in any case) offers the passkey and signs in.
        let start = env.sign_in_start(json!({ "username": "Alice" })).await;
        let allowed = start["options"]["publicKey"]["allowCredentials"].as_array().unwrap();
        assert_eq!(allowed.len(), 1, "{start}");
        assert_eq!(allowed[0]["id"], credential.id.as_str(), "{start}");
        let assertion = device.sign(&env.origin, &start);
        let reply = env.sign_in_finish(&start, &assertion).await;
        let access = signed_in(&reply, alice);

        // The new access token works.
        let session = env.call(Method::GET, "/api/v1/auth/session", Some(access.as_str()), None).await;
        assert_eq!(session.status, StatusCode::OK, "{}", session.text);
        assert_eq!(session.body["user"]["id"], alice.to_string(), "{}", session.text);
        assert!(session.body["session_id"].is_string(), "{}", session.text);
        let sessions = "SELECT COUNT(*) AS n FROM sessions WHERE auth_method = 'passkey' AND user_id = ";
        assert_eq!(count(&db, sessions, alice).await, 1);

        // The list shows it, used.
        let listed = env.call(Method::GET, PASSKEYS, Some(access.as_str()), None).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        let items = listed.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", listed.text);
        assert_eq!(items[0]["id"], passkey_id.as_str());
        assert_eq!(items[0]["name"], "Laptop");
        assert_eq!(items[0]["provider"], Value::Null);
        assert!(items[0]["last_used_at"].is_string(), "{}", listed.text);

        // Rename.
        let path = format!("{PASSKEYS}/{passkey_id}");
        let body = json!({ "name": " Work laptop " });
        let renamed = env.call(Method::PATCH, &path, Some(access.as_str()), Some(body)).await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
        assert_eq!(renamed.body["name"], "Work laptop", "{}", renamed.text);
        let listed = env.call(Method::GET, PASSKEYS, Some(access.as_str()), None).await;
        assert_eq!(listed.body["items"][0]["name"], "Work laptop", "{}", listed.text);
        let bad = env.call(Method::PATCH, &path, Some(access.as_str()), Some(json!({ "name": "" }))).await;
        assert_problem(&bad, 422, "empty name");

        // The counter keeps moving forward: a second sign-in works too.
        signed_in(&env.sign_in(&mut device, "alice").await, alice);
    }

    async fn usernameless_sign_in(db: Database) {
        let env = Env::new(&db).await;
        let (bob, token) = env.user("bob", false).await;
        let mut device = Device::new();
        let (finish, registered) = env.register(&mut device, &token, None).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);
        assert_eq!(finish.body["name"], "Passkey", "{}", finish.text);

        // No body, an empty one, an unknown name: all get a discoverable request.
        let empty = env.call(Method::POST, SIGN_IN_START, None, None).await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
        assert_eq!(empty.body["options"]["publicKey"]["allowCredentials"], json!([]), "{}", empty.text);
        let unknown = env.sign_in_start(json!({ "username": "nobody" })).await;
        assert_eq!(unknown["options"]["publicKey"]["allowCredentials"], json!([]), "{unknown}");

        let start = env.sign_in_start(json!({})).await;
        assert_eq!(start["options"]["publicKey"]["allowCredentials"], json!([]), "{start}");
        let assertion = device.sign_discoverable(&env.origin, &start, &registered, Some(bob));
        let access = signed_in(&env.sign_in_finish(&start, &assertion).await, bob);
        let session = env.call(Method::GET, "/api/v1/auth/session", Some(access.as_str()), None).await;
        assert_eq!(session.status, StatusCode::OK, "{}", session.text);
        assert_eq!(session.body["user"]["username"], "bob", "{}", session.text);

        // Without a user handle nobody is named: refused.
        let start = env.sign_in_start(json!({})).await;
        let assertion = device.sign_discoverable(&env.origin, &start, &registered, None);
        assert_verification_failed(&env.sign_in_finish(&start, &assertion).await, "no user handle");
    }

    async fn a_ceremony_finishes_once(db: Database) {
        let env = Env::new(&db).await;
        let (_, token) = env.user("dave", false).await;
        let mut device = Device::new();

        let start = env.call(Method::POST, REGISTER_START, Some(token.as_str()), None).await;
        let credential = device.register(&env.origin, &start.body);
        let body = json!({ "ceremony_id": start.body["ceremony_id"], "credential": credential });
        let first = env.post(REGISTER_FINISH, Some(token.as_str()), body.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        assert_ceremony_gone(&env.post(REGISTER_FINISH, Some(token.as_str()), body).await, "register twice");

        let start = env.sign_in_start(json!({ "username": "dave" })).await;
        let assertion = device.sign(&env.origin, &start);
        let first = env.sign_in_finish(&start, &assertion).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let second = env.sign_in_finish(&start, &assertion).await;
        assert_ceremony_gone(&second, "sign in twice");
        assert!(second.cookies().is_empty(), "{:?}", second.cookies());

        // A ceremony of another kind does not finish a sign-in either.
        let register = env.call(Method::POST, REGISTER_START, Some(token.as_str()), None).await;
        let crossed = json!({ "ceremony_id": register.body["ceremony_id"], "credential": assertion });
        assert_ceremony_gone(&env.post(SIGN_IN_FINISH, None, crossed).await, "a registration ceremony");
    }

    async fn an_assertion_for_another_origin_is_refused(db: Database) {
        let env = Env::new(&db).await;
        let (erin, token) = env.user("erin", false).await;
        let mut device = Device::new();
        let (finish, _) = env.register(&mut device, &token, None).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);

        // A browser would not run the ceremony there (nor does WebauthnAuthenticator); a phishing client
        // talks to the authenticator itself, and the client data then names its own origin.
        let start = env.sign_in_start(json!({ "username": "erin" })).await;
        let evil = Url::parse("https://evil.example").unwrap();
        let assertion = device.raw.perform_auth(evil, request_options(&start).public_key, 60_000).unwrap();
        let reply = env.sign_in_finish(&start, &assertion).await;
        assert_verification_failed(&reply, "evil origin");
        assert_eq!(reply.header("www-authenticate"), "Bearer");
        assert!(reply.cookies().is_empty(), "{:?}", reply.cookies());
        let failed = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'LoginFailed' AND entity_id = ";
        assert_eq!(count(&db, failed, erin).await, 1);

        // Another port of the same host is another origin too, for sign-in and for registration.
        let port = env.origin.port_or_known_default().unwrap();
        let other_port = Url::parse(&format!("http://localhost:{}", port + 1)).unwrap();
        let start = env.sign_in_start(json!({ "username": "erin" })).await;
        let assertion = device.sign(&other_port, &start);
        assert_verification_failed(&env.sign_in_finish(&start, &assertion).await, "other port");

        let start = env.call(Method::POST, REGISTER_START, Some(token.as_str()), None).await;
        let credential = device.register(&other_port, &start.body);
        let body = json!({ "ceremony_id": start.body["ceremony_id"], "credential": credential });
        let reply = env.post(REGISTER_FINISH, Some(token.as_str()), body).await;
        assert_problem(&reply, 422, "registration from another port");
        assert_eq!(reply.body["errors"][0]["field"], "credential", "{}", reply.text);
    }

    async fn a_counter_that_goes_back_is_refused(db: Database) {
        let env = Env::new(&db).await;
        let (frank, token) = env.user("frank", false).await;
        let mut device = Device::new();
        let (finish, _) = env.register(&mut device, &token, None).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);
        signed_in(&env.sign_in(&mut device, "frank").await, frank);

        // Another copy of the credential already went further than this authenticator will (a clone):
        // raise the stored counter above what it sends next.
        let mut read = db.sql("SELECT id, credential FROM user_passkeys WHERE user_id = ");
        read.bind(frank);
        let row = db.fetch_optional(&read).await.unwrap().unwrap();
        let mut credential = row.json("credential").unwrap();
        assert_eq!(credential["cred"]["counter"], 1, "{credential}");
        credential["cred"]["counter"] = json!(100);
        let mut update = db.sql("UPDATE user_passkeys SET credential = ");
        update.bind(credential).push(", sign_count = ").bind(100i64);
        update.push(" WHERE id = ").bind(row.uuid("id").unwrap());
        db.execute(&update).await.unwrap();

        let reply = env.sign_in(&mut device, "frank").await;
        assert_verification_failed(&reply, "counter went back");
        assert!(reply.cookies().is_empty(), "{:?}", reply.cookies());
        let kept = "SELECT COUNT(*) AS n FROM user_passkeys WHERE sign_count = 100 AND user_id = ";
        assert_eq!(count(&db, kept, frank).await, 1);
    }

    async fn a_deactivated_account_cannot_sign_in(db: Database) {
        let env = Env::new(&db).await;
        let (_, root) = env.user("root", true).await;
        let (gina, token) = env.user("gina", false).await;
        let mut device = Device::new();
        let (finish, _) = env.register(&mut device, &token, None).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);

        let path = format!("/api/v1/users/{gina}");
        let body = json!({ "is_active": false });
        let r = env.call(Method::PATCH, &path, Some(root.as_str()), Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["is_active"], false, "{}", r.text);

        let reply = env.sign_in(&mut device, "gina").await;
        assert_problem(&reply, 403, "deactivated");
        assert_eq!(reply.body["detail"], "account is deactivated", "{}", reply.text);
        assert!(reply.cookies().is_empty(), "{:?}", reply.cookies());
        let sessions = "SELECT COUNT(*) AS n FROM sessions WHERE auth_method = 'passkey' AND user_id = ";
        assert_eq!(count(&db, sessions, gina).await, 0);
    }

    async fn an_enrollment_link_registers_one_passkey_once(db: Database) {
        let env = Env::new(&db).await;
        let (_, root) = env.user("root", true).await;
        let (_, plain) = env.user("plain", false).await;

        // A passkey-only user: created without a password.
        let created = env.post("/api/v1/users", Some(root.as_str()), json!({ "username": "hugo" })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["has_password"], false, "{}", created.text);
        let hugo = Uuid::parse_str(created.body["id"].as_str().unwrap()).unwrap();

        // Only a user manager issues links.
        let path = format!("/api/v1/users/{hugo}/enrollment-tokens");
        assert_problem(&env.post(&path, Some(plain.as_str()), json!({})).await, 403, "no users:manage");
        assert_problem(&env.post(&path, None, json!({})).await, 401, "anonymous");
        let issued = env.call(Method::POST, &path, Some(root.as_str()), None).await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
        let token = issued.body["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("tse_"), "{}", issued.text);
        let base = env.origin.as_str().trim_end_matches('/');
        assert_eq!(issued.body["url"], format!("{base}/enroll?token={token}"), "{}", issued.text);
        assert!(issued.body["expires_at"].is_string(), "{}", issued.text);

        // Anonymous enrollment; two ceremonies started with the same token, only the first to finish counts.
        let first = env.post("/api/v1/auth/enroll/start", None, json!({ "token": token })).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let second = env.post("/api/v1/auth/enroll/start", None, json!({ "token": token })).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text);
        let mut device = Device::new();
        let credential = device.register(&env.origin, &first.body);
        let ceremony = &first.body["ceremony_id"];
        let body =
            json!({ "token": token, "ceremony_id": ceremony, "credential": credential, "name": "Phone" });
        let finish = env.post("/api/v1/auth/enroll/finish", None, body).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);
        assert_eq!(finish.body["name"], "Phone", "{}", finish.text);

        // The same token again: refused, both to finish the other ceremony and to start a new one.
        let mut other = Device::new();
        let credential = other.register(&env.origin, &second.body);
        let ceremony = &second.body["ceremony_id"];
        let body = json!({ "token": token, "ceremony_id": ceremony, "credential": credential });
        let again = env.post("/api/v1/auth/enroll/finish", None, body).await;
        assert_problem(&again, 401, "used token, finish");
        assert_eq!(again.body["detail"], "invalid or expired enrollment token", "{}", again.text);
        let again = env.post("/api/v1/auth/enroll/start", None, json!({ "token": token })).await;
        assert_problem(&again, 401, "used token, start");
        let passkeys = "SELECT COUNT(*) AS n FROM user_passkeys WHERE user_id = ";
        assert_eq!(count(&db, passkeys, hugo).await, 1);

        // The enrolled passkey signs in, and the session works.
        let access = signed_in(&env.sign_in(&mut device, "hugo").await, hugo);
        let session = env.call(Method::GET, "/api/v1/auth/session", Some(access.as_str()), None).await;
        assert_eq!(session.status, StatusCode::OK, "{}", session.text);
        assert_eq!(session.body["user"]["username"], "hugo", "{}", session.text);
    }

    async fn passkey_endpoints_need_the_owner(db: Database) {
        let env = Env::new(&db).await;
        let (_, ivy_token) = env.user("ivy", false).await;
        let (_, jack_token) = env.user("jack", false).await;

        // Anonymous callers cannot register or list.
        let r = env.call(Method::POST, REGISTER_START, None, None).await;
        assert_problem(&r, 401, "anonymous register start");
        assert_eq!(r.header("www-authenticate"), "Bearer");
        assert_problem(&env.call(Method::GET, PASSKEYS, None, None).await, 401, "anonymous list");

        let mut device = Device::new();
        let (finish, _) = env.register(&mut device, &ivy_token, Some("Ivy's key")).await;
        assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.text);
        let path = format!("{PASSKEYS}/{}", finish.body["id"].as_str().unwrap());

        // Another user neither sees, renames nor deletes it.
        let listed = env.call(Method::GET, PASSKEYS, Some(jack_token.as_str()), None).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        assert_eq!(listed.body["items"], json!([]), "{}", listed.text);
        let body = json!({ "name": "Mine" });
        let r = env.call(Method::PATCH, &path, Some(jack_token.as_str()), Some(body)).await;
        assert_problem(&r, 404, "rename another user's passkey");
        let r = env.call(Method::DELETE, &path, Some(jack_token.as_str()), None).await;
        assert_problem(&r, 404, "delete another user's passkey");
        assert_problem(&env.call(Method::DELETE, &path, None, None).await, 401, "anonymous delete");

        // The owner deletes it; then it is gone.
        let listed = env.call(Method::GET, PASSKEYS, Some(ivy_token.as_str()), None).await;
        assert_eq!(listed.body["items"][0]["name"], "Ivy's key", "{}", listed.text);
        let r = env.call(Method::DELETE, &path, Some(ivy_token.as_str()), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let listed = env.call(Method::GET, PASSKEYS, Some(ivy_token.as_str()), None).await;
        assert_eq!(listed.body["items"], json!([]), "{}", listed.text);
        let r = env.call(Method::DELETE, &path, Some(ivy_token.as_str()), None).await;
        assert_problem(&r, 404, "delete twice");
    }
}
