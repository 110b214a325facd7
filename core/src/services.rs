//! Startup and the shared handle every adapter (REST handlers, server functions, CLI) works through.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::auth::{Auth, AuthSetupError};
use crate::cache::{default_prefix, Cache, CacheError, CacheHealth};
use crate::config::{Config, Secret};
use crate::eav::cursor::CursorCodec;
use crate::eav::query::QueryLimits;
use crate::eav::Eav;
use crate::ids::WorkspaceId;
use crate::store::{Backend, ConnectOptions, Database, StoreError};

/// Why the server could not start. Display is one line naming the setting and the cause.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("TESSERA_DATA_DIR={path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("TESSERA_SECRET_KEY: {0}")]
    SecretKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Auth(#[from] AuthSetupError),
}

/// Everything a request needs: configuration, database, cache. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Database,
    pub cache: Cache,
    secret_key: Secret,
    cursors: Arc<CursorCodec>,
    tables: Arc<crate::eav::schema::TableCache>,
    auth: Auth,
}

/// What the home page shows about the running system (read from the database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub backend: Backend,
    pub migrations_applied: i64,
    pub workspace: String,
    pub cache: String,
}

/// The answer of `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// `ready`, `degraded` (cache unavailable; still serving) or `unavailable` (database unreachable).
    pub status: &'static str,
    pub database: &'static str,
    pub backend: Backend,
    pub cache: CacheHealth,
}

impl Readiness {
    /// Ready or degraded: the instance can serve requests.
    pub fn is_serving(&self) -> bool {
        self.status != "unavailable"
    }
}

impl Services {
    /// Prepares the data directory, opens and migrates the database, connects the cache.
    /// Nothing is served before this returns.
    pub async fn start(config: Config) -> Result<Self, StartupError> {
        prepare_data_dir(&config.data_dir)?;
        let secret_key = match &config.secret_key {
            Some(key) => key.clone(),
            None => load_or_generate_secret(&config.data_dir)?,
        };
        let url = config.effective_database_url();
        let options = ConnectOptions {
            max_connections: config.limits.db_max_connections,
            connect_timeout: config.limits.db_connect_timeout,
        };
        let db = Database::connect(&url, &options).await?;
        db.migrate().await?;
        let cache = match &config.redis_url {
            Some(redis_url) => {
                let prefix = config.redis_prefix.clone().unwrap_or_else(|| default_prefix(&url));
                Cache::redis(redis_url.expose(), &prefix).await?
            }
            None => Cache::memory(),
        };
        Self::from_parts(config, db, cache, secret_key)
    }

    /// Builds services from parts that are already open (tests, the desktop shell).
    pub fn from_parts(
        config: Config,
        db: Database,
        cache: Cache,
        secret_key: Secret,
    ) -> Result<Self, StartupError> {
        let cursors = Arc::new(CursorCodec::new(secret_key.expose().as_bytes()));
        let config = Arc::new(config);
        let auth = Auth::new(config.clone(), db.clone(), cache.clone(), &secret_key)?;
        let tables = Arc::default();
        Ok(Self { config, db, cache, secret_key, cursors, tables, auth })
    }

    /// Authentication, sessions and authorization.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The EAV services of the default workspace (workspaces arrive with the tenancy capability).
    pub fn eav(&self) -> Eav {
        let limits = &self.config.limits;
        Eav::new(
            self.db.clone(),
            self.cache.clone(),
            self.cursors.clone(),
            self.tables.clone(),
            WorkspaceId::DEFAULT,
            QueryLimits { default_page_size: limits.default_page_size, max_page_size: limits.max_page_size },
            limits.max_batch_operations,
        )
    }

    /// Requires `table:<id>:<action>` on the named table and returns `actor` allowed to see masked values in
    /// clear only with `table:<id>:unmask`. A missing table is checked against `table:*:<action>`, so only
    /// callers who may act on every table learn it does not exist (404 later); the refusal names neither the
    /// id nor whether the table exists. REST handlers and server functions both call this.
    pub async fn table_actor(
        &self,
        principal: &crate::auth::Principal,
        mut actor: crate::events::Actor,
        table: &str,
        action: &str,
    ) -> Result<crate::events::Actor, crate::Error> {
        let auth = self.auth();
        let id = self.eav().table_id(table).await?;
        let key = id.map_or_else(|| "*".to_owned(), |id| id.to_string());
        if !auth.is_allowed(principal, &format!("table:{key}:{action}")).await? {
            return Err(crate::Error::Forbidden(format!(
                "missing permission to {action} the table '{table}'"
            )));
        }
        actor.unmask = auth.is_allowed(principal, &format!("table:{key}:unmask")).await?;
        Ok(actor)
    }

    /// The caller's grid layout of a table they may read (see [`crate::auth::Auth::grid_layout`]).
    pub async fn grid_layout(
        &self,
        principal: &crate::auth::Principal,
        actor: crate::events::Actor,
        table: &str,
    ) -> Result<serde_json::Value, crate::Error> {
        let id = self.readable_table_id(principal, actor, table).await?;
        self.auth().grid_layout(principal, id).await
    }

    /// Replaces the caller's grid layout of a table they may read.
    pub async fn set_grid_layout(
        &self,
        principal: &crate::auth::Principal,
        actor: crate::events::Actor,
        table: &str,
        layout: &serde_json::Value,
    ) -> Result<serde_json::Value, crate::Error> {
        let id = self.readable_table_id(principal, actor, table).await?;
        self.auth().set_grid_layout(principal, id, layout).await
    }

    async fn readable_table_id(
        &self,
        principal: &crate::auth::Principal,
        actor: crate::events::Actor,
        table: &str,
    ) -> Result<uuid::Uuid, crate::Error> {
        self.table_actor(principal, actor, table, "read").await?;
        self.eav()
            .table_id(table)
            .await?
            .ok_or_else(|| crate::Error::NotFound(format!("table '{table}' not found")))
    }

    /// The server key (encrypts signing keys; later issues use it).
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// The system summary the home page shows.
    #[tracing::instrument(skip(self))]
    pub async fn status(&self) -> Result<SystemStatus, StoreError> {
        Ok(SystemStatus {
            backend: self.db.backend(),
            migrations_applied: self.db.applied_migrations().await?,
            workspace: self.db.workspace_name(WorkspaceId::DEFAULT).await?.unwrap_or_default(),
            cache: self.cache.kind().to_owned(),
        })
    }

    /// Readiness: the database must answer (within 2 s); the cache is reported but never fails readiness.
    pub async fn readiness(&self) -> Readiness {
        let probe = tokio::time::timeout(std::time::Duration::from_secs(2), self.db.ping()).await;
        let database_ok = matches!(probe, Ok(Ok(())));
        let cache = self.cache.health().await;
        let status = match (database_ok, cache.status) {
            (false, _) => "unavailable",
            (true, "ok") => "ready",
            (true, _) => "degraded",
        };
        Readiness {
            status,
            database: if database_ok { "ok" } else { "unavailable" },
            backend: self.db.backend(),
            cache,
        }
    }
}

fn prepare_data_dir(path: &Path) -> Result<(), StartupError> {
    let fail = |reason: String| StartupError::DataDir { path: path.to_path_buf(), reason };
    std::fs::create_dir_all(path).map_err(|e| fail(e.to_string()))?;
    let probe = path.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("not writable ({e})")))?;
    std::fs::remove_file(&probe).map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// Reads `<data_dir>/secret.key`, creating it (64 hex characters, mode 0600) on first start.
fn load_or_generate_secret(data_dir: &Path) -> Result<Secret, StartupError> {
    let path = data_dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim().to_owned();
        if key.len() < 32 {
            return Err(StartupError::SecretKey(format!("{} is shorter than 32 characters", path.display())));
        }
        return Ok(Secret::new(key));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StartupError::SecretKey(format!("no randomness: {e}")))?;
    let key = hex::encode(bytes);
    write_private(&path, &key).map_err(|e| StartupError::SecretKey(format!("{}: {e}", path.display())))?;
    tracing::warn!(
        path = %path.display(),
        "TESSERA_SECRET_KEY is not set: generated a key in the data directory; \
         several instances must share one key (set TESSERA_SECRET_KEY)"
    );
    Ok(Secret::new(key))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
