//! Passkeys (spec §5) on both backends, with a software authenticator: registration, username-first and
//! discoverable sign-in, single-use ceremonies, origin and counter checks, inactive accounts, enrollment
//! tokens, and the user's own list, rename and delete.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tessera_core::auth::users::{NewUser, UserRecord};
use tessera_core::auth::{Auth, LoginOutcome, Principal};
use tessera_core::events::Actor;
use tessera_core::testing::authenticator::{request_options, Device};
use tessera_core::{Database, Error};
use uuid::Uuid;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_rs::prelude::Url;
use webauthn_rs_proto::{PublicKeyCredential, RegisterPublicKeyCredential};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

struct Fixture {
    auth: Auth,
    origin: Url,
}

async fn fixture(db: &Database) -> Fixture {
    let cache = tessera_core::testing::cache_for(db).await;
    let services = tessera_core::testing::services_with(db.clone(), cache, &[]);
    let origin = Url::parse(&services.config.public_url).unwrap();
    Fixture { auth: services.auth().clone(), origin }
}

struct Person {
    user: UserRecord,
    principal: Principal,
    actor: Actor,
}

async fn person(auth: &Auth, username: &str) -> Person {
    let new = NewUser { username: username.into(), ..NewUser::default() };
    let user = auth.create_user(&Actor::system(), &new).await.unwrap();
    let principal =
        Principal { user_id: user.id, username: user.username.clone(), session_id: None, api_token: None };
    let actor = Actor { user_id: Some(user.id), ..Actor::default() };
    Person { user, principal, actor }
}

/// Registers a passkey for a signed-in user; returns the stored passkey's JSON and the credential.
async fn register(
    f: &Fixture,
    device: &mut Device,
    who: &Person,
    name: Option<&str>,
) -> (Value, RegisterPublicKeyCredential) {
    let start = f.auth.passkey_register_start(&who.principal).await.unwrap();
    let credential = device.register(&f.origin, &start);
    let body = json!({ "ceremony_id": start["ceremony_id"], "credential": credential, "name": name });
    let passkey = f.auth.passkey_register_finish(&who.principal, &who.actor, &body).await.unwrap();
    (passkey, credential)
}

async fn finish_sign_in(
    f: &Fixture,
    start: &Value,
    credential: &PublicKeyCredential,
) -> Result<LoginOutcome, Error> {
    let body = json!({ "ceremony_id": start["ceremony_id"], "credential": credential });
    f.auth.passkey_authenticate_finish(&Actor::default(), &body).await
}

async fn sign_in_as(f: &Fixture, device: &mut Device, username: &str) -> Result<LoginOutcome, Error> {
    let start = f.auth.passkey_authenticate_start(&json!({ "username": username })).await.unwrap();
    let credential = device.sign(&f.origin, &start);
    finish_sign_in(f, &start, &credential).await
}

const PASSKEYS_OF: &str = "SELECT COUNT(*) AS n FROM user_passkeys WHERE user_id = ";

async fn count(db: &Database, sql_text: &str, id: Uuid) -> i64 {
    let mut sql = db.sql(sql_text);
    sql.bind(id);
    db.fetch_optional(&sql).await.unwrap().unwrap().i64("n").unwrap()
}

fn assert_unauthenticated<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::Unauthenticated(message)) => assert_eq!(message, "passkey verification failed"),
        other => panic!("expected 401, got {other:?}"),
    }
}

fn assert_ceremony_gone<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::BadRequest(errors)) => assert_eq!(errors[0].field, "ceremony_id", "{errors:?}"),
        other => panic!("expected 400 on ceremony_id, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

tessera_core::conformance! {
    async fn register_then_sign_in_username_first(db: Database) {
        let f = fixture(&db).await;
        let alice = person(&f.auth, "alice").await;
        let mut device = Device::new();

        let start = f.auth.passkey_register_start(&alice.principal).await.unwrap();
        let selection = &start["options"]["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required", "{start}");
        assert_eq!(selection["requireResidentKey"], true, "{start}");
        let credential = device.register(&f.origin, &start);
        let body =
            json!({ "ceremony_id": start["ceremony_id"], "credential": credential, "name": " Laptop " });
        let passkey = f.auth.passkey_register_finish(&alice.principal, &alice.actor, &body).await.unwrap();
        assert_eq!(passkey["name"], "Laptop");
        // SoftPasskey reports the all-zero AAGUID: no provider.
        assert_eq!(passkey["aaguid"], Uuid::nil().to_string());
        assert_eq!(passkey["provider"], Value::Null);
        assert_eq!(passkey["backup_eligible"], false);
        assert_eq!(passkey["last_used_at"], Value::Null);
        assert_eq!(passkey["transports"], json!([]));
        assert_eq!(count(&db, PASSKEYS_OF, alice.user.id).await, 1);
        let added = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'PasskeyAdded' AND entity_id = ";
        assert_eq!(count(&db, added, alice.user.id).await, 1);

        // A second registration excludes the passkey already there.
        let again = f.auth.passkey_register_start(&alice.principal).await.unwrap();
        assert_eq!(again["options"]["publicKey"]["excludeCredentials"][0]["id"], credential.id.as_str());

        let start = f.auth.passkey_authenticate_start(&json!({ "username": "Alice" })).await.unwrap();
        assert_eq!(start["options"]["publicKey"]["allowCredentials"].as_array().unwrap().len(), 1, "{start}");
        let assertion = device.sign(&f.origin, &start);
        let outcome = finish_sign_in(&f, &start, &assertion).await.unwrap();
        assert_eq!(outcome.user.id, alice.user.id);
        assert!(!outcome.access_token.is_empty() && !outcome.refresh_token.is_empty());
        let sessions = "SELECT COUNT(*) AS n FROM sessions WHERE auth_method = 'passkey' AND user_id = ";
        assert_eq!(count(&db, sessions, alice.user.id).await, 1);

        let listed = f.auth.list_passkeys(&alice.principal).await.unwrap();
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["id"], passkey["id"]);
        assert!(items[0]["last_used_at"].is_string(), "{listed}");
        let stored = "SELECT COUNT(*) AS n FROM user_passkeys WHERE sign_count = 1 AND user_id = ";
        assert_eq!(count(&db, stored, alice.user.id).await, 1, "the counter the authenticator sent is kept");

        // The counter keeps moving forward.
        assert_eq!(sign_in_as(&f, &mut device, "alice").await.unwrap().user.id, alice.user.id);
    }

    async fn discoverable_sign_in_names_the_user_through_the_user_handle(db: Database) {
        let f = fixture(&db).await;
        let bob = person(&f.auth, "bob").await;
        let mut device = Device::new();
        let (_, registered) = register(&f, &mut device, &bob, None).await;

        // No username, an unknown one, or one without passkeys: all get a discoverable request.
        let carol = person(&f.auth, "carol").await;
        for body in [json!({}), json!({ "username": "nobody" }), json!({ "username": carol.user.username })] {
            let start = f.auth.passkey_authenticate_start(&body).await.unwrap();
            assert_eq!(start["options"]["publicKey"]["allowCredentials"], json!([]), "{body}: {start}");
        }

        let start = f.auth.passkey_authenticate_start(&Value::Null).await.unwrap();
        // A real authenticator finds its resident credential and returns the user handle stored at
        // registration; `sign_discoverable` emulates that with SoftPasskey (see its comment).
        let assertion = device.sign_discoverable(&f.origin, &start, &registered, Some(bob.user.id));
        let outcome = finish_sign_in(&f, &start, &assertion).await.unwrap();
        assert_eq!(outcome.user.id, bob.user.id);

        // Without a user handle nobody is named: refused.
        let start = f.auth.passkey_authenticate_start(&json!({})).await.unwrap();
        let assertion = device.sign_discoverable(&f.origin, &start, &registered, None);
        assert_unauthenticated(finish_sign_in(&f, &start, &assertion).await);

        // A user handle naming someone else (whose passkeys do not include this one): refused and audited.
        let start = f.auth.passkey_authenticate_start(&json!({})).await.unwrap();
        let assertion = device.sign_discoverable(&f.origin, &start, &registered, Some(carol.user.id));
        assert_unauthenticated(finish_sign_in(&f, &start, &assertion).await);
        let failed = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'LoginFailed' AND entity_id = ";
        assert_eq!(count(&db, failed, carol.user.id).await, 1);
    }

    async fn a_ceremony_finishes_once(db: Database) {
        let f = fixture(&db).await;
        let dave = person(&f.auth, "dave").await;
        let mut device = Device::new();

        let start = f.auth.passkey_register_start(&dave.principal).await.unwrap();
        let credential = device.register(&f.origin, &start);
        let body = json!({ "ceremony_id": start["ceremony_id"], "credential": credential });
        f.auth.passkey_register_finish(&dave.principal, &dave.actor, &body).await.unwrap();
        assert_ceremony_gone(f.auth.passkey_register_finish(&dave.principal, &dave.actor, &body).await);

        let start = f.auth.passkey_authenticate_start(&json!({ "username": "dave" })).await.unwrap();
        let assertion = device.sign(&f.origin, &start);
        finish_sign_in(&f, &start, &assertion).await.unwrap();
        assert_ceremony_gone(finish_sign_in(&f, &start, &assertion).await);

        // Unknown and malformed ceremony ids, a ceremony of another kind, malformed credentials.
        let unknown = json!({ "ceremony_id": Uuid::now_v7(), "credential": assertion });
        assert_ceremony_gone(f.auth.passkey_authenticate_finish(&Actor::default(), &unknown).await);
        let register_start = f.auth.passkey_register_start(&dave.principal).await.unwrap();
        let crossed = json!({ "ceremony_id": register_start["ceremony_id"], "credential": assertion });
        assert_ceremony_gone(f.auth.passkey_authenticate_finish(&Actor::default(), &crossed).await);
        let start = f.auth.passkey_authenticate_start(&json!({ "username": "dave" })).await.unwrap();
        for (body, field) in [
            (json!({ "ceremony_id": "nope", "credential": assertion }), "ceremony_id"),
            (json!({ "credential": assertion }), "ceremony_id"),
            (json!({ "ceremony_id": start["ceremony_id"] }), "credential"),
            (json!({ "ceremony_id": start["ceremony_id"], "credential": { "id": 5 } }), "credential"),
        ] {
            match f.auth.passkey_authenticate_finish(&Actor::default(), &body).await {
                Err(Error::BadRequest(errors)) => assert_eq!(errors[0].field, field, "{body}"),
                other => panic!("{body}: expected 400, got {other:?}"),
            }
        }
    }

    async fn an_assertion_made_for_another_origin_is_refused(db: Database) {
        let f = fixture(&db).await;
        let erin = person(&f.auth, "erin").await;
        let mut device = Device::new();
        register(&f, &mut device, &erin, None).await;

        let start = f.auth.passkey_authenticate_start(&json!({ "username": "erin" })).await.unwrap();
        let evil = Url::parse("https://evil.example").unwrap();
        // A browser would not even run the ceremony there (nor does WebauthnAuthenticator); a phishing client
        // talks to the authenticator itself, and the client data then names its own origin.
        assert!(device.client.do_authentication(evil.clone(), request_options(&start)).is_err());
        let assertion = device.raw.perform_auth(evil, request_options(&start).public_key, 60_000).unwrap();
        assert_unauthenticated(finish_sign_in(&f, &start, &assertion).await);
        let failed = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'LoginFailed' AND entity_id = ";
        assert_eq!(count(&db, failed, erin.user.id).await, 1);

        // Another port of the same host is another origin too.
        let start = f.auth.passkey_authenticate_start(&json!({ "username": "erin" })).await.unwrap();
        let port = f.origin.port_or_known_default().unwrap();
        let other_port = Url::parse(&format!("http://localhost:{}", port + 1)).unwrap();
        let assertion = device.sign(&other_port, &start);
        assert_unauthenticated(finish_sign_in(&f, &start, &assertion).await);

        // Registration checks the origin as well.
        let start = f.auth.passkey_register_start(&erin.principal).await.unwrap();
        let credential = device.register(&other_port, &start);
        let body = json!({ "ceremony_id": start["ceremony_id"], "credential": credential });
        match f.auth.passkey_register_finish(&erin.principal, &erin.actor, &body).await {
            Err(Error::Validation(errors)) => assert_eq!(errors[0].field, "credential"),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    async fn a_counter_that_goes_back_is_refused(db: Database) {
        let f = fixture(&db).await;
        let frank = person(&f.auth, "frank").await;
        let mut device = Device::new();
        register(&f, &mut device, &frank, None).await;
        sign_in_as(&f, &mut device, "frank").await.unwrap();

        // Another copy of the credential already went further than this authenticator will (a clone):
        // raise the stored counter above what it sends next.
        let mut read = db.sql("SELECT id, credential FROM user_passkeys WHERE user_id = ");
        read.bind(frank.user.id);
        let row = db.fetch_optional(&read).await.unwrap().unwrap();
        let mut credential = row.json("credential").unwrap();
        assert_eq!(credential["cred"]["counter"], 1, "{credential}");
        credential["cred"]["counter"] = json!(100);
        let mut update = db.sql("UPDATE user_passkeys SET credential = ");
        update.bind(credential).push(", sign_count = ").bind(100i64);
        update.push(" WHERE id = ").bind(row.uuid("id").unwrap());
        db.execute(&update).await.unwrap();

        assert_unauthenticated(sign_in_as(&f, &mut device, "frank").await);
        let failed = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'LoginFailed' AND entity_id = ";
        assert_eq!(count(&db, failed, frank.user.id).await, 1);
        let kept = "SELECT COUNT(*) AS n FROM user_passkeys WHERE sign_count = 100 AND user_id = ";
        assert_eq!(count(&db, kept, frank.user.id).await, 1);
    }

    async fn a_deactivated_account_cannot_sign_in(db: Database) {
        let f = fixture(&db).await;
        let gina = person(&f.auth, "gina").await;
        let mut device = Device::new();
        register(&f, &mut device, &gina, None).await;

        let mut deactivate = db.sql("UPDATE app_users SET is_active = ");
        deactivate.bind(false).push(" WHERE id = ").bind(gina.user.id);
        db.execute(&deactivate).await.unwrap();

        match sign_in_as(&f, &mut device, "gina").await {
            Err(Error::Forbidden(message)) => assert_eq!(message, "account is deactivated"),
            other => panic!("expected 403, got {other:?}"),
        }
        let sessions = "SELECT COUNT(*) AS n FROM sessions WHERE user_id = ";
        assert_eq!(count(&db, sessions, gina.user.id).await, 0);
    }

    async fn an_enrollment_token_registers_one_passkey_once(db: Database) {
        let f = fixture(&db).await;
        let hugo = person(&f.auth, "hugo").await;
        let mut device = Device::new();

        let issued = f.auth.issue_enrollment_token(&Actor::system(), hugo.user.id).await.unwrap();
        let token = issued["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("tse_"), "{issued}");
        let base = f.origin.as_str().trim_end_matches('/');
        assert_eq!(issued["url"], format!("{base}/enroll?token={token}"));
        assert!(issued["expires_at"].is_string());
        let stored = "SELECT COUNT(*) AS n FROM enrollment_tokens WHERE used_at IS NULL AND user_id = ";
        assert_eq!(count(&db, stored, hugo.user.id).await, 1);
        let issued_audit =
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'EnrollmentTokenIssued' AND entity_id = ";
        assert_eq!(count(&db, issued_audit, hugo.user.id).await, 1);

        // Two ceremonies started with the same token: only the first to finish uses it.
        let first = f.auth.enroll_start(&token).await.unwrap();
        let second = f.auth.enroll_start(&token).await.unwrap();
        let credential = device.register(&f.origin, &first);
        let body = json!({
            "token": token, "ceremony_id": first["ceremony_id"], "credential": credential, "name": "Phone"
        });
        let passkey = f.auth.enroll_finish(&Actor::default(), &body).await.unwrap();
        assert_eq!(passkey["name"], "Phone");
        let used = "SELECT COUNT(*) AS n FROM enrollment_tokens WHERE used_at IS NOT NULL AND user_id = ";
        assert_eq!(count(&db, used, hugo.user.id).await, 1);

        let mut other = Device::new();
        let credential = other.register(&f.origin, &second);
        let body = json!({ "token": token, "ceremony_id": second["ceremony_id"], "credential": credential });
        match f.auth.enroll_finish(&Actor::default(), &body).await {
            Err(Error::Unauthenticated(message)) => {
                assert_eq!(message, "invalid or expired enrollment token")
            }
            other => panic!("expected 401, got {other:?}"),
        }
        assert!(matches!(f.auth.enroll_start(&token).await, Err(Error::Unauthenticated(_))));
        assert_eq!(count(&db, PASSKEYS_OF, hugo.user.id).await, 1);

        // The enrolled passkey signs in.
        assert_eq!(sign_in_as(&f, &mut device, "hugo").await.unwrap().user.id, hugo.user.id);

        // A new token ends the unused ones before it; unknown tokens and users are refused.
        let older = f.auth.issue_enrollment_token(&Actor::system(), hugo.user.id).await.unwrap();
        let newer = f.auth.issue_enrollment_token(&Actor::system(), hugo.user.id).await.unwrap();
        let result = f.auth.enroll_start(older["token"].as_str().unwrap()).await;
        assert!(matches!(result, Err(Error::Unauthenticated(_))), "{result:?}");
        let start = f.auth.enroll_start(newer["token"].as_str().unwrap()).await.unwrap();
        let excluded = start["options"]["publicKey"]["excludeCredentials"].as_array().unwrap();
        assert_eq!(excluded.len(), 1, "the enrolled passkey is excluded");
        assert!(matches!(f.auth.enroll_start("tse_unknown").await, Err(Error::Unauthenticated(_))));
        assert!(matches!(
            f.auth.issue_enrollment_token(&Actor::system(), Uuid::now_v7()).await,
            Err(Error::NotFound(_))
        ));

        // Not for a deactivated user.
        let mut deactivate = db.sql("UPDATE app_users SET is_active = ");
        deactivate.bind(false).push(" WHERE id = ").bind(hugo.user.id);
        db.execute(&deactivate).await.unwrap();
        let result = f.auth.enroll_start(newer["token"].as_str().unwrap()).await;
        assert!(matches!(result, Err(Error::Unauthenticated(_))), "{result:?}");
    }

    async fn users_rename_and_delete_only_their_own_passkeys(db: Database) {
        let f = fixture(&db).await;
        let ivy = person(&f.auth, "ivy").await;
        let jack = person(&f.auth, "jack").await;
        let mut device = Device::new();
        let (passkey, _) = register(&f, &mut device, &ivy, None).await;
        assert_eq!(passkey["name"], "Passkey");
        let id = Uuid::parse_str(passkey["id"].as_str().unwrap()).unwrap();

        let body = json!({ "name": " Work laptop " });
        let renamed = f.auth.rename_passkey(&ivy.principal, &ivy.actor, id, &body).await.unwrap();
        assert_eq!(renamed["name"], "Work laptop");
        let listed = f.auth.list_passkeys(&ivy.principal).await.unwrap();
        assert_eq!(listed["items"][0]["name"], "Work laptop");
        for bad in [json!({ "name": "" }), json!({ "name": "x".repeat(101) })] {
            let result = f.auth.rename_passkey(&ivy.principal, &ivy.actor, id, &bad).await;
            assert!(matches!(result, Err(Error::Validation(_))), "{bad}: {result:?}");
        }
        let result = f.auth.rename_passkey(&ivy.principal, &ivy.actor, id, &json!({ "name": 7 })).await;
        assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");

        let body = json!({ "name": "Mine" });
        let result = f.auth.rename_passkey(&jack.principal, &jack.actor, id, &body).await;
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
        let result = f.auth.delete_passkey(&jack.principal, &jack.actor, id).await;
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
        assert_eq!(f.auth.list_passkeys(&jack.principal).await.unwrap()["items"], json!([]));

        f.auth.delete_passkey(&ivy.principal, &ivy.actor, id).await.unwrap();
        assert_eq!(f.auth.list_passkeys(&ivy.principal).await.unwrap()["items"], json!([]));
        let result = f.auth.delete_passkey(&ivy.principal, &ivy.actor, id).await;
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
        let removed = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'PasskeyRemoved' AND entity_id = ";
        assert_eq!(count(&db, removed, ivy.user.id).await, 1);

        // The deleted passkey no longer signs in: the username-first request falls back to discoverable.
        let start = f.auth.passkey_authenticate_start(&json!({ "username": "ivy" })).await.unwrap();
        assert_eq!(start["options"]["publicKey"]["allowCredentials"], json!([]));
    }
}
