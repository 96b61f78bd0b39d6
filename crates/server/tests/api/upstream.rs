//! Upstream stubs for the drill-down and SLO tests, shared with the integrations crate.

pub use flightdeck_integrations::testing::upstream::*;
