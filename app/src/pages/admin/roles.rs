//! Roles and permissions: system roles shown read-only; custom roles created (optionally inheriting from
//! another), deleted, and given permissions — per table (`table:<id>:<action>`) or for a whole resource.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::feedback::{on_result, use_feedback};
use crate::components::form::{failure, invalid, FieldError, FormError};
use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::i18n::{tr, use_i18n};
use crate::server_fns::admin::*;

const RESOURCES: [&str; 9] =
    ["table", "report", "migration", "users", "roles", "audit", "schema", "settings", "*"];
const ACTIONS: [&str; 8] = ["read", "create", "update", "delete", "manage", "execute", "unmask", "*"];

#[component]
pub fn RolesPage() -> impl IntoView {
    let i18n = use_i18n();
    let feedback = use_feedback();
    let create = ServerAction::<CreateRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let grant = ServerAction::<GrantPermission>::new();
    let revoke = ServerAction::<RevokePermission>::new();
    let page = Resource::new(
        move || {
            create.version().get()
                + delete.version().get()
                + grant.version().get()
                + revoke.version().get()
                + feedback.reload.get() as usize
        },
        |_| get_roles(),
    );
    on_result(move || create.value().get(), move |()| feedback.success(i18n.t().role_created));
    on_result(move || delete.value().get(), move |()| feedback.success(i18n.t().role_deleted));
    on_result(move || grant.value().get(), move |()| feedback.success(i18n.t().permission_granted));
    on_result(move || revoke.value().get(), move |()| feedback.success(i18n.t().permission_revoked));
    let grant_error = failure(grant.value());

    view! {
        <PageHeader title={ let t = tr(|s| s.roles_title); Signal::derive(move || t().to_owned()) } lead=Signal::derive(tr(|s| s.roles_lead))
            parent=(Signal::derive(tr(|s| s.nav_admin)), "/admin/users") />
        <FormError error=grant_error />
        <Loaded resource=page view=move |p: RolesPage| {
            let parents = p.roles.clone();
            view! {
                <div class="cards" data-testid="roles">
                    {p.roles.iter().map(|r| view! { <RoleCard role=r.clone() tables=p.tables.clone() delete grant revoke /> }).collect_view()}
                </div>
                <CreateRoleForm action=create parents />
            }.into_any()
        } />
    }
    .into_any()
}

#[component]
fn RoleCard(
    role: RoleItem,
    tables: Vec<TableRef>,
    delete: ServerAction<DeleteRole>,
    grant: ServerAction<GrantPermission>,
    revoke: ServerAction<RevokePermission>,
) -> impl IntoView {
    let i18n = use_i18n();
    let editable = !role.is_system;
    let role_id = role.id.clone();
    let (id_delete, id_grant) = (role.id.clone(), role.id.clone());
    let permissions = role.permissions.clone();
    // Permissions naming a table by id are shown with its name.
    let label = {
        let tables = tables.clone();
        move |permission: &str| -> String {
            let parts: Vec<&str> = permission.split(':').collect();
            match parts.as_slice() {
                ["table", id, action] => match tables.iter().find(|t| t.id == *id) {
                    Some(t) => format!("table:{}:{action}", t.name),
                    None => permission.to_owned(),
                },
                _ => permission.to_owned(),
            }
        }
    };
    view! {
        <article class="panel role" data-testid="role" data-role=role.name.clone()>
            <div class="row">
                <h2 class="role-name">{role.name.clone()} {role.is_system.then(|| view! { <span class="badge">{tr(|s| s.role_system)}</span> })}</h2>
                {editable.then(move || view! {
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=id_delete />
                        <button class="button danger small" type="submit" data-testid="delete-role">{tr(|s| s.delete)}</button>
                    </ActionForm>
                })}
            </div>
            {role.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            {role.parent.clone().map(|p| view! { <p class="small">{tr(|s| s.role_parent)} ": " <strong>{p}</strong></p> })}
            <h3 class="small">{tr(|s| s.permissions)}</h3>
            <ul class="chips" data-testid="permissions">
                {permissions.into_iter().map(|p| {
                    let role_id = role_id.clone();
                    let shown = label(&p);
                    let shown_label = shown.clone();
                    let value = p.clone();
                    view! {
                        <li class="chip" data-testid="permission" data-permission=p>
                            <code>{shown}</code>
                            {editable.then(move || view! {
                                <ActionForm action=revoke attr:class="chip-form">
                                    <input type="hidden" name="role_id" value=role_id />
                                    <input type="hidden" name="permission" value=value />
                                    <button class="icon-button" type="submit" data-testid="revoke-permission"
                                        aria-label=move || format!("{} {shown_label}", i18n.t().revoke)>"×"</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {editable.then(move || view! {
                <ActionForm action=grant attr:class="inline-form" attr:data-testid="grant-form">
                    <input type="hidden" name="role_id" value=id_grant />
                    <select name="resource" aria-label=tr(|s| s.resource)>
                        {RESOURCES.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                    </select>
                    <select name="table" aria-label=tr(|s| s.permission_table)>
                        <option value="*">{tr(|s| s.permission_any_table)}</option>
                        {tables.iter().map(|t| view! { <option value=t.id.clone()>{t.name.clone()}</option> }).collect_view()}
                    </select>
                    <select name="action" aria-label=tr(|s| s.action)>
                        {ACTIONS.iter().map(|a| view! { <option value=*a>{*a}</option> }).collect_view()}
                    </select>
                    <button class="button secondary small" type="submit" data-testid="grant">{tr(|s| s.permission_grant)}</button>
                </ActionForm>
            })}
        </article>
    }
    .into_any()
}

#[component]
fn CreateRoleForm(action: ServerAction<CreateRole>, parents: Vec<RoleItem>) -> impl IntoView {
    let error = failure(action.value());
    view! {
        <section class="panel" aria-labelledby="create-role-title">
            <h2 id="create-role-title">{tr(|s| s.role_create)}</h2>
            <FormError error />
            <ActionForm action attr:class="form narrow-form" attr:data-testid="create-role-form">
                <label for="role-name">{tr(|s| s.name)}</label>
                <input id="role-name" name="name" required aria-invalid=invalid(error, "name") />
                <FieldError error field="name" />
                <label for="role-description">{tr(|s| s.description)}</label>
                <input id="role-description" name="description" />
                <label for="role-parent">{tr(|s| s.role_parent)}</label>
                <select id="role-parent" name="parent_role_id">
                    <option value="">{tr(|s| s.none)}</option>
                    {parents.iter().map(|r| view! { <option value=r.id.clone()>{r.name.clone()}</option> }).collect_view()}
                </select>
                <FieldError error field="parent_role_id" />
                <button class="button" type="submit" data-testid="create-role">{tr(|s| s.role_create)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
