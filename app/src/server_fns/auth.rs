//! Signing in and out from the web pages: thin wrappers over `tessera_core::auth::Auth`, with the session in
//! the same HttpOnly cookies the REST API sets. The forms post to these functions, so they work with and
//! without JavaScript: every outcome ends in a redirect to `/` (errors as `?error=…`), which the page reads.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is looking at the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    /// Signed in: show the application.
    SignedIn { username: String, display_name: Option<String> },
    /// Not signed in: show the sign-in form.
    SignIn,
    /// No user exists yet: show first-run setup (the token printed at first start creates the Owner).
    Setup,
}

/// The page gate: signed in, sign in, or first-run setup.
#[server(prefix = "/fn", endpoint = "auth/gate")]
pub async fn get_gate() -> Result<Gate, ServerFnError> {
    let request = server::Request::capture()?;
    let auth = request.services.auth();
    if let Some(principal) = request.principal().await {
        let user = auth.current_user(&principal).await.map_err(server::failure)?;
        return Ok(Gate::SignedIn { username: user.username, display_name: user.display_name });
    }
    if auth.setup_pending().await.map_err(server::failure)? {
        Ok(Gate::Setup)
    } else {
        Ok(Gate::SignIn)
    }
}

/// The sign-in form: username or e-mail and password.
#[server(prefix = "/fn", endpoint = "auth/sign-in")]
pub async fn sign_in(username: String, password: String) -> Result<(), ServerFnError> {
    let request = server::Request::capture()?;
    let actor = request.actor();
    let auth = request.services.auth();
    let outcome = match auth.limit_sign_in(actor.ip.as_deref()).await {
        Ok(()) => auth.login(&actor, &username, &password).await,
        Err(limited) => Err(limited),
    };
    request.finish(outcome);
    Ok(())
}

/// First-run setup: the token printed at first start, then the Owner's account.
#[server(prefix = "/fn", endpoint = "auth/setup")]
pub async fn complete_setup(
    token: String,
    username: String,
    email: String,
    password: String,
) -> Result<(), ServerFnError> {
    let request = server::Request::capture()?;
    let body = serde_json::json!({
        "token": token.trim(), "username": username, "password": password,
        "email": if email.trim().is_empty() { None } else { Some(email) },
    });
    let actor = request.actor();
    let auth = request.services.auth();
    let outcome = match auth.limit_sign_in(actor.ip.as_deref()).await {
        Ok(()) => auth.complete_setup(&actor, &body).await,
        Err(limited) => Err(limited),
    };
    request.finish(outcome);
    Ok(())
}

/// Signs out: revokes the session and removes the cookies.
#[server(prefix = "/fn", endpoint = "auth/sign-out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let request = server::Request::capture()?;
    if let Some(principal) = request.principal().await {
        request.services.auth().logout(&request.actor(), &principal).await.map_err(server::failure)?;
    }
    request.set_cookies(tessera_core::auth::cookies::signed_out(&request.services.config));
    request.redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use http::{header, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos::server_fn::redirect::REDIRECT_HEADER;
    use leptos_axum::ResponseOptions;
    use tessera_core::auth::{cookies, LoginOutcome, Principal};
    use tessera_core::events::Actor;
    use tessera_core::{Error, Services};

    /// What a server function needs from its request, taken from the reactive context *before* the first
    /// `.await` (the context is not guaranteed to be reachable once the future has been suspended).
    pub struct Request {
        pub services: Services,
        parts: Option<http::request::Parts>,
        response: Option<ResponseOptions>,
    }

    impl Request {
        pub fn capture() -> Result<Self, ServerFnError> {
            let services =
                use_context::<Services>().ok_or_else(|| ServerFnError::new("the server is not ready"))?;
            Ok(Self {
                services,
                parts: use_context::<http::request::Parts>(),
                response: use_context::<ResponseOptions>(),
            })
        }

        /// The IP and user agent of the request, for sessions and the audit log.
        pub fn actor(&self) -> Actor {
            let Some(parts) = &self.parts else { return Actor::default() };
            let peer =
                parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
            let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
            let trusted = &self.services.config.auth.trusted_proxies;
            let ip = tessera_core::auth::client_ip(peer, forwarded, trusted).map(|ip| ip.to_string());
            let user_agent = parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(512).collect());
            Actor { user_id: None, ip, user_agent, unmask: false }
        }

        /// The signed-in caller of this request (session cookie), if any.
        pub async fn principal(&self) -> Option<Principal> {
            let token = self
                .parts
                .as_ref()?
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| cookies::find(v, cookies::ACCESS_COOKIE))?;
            self.services.auth().authenticate_access_token(&token).await.ok()
        }

        /// The signed-in caller, or the error every data-reading server function answers anonymous callers.
        pub async fn require_principal(&self) -> Result<Principal, ServerFnError> {
            self.principal().await.ok_or_else(|| ServerFnError::new("sign in first"))
        }

        pub fn set_cookies(&self, values: [String; 2]) {
            let Some(response) = &self.response else { return };
            for value in values {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.append_header(header::SET_COOKIE, value);
                }
            }
        }

        /// Redirects a plain form post (302) or tells the server-function client to navigate (as
        /// `leptos_axum::redirect` does, without reading the context again).
        pub fn redirect(&self, path: &str) {
            let (Some(response), Ok(location)) = (&self.response, HeaderValue::from_str(path)) else {
                return;
            };
            response.insert_header(header::LOCATION, location);
            let accepts_html = self
                .parts
                .as_ref()
                .and_then(|p| p.headers.get(header::ACCEPT))
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"));
            if accepts_html {
                response.set_status(StatusCode::FOUND);
            } else {
                response.insert_header(
                    header::HeaderName::from_static(REDIRECT_HEADER),
                    HeaderValue::from_static(""),
                );
            }
        }

        /// Ends a sign-in form: cookies and a redirect to `/` on success, `/?error=…` otherwise (the message
        /// a user may see: wrong credentials, locked, rate limited, validation — never an internal cause).
        pub fn finish(&self, outcome: Result<LoginOutcome, Error>) {
            match outcome {
                Ok(outcome) => {
                    self.set_cookies(cookies::signed_in(&self.services.config, &outcome));
                    self.redirect("/");
                }
                Err(error) => self.redirect(&format!("/?error={}", url_encode(&message(&error)))),
            }
        }
    }

    /// What a person is told about a failed form.
    fn message(error: &Error) -> String {
        match error {
            Error::Store(cause) => {
                tracing::error!(error = %cause, "sign-in failed");
                "Something went wrong on the server; please try again.".into()
            }
            Error::Validation(errors) | Error::BadRequest(errors) => {
                errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ")
            }
            other => other.to_string(),
        }
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
        .collect()
    }

    fn url_encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    pub fn failure(error: Error) -> ServerFnError {
        if let Error::Store(cause) = &error {
            tracing::error!(error = %cause, "server function failed");
            return ServerFnError::new("an internal error occurred; it has been logged");
        }
        ServerFnError::new(error.to_string())
    }
}
