#![recursion_limit = "256"]
//! The Tessera web application (Leptos): rendered on the server (`ssr`) and hydrated in the browser
//! (`hydrate`). Server functions are thin wrappers over `tessera_core` services.

pub mod components;
pub mod errors;
pub mod i18n;
pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::feedback::Feedback;
use errors::AppError;
use i18n::{I18n, Lang};
use server_fns::auth::{get_gate, Gate};

/// The name of the generated JS/wasm/CSS files under `/pkg/`.
pub const OUTPUT_NAME: &str = "tessera";

/// The HTML document around the app (server side only): the language and theme chosen for this request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = initial_lang().code();
    let theme = request_theme();
    view! {
        <!DOCTYPE html>
        <html lang=lang data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/pkg/favicon.svg" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Who is looking at the page, loaded once per page load (every signed-in page and sign-in read it).
#[derive(Clone, Copy)]
pub struct GateResource(pub Resource<Result<Gate, AppError>>);

/// The application root: language, feedback, the session gate, styles, title, routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(I18n(RwSignal::new(initial_lang())));
    provide_context(Feedback::new());
    provide_context(GateResource(Resource::new(|| (), |_| get_gate())));
    mark_hydrated();
    view! {
        <Stylesheet id="tessera" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=|page: String| if page.is_empty() { "Tessera".to_owned() } else { format!("{page} · Tessera") } />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/sign-in") view=pages::auth::sign_in::SignInPage ssr=SsrMode::Async />
                // The address the server prints with the setup token (the page shows setup while no user exists).
                <Route path=path!("/setup") view=pages::auth::sign_in::SignInPage ssr=SsrMode::Async />
                <Route path=path!("/reset-password") view=pages::auth::reset::ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/enroll") view=pages::auth::enroll::EnrollPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=components::shell::Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::home::HomePage ssr=SsrMode::Async />
                    <Route path=path!("account") view=pages::account::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("admin/users") view=pages::admin::users::UsersPage ssr=SsrMode::Async />
                    <Route path=path!("admin/roles") view=pages::admin::roles::RolesPage ssr=SsrMode::Async />
                    <Route path=path!("admin/audit") view=pages::admin::audit::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("tables/:name") view=pages::data::grid::TablePage ssr=SsrMode::Async />
                    <Route path=path!("schema") view=pages::schema::SchemaPage ssr=SsrMode::Async />
                    <Route path=path!("diagram") view=pages::diagram::DiagramPage ssr=SsrMode::Async />
                    <Route path=path!("schema/:name") view=pages::schema::DesignPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The page's language: on the server from the language cookie, else `Accept-Language`; in the browser
/// from `<html lang>` (what the server chose), so both renders agree.
fn initial_lang() -> Lang {
    #[cfg(feature = "hydrate")]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|code| Lang::from_code(&code))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        request_lang().unwrap_or_default()
    }
}

#[cfg(feature = "ssr")]
fn request_cookie(name: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let values = parts.headers.get_all(http::header::COOKIE);
    tessera_core::auth::cookies::find_in(values.iter().filter_map(|v| v.to_str().ok()), name)
}

#[cfg(not(feature = "hydrate"))]
fn request_lang() -> Option<Lang> {
    #[cfg(feature = "ssr")]
    {
        if let Some(lang) = request_cookie(i18n::LANG_COOKIE).and_then(|c| Lang::from_code(&c)) {
            return Some(lang);
        }
        let parts = use_context::<http::request::Parts>()?;
        let header = parts.headers.get(http::header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        tessera_core::locale::Locale::from_accept_language(header).and_then(|l| Lang::from_code(l.code()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The theme cookie of the request (`light` / `dark`), if any.
pub(crate) fn request_theme() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        request_cookie(i18n::THEME_COOKIE).filter(|t| t == "light" || t == "dark")
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Sets `data-hydrated="true"` on `<body>` once the app runs in the browser (effects never run during SSR),
/// so tests and styles can tell a hydrated page from server-rendered HTML.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
