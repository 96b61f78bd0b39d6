//! The HTTP adapters Flightdeck reads health from, kept apart from the server so they can be
//! tested against the real thing (a Prometheus started by the tests) or its recorded answers
//! (OpenSearch, Elasticsearch, Loki).
//!
//! - [`prometheus`]: instant and range queries, the response envelope with `NaN`/`±Inf` samples,
//!   typed errors, and [`prometheus::SloEvaluator`], which runs an SLO's queries and hands the
//!   numbers to the domain's SLO and burn-rate math.
//! - [`logs`]: one [`logs::LogSource`] over OpenSearch/Elasticsearch `_search` and Loki
//!   `query_range`, answering pages of [`logs::LogEntry`] with an opaque cursor.
//!
//! - [`notify`]: Slack, webhook and SMTP senders with a retry policy, and the planner that turns a
//!   live event into deliveries (silences and maintenance windows suppress).
//!
//! Nothing here reads the clock: the caller says which instant or range it wants.

pub mod auth;
pub mod logs;
pub mod notify;
pub mod prometheus;
pub mod testing;

pub use auth::Auth;
