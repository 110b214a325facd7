//! The tree view of a hierarchical table: root rows first (in the grid's sort), each opening onto its
//! children, read a page at a time with the same keyset queries as the grid (`parent_row_id` filters).
//! Keyboard: Up/Down move, Right opens (or goes to the first child), Left closes (or goes to the parent).

use leptos::prelude::*;
use serde_json::{json, Value};

use crate::components::feedback::use_feedback;
use crate::i18n::tr;
use crate::server_fns::data::{get_grid_rows, GridColumn, GridRow};

/// Children (or roots) read per request.
const PAGE: i64 = 100;

#[derive(Clone, PartialEq)]
enum Line {
    Row {
        row: GridRow,
        depth: usize,
        open: bool,
        leaf: bool,
    },
    /// More children of `parent` (roots when `None`) continue at `cursor`.
    More {
        parent: Option<String>,
        depth: usize,
        cursor: String,
    },
}

impl Line {
    fn depth(&self) -> usize {
        match self {
            Line::Row { depth, .. } | Line::More { depth, .. } => *depth,
        }
    }
}

#[component]
pub fn TreeView(
    table: String,
    columns: Vec<GridColumn>,
    shown: Vec<usize>,
    sort: Memo<String>,
) -> impl IntoView {
    let feedback = use_feedback();
    let table = StoredValue::new(table);
    let lines: RwSignal<Vec<Line>> = RwSignal::new(Vec::new());
    let active = RwSignal::new(0_usize);
    let tree = NodeRef::<leptos::html::Div>::new();

    // Bumped by every new sort: answers for an older one are dropped.
    let generation = RwSignal::new(0_u32);
    // Reads a page of children of `parent` (roots for `None`) and appends them to what it shows of that
    // parent, found again by id when the answer comes (lines move while it is on its way).
    let fetch = move |parent: Option<String>, depth: usize, cursor: Option<String>| {
        let view: Value = serde_json::from_str(&sort.get_untracked()).unwrap_or_default();
        let filter = match &parent {
            Some(id) => json!({ "field": "parent_row_id", "op": "eq", "value": id }),
            None => json!({ "field": "parent_row_id", "op": "is_null", "value": true }),
        };
        let body = json!({ "sort": view["sort"], "filter": filter }).to_string();
        let name = table.get_value();
        let started = generation.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = get_grid_rows(name, body, cursor, None, PAGE, false).await;
            if generation.get_untracked() != started {
                return;
            }
            match answer {
                Ok(page) => lines.update(|l| {
                    let at = match &parent {
                        None => l.len(),
                        Some(id) => {
                            let found = l.iter().position(
                                |x| matches!(x, Line::Row { row, open: true, .. } if row.id == *id),
                            );
                            let Some(p) = found else { return }; // closed (or gone) meanwhile
                            let end = l
                                .iter()
                                .skip(p + 1)
                                .position(|x| x.depth() < depth)
                                .map_or(l.len(), |n| p + 1 + n);
                            if page.rows.is_empty() && end == p + 1 {
                                if let Some(Line::Row { leaf, open, .. }) = l.get_mut(p) {
                                    *leaf = true;
                                    *open = false;
                                }
                            }
                            end
                        }
                    };
                    let mut new: Vec<Line> = page
                        .rows
                        .into_iter()
                        .map(|row| Line::Row { row, depth, open: false, leaf: false })
                        .collect();
                    if let Some(cursor) = page.next_cursor {
                        new.push(Line::More { parent: parent.clone(), depth, cursor });
                    }
                    l.splice(at..at, new);
                }),
                Err(e) => feedback.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        sort.track();
        generation.update(|g| *g += 1);
        lines.set(Vec::new());
        active.set(0);
        fetch(None, 0, None);
    });

    let open = move |k: usize| {
        let Some(Line::Row { row, depth, open, leaf }) = lines.with_untracked(|l| l.get(k).cloned()) else {
            return;
        };
        if open || leaf {
            return;
        }
        lines.update(|l| {
            if let Some(Line::Row { open, .. }) = l.get_mut(k) {
                *open = true;
            }
        });
        fetch(Some(row.id), depth + 1, None);
    };
    let close = move |k: usize| {
        lines.update(|l| {
            let Some(depth) = l.get(k).map(Line::depth) else { return };
            if let Some(Line::Row { open, .. }) = l.get_mut(k) {
                *open = false;
            }
            let end = l.iter().skip(k + 1).position(|x| x.depth() <= depth).map_or(l.len(), |n| k + 1 + n);
            l.drain(k + 1..end);
        });
    };
    let more = move |k: usize| {
        let Some(Line::More { parent, depth, cursor }) = lines.with_untracked(|l| l.get(k).cloned()) else {
            return;
        };
        lines.update(|l| {
            l.remove(k);
        });
        fetch(parent, depth, Some(cursor));
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let k = active.get_untracked();
        let count = lines.with_untracked(Vec::len);
        let line = lines.with_untracked(|l| l.get(k).cloned());
        match (ev.key().as_str(), line) {
            ("ArrowDown", _) => active.set((k + 1).min(count.saturating_sub(1))),
            ("ArrowUp", _) => active.set(k.saturating_sub(1)),
            ("ArrowRight", Some(Line::Row { open: false, leaf: false, .. })) => open(k),
            ("ArrowRight", Some(Line::Row { open: true, .. })) => {
                active.set((k + 1).min(count.saturating_sub(1)))
            }
            ("ArrowLeft", Some(Line::Row { open: true, .. })) => close(k),
            ("ArrowLeft", Some(line)) => {
                let depth = line.depth();
                if let Some(parent) = lines.with_untracked(|l| l[..k].iter().rposition(|x| x.depth() < depth))
                {
                    active.set(parent);
                }
            }
            ("Enter", Some(Line::More { .. })) => more(k),
            _ => return,
        }
        ev.prevent_default();
    };

    let columns = StoredValue::new(columns);
    let shown = StoredValue::new(shown);
    let header = shown
        .get_value()
        .into_iter()
        .map(|j| view! { <th scope="col">{columns.with_value(|c| c[j].name.clone())}</th> })
        .collect_view();
    view! {
        <div class="tree-view" tabindex="0" role="treegrid" aria-label=tr(|s| s.grid_tree) data-testid="tree"
            node_ref=tree on:keydown=on_key>
            <table class="table">
                <thead><tr>{header}</tr></thead>
                <tbody>
                    {move || lines.get().into_iter().enumerate().map(|(k, line)| {
                        let is_active = move || active.get() == k;
                        match line {
                            Line::Row { row, depth, open: is_open, leaf } => {
                                let cells = shown.get_value().into_iter().enumerate().map(|(d, j)| {
                                    let text = row.cells.get(j).cloned().flatten();
                                    let toggle = (d == 0).then(|| view! {
                                        <button class="tree-toggle" type="button" tabindex="-1" data-testid="tree-toggle"
                                            disabled=leaf aria-label=tr(|s| s.grid_tree_toggle)
                                            on:click=move |_| { active.set(k); if is_open { close(k) } else { open(k) } }>
                                            {if leaf { "·" } else if is_open { "▾" } else { "▸" }}
                                        </button>
                                    });
                                    let indent = if d == 0 { format!("padding-left: {}rem", depth as f64 * 1.25) } else { String::new() };
                                    view! { <td style=indent>{toggle}{text.unwrap_or_default()}</td> }
                                }).collect_view();
                                view! {
                                    <tr role="row" data-testid="tree-row" data-depth=depth attr:aria-level=depth + 1
                                        aria-expanded=(!leaf).then(|| is_open.to_string()) class:active=is_active
                                        on:click=move |_| active.set(k)>{cells}</tr>
                                }.into_any()
                            }
                            Line::More { depth, .. } => view! {
                                <tr role="row" class:active=is_active attr:aria-level=depth + 1>
                                    <td colspan=shown.with_value(Vec::len) style=format!("padding-left: {}rem", depth as f64 * 1.25 + 1.5)>
                                        <button class="button secondary small" type="button" data-testid="tree-more"
                                            on:click=move |_| more(k)>{tr(|s| s.grid_tree_more)}</button>
                                    </td>
                                </tr>
                            }.into_any(),
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || lines.with(Vec::is_empty).then(|| view! { <p class="muted small">{tr(|s| s.grid_tree_empty)}</p> })}
        </div>
    }
}
