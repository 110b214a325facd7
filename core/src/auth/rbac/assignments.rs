//! Roles assigned to users (`/users/{id}/roles`). Assignments made here are global (`workspace_id` NULL)
//! until workspaces arrive. Handing out or taking away the Owner role needs a caller who holds it, and the
//! last active Owner keeps it.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::roles::load_role;
use super::OWNER_ROLE;
use crate::auth::{Auth, Principal};
use crate::eav::input::{required, Fields, Patch};
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, Actor, Change};
use crate::ids::{new_id, WorkspaceId};
use crate::store::{DbRow, Sql, Tx};

const ASSIGNMENT_SELECT: &str =
    "SELECT ur.id, ur.user_id, ur.role_id, r.name AS role_name, ur.workspace_id, \
     ur.is_active, ur.expires_at, ur.created_at FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ";

/// One role assigned to one user.
#[derive(Debug, Clone)]
struct Assignment {
    id: Uuid,
    user_id: Uuid,
    role_id: Uuid,
    role_name: String,
    workspace_id: Option<Uuid>,
    is_active: bool,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl Assignment {
    fn from_row(row: &DbRow) -> Result<Self> {
        Ok(Self {
            id: row.uuid("id")?,
            user_id: row.uuid("user_id")?,
            role_id: row.uuid("role_id")?,
            role_name: row.text("role_name")?,
            workspace_id: row.opt_uuid("workspace_id")?,
            is_active: row.bool("is_active")?,
            expires_at: row.opt_timestamp("expires_at")?,
            created_at: row.timestamp("created_at")?,
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "user_id": self.user_id,
            "role_id": self.role_id,
            "role_name": self.role_name,
            "workspace_id": self.workspace_id,
            "is_active": self.is_active,
            "expires_at": self.expires_at,
            "created_at": self.created_at,
            "in_force": self.is_in_force(Utc::now()),
        })
    }

    /// Does the assignment grant its role at `now`?
    fn is_in_force(&self, now: DateTime<Utc>) -> bool {
        self.is_active && self.expires_at.is_none_or(|at| at > now)
    }
}

/// The global assignment of `role_id` to `user_id`, if any.
async fn find_assignment(tx: &mut Tx, user_id: Uuid, role_id: Uuid) -> Result<Option<Assignment>> {
    let mut sql = tx.sql(ASSIGNMENT_SELECT);
    sql.push("ur.user_id = ").bind(user_id).push(" AND ur.role_id = ").bind(role_id);
    sql.push(" AND ur.workspace_id IS NULL");
    tx.fetch_optional(&sql).await?.as_ref().map(Assignment::from_row).transpose()
}

async fn ensure_user(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    let mut sql = tx.sql("SELECT id FROM app_users WHERE id = ");
    sql.bind(user_id);
    match tx.fetch_optional(&sql).await? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("no user {user_id}"))),
    }
}

/// Counts the Owner assignments in force at `now` of active users (add a condition on `ur.user_id`).
fn active_owners(tx: &Tx, now: DateTime<Utc>) -> Sql {
    let mut sql = tx.sql(
        "SELECT COUNT(*) AS n FROM user_roles ur JOIN app_users u ON u.id = ur.user_id WHERE ur.role_id = ",
    );
    sql.bind(OWNER_ROLE).push(" AND ur.is_active = ").bind(true);
    sql.push(" AND u.is_active = ").bind(true).push(" AND u.status = 'active'");
    sql.push(" AND (ur.expires_at IS NULL OR ur.expires_at > ").bind(now).push(")");
    sql.push(" AND (ur.workspace_id IS NULL OR ur.workspace_id = ").bind(WorkspaceId::DEFAULT.0).push(")");
    sql
}

async fn count(tx: &mut Tx, sql: &Sql) -> Result<i64> {
    Ok(tx.fetch_optional(sql).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0))
}

/// Does `user_id` hold the Owner role directly, in force at `now`?
async fn holds_owner(tx: &mut Tx, user_id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let mut sql = active_owners(tx, now);
    sql.push(" AND ur.user_id = ").bind(user_id);
    Ok(count(tx, &sql).await? > 0)
}

/// Only an Owner may change an Owner's account (its e-mail, its activity, its passkey enrollment): otherwise
/// anyone with `users:manage` could take the Owner's place (spec §6: Admin is everything but ownership).
pub(crate) async fn guard_owner_account(tx: &mut Tx, actor: &Actor, target: Uuid) -> Result<()> {
    let now = Utc::now();
    if !holds_owner(tx, target, now).await? {
        return Ok(());
    }
    let caller_is_owner = match actor.user_id {
        Some(caller) => holds_owner(tx, caller, now).await?,
        None => true, // the system itself (CLI, bootstrap)
    };
    if caller_is_owner {
        Ok(())
    } else {
        Err(Error::Forbidden("only an Owner can change an Owner's account".into()))
    }
}

/// Refuses to deactivate the last active Owner (nobody could administer Tessera any more).
pub(crate) async fn keep_an_owner(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    let now = Utc::now();
    if holds_owner(tx, user_id, now).await? && other_owners(tx, user_id, now).await? == 0 {
        return Err(Error::invalid(
            "is_active",
            ErrorCode::Invalid,
            "the last active Owner cannot be deactivated; make someone else an Owner first",
        ));
    }
    Ok(())
}

/// How many users other than `user_id` are active Owners at `now`.
async fn other_owners(tx: &mut Tx, user_id: Uuid, now: DateTime<Utc>) -> Result<i64> {
    let mut sql = active_owners(tx, now);
    sql.push(" AND ur.user_id <> ").bind(user_id);
    count(tx, &sql).await
}

/// Refuses (403) unless the caller holds the Owner role. Takes a row lock on the Owner role first, so that
/// concurrent Owner changes on PostgreSQL queue (SQLite writers are serial anyway) and the last-Owner check
/// that follows cannot be raced.
async fn guard_owner_change(tx: &mut Tx, principal: &Principal, now: DateTime<Utc>) -> Result<()> {
    let mut lock = tx.sql("UPDATE roles SET version = version WHERE id = ");
    lock.bind(OWNER_ROLE);
    tx.execute(&lock).await?;
    if holds_owner(tx, principal.user_id, now).await? {
        Ok(())
    } else {
        Err(Error::Forbidden("only an Owner can assign or remove the Owner role".into()))
    }
}

async fn record_assignment(
    tx: &mut Tx,
    actor: &Actor,
    event_type: &str,
    assignment: &Assignment,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let change = Change {
        workspace: WorkspaceId::DEFAULT,
        event_type,
        aggregate_type: "user_role",
        aggregate_id: assignment.id,
        data: json!({
            "user_id": assignment.user_id,
            "role_id": assignment.role_id,
            "role_name": assignment.role_name,
            "is_active": assignment.is_active,
            "expires_at": assignment.expires_at,
        }),
        before,
        after,
    };
    events::record(tx, actor, change).await?;
    Ok(())
}

impl Auth {
    /// `GET /users/{id}/roles`: every assignment of the user, in force or not, oldest first.
    pub async fn list_user_roles(&self, user_id: Uuid) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        ensure_user(&mut tx, user_id).await?;
        let mut sql = tx.sql(ASSIGNMENT_SELECT);
        sql.push("ur.user_id = ").bind(user_id);
        sql.push(" AND (ur.workspace_id IS NULL OR ur.workspace_id = ").bind(WorkspaceId::DEFAULT.0);
        sql.push(") ORDER BY ur.created_at, ur.id");
        let rows = tx.fetch_all(&sql).await?;
        tx.commit().await?;
        let items = rows
            .iter()
            .map(|row| Assignment::from_row(row).map(|a| a.to_json()))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({ "items": items }))
    }

    /// Every assignment of every user (in force or not), by user then age: one query for user lists.
    pub async fn list_all_user_roles(&self) -> Result<Value> {
        let mut sql = self.db.sql(ASSIGNMENT_SELECT);
        sql.push("(ur.workspace_id IS NULL OR ur.workspace_id = ").bind(WorkspaceId::DEFAULT.0);
        sql.push(") ORDER BY ur.user_id, ur.created_at, ur.id");
        let items = self
            .db
            .fetch_all(&sql)
            .await?
            .iter()
            .map(|row| Assignment::from_row(row).map(|a| a.to_json()))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({ "items": items }))
    }

    /// `POST /users/{id}/roles` with `{"role_id", "expires_at"?: RFC 3339, "is_active"?: bool}`. Assigning a
    /// role the user has already updates its `expires_at` and `is_active` (both back to their defaults when
    /// omitted: no expiry, active). Answers the assignment. The Owner role needs a caller who holds it, and
    /// the last active Owner's assignment cannot be disabled or given an expiry.
    pub async fn assign_role(
        &self,
        actor: &Actor,
        principal: &Principal,
        user_id: Uuid,
        body: &Value,
    ) -> Result<Value> {
        let mut f = Fields::new(body, "")?;
        let role_id = f.uuid("role_id");
        let role_id = required(&mut f, "role_id", role_id);
        let expires_at = f.timestamp("expires_at").given().flatten().map(|at| at.trunc_subsecs(6));
        let is_active = f.bool("is_active");
        f.finish()?;
        let Some(role_id) = role_id else {
            return Err(Error::bad_request("role_id", ErrorCode::Required, "'role_id' is required"));
        };
        let now = Utc::now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid("expires_at", ErrorCode::Range, "must be in the future"));
        }
        let is_active = !matches!(is_active, Patch::Set(false));
        if role_id != OWNER_ROLE {
            // (The Owner role has its own, stricter rule below: only an Owner hands it out.)
            self.ensure_can_hand_out_role(actor, role_id).await?;
        }

        let mut tx = self.db.begin().await?;
        ensure_user(&mut tx, user_id).await?;
        match load_role(&mut tx, role_id).await {
            Ok(_) => {}
            Err(Error::NotFound(message)) => {
                return Err(Error::invalid("role_id", ErrorCode::ForeignKey, message))
            }
            Err(e) => return Err(e),
        }
        if role_id == OWNER_ROLE {
            guard_owner_change(&mut tx, principal, now).await?;
            if (!is_active || expires_at.is_some()) && other_owners(&mut tx, user_id, now).await? == 0 {
                return Err(Error::invalid(
                    if is_active { "expires_at" } else { "is_active" },
                    ErrorCode::Invalid,
                    "the last active Owner must keep the role for good: make someone else Owner first",
                ));
            }
        }
        let before = find_assignment(&mut tx, user_id, role_id).await?;
        let stamp = Utc::now();
        let sql = match &before {
            Some(existing) => {
                let mut sql = tx.sql("UPDATE user_roles SET is_active = ");
                sql.bind(is_active)
                    .push(", expires_at = ")
                    .bind(expires_at)
                    .push(", updated_at = ")
                    .bind(stamp);
                sql.push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(existing.id);
                sql
            }
            None => {
                let mut sql = tx.sql(
                    "INSERT INTO user_roles (id, user_id, role_id, workspace_id, is_active, expires_at, \
                     created_at, created_by) VALUES (",
                );
                sql.bind(new_id()).push(", ").bind(user_id).push(", ").bind(role_id).push(", NULL, ");
                sql.bind(is_active).push(", ").bind(expires_at).push(", ").bind(stamp).push(", ");
                sql.bind(actor.user_id).push(")");
                sql
            }
        };
        if let Err(e) = tx.execute(&sql).await.map_err(Error::from) {
            // The same assignment was made concurrently: the caller may simply retry.
            return Err(if crate::eav::schema::is_unique_violation(&e) {
                Error::Conflict { detail: "the role was assigned concurrently; retry".into(), current: None }
            } else {
                e
            });
        }
        let Some(after) = find_assignment(&mut tx, user_id, role_id).await? else {
            return Err(Error::internal(format!(
                "the assignment of role {role_id} to user {user_id} vanished"
            )));
        };
        let before = before.map(|b| b.to_json());
        record_assignment(&mut tx, actor, "RoleAssigned", &after, before, Some(after.to_json())).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(after.to_json())
    }

    /// `DELETE /users/{id}/roles/{role_id}`: 404 when the user does not have the role. The Owner role needs a
    /// caller who holds it, and the last active Owner keeps it (422).
    pub async fn unassign_role(
        &self,
        actor: &Actor,
        principal: &Principal,
        user_id: Uuid,
        role_id: Uuid,
    ) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if role_id == OWNER_ROLE {
            guard_owner_change(&mut tx, principal, now).await?;
        }
        let Some(before) = find_assignment(&mut tx, user_id, role_id).await? else {
            return Err(Error::NotFound(format!("user {user_id} does not have role {role_id}")));
        };
        if role_id == OWNER_ROLE && before.is_in_force(now) && other_owners(&mut tx, user_id, now).await? == 0
        {
            return Err(Error::invalid(
                "role_id",
                ErrorCode::Invalid,
                "the last active Owner cannot be removed: make someone else Owner first",
            ));
        }
        let mut sql = tx.sql("DELETE FROM user_roles WHERE id = ");
        sql.bind(before.id);
        tx.execute(&sql).await?;
        record_assignment(&mut tx, actor, "RoleUnassigned", &before, Some(before.to_json()), None).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::TimeDelta;

    use super::*;

    fn assignment(is_active: bool, expires_at: Option<DateTime<Utc>>) -> Assignment {
        Assignment {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            role_id: OWNER_ROLE,
            role_name: "Owner".into(),
            workspace_id: None,
            is_active,
            expires_at,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn an_assignment_is_in_force_while_active_and_unexpired() {
        let now = Utc::now();
        let later = now + TimeDelta::seconds(5);
        assert!(assignment(true, None).is_in_force(now));
        assert!(assignment(true, Some(later)).is_in_force(now));
        assert!(!assignment(true, Some(now)).is_in_force(now));
        assert!(!assignment(false, None).is_in_force(now));
    }

    #[test]
    fn the_json_has_the_documented_keys() {
        let json = assignment(true, None).to_json();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "created_at",
                "expires_at",
                "id",
                "in_force",
                "is_active",
                "role_id",
                "role_name",
                "user_id",
                "workspace_id"
            ]
        );
        assert_eq!(json["in_force"], true);
        assert_eq!(assignment(false, None).to_json()["in_force"], false);
    }
}
