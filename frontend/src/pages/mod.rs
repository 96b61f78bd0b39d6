//! One module per screen.

pub mod alert;
pub mod alerts;
pub mod audit;
pub mod deployments;
pub mod health;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod settings;
