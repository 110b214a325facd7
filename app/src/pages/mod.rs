//! One module per screen.

pub mod account;
pub mod admin;
pub mod auth;
pub mod data;
pub mod diagram;
pub mod home;
pub mod schema;

use leptos::prelude::*;

use crate::i18n::tr;

/// Shown for any path no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <main class="page">
            <section class="card">
                <h1>{tr(|s| s.not_found_title)}</h1>
                <p><a href="/">{tr(|s| s.not_found_back)}</a></p>
            </section>
        </main>
    }
    .into_any()
}
