//! API tokens for automation: scoped (permission patterns the token may use; the user must hold them too),
//! optionally expiring, revocable, stored as a digest and shown once.

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::users::audit_user;
use super::{tokens, Auth, Principal, TokenScope};
use crate::eav::input::{Fields, Patch};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::Actor;
use crate::ids::new_id;

/// The prefix that tells an API token from a JWT in `Authorization: Bearer`.
pub const PREFIX: &str = "tsk_";

fn token_json(row: &crate::store::DbRow) -> Result<Value> {
    Ok(json!({
        "id": row.uuid("id")?,
        "name": row.text("name")?,
        "scopes": row.json("scopes")?,
        "created_at": row.timestamp("created_at")?,
        "expires_at": row.opt_timestamp("expires_at")?,
        "last_used_at": row.opt_timestamp("last_used_at")?,
        "revoked_at": row.opt_timestamp("revoked_at")?,
    }))
}

const COLUMNS: &str = "id, name, scopes, created_at, expires_at, last_used_at, revoked_at";

impl Auth {
    /// `POST /api-tokens` `{"name", "scopes": ["table:*:read", …], "expires_at": RFC 3339 | null}`.
    /// The answer carries `token` once; only its digest is stored.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        principal: &Principal,
        body: &Value,
    ) -> Result<Value> {
        let mut fields = Fields::new(body, "")?;
        let name = fields.string("name");
        let raw_scopes = fields.raw("scopes");
        let expires_at = fields.timestamp("expires_at");
        fields.finish()?;

        let mut errors = Vec::new();
        let name = match name {
            Patch::Set(name) if !name.trim().is_empty() && name.trim().chars().count() <= 100 => {
                name.trim().to_owned()
            }
            _ => {
                errors.push(FieldError::new("name", ErrorCode::Required, "a name of 1–100 characters"));
                String::new()
            }
        };
        let mut scopes = Vec::new();
        match raw_scopes {
            Some(Value::Array(items)) if !items.is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(super::rbac::Permission::parse) {
                        Some(Ok(_)) => scopes.push(item.clone()),
                        Some(Err(e)) => errors.push(FieldError { field: format!("scopes[{i}]"), ..e }),
                        None => {
                            errors.push(FieldError::new(format!("scopes[{i}]"), ErrorCode::Type, "a string"))
                        }
                    }
                }
            }
            _ => errors.push(FieldError::new(
                "scopes",
                ErrorCode::Required,
                "a non-empty array of permissions, e.g. [\"table:*:read\"]",
            )),
        }
        let expires_at = match expires_at {
            Patch::Set(at) if at <= Utc::now() => {
                errors.push(FieldError::new("expires_at", ErrorCode::Range, "must be in the future"));
                None
            }
            Patch::Set(at) => Some(at),
            Patch::Null | Patch::Absent => None,
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (token, digest) = tokens::generate(PREFIX)?;
        let id = new_id();
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let mut insert = tx.sql(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, expires_at, created_at, created_by) \
             VALUES (",
        );
        insert.bind(id).push(", ").bind(principal.user_id).push(", ").bind(name.clone()).push(", ");
        insert.bind(digest).push(", ").bind(Value::Array(scopes.clone())).push(", ").bind(expires_at);
        insert.push(", ").bind(now).push(", ").bind(principal.user_id).push(")");
        tx.execute(&insert).await?;
        let after = json!({ "id": id, "name": name, "scopes": scopes, "expires_at": expires_at });
        audit_user(&mut tx, actor, "ApiTokenCreated", principal.user_id, None, Some(after)).await?;
        tx.commit().await?;
        Ok(json!({
            "id": id, "name": name, "scopes": scopes, "created_at": now, "expires_at": expires_at,
            "last_used_at": null, "revoked_at": null, "token": token,
        }))
    }

    /// `GET /api-tokens`: the caller's tokens (never the secret).
    pub async fn list_api_tokens(&self, principal: &Principal) -> Result<Value> {
        let mut sql = self.db.sql(&format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = "));
        sql.bind(principal.user_id).push(" ORDER BY created_at DESC");
        let items = self.db.fetch_all(&sql).await?.iter().map(token_json).collect::<Result<Vec<_>>>()?;
        Ok(json!({ "items": items, "next_cursor": null }))
    }

    /// `DELETE /api-tokens/{id}`: revokes one of the caller's tokens (404 for anyone else's).
    pub async fn revoke_api_token(&self, actor: &Actor, principal: &Principal, id: Uuid) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let mut revoke = tx.sql("UPDATE api_tokens SET revoked_at = ");
        revoke.bind(Utc::now()).push(" WHERE revoked_at IS NULL AND id = ").bind(id);
        revoke.push(" AND user_id = ").bind(principal.user_id);
        if tx.execute(&revoke).await? == 0 {
            return Err(Error::NotFound(format!("no active API token {id}")));
        }
        audit_user(&mut tx, actor, "ApiTokenRevoked", principal.user_id, None, Some(json!({ "id": id })))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves an API token to its principal (unknown, revoked, expired or a deactivated owner → 401).
    pub async fn authenticate_api_token(&self, token: &str) -> Result<Principal> {
        let invalid = || Error::Unauthenticated("invalid, expired or revoked API token".into());
        let mut sql = self.db.sql(
            "SELECT t.id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, u.id AS user_id, u.username, \
             u.is_active, u.status FROM api_tokens t JOIN app_users u ON u.id = t.user_id WHERE t.token_hash = ",
        );
        sql.bind(tokens::digest(token));
        let Some(row) = self.db.fetch_optional(&sql).await? else { return Err(invalid()) };
        let now = Utc::now();
        if row.opt_timestamp("revoked_at")?.is_some()
            || row.opt_timestamp("expires_at")?.is_some_and(|at| at <= now)
            || !row.bool("is_active")?
            || row.text("status")? != "active"
        {
            return Err(invalid());
        }
        let id = row.uuid("id")?;
        let scopes: Vec<String> = serde_json::from_value(row.json("scopes")?).unwrap_or_default();
        // last_used_at is informative: written at most once a minute per token.
        if row.opt_timestamp("last_used_at")?.is_none_or(|at| now - at > chrono::Duration::minutes(1)) {
            let mut touch = self.db.sql("UPDATE api_tokens SET last_used_at = ");
            touch.bind(now).push(" WHERE id = ").bind(id);
            if let Err(e) = self.db.execute(&touch).await {
                // Bookkeeping only: a busy database must not fail the request.
                tracing::warn!(error = %e, "could not record the API token's last use");
            }
        }
        Ok(Principal {
            user_id: row.uuid("user_id")?,
            username: row.text("username")?,
            session_id: None,
            api_token: Some(TokenScope { id, scopes }),
        })
    }
}
