use leptos::prelude::*;

use crate::components::states::EmptyState;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <EmptyState icon="alert" title="Page not found">
                <p>"There is nothing at this address. "<a href="/">"Back to the overview"</a></p>
            </EmptyState>
        </section>
    }
}
