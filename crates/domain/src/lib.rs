//! Flightdeck's rules, free of I/O: what a valid user, token or catalog entry looks like, who may
//! grant what, how login attempts are throttled, how a deployment's status moves, what a rollback
//! restores, when deploys are frozen, and the DORA figures. Callers pass the current time in, so
//! tests control it.

pub mod catalog;
pub mod credentials;
pub mod deployment;
pub mod dora;
pub mod freeze;
pub mod health;
pub mod ratelimit;
pub mod rollback;

pub use flightdeck_model as model;
