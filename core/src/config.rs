//! Configuration: one typed struct, read from an optional TOML file and the environment.
//!
//! Precedence (highest first): environment, file, defaults. The defaults make the embedded mode work with
//! zero settings: SQLite in `./data`, an in-process cache, `127.0.0.1:3000`.
//!
//! File keys are the environment names without the `TESSERA_` prefix, lower-cased
//! (`addr`, `data_dir`, `database_url`, `redis_url`, …). The file is named by `TESSERA_CONFIG` or `--config`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A configuration problem: which setting and why. Displayed as one line, naming the setting.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct ConfigError {
    /// The environment name of the setting (e.g. `TESSERA_ADDR`), or the config file path.
    pub setting: String,
    pub reason: String,
}

impl ConfigError {
    fn new(setting: &str, reason: impl Into<String>) -> Self {
        Self { setting: setting.to_owned(), reason: reason.into() }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A secret that never shows up in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Limits enforced by the server. Every one is configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `TESSERA_MAX_BODY_BYTES`: request body limit (default 1 MiB).
    pub max_body_bytes: usize,
    /// `TESSERA_MAX_BATCH_BODY_BYTES`: body limit on batch and export endpoints (default 16 MiB).
    pub max_batch_body_bytes: usize,
    /// `TESSERA_DB_MAX_CONNECTIONS`: database pool size (default 10).
    pub db_max_connections: u32,
    /// `TESSERA_DB_CONNECT_TIMEOUT_SECS`: how long to wait for the database at start (default 5 s).
    pub db_connect_timeout: Duration,
    /// `TESSERA_SHUTDOWN_TIMEOUT_SECS`: grace period for in-flight requests on SIGTERM (default 30 s).
    pub shutdown_timeout: Duration,
    /// `TESSERA_DEFAULT_PAGE_SIZE`: rows per page when a query names no limit (default 100).
    pub default_page_size: i64,
    /// `TESSERA_MAX_PAGE_SIZE`: the largest `limit` a query may ask for (default 1000).
    pub max_page_size: i64,
    /// `TESSERA_MAX_BATCH_OPERATIONS`: operations per batch request (default 1000).
    pub max_batch_operations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_batch_body_bytes: 16 * 1024 * 1024,
            db_max_connections: 10,
            db_connect_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(30),
            default_page_size: 100,
            max_page_size: 1000,
            max_batch_operations: 1000,
        }
    }
}

/// Authentication and security settings (spec §5, §11). Every one is configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// `TESSERA_ARGON2_MEMORY_KIB`, `TESSERA_ARGON2_ITERATIONS`, `TESSERA_ARGON2_PARALLELISM`: argon2id cost
    /// (defaults 19456 KiB, 2, 1). Changing them rehashes passwords at the next sign-in.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// `TESSERA_ARGON2_CONCURRENCY`: password hashes computed at once (default 2: the blocking pool bound).
    pub argon2_concurrency: usize,
    /// `TESSERA_ACCESS_TOKEN_TTL_SECS`: lifetime of JWT access tokens (default 900).
    pub access_token_ttl: Duration,
    /// `TESSERA_REFRESH_TOKEN_TTL_SECS`: lifetime of refresh tokens and sessions (default 7 days).
    pub refresh_token_ttl: Duration,
    /// `TESSERA_SIGNING_KEY_ROTATION_SECS`: a new signing key after this long (default 30 days).
    pub signing_key_rotation: Duration,
    /// `TESSERA_LOCKOUT_THRESHOLD`: consecutive failures that lock an account (default 5).
    pub lockout_threshold: u32,
    /// `TESSERA_LOCKOUT_SECS`: first lock duration, doubled per further lock (default 900), capped by
    /// `TESSERA_LOCKOUT_MAX_SECS` (default 86400).
    pub lockout_base: Duration,
    pub lockout_max: Duration,
    /// `TESSERA_RATE_LIMIT_IP_PER_MIN` (default 1200), `TESSERA_RATE_LIMIT_USER_PER_MIN` (6000),
    /// `TESSERA_RATE_LIMIT_LOGIN_PER_MIN` (10 sign-in attempts per IP). 0 disables a limit.
    pub rate_limit_ip_per_min: u64,
    pub rate_limit_user_per_min: u64,
    pub rate_limit_login_per_min: u64,
    /// `TESSERA_TRUSTED_PROXIES`: addresses of reverse proxies (comma-separated IPs) whose
    /// `X-Forwarded-For` names the client (rate limits, sessions, audit). Empty: the peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `TESSERA_WEBAUTHN_ORIGINS`: further origins allowed in passkey ceremonies, comma-separated (e.g. the
    /// desktop client's `tauri://localhost`); the relying party id stays the public URL's host.
    pub webauthn_origins: Vec<String>,
    /// `TESSERA_SMTP_URL`: e.g. `smtps://user:pass@mail.example.com`. Without it mail is written as `.eml`
    /// files to `<data_dir>/mail` (the development mailer).
    pub smtp_url: Option<Secret>,
    /// `TESSERA_MAIL_FROM`: sender of password-reset mail (default `Tessera <tessera@localhost>`).
    pub mail_from: String,
    /// `TESSERA_ADMIN_USER`, `TESSERA_ADMIN_PASSWORD`, `TESSERA_ADMIN_EMAIL`: create the Owner at start when
    /// no user exists (scripted deployments).
    pub admin_user: Option<String>,
    pub admin_password: Option<Secret>,
    pub admin_email: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            argon2_concurrency: 2,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(7 * 24 * 3600),
            signing_key_rotation: Duration::from_secs(30 * 24 * 3600),
            lockout_threshold: 5,
            lockout_base: Duration::from_secs(15 * 60),
            lockout_max: Duration::from_secs(24 * 3600),
            rate_limit_ip_per_min: 1200,
            rate_limit_user_per_min: 6000,
            rate_limit_login_per_min: 10,
            trusted_proxies: Vec::new(),
            webauthn_origins: Vec::new(),
            smtp_url: None,
            mail_from: "Tessera <tessera@localhost>".into(),
            admin_user: None,
            admin_password: None,
            admin_email: None,
        }
    }
}

/// The whole configuration of a Tessera server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TESSERA_ADDR`: listen address.
    pub addr: SocketAddr,
    /// `TESSERA_DATA_DIR`: where the SQLite file, the generated secret key and dev mail live.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `postgres://…` or `sqlite:…`. `None` means `sqlite:<data_dir>/tessera.db`.
    pub database_url: Option<Secret>,
    /// `REDIS_URL`: `redis://…`. `None` means the in-process cache.
    pub redis_url: Option<Secret>,
    /// `TESSERA_REDIS_PREFIX`: namespace for every Redis key. Default derived from the database.
    pub redis_prefix: Option<String>,
    /// `TESSERA_LOG`: `json` or `pretty`.
    pub log_format: LogFormat,
    /// `TESSERA_LOG_LEVEL`: a tracing filter (default `info`).
    pub log_level: String,
    /// `TESSERA_PUBLIC_URL`: the URL users reach Tessera at. Default `http://localhost:<port>`.
    pub public_url: String,
    /// `TESSERA_SECRET_KEY`: the server key. When absent it is generated into the data directory.
    pub secret_key: Option<Secret>,
    /// `TESSERA_SITE_ROOT`: the folder holding `pkg/` (wasm, JS, CSS) built by `scripts/build.sh`.
    pub site_root: PathBuf,
    pub limits: Limits,
    pub auth: AuthSettings,
}

/// Keys accepted in the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    log: Option<String>,
    log_level: Option<String>,
    public_url: Option<String>,
    secret_key: Option<String>,
    site_root: Option<String>,
    max_body_bytes: Option<u64>,
    max_batch_body_bytes: Option<u64>,
    db_max_connections: Option<u64>,
    db_connect_timeout_secs: Option<u64>,
    shutdown_timeout_secs: Option<u64>,
    default_page_size: Option<u64>,
    max_page_size: Option<u64>,
    max_batch_operations: Option<u64>,
    argon2_memory_kib: Option<u64>,
    argon2_iterations: Option<u64>,
    argon2_parallelism: Option<u64>,
    argon2_concurrency: Option<u64>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    signing_key_rotation_secs: Option<u64>,
    lockout_threshold: Option<u64>,
    lockout_secs: Option<u64>,
    lockout_max_secs: Option<u64>,
    rate_limit_ip_per_min: Option<u64>,
    rate_limit_user_per_min: Option<u64>,
    rate_limit_login_per_min: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    webauthn_origins: Option<String>,
    trusted_proxies: Option<String>,
}

/// Looks a setting up: environment first, then the file.
struct Source<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    file: FileConfig,
}

impl Source<'_> {
    fn text(&self, env_name: &str, from_file: fn(&FileConfig) -> Option<String>) -> Option<String> {
        (self.env)(env_name).filter(|v| !v.trim().is_empty()).or_else(|| from_file(&self.file))
    }

    fn number(
        &self,
        env_name: &str,
        from_file: fn(&FileConfig) -> Option<u64>,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, ConfigError> {
        let value = match (self.env)(env_name).filter(|v| !v.trim().is_empty()) {
            Some(text) => Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| ConfigError::new(env_name, format!("'{text}' is not a whole number")))?,
            ),
            None => from_file(&self.file),
        };
        match value {
            Some(n) if n < min || n > max => {
                Err(ConfigError::new(env_name, format!("{n} is out of range ({min}..={max})")))
            }
            other => Ok(other),
        }
    }
}

impl Config {
    /// Loads the configuration from the process environment and the optional file.
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let file = file.map(Path::to_path_buf).or_else(|| env("TESSERA_CONFIG").map(PathBuf::from));
        Self::load(file.as_deref(), &env)
    }

    /// Loads the configuration from `env` (a lookup function, so tests need not touch the process
    /// environment) and the optional TOML file.
    pub fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let src = Source { env, file };

        let addr_text =
            src.text("TESSERA_ADDR", |f| f.addr.clone()).unwrap_or_else(|| "127.0.0.1:3000".into());
        let addr: SocketAddr = addr_text.trim().parse().map_err(|_| {
            ConfigError::new("TESSERA_ADDR", format!("'{addr_text}' is not a socket address (host:port)"))
        })?;

        let data_dir = PathBuf::from(
            src.text("TESSERA_DATA_DIR", |f| f.data_dir.clone()).unwrap_or_else(|| "./data".into()),
        );

        let database_url = src.text("DATABASE_URL", |f| f.database_url.clone());
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
            {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "unsupported scheme (expected postgres://, postgresql:// or sqlite:)",
                ));
            }
        }

        let redis_url = src.text("REDIS_URL", |f| f.redis_url.clone());
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "unsupported scheme (expected redis:// or rediss://)",
                ));
            }
        }

        let log_format = match src.text("TESSERA_LOG", |f| f.log.clone()).as_deref().map(str::trim) {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::new("TESSERA_LOG", format!("'{other}' is not one of: json, pretty")))
            }
        };
        let log_level =
            src.text("TESSERA_LOG_LEVEL", |f| f.log_level.clone()).unwrap_or_else(|| "info".into());

        let public_url = match src.text("TESSERA_PUBLIC_URL", |f| f.public_url.clone()) {
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.len() < "http://x".len()
                {
                    return Err(ConfigError::new(
                        "TESSERA_PUBLIC_URL",
                        format!("'{url}' is not an http(s) URL"),
                    ));
                }
                url
            }
            None => format!("http://localhost:{}", addr.port()),
        };

        let secret_key = src.text("TESSERA_SECRET_KEY", |f| f.secret_key.clone()).map(Secret::new);
        if let Some(key) = &secret_key {
            if key.expose().len() < 32 {
                return Err(ConfigError::new("TESSERA_SECRET_KEY", "must be at least 32 characters"));
            }
        }

        let site_root = PathBuf::from(
            src.text("TESSERA_SITE_ROOT", |f| f.site_root.clone()).unwrap_or_else(|| "target/site".into()),
        );

        let defaults = Limits::default();
        const GIB: u64 = 1024 * 1024 * 1024;
        let limits = Limits {
            max_body_bytes: src
                .number("TESSERA_MAX_BODY_BYTES", |f| f.max_body_bytes, 1024, GIB)?
                .map_or(defaults.max_body_bytes, to_usize),
            max_batch_body_bytes: src
                .number("TESSERA_MAX_BATCH_BODY_BYTES", |f| f.max_batch_body_bytes, 1024, 4 * GIB)?
                .map_or(defaults.max_batch_body_bytes, to_usize),
            db_max_connections: src
                .number("TESSERA_DB_MAX_CONNECTIONS", |f| f.db_max_connections, 1, 1000)?
                .map_or(defaults.db_max_connections, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            db_connect_timeout: src
                .number("TESSERA_DB_CONNECT_TIMEOUT_SECS", |f| f.db_connect_timeout_secs, 1, 600)?
                .map_or(defaults.db_connect_timeout, Duration::from_secs),
            shutdown_timeout: src
                .number("TESSERA_SHUTDOWN_TIMEOUT_SECS", |f| f.shutdown_timeout_secs, 0, 3600)?
                .map_or(defaults.shutdown_timeout, Duration::from_secs),
            default_page_size: src
                .number("TESSERA_DEFAULT_PAGE_SIZE", |f| f.default_page_size, 1, 100_000)?
                .map_or(defaults.default_page_size, |n| i64::try_from(n).unwrap_or(i64::MAX)),
            max_page_size: src
                .number("TESSERA_MAX_PAGE_SIZE", |f| f.max_page_size, 1, 100_000)?
                .map_or(defaults.max_page_size, |n| i64::try_from(n).unwrap_or(i64::MAX)),
            max_batch_operations: src
                .number("TESSERA_MAX_BATCH_OPERATIONS", |f| f.max_batch_operations, 1, 100_000)?
                .map_or(defaults.max_batch_operations, to_usize),
        };
        if limits.default_page_size > limits.max_page_size {
            return Err(ConfigError::new(
                "TESSERA_DEFAULT_PAGE_SIZE",
                "must not exceed TESSERA_MAX_PAGE_SIZE",
            ));
        }

        let auth = load_auth(&src)?;

        Ok(Self {
            addr,
            data_dir,
            database_url: database_url.map(Secret::new),
            redis_url: redis_url.map(Secret::new),
            redis_prefix: src.text("TESSERA_REDIS_PREFIX", |f| f.redis_prefix.clone()),
            log_format,
            log_level,
            public_url,
            secret_key,
            site_root,
            limits,
            auth,
        })
    }

    /// The database URL to connect to: `DATABASE_URL`, or the SQLite file in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite:{}", self.data_dir.join("tessera.db").display()),
        }
    }
}

fn load_auth(src: &Source<'_>) -> Result<AuthSettings, ConfigError> {
    let d = AuthSettings::default();
    let secs = |n: u64| Duration::from_secs(n);
    let u32_of = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let auth = AuthSettings {
        argon2_memory_kib: src
            .number("TESSERA_ARGON2_MEMORY_KIB", |f| f.argon2_memory_kib, 8, 4 * 1024 * 1024)?
            .map_or(d.argon2_memory_kib, u32_of),
        argon2_iterations: src
            .number("TESSERA_ARGON2_ITERATIONS", |f| f.argon2_iterations, 1, 100)?
            .map_or(d.argon2_iterations, u32_of),
        argon2_parallelism: src
            .number("TESSERA_ARGON2_PARALLELISM", |f| f.argon2_parallelism, 1, 64)?
            .map_or(d.argon2_parallelism, u32_of),
        argon2_concurrency: src
            .number("TESSERA_ARGON2_CONCURRENCY", |f| f.argon2_concurrency, 1, 1024)?
            .map_or(d.argon2_concurrency, to_usize),
        access_token_ttl: src
            .number("TESSERA_ACCESS_TOKEN_TTL_SECS", |f| f.access_token_ttl_secs, 10, 24 * 3600)?
            .map_or(d.access_token_ttl, secs),
        refresh_token_ttl: src
            .number("TESSERA_REFRESH_TOKEN_TTL_SECS", |f| f.refresh_token_ttl_secs, 60, 365 * 24 * 3600)?
            .map_or(d.refresh_token_ttl, secs),
        signing_key_rotation: src
            .number(
                "TESSERA_SIGNING_KEY_ROTATION_SECS",
                |f| f.signing_key_rotation_secs,
                60,
                3650 * 24 * 3600,
            )?
            .map_or(d.signing_key_rotation, secs),
        lockout_threshold: src
            .number("TESSERA_LOCKOUT_THRESHOLD", |f| f.lockout_threshold, 1, 1000)?
            .map_or(d.lockout_threshold, u32_of),
        lockout_base: src
            .number("TESSERA_LOCKOUT_SECS", |f| f.lockout_secs, 1, 7 * 24 * 3600)?
            .map_or(d.lockout_base, secs),
        lockout_max: src
            .number("TESSERA_LOCKOUT_MAX_SECS", |f| f.lockout_max_secs, 1, 365 * 24 * 3600)?
            .map_or(d.lockout_max, secs),
        rate_limit_ip_per_min: src
            .number("TESSERA_RATE_LIMIT_IP_PER_MIN", |f| f.rate_limit_ip_per_min, 0, u64::from(u32::MAX))?
            .unwrap_or(d.rate_limit_ip_per_min),
        rate_limit_user_per_min: src
            .number("TESSERA_RATE_LIMIT_USER_PER_MIN", |f| f.rate_limit_user_per_min, 0, u64::from(u32::MAX))?
            .unwrap_or(d.rate_limit_user_per_min),
        rate_limit_login_per_min: src
            .number(
                "TESSERA_RATE_LIMIT_LOGIN_PER_MIN",
                |f| f.rate_limit_login_per_min,
                0,
                u64::from(u32::MAX),
            )?
            .unwrap_or(d.rate_limit_login_per_min),
        trusted_proxies: match src.text("TESSERA_TRUSTED_PROXIES", |f| f.trusted_proxies.clone()) {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|ip| !ip.is_empty())
                .map(|ip| {
                    ip.parse().map_err(|_| {
                        ConfigError::new("TESSERA_TRUSTED_PROXIES", format!("'{ip}' is not an IP address"))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        webauthn_origins: src
            .text("TESSERA_WEBAUTHN_ORIGINS", |f| f.webauthn_origins.clone())
            .map(|list| list.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default(),
        smtp_url: src.text("TESSERA_SMTP_URL", |f| f.smtp_url.clone()).map(Secret::new),
        mail_from: src.text("TESSERA_MAIL_FROM", |f| f.mail_from.clone()).unwrap_or(d.mail_from),
        // Bootstrap credentials come from the environment only (never from a file that is easy to commit).
        admin_user: (src.env)("TESSERA_ADMIN_USER").filter(|v| !v.trim().is_empty()),
        admin_password: (src.env)("TESSERA_ADMIN_PASSWORD").filter(|v| !v.is_empty()).map(Secret::new),
        admin_email: (src.env)("TESSERA_ADMIN_EMAIL").filter(|v| !v.trim().is_empty()),
    };
    if auth.lockout_base > auth.lockout_max {
        return Err(ConfigError::new("TESSERA_LOCKOUT_SECS", "must not exceed TESSERA_LOCKOUT_MAX_SECS"));
    }
    // A password alone is fine (`tessera admin create` reads it); a user without a password is not.
    if auth.admin_user.is_some() && auth.admin_password.is_none() {
        return Err(ConfigError::new("TESSERA_ADMIN_USER", "needs TESSERA_ADMIN_PASSWORD as well"));
    }
    if let Some(url) = &auth.smtp_url {
        let text = url.expose();
        if !(text.starts_with("smtp://") || text.starts_with("smtps://")) {
            return Err(ConfigError::new(
                "TESSERA_SMTP_URL",
                "unsupported scheme (expected smtp:// or smtps://)",
            ));
        }
    }
    Ok(auth)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let setting = format!("config file {}", path.display());
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError { setting: setting.clone(), reason: e.to_string() })?;
    toml::from_str(&text).map_err(|e| ConfigError { setting, reason: e.message().to_owned() })
}

/// Removes the password from a URL so it can be shown in logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::load(None, &move |name| map.get(name).cloned())
    }

    #[test]
    fn zero_settings_give_the_embedded_defaults() {
        let config = load(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert!(config.database_url.is_none());
        assert!(config.redis_url.is_none());
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.public_url, "http://localhost:3000");
        assert_eq!(config.effective_database_url(), "sqlite:./data/tessera.db");
        assert_eq!(config.limits, Limits::default());
    }

    #[test]
    fn environment_overrides_defaults() {
        let config = load(&[
            ("TESSERA_ADDR", "0.0.0.0:8080"),
            ("TESSERA_DATA_DIR", "/var/lib/tessera"),
            ("DATABASE_URL", "postgres://u:p@db/tessera"),
            ("REDIS_URL", "redis://cache:6379"),
            ("TESSERA_LOG", "pretty"),
            ("TESSERA_PUBLIC_URL", "https://tessera.example.com/"),
            ("TESSERA_MAX_BODY_BYTES", "2048"),
        ])
        .unwrap();
        assert_eq!(config.addr.port(), 8080);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.public_url, "https://tessera.example.com");
        assert_eq!(config.limits.max_body_bytes, 2048);
        assert_eq!(config.effective_database_url(), "postgres://u:p@db/tessera");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases = [
            ("TESSERA_ADDR", "nonsense", "TESSERA_ADDR: 'nonsense' is not a socket address"),
            ("DATABASE_URL", "mysql://x", "DATABASE_URL: unsupported scheme"),
            ("REDIS_URL", "http://x", "REDIS_URL: unsupported scheme"),
            ("TESSERA_LOG", "xml", "TESSERA_LOG: 'xml' is not one of"),
            ("TESSERA_MAX_BODY_BYTES", "lots", "TESSERA_MAX_BODY_BYTES: 'lots' is not a whole number"),
            ("TESSERA_MAX_BODY_BYTES", "1", "TESSERA_MAX_BODY_BYTES: 1 is out of range"),
            ("TESSERA_SECRET_KEY", "short", "TESSERA_SECRET_KEY: must be at least 32"),
            ("TESSERA_PUBLIC_URL", "ftp://x", "TESSERA_PUBLIC_URL: 'ftp://x' is not an http(s) URL"),
        ];
        for (name, value, expected) in cases {
            let err = load(&[(name, value)]).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{name}={value}: got '{err}'");
        }
    }

    #[test]
    fn file_values_apply_and_environment_wins() {
        let dir = std::env::temp_dir().join(format!("tessera-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tessera.toml");
        std::fs::write(
            &path,
            "addr = \"127.0.0.1:4000\"\ndata_dir = \"/srv/t\"\nshutdown_timeout_secs = 3\n",
        )
        .unwrap();
        let env = |name: &str| (name == "TESSERA_DATA_DIR").then(|| "/env/dir".to_owned());
        let config = Config::load(Some(&path), &env).unwrap();
        assert_eq!(config.addr.port(), 4000);
        assert_eq!(config.data_dir, PathBuf::from("/env/dir"));
        assert_eq!(config.limits.shutdown_timeout, Duration::from_secs(3));

        std::fs::write(&path, "adress = \"typo\"\n").unwrap();
        let err = Config::load(Some(&path), &|_| None).unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secrets_stay_out_of_debug_output_and_urls_are_redacted() {
        let config =
            load(&[("DATABASE_URL", "postgres://u:hunter2@db/t"), ("TESSERA_SECRET_KEY", &"k".repeat(40))])
                .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2") && !debug.contains(&"k".repeat(40)), "{debug}");
        assert_eq!(redact_url("postgres://u:hunter2@db:5432/t"), "postgres://u:***@db:5432/t");
        assert_eq!(redact_url("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(redact_url("sqlite:./data/t.db"), "sqlite:./data/t.db");
    }
}
