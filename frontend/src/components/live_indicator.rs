//! The connection badge in the header: live, reconnecting, offline, or polling.

use leptos::prelude::*;

use crate::live::use_live;

#[component]
pub fn LiveIndicator() -> impl IntoView {
    let live = use_live();
    let state = live.state;
    view! {
        <span
            class=move || format!("live-indicator live-{}", state.get().data_state())
            data-testid="live-indicator"
            data-state=move || state.get().data_state()
            title=move || state.get().explanation()
            role="status"
            aria-live="polite"
        >
            <span class="live-dot" aria-hidden="true"></span>
            <span class="live-label">{move || state.get().label()}</span>
        </span>
    }
}
