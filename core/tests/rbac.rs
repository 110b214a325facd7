//! Authorization (spec §6) on both backends: the system roles, per-table grants through custom roles,
//! expiring and inactive grants, role inheritance, cache invalidation (also across two instances sharing
//! Redis), API token scopes, system-role immutability, duplicate names and the Owner rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Debug;

use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};
use tessera_core::auth::rbac::{ADMIN_ROLE, EDITOR_ROLE, OWNER_ROLE, VIEWER_ROLE};
use tessera_core::auth::users::NewUser;
use tessera_core::auth::{Auth, Principal, TokenScope};
use tessera_core::events::Actor;
use tessera_core::testing::{redis_url, unique_name};
use tessera_core::{Cache, Database, Error, ErrorCode};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

async fn auth_of(db: &Database) -> Auth {
    let cache = tessera_core::testing::cache_for(db).await;
    tessera_core::testing::services_with(db.clone(), cache, &[]).auth().clone()
}

struct Person {
    id: Uuid,
    principal: Principal,
    actor: Actor,
}

fn person_from(id: Uuid, username: &str) -> Person {
    let principal = Principal { user_id: id, username: username.into(), session_id: None, api_token: None };
    Person { id, principal, actor: Actor { user_id: Some(id), ..Actor::default() } }
}

/// A user with no roles.
async fn person(auth: &Auth, username: &str) -> Person {
    let new = NewUser { username: username.into(), ..NewUser::default() };
    let user = auth.create_user(&Actor::system(), &new).await.unwrap();
    person_from(user.id, username)
}

/// The first Owner, as the bootstrap creates it.
async fn owner(auth: &Auth, username: &str) -> Person {
    let new = NewUser { username: username.into(), ..NewUser::default() };
    let user = auth.create_owner(&Actor::system(), &new).await.unwrap();
    person_from(user.id, username)
}

/// A fresh user holding `role`, assigned by `by` (an Owner, so that the Owner role works too).
async fn with_role(auth: &Auth, by: &Person, username: &str, role: Uuid) -> Person {
    let who = person(auth, username).await;
    auth.assign_role(&by.actor, &by.principal, who.id, &json!({ "role_id": role })).await.unwrap();
    who
}

async fn allowed(auth: &Auth, who: &Person, required: &str) -> bool {
    auth.is_allowed(&who.principal, required).await.unwrap()
}

/// The same caller, through an API token with `scopes`.
fn scoped(principal: &Principal, scopes: &[&str]) -> Principal {
    let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    Principal { api_token: Some(TokenScope { id: Uuid::now_v7(), scopes }), ..principal.clone() }
}

fn id_of(value: &Value) -> Uuid {
    value["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()).unwrap_or_else(|| panic!("no id in {value}"))
}

#[track_caller]
fn expect_invalid<T: Debug>(result: Result<T, Error>, field: &str, code: ErrorCode) {
    match result {
        Err(Error::Validation(errors)) => {
            assert!(errors.iter().any(|e| e.field == field && e.code == code), "{field} {code:?}: {errors:?}")
        }
        other => panic!("expected 422 on {field} ({code:?}), got {other:?}"),
    }
}

#[track_caller]
fn expect_bad_request<T: Debug>(result: Result<T, Error>, field: &str, code: ErrorCode) {
    match result {
        Err(Error::BadRequest(errors)) => {
            assert!(errors.iter().any(|e| e.field == field && e.code == code), "{field} {code:?}: {errors:?}")
        }
        other => panic!("expected 400 on {field} ({code:?}), got {other:?}"),
    }
}

#[track_caller]
fn expect_forbidden<T: Debug>(result: Result<T, Error>, message: &str) {
    match result {
        Err(Error::Forbidden(m)) => assert_eq!(m, message),
        other => panic!("expected 403 '{message}', got {other:?}"),
    }
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|item| item[key].as_str().unwrap().to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

tessera_core::conformance! {
    async fn the_system_roles_grant_what_the_spec_says(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let (table, report, migration) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let checks: Vec<String> = vec![
            format!("table:{table}:read"),
            format!("table:{table}:create"),
            format!("table:{table}:update"),
            format!("table:{table}:delete"),
            format!("table:{table}:unmask"),
            format!("report:{report}:read"),
            format!("report:{report}:execute"),
            format!("report:{report}:update"),
            format!("migration:{migration}:execute"),
            "schema:manage".into(),
            "users:manage".into(),
            "roles:manage".into(),
            "audit:read".into(),
            "settings:manage".into(),
        ];
        // For each role, the checks (by index above) it passes; every other check must fail.
        let matrix: [(&str, Uuid, Vec<usize>); 4] = [
            ("owner", OWNER_ROLE, (0..14).collect()),
            ("admin", ADMIN_ROLE, (0..14).collect()),
            ("editor", EDITOR_ROLE, vec![0, 1, 2, 3, 5, 6, 8]),
            ("viewer", VIEWER_ROLE, vec![0, 5, 6]),
        ];
        for (username, role, passes) in matrix {
            let who = with_role(&auth, &root, username, role).await;
            for (i, required) in checks.iter().enumerate() {
                let expected = passes.contains(&i);
                assert_eq!(allowed(&auth, &who, required).await, expected, "{username} → {required}");
                let outcome = auth.authorize(&who.principal, required).await;
                if expected {
                    outcome.unwrap();
                } else {
                    expect_forbidden(outcome, &format!("missing permission {required}"));
                }
            }
        }
        // No role, no permission.
        let nobody = person(&auth, "nobody").await;
        for required in &checks {
            assert!(!allowed(&auth, &nobody, required).await, "nobody → {required}");
        }
        assert!(auth.permissions_of(nobody.id).await.unwrap().is_empty());
        assert_eq!(*auth.permissions_of(root.id).await.unwrap(), vec!["*".to_owned()]);
        // The bootstrap Owner shows up among the user's roles.
        let roles = auth.list_user_roles(root.id).await.unwrap();
        assert_eq!(names(&roles, "role_name"), ["Owner"]);
        let item = &roles["items"][0];
        assert_eq!(item["role_id"], json!(OWNER_ROLE));
        assert_eq!((item["is_active"].clone(), item["expires_at"].clone()), (json!(true), Value::Null));
        assert_eq!(item["workspace_id"], Value::Null);
    }

    async fn a_custom_role_can_grant_one_table(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let body = json!({
            "name": "Readers of A",
            "description": "one table",
            "permissions": [format!("table:{a}:read")],
        });
        let role = auth.create_role(&root.actor, &body).await.unwrap();
        assert_eq!(role["name"], "Readers of A");
        assert_eq!(role["is_system_role"], false);
        assert_eq!(role["is_active"], true);
        assert_eq!(role["version"], 1);
        assert_eq!(role["permissions"], json!([format!("table:{a}:read")]));
        let role_id = id_of(&role);
        let reader = with_role(&auth, &root, "reader", role_id).await;

        assert!(allowed(&auth, &reader, &format!("table:{a}:read")).await);
        assert!(!allowed(&auth, &reader, &format!("table:{b}:read")).await);
        assert!(!allowed(&auth, &reader, &format!("table:{a}:update")).await);
        assert!(!allowed(&auth, &reader, &format!("table:{a}:unmask")).await);
        assert!(!allowed(&auth, &reader, "table:*:read").await, "one table is not every table");
        assert!(!allowed(&auth, &reader, "schema:manage").await);

        // Granting creates the permission on demand; granting it again changes nothing.
        let grant = json!({ "permission": format!("table:{b}:read") });
        let permission = auth.grant_role_permission(&root.actor, role_id, &grant).await.unwrap();
        assert_eq!(permission["permission_name"], format!("table:{b}:read"));
        assert_eq!(
            (permission["resource_type"].clone(), permission["action_type"].clone()),
            (json!("table"), json!("read"))
        );
        assert_eq!(permission["is_system_permission"], false);
        assert_eq!(auth.get_role(role_id).await.unwrap()["version"], 2);
        let again = auth.grant_role_permission(&root.actor, role_id, &grant).await.unwrap();
        assert_eq!(again, permission);
        assert_eq!(auth.get_role(role_id).await.unwrap()["version"], 2, "a repeated grant changes nothing");
        assert!(allowed(&auth, &reader, &format!("table:{b}:read")).await);

        let listed = auth.list_role_permissions(role_id).await.unwrap();
        let mut expected = vec![format!("table:{a}:read"), format!("table:{b}:read")];
        expected.sort();
        assert_eq!(names(&listed, "permission_name"), expected);
        let all = names(&auth.list_permissions().await.unwrap(), "permission_name");
        assert!(
            all.contains(&"schema:manage".to_owned()) && all.contains(&format!("table:{b}:read")),
            "{all:?}"
        );
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted);

        auth.revoke_role_permission(&root.actor, role_id, &format!("table:{b}:read")).await.unwrap();
        assert!(!allowed(&auth, &reader, &format!("table:{b}:read")).await);
        assert!(allowed(&auth, &reader, &format!("table:{a}:read")).await);
        let missing = auth.revoke_role_permission(&root.actor, role_id, &format!("table:{b}:read")).await;
        assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");

        // Bad grants.
        let bad =
            auth.grant_role_permission(&root.actor, role_id, &json!({ "permission": "tables:read" })).await;
        expect_invalid(bad, "permission", ErrorCode::Format);
        let bad =
            auth.grant_role_permission(&root.actor, role_id, &json!({ "permission": "table:x:write" })).await;
        expect_invalid(bad, "permission", ErrorCode::Format);
        let bad =
            auth.grant_role_permission(&root.actor, role_id, &json!({ "permision": "users:manage" })).await;
        expect_bad_request(bad, "permision", ErrorCode::UnknownField);
        let bad = auth.grant_role_permission(&root.actor, role_id, &json!({})).await;
        expect_bad_request(bad, "permission", ErrorCode::Required);
        let bad = auth.grant_role_permission(&root.actor, Uuid::now_v7(), &grant).await;
        assert!(matches!(bad, Err(Error::NotFound(_))), "{bad:?}");
        let bad = auth
            .create_role(&root.actor, &json!({ "name": "X", "permissions": ["users:manage", "nope"] }))
            .await;
        expect_invalid(bad, "permissions[1]", ErrorCode::Format);
        let bad = auth.create_role(&root.actor, &json!({ "name": "X", "permissions": "users:manage" })).await;
        expect_bad_request(bad, "permissions", ErrorCode::Type);
    }

    async fn an_expired_grant_stops_working_on_time_even_when_cached(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let temp = person(&auth, "temp").await;
        let table_read = format!("table:{}:read", Uuid::now_v7());
        let expires_at = Utc::now() + TimeDelta::seconds(2);
        let body = json!({ "role_id": VIEWER_ROLE, "expires_at": expires_at.to_rfc3339() });
        let assignment = auth.assign_role(&root.actor, &root.principal, temp.id, &body).await.unwrap();
        assert_eq!(assignment["role_name"], "Viewer");
        assert!(assignment["expires_at"].is_string(), "{assignment}");
        // Read twice: the second answer comes from the cache.
        assert!(allowed(&auth, &temp, &table_read).await);
        assert!(allowed(&auth, &temp, &table_read).await);
        let wait = (expires_at - Utc::now() + TimeDelta::milliseconds(500)).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        assert!(!allowed(&auth, &temp, &table_read).await, "the grant expired");
        assert!(auth.permissions_of(temp.id).await.unwrap().is_empty());
        // The assignment is still listed (an administrator sees it expired).
        assert_eq!(names(&auth.list_user_roles(temp.id).await.unwrap(), "role_name"), ["Viewer"]);

        // An expiry in the past, or not a timestamp, is refused.
        let yesterday = (Utc::now() - TimeDelta::days(1)).to_rfc3339();
        let past = json!({ "role_id": VIEWER_ROLE, "expires_at": yesterday });
        expect_invalid(
            auth.assign_role(&root.actor, &root.principal, temp.id, &past).await,
            "expires_at",
            ErrorCode::Range,
        );
        let garbage = json!({ "role_id": VIEWER_ROLE, "expires_at": "tomorrow" });
        expect_bad_request(
            auth.assign_role(&root.actor, &root.principal, temp.id, &garbage).await,
            "expires_at",
            ErrorCode::Format,
        );
    }

    async fn an_inactive_grant_grants_nothing_until_reactivated(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let user = person(&auth, "user").await;
        let update = format!("table:{}:update", Uuid::now_v7());
        let body = json!({ "role_id": EDITOR_ROLE, "is_active": false });
        let assignment = auth.assign_role(&root.actor, &root.principal, user.id, &body).await.unwrap();
        assert_eq!(assignment["is_active"], false);
        assert!(!allowed(&auth, &user, &update).await);

        // Assigning again updates the same assignment.
        let body = json!({ "role_id": EDITOR_ROLE, "is_active": true });
        let again = auth.assign_role(&root.actor, &root.principal, user.id, &body).await.unwrap();
        assert_eq!(again["id"], assignment["id"]);
        assert_eq!(again["is_active"], true);
        assert!(allowed(&auth, &user, &update).await);
        let listed = auth.list_user_roles(user.id).await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed["items"][0]["is_active"], true);

        // Unassigning removes it; a second time there is nothing to remove.
        auth.unassign_role(&root.actor, &root.principal, user.id, EDITOR_ROLE).await.unwrap();
        assert!(!allowed(&auth, &user, &update).await);
        let gone = auth.unassign_role(&root.actor, &root.principal, user.id, EDITOR_ROLE).await;
        assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");

        // Unknown users and roles.
        let nobody = auth.list_user_roles(Uuid::now_v7()).await;
        assert!(matches!(nobody, Err(Error::NotFound(_))), "{nobody:?}");
        let body = json!({ "role_id": Uuid::now_v7() });
        expect_invalid(
            auth.assign_role(&root.actor, &root.principal, user.id, &body).await,
            "role_id",
            ErrorCode::ForeignKey,
        );
        let body = json!({ "role_id": "not-a-uuid" });
        expect_bad_request(
            auth.assign_role(&root.actor, &root.principal, user.id, &body).await,
            "role_id",
            ErrorCode::Format,
        );
        let body = json!({ "role_id": VIEWER_ROLE, "colour": "red" });
        expect_bad_request(
            auth.assign_role(&root.actor, &root.principal, user.id, &body).await,
            "colour",
            ErrorCode::UnknownField,
        );
    }

    async fn a_child_role_inherits_its_parents_permissions(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let table = Uuid::now_v7();
        let parent = auth
            .create_role(&root.actor, &json!({ "name": "Report readers", "permissions": ["report:*:read"] }))
            .await
            .unwrap();
        let parent_id = id_of(&parent);
        let body = json!({
            "name": "Analysts",
            "parent_role_id": parent_id,
            "permissions": [format!("table:{table}:read")],
        });
        let child = auth.create_role(&root.actor, &body).await.unwrap();
        let child_id = id_of(&child);
        assert_eq!(child["parent_role_id"], json!(parent_id));
        // The role lists its own permissions, not the inherited ones.
        assert_eq!(child["permissions"], json!([format!("table:{table}:read")]));
        let analyst = with_role(&auth, &root, "analyst", child_id).await;
        assert!(allowed(&auth, &analyst, "report:r1:read").await, "inherited");
        assert!(allowed(&auth, &analyst, &format!("table:{table}:read")).await, "own");
        assert!(!allowed(&auth, &analyst, "report:r1:execute").await);

        // A disabled parent passes nothing on; enabling it again restores the inheritance.
        auth.update_role(&root.actor, parent_id, &json!({ "is_active": false })).await.unwrap();
        assert!(!allowed(&auth, &analyst, "report:r1:read").await);
        assert!(allowed(&auth, &analyst, &format!("table:{table}:read")).await);
        auth.update_role(&root.actor, parent_id, &json!({ "is_active": true })).await.unwrap();
        assert!(allowed(&auth, &analyst, "report:r1:read").await);

        // A disabled role grants nothing itself.
        auth.update_role(&root.actor, child_id, &json!({ "is_active": false })).await.unwrap();
        assert!(!allowed(&auth, &analyst, &format!("table:{table}:read")).await);
        assert!(!allowed(&auth, &analyst, "report:r1:read").await);
        auth.update_role(&root.actor, child_id, &json!({ "is_active": true })).await.unwrap();

        // Cycles, unknown parents and inheriting from Owner are refused.
        let cycle = auth.update_role(&root.actor, parent_id, &json!({ "parent_role_id": child_id })).await;
        expect_invalid(cycle, "parent_role_id", ErrorCode::Hierarchy);
        let own = auth.update_role(&root.actor, parent_id, &json!({ "parent_role_id": parent_id })).await;
        expect_invalid(own, "parent_role_id", ErrorCode::Hierarchy);
        let unknown =
            auth.update_role(&root.actor, child_id, &json!({ "parent_role_id": Uuid::now_v7() })).await;
        expect_invalid(unknown, "parent_role_id", ErrorCode::ForeignKey);
        let from_owner = auth
            .create_role(&root.actor, &json!({ "name": "Co-owners", "parent_role_id": OWNER_ROLE }))
            .await;
        expect_invalid(from_owner, "parent_role_id", ErrorCode::Hierarchy);
        // A parent cannot be deleted while a role inherits from it.
        let in_use = auth.delete_role(&root.actor, parent_id).await;
        assert!(matches!(in_use, Err(Error::Validation(_))), "{in_use:?}");

        // Detaching the child ends the inheritance.
        auth.update_role(&root.actor, child_id, &json!({ "parent_role_id": null })).await.unwrap();
        assert!(!allowed(&auth, &analyst, "report:r1:read").await);
        auth.delete_role(&root.actor, parent_id).await.unwrap();
    }

    async fn role_changes_are_visible_at_once_despite_the_cache(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let role = auth.create_role(&root.actor, &json!({ "name": "Growing" })).await.unwrap();
        let role_id = id_of(&role);
        let user = with_role(&auth, &root, "user", role_id).await;
        let read = format!("table:{}:read", Uuid::now_v7());
        assert!(!allowed(&auth, &user, &read).await);
        assert!(!allowed(&auth, &user, &read).await, "cached");

        auth.grant_role_permission(&root.actor, role_id, &json!({ "permission": "table:*:read" }))
            .await
            .unwrap();
        assert!(allowed(&auth, &user, &read).await, "a grant is visible at once");
        auth.revoke_role_permission(&root.actor, role_id, "table:*:read").await.unwrap();
        assert!(!allowed(&auth, &user, &read).await, "a revocation is visible at once");
        auth.grant_role_permission(&root.actor, role_id, &json!({ "permission": "table:*" })).await.unwrap();
        assert!(allowed(&auth, &user, &read).await);
        auth.unassign_role(&root.actor, &root.principal, user.id, role_id).await.unwrap();
        assert!(!allowed(&auth, &user, &read).await, "an unassignment is visible at once");
        auth.assign_role(&root.actor, &root.principal, user.id, &json!({ "role_id": role_id }))
            .await
            .unwrap();
        assert!(allowed(&auth, &user, &read).await);
        auth.delete_role(&root.actor, role_id).await.unwrap();
        assert!(!allowed(&auth, &user, &read).await, "a deleted role grants nothing");
        assert!(auth.list_user_roles(user.id).await.unwrap()["items"].as_array().unwrap().is_empty());
    }

    async fn two_instances_sharing_redis_see_each_others_changes(db: Database) {
        let cache = Cache::redis(&redis_url(), &format!("{}:", unique_name("rbac"))).await.unwrap();
        let one = tessera_core::testing::services_with(db.clone(), cache.clone(), &[]).auth().clone();
        let two = tessera_core::testing::services_with(db.clone(), cache.clone(), &[]).auth().clone();
        let root = owner(&one, "root").await;
        let role = one.create_role(&root.actor, &json!({ "name": "Shared" })).await.unwrap();
        let role_id = id_of(&role);
        let user = with_role(&one, &root, "user", role_id).await;
        assert!(!allowed(&one, &user, "audit:read").await);
        assert!(!allowed(&two, &user, "audit:read").await);
        two.grant_role_permission(&root.actor, role_id, &json!({ "permission": "audit:read" }))
            .await
            .unwrap();
        assert!(allowed(&one, &user, "audit:read").await, "instance one sees instance two's grant");
        one.revoke_role_permission(&root.actor, role_id, "audit:read").await.unwrap();
        assert!(!allowed(&two, &user, "audit:read").await, "instance two sees instance one's revocation");
        cache.delete("rbac:generation").await.unwrap();
    }

    async fn api_token_scopes_restrict_what_the_user_may_do(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let table_read = format!("table:{}:read", Uuid::now_v7());
        let token = scoped(&root.principal, &["table:*:read"]);
        expect_forbidden(auth.authorize(&token, "schema:manage").await, "missing permission schema:manage");
        auth.authorize(&token, &table_read).await.unwrap();
        assert!(!auth.is_allowed(&token, &format!("table:{}:update", Uuid::now_v7())).await.unwrap());
        // Without the token, the Owner may do it all.
        auth.authorize(&root.principal, "schema:manage").await.unwrap();

        // A scope never widens what the user holds.
        let viewer = with_role(&auth, &root, "viewer", VIEWER_ROLE).await;
        let token = scoped(&viewer.principal, &["*"]);
        expect_forbidden(auth.authorize(&token, "schema:manage").await, "missing permission schema:manage");
        auth.authorize(&token, &table_read).await.unwrap();
        let token = scoped(&viewer.principal, &[]);
        assert!(!auth.is_allowed(&token, &table_read).await.unwrap());
    }

    async fn system_roles_are_immutable(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let message = "system roles cannot be changed";
        for role in [OWNER_ROLE, ADMIN_ROLE, EDITOR_ROLE, VIEWER_ROLE] {
            expect_forbidden(
                auth.update_role(&root.actor, role, &json!({ "name": "Renamed" })).await,
                message,
            );
            expect_forbidden(
                auth.update_role(&root.actor, role, &json!({ "is_active": false })).await,
                message,
            );
            expect_forbidden(auth.delete_role(&root.actor, role).await, message);
            let grant = json!({ "permission": "users:manage" });
            expect_forbidden(auth.grant_role_permission(&root.actor, role, &grant).await, message);
            expect_forbidden(auth.revoke_role_permission(&root.actor, role, "table:*:read").await, message);
        }
        let owner_role = auth.get_role(OWNER_ROLE).await.unwrap();
        assert_eq!(owner_role["name"], "Owner");
        assert_eq!(owner_role["is_system_role"], true);
        assert_eq!(owner_role["permissions"], json!(["*"]));
        let viewer = auth.get_role(VIEWER_ROLE).await.unwrap();
        assert_eq!(viewer["permissions"], json!(["report:*:execute", "report:*:read", "table:*:read"]));
        let keys: Vec<&String> = viewer.as_object().unwrap().keys().collect();
        for key in [
            "id",
            "name",
            "description",
            "is_system_role",
            "is_active",
            "parent_role_id",
            "version",
            "permissions",
            "created_at",
            "updated_at",
        ] {
            assert!(viewer.get(key).is_some(), "{key} missing from {keys:?}");
        }
        auth.create_role(&root.actor, &json!({ "name": "Zeta" })).await.unwrap();
        auth.create_role(&root.actor, &json!({ "name": "Alpha" })).await.unwrap();
        let listed = names(&auth.list_roles().await.unwrap(), "name");
        assert_eq!(listed, ["Owner", "Admin", "Editor", "Viewer", "Alpha", "Zeta"]);
        let missing = auth.get_role(Uuid::now_v7()).await;
        assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    }

    async fn role_names_are_unique_and_updates_are_versioned(db: Database) {
        let auth = auth_of(&db).await;
        let root = owner(&auth, "root").await;
        let auditors = auth.create_role(&root.actor, &json!({ "name": "Auditors" })).await.unwrap();
        let auditors_id = id_of(&auditors);
        for name in ["Auditors", "auditors", " Auditors ", "Admin", "viewer"] {
            let again = auth.create_role(&root.actor, &json!({ "name": name })).await;
            assert!(matches!(again, Err(Error::Duplicate(_))), "{name}: {again:?}");
        }
        let other =
            auth.create_role(&root.actor, &json!({ "name": "Clerks", "description": "  " })).await.unwrap();
        assert_eq!(other["description"], Value::Null);
        let other_id = id_of(&other);
        let clash = auth.update_role(&root.actor, other_id, &json!({ "name": "AUDITORS" })).await;
        assert!(matches!(clash, Err(Error::Duplicate(_))), "{clash:?}");

        // Updates bump the version; a stale version is a conflict.
        let updated = auth
            .update_role(
                &root.actor,
                auditors_id,
                &json!({ "version": 1, "name": "Auditors (EU)", "description": "EU" }),
            )
            .await
            .unwrap();
        assert_eq!((updated["name"].clone(), updated["version"].clone()), (json!("Auditors (EU)"), json!(2)));
        assert!(updated["updated_at"].is_string());
        let stale =
            auth.update_role(&root.actor, auditors_id, &json!({ "version": 1, "description": "x" })).await;
        assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
        // Renaming a role to its own name in another case is fine.
        auth.update_role(&root.actor, auditors_id, &json!({ "name": "auditors (eu)" })).await.unwrap();

        // Bad bodies.
        expect_bad_request(auth.create_role(&root.actor, &json!({})).await, "name", ErrorCode::Required);
        expect_invalid(
            auth.create_role(&root.actor, &json!({ "name": "  " })).await,
            "name",
            ErrorCode::Length,
        );
        let long = "x".repeat(101);
        expect_invalid(
            auth.create_role(&root.actor, &json!({ "name": long })).await,
            "name",
            ErrorCode::Length,
        );
        let unknown = auth.create_role(&root.actor, &json!({ "name": "Y", "colour": "red" })).await;
        expect_bad_request(unknown, "colour", ErrorCode::UnknownField);
        let null_name = auth.update_role(&root.actor, other_id, &json!({ "name": null })).await;
        expect_invalid(null_name, "name", ErrorCode::Required);
        let wrong_type = auth.update_role(&root.actor, other_id, &json!({ "is_active": "yes" })).await;
        expect_bad_request(wrong_type, "is_active", ErrorCode::Type);

        // Deleting a role removes it and its assignments.
        let clerk = with_role(&auth, &root, "clerk", other_id).await;
        auth.delete_role(&root.actor, other_id).await.unwrap();
        assert!(matches!(auth.get_role(other_id).await, Err(Error::NotFound(_))));
        assert!(auth.list_user_roles(clerk.id).await.unwrap()["items"].as_array().unwrap().is_empty());
        let twice = auth.delete_role(&root.actor, other_id).await;
        assert!(matches!(twice, Err(Error::NotFound(_))), "{twice:?}");

        // Every change left its event in the outbox.
        let sql = db.sql("SELECT event_type FROM domain_events WHERE aggregate_type = 'role'");
        let events: Vec<String> =
            db.fetch_all(&sql).await.unwrap().iter().map(|r| r.text("event_type").unwrap()).collect();
        for expected in ["RoleCreated", "RoleUpdated", "RoleDeleted"] {
            assert!(events.iter().any(|e| e == expected), "{expected} missing from {events:?}");
        }
    }

    async fn only_an_owner_hands_out_ownership_and_the_last_owner_stays(db: Database) {
        let auth = auth_of(&db).await;
        let first = owner(&auth, "first").await;
        let admin = with_role(&auth, &first, "admin", ADMIN_ROLE).await;
        let second = person(&auth, "second").await;
        let make_owner = json!({ "role_id": OWNER_ROLE });
        let refusal = "only an Owner can assign or remove the Owner role";

        // The last Owner can neither be removed nor disabled nor given an expiry.
        let last = auth.unassign_role(&first.actor, &first.principal, first.id, OWNER_ROLE).await;
        expect_invalid(last, "role_id", ErrorCode::Invalid);
        let disable = json!({ "role_id": OWNER_ROLE, "is_active": false });
        expect_invalid(
            auth.assign_role(&first.actor, &first.principal, first.id, &disable).await,
            "is_active",
            ErrorCode::Invalid,
        );
        let expire =
            json!({ "role_id": OWNER_ROLE, "expires_at": (Utc::now() + TimeDelta::hours(1)).to_rfc3339() });
        expect_invalid(
            auth.assign_role(&first.actor, &first.principal, first.id, &expire).await,
            "expires_at",
            ErrorCode::Invalid,
        );
        assert!(allowed(&auth, &first, "schema:manage").await);

        // An Admin holds `*` but cannot hand out or take away ownership.
        assert!(allowed(&auth, &admin, "roles:manage").await);
        expect_forbidden(
            auth.assign_role(&admin.actor, &admin.principal, second.id, &make_owner).await,
            refusal,
        );
        expect_forbidden(
            auth.assign_role(&admin.actor, &admin.principal, admin.id, &make_owner).await,
            refusal,
        );
        expect_forbidden(
            auth.unassign_role(&admin.actor, &admin.principal, first.id, OWNER_ROLE).await,
            refusal,
        );
        // Nor sneak it in through inheritance.
        let sneaky = auth
            .create_role(&admin.actor, &json!({ "name": "Owners too", "parent_role_id": OWNER_ROLE }))
            .await;
        expect_invalid(sneaky, "parent_role_id", ErrorCode::Hierarchy);

        // An Owner can make another Owner, who can then take over.
        auth.assign_role(&first.actor, &first.principal, second.id, &make_owner).await.unwrap();
        auth.unassign_role(&second.actor, &second.principal, first.id, OWNER_ROLE).await.unwrap();
        assert!(!allowed(&auth, &first, "schema:manage").await);
        expect_forbidden(
            auth.assign_role(&first.actor, &first.principal, first.id, &make_owner).await,
            refusal,
        );
        // Now `second` is the last Owner: neither unassignable nor deactivatable (by anyone).
        let last = auth.unassign_role(&second.actor, &second.principal, second.id, OWNER_ROLE).await;
        expect_invalid(last, "role_id", ErrorCode::Invalid);
        let deactivate = json!({ "is_active": false });
        let system = Actor::system();
        expect_invalid(auth.update_user(&system, second.id, &deactivate).await, "is_active", ErrorCode::Invalid);
        // An Admin cannot take over the Owner's account: no e-mail change, no deactivation, no enrollment link.
        let owner_only = "only an Owner can change an Owner's account";
        let takeover = json!({ "email": "admin@example.com" });
        expect_forbidden(auth.update_user(&admin.actor, second.id, &takeover).await, owner_only);
        expect_forbidden(auth.update_user(&admin.actor, second.id, &deactivate).await, owner_only);
        expect_forbidden(auth.issue_enrollment_token(&admin.actor, second.id).await, owner_only);
        // Another user can still be deactivated.
        let user = auth.update_user(&admin.actor, first.id, &deactivate).await.unwrap();
        assert_eq!(user["is_active"], false);
        assert_eq!(names(&auth.list_user_roles(second.id).await.unwrap(), "role_name"), ["Owner"]);
        assert!(auth.list_user_roles(first.id).await.unwrap()["items"].as_array().unwrap().is_empty());

        // Assignment changes are audited.
        let sql = db.sql("SELECT action FROM audit_log WHERE entity_type = 'user_role'");
        let actions: Vec<String> =
            db.fetch_all(&sql).await.unwrap().iter().map(|r| r.text("action").unwrap()).collect();
        assert!(
            actions.iter().any(|a| a == "RoleAssigned") && actions.iter().any(|a| a == "RoleUnassigned"),
            "{actions:?}"
        );
    }

    async fn roles_manage_cannot_hand_out_more_than_it_holds(db: Database) {
        let auth = auth_of(&db).await;
        let first = owner(&auth, "first").await;
        // A role manager: roles:manage and nothing else.
        let managers = auth
            .create_role(&first.actor, &json!({ "name": "Role managers", "permissions": ["roles:manage"] }))
            .await
            .unwrap();
        let managers_id = Uuid::parse_str(managers["id"].as_str().unwrap()).unwrap();
        let manager = with_role(&auth, &first, "manager", managers_id).await;
        assert!(allowed(&auth, &manager, "roles:manage").await);

        let everything = "you cannot hand out *: you do not hold it";
        expect_forbidden(auth.grant_role_permission(&manager.actor, managers_id, &json!({ "permission": "*" })).await, everything);
        expect_forbidden(
            auth.create_role(&manager.actor, &json!({ "name": "Mine", "permissions": ["users:manage"] })).await,
            "you cannot hand out users:manage: you do not hold it",
        );
        expect_forbidden(
            auth.create_role(&manager.actor, &json!({ "name": "Child of Admin", "parent_role_id": ADMIN_ROLE })).await,
            everything,
        );
        expect_forbidden(
            auth.assign_role(&manager.actor, &manager.principal, manager.id, &json!({ "role_id": ADMIN_ROLE })).await,
            everything,
        );
        // What it holds, it may hand out.
        let role = auth
            .create_role(&manager.actor, &json!({ "name": "Helpers", "permissions": ["roles:manage"] }))
            .await
            .unwrap();
        assert_eq!(role["permissions"], json!(["roles:manage"]));
        assert!(!allowed(&auth, &manager, "users:manage").await);
    }
}
