//! The one integration-test binary of flightdeck-integrations (each extra binary costs link
//! time). Prometheus tests run a real Prometheus; log-store tests replay recorded responses from
//! `tests/fixtures/` (where each comes from is said at the top of the module that uses it) on a
//! local server that also checks what the adapter sent.

mod loki;
mod opensearch;
mod prometheus;
mod prometheus_envelope;
mod real_prometheus;
mod support;
