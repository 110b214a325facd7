//! A page's data: "Loading…" while it comes, the view once it is there, the error (and the shared reaction
//! to it: sign-in, retry banner, toast) when it fails.

use leptos::prelude::*;

use super::feedback::use_feedback;
use crate::errors::AppError;
use crate::i18n::tr;

/// Renders `resource` with `view` once loaded.
#[component]
pub fn Loaded<T, V>(resource: Resource<Result<T, AppError>>, view: V) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: Fn(T) -> AnyView + Clone + Send + Sync + 'static,
{
    let feedback = use_feedback();
    // The shared reaction to a failure (sign-in, retry banner, toast) runs in the browser only, once per load.
    Effect::new(move |_| {
        if let Some(Err(e)) = resource.get() {
            feedback.error(&e);
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">{tr(|s| s.loading)}</p> }>
            {move || {
                let view = view.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => view(data),
                        Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}
