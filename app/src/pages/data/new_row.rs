//! The grid's new-row form: one input per column; core applies defaults, mandatory columns and rules, and
//! its field errors are shown at their inputs.

use leptos::prelude::*;

use crate::errors::AppError;
use crate::i18n::tr;
use crate::server_fns::data::{create_grid_row, GridColumn};

/// A form with one input per column for a new row; the server's field errors are shown at their inputs.
#[component]
pub fn NewRowForm(
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
