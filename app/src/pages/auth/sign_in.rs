//! Sign-in: a passkey (usernameless, or username-first when a name is typed) or a password; first-run
//! setup while no user exists. After signing in the user lands on the page they wanted (`?next=`).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::AuthLayout;
use crate::components::feedback::{go_to, local_path};
use crate::components::form::{failure, invalid, FieldError, FormError};
use crate::components::passkey;
use crate::errors::{AppError, ErrorKind};
use crate::i18n::{tr, use_i18n, Strings};
use crate::server_fns::auth::{passkey_sign_in_finish, passkey_sign_in_start, CompleteSetup, Gate, SignIn};
use crate::GateResource;

#[component]
pub fn SignInPage() -> impl IntoView {
    let gate = expect_context::<GateResource>().0;
    let query = use_query_map();
    let next = Signal::derive(move || local_path(&query.read().get("next").unwrap_or_default()));
    let notice = Signal::derive(move || query.read().get("notice"));
    view! {
        <AuthLayout>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match gate.await {
                        Ok(Gate::SignedIn(_)) => view! { <Redirect path=next.get_untracked() /> }.into_any(),
                        Ok(Gate::Setup) => view! { <SetupForm /> }.into_any(),
                        Ok(Gate::SignIn) => view! { <SignInForm next notice /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </AuthLayout>
    }
    .into_any()
}

/// What a person is told about a failed sign-in (the same for unknown users and wrong passwords).
fn sign_in_message(t: &Strings, error: &AppError) -> String {
    match error.kind {
        ErrorKind::Unauthenticated => t.wrong_credentials.to_owned(),
        ErrorKind::Limited => format!("{} {}", t.limited, error.message),
        _ => error.message.clone(),
    }
}

#[component]
fn SignInForm(next: Signal<String>, notice: Signal<Option<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(path)) = action.value().get() {
            go_to(&path);
        }
    });
    let error = failure(action.value());
    let username = NodeRef::<leptos::html::Input>::new();
    let passkey_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let sign_in_with_passkey = move |_| {
        let t = i18n.t();
        if !passkey::supported() {
            passkey_error.set(Some(t.passkey_unsupported.to_owned()));
            return;
        }
        let name = username.get_untracked().map(|input| input.value()).unwrap_or_default();
        let next = next.get_untracked();
        busy.set(true);
        passkey_error.set(None);
        spawn_local(async move {
            let outcome = async {
                let ceremony = passkey_sign_in_start(name).await.map_err(|e| sign_in_message(t, &e))?;
                let credential = passkey::get(ceremony.options).await.map_err(|e| passkey::failure(t, &e))?;
                passkey_sign_in_finish(ceremony.ceremony_id, credential, next)
                    .await
                    .map_err(|e| sign_in_message(t, &e))
            }
            .await;
            busy.set(false);
            match outcome {
                Ok(path) => go_to(&path),
                Err(message) => passkey_error.set(Some(message)),
            }
        });
    };
    view! {
        <Title text=tr(|s| s.sign_in_title) />
        <h1>"Tessera"</h1>
        <p class="lead">{tr(|s| s.sign_in_lead)}</p>
        {move || notice.get().and_then(|n| match n.as_str() {
            "reset" => Some(i18n.t().reset_done),
            "enrolled" => Some(i18n.t().enroll_done),
            _ => None,
        }).map(|text| view! { <p class="notice" role="status" data-testid="notice">{text}</p> })}
        <p class="form-error" role="alert" data-testid="form-error"
            hidden=move || error.get().is_none()>{move || error.get().map(|e| sign_in_message(i18n.t(), &e))}</p>
        <button class="button wide needs-js" type="button" data-testid="sign-in-passkey"
            disabled=move || busy.get() on:click=sign_in_with_passkey>
            {tr(|s| s.sign_in_passkey)}
        </button>
        {move || passkey_error.get().map(|m| view! { <p class="form-error" role="alert" data-testid="passkey-error">{m}</p> })}
        <p class="divider needs-js"><span>{tr(|s| s.or)}</span></p>
        <ActionForm action attr:class="form" attr:data-testid="sign-in-form">
            <input type="hidden" name="next" value=move || next.get() />
            <label for="username">{tr(|s| s.username_or_email)}</label>
            <input id="username" name="username" type="text" autocomplete="username webauthn" required autofocus node_ref=username />
            <label for="password">{tr(|s| s.password)}</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <button class="button" type="submit" data-testid="sign-in" disabled=move || action.pending().get()>
                {tr(|s| s.sign_in)}
            </button>
        </ActionForm>
        <p class="small muted">{tr(|s| s.passkey_hint)}</p>
        <p class="small"><a href="/reset-password" data-testid="forgot-password">{tr(|s| s.forgot_password)}</a></p>
    }
    .into_any()
}

#[component]
fn SetupForm() -> impl IntoView {
    let action = ServerAction::<CompleteSetup>::new();
    Effect::new(move |_| {
        if let Some(Ok(path)) = action.value().get() {
            go_to(&path);
        }
    });
    let error = failure(action.value());
    view! {
        <Title text=tr(|s| s.setup_title) />
        <h1>{tr(|s| s.setup_title)}</h1>
        <p class="lead">{tr(|s| s.setup_lead)}</p>
        <FormError error />
        <ActionForm action attr:class="form" attr:data-testid="setup-form">
            <label for="token">{tr(|s| s.setup_token)}</label>
            <input id="token" name="token" type="text" autocomplete="off" aria-describedby="token-error" aria-invalid=invalid(error, "token") required />
            <FieldError error field="token" />
            <label for="username">{tr(|s| s.username)}</label>
            <input id="username" name="username" type="text" autocomplete="username" aria-describedby="username-error" aria-invalid=invalid(error, "username") required />
            <FieldError error field="username" />
            <label for="email">{tr(|s| s.email_optional)}</label>
            <input id="email" name="email" type="email" autocomplete="email" aria-describedby="email-error" aria-invalid=invalid(error, "email") />
            <FieldError error field="email" />
            <label for="password">{tr(|s| s.new_password_hint)}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" aria-describedby="password-error" aria-invalid=invalid(error, "password") required minlength="12" />
            <FieldError error field="password" />
            <button class="button" type="submit" data-testid="complete-setup">{tr(|s| s.create_owner)}</button>
        </ActionForm>
    }
    .into_any()
}
