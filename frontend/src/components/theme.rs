//! Light and dark themes. The default follows the system (`prefers-color-scheme`); the toggle
//! pins a choice in localStorage. The choice is applied as `data-theme` on `<html>`, where the
//! stylesheet picks it up (index.html applies it before the app loads, to avoid a flash).

use leptos::prelude::*;

use crate::components::icons::Icon;
use crate::storage;

fn system_prefers_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .map(|m| m.matches())
        .unwrap_or(false)
}

fn apply(theme: &str) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme);
    }
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let initial = storage::load_theme()
        .filter(|t| t == "light" || t == "dark")
        .unwrap_or_else(|| {
            if system_prefers_dark() {
                "dark".into()
            } else {
                "light".into()
            }
        });
    let dark = RwSignal::new(initial == "dark");
    let toggle = move |_| {
        let next = if dark.get_untracked() {
            "light"
        } else {
            "dark"
        };
        storage::save_theme(next);
        apply(next);
        dark.set(next == "dark");
    };
    view! {
        <button
            class="icon-button"
            data-testid="theme-toggle"
            title=move || if dark.get() { "Switch to light theme" } else { "Switch to dark theme" }
            aria-label=move || if dark.get() { "Switch to light theme" } else { "Switch to dark theme" }
            on:click=toggle
        >
            {move || if dark.get() { view! { <Icon name="sun" /> } } else { view! { <Icon name="moon" /> } }}
        </button>
    }
}
