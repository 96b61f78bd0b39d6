//! Human-readable times. Everything on the wire is UTC; people read their local time.

use chrono::{DateTime, Local, Utc};
use flightdeck_model::Timestamp;

/// `2026-11-25 14:03:07` in the browser's time zone.
pub fn local_time(at: &Timestamp) -> String {
    at.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `2026-11-25` in the browser's time zone.
pub fn local_date(at: &Timestamp) -> String {
    at.with_timezone(&Local).format("%Y-%m-%d").to_string()
}

/// "3 min ago", "in 5 d" — short enough for a dense table cell.
pub fn relative(at: &Timestamp) -> String {
    relative_to(at, Utc::now())
}

pub fn relative_to(at: &Timestamp, now: DateTime<Utc>) -> String {
    let secs = (now - *at).num_seconds();
    let (future, secs) = if secs < 0 {
        (true, -secs)
    } else {
        (false, secs)
    };
    let amount = match secs {
        0..=44 => return "just now".into(),
        45..=3_599 => format!("{} min", (secs + 30) / 60),
        3_600..=86_399 => format!("{} h", (secs + 1_800) / 3_600),
        _ => format!("{} d", (secs + 43_200) / 86_400),
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// Parses the value of an `<input type="datetime-local">` (local time) into UTC.
pub fn parse_local_input(value: &str) -> Option<Timestamp> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    naive
        .and_local_timezone(Local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}
