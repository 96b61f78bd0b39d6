//! `make bench`: Flightdeck's hot paths measured against a baseline taken in the same run, on
//! real PostgreSQL, with the server started in-process (`Application::build`, port 0). Prints
//! one table on stdout; progress goes to stderr. Never a pass/fail on time: the ratios are for
//! people to read.
//!
//! 1. Webhook ingest: signed GitHub `deployment_status` deliveries (~1 KB) from 8 and 32
//!    keep-alive senders, against a raw single-row `INSERT` of the same row into a table of the
//!    inbox's shape in the same database through a `PgPool` of the same size. Measured with the
//!    inbox worker off (the request path alone) and on (the real configuration); afterwards
//!    every accepted delivery must be an inbox row.
//! 2. Rollback: `POST /api/v1/rollbacks` → the `command` executor's process running, against
//!    spawning the same program directly. The program is this binary (`--stamp <file>`), which
//!    writes `CLOCK_REALTIME` in nanoseconds and exits, so no shell sits in the measurement.
//! 3. Live feed: webhook POST → the WebSocket client receiving the `deployment.updated` it
//!    caused, against the cheapest durable live event (one `INSERT` into `events`, commit,
//!    publish) and, for scale, the in-process hub alone.
//! 4. Alert ingest: Alertmanager's webhook payload (version 4, 10 alerts) to
//!    `POST /api/v1/webhooks/alertmanager` from 8 and 32 keep-alive senders, against real
//!    Alertmanager's own `POST /api/v2/alerts` with the same 10 alerts, same machine, same run.
//!    Flightdeck answers once the notification is durable in its inbox; the time until the
//!    alert applier has applied the last one is reported too. Afterwards every accepted alert
//!    must be a stored episode with one history row. The same notifications to the server with
//!    its workers off (section 1's) measure the request path alone.
//! 5. Health grid: `GET /api/v1/health` with 10,000 components and 1,000,000 alerts stored,
//!    against `SELECT slug, name, status FROM components` through a pool of the same size.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail, ensure};
use chrono::Utc;
use flightdeck_client::Client;
use flightdeck_model::{
    CommandExecutor, CreateDeployment, CreateEnvironment, CreateRollback, CreateService,
    DeploymentStatus, ExecutorConfig, Id, LiveEvent,
};
use flightdeck_server::{Application, Settings, settings::Secret};
use flightdeck_store::{Store, testing};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use sqlx::{Connection, PgConnection, postgres::PgPoolOptions};
use tokio::sync::mpsc;
use tokio_tungstenite::{connect_async, tungstenite::Message};

// The server runs in this process: the same allocator as the `flightdeck` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADMIN_PASSWORD: &str = "bench-admin-password";
const JWT_SECRET: &str = "bench-signing-key-bench-signing-key-0123";
const GITHUB_SECRET: &str = "bench-github-webhook-secret";
const ALERTMANAGER_SECRET: &str = "bench-alertmanager-bearer-token";
const ALERTMANAGER_BIN: &str = "/usr/bin/prometheus-alertmanager";

/// Deliveries per concurrency level, after `WARMUP` unmeasured ones.
const REQUESTS: usize = 3000;
const WARMUP: usize = 300;
const LEVELS: [usize; 2] = [8, 32];
/// The server's pool: as large as the largest level, so the pool is never what limits it (the
/// default, 10, is a deployment choice, not part of the request path).
const SERVER_POOL: u32 = 32;
const ROLLBACKS: usize = 30;
const LIVE_SAMPLES: usize = 200;
const LIVE_WARMUP: usize = 10;
/// Alert notifications per concurrency level, after `ALERT_WARMUP` unmeasured ones.
const ALERT_REQUESTS: usize = 3000;
const ALERT_WARMUP: usize = 300;
/// Alertmanager-then-Flightdeck run pairs per level; the median pair is reported.
const ALERT_PAIRS: usize = 3;
const ALERTS_PER_BATCH: usize = 10;
/// Every `REPEAT_EVERY`th notification a sender sends is its previous one again, as
/// Alertmanager resends a group every `group_interval` and an HA pair sends everything twice.
const REPEAT_EVERY: usize = 5;
const GRID_COMPONENTS: i64 = 10_000;
const GRID_ALERTS: i64 = 1_000_000;
const GRID_SAMPLES: usize = 100;
const GRID_WARMUP: usize = 10;

/// A GitHub `deployment_status` delivery trimmed to ~1 KB, with the fields the parser reads.
const STATUS_BODY: &str = r#"{"action": "created", "deployment_status": {"url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/__ID__/statuses/209916254", "id": 209916254, "state": "success", "creator": {"login": "Codertocat", "id": 21031067}, "description": "", "environment": "production", "target_url": "", "log_url": "", "created_at": "2019-05-15T15:20:55Z", "updated_at": "2019-05-15T15:20:55Z"}, "deployment": {"url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/__ID__", "id": __ID__, "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "ref": "__REF__", "task": "deploy", "environment": "production", "description": null, "creator": {"login": "Codertocat", "id": 21031067}, "created_at": "2019-05-15T15:20:53Z", "updated_at": "2019-05-15T15:20:55Z"}, "repository": {"id": 186853002, "name": "Hello-World", "full_name": "Codertocat/Hello-World", "private": false, "html_url": "https://github.com/Codertocat/Hello-World", "clone_url": "https://github.com/Codertocat/Hello-World.git"}, "sender": {"login": "Codertocat", "id": 21031067, "type": "User"}}"#;

fn status_body(deployment_id: u64, git_ref: &str) -> String {
    STATUS_BODY
        .replace("__ID__", &deployment_id.to_string())
        .replace("__REF__", git_ref)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    // The executor's program: record when it started, as early as possible, and exit.
    if args.get(1).map(String::as_str) == Some("--stamp") {
        let now = unix_nanos(SystemTime::now());
        let path = args.get(2).context("--stamp needs a file")?;
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, now.to_string())?;
        std::fs::rename(&tmp, path)?;
        return Ok(());
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets without it,
    // and a test run has no business starting a benchmark.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("bench: skipped (run it with `make bench`, i.e. `cargo bench`)");
        return Ok(());
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn unix_nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_nanos()
}

// ---------------------------------------------------------------------------------------------
// Results

#[derive(Clone)]
struct Sample {
    /// Requests (or events) measured.
    n: usize,
    concurrency: usize,
    /// Requests per second over the measured run; None for latency-only measurements.
    throughput: Option<f64>,
    latencies: Vec<Duration>,
    /// CPU time per request over the measured run, in µs.
    cpu: Option<Cpu>,
}

impl Sample {
    fn new(concurrency: usize, latencies: Vec<Duration>, wall: Option<Duration>) -> Self {
        let n = latencies.len();
        let mut latencies = latencies;
        latencies.sort_unstable();
        Sample {
            n,
            concurrency,
            throughput: wall.map(|w| n as f64 / w.as_secs_f64()),
            latencies,
            cpu: None,
        }
    }

    fn with_cpu(mut self, before: Cpu, after: Cpu) -> Self {
        let per = |a: f64, b: f64| (a - b) * 1e6 / self.n.max(1) as f64;
        self.cpu = Some(Cpu {
            client: per(after.client, before.client),
            server: per(after.server, before.server),
            postgres: per(after.postgres, before.postgres),
        });
        self
    }

    /// Nearest-rank percentile.
    fn pct(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        Some(self.latencies[rank.clamp(1, self.latencies.len()) - 1])
    }
}

struct Row {
    name: String,
    sample: Sample,
    /// Index of this row's baseline row, if it is not one itself.
    baseline: Option<usize>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Table {
    fn add(&mut self, name: impl Into<String>, sample: Sample, baseline: Option<usize>) -> usize {
        self.rows.push(Row {
            name: name.into(),
            sample,
            baseline,
        });
        self.rows.len() - 1
    }

    fn print(&self) {
        let ms = |d: Option<Duration>| {
            d.map_or("-".to_owned(), |d| format!("{:.2}", d.as_secs_f64() * 1e3))
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "-".to_owned(),
        };
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        println!(
            "| # | measurement | conc | n | req/s | p50 ms | p99 ms | CPU µs/req: tokio + actix + PG = total | baseline | req/s ÷ base | p50 ÷ base | p99 ÷ base |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
        for (i, row) in self.rows.iter().enumerate() {
            let s = &row.sample;
            let (base, thr_ratio, p50_ratio, p99_ratio) = match row.baseline {
                Some(b) => {
                    let base = &self.rows[b].sample;
                    (
                        format!("#{}", b + 1),
                        ratio(s.throughput, base.throughput),
                        ratio(secs(s.pct(50.0)), secs(base.pct(50.0))),
                        ratio(secs(s.pct(99.0)), secs(base.pct(99.0))),
                    )
                }
                None => ("(baseline)".into(), "-".into(), "-".into(), "-".into()),
            };
            let cpu = s.cpu.as_ref().map_or("-".to_owned(), |c| {
                format!(
                    "{:.0} + {:.0} + {:.0} = {:.0}",
                    c.client,
                    c.server,
                    c.postgres,
                    c.client + c.server + c.postgres
                )
            });
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                row.name,
                s.concurrency,
                s.n,
                s.throughput.map_or("-".to_owned(), |t| format!("{t:.0}")),
                ms(s.pct(50.0)),
                ms(s.pct(99.0)),
                cpu,
                base,
                thr_ratio,
                p50_ratio,
                p99_ratio,
            );
        }
        println!();
        for note in &self.notes {
            println!("- {note}");
        }
    }
}

/// CPU seconds used so far: this process's threads split into the HTTP server's (actix
/// workers) and the rest (senders, and the server's tasks on the main runtime), and the
/// PostgreSQL backends serving this database. From `/proc`, so Linux only.
#[derive(Clone, Copy)]
struct Cpu {
    client: f64,
    server: f64,
    postgres: f64,
}

/// utime + stime of a `/proc/.../stat` file, in seconds.
fn stat_seconds(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks / 100.0)
}

async fn cpu_now(db: &mut PgConnection) -> anyhow::Result<Cpu> {
    let mut cpu = Cpu {
        client: 0.0,
        server: 0.0,
        postgres: 0.0,
    };
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let secs = stat_seconds(&dir.join("stat")).unwrap_or(0.0);
        if comm.starts_with("actix-server") {
            cpu.server += secs;
        } else {
            cpu.client += secs;
        }
    }
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(db)
    .await?;
    for pid in pids {
        cpu.postgres += stat_seconds(Path::new(&format!("/proc/{pid}/stat"))).unwrap_or(0.0);
    }
    Ok(cpu)
}

fn progress(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------------
// The server

struct Server {
    url: String,
    admin: Client,
    store: Arc<dyn Store>,
    hub: Arc<flightdeck_server::live::Hub>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(database_url: &str, run_workers: bool) -> anyhow::Result<Self> {
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            database_url: Secret::new(database_url),
            database_max_connections: SERVER_POOL,
            admin_password: Some(Secret::new(ADMIN_PASSWORD)),
            jwt_secret: Some(Secret::new(JWT_SECRET)),
            web_dir: None,
            run_workers,
            ..Settings::default()
        };
        settings
            .webhook_secrets
            .insert("github".into(), Secret::new(GITHUB_SECRET));
        settings
            .webhook_secrets
            .insert("alertmanager".into(), Secret::new(ALERTMANAGER_SECRET));
        let app = Application::build(settings)
            .await
            .context("the application builds")?;
        let url = app.url();
        let store = app.store();
        let hub = app.hub();
        let handle = app.handle();
        let task = tokio::spawn(app.run_until_stopped());
        let mut admin = Client::new(&url)?;
        admin.login("admin", ADMIN_PASSWORD).await?;
        Ok(Server {
            url,
            admin,
            store,
            hub,
            handle,
            task,
        })
    }

    /// Stops at once (the live feed socket would hold a graceful stop for its whole timeout) and
    /// closes the pool, whose connections count against `max_connections`.
    async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(false).await;
        self.task.await??;
        Ok(())
    }
}

/// The service and environment the deliveries match, and a second environment whose executor
/// is this binary's `--stamp`.
async fn seed(server: &Server, stamp_dir: &Path) -> anyhow::Result<()> {
    let admin = &server.admin;
    admin
        .create_service(&CreateService {
            slug: "hello-world".into(),
            name: "Hello World".into(),
            team: None,
            repositories: vec!["https://github.com/Codertocat/Hello-World".into()],
        })
        .await?;
    for (slug, rank) in [("production", 30), ("bench-rollback", 40)] {
        admin
            .create_environment(&CreateEnvironment {
                slug: slug.into(),
                name: slug.into(),
                rank,
                protected: false,
                aliases: vec![],
                freeze_windows: vec![],
            })
            .await?;
    }
    admin
        .set_executor(
            "bench-rollback",
            None,
            &ExecutorConfig::Command(CommandExecutor {
                program: std::env::current_exe()?.display().to_string(),
                args: vec![
                    "--stamp".into(),
                    stamp_dir.join("{deployment_id}").display().to_string(),
                ],
                env: Default::default(),
                working_dir: None,
                timeout_secs: 60,
            }),
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. Webhook ingest

struct Senders {
    clients: Vec<reqwest::Client>,
    url: String,
    body: Arc<String>,
    signature: String,
}

impl Senders {
    fn new(server_url: &str, concurrency: usize) -> anyhow::Result<Self> {
        let body = status_body(145_988_746, "master");
        let signature = flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), body.as_bytes());
        let clients = (0..concurrency)
            .map(|_| reqwest::Client::builder().pool_max_idle_per_host(1).build())
            .collect::<Result<_, _>>()?;
        Ok(Senders {
            clients,
            url: format!("{server_url}/api/v1/webhooks/github"),
            body: Arc::new(body),
            signature,
        })
    }

    /// Sends `total` deliveries, each sender in turn, and returns the latencies of the 202s and
    /// the wall time. Any other answer fails the run.
    async fn run(&self, prefix: &str, total: usize) -> anyhow::Result<(Vec<Duration>, Duration)> {
        self.send(prefix, total, false).await
    }

    /// The HTTP floor: `GET /healthz` (no body, no database) through the same connections.
    async fn healthz(&self, total: usize) -> anyhow::Result<(Vec<Duration>, Duration)> {
        self.send("healthz", total, true).await
    }

    async fn send(
        &self,
        prefix: &str,
        total: usize,
        healthz: bool,
    ) -> anyhow::Result<(Vec<Duration>, Duration)> {
        let c = self.clients.len();
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(c);
        for (i, client) in self.clients.iter().enumerate() {
            let count = total / c + usize::from(i < total % c);
            let client = client.clone();
            let url = if healthz {
                self.url.replace("/api/v1/webhooks/github", "/healthz")
            } else {
                self.url.clone()
            };
            let body = Arc::clone(&self.body);
            let signature = self.signature.clone();
            let prefix = format!("{prefix}-{i}");
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count);
                for j in 0..count {
                    let t = Instant::now();
                    if healthz {
                        let resp = client.get(&url).send().await?;
                        let status = resp.status();
                        resp.bytes().await?;
                        latencies.push(t.elapsed());
                        ensure!(status == 200, "healthz: {status}");
                        continue;
                    }
                    let resp = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-github-event", "deployment_status")
                        .header("x-github-delivery", format!("{prefix}-{j}"))
                        .header("x-hub-signature-256", &signature)
                        .body(body.as_bytes().to_vec())
                        .send()
                        .await?;
                    let status = resp.status();
                    let answer = resp.bytes().await?;
                    latencies.push(t.elapsed());
                    let answer = String::from_utf8_lossy(&answer);
                    ensure!(
                        status == 202 && answer.contains("\"duplicate\":false"),
                        "delivery {prefix}-{j}: {status} {answer}"
                    );
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut all = Vec::with_capacity(total);
        for task in tasks {
            all.extend(task.await??);
        }
        Ok((all, started.elapsed()))
    }
}

/// The baseline: the same row, one `INSERT` per request, `concurrency` connections.
async fn raw_inserts(
    db: &mut PgConnection,
    database_url: &str,
    concurrency: usize,
    prefix: &str,
    total: usize,
    body: &Arc<String>,
) -> anyhow::Result<Sample> {
    let pool = PgPoolOptions::new()
        .max_connections(concurrency as u32)
        .min_connections(concurrency as u32)
        .connect(database_url)
        .await?;
    let run = async |prefix: String, total: usize| -> anyhow::Result<(Vec<Duration>, Duration)> {
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(concurrency);
        for i in 0..concurrency {
            let count = total / concurrency + usize::from(i < total % concurrency);
            let pool = pool.clone();
            let body = Arc::clone(body);
            let prefix = format!("{prefix}-{i}");
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count);
                for j in 0..count {
                    let t = Instant::now();
                    let done = sqlx::query(
                        "INSERT INTO bench_raw (id, source, delivery_id, received_at, event_type, body, state) \
                         VALUES ($1, $2, $3, $4, $5, $6, 'pending') ON CONFLICT (source, delivery_id) DO NOTHING",
                    )
                    .bind(uuid::Uuid::now_v7())
                    .bind("github")
                    .bind(format!("{prefix}-{j}"))
                    .bind(Utc::now())
                    .bind("deployment_status")
                    .bind(body.as_str())
                    .execute(&pool)
                    .await?;
                    latencies.push(t.elapsed());
                    ensure!(done.rows_affected() == 1, "raw row {prefix}-{j} not inserted");
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut all = Vec::with_capacity(total);
        for task in tasks {
            all.extend(task.await??);
        }
        Ok((all, started.elapsed()))
    };
    run(format!("{prefix}-warm"), WARMUP).await?;
    let before = cpu_now(db).await?;
    let (latencies, wall) = run(prefix.to_owned(), total).await?;
    let after = cpu_now(db).await?;
    pool.close().await;
    Ok(Sample::new(concurrency, latencies, Some(wall)).with_cpu(before, after))
}

async fn count(db: &mut PgConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(db).await?)
}

async fn inbox_depth(store: &Arc<dyn Store>) -> anyhow::Result<i64> {
    Ok(store.conn().await?.inbox_depth().await?)
}

// ---------------------------------------------------------------------------------------------
// 2. Rollback latency

async fn wait_status(admin: &Client, id: Id, want: DeploymentStatus) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = admin.get_deployment(id).await?;
        if d.status == want {
            return Ok(());
        }
        ensure!(
            !d.status.is_terminal(),
            "deployment {id} ended {:?}, expected {want:?}",
            d.status
        );
        ensure!(
            Instant::now() < deadline,
            "deployment {id} still {:?}",
            d.status
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits for the `--stamp` file and returns the time it holds.
async fn read_stamp(path: &Path) -> anyhow::Result<u128> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return Ok(text.trim().parse()?);
        }
        ensure!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn since(start_ns: u128, stamp_ns: u128) -> Duration {
    Duration::from_nanos(stamp_ns.saturating_sub(start_ns) as u64)
}

/// The baseline: spawn the executor's program ourselves, configured as the executor does.
async fn spawn_directly(stamp_dir: &Path, i: usize) -> anyhow::Result<Duration> {
    let path = stamp_dir.join(format!("direct-{i}"));
    let start = unix_nanos(SystemTime::now());
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--stamp")
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let stamp = read_stamp(&path).await?;
    child.wait().await?;
    Ok(since(start, stamp))
}

struct RollbackRun {
    to_process: Vec<Duration>,
    to_accepted: Vec<Duration>,
    direct: Vec<Duration>,
}

async fn rollbacks(server: &Server, stamp_dir: &Path) -> anyhow::Result<RollbackRun> {
    let admin = &server.admin;
    let mut run = RollbackRun {
        to_process: Vec::new(),
        to_accepted: Vec::new(),
        direct: Vec::new(),
    };
    for i in 0..ROLLBACKS {
        for version in [format!("r{i}-a"), format!("r{i}-b")] {
            let d = admin
                .deploy(&CreateDeployment {
                    service: "hello-world".into(),
                    environment: "bench-rollback".into(),
                    version,
                    description: None,
                    confirm: None,
                    commit_sha: None,
                    commit_url: None,
                    committed_at: None,
                })
                .await?;
            wait_status(admin, d.id, DeploymentStatus::Succeeded).await?;
        }
        run.direct.push(spawn_directly(stamp_dir, i).await?);

        let start = unix_nanos(SystemTime::now());
        let sent = Instant::now();
        let rollback = admin
            .rollback(&CreateRollback {
                service: "hello-world".into(),
                environment: "bench-rollback".into(),
                to_deployment: None,
                reason: "bench".into(),
                confirm: None,
            })
            .await?;
        run.to_accepted.push(sent.elapsed());
        ensure!(
            rollback.version == format!("r{i}-a"),
            "rolled back to {}",
            rollback.version
        );
        let stamp = read_stamp(&stamp_dir.join(rollback.id.to_string())).await?;
        run.to_process.push(since(start, stamp));
        wait_status(admin, rollback.id, DeploymentStatus::Succeeded).await?;
    }
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// 3. Live latency

struct Feed {
    events: mpsc::UnboundedReceiver<(Instant, LiveEvent)>,
}

impl Feed {
    async fn open(server: &Server) -> anyhow::Result<Self> {
        let url = format!("{}/api/v1/stream", server.url.replace("http://", "ws://"));
        let (mut ws, _) = connect_async(url).await?;
        let hello = json!({ "token": server.admin.token(), "since": null, "topics": [] });
        ws.send(Message::Text(hello.to_string().into())).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let at = Instant::now();
                if let Message::Text(text) = msg {
                    match serde_json::from_str::<LiveEvent>(&text) {
                        Ok(event) => {
                            if tx.send((at, event)).is_err() {
                                return;
                            }
                        }
                        Err(e) => eprintln!("[bench] unreadable live message: {e}: {text}"),
                    }
                }
            }
        });
        // The server subscribes after reading the hello; give it that moment once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Feed { events: rx })
    }

    /// The arrival time of the first event `matches` accepts; others are skipped.
    async fn wait_for(&mut self, matches: impl Fn(&LiveEvent) -> bool) -> anyhow::Result<Instant> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((at, event))) if matches(&event) => return Ok(at),
                Ok(Some(_)) => continue,
                Ok(None) => bail!("the live feed closed"),
                Err(_) => bail!("no matching live event within 10 s"),
            }
        }
    }
}

struct LiveRun {
    post_to_event: Vec<Duration>,
    accepted_to_event: Vec<Duration>,
    durable_baseline: Vec<Duration>,
    hub_only: Vec<Duration>,
}

async fn live(server: &Server) -> anyhow::Result<LiveRun> {
    let mut feed = Feed::open(server).await?;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/webhooks/github", server.url);
    let mut run = LiveRun {
        post_to_event: Vec::new(),
        accepted_to_event: Vec::new(),
        durable_baseline: Vec::new(),
        hub_only: Vec::new(),
    };
    for i in 0..LIVE_WARMUP + LIVE_SAMPLES {
        let measured = i >= LIVE_WARMUP;
        // A new deployment each time, so each delivery causes its own `deployment.updated`.
        let version = format!("live-{i}");
        let body = status_body(900_000_000 + i as u64, &version);
        let signature = flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), body.as_bytes());
        let sent = Instant::now();
        let resp = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-github-event", "deployment_status")
            .header("x-github-delivery", format!("live-{i}"))
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await?;
        ensure!(resp.status() == 202, "live delivery {i}: {}", resp.status());
        resp.bytes().await?;
        let accepted = Instant::now();
        let arrived = feed
            .wait_for(|e| e.kind == "deployment.updated" && e.data["version"] == version)
            .await
            .with_context(|| format!("deployment.updated for {version}"))?;
        if measured {
            run.post_to_event.push(arrived - sent);
            run.accepted_to_event
                .push(arrived.saturating_duration_since(accepted));
        }

        // Baseline: the cheapest durable live event, on the same pool and hub.
        let started = Instant::now();
        let mut tx = server.store.begin().await?;
        let event = tx
            .insert_event("bench.ping", &json!({ "i": i }), Utc::now())
            .await?;
        tx.commit().await?;
        server.hub.publish(vec![event]);
        let arrived = feed
            .wait_for(|e| e.kind == "bench.ping" && e.data["i"] == i)
            .await
            .context("bench.ping")?;
        if measured {
            run.durable_baseline.push(arrived - started);
        }
    }

    // The hub alone (no database): events with the next sequence numbers, published directly.
    // Last, because these numbers are never stored.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let head = server
        .store
        .conn()
        .await?
        .event_bounds()
        .await?
        .map_or(0, |b| b.1);
    for i in 0..LIVE_WARMUP + LIVE_SAMPLES {
        let started = Instant::now();
        server.hub.publish(vec![LiveEvent {
            seq: head + 1 + i as i64,
            kind: "bench.hub".into(),
            at: Utc::now(),
            data: json!({ "i": i }),
        }]);
        let arrived = feed
            .wait_for(|e| e.kind == "bench.hub" && e.data["i"] == i)
            .await
            .context("bench.hub")?;
        if i >= LIVE_WARMUP {
            run.hub_only.push(arrived - started);
        }
    }
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// 4. Alert ingest against Alertmanager

struct Alertmanager {
    child: std::process::Child,
    url: String,
    dir: PathBuf,
}

impl Alertmanager {
    /// Real Alertmanager on a free port, routing everything to a receiver that notifies nobody,
    /// so it does only what its API does: validate, store in memory, hand to the dispatcher.
    async fn start() -> anyhow::Result<Self> {
        ensure!(
            Path::new(ALERTMANAGER_BIN).exists(),
            "{ALERTMANAGER_BIN} is missing: install Debian's prometheus-alertmanager"
        );
        let dir = std::env::temp_dir().join(format!(
            "flightdeck-bench-am-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(dir.join("data"))?;
        std::fs::write(
            dir.join("alertmanager.yml"),
            "route:\n  receiver: 'null'\n  group_by: ['alertname']\nreceivers:\n  - name: 'null'\n",
        )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new(ALERTMANAGER_BIN)
            .arg(format!(
                "--config.file={}",
                dir.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("starting {ALERTMANAGER_BIN}"))?;
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::get(format!("{}/-/ready", am.url)).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(am);
            }
            ensure!(
                Instant::now() < deadline,
                "Alertmanager did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// CPU seconds Alertmanager has used so far.
    fn cpu(&self) -> f64 {
        stat_seconds(Path::new(&format!("/proc/{}/stat", self.child.id()))).unwrap_or(0.0)
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum AlertTarget {
    /// `POST /api/v2/alerts`: a JSON array of alerts.
    Alertmanager,
    /// `POST /api/v1/webhooks/alertmanager`: a version 4 notification.
    Flightdeck,
}

/// The `i`th alert of batch `batch`: labels and times as Prometheus sends them.
fn bench_alert(run: &str, sender: usize, batch: usize, i: usize) -> (String, serde_json::Value) {
    let fingerprint = format!("bench-{run}-{sender}-{batch}-{i}");
    let labels = json!({
        "alertname": "BenchHighLatency",
        "instance": format!("host-{sender}-{batch}-{i}.bench.internal:9100"),
        "job": "node",
        "severity": if i.is_multiple_of(3) { "critical" } else { "warning" },
        "service": "bench-unrouted",
        "bench_run": run,
    });
    (fingerprint, labels)
}

fn alert_body(
    target: AlertTarget,
    run: &str,
    sender: usize,
    batch: usize,
    starts_at: &str,
    ends_at: &str,
) -> String {
    let annotations = json!({ "summary": "p99 latency over 500ms", "runbook_url": "https://runbooks.example.com/latency" });
    let alerts: Vec<serde_json::Value> = (0..ALERTS_PER_BATCH)
        .map(|i| {
            let (fingerprint, labels) = bench_alert(run, sender, batch, i);
            match target {
                AlertTarget::Alertmanager => json!({
                    "labels": labels, "annotations": annotations,
                    "startsAt": starts_at, "endsAt": ends_at,
                    "generatorURL": "http://prometheus.bench.internal:9090/graph?g0.expr=latency",
                }),
                AlertTarget::Flightdeck => json!({
                    "status": "firing", "labels": labels, "annotations": annotations,
                    "startsAt": starts_at, "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.bench.internal:9090/graph?g0.expr=latency",
                    "fingerprint": fingerprint,
                }),
            }
        })
        .collect();
    match target {
        AlertTarget::Alertmanager => serde_json::Value::Array(alerts).to_string(),
        AlertTarget::Flightdeck => json!({
            "version": "4", "groupKey": format!("{{}}:{{alertname=\"BenchHighLatency\", sender=\"{sender}\"}}"),
            "truncatedAlerts": 0, "status": "firing", "receiver": "flightdeck",
            "groupLabels": { "alertname": "BenchHighLatency" }, "commonLabels": { "alertname": "BenchHighLatency" },
            "commonAnnotations": annotations, "externalURL": "http://alertmanager.bench.internal:9093",
            "alerts": alerts,
        })
        .to_string(),
    }
}

/// `total` notifications from `concurrency` keep-alive senders; the latencies, the wall time,
/// and how many distinct alerts were sent. Each sender's every `REPEAT_EVERY`th notification
/// repeats its previous one; Flightdeck must answer each 202 with its delivery, and afterwards
/// have stored one episode with one history row per distinct alert.
async fn send_alerts(
    target: AlertTarget,
    url: &str,
    run: &str,
    concurrency: usize,
    total: usize,
) -> anyhow::Result<(Vec<Duration>, Duration, usize)> {
    // Fresh alerts, as Prometheus sends them: one that started hours ago would be old enough
    // for Flightdeck's auto-escalation (critical, unacknowledged) to take it up mid-run.
    let now = Utc::now();
    let starts_at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let ends_at =
        (now + chrono::TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for sender in 0..concurrency {
        let count = total / concurrency + usize::from(sender < total % concurrency);
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let url = url.to_owned();
        let run = run.to_owned();
        let ends_at = ends_at.clone();
        let starts_at = starts_at.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(count);
            let mut distinct = 0;
            let mut batch = 0;
            for j in 0..count {
                let repeat = j % REPEAT_EVERY == REPEAT_EVERY - 1;
                if !repeat {
                    batch += 1;
                    distinct += ALERTS_PER_BATCH;
                }
                let body = alert_body(target, &run, sender, batch, &starts_at, &ends_at);
                let t = Instant::now();
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body);
                if target == AlertTarget::Flightdeck {
                    req = req.bearer_auth(ALERTMANAGER_SECRET);
                }
                let resp = req.send().await?;
                let status = resp.status();
                let answer = resp.bytes().await?;
                latencies.push(t.elapsed());
                ensure!(
                    status.is_success(),
                    "{run} sender {sender} #{j}: {status} {}",
                    String::from_utf8_lossy(&answer)
                );
                if target == AlertTarget::Flightdeck {
                    let answer: serde_json::Value = serde_json::from_slice(&answer)?;
                    ensure!(
                        status == reqwest::StatusCode::ACCEPTED
                            && answer["received"] == ALERTS_PER_BATCH
                            && answer["delivery"].is_string(),
                        "{run} sender {sender} #{j}: {status} {answer}"
                    );
                }
            }
            anyhow::Ok((latencies, distinct))
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut distinct = 0;
    for task in tasks {
        let (latencies, d) = task.await??;
        all.extend(latencies);
        distinct += d;
    }
    Ok((all, started.elapsed(), distinct))
}

struct AlertRun {
    /// Per level: the median pair by ratio.
    levels: Vec<(usize, AlertPair)>,
    /// Per level: every pair's ratio, ascending.
    ratios: Vec<Vec<f64>>,
    /// History rows of the bench's episodes (one `fire` each when repeats change nothing).
    history: i64,
    /// Distinct alerts Flightdeck accepted, and the episodes stored for them.
    accepted: usize,
    stored: i64,
}

/// One Alertmanager run and one Flightdeck run at one level, back to back.
struct AlertPair {
    am: Sample,
    fd: Sample,
    /// Alertmanager's own CPU, µs per request.
    am_cpu: f64,
    /// Flightdeck notifications still pending when its senders stopped.
    backlog: i64,
    /// Flightdeck: first send until the last notification was applied.
    applied: Duration,
    /// Flightdeck: CPU (senders, server, PostgreSQL) per notification over `applied`, µs.
    cpu: f64,
    /// Distinct alerts Flightdeck accepted (warm-up included).
    accepted: usize,
}

impl AlertPair {
    fn ratio(&self) -> f64 {
        self.fd.throughput.unwrap_or(0.0) / self.am.throughput.unwrap_or(f64::MAX)
    }
}

async fn alert_ingest(server: &Server, db: &mut PgConnection) -> anyhow::Result<AlertRun> {
    let mut run = AlertRun {
        levels: Vec::new(),
        ratios: Vec::new(),
        history: 0,
        accepted: 0,
        stored: 0,
    };
    for c in LEVELS {
        // This two-core VM's speed drifts: Alertmanager alone has ranged from 2.0k to 3.9k req/s
        // between runs. Pairs of runs back to back, and the median pair, keep a drift from
        // deciding the ratio.
        let mut pairs = Vec::with_capacity(ALERT_PAIRS);
        for pair in 0..ALERT_PAIRS {
            pairs.push(alert_pair(server, db, c, pair, true).await?);
        }
        run.accepted += pairs.iter().map(|p| p.accepted).sum::<usize>();
        pairs.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
        run.ratios
            .push(pairs.iter().map(AlertPair::ratio).collect());
        run.levels.push((c, pairs.swap_remove(ALERT_PAIRS / 2)));
    }
    run.stored = count(
        db,
        "SELECT COUNT(*) FROM alerts WHERE source = 'alertmanager' AND fingerprint LIKE 'bench-fd%'",
    )
    .await?;
    ensure!(
        run.stored as usize == run.accepted,
        "alert ingest: {} episodes stored for {} accepted alerts",
        run.stored,
        run.accepted
    );
    run.history = count(
        db,
        "SELECT COUNT(*) FROM alert_events e JOIN alerts a ON a.id = e.alert_id \
         WHERE a.source = 'alertmanager' AND a.fingerprint LIKE 'bench-fd%'",
    )
    .await?;
    ensure!(
        run.history == run.stored,
        "alert ingest: {} history rows for {} episodes (repeats must change nothing)",
        run.history,
        run.stored
    );
    let failed = count(
        db,
        // The request-path runs' notifications were set aside as `ignored` before this server
        // started.
        "SELECT COUNT(*) FROM inbox WHERE source = 'alertmanager' AND state IN ('pending', 'failed')",
    )
    .await?;
    ensure!(
        failed == 0,
        "alert ingest: {failed} notifications not applied"
    );
    Ok(run)
}

async fn alert_pair(
    server: &Server,
    db: &mut PgConnection,
    c: usize,
    pair: usize,
    applier: bool,
) -> anyhow::Result<AlertPair> {
    progress(format!(
        "alert ingest, Alertmanager, {c} senders, pair {}",
        pair + 1
    ));
    // A fresh Alertmanager per run, stopped before Flightdeck's turn: it keeps working on what
    // it accepted (aggregation groups, flushes) long after answering, and that work must
    // neither land in Flightdeck's measurement nor carry over into the next run.
    let am = Alertmanager::start().await?;
    let am_url = format!("{}/api/v2/alerts", am.url);
    let run = |name: &str| {
        if applier {
            format!("{name}{c}-{pair}")
        } else {
            format!("off-{name}{c}-{pair}")
        }
    };
    send_alerts(
        AlertTarget::Alertmanager,
        &am_url,
        &run("amw"),
        c,
        ALERT_WARMUP,
    )
    .await?;
    let (before, am_before) = (cpu_now(db).await?, am.cpu());
    let (lat, wall, _) = send_alerts(
        AlertTarget::Alertmanager,
        &am_url,
        &run("am"),
        c,
        ALERT_REQUESTS,
    )
    .await?;
    let am_cpu = (am.cpu() - am_before) * 1e6 / ALERT_REQUESTS as f64;
    let am_sample = Sample::new(c, lat, Some(wall)).with_cpu(before, cpu_now(db).await?);
    drop(am);

    progress(format!(
        "alert ingest, Flightdeck, {c} senders, pair {}",
        pair + 1
    ));
    let fd_url = format!("{}/api/v1/webhooks/alertmanager", server.url);
    // The earlier phases wrote gigabytes of WAL, so a checkpoint would otherwise start at a
    // random point of this run (seen: 0.40 and 0.65 in back-to-back runs of one build).
    // Starting right after one, every run pays the same full-page-write tax.
    checkpoint(db).await?;
    let (_, _, warm) = send_alerts(
        AlertTarget::Flightdeck,
        &fd_url,
        &run("fdw"),
        c,
        ALERT_WARMUP,
    )
    .await?;
    // The warm-up's notifications are applied before the measured run starts.
    if applier {
        alerts_applied(db).await?;
    }
    let before = cpu_now(db).await?;
    let started = Instant::now();
    let (lat, wall, distinct) = send_alerts(
        AlertTarget::Flightdeck,
        &fd_url,
        &run("fd"),
        c,
        ALERT_REQUESTS,
    )
    .await?;
    let fd_sample = Sample::new(c, lat, Some(wall)).with_cpu(before, cpu_now(db).await?);
    let backlog = alert_backlog(db).await?;
    if applier {
        alerts_applied(db).await?;
    }
    let applied = started.elapsed();
    let after = cpu_now(db).await?;
    let cpu = (after.client + after.server + after.postgres
        - before.client
        - before.server
        - before.postgres)
        * 1e6
        / ALERT_REQUESTS as f64;
    Ok(AlertPair {
        am: am_sample,
        fd: fd_sample,
        am_cpu,
        backlog,
        applied,
        cpu,
        accepted: warm + distinct,
    })
}

async fn checkpoint(db: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query("CHECKPOINT").execute(&mut *db).await?;
    Ok(())
}

/// Waits until every stored alert notification has been applied.
async fn alerts_applied(db: &mut PgConnection) -> anyhow::Result<()> {
    while alert_backlog(db).await? > 0 {
        // The count is not free; polling more often would show in the CPU measured meanwhile.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Alert notifications stored and not yet applied.
async fn alert_backlog(db: &mut PgConnection) -> anyhow::Result<i64> {
    count(
        db,
        "SELECT COUNT(*) FROM inbox WHERE source = 'alertmanager' AND state = 'pending'",
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// 5. Health grid at scale

/// 10,000 components and 1,000,000 alerts (1% of them live), loaded in bulk.
async fn load_grid(db: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO components (id, slug, name, grp, service, tier, depends_on, matchers, maintenance, \
         status, status_reasons, created_at, updated_at) \
         SELECT gen_random_uuid(), 'grid-' || lpad(g::text, 5, '0'), 'Grid component ' || g, 'group-' || (g % 100), \
         NULL, 1 + g % 3, '[]'::jsonb, jsonb_build_array('service=\"grid-' || g || '\"'), '[]'::jsonb, \
         (ARRAY['operational', 'operational', 'degraded', 'major_outage'])[1 + g % 4], \
         CASE WHEN g % 4 >= 2 THEN jsonb_build_array('critical alert BulkAlert firing') ELSE '[]'::jsonb END, \
         now(), now() \
         FROM generate_series(1, $1) AS g",
    )
    .bind(GRID_COMPONENTS)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "INSERT INTO alerts (id, source, fingerprint, starts_at, name, severity, source_status, state, \
         escalation_level, component, labels, annotations, ends_at, acknowledged_by, acknowledged_at, \
         last_note, received_at, updated_at) \
         SELECT gen_random_uuid(), 'bulk', md5(g::text), timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', \
         'BulkAlert', (ARRAY['critical', 'warning', 'info'])[1 + g % 3], \
         CASE WHEN g % 100 = 0 THEN 'firing' ELSE 'resolved' END, \
         CASE WHEN g % 100 = 0 THEN 'open' ELSE 'resolved' END, 0, \
         'grid-' || lpad((1 + g % $2)::text, 5, '0'), \
         jsonb_build_object('alertname', 'BulkAlert', 'service', 'grid-' || (1 + g % $2)), \
         '{\"summary\": \"bulk-loaded\"}'::jsonb, \
         CASE WHEN g % 100 = 0 THEN NULL ELSE timestamptz '2026-01-01 00:10:00+00' + g * interval '1 second' END, \
         NULL, NULL, NULL, now(), now() \
         FROM generate_series(1, $1) AS g",
    )
    .bind(GRID_ALERTS)
    .bind(GRID_COMPONENTS)
    .execute(&mut *db)
    .await?;
    // What autovacuum does after a bulk insert (its insert threshold): statistics, and the
    // visibility map, without which the live-alert count visits the heap for every entry of
    // the partial index instead of answering from the index alone.
    for table in ["components", "alerts"] {
        sqlx::query(&format!("VACUUM (ANALYZE) {table}"))
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

struct GridRun {
    baseline: Vec<Duration>,
    grid: Vec<Duration>,
    bytes: usize,
    components: usize,
}

async fn health_grid(server: &Server, database_url: &str) -> anyhow::Result<GridRun> {
    let pool = PgPoolOptions::new()
        .max_connections(SERVER_POOL)
        .connect(database_url)
        .await?;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/health", server.url);
    let token = server.admin.token().context("the admin is logged in")?;
    let mut run = GridRun {
        baseline: Vec::new(),
        grid: Vec::new(),
        bytes: 0,
        components: 0,
    };
    for i in 0..GRID_WARMUP + GRID_SAMPLES {
        let t = Instant::now();
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT slug, name, status FROM components")
                .fetch_all(&pool)
                .await?;
        let took = t.elapsed();
        ensure!(
            rows.len() as i64 >= GRID_COMPONENTS,
            "{} components",
            rows.len()
        );

        let t = Instant::now();
        let resp = client.get(&url).bearer_auth(token).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let grid_took = t.elapsed();
        ensure!(status == 200, "GET /api/v1/health: {status}");
        if i >= GRID_WARMUP {
            run.baseline.push(took);
            run.grid.push(grid_took);
        } else if i == 0 {
            let grid: serde_json::Value = serde_json::from_slice(&body)?;
            run.components = grid["components"].as_array().map_or(0, Vec::len);
            run.bytes = body.len();
            ensure!(
                run.components as i64 >= GRID_COMPONENTS,
                "the grid has {} components",
                run.components
            );
        }
    }
    pool.close().await;
    Ok(run)
}

// ---------------------------------------------------------------------------------------------

async fn run() -> anyhow::Result<()> {
    let bench_started = Instant::now();
    let load_before = loadavg();
    let database_url = testing::fresh_postgres_url().await;
    progress(format!("database {database_url}"));
    let stamp_dir: PathBuf = std::env::temp_dir().join(format!(
        "flightdeck-bench-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&stamp_dir)?;
    let mut db = PgConnection::connect(&database_url).await?;
    let pg_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut db)
        .await?;
    let mut pg_settings = Vec::new();
    for name in [
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
        "shared_buffers",
    ] {
        let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(&mut db)
            .await?;
        pg_settings.push(format!("{name}={value}"));
    }

    let mut table = Table::default();

    // --- 1a. Ingest with the worker off, against raw inserts --------------------------------
    // Same database throughout: the server's migrations create `inbox`, the baseline's table
    // copies its shape (columns, constraints, indexes).
    let off = Server::start(&database_url, false).await?;
    seed(&off, &stamp_dir).await?;
    sqlx::query("CREATE TABLE bench_raw (LIKE inbox INCLUDING ALL)")
        .execute(&mut db)
        .await?;
    let body = Arc::new(status_body(145_988_746, "master"));
    let mut accepted_off = 0u64;
    let mut raw_rows = Vec::new();
    for c in LEVELS {
        progress(format!("raw INSERT, {c} connections"));
        let sample = raw_inserts(
            &mut db,
            &database_url,
            c,
            &format!("raw{c}"),
            REQUESTS,
            &body,
        )
        .await?;
        let raw = table.add("raw single-row INSERT (sqlx PgPool)", sample, None);
        raw_rows.push(raw);
        progress(format!("webhook ingest, worker off, {c} senders"));
        let senders = Senders::new(&off.url, c)?;
        senders.healthz(WARMUP).await?;
        let before = cpu_now(&mut db).await?;
        let (lat, wall) = senders.healthz(REQUESTS).await?;
        let sample = Sample::new(c, lat, Some(wall)).with_cpu(before, cpu_now(&mut db).await?);
        table.add(
            "HTTP floor: GET /healthz, same connections (no body, no database)",
            sample,
            Some(raw),
        );
        senders.run(&format!("off{c}-warm"), WARMUP).await?;
        let before = cpu_now(&mut db).await?;
        let (lat, wall) = senders.run(&format!("off{c}"), REQUESTS).await?;
        let sample = Sample::new(c, lat, Some(wall)).with_cpu(before, cpu_now(&mut db).await?);
        accepted_off += (WARMUP + REQUESTS) as u64;
        table.add("webhook ingest → 202, inbox worker off", sample, Some(raw));
    }
    let stored_off = count(
        &mut db,
        "SELECT COUNT(*) FROM inbox WHERE delivery_id LIKE 'off%'",
    )
    .await?;
    ensure!(
        stored_off as u64 == accepted_off,
        "worker off: {stored_off} inbox rows for {} accepted deliveries",
        accepted_off
    );
    let mut alert_path = Vec::new();
    for c in LEVELS {
        let mut pairs = Vec::with_capacity(ALERT_PAIRS);
        for pair in 0..ALERT_PAIRS {
            pairs.push(alert_pair(&off, &mut db, c, pair, false).await?);
        }
        pairs.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
        alert_path.push(pairs.swap_remove(ALERT_PAIRS / 2));
    }
    off.stop().await?;
    // They were only there to be counted; keep the next server's worker from applying them.
    sqlx::query(
        "UPDATE inbox SET state = 'ignored', note = 'bench: measured with the worker off', \
         processed_at = now() WHERE state = 'pending'",
    )
    .execute(&mut db)
    .await?;

    // --- 1b. Ingest with the worker on (the real configuration) ------------------------------
    let on = Server::start(&database_url, true).await?;
    let mut accepted_on = 0u64;
    let mut drains = Vec::new();
    for (level, c) in LEVELS.into_iter().enumerate() {
        progress(format!("webhook ingest, worker on, {c} senders"));
        let senders = Senders::new(&on.url, c)?;
        senders.run(&format!("on{c}-warm"), WARMUP).await?;
        let before = cpu_now(&mut db).await?;
        let (lat, wall) = senders.run(&format!("on{c}"), REQUESTS).await?;
        let sample = Sample::new(c, lat, Some(wall)).with_cpu(before, cpu_now(&mut db).await?);
        accepted_on += (WARMUP + REQUESTS) as u64;
        table.add(
            "webhook ingest → 202, inbox worker on",
            sample,
            Some(raw_rows[level]),
        );
        // What the worker still had to apply when the senders stopped, and how long it took.
        let backlog = inbox_depth(&on.store).await?;
        let t = Instant::now();
        while inbox_depth(&on.store).await? > 0 {
            ensure!(
                t.elapsed() < Duration::from_secs(120),
                "the inbox did not drain"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drains.push((c, backlog, t.elapsed()));
    }
    let stored_on = count(
        &mut db,
        "SELECT COUNT(*) FROM inbox WHERE delivery_id LIKE 'on%'",
    )
    .await?;
    let applied_on = count(
        &mut db,
        "SELECT COUNT(*) FROM inbox WHERE delivery_id LIKE 'on%' AND state = 'applied'",
    )
    .await?;
    ensure!(
        stored_on as u64 == accepted_on,
        "worker on: {stored_on} inbox rows for {accepted_on} accepted deliveries"
    );

    // --- 2. Rollback ---------------------------------------------------------------------------
    progress(format!("{ROLLBACKS} rollbacks (each after two deploys)"));
    let rb = rollbacks(&on, &stamp_dir).await?;
    let direct = table.add(
        "spawn the executor's program directly (tokio::process)",
        Sample::new(1, rb.direct, None),
        None,
    );
    table.add(
        "rollback: POST /api/v1/rollbacks → command executor's process running",
        Sample::new(1, rb.to_process, None),
        Some(direct),
    );
    table.add(
        "rollback: POST /api/v1/rollbacks → 202 received",
        Sample::new(1, rb.to_accepted, None),
        Some(direct),
    );

    // --- 3. Live ------------------------------------------------------------------------------
    progress(format!("{LIVE_SAMPLES} live events"));
    let lv = live(&on).await?;
    let durable = table.add(
        "durable live event: INSERT events + COMMIT + publish → WebSocket",
        Sample::new(1, lv.durable_baseline, None),
        None,
    );
    table.add(
        "webhook POST → WebSocket deployment.updated (inbox → worker → commit → hub)",
        Sample::new(1, lv.post_to_event, None),
        Some(durable),
    );
    table.add(
        "webhook 202 received → WebSocket deployment.updated",
        Sample::new(1, lv.accepted_to_event, None),
        Some(durable),
    );
    table.add(
        "hub publish → WebSocket (no database; for scale)",
        Sample::new(1, lv.hub_only, None),
        Some(durable),
    );

    // --- 4. Alert ingest ------------------------------------------------------------------------
    let alerts = alert_ingest(&on, &mut db).await?;
    for (_, pair) in &alerts.levels {
        let base = table.add(
            "Alertmanager POST /api/v2/alerts, 10 alerts (in memory)",
            pair.am.clone(),
            None,
        );
        table.add(
            "alert ingest: POST /api/v1/webhooks/alertmanager, 10 alerts (v4) → 202, committed",
            pair.fd.clone(),
            Some(base),
        );
    }

    for pair in &alert_path {
        let base = table.add(
            "Alertmanager POST /api/v2/alerts, 10 alerts (in memory)",
            pair.am.clone(),
            None,
        );
        table.add(
            "alert ingest → 202, alert applier off (the request path alone)",
            pair.fd.clone(),
            Some(base),
        );
    }

    // --- 5. Health grid ---------------------------------------------------------------------------
    progress(format!(
        "bulk-loading {GRID_COMPONENTS} components and {GRID_ALERTS} alerts"
    ));
    let t = Instant::now();
    load_grid(&mut db).await?;
    let load_took = t.elapsed();
    progress(format!("health grid, {GRID_SAMPLES} samples"));
    let grid = health_grid(&on, &database_url).await?;
    let base = table.add(
        "SELECT slug, name, status FROM components (sqlx PgPool)",
        Sample::new(1, grid.baseline, None),
        None,
    );
    table.add(
        "GET /api/v1/health (10k components, 1M alerts stored)",
        Sample::new(1, grid.grid, None),
        Some(base),
    );

    on.stop().await?;
    drop(db);
    testing::drop_postgres(&database_url).await;
    let _ = std::fs::remove_dir_all(&stamp_dir);

    // --- Report -----------------------------------------------------------------------------
    for (c, backlog, took) in &drains {
        table.notes.push(if *backlog == 0 {
            format!("Inbox worker after the {c}-sender run (worker on): it had kept up, nothing was pending.")
        } else {
            format!(
                "Inbox worker (batches of 50, one transaction each) after the {c}-sender run: {backlog} deliveries \
                 still pending when the senders stopped, applied in {:.2} s ({:.0}/s with no ingest competing).",
                took.as_secs_f64(),
                *backlog as f64 / took.as_secs_f64().max(1e-9),
            )
        });
    }
    table.notes.push(format!(
        "Nothing lost: worker off {stored_off} inbox rows = {} accepted; worker on {stored_on} rows = {accepted_on} accepted, {applied_on} applied.",
        accepted_off
    ));
    table.notes.push(format!(
        "Ingest rows: {REQUESTS} measured requests per level after {WARMUP} warm-up; closed loop, each sender (own keep-alive \
         connection) sends its next request when the previous one is answered. Body {} bytes, HMAC-SHA256 signed, \
         distinct X-GitHub-Delivery each. Baseline: the inbox's own INSERT … ON CONFLICT DO NOTHING into \
         bench_raw (LIKE inbox INCLUDING ALL), same database, pool of `conc` connections. Server pool: {SERVER_POOL}.",
        body.len()
    ));
    table.notes.push(
        "CPU column: CPU time over the measured run ÷ requests, from /proc. tokio = this process's threads other \
         than the HTTP workers: the senders (in the raw rows, the sqlx client) and the server's tasks spawned on the \
         same runtime (inbox writer, inbox worker, live hub); actix = the HTTP workers (routing, verification, \
         parsing, the handler); PG = the PostgreSQL backends of the bench's database. 10 ms clock ticks, so about \
         ±3 µs/req at 3000 requests."
            .to_owned(),
    );
    table.notes.push(format!(
        "Rollback rows: {ROLLBACKS} rollbacks, each after two succeeded deploys; the executor's program is this binary with \
         --stamp (writes CLOCK_REALTIME ns, exits), compared with the client's clock just before sending. Baseline: \
         spawning it with tokio::process::Command as the executor does (piped output, own process group)."
    ));
    table.notes.push(format!(
        "Live rows: {LIVE_SAMPLES} samples after {LIVE_WARMUP} warm-up, one at a time, each a new GitHub deployment reported \
         `success`; timed to the arrival of its first deployment.updated on a WebSocket subscribed to everything. \
         The baseline is the least any durable live event costs."
    ));
    for ((c, pair), ratios) in alerts.levels.iter().zip(&alerts.ratios) {
        let AlertPair {
            am,
            am_cpu,
            backlog,
            applied,
            cpu,
            ..
        } = pair;
        let am_rate = am.throughput.unwrap_or(f64::MAX);
        let ratio = pair.ratio();
        let all: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        let end_to_end = ALERT_REQUESTS as f64 / applied.as_secs_f64().max(1e-9);
        table.notes.push(format!(
            "Alert ingest ratio at {c} senders (Flightdeck req/s ÷ Alertmanager req/s): {ratio:.2}, the median of \
             {ALERT_PAIRS} back-to-back pairs ({}); the figures here and in the table are that pair's. Applied end to end \
             (first send → last notification applied: episodes, history, live events committed): {end_to_end:.0} \
             notifications/s, {:.2}× Alertmanager's accept rate; {backlog} were still queued when the senders stopped; \
             {cpu:.0} µs of CPU per notification from first send to last applied (senders, server and PostgreSQL, as in \
             the CPU column). Alertmanager's own CPU (not in the CPU column, another process): {am_cpu:.0} µs/req.",
            all.join(", "),
            end_to_end / am_rate
        ));
    }
    table.notes.push(format!(
        "Alert rows: {ALERT_REQUESTS} measured notifications per run after {ALERT_WARMUP} warm-up, closed loop, one \
         keep-alive connection per sender; each carries {ALERTS_PER_BATCH} alerts with distinct labels, every \
         {REPEAT_EVERY}th repeats the sender's previous one. Alertmanager 0.25 (Debian, a fresh process per run, stopped \
         before Flightdeck's turn) gets the same alerts in its v2 API shape (labels, annotations, startsAt, endsAt, \
         generatorURL) and keeps them in memory only; Flightdeck \
         answers 202 once the notification is committed to its inbox (group commit), and its alert applier applies \
         the inbox in arrival order on the same two cores: at once after idle, then holding back while senders wait \
         for their 202s, for at most a second before it applies regardless (ingest first). No component exists during \
         this run, so no status rollup happens. The request-path rows send the same notifications to a server whose \
         workers are off: what storing alone costs, each against its own Alertmanager run (median of \
         {ALERT_PAIRS} pairs). Nothing lost: {} episodes stored = {} distinct alerts accepted, with {} history rows \
         (repeats changed nothing); every notification applied.",
        alerts.stored, alerts.accepted, alerts.history
    ));
    table.notes.push(format!(
        "Grid rows: {GRID_SAMPLES} sequential samples after {GRID_WARMUP} warm-up, each GET answering {} components \
         ({} KB of JSON); {GRID_COMPONENTS} components and {GRID_ALERTS} alerts (1% live) bulk-loaded with \
         INSERT … SELECT generate_series in {:.1} s. Baseline: the same rows' slug, name and status through a \
         PgPool of {SERVER_POOL}.",
        grid.components,
        grid.bytes / 1024,
        load_took.as_secs_f64()
    ));
    table.notes.push(format!(
        "Machine: {} CPUs, load average {load_before} before and {} after; PostgreSQL {pg_version} ({}); the senders, \
         the server and PostgreSQL share the machine. Whole run {:.0} s.",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
        pg_settings.join(", "),
        bench_started.elapsed().as_secs_f64()
    ));
    table.print();
    Ok(())
}
