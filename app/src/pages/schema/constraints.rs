//! A table's constraints: the declared ones (drop), and the form that declares a PRIMARY KEY, UNIQUE (case
//! and JSON paths), FOREIGN KEY (referenced table, actions, match type) or CHECK (with live parse feedback
//! from the server while the expression is typed). With JavaScript only the chosen type's fields show.

use std::time::Duration;

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::form::{failure, invalid, FieldError, FormError};
use crate::errors::AppError;
use crate::i18n::{tr, use_i18n, Strings};
use crate::server_fns::schema::constraints::{
    ConstraintItem, DeclareConstraint, DropConstraint, ParseCheckExpression,
};

const KINDS: [&str; 4] = ["PRIMARY KEY", "UNIQUE", "FOREIGN KEY", "CHECK"];
/// The referential actions core accepts (the first is the default).
const ACTIONS: [&str; 5] = ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"];
const MATCH_TYPES: [&str; 2] = ["SIMPLE", "FULL"];
/// How long typing must pause before the CHECK expression is sent for parsing.
const PARSE_DELAY: Duration = Duration::from_millis(300);

/// What a constraint enforces beyond its columns, in a few words.
fn details(c: &ConstraintItem, t: &Strings) -> String {
    let mut parts = Vec::new();
    if matches!(c.kind.as_str(), "PRIMARY KEY" | "UNIQUE") && !c.case_sensitive {
        parts.push(t.schema_case_insensitive.to_owned());
    }
    for (path, case_sensitive) in &c.json_paths {
        let case = if *case_sensitive { String::new() } else { format!(" ({})", t.schema_case_insensitive) };
        parts.push(format!("ext.{path}{case}"));
    }
    if let Some(r) = &c.references {
        parts.push(format!(
            "→ {} · ON DELETE {} · ON UPDATE {} · MATCH {}",
            r.table, r.on_delete, r.on_update, r.match_type
        ));
    }
    if let Some((expression, message)) = &c.check {
        parts.push(expression.clone());
        parts.extend(message.as_ref().map(|m| format!("“{m}”")));
    }
    if !c.active {
        parts.push(t.inactive.to_owned());
    }
    parts.join(" · ")
}

#[component]
pub fn ConstraintList(
    table: String,
    constraints: Vec<ConstraintItem>,
    action: ServerAction<DropConstraint>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = failure(action.value());
    let empty = constraints.is_empty();
    view! {
        <section class="panel" aria-labelledby="constraints-title">
            <h2 id="constraints-title">{tr(|s| s.schema_constraints)}</h2>
            <FormError error />
            {empty.then(|| view! { <p class="muted" data-testid="constraints-empty">{tr(|s| s.schema_constraints_empty)}</p> })}
            <table class="table" data-testid="design-constraints" hidden=empty>
                <thead><tr>
                    <th scope="col">{tr(|s| s.name)}</th>
                    <th scope="col">{tr(|s| s.schema_type)}</th>
                    <th scope="col">{tr(|s| s.schema_columns)}</th>
                    <th scope="col">{tr(|s| s.schema_constraint_details)}</th>
                    <th scope="col">{tr(|s| s.actions)}</th>
                </tr></thead>
                <tbody>
                    {constraints.into_iter().map(|c| {
                        let label = format!("{} {}", i18n.t().schema_drop_constraint, c.name);
                        let (name, shown, dropped) = (c.name.clone(), c.name.clone(), c.name.clone());
                        let (kind, shown_kind) = (c.kind.clone(), c.kind.clone());
                        let columns = c.columns.join(", ");
                        let table = table.clone();
                        let describe = move || details(&c, i18n.t());
                        view! {
                            <tr data-testid="design-constraint" data-constraint=name data-type=kind>
                                <td><code>{shown}</code></td>
                                <td class="nowrap">{shown_kind}</td>
                                <td>{columns}</td>
                                <td class="small">{describe}</td>
                                <td>
                                    <ActionForm action>
                                        <input type="hidden" name="table" value=table />
                                        <input type="hidden" name="name" value=dropped />
                                        <button class="button danger small" type="submit" data-testid="drop-constraint"
                                            aria-label=label>{tr(|s| s.schema_drop_constraint)}</button>
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

/// The declaration form. `columns` are the table's (in display order), `tables` the workspace's.
#[component]
pub fn DeclareForm(
    table: String,
    columns: Vec<String>,
    tables: Vec<String>,
    action: ServerAction<DeclareConstraint>,
) -> impl IntoView {
    let error = failure(action.value());
    // The chosen type once hydrated; `None` (the server's render, no JavaScript) shows every type's fields.
    let kind = RwSignal::new(None::<String>);
    let kind_select = NodeRef::<leptos::html::Select>::new();
    Effect::new(move |_| {
        if let Some(select) = kind_select.get() {
            kind.set(Some(select.value()));
        }
    });
    let hide_unless = move |wanted: &'static [&'static str]| {
        move || kind.with(|k| k.as_deref().is_some_and(|k| !wanted.contains(&k)))
    };
    // Key columns in the order they were ticked (sent as `column_order`).
    let ticked = RwSignal::new(Vec::<String>::new());
    view! {
        <section class="panel" aria-labelledby="declare-title">
            <h2 id="declare-title">{tr(|s| s.schema_declare_constraint)}</h2>
            <FormError error />
            <ActionForm action attr:class="form grid-form" attr:data-testid="declare-form">
                <input type="hidden" name="table" value=table.clone() />
                <div class="field">
                    <label for="constraint-name">{tr(|s| s.name)}</label>
                    <input id="constraint-name" name="constraint_name" required pattern="[a-z][a-z0-9_]{0,62}"
                        aria-invalid=invalid(error, "constraint_name") aria-describedby="constraint_name-error" />
                    <FieldError error field="constraint_name" />
                </div>
                <div class="field">
                    <label for="constraint-type">{tr(|s| s.schema_type)}</label>
                    <select id="constraint-type" name="constraint_type" node_ref=kind_select
                        aria-invalid=invalid(error, "constraint_type") aria-describedby="constraint_type-error"
                        on:change=move |ev| kind.set(Some(event_target_value(&ev)))>
                        {KINDS.iter().map(|k| view! { <option value=*k>{*k}</option> }).collect_view()}
                    </select>
                    <FieldError error field="constraint_type" />
                </div>
                <fieldset class="field wide" hidden=hide_unless(&["PRIMARY KEY", "UNIQUE", "FOREIGN KEY"])
                    aria-describedby="columns-hint columns-error">
                    <legend>{tr(|s| s.schema_columns)}</legend>
                    <p class="hint" id="columns-hint">{tr(|s| s.schema_key_columns_hint)}</p>
                    <div class="checks">
                        {columns.into_iter().map(|column| {
                            let (toggled, shown) = (column.clone(), column.clone());
                            let rank = move || ticked.with(|t| t.iter().position(|c| *c == shown)).map(|i| (i + 1).to_string());
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="columns[]" value=column.clone()
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            ticked.update(|t| {
                                                t.retain(|c| *c != toggled);
                                                if on {
                                                    t.push(toggled.clone());
                                                }
                                            });
                                        } />
                                    <code>{column}</code>
                                    <span class="badge muted" data-testid="key-rank">{rank}</span>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    <input type="hidden" name="column_order" value=move || ticked.get().join(",") />
                    <FieldError error field="columns" />
                </fieldset>
                <fieldset class="field wide" hidden=hide_unless(&["PRIMARY KEY", "UNIQUE"])>
                    <legend>{tr(|s| s.schema_key_options)}</legend>
                    <label class="check"><input type="checkbox" name="case_sensitive" value="on" checked />{tr(|s| s.schema_case_sensitive)}</label>
                    <label for="json-paths">{tr(|s| s.schema_json_paths)}</label>
                    <input id="json-paths" name="json_paths" placeholder="profile.handle, region"
                        aria-invalid=invalid(error, "json_properties") aria-describedby="json_properties-error" />
                    <FieldError error field="json_properties" />
                </fieldset>
                <fieldset class="field wide" hidden=hide_unless(&["FOREIGN KEY"])>
                    <legend>{tr(|s| s.schema_foreign_key)}</legend>
                    <div class="form grid-form">
                        <div class="field">
                            <label for="referenced-table">{tr(|s| s.schema_referenced_table)}</label>
                            <select id="referenced-table" name="referenced_table"
                                aria-invalid=invalid(error, "referenced_table") aria-describedby="referenced_table-error">
                                <option value="">{tr(|s| s.schema_pick_table)}</option>
                                {tables.into_iter().map(|t| { let value = t.clone(); view! { <option value=value>{t}</option> } }).collect_view()}
                            </select>
                            <FieldError error field="referenced_table" />
                        </div>
                        <Choice id="on-delete" name="on_delete" label=tr(|s| s.schema_on_delete) options=&ACTIONS error />
                        <Choice id="on-update" name="on_update" label=tr(|s| s.schema_on_update) options=&ACTIONS error />
                        <Choice id="match-type" name="match_type" label=tr(|s| s.schema_match_type) options=&MATCH_TYPES error />
                    </div>
                </fieldset>
                <fieldset class="field wide" hidden=hide_unless(&["CHECK"])>
                    <legend>{tr(|s| s.schema_check)}</legend>
                    <CheckExpression table error />
                    <label for="error-message">{tr(|s| s.schema_error_message)}</label>
                    <input id="error-message" name="error_message" />
                </fieldset>
                <button class="button" type="submit" data-testid="declare-constraint">{tr(|s| s.schema_declare)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// A labelled select of fixed SQL words (the first is the default).
#[component]
fn Choice(
    id: &'static str,
    name: &'static str,
    label: impl Fn() -> &'static str + Send + Sync + 'static,
    options: &'static [&'static str],
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let described = format!("{name}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=name aria-invalid=invalid(error, name) aria-describedby=described>
                {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
            </select>
            <FieldError error field=name />
        </div>
    }
    .into_any()
}

/// The CHECK expression, parsed by the server as it is typed (hydrated): its message, with the position of a
/// syntax error, or that it is valid.
#[component]
fn CheckExpression(table: String, error: Signal<Option<AppError>>) -> impl IntoView {
    let parse = ServerAction::<ParseCheckExpression>::new();
    let mut typed = debounce(PARSE_DELAY, move |expression: String| {
        parse.dispatch(ParseCheckExpression { table: table.clone(), expression });
    });
    let feedback = move || {
        parse.value().get().map(|result| match result {
            Ok(None) => view! {
                <p class="check-ok" data-testid="check-feedback" data-valid="true">{tr(|s| s.schema_check_valid)}</p>
            }
            .into_any(),
            Ok(Some(message)) | Err(AppError { message, .. }) => view! {
                <p class="field-error" data-testid="check-feedback" data-valid="false">{message}</p>
            }
            .into_any(),
        })
    };
    view! {
        <label for="check-expression">{tr(|s| s.schema_check_expression)}</label>
        <textarea id="check-expression" name="check_expression" rows="2" spellcheck="false"
            aria-invalid=invalid(error, "check_expression")
            aria-describedby="check-hint check-feedback check_expression-error"
            on:input=move |ev| typed(event_target_value(&ev))></textarea>
        <p class="hint" id="check-hint">{tr(|s| s.schema_check_hint)}</p>
        <div id="check-feedback" aria-live="polite">{feedback}</div>
        <FieldError error field="check_expression" />
    }
    .into_any()
}
