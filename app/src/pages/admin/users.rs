//! Users: invite (with a password, or with a one-time passkey enrollment link), activate/deactivate, reset
//! a lockout, issue a new enrollment link, assign roles (optionally expiring) and remove them.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::feedback::{on_result, use_feedback};
use crate::components::form::{failure, invalid, FieldError, FormError};
use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::i18n::{fill, tr, use_i18n};
use crate::server_fns::admin::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    let feedback = use_feedback();
    let create = ServerAction::<CreateUser>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let unlock = ServerAction::<UnlockUser>::new();
    let link = ServerAction::<IssueEnrollmentLink>::new();
    let assign = ServerAction::<AssignRole>::new();
    let unassign = ServerAction::<UnassignRole>::new();
    let page = Resource::new(
        move || {
            create.version().get()
                + set_active.version().get()
                + unlock.version().get()
                + assign.version().get()
                + unassign.version().get()
                + feedback.reload.get() as usize
        },
        |_| get_users(),
    );
    // The last link issued (by an invitation without a password, or the per-user button), with its user.
    let last_link = RwSignal::new(None::<EnrollmentLink>);
    on_result(
        move || create.value().get(),
        move |link: Option<EnrollmentLink>| {
            feedback.success(i18n.t().user_invited);
            last_link.set(link);
        },
    );
    on_result(move || set_active.value().get(), move |()| feedback.success(i18n.t().user_updated));
    on_result(move || unlock.value().get(), move |()| feedback.success(i18n.t().user_unlocked));
    on_result(move || link.value().get(), move |l: EnrollmentLink| last_link.set(Some(l)));
    on_result(move || assign.value().get(), move |()| feedback.success(i18n.t().role_assigned));
    on_result(move || unassign.value().get(), move |()| feedback.success(i18n.t().role_unassigned));

    view! {
        <PageHeader title={ let t = tr(|s| s.users_title); Signal::derive(move || t().to_owned()) } lead=Signal::derive(tr(|s| s.users_lead))
            parent=(Signal::derive(tr(|s| s.nav_admin)), "/admin/users") />
        {move || last_link.get().map(|l| view! {
            <div class="notice" role="status">
                <p>{fill(i18n.t().enrollment_link, &[&l.username])}</p>
                <code class="secret" data-testid="enrollment-link" data-username=l.username.clone()>{l.url}</code>
            </div>
        })}
        <Loaded resource=page view=move |p| view! { <UserTable page=p set_active unlock link assign unassign /> }.into_any() />
        <InviteForm action=create />
    }
    .into_any()
}

#[component]
fn UserTable(
    page: UsersPage,
    set_active: ServerAction<SetUserActive>,
    unlock: ServerAction<UnlockUser>,
    link: ServerAction<IssueEnrollmentLink>,
    assign: ServerAction<AssignRole>,
    unassign: ServerAction<UnassignRole>,
) -> impl IntoView {
    let i18n = use_i18n();
    let roles = page.roles.clone();
    let can_assign = !roles.is_empty();
    view! {
        <section class="panel">
            <table class="table" data-testid="users">
                <thead><tr>
                    <th scope="col">{tr(|s| s.username)}</th>
                    <th scope="col">{tr(|s| s.email)}</th>
                    <th scope="col">{tr(|s| s.status)}</th>
                    <th scope="col">{tr(|s| s.user_roles)}</th>
                    <th scope="col">{tr(|s| s.actions)}</th>
                </tr></thead>
                <tbody>
                    {page.users.into_iter().map(|u| {
                        let roles = roles.clone();
                        let user_id = u.id.clone();
                        let (id_assign, id_toggle, id_unlock, id_link) = (u.id.clone(), u.id.clone(), u.id.clone(), u.id.clone());
                        let can_unlock = u.locked_until.is_some() || u.failed_logins > 0;
                        let assignments = u.roles.clone();
                        view! {
                            <tr data-testid="user" data-username=u.username.clone()>
                                <td>
                                    <strong>{u.username.clone()}</strong>
                                    <div class="muted small">{u.display_name.clone().unwrap_or_default()}</div>
                                </td>
                                <td>{u.email.clone().unwrap_or_default()}</td>
                                <td>
                                    <span class=if u.is_active { "badge success" } else { "badge muted" } data-testid="user-status">
                                        {move || if u.is_active { i18n.t().active } else { i18n.t().inactive }}
                                    </span>
                                    {u.locked_until.clone().map(|until| view! {
                                        <span class="badge danger" data-testid="user-locked" title=until>{tr(|s| s.locked)}</span>
                                    })}
                                    <div class="muted small">{tr(|s| s.user_failed_logins)} ": " {move || i18n.lang().integer(u.failed_logins)}</div>
                                </td>
                                <td>
                                    <ul class="chips">
                                        {assignments.into_iter().map(|r| {
                                            let user_id = user_id.clone();
                                            let role_id = r.role_id.clone();
                                            let role_name = r.role_name.clone();
                                            view! {
                                            <li class=if r.in_force { "chip" } else { "chip muted" } data-testid="user-role">
                                                {r.role_name.clone()}
                                                {r.expires.clone().map(|e| view! { <span class="small">" → " {e}</span> })}
                                                {can_assign.then(move || view! {
                                                    <ActionForm action=unassign attr:class="chip-form">
                                                        <input type="hidden" name="user_id" value=user_id />
                                                        <input type="hidden" name="role_id" value=role_id />
                                                        <button class="icon-button" type="submit"
                                                            aria-label=move || format!("{} {role_name}", i18n.t().remove)>"×"</button>
                                                    </ActionForm>
                                                })}
                                            </li>
                                        }}).collect_view()}
                                    </ul>
                                    {can_assign.then(move || view! {
                                        <ActionForm action=assign attr:class="inline-form" attr:data-testid="assign-role-form">
                                            <input type="hidden" name="user_id" value=id_assign />
                                            <select name="role_id" aria-label=tr(|s| s.role)>
                                                {roles.iter().map(|r| view! { <option value=r.id.clone()>{r.name.clone()}</option> }).collect_view()}
                                            </select>
                                            <input name="expires_at" type="date" aria-label=tr(|s| s.expires_optional) />
                                            <button class="button secondary small" type="submit" data-testid="assign-role">{tr(|s| s.assign_role)}</button>
                                        </ActionForm>
                                    })}
                                </td>
                                <td class="actions">
                                    <ActionForm action=set_active>
                                        <input type="hidden" name="id" value=id_toggle />
                                        <input type="hidden" name="active" value=(!u.is_active).to_string() />
                                        <button class=if u.is_active { "button danger small" } else { "button secondary small" } type="submit" data-testid="toggle-active">
                                            {move || if u.is_active { i18n.t().user_deactivate } else { i18n.t().user_activate }}
                                        </button>
                                    </ActionForm>
                                    {can_unlock.then(move || view! {
                                        <ActionForm action=unlock>
                                            <input type="hidden" name="id" value=id_unlock />
                                            <button class="button secondary small" type="submit" data-testid="unlock">{tr(|s| s.user_unlock)}</button>
                                        </ActionForm>
                                    })}
                                    <ActionForm action=link>
                                        <input type="hidden" name="id" value=id_link />
                                        <button class="button secondary small" type="submit" data-testid="issue-link">{tr(|s| s.enrollment_issue)}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn InviteForm(action: ServerAction<CreateUser>) -> impl IntoView {
    let error = failure(action.value());
    view! {
        <section class="panel" aria-labelledby="invite-title">
            <h2 id="invite-title">{tr(|s| s.user_invite)}</h2>
            <p class="muted">{tr(|s| s.user_invite_lead)}</p>
            <FormError error />
            <ActionForm action attr:class="form narrow-form" attr:data-testid="invite-form">
                <label for="new-username">{tr(|s| s.username)}</label>
                <input id="new-username" name="username" aria-describedby="username-error" required autocomplete="off" aria-invalid=invalid(error, "username") />
                <FieldError error field="username" />
                <label for="new-email">{tr(|s| s.email_optional)}</label>
                <input id="new-email" name="email" aria-describedby="email-error" type="email" autocomplete="off" aria-invalid=invalid(error, "email") />
                <FieldError error field="email" />
                <label for="new-display-name">{tr(|s| s.display_name)}</label>
                <input id="new-display-name" name="display_name" autocomplete="off" />
                <label for="new-password">{tr(|s| s.password_optional)}</label>
                <input id="new-password" name="password" aria-describedby="password-error" type="password" autocomplete="new-password" aria-invalid=invalid(error, "password") />
                <FieldError error field="password" />
                <button class="button" type="submit" data-testid="invite">{tr(|s| s.user_invite)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
