#![recursion_limit = "256"]
//! The browser entry point: hydrates the server-rendered HTML.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(tessera_app::App);
}
