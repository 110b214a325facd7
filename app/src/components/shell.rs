//! The frame of every signed-in page: a sidebar (workspace, tables, administration), a top bar (theme,
//! language, user menu), the connection banner and toasts, and the page in the middle. Anonymous visitors
//! are sent to sign-in, with the page they wanted remembered.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;

use super::feedback::{on_result, sign_in_path, FeedbackView};
use crate::i18n::{tr, use_i18n, Lang};
#[cfg(feature = "hydrate")]
use crate::i18n::{LANG_COOKIE, THEME_COOKIE};
use crate::server_fns::account::SetLanguage;
use crate::server_fns::auth::{Gate, Me};
use crate::GateResource;

/// The route view around every signed-in page.
#[component]
pub fn Shell() -> impl IntoView {
    let gate = expect_context::<GateResource>().0;
    let location = use_location();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match gate.await {
                    Ok(Gate::SignedIn(me)) => view! { <Frame me /> }.into_any(),
                    Ok(_) => {
                        let here = location.pathname.get_untracked() + &location.search.get_untracked();
                        view! { <Redirect path=sign_in_path(&here) /> }.into_any()
                    }
                    Err(e) => view! {
                        <main class="page"><section class="card"><p class="form-error" role="alert">{e.message}</p></section></main>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn Frame(me: Me) -> impl IntoView {
    provide_context(me.clone());
    view! {
        <div class="app">
            <a class="skip-link" href="#content">{tr(|s| s.skip_to_content)}</a>
            <Sidebar me=me.clone() />
            <div class="main">
                <TopBar me />
                <FeedbackView />
                <main id="content" class="content" tabindex="-1">
                    <Outlet />
                </main>
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn Sidebar(me: Me) -> impl IntoView {
    let tables = me.tables.clone();
    let no_tables = tables.is_empty();
    view! {
        <aside class="sidebar">
            <a class="brand" href="/">"Tessera"</a>
            <nav aria-label=tr(|s| s.nav_main)>
                <p class="nav-heading">{tr(|s| s.nav_workspace)}</p>
                <ul class="nav-list">
                    <li><A href="/" exact=true>{tr(|s| s.nav_home)}</A></li>
                </ul>
                <p class="nav-heading">{tr(|s| s.nav_tables)}</p>
                <ul class="nav-list" data-testid="nav-tables">
                    {tables.into_iter().map(|name| {
                        let href = format!("/tables/{}", crate::components::feedback::percent_encode(&name, b""));
                        view! { <li class="nav-table"><A href=href>{name}</A></li> }
                    }).collect_view()}
                    {no_tables.then(|| view! { <li class="muted small">{tr(|s| s.nav_no_tables)}</li> })}
                </ul>
                {me.is_admin().then(|| view! {
                    <p class="nav-heading">{tr(|s| s.nav_admin)}</p>
                    <ul class="nav-list">
                        {me.can_manage_schema.then(|| view! {
                            <li><A href="/schema">{tr(|s| s.nav_schema)}</A></li>
                            <li><A href="/diagram">{tr(|s| s.diagram_title)}</A></li>
                        })}
                        {me.can_manage_users.then(|| view! { <li><A href="/admin/users">{tr(|s| s.nav_users)}</A></li> })}
                        {me.can_manage_roles.then(|| view! { <li><A href="/admin/roles">{tr(|s| s.nav_roles)}</A></li> })}
                        {me.can_read_audit.then(|| view! { <li><A href="/admin/audit">{tr(|s| s.nav_audit)}</A></li> })}
                    </ul>
                })}
                <ul class="nav-list nav-footer">
                    <li><a href="/api/docs">{tr(|s| s.nav_api_docs)}</a></li>
                </ul>
            </nav>
        </aside>
    }
    .into_any()
}

#[component]
fn TopBar(me: Me) -> impl IntoView {
    let name = me.name().to_owned();
    view! {
        <header class="topbar">
            <div class="topbar-spacer"></div>
            <ThemeSwitch />
            <LanguageSwitch signed_in=true />
            <details class="menu" data-testid="user-menu">
                <summary class="button secondary" title=tr(|s| s.user_menu)>
                    <span class="avatar" aria-hidden="true">{name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()}</span>
                    <span data-testid="signed-in-as">{name.clone()}</span>
                </summary>
                <div class="menu-items">
                    <A href="/account">{tr(|s| s.nav_account)}</A>
                    // A plain form to the REST sign-out, which also receives the refresh cookie: the session
                    // is revoked even when the access token has expired.
                    <form method="post" action="/api/v1/auth/logout">
                        <button class="menu-item" type="submit" data-testid="sign-out">{tr(|s| s.sign_out)}</button>
                    </form>
                </div>
            </details>
        </header>
    }
    .into_any()
}

/// Light, dark or the system's choice; remembered in a cookie so the server renders it next time.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let theme = RwSignal::new(initial_theme());
    let choose = move |value: String| {
        theme.set(value.clone());
        #[cfg(feature = "hydrate")]
        {
            if let Some(html) = document().document_element() {
                let _ = if value.is_empty() {
                    html.remove_attribute("data-theme")
                } else {
                    html.set_attribute("data-theme", &value)
                };
            }
            let cookie = if value.is_empty() {
                format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax")
            } else {
                format!("{THEME_COOKIE}={value}; Path=/; Max-Age=31536000; SameSite=Lax")
            };
            set_document_cookie(&cookie);
        }
    };
    view! {
        <label class="select-inline needs-js">
            <span class="visually-hidden">{tr(|s| s.theme)}</span>
            <select data-testid="theme-switch" aria-label=tr(|s| s.theme) on:change=move |ev| choose(event_target_value(&ev))
                prop:value=move || theme.get()>
                <option value="">{tr(|s| s.theme_system)}</option>
                <option value="light">{tr(|s| s.theme_light)}</option>
                <option value="dark">{tr(|s| s.theme_dark)}</option>
            </select>
        </label>
    }
    .into_any()
}

/// Switches the language at once; signed-in users keep it (saved with their account).
#[component]
pub fn LanguageSwitch(signed_in: bool) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SetLanguage>::new();
    // Dates and times are formatted by the server: reload so they follow the new language.
    on_result(move || save.value().get(), |()| super::feedback::reload());
    let choose = move |code: String| {
        let Some(lang) = Lang::from_code(&code) else { return };
        i18n.0.set(lang);
        #[cfg(feature = "hydrate")]
        {
            if let Some(html) = document().document_element() {
                let _ = html.set_attribute("lang", lang.code());
            }
            set_document_cookie(&format!("{LANG_COOKIE}={code}; Path=/; Max-Age=31536000; SameSite=Lax"));
        }
        if signed_in {
            save.dispatch(SetLanguage { lang: code });
        }
    };
    view! {
        <label class="select-inline needs-js">
            <span class="visually-hidden">{tr(|s| s.language)}</span>
            <select data-testid="language-switch" aria-label=tr(|s| s.language)
                on:change=move |ev| choose(event_target_value(&ev)) prop:value=move || i18n.lang().code()>
                {Lang::ALL.into_iter().map(|l| view! { <option value=l.code()>{l.name()}</option> }).collect_view()}
            </select>
        </label>
    }
    .into_any()
}

/// A page's heading with its breadcrumbs (the last crumb is the page itself).
#[component]
pub fn PageHeader(
    /// The page's title: a translated string (`Signal::derive(tr(…))`) or any text (`Signal<String>`).
    #[prop(into)]
    title: Signal<String>,
    #[prop(optional)] lead: Option<Signal<&'static str>>,
    #[prop(optional)] parent: Option<(Signal<&'static str>, &'static str)>,
) -> impl IntoView {
    view! {
        <leptos_meta::Title text=move || title.get() />
        <nav class="breadcrumbs" aria-label=tr(|s| s.breadcrumbs)>
            <ol>
                <li><a href="/">"Tessera"</a></li>
                {parent.map(|(label, href)| view! { <li><a href=href>{move || label.get()}</a></li> })}
                <li aria-current="page">{move || title.get()}</li>
            </ol>
        </nav>
        <h1 class="page-title">{move || title.get()}</h1>
        {lead.map(|lead| view! { <p class="lead">{move || lead.get()}</p> })}
    }
    .into_any()
}

/// The theme the server rendered (`<html data-theme>`), or the cookie's on the server.
fn initial_theme() -> String {
    #[cfg(feature = "hydrate")]
    {
        document().document_element().and_then(|e| e.get_attribute("data-theme")).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        crate::request_theme().unwrap_or_default()
    }
}

#[cfg(feature = "hydrate")]
fn set_document_cookie(value: &str) {
    let _ = js_sys::Reflect::set(&document(), &"cookie".into(), &value.into());
}
