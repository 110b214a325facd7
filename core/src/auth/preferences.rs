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
