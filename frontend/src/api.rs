//! The one door to the REST API. It owns the session (access + refresh token), retries a call
//! once after a silent refresh when the access token was refused, shares one refresh between
//! concurrent callers, and refreshes ahead of expiry. Pages never touch tokens.

use std::future::Future;

use flightdeck_client::{Client, ClientError};
use flightdeck_model::{Me, TokenResponse};
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::toast::{Toasts, use_toasts};
use crate::storage::{self, StoredSession};

/// Refresh this long before the access token expires, so calls never race its expiry.
const REFRESH_AHEAD_MS: f64 = 60_000.0;
/// However short the token's life, no tighter refresh loop than this.
const MIN_REFRESH_WAIT_MS: f64 = 1_000.0;

pub use crate::error::AppError;

pub type ApiResult<T> = Result<T, AppError>;

/// Who is using the app right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// A stored session is being checked (page just loaded).
    Restoring,
    SignedOut,
    SignedIn(Me),
}

type RefreshFuture = Shared<LocalBoxFuture<'static, ApiResult<()>>>;

struct Inner {
    /// Bound to this page's origin, without a token.
    client: Client,
    session: Option<StoredSession>,
    /// The refresh in flight, shared by every caller that hit a 401 meanwhile.
    refreshing: Option<RefreshFuture>,
    /// Bumped whenever a new session arrives, so stale proactive-refresh timers do nothing.
    generation: u64,
}

/// Cheap to copy; provided as context at the root.
#[derive(Clone, Copy)]
pub struct Api {
    pub auth: RwSignal<Auth>,
    inner: StoredValue<Inner, LocalStorage>,
    toasts: Toasts,
}

pub fn use_api() -> Api {
    expect_context::<Api>()
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Api {
    /// Creates the API for this page's origin and, when a session was stored, restores it.
    /// Needs [`Toasts`] provided first (a session that ends by itself says so).
    pub fn provide() -> Api {
        let origin = window()
            .location()
            .origin()
            .unwrap_or_else(|_| "http://localhost".into());
        let client = Client::new(&origin).expect("the page origin is a valid URL");
        let stored = storage::load_session();
        let auth = if stored.is_some() {
            Auth::Restoring
        } else {
            Auth::SignedOut
        };
        let api = Api {
            auth: RwSignal::new(auth),
            inner: StoredValue::new_local(Inner {
                client,
                session: stored.clone(),
                refreshing: None,
                generation: 0,
            }),
            toasts: use_toasts(),
        };
        provide_context(api);
        api.follow_other_tabs();
        if stored.is_some() {
            spawn_local(async move { api.restore().await });
        }
        api
    }

    /// A client without credentials, for the public endpoints (`/api/v1/info`).
    pub fn anonymous(&self) -> Client {
        self.inner.with_value(|i| i.client.clone())
    }

    pub fn access_token(&self) -> Option<String> {
        self.inner
            .try_with_value(|i| i.session.as_ref().map(|s| s.access_token.clone()))
            .flatten()
    }

    pub fn me(&self) -> Option<Me> {
        match self.auth.get_untracked() {
            Auth::SignedIn(me) => Some(me),
            _ => None,
        }
    }

    /// Runs `call` with an authenticated client; on 401 refreshes the session once and retries.
    pub async fn call<T, F, Fut>(&self, call: F) -> ApiResult<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let (client, token) = self.authed().ok_or_else(AppError::signed_out)?;
        match call(client).await {
            Err(err) if err.status() == Some(401) => {
                self.refresh_after(&token).await?;
                let (client, _) = self.authed().ok_or_else(AppError::signed_out)?;
                Ok(call(client).await?)
            }
            other => Ok(other?),
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> ApiResult<()> {
        let mut client = self.anonymous();
        let tokens = client.login(username, password).await?;
        let me = client.me().await?;
        self.adopt(&tokens);
        self.auth.set(Auth::SignedIn(me));
        Ok(())
    }

    /// Ends the session on the server, then forgets it here. Sent without the refresh token:
    /// the server ends the access token's own session, which stays right even when the call
    /// had to refresh (and so rotate the refresh token) first.
    pub async fn logout(&self) {
        // Best effort: signed out locally regardless; a failure leaves a session to expire.
        let _ = self.call(|c| async move { c.logout(None).await }).await;
        self.forget();
    }

    /// Makes sure the access token that was just refused (`stale`) is replaced. Concurrent
    /// callers share one refresh; a caller whose token was already replaced returns at once.
    pub async fn refresh_after(&self, stale: &str) -> ApiResult<()> {
        let shared = self.inner.try_update_value(|i| {
            match &i.session {
                None => return Err(AppError::signed_out()),
                Some(s) if s.access_token != stale => return Ok(None),
                Some(_) => {}
            }
            let fut = i
                .refreshing
                .get_or_insert_with(|| self.refresh_future())
                .clone();
            Ok(Some(fut))
        });
        match shared {
            None => Err(AppError::signed_out()),
            Some(Err(e)) => Err(e),
            Some(Ok(None)) => Ok(()),
            Some(Ok(Some(fut))) => fut.await,
        }
    }

    fn refresh_future(&self) -> RefreshFuture {
        let api = *self;
        async move {
            let result = api.refresh_now().await;
            api.inner.try_update_value(|i| i.refreshing = None);
            result
        }
        .boxed_local()
        .shared()
    }

    async fn refresh_now(&self) -> ApiResult<()> {
        let mine = self
            .inner
            .with_value(|i| i.session.clone())
            .ok_or_else(AppError::signed_out)?;
        // Another tab may have rotated the pair already: spending our old refresh token now
        // would count as reuse and end the session everywhere.
        if let Some(theirs) = storage::load_session()
            && theirs.refresh_token != mine.refresh_token
        {
            if theirs.expires_at_ms - now_ms() > REFRESH_AHEAD_MS {
                self.set_session(theirs);
                return Ok(());
            }
            return self.spend(&theirs.refresh_token).await;
        }
        self.spend(&mine.refresh_token).await
    }

    async fn spend(&self, refresh_token: &str) -> ApiResult<()> {
        let mut client = self.anonymous();
        match client.refresh(refresh_token).await {
            Ok(tokens) => {
                self.adopt(&tokens);
                Ok(())
            }
            Err(err) if matches!(err.status(), Some(400 | 401 | 403)) => {
                // Another tab refreshed with the same token a moment earlier: it stored the new
                // pair, which is ours to use (the server refuses the second use but keeps the
                // session).
                if let Some(theirs) = storage::load_session()
                    && theirs.refresh_token != refresh_token
                {
                    self.set_session(theirs);
                    return Ok(());
                }
                // The session is over (expired, revoked, or the user was disabled).
                let message = "Your session has ended. Please sign in again.";
                self.forget();
                self.toasts.error(message);
                Err(AppError {
                    status: Some(401),
                    message: message.into(),
                    request_id: None,
                    fields: Vec::new(),
                })
            }
            // Network trouble: keep the session and let the next call try again.
            Err(err) => Err(err.into()),
        }
    }

    async fn restore(&self) {
        match self.restore_session().await {
            Ok(me) => self.auth.set(Auth::SignedIn(me)),
            // The server is unreachable, not the session invalid: keep it stored, so a reload
            // once the server is back still finds it.
            Err(err) if err.status.is_none() => {
                self.forget_here();
                self.toasts.error(err.message);
            }
            Err(_) => self.forget(),
        }
    }

    async fn restore_session(&self) -> ApiResult<Me> {
        let session = self
            .inner
            .with_value(|i| i.session.clone())
            .ok_or_else(AppError::signed_out)?;
        if session.expires_at_ms - now_ms() < REFRESH_AHEAD_MS {
            self.refresh_after(&session.access_token).await?;
        } else {
            self.schedule_refresh(session.expires_at_ms);
        }
        self.call(|c| async move { c.me().await }).await
    }

    fn adopt(&self, tokens: &TokenResponse) {
        let session = StoredSession {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
            expires_at_ms: now_ms() + tokens.expires_in as f64 * 1000.0,
        };
        storage::save_session(Some(&session));
        self.set_session(session);
    }

    fn set_session(&self, session: StoredSession) {
        let expires_at = session.expires_at_ms;
        self.inner.update_value(|i| {
            i.session = Some(session);
            i.generation += 1;
        });
        self.schedule_refresh(expires_at);
    }

    fn forget(&self) {
        storage::save_session(None);
        self.forget_here();
    }

    /// Signs this tab out without touching storage.
    fn forget_here(&self) {
        self.inner.try_update_value(|i| {
            i.session = None;
            i.generation += 1;
        });
        self.auth.try_set(Auth::SignedOut);
    }

    fn authed(&self) -> Option<(Client, String)> {
        self.inner
            .try_with_value(|i| {
                let token = i.session.as_ref()?.access_token.clone();
                Some((i.client.with_token(token.clone()), token))
            })
            .flatten()
    }

    /// Refreshes about a minute before expiry (with jitter, so tabs opened together do not
    /// refresh in the same instant). A token that lives less than two minutes is refreshed
    /// about halfway through what is left: waiting for "a minute before" would mean using it until
    /// the server's leeway runs out, and a stalled second there turns into a refused call.
    fn schedule_refresh(&self, expires_at_ms: f64) {
        let remaining = expires_at_ms - now_ms();
        let wait = if remaining > 2.0 * REFRESH_AHEAD_MS {
            remaining - REFRESH_AHEAD_MS - js_sys::Math::random() * 10_000.0
        } else {
            remaining * (0.4 + js_sys::Math::random() * 0.1)
        };
        self.schedule_refresh_in(wait.max(MIN_REFRESH_WAIT_MS));
    }

    fn schedule_refresh_in(&self, wait_ms: f64) {
        let api = *self;
        let generation = self.inner.with_value(|i| i.generation);
        spawn_local(async move {
            TimeoutFuture::new(wait_ms.min(u32::MAX as f64) as u32).await;
            let current = api
                .inner
                .try_with_value(|i| (i.generation, i.session.clone()));
            if let Some((g, Some(session))) = current
                && g == generation
                && let Err(err) = api.refresh_after(&session.access_token).await
                && err.status != Some(401)
            {
                // Offline for now: try again shortly rather than at the next 401.
                api.schedule_refresh_in(5_000.0 + js_sys::Math::random() * 10_000.0);
            }
        });
    }

    /// Keeps tabs in step: a logout elsewhere signs this tab out, a refresh elsewhere hands
    /// this tab the new pair.
    fn follow_other_tabs(&self) {
        let api = *self;
        let handle = window_event_listener(leptos::ev::storage, move |ev| {
            if ev.key().as_deref() != Some(storage::SESSION_KEY) {
                return;
            }
            match ev.new_value().as_deref().and_then(storage::parse_session) {
                None => {
                    if matches!(api.auth.get_untracked(), Auth::SignedIn(_)) {
                        api.forget();
                    }
                }
                Some(session) => {
                    if api.access_token().is_some() {
                        api.set_session(session);
                    }
                }
            }
        });
        // Lives as long as the page.
        std::mem::forget(handle);
    }
}
