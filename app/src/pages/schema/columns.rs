//! A table's columns in display order: type, rules, default and description; moved up or down by their
//! buttons (a form, so it works without JavaScript) or dragged by their handle to another row's place; detached.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::feedback::use_feedback;
use crate::components::form::{failure, FormError};
use crate::i18n::{fill, tr, use_i18n};
use crate::server_fns::schema::{DesignColumn, DetachColumn, MoveColumn};

#[component]
pub fn ColumnList(
    table: String,
    columns: Vec<DesignColumn>,
    mover: ServerAction<MoveColumn>,
    detach: ServerAction<DetachColumn>,
) -> impl IntoView {
    let feedback = use_feedback();
    let columns = RwSignal::new(columns);
    // The column being dragged, and the row it would take the place of.
    let dragged = RwSignal::new(None::<String>);
    let target = RwSignal::new(None::<String>);
    // The button last pressed (column, test id): it keeps the focus when its row moves.
    let pressed = RwSignal::new(None::<(String, &'static str)>);
    let error = failure(mover.value());
    // A finished move puts the rows in the server's order (no reload: the focus stays where it was).
    Effect::watch(
        move || mover.version().get(),
        move |_, _, _| match mover.value().get_untracked() {
            Some(Ok(order)) => {
                columns.update(|cs| cs.sort_by_key(|c| order.iter().position(|n| *n == c.name)));
                if let Some((column, button)) = pressed.get_untracked() {
                    request_animation_frame(move || refocus(&column, button));
                }
            }
            Some(Err(e)) => feedback.error(&e),
            None => {}
        },
        false,
    );
    view! {
        <p class="hint needs-js">{tr(|s| s.schema_reorder_hint)}</p>
        <FormError error />
        <table class="table" data-testid="design-columns">
            <thead><tr>
                <th scope="col"><span class="visually-hidden">{tr(|s| s.schema_order)}</span></th>
                <th scope="col">{tr(|s| s.name)}</th>
                <th scope="col">{tr(|s| s.schema_type)}</th>
                <th scope="col">{tr(|s| s.schema_rules)}</th>
                <th scope="col">{tr(|s| s.schema_default)}</th>
                <th scope="col">{tr(|s| s.description)}</th>
                <th scope="col">{tr(|s| s.actions)}</th>
            </tr></thead>
            <tbody>
                <For each=move || columns.get() key=|c| c.name.clone() let:c>
                    <ColumnRow table=table.clone() column=c columns mover detach dragged target pressed />
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

/// One column: a drop target and a drag source, with its move and detach forms.
#[component]
fn ColumnRow(
    table: String,
    column: DesignColumn,
    /// Every row, in their current order.
    columns: RwSignal<Vec<DesignColumn>>,
    mover: ServerAction<MoveColumn>,
    detach: ServerAction<DetachColumn>,
    dragged: RwSignal<Option<String>>,
    target: RwSignal<Option<String>>,
    pressed: RwSignal<Option<(String, &'static str)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = column.name.clone();
    // The current place of a row, and of the last one.
    let place = move |name: &str| columns.with(|cs| cs.iter().position(|c| c.name == name)).unwrap_or(0);
    let last = move || columns.with(Vec::len).saturating_sub(1);
    let here = {
        let name = name.clone();
        Memo::new(move |_| place(&name))
    };
    let is_target = {
        let name = name.clone();
        move || target.with(|t| t.as_deref() == Some(name.as_str()))
    };
    let flags = move || {
        let t = i18n.t();
        [
            column.mandatory.then(|| t.schema_mandatory.to_owned()),
            column.unique.then(|| t.schema_unique.to_owned()),
            column.rule.clone(),
            column.masking.clone().map(|m| format!("{} {m}", t.schema_masking)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
    };
    let label = move |template: fn(&crate::i18n::Strings) -> &'static str, name: &str| {
        let name = name.to_owned();
        move || fill(template(i18n.t()), &[&name])
    };
    let (handle_title, up_label, down_label) = (
        label(|s| s.schema_drag_column, &name),
        label(|s| s.schema_move_up, &name),
        label(|s| s.schema_move_down, &name),
    );
    let (on_over, on_drop, on_start) = (name.clone(), name.clone(), name.clone());
    let (up, down) = (name.clone(), name.clone());
    let (move_column, detach_column, shown) = (name.clone(), name.clone(), name.clone());
    let (drop_table, move_table, detach_table) = (table.clone(), table.clone(), table);
    view! {
        <tr data-testid="design-column" data-column=name draggable="true" class:drop-target=is_target
            on:dragstart=move |_| dragged.set(Some(on_start.clone()))
            on:dragover=move |ev| {
                // Accepting the drag makes this row a drop target.
                ev.prevent_default();
                if target.with_untracked(|t| t.as_deref() != Some(on_over.as_str())) {
                    target.set(Some(on_over.clone()));
                }
            }
            on:drop=move |ev| {
                ev.prevent_default();
                target.set(None);
                let Some(from) = dragged.get_untracked() else { return };
                dragged.set(None);
                if from != on_drop {
                    pressed.set(None);
                    mover.dispatch(MoveColumn { table: drop_table.clone(), column: from, position: place(&on_drop) });
                }
            }
            on:dragend=move |_| { dragged.set(None); target.set(None); }>
            <td class="drag-cell">
                <span class="drag-handle needs-js" data-testid="drag-handle" aria-hidden="true"
                    title=handle_title>"⠿"</span>
            </td>
            <td><code>{shown}</code></td>
            <td>{column.data_type.clone()}</td>
            <td class="small">{flags}</td>
            <td class="small">{column.default_value.clone().unwrap_or_default()}</td>
            <td class="small">{column.description.clone().unwrap_or_default()}</td>
            <td class="actions">
                <ActionForm action=mover attr:class="inline-form">
                    <input type="hidden" name="table" value=move_table />
                    <input type="hidden" name="column" value=move_column />
                    <button class="button secondary small" type="submit" name="position" data-testid="move-up"
                        value=move || here.get().saturating_sub(1).to_string() disabled=move || here.get() == 0
                        aria-label=up_label
                        on:click=move |_| pressed.set(Some((up.clone(), "move-up")))>"↑"</button>
                    <button class="button secondary small" type="submit" name="position" data-testid="move-down"
                        value=move || (here.get() + 1).to_string() disabled={move || here.get() >= last()}
                        aria-label=down_label
                        on:click=move |_| pressed.set(Some((down.clone(), "move-down")))>"↓"</button>
                </ActionForm>
                <ActionForm action=detach>
                    <input type="hidden" name="table" value=detach_table />
                    <input type="hidden" name="column" value=detach_column />
                    <button class="button danger small" type="submit" data-testid="detach-column">{tr(|s| s.schema_remove_column)}</button>
                </ActionForm>
            </td>
        </tr>
    }
    .into_any()
}

/// Gives the focus back to a row's move button after the rows moved (the other one when it is now disabled).
fn refocus(column: &str, button: &str) {
    let other = if button == "move-up" { "move-down" } else { "move-up" };
    let selector = |id: &str| format!(r#"[data-column="{column}"] [data-testid="{id}"]:not([disabled])"#);
    crate::components::browser::focus_first(&[selector(button), selector(other)]);
}
