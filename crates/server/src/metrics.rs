//! `/metrics` in the Prometheus text format.

use std::time::Duration;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The webhook inbox as the database reports it.
pub struct InboxBacklog {
    /// Deliveries stored and not yet applied.
    pub depth: i64,
    /// How long the oldest of them has waited; zero when none waits.
    pub oldest_wait: Duration,
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    ws_clients: IntGauge,
    inbox_depth: IntGauge,
    inbox_oldest: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("flightdeck".into()), None).expect("registry");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            &["method", "route"],
        )
        .expect("metric");
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )
        .expect("metric");
        let ws_clients =
            IntGauge::new("websocket_clients", "Connected live-feed clients").expect("metric");
        let inbox_depth = IntGauge::new(
            "inbox_depth",
            "Webhook deliveries stored and not yet applied",
        )
        .expect("metric");
        // What to alert on when workers fall behind or stop: depth alone cannot tell a burst
        // being worked off from a queue nobody drains.
        let inbox_oldest = Gauge::new(
            "inbox_oldest_pending_seconds",
            "How long the oldest webhook delivery not yet applied has waited (0 when none)",
        )
        .expect("metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(ws_clients.clone()),
            Box::new(inbox_depth.clone()),
            Box::new(inbox_oldest.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool,
            ws_clients,
            inbox_depth,
            inbox_oldest,
        }
    }

    /// `route` is the matched pattern (`/api/v1/users/{id}`), never the raw path, so ids do not
    /// explode the label set.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// `inbox` is `None` when the database could not say (the gauges keep their last values).
    pub fn render(
        &self,
        pool: flightdeck_store::PoolStats,
        ws_clients: i64,
        inbox: Option<InboxBacklog>,
    ) -> String {
        if let Some(inbox) = inbox {
            self.inbox_depth.set(inbox.depth);
            self.inbox_oldest.set(inbox.oldest_wait.as_secs_f64());
        }
        self.pool
            .with_label_values(&["idle"])
            .set(i64::from(pool.idle));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(pool.size.saturating_sub(pool.idle)));
        self.ws_clients.set(ws_clients);
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}
