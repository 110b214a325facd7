//! The permissions of roles (`/roles/{id}/permissions`) and the permission library (`/permissions`). Grants
//! create the `permissions` row on demand; each change is one transaction with its outbox event and audit
//! entry, bumps the role's version and invalidates cached permissions after it commits.

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::roles::{bump_role_version, load_role, record_role, system_role_error};
use super::Permission;
use crate::auth::Auth;
use crate::eav::input::{required, Fields};
use crate::error::{Error, ErrorCode, Result};
use crate::events::Actor;
use crate::ids::new_id;
use crate::store::{DbRow, Tx};

const PERMISSION_COLUMNS: &str =
    "id, permission_name, resource_type, action_type, description, is_system_permission, created_at";

fn permission_json(row: &DbRow) -> Result<Value> {
    Ok(json!({
        "id": row.uuid("id")?,
        "permission_name": row.text("permission_name")?,
        "resource_type": row.text("resource_type")?,
        "action_type": row.text("action_type")?,
        "description": row.opt_text("description")?,
        "is_system_permission": row.bool("is_system_permission")?,
        "created_at": row.timestamp("created_at")?,
    }))
}

/// `{"items": [...]}` of permission rows, sorted by name (code point order on both backends).
fn permission_list(rows: &[DbRow]) -> Result<Value> {
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push((row.text("permission_name")?, permission_json(row)?));
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(json!({ "items": items.into_iter().map(|(_, item)| item).collect::<Vec<_>>() }))
}

/// The id of the `permissions` row named `permission`, created on demand.
async fn ensure_permission(tx: &mut Tx, actor: &Actor, permission: &Permission) -> Result<Uuid> {
    let mut insert = tx.sql(
        "INSERT INTO permissions (id, permission_name, resource_type, action_type, is_system_permission, \
         version, created_at, created_by) VALUES (",
    );
    insert.bind(new_id()).push(", ").bind(permission.as_str()).push(", ").bind(permission.resource());
    insert.push(", ").bind(permission.action()).push(", ").bind(false).push(", 1, ").bind(Utc::now());
    insert.push(", ").bind(actor.user_id).push(") ON CONFLICT (permission_name) DO NOTHING");
    tx.execute(&insert).await?;
    let mut select = tx.sql("SELECT id FROM permissions WHERE permission_name = ");
    select.bind(permission.as_str());
    match tx.fetch_optional(&select).await? {
        Some(row) => Ok(row.uuid("id")?),
        None => Err(Error::internal(format!("permission {permission} vanished after its insert"))),
    }
}

/// Grants `permission` to `role_id`; false when the role had it already.
pub(super) async fn add_permission(
    tx: &mut Tx,
    actor: &Actor,
    role_id: Uuid,
    permission: &Permission,
) -> Result<bool> {
    let permission_id = ensure_permission(tx, actor, permission).await?;
    let mut insert =
        tx.sql("INSERT INTO role_permissions (id, role_id, permission_id, created_at, created_by) VALUES (");
    insert.bind(new_id()).push(", ").bind(role_id).push(", ").bind(permission_id).push(", ");
    insert.bind(Utc::now()).push(", ").bind(actor.user_id);
    insert.push(") ON CONFLICT (role_id, permission_id) DO NOTHING");
    Ok(tx.execute(&insert).await? > 0)
}

impl Auth {
    /// `GET /roles/{id}/permissions`: the permissions granted to the role directly, by name.
    pub async fn list_role_permissions(&self, role_id: Uuid) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        load_role(&mut tx, role_id).await?;
        let mut sql = tx.sql(
            "SELECT p.id, p.permission_name, p.resource_type, p.action_type, p.description, \
             p.is_system_permission, p.created_at FROM role_permissions rp \
             JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = ",
        );
        sql.bind(role_id);
        let rows = tx.fetch_all(&sql).await?;
        tx.commit().await?;
        permission_list(&rows)
    }

    /// `POST /roles/{id}/permissions` with `{"permission": "table:<id>:read"}`: grants it, creating the
    /// permission on demand, and answers the permission. Granting a permission the role has already changes
    /// nothing (no event, same answer).
    pub async fn grant_role_permission(&self, actor: &Actor, role_id: Uuid, body: &Value) -> Result<Value> {
        let mut f = Fields::new(body, "")?;
        let text = f.string("permission");
        let text = required(&mut f, "permission", text);
        f.finish()?;
        let Some(text) = text else {
            return Err(Error::bad_request("permission", ErrorCode::Required, "'permission' is required"));
        };
        let permission = Permission::parse(&text).map_err(|e| Error::Validation(vec![e]))?;
        self.ensure_can_hand_out(actor, &[permission.as_str().to_owned()]).await?;

        let mut tx = self.db.begin().await?;
        let before = load_role(&mut tx, role_id).await?;
        if before.is_system_role {
            return Err(system_role_error());
        }
        let added = add_permission(&mut tx, actor, role_id, &permission).await?;
        if added {
            bump_role_version(&mut tx, actor, role_id).await?;
            let after = load_role(&mut tx, role_id).await?;
            let data = json!({ "role_id": role_id, "permission": permission.as_str() });
            let (before, after) = (Some(before.to_json()), Some(after.to_json()));
            record_role(&mut tx, actor, "RolePermissionGranted", role_id, data, before, after).await?;
        }
        let mut sql =
            tx.sql(&format!("SELECT {PERMISSION_COLUMNS} FROM permissions WHERE permission_name = "));
        sql.bind(permission.as_str());
        let granted = match tx.fetch_optional(&sql).await? {
            Some(row) => permission_json(&row)?,
            None => return Err(Error::internal(format!("permission {permission} vanished after its grant"))),
        };
        tx.commit().await?;
        if added {
            self.invalidate_permissions().await;
        }
        Ok(granted)
    }

    /// `DELETE /roles/{id}/permissions/{name}`: 404 when the role does not hold that permission directly.
    pub async fn revoke_role_permission(
        &self,
        actor: &Actor,
        role_id: Uuid,
        permission_name: &str,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let before = load_role(&mut tx, role_id).await?;
        if before.is_system_role {
            return Err(system_role_error());
        }
        let mut sql = tx.sql("DELETE FROM role_permissions WHERE role_id = ");
        sql.bind(role_id).push(" AND permission_id IN (SELECT id FROM permissions WHERE permission_name = ");
        sql.bind(permission_name).push(")");
        if tx.execute(&sql).await? == 0 {
            return Err(Error::NotFound(format!(
                "role '{}' has no permission '{permission_name}'",
                before.name
            )));
        }
        bump_role_version(&mut tx, actor, role_id).await?;
        let after = load_role(&mut tx, role_id).await?;
        let data = json!({ "role_id": role_id, "permission": permission_name });
        let (before, after) = (Some(before.to_json()), Some(after.to_json()));
        record_role(&mut tx, actor, "RolePermissionRevoked", role_id, data, before, after).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(())
    }

    /// `GET /permissions`: every permission known (the seeded ones and those granted since), by name.
    pub async fn list_permissions(&self) -> Result<Value> {
        let sql = self.db.sql(&format!("SELECT {PERMISSION_COLUMNS} FROM permissions"));
        let rows = self.db.fetch_all(&sql).await?;
        permission_list(&rows)
    }
}
