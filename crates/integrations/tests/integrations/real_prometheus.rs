//! The real-Prometheus harness is shared with the server's tests.

pub use flightdeck_integrations::testing::prometheus::*;
