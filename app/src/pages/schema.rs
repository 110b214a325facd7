//! The schema designer: the workspace's tables (create, open, delete) and one table's design: its columns
//! (attach a new column or one from the attribute library with type, mandatory, unique, default, masking and
//! description; reorder; detach — [`columns`]), its constraints ([`constraints`]) and its settings (name,
//! description, hierarchical flag, cache policy). Forms post with and without JavaScript; the server's field
//! errors are shown at their fields.

mod columns;
mod constraints;

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::feedback::{go_to, on_result, use_feedback};
use crate::components::form::{failure, invalid, FieldError, FormError};
use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::errors::AppError;
use crate::i18n::{tr, use_i18n};
use crate::server_fns::schema::constraints::{DeclareConstraint, DropConstraint};
use crate::server_fns::schema::*;
use columns::ColumnList;
use constraints::{ConstraintList, DeclareForm};

const TYPES: [&str; 7] = ["String", "Text", "Int", "Decimal", "Boolean", "Date", "DateTime"];
const MASKS: [&str; 4] = ["full", "partial:4", "email", "hash"];
/// The validation rules core knows (their parameters are JSON).
const RULES: [&str; 6] = ["email", "url", "regex", "range", "length", "enum"];
/// A label of the translation layer.
type Label = fn(&crate::i18n::Strings) -> &'static str;
/// The cache policies core accepts, with their labels.
const CACHE_POLICIES: [(&str, Label); 3] = [
    ("None", |s| s.schema_cache_none),
    ("FullTable", |s| s.schema_cache_full_table),
    ("IndividualRows", |s| s.schema_cache_individual_rows),
];

#[component]
pub fn SchemaPage() -> impl IntoView {
    let feedback = use_feedback();
    let create = ServerAction::<CreateTable>::new();
    let tables = Resource::new(move || feedback.reload.get(), |_| get_schema_tables());
    // A new table opens in the designer (a full load, so the sidebar lists it too).
    on_result(move || create.value().get(), move |path: String| go_to(&path));
    let error = failure(create.value());
    view! {
        <PageHeader title={ let t = tr(|s| s.schema_title); Signal::derive(move || t().to_owned()) }
            lead=Signal::derive(tr(|s| s.schema_lead)) />
        <Loaded resource=tables view={move |items: Vec<TableSummary>| {
            let empty = items.is_empty();
            view! {
                <section class="panel">
                    {empty.then(|| view! { <p class="muted">{tr(|s| s.nav_no_tables)}</p> })}
                    <table class="table" data-testid="schema-tables">
                        <thead><tr>
                            <th scope="col">{tr(|s| s.name)}</th>
                            <th scope="col">{tr(|s| s.description)}</th>
                            <th scope="col">{tr(|s| s.schema_columns)}</th>
                            <th scope="col">{tr(|s| s.actions)}</th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|t| view! {
                                <tr data-testid="schema-table" data-table=t.name.clone()>
                                    <td><a href=format!("/schema/{}", t.name)>{t.name.clone()}</a></td>
                                    <td class="small">{t.description.clone().unwrap_or_default()}</td>
                                    <td>{t.columns}</td>
                                    <td><a class="button secondary small" href=format!("/tables/{}", t.name)>{tr(|s| s.schema_open_data)}</a></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }.into_any()
        }} />
        <section class="panel" aria-labelledby="create-table-title">
            <h2 id="create-table-title">{tr(|s| s.schema_create_table)}</h2>
            <FormError error />
            <ActionForm action=create attr:class="form narrow-form" attr:data-testid="create-table-form">
                <label for="table-name">{tr(|s| s.name)}</label>
                <input id="table-name" name="table_name" required pattern="[a-z][a-z0-9_]{0,62}"
                    aria-invalid=invalid(error, "table_name") aria-describedby="table_name-error table-name-hint" />
                <p class="small muted" id="table-name-hint">{tr(|s| s.schema_name_hint)}</p>
                <FieldError error field="table_name" />
                <label for="table-description">{tr(|s| s.description)}</label>
                <input id="table-description" name="description" />
                <label class="check"><input type="checkbox" name="hierarchical" value="on" />{tr(|s| s.schema_hierarchical)}</label>
                <button class="button" type="submit" data-testid="create-table">{tr(|s| s.schema_create_table)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
pub fn DesignPage() -> impl IntoView {
    let i18n = use_i18n();
    let feedback = use_feedback();
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let attach = ServerAction::<AttachColumn>::new();
    let detach = ServerAction::<DetachColumn>::new();
    let mover = ServerAction::<MoveColumn>::new();
    let settings = ServerAction::<UpdateTableSettings>::new();
    let declare = ServerAction::<DeclareConstraint>::new();
    let drop_constraint = ServerAction::<DropConstraint>::new();
    let drop_table = ServerAction::<DeleteTable>::new();
    // Bumped by the changes that succeed without leaving the page: the design loads again.
    let changed = RwSignal::new(0_usize);
    let design = Resource::new(
        move || {
            let changes = attach.version().get() + detach.version().get() + changed.get();
            (name(), changes + feedback.reload.get() as usize)
        },
        |(table, _)| get_design(table),
    );
    let reload_with = move |message: fn(&crate::i18n::Strings) -> &'static str| {
        untrack(|| {
            feedback.success(message(i18n.t()));
            changed.update(|n| *n += 1);
        })
    };
    on_result(move || attach.value().get(), move |()| feedback.success(i18n.t().schema_column_added));
    on_result(move || detach.value().get(), move |()| feedback.success(i18n.t().schema_column_removed));
    // A renamed table lives at another address (a full load, so the sidebar follows too).
    on_result(
        move || settings.value().get(),
        move |path: String| {
            let here = params.with_untracked(|p| p.get("name").map(|n| format!("/schema/{n}")));
            if here.as_deref() == Some(path.as_str()) {
                reload_with(|s| s.saved);
            } else {
                go_to(&path);
            }
        },
    );
    on_result(move || declare.value().get(), move |()| reload_with(|s| s.schema_constraint_declared));
    on_result(move || drop_constraint.value().get(), move |()| reload_with(|s| s.schema_constraint_dropped));
    on_result(move || drop_table.value().get(), move |()| go_to("/schema"));
    let attach_error = failure(attach.value());
    let detach_error = failure(detach.value());
    view! {
        <PageHeader title=Signal::derive(name) parent=(Signal::derive(tr(|s| s.schema_title)), "/schema") />
        <FormError error=detach_error />
        <Loaded resource=design view=move |d: TableDesign| {
            let table = d.name.clone();
            let column_names: Vec<String> = d.columns.iter().map(|c| c.name.clone()).collect();
            view! {
                <section class="panel">
                    <div class="row">
                        <p class="small muted">
                            {d.description.clone().map(|d| format!("{d} · "))} {tr(|s| s.schema_version)} " " {d.version}
                            {d.hierarchical.then(|| view! { " · " {tr(|s| s.schema_hierarchical)} })}
                        </p>
                        <a class="button secondary small" href=format!("/tables/{table}") data-testid="open-data">{tr(|s| s.schema_open_data)}</a>
                    </div>
                    <ColumnList table=table.clone() columns=d.columns mover detach />
                </section>
                <AttachForm action=attach error=attach_error table=table.clone() library=d.library />
                <ConstraintList table=table.clone() constraints=d.constraints action=drop_constraint />
                <DeclareForm table=table.clone() columns=column_names tables=d.tables action=declare />
                <SettingsForm action=settings table=table.clone() description=d.description
                    hierarchical=d.hierarchical cache_policy=d.cache_policy />
                <section class="panel danger-zone">
                    <h2>{tr(|s| s.schema_delete_table)}</h2>
                    <p class="small muted">{tr(|s| s.schema_delete_table_lead)}</p>
                    <ActionForm action=drop_table>
                        <input type="hidden" name="table" value=table />
                        <button class="button danger" type="submit" data-testid="delete-table">{tr(|s| s.schema_delete_table)}</button>
                    </ActionForm>
                </section>
            }.into_any()
        } />
    }
    .into_any()
}

/// The table's name, description, hierarchical flag and cache policy.
#[component]
fn SettingsForm(
    action: ServerAction<UpdateTableSettings>,
    table: String,
    description: Option<String>,
    hierarchical: bool,
    cache_policy: String,
) -> impl IntoView {
    let error = failure(action.value());
    view! {
        <section class="panel" aria-labelledby="settings-title">
            <h2 id="settings-title">{tr(|s| s.schema_settings)}</h2>
            <FormError error />
            <ActionForm action attr:class="form grid-form" attr:data-testid="settings-form">
                <input type="hidden" name="table" value=table.clone() />
                <div class="field">
                    <label for="settings-name">{tr(|s| s.name)}</label>
                    <input id="settings-name" name="table_name" required pattern="[a-z][a-z0-9_]{0,62}" value=table
                        aria-invalid=invalid(error, "table_name") aria-describedby="table_name-error" />
                    <FieldError error field="table_name" />
                </div>
                <div class="field">
                    <label for="settings-cache">{tr(|s| s.schema_cache_policy)}</label>
                    <select id="settings-cache" name="cache_policy" aria-invalid=invalid(error, "cache_policy")
                        aria-describedby="settings-cache-hint cache_policy-error">
                        {CACHE_POLICIES.iter().map(|(value, label)| view! {
                            <option value=*value selected=*value == cache_policy>{tr(*label)}</option>
                        }).collect_view()}
                    </select>
                    <p class="hint" id="settings-cache-hint">{tr(|s| s.schema_cache_hint)}</p>
                    <FieldError error field="cache_policy" />
                </div>
                <div class="field wide">
                    <label for="settings-description">{tr(|s| s.description)}</label>
                    <input id="settings-description" name="description" value=description.unwrap_or_default() />
                </div>
                <label class="check">
                    <input id="settings-hierarchical" type="checkbox" name="hierarchical" value="on" checked=hierarchical
                        aria-invalid=invalid(error, "is_hierarchical") aria-describedby="is_hierarchical-error" />
                    {tr(|s| s.schema_hierarchical)}
                </label>
                <FieldError error field="is_hierarchical" />
                <button class="button" type="submit" data-testid="save-settings">{tr(|s| s.save)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn AttachForm(
    action: ServerAction<AttachColumn>,
    error: Signal<Option<AppError>>,
    table: String,
    library: Vec<String>,
) -> impl IntoView {
    // After a column was added the form starts empty again (after an error it keeps what was typed).
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    view! {
        <section class="panel" aria-labelledby="attach-title">
            <h2 id="attach-title">{tr(|s| s.schema_add_column)}</h2>
            <FormError error />
            <ActionForm action node_ref=form attr:class="form grid-form" attr:data-testid="attach-form">
                <input type="hidden" name="table" value=table />
                <div class="field">
                    <label for="column-name">{tr(|s| s.name)}</label>
                    <input id="column-name" name="column_name" required list="library"
                        aria-invalid=invalid(error, "column_name") aria-describedby="column_name-error" />
                    <datalist id="library">
                        {library.into_iter().map(|n| view! { <option value=n></option> }).collect_view()}
                    </datalist>
                    <FieldError error field="column_name" />
                </div>
                <div class="field">
                    <label for="column-type">{tr(|s| s.schema_type)}</label>
                    <select id="column-type" name="data_type" aria-invalid=invalid(error, "data_type")>
                        <option value="">{tr(|s| s.schema_from_library)}</option>
                        {TYPES.iter().map(|t| view! { <option value=*t selected=*t == "String">{*t}</option> }).collect_view()}
                    </select>
                    <FieldError error field="data_type" />
                </div>
                <div class="field">
                    <label for="column-default">{tr(|s| s.schema_default)}</label>
                    <input id="column-default" name="default_value" aria-invalid=invalid(error, "default_value") />
                    <FieldError error field="default_value" />
                </div>
                <div class="field">
                    <label for="column-rule">{tr(|s| s.schema_rule_label)}</label>
                    <select id="column-rule" name="validation_rule" aria-invalid=invalid(error, "validation_rule_type")>
                        <option value="">{tr(|s| s.none)}</option>
                        {RULES.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                    </select>
                    <FieldError error field="validation_rule_type" />
                </div>
                <div class="field">
                    <label for="column-rule-parameters">{tr(|s| s.schema_rule_parameters)}</label>
                    <input id="column-rule-parameters" name="validation_parameters" class="mono"
                        placeholder=r#"{"min": 0, "max": 100} · {"options": ["a", "b"]} · {"pattern": "^[A-Z]+$"}"#
                        aria-invalid=invalid(error, "validation_parameters") aria-describedby="validation_parameters-error" />
                    <FieldError error field="validation_parameters" />
                </div>
                <div class="field">
                    <label for="column-masking">{tr(|s| s.schema_masking_label)}</label>
                    <select id="column-masking" name="masking_rule">
                        <option value="">{tr(|s| s.none)}</option>
                        {MASKS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field wide">
                    <label for="column-description">{tr(|s| s.description)}</label>
                    <input id="column-description" name="description" />
                </div>
                <label class="check"><input type="checkbox" name="mandatory" value="on" />{tr(|s| s.schema_mandatory)}</label>
                <label class="check"><input type="checkbox" name="unique" value="on" />{tr(|s| s.schema_unique)}</label>
                <FieldError error field="is_mandatory" />
                <button class="button" type="submit" data-testid="attach-column">{tr(|s| s.schema_add_column)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
