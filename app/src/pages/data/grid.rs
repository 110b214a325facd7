//! The data grid of one table: virtual scrolling over keyset pages (the DOM holds only the rows in view, at
//! any table size), a sticky header with multi-column sort, a filter builder, keyboard navigation and
//! inline editing with typed editors, cell ranges copied and pasted as TSV (a paste is one batch), undo of
//! recent edits, the server's field errors on the cell, a 409 shown with the row's current version and a
//! choice to reload or overwrite, a row drawer, a tree view for hierarchical tables, columns the user hides,
//! resizes and reorders (remembered per user) and the current view exported to CSV or XLSX.
//!
//! Rows come in blocks of `BLOCK`: block k+1 continues block k's cursor when it is known, otherwise it is
//! read with `offset` (a jump into the middle of the table). The row count is the server's estimate until
//! the last block says where the table ends.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::clip;
use super::columns::ColumnsPanel;
use super::drawer::RowDrawer;
use super::editor::CellEditor;
use super::filter::{view_json, Filter, FilterBuilder};
use super::new_row::NewRowForm;
use super::tree::TreeView;
use crate::components::browser;
use crate::components::feedback::{use_feedback, Tone};
use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::errors::AppError;
use crate::i18n::tr;
use crate::server_fns::data::{
    delete_grid_rows, duplicate_grid_rows, get_grid_meta, get_grid_rows, save_cell, save_cells,
    save_grid_layout, CellEdit, CellSaved, GridColumn, GridLayout, GridMeta, GridRow,
};

/// Height of a row in pixels (the stylesheet's `--grid-row-height`).
pub const ROW_H: f64 = 32.0;
/// Rows per request.
const BLOCK: usize = 100;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 10;
/// Edits that can be undone.
const UNDO_DEPTH: usize = 50;
/// Blocks kept in memory: those farthest from the rows in view are dropped beyond this (memory stays flat
/// however far the user scrolls), and so are cursors beyond `KEEP_CURSORS`.
const KEEP_BLOCKS: usize = 30;
const KEEP_CURSORS: usize = 2_000;

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

/// A cell being edited: the row and the column (an index into the table's columns).
#[derive(Clone, Copy, PartialEq)]
struct Editing {
    row: usize,
    col: usize,
}

/// A save refused because the row changed: the row as it is now and the value the user wanted.
#[derive(Clone, PartialEq)]
struct Conflict {
    row: usize,
    col: usize,
    current: GridRow,
    wanted: Option<String>,
}

/// One cell changed by the user, for undo.
#[derive(Clone, PartialEq)]
struct Change {
    id: String,
    col: usize,
    before: Option<String>,
}

/// The display order of the columns under a layout: indexes into `columns`, hidden ones left out; columns
/// the layout does not name (new ones) come last in table order.
pub fn display_order(columns: &[GridColumn], layout: &GridLayout) -> Vec<usize> {
    let mut order: Vec<usize> =
        layout.order.iter().filter_map(|name| columns.iter().position(|c| &c.name == name)).collect();
    for j in 0..columns.len() {
        if !order.contains(&j) {
            order.push(j);
        }
    }
    order.retain(|&j| !layout.hidden.contains(&columns[j].name));
    order
}

#[component]
fn Grid(meta: GridMeta) -> impl IntoView {
    let feedback = use_feedback();
    let table = StoredValue::new(meta.table.clone());
    let columns = StoredValue::new(meta.columns.clone());
    let can_update = meta.can_update;
    let (can_create, can_delete) = (meta.can_create, meta.can_delete);
    let hierarchical = meta.hierarchical;
    let layout = RwSignal::new(meta.layout.clone());
    let shown = Memo::new(move |_| layout.with(|l| columns.with_value(|c| display_order(c, l))));
    let total = RwSignal::new(usize::try_from(meta.total).unwrap_or(0));
    // Until the last block says where the table ends.
    let estimate = RwSignal::new(meta.total_is_estimate);
    let sort: RwSignal<Vec<(String, bool)>> = RwSignal::new(Vec::new());
    let filter = RwSignal::new(Filter::default());
    let filter_error: RwSignal<Option<String>> = RwSignal::new(None);
    let view = Memo::new(move |_| {
        let f = filter.with(|f| columns.with_value(|c| f.to_json(c)));
        view_json(&sort.get(), f)
    });
    let blocks: RwSignal<HashMap<usize, Vec<GridRow>>> = RwSignal::new(HashMap::new());
    let cursors: RwSignal<HashMap<usize, String>> = RwSignal::new(HashMap::new());
    let pending: RwSignal<HashSet<usize>> = RwSignal::new(HashSet::new());
    // The next first block also asks for the view's row count (after a new sort or filter).
    let recount = RwSignal::new(false);
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport_h = RwSignal::new(600.0_f64);
    // The active cell: row, display position.
    let active = RwSignal::new((0_usize, 0_usize));
    // The other corner of a selected range (Shift+arrows), if any.
    let anchor: RwSignal<Option<(usize, usize)>> = RwSignal::new(None);
    let editing: RwSignal<Option<Editing>> = RwSignal::new(None);
    let draft: RwSignal<Option<String>> = RwSignal::new(None);
    // The edit was started by typing a character (the editor puts the caret after it).
    let typed_into = RwSignal::new(false);
    let cell_error: RwSignal<Option<(usize, usize, String)>> = RwSignal::new(None);
    let conflict: RwSignal<Option<Conflict>> = RwSignal::new(None);
    let selected: RwSignal<HashSet<String>> = RwSignal::new(HashSet::new());
    let undo: RwSignal<Vec<Vec<Change>>> = RwSignal::new(Vec::new());
    let adding = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let filtering = RwSignal::new(false);
    let arranging = RwSignal::new(false);
    let tree = RwSignal::new(false);
    let drawer: RwSignal<Option<String>> = RwSignal::new(None);
    // Bumped by every new view or reload: answers for an older one are dropped.
    let generation = RwSignal::new(0_u32);
    // Bumped to read the visible blocks again (after rows were added or deleted).
    let reload = RwSignal::new(0_u32);
    let viewport = NodeRef::<leptos::html::Div>::new();

    let row_at =
        move |i: usize| blocks.with(|b| b.get(&(i / BLOCK)).and_then(|rows| rows.get(i % BLOCK).cloned()));
    let column_at = move |d: usize| shown.with(|s| s.get(d).copied());
    let visible = Memo::new(move |_| {
        let first = (scroll_top.get() / ROW_H) as usize;
        let count = (viewport_h.get() / ROW_H).ceil() as usize + 1;
        let start = first.saturating_sub(OVERSCAN);
        let end = (first + count + OVERSCAN).min(total.get());
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
        let count = block == 0 && recount.get_untracked();
        let (name, body, started) = (table.get_value(), view.get_untracked(), generation.get_untracked());
        leptos::task::spawn_local(async move {
            let answer = get_grid_rows(name, body, cursor, offset, BLOCK as i64, count).await;
            if generation.get_untracked() != started {
                return;
            }
            pending.update(|p| {
                p.remove(&block);
            });
            match answer {
                Ok(page) => {
                    filter_error.set(None);
                    if let Some((n, is_estimate)) = page.total {
                        recount.set(false);
                        total.set(usize::try_from(n).unwrap_or(0));
                        estimate.set(is_estimate);
                    }
                    if page.next_cursor.is_none() {
                        total.set(block * BLOCK + page.rows.len());
                        estimate.set(false);
                    } else if total.get_untracked() <= (block + 1) * BLOCK {
                        total.set((block + 1) * BLOCK + 1);
                    }
                    let here = visible.get_untracked().start / BLOCK;
                    if let Some(next) = page.next_cursor {
                        cursors.update(|c| {
                            c.insert(block, next);
                            keep_nearest(c, here, KEEP_CURSORS);
                        });
                    }
                    blocks.update(|b| {
                        b.insert(block, page.rows);
                        keep_nearest(b, here, KEEP_BLOCKS);
                    });
                }
                Err(e) if e.message.to_lowercase().contains("filter") || e.field("filter").is_some() => {
                    filter_error.set(Some(e.field("filter").unwrap_or(&e.message).to_owned()));
                    // An empty block 0: not asked for again until the view changes.
                    blocks.update(|b| {
                        b.insert(block, Vec::new());
                    });
                    if total.get_untracked() != 0 {
                        total.set(0);
                    }
                }
                Err(e) => feedback.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        let range = visible.get();
        view.track();
        reload.track();
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

    // Read every block again (a new view, rows added or deleted).
    let reset = move || {
        editing.set(None);
        conflict.set(None);
        cell_error.set(None);
        generation.update(|g| *g += 1);
        blocks.set(HashMap::new());
        cursors.set(HashMap::new());
        pending.set(HashSet::new());
    };
    // A new sort or filter: count again, from the top.
    Effect::new(move |previous: Option<String>| {
        let body = view.get();
        if previous.is_some_and(|p| p != body) {
            reset();
            recount.set(true);
            total.set(0);
            active.set((0, 0));
            anchor.set(None);
            if let Some(el) = viewport.get_untracked() {
                el.set_scroll_top(0);
            }
        }
        body
    });
    let refresh = move |delta: isize| {
        reset();
        total.update(|t| *t = t.saturating_add_signed(delta));
        reload.update(|r| *r += 1);
    };

    let resort = move |column: String, add: bool| {
        sort.update(|keys| {
            let at = keys.iter().position(|(c, _)| *c == column);
            match (at, add) {
                (Some(i), _) if !keys[i].1 => keys[i].1 = true,
                (Some(i), true) => {
                    keys.remove(i);
                }
                (Some(_), false) => keys.clear(),
                (None, true) => keys.push((column, false)),
                (None, false) => *keys = vec![(column, false)],
            }
        });
    };

    let run_ids = move |ids: Vec<String>, duplicate: bool| {
        let name = table.get_value();
        leptos::task::spawn_local(async move {
            let answer = if duplicate {
                duplicate_grid_rows(name, ids.join(",")).await.map(|n| n as isize)
            } else {
                delete_grid_rows(name, ids.join(",")).await.map(|n| -(n as isize))
            };
            match answer {
                Ok(delta) => {
                    selected.set(HashSet::new());
                    confirming.set(false);
                    refresh(delta);
                }
                Err(e) => feedback.failure(&e),
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
    // The loaded row with this id (rows move when the view changes).
    let find_row = move |id: &str| {
        blocks.with_untracked(|b| {
            b.iter().find_map(|(k, rows)| rows.iter().position(|r| r.id == id).map(|i| k * BLOCK + i))
        })
    };
    let put_row = move |row: GridRow| {
        if let Some(i) = find_row(&row.id) {
            replace_row(blocks, i, row);
        }
    };
    let column_name = move |col: usize| columns.with_value(|c| c.get(col).map(|c| c.name.clone()));

    let save = move |row: usize, col: usize, text: Option<String>, version: Option<i64>, record: bool| {
        let Some(current) = row_at(row) else { return };
        let Some(column) = column_name(col) else { return };
        let before = current.cells.get(col).cloned().flatten();
        let version = version.unwrap_or(current.version);
        let name = table.get_value();
        leptos::task::spawn_local(async move {
            let wanted = text.clone();
            match save_cell(name, current.id.clone(), version, column.clone(), text).await {
                Ok(CellSaved::Saved(saved)) => {
                    cell_error.set(None);
                    conflict.set(None);
                    if record {
                        push_undo(undo, vec![Change { id: saved.id.clone(), col, before }]);
                    }
                    put_row(saved);
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

    // Writes many cells as one batch: `cells` are (row, column index, text). `record`: undoable; `undoing`:
    // the undo step being replayed, put back if the batch fails.
    let save_many = move |cells: Vec<(usize, usize, Option<String>)>,
                          record: bool,
                          undoing: Option<Vec<Change>>| {
        let mut edits = Vec::new();
        let mut changes = Vec::new();
        let mut rows_in_order: Vec<usize> = Vec::new();
        for (i, col, value) in cells {
            let (Some(row), Some(column)) = (row_at(i), column_name(col)) else { continue };
            if !rows_in_order.contains(&i) {
                rows_in_order.push(i);
            }
            changes.push(Change { id: row.id.clone(), col, before: row.cells.get(col).cloned().flatten() });
            edits.push(CellEdit { id: row.id, version: row.version, column, value });
        }
        if edits.is_empty() {
            if let Some(step) = undoing {
                push_undo(undo, step);
                feedback.push(Tone::Error, tr(|s| s.grid_undo_unavailable)().to_owned());
            }
            return;
        }
        let first_col = changes.first().map_or(0, |c| c.col);
        let name = table.get_value();
        let body = serde_json::to_string(&edits).unwrap_or_default();
        leptos::task::spawn_local(async move {
            match save_cells(name, body).await {
                Ok(rows) => {
                    cell_error.set(None);
                    let n = rows.len();
                    for row in rows {
                        put_row(row);
                    }
                    if record {
                        push_undo(undo, changes);
                    }
                    feedback.success(format!("{} {n}", tr(|s| s.grid_rows_saved)()));
                }
                Err(e) => {
                    if let Some(step) = undoing {
                        push_undo(undo, step);
                    }
                    // `operations[k]…` is the k-th edited row.
                    let at = e.fields.first().and_then(|f| {
                        let k: usize =
                            f.field.strip_prefix("operations[")?.split(']').next()?.parse().ok()?;
                        let row = *rows_in_order.get(k)?;
                        let column = f.field.split(".values.").nth(1).map(str::to_owned);
                        let col = column
                            .and_then(|c| columns.with_value(|cols| cols.iter().position(|x| x.name == c)))
                            .unwrap_or(first_col);
                        Some((row, col, f.message.clone()))
                    });
                    match at {
                        Some(cell) => cell_error.set(Some(cell)),
                        None => feedback.error(&e),
                    }
                }
            }
        });
    };

    let undo_last = move || {
        let Some(changes) = undo.try_update(|u| u.pop()).flatten() else { return };
        let cells: Vec<(usize, usize, Option<String>)> =
            changes.iter().filter_map(|c| Some((find_row(&c.id)?, c.col, c.before.clone()))).collect();
        save_many(cells, false, Some(changes));
    };

    let start_edit = move |row: usize, d: usize, typed: Option<String>| {
        let Some(col) = column_at(d) else { return };
        let (masked, text_like) = columns.with_value(|c| (c[col].masked, typed_start(&c[col])));
        if !can_update || masked || row_at(row).is_none() {
            return;
        }
        // A typed character replaces the value in text-like editors; dates and choices open on the value.
        let typed = typed.filter(|_| text_like);
        typed_into.set(typed.is_some());
        let text = typed.or_else(|| row_at(row).and_then(|r| r.cells.get(col).cloned().flatten()));
        draft.set(text);
        editing.set(Some(Editing { row, col }));
    };
    let finish_edit = move |commit: bool| {
        if let Some(edit) = editing.get_untracked() {
            editing.set(None);
            if commit {
                let before = row_at(edit.row).and_then(|r| r.cells.get(edit.col).cloned().flatten());
                let after = draft.get_untracked().filter(|t| !t.is_empty());
                if before != after {
                    save(edit.row, edit.col, after, None, true);
                }
            }
            focus_grid();
        }
    };

    // The selected range (rows and display positions, inclusive), or the active cell alone.
    let range = move || {
        let (r, d) = active.get_untracked();
        let (ar, ad) = anchor.get_untracked().unwrap_or((r, d));
        (r.min(ar)..=r.max(ar), d.min(ad)..=d.max(ad))
    };
    let in_range = move |i: usize, d: usize| {
        let Some((ar, ad)) = anchor.get() else { return false };
        let (r, c) = active.get();
        (r.min(ar)..=r.max(ar)).contains(&i) && (c.min(ad)..=c.max(ad)).contains(&d)
    };
    let on_copy = move |ev: leptos::ev::ClipboardEvent| {
        if editing.with_untracked(Option::is_some) {
            return;
        }
        ev.prevent_default();
        let (rows, cols) = range();
        let block: Vec<Vec<Option<String>>> = rows
            .map(|i| {
                let row = row_at(i);
                cols.clone()
                    .map(|d| {
                        column_at(d)
                            .and_then(|j| row.as_ref().and_then(|r| r.cells.get(j).cloned().flatten()))
                    })
                    .collect()
            })
            .collect();
        browser::set_copied_text(&ev, &clip::to_tsv(&block));
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        if editing.with_untracked(Option::is_some) || !can_update {
            return;
        }
        ev.prevent_default();
        let block = clip::from_tsv(&browser::pasted_text(&ev));
        let (top, left) = active.get_untracked();
        let mut cells = Vec::new();
        let mut skipped = 0;
        for (r, line) in block.iter().enumerate() {
            for (c, value) in line.iter().enumerate() {
                let (i, d) = (top + r, left + c);
                let col = column_at(d).filter(|&j| !columns.with_value(|cs| cs[j].masked));
                match col {
                    Some(col) if i < total.get_untracked() && row_at(i).is_some() => {
                        cells.push((i, col, value.clone()))
                    }
                    _ => skipped += 1,
                }
            }
        }
        if skipped > 0 {
            feedback.push(Tone::Error, format!("{} {skipped}", tr(|s| s.grid_paste_skipped)()));
        }
        if !block.is_empty() {
            let last = (top + block.len() - 1, left + block.iter().map(Vec::len).max().unwrap_or(1) - 1);
            anchor.set(Some((top, left)));
            active.set((
                last.0.min(total.get_untracked().saturating_sub(1)),
                last.1.min(shown.with(Vec::len).saturating_sub(1)),
            ));
        }
        save_many(cells, true, None);
    };

    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Keys typed in the header's buttons or a row's checkbox are theirs.
        let from_grid = viewport.get_untracked().is_some_and(|el| {
            let el: &leptos::web_sys::EventTarget = el.as_ref();
            ev.target().is_some_and(|t| &t == el)
        });
        if editing.with_untracked(Option::is_some) || !from_grid {
            return;
        }
        let (row, col) = active.get_untracked();
        let rows = total.get_untracked();
        // Rows in one screen of the grid as it is now (PageDown and PageUp move by the same amount).
        let height =
            viewport.get_untracked().map_or(viewport_h.get_untracked(), |el| f64::from(el.client_height()));
        let page = ((height / ROW_H) as usize).saturating_sub(2).max(1);
        let last_row = rows.saturating_sub(1);
        let last_col = shown.with_untracked(Vec::len).saturating_sub(1);
        let key = ev.key();
        let ctrl = ev.ctrl_key() || ev.meta_key();
        // Tab leaves the grid at its first and last column.
        if key == "Tab" && ((ev.shift_key() && col == 0) || (!ev.shift_key() && col >= last_col)) {
            return;
        }
        let next = match key.as_str() {
            "ArrowDown" => (row.saturating_add(1).min(last_row), col),
            "ArrowUp" => (row.saturating_sub(1), col),
            "ArrowRight" => (row, col.saturating_add(1).min(last_col)),
            "ArrowLeft" => (row, col.saturating_sub(1)),
            "Tab" if ev.shift_key() => (row, col.saturating_sub(1)),
            "Tab" => (row, col.saturating_add(1).min(last_col)),
            "Home" if ctrl => (0, 0),
            "End" if ctrl => (last_row, last_col),
            "Home" => (row, 0),
            "End" => (row, last_col),
            "PageDown" => (row.saturating_add(page).min(last_row), col),
            "PageUp" => (row.saturating_sub(page), col),
            "z" | "Z" if ctrl && can_update => {
                ev.prevent_default();
                undo_last();
                return;
            }
            "Enter" if ev.shift_key() => {
                ev.prevent_default();
                drawer.set(row_at(row).map(|r| r.id));
                return;
            }
            "Enter" | "F2" => {
                ev.prevent_default();
                start_edit(row, col, None);
                return;
            }
            "Escape" => {
                cell_error.set(None);
                anchor.set(None);
                return;
            }
            "Delete" | "Backspace" if can_update => {
                ev.prevent_default();
                let (rows, cols) = range();
                let cells = rows
                    .flat_map(|i| cols.clone().filter_map(move |d| Some((i, column_at(d)?, None))))
                    .filter(|(_, j, _)| !columns.with_value(|c| c[*j].masked))
                    .collect();
                save_many(cells, true, None);
                return;
            }
            " " if can_delete || can_create => {
                ev.prevent_default();
                if let Some(r) = row_at(row) {
                    toggle(selected, r.id);
                }
                return;
            }
            // Typing a character starts editing with it.
            k if k.chars().count() == 1 && !ctrl && !ev.alt_key() => {
                ev.prevent_default();
                start_edit(row, col, Some(k.to_owned()));
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        if ev.shift_key() && key.starts_with("Arrow") {
            if anchor.get_untracked().is_none() {
                anchor.set(Some((row, col)));
            }
        } else {
            anchor.set(None);
        }
        active.set(next);
        scroll_into_view(next.0);
    };

    let save_layout = move || {
        let (name, body) =
            (table.get_value(), serde_json::to_string(&layout.get_untracked()).unwrap_or_default());
        leptos::task::spawn_local(async move {
            if let Err(e) = save_grid_layout(name, body).await {
                feedback.error(&e);
            }
        });
    };
    let width_of = move |col: usize| {
        let name = column_name(col).unwrap_or_default();
        layout.with(|l| l.widths.iter().find(|(c, _)| *c == name).map(|(_, px)| *px))
    };
    let template = move || {
        let widths: Vec<String> = shown
            .get()
            .into_iter()
            .map(|j| width_of(j).map_or_else(|| "minmax(9rem, 14rem)".to_owned(), |px| format!("{px}px")))
            .collect();
        format!("--grid-columns: 4.5rem {}", widths.join(" "))
    };

    // Column resizing with the pointer: the handle at a header's right edge.
    let resizing: RwSignal<Option<(usize, f64, f64)>> = RwSignal::new(None);
    let header = move || {
        shown
            .get()
            .into_iter()
            .enumerate()
            .map(|(d, j)| {
                let c = columns.with_value(|cs| cs[j].clone());
                let key = c.name.clone();
                let state = move || match sort.with(|s| s.iter().position(|(n, _)| *n == key).map(|i| (i, s[i].1))) {
                    Some((_, false)) => "ascending",
                    Some((_, true)) => "descending",
                    None => "none",
                };
                let key = c.name.clone();
                let rank = move || {
                    sort.with(|s| {
                        let at = s.iter().position(|(n, _)| *n == key)?;
                        (s.len() > 1).then(|| (at + 1).to_string())
                    })
                };
                let mark = state.clone();
                let name = c.name.clone();
                view! {
                    <div role="columnheader" class="cell head" aria-colindex=d + 2 aria-sort=state data-column=c.name.clone()>
                        <button class="sort" type="button" data-testid="grid-sort" title=tr(|s| s.grid_sort_hint)
                            disabled=c.masked
                            on:click=move |ev| resort(name.clone(), ev.shift_key())>
                            {c.name.clone()}
                            <span class="sort-mark" aria-hidden="true">{move || match mark() {
                                "ascending" => "▲",
                                "descending" => "▼",
                                _ => "",
                            }}<sub>{rank}</sub></span>
                        </button>
                        <span class="type">{c.data_type.clone()}{c.masked.then_some(" · ***")}</span>
                        <span class="resize" aria-hidden="true" data-testid="grid-resize"
                            on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                                ev.prevent_default();
                                ev.stop_propagation();
                                let el = event_target::<leptos::web_sys::Element>(&ev);
                                let _ = el.set_pointer_capture(ev.pointer_id());
                                let start = el.parent_element().map_or(150.0, |h| f64::from(h.client_width()));
                                resizing.set(Some((j, f64::from(ev.client_x()), start)));
                            }
                            on:pointermove=move |ev: leptos::ev::PointerEvent| {
                                let Some((col, x0, w0)) = resizing.get_untracked() else { return };
                                let px = (w0 + f64::from(ev.client_x()) - x0).clamp(40.0, 2000.0) as u32;
                                let name = column_name(col).unwrap_or_default();
                                layout.update(|l| set_width(l, &name, px));
                            }
                            on:pointerup=move |_| {
                                if resizing.get_untracked().is_some() {
                                    resizing.set(None);
                                    save_layout();
                                }
                            }></span>
                    </div>
                }
            })
            .collect_view()
    };

    let cell_view = move |i: usize, d: usize, j: usize| {
        let is_active = move || active.get() == (i, d);
        let is_editing = move || editing.with(|e| e.is_some_and(|e| e.row == i && e.col == j));
        let error =
            move || cell_error.with(|e| e.as_ref().filter(|e| e.0 == i && e.1 == j).map(|e| e.2.clone()));
        let text = move || row_at(i).and_then(|r| r.cells.get(j).cloned().flatten());
        let column = columns.with_value(|c| c[j].clone());
        let numeric = matches!(column.data_type.as_str(), "Int" | "Decimal");
        let masked = column.masked;
        view! {
            <div role="gridcell" class="cell" class:numeric=numeric class:active=is_active class:masked=masked
                class:in-range=move || in_range(i, d)
                class:invalid=move || error().is_some() aria-colindex=d + 2
                aria-selected=move || (is_active() || in_range(i, d)).to_string() aria-invalid=move || error().map(|_| "true")
                aria-readonly=(masked || !can_update).then_some("true")
                title=error data-col=d
                on:click=move |ev| {
                    if ev.shift_key() {
                        if anchor.get_untracked().is_none() { anchor.set(Some(active.get_untracked())); }
                    } else {
                        anchor.set(None);
                    }
                    active.set((i, d));
                }
                on:dblclick=move |_| { active.set((i, d)); start_edit(i, d, None); }>
                {move || if is_editing() {
                    view! { <CellEditor table=table.get_value() column=column.clone() draft caret_at_end=typed_into.get_untracked() finish=finish_edit /> }.into_any()
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
                            {(can_delete || can_create).then(|| view! {
                                <input type="checkbox" class="row-select" data-testid="row-select" tabindex="-1"
                                    aria-label=move || format!("{} {}", tr(|s| s.grid_select_row)(), i + 1)
                                    prop:checked=move || row_at(i).is_some_and(|r| selected.with(|s| s.contains(&r.id)))
                                    on:change=move |_| { if let Some(r) = row_at(i) { toggle(selected, r.id); } } />
                            })}
                            <button class="row-open" type="button" data-testid="row-open" tabindex="-1"
                                aria-label=move || format!("{} {}", tr(|s| s.drawer_open)(), i + 1)
                                on:click=move |_| drawer.set(row_at(i).map(|r| r.id))>{i + 1}</button>
                        </div>
                        {move || shown.get().into_iter().enumerate().map(|(d, j)| cell_view(i, d, j)).collect_view()}
                    </div>
                }
            } />
        }
    };

    let export = move |format: &'static str| {
        let name = table.get_value();
        let view_body: serde_json::Value = serde_json::from_str(&view.get_untracked()).unwrap_or_default();
        let names: Vec<String> = shown.get_untracked().into_iter().filter_map(column_name).collect();
        let mut body = serde_json::json!({ "format": format, "columns": names, "sort": view_body["sort"] });
        if !view_body["filter"].is_null() {
            body["filter"] = view_body["filter"].clone();
        }
        leptos::task::spawn_local(async move {
            let url = format!("/api/v1/data/{name}/export");
            if let Err(message) =
                browser::download(&url, &body.to_string(), &format!("{name}.{format}")).await
            {
                feedback.error(&AppError::new(crate::errors::ErrorKind::Server, message));
            }
        });
    };

    view! {
        <section class="grid-panel">
            <div class="row grid-toolbar">
                <div class="inline-form">
                    {can_create.then(|| view! {
                        <button class="button small" type="button" data-testid="grid-add"
                            on:click=move |_| adding.update(|a| *a = !*a)>{tr(|s| s.grid_add_row)}</button>
                    })}
                    <button class="button secondary small" type="button" data-testid="grid-filter"
                        aria-expanded=move || filtering.get().to_string()
                        on:click=move |_| filtering.update(|f| *f = !*f)>
                        {tr(|s| s.filter_title)}
                        {move || { let n = filter.with(Filter::count); (n > 0).then(|| format!(" ({n})")) }}
                    </button>
                    <button class="button secondary small" type="button" data-testid="grid-columns"
                        aria-expanded=move || arranging.get().to_string()
                        on:click=move |_| arranging.update(|a| *a = !*a)>{tr(|s| s.grid_columns)}</button>
                    {hierarchical.then(|| view! {
                        <button class="button secondary small" type="button" data-testid="grid-tree"
                            aria-pressed=move || tree.get().to_string()
                            on:click=move |_| { scroll_top.set(0.0); tree.update(|t| *t = !*t) }>{tr(|s| s.grid_tree)}</button>
                    })}
                    <button class="button secondary small" type="button" data-testid="grid-export-csv"
                        on:click=move |_| export("csv")>"CSV"</button>
                    <button class="button secondary small" type="button" data-testid="grid-export-xlsx"
                        on:click=move |_| export("xlsx")>"XLSX"</button>
                    {can_update.then(|| view! {
                        <button class="button secondary small" type="button" data-testid="grid-undo"
                            disabled=move || undo.with(Vec::is_empty) title="Ctrl+Z"
                            on:click=move |_| undo_last()>{tr(|s| s.grid_undo)}</button>
                    })}
                    {move || (!selected.with(HashSet::is_empty)).then(|| {
                        let n = selected.with(HashSet::len);
                        let ids = move || selected.get_untracked().into_iter().collect::<Vec<_>>();
                        view! {
                            {can_create.then(|| view! {
                                <button class="button secondary small" type="button" data-testid="grid-duplicate"
                                    on:click=move |_| run_ids(ids(), true)>{format!("{} ({n})", tr(|s| s.grid_duplicate)())}</button>
                            })}
                            {can_delete.then(|| if confirming.get() {
                                view! {
                                    <button class="button danger small" type="button" data-testid="grid-delete-confirm"
                                        on:click=move |_| run_ids(ids(), false)>{format!("{} ({n})", tr(|s| s.grid_delete_confirm)())}</button>
                                    <button class="button secondary small" type="button"
                                        on:click=move |_| confirming.set(false)>{tr(|s| s.cancel)}</button>
                                }.into_any()
                            } else {
                                view! {
                                    <button class="button secondary small" type="button" data-testid="grid-delete"
                                        on:click=move |_| confirming.set(true)>{format!("{} ({n})", tr(|s| s.grid_delete_rows)())}</button>
                                }.into_any()
                            })}
                        }
                    })}
                </div>
                <p class="muted small" data-testid="grid-total">
                    {move || format!("{}{} {}", if estimate.get() { "≈ " } else { "" }, total.get(), tr(|s| s.grid_rows)())}
                </p>
                {(!can_update).then(|| view! { <p class="muted small" data-testid="grid-read-only">{tr(|s| s.grid_read_only)}</p> })}
            </div>
            {move || filtering.get().then(|| view! { <FilterBuilder columns applied=filter error=filter_error /> })}
            {move || arranging.get().then(|| view! { <ColumnsPanel columns layout save=save_layout /> })}
            {move || adding.get().then(|| view! {
                <NewRowForm table=table.get_value() columns=columns.get_value()
                    done=move || { adding.set(false); refresh(1); } cancel=move || adding.set(false) />
            })}
            {move || if tree.get() {
                view! { <TreeView table=table.get_value() columns=columns.get_value() shown=shown.get() sort=view /> }.into_any()
            } else {
                view! {
                    <div class="grid-viewport" tabindex="0" role="grid" aria-label=move || table.get_value()
                        aria-multiselectable="true"
                        aria-rowcount=move || total.get() + 1 aria-colcount=move || shown.with(Vec::len) + 1
                        aria-readonly=(!can_update).to_string()
                        data-testid="grid" node_ref=viewport style=template
                        on:keydown=on_key on:copy=on_copy on:paste=on_paste
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
                }.into_any()
            }}
            {move || cell_error.get().map(|(i, j, message)| view! {
                <p class="form-error" role="alert" data-testid="grid-error">
                    {format!("{} {}, {}: ", tr(|s| s.grid_row)(), i + 1, column_name(j).unwrap_or_default())}
                    {message}
                </p>
            })}
            {move || conflict.get().map(|c| {
                let (reload_with, overwrite_with) = (c.clone(), c.clone());
                // The choice takes the focus when it appears.
                let first = NodeRef::<leptos::html::Button>::new();
                Effect::new(move |_| {
                    if let Some(el) = first.get() {
                        let _ = el.focus();
                    }
                });
                view! {
                    <div class="conflict" role="alertdialog" aria-labelledby="conflict-title" data-testid="grid-conflict">
                        <p id="conflict-title"><strong>{tr(|s| s.grid_conflict)}</strong></p>
                        <p class="small">{format!("{} {}", tr(|s| s.grid_conflict_version)(), c.current.version)}</p>
                        <div class="row">
                            <button class="button secondary" type="button" data-testid="grid-reload" node_ref=first
                                on:click=move |_| {
                                    put_row(reload_with.current.clone());
                                    conflict.set(None);
                                    focus_grid();
                                }>{tr(|s| s.grid_reload)}</button>
                            <button class="button" type="button" data-testid="grid-overwrite"
                                on:click=move |_| {
                                    let c = overwrite_with.clone();
                                    put_row(c.current.clone());
                                    conflict.set(None);
                                    if let Some(row) = find_row(&c.current.id) {
                                        save(row, c.col, c.wanted.clone(), Some(c.current.version), true);
                                    }
                                    focus_grid();
                                }>{tr(|s| s.grid_overwrite)}</button>
                        </div>
                    </div>
                }
            })}
            {move || drawer.get().map(|id| view! {
                <RowDrawer table=table.get_value() id can_update saved=put_row
                    close=move || { drawer.set(None); focus_grid(); } />
            })}
        </section>
    }
    .into_any()
}

/// Drops the entries of `map` farthest from block `here` until at most `keep` are left.
fn keep_nearest<T>(map: &mut HashMap<usize, T>, here: usize, keep: usize) {
    if map.len() <= keep {
        return;
    }
    let mut blocks: Vec<usize> = map.keys().copied().collect();
    blocks.sort_by_key(|b| std::cmp::Reverse(b.abs_diff(here)));
    for b in blocks.into_iter().take(map.len() - keep) {
        map.remove(&b);
    }
}

/// Does typing a character into this column's cell start the edit with that character?
fn typed_start(column: &GridColumn) -> bool {
    column.options.is_empty() && matches!(column.data_type.as_str(), "String" | "Text" | "Int" | "Decimal")
}

fn set_width(layout: &mut GridLayout, column: &str, px: u32) {
    match layout.widths.iter_mut().find(|(c, _)| c == column) {
        Some(entry) => entry.1 = px,
        None => layout.widths.push((column.to_owned(), px)),
    }
}

fn push_undo(undo: RwSignal<Vec<Vec<Change>>>, changes: Vec<Change>) {
    undo.update(|u| {
        u.push(changes);
        if u.len() > UNDO_DEPTH {
            u.remove(0);
        }
    });
}

fn toggle(selected: RwSignal<HashSet<String>>, id: String) {
    selected.update(|s| {
        if !s.remove(&id) {
            s.insert(id);
        }
    });
}

/// Replaces row `i` of the loaded blocks.
fn replace_row(blocks: RwSignal<HashMap<usize, Vec<GridRow>>>, i: usize, row: GridRow) {
    blocks.update(|b| {
        if let Some(slot) = b.get_mut(&(i / BLOCK)).and_then(|rows| rows.get_mut(i % BLOCK)) {
            *slot = row;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_order_and_hide_columns() {
        let column = |name: &str| GridColumn {
            name: name.into(),
            data_type: "String".into(),
            mandatory: false,
            options: Vec::new(),
            masked: false,
            references: None,
        };
        let columns = [column("a"), column("b"), column("c"), column("d")];
        let layout = GridLayout {
            order: vec!["c".into(), "gone".into(), "a".into()],
            hidden: vec!["b".into()],
            widths: Vec::new(),
        };
        assert_eq!(display_order(&columns, &layout), [2, 0, 3]);
        assert_eq!(display_order(&columns, &GridLayout::default()), [0, 1, 2, 3]);
    }

    #[test]
    fn far_blocks_are_dropped_first() {
        let mut blocks: HashMap<usize, ()> = (0..10).map(|b| (b, ())).collect();
        keep_nearest(&mut blocks, 7, 5);
        let mut kept: Vec<usize> = blocks.into_keys().collect();
        kept.sort_unstable();
        assert_eq!(kept, [5, 6, 7, 8, 9]);
    }
}
