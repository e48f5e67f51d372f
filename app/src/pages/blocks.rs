//! Blocks: the users kept from opening new sessions on a gateway (placed with a termination), soonest to end first,
//! each with its reason and a Lift button for whoever may terminate sessions on that gateway.

use leptos::prelude::*;

use crate::api::{lift_block, list_blocks};
use crate::local_time::LocalTime;
use crate::pages::admin::list_table;

#[component]
pub fn BlocksPage() -> impl IntoView {
    let lift = Action::new(|id: &i64| lift_block(*id));
    let blocks = Resource::new(move || lift.version().get(), |_| list_blocks());
    view! {
        <section class="blocks">
            <div class="overview-head">
                <h1>"Blocked users"</h1>
                <p class="timeframe">
                    "Kept from opening new sessions on a gateway until the time shown; the gateway learns it in its next heartbeat."
                </p>
            </div>
            {move || {
                lift.value()
                    .get()
                    .and_then(Result::err)
                    .map(|e| {
                        view! {
                            <div class="error" role="alert">
                                {format!("The block was not lifted: {}", e.message)}
                            </div>
                        }
                    })
            }}
            <Transition fallback=|| {
                view! {
                    <div class="skeleton" aria-busy="true">
                        "Loading the blocks…"
                    </div>
                }
            }>
                {move || {
                    blocks
                        .get()
                        .map(|result| match result {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty">"Nobody is blocked."</p> }.into_any()
                            }
                            Ok(list) => {
                                let rows = list.into_iter().map(|b| block_row(b, lift)).collect_view();
                                list_table("block-list", &["User", "Gateway", "Until", "Blocked by", "Reason"], rows)
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <div class="error" role="alert">
                                        {format!("The blocks could not be loaded: {e}")}
                                    </div>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

fn block_row(
    b: sra_domain::Block,
    lift: Action<i64, Result<sra_domain::Block, crate::error::ConsoleError>>,
) -> impl IntoView {
    let label = format!("Lift the block of {} on {}", b.user, b.gateway);
    view! {
        <tr data-block-id=b.id>
            <td>{b.user}</td>
            <td>{b.gateway}</td>
            <td class="time">
                <LocalTime ms=b.until />
            </td>
            <td>{b.blocked_by}</td>
            <td>{b.reason}</td>
            <td class="actions">
                <button
                    aria-label=label
                    disabled=move || lift.pending().get()
                    on:click=move |_| {
                        lift.dispatch(b.id);
                    }
                >
                    "Lift"
                </button>
            </td>
        </tr>
    }
}
