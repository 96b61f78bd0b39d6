//! Settings → Notifications: channels (Slack, webhook, email) for admins — list, add, edit,
//! pause, test, delete — and the delivery log for operators: what was sent where, retried,
//! failed, or held back by a silence or maintenance window (it refreshes itself while open).

use flightdeck_model::{
    AlertSeverity, ChannelConfig, ChannelFilters, ChannelRequest, Delivery, DeliveryQuery,
    DeliveryStatus, MASK, NotificationChannel, NotifyEvent, Role, SmtpTls, WebhookHeader,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{lines, opt, split_list};
use crate::api::{AppError, use_api};
use crate::catalog::role_allows;
use crate::components::{icons::Icon, toast::use_toasts};
use crate::format::{local_time, relative};

#[component]
pub fn NotificationsPanel() -> impl IntoView {
    let api = use_api();
    let is_admin = role_allows(&api, Role::Admin);
    view! {
        {is_admin.then(|| view! { <ChannelsCard /> })}
        <DeliveriesCard />
    }
}

fn describe(config: &ChannelConfig) -> String {
    match config {
        ChannelConfig::Slack { .. } => "Slack incoming webhook".into(),
        ChannelConfig::Webhook { url, .. } => url.clone(),
        ChannelConfig::Email { to, host, port, .. } => {
            format!("{} via {host}:{port}", to.join(", "))
        }
    }
}

#[component]
fn ChannelsCard() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let list = RwSignal::new(Vec::<NotificationChannel>::new());
    let adding = RwSignal::new(false);
    // The channel being edited; the form is built afresh for each.
    let editing = RwSignal::new(None::<NotificationChannel>);
    let load = move || {
        spawn_local(async move {
            if let Ok(page) = api.call(|c| async move { c.list_channels().await }).await {
                list.try_set(page.items);
            }
        });
    };
    load();
    let test = move |id: flightdeck_model::Id| {
        spawn_local(async move {
            match api
                .call(move |c| async move { c.test_channel(id).await })
                .await
            {
                Ok(r) if r.ok => toasts.success("Test message sent."),
                Ok(r) => toasts.error(format!("Test failed: {}", r.error.unwrap_or_default())),
                Err(e) => toasts.error(e.message),
            }
        });
    };
    let remove = move |id: flightdeck_model::Id| {
        spawn_local(async move {
            match api
                .call(move |c| async move { c.delete_channel(id).await })
                .await
            {
                Ok(()) => {
                    toasts.success("Channel deleted.");
                    load();
                }
                Err(e) => toasts.error(e.message),
            }
        });
    };
    view! {
        <section class="card" data-testid="notification-channels">
            <div class="card-header">
                <h2>"Channels"</h2>
                <button class="button button-small" data-testid="channel-new"
                    on:click=move |_| { editing.set(None); adding.set(true); }>
                    <Icon name="plus" />"Add channel"
                </button>
            </div>
            <Show when=move || adding.get()>
                <ChannelForm open=adding editing=None saved=Callback::new(move |_| load()) />
            </Show>
            {move || editing.get().map(|channel| {
                let open = RwSignal::new(true);
                Effect::new(move |_| if !open.get() { editing.set(None) });
                view! { <ChannelForm open editing=Some(channel) saved=Callback::new(move |_| load()) /> }
            })}
            <div class="table-wrap">
                <table class="table table-cards">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Kind"</th><th scope="col">"Sends to"</th>
                        <th scope="col">"Events"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        <For each=move || list.get() key=|c| format!("{c:?}") let:c>
                            {
                                let id = c.id;
                                let events: Vec<&str> = c.filters.events.iter().map(|e| e.as_str()).collect();
                                view! {
                                    <tr data-testid="channel-row" data-name=c.name.clone()>
                                        <td data-label="Name" class="cell-strong">{c.name.clone()}
                                            {(!c.enabled).then(|| view! { <span class="badge role-badge">"disabled"</span> })}</td>
                                        <td data-label="Kind"><span class="badge role-badge">{c.config.kind()}</span></td>
                                        <td data-label="Sends to" class="mono small">{describe(&c.config)}</td>
                                        <td data-label="Events" class="small">{events.join(", ")}</td>
                                        <td class="cell-actions">
                                            <button class="button button-small button-ghost" data-testid="channel-edit"
                                                on:click={
                                                    let c = c.clone();
                                                    move |_| { adding.set(false); editing.set(Some(c.clone())); }
                                                }><Icon name="edit" />"Edit"</button>
                                            <button class="button button-small button-ghost" data-testid="channel-test"
                                                on:click=move |_| test(id)><Icon name="check" />"Test"</button>
                                            <button class="button button-small button-ghost" data-testid="channel-delete"
                                                on:click=move |_| remove(id)><Icon name="x" />"Delete"</button>
                                        </td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || list.with(Vec::is_empty)>
                <p class="muted empty-note">"No channels yet. Add Slack, a webhook or email to hear about firing alerts, escalations and failed deployments."</p>
            </Show>
        </section>
    }
}

const EVENT_CHOICES: [(NotifyEvent, &str); 4] = [
    (NotifyEvent::AlertFiring, "an alert fires"),
    (NotifyEvent::AlertEscalated, "an alert is escalated"),
    (NotifyEvent::AlertResolved, "an alert resolves"),
    (NotifyEvent::DeploymentFailed, "a deployment fails"),
];

fn parse_headers(s: &str) -> Result<Vec<WebhookHeader>, String> {
    lines(s)
        .iter()
        .map(|line| match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
                Ok(WebhookHeader {
                    name: name.trim().to_owned(),
                    value: value.trim().to_owned(),
                    secret: true,
                })
            }
            _ => Err(format!("header “{line}”: write it as `Name: value`")),
        })
        .collect()
}

/// The form's starting values: empty for a new channel, the channel's own (secrets as the
/// server masked them) when editing. A secret left masked keeps its stored value on save.
struct Initial {
    name: String,
    kind: &'static str,
    url: String,
    host: String,
    port: String,
    from: String,
    to: String,
    tls: &'static str,
    username: String,
    password: String,
    headers: String,
    filters: ChannelFilters,
    enabled: bool,
}

impl Initial {
    fn of(channel: Option<&NotificationChannel>) -> Self {
        let mut init = Initial {
            name: String::new(),
            kind: "slack",
            url: String::new(),
            host: String::new(),
            port: "587".into(),
            from: String::new(),
            to: String::new(),
            tls: "starttls",
            username: String::new(),
            password: String::new(),
            headers: String::new(),
            filters: ChannelFilters::default(),
            enabled: true,
        };
        let Some(c) = channel else { return init };
        init.name = c.name.clone();
        init.filters = c.filters.clone();
        init.enabled = c.enabled;
        match &c.config {
            ChannelConfig::Slack { webhook_url } => init.url = webhook_url.clone(),
            ChannelConfig::Webhook { url, headers } => {
                init.kind = "webhook";
                init.url = url.clone();
                init.headers = headers
                    .iter()
                    .map(|h| format!("{}: {}", h.name, h.value))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            ChannelConfig::Email {
                host,
                port,
                from,
                to,
                tls,
                username,
                password,
            } => {
                init.kind = "email";
                init.host = host.clone();
                init.port = port.to_string();
                init.from = from.clone();
                init.to = to.join(", ");
                init.tls = match tls {
                    SmtpTls::None => "none",
                    SmtpTls::Tls => "tls",
                    SmtpTls::Starttls => "starttls",
                };
                init.username = username.clone().unwrap_or_default();
                init.password = password.clone().unwrap_or_default();
            }
        }
        init
    }
}

#[component]
fn ChannelForm(
    open: RwSignal<bool>,
    editing: Option<NotificationChannel>,
    saved: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let init = Initial::of(editing.as_ref());
    let id = editing.as_ref().map(|c| c.id);
    let name = RwSignal::new(init.name);
    let kind = RwSignal::new(init.kind.to_owned());
    let url = RwSignal::new(init.url);
    let host = RwSignal::new(init.host);
    let port = RwSignal::new(init.port);
    let from = RwSignal::new(init.from);
    let to = RwSignal::new(init.to);
    let tls = RwSignal::new(init.tls.to_owned());
    let username = RwSignal::new(init.username);
    let password = RwSignal::new(init.password);
    // `Name: value` per line; the values are stored as secrets (masked when read back), since a
    // header on a webhook is nearly always a token.
    let headers = RwSignal::new(init.headers);
    let events = RwSignal::new(init.filters.events);
    let min_severity = RwSignal::new(init.filters.min_severity.as_str().to_owned());
    let components = RwSignal::new(init.filters.components.join(", "));
    let environments = RwSignal::new(init.filters.environments.join(", "));
    let enabled = RwSignal::new(init.enabled);
    let error = RwSignal::new(None::<AppError>);
    let save = Action::new_local(move |_: &()| async move {
        let headers = match parse_headers(&headers.get_untracked()) {
            Ok(h) => h,
            Err(message) => return Err(AppError::new(message)),
        };
        let config = match kind.get_untracked().as_str() {
            "webhook" => ChannelConfig::Webhook {
                url: url.get_untracked().trim().to_owned(),
                headers,
            },
            "email" => ChannelConfig::Email {
                host: host.get_untracked().trim().to_owned(),
                port: port.get_untracked().trim().parse().unwrap_or(0),
                from: from.get_untracked().trim().to_owned(),
                to: to
                    .get_untracked()
                    .split([',', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                tls: match tls.get_untracked().as_str() {
                    "none" => SmtpTls::None,
                    "tls" => SmtpTls::Tls,
                    _ => SmtpTls::Starttls,
                },
                username: opt(&username.get_untracked()),
                password: opt(&password.get_untracked()),
            },
            _ => ChannelConfig::Slack {
                webhook_url: url.get_untracked().trim().to_owned(),
            },
        };
        let body = ChannelRequest {
            name: name.get_untracked().trim().to_owned(),
            config,
            filters: ChannelFilters {
                events: events.get_untracked(),
                min_severity: match min_severity.get_untracked().as_str() {
                    "critical" => AlertSeverity::Critical,
                    "info" => AlertSeverity::Info,
                    _ => AlertSeverity::Warning,
                },
                components: split_list(&components.get_untracked()),
                environments: split_list(&environments.get_untracked()),
            },
            enabled: enabled.get_untracked(),
        };
        api.call(move |c| {
            let body = body.clone();
            async move {
                match id {
                    Some(id) => c.replace_channel(id, &body).await,
                    None => c.create_channel(&body).await,
                }
            }
        })
        .await
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(c)) => {
            let verb = if id.is_some() { "saved" } else { "added" };
            toasts.success(format!("Channel “{}” {verb}.", c.name));
            saved.run(());
            open.set(false);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let is_email = move || kind.get() == "email";
    view! {
        <form class="catalog-form" data-testid="channel-form" data-editing=id.is_some().to_string()
            on:submit=move |ev| { ev.prevent_default(); error.set(None); save.dispatch(()); }>
            <h3 class="field-wide">{if id.is_some() { "Edit channel" } else { "New channel" }}</h3>
            {id.is_some().then(|| view! {
                <p class="muted small field-wide">{format!("Secrets show as {MASK}; leave them so to keep the stored values.")}</p>
            })}
            <label class="field"><span class="field-label">"Name"</span>
                <input type="text" required placeholder="oncall-slack" data-testid="channel-name" bind:value=name /></label>
            <label class="field"><span class="field-label">"Kind"</span>
                <select data-testid="channel-kind" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="slack">"Slack"</option>
                    <option value="webhook">"Webhook"</option>
                    <option value="email">"Email (SMTP, STARTTLS)"</option>
                </select></label>
            <Show when=move || !is_email()>
                <label class="field field-wide"><span class="field-label">"URL"</span>
                    <input type="url" required placeholder="https://hooks.slack.com/services/…" class="mono" data-testid="channel-url" bind:value=url /></label>
            </Show>
            <Show when=is_email>
                <label class="field"><span class="field-label">"SMTP host"</span>
                    <input type="text" required placeholder="smtp.example.com" data-testid="channel-host" bind:value=host /></label>
                <label class="field"><span class="field-label">"Port"</span>
                    <input type="number" min="1" max="65535" required data-testid="channel-port" bind:value=port /></label>
                <label class="field"><span class="field-label">"From"</span>
                    <input type="email" required placeholder="flightdeck@example.com" data-testid="channel-from" bind:value=from /></label>
                <label class="field"><span class="field-label">"To (comma-separated)"</span>
                    <input type="text" required placeholder="oncall@example.com" data-testid="channel-to" bind:value=to /></label>
                <label class="field"><span class="field-label">"Encryption"</span>
                    <select data-testid="channel-tls" prop:value=move || tls.get() on:change=move |ev| tls.set(event_target_value(&ev))>
                        <option value="starttls">"STARTTLS (587)"</option>
                        <option value="tls">"TLS (465)"</option>
                        <option value="none">"None (trusted relay)"</option>
                    </select></label>
                <label class="field"><span class="field-label">"Username (optional)"</span>
                    <input type="text" autocomplete="off" data-testid="channel-username" bind:value=username /></label>
                <label class="field"><span class="field-label">"Password (optional)"</span>
                    <input type="password" autocomplete="new-password" data-testid="channel-password" bind:value=password /></label>
            </Show>
            <Show when=move || kind.get() == "webhook">
                <label class="field field-wide"><span class="field-label">"Headers (Name: value, one per line; stored as secrets)"</span>
                    <textarea rows="2" class="mono" placeholder="Authorization: Bearer …" data-testid="channel-headers"
                        prop:value=move || headers.get() on:input=move |ev| headers.set(event_target_value(&ev))></textarea></label>
            </Show>
            <fieldset class="field field-wide" data-testid="channel-events">
                <legend class="field-label">"Send on"</legend>
                {EVENT_CHOICES.iter().map(|&(event, label)| view! {
                    <label class="checkbox">
                        <input type="checkbox" data-event=event.as_str()
                            prop:checked=move || events.with(|e| e.contains(&event))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                events.update(|e| {
                                    e.retain(|x| *x != event);
                                    if on { e.push(event); }
                                });
                            } />
                        {label}
                    </label>
                }).collect_view()}
            </fieldset>
            <label class="field"><span class="field-label">"Alerts from severity"</span>
                <select data-testid="channel-min-severity" prop:value=move || min_severity.get() on:change=move |ev| min_severity.set(event_target_value(&ev))>
                    <option value="info">"info and up"</option>
                    <option value="warning">"warning and up"</option>
                    <option value="critical">"critical only"</option>
                </select></label>
            <label class="field"><span class="field-label">"Only components (optional)"</span>
                <input type="text" class="mono" placeholder="checkout, checkout-db" data-testid="channel-components" bind:value=components /></label>
            <label class="field"><span class="field-label">"Only environments (optional)"</span>
                <input type="text" class="mono" placeholder="production" data-testid="channel-environments" bind:value=environments /></label>
            <label class="checkbox field-wide">
                <input type="checkbox" data-testid="channel-enabled" prop:checked=move || enabled.get()
                    on:change=move |ev| enabled.set(event_target_checked(&ev)) />
                "Enabled (a disabled channel keeps its settings and sends nothing)"
            </label>
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-primary" type="submit" data-testid="channel-save" disabled=move || save.pending().get()>
                    {if id.is_some() { "Save channel" } else { "Add channel" }}</button>
                <button class="button button-ghost" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}

fn status_tone(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Sent => "badge-good",
        DeliveryStatus::Failed => "badge-bad",
        DeliveryStatus::Pending | DeliveryStatus::Suppressed => "badge-warn",
    }
}

#[component]
fn DeliveriesCard() -> impl IntoView {
    let api = use_api();
    let list = RwSignal::new(Vec::<Delivery>::new());
    let error = RwSignal::new(None::<AppError>);
    let status = RwSignal::new(String::new());
    let load = move || {
        let query = DeliveryQuery {
            status: Some(status.get_untracked()).filter(|s| !s.is_empty()),
            limit: Some(100),
            ..Default::default()
        };
        spawn_local(async move {
            match api
                .call(move |c| {
                    let query = query.clone();
                    async move { c.list_deliveries(&query).await }
                })
                .await
            {
                Ok(page) => {
                    list.try_set(page.items);
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    load();
    // Deliveries move on their own (retries, sends after a backoff), and no live event reports
    // them: refresh every few seconds while the log is on screen and the tab is visible.
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let visible = web_sys::window()
                .and_then(|w| w.document())
                .is_none_or(|d| !d.hidden());
            if visible {
                load();
            }
        },
        std::time::Duration::from_secs(5),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <section class="card" data-testid="notification-deliveries">
            <div class="card-header">
                <h2>"Delivery log"</h2>
                <div style="display:flex;gap:0.5rem;align-items:center">
                <select data-testid="delivery-status" aria-label="Status" style="width:auto" prop:value=move || status.get()
                    on:change=move |ev| { status.set(event_target_value(&ev)); load(); }>
                    <option value="">"All"</option>
                    <option value="sent">"Sent"</option>
                    <option value="pending">"Pending"</option>
                    <option value="failed">"Failed"</option>
                    <option value="suppressed">"Suppressed"</option>
                </select>
                <button class="button button-small button-ghost" on:click=move |_| load()><Icon name="refresh" />"Refresh"</button>
                </div>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="table-wrap">
                <table class="table table-cards">
                    <thead><tr>
                        <th scope="col">"When"</th><th scope="col">"Channel"</th><th scope="col">"Message"</th>
                        <th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Detail"</th>
                    </tr></thead>
                    <tbody>
                        <For each=move || list.get() key=|d| format!("{d:?}") let:d>
                            <tr data-testid="delivery-row" data-status=d.status.as_str()>
                                <td data-label="When" title=local_time(&d.created_at)>{relative(&d.created_at)}</td>
                                <td data-label="Channel">{d.channel_name.clone()}</td>
                                <td data-label="Message" class="cell-strong">{d.message.title.clone()}</td>
                                <td data-label="Status"><span class=format!("badge {}", status_tone(d.status))>{d.status.as_str()}</span></td>
                                <td data-label="Attempts">{d.attempts}</td>
                                <td data-label="Detail" class="cell-reason small">{d.reason.clone().or(d.last_error.clone()).unwrap_or_default()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || list.with(Vec::is_empty)>
                <p class="muted empty-note">"Nothing delivered yet."</p>
            </Show>
        </section>
    }
}
