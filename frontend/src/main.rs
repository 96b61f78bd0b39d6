//! Flightdeck's browser app: a Leptos CSR shell around the REST API and the live feed.
//! Trunk builds it to wasm32 (`frontend/index.html`); the server serves `frontend/dist`.

mod api;
mod app;
mod catalog;
mod components;
mod download;
mod error;
mod format;
mod live;
mod open_alerts;
mod pages;
mod routes;
mod storage;
mod url_filter;

fn main() {
    // Panics become readable console errors instead of "unreachable executed".
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
