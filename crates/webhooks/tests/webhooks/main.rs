//! The one integration-test binary of flightdeck-webhooks (each extra binary costs link time).
//! Fixtures live in `tests/fixtures/`; where each one comes from is said at the top of the module
//! that uses it.

mod argocd;
mod docs;
mod generic;
mod github;
mod gitlab;
mod support;
