//! Sign-in. Errors show the server's own words (the problem's `detail`).

use leptos::prelude::*;

use crate::api::{AppError, use_api};
use crate::components::icons::Icon;

#[component]
pub fn LoginPage() -> impl IntoView {
    let api = use_api();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let login = Action::new_local(move |(user, pass): &(String, String)| {
        let (user, pass) = (user.clone(), pass.clone());
        async move { api.login(&user, &pass).await }
    });
    let error = move || login.value().get().and_then(Result::err);
    let pending = login.pending();
    let info =
        LocalResource::new(
            move || async move { api.anonymous().info().await.map_err(AppError::from) },
        );

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !pending.get_untracked() {
            login.dispatch((
                username.get_untracked().trim().to_owned(),
                password.get_untracked(),
            ));
        }
    };

    view! {
        <div class="login-page">
            <form class="login-card" on:submit=submit>
                <div class="login-brand">
                    <span class="brand-mark" aria-hidden="true"><Icon name="rocket" size=22 /></span>
                    <div>
                        <h1>"Flightdeck"</h1>
                        <p class="subtitle">"Deploys, rollbacks and infrastructure health"</p>
                    </div>
                </div>
                <label class="field">
                    <span class="field-label">"Username"</span>
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        required
                        autofocus
                        data-testid="login-username"
                        bind:value=username
                    />
                </label>
                <label class="field">
                    <span class="field-label">"Password"</span>
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        data-testid="login-password"
                        bind:value=password
                    />
                </label>
                {move || error().map(|e| view! {
                    <p class="form-error" role="alert" data-testid="login-error">
                        <Icon name="alert" />
                        <span>{e.message}</span>
                    </p>
                })}
                <button class="button button-primary button-block" type="submit" data-testid="login-submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
                <p class="login-footer">
                    {move || info.get().and_then(Result::ok).map(|i| format!(
                        "Server {} · {}{}", i.version, i.database, if i.redis { " · redis" } else { "" }
                    ))}
                </p>
            </form>
        </div>
    }
}
