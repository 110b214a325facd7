//! The account page: preferences, passkeys (add, rename, delete), sessions (revoke one or all others),
//! password change and API tokens (the secret shown once). Forms post to server functions, so everything
//! but adding a passkey (WebAuthn) works without JavaScript too.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::feedback::{on_result, use_feedback};
use crate::components::form::{failure, invalid, FieldError, FormError};
use crate::components::loaded::Loaded;
use crate::components::passkey;
use crate::components::shell::PageHeader;
use crate::i18n::{fill, tr, use_i18n, Lang};
use crate::server_fns::account::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let feedback = use_feedback();
    let revoke_session = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let rename = ServerAction::<RenamePasskey>::new();
    let delete = ServerAction::<DeletePasskey>::new();
    let create_token = ServerAction::<CreateApiToken>::new();
    let revoke_token = ServerAction::<RevokeApiToken>::new();
    let preferences = ServerAction::<SetPreferences>::new();
    let passkey_added = RwSignal::new(0usize);
    let account = Resource::new(
        move || {
            (
                revoke_session.version().get(),
                revoke_others.version().get() + change_password.version().get(),
                rename.version().get() + delete.version().get() + passkey_added.get(),
                create_token.version().get() + revoke_token.version().get(),
                preferences.version().get() + feedback.reload.get() as usize,
            )
        },
        |_| get_account(),
    );
    on_result(move || revoke_session.value().get(), move |()| feedback.success(i18n.t().session_revoked));
    on_result(
        move || revoke_others.value().get(),
        move |n: u64| {
            let n = i18n.lang().integer(i64::try_from(n).unwrap_or(i64::MAX));
            feedback.success(fill(i18n.t().sessions_revoked, &[&n]))
        },
    );
    on_result(move || change_password.value().get(), move |()| feedback.success(i18n.t().password_changed));
    on_result(move || rename.value().get(), move |()| feedback.success(i18n.t().saved));
    on_result(move || delete.value().get(), move |()| feedback.success(i18n.t().passkey_deleted));
    on_result(move || revoke_token.value().get(), move |()| feedback.success(i18n.t().saved));
    on_result(move || create_token.value().get(), |_| {});
    on_result(
        move || preferences.value().get(),
        move |()| {
            crate::components::feedback::go_to("/account");
        },
    );

    view! {
        <PageHeader title={ let t = tr(|s| s.account_title); Signal::derive(move || t().to_owned()) } lead=Signal::derive(tr(|s| s.account_lead)) />
        <Loaded resource=account view=move |a: Account| view! {
            <div class="stack">
                <Preferences account=a.clone() action=preferences />
                <Passkeys items=a.passkeys.clone() rename delete added=passkey_added />
                <Sessions items=a.sessions.clone() revoke=revoke_session revoke_others />
                <Password action=change_password />
                <Tokens items=a.tokens.clone() create=create_token revoke=revoke_token />
            </div>
        }.into_any() />
    }
    .into_any()
}

#[component]
fn Preferences(account: Account, action: ServerAction<SetPreferences>) -> impl IntoView {
    let error = failure(action.value());
    let lang = account.lang.map(Lang::code).unwrap_or("").to_owned();
    let tz = account.time_zone.clone().unwrap_or_default();
    view! {
        <section class="panel" aria-labelledby="preferences-title">
            <h2 id="preferences-title">{tr(|s| s.preferences)}</h2>
            <FormError error />
            <ActionForm action attr:class="filters" attr:data-testid="preferences-form">
                <div class="field">
                    <label for="pref-lang">{tr(|s| s.language)}</label>
                    <select id="pref-lang" name="lang">
                        <option value="" selected=lang.is_empty()>"—"</option>
                        {Lang::ALL.into_iter().map(|l| view! { <option value=l.code() selected=lang == l.code()>{l.name()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="pref-tz">{tr(|s| s.time_zone)}</label>
                    <input id="pref-tz" name="time_zone" list="time-zones" value=tz aria-describedby="pref-tz-hint time_zone-error"
                        aria-invalid=invalid(error, "time_zone") placeholder="UTC" />
                    <datalist id="time-zones">
                        {account.time_zones.iter().map(|z| view! { <option value=z.clone()></option> }).collect_view()}
                    </datalist>
                </div>
                <button class="button" type="submit" data-testid="save-preferences">{tr(|s| s.save)}</button>
                <p class="hint" id="pref-tz-hint">{tr(|s| s.time_zone_hint)}</p>
                <FieldError error field="time_zone" />
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn Passkeys(
    items: Vec<PasskeyItem>,
    rename: ServerAction<RenamePasskey>,
    delete: ServerAction<DeletePasskey>,
    added: RwSignal<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let feedback = use_feedback();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let name = NodeRef::<leptos::html::Input>::new();
    let add = move |_| {
        let t = i18n.t();
        if !passkey::supported() {
            error.set(Some(t.passkey_unsupported.to_owned()));
            return;
        }
        let label = name.get_untracked().map(|i| i.value()).unwrap_or_default();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let outcome = async {
                let ceremony = passkey_register_start().await.map_err(|e| e.message)?;
                let credential =
                    passkey::create(ceremony.options).await.map_err(|e| passkey::failure(t, &e))?;
                passkey_register_finish(ceremony.ceremony_id, credential, label).await.map_err(|e| e.message)
            }
            .await;
            busy.set(false);
            match outcome {
                Ok(()) => {
                    feedback.success(t.passkey_added);
                    added.update(|n| *n += 1);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let empty = items.is_empty();
    view! {
        <section class="panel" aria-labelledby="passkeys-title">
            <h2 id="passkeys-title">{tr(|s| s.passkeys)}</h2>
            <p class="muted">{tr(|s| s.passkeys_lead)}</p>
            {empty.then(|| view! { <p class="muted" data-testid="passkeys-empty">{tr(|s| s.passkeys_empty)}</p> })}
            <ul class="list" data-testid="passkeys">
                {items.into_iter().map(|p| {
                    let id = p.id.clone();
                    let id2 = p.id.clone();
                    view! {
                        <li class="list-item" data-testid="passkey">
                            <div class="list-main">
                                <strong class="passkey-name">{p.name.clone()}</strong>
                                <span class="muted small">
                                    {p.provider.clone().unwrap_or_default()} " · " {tr(|s| s.created)} " " {p.created.clone()}
                                    " · " {tr(|s| s.passkey_last_used)} " " {p.last_used.clone().unwrap_or_else(|| i18n.t().never.to_owned())}
                                </span>
                            </div>
                            <ActionForm action=rename attr:class="inline-form">
                                <input type="hidden" name="id" value=id />
                                <label class="visually-hidden" for=format!("rename-{}", p.id)>{tr(|s| s.passkey_new_name)}</label>
                                <input id=format!("rename-{}", p.id) name="name" required maxlength="100" placeholder=tr(|s| s.passkey_new_name) />
                                <button class="button secondary small" type="submit" data-testid="rename-passkey">{tr(|s| s.rename)}</button>
                            </ActionForm>
                            <ActionForm action=delete attr:class="inline-form">
                                <input type="hidden" name="id" value=id2 />
                                <button class="button danger small" type="submit" data-testid="delete-passkey">{tr(|s| s.delete)}</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <div class="inline-form needs-js">
                <label class="visually-hidden" for="new-passkey-name">{tr(|s| s.name)}</label>
                <input id="new-passkey-name" node_ref=name maxlength="100" placeholder=tr(|s| s.name) />
                <button class="button" type="button" data-testid="add-passkey" disabled=move || busy.get() on:click=add>
                    {tr(|s| s.passkey_add)}
                </button>
            </div>
            {move || error.get().map(|m| view! { <p class="form-error" role="alert" data-testid="passkey-error">{m}</p> })}
        </section>
    }
    .into_any()
}

#[component]
fn Sessions(
    items: Vec<SessionItem>,
    revoke: ServerAction<RevokeSession>,
    revoke_others: ServerAction<RevokeOtherSessions>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="sessions-title">
            <div class="row">
                <h2 id="sessions-title">{tr(|s| s.sessions)}</h2>
                <ActionForm action=revoke_others>
                    <button class="button secondary small" type="submit" data-testid="revoke-other-sessions">
                        {tr(|s| s.sessions_revoke_others)}
                    </button>
                </ActionForm>
            </div>
            <p class="muted">{tr(|s| s.sessions_lead)}</p>
            <table class="table" data-testid="sessions">
                <thead><tr>
                    <th scope="col">{tr(|s| s.session_device)}</th>
                    <th scope="col">{tr(|s| s.session_method)}</th>
                    <th scope="col">"IP"</th>
                    <th scope="col">{tr(|s| s.session_last_seen)}</th>
                    <th scope="col"><span class="visually-hidden">{tr(|s| s.actions)}</span></th>
                </tr></thead>
                <tbody>
                    {items.into_iter().map(|s| view! {
                        <tr data-testid="session" data-current=s.current.to_string()>
                            <td>{s.device.clone()} {s.current.then(|| view! { <span class="badge">{tr(|s| s.session_current)}</span> })}</td>
                            <td>{s.method.clone()}</td>
                            <td>{s.ip.clone().unwrap_or_default()}</td>
                            <td>{s.last_seen.clone().unwrap_or(s.created.clone())}</td>
                            <td class="actions">
                                {(!s.current).then(|| view! {
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="id" value=s.id.clone() />
                                        <button class="button secondary small" type="submit" data-testid="revoke-session">{tr(|s| s.revoke)}</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn Password(action: ServerAction<ChangePassword>) -> impl IntoView {
    let error = failure(action.value());
    view! {
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">{tr(|s| s.change_password)}</h2>
            <p class="muted">{tr(|s| s.change_password_lead)}</p>
            <FormError error />
            <ActionForm action attr:class="form narrow-form" attr:data-testid="password-form">
                <label for="current_password">{tr(|s| s.current_password)}</label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password"
                    aria-invalid=invalid(error, "current_password") aria-describedby="current_password-error" />
                <FieldError error field="current_password" />
                <label for="new_password">{tr(|s| s.new_password_hint)}</label>
                <input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="12"
                    aria-invalid=invalid(error, "new_password") aria-describedby="new_password-error" />
                <FieldError error field="new_password" />
                <button class="button" type="submit" data-testid="change-password">{tr(|s| s.change_password)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn Tokens(
    items: Vec<TokenItem>,
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = failure(create.value());
    let secret = move || create.value().get().and_then(Result::ok);
    let empty = items.is_empty();
    view! {
        <section class="panel" aria-labelledby="tokens-title">
            <h2 id="tokens-title">{tr(|s| s.api_tokens)}</h2>
            <p class="muted">{tr(|s| s.api_tokens_lead)}</p>
            {move || secret().map(|token| view! {
                <div class="notice" role="status">
                    <p>{i18n.t().token_secret}</p>
                    <code class="secret" data-testid="token-secret">{token}</code>
                </div>
            })}
            {empty.then(|| view! { <p class="muted">{tr(|s| s.api_tokens_empty)}</p> })}
            <ul class="list" data-testid="tokens">
                {items.into_iter().map(|t| view! {
                    <li class="list-item" data-testid="token">
                        <div class="list-main">
                            <strong>{t.name.clone()}</strong>
                            <span class="muted small">
                                <code>{t.scopes.join(", ")}</code>
                                " · " {tr(|s| s.created)} " " {t.created.clone()}
                                " · " {tr(|s| s.expires)} " " {t.expires.clone().unwrap_or_else(|| i18n.t().never.to_owned())}
                                " · " {tr(|s| s.token_last_used)} " " {t.last_used.clone().unwrap_or_else(|| i18n.t().never.to_owned())}
                            </span>
                        </div>
                        {if t.revoked {
                            view! { <span class="badge muted">{tr(|s| s.token_revoked)}</span> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=t.id.clone() />
                                    <button class="button danger small" type="submit" data-testid="revoke-token">{tr(|s| s.revoke)}</button>
                                </ActionForm>
                            }.into_any()
                        }}
                    </li>
                }).collect_view()}
            </ul>
            <h3>{tr(|s| s.token_create)}</h3>
            <noscript><p class="muted small">{tr(|s| s.token_needs_js)}</p></noscript>
            <FormError error />
            <ActionForm action=create attr:class="form narrow-form" attr:data-testid="token-form">
                <label for="token-name">{tr(|s| s.name)}</label>
                <input id="token-name" name="name" required maxlength="100" aria-invalid=invalid(error, "name") />
                <FieldError error field="name" />
                <label for="token-scopes">{tr(|s| s.token_scopes)}</label>
                <input id="token-scopes" name="scopes" required value="table:*:read" aria-invalid=invalid(error, "scopes") />
                <FieldError error field="scopes" />
                <label for="token-expires">{tr(|s| s.token_expires)}</label>
                <input id="token-expires" name="expires_at" type="date" aria-invalid=invalid(error, "expires_at") />
                <FieldError error field="expires_at" />
                <button class="button" type="submit" data-testid="create-token">{tr(|s| s.token_create)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
