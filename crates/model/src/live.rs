use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

/// One live event as sent on `GET /api/v1/stream`. `seq` increases across the whole installation;
/// reconnect with the last one seen to be replayed what was missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveEvent {
    pub seq: i64,
    /// `<topic>.<event>`, e.g. `audit.created`, `deployment.updated`.
    #[serde(rename = "type")]
    pub kind: String,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

impl LiveEvent {
    /// The part of `type` before the first dot, which `topics` filters on.
    pub fn topic(&self) -> &str {
        self.kind.split('.').next().unwrap_or(&self.kind)
    }
}

/// The first message a client sends after the WebSocket opens. Nothing is sent before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamHello {
    /// An access token or API token.
    pub token: String,
    /// The last `seq` this client saw; events after it are replayed first. `null`: live only.
    #[serde(default)]
    pub since: Option<i64>,
    /// Topics (`audit`, `deployment`…) or exact types (`audit.created`); empty: everything.
    #[serde(default)]
    pub topics: Vec<String>,
}

/// Event types the server emits on the stream besides domain events.
pub mod stream_event {
    /// Sent instead of a replay when `since` is older than the retained history: the client
    /// should reload its state, then carry on from this message's `seq`.
    pub const RESYNC: &str = "stream.resync";
}

/// WebSocket close codes the stream uses.
pub mod close_code {
    /// Missing, invalid or expired token in the first message (or none within the deadline).
    pub const UNAUTHORIZED: u16 = 4401;
    /// The first message was not a valid hello.
    pub const BAD_HELLO: u16 = 4400;
    /// The client read too slowly and fell too far behind.
    pub const TOO_SLOW: u16 = 4408;
}
