//! Roles (`/roles`, `/roles/{id}`). Each write is one transaction with its outbox event and audit entry,
//! and invalidates cached permissions after it commits. System roles cannot be changed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::role_permissions::add_permission;
use super::{role_graph, Permission, RoleNode, MAX_INHERITANCE_DEPTH, OWNER_ROLE};
use crate::auth::Auth;
use crate::eav::input::{required, Fields, Patch};
use crate::eav::schema::is_unique_violation;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::{self, Actor, Change};
use crate::ids::{new_id, WorkspaceId};
use crate::store::{DbRow, Tx};

/// The longest role name.
const MAX_NAME_CHARS: usize = 100;

const ROLE_COLUMNS: &str =
    "id, name, description, is_system_role, is_active, parent_role_id, version, created_at, updated_at";

/// A role with the names of the permissions granted to it directly (not the inherited ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub is_system_role: bool,
    pub is_active: bool,
    pub parent_role_id: Option<Uuid>,
    pub version: i32,
    /// Sorted.
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Role {
    fn from_row(row: &DbRow) -> Result<Self> {
        Ok(Self {
            id: row.uuid("id")?,
            name: row.text("name")?,
            description: row.opt_text("description")?,
            is_system_role: row.bool("is_system_role")?,
            is_active: row.bool("is_active")?,
            parent_role_id: row.opt_uuid("parent_role_id")?,
            version: row.i32("version")?,
            permissions: Vec::new(),
            created_at: row.timestamp("created_at")?,
            updated_at: row.opt_timestamp("updated_at")?,
        })
    }

    /// The API representation.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "is_system_role": self.is_system_role,
            "is_active": self.is_active,
            "parent_role_id": self.parent_role_id,
            "version": self.version,
            "permissions": self.permissions,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

pub(super) fn system_role_error() -> Error {
    Error::Forbidden("system roles cannot be changed".into())
}

/// Appends `(<column> IS NULL OR <column> = <default workspace>)`: what the default workspace sees.
fn push_visible(sql: &mut crate::store::Sql, column: &str) {
    sql.push(&format!("({column} IS NULL OR {column} = ")).bind(WorkspaceId::DEFAULT.0).push(")");
}

/// A role of the default workspace (or a global one), with its permissions; 404 when there is none.
pub(crate) async fn load_role(tx: &mut Tx, id: Uuid) -> Result<Role> {
    let mut sql = tx.sql(&format!("SELECT {ROLE_COLUMNS} FROM roles WHERE id = "));
    sql.bind(id).push(" AND ");
    push_visible(&mut sql, "workspace_id");
    let Some(row) = tx.fetch_optional(&sql).await? else {
        return Err(Error::NotFound(format!("role {id} does not exist")));
    };
    let mut role = Role::from_row(&row)?;
    let mut names = tx.sql(
        "SELECT p.permission_name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id \
         WHERE rp.role_id = ",
    );
    names.bind(id);
    for row in tx.fetch_all(&names).await? {
        role.permissions.push(row.text("permission_name")?);
    }
    role.permissions.sort_unstable();
    Ok(role)
}

/// Checks a role name: trimmed, 1–100 characters, no control characters.
fn check_role_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        Err(FieldError::new("name", ErrorCode::Length, format!("1–{MAX_NAME_CHARS} characters")))
    } else if name.chars().any(char::is_control) {
        Err(FieldError::new("name", ErrorCode::Format, "no control characters"))
    } else {
        Ok(name.to_owned())
    }
}

/// 409 when another role of the workspace already has `name`, ignoring case (`admin` next to the system role
/// `Admin` would only confuse).
async fn ensure_name_free(tx: &mut Tx, name: &str, except: Option<Uuid>) -> Result<()> {
    let mut sql = tx.sql("SELECT id, name FROM roles WHERE ");
    push_visible(&mut sql, "workspace_id");
    let wanted = name.to_lowercase();
    for row in tx.fetch_all(&sql).await? {
        let existing = row.text("name")?;
        if Some(row.uuid("id")?) != except && existing.to_lowercase() == wanted {
            return Err(Error::Duplicate(format!("a role named '{existing}' already exists")));
        }
    }
    Ok(())
}

/// Checks that `parent` can be the parent of `role` (`None` for a role being created): it exists, is not the
/// Owner role, does not make a cycle, and keeps the chain within the inheritance depth.
fn check_parent(graph: &HashMap<Uuid, RoleNode>, role: Option<Uuid>, parent: Uuid) -> Result<(), FieldError> {
    let field = "parent_role_id";
    if !graph.contains_key(&parent) {
        return Err(FieldError::new(field, ErrorCode::ForeignKey, format!("role {parent} does not exist")));
    }
    if parent == OWNER_ROLE {
        return Err(FieldError::new(field, ErrorCode::Hierarchy, "the Owner role cannot be inherited"));
    }
    let mut depth = 0;
    let mut current = Some(parent);
    while let Some(id) = current {
        if Some(id) == role {
            return Err(FieldError::new(field, ErrorCode::Hierarchy, "a role cannot inherit from itself"));
        }
        depth += 1;
        if depth > MAX_INHERITANCE_DEPTH {
            return Err(FieldError::new(
                field,
                ErrorCode::Hierarchy,
                format!("inheritance is limited to {MAX_INHERITANCE_DEPTH} levels"),
            ));
        }
        current = graph.get(&id).and_then(|node| node.parent);
    }
    Ok(())
}

/// Reads an optional array of strings; wrong types are reported on `name[i]`.
fn string_list(f: &mut Fields<'_>, name: &'static str) -> Vec<String> {
    match f.raw(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(s) => out.push(s.to_owned()),
                    None => {
                        let path = format!("{}[{i}]", f.path(name));
                        f.error(FieldError::new(path, ErrorCode::Type, "expected a string"));
                    }
                }
            }
            out
        }
        Some(_) => {
            let path = f.path(name);
            f.error(FieldError::new(path, ErrorCode::Type, "expected an array of permission names"));
            Vec::new()
        }
    }
}

pub(super) async fn bump_role_version(tx: &mut Tx, actor: &Actor, role_id: Uuid) -> Result<()> {
    let mut sql = tx.sql("UPDATE roles SET version = version + 1, updated_at = ");
    sql.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id).push(" WHERE id = ").bind(role_id);
    tx.execute(&sql).await?;
    Ok(())
}

/// The outbox event and audit entry of a change to a role.
pub(super) async fn record_role(
    tx: &mut Tx,
    actor: &Actor,
    event_type: &str,
    role_id: Uuid,
    data: Value,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let change = Change {
        workspace: WorkspaceId::DEFAULT,
        event_type,
        aggregate_type: "role",
        aggregate_id: role_id,
        data,
        before,
        after,
    };
    events::record(tx, actor, change).await?;
    Ok(())
}

impl Auth {
    /// `GET /roles`: system roles first (Owner, Admin, Editor, Viewer), then the others by name.
    pub async fn list_roles(&self) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        let mut sql = tx.sql(&format!("SELECT {ROLE_COLUMNS} FROM roles WHERE "));
        push_visible(&mut sql, "workspace_id");
        let mut roles = Vec::new();
        for row in tx.fetch_all(&sql).await? {
            roles.push(Role::from_row(&row)?);
        }
        let mut names = tx.sql(
            "SELECT rp.role_id, p.permission_name FROM role_permissions rp \
             JOIN permissions p ON p.id = rp.permission_id JOIN roles r ON r.id = rp.role_id WHERE ",
        );
        push_visible(&mut names, "r.workspace_id");
        let mut granted: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in tx.fetch_all(&names).await? {
            granted.entry(row.uuid("role_id")?).or_default().push(row.text("permission_name")?);
        }
        tx.commit().await?;
        for role in &mut roles {
            if let Some(mut permissions) = granted.remove(&role.id) {
                permissions.sort_unstable();
                role.permissions = permissions;
            }
        }
        roles.sort_by(|a, b| list_order(a).cmp(&list_order(b)));
        Ok(json!({ "items": roles.iter().map(Role::to_json).collect::<Vec<_>>() }))
    }

    /// `GET /roles/{id}`.
    pub async fn get_role(&self, id: Uuid) -> Result<Value> {
        let mut tx = self.db.begin_read().await?;
        let role = load_role(&mut tx, id).await?;
        tx.commit().await?;
        Ok(role.to_json())
    }

    /// `POST /roles` with `{"name", "description"?, "parent_role_id"?, "permissions"?: [names]}`.
    pub async fn create_role(&self, actor: &Actor, body: &Value) -> Result<Value> {
        let mut f = Fields::new(body, "")?;
        let name = f.string("name");
        let name = required(&mut f, "name", name);
        let description = f.string("description");
        let parent = f.uuid("parent_role_id");
        let names = string_list(&mut f, "permissions");
        f.finish()?;
        let mut invalid = Vec::new();
        let name = name.and_then(|n| check_role_name(&n).map_err(|e| invalid.push(e)).ok());
        let mut permissions: Vec<Permission> = Vec::with_capacity(names.len());
        for (i, text) in names.iter().enumerate() {
            match Permission::parse(text) {
                Ok(p) => {
                    if !permissions.contains(&p) {
                        permissions.push(p);
                    }
                }
                Err(e) => invalid.push(FieldError { field: format!("permissions[{i}]"), ..e }),
            }
        }
        let description =
            description.given().flatten().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        let parent = parent.given().flatten();
        let handed_out: Vec<String> = permissions.iter().map(|p| p.as_str().to_owned()).collect();
        self.ensure_can_hand_out(actor, &handed_out).await?;
        if let Some(parent) = parent {
            self.ensure_can_hand_out_role(actor, parent).await?;
        }

        let mut tx = self.db.begin().await?;
        if let Some(parent) = parent {
            let graph = role_graph(&mut tx).await?;
            if let Err(e) = check_parent(&graph, None, parent) {
                invalid.push(e);
            }
        }
        if !invalid.is_empty() {
            return Err(Error::Validation(invalid));
        }
        let Some(name) = name else {
            return Err(Error::invalid("name", ErrorCode::Required, "'name' is required"));
        };
        ensure_name_free(&mut tx, &name, None).await?;
        let id = new_id();
        let mut insert = tx.sql(
            "INSERT INTO roles (id, workspace_id, name, description, is_system_role, is_active, \
             parent_role_id, version, created_at, created_by) VALUES (",
        );
        insert.bind(id).push(", NULL, ").bind(name.clone()).push(", ").bind(description).push(", ");
        insert.bind(false).push(", ").bind(true).push(", ").bind(parent).push(", 1, ").bind(Utc::now());
        insert.push(", ").bind(actor.user_id).push(")");
        if let Err(e) = tx.execute(&insert).await.map_err(Error::from) {
            return Err(if is_unique_violation(&e) {
                Error::Duplicate(format!("a role named '{name}' already exists"))
            } else {
                e
            });
        }
        for permission in &permissions {
            add_permission(&mut tx, actor, id, permission).await?;
        }
        let role = load_role(&mut tx, id).await?;
        let data = json!({ "role_id": id, "name": role.name });
        record_role(&mut tx, actor, "RoleCreated", id, data, None, Some(role.to_json())).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(role.to_json())
    }

    /// `PATCH /roles/{id}` with `{"version"?, "name"?, "description"?, "is_active"?, "parent_role_id"?}`;
    /// a `version` other than the current one is a 409.
    pub async fn update_role(&self, actor: &Actor, id: Uuid, body: &Value) -> Result<Value> {
        let mut f = Fields::new(body, "")?;
        let version = f.i32("version");
        let name = f.string("name");
        let description = f.string("description");
        let is_active = f.bool("is_active");
        let parent = f.uuid("parent_role_id");
        f.finish()?;
        if let Patch::Set(parent) = &parent {
            self.ensure_can_hand_out_role(actor, *parent).await?;
        }

        let mut tx = self.db.begin().await?;
        let before = load_role(&mut tx, id).await?;
        if before.is_system_role {
            return Err(system_role_error());
        }
        if let Patch::Set(v) = version {
            if v != before.version {
                return Err(Error::Conflict {
                    detail: format!("role '{}' is at version {}, not {v}", before.name, before.version),
                    current: Some(Box::new(before.to_json())),
                });
            }
        }
        let mut invalid = Vec::new();
        let name = match name {
            Patch::Set(n) => check_role_name(&n).map_err(|e| invalid.push(e)).ok(),
            Patch::Null => {
                invalid.push(FieldError::new("name", ErrorCode::Required, "a role needs a name"));
                None
            }
            Patch::Absent => None,
        };
        let is_active = is_active.given().map(|active| active.unwrap_or(true));
        let parent = parent.given();
        if let Some(Some(parent)) = parent {
            let graph = role_graph(&mut tx).await?;
            if let Err(e) = check_parent(&graph, Some(id), parent) {
                invalid.push(e);
            }
        }
        if !invalid.is_empty() {
            return Err(Error::Validation(invalid));
        }
        if let Some(name) = &name {
            ensure_name_free(&mut tx, name, Some(id)).await?;
        }

        let mut sql = tx.sql("UPDATE roles SET version = version + 1, updated_at = ");
        sql.bind(Utc::now()).push(", updated_by = ").bind(actor.user_id);
        if let Some(name) = &name {
            sql.push(", name = ").bind(name.clone());
        }
        if let Some(description) = description.given() {
            let description = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
            sql.push(", description = ").bind(description);
        }
        if let Some(active) = is_active {
            sql.push(", is_active = ").bind(active);
        }
        if let Some(parent) = parent {
            sql.push(", parent_role_id = ").bind(parent);
        }
        sql.push(" WHERE id = ").bind(id);
        if let Err(e) = tx.execute(&sql).await.map_err(Error::from) {
            return Err(if is_unique_violation(&e) {
                Error::Duplicate(format!("a role named '{}' already exists", name.unwrap_or_default()))
            } else {
                e
            });
        }
        let after = load_role(&mut tx, id).await?;
        let data = json!({ "role_id": id, "name": after.name, "version": after.version });
        record_role(&mut tx, actor, "RoleUpdated", id, data, Some(before.to_json()), Some(after.to_json()))
            .await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(after.to_json())
    }

    /// `DELETE /roles/{id}`: the role, its permission grants, its assignments and row policies. Refused (422)
    /// while other roles inherit from it.
    pub async fn delete_role(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let role = load_role(&mut tx, id).await?;
        if role.is_system_role {
            return Err(system_role_error());
        }
        let mut children = tx.sql("SELECT COUNT(*) AS n FROM roles WHERE parent_role_id = ");
        children.bind(id);
        let n = tx.fetch_optional(&children).await?.map(|r| r.i64("n")).transpose()?.unwrap_or(0);
        if n > 0 {
            return Err(Error::invalid(
                "id",
                ErrorCode::Hierarchy,
                format!("{n} role(s) inherit from '{}'; change their parent first", role.name),
            ));
        }
        let mut removed = 0;
        for statement in [
            "DELETE FROM row_policies WHERE role_id = ",
            "DELETE FROM role_permissions WHERE role_id = ",
            "DELETE FROM user_roles WHERE role_id = ",
            "DELETE FROM roles WHERE id = ",
        ] {
            let mut sql = tx.sql(statement);
            sql.bind(id);
            let rows = tx.execute(&sql).await?;
            if statement.starts_with("DELETE FROM user_roles") {
                removed = rows;
            }
        }
        let data = json!({ "role_id": id, "name": role.name, "assignments_removed": removed });
        record_role(&mut tx, actor, "RoleDeleted", id, data, Some(role.to_json()), None).await?;
        tx.commit().await?;
        self.invalidate_permissions().await;
        Ok(())
    }
}

/// Where a role appears in `GET /roles`: system roles in seed order, then the others by name.
fn list_order(role: &Role) -> (bool, &str, Uuid) {
    (!role.is_system_role, if role.is_system_role { "" } else { role.name.as_str() }, role.id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn graph(edges: &[(u128, Option<u128>)]) -> HashMap<Uuid, RoleNode> {
        edges
            .iter()
            .map(|&(role, parent)| {
                (Uuid::from_u128(role), RoleNode { parent: parent.map(Uuid::from_u128), is_active: true })
            })
            .collect()
    }

    #[test]
    fn role_names_are_trimmed_and_bounded() {
        assert_eq!(check_role_name("  Auditors ").unwrap(), "Auditors");
        assert_eq!(check_role_name(&"é".repeat(100)).unwrap().chars().count(), 100);
        assert_eq!(check_role_name("   ").unwrap_err().code, ErrorCode::Length);
        assert_eq!(check_role_name(&"x".repeat(101)).unwrap_err().code, ErrorCode::Length);
        assert_eq!(check_role_name("a\u{7}b").unwrap_err().code, ErrorCode::Format);
    }

    #[test]
    fn parents_must_exist_and_not_make_cycles() {
        let g = graph(&[(0xa1, None), (1, None), (2, Some(1)), (3, Some(2))]);
        let (one, two, three) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(check_parent(&g, None, three).is_ok());
        assert!(check_parent(&g, Some(three), one).is_ok());
        assert_eq!(check_parent(&g, None, Uuid::from_u128(9)).unwrap_err().code, ErrorCode::ForeignKey);
        assert_eq!(check_parent(&g, Some(one), three).unwrap_err().code, ErrorCode::Hierarchy);
        assert_eq!(check_parent(&g, Some(two), two).unwrap_err().code, ErrorCode::Hierarchy);
        let owner = check_parent(&g, None, OWNER_ROLE).unwrap_err();
        assert_eq!((owner.field.as_str(), owner.code), ("parent_role_id", ErrorCode::Hierarchy));
    }

    #[test]
    fn inheritance_chains_are_bounded() {
        let edges: Vec<(u128, Option<u128>)> =
            (1..=20).map(|n| (n, if n == 1 { None } else { Some(n - 1) })).collect();
        let g = graph(&edges);
        let depth = MAX_INHERITANCE_DEPTH as u128;
        assert!(check_parent(&g, None, Uuid::from_u128(depth)).is_ok());
        assert_eq!(
            check_parent(&g, None, Uuid::from_u128(depth + 1)).unwrap_err().code,
            ErrorCode::Hierarchy
        );
    }

    #[test]
    fn an_existing_cycle_does_not_loop_forever() {
        let g = graph(&[(1, Some(2)), (2, Some(1))]);
        assert!(check_parent(&g, None, Uuid::from_u128(1)).is_err());
    }
}
