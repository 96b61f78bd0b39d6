//! API tests: the real server on port 0, each test with its own database, on SQLite and
//! PostgreSQL. One test binary for the crate (each extra binary costs a link on two cores).

mod alert_webhooks;
mod alerts;
mod audit;
mod auth;
mod catalog_file;
mod components;
mod deployments;
mod drilldown;
mod escalation;
mod helpers;
mod idempotency;
mod live;
mod notifications;
mod openapi;
mod problems;
mod rbac;
mod real_prometheus;
mod restart;
mod slos;
mod system;
mod tokens;
mod upstream;
mod users;
mod webhooks;
