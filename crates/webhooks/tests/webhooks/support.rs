use chrono::{DateTime, TimeZone, Utc};
use flightdeck_webhooks::{DeployReport, Inbound, InboundEvent};

/// The exact bytes of a fixture, as a sender would put them on the wire.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A fixture parsed, edited, and serialized again (for variants of a documented payload).
pub fn edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("fixture is JSON");
    edit(&mut v);
    serde_json::to_vec_pretty(&v).expect("serializable")
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[track_caller]
pub fn deploy(inbound: &Inbound) -> &DeployReport {
    match &inbound.event {
        InboundEvent::Deploy(report) => report,
        other => panic!("expected a deploy report, got {other:?}"),
    }
}

#[track_caller]
pub fn ignored_reason(inbound: &Inbound) -> &str {
    match &inbound.event {
        InboundEvent::Ignored { reason } => reason,
        other => panic!("expected Ignored, got {other:?}"),
    }
}
