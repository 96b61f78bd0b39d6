//! Flightdeck's server: the actix-web API, authentication, live feed and background work.
//! `main.rs` is a thin CLI over [`startup::Application`].

pub mod auth;
pub mod bootstrap;
pub mod catalog_health;
pub mod deploy;
pub mod http;
pub mod live;
pub mod metrics;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod workers;

pub use settings::Settings;
pub use startup::Application;
