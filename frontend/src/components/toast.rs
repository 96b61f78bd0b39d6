//! Short notices in a corner: errors stay longer than successes; all can be dismissed.

use leptos::prelude::*;

use crate::components::icons::Icon;

/// More than this many at once would cover the page on a phone.
const MAX_SHOWN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

impl Toasts {
    pub fn provide() -> Toasts {
        let toasts = Toasts {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        };
        provide_context(toasts);
        toasts
    }

    pub fn success(&self, text: impl Into<String>) {
        self.push(ToastKind::Success, text.into());
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text.into());
    }

    fn push(&self, kind: ToastKind, text: String) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| {
            // A burst of the same failure (every list on a page failing) is one notice.
            if !l.iter().any(|t| t.text == text) {
                l.push(Toast { id, kind, text });
            }
            // A burst of different notices keeps only the newest few on screen.
            if l.len() > MAX_SHOWN {
                l.drain(..l.len() - MAX_SHOWN);
            }
        });
        let hide_after = match kind {
            ToastKind::Success => 4_000,
            ToastKind::Error => 8_000,
        };
        let list = self.list;
        set_timeout(
            move || {
                list.try_update(|l| l.retain(|t| t.id != id));
            },
            std::time::Duration::from_millis(hide_after),
        );
    }

    fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
    }
}

#[component]
pub fn ToastStack() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:toast>
                <div
                    class="toast"
                    class:toast-error=toast.kind == ToastKind::Error
                    class:toast-success=toast.kind == ToastKind::Success
                    role=if toast.kind == ToastKind::Error { "alert" } else { "status" }
                    data-testid="toast"
                    data-kind=if toast.kind == ToastKind::Error { "error" } else { "success" }
                >
                    <Icon name=if toast.kind == ToastKind::Error { "alert" } else { "check" } />
                    <span class="toast-text">{toast.text.clone()}</span>
                    <button
                        class="icon-button"
                        aria-label="Dismiss"
                        title="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        <Icon name="x" />
                    </button>
                </div>
            </For>
        </div>
    }
}
