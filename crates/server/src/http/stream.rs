//! `GET /api/v1/stream`: the WebSocket live feed (DESIGN.md "Live feed").
//!
//! The client's first message authenticates and says where to resume; nothing is sent before
//! it. Events then flow in `seq` order: first the replay of what the client missed, then live
//! events, with any gap (an event that reached this replica late) filled from the database.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use chrono::Utc;
use flightdeck_model::{LiveEvent, StreamHello, close_code, stream_event};
use tokio::sync::broadcast::error::RecvError;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{auth::authenticate, state::AppState};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stream);
}

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const REPLAY_BATCH: u32 = 500;
const MAX_FRAME: usize = 64 * 1024;

/// Open the live feed (WebSocket).
///
/// Send `StreamHello` (`{"token", "since", "topics"}`) first; a bad token closes with 4401, a
/// bad hello with 4400, falling behind with 4408. Then each message is a `LiveEvent`. A
/// `stream.resync` event means the requested `since` is older than the retained history.
#[utoipa::path(
    tag = "live",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request"),
    )
)]
#[get("/stream")]
async fn stream(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, messages) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(run(
        state.into_inner(),
        session,
        messages.max_frame_size(MAX_FRAME),
    ));
    Ok(response)
}

async fn run(state: Arc<AppState>, mut session: Session, mut messages: MessageStream) {
    let _client = state.hub.client_connected();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, first_text(&mut messages)).await {
        Ok(Some(text)) => serde_json::from_str::<StreamHello>(&text).ok(),
        _ => None,
    };
    let Some(hello) = hello else {
        return close(
            session,
            close_code::BAD_HELLO,
            "expected {\"token\", \"since\", \"topics\"}",
        )
        .await;
    };
    let Ok(principal) = authenticate(&state, &hello.token, Utc::now()).await else {
        return close(
            session,
            close_code::UNAUTHORIZED,
            "invalid or expired token",
        )
        .await;
    };
    tracing::debug!(user = %principal.user.username, since = ?hello.since, "live client connected");

    // Subscribe before reading the backlog, so nothing committed in between is missed.
    let mut live = state.hub.subscribe();
    let mut feed = Feed {
        state: &state,
        session: &mut session,
        topics: hello.topics,
        last: 0,
    };
    if feed.start(hello.since).await.is_err() {
        return;
    }

    let heartbeat_every = Duration::from_secs(u64::from(state.settings.live.heartbeat_secs.max(1)));
    let mut heartbeat = tokio::time::interval(heartbeat_every);
    heartbeat.tick().await;
    let mut last_pong = tokio::time::Instant::now();
    let expires_in = principal
        .expires_at
        .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
        .unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let expiry = tokio::time::sleep(expires_in);
    tokio::pin!(expiry);

    let (code, reason) = loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) => {
                    if feed.deliver(&event).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => break (close_code::TOO_SLOW, "too far behind; reconnect with since"),
                Err(RecvError::Closed) => break (1001, "server shutting down"),
            },
            message = messages.recv() => match message {
                Some(Ok(Message::Ping(bytes))) => {
                    if feed.session.pong(&bytes).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Pong(_))) => last_pong = tokio::time::Instant::now(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                if last_pong.elapsed() > heartbeat_every * 3 {
                    break (1001, "no pong; connection presumed dead");
                }
                if feed.session.ping(b"").await.is_err() {
                    return;
                }
            }
            _ = &mut expiry => break (close_code::UNAUTHORIZED, "token expired; reconnect with a fresh one"),
        }
    };
    close(session, code, reason).await;
}

struct Feed<'a> {
    state: &'a AppState,
    session: &'a mut Session,
    topics: Vec<String>,
    /// The highest seq this client has been brought up to.
    last: i64,
}

/// The socket is gone; stop.
struct Gone;

impl Feed<'_> {
    /// Positions the client: replay after `since`, or a resync when `since` is out of the
    /// retained range, or the current head when it wants live events only.
    async fn start(&mut self, since: Option<i64>) -> Result<(), Gone> {
        let bounds = match self.db_bounds().await {
            Ok(b) => b,
            Err(()) => return Err(Gone),
        };
        let head = bounds.map_or(0, |(_, max)| max);
        match (since, bounds) {
            (None, _) => self.last = head,
            (Some(s), Some((min, max))) if s < min - 1 || s > max => {
                self.last = head;
                let resync = LiveEvent {
                    seq: head,
                    kind: stream_event::RESYNC.into(),
                    at: Utc::now(),
                    data: serde_json::json!({ "reason": "the requested events are no longer retained" }),
                };
                self.send(&resync).await?;
            }
            (Some(s), _) => {
                self.last = s.max(0);
                self.catch_up(i64::MAX).await?;
            }
        }
        Ok(())
    }

    async fn db_bounds(&self) -> Result<Option<(i64, i64)>, ()> {
        let mut db = self.state.store.conn().await.map_err(|_| ())?;
        db.event_bounds().await.map_err(|_| ())
    }

    /// Sends stored events after `last`, up to `until`, in order.
    async fn catch_up(&mut self, until: i64) -> Result<(), Gone> {
        while self.last < until {
            let batch = match self.state.store.conn().await {
                Ok(mut db) => db.events_after(self.last, REPLAY_BATCH).await,
                Err(e) => Err(e),
            };
            let batch = batch.map_err(|e| {
                tracing::warn!(error = %e, "live replay failed");
                Gone
            })?;
            let Some(newest) = batch.last().map(|e| e.seq) else {
                break;
            };
            for event in &batch {
                if self.wants(event) {
                    self.send(event).await?;
                }
            }
            self.last = newest;
            if batch.len() < REPLAY_BATCH as usize {
                break;
            }
        }
        Ok(())
    }

    async fn deliver(&mut self, event: &LiveEvent) -> Result<(), Gone> {
        if event.seq <= self.last {
            return Ok(()); // already sent (several paths deliver the same event)
        }
        if event.seq > self.last + 1 {
            // Something before it has not reached this replica yet, or never will (a rolled
            // back sequence number). The database has every committed event, so ask it.
            self.catch_up(event.seq).await?;
            if event.seq <= self.last {
                return Ok(());
            }
        }
        if self.wants(event) {
            self.send(event).await?;
        }
        self.last = event.seq;
        Ok(())
    }

    fn wants(&self, event: &LiveEvent) -> bool {
        self.topics.is_empty()
            || self.topics.iter().any(|t| {
                if t.contains('.') {
                    *t == event.kind
                } else {
                    t == event.topic()
                }
            })
    }

    async fn send(&mut self, event: &LiveEvent) -> Result<(), Gone> {
        let text = serde_json::to_string(event).expect("events serialise");
        self.session.text(text).await.map_err(|_| Gone)
    }
}

async fn first_text(messages: &mut MessageStream) -> Option<String> {
    while let Some(message) = messages.recv().await {
        match message {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => continue,
            _ => return None,
        }
    }
    None
}

async fn close(session: Session, code: u16, reason: &str) {
    let reason = CloseReason {
        code: CloseCode::Other(code),
        description: Some(reason.into()),
    };
    let _ = session.close(Some(reason)).await;
}
