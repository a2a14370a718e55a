//! The Account Center console, rendered in the browser.

mod api;
mod app;
mod components;
mod flows;
mod pages;
mod words;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
