//! The pages of anonymous visitors: sign-in (and first-run setup), password reset, passkey enrollment.

pub mod enroll;
pub mod reset;
pub mod sign_in;

use leptos::prelude::*;

use crate::components::shell::{LanguageSwitch, ThemeSwitch};

/// The centred card layout of the anonymous pages, with the theme and language switches.
#[component]
pub fn AuthLayout(children: Children) -> impl IntoView {
    view! {
        <div class="auth-corner">
            <ThemeSwitch />
            <LanguageSwitch signed_in=false />
        </div>
        <main class="page" id="content">
            <section class="card narrow">{children()}</section>
        </main>
    }
    .into_any()
}
