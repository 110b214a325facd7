//! The real `tessera` binary against real PostgreSQL, SQLite and Redis: startup, health, SSR, request ids,
//! the server function, bad configuration, graceful shutdown, `tessera admin create` and the first-start
//! setup token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tessera_core::store::Backend;
use tessera_core::testing::{redis_url, unique_name, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("tessera_server_test"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running server process, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Server {
    fn command(dir: &Path, port: u16, extra: &[(&str, String)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TESSERA_ADDR", format!("127.0.0.1:{port}"))
            .env("TESSERA_DATA_DIR", dir.join("data"))
            .env("TESSERA_SITE_ROOT", dir.join("site"))
            .env("TESSERA_LOG", "json")
            .env("TESSERA_SHUTDOWN_TIMEOUT_SECS", "5");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    async fn start(extra: &[(&str, String)]) -> Server {
        Self::start_in(temp_dir(), extra).await
    }

    /// Starts the server on an existing test directory (its data directory is `<dir>/data`).
    async fn start_in(dir: PathBuf, extra: &[(&str, String)]) -> Server {
        let port = free_port();
        let child = Self::command(&dir, port, extra)
            .stdout(Stdio::from(std::fs::File::create(dir.join("stdout.log")).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(dir.join("stderr.log")).unwrap()))
            .spawn()
            .unwrap();
        let server = Server { child, base: format!("http://127.0.0.1:{port}"), dir };
        server.wait_until_live().await;
        server
    }

    async fn wait_until_live(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/health/live", self.base)).await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not start: {}", self.logs());
    }

    /// What the server printed on standard output so far (the console, not the logs).
    fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default()
    }

    fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        format!("stdout:\n{}\nstderr:\n{}", read("stdout.log"), read("stderr.log"))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base)).await.unwrap()
    }

    async fn ready(&self) -> (u16, serde_json::Value) {
        let response = self.get("/health/ready").await;
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// SIGTERM, then the exit status (must come within the grace period).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server ignored SIGTERM: {}", self.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the binary to completion with a configuration that must fail.
fn run_to_failure(dir: &Path, extra: &[(&str, String)]) -> Output {
    Server::command(dir, free_port(), extra).output().unwrap()
}

fn assert_one_line_error(output: &Output, setting: &str) {
    assert!(!output.status.success(), "expected failure, got {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "stderr should be one line: {stderr}");
    assert!(line.starts_with(&format!("error: {setting}")), "should name {setting}: {stderr}");
}

const ADMIN_USER: &str = "owner";
const ADMIN_PASSWORD: &str = "correct horse battery staple 42";

/// Creates the Owner at start.
fn admin_env() -> Vec<(&'static str, String)> {
    vec![("TESSERA_ADMIN_USER", ADMIN_USER.to_owned()), ("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned())]
}

async fn exercise_running_server(server: &Server, backend: &str, cache: &str) {
    // Health.
    let live = server.get("/health/live").await;
    assert_eq!(live.status(), 200);
    let (status, body) = server.ready().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    assert_eq!(body["backend"], backend, "{body}");
    assert_eq!(body["cache"]["kind"], cache, "{body}");

    // Anonymous visitors get the sign-in page, no data.
    let page = server.get("/").await;
    assert_eq!(page.status(), 200);
    let request_id = page.headers().get("x-request-id").expect("x-request-id").to_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&request_id).unwrap().get_version_num(), 7);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"sign-in-form\""), "{html}");
    assert!(!html.contains("Database:"), "{html}");

    // Signed in (the Owner from TESSERA_ADMIN_USER), the landing page is server-rendered with data read
    // through the server function.
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({ "username": ADMIN_USER, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let login: serde_json::Value = login.json().await.unwrap();
    let session = format!("tessera_access={}", login["access_token"].as_str().unwrap());
    let page = client.get(format!("{}/", server.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1 class=\"page-title\">Home"), "{html}");
    assert!(html.contains(&format!("Signed in as {ADMIN_USER}")), "{html}");
    assert!(html.contains(&format!("Database: {backend} ·")), "{html}");
    assert!(html.contains("workspace Default"), "{html}");
    assert!(html.contains("Checks: 1"), "{html}");
    assert!(html.contains("/pkg/tessera.js"), "hydration script missing: {html}");

    // An incoming request id is echoed.
    let echoed = client
        .get(format!("{}/health/live", server.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");

    // The server function answers the browser's call: signed in, from the site's own origin.
    let status_fn = format!("{}/fn/system/status", server.base);
    let form = "application/x-www-form-urlencoded";
    let anonymous =
        client.post(&status_fn).header("content-type", form).body("check=7").send().await.unwrap();
    assert!(!anonymous.status().is_success(), "anonymous callers get no data");
    let origin = server.base.replace("127.0.0.1", "localhost");
    let cross_site = client
        .post(&status_fn)
        .header("content-type", form)
        .header("cookie", &session)
        .header("origin", "http://evil.example")
        .body("check=7")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "cookie requests from another origin are refused");
    let call = client
        .post(&status_fn)
        .header("content-type", form)
        .header("cookie", &session)
        .header("origin", origin)
        .body("check=7")
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    let status: serde_json::Value = call.json().await.unwrap();
    assert_eq!(status["backend"], backend);
    assert_eq!(status["check"], 7);
    assert!(status["migrations_applied"].as_i64().unwrap() >= 1);

    // Unknown API paths are problem JSON, unknown pages a 404 page.
    let missing = server.get("/api/v1/nope").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(problem["status"], 404);
    assert_eq!(server.get("/no/such/page").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_sqlite_with_the_in_process_cache() {
    let server = Server::start(&admin_env()).await;
    exercise_running_server(&server, "sqlite", "memory").await;
    assert!(server.dir.join("data/tessera.db").exists(), "the SQLite file lives in the data directory");
    assert!(server.dir.join("data/secret.key").exists(), "a secret key is generated on first start");
    let logs = server.logs();
    assert!(logs.contains("\"message\":\"Tessera is listening\""), "JSON logs expected: {logs}");
    assert!(logs.contains("request_id"), "request logs carry the request id: {logs}");
    let status = server.terminate();
    assert!(status.success(), "SIGTERM must shut down cleanly: {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_postgres_with_redis() {
    let db = TestDatabase::empty(Backend::Postgres).await;
    let prefix = format!("{}:", unique_name("tessera-test"));
    let mut env = admin_env();
    env.extend([
        ("DATABASE_URL", db.url.clone()),
        ("REDIS_URL", redis_url()),
        ("TESSERA_REDIS_PREFIX", prefix),
    ]);
    let server = Server::start(&env).await;
    exercise_running_server(&server, "postgres", "redis").await;
    assert!(!server.dir.join("data/tessera.db").exists(), "no SQLite file when DATABASE_URL is set");
    let status = server.terminate();
    assert!(status.success(), "SIGTERM must shut down cleanly: {status:?}");
    db.remove().await;
}

/// A private Redis server that the test can kill to simulate an outage.
struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the outage test");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "private redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_after_start_is_degraded_not_unavailable() {
    let mut redis = PrivateRedis::start();
    let server = Server::start(&[("REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))]).await;
    let (status, body) = server.ready().await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")), "{body}");

    redis.child.kill().unwrap();
    redis.child.wait().unwrap();
    let (status, body) = server.ready().await;
    assert_eq!(status, 200, "a Redis outage must not fail readiness: {body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["cache"]["status"], "unavailable", "{body}");
    // Pages still render: the database is the source of truth.
    assert_eq!(server.get("/").await.status(), 200);
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_fails_fast_with_one_line_naming_the_setting() {
    let dir = temp_dir();

    let out = run_to_failure(&dir, &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/tessera".into())]);
    assert_one_line_error(&out, "DATABASE_URL=");

    let out = run_to_failure(&dir, &[("DATABASE_URL", "mysql://nope".into())]);
    assert_one_line_error(&out, "DATABASE_URL:");

    let out = run_to_failure(&dir, &[("REDIS_URL", "redis://127.0.0.1:1".into())]);
    assert_one_line_error(&out, "REDIS_URL=");

    let out = run_to_failure(&dir, &[("REDIS_URL", "not-a-url".into())]);
    assert_one_line_error(&out, "REDIS_URL:");

    let out = run_to_failure(&dir, &[("TESSERA_ADDR", "localhost".into())]);
    assert_one_line_error(&out, "TESSERA_ADDR:");

    // A data directory that cannot be created (its parent is a file; this holds even for root).
    std::fs::write(dir.join("a-file"), b"x").unwrap();
    let out = run_to_failure(&dir, &[("TESSERA_DATA_DIR", dir.join("a-file/data").display().to_string())]);
    assert_one_line_error(&out, "TESSERA_DATA_DIR=");

    // A port in use.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = run_to_failure(&dir, &[("TESSERA_ADDR", format!("127.0.0.1:{port}"))]);
    assert_one_line_error(&out, &format!("TESSERA_ADDR=127.0.0.1:{port}"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_health_subcommands() {
    let db = TestDatabase::empty(Backend::Postgres).await;
    let dir = temp_dir();
    let out = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .env("TESSERA_DATA_DIR", dir.join("data"))
        .env("TESSERA_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("postgres database is up to date"), "{stdout}");
    assert_eq!(db.db.applied_migrations().await.unwrap() as usize, db.db.known_migrations());

    let server = Server::start(&[("DATABASE_URL", db.url.clone())]).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let health =
        Command::new(BIN).arg("health").env("TESSERA_ADDR", format!("127.0.0.1:{port}")).output().unwrap();
    assert!(health.status.success(), "{}", String::from_utf8_lossy(&health.stderr));
    assert!(server.terminate().success());

    let health = Command::new(BIN)
        .arg("health")
        .env("TESSERA_ADDR", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!health.status.success(), "health must fail when nothing listens");
    std::fs::remove_dir_all(&dir).unwrap();
    db.remove().await;
}

/// `tessera admin create --username <username> --email <username>@example.com` on `<dir>/data` (the data
/// directory `Server::start_in(dir, …)` uses), with the password from `TESSERA_ADMIN_PASSWORD` when given,
/// and `stdin` piped to standard input.
fn admin_create(dir: &Path, username: &str, password_env: Option<&str>, stdin: &str) -> Output {
    let email = format!("{username}@example.com");
    let mut cmd = Command::new(BIN);
    cmd.args(["admin", "create", "--username", username, "--email", email.as_str()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESSERA_DATA_DIR", dir.join("data"))
        .env("TESSERA_LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = password_env {
        cmd.env("TESSERA_ADMIN_PASSWORD", password);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if !stdin.is_empty() {
        // The command may not read standard input (the password came from the environment): ignore EPIPE.
        let _ = input.write_all(stdin.as_bytes());
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_create_makes_an_owner_who_can_sign_in() {
    const PASSWORD: &str = "correct horse battery staple 42";
    let dir = temp_dir();

    let out = admin_create(&dir, "root", Some(PASSWORD), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("created Owner 'root'"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !String::from_utf8_lossy(&out.stderr).contains(PASSWORD));

    // The same username again: one line naming the field.
    let out = admin_create(&dir, "root", Some(PASSWORD), "");
    assert_one_line_error(&out, "username");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("this username is already taken"), "{stderr}");

    // A weak password from standard input (no TESSERA_ADMIN_PASSWORD): one line naming the field.
    let out = admin_create(&dir, "second", None, "short\n");
    assert_one_line_error(&out, "password");

    // The server on that data directory: users exist, so no setup token; the Owner signs in over HTTP.
    let server = Server::start_in(dir, &[]).await;
    let console = server.stdout();
    assert!(!console.contains("one-time token"), "no setup token once a user exists: {console}");
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "root", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let body: serde_json::Value = login.json().await.unwrap();
    assert_eq!(body["user"]["username"], "root", "{body}");
    let access = body["access_token"].as_str().expect("access_token").to_owned();

    let session =
        client.get(format!("{}/api/v1/auth/session", server.base)).bearer_auth(&access).send().await.unwrap();
    assert_eq!(session.status(), 200);
    let session: serde_json::Value = session.json().await.unwrap();
    assert_eq!(session["user"]["username"], "root", "{session}");
    let permissions = session["permissions"].as_array().expect("permissions");
    assert!(permissions.iter().any(|p| p == "*"), "the Owner holds every permission: {session}");

    // The user whose password was refused was not created.
    let refused = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "second", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_without_users_prints_a_one_time_setup_token() {
    let server = Server::start(&[]).await;
    let console = server.stdout();
    let lines: Vec<&str> = console.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("one-time token"))
        .unwrap_or_else(|| panic!("no setup token printed: {}", server.logs()));
    assert!(lines[at].contains("/setup"), "{console}");
    let token = lines.get(at + 1).map(|l| l.trim()).unwrap_or_default();
    assert!(token.starts_with("tss_") && token.len() > 20, "the token follows on the next line: {console}");
    let stderr = std::fs::read_to_string(server.dir.join("stderr.log")).unwrap_or_default();
    assert!(!stderr.contains(token), "the token is printed, never logged: {stderr}");
    let logged = console.lines().filter(|l| l.starts_with('{')).any(|l| l.contains(token));
    assert!(!logged, "the token is printed, never logged: {console}");
    assert!(server.terminate().success());
}
