//! Loading, empty and error states, so every list says what is going on.

use leptos::prelude::*;

use crate::components::icons::Icon;

#[component]
pub fn Loading(#[prop(default = "Loading…")] label: &'static str) -> impl IntoView {
    view! {
        <div class="state state-loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

#[component]
pub fn EmptyState(
    icon: &'static str,
    #[prop(into)] title: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="state state-empty">
            <div class="state-icon">
                <Icon name=icon size=28 />
            </div>
            <h3>{title}</h3>
            {children.map(|c| view! { <div class="state-body">{c()}</div> })}
        </div>
    }
}

/// The fallback of an `<ErrorBoundary>`: every error's message and a retry button.
#[component]
pub fn ErrorState(
    errors: ArcRwSignal<Errors>,
    #[prop(optional)] retry: Option<Callback<()>>,
) -> impl IntoView {
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, e)| e.to_string())
            .collect::<Vec<_>>()
    };
    view! {
        <div class="state state-error" role="alert" data-testid="error-state">
            <div class="state-icon">
                <Icon name="alert" size=28 />
            </div>
            <h3>"Could not load this"</h3>
            <ul class="state-body">
                {move || messages().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
            {retry.map(|retry| view! {
                <button class="button" on:click=move |_| retry.run(())>
                    <Icon name="refresh" />
                    "Try again"
                </button>
            })}
        </div>
    }
}
