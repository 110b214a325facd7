//! The data grid of one table: virtual scrolling over keyset pages (the DOM holds only the rows in view, at
//! any table size), a sticky header that sorts, keyboard navigation and inline editing with typed editors,
//! the server's field errors on the cell and a 409 shown with the row's current version and a choice to
//! reload or overwrite.
//!
//! Rows come in blocks of `BLOCK`: block k+1 continues block k's cursor when it is known, otherwise it is
//! read with `offset` (a jump into the middle of the table). The row count is the server's estimate until
//! the last block says where the table ends.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::feedback::use_feedback;
use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::errors::AppError;
use crate::i18n::tr;
use crate::server_fns::data::{
    create_grid_row, delete_grid_rows, get_grid_meta, get_grid_rows, save_cell, CellSaved, GridColumn,
    GridMeta, GridRow,
};

/// Height of a row in pixels (the stylesheet's `--grid-row-height`).
const ROW_H: f64 = 32.0;
/// Rows per request.
const BLOCK: usize = 100;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 10;

#[component]
pub fn TablePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let meta = Resource::new(name, get_grid_meta);
    view! {
        <PageHeader title=Signal::derive(name) />
        <Loaded resource=meta view=move |m: GridMeta| view! { <Grid meta=m /> }.into_any() />
    }
    .into_any()
}

/// A cell being edited: where, and the text typed so far.
#[derive(Clone, PartialEq)]
struct Editing {
    row: usize,
    col: usize,
    text: String,
}

/// A save refused because the row changed: the row as it is now and the value the user wanted.
#[derive(Clone, PartialEq)]
struct Conflict {
    row: usize,
    col: usize,
    current: GridRow,
    wanted: Option<String>,
}

#[component]
fn Grid(meta: GridMeta) -> impl IntoView {
    let feedback = use_feedback();
    let table = StoredValue::new(meta.table.clone());
    let columns = StoredValue::new(meta.columns.clone());
    let can_update = meta.can_update;
    let (can_create, can_delete) = (meta.can_create, meta.can_delete);
    let ncols = meta.columns.len();
    let total = RwSignal::new(usize::try_from(meta.total).unwrap_or(0));
    // Until the last block says where the table ends.
    let estimate = RwSignal::new(meta.total_is_estimate);
    let sort = RwSignal::new(String::new());
    let blocks: RwSignal<HashMap<usize, Vec<GridRow>>> = RwSignal::new(HashMap::new());
    let cursors: RwSignal<HashMap<usize, String>> = RwSignal::new(HashMap::new());
    let pending: RwSignal<HashSet<usize>> = RwSignal::new(HashSet::new());
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport_h = RwSignal::new(600.0_f64);
    let active = RwSignal::new((0_usize, 0_usize));
    let editing: RwSignal<Option<Editing>> = RwSignal::new(None);
    let cell_error: RwSignal<Option<(usize, usize, String)>> = RwSignal::new(None);
    let conflict: RwSignal<Option<Conflict>> = RwSignal::new(None);
    let selected: RwSignal<HashSet<String>> = RwSignal::new(HashSet::new());
    let adding = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    // Bumped by every new sort: answers for an older sort are dropped.
    let generation = RwSignal::new(0_u32);
    let viewport = NodeRef::<leptos::html::Div>::new();

    let row_at =
        move |i: usize| blocks.with(|b| b.get(&(i / BLOCK)).and_then(|rows| rows.get(i % BLOCK).cloned()));
    let visible = Memo::new(move |_| {
        let first = (scroll_top.get() / ROW_H) as usize;
        let shown = (viewport_h.get() / ROW_H).ceil() as usize + 1;
        let start = first.saturating_sub(OVERSCAN);
        let end = (first + shown + OVERSCAN).min(total.get());
        start..end.max(start)
    });

    // Load the blocks the visible rows need.
    let load = move |block: usize| {
        if pending.with_untracked(|p| p.contains(&block)) || blocks.with_untracked(|b| b.contains_key(&block))
        {
            return;
        }
        pending.update(|p| {
            p.insert(block);
        });
        let cursor = block.checked_sub(1).and_then(|prev| cursors.with_untracked(|c| c.get(&prev).cloned()));
        let offset = if cursor.is_some() || block == 0 { None } else { Some((block * BLOCK) as i64) };
        let (name, order, started) = (table.get_value(), sort.get_untracked(), generation.get_untracked());
        leptos::task::spawn_local(async move {
            let answer = get_grid_rows(name, order, cursor, offset, BLOCK as i64).await;
            if generation.get_untracked() != started {
                return;
            }
            pending.update(|p| {
                p.remove(&block);
            });
            match answer {
                Ok(page) => {
                    if page.next_cursor.is_none() {
                        total.set(block * BLOCK + page.rows.len());
                        estimate.set(false);
                    } else if total.get_untracked() <= (block + 1) * BLOCK {
                        total.set((block + 1) * BLOCK + 1);
                    }
                    if let Some(next) = page.next_cursor {
                        cursors.update(|c| {
                            c.insert(block, next);
                        });
                    }
                    blocks.update(|b| {
                        b.insert(block, page.rows);
                    });
                }
                Err(e) => feedback.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        let range = visible.get();
        sort.track();
        if range.is_empty() {
            if total.get() == 0 {
                load(0);
            }
            return;
        }
        for block in range.start / BLOCK..=(range.end - 1) / BLOCK {
            load(block);
        }
    });

    let resort = move |column: String| {
        let next = match sort.get_untracked().split_once(':') {
            Some((c, "asc")) if c == column => format!("{column}:desc"),
            Some((c, "desc")) if c == column => String::new(),
            _ => format!("{column}:asc"),
        };
        generation.update(|g| *g += 1);
        blocks.set(HashMap::new());
        cursors.set(HashMap::new());
        pending.set(HashSet::new());
        sort.set(next);
    };

    // After rows were added or deleted: read every block again.
    let refresh = move |delta: isize| {
        generation.update(|g| *g += 1);
        blocks.set(HashMap::new());
        cursors.set(HashMap::new());
        pending.set(HashSet::new());
        total.update(|t| *t = t.saturating_add_signed(delta));
        sort.notify();
    };
    let delete_selected = move || {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        let name = table.get_value();
        leptos::task::spawn_local(async move {
            match delete_grid_rows(name, ids.join(",")).await {
                Ok(count) => {
                    selected.set(HashSet::new());
                    confirming.set(false);
                    refresh(-(count as isize));
                }
                Err(e) => feedback.error(&e),
            }
        });
    };

    let scroll_into_view = move |row: usize| {
        let Some(el) = viewport.get_untracked() else { return };
        let top = row as f64 * ROW_H;
        let header = ROW_H;
        let current = el.scroll_top() as f64;
        let height = el.client_height() as f64 - header;
        if top < current {
            el.set_scroll_top(top as i32);
        } else if top + ROW_H > current + height {
            el.set_scroll_top((top + ROW_H - height) as i32);
        }
    };
    let focus_grid = move || {
        if let Some(el) = viewport.get_untracked() {
            let _ = el.focus();
        }
    };

    let save = move |row: usize, col: usize, text: Option<String>, version: Option<i64>| {
        let Some(current) = row_at(row) else { return };
        let Some(column) = columns.with_value(|c| c.get(col).map(|c| c.name.clone())) else { return };
        let version = version.unwrap_or(current.version);
        let name = table.get_value();
        leptos::task::spawn_local(async move {
            let wanted = text.clone();
            match save_cell(name, current.id.clone(), version, column.clone(), text).await {
                Ok(CellSaved::Saved(saved)) => {
                    cell_error.set(None);
                    conflict.set(None);
                    replace_row(blocks, row, saved);
                }
                Ok(CellSaved::Conflict(now)) => {
                    conflict.set(Some(Conflict { row, col, current: now, wanted }))
                }
                Err(e) => {
                    let message =
                        e.field(&format!("values.{column}")).map_or(e.message.clone(), str::to_owned);
                    cell_error.set(Some((row, col, message)));
                    if e.fields.is_empty() {
                        feedback.error(&e);
                    }
                }
            }
        });
    };

    let start_edit = move |row: usize, col: usize| {
        if !can_update || row_at(row).is_none() {
            return;
        }
        let text = row_at(row).and_then(|r| r.cells.get(col).cloned().flatten()).unwrap_or_default();
        editing.set(Some(Editing { row, col, text }));
    };
    let finish_edit = move |commit: bool| {
        if let Some(edit) = editing.get_untracked() {
            editing.set(None);
            if commit {
                let before = row_at(edit.row).and_then(|r| r.cells.get(edit.col).cloned().flatten());
                let after = Some(edit.text.clone()).filter(|t| !t.is_empty());
                if before != after {
                    save(edit.row, edit.col, after, None);
                }
            }
            focus_grid();
        }
    };

    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if editing.with_untracked(Option::is_some) {
            return;
        }
        let (row, col) = active.get_untracked();
        let rows = total.get_untracked();
        let page = ((viewport_h.get_untracked() / ROW_H) as usize).saturating_sub(2).max(1);
        let last_row = rows.saturating_sub(1);
        let last_col = ncols.saturating_sub(1);
        let next = match ev.key().as_str() {
            "ArrowDown" => (row.saturating_add(1).min(last_row), col),
            "ArrowUp" => (row.saturating_sub(1), col),
            "ArrowRight" => (row, col.saturating_add(1).min(last_col)),
            "ArrowLeft" => (row, col.saturating_sub(1)),
            "Tab" if ev.shift_key() => (row, col.saturating_sub(1)),
            "Tab" => (row, col.saturating_add(1).min(last_col)),
            "Home" if ev.ctrl_key() => (0, 0),
            "End" if ev.ctrl_key() => (last_row, last_col),
            "Home" => (row, 0),
            "End" => (row, last_col),
            "PageDown" => (row.saturating_add(page).min(last_row), col),
            "PageUp" => (row.saturating_sub(page), col),
            "Enter" | "F2" => {
                ev.prevent_default();
                start_edit(row, col);
                return;
            }
            "Escape" => {
                cell_error.set(None);
                return;
            }
            " " if can_delete => {
                ev.prevent_default();
                if let Some(r) = row_at(row) {
                    toggle(selected, r.id);
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        active.set(next);
        scroll_into_view(next.0);
    };

    let header = move || {
        columns.with_value(|cols| {
            cols.iter()
                .enumerate()
                .map(|(j, c)| {
                    let name = c.name.clone();
                    let key = c.name.clone();
                    let state = move || match sort.get().split_once(':') {
                        Some((s, "asc")) if s == key => "ascending",
                        Some((s, "desc")) if s == key => "descending",
                        _ => "none",
                    };
                    let mark = state.clone();
                    view! {
                        <div role="columnheader" class="cell head" aria-colindex=j + 2 aria-sort=state>
                            <button class="sort" type="button" data-testid="grid-sort"
                                on:click={ let name = name.clone(); move |_| resort(name.clone()) }>
                                {name.clone()}
                                <span class="sort-mark" aria-hidden="true">{move || match mark() {
                                    "ascending" => "▲",
                                    "descending" => "▼",
                                    _ => "",
                                }}</span>
                            </button>
                            <span class="type">{c.data_type.clone()}</span>
                        </div>
                    }
                })
                .collect_view()
        })
    };

    let cell_view = move |i: usize, j: usize| {
        let is_active = move || active.get() == (i, j);
        let is_editing = move || editing.with(|e| e.as_ref().is_some_and(|e| e.row == i && e.col == j));
        let error =
            move || cell_error.with(|e| e.as_ref().filter(|e| e.0 == i && e.1 == j).map(|e| e.2.clone()));
        let text = move || row_at(i).and_then(|r| r.cells.get(j).cloned().flatten());
        let data_type = columns.with_value(|c| c.get(j).map(|c| c.data_type.clone()).unwrap_or_default());
        let numeric = matches!(data_type.as_str(), "Int" | "Decimal");
        view! {
            <div role="gridcell" class="cell" class:numeric=numeric class:active=is_active
                class:invalid=move || error().is_some() aria-colindex=j + 2
                aria-selected=move || is_active().to_string() aria-invalid=move || error().map(|_| "true")
                title=error data-col=j
                on:click=move |_| { active.set((i, j)); }
                on:dblclick=move |_| { active.set((i, j)); start_edit(i, j); }>
                {move || if is_editing() {
                    view! { <CellEditor editing data_type=data_type.clone() options=columns.with_value(|c| c.get(j).map(|c| c.options.clone()).unwrap_or_default()) finish=finish_edit /> }.into_any()
                } else {
                    match text() {
                        Some(t) => view! { <span>{t}</span> }.into_any(),
                        None => view! { <span class="null"></span> }.into_any(),
                    }
                }}
            </div>
        }
    };

    let body = move || {
        view! {
            <For each=move || visible.get() key=|i| *i children=move |i| {
                let loaded = move || row_at(i).is_some();
                view! {
                    <div role="row" class="grid-row" class:loading=move || !loaded() aria-rowindex=i + 2
                        data-testid="grid-row" style=format!("top: {}px", i as f64 * ROW_H)>
                        <div role="rowheader" class="cell rownum" aria-colindex="1">
                            {can_delete.then(|| view! {
                                <input type="checkbox" class="row-select" data-testid="row-select" tabindex="-1"
                                    aria-label=move || format!("{} {}", tr(|s| s.grid_select_row)(), i + 1)
                                    prop:checked=move || row_at(i).is_some_and(|r| selected.with(|s| s.contains(&r.id)))
                                    on:change=move |_| { if let Some(r) = row_at(i) { toggle(selected, r.id); } } />
                            })}
                            {i + 1}
                        </div>
                        {(0..ncols).map(|j| cell_view(i, j)).collect_view()}
                    </div>
                }
            } />
        }
    };

    let template = format!("4.5rem repeat({ncols}, minmax(9rem, 14rem))");
    view! {
        <section class="grid-panel">
            <div class="row grid-toolbar">
                <div class="inline-form">
                    {can_create.then(|| view! {
                        <button class="button small" type="button" data-testid="grid-add"
                            on:click=move |_| adding.update(|a| *a = !*a)>{tr(|s| s.grid_add_row)}</button>
                    })}
                    {move || (can_delete && selected.with(|s| !s.is_empty())).then(|| {
                        let n = selected.with(HashSet::len);
                        if confirming.get() {
                            view! {
                                <button class="button danger small" type="button" data-testid="grid-delete-confirm"
                                    on:click=move |_| delete_selected()>{format!("{} ({n})", tr(|s| s.grid_delete_confirm)())}</button>
                                <button class="button secondary small" type="button"
                                    on:click=move |_| confirming.set(false)>{tr(|s| s.cancel)}</button>
                            }.into_any()
                        } else {
                            view! {
                                <button class="button secondary small" type="button" data-testid="grid-delete"
                                    on:click=move |_| confirming.set(true)>{format!("{} ({n})", tr(|s| s.grid_delete_rows)())}</button>
                            }.into_any()
                        }
                    })}
                </div>
                <p class="muted small" data-testid="grid-total">
                    {move || format!("{}{} {}", if estimate.get() { "≈ " } else { "" }, total.get(), tr(|s| s.grid_rows)())}
                </p>
                {(!can_update).then(|| view! { <p class="muted small" data-testid="grid-read-only">{tr(|s| s.grid_read_only)}</p> })}
            </div>
            {move || adding.get().then(|| view! {
                <NewRowForm table=table.get_value() columns=columns.get_value()
                    done=move || { adding.set(false); refresh(1); } cancel=move || adding.set(false) />
            })}
            <div class="grid-viewport" tabindex="0" role="grid" aria-label=move || table.get_value()
                aria-rowcount=move || total.get() + 1 aria-colcount=ncols + 1 aria-readonly=(!can_update).to_string()
                data-testid="grid" node_ref=viewport style=format!("--grid-columns: {template}")
                on:keydown=on_key
                on:scroll=move |ev| {
                    let el = event_target::<leptos::web_sys::HtmlElement>(&ev);
                    scroll_top.set(f64::from(el.scroll_top()));
                    viewport_h.set(f64::from(el.client_height()));
                }>
                <div role="row" class="grid-row grid-head" aria-rowindex="1">
                    <div role="columnheader" class="cell head rownum" aria-colindex="1">"#"</div>
                    {header}
                </div>
                <div class="grid-body" style=move || format!("height: {}px", total.get() as f64 * ROW_H)>
                    {body}
                </div>
            </div>
            {move || cell_error.get().map(|(i, j, message)| view! {
                <p class="form-error" role="alert" data-testid="grid-error">
                    {format!("{} {}, {}: ", tr(|s| s.grid_row)(), i + 1, columns.with_value(|c| c.get(j).map(|c| c.name.clone()).unwrap_or_default()))}
                    {message}
                </p>
            })}
            {move || conflict.get().map(|c| {
                let (reload_with, overwrite_with) = (c.clone(), c.clone());
                view! {
                    <div class="conflict" role="alertdialog" aria-labelledby="conflict-title" data-testid="grid-conflict">
                        <p id="conflict-title"><strong>{tr(|s| s.grid_conflict)}</strong></p>
                        <p class="small">{format!("{} {}", tr(|s| s.grid_conflict_version)(), c.current.version)}</p>
                        <div class="row">
                            <button class="button secondary" type="button" data-testid="grid-reload"
                                on:click=move |_| {
                                    replace_row(blocks, reload_with.row, reload_with.current.clone());
                                    conflict.set(None);
                                    focus_grid();
                                }>{tr(|s| s.grid_reload)}</button>
                            <button class="button" type="button" data-testid="grid-overwrite"
                                on:click=move |_| {
                                    let c = overwrite_with.clone();
                                    replace_row(blocks, c.row, c.current.clone());
                                    conflict.set(None);
                                    save(c.row, c.col, c.wanted.clone(), Some(c.current.version));
                                    focus_grid();
                                }>{tr(|s| s.grid_overwrite)}</button>
                        </div>
                    </div>
                }
            })}
        </section>
    }
    .into_any()
}

fn toggle(selected: RwSignal<HashSet<String>>, id: String) {
    selected.update(|s| {
        if !s.remove(&id) {
            s.insert(id);
        }
    });
}

/// A form with one input per column for a new row; the server's field errors are shown at their inputs.
#[component]
fn NewRowForm(
    table: String,
    columns: Vec<GridColumn>,
    done: impl Fn() + Copy + Send + Sync + 'static,
    cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let values: Vec<RwSignal<String>> = columns.iter().map(|_| RwSignal::new(String::new())).collect();
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let submit = {
        let values = values.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let object: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(&values)
                .map(|(name, value)| (name.clone(), serde_json::Value::String(value.get_untracked())))
                .collect();
            let table = table.clone();
            leptos::task::spawn_local(async move {
                match create_grid_row(table, serde_json::Value::Object(object).to_string()).await {
                    Ok(()) => done(),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    view! {
        <form class="panel form grid-form new-row" data-testid="grid-new-row" on:submit=submit>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
            {columns.into_iter().zip(values).map(|(c, value)| {
                let id = format!("new-{}", c.name);
                let field = format!("values.{}", c.name);
                let message = Signal::derive(move || error.get().and_then(|e| e.field(&field).map(str::to_owned)));
                let kind = match c.data_type.as_str() {
                    "Int" => "number",
                    "Date" => "date",
                    _ => "text",
                };
                view! {
                    <div class="field">
                        <label for=id.clone()>{c.name.clone()}{c.mandatory.then_some(" *")}</label>
                        <input id=id type=kind data-column=c.name.clone() prop:value=move || value.get()
                            aria-invalid=move || message.get().map(|_| "true")
                            on:input=move |ev| value.set(event_target_value(&ev)) />
                        {move || message.get().map(|m| view! { <p class="field-error" data-field=c.name.clone()>{m}</p> })}
                    </div>
                }
            }).collect_view()}
            <div class="inline-form">
                <button class="button" type="submit" data-testid="grid-new-row-save">{tr(|s| s.save)}</button>
                <button class="button secondary" type="button" on:click=move |_| cancel()>{tr(|s| s.cancel)}</button>
            </div>
        </form>
    }
    .into_any()
}

/// Replaces row `i` of the loaded blocks.
fn replace_row(blocks: RwSignal<HashMap<usize, Vec<GridRow>>>, i: usize, row: GridRow) {
    blocks.update(|b| {
        if let Some(slot) = b.get_mut(&(i / BLOCK)).and_then(|rows| rows.get_mut(i % BLOCK)) {
            *slot = row;
        }
    });
}

/// The editor of one cell, typed after its column: numbers, dates, true/false and enum choices get their own
/// input; Enter saves, Escape cancels, leaving the cell saves.
#[component]
fn CellEditor(
    editing: RwSignal<Option<Editing>>,
    data_type: String,
    options: Vec<String>,
    finish: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let value = editing.get_untracked().map(|e| e.text).unwrap_or_default();
    let set = move |text: String| {
        editing.update(|e| {
            if let Some(e) = e {
                e.text = text
            }
        })
    };
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
    let choices = if data_type == "Boolean" { vec!["true".to_owned(), "false".to_owned()] } else { options };
    // Focus the editor once it is in the page.
    let select = NodeRef::<leptos::html::Select>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = select.get() {
            let _ = el.focus();
        }
        if let Some(el) = input.get() {
            let _ = el.focus();
            el.select();
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
    let (kind, mode) = match data_type.as_str() {
        "Int" => ("number", "numeric"),
        "Decimal" => ("text", "decimal"),
        "Date" => ("date", "text"),
        _ => ("text", "text"),
    };
    view! {
        <input class="cell-editor" data-testid="cell-editor" type=kind inputmode=mode value=value node_ref=input
            on:input=move |ev| set(event_target_value(&ev)) on:keydown=on_key on:blur=move |_| finish(true) />
    }
    .into_any()
}
