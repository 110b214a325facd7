//! Auth, users, RBAC, API tokens and audit endpoints of `spec/api.md`: thin adapters over
//! `tessera_core::auth::Auth`. Every handler that needs a signed-in caller takes [`Caller`] and names its
//! permission in one call; the anonymous ones are listed in `openapi::PUBLIC`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};
use tessera_core::auth::audit::{self, AuditFilter};
use tessera_core::auth::{cookies, LoginOutcome};
use tessera_core::events::Actor;
use tessera_core::Services;
use uuid::Uuid;

use super::extract::{cookie, ApiJson, ApiPath, ApiQuery, Caller, Client, MaybeCaller, REFRESH_COOKIE};
use super::openapi::Endpoint;
use super::problem::Problem;

type ApiResult<T = Response> = Result<T, Problem>;

const USERS: &str = "users:manage";
const ROLES: &str = "roles:manage";
const AUDIT: &str = "audit:read";

macro_rules! endpoint {
    ($method:ident $path:literal, $tag:literal, $summary:literal, $ok:expr, $handler:expr) => {
        Endpoint {
            method: stringify!($method),
            path: $path,
            tag: $tag,
            summary: $summary,
            request: if matches!(stringify!($method), "post" | "patch" | "put") {
                Some("Object")
            } else {
                None
            },
            ok: $ok,
            query: &[],
            errors: &[400, 404, 409, 422],
            handler: $method($handler),
        }
    };
}

/// The endpoints of this module, documented.
pub fn endpoints() -> Vec<Endpoint> {
    const OBJ: (u16, Option<&str>) = (200, Some("Object"));
    const NONE: (u16, Option<&str>) = (204, None);
    let mut list = vec![
        endpoint!(post "/auth/login", "Auth", "Sign in with username or e-mail and password", (200, Some("Login")), login),
        endpoint!(post "/auth/refresh", "Auth", "Rotate the refresh token (body or cookie)", (200, Some("Login")), refresh),
        endpoint!(post "/auth/logout", "Auth", "Sign out (revoke the current session)", NONE, logout),
        endpoint!(get "/auth/session", "Auth", "The signed-in user, session and permissions", OBJ, session),
        endpoint!(get "/auth/sessions", "Auth", "The caller's active sessions", OBJ, list_sessions),
        endpoint!(delete "/auth/sessions", "Auth", "Revoke every session but the current one", OBJ, revoke_other_sessions),
        endpoint!(delete "/auth/sessions/{id}", "Auth", "Revoke one session", NONE, revoke_session),
        endpoint!(get "/auth/preferences", "Auth", "The caller's language and time zone", OBJ, get_preferences),
        endpoint!(put "/auth/preferences", "Auth", "Set the caller's language (en, es) and time zone (IANA)", OBJ, put_preferences),
        endpoint!(get "/auth/preferences/grid/{table}", "Auth", "The caller's grid layout of a table (column order, hidden columns, widths)", OBJ, get_grid_layout),
        endpoint!(put "/auth/preferences/grid/{table}", "Auth", "Replace the caller's grid layout of a table", OBJ, put_grid_layout),
        endpoint!(post "/auth/password/change", "Auth", "Change the caller's password", NONE, change_password),
        endpoint!(post "/auth/password/reset/request", "Auth", "Mail a password-reset link (always 202)", (202, None), reset_request),
        endpoint!(post "/auth/password/reset/confirm", "Auth", "Set a new password with a reset token", NONE, reset_confirm),
        endpoint!(get "/auth/setup", "Auth", "Is first-run setup pending?", OBJ, setup_status),
        endpoint!(post "/auth/setup", "Auth", "Redeem the setup token: create the Owner", (200, Some("Login")), setup),
        endpoint!(post "/auth/enroll/start", "Passkeys", "Start passkey enrollment with a one-time token", OBJ, enroll_start),
        endpoint!(post "/auth/enroll/finish", "Passkeys", "Finish passkey enrollment", (201, Some("Object")), enroll_finish),
        endpoint!(post "/auth/passkey/register/start", "Passkeys", "Start registering a passkey", OBJ, register_start),
        endpoint!(post "/auth/passkey/register/finish", "Passkeys", "Finish registering a passkey", (201, Some("Object")), register_finish),
        endpoint!(post "/auth/passkey/authenticate/start", "Passkeys", "Start a passkey sign-in", OBJ, authenticate_start),
        endpoint!(post "/auth/passkey/authenticate/finish", "Passkeys", "Finish a passkey sign-in", (200, Some("Login")), authenticate_finish),
        endpoint!(get "/auth/passkeys", "Passkeys", "The caller's passkeys", OBJ, list_passkeys),
        endpoint!(patch "/auth/passkeys/{id}", "Passkeys", "Rename a passkey", OBJ, rename_passkey),
        endpoint!(delete "/auth/passkeys/{id}", "Passkeys", "Delete a passkey", NONE, delete_passkey),
        endpoint!(get "/api-tokens", "API tokens", "The caller's API tokens", OBJ, list_api_tokens),
        endpoint!(post "/api-tokens", "API tokens", "Create an API token (the secret is shown once)", (201, Some("Object")), create_api_token),
        endpoint!(delete "/api-tokens/{id}", "API tokens", "Revoke an API token", NONE, revoke_api_token),
        endpoint!(get "/users", "Users", "List users", OBJ, list_users),
        endpoint!(post "/users", "Users", "Create a user", (201, Some("Object")), create_user),
        endpoint!(get "/users/{id}", "Users", "Describe a user", OBJ, get_user),
        endpoint!(patch "/users/{id}", "Users", "Change a user (e-mail, name, active)", OBJ, update_user),
        endpoint!(delete "/users/{id}", "Users", "Deactivate a user (revokes every session)", OBJ, deactivate_user),
        endpoint!(post "/users/{id}/unlock", "Users", "Clear a user's lockout", OBJ, unlock_user),
        endpoint!(post "/users/{id}/enrollment-tokens", "Users", "Issue a one-time passkey enrollment link", (201, Some("Object")), issue_enrollment),
        endpoint!(get "/users/{id}/roles", "Users", "A user's role assignments", OBJ, list_user_roles),
        endpoint!(post "/users/{id}/roles", "Users", "Assign a role (optionally expiring)", OBJ, assign_role),
        endpoint!(delete "/users/{id}/roles/{role_id}", "Users", "Remove a role from a user", NONE, unassign_role),
        endpoint!(get "/roles", "Roles", "List roles", OBJ, list_roles),
        endpoint!(post "/roles", "Roles", "Create a role", (201, Some("Object")), create_role),
        endpoint!(get "/roles/{id}", "Roles", "Describe a role", OBJ, get_role),
        endpoint!(patch "/roles/{id}", "Roles", "Change a role", OBJ, update_role),
        endpoint!(delete "/roles/{id}", "Roles", "Delete a role", NONE, delete_role),
        endpoint!(get "/roles/{id}/permissions", "Roles", "A role's permissions", OBJ, list_role_permissions),
        endpoint!(post "/roles/{id}/permissions", "Roles", "Grant a permission to a role", OBJ, grant_role_permission),
        endpoint!(delete "/roles/{id}/permissions/{permission}", "Roles", "Revoke a permission from a role", NONE, revoke_role_permission),
        endpoint!(get "/permissions", "Roles", "Every known permission", OBJ, list_permissions),
        endpoint!(get "/audit", "Audit", "Audit log entries, newest first, filtered", OBJ, audit_page),
        endpoint!(get "/audit/export", "Audit", "The filtered audit log as CSV", (200, None), audit_export),
    ];
    for e in &mut list {
        if e.path.starts_with("/audit") {
            e.query = &[
                ("actor_user_id", "only this user's actions"),
                ("action", "event type, e.g. LoginFailed"),
                ("entity_type", "user, row, logical_table, role, …"),
                ("entity_id", "one entity"),
                ("from", "RFC 3339, inclusive"),
                ("to", "RFC 3339, exclusive"),
                ("limit", "page size"),
                ("cursor", "next_cursor of the previous page"),
            ];
        }
    }
    list
}

// --- Cookies and sign-in answers -------------------------------------------------------------------------

/// The login answer: the JSON body of `api.md` plus the browser's session cookies.
fn signed_in(s: &Services, outcome: &LoginOutcome) -> Response {
    with_cookies(Json(outcome).into_response(), cookies::signed_in(&s.config, outcome))
}

fn signed_out(s: &Services) -> Response {
    with_cookies(StatusCode::NO_CONTENT.into_response(), cookies::signed_out(&s.config))
}

fn with_cookies(mut response: Response, values: [String; 2]) -> Response {
    for value in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The stricter per-IP limit on sign-in, reset, setup and enrollment endpoints.
async fn limit_sign_in(s: &Services, actor: &Actor) -> ApiResult<()> {
    Ok(s.auth().limit_sign_in(actor.ip.as_deref()).await?)
}

fn text_field(body: &Value, name: &str) -> ApiResult<String> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        _ => Err(Problem::from(tessera_core::Error::bad_request(
            name,
            tessera_core::ErrorCode::Required,
            format!("'{name}' is required (a string)"),
        ))),
    }
}

/// A body that may be empty (then `{}`), else JSON.
fn optional_json(bytes: &[u8]) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_field("body", format!("not JSON: {e}")))
}

fn parse_uuid(text: &str, field: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| Problem::bad_field(field, format!("'{text}' is not a UUID")))
}

// --- Sign-in and sessions ----------------------------------------------------------------------------------

async fn login(State(s): State<Services>, Client(actor): Client, ApiJson(body): ApiJson) -> ApiResult {
    limit_sign_in(&s, &actor).await?;
    if let Some(extra) =
        body.as_object().and_then(|o| o.keys().find(|k| *k != "username" && *k != "password"))
    {
        return Err(Problem::bad_field(extra, format!("unknown field '{extra}'")));
    }
    let username = text_field(&body, "username")?;
    let password = text_field(&body, "password")?;
    let outcome = s.auth().login(&actor, &username, &password).await?;
    Ok(signed_in(&s, &outcome))
}

async fn refresh(
    State(s): State<Services>,
    Client(actor): Client,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult {
    let body = optional_json(&body)?;
    let token = match body.get("refresh_token").and_then(Value::as_str) {
        Some(token) => token.to_owned(),
        None => cookie(&headers, REFRESH_COOKIE)
            .ok_or_else(|| Problem::unauthenticated("no refresh token (body or cookie)"))?,
    };
    let outcome = s.auth().refresh(&actor, &token).await?;
    Ok(signed_in(&s, &outcome))
}

/// Signs out: revokes the session named by the access token or, once that has expired, by the refresh
/// token (cookie or body), and clears the cookies. Without either it is a 401 like every endpoint.
async fn logout(
    State(s): State<Services>,
    MaybeCaller(caller): MaybeCaller,
    Client(actor): Client,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult {
    // The web app's sign-out is a plain form posted here (this path receives the refresh cookie, so an
    // expired access token still revokes the session): a browser is sent on to the sign-in page.
    let from_a_page =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    match caller {
        Some(caller) => s.auth().logout(&caller.actor, &caller.principal).await?,
        None => {
            let body = optional_json(&body)?;
            let refresh = body
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| cookie(&headers, REFRESH_COOKIE));
            match refresh {
                Some(token) => s.auth().logout_with_refresh_token(&actor, &token).await?,
                None if from_a_page => {}
                None => return Err(Problem::unauthenticated("sign in first: nothing to sign out of")),
            }
        }
    }
    if from_a_page {
        let response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/sign-in")]).into_response();
        return Ok(with_cookies(response, cookies::signed_out(&s.config)));
    }
    Ok(signed_out(&s))
}

async fn session(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    let auth = s.auth();
    let user = auth.current_user(&caller.principal).await?;
    let permissions = auth.permissions_of(caller.principal.user_id).await?;
    Ok(Json(json!({
        "user": user.summary(),
        "session_id": caller.principal.session_id,
        "api_token_id": caller.principal.api_token.as_ref().map(|t| t.id),
        "permissions": permissions.as_ref(),
    })))
}

async fn list_sessions(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(s.auth().list_sessions(&caller.principal).await?))
}

async fn revoke_session(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require_session()?;
    let id = parse_uuid(&id, "id")?;
    s.auth().revoke_session(&caller.actor, &caller.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_other_sessions(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    let revoked = s.auth().revoke_other_sessions(&caller.actor, &caller.principal).await?;
    Ok(Json(json!({ "revoked": revoked })))
}

async fn get_preferences(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(json!(s.auth().preferences(&caller.principal).await?)))
}

async fn get_grid_layout(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(s.grid_layout(&caller.principal, caller.actor.clone(), &table).await?))
}

async fn put_grid_layout(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(s.set_grid_layout(&caller.principal, caller.actor.clone(), &table, &body).await?))
}

async fn put_preferences(
    State(s): State<Services>,
    caller: Caller,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(json!(s.auth().set_preferences(&caller.actor, &caller.principal, &body).await?)))
}

async fn change_password(
    State(s): State<Services>,
    caller: Caller,
    ApiJson(body): ApiJson,
) -> ApiResult<StatusCode> {
    caller.require_session()?;
    s.auth().change_password(&caller.actor, &caller.principal, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_request(
    State(s): State<Services>,
    Client(actor): Client,
    ApiJson(body): ApiJson,
) -> ApiResult<StatusCode> {
    limit_sign_in(&s, &actor).await?;
    s.auth().request_password_reset(&actor, &body).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn reset_confirm(
    State(s): State<Services>,
    Client(actor): Client,
    ApiJson(body): ApiJson,
) -> ApiResult<StatusCode> {
    limit_sign_in(&s, &actor).await?;
    s.auth().confirm_password_reset(&actor, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn setup_status(State(s): State<Services>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "setup_pending": s.auth().setup_pending().await? })))
}

async fn setup(State(s): State<Services>, Client(actor): Client, ApiJson(body): ApiJson) -> ApiResult {
    limit_sign_in(&s, &actor).await?;
    let outcome = s.auth().complete_setup(&actor, &body).await?;
    Ok(signed_in(&s, &outcome))
}

// --- Passkeys ------------------------------------------------------------------------------------------------

async fn enroll_start(
    State(s): State<Services>,
    Client(actor): Client,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    limit_sign_in(&s, &actor).await?;
    let token = text_field(&body, "token")?;
    Ok(Json(s.auth().enroll_start(&token).await?))
}

async fn enroll_finish(
    State(s): State<Services>,
    Client(actor): Client,
    ApiJson(body): ApiJson,
) -> ApiResult {
    limit_sign_in(&s, &actor).await?;
    Ok((StatusCode::CREATED, Json(s.auth().enroll_finish(&actor, &body).await?)).into_response())
}

async fn register_start(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(s.auth().passkey_register_start(&caller.principal).await?))
}

async fn register_finish(State(s): State<Services>, caller: Caller, ApiJson(body): ApiJson) -> ApiResult {
    caller.require_session()?;
    let passkey = s.auth().passkey_register_finish(&caller.principal, &caller.actor, &body).await?;
    Ok((StatusCode::CREATED, Json(passkey)).into_response())
}

async fn authenticate_start(
    State(s): State<Services>,
    Client(actor): Client,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    limit_sign_in(&s, &actor).await?;
    let body = optional_json(&body)?;
    Ok(Json(s.auth().passkey_authenticate_start(&body).await?))
}

async fn authenticate_finish(
    State(s): State<Services>,
    Client(actor): Client,
    ApiJson(body): ApiJson,
) -> ApiResult {
    limit_sign_in(&s, &actor).await?;
    let outcome = s.auth().passkey_authenticate_finish(&actor, &body).await?;
    Ok(signed_in(&s, &outcome))
}

async fn list_passkeys(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(s.auth().list_passkeys(&caller.principal).await?))
}

async fn rename_passkey(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    let id = parse_uuid(&id, "id")?;
    Ok(Json(s.auth().rename_passkey(&caller.principal, &caller.actor, id, &body).await?))
}

async fn delete_passkey(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require_session()?;
    let id = parse_uuid(&id, "id")?;
    s.auth().delete_passkey(&caller.principal, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- API tokens ------------------------------------------------------------------------------------------------

async fn list_api_tokens(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_session()?;
    Ok(Json(s.auth().list_api_tokens(&caller.principal).await?))
}

async fn create_api_token(State(s): State<Services>, caller: Caller, ApiJson(body): ApiJson) -> ApiResult {
    caller.require_session()?;
    let token = s.auth().create_api_token(&caller.actor, &caller.principal, &body).await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

async fn revoke_api_token(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require_session()?;
    let id = parse_uuid(&id, "id")?;
    s.auth().revoke_api_token(&caller.actor, &caller.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Users --------------------------------------------------------------------------------------------------------

async fn list_users(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(USERS).await?;
    Ok(Json(s.auth().list_users().await?))
}

async fn create_user(State(s): State<Services>, caller: Caller, ApiJson(body): ApiJson) -> ApiResult {
    caller.require(USERS).await?;
    Ok((StatusCode::CREATED, Json(s.auth().create_user_from(&caller.actor, &body).await?)).into_response())
}

async fn get_user(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(USERS).await?;
    Ok(Json(s.auth().get_user(parse_uuid(&id, "id")?).await?))
}

async fn update_user(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(USERS).await?;
    Ok(Json(s.auth().update_user(&caller.actor, parse_uuid(&id, "id")?, &body).await?))
}

async fn deactivate_user(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(USERS).await?;
    let body = json!({ "is_active": false });
    Ok(Json(s.auth().update_user(&caller.actor, parse_uuid(&id, "id")?, &body).await?))
}

async fn unlock_user(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(USERS).await?;
    Ok(Json(s.auth().unlock_user(&caller.actor, parse_uuid(&id, "id")?).await?))
}

async fn issue_enrollment(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    caller.require(USERS).await?;
    let token = s.auth().issue_enrollment_token(&caller.actor, parse_uuid(&id, "id")?).await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

async fn list_user_roles(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(USERS).await?;
    Ok(Json(s.auth().list_user_roles(parse_uuid(&id, "id")?).await?))
}

async fn assign_role(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().assign_role(&caller.actor, &caller.principal, parse_uuid(&id, "id")?, &body).await?))
}

async fn unassign_role(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(ROLES).await?;
    let (id, role_id) = (parse_uuid(&id, "id")?, parse_uuid(&role_id, "role_id")?);
    s.auth().unassign_role(&caller.actor, &caller.principal, id, role_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Roles and permissions ----------------------------------------------------------------------------------------

async fn list_roles(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().list_roles().await?))
}

async fn create_role(State(s): State<Services>, caller: Caller, ApiJson(body): ApiJson) -> ApiResult {
    caller.require(ROLES).await?;
    Ok((StatusCode::CREATED, Json(s.auth().create_role(&caller.actor, &body).await?)).into_response())
}

async fn get_role(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().get_role(parse_uuid(&id, "id")?).await?))
}

async fn update_role(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().update_role(&caller.actor, parse_uuid(&id, "id")?, &body).await?))
}

async fn delete_role(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(ROLES).await?;
    s.auth().delete_role(&caller.actor, parse_uuid(&id, "id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_role_permissions(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().list_role_permissions(parse_uuid(&id, "id")?).await?))
}

async fn grant_role_permission(
    State(s): State<Services>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson,
) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().grant_role_permission(&caller.actor, parse_uuid(&id, "id")?, &body).await?))
}

async fn revoke_role_permission(
    State(s): State<Services>,
    caller: Caller,
    ApiPath((id, permission)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(ROLES).await?;
    s.auth().revoke_role_permission(&caller.actor, parse_uuid(&id, "id")?, &permission).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_permissions(State(s): State<Services>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(ROLES).await?;
    Ok(Json(s.auth().list_permissions().await?))
}

// --- Audit ----------------------------------------------------------------------------------------------------

async fn audit_page(
    State(s): State<Services>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> ApiResult<Json<Value>> {
    caller.require(AUDIT).await?;
    Ok(Json(s.auth().audit_page(&filter).await?))
}

/// The filtered audit log as CSV, streamed page by page (the first page is read before answering, so a bad
/// filter is still a proper problem response).
async fn audit_export(
    State(s): State<Services>,
    caller: Caller,
    ApiQuery(mut filter): ApiQuery<AuditFilter>,
) -> ApiResult {
    caller.require(AUDIT).await?;
    filter.limit = Some(s.config.limits.max_page_size);
    filter.cursor = None;
    let auth = s.auth().clone();
    let first = auth.audit_page(&filter).await?;
    let lines = |page: &Value| -> String {
        page["items"].as_array().map(|items| items.iter().map(audit::csv_row).collect()).unwrap_or_default()
    };
    let head = format!("{}{}", audit::csv_header(), lines(&first));
    let next = first["next_cursor"].as_str().map(str::to_owned);
    let rest = futures::stream::unfold((auth, filter, next), move |(auth, mut filter, cursor)| async move {
        let cursor = cursor?;
        filter.cursor = Some(cursor);
        match auth.audit_page(&filter).await {
            Ok(page) => {
                let next = page["next_cursor"].as_str().map(str::to_owned);
                Some((Ok::<_, std::io::Error>(lines(&page)), (auth, filter, next)))
            }
            Err(e) => {
                tracing::error!(error = %e, "audit export failed mid-stream");
                Some((Err(std::io::Error::other(e.to_string())), (auth, filter, None)))
            }
        }
    });
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rest);
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
    ];
    Ok((headers, axum::body::Body::from_stream(stream)).into_response())
}
