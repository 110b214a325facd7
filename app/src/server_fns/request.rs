//! What a server function needs from its request (server side only): the core services, the caller, the
//! client's address for sessions and the audit log, and the response to set cookies and redirects on.

use http::{header, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tessera_core::auth::{cookies, Principal};
use tessera_core::events::Actor;
use tessera_core::locale::Locale;
use tessera_core::Services;

use crate::errors::{AppError, ErrorKind};

/// The caller of one HTTP request, resolved once: a page renders several server functions, and an expired
/// access token must be renewed only once (a refresh token presented twice revokes its session family).
/// The router provides one per request.
#[derive(Clone, Default)]
pub struct SessionMemo(std::sync::Arc<tokio::sync::OnceCell<Option<Principal>>>);

/// Taken from the reactive context *before* the first `.await` (the context is not guaranteed to be
/// reachable once the future has been suspended).
pub struct Request {
    pub services: Services,
    parts: Option<http::request::Parts>,
    response: Option<ResponseOptions>,
    memo: Option<SessionMemo>,
}

impl Request {
    pub fn capture() -> Result<Self, AppError> {
        let services = use_context::<Services>()
            .ok_or_else(|| AppError::new(ErrorKind::Server, "the server is not ready"))?;
        Ok(Self {
            services,
            parts: use_context::<http::request::Parts>(),
            response: use_context::<ResponseOptions>(),
            memo: use_context::<SessionMemo>(),
        })
    }

    /// The IP and user agent of the request (no user yet).
    pub fn client(&self) -> Actor {
        let Some(parts) = &self.parts else { return Actor::default() };
        let peer =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let ip = tessera_core::auth::client_ip(peer, forwarded, &self.services.config.auth.trusted_proxies);
        Actor::client(ip, parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()))
    }

    /// The value of one cookie of the request.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let headers = &self.parts.as_ref()?.headers;
        cookies::find_in(headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()), name)
    }

    /// The signed-in caller of this request (session cookies), if any. A failing database is an error, not
    /// "signed out".
    pub async fn principal(&self) -> Result<Option<Principal>, AppError> {
        match &self.memo {
            Some(memo) => memo.0.get_or_try_init(|| self.resolve_principal()).await.cloned(),
            None => self.resolve_principal().await,
        }
    }

    async fn resolve_principal(&self) -> Result<Option<Principal>, AppError> {
        let auth = self.services.auth();
        if let Some(token) = self.cookie(cookies::ACCESS_COOKIE) {
            match auth.authenticate_access_token(&token).await {
                Ok(principal) => return Ok(Some(principal)),
                Err(tessera_core::Error::Unauthenticated(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        // The access token is missing or expired. A page load renews it with the refresh cookie (one
        // document request at a time per tab); a server-function call does not, so that calls running side
        // by side never present the same refresh token twice — the page reloads instead.
        let Some(refresh) = self.cookie(cookies::REFRESH_COOKIE).filter(|_| self.is_page_load()) else {
            return Ok(None);
        };
        match auth.refresh(&self.client(), &refresh).await {
            Ok(outcome) => {
                self.set_cookies(cookies::signed_in(&self.services.config, &outcome));
                Ok(Some(auth.authenticate_access_token(&outcome.access_token).await?))
            }
            Err(tessera_core::Error::Unauthenticated(_)) => {
                self.set_cookies(cookies::signed_out(&self.services.config));
                Ok(None)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Is this the server rendering a page (a GET of a route, not a server-function call)?
    fn is_page_load(&self) -> bool {
        self.parts
            .as_ref()
            .is_some_and(|p| p.method == http::Method::GET && !p.uri.path().starts_with("/fn/"))
    }

    /// The signed-in caller and the actor to act as, or `Unauthenticated` (the page sends them to sign-in).
    pub async fn caller(&self) -> Result<(Principal, Actor), AppError> {
        let principal = self.principal().await?.ok_or_else(|| {
            AppError::new(ErrorKind::Unauthenticated, "your session has ended; sign in again")
        })?;
        self.services.auth().limit_user(principal.user_id).await.check()?;
        let mut actor = self.client();
        actor.user_id = Some(principal.user_id);
        Ok((principal, actor))
    }

    /// The signed-in caller holding `permission` (403 naming it otherwise).
    pub async fn caller_with(&self, permission: &str) -> Result<(Principal, Actor), AppError> {
        let (principal, actor) = self.caller().await?;
        self.services.auth().authorize(&principal, permission).await?;
        Ok((principal, actor))
    }

    /// The browser's preferred shipped language (`Accept-Language`).
    pub fn accept_language(&self) -> Option<Locale> {
        let header = self.parts.as_ref()?.headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        Locale::from_accept_language(header)
    }

    pub fn set_cookie(&self, value: &str) {
        if let (Some(response), Ok(value)) = (&self.response, HeaderValue::from_str(value)) {
            response.append_header(header::SET_COOKIE, value);
        }
    }

    pub fn set_cookies(&self, values: [String; 2]) {
        for value in values {
            self.set_cookie(&value);
        }
    }

    /// Was this request a form posted without JavaScript (the browser wants a page back)?
    pub fn is_plain_form(&self) -> bool {
        self.parts
            .as_ref()
            .and_then(|p| p.headers.get(header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    }

    /// Sends a form posted without JavaScript to `path` (302) instead of back where it came from. (The
    /// hydrated page navigates itself, on the answer.)
    pub fn redirect_plain_form(&self, path: &str) {
        if !self.is_plain_form() {
            return;
        }
        if let (Some(response), Ok(location)) = (&self.response, HeaderValue::from_str(path)) {
            response.insert_header(header::LOCATION, location);
            response.set_status(http::StatusCode::FOUND);
        }
    }
}

pub use crate::components::feedback::local_path;

/// The `items` of a core list answer (`{"items": [...]}`).
pub fn items(v: &serde_json::Value) -> Vec<serde_json::Value> {
    array(&v["items"])
}

/// The elements of a JSON array of a core answer (empty when absent).
pub fn array(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// A string field of a core answer (empty when absent).
pub fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A JSON scalar of a core answer as text (`None` for null): strings as they are, numbers and booleans as
/// JSON writes them.
pub fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The `Set-Cookie` value that remembers a language for a year (not HttpOnly: the page reads it too).
pub fn lang_cookie(services: &Services, code: &str) -> String {
    let secure = if services.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    format!("{}={code}; Path=/; Max-Age=31536000; SameSite=Lax{secure}", crate::i18n::LANG_COOKIE)
}

/// How the caller reads instants: their language and time zone (saved preference, else the language cookie
/// or the browser's language, and UTC).
pub struct Display {
    pub locale: tessera_core::locale::Locale,
    pub tz: chrono_tz::Tz,
}

impl Display {
    pub async fn of(request: &Request, principal: &Principal) -> Result<Self, AppError> {
        let preferences = request.services.auth().preferences(principal).await?;
        let locale = preferences
            .locale
            .or_else(|| request.cookie(crate::i18n::LANG_COOKIE).and_then(|c| Locale::parse(&c)))
            .or_else(|| request.accept_language())
            .unwrap_or_default();
        Ok(Self { locale, tz: preferences.tz() })
    }

    /// An RFC 3339 instant of a JSON answer, formatted; `None` for null or anything else.
    pub fn when(&self, value: &serde_json::Value) -> Option<String> {
        let at = chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
        Some(self.locale.date_time(at.with_timezone(&chrono::Utc), self.tz))
    }
}

#[cfg(test)]
mod tests {
    use crate::components::feedback::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/account"), "/account");
        assert_eq!(local_path("/admin/users?x=1"), "/admin/users?x=1");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path("/\t/evil.example"), "/");
        assert_eq!(local_path("/\n/evil.example"), "/");
        assert_eq!(local_path("/ /evil.example"), "/");
        assert_eq!(local_path(""), "/");
    }
}
