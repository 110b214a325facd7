//! The permission grammar (spec §6) and the matcher every authorization decision goes through.
//!
//! A permission is two or three colon-separated segments: `<resource>:<action>` (`users:manage`,
//! `schema:manage`) or `<resource>:<id>:<action>` (`table:0193…:read`, `report:0193…:execute`).
//!
//! A *granted* permission (what a role holds, what an API token is scoped to) may use `*` as a whole segment:
//! - a `*` that is not the last segment matches exactly one segment (`table:*:read` = read every table;
//!   `*:manage` = every two-segment `manage`);
//! - a final `*` matches one or more remaining segments (`table:*` = every table permission, with or without
//!   an id: `table:read`, `table:0193…:update`);
//! - `*` alone therefore matches everything.
//!
//! A *required* permission names one act and has no wildcard. If one is asked anyway (`table:*:read`: "may
//! this user read every table?"), its `*` is taken literally, so only a granted `*` in the same place (or a
//! final `*` before it) covers it: the answer is never more generous than the grants.
//!
//! Segments compare exactly (case-sensitive); a required permission with an empty segment is never granted.

use std::fmt;

use crate::error::{ErrorCode, FieldError};

/// The resources a permission may name.
pub const RESOURCES: [&str; 8] =
    ["table", "report", "migration", "users", "roles", "audit", "schema", "settings"];

/// The actions a permission may name.
pub const ACTIONS: [&str; 7] = ["read", "create", "update", "delete", "manage", "execute", "unmask"];

/// The wildcard segment.
pub const WILDCARD: &str = "*";

/// The longest permission name accepted.
const MAX_LEN: usize = 200;

/// The longest id segment accepted (UUIDs are 36).
const MAX_ID_LEN: usize = 100;

/// A valid permission name: a granted pattern (may contain `*`) or a required permission (none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    name: String,
}

impl Permission {
    /// Parses a permission or a granted pattern. Unknown resources and actions, a wrong number of segments
    /// and malformed ids are `format` errors on the field `permission`.
    pub fn parse(text: &str) -> Result<Permission, FieldError> {
        if text == WILDCARD {
            return Ok(Permission { name: text.to_owned() });
        }
        if text.len() > MAX_LEN {
            return Err(format_error(format!("at most {MAX_LEN} characters")));
        }
        let mut segments = text.split(':');
        let (resource, id, action) =
            match (segments.next(), segments.next(), segments.next(), segments.next()) {
                (Some(resource), Some(action), None, None) => (resource, None, action),
                (Some(resource), Some(id), Some(action), None) => (resource, Some(id), action),
                _ => return Err(format_error(
                    "expected <resource>:<action> or <resource>:<id>:<action> ('*' alone grants everything)",
                )),
            };
        if resource != WILDCARD && !RESOURCES.contains(&resource) {
            return Err(format_error(format!(
                "unknown resource '{resource}'; expected one of: {} or '*'",
                RESOURCES.join(", ")
            )));
        }
        if let Some(id) = id {
            if id != WILDCARD && !is_valid_id(id) {
                return Err(format_error(format!(
                    "bad id '{id}': 1–{MAX_ID_LEN} letters, digits, '-', '_' or '.', or '*'"
                )));
            }
        }
        if action != WILDCARD && !ACTIONS.contains(&action) {
            return Err(format_error(format!(
                "unknown action '{action}'; expected one of: {} or '*'",
                ACTIONS.join(", ")
            )));
        }
        Ok(Permission { name: text.to_owned() })
    }

    /// Parses a permission that names one act: like [`Permission::parse`], without wildcards.
    pub fn parse_required(text: &str) -> Result<Permission, FieldError> {
        let permission = Permission::parse(text)?;
        if permission.is_pattern() {
            Err(format_error("a required permission names one act and cannot contain '*'"))
        } else {
            Ok(permission)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn into_string(self) -> String {
        self.name
    }

    /// The segments, in order.
    pub fn segments(&self) -> std::str::Split<'_, char> {
        self.name.split(':')
    }

    /// The first segment (`*` for `*`): the `resource_type` stored with the permission.
    pub fn resource(&self) -> &str {
        self.segments().next().unwrap_or(WILDCARD)
    }

    /// The last segment (`*` for `*` and `table:*`): the `action_type` stored with the permission.
    pub fn action(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(WILDCARD)
    }

    /// The middle segment of a three-segment permission (`*` when it is a wildcard).
    pub fn id(&self) -> Option<&str> {
        let mut segments = self.segments();
        match (segments.next(), segments.next(), segments.next()) {
            (Some(_), Some(id), Some(_)) => Some(id),
            _ => None,
        }
    }

    /// Does it contain a wildcard segment?
    pub fn is_pattern(&self) -> bool {
        self.segments().any(|s| s == WILDCARD)
    }

    /// Does this (granted) permission grant `required`?
    pub fn grants(&self, required: &str) -> bool {
        grants(&self.name, required)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn format_error(message: impl Into<String>) -> FieldError {
    FieldError::new("permission", ErrorCode::Format, message)
}

/// Does the granted permission (or pattern) `granted` grant `required`? Pure and allocation-free: it runs on
/// every request. See the module documentation for the wildcard rules.
pub fn grants(granted: &str, required: &str) -> bool {
    let mut granted = granted.split(':').peekable();
    let mut required = required.split(':');
    loop {
        match (granted.next(), required.next()) {
            (_, Some("")) => return false,
            // A final `*` matches this segment and everything after it.
            (Some(WILDCARD), Some(_)) if granted.peek().is_none() => return true,
            (Some(g), Some(r)) => {
                if g != WILDCARD && g != r {
                    return false;
                }
            }
            (None, None) => return true,
            // One side has segments left that the other cannot match.
            (Some(_), None) | (None, Some(_)) => return false,
        }
    }
}

/// Does any of `granted` grant `required`?
pub fn any_grants(granted: &[String], required: &str) -> bool {
    granted.iter().any(|g| grants(g, required))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const TABLE: &str = "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9fa0b1";
    const OTHER: &str = "0193a4b2-7c3d-7e4f-8a5b-000000000000";

    // The seed's system roles (migrations/*/0001_initial.sql).
    const OWNER: &[&str] = &["*"];
    const ADMIN: &[&str] = &["*"];
    const EDITOR: &[&str] = &[
        "table:*:read",
        "table:*:create",
        "table:*:update",
        "table:*:delete",
        "report:*:read",
        "report:*:execute",
        "migration:*:execute",
    ];
    const VIEWER: &[&str] = &["table:*:read", "report:*:read", "report:*:execute"];

    fn owned(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_spec_examples() {
        assert!(grants("*", "users:manage"));
        assert!(grants("*", &format!("table:{TABLE}:read")));
        assert!(grants("table:*:read", &format!("table:{TABLE}:read")));
        assert!(!grants("table:*:read", &format!("table:{TABLE}:update")));
        assert!(!grants("table:*:read", "report:x:read"));
        assert!(grants(&format!("table:{TABLE}:read"), &format!("table:{TABLE}:read")));
        assert!(!grants(&format!("table:{TABLE}:read"), &format!("table:{OTHER}:read")));
        assert!(grants("users:manage", "users:manage"));
        assert!(!grants("users:manage", "users:read"));
    }

    #[test]
    fn a_non_final_star_matches_exactly_one_segment() {
        assert!(grants("*:manage", "users:manage"));
        assert!(grants("*:manage", "schema:manage"));
        assert!(!grants("*:manage", "table:x:manage"));
        assert!(grants("*:*:read", "table:x:read"));
        assert!(!grants("*:*:read", "users:read"));
        assert!(grants(&format!("table:{TABLE}:*"), &format!("table:{TABLE}:unmask")));
        assert!(!grants(&format!("table:{TABLE}:*"), &format!("table:{OTHER}:unmask")));
        assert!(!grants(&format!("table:{TABLE}:*"), "table:read"));
    }

    #[test]
    fn a_final_star_matches_one_or_more_segments() {
        assert!(grants("table:*", "table:read"));
        assert!(grants("table:*", &format!("table:{TABLE}:delete")));
        assert!(!grants("table:*", "report:read"));
        // One or more: the resource alone is not a permission and is not granted.
        assert!(!grants("table:*", "table"));
        assert!(grants("*", "table"));
        assert!(grants("*", "a:b:c:d"));
    }

    #[test]
    fn segment_counts_must_agree_without_a_final_star() {
        assert!(!grants("table:*:read", "table:read"));
        assert!(!grants("users:manage", "users:manage:x"));
        assert!(!grants("users:manage:x", "users:manage"));
        assert!(!grants("users", "users:manage"));
    }

    #[test]
    fn matching_is_exact_and_rejects_empty_segments() {
        assert!(!grants("users:manage", "Users:manage"));
        assert!(!grants("users:manage", "users:manage "));
        assert!(!grants("*", ""));
        assert!(!grants("table:*:read", "table::read"));
        assert!(!grants("table:*", "table:"));
        assert!(!grants("", "users:manage"));
        assert!(!grants("tab*", "table:read"));
    }

    #[test]
    fn a_star_in_a_required_permission_is_literal() {
        assert!(grants("table:*:read", "table:*:read"));
        assert!(grants("*", "table:*:read"));
        assert!(grants("table:*", "table:*:read"));
        assert!(!grants(&format!("table:{TABLE}:read"), "table:*:read"));
        assert!(!grants("table:*:read", "table:*"));
    }

    #[test]
    fn any_grants_tries_each() {
        let granted = owned(&["report:*:read", &format!("table:{TABLE}:read")]);
        assert!(any_grants(&granted, &format!("table:{TABLE}:read")));
        assert!(any_grants(&granted, "report:r1:read"));
        assert!(!any_grants(&granted, &format!("table:{OTHER}:read")));
        assert!(!any_grants(&[], "users:manage"));
    }

    #[test]
    fn the_system_roles() {
        let table_read = format!("table:{TABLE}:read");
        let table_create = format!("table:{TABLE}:create");
        let table_update = format!("table:{TABLE}:update");
        let table_delete = format!("table:{TABLE}:delete");
        let unmask = format!("table:{TABLE}:unmask");
        let report_read = format!("report:{TABLE}:read");
        let report_execute = format!("report:{TABLE}:execute");
        let report_update = format!("report:{TABLE}:update");
        let migration = format!("migration:{TABLE}:execute");
        let all: [&str; 14] = [
            &table_read,
            &table_create,
            &table_update,
            &table_delete,
            &unmask,
            &report_read,
            &report_execute,
            &report_update,
            &migration,
            "schema:manage",
            "users:manage",
            "roles:manage",
            "audit:read",
            "settings:manage",
        ];
        for role in [OWNER, ADMIN] {
            for required in all {
                assert!(any_grants(&owned(role), required), "{role:?} should grant {required}");
            }
        }
        let editor_has: [&str; 7] = [
            &table_read,
            &table_create,
            &table_update,
            &table_delete,
            &report_read,
            &report_execute,
            &migration,
        ];
        let viewer_has: [&str; 3] = [&table_read, &report_read, &report_execute];
        for (role, has) in [(EDITOR, &editor_has[..]), (VIEWER, &viewer_has[..])] {
            for required in all {
                let expected = has.contains(&required);
                assert_eq!(any_grants(&owned(role), required), expected, "{role:?} granting {required}");
            }
        }
    }

    #[test]
    fn parse_accepts_the_grammar() {
        let per_table = format!("table:{TABLE}:unmask");
        let accepted: [&str; 9] = [
            "*",
            "users:manage",
            "schema:manage",
            "table:*:read",
            "table:*",
            "*:read",
            "*:*:*",
            "report:r-1_a.b:execute",
            &per_table,
        ];
        for ok in accepted {
            let p = Permission::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
            assert_eq!(p.as_str(), ok);
            assert_eq!(p.to_string(), ok);
        }
    }

    #[test]
    fn parse_rejects_what_is_not_a_permission() {
        for bad in [
            "",
            "users",
            "table:x:read:more",
            "tables:read",
            "table:x:write",
            "table::read",
            "table:a b:read",
            "Users:manage",
            "users:Manage",
            "users:manage ",
            "tab*:read",
            "table:*x:read",
            ":",
            "*:",
        ] {
            let e = Permission::parse(bad).expect_err(bad);
            assert_eq!(e.code, ErrorCode::Format, "{bad}");
            assert_eq!(e.field, "permission");
        }
        let long = format!("table:{}:read", "x".repeat(101));
        assert!(Permission::parse(&long).is_err());
        assert!(Permission::parse(&"a".repeat(300)).is_err());
    }

    #[test]
    fn parse_names_the_unknown_part() {
        let e = Permission::parse("tables:read").unwrap_err();
        assert!(e.message.contains("unknown resource 'tables'"), "{}", e.message);
        let e = Permission::parse("table:x:write").unwrap_err();
        assert!(e.message.contains("unknown action 'write'"), "{}", e.message);
    }

    #[test]
    fn required_permissions_have_no_wildcard() {
        assert!(Permission::parse_required("users:manage").is_ok());
        assert!(Permission::parse_required(&format!("table:{TABLE}:read")).is_ok());
        for bad in ["*", "table:*:read", "table:*", "*:manage"] {
            assert_eq!(Permission::parse_required(bad).unwrap_err().code, ErrorCode::Format, "{bad}");
        }
    }

    #[test]
    fn parts_give_the_stored_resource_and_action_types() {
        let star = Permission::parse("*").unwrap();
        assert_eq!((star.resource(), star.action(), star.id()), ("*", "*", None));
        let p = Permission::parse("table:*:read").unwrap();
        assert_eq!((p.resource(), p.action(), p.id()), ("table", "read", Some("*")));
        assert!(p.is_pattern());
        let p = Permission::parse("users:manage").unwrap();
        assert_eq!((p.resource(), p.action(), p.id()), ("users", "manage", None));
        assert!(!p.is_pattern());
        let p = Permission::parse("table:*").unwrap();
        assert_eq!((p.resource(), p.action()), ("table", "*"));
        assert_eq!(p.segments().count(), 2);
        assert!(p.grants("table:read"));
    }
}
