//! The audit log: filters in the address (a plain GET form, so links and the back button work, with or
//! without JavaScript), newest first, keyset pages, and a CSV export of the same filter.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::feedback::{percent_encode, use_feedback};
use crate::components::loaded::Loaded;
use crate::components::shell::PageHeader;
use crate::i18n::tr;
use crate::server_fns::admin::{get_audit, AuditPage};

const FILTERS: [&str; 5] = ["action", "entity_type", "actor_user_id", "from", "to"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let feedback = use_feedback();
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = Resource::new(
        move || (FILTERS.map(param), param("cursor"), feedback.reload.get()),
        |([action, entity_type, actor, from, to], cursor, _)| {
            get_audit(action, entity_type, actor, from, to, cursor)
        },
    );
    let value = move |name: &'static str| move || param(name);
    view! {
        <PageHeader title={ let t = tr(|s| s.audit_title); Signal::derive(move || t().to_owned()) } lead=Signal::derive(tr(|s| s.audit_lead))
            parent=(Signal::derive(tr(|s| s.nav_admin)), "/admin/users") />
        <section class="panel">
            <Form method="GET" action="" attr:class="filters" attr:data-testid="audit-filter">
                <div class="field">
                    <label for="f-action">{tr(|s| s.audit_action)}</label>
                    <input id="f-action" name="action" value=value("action") />
                </div>
                <div class="field">
                    <label for="f-entity">{tr(|s| s.audit_entity_type)}</label>
                    <input id="f-entity" name="entity_type" value=value("entity_type") />
                </div>
                <div class="field">
                    <label for="f-actor">{tr(|s| s.audit_actor)}</label>
                    <input id="f-actor" name="actor_user_id" value=value("actor_user_id") />
                </div>
                <div class="field">
                    <label for="f-from">{tr(|s| s.audit_from)}</label>
                    <input id="f-from" name="from" type="date" value=value("from") />
                </div>
                <div class="field">
                    <label for="f-to">{tr(|s| s.audit_to)}</label>
                    <input id="f-to" name="to" type="date" value=value("to") />
                </div>
                <button class="button" type="submit" data-testid="audit-apply">{tr(|s| s.audit_filter)}</button>
            </Form>
        </section>
        <Loaded resource=page view=move |p: AuditPage| {
                        let empty = p.items.is_empty();
                        let next = p.next_cursor.clone().map(|cursor| {
                            let mut pairs: Vec<String> = FILTERS
                                .iter()
                                .filter_map(|name| {
                                    let v = query.read_untracked().get(name).unwrap_or_default();
                                    (!v.is_empty()).then(|| format!("{name}={}", percent_encode(&v, b"")))
                                })
                                .collect();
                            pairs.push(format!("cursor={cursor}"));
                            format!("?{}", pairs.join("&"))
                        });
                        view! {
                            <section class="panel">
                                <div class="row">
                                    <span></span>
                                    <a class="button secondary small" href=p.export_href.clone() rel="external" download="audit.csv" data-testid="audit-export">
                                        {tr(|s| s.audit_export)}
                                    </a>
                                </div>
                                {empty.then(|| view! { <p class="muted" data-testid="audit-empty">{tr(|s| s.audit_empty)}</p> })}
                                <table class="table" data-testid="audit">
                                    <thead><tr>
                                        <th scope="col">{tr(|s| s.audit_when)}</th>
                                        <th scope="col">{tr(|s| s.action)}</th>
                                        <th scope="col">{tr(|s| s.audit_entity)}</th>
                                        <th scope="col">{tr(|s| s.audit_actor_col)}</th>
                                        <th scope="col">{tr(|s| s.audit_ip)}</th>
                                        <th scope="col">{tr(|s| s.audit_details)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {p.items.into_iter().map(|e| view! {
                                            <tr data-testid="audit-entry">
                                                <td class="nowrap">{e.when}</td>
                                                <td><code data-testid="audit-action">{e.action}</code></td>
                                                <td class="small">{e.entity}</td>
                                                <td class="small">{e.actor.unwrap_or_default()}</td>
                                                <td class="small">{e.ip.unwrap_or_default()}</td>
                                                <td>{(!e.details.is_empty()).then(|| view! {
                                                    <details><summary>{tr(|s| s.audit_details)}</summary><pre class="small">{e.details.clone()}</pre></details>
                                                })}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {next.map(|href| view! { <a class="button secondary" href=href data-testid="audit-more">{tr(|s| s.audit_more)}</a> })}
                            </section>
                        }.into_any()
        } />
    }
    .into_any()
}
