//! The real-Prometheus harness, shared with the integrations crate.

pub use flightdeck_integrations::testing::prometheus::*;
