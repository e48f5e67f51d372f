//! One clock a page: the browser's time, moved on every second, for live durations, the "updated … ago" line and a
//! refresh that falls due. The overview's grid and its detail panel share one; a session's own page has its own.
//! During server rendering it never ticks (effects run only in the browser).

use std::time::Duration;

use leptos::prelude::*;

use crate::local_time::browser_now;

/// The page's clock (browser time, epoch milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct Clock(RwSignal<i64>);

impl Clock {
    /// The clock of the enclosing page, or a new one that ticks for as long as the calling component lives (and is
    /// then the page's clock for the components below it).
    pub fn use_clock() -> Clock {
        if let Some(clock) = use_context::<Clock>() {
            return clock;
        }
        let now = RwSignal::new(browser_now());
        // Leptos's interval handle can be cleared from `on_cleanup` (it is Send); gloo-timers' `Interval` is not.
        Effect::new(move |_| {
            if let Ok(handle) = set_interval_with_handle(move || now.set(browser_now()), Duration::from_secs(1)) {
                on_cleanup(move || handle.clear());
            }
        });
        let clock = Clock(now);
        provide_context(clock);
        clock
    }

    /// The time now (tracked: whoever reads it runs again every second).
    pub fn now(self) -> i64 {
        self.0.get()
    }

    pub fn signal(self) -> RwSignal<i64> {
        self.0
    }
}
