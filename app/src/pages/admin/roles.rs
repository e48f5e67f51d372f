//! Access roles and their Administrative Rules → Secure Remote Access: None, Own (the sessions of the gateways
//! ticked) or All. The rule decides what the role's holders see in the next listing they ask for.

use std::collections::BTreeSet;

use leptos::prelude::*;
use sra_domain::{RoleSpec, SraRule, MAX_ADMIN_NAME};

use super::{frame, Admin, Change};

#[component]
pub fn AdminRolesPage() -> impl IntoView {
    let admin = Admin::new();
    frame(
        admin,
        "Access roles",
        "Administrative Rules → Secure Remote Access: Own shows its holders every session of the gateways chosen; All \
         shows every session and makes them administrators.",
        (),
        move |directory| {
            let gateways: Vec<String> = directory.gateways.iter().map(|g| g.name.clone()).collect();
            let holders = |role: &str| -> Vec<String> {
                directory.users.iter().filter(|u| u.roles.iter().any(|r| r == role)).map(|u| u.login.clone()).collect()
            };
            let cards: Vec<(RoleSpec, Vec<String>)> =
                directory.roles.iter().map(|role| (role.clone(), holders(&role.name))).collect();
            let picker = gateways.clone();
            // Keyed on everything a card shows: after a change, a card whose role changed is made anew rather than
            // rebuilt in place over another role's card — a rebuilt radio group kept the old card's checked state
            // (a new role's rule showed no choice at all).
            view! {
                <div class="role-list">
                    <For
                        each=move || cards.clone()
                        key=|card| card.clone()
                        children=move |(role, holders)| role_card(admin, role, holders, picker.clone())
                    />
                </div>
                <NewRole admin gateways />
            }
        },
    )
}

/// One role: who holds it and its Secure Remote Access rule, editable and saved with its own button.
fn role_card(admin: Admin, role: RoleSpec, holders: Vec<String>, gateways: Vec<String>) -> impl IntoView {
    let rule = RwSignal::new(role.rule);
    let chosen = RwSignal::new(role.gateways.iter().cloned().collect::<BTreeSet<_>>());
    let saved = (role.rule, role.gateways.iter().cloned().collect::<BTreeSet<_>>());
    let unsaved =
        Memo::new(move |_| rule.get() != saved.0 || (saved.0 == SraRule::Own && chosen.with(|c| *c != saved.1)));
    let name = role.name.clone();
    let heading = format!("role-{}", role.name);
    let labelled_by = heading.clone();
    let data_role = role.name.clone();
    view! {
        <article class="role" data-role=data_role aria-labelledby=labelled_by>
            <h2 id=heading>{role.name.clone()}</h2>
            <p class="holders">
                {if holders.is_empty() {
                    "Held by nobody.".to_owned()
                } else {
                    format!("Held by {}.", holders.join(", "))
                }}
            </p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                admin.ask(Change::SetRoleRule(spec(name.clone(), rule, chosen)));
            }>
                <RuleEditor id=role.name.clone() rule chosen gateways />
                <button type="submit" disabled=move || admin.busy().get() || !unsaved.get()>
                    "Save"
                </button>
                <Show when=move || unsaved.get()>
                    <span class="unsaved">"Not saved yet"</span>
                </Show>
            </form>
        </article>
    }
}

/// The role as chosen on the page: the gateways ticked count for an Own rule only (the others grant none).
fn spec(name: String, rule: RwSignal<SraRule>, chosen: RwSignal<BTreeSet<String>>) -> RoleSpec {
    let rule = rule.get_untracked();
    let gateways = if rule == SraRule::Own { chosen.get_untracked().into_iter().collect() } else { Vec::new() };
    RoleSpec { name: name.trim().to_owned(), rule, gateways }
}

/// The form for a new role.
#[component]
fn NewRole(admin: Admin, gateways: Vec<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let rule = RwSignal::new(SraRule::None);
    let chosen = RwSignal::new(BTreeSet::new());
    view! {
        <form
            class="admin-form new-role"
            aria-label="New access role"
            on:submit=move |ev| {
                ev.prevent_default();
                admin.ask(Change::CreateRole(spec(name.get_untracked(), rule, chosen)));
            }
        >
            <h2>"New access role"</h2>
            <label>
                "Name" <input name="role" required maxlength=MAX_ADMIN_NAME autocomplete="off" bind:value=name />
            </label>
            <RuleEditor id="new-role".to_owned() rule chosen gateways />
            <button type="submit" disabled=move || admin.busy().get()>
                "Create role"
            </button>
        </form>
    }
}

/// The Secure Remote Access rule as three choices and, for Own, the gateways to tick (filtered by typing when there
/// are many).
#[component]
fn RuleEditor(
    id: String,
    rule: RwSignal<SraRule>,
    chosen: RwSignal<BTreeSet<String>>,
    gateways: Vec<String>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let choices = SraRule::ALL
        .iter()
        .map(|&choice| {
            let hint = match choice {
                SraRule::None => "Only their own sessions",
                SraRule::Own => "Every session of the gateways chosen below",
                SraRule::All => "Every session (administrator)",
            };
            view! {
                <label class="choice">
                    <input
                        type="radio"
                        name=format!("rule-{id}")
                        value=choice.as_str()
                        prop:checked=move || rule.get() == choice
                        on:change=move |_| rule.set(choice)
                    />
                    <strong>{choice.label()}</strong>
                    " "
                    <span class="hint">{hint}</span>
                </label>
            }
        })
        .collect_view();
    let many = gateways.len() > 8;
    let picker = gateways
        .into_iter()
        .map(|gateway| {
            let shown = {
                let gateway = gateway.clone();
                move || filter.with(|f| gateway.to_lowercase().contains(&f.trim().to_lowercase()))
            };
            let ticked = {
                let gateway = gateway.clone();
                move || chosen.with(|c| c.contains(&gateway))
            };
            let toggle = {
                let gateway = gateway.clone();
                move |_| {
                    chosen.update(|c| {
                        if !c.remove(&gateway) {
                            c.insert(gateway.clone());
                        }
                    })
                }
            };
            view! {
                <label class="choice" class:hidden=move || !shown()>
                    <input type="checkbox" value=gateway.clone() prop:checked=ticked on:change=toggle />
                    {gateway}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="sra-rule">
            <legend>"Secure Remote Access"</legend>
            {choices}
        </fieldset>
        // Kept on the page (hidden) when the rule is not Own, so the ticks survive switching back and forth.
        <fieldset class="gateway-picker" hidden=move || rule.get() != SraRule::Own>
            <legend>{move || format!("Gateways ({} chosen)", chosen.with(BTreeSet::len))}</legend>
            {many
                .then(|| {
                    view! {
                        <input
                            type="search"
                            placeholder="Type to filter"
                            aria-label="Filter the gateways"
                            bind:value=filter
                        />
                    }
                })}
            {picker}
        </fieldset>
    }
}
