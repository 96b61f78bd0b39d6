//! Login throttling by fixed windows ([`flightdeck_domain::ratelimit`]). With Redis the counts
//! are shared by every replica; if Redis fails, each replica falls back to counting alone —
//! throttling gets looser, never absent.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, Utc};
use flightdeck_domain::ratelimit::{Decision, Limit, Window};

pub struct RateLimiter {
    local: Mutex<HashMap<String, Window>>,
    redis: Option<deadpool_redis::Pool>,
}

impl RateLimiter {
    pub fn new(redis: Option<deadpool_redis::Pool>) -> Self {
        RateLimiter {
            local: Mutex::new(HashMap::new()),
            redis,
        }
    }

    /// Counts one attempt for `key` under `limit`.
    pub async fn check(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> Decision {
        if let Some(pool) = &self.redis {
            match self.check_redis(pool, key, limit, now).await {
                Ok(decision) => return decision,
                Err(e) => tracing::warn!(error = %e, "redis rate limit failed; counting locally"),
            }
        }
        self.check_local(key, limit, now)
    }

    fn check_local(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> Decision {
        let mut map = self.local.lock().expect("rate limiter lock");
        // Forget windows that ended, so the map stays as small as the set of recent callers.
        if map.len() > 10_000 {
            let current = limit.window_start(now);
            map.retain(|_, w| w.start >= current);
        }
        limit.check(map.entry(key.to_owned()).or_default(), now)
    }

    async fn check_redis(
        &self,
        pool: &deadpool_redis::Pool,
        key: &str,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Decision> {
        let mut conn = pool.get().await?;
        let redis_key = format!("flightdeck:rl:{key}:{}", limit.window_start(now));
        let (count,): (u32,) = deadpool_redis::redis::pipe()
            .atomic()
            .incr(&redis_key, 1)
            .expire(&redis_key, i64::from(limit.window_secs))
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(limit.decide(count, now))
    }
}
