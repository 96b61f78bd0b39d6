//! Fixed-window attempt counting, the rule behind login throttling. The in-process limiter and
//! the Redis one (INCR + EXPIRE on the same window key) both follow it.

use chrono::{DateTime, Utc};

/// At most `max` attempts per key in each window of `window_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u32,
}

/// Per-key state: which window it counts, and how many attempts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused; try again after this many seconds.
    Limited {
        retry_after_secs: u32,
    },
}

impl Limit {
    /// The start of the window `now` falls in (also the Redis key suffix).
    pub fn window_start(&self, now: DateTime<Utc>) -> i64 {
        let w = i64::from(self.window_secs.max(1));
        now.timestamp().div_euclid(w) * w
    }

    /// Counts one attempt against `state` and says whether it may go ahead.
    pub fn check(&self, state: &mut Window, now: DateTime<Utc>) -> Decision {
        let start = self.window_start(now);
        if state.start != start {
            *state = Window { start, count: 0 };
        }
        state.count = state.count.saturating_add(1);
        self.decide(state.count, now)
    }

    /// The decision for the `count`-th attempt in the current window.
    pub fn decide(&self, count: u32, now: DateTime<Utc>) -> Decision {
        if count <= self.max {
            Decision::Allowed
        } else {
            let end = self.window_start(now) + i64::from(self.window_secs);
            let retry = (end - now.timestamp()).clamp(1, i64::from(self.window_secs));
            Decision::Limited {
                retry_after_secs: retry as u32,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn the_attempt_after_the_maximum_is_limited_until_the_window_ends() {
        let limit = Limit {
            max: 3,
            window_secs: 60,
        };
        let mut w = Window::default();
        for _ in 0..3 {
            assert_eq!(limit.check(&mut w, at(120)), Decision::Allowed);
        }
        assert_eq!(
            limit.check(&mut w, at(130)),
            Decision::Limited {
                retry_after_secs: 50
            }
        );
        assert_eq!(
            limit.check(&mut w, at(180)),
            Decision::Allowed,
            "a new window starts afresh"
        );
    }

    proptest! {
        #[test]
        fn never_more_than_max_allowed_in_one_window(max in 1u32..20, times in proptest::collection::vec(0i64..600, 1..200)) {
            let limit = Limit { max, window_secs: 60 };
            let mut sorted = times.clone();
            sorted.sort();
            let mut w = Window::default();
            let mut allowed = std::collections::HashMap::<i64, u32>::new();
            for t in sorted {
                if limit.check(&mut w, at(t)) == Decision::Allowed {
                    *allowed.entry(limit.window_start(at(t))).or_default() += 1;
                }
            }
            prop_assert!(allowed.values().all(|&n| n <= max));
        }
    }
}
