//! Users (`app_users`): lookup, creation, administration, password changes and the first-run bootstrap.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{json, Value};
use std::sync::LazyLock;
use uuid::Uuid;

use super::{Auth, Principal, UserSummary};
use crate::eav::input::{Fields, Patch};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::{self, Actor, Change};
use crate::ids::{new_id, WorkspaceId};
use crate::store::{DbRow, Tx};

/// Usernames: `^[a-z0-9][a-z0-9._-]{1,62}$` (spec §5).
static USERNAME: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9._-]{1,62}$"));

/// The columns every user read selects.
pub(crate) const USER_COLUMNS: &str =
    "id, username, email, display_name, password_hash, password_last_changed_at, \
     failed_login_attempts, locked_until, lockout_count, status, is_active, created_at, updated_at";

/// A user as stored (the password hash never leaves `core`).
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub(crate) password_hash: Option<String>,
    pub password_last_changed_at: Option<DateTime<Utc>>,
    pub failed_login_attempts: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub lockout_count: i64,
    pub status: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl UserRecord {
    pub(crate) fn from_row(row: &DbRow) -> Result<Self> {
        Ok(Self {
            id: row.uuid("id")?,
            username: row.text("username")?,
            email: row.opt_text("email")?,
            display_name: row.opt_text("display_name")?,
            password_hash: row.opt_text("password_hash")?,
            password_last_changed_at: row.opt_timestamp("password_last_changed_at")?,
            failed_login_attempts: row.i64("failed_login_attempts")?,
            locked_until: row.opt_timestamp("locked_until")?,
            lockout_count: row.i64("lockout_count")?,
            status: row.text("status")?,
            is_active: row.bool("is_active")?,
            created_at: row.timestamp("created_at")?,
            updated_at: row.opt_timestamp("updated_at")?,
        })
    }

    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            username: self.username.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
        }
    }

    /// May this user sign in at all (active, not deactivated)?
    pub fn can_sign_in(&self) -> bool {
        self.is_active && self.status == "active"
    }

    /// The lock still running at `now`, if any.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }

    /// The API representation (`GET /users/{id}`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "display_name": self.display_name,
            "status": self.status,
            "is_active": self.is_active,
            "has_password": self.password_hash.is_some(),
            "password_last_changed_at": self.password_last_changed_at,
            "failed_login_attempts": self.failed_login_attempts,
            "locked_until": self.locked_until,
            "lockout_count": self.lockout_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Normalizes what a user typed to sign in: trimmed, lower case (usernames and e-mails are stored so).
pub fn login_key(input: &str) -> String {
    input.trim().to_lowercase()
}

/// Checks a username against the naming rule.
pub fn check_username(username: &str) -> Result<(), FieldError> {
    let ok = USERNAME.as_ref().map(|re| re.is_match(username)).unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            ErrorCode::Format,
            "2–63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

/// Checks and normalizes an e-mail address (lower case; a light syntax check: one '@', a dot in the domain).
pub fn normalize_email(email: &str) -> Result<String, FieldError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new("email", ErrorCode::Format, "not an e-mail address"))
    }
}

/// A new user whose fields were checked and whose password was hashed.
#[derive(Debug)]
pub(crate) struct PreparedUser {
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    hash: Option<String>,
}

/// What creating a user needs.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// `None` for passkey-only users (they enroll with a one-time enrollment link).
    pub password: Option<String>,
}

impl Auth {
    /// Finds a user by id.
    pub async fn find_user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        let mut sql = self.db.sql(&format!("SELECT {USER_COLUMNS} FROM app_users WHERE id = "));
        sql.bind(id);
        self.db.fetch_optional(&sql).await?.as_ref().map(UserRecord::from_row).transpose()
    }

    /// Finds a user by what they typed to sign in: username or e-mail (case-insensitive).
    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
        let key = login_key(login);
        let mut sql = self.db.sql(&format!("SELECT {USER_COLUMNS} FROM app_users WHERE username = "));
        sql.bind(key.clone()).push(" OR email = ").bind(key).push(" ORDER BY created_at LIMIT 1");
        self.db.fetch_optional(&sql).await?.as_ref().map(UserRecord::from_row).transpose()
    }

    /// The user a principal stands for; 401 when the user is gone or may no longer sign in.
    pub async fn current_user(&self, principal: &Principal) -> Result<UserRecord> {
        match self.find_user(principal.user_id).await? {
            Some(user) if user.can_sign_in() => Ok(user),
            _ => Err(Error::Unauthenticated("the account no longer exists or is deactivated".into())),
        }
    }

    /// Is there any user yet? (First-run setup is pending while there is none.)
    pub async fn has_users(&self) -> Result<bool> {
        let sql = self.db.sql("SELECT COUNT(*) AS n FROM app_users");
        let row = self.db.fetch_optional(&sql).await?;
        Ok(row.map(|r| r.i64("n")).transpose()?.unwrap_or(0) > 0)
    }

    /// Creates a user (validating name, e-mail and password policy) inside `tx`, with its audit entry.
    /// Checks a new user's fields and hashes the password — no database work, so it runs before the write
    /// transaction (argon2 must not hold SQLite's write lock).
    pub(crate) async fn prepare_user(&self, new: &NewUser) -> Result<PreparedUser> {
        let mut errors = Vec::new();
        let username = login_key(&new.username);
        if let Err(e) = check_username(&username) {
            errors.push(e);
        }
        let email = match new.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(email) => match normalize_email(email) {
                Ok(email) => Some(email),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        if let Some(password) = &new.password {
            let mut inputs = vec![username.as_str()];
            if let Some(email) = &email {
                inputs.push(email.as_str());
            }
            if let Err(e) = super::password::check_policy(password, &inputs) {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let hash = match &new.password {
            Some(password) => Some(self.hasher.hash(password).await?),
            None => None,
        };
        let display_name =
            new.display_name.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned);
        Ok(PreparedUser { username, email, display_name, hash })
    }

    /// Inserts a prepared user inside `tx` (names must still be free), with its audit entry.
    pub(crate) async fn insert_user(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        new: PreparedUser,
    ) -> Result<UserRecord> {
        let PreparedUser { username, email, display_name, hash } = new;
        let mut taken = tx.sql("SELECT username, email FROM app_users WHERE username = ");
        taken.bind(username.clone());
        if let Some(email) = &email {
            taken.push(" OR email = ").bind(email.clone()).push(" OR username = ").bind(email.clone());
        }
        if let Some(row) = tx.fetch_optional(&taken).await? {
            let field = if row.text("username")? == username { "username" } else { "email" };
            return Err(Error::invalid(field, ErrorCode::Unique, format!("this {field} is already taken")));
        }
        let now = Utc::now();
        let id = new_id();
        let mut insert = tx.sql(
            "INSERT INTO app_users (id, username, email, display_name, password_hash, password_last_changed_at, \
             status, is_active, created_at, created_by) VALUES (",
        );
        insert.bind(id).push(", ").bind(username.clone()).push(", ").bind(email.clone()).push(", ");
        insert.bind(display_name.clone()).push(", ").bind(hash.clone()).push(", ");
        insert.bind(hash.as_ref().map(|_| now)).push(", 'active', ");
        insert.bind(true).push(", ").bind(now).push(", ").bind(actor.user_id).push(")");
        if let Err(e) = tx.execute(&insert).await.map_err(Error::from) {
            // Taken by a concurrent insert between the check above and this statement.
            return Err(if crate::eav::schema::is_unique_violation(&e) {
                Error::invalid("username", ErrorCode::Unique, "this username or e-mail is already taken")
            } else {
                e
            });
        }
        let user = UserRecord {
            id,
            username,
            email,
            display_name,
            password_hash: hash,
            password_last_changed_at: None,
            failed_login_attempts: 0,
            locked_until: None,
            lockout_count: 0,
            status: "active".into(),
            is_active: true,
            created_at: now,
            updated_at: None,
        };
        audit_user(tx, actor, "UserCreated", id, None, Some(user.to_json())).await?;
        Ok(user)
    }
}

/// The outbox event and audit entry of a change to a user (auth events go through here too).
pub(crate) async fn audit_user(
    tx: &mut Tx,
    actor: &Actor,
    event_type: &str,
    user_id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let data = json!({ "user_id": user_id });
    let change = Change {
        workspace: WorkspaceId::DEFAULT,
        event_type,
        aggregate_type: "user",
        aggregate_id: user_id,
        data,
        before,
        after,
    };
    events::record(tx, actor, change).await?;
    Ok(())
}

pub use super::rbac::OWNER_ROLE;

const RESET_TTL_MINUTES: i64 = 30;
const SETUP_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn setup_key(digest: &str) -> String {
    format!("setup:{digest}")
}

impl Auth {
    /// Creates a user (no roles).
    pub async fn create_user(&self, actor: &Actor, new: &NewUser) -> Result<UserRecord> {
        let prepared = self.prepare_user(new).await?;
        let mut tx = self.db.begin().await?;
        let user = self.insert_user(&mut tx, actor, prepared).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Creates a user holding the Owner role (`tessera admin create`, `TESSERA_ADMIN_USER`, `/auth/setup`).
    pub async fn create_owner(&self, actor: &Actor, new: &NewUser) -> Result<UserRecord> {
        let prepared = self.prepare_user(new).await?;
        let mut tx = self.db.begin().await?;
        let user = self.insert_user(&mut tx, actor, prepared).await?;
        grant_owner(&mut tx, actor, user.id).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(user)
    }

    /// At start: creates the Owner from `TESSERA_ADMIN_USER`/`_PASSWORD` when no user exists, or else
    /// returns a one-time setup token to print (redeemed at `/setup`). `None` when users exist.
    pub async fn bootstrap(&self) -> Result<Bootstrap> {
        if self.has_users().await? {
            return Ok(Bootstrap::Ready);
        }
        let settings = &self.config.auth;
        if let (Some(username), Some(password)) = (&settings.admin_user, &settings.admin_password) {
            let new = NewUser {
                username: username.clone(),
                email: settings.admin_email.clone(),
                display_name: None,
                password: Some(password.expose().to_owned()),
            };
            let user = self.create_owner(&Actor::system(), &new).await?;
            return Ok(Bootstrap::OwnerCreated(user.username));
        }
        let (token, digest) = super::tokens::generate("tss_")?;
        self.cache.set(&setup_key(&digest), b"1", Some(SETUP_TTL)).await?;
        Ok(Bootstrap::SetupToken(token))
    }

    /// `GET /auth/setup`: is first-run setup pending (no user yet)?
    pub async fn setup_pending(&self) -> Result<bool> {
        Ok(!self.has_users().await?)
    }

    /// `POST /auth/setup` `{"token", "username", "password", "email", "display_name"}`: redeems the setup token
    /// printed at first start, creates the Owner and signs them in (to register a passkey next).
    pub async fn complete_setup(&self, actor: &Actor, body: &Value) -> Result<super::LoginOutcome> {
        let mut fields = Fields::new(body, "")?;
        let token = fields.required_string("token");
        let username = fields.required_string("username");
        let password = fields.required_string("password");
        let email = fields.string("email");
        let display_name = fields.string("display_name");
        fields.finish()?;
        let invalid = || Error::Unauthenticated("invalid or expired setup token".into());
        if self.has_users().await? {
            return Err(Error::Forbidden("setup is already complete".into()));
        }
        let key = setup_key(&super::tokens::digest(&token));
        if self.cache.get(&key).await?.is_none() {
            return Err(invalid());
        }
        let new = NewUser {
            username,
            email: email.given().flatten(),
            display_name: display_name.given().flatten(),
            password: Some(password),
        };
        // Validate before consuming the token, so a weak password does not burn it.
        let prepared = self.prepare_user(&new).await?;
        let mut tx = self.db.begin().await?;
        let user = self.insert_user(&mut tx, actor, prepared).await?;
        if self.cache.take(&key).await?.is_none() {
            return Err(invalid());
        }
        let count = tx.sql("SELECT COUNT(*) AS n FROM app_users");
        if tx.fetch_optional(&count).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0) != 1 {
            return Err(Error::Forbidden("setup is already complete".into()));
        }
        grant_owner(&mut tx, actor, user.id).await?;
        let pending = self.start_session_in(&mut tx, &user, "password", None, actor).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        self.complete_login(pending).await
    }

    /// `GET /users`: every user, by username.
    pub async fn list_users(&self) -> Result<Value> {
        let sql = self.db.sql(&format!("SELECT {USER_COLUMNS} FROM app_users ORDER BY username"));
        let items = self
            .db
            .fetch_all(&sql)
            .await?
            .iter()
            .map(|row| UserRecord::from_row(row).map(|u| u.to_json()))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({ "items": items, "next_cursor": null }))
    }

    /// `GET /users/{id}`.
    pub async fn get_user(&self, id: Uuid) -> Result<Value> {
        self.find_user(id).await?.map(|u| u.to_json()).ok_or_else(|| Error::NotFound(format!("no user {id}")))
    }

    /// `POST /users` `{"username", "email", "display_name", "password"}` (no password: passkey-only, enrolled
    /// through an enrollment link).
    pub async fn create_user_from(&self, actor: &Actor, body: &Value) -> Result<Value> {
        let mut fields = Fields::new(body, "")?;
        let username = fields.required_string("username");
        let email = fields.string("email");
        let display_name = fields.string("display_name");
        let password = fields.string("password");
        fields.finish()?;
        let new = NewUser {
            username,
            email: email.given().flatten(),
            display_name: display_name.given().flatten(),
            password: password.given().flatten(),
        };
        Ok(self.create_user(actor, &new).await?.to_json())
    }

    /// `PATCH /users/{id}` `{"email", "display_name", "is_active"}`. Deactivating revokes every session.
    pub async fn update_user(&self, actor: &Actor, id: Uuid, body: &Value) -> Result<Value> {
        let mut fields = Fields::new(body, "")?;
        let email = fields.string("email");
        let display_name = fields.string("display_name");
        let is_active = fields.bool("is_active");
        fields.finish()?;
        let before = self.find_user(id).await?.ok_or_else(|| Error::NotFound(format!("no user {id}")))?;
        let email = match email.given() {
            Some(Some(email)) => Some(Some(normalize_email(&email).map_err(|e| Error::Validation(vec![e]))?)),
            other => other,
        };
        if is_active == Patch::Set(false) && actor.user_id == Some(id) {
            return Err(Error::invalid("is_active", ErrorCode::Range, "you cannot deactivate yourself"));
        }
        let mut tx = self.db.begin().await?;
        super::rbac::guard_owner_account(&mut tx, actor, id).await?;
        if is_active == Patch::Set(false) {
            super::rbac::keep_an_owner(&mut tx, id).await?;
        }
        let mut update = tx.sql("UPDATE app_users SET updated_at = ");
        update.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id);
        if let Some(email) = email {
            if let Some(address) = &email {
                let mut taken = tx.sql("SELECT id FROM app_users WHERE (email = ");
                taken
                    .bind(address.clone())
                    .push(" OR username = ")
                    .bind(address.clone())
                    .push(") AND id <> ")
                    .bind(id);
                if tx.fetch_optional(&taken).await?.is_some() {
                    return Err(Error::invalid("email", ErrorCode::Unique, "this email is already taken"));
                }
            }
            update.push(", email = ").bind(email);
        }
        if let Some(name) = display_name.given() {
            update.push(", display_name = ").bind(name);
        }
        if let Some(active) = is_active.given() {
            let active = active.unwrap_or(true);
            update.push(", is_active = ").bind(active).push(", status = ").bind(if active {
                "active"
            } else {
                "inactive"
            });
        }
        update.push(" WHERE id = ").bind(id);
        if let Err(e) = tx.execute(&update).await.map_err(Error::from) {
            // The e-mail was taken by a concurrent change between the check above and this statement.
            return Err(if crate::eav::schema::is_unique_violation(&e) {
                Error::invalid("email", ErrorCode::Unique, "this email is already taken")
            } else {
                e
            });
        }
        let mut read = tx.sql(&format!("SELECT {USER_COLUMNS} FROM app_users WHERE id = "));
        read.bind(id);
        let after = match tx.fetch_optional(&read).await? {
            Some(row) => UserRecord::from_row(&row)?,
            None => return Err(Error::NotFound(format!("no user {id}"))),
        };
        audit_user(&mut tx, actor, "UserUpdated", id, Some(before.to_json()), Some(after.to_json())).await?;
        tx.commit().await?;
        if before.can_sign_in() != after.can_sign_in() {
            self.invalidate_permissions().await;
        }
        if before.can_sign_in() && !after.can_sign_in() {
            self.revoke_all_sessions(actor, id).await?;
        }
        Ok(after.to_json())
    }

    /// `POST /users/{id}/unlock`: clears failures and any running lock.
    pub async fn unlock_user(&self, actor: &Actor, id: Uuid) -> Result<Value> {
        let mut tx = self.db.begin().await?;
        let mut update =
            tx.sql("UPDATE app_users SET failed_login_attempts = 0, locked_until = NULL, lockout_count = 0 WHERE id = ");
        update.bind(id);
        if tx.execute(&update).await? == 0 {
            return Err(Error::NotFound(format!("no user {id}")));
        }
        audit_user(&mut tx, actor, "AccountUnlocked", id, None, None).await?;
        tx.commit().await?;
        self.get_user(id).await
    }

    /// `POST /auth/password/change` `{"current_password", "new_password"}`. Other sessions are revoked.
    pub async fn change_password(&self, actor: &Actor, principal: &Principal, body: &Value) -> Result<()> {
        let mut fields = Fields::new(body, "")?;
        let current = fields.required_string("current_password");
        let new = fields.required_string("new_password");
        fields.finish()?;
        let user = self.current_user(principal).await?;
        if user.password_hash.is_some() || !current.is_empty() {
            let verified = self.hasher.verify(user.password_hash.as_deref(), &current).await?;
            if !verified.ok {
                return Err(Error::invalid(
                    "current_password",
                    ErrorCode::Format,
                    "the current password is wrong",
                ));
            }
        }
        let hash = self.new_password_hash(&user, &new).await?;
        let mut tx = self.db.begin().await?;
        store_password(&mut tx, actor, user.id, hash, "PasswordChanged").await?;
        let revoked =
            super::sessions::revoke_sessions_in(&mut tx, actor, user.id, None, principal.session_id).await?;
        tx.commit().await?;
        self.sessions_revoked(&revoked).await
    }

    /// Checks a new password against the policy (and the user's own names) and hashes it.
    async fn new_password_hash(&self, user: &UserRecord, password: &str) -> Result<String> {
        let mut inputs = vec![user.username.as_str()];
        if let Some(email) = &user.email {
            inputs.push(email.as_str());
        }
        super::password::check_policy(password, &inputs)
            .map_err(|e| Error::Validation(vec![FieldError { field: "new_password".into(), ..e }]))?;
        self.hasher.hash(password).await
    }

    /// `POST /auth/password/reset/request` `{"email"}` (or a username): always accepted (202) so the answer
    /// never tells whether the address exists; a user with an e-mail gets a 30-minute single-use link (one a
    /// minute at most).
    pub async fn request_password_reset(&self, actor: &Actor, body: &Value) -> Result<()> {
        let mut fields = Fields::new(body, "")?;
        let email = fields.required_string("email");
        fields.finish()?;
        // The work (lookup, token, mail) happens after the answer, so neither the time taken nor a mail
        // failure tells whether the address exists.
        let auth = self.clone();
        let actor = actor.clone();
        tokio::spawn(async move {
            if let Err(e) = auth.send_password_reset(&actor, &email).await {
                tracing::error!(error = %e, "password reset mail not sent");
            }
        });
        Ok(())
    }

    async fn send_password_reset(&self, actor: &Actor, login: &str) -> Result<()> {
        let Some(user) = self.find_user_by_login(login).await? else { return Ok(()) };
        let Some(address) = user.email.clone().filter(|_| user.can_sign_in()) else { return Ok(()) };
        let now = Utc::now();
        // At most one link a minute per user; earlier links stay valid (a stranger asking again must not
        // be able to cancel the link the user is about to open).
        let mut recent = self.db.sql("SELECT COUNT(*) AS n FROM password_reset_tokens WHERE user_id = ");
        recent.bind(user.id).push(" AND created_at > ").bind(now - chrono::Duration::minutes(1));
        if self.db.fetch_optional(&recent).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0) > 0 {
            return Ok(());
        }
        let (token, digest) = super::tokens::generate("tsp_")?;
        let mut tx = self.db.begin().await?;
        let mut insert = tx.sql(
            "INSERT INTO password_reset_tokens (id, user_id, token_hash, expires_at, created_at, created_by) VALUES (",
        );
        insert.bind(new_id()).push(", ").bind(user.id).push(", ").bind(digest).push(", ");
        insert.bind(now + chrono::Duration::minutes(RESET_TTL_MINUTES)).push(", ").bind(now).push(", ");
        insert.bind(actor.user_id).push(")");
        tx.execute(&insert).await?;
        audit_user(&mut tx, actor, "PasswordResetRequested", user.id, None, None).await?;
        tx.commit().await?;
        let link = format!("{}/reset-password?token={token}", self.config.public_url);
        let text = format!(
            "Hello {},\n\nsomeone asked to reset your Tessera password. To choose a new one, open this link within \
             {RESET_TTL_MINUTES} minutes:\n\n{link}\n\nIf it was not you, ignore this message; your password stays \
             as it is.\n",
            user.display_name.as_deref().unwrap_or(&user.username)
        );
        self.mailer.send(&address, "Reset your Tessera password", &text).await
    }

    /// `POST /auth/password/reset/confirm` `{"token", "new_password"}`: sets the password, burns the token and
    /// revokes every session of the user.
    pub async fn confirm_password_reset(&self, actor: &Actor, body: &Value) -> Result<()> {
        let mut fields = Fields::new(body, "")?;
        let token = fields.required_string("token");
        let password = fields.required_string("new_password");
        fields.finish()?;
        let invalid = || Error::Unauthenticated("invalid or expired reset link".into());
        let mut find = self
            .db
            .sql("SELECT id, user_id, expires_at, used_at FROM password_reset_tokens WHERE token_hash = ");
        find.bind(super::tokens::digest(&token));
        let Some(row) = self.db.fetch_optional(&find).await? else { return Err(invalid()) };
        if row.opt_timestamp("used_at")?.is_some() || row.timestamp("expires_at")? <= Utc::now() {
            return Err(invalid());
        }
        let user = match self.find_user(row.uuid("user_id")?).await? {
            Some(user) if user.can_sign_in() => user,
            _ => return Err(invalid()),
        };
        // Check the policy and hash first: a weak password does not burn the link, and argon2 does not run
        // inside the write transaction.
        let hash = self.new_password_hash(&user, &password).await?;
        // One transaction: the link is burnt, the password set and every session revoked — or nothing.
        let mut tx = self.db.begin().await?;
        let mut burn = tx.sql("UPDATE password_reset_tokens SET used_at = ");
        burn.bind(Utc::now()).push(" WHERE used_at IS NULL AND id = ").bind(row.uuid("id")?);
        if tx.execute(&burn).await? != 1 {
            return Err(invalid());
        }
        store_password(&mut tx, actor, user.id, hash, "PasswordReset").await?;
        let revoked = super::sessions::revoke_sessions_in(&mut tx, actor, user.id, None, None).await?;
        tx.commit().await?;
        self.sessions_revoked(&revoked).await
    }
}

/// Stores a new password hash (clearing lockout counters) with its audit entry.
async fn store_password(tx: &mut Tx, actor: &Actor, user_id: Uuid, hash: String, event: &str) -> Result<()> {
    let mut update = tx.sql("UPDATE app_users SET password_hash = ");
    update.bind(hash).push(", password_last_changed_at = ").bind(Utc::now());
    update
        .push(", failed_login_attempts = 0, locked_until = NULL, lockout_count = 0 WHERE id = ")
        .bind(user_id);
    tx.execute(&update).await?;
    audit_user(tx, actor, event, user_id, None, None).await
}

/// What happened at start (`Auth::bootstrap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// Users exist already.
    Ready,
    /// `TESSERA_ADMIN_USER` was created as the Owner.
    OwnerCreated(String),
    /// No user and no bootstrap credentials: print this token; `/setup` redeems it.
    SetupToken(String),
}

async fn grant_owner(tx: &mut Tx, actor: &Actor, user_id: Uuid) -> Result<()> {
    let mut insert =
        tx.sql("INSERT INTO user_roles (id, user_id, role_id, workspace_id, is_active, created_at, created_by) VALUES (");
    insert.bind(new_id()).push(", ").bind(user_id).push(", ").bind(OWNER_ROLE).push(", NULL, ").bind(true);
    insert.push(", ").bind(Utc::now()).push(", ").bind(actor.user_id).push(")");
    tx.execute(&insert).await?;
    audit_user(tx, actor, "RoleAssigned", user_id, None, Some(json!({ "role_id": OWNER_ROLE }))).await
}
