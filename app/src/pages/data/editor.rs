//! The editor of one grid cell, typed after its column: numbers, decimals, dates, date-times, true/false and
//! enum choices get their own input, and a one-column foreign key a reference picker that searches the
//! referenced table. Enter saves, Escape cancels, leaving the cell saves.

use leptos::prelude::*;

use crate::server_fns::data::{search_references, GridColumn};

/// The text being edited (shared with the grid, which saves it).
pub type Draft = RwSignal<Option<String>>;

#[component]
pub fn CellEditor(
    table: String,
    column: GridColumn,
    draft: Draft,
    /// The edit began with a typed character: keep it and put the caret after it (instead of selecting).
    caret_at_end: bool,
    finish: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let value = draft.get_untracked().unwrap_or_default();
    let set = move |text: String| draft.set(Some(text));
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            ev.stop_propagation();
            finish(true);
        }
        "Escape" => {
            ev.prevent_default();
            ev.stop_propagation();
            finish(false);
        }
        _ => ev.stop_propagation(),
    };
    let choices = if column.data_type == "Boolean" {
        vec!["true".to_owned(), "false".to_owned()]
    } else {
        column.options
    };
    // Focus the editor once it is in the page.
    let select = NodeRef::<leptos::html::Select>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = select.get() {
            let _ = el.focus();
        }
        if let Some(el) = input.get() {
            let _ = el.focus();
            place_caret(&el, caret_at_end);
        }
    });
    if !choices.is_empty() {
        return view! {
            <select class="cell-editor" data-testid="cell-editor" node_ref=select
                on:change=move |ev| set(event_target_value(&ev)) on:keydown=on_key on:blur=move |_| finish(true)>
                <option value="" selected=value.is_empty()></option>
                {choices.into_iter().map(|c| {
                    let selected = c == value;
                    view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                }).collect_view()}
            </select>
        }
        .into_any();
    }
    if column.references.is_some() {
        return view! { <ReferencePicker table column=column.name draft caret_at_end finish /> }.into_any();
    }
    let (kind, mode, step) = match column.data_type.as_str() {
        "Int" => ("text", "numeric", None),
        "Decimal" => ("text", "decimal", None),
        "Date" => ("date", "text", None),
        "DateTime" => ("datetime-local", "text", Some("1")),
        _ => ("text", "text", None),
    };
    // A DateTime arrives as RFC 3339 (`2026-12-08T10:00:00Z`); the input wants local `2026-12-08T10:00:00`.
    let shown = if kind == "datetime-local" { value.trim_end_matches('Z').to_owned() } else { value };
    let is_datetime = kind == "datetime-local";
    view! {
        <input class="cell-editor" data-testid="cell-editor" type=kind inputmode=mode step=step value=shown node_ref=input
            on:input=move |ev| {
                let text = event_target_value(&ev);
                set(if is_datetime && !text.is_empty() { format!("{text}Z") } else { text })
            }
            on:keydown=on_key on:blur=move |_| finish(true) />
    }
    .into_any()
}

/// A text input whose suggestions are rows of the referenced table (searched as the user types); picking one
/// writes its key. Suggestions are chosen with the mouse or ArrowDown/ArrowUp and Enter.
#[component]
fn ReferencePicker(
    table: String,
    column: String,
    draft: Draft,
    caret_at_end: bool,
    finish: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let search = RwSignal::new(draft.get_untracked().unwrap_or_default());
    let highlighted = RwSignal::new(None::<usize>);
    let options = LocalResource::new(move || {
        let (table, column, text) = (table.clone(), column.clone(), search.get());
        async move { search_references(table, column, text).await.unwrap_or_default() }
    });
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
            place_caret(&el, caret_at_end);
        }
    });
    let pick = move |key: String| {
        draft.set(Some(key));
        finish(true);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = options.get_untracked().map_or(0, |o| o.len());
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                highlighted.update(|h| *h = Some(h.map_or(0, |i| (i + 1).min(count - 1))));
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                highlighted.update(|h| *h = Some(h.map_or(0, |i| i.saturating_sub(1))));
            }
            "Enter" => {
                ev.prevent_default();
                ev.stop_propagation();
                let chosen = highlighted
                    .get_untracked()
                    .and_then(|i| options.get_untracked().and_then(|o| o.get(i).map(|(key, _)| key.clone())));
                match chosen {
                    Some(key) => pick(key),
                    None => finish(true),
                }
            }
            "Escape" => {
                ev.prevent_default();
                ev.stop_propagation();
                finish(false);
            }
            _ => ev.stop_propagation(),
        }
    };
    view! {
        <div class="reference-picker">
            <input class="cell-editor" data-testid="cell-editor" role="combobox" aria-expanded="true"
                aria-autocomplete="list" node_ref=input prop:value=move || search.get()
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    draft.set(Some(text.clone()));
                    highlighted.set(None);
                    search.set(text);
                }
                on:keydown=on_key on:blur=move |_| finish(true) />
            <Transition fallback=|| ()>
                <ul class="reference-options" role="listbox" data-testid="reference-options">
                    {move || options.get().unwrap_or_default().into_iter().enumerate().map(|(i, (key, label))| {
                        let (chosen, shown) = (key.clone(), key.clone());
                        view! {
                            <li role="option" data-testid="reference-option" data-key=key.clone()
                                aria-selected=move || (highlighted.get() == Some(i)).to_string()
                                class:highlighted=move || highlighted.get() == Some(i)
                                on:mousedown=move |ev| { ev.prevent_default(); pick(chosen.clone()); }>
                                <strong>{shown}</strong> " " <span class="muted">{label}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Transition>
        </div>
    }
}

/// After the editor took the focus: the caret after a typed character, or the whole value selected.
fn place_caret(input: &leptos::web_sys::HtmlInputElement, at_end: bool) {
    if at_end {
        let end = input.value().encode_utf16().count() as u32;
        let _ = input.set_selection_range(end, end);
    } else {
        input.select();
    }
}
