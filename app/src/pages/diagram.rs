//! The ER diagram of the workspace: every table as a box with its columns, foreign keys as arrows from the
//! child's columns to the referenced table, laid out automatically (referenced tables to the left of the
//! tables that reference them), with pan (drag, arrow keys) and zoom (wheel, +/−), and each box a link to
//! the table's designer.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::i18n::tr;
use crate::server_fns::schema::{get_diagram, Diagram, DiagramTable};

const BOX_W: f64 = 230.0;
const HEAD_H: f64 = 30.0;
const LINE_H: f64 = 22.0;
const GAP_X: f64 = 110.0;
const GAP_Y: f64 = 40.0;

#[component]
pub fn DiagramPage() -> impl IntoView {
    let diagram = Resource::new(|| (), |_| get_diagram());
    view! {
        <PageHeader title={ let t = tr(|s| s.diagram_title); Signal::derive(move || t().to_owned()) }
            lead=Signal::derive(tr(|s| s.diagram_lead)) parent=(Signal::derive(tr(|s| s.schema_title)), "/schema") />
        <Loaded resource=diagram view=move |d: Diagram| view! { <DiagramView diagram=d /> }.into_any() />
    }
    .into_any()
}

/// Where each table's box goes: columns by depth (a table sits one column right of every table it
/// references; cycles are cut), boxes stacked in each column in name order.
fn layout(diagram: &Diagram) -> HashMap<String, (f64, f64)> {
    let mut depth: HashMap<&str, usize> = diagram.tables.iter().map(|t| (t.name.as_str(), 0)).collect();
    // Longest path from a root, at most one pass per table (so cycles end).
    for _ in 0..diagram.tables.len() {
        let mut changed = false;
        for link in &diagram.links {
            if link.from == link.to {
                continue;
            }
            let parent = depth.get(link.to.as_str()).copied().unwrap_or(0);
            if let Some(child) = depth.get_mut(link.from.as_str()) {
                if *child < parent + 1 && parent + 1 < diagram.tables.len() {
                    *child = parent + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut next_y: HashMap<usize, f64> = HashMap::new();
    let mut tables: Vec<&DiagramTable> = diagram.tables.iter().collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = HashMap::new();
    for t in tables {
        let level = depth.get(t.name.as_str()).copied().unwrap_or(0);
        let y = next_y.entry(level).or_insert(0.0);
        out.insert(t.name.clone(), (level as f64 * (BOX_W + GAP_X), *y));
        *y += HEAD_H + LINE_H * t.columns.len().max(1) as f64 + GAP_Y;
    }
    out
}

#[component]
fn DiagramView(diagram: Diagram) -> impl IntoView {
    let positions = layout(&diagram);
    let width = positions.values().map(|p| p.0 + BOX_W).fold(BOX_W, f64::max) + 40.0;
    let height = diagram
        .tables
        .iter()
        .map(|t| {
            positions.get(&t.name).map_or(0.0, |p| p.1) + HEAD_H + LINE_H * t.columns.len().max(1) as f64
        })
        .fold(200.0, f64::max)
        + 40.0;
    let pan = RwSignal::new((20.0_f64, 20.0_f64));
    let zoom = RwSignal::new(1.0_f64);
    let dragging: RwSignal<Option<(f64, f64)>> = RwSignal::new(None);
    let zoom_by = move |factor: f64| zoom.update(|z| *z = (*z * factor).clamp(0.25, 3.0));
    let transform = move || {
        let ((x, y), z) = (pan.get(), zoom.get());
        format!("translate({x} {y}) scale({z})")
    };

    // The y of a column's row inside its table's box (the header when not found).
    let row_y = {
        let tables: HashMap<String, Vec<String>> = diagram
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.columns.iter().map(|c| c.0.clone()).collect()))
            .collect();
        move |table: &str, column: Option<&str>| -> f64 {
            let index =
                column.and_then(|c| tables.get(table).and_then(|cols| cols.iter().position(|x| x == c)));
            index.map_or(HEAD_H / 2.0, |i| HEAD_H + LINE_H * i as f64 + LINE_H / 2.0)
        }
    };
    let links = diagram
        .links
        .iter()
        .filter_map(|link| {
            let (from, to) = (positions.get(&link.from)?, positions.get(&link.to)?);
            let y1 = from.1 + row_y(&link.from, link.columns.first().map(String::as_str));
            let y2 = to.1 + row_y(&link.to, None);
            // Leave the child on the side facing the parent; enter the parent on the side facing the child.
            let (x1, x2) = if to.0 + BOX_W <= from.0 {
                (from.0, to.0 + BOX_W)
            } else if from.0 + BOX_W <= to.0 {
                (from.0 + BOX_W, to.0)
            } else {
                (from.0 + BOX_W, to.0 + BOX_W)
            };
            let bend = if (x1 - x2).abs() < 1.0 { 60.0 } else { (x2 - x1) / 2.0 };
            // Same side (boxes overlap horizontally): a loop out and back; otherwise an S between the sides.
            let c1 = x1 + bend;
            let c2 = if (x1 - x2).abs() < 1.0 { x2 + bend } else { x2 - bend };
            let d = format!("M {x1} {y1} C {c1} {y1}, {c2} {y2}, {x2} {y2}");
            let title = format!("{} ({}) → {}", link.from, link.columns.join(", "), link.to);
            Some(view! {
                <path class="er-link" d=d marker-end="url(#er-arrow)" data-testid="er-link"
                    data-from=link.from.clone() data-to=link.to.clone()><title>{title}</title></path>
            })
        })
        .collect_view();
    // Boxes are SVG groups acting as links (an `<a>` created in the browser would be an HTML element).
    let navigate = leptos_router::hooks::use_navigate();
    let boxes = diagram.tables.iter().filter_map(|t| {
        let (x, y) = *positions.get(&t.name)?;
        let h = HEAD_H + LINE_H * t.columns.len().max(1) as f64;
        let href = format!("/schema/{}", t.name);
        let (on_click, on_key) = (navigate.clone(), navigate.clone());
        let (click_href, key_href) = (href.clone(), href);
        Some(view! {
            <g class="er-table" role="link" tabindex="0" data-testid="er-table" data-table=t.name.clone()
                aria-label=t.name.clone()
                on:click=move |_| on_click(&click_href, Default::default())
                on:keydown=move |ev| if ev.key() == "Enter" { on_key(&key_href, Default::default()) }>
                <g transform=format!("translate({x} {y})")>
                    <rect width=BOX_W height=h rx="6" class="er-box" />
                    <rect width=BOX_W height=HEAD_H rx="6" class="er-head" />
                    <text x="10" y="20" class="er-name">{t.name.clone()}</text>
                    {t.columns.iter().enumerate().map(|(i, (name, data_type, key))| {
                        let row = HEAD_H + LINE_H * i as f64 + 15.0;
                        view! {
                            <text x="10" y=row class="er-column" class:er-key=*key data-key=key.to_string()>{name.clone()}</text>
                            <text x=BOX_W - 10.0 y=row class="er-type" text-anchor="end">{if *key { format!("PK · {data_type}") } else { data_type.clone() }}</text>
                        }
                    }).collect_view()}
                </g>
            </g>
        })
    }).collect_view();
    let empty = diagram.tables.is_empty();

    view! {
        <section class="panel er">
            <div class="row">
                <p class="small muted">{tr(|s| s.diagram_help)}</p>
                <div class="inline-form">
                    <button class="button secondary small" type="button" data-testid="er-zoom-in" aria-label=tr(|s| s.diagram_zoom_in) on:click=move |_| zoom_by(1.25)>"+"</button>
                    <button class="button secondary small" type="button" data-testid="er-zoom-out" aria-label=tr(|s| s.diagram_zoom_out) on:click=move |_| zoom_by(0.8)>"−"</button>
                    <button class="button secondary small" type="button" data-testid="er-reset" on:click=move |_| { zoom.set(1.0); pan.set((20.0, 20.0)); }>{tr(|s| s.diagram_reset)}</button>
                </div>
            </div>
            {empty.then(|| view! { <p class="muted">{tr(|s| s.nav_no_tables)}</p> })}
            <svg class="er-canvas" data-testid="er-diagram" role="img" aria-label=tr(|s| s.diagram_title) tabindex="0"
                viewBox=format!("0 0 {width} {height}") preserveAspectRatio="xMinYMin meet"
                data-zoom=move || format!("{:.2}", zoom.get())
                on:wheel=move |ev| { ev.prevent_default(); zoom_by(if ev.delta_y() < 0.0 { 1.1 } else { 0.9 }); }
                on:pointerdown=move |ev| dragging.set(Some((f64::from(ev.client_x()), f64::from(ev.client_y()))))
                on:pointermove=move |ev| {
                    if let Some((x0, y0)) = dragging.get_untracked() {
                        let (x, y) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
                        pan.update(|p| { p.0 += x - x0; p.1 += y - y0; });
                        dragging.set(Some((x, y)));
                    }
                }
                on:pointerup=move |_| dragging.set(None)
                on:pointerleave=move |_| dragging.set(None)
                on:keydown=move |ev| {
                    let step = 40.0;
                    match ev.key().as_str() {
                        "ArrowLeft" => pan.update(|p| p.0 += step),
                        "ArrowRight" => pan.update(|p| p.0 -= step),
                        "ArrowUp" => pan.update(|p| p.1 += step),
                        "ArrowDown" => pan.update(|p| p.1 -= step),
                        "+" | "=" => zoom_by(1.25),
                        "-" => zoom_by(0.8),
                        _ => return,
                    }
                    ev.prevent_default();
                }>
                <defs>
                    <marker id="er-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="er-arrow" />
                    </marker>
                </defs>
                <g transform=transform>
                    {links}
                    {boxes}
                </g>
            </svg>
        </section>
    }
    .into_any()
}
