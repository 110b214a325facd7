//! The landing page. The sign-in form arrives with the auth issue; until then it shows the state of the
//! installation, read from the database through a server function.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::server_fns::system::get_status;

#[component]
pub fn HomePage() -> impl IntoView {
    // Each click asks the server again; the server echoes the check number back, so the counter only moves
    // when the round trip succeeded.
    let (requested, set_requested) = signal(1u32);
    let status = Resource::new(move || requested.get(), get_status);

    view! {
        <Title text="" />
        <section class="card hero">
            <h1>"Tessera"</h1>
            <p class="lead">"A self-hosted data platform on a hybrid EAV store."</p>
            <Suspense fallback=|| view! { <p class="muted" data-testid="db-status">"Checking the database…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! {
                            <p data-testid="db-status">
                                {format!(
                                    "Database: {} · {} {} applied · workspace {}",
                                    s.backend,
                                    s.migrations_applied,
                                    if s.migrations_applied == 1 { "migration" } else { "migrations" },
                                    s.workspace,
                                )}
                            </p>
                            <p class="muted" data-testid="cache-status">{format!("Cache: {}", s.cache)}</p>
                            <p data-testid="checks">{format!("Checks: {}", s.check)}</p>
                        }
                        .into_any(),
                        Err(e) => view! {
                            <p class="error" role="alert" data-testid="db-status">
                                {format!("The database could not be read: {e}")}
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
            <button
                class="button"
                type="button"
                data-testid="refresh-status"
                on:click=move |_| set_requested.update(|n| *n += 1)
            >
                "Check again"
            </button>
        </section>
    }
}
