//! Form pieces: the error of a form (the server's message) and the error of one field (RFC 9457
//! `errors[].field`), shown beside the input and linked to it for screen readers.

use leptos::prelude::*;

use crate::errors::AppError;

/// The failure of the last run of an action's server function, if any.
pub fn failure<T>(value: MappedSignal<Option<Result<T, AppError>>>) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// The message of a failed form.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <p class="form-error" role="alert" data-testid="form-error">{e.message}</p> }
        })
    }
}

/// The message for one field of a failed form (`id` = `<field>-error`, for `aria-describedby`).
#[component]
pub fn FieldError(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field(field).map(str::to_owned)).map(|message| {
            view! { <p class="field-error" id=format!("{field}-error") data-field=field>{message}</p> }
        })
    }
}

/// `true` when the failed form named `field` (for `aria-invalid`).
pub fn invalid(error: Signal<Option<AppError>>, field: &'static str) -> impl Fn() -> &'static str {
    move || if error.get().is_some_and(|e| e.field(field).is_some()) { "true" } else { "false" }
}
