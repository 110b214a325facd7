//! Signing in and out, first-run setup, password reset and passkey enrollment: thin wrappers over
//! `tessera_core::auth::Auth`, with the session in the same HttpOnly cookies the REST API sets.
//!
//! The forms post to these functions, so they work with and without JavaScript. A function that ends on
//! another page answers that page's path: a form posted without JavaScript is redirected there (302), the
//! hydrated page loads it in full (so every part of the page follows the new session).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// The signed-in user, as the page shell needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub display_name: Option<String>,
    pub can_manage_users: bool,
    pub can_manage_roles: bool,
    pub can_read_audit: bool,
    pub can_manage_schema: bool,
    /// The logical tables the user may read (sidebar), by name.
    pub tables: Vec<String>,
}

impl Me {
    pub fn name(&self) -> &str {
        self.display_name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&self.username)
    }

    pub fn is_admin(&self) -> bool {
        self.can_manage_users || self.can_manage_roles || self.can_read_audit || self.can_manage_schema
    }
}

/// A started passkey ceremony: its id and the browser's options (WebAuthn JSON, as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ceremony {
    pub ceremony_id: String,
    pub options: String,
}

/// Who is looking at the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    SignedIn(Me),
    /// Not signed in: the sign-in page.
    SignIn,
    /// No user exists yet: first-run setup (the token printed at first start creates the Owner).
    Setup,
}

/// The page gate: signed in (with what the shell shows), sign in, or first-run setup.
#[server(prefix = "/fn", endpoint = "auth/gate")]
pub async fn get_gate() -> Result<Gate, AppError> {
    let request = server::Request::capture()?;
    let auth = request.services.auth();
    let Some(principal) = request.principal().await? else {
        return Ok(if auth.setup_pending().await? { Gate::Setup } else { Gate::SignIn });
    };
    let user = auth.current_user(&principal).await?;
    let mut tables =
        request.services.eav().list_tables(None, Some(request.services.config.limits.max_page_size)).await?;
    auth.keep_readable_tables(&principal, &mut tables).await?;
    let tables = tables["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|t| t["table_name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Ok(Gate::SignedIn(Me {
        username: user.username,
        display_name: user.display_name,
        can_manage_users: auth.is_allowed(&principal, "users:manage").await?,
        can_manage_roles: auth.is_allowed(&principal, "roles:manage").await?,
        can_read_audit: auth.is_allowed(&principal, "audit:read").await?,
        can_manage_schema: auth.is_allowed(&principal, "schema:manage").await?,
        tables,
    }))
}

/// The sign-in form: username or e-mail and password; answers the page to go to (`next`, local only).
#[server(prefix = "/fn", endpoint = "auth/sign-in")]
pub async fn sign_in(username: String, password: String, next: String) -> Result<String, AppError> {
    let request = server::Request::capture()?;
    let actor = request.client();
    let auth = request.services.auth();
    auth.limit_sign_in(actor.ip.as_deref()).await?;
    let outcome = auth.login(&actor, &username, &password).await?;
    server::signed_in(&request, &outcome, &next).await
}

/// First-run setup: the token printed at first start, then the Owner's account (signed in at once, on the
/// account page, to register a passkey next).
#[server(prefix = "/fn", endpoint = "auth/setup")]
pub async fn complete_setup(
    token: String,
    username: String,
    email: String,
    password: String,
) -> Result<String, AppError> {
    let request = server::Request::capture()?;
    let body = serde_json::json!({
        "token": token.trim(), "username": username, "password": password,
        "email": if email.trim().is_empty() { None } else { Some(email) },
    });
    let actor = request.client();
    let auth = request.services.auth();
    auth.limit_sign_in(actor.ip.as_deref()).await?;
    let outcome = auth.complete_setup(&actor, &body).await?;
    server::signed_in(&request, &outcome, "/account").await
}

/// Starts a passkey sign-in: `{ceremony_id, options}` as JSON text. With a username whose user has passkeys
/// the options list them; otherwise the authenticator is asked for a discoverable credential.
#[server(prefix = "/fn", endpoint = "auth/passkey-start")]
pub async fn passkey_sign_in_start(username: String) -> Result<Ceremony, AppError> {
    let request = server::Request::capture()?;
    let auth = request.services.auth();
    auth.limit_sign_in(request.client().ip.as_deref()).await?;
    let username = username.trim();
    let body =
        if username.is_empty() { serde_json::json!({}) } else { serde_json::json!({ "username": username }) };
    Ok(server::ceremony(auth.passkey_authenticate_start(&body).await?))
}

/// Finishes a passkey sign-in with the browser's credential (JSON text); answers the page to go to.
#[server(prefix = "/fn", endpoint = "auth/passkey-finish")]
pub async fn passkey_sign_in_finish(
    ceremony_id: String,
    credential: String,
    next: String,
) -> Result<String, AppError> {
    let request = server::Request::capture()?;
    let actor = request.client();
    let body = server::ceremony_body(&ceremony_id, &credential, None)?;
    let auth = request.services.auth();
    auth.limit_sign_in(actor.ip.as_deref()).await?;
    let outcome = auth.passkey_authenticate_finish(&actor, &body).await?;
    server::signed_in(&request, &outcome, &next).await
}

/// Mails a password-reset link when an account matches (the answer never says whether one does).
#[server(prefix = "/fn", endpoint = "auth/reset-request")]
pub async fn request_password_reset(login: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let actor = request.client();
    let auth = request.services.auth();
    auth.limit_sign_in(actor.ip.as_deref()).await?;
    auth.request_password_reset(&actor, &serde_json::json!({ "email": login })).await?;
    request.redirect_plain_form("/reset-password?sent=1");
    Ok(())
}

/// Sets a new password with the token of a reset link (every session of the user is signed out).
#[server(prefix = "/fn", endpoint = "auth/reset-confirm")]
pub async fn confirm_password_reset(token: String, new_password: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let actor = request.client();
    let auth = request.services.auth();
    auth.limit_sign_in(actor.ip.as_deref()).await?;
    auth.confirm_password_reset(&actor, &serde_json::json!({ "token": token, "new_password": new_password }))
        .await?;
    request.redirect_plain_form("/sign-in?notice=reset");
    Ok(())
}

/// Starts registering a passkey with an enrollment link's token: `{ceremony_id, options}` as JSON text.
#[server(prefix = "/fn", endpoint = "auth/enroll-start")]
pub async fn enroll_start(token: String) -> Result<Ceremony, AppError> {
    let request = server::Request::capture()?;
    let auth = request.services.auth();
    auth.limit_sign_in(request.client().ip.as_deref()).await?;
    Ok(server::ceremony(auth.enroll_start(&token).await?))
}

/// Finishes the enrollment: stores the passkey and uses up the link.
#[server(prefix = "/fn", endpoint = "auth/enroll-finish")]
pub async fn enroll_finish(token: String, ceremony_id: String, credential: String) -> Result<(), AppError> {
    let request = server::Request::capture()?;
    let actor = request.client();
    let mut body = server::ceremony_body(&ceremony_id, &credential, None)?;
    body["token"] = serde_json::Value::String(token);
    let auth = request.services.auth();
    auth.limit_sign_in(actor.ip.as_deref()).await?;
    auth.enroll_finish(&actor, &body).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    pub use super::super::request::Request;
    use super::super::request::{lang_cookie, local_path};
    use crate::errors::{AppError, ErrorKind};
    use tessera_core::auth::{cookies, LoginOutcome, Principal};

    /// Ends a sign-in: session cookies, the saved language, and the page to go to.
    pub async fn signed_in(
        request: &Request,
        outcome: &LoginOutcome,
        next: &str,
    ) -> Result<String, AppError> {
        request.set_cookies(cookies::signed_in(&request.services.config, outcome));
        let principal = Principal {
            user_id: outcome.user.id,
            username: outcome.user.username.clone(),
            session_id: Some(outcome.session_id),
            api_token: None,
        };
        if let Some(locale) = request.services.auth().preferences(&principal).await?.locale {
            request.set_cookie(&lang_cookie(&request.services, locale.code()));
        }
        Ok(go(request, &local_path(next)))
    }

    /// Answers `path` and, for a form posted without JavaScript, redirects there.
    pub fn go(request: &Request, path: &str) -> String {
        request.redirect_plain_form(path);
        path.to_owned()
    }

    /// `{"ceremony_id", "options"}` of core → what the page needs.
    pub fn ceremony(started: serde_json::Value) -> super::Ceremony {
        super::Ceremony {
            ceremony_id: started["ceremony_id"].as_str().unwrap_or_default().to_owned(),
            options: started["options"].to_string(),
        }
    }

    /// `{"ceremony_id", "credential", "name"?}` from the texts the page sends.
    pub fn ceremony_body(
        ceremony_id: &str,
        credential: &str,
        name: Option<&str>,
    ) -> Result<serde_json::Value, AppError> {
        let credential: serde_json::Value = serde_json::from_str(credential)
            .map_err(|_| AppError::new(ErrorKind::Invalid, "the browser sent an unreadable credential"))?;
        let mut body = serde_json::json!({ "ceremony_id": ceremony_id, "credential": credential });
        if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
            body["name"] = serde_json::Value::String(name.to_owned());
        }
        Ok(body)
    }
}
