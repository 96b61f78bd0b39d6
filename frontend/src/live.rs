//! The live feed: the one WebSocket of the app. It connects with the session's access token,
//! resumes from the last `seq` after a drop (the server replays what was missed), backs off
//! 1 s → 30 s, and when WebSockets stay blocked while the API answers, falls back to polling:
//! it bumps [`Live::reload`] every few seconds so pages reload their lists.

use std::rc::Rc;

use flightdeck_model::{LiveEvent, StreamHello, close_code, stream_event};
use futures::channel::mpsc;
use futures::{FutureExt, SinkExt, StreamExt, future::AbortHandle};
use gloo_net::websocket::{Message, State, WebSocketError, futures::WebSocket};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{Api, AppError};

/// The event every audit entry produces; lists refetch on the ones about their objects.
pub const AUDIT_CREATED: &str = "audit.created";

/// After this many attempts in a row where the socket never opened, assume WebSockets are
/// blocked (a proxy, a firewall) and poll instead.
const FAILURES_BEFORE_POLLING: u32 = 3;
const POLL_EVERY_MS: u32 = 5_000;
/// While polling, still try the socket now and then: the block may be temporary.
const WS_RETRY_WHILE_POLLING_MS: u32 = 30_000;
const MAX_BACKOFF_MS: u32 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting,
    /// The browser is offline, or neither the socket nor the API can be reached.
    Offline,
    /// WebSockets are blocked; lists are reloaded on a timer.
    Polling,
}

impl LinkState {
    /// The `data-state` value tests and styles key on.
    pub fn data_state(self) -> &'static str {
        match self {
            LinkState::Live => "live",
            LinkState::Connecting | LinkState::Reconnecting => "reconnecting",
            LinkState::Offline => "offline",
            LinkState::Polling => "polling",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LinkState::Connecting => "Connecting",
            LinkState::Live => "Live",
            LinkState::Reconnecting => "Reconnecting",
            LinkState::Offline => "Offline",
            LinkState::Polling => "Polling",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            LinkState::Connecting => "Opening the live feed…",
            LinkState::Live => "Live feed connected: changes appear as they happen.",
            LinkState::Reconnecting => "Live feed lost; reconnecting. Missed events are replayed.",
            LinkState::Offline => "Cannot reach the server. Data shown may be out of date.",
            LinkState::Polling => {
                "WebSockets are blocked here; refreshing every 5 seconds instead."
            }
        }
    }
}

type Handler = Rc<dyn Fn(&LiveEvent)>;

/// Provided as context inside the signed-in shell.
#[derive(Clone, Copy)]
pub struct Live {
    pub state: RwSignal<LinkState>,
    /// Bumped when lists should be reloaded: each time the socket (re)opens, on
    /// `stream.resync`, and on every polling tick.
    pub reload: RwSignal<u64>,
    handlers: StoredValue<Vec<(u64, Handler)>, LocalStorage>,
    next_handler: StoredValue<u64>,
    last_seq: StoredValue<Option<i64>>,
    /// Whether a socket is open right now (it may outlive a short network blip).
    open: StoredValue<bool>,
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

impl Live {
    /// Starts the feed for the current owner (the signed-in shell) and stops it on cleanup.
    pub fn provide(api: Api) -> Live {
        let live = Live {
            state: RwSignal::new(LinkState::Connecting),
            reload: RwSignal::new(0),
            handlers: StoredValue::new_local(Vec::new()),
            next_handler: StoredValue::new(0),
            last_seq: StoredValue::new(None),
            open: StoredValue::new(false),
        };
        provide_context(live);
        // The browser knows first when the network goes: say so at once, and retry at once
        // when it is back instead of finishing a long backoff.
        let (wake, woken) = mpsc::unbounded::<()>();
        let offline = window_event_listener(leptos::ev::offline, move |_| {
            live.state.set(LinkState::Offline);
        });
        let online = window_event_listener(leptos::ev::online, move |_| {
            if live.open.get_value() {
                live.state.set(LinkState::Live);
            }
            let _ = wake.unbounded_send(());
        });
        let (task, abort) = futures::future::abortable(live.run(api, woken));
        spawn_local(async move {
            let _ = task.await;
        });
        on_cleanup(move || {
            AbortHandle::abort(&abort);
            offline.remove();
            online.remove();
        });
        live
    }

    /// Calls `handler` for every event until the calling component is unmounted.
    pub fn subscribe(&self, handler: impl Fn(&LiveEvent) + 'static) {
        let id = self.next_handler.get_value();
        self.next_handler.set_value(id + 1);
        self.handlers
            .update_value(|h| h.push((id, Rc::new(handler))));
        let handlers = self.handlers;
        on_cleanup(move || {
            handlers
                .try_update_value(|h| h.retain(|(i, _)| *i != id))
                .unwrap_or(())
        });
    }

    /// A counter that moves whenever an audit entry about a `target_type` object (`api_token`,
    /// `user`) arrives: every change is audited, so a list of those objects is stale.
    pub fn audited(&self, target_type: &'static str) -> RwSignal<u64> {
        let changes = RwSignal::new(0u64);
        self.subscribe(move |event| {
            let about = event.data.get("target_type").and_then(|t| t.as_str());
            if event.kind == AUDIT_CREATED && about == Some(target_type) {
                changes.update(|n| *n += 1);
            }
        });
        changes
    }

    /// A page's load: runs `fetch` now and again on every [`Live::reload`] (reconnect, resync,
    /// polling tick), handing each answer to `apply`. The latest failure stays in the returned
    /// signal until a load succeeds, so a page keeps showing what it had with the error beside
    /// it. The returned function loads again: "Try again", or an event about the page's subject.
    pub fn keep_loaded<T, Fut, Fetch, Apply>(
        self,
        fetch: Fetch,
        apply: Apply,
    ) -> (RwSignal<Option<AppError>>, impl Fn() + Copy + 'static)
    where
        T: 'static,
        Fut: Future<Output = Result<T, AppError>> + 'static,
        Fetch: Fn() -> Fut + Copy + 'static,
        Apply: Fn(T) + Copy + 'static,
    {
        let error = RwSignal::new(None::<AppError>);
        let load = move || {
            spawn_local(async move {
                match fetch().await {
                    Ok(value) => {
                        apply(value);
                        // Setting notifies even when unchanged, and pages redraw their frame on
                        // the error: clear it only when there is one.
                        if error.try_with_untracked(Option::is_some) == Some(true) {
                            error.try_set(None);
                        }
                    }
                    Err(e) => {
                        error.try_set(Some(e));
                    }
                }
            });
        };
        let reload = self.reload;
        Effect::new(move |_| {
            reload.track();
            load();
        });
        (error, load)
    }

    fn dispatch(&self, event: &LiveEvent) {
        // Clone the list first: a handler may subscribe or unsubscribe while running.
        let handlers: Vec<Handler> = self
            .handlers
            .with_value(|h| h.iter().map(|(_, f)| f.clone()).collect());
        for handler in handlers {
            handler(event);
        }
    }

    fn bump_reload(&self) {
        self.reload.update(|n| *n += 1);
    }

    async fn run(self, api: Api, mut woken: mpsc::UnboundedReceiver<()>) {
        let mut never_opened = 0u32;
        let mut backoff_ms = 1_000u32;
        let mut quick_retry_spent = false;
        loop {
            if !browser_online() {
                self.state.set(LinkState::Offline);
                sleep_or_wake(30_000, &mut woken).await;
                continue;
            }
            let Some(token) = api.access_token() else {
                return;
            };
            match self.connect_once(&token).await {
                Outcome::NeverOpened => never_opened += 1,
                Outcome::Closed { code, lasted_ms } => {
                    never_opened = 0;
                    if lasted_ms > 10_000.0 {
                        backoff_ms = 1_000;
                    }
                    // A socket that was refused at once does not earn another quick retry.
                    if lasted_ms > 1_000.0 {
                        quick_retry_spent = false;
                    }
                    // Reconnect at once after an expired token (refreshed first) or after
                    // falling behind — but only once in a row, so a server that keeps refusing
                    // is not hammered.
                    let quick = match code {
                        close_code::UNAUTHORIZED => api.refresh_after(&token).await.is_ok(),
                        close_code::TOO_SLOW => true,
                        _ => false,
                    };
                    if quick && !quick_retry_spent {
                        quick_retry_spent = true;
                        continue;
                    }
                }
            }
            if never_opened >= FAILURES_BEFORE_POLLING {
                self.poll_until_next_attempt(api, &mut woken).await;
            } else {
                self.state.set(if browser_online() {
                    LinkState::Reconnecting
                } else {
                    LinkState::Offline
                });
                // Jitter spreads reconnects when a server restart drops every client at once.
                let jitter = (js_sys::Math::random() * 0.3 * backoff_ms as f64) as u32;
                sleep_or_wake(backoff_ms + jitter, &mut woken).await;
                backoff_ms = (backoff_ms * 2).min(MAX_BACKOFF_MS);
            }
        }
    }

    /// Polling mode: reload lists every few seconds while the API answers; show offline when
    /// it does not either.
    async fn poll_until_next_attempt(&self, api: Api, woken: &mut mpsc::UnboundedReceiver<()>) {
        let mut waited = 0;
        while waited < WS_RETRY_WHILE_POLLING_MS {
            let reachable = browser_online() && api.anonymous().info().await.is_ok();
            if reachable {
                self.state.set(LinkState::Polling);
                self.bump_reload();
            } else {
                self.state.set(LinkState::Offline);
            }
            if sleep_or_wake(POLL_EVERY_MS, woken).await {
                return;
            }
            waited += POLL_EVERY_MS;
        }
    }

    async fn connect_once(&self, token: &str) -> Outcome {
        let outcome = self.connect_and_read(token).await;
        self.open.set_value(false);
        outcome
    }

    async fn connect_and_read(&self, token: &str) -> Outcome {
        let Some(url) = stream_url() else {
            return Outcome::NeverOpened;
        };
        let Ok(mut ws) = WebSocket::open(&url) else {
            return Outcome::NeverOpened;
        };
        let hello = StreamHello {
            token: token.to_owned(),
            since: self.last_seq.get_value(),
            topics: Vec::new(),
        };
        let hello = serde_json::to_string(&hello).unwrap_or_default();
        // `send` waits for the socket to open, or returns once it has failed to.
        if ws.send(Message::Text(hello)).await.is_err() || !matches!(ws.state(), State::Open) {
            return Outcome::NeverOpened;
        }
        let opened_at = js_sys::Date::now();
        self.open.set_value(true);
        self.state.set(LinkState::Live);
        // Anything that happened while we were away and is not replayable shows up here.
        self.bump_reload();
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Text(text)) => self.on_text(&text),
                Ok(Message::Bytes(_)) => {}
                Err(WebSocketError::ConnectionClose(close)) => {
                    return Outcome::Closed {
                        code: close.code,
                        lasted_ms: js_sys::Date::now() - opened_at,
                    };
                }
                // An error event is always followed by the close event.
                Err(_) => {}
            }
        }
        Outcome::Closed {
            code: 1006,
            lasted_ms: js_sys::Date::now() - opened_at,
        }
    }

    fn on_text(&self, text: &str) {
        let Ok(event) = serde_json::from_str::<LiveEvent>(text) else {
            leptos::logging::warn!("live feed: ignoring a message that is not an event");
            return;
        };
        self.last_seq.set_value(Some(event.seq));
        if event.kind == stream_event::RESYNC {
            self.bump_reload();
        }
        self.dispatch(&event);
    }
}

/// Waits `ms`, or less when the browser comes back online. True when woken early.
async fn sleep_or_wake(ms: u32, woken: &mut mpsc::UnboundedReceiver<()>) -> bool {
    futures::select! {
        _ = TimeoutFuture::new(ms).fuse() => false,
        _ = woken.next() => true,
    }
}

enum Outcome {
    NeverOpened,
    Closed { code: u16, lasted_ms: f64 },
}

/// `ws://host/api/v1/stream`, or `wss://` when the page itself came over HTTPS.
fn stream_url() -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!(
        "{scheme}://{}/api/v1/stream",
        location.host().ok()?
    ))
}

fn browser_online() -> bool {
    window().navigator().on_line()
}
