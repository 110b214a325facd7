//! Password reset: ask for a link (`/reset-password`), then choose a new password with the link's token
//! (`/reset-password?token=…`). Both forms work without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::AuthLayout;
use crate::components::feedback::go_to;
use crate::components::form::{failure, FieldError, FormError};
use crate::i18n::tr;
use crate::server_fns::auth::{ConfirmPasswordReset, RequestPasswordReset};

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("token").filter(|t| !t.is_empty());
    let sent = query.read_untracked().get("sent").is_some();
    view! {
        <AuthLayout>
            <Title text=tr(|s| s.reset_title) />
            <h1>{tr(|s| s.reset_title)}</h1>
            {match token {
                Some(token) => view! { <ChooseForm token /> }.into_any(),
                None => view! { <RequestForm sent /> }.into_any(),
            }}
            <p class="small"><a href="/sign-in">{tr(|s| s.back_to_sign_in)}</a></p>
        </AuthLayout>
    }
    .into_any()
}

#[component]
fn RequestForm(sent: bool) -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = failure(action.value());
    let done = move || sent || matches!(action.value().get(), Some(Ok(())));
    view! {
        <p class="lead">{tr(|s| s.reset_lead)}</p>
        <Show when=done>
            <p class="notice" role="status" data-testid="reset-sent">{tr(|s| s.reset_sent)}</p>
        </Show>
        <FormError error />
        <ActionForm action attr:class="form" attr:data-testid="reset-request-form">
            <label for="login">{tr(|s| s.username_or_email)}</label>
            <input id="login" name="login" type="text" autocomplete="email" required />
            <FieldError error field="email" />
            <button class="button" type="submit" data-testid="reset-send">{tr(|s| s.reset_send)}</button>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn ChooseForm(token: String) -> impl IntoView {
    let action = ServerAction::<ConfirmPasswordReset>::new();
    let error = failure(action.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            go_to("/sign-in?notice=reset");
        }
    });
    view! {
        <p class="lead">{tr(|s| s.reset_choose)}</p>
        <FormError error />
        <ActionForm action attr:class="form" attr:data-testid="reset-confirm-form">
            <input type="hidden" name="token" value=token />
            <label for="new_password">{tr(|s| s.new_password_hint)}</label>
            <input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="12" />
            <FieldError error field="new_password" />
            <button class="button" type="submit" data-testid="reset-confirm">{tr(|s| s.save)}</button>
        </ActionForm>
    }
    .into_any()
}
