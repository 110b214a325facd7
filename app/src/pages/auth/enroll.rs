//! Redeeming an enrollment link (`/enroll?token=…`): an invited user registers a passkey on this device.
//! The ceremony needs JavaScript (WebAuthn); the page says so when it is missing.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::AuthLayout;
use crate::components::feedback::go_to;
use crate::components::passkey;
use crate::i18n::{tr, use_i18n};
use crate::server_fns::auth::{enroll_finish, enroll_start};

#[component]
pub fn EnrollPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = query.read_untracked().get("token").unwrap_or_default();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let register = move |_| {
        let t = i18n.t();
        if !passkey::supported() {
            error.set(Some(t.passkey_unsupported.to_owned()));
            return;
        }
        let token = token.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let outcome = async {
                let ceremony = enroll_start(token.clone()).await.map_err(|e| e.message)?;
                let credential =
                    passkey::create(ceremony.options).await.map_err(|e| passkey::failure(t, &e))?;
                enroll_finish(token, ceremony.ceremony_id, credential).await.map_err(|e| e.message)
            }
            .await;
            busy.set(false);
            match outcome {
                Ok(()) => go_to("/sign-in?notice=enrolled"),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <AuthLayout>
            <Title text=tr(|s| s.enroll_title) />
            <h1>{tr(|s| s.enroll_title)}</h1>
            <p class="lead">{tr(|s| s.enroll_lead)}</p>
            <noscript><p class="form-error">{i18n.t().enroll_needs_js}</p></noscript>
            {move || error.get().map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m}</p> })}
            <button class="button wide needs-js" type="button" data-testid="enroll" disabled=move || busy.get() on:click=register>
                {tr(|s| s.enroll_button)}
            </button>
            <p class="small"><a href="/sign-in">{tr(|s| s.back_to_sign_in)}</a></p>
        </AuthLayout>
    }
    .into_any()
}
