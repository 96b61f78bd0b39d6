//! Human-readable times. Everything on the wire is UTC; people read their local time.

use chrono::{DateTime, Local, Timelike, Utc};
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

/// The value an `<input type="datetime-local">` shows for `at`, in local time (to the minute,
/// with seconds only when there are any); the inverse of [`parse_local_input`].
pub fn local_input(at: &Timestamp) -> String {
    let local = at.with_timezone(&Local);
    let format = if local.second() == 0 {
        "%Y-%m-%dT%H:%M"
    } else {
        "%Y-%m-%dT%H:%M:%S"
    };
    local.format(format).to_string()
}

/// How far apart two moments are, for "… before it started" and "started … after":
/// "moments" under a minute, else whole minutes ("12 min").
pub fn minutes_apart(earlier: &Timestamp, later: &Timestamp) -> String {
    match (*later - *earlier).num_minutes() {
        m if m < 1 => "moments".to_owned(),
        m => format!("{m} min"),
    }
}

/// The current time, moving every 15 s while the calling component lives, so "3 min ago"
/// stays true on a screen left open.
pub fn ticking_now() -> leptos::prelude::RwSignal<DateTime<Utc>> {
    use leptos::prelude::*;
    let now = RwSignal::new(Utc::now());
    if let Ok(handle) = set_interval_with_handle(
        move || {
            now.try_set(Utc::now());
        },
        std::time::Duration::from_secs(15),
    ) {
        on_cleanup(move || handle.clear());
    }
    now
}

/// "42 s", "3 min 5 s", "2 h 10 min": how long something took.
pub fn duration_secs(secs: f64) -> String {
    let secs = secs.max(0.0).round() as i64;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3_599 => format!("{} min {} s", secs / 60, secs % 60),
        3_600..=86_399 => format!("{} h {} min", secs / 3_600, (secs % 3_600) / 60),
        _ => format!("{} d {} h", secs / 86_400, (secs % 86_400) / 3_600),
    }
}
