//! Flightdeck's rules, free of I/O: what a valid user or token looks like, who may grant what,
//! and how login attempts are throttled. Callers pass the current time in, so tests control it.

pub mod credentials;
pub mod ratelimit;

pub use flightdeck_model as model;
