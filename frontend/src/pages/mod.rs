//! One module per screen.

pub mod audit;
pub mod login;
pub mod not_found;
pub mod placeholders;
pub mod settings;
