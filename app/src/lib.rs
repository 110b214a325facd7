//! The Tessera web application (Leptos): rendered on the server (`ssr`) and hydrated in the browser
//! (`hydrate`). Server functions are thin wrappers over `tessera_core` services.

pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

/// The name of the generated JS/wasm/CSS files under `/pkg/`.
pub const OUTPUT_NAME: &str = "tessera";

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application root: styles, title, routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Stylesheet id="tessera" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=|page: String| if page.is_empty() { "Tessera".to_owned() } else { format!("{page} · Tessera") } />
        <Router>
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
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
