//! Leases that keep a background job on one replica at a time: with Redis, the replica holding
//! the job's key (`SET NX PX ttl`, renewed by its holder each round) works; without Redis each
//! process works by itself (the embedded mode has one).

use std::time::Duration;

use crate::state::AppState;

/// Takes the lease, or renews it when this replica holds it; 1 when held afterwards.
const LEASE_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 \
     elseif redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 \
     else return 0 end";

/// Takes `key` for `replica` for `ttl` when it is free, or renews it when `replica` holds it;
/// whether `replica` holds it afterwards.
pub async fn try_lease(
    pool: &deadpool_redis::Pool,
    key: &str,
    replica: &str,
    ttl: Duration,
) -> anyhow::Result<bool> {
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut conn = pool.get().await?;
    let held: i64 = deadpool_redis::redis::cmd("EVAL")
        .arg(LEASE_SCRIPT)
        .arg(1)
        .arg(key)
        .arg(replica)
        .arg(ttl_ms)
        .query_async(&mut conn)
        .await?;
    Ok(held == 1)
}

/// Whether this replica should do the job's round now. When Redis cannot be reached the round
/// runs anyway: every job here is safe to run twice (rows are unique, changes re-checked under
/// a lock), while a skipped round would leave work undone.
pub async fn held(state: &AppState, key: &str, replica: &str, ttl: Duration) -> bool {
    let Some(pool) = &state.redis else {
        return true;
    };
    match try_lease(pool, key, replica, ttl).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, lease = key, "Redis unreachable for a worker lease; working anyway");
            true
        }
    }
}
