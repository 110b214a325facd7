//! Per-user display preferences of the web app: language and time zone (`GET`/`PUT /auth/preferences`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::users::audit_user;
use super::{Auth, Principal};
use crate::eav::input::{Fields, Patch};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::Actor;
use crate::locale::{parse_time_zone, Locale};

/// What a user chose; `None` = not chosen (the browser's language, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
}

impl Preferences {
    /// The time zone to show instants in (UTC when none is chosen or the stored name is no longer known).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.as_deref().and_then(|name| name.parse().ok()).unwrap_or(chrono_tz::Tz::UTC)
    }

    fn to_json(&self) -> Value {
        json!({ "locale": self.locale, "time_zone": self.time_zone })
    }
}

impl Auth {
    /// The caller's preferences.
    pub async fn preferences(&self, principal: &Principal) -> Result<Preferences> {
        let mut sql = self.db.sql("SELECT locale, time_zone FROM app_users WHERE id = ");
        sql.bind(principal.user_id);
        let row = self
            .db
            .fetch_optional(&sql)
            .await?
            .ok_or_else(|| Error::Unauthenticated("the account no longer exists".into()))?;
        Ok(Preferences {
            locale: row.opt_text("locale")?.as_deref().and_then(Locale::parse),
            time_zone: row.opt_text("time_zone")?,
        })
    }

    /// `PUT /auth/preferences` `{"locale": "en" | "es" | null, "time_zone": IANA name | null}`; an absent
    /// field keeps its value.
    pub async fn set_preferences(
        &self,
        actor: &Actor,
        principal: &Principal,
        body: &Value,
    ) -> Result<Preferences> {
        let mut fields = Fields::new(body, "")?;
        let locale = fields.string("locale");
        let time_zone = fields.string("time_zone");
        fields.finish()?;
        let mut errors = Vec::new();
        let locale = match locale {
            Patch::Set(tag) => match Locale::parse(&tag) {
                Some(l) if l.code() == tag.trim().to_ascii_lowercase() => Patch::Set(l),
                _ => {
                    errors.push(FieldError::new("locale", ErrorCode::Enum, "one of: en, es"));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        };
        let time_zone = match time_zone {
            Patch::Set(name) if name.trim().is_empty() => Patch::Null,
            Patch::Set(name) => match parse_time_zone("time_zone", name.trim()) {
                Ok(tz) => Patch::Set(tz.name().to_owned()),
                Err(e) => {
                    errors.push(e);
                    Patch::Absent
                }
            },
            other => other,
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let before = self.preferences(principal).await?;
        let after = Preferences {
            locale: match locale {
                Patch::Set(l) => Some(l),
                Patch::Null => None,
                Patch::Absent => before.locale,
            },
            time_zone: match time_zone {
                Patch::Set(tz) => Some(tz),
                Patch::Null => None,
                Patch::Absent => before.time_zone.clone(),
            },
        };
        let mut tx = self.db.begin().await?;
        let mut update = tx.sql("UPDATE app_users SET locale = ");
        update.bind(after.locale.map(|l| l.code().to_owned())).push(", time_zone = ");
        update.bind(after.time_zone.clone()).push(" WHERE id = ").bind(principal.user_id);
        tx.execute(&update).await?;
        audit_user(
            &mut tx,
            actor,
            "PreferencesChanged",
            principal.user_id,
            Some(before.to_json()),
            Some(after.to_json()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// Most columns a grid layout may name in each of its lists.
const MAX_LAYOUT_COLUMNS: usize = 500;
/// Column widths the grid accepts, in CSS pixels.
const WIDTHS: std::ops::RangeInclusive<i64> = 40..=2000;

impl Auth {
    /// The caller's grid layout of a table (`{"order", "hidden", "widths"}`), or an empty object.
    pub async fn grid_layout(&self, principal: &Principal, table_id: uuid::Uuid) -> Result<Value> {
        let mut sql = self.db.sql("SELECT layout FROM grid_layouts WHERE user_id = ");
        sql.bind(principal.user_id).push(" AND logical_table_id = ").bind(table_id);
        let Some(row) = self.db.fetch_optional(&sql).await? else { return Ok(json!({})) };
        Ok(serde_json::from_str(&row.text("layout")?).unwrap_or_else(|_| json!({})))
    }

    /// `PUT /auth/preferences/grid/{table}` `{"order": [column…], "hidden": [column…], "widths": {column: px}}`
    /// (every field optional). Replaces the caller's layout of that table; column names are kept as given
    /// (a column detached later is ignored by the grid).
    pub async fn set_grid_layout(
        &self,
        principal: &Principal,
        table_id: uuid::Uuid,
        body: &Value,
    ) -> Result<Value> {
        let layout = parse_layout(body)?;
        // One statement: concurrent saves of the same layout cannot collide on the key.
        let mut upsert =
            self.db.sql("INSERT INTO grid_layouts (user_id, logical_table_id, layout, updated_at) VALUES (");
        upsert.bind(principal.user_id).push(", ").bind(table_id).push(", ");
        upsert.bind(layout.to_string()).push(", ").bind(chrono::Utc::now());
        upsert.push(
            ") ON CONFLICT (user_id, logical_table_id) DO UPDATE SET layout = excluded.layout, \
             updated_at = excluded.updated_at",
        );
        self.db.execute(&upsert).await?;
        Ok(layout)
    }
}

/// Validates a grid layout and returns it normalised (absent lists as empty ones).
fn parse_layout(body: &Value) -> Result<Value> {
    let mut fields = Fields::new(body, "")?;
    let order = fields.raw("order");
    let hidden = fields.raw("hidden");
    let widths = fields.raw("widths");
    fields.finish()?;
    let mut errors = Vec::new();
    let mut names = |field: &str, value: Option<&Value>| -> Vec<String> {
        let Some(value) = value.filter(|v| !v.is_null()) else { return Vec::new() };
        match value.as_array() {
            Some(items) if items.len() > MAX_LAYOUT_COLUMNS => {
                errors.push(FieldError::new(
                    field,
                    ErrorCode::Invalid,
                    format!("at most {MAX_LAYOUT_COLUMNS} columns"),
                ));
                Vec::new()
            }
            Some(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item.as_str() {
                    Some(name) if crate::eav::names::is_valid_name(name) => Some(name.to_owned()),
                    _ => {
                        errors.push(FieldError::new(
                            format!("{field}[{i}]"),
                            ErrorCode::Invalid,
                            "expected a column name",
                        ));
                        None
                    }
                })
                .collect(),
            None => {
                errors.push(FieldError::new(field, ErrorCode::Invalid, "expected an array of column names"));
                Vec::new()
            }
        }
    };
    let order = names("order", order);
    let hidden = names("hidden", hidden);
    let mut sizes = serde_json::Map::new();
    match widths.filter(|v| !v.is_null()) {
        None => {}
        Some(Value::Object(map)) if map.len() <= MAX_LAYOUT_COLUMNS => {
            for (name, px) in map {
                match px.as_i64() {
                    Some(px) if WIDTHS.contains(&px) && crate::eav::names::is_valid_name(name) => {
                        sizes.insert(name.clone(), json!(px));
                    }
                    _ => errors.push(FieldError::new(
                        format!("widths.{name}"),
                        ErrorCode::Invalid,
                        format!("expected a width from {} to {} pixels", WIDTHS.start(), WIDTHS.end()),
                    )),
                }
            }
        }
        Some(_) => errors.push(FieldError::new(
            "widths",
            ErrorCode::Invalid,
            format!("expected an object of column name → pixels (at most {MAX_LAYOUT_COLUMNS})"),
        )),
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(json!({ "order": order, "hidden": hidden, "widths": sizes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_checked_and_normalised() {
        let ok = parse_layout(&json!({"order": ["b", "a"], "widths": {"a": 120}})).unwrap();
        assert_eq!(ok, json!({"order": ["b", "a"], "hidden": [], "widths": {"a": 120}}));
        let fields = |body: Value| match parse_layout(&body) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("expected field errors, got {other:?}"),
        };
        assert_eq!(fields(json!({"hidden": ["ok", "Not Valid"]})), ["hidden[1]"]);
        assert_eq!(fields(json!({"widths": {"a": 5}})), ["widths.a"]);
        assert_eq!(fields(json!({"order": "a"})), ["order"]);
        assert!(matches!(parse_layout(&json!({"colour": 1})), Err(Error::BadRequest(..))));
    }
}
