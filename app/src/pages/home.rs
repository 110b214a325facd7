//! The landing page of signed-in users: who they are and the state of the installation, read from the
//! database through a server function.

use leptos::prelude::*;

use crate::components::shell::PageHeader;
use crate::i18n::{fill, tr, use_i18n};
use crate::server_fns::auth::Me;
use crate::server_fns::system::get_status;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let me = expect_context::<Me>();
    // Each click asks the server again; the server echoes the check number back, so the counter only moves
    // when the round trip succeeded.
    let (requested, set_requested) = signal(1u32);
    let status = Resource::new(move || requested.get(), get_status);
    let name = me.name().to_owned();
    view! {
        <PageHeader title={ let t = tr(|s| s.nav_home); Signal::derive(move || t().to_owned()) } lead=Signal::derive(tr(|s| s.app_tagline)) />
        <section class="panel">
            <p data-testid="welcome">{move || fill(i18n.t().home_signed_in_as, &[&name])}</p>
            <Suspense fallback=move || view! { <p class="muted" data-testid="db-status">{i18n.t().home_checking}</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => {
                            let migrations = s.migrations_applied.to_string();
                            view! {
                                <p data-testid="db-status">
                                    {move || fill(i18n.t().home_database, &[&s.backend, &migrations, &s.workspace])}
                                </p>
                                <p class="muted" data-testid="cache-status">{move || fill(i18n.t().home_cache, &[&s.cache])}</p>
                                <p data-testid="checks">{move || fill(i18n.t().home_checks, &[&s.check.to_string()])}</p>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert" data-testid="db-status">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <button class="button" type="button" data-testid="refresh-status" on:click=move |_| set_requested.update(|n| *n += 1)>
                {tr(|s| s.home_check_again)}
            </button>
        </section>
    }
    .into_any()
}
