//! The browser session cookies, shared by the REST endpoints and the Leptos server functions.
//!
//! `tessera_access` carries the JWT, `tessera_refresh` the refresh token. Both are sent to every path (page
//! loads renew an expired access token with the refresh token: decision 0008), HttpOnly and SameSite=Lax,
//! and Secure whenever Tessera is served over https (decision 0007: plain-http development would lose
//! Secure cookies).

use std::time::Duration;

use super::LoginOutcome;
use crate::config::Config;

pub const ACCESS_COOKIE: &str = "tessera_access";
pub const REFRESH_COOKIE: &str = "tessera_refresh";
const REFRESH_PATH: &str = "/";

fn set_cookie(config: &Config, name: &str, value: &str, path: &str, max_age: Duration) -> String {
    let secure = if config.public_url.starts_with("https://") { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{secure}", max_age.as_secs())
}

/// The `Set-Cookie` values of a sign-in.
pub fn signed_in(config: &Config, outcome: &LoginOutcome) -> [String; 2] {
    let auth = &config.auth;
    [
        set_cookie(config, ACCESS_COOKIE, &outcome.access_token, "/", auth.access_token_ttl),
        set_cookie(config, REFRESH_COOKIE, &outcome.refresh_token, REFRESH_PATH, auth.refresh_token_ttl),
    ]
}

/// The `Set-Cookie` values that remove both cookies.
pub fn signed_out(config: &Config) -> [String; 2] {
    [
        set_cookie(config, ACCESS_COOKIE, "", "/", Duration::ZERO),
        set_cookie(config, REFRESH_COOKIE, "", REFRESH_PATH, Duration::ZERO),
    ]
}

/// The value of cookie `name` in a request's `Cookie` headers (there may be several).
pub fn find_in<'a>(cookie_headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    cookie_headers.into_iter().find_map(|header| find(header, name))
}

/// The value of cookie `name` in one `Cookie` header.
pub fn find(cookie_header: &str, name: &str) -> Option<String> {
    cookie_header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let header = "a=1; tessera_access=abc.def; tessera_access_x=no";
        assert_eq!(find(header, ACCESS_COOKIE).as_deref(), Some("abc.def"));
        assert_eq!(find(header, REFRESH_COOKIE), None);
    }
}
