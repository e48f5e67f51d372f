//! The browser entry point. The server renders the console to HTML; this crate, built to WASM, attaches Leptos to
//! that HTML (hydration) so the page becomes interactive without rendering twice.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
