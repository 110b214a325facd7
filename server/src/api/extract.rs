//! Extractors whose rejections are problem JSON (never axum's text/plain), and the caller of a request.

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::de::DeserializeOwned;
use tessera_core::auth::Principal;
use tessera_core::events::Actor;
use tessera_core::Services;

use super::problem::Problem;

/// A JSON body (any JSON value; core services read it strictly and name unknown fields).
pub struct ApiJson(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for ApiJson {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<serde_json::Value>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// Query-string parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

pub use tessera_core::auth::cookies::{ACCESS_COOKIE, REFRESH_COOKIE};

/// The client's address (see `tessera_core::auth::client_ip`: the peer, or behind trusted proxies the
/// forwarded address).
pub fn client_address(
    trusted: &[std::net::IpAddr],
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    let peer = extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    tessera_core::auth::client_ip(peer, forwarded, trusted)
}

/// The IP address and user agent of a request, for audit entries and sessions.
pub fn client_actor(trusted: &[std::net::IpAddr], parts: &Parts) -> Actor {
    let ip = client_address(trusted, &parts.extensions, &parts.headers);
    Actor::client(ip, parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()))
}

/// The value of one cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    tessera_core::auth::cookies::find_in(
        headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()),
        name,
    )
}

/// An anonymous or authenticated request's client (no authentication required): IP and user agent.
pub struct Client(pub Actor);

impl<S> FromRequestParts<S> for Client
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let services = Services::from_ref(state);
        Ok(Client(client_actor(&services.config.auth.trusted_proxies, parts)))
    }
}

/// An authenticated caller: `Authorization: Bearer <access token | API token>` or the session cookie.
/// Anything else is a 401. Handlers then ask for a permission with one call: [`Caller::require`] or
/// [`Caller::table`].
pub struct Caller {
    pub principal: Principal,
    /// Stamps and audit entries: the user, IP and user agent (`unmask` is set per table by `table`).
    pub actor: Actor,
    services: Services,
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let services = Services::from_ref(state);
        let auth = services.auth();
        let bearer = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                    .map(|t| t.trim().to_owned())
                    .ok_or_else(|| Problem::unauthenticated("Authorization must be 'Bearer <token>'"))?,
            ),
            None => None,
        };
        let principal = match bearer {
            Some(token) if token.starts_with(tessera_core::auth::api_tokens::PREFIX) => {
                auth.authenticate_api_token(&token).await?
            }
            Some(token) => auth.authenticate_access_token(&token).await?,
            None => match cookie(&parts.headers, ACCESS_COOKIE) {
                Some(token) => auth.authenticate_access_token(&token).await?,
                None => return Err(Problem::unauthenticated("sign in first: no access token or API token")),
            },
        };
        let limit = auth.limit_user(principal.user_id).await;
        if let (Some(state), Some(slot)) = (limit.state, parts.extensions.get::<crate::security::UserRate>())
        {
            slot.record(state);
        }
        limit.check()?;
        let mut actor = client_actor(&services.config.auth.trusted_proxies, parts);
        actor.user_id = Some(principal.user_id);
        Ok(Caller { principal, actor, services })
    }
}

/// A caller when the request authenticates, `None` otherwise (for endpoints open to both, like sign-out).
pub struct MaybeCaller(pub Option<Caller>);

impl<S> FromRequestParts<S> for MaybeCaller
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(Caller::from_request_parts(parts, state).await.ok()))
    }
}

impl Caller {
    /// Requires a permission (`schema:manage`, `users:manage`, …): 403 naming it when missing.
    pub async fn require(&self, permission: &str) -> Result<(), Problem> {
        Ok(self.services.auth().authorize(&self.principal, permission).await?)
    }

    /// Removes from a `{items: [table…]}` page the tables the caller may not read.
    pub async fn keep_readable_tables(&self, page: &mut serde_json::Value) -> Result<(), Problem> {
        Ok(self.services.auth().keep_readable_tables(&self.principal, page).await?)
    }

    /// Requires a signed-in session: the caller's own account (sessions, password, passkeys, API tokens)
    /// is not reachable with an API token, whatever its scopes — a leaked token must not mint new
    /// credentials or lock its owner out.
    pub fn require_session(&self) -> Result<(), Problem> {
        if self.principal.api_token.is_some() {
            return Err(Problem::from(tessera_core::Error::Forbidden(
                "this endpoint needs a signed-in session; API tokens cannot manage the account".into(),
            )));
        }
        Ok(())
    }

    /// Requires `table:<id>:<action>` on the named table and returns the actor to act with
    /// (`Services::table_actor`).
    pub async fn table(&self, table: &str, action: &str) -> Result<Actor, Problem> {
        Ok(self.services.table_actor(&self.principal, self.actor.clone(), table, action).await?)
    }
}

/// Parses `If-Match: "3"` (also `W/"3"` or `3`) into an expected version.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i32>, Problem> {
    let Some(raw) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = raw.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| Problem::bad_field("If-Match", "expected the row version, e.g. \"3\""))
}
