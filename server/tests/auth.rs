#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Authentication, sessions, CSRF, rate limits, security headers and RBAC at the HTTP level (spec §5, §6,
//! §11; `api.md` Auth, Users & RBAC), driven in process through the real router on both backends.
//!
//! Requests made with `oneshot` carry no `ConnectInfo`, so they all share the per-IP bucket "unknown": the
//! per-IP and sign-in limits are switched off (0) except in the tests about them, and a test that needs a
//! distinct client address inserts `ConnectInfo` itself ([`from_ip`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tessera_core::auth::users::{Bootstrap, NewUser};
use tessera_core::events::Actor;
use tessera_core::{Database, Services};
use uuid::Uuid;

mod common;
use common::{request, Client, Reply};

/// Strong enough for the policy (12+ characters, zxcvbn score ≥ 3).
const PASSWORD: &str = "correct horse battery staple 42";
const NEW_PASSWORD: &str = "purple elephants juggle seven moons";
const WRONG_PASSWORD: &str = "definitely not the password";
/// The public URL of a test configuration (`http://localhost:<port of TESSERA_ADDR>`).
const ORIGIN: &str = "http://localhost:3000";
const IP_LIMIT: &str = "TESSERA_RATE_LIMIT_IP_PER_MIN";
const LOGIN_LIMIT: &str = "TESSERA_RATE_LIMIT_LOGIN_PER_MIN";
const ADMIN_ROLE: &str = "00000000-0000-0000-0000-0000000000a2";
const EDITOR_ROLE: &str = "00000000-0000-0000-0000-0000000000a3";
const VIEWER_ROLE: &str = "00000000-0000-0000-0000-0000000000a4";

/// Services with both per-IP limits off unless `env` sets them.
async fn services(db: &Database, env: &[(&str, &str)]) -> Services {
    let mut vars: Vec<(&str, &str)> = vec![(IP_LIMIT, "0"), (LOGIN_LIMIT, "0")];
    vars.retain(|(k, _)| !env.iter().any(|(name, _)| name == k));
    vars.extend_from_slice(env);
    tessera_core::testing::services_with(db.clone(), tessera_core::testing::cache_for(db).await, &vars)
}

fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        password: Some(PASSWORD.into()),
        ..NewUser::default()
    }
}

/// A user with no roles, e-mail `<username>@example.com`, password [`PASSWORD`].
async fn create_user(services: &Services, username: &str) -> Uuid {
    services.auth().create_user(&Actor::system(), &new_user(username)).await.unwrap().id
}

/// A user holding the Owner role.
async fn create_owner(services: &Services, username: &str) -> Uuid {
    services.auth().create_owner(&Actor::system(), &new_user(username)).await.unwrap().id
}

/// The request as if it came from `ip` (what `into_make_service_with_connect_info` adds in production).
fn from_ip(mut request: Request<Body>, ip: &str) -> Request<Body> {
    let addr = SocketAddr::new(ip.parse().unwrap(), 40_000);
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

/// Sign-in helpers on the shared client.
trait SignIn {
    async fn login(&self, username: &str, password: &str) -> Reply;
    async fn token(&self, username: &str) -> String;
}

impl SignIn for Client {
    async fn login(&self, username: &str, password: &str) -> Reply {
        let body = json!({ "username": username, "password": password });
        self.call(Method::POST, "/api/v1/auth/login", None, Some(body)).await
    }

    /// Signs in with [`PASSWORD`] and returns the access token.
    async fn token(&self, username: &str) -> String {
        let r = self.login(username, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    }
}

/// The access and refresh token of a sign-in answer.
fn token_pair(r: &Reply) -> (String, String) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (
        r.body["access_token"].as_str().unwrap().to_owned(),
        r.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn assert_problem(r: &Reply, status: u16, context: &str) {
    assert_eq!(r.status.as_u16(), status, "{context}: {}", r.text);
    assert_eq!(r.header("content-type"), "application/problem+json", "{context}: {}", r.text);
    assert_eq!(r.body["status"], status, "{context}: {}", r.text);
    assert!(r.body["title"].is_string() && r.body["detail"].is_string(), "{context}: {}", r.text);
}

fn assert_unauthenticated(r: &Reply, context: &str) {
    assert_problem(r, 401, context);
    assert_eq!(r.header("www-authenticate"), "Bearer", "{context}");
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

fn decode_json(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// An HS256 JWS signature of `input` under `key`.
fn hs256(key: &[u8], input: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// The `.eml` files the development mailer wrote into `<data_dir>/mail`.
fn mail_files(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("mail")) else { return Vec::new() };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().and_then(|e| e.to_str()) == Some("eml"))
        .collect()
}

/// Decodes a quoted-printable body (soft line breaks and `=XX` escapes).
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or_default();
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reset token of a password-reset mail (the link holds `reset-password?token=`), whatever transfer
/// encoding the mailer chose for the body (7bit, quoted-printable or base64).
fn reset_token(eml: &str) -> String {
    let text = eml.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or_else(|| panic!("no header/body split: {eml}"));
    let head = head.to_ascii_lowercase();
    let decoded = if head.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        String::from_utf8(STANDARD.decode(compact).unwrap()).unwrap()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        decode_quoted_printable(body)
    } else {
        body.to_owned()
    };
    let marker = "reset-password?token=";
    let start = decoded.find(marker).unwrap_or_else(|| panic!("no reset link in: {decoded}")) + marker.len();
    decoded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

/// One row of the RBAC matrix: the expected status for each caller of [`CALLERS`], in order. `{caller}` in
/// the path or body becomes the caller's name (unique names for creations); `{row}` a fresh row of `albums`
/// created by the Owner just before the call (version 1).
struct Case {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    expect: [u16; 7],
}

const CALLERS: [&str; 7] = ["anonymous", "viewer", "editor", "admin", "owner", "per_table", "expired"];

fn case(method: Method, path: &'static str, body: Option<&'static str>, expect: [u16; 7]) -> Case {
    Case { method, path, body, expect }
}

async fn seed_row(c: &Client, owner: &str) -> String {
    let body = json!({"values": {"title": "seed"}});
    let r = c.call(Method::POST, "/api/v1/data/albums", Some(owner), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "seed row: {}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

tessera_core::conformance! {
    async fn preferences_over_http(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let token = c.token("alice").await;
        let t = Some(token.as_str());
        let r = c.call(Method::GET, "/api/v1/auth/preferences", t, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body, json!({"locale": null, "time_zone": null}));
        let body = json!({"locale": "es", "time_zone": "America/Mexico_City"});
        let r = c.call(Method::PUT, "/api/v1/auth/preferences", t, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body, body);
        let r = c.call(Method::PUT, "/api/v1/auth/preferences", t, Some(json!({"time_zone": "Nowhere/Land"}))).await;
        assert_problem(&r, 422, "unknown time zone");
        assert_eq!(r.body["errors"][0]["field"], "time_zone", "{}", r.text);
        let r = c.call(Method::PUT, "/api/v1/auth/preferences", t, Some(json!({"colour": "red"}))).await;
        assert_problem(&r, 400, "unknown field");
        assert_eq!(c.call(Method::GET, "/api/v1/auth/preferences", t, None).await.body, body);
        assert_unauthenticated(&c.call(Method::GET, "/api/v1/auth/preferences", None, None).await, "anonymous");
    }

    async fn grid_layouts_over_http(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_owner(&s, "owner").await;
        create_user(&s, "alice").await;
        let owner = c.token("owner").await;
        let o = Some(owner.as_str());
        let r = c.call(Method::POST, "/api/v1/tables", o, Some(json!({"table_name": "albums"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let path = "/api/v1/auth/preferences/grid/albums";
        let r = c.call(Method::GET, path, o, None).await;
        assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({})), "{}", r.text);
        let layout = json!({"order": ["title", "year"], "hidden": ["year"], "widths": {"title": 240}});
        let r = c.call(Method::PUT, path, o, Some(layout.clone())).await;
        assert_eq!((r.status, r.body.clone()), (StatusCode::OK, layout.clone()), "{}", r.text);
        assert_eq!(c.call(Method::GET, path, o, None).await.body, layout);
        // Replaced whole; absent lists come back empty.
        let r = c.call(Method::PUT, path, o, Some(json!({"hidden": ["year"]}))).await;
        assert_eq!(r.body, json!({"order": [], "hidden": ["year"], "widths": {}}), "{}", r.text);
        // Bad input: the field and the reason; nothing changes.
        let r = c.call(Method::PUT, path, o, Some(json!({"widths": {"title": 9999}}))).await;
        assert_problem(&r, 422, "pixels");
        assert_eq!(r.body["errors"][0]["field"], "widths.title", "{}", r.text);
        let r = c.call(Method::PUT, path, o, Some(json!({"order": "title"}))).await;
        assert_eq!(r.body["errors"][0]["field"], "order", "{}", r.text);
        let r = c.call(Method::PUT, path, o, Some(json!({"colour": "red"}))).await;
        assert_problem(&r, 400, "unknown field");
        assert_eq!(c.call(Method::GET, path, o, None).await.body["hidden"], json!(["year"]));
        // Another user's layout is their own; without read permission on the table there is none.
        let alice = c.token("alice").await;
        let r = c.call(Method::GET, path, Some(alice.as_str()), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        let r = c.call(Method::GET, "/api/v1/auth/preferences/grid/nowhere", o, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        // The layout goes with its table.
        assert_eq!(c.call(Method::DELETE, "/api/v1/tables/albums", o, None).await.status, StatusCode::NO_CONTENT);
        let r = c.call(Method::POST, "/api/v1/tables", o, Some(json!({"table_name": "albums"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(c.call(Method::GET, path, o, None).await.body, json!({}));
    }

    async fn a_page_load_renews_an_expired_access_token_once(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let (_, refresh) = token_pair(&c.login("alice", PASSWORD).await);
        // The browser's access cookie has expired; the refresh cookie is still there.
        let cookie = format!("tessera_refresh={refresh}");
        let page = c.call_with(Method::GET, "/account", &[("cookie", cookie.as_str()), ("accept", "text/html")], None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("data-testid=\"user-menu\""), "{}", page.text);
        let cookies = page.cookies();
        assert_eq!(cookies.len(), 2, "one renewal for the whole page, however many server functions ran: {cookies:?}");
        let access = cookies.iter().find_map(|k| k.strip_prefix("tessera_access=")).unwrap();
        let access = access.split(';').next().unwrap();
        assert_eq!(c.call(Method::GET, "/api/v1/auth/session", Some(access), None).await.status, StatusCode::OK);

        // A server-function call does not renew (calls side by side would present one token twice).
        let headers = [("cookie", cookie.as_str()), ("origin", ORIGIN), ("content-type", "application/x-www-form-urlencoded")];
        let r = c.call_with(Method::POST, "/fn/account/get", &headers, None).await;
        assert!(!r.status.is_success(), "{}", r.text);
        assert!(r.cookies().is_empty(), "{:?}", r.cookies());

        // The used refresh token presented again is a replay: the session family is revoked, the page
        // goes to sign-in and the cookies are cleared.
        let again = c.call_with(Method::GET, "/account", &[("cookie", cookie.as_str()), ("accept", "text/html")], None).await;
        assert_eq!(again.status, StatusCode::FOUND, "{}", again.text);
        assert_eq!(again.header("location"), "/sign-in?next=/account");
        assert!(again.cookies().iter().all(|k| k.contains("Max-Age=0")), "{:?}", again.cookies());
        assert_unauthenticated(&c.call(Method::GET, "/api/v1/auth/session", Some(access), None).await, "family revoked");
    }

    async fn server_functions_check_the_same_permissions_as_the_api(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_owner(&s, "olga").await;
        let plain = create_user(&s, "pablo").await;
        let session = |token: String| format!("tessera_access={token}");
        let owner = session(c.token("olga").await);
        let user = session(c.token("pablo").await);
        // (server function, form body): each must refuse a signed-in user without the permission and an
        // anonymous caller, and answer the Owner.
        let calls = [
            ("/fn/admin/users", String::new()),
            ("/fn/admin/roles", String::new()),
            ("/fn/admin/audit", "action=&entity_type=&actor_user_id=&from=&to=&cursor=".to_owned()),
            ("/fn/admin/set-user-active", format!("id={plain}&active=false")),
            ("/fn/admin/unlock-user", format!("id={plain}")),
            ("/fn/admin/enrollment-link", format!("id={plain}")),
            ("/fn/admin/create-user", "username=mallory&email=&display_name=&password=".to_owned()),
        ];
        let post = |path: &'static str, cookie: Option<&str>, body: String| {
            let mut builder = axum::http::Request::builder()
                .method(Method::POST)
                .uri(path)
                .header("origin", ORIGIN)
                .header("content-type", "application/x-www-form-urlencoded");
            if let Some(cookie) = cookie {
                builder = builder.header("cookie", cookie);
            }
            builder.body(Body::from(body)).unwrap()
        };
        for (path, body) in &calls {
            let r = c.send(post(path, Some(&user), body.clone())).await;
            assert!(!r.status.is_success(), "{path} as a plain user: {}", r.text);
            assert!(r.text.to_lowercase().contains("missing permission"), "{path}: {}", r.text);
            let r = c.send(post(path, None, body.clone())).await;
            assert!(!r.status.is_success(), "{path} anonymously: {}", r.text);
            assert!(r.text.contains("Unauthenticated"), "{path}: {}", r.text);
        }
        // Nothing happened: the plain user is still active, no user was created.
        let r = c.call(Method::GET, "/api/v1/users", Some(owner.trim_start_matches("tessera_access=")), None).await;
        let names: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["olga", "pablo"], "{}", r.text);
        assert!(r.body["items"][1]["is_active"].as_bool().unwrap());
        // The Owner is answered.
        for (path, body) in &calls[..3] {
            let r = c.send(post(path, Some(&owner), body.clone())).await;
            assert!(r.status.is_success(), "{path} as the Owner: {}", r.text);
        }
    }

    async fn the_web_sign_out_revokes_with_only_the_refresh_cookie(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let (access, refresh) = token_pair(&c.login("alice", PASSWORD).await);
        // The page's sign-out form: a browser whose access cookie has expired still sends the refresh cookie.
        let cookie = format!("tessera_refresh={refresh}");
        let headers = [("cookie", cookie.as_str()), ("origin", ORIGIN), ("accept", "text/html")];
        let r = c.call_with(Method::POST, "/api/v1/auth/logout", &headers, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert_eq!(r.header("location"), "/sign-in");
        assert!(r.cookies().iter().all(|k| k.contains("Max-Age=0")), "{:?}", r.cookies());
        // The session is gone on the server: neither token works any more.
        assert_unauthenticated(&c.call(Method::GET, "/api/v1/auth/session", Some(&access), None).await, "access");
        let body = json!({ "refresh_token": refresh });
        assert_unauthenticated(&c.call(Method::POST, "/api/v1/auth/refresh", None, Some(body)).await, "refresh");
        // Nothing to sign out of: a page is still sent to sign-in, an API client gets 401.
        let r = c.call_with(Method::POST, "/api/v1/auth/logout", &[("origin", ORIGIN), ("accept", "text/html")], None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert_unauthenticated(&c.call(Method::POST, "/api/v1/auth/logout", None, None).await, "API client");
    }

    async fn login_answers_tokens_and_cookies(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        let alice = create_user(&s, "alice").await;

        let r = c.login("alice", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["access_token", "expires_in", "refresh_token", "token_type", "user"], "{}", r.text);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 900, "the default access-token lifetime");
        assert_eq!(
            r.body["user"],
            json!({
                "id": alice.to_string(),
                "username": "alice",
                "email": "alice@example.com",
                "display_name": null
            })
        );
        let (access, refresh) = token_pair(&r);
        assert_eq!(access.split('.').count(), 3, "a compact JWS: {access}");
        assert!(!refresh.is_empty() && refresh != access);

        // Two cookies, both for every path (a page load renews an expired access token).
        let cookies = r.cookies();
        assert_eq!(cookies.len(), 2, "{cookies:?}");
        let access_cookie = cookies.iter().find(|k| k.starts_with("tessera_access=")).expect("access cookie");
        let refresh_cookie =
            cookies.iter().find(|k| k.starts_with("tessera_refresh=")).expect("refresh cookie");
        for cookie in [access_cookie, refresh_cookie] {
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        }
        assert!(access_cookie.starts_with(&format!("tessera_access={access};")), "{access_cookie}");
        assert!(refresh_cookie.starts_with(&format!("tessera_refresh={refresh};")), "{refresh_cookie}");
        assert!(refresh_cookie.contains("Path=/;"), "{refresh_cookie}");

        // By e-mail, in any case.
        let r = c.login("Alice@Example.com", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["user"]["id"], alice.to_string());

        // The access token as Bearer, and the cookie alone for a safe method.
        let r = c.call(Method::GET, "/api/v1/auth/session", Some(access.as_str()), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["user"]["username"], "alice");
        assert!(r.body["session_id"].is_string(), "{}", r.text);
        let cookie = format!("tessera_access={access}");
        let r = c.call_with(Method::GET, "/api/v1/auth/session", &[("cookie", cookie.as_str())], None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["user"]["username"], "alice");

        // Unknown and missing fields.
        let r = c
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "alice", "password": PASSWORD, "remember_me": true})),
            )
            .await;
        assert_problem(&r, 400, "unknown field");
        assert_eq!(r.body["errors"][0]["field"], "remember_me", "{}", r.text);
        let r = c.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": "alice"}))).await;
        assert_problem(&r, 400, "missing password");
    }

    async fn wrong_password_and_unknown_user_answer_the_same(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let wrong = c.login("alice", WRONG_PASSWORD).await;
        let unknown = c.login("nobody", WRONG_PASSWORD).await;
        let by_mail = c.login("alice@example.com", WRONG_PASSWORD).await;
        for (what, r) in
            [("wrong password", &wrong), ("unknown user", &unknown), ("wrong password by e-mail", &by_mail)]
        {
            assert_unauthenticated(r, what);
        }
        let text = |r: &Reply| serde_json::to_string(&r.without_instance()).unwrap();
        assert_eq!(text(&wrong), text(&unknown), "the answers must not tell whether the user exists");
        assert_eq!(text(&wrong), text(&by_mail));
        if wrong.body.get("instance").is_none() && unknown.body.get("instance").is_none() {
            assert_eq!(wrong.text, unknown.text, "byte-identical bodies");
        }
    }

    async fn concurrent_failures_lock_known_and_unknown_names_alike(db: Database) {
        let s = services(&db, &[("TESSERA_LOCKOUT_THRESHOLD", "3"), ("TESSERA_LOCKOUT_SECS", "60")]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let mut outcomes = Vec::new();
        for name in ["alice", "nobody"] {
            let attempts = (0..6).map(|_| c.login(name, WRONG_PASSWORD));
            let mut statuses: Vec<u16> =
                futures::future::join_all(attempts).await.iter().map(|r| r.status.as_u16()).collect();
            statuses.sort_unstable();
            outcomes.push(statuses);
        }
        assert_eq!(outcomes[0], outcomes[1], "a burst must not tell a real user from an unknown name");
        assert!(outcomes[0].contains(&429), "six failures against a threshold of three lock: {outcomes:?}");
        // The lock holds for both afterwards, even with the right password.
        assert_problem(&c.login("alice", PASSWORD).await, 429, "alice after the burst");
        assert_problem(&c.login("nobody", PASSWORD).await, 429, "nobody after the burst");
    }

    async fn lockout_timeline(db: Database) {
        let lockout = [
            ("TESSERA_LOCKOUT_THRESHOLD", "3"),
            ("TESSERA_LOCKOUT_SECS", "2"),
            ("TESSERA_LOCKOUT_MAX_SECS", "8"),
        ];
        let s = services(&db, &lockout).await;
        let c = Client::new(&s);
        let alice = create_user(&s, "alice").await;
        create_owner(&s, "root").await;

        // The same timeline for an existing user and an unknown name: 401, 401, then 429 with Retry-After.
        for name in ["alice", "ghost"] {
            for attempt in 1..=2 {
                let r = c.login(name, WRONG_PASSWORD).await;
                assert_unauthenticated(&r, &format!("{name}: failure {attempt}"));
            }
            let r = c.login(name, WRONG_PASSWORD).await;
            assert_problem(&r, 429, &format!("{name}: the third failure locks"));
            let retry: u64 =
                r.header("retry-after").parse().unwrap_or_else(|_| panic!("{name}: Retry-After: {}", r.text));
            assert!((1..=2).contains(&retry), "{name}: Retry-After {retry}");
        }
        // While locked even the right password is refused, exactly like a locked unknown name.
        let known = c.login("alice", PASSWORD).await;
        let unknown = c.login("ghost", PASSWORD).await;
        assert_problem(&known, 429, "alice locked, right password");
        assert_problem(&unknown, 429, "ghost locked");
        assert!(!known.header("retry-after").is_empty() && !unknown.header("retry-after").is_empty());
        assert_eq!(
            known.without_instance(),
            unknown.without_instance(),
            "a lock must not tell whether the user exists"
        );

        // After the lock the right password works; the unknown name is back to plain 401s.
        tokio::time::sleep(Duration::from_millis(2600)).await;
        let r = c.login("alice", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "the lock is over: {}", r.text);
        assert_unauthenticated(&c.login("ghost", WRONG_PASSWORD).await, "ghost after the lock");

        // An Owner clears a lock (a second router on the same database with a long lock).
        let long = [
            ("TESSERA_LOCKOUT_THRESHOLD", "3"),
            ("TESSERA_LOCKOUT_SECS", "600"),
            ("TESSERA_LOCKOUT_MAX_SECS", "1200"),
        ];
        let s2 = services(&db, &long).await;
        let c2 = Client::new(&s2);
        let root = c2.token("root").await;
        let alice_token = c2.token("alice").await;
        for _ in 0..2 {
            assert_unauthenticated(&c2.login("alice", WRONG_PASSWORD).await, "alice before the long lock");
        }
        let r = c2.login("alice", WRONG_PASSWORD).await;
        assert_problem(&r, 429, "long lock");
        let retry: u64 = r.header("retry-after").parse().unwrap();
        assert!((500..=600).contains(&retry), "Retry-After {retry}");
        assert_problem(&c2.login("alice", PASSWORD).await, 429, "alice locked for long");
        let unlock = format!("/api/v1/users/{alice}/unlock");
        let r = c2.call(Method::POST, &unlock, Some(alice_token.as_str()), None).await;
        assert_problem(&r, 403, "unlocking needs users:manage");
        let r = c2.call(Method::POST, &unlock, Some(root.as_str()), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["locked_until"], Value::Null, "{}", r.text);
        assert_eq!(r.body["failed_login_attempts"], 0, "{}", r.text);
        let r = c2.login("alice", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "unlocked: {}", r.text);
    }

    async fn refresh_rotates_and_reuse_revokes_the_family(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let session = "/api/v1/auth/session";
        let refresh = "/api/v1/auth/refresh";

        let (a1, r1) = token_pair(&c.login("alice", PASSWORD).await);
        let second = c.call(Method::POST, refresh, None, Some(json!({"refresh_token": r1}))).await;
        let (a2, r2) = token_pair(&second);
        assert_eq!(second.body["token_type"], "Bearer");
        assert_eq!(second.body["user"]["username"], "alice");
        assert_eq!(second.cookies().len(), 2, "a refresh sets both cookies again");
        assert_ne!(r1, r2, "the refresh token rotates");
        assert_eq!(
            c.call(Method::GET, session, Some(a1.as_str()), None).await.status,
            StatusCode::OK,
            "the old access token lives until it expires"
        );
        assert_eq!(c.call(Method::GET, session, Some(a2.as_str()), None).await.status, StatusCode::OK);

        // Reuse of a rotated refresh token: refused, and the whole family is revoked.
        let reuse = c.call(Method::POST, refresh, None, Some(json!({"refresh_token": r1}))).await;
        assert_unauthenticated(&reuse, "a refresh token used twice");
        let r = c.call(Method::POST, refresh, None, Some(json!({"refresh_token": r2}))).await;
        assert_unauthenticated(&r, "the newer refresh token of a revoked family");
        assert_unauthenticated(
            &c.call(Method::GET, session, Some(a2.as_str()), None).await,
            "access token of a revoked session",
        );
        assert_unauthenticated(
            &c.call(Method::GET, session, Some(a1.as_str()), None).await,
            "older access token of a revoked session",
        );

        // A browser refreshes with the cookie (no body); the Origin check applies to it.
        let (_, r3) = token_pair(&c.login("alice", PASSWORD).await);
        let cookie = format!("tessera_refresh={r3}");
        let r = c.call_with(Method::POST, refresh, &[("cookie", cookie.as_str())], None).await;
        assert_problem(&r, 403, "cookie refresh without Origin");
        let r = c
            .call_with(
                Method::POST,
                refresh,
                &[("cookie", cookie.as_str()), ("origin", "http://evil.example")],
                None,
            )
            .await;
        assert_problem(&r, 403, "cookie refresh from another origin");
        let r = c
            .call_with(Method::POST, refresh, &[("cookie", cookie.as_str()), ("origin", ORIGIN)], None)
            .await;
        let (a4, r4) = token_pair(&r);
        assert_ne!(r3, r4);
        assert_eq!(r.cookies().len(), 2);
        assert_eq!(c.call(Method::GET, session, Some(a4.as_str()), None).await.status, StatusCode::OK);
    }

    async fn forged_access_tokens_are_refused(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        let owner = create_owner(&s, "root").await;
        create_user(&s, "alice").await;
        let session = "/api/v1/auth/session";
        let token = c.token("alice").await;
        assert_eq!(
            c.call(Method::GET, session, Some(token.as_str()), None).await.status,
            StatusCode::OK,
            "the genuine token"
        );

        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let header = decode_json(parts[0]);
        assert_eq!(header["alg"], "EdDSA", "{header}");
        let kid = header["kid"].as_str().unwrap().to_owned();
        let claims = decode_json(parts[1]);
        assert_eq!(claims["username"], "alice", "{claims}");
        let signature = parts[2];

        // The JWKS is public and names the key that signed the token.
        let jwks = c.call(Method::GET, "/.well-known/jwks.json", None, None).await;
        assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text);
        let keys = jwks.body["keys"].as_array().unwrap();
        assert!(!keys.is_empty(), "{}", jwks.text);
        for key in keys {
            assert_eq!(key["kty"], "OKP", "{key}");
            assert_eq!(key["crv"], "Ed25519", "{key}");
            assert!(key.get("d").is_none(), "never a private key: {key}");
        }
        let key = keys
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap_or_else(|| panic!("kid {kid} not in {}", jwks.text));
        let x_text = key["x"].as_str().unwrap();
        let x = URL_SAFE_NO_PAD.decode(x_text).unwrap();
        assert_eq!(x.len(), 32, "a raw Ed25519 public key");

        let none_header = b64_json(&json!({"alg": "none", "typ": "JWT", "kid": &kid}));
        let mut escalated = claims.clone();
        escalated["sub"] = json!(owner.to_string());
        escalated["username"] = json!("root");
        let mut expired = claims.clone();
        expired["exp"] = json!(claims["iat"].as_i64().unwrap() - 1);
        let mut extended = claims.clone();
        extended["exp"] = json!(claims["exp"].as_i64().unwrap() + 365 * 24 * 3600);
        let unknown_kid = b64_json(&json!({"alg": "EdDSA", "typ": "JWT", "kid": Uuid::now_v7().to_string()}));
        let hs_header = b64_json(&json!({"alg": "HS256", "typ": "JWT", "kid": &kid}));
        let hs_input = format!("{hs_header}.{}", parts[1]);
        let forged: Vec<(&str, String)> = vec![
            ("alg none, empty signature", format!("{none_header}.{}.", parts[1])),
            ("alg none, original signature", format!("{none_header}.{}.{signature}", parts[1])),
            ("payload changed to another user", format!("{}.{}.{signature}", parts[0], b64_json(&escalated))),
            ("exp edited into the past", format!("{}.{}.{signature}", parts[0], b64_json(&expired))),
            ("exp edited into the future", format!("{}.{}.{signature}", parts[0], b64_json(&extended))),
            ("unknown kid", format!("{unknown_kid}.{}.{signature}", parts[1])),
            ("HS256 keyed with the raw public key", format!("{hs_input}.{}", hs256(&x, &hs_input))),
            (
                "HS256 keyed with the JWK's x text",
                format!("{hs_input}.{}", hs256(x_text.as_bytes(), &hs_input)),
            ),
            (
                "truncated signature",
                format!("{}.{}.{}", parts[0], parts[1], &signature[..signature.len() - 4]),
            ),
            ("two parts", format!("{}.{}", parts[0], parts[1])),
            ("garbage", "not-a-token".to_owned()),
        ];
        for (what, forged_token) in &forged {
            let r = c.call(Method::GET, session, Some(forged_token.as_str()), None).await;
            assert_unauthenticated(&r, what);
            let cookie = format!("tessera_access={forged_token}");
            let r = c.call_with(Method::GET, session, &[("cookie", cookie.as_str())], None).await;
            assert_unauthenticated(&r, &format!("{what} (cookie)"));
        }
        for authorization in
            ["Bearer ", "Bearer tsk_not-a-real-api-token", "Basic YWxpY2U6cGFzc3dvcmQ=", "Token abc"]
        {
            let r = c.call_with(Method::GET, session, &[("authorization", authorization)], None).await;
            assert_unauthenticated(&r, authorization);
        }
    }

    async fn an_expired_access_token_is_refused_and_refresh_still_works(db: Database) {
        let s = services(&db, &[("TESSERA_ACCESS_TOKEN_TTL_SECS", "10")]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let session = "/api/v1/auth/session";
        let login = c.login("alice", PASSWORD).await;
        assert_eq!(login.body["expires_in"], 10, "{}", login.text);
        let (access, refresh) = token_pair(&login);
        assert_eq!(c.call(Method::GET, session, Some(access.as_str()), None).await.status, StatusCode::OK);
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_unauthenticated(
            &c.call(Method::GET, session, Some(access.as_str()), None).await,
            "expired access token",
        );
        let r =
            c.call(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
        let (fresh, fresh_refresh) = token_pair(&r);
        assert_eq!(c.call(Method::GET, session, Some(fresh.as_str()), None).await.status, StatusCode::OK);

        // Signing out with an expired access token still ends the session, through the refresh token.
        let logout = "/api/v1/auth/logout";
        let r = c.call(Method::POST, logout, Some(access.as_str()), Some(json!({"refresh_token": fresh_refresh}))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        assert!(r.cookies().iter().all(|c| c.contains("Max-Age=0")), "{:?}", r.cookies());
        assert_unauthenticated(&c.call(Method::GET, session, Some(fresh.as_str()), None).await, "after sign-out");
        let r = c
            .call(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": fresh_refresh})))
            .await;
        assert_unauthenticated(&r, "the refresh token of a signed-out session");
        // Without any token there is nothing to sign out of.
        assert_unauthenticated(&c.call(Method::POST, logout, None, None).await, "anonymous sign-out");
    }

    async fn cookie_requests_need_a_same_origin(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_owner(&s, "root").await;
        let token = c.token("root").await;
        let cookie = format!("tessera_access={token}");
        let bearer = format!("Bearer {token}");
        let tables = "/api/v1/tables";
        let table = |name: &str| Some(json!({"table_name": name}));

        let refused: [(&str, Vec<(&str, &str)>); 5] = [
            ("no Origin", vec![("cookie", cookie.as_str())]),
            ("another origin", vec![("cookie", cookie.as_str()), ("origin", "http://evil.example")]),
            (
                "a look-alike origin",
                vec![("cookie", cookie.as_str()), ("origin", "http://localhost:3000.evil.example")],
            ),
            ("another port", vec![("cookie", cookie.as_str()), ("origin", "http://localhost:3001")]),
            (
                "a foreign Referer",
                vec![("cookie", cookie.as_str()), ("referer", "http://evil.example/tables")],
            ),
        ];
        for (what, headers) in &refused {
            let r = c.call_with(Method::POST, tables, headers, table("refused")).await;
            assert_problem(&r, 403, what);
        }
        // Login CSRF: another site cannot sign a visitor in (to its own account) even without cookies.
        let login = json!({"username": "root", "password": PASSWORD});
        let r = c
            .call_with(Method::POST, "/api/v1/auth/login", &[("origin", "http://evil.example")], Some(login.clone()))
            .await;
        assert_problem(&r, 403, "a sign-in posted from another site");
        let r = c.call_with(Method::POST, "/api/v1/auth/login", &[("origin", ORIGIN)], Some(login)).await;
        assert_eq!(r.status, StatusCode::OK, "a sign-in from this site: {}", r.text);

        type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
        let allowed: [Case; 4] = [
            ("same Origin", "t_origin", vec![("cookie", cookie.as_str()), ("origin", ORIGIN)]),
            (
                "same-site Referer",
                "t_referer",
                vec![("cookie", cookie.as_str()), ("referer", "http://localhost:3000/tables")],
            ),
            ("Bearer without Origin", "t_bearer", vec![("authorization", bearer.as_str())]),
            (
                "Bearer with a cookie and a foreign Origin",
                "t_both",
                vec![
                    ("authorization", bearer.as_str()),
                    ("cookie", cookie.as_str()),
                    ("origin", "http://evil.example"),
                ],
            ),
        ];
        for (what, name, headers) in &allowed {
            let r = c.call_with(Method::POST, tables, headers, table(name)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{what}: {}", r.text);
        }

        // Safe methods need no Origin; nothing refused was created.
        let r = c
            .call_with(
                Method::GET,
                tables,
                &[("cookie", cookie.as_str()), ("origin", "http://evil.example")],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut names: Vec<&str> =
            r.body["items"].as_array().unwrap().iter().map(|t| t["table_name"].as_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["t_bearer", "t_both", "t_origin", "t_referer"]);
    }

    async fn per_ip_rate_limit_with_headers(db: Database) {
        let s = services(&db, &[(IP_LIMIT, "5")]).await;
        let c = Client::new(&s);
        let doc = "/api/v1/openapi.json";
        for n in 1..=5u64 {
            let r = c.call(Method::GET, doc, None, None).await;
            assert_eq!(r.status, StatusCode::OK, "request {n}: {}", r.text);
            assert_eq!(r.header("ratelimit-limit"), "5", "request {n}");
            assert_eq!(r.header("ratelimit-remaining"), (5 - n).to_string(), "request {n}");
            let reset: u64 = r.header("ratelimit-reset").parse().unwrap();
            assert!((1..=60).contains(&reset), "request {n}: reset {reset}");
        }
        let r = c.call(Method::GET, doc, None, None).await;
        assert_problem(&r, 429, "the sixth request");
        let retry: u64 = r.header("retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        assert_eq!(r.header("ratelimit-remaining"), "0");

        // Health probes are exempt; another address has its own bucket.
        for _ in 0..3 {
            let r = c.call(Method::GET, "/health/live", None, None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert!(r.headers.get("ratelimit-limit").is_none());
        }
        let r = c.send(from_ip(request(Method::GET, doc, &[], None), "198.51.100.7")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("ratelimit-remaining"), "4");
    }

    async fn per_user_rate_limit_with_headers(db: Database) {
        let s = services(&db, &[("TESSERA_RATE_LIMIT_USER_PER_MIN", "3")]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        create_user(&s, "bob").await;
        let alice = c.token("alice").await;
        for n in 1..=3u64 {
            let r = c.call(Method::GET, "/api/v1/auth/session", Some(&alice), None).await;
            assert_eq!(r.status, StatusCode::OK, "request {n}: {}", r.text);
            assert_eq!(r.header("ratelimit-limit"), "3", "request {n}");
            assert_eq!(r.header("ratelimit-remaining"), (3 - n).to_string(), "request {n}");
        }
        let r = c.call(Method::GET, "/api/v1/auth/session", Some(&alice), None).await;
        assert_problem(&r, 429, "the fourth request of the same user");
        assert!(!r.header("retry-after").is_empty());
        assert_eq!(r.header("ratelimit-remaining"), "0");
        let bob = c.token("bob").await;
        let r = c.call(Method::GET, "/api/v1/auth/session", Some(&bob), None).await;
        assert_eq!(r.status, StatusCode::OK, "another user has their own budget: {}", r.text);
    }

    async fn sign_in_rate_limit_per_ip(db: Database) {
        let s = services(&db, &[(LOGIN_LIMIT, "3")]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        for n in 1..=3 {
            assert_unauthenticated(&c.login("alice", WRONG_PASSWORD).await, &format!("attempt {n}"));
        }
        let r = c.login("alice", PASSWORD).await;
        assert_problem(&r, 429, "the fourth attempt, even with the right password");
        assert!(!r.header("retry-after").is_empty());
        let body = json!({"username": "alice", "password": PASSWORD});
        let r = c
            .send(from_ip(request(Method::POST, "/api/v1/auth/login", &[], Some(&body)), "198.51.100.8"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "another address is not limited: {}", r.text);
    }

    async fn security_headers_on_every_response(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        let paths = [
            ("/api/v1/openapi.json", 200),
            ("/health/live", 200),
            ("/api/v1/tables", 401),
            ("/api/v1/nope", 404),
            ("/.well-known/jwks.json", 200),
        ];
        for (path, status) in paths {
            let r = c.call(Method::GET, path, None, None).await;
            assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text);
            assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
            assert_eq!(r.header("referrer-policy"), "strict-origin-when-cross-origin", "{path}");
            let csp = r.header("content-security-policy");
            assert!(
                csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
                "{path}: {csp}"
            );
            assert!(r.headers.get("strict-transport-security").is_none(), "{path}: no HSTS over plain http");
        }

        // An anonymous visitor of a page is sent to sign-in (a 302 for any client).
        let home = c.call(Method::GET, "/account", None, None).await;
        assert_eq!(home.status, StatusCode::FOUND, "{}", home.text);
        assert_eq!(home.header("location"), "/sign-in?next=/account");

        // The SSR page: a per-response nonce in the CSP, carried by the hydration script.
        let page = c.call_with(Method::GET, "/sign-in", &[("accept", "text/html")], None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let csp = page.header("content-security-policy").to_owned();
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        let start = csp.find("'nonce-").unwrap_or_else(|| panic!("no nonce in the page CSP: {csp}"))
            + "'nonce-".len();
        let nonce = &csp[start..start + csp[start..].find('\'').unwrap()];
        assert!(nonce.len() >= 16, "{csp}");
        assert!(
            page.text.contains(&format!("nonce=\"{nonce}\"")),
            "the page must use the CSP's nonce {nonce}: {}",
            page.text
        );
        let again = c.call_with(Method::GET, "/sign-in", &[("accept", "text/html")], None).await;
        assert_ne!(again.header("content-security-policy"), csp, "a fresh nonce per response");

        // Over https: HSTS, and the cookies are Secure.
        let secure = services(&db, &[("TESSERA_PUBLIC_URL", "https://tessera.example.com")]).await;
        let sc = Client::new(&secure);
        let r = sc.call(Method::GET, "/health/live", None, None).await;
        assert!(r.header("strict-transport-security").contains("max-age="), "{:?}", r.headers);
        create_user(&secure, "alice").await;
        let r = sc.login("alice", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let cookies = r.cookies();
        assert_eq!(cookies.len(), 2);
        assert!(cookies.iter().all(|k| k.contains("; Secure")), "{cookies:?}");
    }

    async fn anonymous_callers_reach_only_the_public_endpoints(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        let doc = c.call(Method::GET, "/api/v1/openapi.json", None, None).await;
        assert_eq!(doc.status, StatusCode::OK, "{}", doc.text);
        assert_eq!(c.call(Method::GET, "/health/live", None, None).await.status, StatusCode::OK);

        let mut expected_public = vec![
            ("post", "/auth/login"),
            ("post", "/auth/refresh"),
            ("post", "/auth/password/reset/request"),
            ("post", "/auth/password/reset/confirm"),
            ("get", "/auth/setup"),
            ("post", "/auth/setup"),
            ("post", "/auth/enroll/start"),
            ("post", "/auth/enroll/finish"),
            ("post", "/auth/passkey/authenticate/start"),
            ("post", "/auth/passkey/authenticate/finish"),
        ];
        expected_public.sort_unstable();
        let mut public_seen = Vec::new();
        let mut failures = Vec::new();
        let paths = doc.body["paths"].as_object().unwrap();
        assert!(paths.len() > 30, "{}", paths.len());
        for (template, operations) in paths {
            let short = template.trim_start_matches("/api/v1");
            let path = template
                .split('/')
                .map(|segment| match segment {
                    "{table}" => "albums".to_owned(),
                    "{column}" | "{name}" => "title".to_owned(),
                    "{permission}" => "users:manage".to_owned(),
                    other if other.starts_with('{') => Uuid::now_v7().to_string(),
                    other => other.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            for (method, operation) in operations.as_object().unwrap() {
                let public = expected_public.contains(&(method.as_str(), short));
                if public {
                    public_seen.push((method.as_str(), short));
                }
                if operation.get("security").is_none() != public {
                    failures.push(format!(
                        "{method} {template}: documented as {}",
                        if public { "secured" } else { "public" }
                    ));
                }
                let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = matches!(method.as_str(), "post" | "put" | "patch").then(|| json!({}));
                let r = c.call(verb, &path, None, body).await;
                let status = r.status.as_u16();
                if public {
                    if matches!(status, 403..=405) || status >= 500 {
                        failures.push(format!("{method} {path} (public): {status} {}", r.text));
                    }
                } else if status != 401
                    || r.header("www-authenticate") != "Bearer"
                    || r.header("content-type") != "application/problem+json"
                {
                    failures.push(format!("{method} {path}: anonymous got {status} {}", r.text));
                }
            }
        }
        public_seen.sort_unstable();
        assert_eq!(public_seen, expected_public, "every public operation is in the document");
        assert!(failures.is_empty(), "anonymous access:\n{}", failures.join("\n"));

        // Public endpoints keep their own semantics.
        let r = c.call(Method::POST, "/api/v1/auth/login", None, Some(json!({}))).await;
        assert_problem(&r, 400, "login without fields");
        let r = c.call(Method::GET, "/api/v1/auth/setup", None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    async fn rbac_matrix(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_owner(&s, "owner").await;
        let admin = create_user(&s, "admin").await;
        let editor = create_user(&s, "editor").await;
        let viewer = create_user(&s, "viewer").await;
        let per_table = create_user(&s, "per_table").await;
        let expired = create_user(&s, "expired").await;
        let owner = c.token("owner").await;
        let o = Some(owner.as_str());

        for (user, role) in [(admin, ADMIN_ROLE), (editor, EDITOR_ROLE), (viewer, VIEWER_ROLE)] {
            let r = c
                .call(Method::POST, &format!("/api/v1/users/{user}/roles"), o, Some(json!({"role_id": role})))
                .await;
            assert!(r.status.is_success(), "assign {role} to {user}: {}", r.text);
        }
        for table in ["albums", "other_table"] {
            let r = c.call(Method::POST, "/api/v1/tables", o, Some(json!({"table_name": table}))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            let r = c
                .call(
                    Method::POST,
                    &format!("/api/v1/tables/{table}/columns"),
                    o,
                    Some(json!({"column_name": "title", "data_type": "String"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let albums_id = c.call(Method::GET, "/api/v1/tables/albums", o, None).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // A custom role that may read albums only.
        let r = c.call(Method::POST, "/api/v1/roles", o, Some(json!({"name": "Albums reader"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let reader = r.body["id"].as_str().unwrap().to_owned();
        let grant = json!({"permission": format!("table:{albums_id}:read")});
        let r = c.call(Method::POST, &format!("/api/v1/roles/{reader}/permissions"), o, Some(grant)).await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = c
            .call(
                Method::POST,
                &format!("/api/v1/users/{per_table}/roles"),
                o,
                Some(json!({"role_id": reader})),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);

        let mut tokens: Vec<Option<String>> = vec![None];
        for name in &CALLERS[1..] {
            tokens.push(Some(c.token(name).await));
        }

        // The expired user's Editor grant works until it expires, then grants nothing.
        let expires_at = (chrono::Utc::now() + chrono::TimeDelta::seconds(3)).to_rfc3339();
        let deadline = Instant::now() + Duration::from_secs(3);
        let r = c
            .call(
                Method::POST,
                &format!("/api/v1/users/{expired}/roles"),
                o,
                Some(json!({"role_id": EDITOR_ROLE, "expires_at": expires_at})),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = c
            .call(
                Method::POST,
                "/api/v1/data/albums",
                tokens[6].as_deref(),
                Some(json!({"values": {"title": "in time"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "the grant is in force before it expires: {}", r.text);
        tokio::time::sleep(deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1200))
            .await;

        // Callers: anonymous, viewer, editor, admin, owner, per_table, expired.
        const SIGNED_IN: [u16; 7] = [401, 200, 200, 200, 200, 200, 200];
        const READ_ALBUMS: [u16; 7] = [401, 200, 200, 200, 200, 200, 403];
        const MANAGE: [u16; 7] = [401, 403, 403, 200, 200, 403, 403];
        const MANAGE_CREATE: [u16; 7] = [401, 403, 403, 201, 201, 403, 403];
        let cases = vec![
            // Listing tables needs a signed-in caller only (no table permission).
            case(Method::GET, "/api/v1/tables", None, SIGNED_IN),
            case(Method::POST, "/api/v1/tables", Some(r#"{"table_name": "t_{caller}"}"#), MANAGE_CREATE),
            case(Method::GET, "/api/v1/tables/albums", None, READ_ALBUMS),
            case(
                Method::POST,
                "/api/v1/tables/albums/columns",
                Some(r#"{"column_name": "c_{caller}", "data_type": "String"}"#),
                MANAGE_CREATE,
            ),
            case(Method::GET, "/api/v1/data/albums", None, READ_ALBUMS),
            case(Method::GET, "/api/v1/data/albums/{row}", None, READ_ALBUMS),
            case(
                Method::POST,
                "/api/v1/data/albums",
                Some(r#"{"values": {"title": "by {caller}"}}"#),
                [401, 403, 201, 201, 201, 403, 403],
            ),
            case(
                Method::PATCH,
                "/api/v1/data/albums/{row}",
                Some(r#"{"version": 1, "values": {"title": "patched"}}"#),
                [401, 403, 200, 200, 200, 403, 403],
            ),
            case(Method::DELETE, "/api/v1/data/albums/{row}", None, [401, 403, 204, 204, 204, 403, 403]),
            case(Method::POST, "/api/v1/data/albums/query", Some("{}"), READ_ALBUMS),
            case(
                Method::POST,
                "/api/v1/data/albums/batch",
                Some(r#"{"operations": [{"op": "create", "values": {"title": "b"}}]}"#),
                [401, 403, 200, 200, 200, 403, 403],
            ),
            case(Method::POST, "/api/v1/data/albums/export", Some(r#"{"format": "csv"}"#), READ_ALBUMS),
            case(Method::GET, "/api/v1/data/other_table", None, [401, 200, 200, 200, 200, 403, 403]),
            case(Method::GET, "/api/v1/users", None, MANAGE),
            case(Method::POST, "/api/v1/users", Some(r#"{"username": "new-{caller}"}"#), MANAGE_CREATE),
            case(Method::GET, "/api/v1/roles", None, MANAGE),
            case(Method::POST, "/api/v1/roles", Some(r#"{"name": "Role of {caller}"}"#), MANAGE_CREATE),
            case(Method::GET, "/api/v1/permissions", None, MANAGE),
            case(Method::GET, "/api/v1/audit", None, MANAGE),
            case(Method::GET, "/api/v1/audit/export", None, MANAGE),
            case(Method::GET, "/api/v1/auth/session", None, SIGNED_IN),
            case(Method::GET, "/api/v1/api-tokens", None, SIGNED_IN),
        ];
        let mut failures = Vec::new();
        for test in &cases {
            for (i, caller) in CALLERS.iter().enumerate() {
                let mut path = test.path.replace("{caller}", caller);
                if path.contains("{row}") {
                    path = path.replace("{row}", &seed_row(&c, &owner).await);
                }
                let body =
                    test.body.map(|b| serde_json::from_str::<Value>(&b.replace("{caller}", caller)).unwrap());
                let r = c.call(test.method.clone(), &path, tokens[i].as_deref(), body).await;
                if r.status.as_u16() != test.expect[i] {
                    let excerpt: String = r.text.chars().take(300).collect();
                    failures.push(format!(
                        "{} {path} as {caller}: expected {}, got {} — {excerpt}",
                        test.method,
                        test.expect[i],
                        r.status.as_u16()
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "RBAC matrix mismatches:\n{}", failures.join("\n"));

        // API tokens: scoped to read every table; the user's permissions still apply; revocable.
        let r = c
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                o,
                Some(json!({"name": "nightly export", "scopes": ["table:*:read"]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let api_token = r.body["token"].as_str().unwrap().to_owned();
        let token_id = r.body["id"].as_str().unwrap().to_owned();
        assert!(api_token.starts_with("tsk_"), "{api_token}");
        let t = Some(api_token.as_str());
        let r = c.call(Method::GET, "/api/v1/data/albums", t, None).await;
        assert_eq!(r.status, StatusCode::OK, "read within the scope: {}", r.text);
        let r = c.call(Method::GET, "/api/v1/auth/session", t, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["api_token_id"], token_id.as_str(), "{}", r.text);
        assert_problem(
            &c.call(Method::POST, "/api/v1/tables", t, Some(json!({"table_name": "via_token"}))).await,
            403,
            "schema outside the scope",
        );
        assert_problem(
            &c.call(Method::POST, "/api/v1/data/albums", t, Some(json!({"values": {"title": "x"}}))).await,
            403,
            "create outside the scope",
        );
        let r = c.call(Method::GET, "/api/v1/api-tokens", o, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let listed = r.body["items"].as_array().unwrap();
        assert!(listed.iter().any(|k| k["id"] == token_id.as_str()), "{}", r.text);
        assert!(listed.iter().all(|k| k.get("token").is_none()), "the secret is shown once: {}", r.text);

        // A token cannot manage its owner's account: no new tokens, sessions, passwords or passkeys.
        for (method, path, body) in [
            (Method::POST, "/api/v1/api-tokens", Some(json!({"name": "escalate", "scopes": ["*"]}))),
            (Method::GET, "/api/v1/api-tokens", None),
            (Method::GET, "/api/v1/auth/sessions", None),
            (Method::DELETE, "/api/v1/auth/sessions", None),
            (Method::POST, "/api/v1/auth/passkey/register/start", None),
            (Method::POST, "/api/v1/auth/password/change", Some(json!({"current_password": "", "new_password": NEW_PASSWORD}))),
            (Method::PUT, "/api/v1/auth/preferences", Some(json!({"locale": "es"}))),
        ] {
            let what = format!("{method} {path} with an API token");
            assert_problem(&c.call(method, path, t, body).await, 403, &what);
        }

        // The table list shows only what the caller may read.
        let listed = c.call(Method::GET, "/api/v1/tables", tokens[5].as_deref(), None).await;
        let names: Vec<&str> =
            listed.body["items"].as_array().unwrap().iter().map(|t| t["table_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["albums"], "per-table reader: {}", listed.text);
        let r = c.call(Method::GET, "/api/v1/tables/other_table", tokens[5].as_deref(), None).await;
        assert_problem(&r, 403, "another table");
        assert!(!r.text.contains("table:"), "the refusal names no table id: {}", r.text);

        // A token with every scope cannot do more than its (Viewer) user.
        let v = tokens[1].as_deref();
        let r = c
            .call(Method::POST, "/api/v1/api-tokens", v, Some(json!({"name": "everything", "scopes": ["*"]})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let viewer_token = r.body["token"].as_str().unwrap().to_owned();
        let vt = Some(viewer_token.as_str());
        assert_eq!(c.call(Method::GET, "/api/v1/data/albums", vt, None).await.status, StatusCode::OK);
        assert_problem(
            &c.call(Method::POST, "/api/v1/data/albums", vt, Some(json!({"values": {"title": "x"}}))).await,
            403,
            "viewer's token",
        );

        // Only the owner of a token revokes it; a revoked token is a 401.
        let revoke = format!("/api/v1/api-tokens/{token_id}");
        assert_problem(&c.call(Method::DELETE, &revoke, v, None).await, 404, "someone else's token");
        let r = c.call(Method::DELETE, &revoke, o, None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        assert_unauthenticated(
            &c.call(Method::GET, "/api/v1/data/albums", t, None).await,
            "revoked API token",
        );
    }

    async fn audit_records_sign_ins(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        create_owner(&s, "root").await;
        let alice = create_user(&s, "alice").await.to_string();
        let login = |password: &str| {
            let body = json!({"username": "alice", "password": password});
            let headers = [("user-agent", "audit-test/1.0")];
            from_ip(request(Method::POST, "/api/v1/auth/login", &headers, Some(&body)), "203.0.113.7")
        };
        assert_unauthenticated(&c.send(login(WRONG_PASSWORD)).await, "wrong password");
        assert_eq!(c.send(login(PASSWORD)).await.status, StatusCode::OK);
        let root = c.token("root").await;
        let o = Some(root.as_str());

        let r = c.call(Method::GET, "/api/v1/audit?action=LoginFailed", o, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.iter().all(|e| e["action"] == "LoginFailed"), "{}", r.text);
        let entry = items
            .iter()
            .find(|e| e["entity_id"] == alice.as_str())
            .unwrap_or_else(|| panic!("no LoginFailed for alice: {}", r.text));
        assert!(entry.get("ip").is_some() && entry.get("user_agent").is_some(), "{entry}");
        assert_eq!(entry["ip"], "203.0.113.7", "{entry}");
        assert_eq!(entry["user_agent"], "audit-test/1.0", "{entry}");

        let r = c.call(Method::GET, "/api/v1/audit/export?action=LoginSucceeded", o, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.header("content-type").starts_with("text/csv"), "{:?}", r.headers);
        let lines: Vec<&str> = r.text.lines().filter(|l| !l.is_empty()).collect();
        assert!(lines.len() >= 2, "a header and at least one row: {}", r.text);
        assert!(lines[0].starts_with("id,created_at,actor_user_id,ip,user_agent,action"), "{}", lines[0]);
        assert!(lines[1..].iter().all(|l| l.contains("LoginSucceeded")), "{}", r.text);
        assert!(
            lines.iter().any(|l| l.contains("203.0.113.7") && l.contains("audit-test/1.0")),
            "{}",
            r.text
        );

        assert_problem(
            &c.call(Method::GET, "/api/v1/audit?colour=red", o, None).await,
            400,
            "unknown filter",
        );
    }

    async fn first_run_setup(db: Database) {
        let s = services(&db, &[]).await;
        let c = Client::new(&s);
        let status = "/api/v1/auth/setup";
        let r = c.call(Method::GET, status, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body, json!({"setup_pending": true}));

        let Bootstrap::SetupToken(token) = s.auth().bootstrap().await.unwrap() else {
            panic!("no user and no TESSERA_ADMIN_USER: bootstrap must hand out a setup token");
        };
        let body = |token: &str, password: &str| {
            Some(json!({
                "token": token,
                "username": "founder",
                "password": password,
                "email": "founder@example.com"
            }))
        };
        assert_unauthenticated(
            &c.call(Method::POST, status, None, body("tss_not-the-token", PASSWORD)).await,
            "wrong setup token",
        );
        assert_problem(
            &c.call(Method::POST, status, None, body(&token, "password1234")).await,
            422,
            "weak password",
        );
        assert_eq!(
            c.call(Method::GET, status, None, None).await.body,
            json!({"setup_pending": true}),
            "still pending"
        );

        let r = c.call(Method::POST, status, None, body(&token, PASSWORD)).await;
        let (access, _) = token_pair(&r);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["user"]["username"], "founder");
        assert_eq!(r.cookies().len(), 2);
        let r = c.call(Method::GET, "/api/v1/users", Some(access.as_str()), None).await;
        assert_eq!(r.status, StatusCode::OK, "the founder is an Owner: {}", r.text);

        assert_eq!(c.call(Method::GET, status, None, None).await.body, json!({"setup_pending": false}));
        assert_problem(&c.call(Method::POST, status, None, body(&token, PASSWORD)).await, 403, "setup twice");
        assert_eq!(s.auth().bootstrap().await.unwrap(), Bootstrap::Ready);
    }

    async fn password_reset_by_mail(db: Database) {
        let dir = std::env::temp_dir().join(tessera_core::testing::unique_name("tessera_auth_mail"));
        let data_dir = dir.display().to_string();
        let s = services(&db, &[("TESSERA_DATA_DIR", data_dir.as_str())]).await;
        let c = Client::new(&s);
        create_user(&s, "alice").await;
        let (old_access, old_refresh) = token_pair(&c.login("alice", PASSWORD).await);
        let request_reset = "/api/v1/auth/password/reset/request";
        let confirm = "/api/v1/auth/password/reset/confirm";

        let r = c.call(Method::POST, request_reset, None, Some(json!({"email": "alice@example.com"}))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        // The mail is sent after the answer (so its timing tells nothing): wait for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while mail_files(&dir).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mails = mail_files(&dir);
        assert_eq!(mails.len(), 1, "{mails:?}");
        // Asking again within the minute sends nothing more.
        let r = c.call(Method::POST, request_reset, None, Some(json!({"email": "alice@example.com"}))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        let eml = std::fs::read_to_string(&mails[0]).unwrap();
        assert!(eml.contains("alice@example.com"), "{eml}");
        let token = reset_token(&eml);
        assert!(token.len() >= 40, "a 256-bit token: {token}");

        let r = c
            .call(Method::POST, confirm, None, Some(json!({"token": token, "new_password": "password1234"})))
            .await;
        assert_problem(&r, 422, "weak new password");
        let r = c
            .call(Method::POST, confirm, None, Some(json!({"token": token, "new_password": NEW_PASSWORD})))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "a weak attempt does not burn the link: {}", r.text);

        // Every session was revoked; only the new password works; the link is single-use.
        assert_unauthenticated(
            &c.call(Method::GET, "/api/v1/auth/session", Some(old_access.as_str()), None).await,
            "old session",
        );
        let r = c
            .call(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": old_refresh})))
            .await;
        assert_unauthenticated(&r, "old refresh token");
        assert_unauthenticated(&c.login("alice", PASSWORD).await, "old password");
        assert_eq!(c.login("alice", NEW_PASSWORD).await.status, StatusCode::OK);
        let r = c
            .call(
                Method::POST,
                confirm,
                None,
                Some(json!({"token": token, "new_password": "another quite long passphrase 7"})),
            )
            .await;
        assert_unauthenticated(&r, "reused reset token");

        // An unknown address gets the same 202 and no mail.
        let r = c.call(Method::POST, request_reset, None, Some(json!({"email": "nobody@example.com"}))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(mail_files(&dir).len(), 1, "no mail for an unknown address, nor a second one within a minute");
        let _ = std::fs::remove_dir_all(dir);
    }
}
