//! Administration: users (`users:manage`), roles and their permissions (`roles:manage`) and the audit log
//! (`audit:read`). Each function names its permission once and calls `tessera_core::auth::Auth`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub role_id: String,
    pub role_name: String,
    pub expires: Option<String>,
    pub in_force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub is_active: bool,
    pub locked_until: Option<String>,
    pub failed_logins: i64,
    pub has_password: bool,
    pub created: String,
    pub roles: Vec<RoleAssignment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleItem {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_system: bool,
    pub parent: Option<String>,
    pub permissions: Vec<String>,
}

/// A logical table a permission can name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRef {
    pub id: String,
    pub name: String,
}

/// A one-time passkey enrollment link and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentLink {
    pub username: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserItem>,
    /// The roles that can be assigned (for the assignment form).
    pub roles: Vec<RoleItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesPage {
    pub roles: Vec<RoleItem>,
    pub tables: Vec<TableRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: String,
    pub when: String,
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub entity: String,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<String>,
    /// `GET /api/v1/audit/export` with the same filters (the CSV download).
    pub export_href: String,
}

#[cfg(feature = "ssr")]
const USERS: &str = "users:manage";
#[cfg(feature = "ssr")]
const ROLES: &str = "roles:manage";
#[cfg(feature = "ssr")]
const AUDIT: &str = "audit:read";

#[server(prefix = "/fn", endpoint = "admin/users")]
pub async fn get_users() -> Result<UsersPage, AppError> {
    let request = server::Request::capture()?;
    let (principal, _) = request.caller_with(USERS).await?;
    let auth = request.services.auth();
    let display = server::Display::of(&request, &principal).await?;
    let now = chrono::Utc::now().to_rfc3339();
    let assignments = server::items(&auth.list_all_user_roles().await?);
    let mut users = Vec::new();
    for u in server::items(&auth.list_users().await?) {
        let id = server::text(&u["id"]);
        let roles = assignments
            .iter()
            .filter(|a| a["user_id"] == id.as_str())
            .map(|a| RoleAssignment {
                role_id: server::text(&a["role_id"]),
                role_name: server::text(&a["role_name"]),
                expires: display.when(&a["expires_at"]),
                in_force: a["in_force"].as_bool().unwrap_or(false),
            })
            .collect();
        let locked_until = u["locked_until"].as_str().filter(|at| *at > now.as_str()).map(|_| ());
        users.push(UserItem {
            id,
            username: server::text(&u["username"]),
            email: u["email"].as_str().map(str::to_owned),
            display_name: u["display_name"].as_str().map(str::to_owned),
            is_active: u["is_active"].as_bool().unwrap_or(false),
            locked_until: locked_until.and_then(|()| display.when(&u["locked_until"])),
            failed_logins: u["failed_login_attempts"].as_i64().unwrap_or(0),
            has_password: u["has_password"].as_bool().unwrap_or(false),
            created: display.when(&u["created_at"]).unwrap_or_default(),
            roles,
        });
    }
    let roles =
        if auth.is_allowed(&principal, ROLES).await? { server::roles(&request).await? } else { Vec::new() };
    Ok(UsersPage { users, roles })
}

/// Creates a user; without a password, answers a one-time passkey enrollment link to hand over.
#[server(prefix = "/fn", endpoint = "admin/create-user")]
pub async fn create_user(
    username: String,
    email: String,
    display_name: String,
    password: String,
) -> Result<Option<EnrollmentLink>, AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(USERS).await?;
    let auth = request.services.auth();
    let optional = |s: &str| if s.trim().is_empty() { None } else { Some(s.trim().to_owned()) };
    let body = serde_json::json!({
        "username": username.trim(), "email": optional(&email), "display_name": optional(&display_name),
        "password": if password.is_empty() { None } else { Some(password.clone()) },
    });
    let user = auth.create_user_from(&actor, &body).await?;
    if !password.is_empty() {
        return Ok(None);
    }
    let id = server::uuid(&server::text(&user["id"]), "id")?;
    let link = auth.issue_enrollment_token(&actor, id).await?;
    Ok(Some(EnrollmentLink { username: server::text(&user["username"]), url: server::text(&link["url"]) }))
}

/// A new one-time passkey enrollment link for a user (earlier unused links stop working).
#[server(prefix = "/fn", endpoint = "admin/enrollment-link")]
pub async fn issue_enrollment_link(id: String) -> Result<EnrollmentLink, AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(USERS).await?;
    let id = server::uuid(&id, "id")?;
    let auth = request.services.auth();
    let link = auth.issue_enrollment_token(&actor, id).await?;
    let user = auth.get_user(id).await?;
    Ok(EnrollmentLink { username: server::text(&user["username"]), url: server::text(&link["url"]) })
}

/// Activates or deactivates a user (deactivation signs them out everywhere).
#[server(prefix = "/fn", endpoint = "admin/set-user-active")]
pub async fn set_user_active(id: String, active: bool) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(USERS).await?;
    let body = serde_json::json!({ "is_active": active });
    request.services.auth().update_user(&actor, server::uuid(&id, "id")?, &body).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "admin/unlock-user")]
pub async fn unlock_user(id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(USERS).await?;
    request.services.auth().unlock_user(&actor, server::uuid(&id, "id")?).await?;
    Ok(())
}

/// Assigns a role, optionally until the end of a day (`YYYY-MM-DD`).
#[server(prefix = "/fn", endpoint = "admin/assign-role")]
pub async fn assign_role(user_id: String, role_id: String, expires_at: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller_with(ROLES).await?;
    let tz = server::Display::of(&request, &principal).await?.tz;
    let expires_at = super::account::server::end_of_day(&expires_at, "expires_at", tz)?;
    let body = serde_json::json!({ "role_id": role_id.trim(), "expires_at": expires_at });
    request
        .services
        .auth()
        .assign_role(&actor, &principal, server::uuid(&user_id, "user_id")?, &body)
        .await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "admin/unassign-role")]
pub async fn unassign_role(user_id: String, role_id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller_with(ROLES).await?;
    let (user, role) = (server::uuid(&user_id, "user_id")?, server::uuid(&role_id, "role_id")?);
    request.services.auth().unassign_role(&actor, &principal, user, role).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "admin/roles")]
pub async fn get_roles() -> Result<RolesPage, AppError> {
    let request = server::Request::capture()?;
    request.caller_with(ROLES).await?;
    let roles = server::roles(&request).await?;
    let page =
        request.services.eav().list_tables(None, Some(request.services.config.limits.max_page_size)).await?;
    let tables = server::items(&page)
        .iter()
        .map(|t| TableRef { id: server::text(&t["id"]), name: server::text(&t["table_name"]) })
        .collect();
    Ok(RolesPage { roles, tables })
}

#[server(prefix = "/fn", endpoint = "admin/create-role")]
pub async fn create_role(name: String, description: String, parent_role_id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(ROLES).await?;
    let body = serde_json::json!({
        "name": name.trim(),
        "description": if description.trim().is_empty() { None } else { Some(description.trim()) },
        "parent_role_id": if parent_role_id.trim().is_empty() { None } else { Some(parent_role_id.trim()) },
    });
    request.services.auth().create_role(&actor, &body).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "admin/delete-role")]
pub async fn delete_role(id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(ROLES).await?;
    request.services.auth().delete_role(&actor, server::uuid(&id, "id")?).await?;
    Ok(())
}

/// Grants `resource[:table]:action` to a role: `table` (an id or `*`) only for the `table` resource.
#[server(prefix = "/fn", endpoint = "admin/grant")]
pub async fn grant_permission(
    role_id: String,
    resource: String,
    table: String,
    action: String,
) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(ROLES).await?;
    let (resource, table, action) = (resource.trim(), table.trim(), action.trim());
    let permission = if resource == "table" {
        format!("table:{}:{action}", if table.is_empty() { "*" } else { table })
    } else {
        format!("{resource}:{action}")
    };
    let body = serde_json::json!({ "permission": permission });
    request.services.auth().grant_role_permission(&actor, server::uuid(&role_id, "role_id")?, &body).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "admin/revoke")]
pub async fn revoke_permission(role_id: String, permission: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (_, actor) = request.caller_with(ROLES).await?;
    let role = server::uuid(&role_id, "role_id")?;
    request.services.auth().revoke_role_permission(&actor, role, permission.trim()).await?;
    Ok(())
}

/// One page of the audit log, newest first. Empty filters are ignored; dates are `YYYY-MM-DD` (UTC days).
#[server(prefix = "/fn", endpoint = "admin/audit")]
pub async fn get_audit(
    action: String,
    entity_type: String,
    actor_user_id: String,
    from: String,
    to: String,
    cursor: String,
) -> Result<AuditPage, AppError> {
    let request = server::Request::capture()?;
    let (principal, _) = request.caller_with(AUDIT).await?;
    let display = server::Display::of(&request, &principal).await?;
    let filter =
        server::audit_filter(&action, &entity_type, &actor_user_id, &from, &to, &cursor, display.tz)?;
    let auth = request.services.auth();
    let page = auth.audit_page(&filter).await?;
    // Users are shown by name (actors, and user entities) to those who may list users; by id otherwise.
    let names: std::collections::HashMap<String, String> = if auth.is_allowed(&principal, USERS).await? {
        server::items(&auth.list_users().await?)
            .iter()
            .map(|u| (server::text(&u["id"]), server::text(&u["username"])))
            .collect()
    } else {
        std::collections::HashMap::new()
    };
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let items = server::items(&page)
        .iter()
        .map(|e| {
            let details = [("before", &e["before"]), ("after", &e["after"])]
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n");
            AuditItem {
                id: server::text(&e["id"]),
                when: display.when(&e["created_at"]).unwrap_or_default(),
                actor: e["actor_user_id"].as_str().map(name),
                ip: e["ip"].as_str().map(str::to_owned),
                action: server::text(&e["action"]),
                entity: match (e["entity_type"].as_str(), e["entity_id"].as_str()) {
                    (Some("user"), Some(id)) => format!("user {}", name(id)),
                    (kind, id) => format!("{} {}", kind.unwrap_or(""), id.unwrap_or("")),
                },
                details,
            }
        })
        .collect();
    Ok(AuditPage {
        items,
        next_cursor: page["next_cursor"].as_str().map(str::to_owned),
        export_href: server::export_href(&filter),
    })
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    pub use super::super::account::server::uuid;
    pub use super::super::request::{items, text, Display, Request};
    use super::RoleItem;
    use crate::errors::AppError;
    use tessera_core::auth::audit::AuditFilter;

    pub async fn roles(request: &Request) -> Result<Vec<RoleItem>, AppError> {
        let list = request.services.auth().list_roles().await?;
        let all = items(&list);
        let name_of = |id: &str| all.iter().find(|r| r["id"] == id).map(|r| text(&r["name"]));
        Ok(all
            .iter()
            .map(|r| RoleItem {
                id: text(&r["id"]),
                name: text(&r["name"]),
                description: r["description"].as_str().map(str::to_owned),
                is_system: r["is_system_role"].as_bool().unwrap_or(false),
                parent: r["parent_role_id"].as_str().and_then(name_of),
                permissions: r["permissions"]
                    .as_array()
                    .map(|p| {
                        p.iter()
                            .map(|p| p.as_str().map_or_else(|| text(&p["permission_name"]), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// The CSV export of the same filter (`/api/v1/audit/export?…`, RFC 3339 bounds).
    pub fn export_href(filter: &AuditFilter) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(a) = filter.actor_user_id {
            pairs.push(("actor_user_id", a.to_string()));
        }
        if let Some(a) = &filter.action {
            pairs.push(("action", a.clone()));
        }
        if let Some(e) = &filter.entity_type {
            pairs.push(("entity_type", e.clone()));
        }
        if let Some(f) = filter.from {
            pairs.push(("from", f.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        if let Some(t) = filter.to {
            pairs.push(("to", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| {
                format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>())
            })
            .collect();
        if query.is_empty() {
            "/api/v1/audit/export".to_owned()
        } else {
            format!("/api/v1/audit/export?{}", query.join("&"))
        }
    }

    /// The audit filter of the page's form (empty = no filter; dates are whole days in the caller's zone).
    pub fn audit_filter(
        action: &str,
        entity_type: &str,
        actor: &str,
        from: &str,
        to: &str,
        cursor: &str,
        tz: chrono_tz::Tz,
    ) -> Result<AuditFilter, AppError> {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |text: &str, field: &str, plus: i64| {
            tessera_core::locale::day_start(field, text, tz, plus)
                .map_err(|e| AppError::from(tessera_core::Error::BadRequest(vec![e])))
        };
        Ok(AuditFilter {
            actor_user_id: some(actor).map(|a| uuid(&a, "actor_user_id")).transpose()?,
            action: some(action),
            entity_type: some(entity_type),
            entity_id: None,
            from: day(from, "from", 0)?,
            to: day(to, "to", 1)?,
            limit: Some(50),
            cursor: some(cursor),
        })
    }
}
