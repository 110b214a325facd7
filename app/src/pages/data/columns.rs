//! The grid's column arrangement: show or hide each column, move it earlier or later, set its width. Every
//! change is applied at once and saved for this user and table.

use leptos::prelude::*;

use super::grid::display_order;
use crate::i18n::tr;
use crate::server_fns::data::{GridColumn, GridLayout};

#[component]
pub fn ColumnsPanel(
    columns: StoredValue<Vec<GridColumn>>,
    layout: RwSignal<GridLayout>,
    save: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    // Every column in display order, hidden ones included (a layout without them keeps them where they were).
    let everything = move || {
        layout.with(|l| {
            let unhidden = GridLayout { hidden: Vec::new(), ..l.clone() };
            columns.with_value(|c| {
                display_order(c, &unhidden).into_iter().map(|j| c[j].name.clone()).collect::<Vec<_>>()
            })
        })
    };
    // The list is drawn again when the order or the hidden columns change (not for a width).
    let arrangement = Memo::new(move |_| (everything(), layout.with(|l| l.hidden.clone())));
    // Applies a change and saves it; when the list is drawn again the control used gets the focus back.
    let change = move |f: &dyn Fn(&mut GridLayout, Vec<String>)| {
        let names = everything();
        crate::components::browser::keep_focus(&[
            ("column-earlier", "column-later"),
            ("column-later", "column-earlier"),
        ]);
        layout.update(|l| f(l, names));
        save();
    };
    let rows = move || {
        let (names, hidden_ones) = arrangement.get();
        let last = names.len().saturating_sub(1);
        names
            .into_iter()
            .enumerate()
            .map(|(at, name)| {
                let hidden = hidden_ones.contains(&name);
                let width = layout.with_untracked(|l| l.widths.iter().find(|(c, _)| *c == name).map(|(_, px)| *px));
                let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
                view! {
                    <li class="columns-item" data-testid="columns-item" data-column=name.clone() data-key=format!("column-{name}")>
                        <label class="check">
                            <input type="checkbox" data-testid="column-visible" prop:checked=!hidden
                                on:change=move |ev| {
                                    let show = event_target_checked(&ev);
                                    let name = n1.clone();
                                    change(&move |l, _| {
                                        l.hidden.retain(|h| *h != name);
                                        if !show { l.hidden.push(name.clone()); }
                                    });
                                } />
                            <code>{name.clone()}</code>
                        </label>
                        <input type="number" class="width-input" min="40" max="2000" step="10" data-testid="column-width"
                            aria-label=format!("{} {name}", tr(|s| s.grid_width)()) placeholder="auto"
                            value=width.map(|w| w.to_string())
                            on:change=move |ev| {
                                let px = event_target_value(&ev).parse::<u32>().ok().map(|px| px.clamp(40, 2000));
                                // A width does not draw the list again: the focus stays where the user moved it.
                                layout.update(|l| {
                                    l.widths.retain(|(c, _)| *c != n2);
                                    if let Some(px) = px { l.widths.push((n2.clone(), px)); }
                                });
                                save();
                            } />
                        <button class="button secondary small" type="button" data-testid="column-earlier" disabled=at == 0
                            aria-label=format!("{} {name}", tr(|s| s.grid_move_earlier)())
                            on:click=move |_| { let name = n3.clone(); change(&move |l, names| l.order = moved(names, &name, -1)) }>"↑"</button>
                        <button class="button secondary small" type="button" data-testid="column-later" disabled=at == last
                            aria-label=format!("{} {name}", tr(|s| s.grid_move_later)())
                            on:click=move |_| { let name = n4.clone(); change(&move |l, names| l.order = moved(names, &name, 1)) }>"↓"</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel columns-panel" data-testid="columns-panel" aria-label=tr(|s| s.grid_columns)>
            <ul class="columns-list">{rows}</ul>
        </section>
    }
}

/// `names` with `name` moved one place (`step` = -1 earlier, 1 later).
fn moved(mut names: Vec<String>, name: &str, step: isize) -> Vec<String> {
    if let Some(at) = names.iter().position(|n| n == name) {
        let to = at.saturating_add_signed(step).min(names.len() - 1);
        names.swap(at, to);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::moved;

    #[test]
    fn columns_move_one_place() {
        let names = || vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(moved(names(), "b", -1), ["b", "a", "c"]);
        assert_eq!(moved(names(), "b", 1), ["a", "c", "b"]);
        assert_eq!(moved(names(), "a", -1), ["a", "b", "c"]);
        assert_eq!(moved(names(), "c", 1), ["a", "b", "c"]);
    }
}
