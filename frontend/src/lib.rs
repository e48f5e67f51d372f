//! The browser entry point. The server renders the console to HTML; this crate, built to WASM, attaches Leptos to
//! that HTML (hydration) so the page becomes interactive without rendering twice.

// Leptos's statically typed views nest deeply (the grid's keyed rows); the compiler needs room to lay them out.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
