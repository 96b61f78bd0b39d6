//! One module per screen.

pub mod audit;
pub mod deployments;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod placeholders;
pub mod settings;
