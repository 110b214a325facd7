//! Sign-in, sessions and refresh tokens.
//!
//! A sign-in creates a `sessions` row (its own family), a refresh token (opaque, stored as a digest, 7 days)
//! and a 15-minute JWT access token naming the session (`sid`). Refreshing rotates the refresh token; a
//! refresh token used twice means it leaked, so the whole family is revoked. Every request checks its
//! session through the shared cache: revocation writes a tombstone there, so it takes effect on every
//! instance at once (with Redis; the in-process cache serves a single instance).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::lockout::{locked_message, LockState};
use super::users::{audit_user, UserRecord, USER_COLUMNS};
use super::{tokens, Auth, LoginOutcome, Principal};
use crate::error::{Error, Result};
use crate::events::Actor;
use crate::ids::new_id;
use crate::store::Tx;

/// A session created in a transaction, waiting for its access token.
#[derive(Debug)]
pub(crate) struct PendingLogin {
    user: UserRecord,
    session_id: Uuid,
    refresh_token: String,
}

/// The one answer for a wrong password and an unknown user.
pub const INVALID_CREDENTIALS: &str = "invalid username or password";
const INVALID_REFRESH: &str = "invalid, expired or revoked refresh token";

/// How long a positive session check is trusted before the database is asked again.
const SESSION_CHECK_TTL: Duration = Duration::from_secs(60);

fn session_key(id: Uuid) -> String {
    format!("session:{id}")
}

/// The cache keys of a name that belongs to no user: its failure count, its lock, and how many locks it had.
fn unknown_login_keys(login: &str) -> [String; 3] {
    let digest = tokens::digest(login);
    ["count", "until", "locks"].map(|part| format!("lockout:{part}:{digest}"))
}

/// A session as `GET /auth/sessions` lists it.
fn session_json(row: &crate::store::DbRow, current: Option<Uuid>) -> Result<Value> {
    let id = row.uuid("id")?;
    Ok(json!({
        "id": id,
        "auth_method": row.text("auth_method")?,
        "auth_provider": row.opt_text("auth_provider")?,
        "device_info": row.json("device_info")?,
        "ip": row.opt_text("ip")?,
        "user_agent": row.opt_text("user_agent")?,
        "created_at": row.timestamp("created_at")?,
        "last_seen_at": row.opt_timestamp("last_seen_at")?,
        "expires_at": row.timestamp("expires_at")?,
        "current": Some(id) == current,
    }))
}

/// A coarse device description from the user agent (shown in the session list).
fn device_info(user_agent: Option<&str>) -> Value {
    let ua = user_agent.unwrap_or_default();
    let browser = ["Edg/", "OPR/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|needle| ua.contains(*needle))
        .map(|needle| match *needle {
            "Edg/" => "Edge",
            "OPR/" => "Opera",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        });
    let platform = ["Windows", "Android", "iPhone", "iPad", "Mac OS X", "Linux"]
        .iter()
        .find(|needle| ua.contains(*needle))
        .map(|needle| match *needle {
            "Mac OS X" => "macOS",
            "iPhone" | "iPad" => "iOS",
            other => other,
        });
    json!({ "browser": browser, "platform": platform })
}

impl Auth {
    /// `POST /auth/login`: username or e-mail plus password.
    ///
    /// Unknown users and wrong passwords answer the same (`401`, same body), the unknown path still verifies
    /// a dummy hash, and both count failures towards a lock (`429` with the time left, again the same).
    pub async fn login(&self, actor: &Actor, login: &str, password: &str) -> Result<LoginOutcome> {
        let now = Utc::now();
        let key = super::users::login_key(login);
        let user = if key.is_empty() { None } else { self.find_user_by_login(&key).await? };
        let state = match &user {
            Some(user) => LockState {
                failed_attempts: user.failed_login_attempts,
                locked_until: user.locked_until,
                lockout_count: user.lockout_count,
            },
            None => self.unknown_lock_state(&key).await,
        };
        if let Some(remaining) = state.remaining(now) {
            // No password check while locked: the attacker learns nothing and burns no CPU.
            return Err(Error::TooManyRequests { detail: locked_message(remaining), retry_after: remaining });
        }

        let verified =
            self.hasher.verify(user.as_ref().and_then(|u| u.password_hash.as_deref()), password).await?;
        let user_id = user.as_ref().map(|u| u.id);
        let Some(user) = user.filter(|u| verified.ok && u.can_sign_in()) else {
            // A deactivated account answers like a wrong password: it confirms nothing.
            return Err(self.count_failure(actor, &key, user_id, now).await);
        };

        // Hash before the write transaction: argon2 must not run while the (SQLite) write lock is held.
        let rehash = if verified.needs_rehash { Some(self.hasher.hash(password).await?) } else { None };
        let mut tx = self.db.begin().await?;
        // A lock set meanwhile by concurrent failures wins over this (late) success: no guessing in bursts.
        let mut current = tx.sql("SELECT locked_until FROM app_users WHERE id = ");
        current.bind(user.id);
        if tx.backend() == crate::store::Backend::Postgres {
            current.push(" FOR UPDATE");
        }
        let locked_until = match tx.fetch_optional(&current).await? {
            Some(row) => row.opt_timestamp("locked_until")?,
            None => return Err(Error::Unauthenticated(INVALID_CREDENTIALS.into())),
        };
        if let Some(remaining) = (LockState { locked_until, ..LockState::default() }).remaining(Utc::now()) {
            return Err(Error::TooManyRequests { detail: locked_message(remaining), retry_after: remaining });
        }
        let mut reset = tx.sql(
            "UPDATE app_users SET failed_login_attempts = 0, locked_until = NULL, lockout_count = 0 WHERE id = ",
        );
        reset.bind(user.id);
        tx.execute(&reset).await?;
        if let Some(hash) = rehash {
            let mut update = tx.sql("UPDATE app_users SET password_hash = ");
            update.bind(hash).push(" WHERE id = ").bind(user.id);
            tx.execute(&update).await?;
        }
        let pending = self.start_session_in(&mut tx, &user, "password", None, actor).await?;
        tx.commit().await?;
        self.complete_login(pending).await
    }

    /// The lock of a name that belongs to no user. A cache outage counts as "not locked" (logged): Redis
    /// being down must degrade, not fail sign-in.
    async fn unknown_lock_state(&self, key: &str) -> LockState {
        let [_, until_key, _] = unknown_login_keys(key);
        match self.cache.get(&until_key).await {
            Ok(bytes) => {
                let locked_until = bytes.and_then(|b| serde_json::from_slice(&b).ok());
                LockState { locked_until, ..LockState::default() }
            }
            Err(e) => {
                tracing::warn!(error = %e, "lockout counters unavailable: cache down");
                LockState::default()
            }
        }
    }

    /// Counts a failure of a name that belongs to no user with the same rules as for stored users
    /// (`store_failure`), atomically on the cache: a failure while a lock is in force does not count, the
    /// `threshold`-th failure starts the next (doubled) lock and the count starts over.
    async fn count_unknown_failure(&self, key: &str, now: DateTime<Utc>) -> Result<(LockState, bool)> {
        let settings = &self.config.auth;
        let [count_key, until_key, locks_key] = unknown_login_keys(key);
        let keep = settings.lockout_max + Duration::from_secs(3600);
        let (count, _) = self.cache.hit(&count_key, keep).await?;
        let state = self.unknown_lock_state(key).await;
        if state.remaining(now).is_some() {
            return Ok((state, true));
        }
        if count < u64::from(settings.lockout_threshold.max(1)) {
            return Ok((LockState::default(), false));
        }
        let previous_locks = self
            .cache
            .get(&locks_key)
            .await?
            .map_or(0, |b| String::from_utf8_lossy(&b).parse::<i64>().unwrap_or(0));
        let duration = super::lockout::lock_duration(previous_locks, settings);
        let until = now + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::hours(24));
        let bytes = serde_json::to_vec(&until).unwrap_or_default();
        // One lock per burst: concurrent failures that also reached the threshold find it already set.
        if self.cache.set_if_absent(&until_key, &bytes, duration).await? {
            self.cache.set(&locks_key, (previous_locks + 1).to_string().as_bytes(), Some(keep)).await?;
            self.cache.delete(&count_key).await?;
            return Ok((LockState { locked_until: Some(until), ..LockState::default() }, true));
        }
        Ok((self.unknown_lock_state(key).await, true))
    }

    /// Records a failed sign-in (counters, lock, audit) and returns the error to answer with.
    async fn count_failure(
        &self,
        actor: &Actor,
        key: &str,
        user_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Error {
        let stored = match user_id {
            Some(user_id) => self.store_failure(actor, user_id, now).await,
            None => match self.count_unknown_failure(key, now).await {
                Ok(outcome) => Ok(outcome),
                Err(e) => {
                    // The cache is down: answer as for any wrong password (and count nothing).
                    tracing::warn!(error = %e, "lockout counters not stored: cache down");
                    Ok((LockState::default(), false))
                }
            },
        };
        let (next, locked) = match stored {
            Ok(result) => result,
            Err(e) => return e,
        };
        match next.remaining(now) {
            Some(remaining) if locked => {
                Error::TooManyRequests { detail: locked_message(remaining), retry_after: remaining }
            }
            _ => Error::Unauthenticated(INVALID_CREDENTIALS.into()),
        }
    }

    /// Counts a failure against a stored user: read, step and write the counters in one transaction (the row
    /// is locked on PostgreSQL; SQLite serialises writers), so concurrent failures are all counted.
    async fn store_failure(
        &self,
        actor: &Actor,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(LockState, bool)> {
        let mut tx = self.db.begin().await?;
        let mut read =
            tx.sql("SELECT failed_login_attempts, locked_until, lockout_count FROM app_users WHERE id = ");
        read.bind(user_id);
        if tx.backend() == crate::store::Backend::Postgres {
            read.push(" FOR UPDATE");
        }
        let Some(row) = tx.fetch_optional(&read).await? else {
            return Ok((LockState::default(), false));
        };
        let current = LockState {
            failed_attempts: row.i64("failed_login_attempts")?,
            locked_until: row.opt_timestamp("locked_until")?,
            lockout_count: row.i64("lockout_count")?,
        };
        if current.remaining(now).is_some() {
            // Locked meanwhile by a concurrent failure: nothing more to count.
            return Ok((current, true));
        }
        let (next, locked) = current.after_failure(now, &self.config.auth);
        let mut update = tx.sql("UPDATE app_users SET failed_login_attempts = ");
        update.bind(next.failed_attempts).push(", locked_until = ").bind(next.locked_until);
        update.push(", lockout_count = ").bind(next.lockout_count).push(" WHERE id = ").bind(user_id);
        tx.execute(&update).await?;
        let detail = json!({ "method": "password", "failed_attempts": next.failed_attempts });
        audit_user(&mut tx, actor, "LoginFailed", user_id, None, Some(detail)).await?;
        if locked {
            let detail = json!({ "locked_until": next.locked_until, "lockout_count": next.lockout_count });
            audit_user(&mut tx, actor, "AccountLocked", user_id, None, Some(detail)).await?;
        }
        tx.commit().await?;
        Ok((next, locked))
    }

    /// Creates a session, its first refresh token and an access token for `user` (already authenticated).
    pub async fn start_session(
        &self,
        user: &UserRecord,
        method: &str,
        provider: Option<&str>,
        actor: &Actor,
    ) -> Result<LoginOutcome> {
        let mut tx = self.db.begin().await?;
        let pending = self.start_session_in(&mut tx, user, method, provider, actor).await?;
        tx.commit().await?;
        self.complete_login(pending).await
    }

    /// Creates the session and its first refresh token inside `tx`. The access token is issued by
    /// [`Auth::complete_login`] after the commit: issuing may create a signing key, which must not wait for
    /// the write lock this transaction holds (SQLite has one writer).
    pub(crate) async fn start_session_in(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        method: &str,
        provider: Option<&str>,
        actor: &Actor,
    ) -> Result<PendingLogin> {
        let now = Utc::now();
        let session_id = new_id();
        let expires_at =
            now + chrono::Duration::from_std(self.config.auth.refresh_token_ttl).unwrap_or_default();
        let mut insert = tx.sql(
            "INSERT INTO sessions (id, user_id, family_id, auth_method, auth_provider, device_info, ip, user_agent, \
             created_at, last_seen_at, expires_at) VALUES (",
        );
        insert.bind(session_id).push(", ").bind(user.id).push(", ").bind(session_id).push(", ");
        insert.bind(method).push(", ").bind(provider.map(str::to_owned)).push(", ");
        insert.bind(device_info(actor.user_agent.as_deref())).push(", ").bind(actor.ip.clone()).push(", ");
        insert.bind(actor.user_agent.clone()).push(", ").bind(now).push(", ").bind(now).push(", ");
        insert.bind(expires_at).push(")");
        tx.execute(&insert).await?;
        let refresh_token = self.insert_refresh_token(tx, session_id, expires_at).await?.1;
        let signed_in = Actor { user_id: Some(user.id), ..actor.clone() };
        let detail = json!({ "method": method, "provider": provider, "session_id": session_id });
        audit_user(tx, &signed_in, "LoginSucceeded", user.id, None, Some(detail)).await?;
        Ok(PendingLogin { user: user.clone(), session_id, refresh_token })
    }

    /// Issues the access token of a session created by `start_session_in` (after its commit).
    pub(crate) async fn complete_login(&self, pending: PendingLogin) -> Result<LoginOutcome> {
        let PendingLogin { user, session_id, refresh_token } = pending;
        let (access_token, expires_in) = self.keys.issue(user.id, &user.username, session_id).await?;
        Ok(LoginOutcome {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in,
            user: user.summary(),
            session_id,
        })
    }

    async fn insert_refresh_token(
        &self,
        tx: &mut Tx,
        session_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(Uuid, String)> {
        let (token, digest) = tokens::generate("tsr_")?;
        let id = new_id();
        let mut insert =
            tx.sql("INSERT INTO refresh_tokens (id, session_id, token_hash, issued_at, expires_at) VALUES (");
        insert.bind(id).push(", ").bind(session_id).push(", ").bind(digest).push(", ").bind(Utc::now());
        insert.push(", ").bind(expires_at).push(")");
        tx.execute(&insert).await?;
        Ok((id, token))
    }

    /// `POST /auth/refresh`: rotates the refresh token. A token presented a second time revokes its whole
    /// session family (it was stolen or replayed) and is refused.
    pub async fn refresh(&self, actor: &Actor, refresh_token: &str) -> Result<LoginOutcome> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let mut find = tx.sql(
            "SELECT t.id, t.session_id, t.expires_at, t.used_at, s.user_id, s.family_id, s.revoked_at, \
             s.expires_at AS session_expires_at FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.token_hash = ",
        );
        find.bind(tokens::digest(refresh_token));
        let Some(row) = tx.fetch_optional(&find).await? else {
            return Err(Error::Unauthenticated(INVALID_REFRESH.into()));
        };
        let token_id = row.uuid("id")?;
        let session_id = row.uuid("session_id")?;
        let user_id = row.uuid("user_id")?;
        let family_id = row.uuid("family_id")?;
        if row.opt_timestamp("used_at")?.is_some() {
            drop(tx);
            self.revoke_family(actor, user_id, family_id).await?;
            return Err(Error::Unauthenticated(INVALID_REFRESH.into()));
        }
        if row.opt_timestamp("revoked_at")?.is_some()
            || row.timestamp("expires_at")? <= now
            || row.timestamp("session_expires_at")? <= now
        {
            return Err(Error::Unauthenticated(INVALID_REFRESH.into()));
        }
        // Claim the token; a concurrent refresh with the same token finds it used (and is treated as reuse).
        let mut claim = tx.sql("UPDATE refresh_tokens SET used_at = ");
        claim.bind(now).push(" WHERE id = ").bind(token_id).push(" AND used_at IS NULL");
        if tx.execute(&claim).await? != 1 {
            drop(tx);
            self.revoke_family(actor, user_id, family_id).await?;
            return Err(Error::Unauthenticated(INVALID_REFRESH.into()));
        }
        // Read through the transaction: a second pool connection while this one is held can starve the pool.
        let mut read = tx.sql(&format!("SELECT {USER_COLUMNS} FROM app_users WHERE id = "));
        read.bind(user_id);
        let user = match tx.fetch_optional(&read).await?.as_ref().map(UserRecord::from_row).transpose()? {
            Some(user) if user.can_sign_in() => user,
            _ => return Err(Error::Unauthenticated(INVALID_REFRESH.into())),
        };
        let expires_at =
            now + chrono::Duration::from_std(self.config.auth.refresh_token_ttl).unwrap_or_default();
        let (new_id, refresh_token) = self.insert_refresh_token(&mut tx, session_id, expires_at).await?;
        let mut link = tx.sql("UPDATE refresh_tokens SET replaced_by = ");
        link.bind(new_id).push(" WHERE id = ").bind(token_id);
        tx.execute(&link).await?;
        let mut seen = tx.sql("UPDATE sessions SET last_seen_at = ");
        seen.bind(now).push(", expires_at = ").bind(expires_at).push(" WHERE id = ").bind(session_id);
        tx.execute(&seen).await?;
        tx.commit().await?;
        self.complete_login(PendingLogin { user, session_id, refresh_token }).await
    }

    async fn revoke_family(&self, actor: &Actor, user_id: Uuid, family_id: Uuid) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let mut ids = tx.sql("SELECT id FROM sessions WHERE revoked_at IS NULL AND family_id = ");
        ids.bind(family_id);
        let ids: Vec<Uuid> =
            tx.fetch_all(&ids).await?.iter().map(|r| r.uuid("id")).collect::<Result<_, _>>()?;
        let mut revoke = tx.sql("UPDATE sessions SET revoked_at = ");
        revoke.bind(Utc::now()).push(" WHERE revoked_at IS NULL AND family_id = ").bind(family_id);
        tx.execute(&revoke).await?;
        let detail = json!({ "family_id": family_id, "sessions_revoked": ids.len() });
        audit_user(&mut tx, actor, "RefreshTokenReuseDetected", user_id, None, Some(detail)).await?;
        tx.commit().await?;
        self.tombstone(&ids).await
    }

    /// Marks sessions revoked in the shared cache (every instance refuses them from now on).
    /// Best effort: the revocation is committed in the database already; with the cache down, the session
    /// check asks the database (and sees it) once a cached positive answer has expired (≤ 60 s).
    async fn tombstone(&self, ids: &[Uuid]) -> Result<()> {
        let ttl = self.config.auth.refresh_token_ttl;
        for id in ids {
            if let Err(e) = self.cache.set(&session_key(*id), b"revoked", Some(ttl)).await {
                tracing::warn!(error = %e, session = %id, "revocation not propagated to the cache");
            }
        }
        Ok(())
    }

    /// Is this session still valid (not revoked, not expired, user active)? Checked on every request with
    /// an access token; a positive answer is cached briefly, a revocation is a tombstone in the cache.
    pub async fn check_session(&self, session_id: Uuid) -> Result<bool> {
        let key = session_key(session_id);
        match self.cache.get(&key).await {
            Ok(Some(value)) => return Ok(value == b"active"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "session cache unavailable; asking the database"),
        }
        let mut sql = self.db.sql(
            "SELECT s.revoked_at, s.expires_at, u.is_active, u.status FROM sessions s \
             JOIN app_users u ON u.id = s.user_id WHERE s.id = ",
        );
        sql.bind(session_id);
        let Some(row) = self.db.fetch_optional(&sql).await? else { return Ok(false) };
        let valid = row.opt_timestamp("revoked_at")?.is_none()
            && row.timestamp("expires_at")? > Utc::now()
            && row.bool("is_active")?
            && row.text("status")? == "active";
        if valid {
            // set_if_absent: never overwrite a tombstone written meanwhile by a revocation.
            let _ = self.cache.set_if_absent(&key, b"active", SESSION_CHECK_TTL).await;
        }
        Ok(valid)
    }

    /// `POST /auth/logout`: revokes the caller's session.
    pub async fn logout(&self, actor: &Actor, principal: &Principal) -> Result<()> {
        if let Some(session_id) = principal.session_id {
            self.revoke_sessions(actor, principal.user_id, Some(session_id), None).await?;
        }
        Ok(())
    }

    /// Signing out when the access token has expired: the refresh token still names the session, which is
    /// revoked (an unknown token does nothing — signing out never fails).
    pub async fn logout_with_refresh_token(&self, actor: &Actor, refresh_token: &str) -> Result<()> {
        let mut find = self.db.sql(
            "SELECT s.id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE s.revoked_at IS NULL AND t.token_hash = ",
        );
        find.bind(tokens::digest(refresh_token));
        if let Some(row) = self.db.fetch_optional(&find).await? {
            self.revoke_sessions(actor, row.uuid("user_id")?, Some(row.uuid("id")?), None).await?;
        }
        Ok(())
    }

    /// `GET /auth/sessions`: the caller's active sessions, newest first.
    pub async fn list_sessions(&self, principal: &Principal) -> Result<Value> {
        let mut sql = self.db.sql(
            "SELECT id, auth_method, auth_provider, device_info, ip, user_agent, created_at, last_seen_at, \
             expires_at FROM sessions WHERE revoked_at IS NULL AND user_id = ",
        );
        sql.bind(principal.user_id)
            .push(" AND expires_at > ")
            .bind(Utc::now())
            .push(" ORDER BY created_at DESC");
        let items = self
            .db
            .fetch_all(&sql)
            .await?
            .iter()
            .map(|row| session_json(row, principal.session_id))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({ "items": items, "next_cursor": null }))
    }

    /// `DELETE /auth/sessions/{id}`: revokes one of the caller's sessions (404 for anyone else's).
    pub async fn revoke_session(&self, actor: &Actor, principal: &Principal, session_id: Uuid) -> Result<()> {
        let revoked = self.revoke_sessions(actor, principal.user_id, Some(session_id), None).await?;
        if revoked == 0 {
            return Err(Error::NotFound(format!("no active session {session_id}")));
        }
        Ok(())
    }

    /// `DELETE /auth/sessions`: revokes all the caller's sessions but the current one.
    pub async fn revoke_other_sessions(&self, actor: &Actor, principal: &Principal) -> Result<u64> {
        self.revoke_sessions(actor, principal.user_id, None, principal.session_id).await
    }

    /// Revokes every session of a user (password reset, deactivation).
    pub(crate) async fn revoke_all_sessions(&self, actor: &Actor, user_id: Uuid) -> Result<u64> {
        self.revoke_sessions(actor, user_id, None, None).await
    }

    /// Revokes `only` (one session) or all of a user's sessions except `keep`; returns how many.
    async fn revoke_sessions(
        &self,
        actor: &Actor,
        user_id: Uuid,
        only: Option<Uuid>,
        keep: Option<Uuid>,
    ) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let ids = revoke_sessions_in(&mut tx, actor, user_id, only, keep).await?;
        tx.commit().await?;
        self.tombstone(&ids).await?;
        Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
    }

    /// Tells every instance that these sessions (revoked in a committed transaction) are gone.
    pub(crate) async fn sessions_revoked(&self, ids: &[Uuid]) -> Result<()> {
        self.tombstone(ids).await
    }

    /// Resolves an access token (JWT) to its principal: signature, expiry, and a live session.
    pub async fn authenticate_access_token(&self, token: &str) -> Result<Principal> {
        let claims = self.keys.verify(token).await?;
        if !self.check_session(claims.sid).await? {
            return Err(Error::Unauthenticated("the session was revoked or has expired".into()));
        }
        Ok(Principal {
            user_id: claims.sub,
            username: claims.username,
            session_id: Some(claims.sid),
            api_token: None,
        })
    }
}

/// Revokes `only` (one session) or all of a user's sessions except `keep` inside `tx`, with the audit entry;
/// returns their ids (the caller propagates them with `sessions_revoked` after the commit).
pub(crate) async fn revoke_sessions_in(
    tx: &mut Tx,
    actor: &Actor,
    user_id: Uuid,
    only: Option<Uuid>,
    keep: Option<Uuid>,
) -> Result<Vec<Uuid>> {
    let mut select = tx.sql("SELECT id FROM sessions WHERE revoked_at IS NULL AND user_id = ");
    select.bind(user_id);
    if let Some(id) = only {
        select.push(" AND id = ").bind(id);
    }
    if let Some(id) = keep {
        select.push(" AND id <> ").bind(id);
    }
    let ids: Vec<Uuid> =
        tx.fetch_all(&select).await?.iter().map(|r| r.uuid("id")).collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(ids);
    }
    let mut revoke = tx.sql("UPDATE sessions SET revoked_at = ");
    revoke.bind(Utc::now()).push(" WHERE revoked_at IS NULL AND ").push_in_uuids("id", ids.clone());
    tx.execute(&revoke).await?;
    let detail = json!({ "sessions": ids });
    audit_user(tx, actor, "SessionsRevoked", user_id, None, Some(detail)).await?;
    Ok(ids)
}
