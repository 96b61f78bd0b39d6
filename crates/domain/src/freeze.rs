//! Whether a deploy may start now: environment locks and freeze windows.
//!
//! Only deploys are refused. Rollbacks go ahead during a lock or freeze — getting back to a good
//! version is exactly what a freeze should not stand in the way of — so callers ask
//! [`deploy_block`] for deploys only. All times are UTC and passed in.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use flightdeck_model::{Environment, EnvironmentLock, FieldError, FreezeWindow, LockEnvironment};

pub const MAX_REASON_LEN: usize = 1000;
pub const MAX_WINDOW_NAME_LEN: usize = 100;
/// A lock lifts by itself after at most a year; longer than that is "until unlocked".
pub const MAX_LOCK_MINUTES: u32 = 525_600;

const DAY_MINUTES: u32 = 24 * 60;

/// Why deploys to an environment are refused right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Locked {
        environment: String,
        locked_by: String,
        reason: String,
        /// When the lock lifts by itself; `None`: until someone unlocks it.
        until: Option<DateTime<Utc>>,
    },
    Frozen {
        environment: String,
        /// The freeze window's name, when it has one.
        window: Option<String>,
        /// When this occurrence of the window ends.
        until: DateTime<Utc>,
    },
}

impl std::fmt::Display for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let time = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Block::Locked {
                environment,
                locked_by,
                reason,
                until,
            } => {
                write!(f, "{environment} is locked by {locked_by}")?;
                if let Some(until) = until {
                    write!(f, " until {}", time(until))?;
                }
                write!(f, ": {reason}")
            }
            Block::Frozen {
                environment,
                window,
                until,
            } => match window {
                Some(name) => write!(f, "{environment} is frozen ({name}) until {}", time(until)),
                None => write!(f, "{environment} is frozen until {}", time(until)),
            },
        }
    }
}

impl std::error::Error for Block {}

/// A lock blocks until its `expires_at`; at that instant it has lifted.
pub fn is_lock_active(lock: &EnvironmentLock, now: DateTime<Utc>) -> bool {
    lock.expires_at.is_none_or(|expires| now < expires)
}

/// Why a deploy to `env` would be refused at `now`, or `None` when it may go ahead. A lock wins
/// over freezes; among overlapping freeze windows the one ending last is reported, so the `until`
/// people see is not too early. Windows that fail [`validate_freeze_windows`] never block (they
/// cannot be stored).
pub fn deploy_block(env: &Environment, now: DateTime<Utc>) -> Option<Block> {
    if let Some(lock) = env.lock.as_ref().filter(|l| is_lock_active(l, now)) {
        return Some(Block::Locked {
            environment: env.slug.clone(),
            locked_by: lock.locked_by.clone(),
            reason: lock.reason.clone(),
            until: lock.expires_at,
        });
    }
    env.freeze_windows
        .iter()
        .filter_map(|w| window_end(w, now).map(|until| (w, until)))
        .max_by_key(|(_, until)| *until)
        .map(|(w, until)| Block::Frozen {
            environment: env.slug.clone(),
            window: match w {
                FreezeWindow::Once { name, .. } | FreezeWindow::Weekly { name, .. } => name.clone(),
            },
            until,
        })
}

/// If `window` covers `now`, when the covering occurrence ends.
fn window_end(window: &FreezeWindow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match window {
        FreezeWindow::Once {
            starts_at, ends_at, ..
        } => (*starts_at <= now && now < *ends_at).then_some(*ends_at),
        FreezeWindow::Weekly {
            weekdays, from, to, ..
        } => {
            let from = parse_hhmm(from).filter(|m| *m < DAY_MINUTES)?;
            let to = parse_hhmm(to).filter(|m| *m != from)?;
            // A window whose `to` is not after `from` runs past midnight into the next day.
            let length = if to > from {
                to - from
            } else {
                to + DAY_MINUTES - from
            };
            // Only an occurrence starting today or yesterday can cover now.
            [0, 1].into_iter().find_map(|days_back| {
                let day: NaiveDate = now.date_naive() - Duration::days(days_back);
                let weekday = day.weekday().number_from_monday() as u8;
                if !weekdays.contains(&weekday) {
                    return None;
                }
                let start = day.and_hms_opt(0, 0, 0)?.and_utc() + minutes(from);
                let end = start + minutes(length);
                (start <= now && now < end).then_some(end)
            })
        }
    }
}

fn minutes(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

/// `HH:MM` (two digits each) as minutes after midnight; `24:00` is the end of the day and only
/// makes sense as a window's `to`.
fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Checks freeze windows as given in a create or update request. Errors name the field as
/// `freeze_windows[i].field`.
pub fn validate_freeze_windows(windows: &[FreezeWindow]) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    for (i, window) in windows.iter().enumerate() {
        let mut err = |field: &str, message: &str| {
            errors.push(FieldError {
                field: format!("freeze_windows[{i}].{field}"),
                message: message.to_owned(),
            });
        };
        let name = match window {
            FreezeWindow::Once { name, .. } | FreezeWindow::Weekly { name, .. } => name,
        };
        if let Some(name) = name
            && (name.trim().is_empty()
                || name.chars().count() > MAX_WINDOW_NAME_LEN
                || name.chars().any(char::is_control))
        {
            err(
                "name",
                "must be 1 to 100 characters without control characters",
            );
        }
        match window {
            FreezeWindow::Once {
                starts_at, ends_at, ..
            } => {
                if ends_at <= starts_at {
                    err("ends_at", "must be after starts_at");
                }
            }
            FreezeWindow::Weekly {
                weekdays, from, to, ..
            } => {
                if weekdays.is_empty() {
                    err("weekdays", "must name at least one day");
                } else if weekdays.iter().any(|d| !(1..=7).contains(d)) {
                    err("weekdays", "days are 1 (Monday) to 7 (Sunday)");
                }
                let from_min = parse_hhmm(from).filter(|m| *m < DAY_MINUTES);
                if from_min.is_none() {
                    err("from", "must be a UTC time as HH:MM, 00:00 to 23:59");
                }
                match parse_hhmm(to) {
                    None => err("to", "must be a UTC time as HH:MM, 00:00 to 24:00"),
                    Some(to) if Some(to) == from_min => err(
                        "to",
                        "must differ from `from`; for a whole day use 00:00 to 24:00",
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Checks a lock request: a reason people can read, and a sensible expiry.
pub fn validate_lock(request: &LockEnvironment) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_LEN {
        errors.push(FieldError {
            field: "reason".into(),
            message: "must be 1 to 1000 characters".into(),
        });
    }
    if let Some(m) = request.expires_in_minutes
        && !(1..=MAX_LOCK_MINUTES).contains(&m)
    {
        errors.push(FieldError {
            field: "expires_in_minutes".into(),
            message: "must be between 1 and 525600 (a year)".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The lock a valid request by `by` at `now` puts on an environment.
pub fn new_lock(request: &LockEnvironment, by: &str, now: DateTime<Utc>) -> EnvironmentLock {
    EnvironmentLock {
        reason: request.reason.trim().to_owned(),
        locked_by: by.to_owned(),
        locked_at: now,
        expires_at: request.expires_in_minutes.map(|m| now + minutes(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use flightdeck_model::Id;
    use proptest::prelude::*;

    /// 2026-11-23 is a Monday.
    fn mon(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    fn env(windows: Vec<FreezeWindow>) -> Environment {
        Environment {
            id: Id::from_u128(1),
            slug: "production".into(),
            name: "Production".into(),
            rank: 30,
            protected: true,
            aliases: vec![],
            lock: None,
            freeze_windows: windows,
            created_at: mon(0, 0),
        }
    }

    fn weekly(days: &[u8], from: &str, to: &str) -> FreezeWindow {
        FreezeWindow::Weekly {
            name: Some("nights".into()),
            weekdays: days.to_vec(),
            from: from.into(),
            to: to.into(),
        }
    }

    fn once(start: DateTime<Utc>, end: DateTime<Utc>) -> FreezeWindow {
        FreezeWindow::Once {
            name: None,
            starts_at: start,
            ends_at: end,
        }
    }

    fn lock(expires_at: Option<DateTime<Utc>>) -> EnvironmentLock {
        EnvironmentLock {
            reason: "incident 4711".into(),
            locked_by: "alice".into(),
            locked_at: mon(9, 0),
            expires_at,
        }
    }

    #[test]
    fn a_locked_environment_blocks_deploys_and_says_who_and_why() {
        let mut e = env(vec![]);
        e.lock = Some(lock(Some(mon(12, 0))));
        let block = deploy_block(&e, mon(10, 0)).unwrap();
        assert_eq!(
            block.to_string(),
            "production is locked by alice until 2026-11-23 12:00 UTC: incident 4711"
        );
        e.lock = Some(lock(None));
        assert_eq!(
            deploy_block(&e, mon(10, 0)).unwrap().to_string(),
            "production is locked by alice: incident 4711"
        );
    }

    #[test]
    fn a_lock_no_longer_blocks_once_it_expires() {
        let mut e = env(vec![]);
        e.lock = Some(lock(Some(mon(12, 0))));
        assert!(deploy_block(&e, mon(11, 59)).is_some());
        assert!(deploy_block(&e, mon(12, 0)).is_none());
        assert!(!is_lock_active(e.lock.as_ref().unwrap(), mon(13, 0)));
    }

    #[test]
    fn a_one_off_freeze_blocks_from_its_start_until_just_before_its_end() {
        let e = env(vec![once(mon(10, 0), mon(11, 0))]);
        assert!(deploy_block(&e, mon(9, 59)).is_none());
        assert_eq!(
            deploy_block(&e, mon(10, 0)).unwrap().to_string(),
            "production is frozen until 2026-11-23 11:00 UTC"
        );
        assert!(deploy_block(&e, mon(11, 0)).is_none());
    }

    #[test]
    fn a_weekly_freeze_blocks_on_its_days_between_from_and_to() {
        let e = env(vec![weekly(&[1, 5], "09:00", "17:00")]);
        assert!(deploy_block(&e, mon(8, 59)).is_none());
        assert_eq!(
            deploy_block(&e, mon(9, 0)).unwrap(),
            Block::Frozen {
                environment: "production".into(),
                window: Some("nights".into()),
                until: mon(17, 0)
            }
        );
        assert!(deploy_block(&e, mon(17, 0)).is_none());
        // Tuesday is not a freeze day.
        assert!(deploy_block(&e, mon(10, 0) + Duration::days(1)).is_none());
    }

    #[test]
    fn a_window_past_midnight_belongs_to_the_day_it_starts() {
        // Friday 22:00 to Saturday 06:00 (Friday is 2026-11-27).
        let e = env(vec![weekly(&[5], "22:00", "06:00")]);
        let fri = |h, m| mon(h, m) + Duration::days(4);
        let sat = |h, m| mon(h, m) + Duration::days(5);
        assert!(deploy_block(&e, fri(21, 59)).is_none());
        assert!(deploy_block(&e, fri(23, 0)).is_some());
        let block = deploy_block(&e, sat(5, 59)).unwrap();
        assert!(matches!(block, Block::Frozen { until, .. } if until == sat(6, 0)));
        assert!(deploy_block(&e, sat(6, 0)).is_none());
        // Saturday night is not a freeze: the window starts on Fridays only.
        assert!(deploy_block(&e, sat(23, 0)).is_none());
        // Early Friday morning is the tail of Thursday's window, which does not exist.
        assert!(deploy_block(&e, fri(1, 0)).is_none());
    }

    #[test]
    fn a_sunday_night_window_runs_into_monday() {
        let e = env(vec![weekly(&[7], "20:00", "02:00")]);
        assert!(deploy_block(&e, mon(1, 0)).is_some());
        assert!(deploy_block(&e, mon(2, 0)).is_none());
    }

    #[test]
    fn a_whole_day_window_ends_at_midnight() {
        let e = env(vec![weekly(&[1], "00:00", "24:00")]);
        let block = deploy_block(&e, mon(23, 59)).unwrap();
        assert!(
            matches!(block, Block::Frozen { until, .. } if until == mon(0, 0) + Duration::days(1))
        );
        assert!(deploy_block(&e, mon(0, 0) + Duration::days(1)).is_none());
    }

    #[test]
    fn a_lock_is_reported_before_a_freeze_and_the_latest_ending_freeze_wins() {
        let mut e = env(vec![
            once(mon(9, 0), mon(10, 30)),
            weekly(&[1], "09:00", "12:00"),
        ]);
        assert!(matches!(
            deploy_block(&e, mon(10, 0)),
            Some(Block::Frozen { until, .. }) if until == mon(12, 0)
        ));
        e.lock = Some(lock(None));
        assert!(matches!(
            deploy_block(&e, mon(10, 0)),
            Some(Block::Locked { .. })
        ));
    }

    #[test]
    fn invalid_windows_are_reported_per_field() {
        let errors = validate_freeze_windows(&[
            weekly(&[1], "09:00", "17:00"),
            weekly(&[], "9:00", "25:00"),
            weekly(&[0, 8], "09:00", "09:00"),
            once(mon(10, 0), mon(10, 0)),
        ])
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "freeze_windows[1].weekdays",
                "freeze_windows[1].from",
                "freeze_windows[1].to",
                "freeze_windows[2].weekdays",
                "freeze_windows[2].to",
                "freeze_windows[3].ends_at",
            ]
        );
    }

    #[test]
    fn valid_windows_pass_validation() {
        assert!(validate_freeze_windows(&[]).is_ok());
        assert!(
            validate_freeze_windows(&[
                weekly(&[1, 2, 3, 4, 5], "22:00", "06:00"),
                weekly(&[6, 7], "00:00", "24:00"),
                once(mon(10, 0), mon(11, 0)),
            ])
            .is_ok()
        );
    }

    #[test]
    fn a_window_name_must_be_readable() {
        let w = FreezeWindow::Once {
            name: Some("  ".into()),
            starts_at: mon(1, 0),
            ends_at: mon(2, 0),
        };
        assert_eq!(
            validate_freeze_windows(&[w]).unwrap_err()[0].field,
            "freeze_windows[0].name"
        );
    }

    #[test]
    fn times_must_be_two_digit_hours_and_minutes() {
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(parse_hhmm("23:59"), Some(1439));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        for bad in ["24:01", "9:00", "09:60", "0900", "+1:00", "09:00 ", ""] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_lock_request_needs_a_reason_and_a_sane_expiry() {
        let ok = LockEnvironment {
            reason: "incident".into(),
            expires_in_minutes: Some(60),
        };
        assert!(validate_lock(&ok).is_ok());
        let bad = LockEnvironment {
            reason: " ".into(),
            expires_in_minutes: Some(0),
        };
        let fields: Vec<_> = validate_lock(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["reason", "expires_in_minutes"]);
    }

    #[test]
    fn a_new_lock_expires_the_requested_minutes_after_now() {
        let req = LockEnvironment {
            reason: " incident ".into(),
            expires_in_minutes: Some(90),
        };
        let l = new_lock(&req, "bob", mon(10, 0));
        assert_eq!(l.reason, "incident");
        assert_eq!(l.locked_by, "bob");
        assert_eq!(l.expires_at, Some(mon(11, 30)));
    }

    proptest! {
        #[test]
        fn a_one_off_window_blocks_exactly_inside_its_bounds(
            start in 0i64..10_000, len in 1i64..10_000, probe in -1000i64..21_000,
        ) {
            let t = |s: i64| mon(0, 0) + Duration::seconds(s);
            let e = env(vec![once(t(start), t(start + len))]);
            let inside = start <= probe && probe < start + len;
            prop_assert_eq!(deploy_block(&e, t(probe)).is_some(), inside);
        }

        #[test]
        fn a_weekly_window_blocks_exactly_the_minutes_of_the_week_it_covers(
            days in proptest::collection::btree_set(1u8..=7, 1..=7),
            from in 0u32..1440, to in 0u32..=1440, probe in 0i64..(14 * 1440),
        ) {
            prop_assume!(from != to);
            let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            let days: Vec<u8> = days.into_iter().collect();
            let e = env(vec![weekly(&days, &hhmm(from), &hhmm(to))]);
            // Oracle on minutes of the week, Monday 00:00 = 0.
            let week = 7 * 1440;
            let length = if to > from { to - from } else { to + 1440 - from } as i64;
            let m = probe % week;
            let inside = days.iter().any(|d| {
                let start = (i64::from(*d) - 1) * 1440 + i64::from(from);
                (m - start).rem_euclid(week) < length
            });
            let now = mon(0, 0) + Duration::minutes(probe);
            prop_assert_eq!(deploy_block(&e, now).is_some(), inside);
        }
    }
}
