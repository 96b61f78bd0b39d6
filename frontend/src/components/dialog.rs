//! A modal dialog: focus moves into it, Escape and the close button dismiss it, the page
//! behind is inert to the pointer.

use leptos::prelude::*;

use crate::components::icons::Icon;

#[component]
pub fn Modal(
    #[prop(into)] title: String,
    on_close: Callback<()>,
    #[prop(optional)] testid: &'static str,
    #[prop(optional)] danger: bool,
    children: Children,
) -> impl IntoView {
    let keydown = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    });
    on_cleanup(move || keydown.remove());
    let label = title.clone();
    view! {
        <div class="modal-backdrop">
            <div
                class="modal"
                class:modal-danger=danger
                role="dialog"
                aria-modal="true"
                aria-label=label
                data-testid=testid
            >
                <div class="modal-header">
                    <h2>{title}</h2>
                    <button class="icon-button" type="button" aria-label="Close" title="Close (Esc)"
                        on:click=move |_| on_close.run(())>
                        <Icon name="x" />
                    </button>
                </div>
                {children()}
            </div>
        </div>
    }
}
