//! Test support: the shared upstream stub lives in `flightdeck_integrations::testing` (the
//! server's tests use it too); the recorded fixtures are this crate's own.

pub use flightdeck_integrations::testing::upstream::*;

/// The bytes of a recorded response in `tests/fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A fixture parsed, edited and serialized again (variants of a recorded response).
pub fn edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("fixture is JSON");
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}
