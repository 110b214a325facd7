//! The account page: the caller's passkeys, sessions, password, API tokens and preferences. Every function
//! needs a signed-in session (cookies; API tokens never reach these) and calls `tessera_core::auth::Auth`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    pub id: String,
    /// `Chrome on Linux`, or the raw user agent when it is not recognised.
    pub device: String,
    pub method: String,
    pub ip: Option<String>,
    pub created: String,
    pub last_seen: Option<String>,
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    pub provider: Option<String>,
    pub created: String,
    pub last_used: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenItem {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// Everything the account page shows, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub sessions: Vec<SessionItem>,
    pub passkeys: Vec<PasskeyItem>,
    pub tokens: Vec<TokenItem>,
    pub lang: Option<Lang>,
    pub time_zone: Option<String>,
    /// Every IANA time-zone name, for the picker.
    pub time_zones: Vec<String>,
}

#[server(prefix = "/fn", endpoint = "account/get")]
pub async fn get_account() -> Result<Account, AppError> {
    let request = server::Request::capture()?;
    let (principal, _) = request.caller().await?;
    let auth = request.services.auth();
    let display = server::Display::of(&request, &principal).await?;
    let (items, text) = (server::items, server::text);
    let sessions = items(&auth.list_sessions(&principal).await?)
        .iter()
        .map(|s| {
            let info = &s["device_info"];
            let device = match (info["browser"].as_str(), info["platform"].as_str()) {
                (Some(b), Some(p)) => format!("{b} · {p}"),
                (Some(one), None) | (None, Some(one)) => one.to_owned(),
                (None, None) => s["user_agent"].as_str().unwrap_or("?").chars().take(60).collect(),
            };
            SessionItem {
                id: text(&s["id"]),
                device,
                method: text(&s["auth_method"]),
                ip: s["ip"].as_str().map(str::to_owned),
                created: display.when(&s["created_at"]).unwrap_or_default(),
                last_seen: display.when(&s["last_seen_at"]),
                current: s["current"].as_bool().unwrap_or(false),
            }
        })
        .collect();
    let passkeys = items(&auth.list_passkeys(&principal).await?)
        .iter()
        .map(|p| PasskeyItem {
            id: text(&p["id"]),
            name: text(&p["name"]),
            provider: p["provider"].as_str().map(str::to_owned),
            created: display.when(&p["created_at"]).unwrap_or_default(),
            last_used: display.when(&p["last_used_at"]),
        })
        .collect();
    let tokens = items(&auth.list_api_tokens(&principal).await?)
        .iter()
        .map(|t| TokenItem {
            id: text(&t["id"]),
            name: text(&t["name"]),
            scopes: t["scopes"].as_array().map(|s| s.iter().map(text).collect()).unwrap_or_default(),
            created: display.when(&t["created_at"]).unwrap_or_default(),
            expires: display.when(&t["expires_at"]),
            last_used: display.when(&t["last_used_at"]),
            revoked: !t["revoked_at"].is_null(),
        })
        .collect();
    let preferences = auth.preferences(&principal).await?;
    Ok(Account {
        username: principal.username.clone(),
        sessions,
        passkeys,
        tokens,
        lang: preferences.locale.and_then(|l| Lang::from_code(l.code())),
        time_zone: preferences.time_zone,
        time_zones: tessera_core::locale::time_zone_names().map(str::to_owned).collect(),
    })
}

#[server(prefix = "/fn", endpoint = "account/revoke-session")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let id = server::uuid(&id, "id")?;
    request.services.auth().revoke_session(&actor, &principal, id).await?;
    Ok(())
}

/// Signs out every other session; answers how many.
#[server(prefix = "/fn", endpoint = "account/revoke-other-sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    Ok(request.services.auth().revoke_other_sessions(&actor, &principal).await?)
}

#[server(prefix = "/fn", endpoint = "account/change-password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let body = serde_json::json!({ "current_password": current_password, "new_password": new_password });
    request.services.auth().change_password(&actor, &principal, &body).await?;
    Ok(())
}

/// Starts registering a passkey for the caller: `{ceremony_id, options}` as JSON text.
#[server(prefix = "/fn", endpoint = "account/passkey-start")]
pub async fn passkey_register_start() -> Result<super::auth::Ceremony, AppError> {
    let request = server::Request::capture()?;
    let (principal, _) = request.caller().await?;
    Ok(super::auth::server::ceremony(request.services.auth().passkey_register_start(&principal).await?))
}

#[server(prefix = "/fn", endpoint = "account/passkey-finish")]
pub async fn passkey_register_finish(
    ceremony_id: String,
    credential: String,
    name: String,
) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let body = super::auth::server::ceremony_body(&ceremony_id, &credential, Some(&name))?;
    request.services.auth().passkey_register_finish(&principal, &actor, &body).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "account/rename-passkey")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let id = server::uuid(&id, "id")?;
    request
        .services
        .auth()
        .rename_passkey(&principal, &actor, id, &serde_json::json!({ "name": name }))
        .await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "account/delete-passkey")]
pub async fn delete_passkey(id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let id = server::uuid(&id, "id")?;
    request.services.auth().delete_passkey(&principal, &actor, id).await?;
    Ok(())
}

/// Creates an API token; answers its secret (shown once). `scopes` is comma- or space-separated;
/// `expires_at` is a date (`YYYY-MM-DD`, end of that day UTC) or empty.
#[server(prefix = "/fn", endpoint = "account/create-token")]
pub async fn create_api_token(name: String, scopes: String, expires_at: String) -> Result<String, AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let scopes: Vec<&str> = scopes.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    let tz = server::Display::of(&request, &principal).await?.tz;
    let expires_at = server::end_of_day(&expires_at, "expires_at", tz)?;
    let body = serde_json::json!({ "name": name, "scopes": scopes, "expires_at": expires_at });
    let token = request.services.auth().create_api_token(&actor, &principal, &body).await?;
    Ok(token["token"].as_str().unwrap_or_default().to_owned())
}

#[server(prefix = "/fn", endpoint = "account/revoke-token")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let id = server::uuid(&id, "id")?;
    request.services.auth().revoke_api_token(&actor, &principal, id).await?;
    Ok(())
}

/// Saves the language and time zone (empty = not chosen) and remembers the language in its cookie.
#[server(prefix = "/fn", endpoint = "account/preferences")]
pub async fn set_preferences(lang: String, time_zone: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let lang = lang.trim();
    let body = serde_json::json!({
        "locale": if lang.is_empty() { None } else { Some(lang) },
        "time_zone": time_zone.trim(),
    });
    let saved = request.services.auth().set_preferences(&actor, &principal, &body).await?;
    if let Some(locale) = saved.locale {
        request.set_cookie(&super::request::lang_cookie(&request.services, locale.code()));
    }
    Ok(())
}

/// Saves only the language (the switch in the top bar) and remembers it in its cookie.
#[server(prefix = "/fn", endpoint = "account/language")]
pub async fn set_language(lang: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let (principal, actor) = request.caller().await?;
    let body = serde_json::json!({ "locale": lang.trim() });
    let saved = request.services.auth().set_preferences(&actor, &principal, &body).await?;
    if let Some(locale) = saved.locale {
        request.set_cookie(&super::request::lang_cookie(&request.services, locale.code()));
    }
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    pub use super::super::request::{items, text, Display, Request};
    use crate::errors::AppError;

    fn invalid(field: &str, message: &str) -> AppError {
        tessera_core::Error::invalid(field, tessera_core::ErrorCode::Format, message).into()
    }

    pub fn uuid(text: &str, field: &str) -> Result<uuid::Uuid, AppError> {
        text.trim().parse().map_err(|_| invalid(field, "not an id"))
    }

    /// `YYYY-MM-DD` → the last second of that day in the caller's time zone (RFC 3339; shown as that day,
    /// 23:59); empty → null.
    pub fn end_of_day(text: &str, field: &str, tz: chrono_tz::Tz) -> Result<Option<String>, AppError> {
        let next_day = tessera_core::locale::day_start(field, text, tz, 1)
            .map_err(|e| AppError::from(tessera_core::Error::Validation(vec![e])))?;
        Ok(next_day.map(|t| (t - chrono::TimeDelta::seconds(1)).to_rfc3339()))
    }
}
