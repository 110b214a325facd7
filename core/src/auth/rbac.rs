//! Authorization (spec §6): the permission grammar, the effective permissions of a user, the one check every
//! REST handler and server function goes through ([`Auth::authorize`]), and the roles API.
//!
//! **Effective permissions.** A user's permissions are the names granted to every role assigned to them in
//! the default workspace (`user_roles.workspace_id` NULL, i.e. global, or the default workspace) whose
//! assignment is active and unexpired, whose role is active, plus everything the role inherits: a role also
//! holds its ancestors' permissions through `parent_role_id`, followed at most [`MAX_INHERITANCE_DEPTH`]
//! levels up, stopping at a cycle or at an inactive ancestor (a disabled role grants nothing, not even what
//! it inherits). A deactivated user holds nothing.
//!
//! **Caching and invalidation.** The set is cached in the shared [`Cache`](crate::cache::Cache) (Redis when
//! configured, so every instance sees the same entries) under `rbac:<generation>:<user_id>` as JSON, for at
//! most 60 s and never past the earliest `expires_at` among the grants it was computed from (the entry also
//! carries that instant and is ignored once it passes, so an expiring grant stops working on time whatever
//! the cache does). `<generation>` is the value of the cache key `rbac:generation` (`0` while absent). Every
//! change to roles, role permissions or assignments, and every deactivation of a user, sets it to a fresh
//! UUIDv7 after its transaction commits ([`Auth::invalidate_permissions`]): from then on every instance looks
//! under new keys and recomputes, and the old entries simply expire. If the cache is unreachable the
//! permissions are read from the database on every call (and a failed bump is logged; entries live 60 s at
//! most).
//!
//! **Owner.** Owner and Admin both hold `*`. What only an Owner may do is hand out or take away the Owner
//! role itself ("owner transfer"): [`Auth::assign_role`] and [`Auth::unassign_role`] refuse it unless the
//! caller holds the Owner role directly (an active, unexpired assignment; inheritance does not count, and no
//! role may inherit from Owner). The last active Owner can never be removed or disabled.

mod assignments;
pub(crate) use assignments::{guard_owner_account, keep_an_owner};
mod permission;
mod role_permissions;
mod roles;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{Auth, Principal};
use crate::error::{Error, Result};
use crate::events::Actor;
use crate::ids::{new_id, WorkspaceId};
use crate::store::Tx;

pub use self::permission::{any_grants, grants, Permission, ACTIONS, RESOURCES, WILDCARD};
pub use self::roles::Role;

/// The system roles seeded by the first migration (global, immutable).
pub const OWNER_ROLE: Uuid = Uuid::from_u128(0xa1);
pub const ADMIN_ROLE: Uuid = Uuid::from_u128(0xa2);
pub const EDITOR_ROLE: Uuid = Uuid::from_u128(0xa3);
pub const VIEWER_ROLE: Uuid = Uuid::from_u128(0xa4);

/// How many levels of `parent_role_id` are followed at most.
pub const MAX_INHERITANCE_DEPTH: usize = 16;

/// The cache key whose value names the current generation of cached permission sets.
pub const GENERATION_KEY: &str = "rbac:generation";

/// How long a cached permission set lives at most.
const PERMISSIONS_TTL: Duration = Duration::from_secs(60);

/// A cached permission set.
#[derive(Debug, Serialize, Deserialize)]
struct CachedPermissions {
    permissions: Vec<String>,
    /// When the set stops being valid: 60 s after it was computed, or the earliest grant expiry if sooner.
    valid_until: DateTime<Utc>,
}

/// A permission set read from the database, with the earliest expiry among the grants behind it.
struct Loaded {
    permissions: Vec<String>,
    earliest_expiry: Option<DateTime<Utc>>,
}

/// One role as inheritance sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoleNode {
    pub(crate) parent: Option<Uuid>,
    pub(crate) is_active: bool,
}

impl Auth {
    /// The permission names `user_id` holds (see the module documentation), sorted, cached.
    #[tracing::instrument(skip(self))]
    pub async fn permissions_of(&self, user_id: Uuid) -> Result<Arc<Vec<String>>> {
        let key = match self.cache.get(GENERATION_KEY).await {
            Ok(generation) => {
                let generation =
                    generation.map_or_else(|| "0".to_owned(), |g| String::from_utf8_lossy(&g).into_owned());
                Some(format!("rbac:{generation}:{user_id}"))
            }
            Err(e) => {
                tracing::warn!(error = %e, "permission cache unavailable; reading the database");
                None
            }
        };
        let now = Utc::now();
        if let Some(key) = &key {
            match self.cache.get(key).await {
                Ok(Some(bytes)) => {
                    if let Ok(cached) = serde_json::from_slice::<CachedPermissions>(&bytes) {
                        if cached.valid_until > now {
                            return Ok(Arc::new(cached.permissions));
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "permission cache unavailable; reading the database"),
            }
        }
        // The generation was read before the database: a change committed meanwhile bumps it, so what is
        // stored below under the old generation is never read again.
        let loaded = self.load_permissions(user_id, now).await?;
        if let Some(key) = &key {
            self.cache_permissions(key, &loaded, now).await;
        }
        Ok(Arc::new(loaded.permissions))
    }

    async fn cache_permissions(&self, key: &str, loaded: &Loaded, now: DateTime<Utc>) {
        let longest = TimeDelta::from_std(PERMISSIONS_TTL).unwrap_or(TimeDelta::zero());
        let valid_until = loaded.earliest_expiry.map_or(now + longest, |at| at.min(now + longest));
        let Ok(ttl) = (valid_until - now).to_std() else { return };
        if ttl.is_zero() {
            return;
        }
        let cached = CachedPermissions { permissions: loaded.permissions.clone(), valid_until };
        match serde_json::to_vec(&cached) {
            Ok(bytes) => {
                if let Err(e) = self.cache.set(key, &bytes, Some(ttl)).await {
                    tracing::warn!(error = %e, "could not cache permissions");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not encode permissions"),
        }
    }

    async fn load_permissions(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Loaded> {
        let mut tx = self.db.begin_read().await?;
        let mut sql = tx.sql(
            "SELECT ur.role_id, ur.expires_at FROM user_roles ur JOIN app_users u ON u.id = ur.user_id \
             WHERE ur.user_id = ",
        );
        sql.bind(user_id).push(" AND ur.is_active = ").bind(true);
        sql.push(" AND u.is_active = ").bind(true).push(" AND u.status = 'active'");
        sql.push(" AND (ur.expires_at IS NULL OR ur.expires_at > ").bind(now).push(")");
        sql.push(" AND (ur.workspace_id IS NULL OR ur.workspace_id = ")
            .bind(WorkspaceId::DEFAULT.0)
            .push(")");
        let mut direct = Vec::new();
        let mut earliest_expiry: Option<DateTime<Utc>> = None;
        for row in tx.fetch_all(&sql).await? {
            direct.push(row.uuid("role_id")?);
            if let Some(at) = row.opt_timestamp("expires_at")? {
                earliest_expiry = Some(earliest_expiry.map_or(at, |e| e.min(at)));
            }
        }
        let mut permissions = Vec::new();
        if !direct.is_empty() {
            let graph = role_graph(&mut tx).await?;
            let roles = effective_roles(&direct, &graph);
            if !roles.is_empty() {
                let mut sql = tx.sql(
                    "SELECT DISTINCT p.permission_name FROM role_permissions rp \
                     JOIN permissions p ON p.id = rp.permission_id WHERE ",
                );
                sql.push_in_uuids("rp.role_id", roles);
                for row in tx.fetch_all(&sql).await? {
                    permissions.push(row.text("permission_name")?);
                }
            }
        }
        tx.commit().await?;
        permissions.sort_unstable();
        permissions.dedup();
        Ok(Loaded { permissions, earliest_expiry })
    }

    /// The permissions a role confers: its own and its ancestors'.
    async fn role_confers(&self, role_id: Uuid) -> Result<Vec<String>> {
        let mut tx = self.db.begin_read().await?;
        let graph = role_graph(&mut tx).await?;
        let roles = effective_roles(&[role_id], &graph);
        let mut names = Vec::new();
        if !roles.is_empty() {
            let mut sql = tx.sql(
                "SELECT DISTINCT p.permission_name FROM role_permissions rp \
                 JOIN permissions p ON p.id = rp.permission_id WHERE ",
            );
            sql.push_in_uuids("rp.role_id", roles);
            for row in tx.fetch_all(&sql).await? {
                names.push(row.text("permission_name")?);
            }
        }
        tx.commit().await?;
        Ok(names)
    }

    /// The ceiling of `roles:manage`: nobody hands out — to a role, through a parent role, or through a role
    /// assignment — a permission they do not hold themselves (else `roles:manage` alone would reach `*`).
    /// The system itself (no user) is not limited.
    pub(crate) async fn ensure_can_hand_out(&self, actor: &Actor, permissions: &[String]) -> Result<()> {
        let Some(user_id) = actor.user_id else { return Ok(()) };
        let held = self.permissions_of(user_id).await?;
        match permissions.iter().find(|p| !any_grants(&held, p)) {
            Some(missing) => {
                Err(Error::Forbidden(format!("you cannot hand out {missing}: you do not hold it")))
            }
            None => Ok(()),
        }
    }

    /// [`Auth::ensure_can_hand_out`] for everything a role confers.
    pub(crate) async fn ensure_can_hand_out_role(&self, actor: &Actor, role_id: Uuid) -> Result<()> {
        if actor.user_id.is_none() {
            return Ok(());
        }
        let confers = self.role_confers(role_id).await?;
        self.ensure_can_hand_out(actor, &confers).await
    }

    /// Is `required` allowed to this caller: granted to the user and, for an API token, within its scopes?
    /// For decisions that do not refuse the request (unmasking, what the UI offers).
    pub async fn is_allowed(&self, principal: &Principal, required: &str) -> Result<bool> {
        if let Some(token) = &principal.api_token {
            if !any_grants(&token.scopes, required) {
                return Ok(false);
            }
        }
        let permissions = self.permissions_of(principal.user_id).await?;
        Ok(any_grants(&permissions, required))
    }

    /// The check every handler makes: `Ok` when [`Auth::is_allowed`], otherwise 403 naming the permission.
    pub async fn authorize(&self, principal: &Principal, required: &str) -> Result<()> {
        if self.is_allowed(principal, required).await? {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("missing permission {required}")))
        }
    }

    /// Removes from a `{items: [table…]}` page the tables the caller may not read.
    pub async fn keep_readable_tables(&self, principal: &Principal, page: &mut Value) -> Result<()> {
        if self.is_allowed(principal, "table:*:read").await? {
            return Ok(());
        }
        let Some(items) = page.get_mut("items").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        let mut kept = Vec::with_capacity(items.len());
        for item in items.drain(..) {
            let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
            if self.is_allowed(principal, &format!("table:{id}:read")).await? {
                kept.push(item);
            }
        }
        *items = kept;
        Ok(())
    }

    /// Drops every cached permission set, on every instance: bumps the generation (see the module
    /// documentation). Called after any role, role-permission or assignment change and any user deactivation
    /// has committed.
    pub async fn invalidate_permissions(&self) {
        let generation = new_id().to_string();
        if let Err(e) = self.cache.set(GENERATION_KEY, generation.as_bytes(), None).await {
            tracing::error!(error = %e, "could not invalidate cached permissions; they expire within 60 s");
        }
    }
}

/// Every role of the default workspace (global ones included) with its parent, in one query.
pub(crate) async fn role_graph(tx: &mut Tx) -> Result<HashMap<Uuid, RoleNode>> {
    let mut sql = tx
        .sql("SELECT id, parent_role_id, is_active FROM roles WHERE workspace_id IS NULL OR workspace_id = ");
    sql.bind(WorkspaceId::DEFAULT.0);
    let mut graph = HashMap::new();
    for row in tx.fetch_all(&sql).await? {
        let node = RoleNode { parent: row.opt_uuid("parent_role_id")?, is_active: row.bool("is_active")? };
        graph.insert(row.uuid("id")?, node);
    }
    Ok(graph)
}

/// The roles whose permissions the directly assigned roles `direct` confer: each active role and its active
/// ancestors, at most [`MAX_INHERITANCE_DEPTH`] levels up, stopping at a cycle, an unknown or an inactive
/// role.
pub(crate) fn effective_roles(direct: &[Uuid], graph: &HashMap<Uuid, RoleNode>) -> Vec<Uuid> {
    let mut roles = Vec::new();
    let mut seen = HashSet::new();
    for &start in direct {
        let mut chain = HashSet::new();
        let mut current = Some(start);
        while let Some(id) = current {
            if chain.len() > MAX_INHERITANCE_DEPTH || !chain.insert(id) {
                break;
            }
            let Some(node) = graph.get(&id).filter(|node| node.is_active) else { break };
            if seen.insert(id) {
                roles.push(id);
            }
            current = node.parent;
        }
    }
    roles
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn graph(edges: &[(u128, Option<u128>, bool)]) -> HashMap<Uuid, RoleNode> {
        edges
            .iter()
            .map(|&(role, parent, is_active)| (id(role), RoleNode { parent: parent.map(id), is_active }))
            .collect()
    }

    #[test]
    fn the_system_role_ids_match_the_seed() {
        assert_eq!(OWNER_ROLE.to_string(), "00000000-0000-0000-0000-0000000000a1");
        assert_eq!(ADMIN_ROLE.to_string(), "00000000-0000-0000-0000-0000000000a2");
        assert_eq!(EDITOR_ROLE.to_string(), "00000000-0000-0000-0000-0000000000a3");
        assert_eq!(VIEWER_ROLE.to_string(), "00000000-0000-0000-0000-0000000000a4");
    }

    #[test]
    fn roles_inherit_their_ancestors() {
        let g = graph(&[(1, None, true), (2, Some(1), true), (3, Some(2), true), (4, None, true)]);
        assert_eq!(effective_roles(&[id(3)], &g), vec![id(3), id(2), id(1)]);
        assert_eq!(effective_roles(&[id(3), id(2), id(4)], &g), vec![id(3), id(2), id(1), id(4)]);
        assert!(effective_roles(&[id(9)], &g).is_empty());
    }

    #[test]
    fn an_inactive_role_grants_nothing_and_passes_nothing_on() {
        let g = graph(&[(1, None, true), (2, Some(1), false), (3, Some(2), true)]);
        assert_eq!(effective_roles(&[id(3)], &g), vec![id(3)]);
        assert!(effective_roles(&[id(2)], &g).is_empty());
        assert_eq!(effective_roles(&[id(1)], &g), vec![id(1)]);
    }

    #[test]
    fn cycles_end_the_walk() {
        let g = graph(&[(1, Some(3), true), (2, Some(1), true), (3, Some(2), true)]);
        let mut roles = effective_roles(&[id(1)], &g);
        roles.sort();
        assert_eq!(roles, vec![id(1), id(2), id(3)]);
    }

    #[test]
    fn inheritance_stops_after_the_depth_limit() {
        // 1 ← 2 ← … ← 30: starting at 30, the role itself and 16 ancestors.
        let edges: Vec<(u128, Option<u128>, bool)> =
            (1..=30).map(|n| (n, if n == 1 { None } else { Some(n - 1) }, true)).collect();
        let g = graph(&edges);
        let roles = effective_roles(&[id(30)], &g);
        assert_eq!(roles.len(), MAX_INHERITANCE_DEPTH + 1);
        assert_eq!(roles.first(), Some(&id(30)));
        assert_eq!(roles.last(), Some(&id(30 - MAX_INHERITANCE_DEPTH as u128)));
    }
}
