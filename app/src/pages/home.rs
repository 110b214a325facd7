//! The landing page. Anonymous visitors get the sign-in form (or first-run setup while no user exists);
//! signed-in users see the state of the installation, read from the database through a server function.
//! The forms post to server functions, so they work with JavaScript disabled too.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::server_fns::auth::{get_gate, CompleteSetup, Gate, SignIn, SignOut};
use crate::server_fns::system::get_status;

#[component]
pub fn HomePage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let setup = ServerAction::<CompleteSetup>::new();
    let sign_out = ServerAction::<SignOut>::new();
    // Asked again after every form, so the page follows the session without a reload.
    let gate = Resource::new(
        move || (sign_in.version().get(), setup.version().get(), sign_out.version().get()),
        |_| get_gate(),
    );
    let query = use_query_map();
    let error = Signal::derive(move || query.read().get("error").filter(|e| !e.is_empty()));

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match gate.await {
                    Ok(Gate::SignedIn { username, display_name }) => {
                        let name = display_name.unwrap_or(username);
                        view! { <Status name sign_out /> }.into_any()
                    }
                    Ok(Gate::SignIn) => view! { <SignInForm action=sign_in error /> }.into_any(),
                    Ok(Gate::Setup) => view! { <SetupForm action=setup error /> }.into_any(),
                    Err(e) => view! {
                        <section class="card">
                            <p class="error" role="alert">{format!("Tessera could not be reached: {e}")}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The message of the last failed form, if any.
#[component]
fn FormError(error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! { <p class="error" role="alert" data-testid="form-error">{message}</p> }
        })
    }
}

#[component]
fn SignInForm(action: ServerAction<SignIn>, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Title text="Sign in" />
        <section class="card narrow">
            <h1>"Tessera"</h1>
            <p class="lead">"Sign in to continue."</p>
            <FormError error />
            <ActionForm action attr:class="form" attr:data-testid="sign-in-form">
                <label for="username">"Username or e-mail"</label>
                <input id="username" name="username" type="text" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <button class="button" type="submit" data-testid="sign-in">"Sign in"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SetupForm(action: ServerAction<CompleteSetup>, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Title text="Set up" />
        <section class="card narrow">
            <h1>"Welcome to Tessera"</h1>
            <p class="lead">
                "Create the Owner account. The setup token was printed in the server's output at first start."
            </p>
            <FormError error />
            <ActionForm action attr:class="form" attr:data-testid="setup-form">
                <label for="token">"Setup token"</label>
                <input id="token" name="token" type="text" autocomplete="off" required />
                <label for="username">"Username"</label>
                <input id="username" name="username" type="text" autocomplete="username" required />
                <label for="email">"E-mail (optional)"</label>
                <input id="email" name="email" type="email" autocomplete="email" />
                <label for="password">"Password (at least 12 characters)"</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required minlength="12" />
                <button class="button" type="submit" data-testid="complete-setup">"Create the Owner"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Status(name: String, sign_out: ServerAction<SignOut>) -> impl IntoView {
    // Each click asks the server again; the server echoes the check number back, so the counter only moves
    // when the round trip succeeded.
    let (requested, set_requested) = signal(1u32);
    let status = Resource::new(move || requested.get(), get_status);

    view! {
        <Title text="" />
        <section class="card hero">
            <div class="row">
                <p class="muted" data-testid="signed-in-as">{format!("Signed in as {name}")}</p>
                <ActionForm action=sign_out>
                    <button class="button secondary" type="submit" data-testid="sign-out">"Sign out"</button>
                </ActionForm>
            </div>
            <h1>"Tessera"</h1>
            <p class="lead">"A self-hosted data platform on a hybrid EAV store."</p>
            <Suspense fallback=|| view! { <p class="muted" data-testid="db-status">"Checking the database…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! {
                            <p data-testid="db-status">
                                {format!(
                                    "Database: {} · {} {} applied · workspace {}",
                                    s.backend,
                                    s.migrations_applied,
                                    if s.migrations_applied == 1 { "migration" } else { "migrations" },
                                    s.workspace,
                                )}
                            </p>
                            <p class="muted" data-testid="cache-status">{format!("Cache: {}", s.cache)}</p>
                            <p data-testid="checks">{format!("Checks: {}", s.check)}</p>
                        }
                        .into_any(),
                        Err(e) => view! {
                            <p class="error" role="alert" data-testid="db-status">
                                {format!("The database could not be read: {e}")}
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
            <button
                class="button"
                type="button"
                data-testid="refresh-status"
                on:click=move |_| set_requested.update(|n| *n += 1)
            >
                "Check again"
            </button>
        </section>
    }
}
