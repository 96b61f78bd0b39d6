//! Flightdeck's wire types: every request and response body of `/api/v1`, the problem+json error
//! body and the live-event envelope. serde only, so the SPA compiles the same definitions to wasm32;
//! OpenAPI schema derives sit behind the `openapi` feature.

mod audit;
mod auth;
mod deploy;
mod health;
mod live;
mod notify;
mod page;
mod problem;
mod role;
mod system;

pub use audit::*;
pub use auth::*;
pub use deploy::*;
pub use health::*;
pub use live::*;
pub use notify::*;
pub use page::*;
pub use problem::*;
pub use role::*;
pub use system::*;

/// Identifiers are UUIDv7: time-ordered, so they double as a stable sort key for cursors.
pub type Id = uuid::Uuid;
/// All timestamps on the wire are RFC 3339 in UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
