use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use flightdeck_model::LiveEvent;
use flightdeck_store::Store;
use futures_util::StreamExt;
use tokio::sync::broadcast;

const CHANNEL: &str = "flightdeck:events";

/// Fans committed events out to this replica's WebSocket clients.
///
/// Events reach the hub three ways, and clients drop duplicates by `seq`: directly from the
/// replica that committed them; from other replicas over Redis pub/sub (fast path); and from a
/// periodic read of the events table (safety net when Redis is down or a message was lost).
/// A client that sees a gap in `seq` fills it from the database, so ordering across replicas
/// never loses an event.
pub struct Hub {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    redis: Option<deadpool_redis::Pool>,
    /// The highest seq delivered locally; the database poll starts after it.
    high_water: AtomicI64,
    clients: AtomicI64,
}

impl Hub {
    pub fn new(capacity: usize, redis: Option<deadpool_redis::Pool>) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Hub {
            tx,
            redis,
            high_water: AtomicI64::new(0),
            clients: AtomicI64::new(0),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// Sends events that were just committed to local clients and to the other replicas.
    pub fn publish(&self, events: Vec<LiveEvent>) {
        for event in events {
            if let Some(pool) = &self.redis {
                let pool = pool.clone();
                let payload = serde_json::to_string(&event).expect("events serialise");
                tokio::spawn(async move {
                    if let Err(e) = redis_publish(&pool, &payload).await {
                        // Other replicas still get it from their database poll.
                        tracing::warn!(error = %e, "redis publish failed");
                    }
                });
            }
            self.deliver(Arc::new(event));
        }
    }

    fn deliver(&self, event: Arc<LiveEvent>) {
        self.high_water.fetch_max(event.seq, Ordering::SeqCst);
        // No receivers is not an error: nobody is watching.
        let _ = self.tx.send(event);
    }

    pub fn client_connected(&self) -> ClientGuard<'_> {
        self.clients.fetch_add(1, Ordering::Relaxed);
        ClientGuard(self)
    }

    pub fn client_count(&self) -> i64 {
        self.clients.load(Ordering::Relaxed)
    }

    /// Starts the Redis subscriber, the database poll and retention pruning.
    pub async fn start(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        redis_url: Option<String>,
        poll: Duration,
        retention: Duration,
    ) -> anyhow::Result<()> {
        let newest = store
            .conn()
            .await?
            .event_bounds()
            .await?
            .map_or(0, |(_, max)| max);
        self.high_water.fetch_max(newest, Ordering::SeqCst);
        if let Some(url) = redis_url {
            tokio::spawn(Arc::clone(self).redis_subscriber(url));
        }
        tokio::spawn(Arc::clone(self).poll_database(Arc::clone(&store), poll));
        tokio::spawn(prune_events(store, retention));
        Ok(())
    }

    async fn redis_subscriber(self: Arc<Self>, url: String) {
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.subscribe_once(&url).await {
                Ok(()) => tracing::warn!("redis subscription ended; resubscribing"),
                Err(e) => tracing::warn!(error = %e, "redis subscription failed; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn subscribe_once(&self, url: &str) -> anyhow::Result<()> {
        let client = deadpool_redis::redis::Client::open(url)?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL).await?;
        tracing::info!("subscribed to live events on redis");
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let payload: String = msg.get_payload()?;
            match serde_json::from_str::<LiveEvent>(&payload) {
                Ok(event) => self.deliver(Arc::new(event)),
                Err(e) => tracing::warn!(error = %e, "ignoring malformed live event from redis"),
            }
        }
        Ok(())
    }

    async fn poll_database(self: Arc<Self>, store: Arc<dyn Store>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let after = self.high_water.load(Ordering::SeqCst);
            let events = match store.conn().await {
                Ok(mut db) => db.events_after(after, 500).await,
                Err(e) => Err(e),
            };
            match events {
                Ok(events) => {
                    for event in events {
                        self.deliver(Arc::new(event));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live event poll failed"),
            }
        }
    }
}

pub struct ClientGuard<'a>(&'a Hub);

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn redis_publish(pool: &deadpool_redis::Pool, payload: &str) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let _: i64 = deadpool_redis::redis::cmd("PUBLISH")
        .arg(CHANNEL)
        .arg(payload)
        .query_async(&mut conn)
        .await?;
    Ok(())
}

async fn prune_events(store: Arc<dyn Store>, retention: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let cutoff = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
        let result = match store.conn().await {
            Ok(mut db) => db.prune_events(cutoff).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "pruned old live events"),
            Err(e) => tracing::warn!(error = %e, "pruning live events failed"),
        }
    }
}
