//! A real Prometheus (Debian's `/usr/bin/prometheus`) started per test on a free port, with its
//! own config and TSDB in a temporary directory, scraping an exporter the test serves itself
//! once a second. The test controls the exporter's request and error rates.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Auth, prometheus::Prometheus};
use tokio::process::{Child, Command};

use super::upstream::{Reply, TestServer, eventually};

const DEFAULT_BINARY: &str = "/usr/bin/prometheus";

/// Counters that grow at rates the test sets, advanced whenever Prometheus scrapes.
struct Counters {
    ok: f64,
    errors: f64,
    ok_per_sec: f64,
    errors_per_sec: f64,
    last: Instant,
}

impl Counters {
    fn advance(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.ok += self.ok_per_sec * dt;
        self.errors += self.errors_per_sec * dt;
        self.last = now;
    }
}

/// The test's exporter: `http_requests_total{code="200"}` and `{code="500"}`.
pub struct Exporter {
    counters: Arc<Mutex<Counters>>,
    server: TestServer,
}

impl Exporter {
    /// Counters start high so that `rate()`'s extrapolation never clips at a counter's zero,
    /// which would skew the two series differently.
    async fn start(ok_per_sec: f64, errors_per_sec: f64) -> Exporter {
        let counters = Arc::new(Mutex::new(Counters {
            ok: 1_000_000.0,
            errors: 10_000.0,
            ok_per_sec,
            errors_per_sec,
            last: Instant::now(),
        }));
        let state = counters.clone();
        let server = TestServer::start(move |_| {
            let mut c = state.lock().unwrap();
            c.advance();
            Reply {
                status: 200,
                content_type: "text/plain; version=0.0.4",
                body: format!(
                    "# HELP http_requests_total Requests served.\n\
                     # TYPE http_requests_total counter\n\
                     http_requests_total{{code=\"200\"}} {}\n\
                     http_requests_total{{code=\"500\"}} {}\n",
                    c.ok, c.errors
                )
                .into_bytes(),
                headers: Vec::new(),
            }
        })
        .await;
        Exporter { counters, server }
    }

    /// From now on, requests and errors grow at these rates.
    pub fn set_rates(&self, ok_per_sec: f64, errors_per_sec: f64) {
        let mut c = self.counters.lock().unwrap();
        c.advance();
        c.ok_per_sec = ok_per_sec;
        c.errors_per_sec = errors_per_sec;
    }
}

/// A running Prometheus; killed and its directory removed when dropped.
pub struct RealPrometheus {
    pub url: String,
    pub exporter: Exporter,
    dir: PathBuf,
    child: Child,
}

impl Drop for RealPrometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RealPrometheus {
    /// Starts the exporter at the given rates and a Prometheus scraping it, and waits until
    /// Prometheus answers queries. Fails the test — never skips — when Prometheus is missing.
    pub async fn start(ok_per_sec: f64, errors_per_sec: f64) -> RealPrometheus {
        let binary = std::env::var("PROMETHEUS_BIN").unwrap_or_else(|_| DEFAULT_BINARY.into());
        assert!(
            Path::new(&binary).is_file(),
            "these tests need a real Prometheus, and {binary} does not exist: install Debian's \
             `prometheus` package (apt-get install prometheus) or set PROMETHEUS_BIN"
        );
        let exporter = Exporter::start(ok_per_sec, errors_per_sec).await;
        let dir = unique_dir();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: exporter\n    static_configs:\n      \
             - targets: ['127.0.0.1:{}']\n",
            exporter.server.port
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new(&binary)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
        let mut prom = RealPrometheus {
            url: format!("http://127.0.0.1:{port}"),
            exporter,
            dir,
            child,
        };
        prom.wait_ready().await;
        prom
    }

    /// A client for this Prometheus.
    pub fn client(&self) -> Prometheus {
        Prometheus::new(&self.url, Duration::from_secs(10), Auth::None).unwrap()
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let ready = format!("{}/-/ready", self.url);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Prometheus exited with {status} before it was ready:\n{}",
                    std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
                );
            }
            if let Ok(r) = http.get(&ready).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus was not ready after 30 s:\n{}",
                std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `query` answers a non-NaN number now (e.g. a `rate()` once two scrapes are in).
    pub async fn wait_for_value(&self, query: &str) -> f64 {
        let client = self.client();
        eventually(
            &format!("Prometheus to answer a number for {query}"),
            Duration::from_secs(30),
            || {
                let client = client.clone();
                async move {
                    let data = client.instant(query, chrono::Utc::now()).await.ok()?;
                    data.result.single_value().filter(|v| !v.is_nan())
                }
            },
        )
        .await
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn unique_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "flightdeck-prometheus-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}
