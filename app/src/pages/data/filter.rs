//! The grid's view: multi-column sort and a filter built from groups of conditions (all / any within a
//! group, all / any between groups), turned into the query grammar of `api.md`. The server checks fields,
//! operators and values; its 400 names the condition (`filter.and[1].or[0].value`).

use leptos::prelude::*;
use serde_json::{json, Value};

use crate::i18n::tr;
use crate::server_fns::data::{typed, GridColumn};

/// One condition as typed: `value` is text (`in`: comma-separated; `between`: `low, high`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Condition {
    pub field: String,
    pub op: String,
    pub value: String,
}

/// Conditions joined by AND (or OR when `any`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub any: bool,
    pub conditions: Vec<Condition>,
}

/// Groups joined by AND (or OR when `any`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub any: bool,
    pub groups: Vec<Group>,
}

/// The operators offered, in the menu's order (`not_null` is `is_null: false`).
pub const OPS: [&str; 12] =
    ["eq", "ne", "lt", "le", "gt", "ge", "contains", "starts_with", "in", "between", "is_null", "not_null"];

/// Promoted fields a filter may name besides the columns.
const PROMOTED: [&str; 2] = ["code", "display_value"];

impl Filter {
    /// The query filter, or `None` when there is no condition.
    pub fn to_json(&self, columns: &[GridColumn]) -> Option<Value> {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .filter(|g| !g.conditions.is_empty())
            .map(|g| {
                let conditions: Vec<Value> = g.conditions.iter().map(|c| condition(c, columns)).collect();
                json!({ join(g.any): conditions })
            })
            .collect();
        (!groups.is_empty()).then(|| json!({ join(self.any): groups }))
    }

    pub fn count(&self) -> usize {
        self.groups.iter().map(|g| g.conditions.len()).sum()
    }
}

fn join(any: bool) -> &'static str {
    if any {
        "or"
    } else {
        "and"
    }
}

fn condition(c: &Condition, columns: &[GridColumn]) -> Value {
    let data_type =
        columns.iter().find(|col| col.name == c.field).map_or("String", |col| col.data_type.as_str());
    let one = |text: &str| match typed(data_type, Some(text)) {
        Value::Null => Value::from(""),
        value => value,
    };
    let list = || c.value.split(',').map(|part| one(part.trim())).collect::<Vec<_>>();
    match c.op.as_str() {
        "is_null" => json!({ "field": c.field, "op": "is_null", "value": true }),
        "not_null" => json!({ "field": c.field, "op": "is_null", "value": false }),
        "in" | "between" => json!({ "field": c.field, "op": c.op, "value": list() }),
        "contains" | "starts_with" => {
            json!({ "field": c.field, "op": c.op, "value": c.value, "case_insensitive": true })
        }
        op => json!({ "field": c.field, "op": op, "value": one(&c.value) }),
    }
}

/// The body of a grid view for `get_grid_rows`: sort keys `(field, descending)` and the filter.
pub fn view_json(sort: &[(String, bool)], filter: Option<Value>) -> String {
    let sort: Vec<Value> = sort
        .iter()
        .map(|(field, desc)| json!({ "field": field, "direction": if *desc { "desc" } else { "asc" } }))
        .collect();
    json!({ "sort": sort, "filter": filter }).to_string()
}

/// The filter builder: edits a draft, applies it on "Apply".
#[component]
pub fn FilterBuilder(
    columns: StoredValue<Vec<GridColumn>>,
    applied: RwSignal<Filter>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let draft = RwSignal::new(applied.get_untracked());
    let fields: Vec<String> = PROMOTED
        .iter()
        .map(|f| (*f).to_owned())
        // Masked columns cannot be filtered on by someone who sees them masked (the server refuses it).
        .chain(
            columns
                .with_value(|c| c.iter().filter(|c| !c.masked).map(|c| c.name.clone()).collect::<Vec<_>>()),
        )
        .collect();
    let fields = StoredValue::new(fields);
    // The first column (after the promoted fields), else `code`.
    let first_field =
        move || fields.with_value(|f| f.get(PROMOTED.len()).or(f.first()).cloned()).unwrap_or_default();
    let new_condition = move || Condition { field: first_field(), op: "eq".into(), value: String::new() };
    // Field and value changes are kept without drawing the builder again (the inputs show them already, and
    // focus stays where the user moved it); an operator change draws it again (the value input may come or
    // go) and gives the focus back to the operator.
    let edit = move |g: usize, i: usize, f: &dyn Fn(&mut Condition), redraw: bool| {
        let apply = |d: &mut Filter| {
            if let Some(c) = d.groups.get_mut(g).and_then(|g| g.conditions.get_mut(i)) {
                f(c)
            }
        };
        if redraw {
            crate::components::browser::keep_focus(&[]);
            draft.update(apply);
        } else {
            draft.update_untracked(apply);
        }
    };
    let join_select = move |any: bool, set: Box<dyn Fn(bool) + Send + Sync>, label: &'static str| {
        view! {
            <select class="small-select" aria-label=label data-testid="filter-join"
                on:change=move |ev| set(event_target_value(&ev) == "or")>
                <option value="and" selected=!any>{tr(|s| s.filter_all)}</option>
                <option value="or" selected=any>{tr(|s| s.filter_any)}</option>
            </select>
        }
    };
    let groups = move || {
        let filter = draft.get();
        filter
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let conditions = group
                    .conditions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let needs_value = !matches!(c.op.as_str(), "is_null" | "not_null");
                        let hint = match c.op.as_str() {
                            "in" => "a, b, c",
                            "between" => "low, high",
                            _ => "",
                        };
                        view! {
                            <div class="filter-condition" data-testid="filter-condition" data-key=format!("condition-{g}-{i}")>
                                <select aria-label=tr(|s| s.filter_field) data-testid="filter-field"
                                    on:change=move |ev| edit(g, i, &|c| c.field = event_target_value(&ev), false)>
                                    {fields.get_value().into_iter().map(|f| {
                                        let selected = f == c.field;
                                        view! { <option value=f.clone() selected=selected>{f.clone()}</option> }
                                    }).collect_view()}
                                </select>
                                <select aria-label=tr(|s| s.filter_operator) data-testid="filter-op"
                                    on:change=move |ev| edit(g, i, &|c| c.op = event_target_value(&ev), true)>
                                    {OPS.iter().map(|op| view! {
                                        <option value=*op selected=*op == c.op>{op.replace('_', " ")}</option>
                                    }).collect_view()}
                                </select>
                                {needs_value.then(|| view! {
                                    <input aria-label=tr(|s| s.filter_value) data-testid="filter-value" placeholder=hint
                                        value=c.value.clone()
                                        on:change=move |ev| edit(g, i, &|c| c.value = event_target_value(&ev), false) />
                                })}
                                <button class="button secondary small" type="button" data-testid="filter-remove"
                                    aria-label=tr(|s| s.filter_remove)
                                    on:click=move |_| draft.update(|d| {
                                        if let Some(group) = d.groups.get_mut(g) {
                                            group.conditions.remove(i);
                                        }
                                        d.groups.retain(|g| !g.conditions.is_empty());
                                    })>"×"</button>
                            </div>
                        }
                    })
                    .collect_view();
                view! {
                    {(g > 0).then(|| view! { <p class="filter-join muted small">{if filter.any { tr(|s| s.filter_or)() } else { tr(|s| s.filter_and)() }}</p> })}
                    <fieldset class="filter-group" data-testid="filter-group">
                        <legend>
                            {join_select(group.any, Box::new(move |any| draft.update(|d| if let Some(g) = d.groups.get_mut(g) { g.any = any })), "group")}
                            " " {tr(|s| s.filter_of_these)}
                        </legend>
                        {conditions}
                        <button class="button secondary small" type="button" data-testid="filter-add"
                            on:click=move |_| draft.update(|d| if let Some(g) = d.groups.get_mut(g) { g.conditions.push(new_condition()) })>
                            {tr(|s| s.filter_add_condition)}
                        </button>
                    </fieldset>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel filter-builder" data-testid="filter-builder" aria-label=tr(|s| s.filter_title)>
            <div class="row">
                <p class="small">{tr(|s| s.filter_groups)} " "
                    {move || join_select(draft.with(|d| d.any), Box::new(move |any| draft.update(|d| d.any = any)), "groups")}
                    " " {tr(|s| s.filter_of_groups)}
                </p>
            </div>
            {groups}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="filter-error">{e}</p> })}
            <div class="inline-form">
                <button class="button secondary small" type="button" data-testid="filter-add-group"
                    on:click=move |_| draft.update(|d| d.groups.push(Group { any: false, conditions: vec![new_condition()] }))>
                    {tr(|s| s.filter_add_group)}
                </button>
                <button class="button small" type="button" data-testid="filter-apply"
                    on:click=move |_| applied.set(draft.get_untracked())>{tr(|s| s.filter_apply)}</button>
                <button class="button secondary small" type="button" data-testid="filter-clear"
                    on:click=move |_| { draft.set(Filter::default()); applied.set(Filter::default()); }>
                    {tr(|s| s.filter_clear)}
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> GridColumn {
        GridColumn {
            name: name.into(),
            data_type: data_type.into(),
            mandatory: false,
            options: Vec::new(),
            masked: false,
            references: None,
        }
    }

    #[test]
    fn groups_become_the_query_grammar() {
        let columns = [column("qty", "Int"), column("name", "String")];
        let c = |field: &str, op: &str, value: &str| Condition {
            field: field.into(),
            op: op.into(),
            value: value.into(),
        };
        let filter = Filter {
            any: true,
            groups: vec![
                Group { any: false, conditions: vec![c("qty", "ge", "5"), c("name", "contains", "ab")] },
                Group { any: true, conditions: vec![c("qty", "in", "1, 2"), c("name", "not_null", "")] },
            ],
        };
        assert_eq!(
            filter.to_json(&columns).unwrap(),
            json!({"or": [
                {"and": [{"field": "qty", "op": "ge", "value": 5},
                         {"field": "name", "op": "contains", "value": "ab", "case_insensitive": true}]},
                {"or": [{"field": "qty", "op": "in", "value": [1, 2]},
                        {"field": "name", "op": "is_null", "value": false}]},
            ]})
        );
        assert_eq!(Filter::default().to_json(&columns), None);
        let view: Value = serde_json::from_str(&view_json(&[("qty".into(), true)], None)).unwrap();
        assert_eq!(view, json!({"sort": [{"field": "qty", "direction": "desc"}], "filter": null}));
    }
}
