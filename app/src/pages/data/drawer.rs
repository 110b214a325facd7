//! The row drawer: one row with everything it holds — code, display value, parent, every value and the
//! extended properties in a JSON editor that says whether the text parses before anything is sent.

use leptos::prelude::*;

use crate::components::feedback::use_feedback;
use crate::errors::AppError;
use crate::i18n::tr;
use crate::server_fns::data::{get_grid_record, save_grid_record, CellSaved, GridRecord, GridRow};

#[component]
pub fn RowDrawer(
    table: String,
    id: String,
    can_update: bool,
    saved: impl Fn(GridRow) + Copy + Send + Sync + 'static,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let for_form = table.clone();
    // The drawer takes the focus when it opens (Escape or Close gives it back to the grid).
    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let _ = el.focus();
        }
    });
    let record = LocalResource::new(move || get_grid_record(table.clone(), id.clone()));
    view! {
        <aside class="drawer panel" role="dialog" aria-modal="false" aria-labelledby="drawer-title" data-testid="row-drawer"
            tabindex="-1" node_ref=panel on:keydown=move |ev| if ev.key() == "Escape" { close() }>
            <div class="row">
                <h2 id="drawer-title">{tr(|s| s.drawer_title)}</h2>
                <button class="button secondary small" type="button" data-testid="drawer-close"
                    on:click=move |_| close()>{tr(|s| s.close)}</button>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"…"</p> }>
                {move || record.get().map(|answer| match answer {
                    Ok(r) => view! {
                        <RecordForm table=for_form.clone() record=r can_update saved reload=move || record.refetch() />
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Suspense>
        </aside>
    }
}

#[component]
fn RecordForm(
    table: String,
    record: GridRecord,
    can_update: bool,
    saved: impl Fn(GridRow) + Copy + Send + Sync + 'static,
    /// Reads the row again (after a conflict).
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let feedback = use_feedback();
    let version = RwSignal::new(record.version);
    let code = RwSignal::new(record.code.clone().unwrap_or_default());
    let display = RwSignal::new(record.display_value.clone().unwrap_or_default());
    let ext = RwSignal::new(record.extended_properties.clone());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let conflict = RwSignal::new(None::<i64>);
    // The editor's own check: the text must be a JSON object before it is sent.
    let parse_error = Memo::new(move |_| {
        ext.with(|text| match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => None,
            Ok(_) => Some(tr(|s| s.drawer_json_object)().to_owned()),
            Err(e) => Some(e.to_string()),
        })
    });
    let id = record.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if parse_error.get_untracked().is_some() {
            return;
        }
        let (table, id) = (table.clone(), id.clone());
        let (c, d, e) = (code.get_untracked(), display.get_untracked(), ext.get_untracked());
        leptos::task::spawn_local(async move {
            match save_grid_record(table, id, version.get_untracked(), c, d, e).await {
                Ok(CellSaved::Saved(row)) => {
                    error.set(None);
                    conflict.set(None);
                    version.set(row.version);
                    saved(row);
                    feedback.success(tr(|s| s.drawer_saved)());
                }
                Ok(CellSaved::Conflict(now)) => conflict.set(Some(now.version)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let ext_error = move || {
        parse_error
            .get()
            .or_else(|| error.get().and_then(|e| e.field("extended_properties").map(str::to_owned)))
    };
    view! {
        <form class="form" data-testid="drawer-form" on:submit=submit>
            <p class="small muted" data-testid="drawer-version">{tr(|s| s.drawer_version)} " " {move || version.get()}</p>
            <label for="drawer-code">{tr(|s| s.drawer_code)}</label>
            <input id="drawer-code" prop:value=move || code.get() readonly=!can_update
                on:input=move |ev| code.set(event_target_value(&ev)) />
            <label for="drawer-display">{tr(|s| s.drawer_display_value)}</label>
            <input id="drawer-display" prop:value=move || display.get() readonly=!can_update
                on:input=move |ev| display.set(event_target_value(&ev)) />
            <dl class="drawer-values" data-testid="drawer-values">
                {record.parent.clone().map(|p| view! { <dt>{tr(|s| s.drawer_parent)}</dt><dd><code>{p}</code></dd> })}
                {record.values.iter().map(|(name, value)| view! {
                    <dt>{name.clone()}</dt>
                    <dd data-column=name.clone()>{value.clone().unwrap_or_else(|| "—".into())}</dd>
                }).collect_view()}
            </dl>
            <label for="drawer-ext">{tr(|s| s.drawer_ext)}</label>
            <textarea id="drawer-ext" class="json-editor" rows="14" spellcheck="false" data-testid="drawer-ext"
                readonly=!can_update aria-invalid=move || ext_error().map(|_| "true")
                aria-describedby="drawer-ext-error"
                prop:value=move || ext.get() on:input=move |ev| ext.set(event_target_value(&ev))></textarea>
            <p class="field-error" id="drawer-ext-error" data-testid="drawer-ext-error">{ext_error}</p>
            {move || error.get().filter(|e| e.field("extended_properties").is_none()).map(|e| {
                let detail = e.fields.first().map(|f| format!(" ({}: {})", f.field, f.message)).unwrap_or_default();
                view! { <p class="form-error" role="alert" data-testid="drawer-error">{e.message}{detail}</p> }
            })}
            {move || conflict.get().map(|v| view! {
                <div class="conflict" role="alert" data-testid="drawer-conflict">
                    <p>{tr(|s| s.grid_conflict)} " " {format!("{} {v}.", tr(|s| s.grid_conflict_version)())}</p>
                    <button class="button secondary small" type="button" data-testid="drawer-reload"
                        on:click=move |_| reload()>{tr(|s| s.grid_reload)}</button>
                </div>
            })}
            {can_update.then(|| view! {
                <button class="button" type="submit" data-testid="drawer-save"
                    disabled=move || parse_error.get().is_some()>{tr(|s| s.save)}</button>
            })}
        </form>
    }
}
