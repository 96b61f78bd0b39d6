//! Carrying deployments out: `record` waits for CI, `webhook` calls a URL, `command` runs a
//! program and streams its output. Each runs in its own task after the deployment is committed.

use std::{
    collections::HashMap,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use flightdeck_model::{
    CommandExecutor, Deployment, DeploymentStatus, ExecutorConfig, Id, LogStream, WebhookExecutor,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    sync::{mpsc, watch},
};

use super::{DEPLOYMENT_LOG, Report, report_status};
use crate::state::AppState;

/// Longest line kept in a deployment log; longer ones are cut (and say so).
const MAX_LINE: usize = 4096;
/// Lines kept per deployment; after that the output is dropped with a note.
const MAX_LINES: i64 = 20_000;
/// How often buffered output is written and sent live.
const FLUSH_EVERY: Duration = Duration::from_millis(150);
/// How often a running command checks whether someone (on any replica) finished the
/// deployment, e.g. by cancelling it.
const STATUS_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Running executions on this replica, so a cancel can stop them at once.
#[derive(Default)]
pub struct Executions {
    running: Mutex<HashMap<Id, watch::Sender<bool>>>,
}

impl Executions {
    fn register(&self, id: Id) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        self.running.lock().expect("executions lock").insert(id, tx);
        rx
    }

    fn finish(&self, id: Id) {
        self.running.lock().expect("executions lock").remove(&id);
    }

    /// Signals a running execution to stop; false when it does not run here.
    pub fn cancel(&self, id: Id) -> bool {
        match self.running.lock().expect("executions lock").get(&id) {
            Some(tx) => tx.send(true).is_ok(),
            None => false,
        }
    }
}

/// The values templates may use.
pub struct Vars {
    pub service: String,
    pub environment: String,
    pub version: String,
    pub deployment_id: String,
    pub callback_url: String,
    pub callback_token: String,
}

impl Vars {
    pub fn render(&self, template: &str) -> String {
        template
            .replace("{service}", &self.service)
            .replace("{environment}", &self.environment)
            .replace("{version}", &self.version)
            .replace("{deployment_id}", &self.deployment_id)
            .replace("{callback_url}", &self.callback_url)
            .replace("{callback_token}", &self.callback_token)
    }

    fn render_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.render(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.render_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.render_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Starts the deployment's executor in the background.
pub fn dispatch(state: Arc<AppState>, deployment: Deployment, config: ExecutorConfig, vars: Vars) {
    tokio::spawn(async move {
        let id = deployment.id;
        let result = match config {
            ExecutorConfig::Record => Ok(()),
            ExecutorConfig::Webhook(cfg) => run_webhook(&state, &deployment, &cfg, &vars).await,
            ExecutorConfig::Command(cfg) => run_command(&state, &deployment, &cfg, &vars).await,
        };
        if let Err(e) = result {
            tracing::error!(deployment = %id, error = %e, "executor failed");
            let report = Report {
                status: DeploymentStatus::Failed,
                actor: "executor".into(),
                message: format!("executor error: {e}"),
                ci_url: None,
            };
            if let Err(e) = report_status(&state, id, &report).await {
                tracing::error!(deployment = %id, error = %e, "could not record executor failure");
            }
        }
    });
}

fn report(status: DeploymentStatus, message: impl Into<String>) -> Report {
    Report {
        status,
        actor: "executor".into(),
        message: message.into(),
        ci_url: None,
    }
}

async fn run_webhook(
    state: &AppState,
    deployment: &Deployment,
    cfg: &WebhookExecutor,
    vars: &Vars,
) -> anyhow::Result<()> {
    let method = reqwest::Method::from_bytes(cfg.method.to_uppercase().as_bytes())?;
    let url = vars.render(&cfg.url);
    let body = cfg.body.as_ref().map(|b| vars.render_json(b));
    let mut attempt = 0;
    loop {
        let mut req = state
            .http
            .request(method.clone(), &url)
            .timeout(Duration::from_secs(u64::from(cfg.timeout_secs.max(1))));
        for (name, value) in &cfg.headers {
            req = req.header(name, vars.render(value));
        }
        if let Some(body) = &body {
            req = req.json(body);
        }
        let outcome = req.send().await;
        let retryable = match &outcome {
            Ok(resp) if resp.status().is_success() => {
                let msg = format!(
                    "triggered: {} {} answered {}",
                    method,
                    redact_query(&url),
                    resp.status()
                );
                report_status(
                    state,
                    deployment.id,
                    &report(DeploymentStatus::InProgress, msg),
                )
                .await?;
                return Ok(());
            }
            Ok(resp) => resp.status().is_server_error() || resp.status() == 429,
            Err(_) => true,
        };
        let what = match outcome {
            Ok(resp) => format!("HTTP {}", resp.status()),
            Err(e) => format!("request failed: {e}"),
        };
        if !retryable || attempt >= cfg.retries {
            let msg = format!("trigger failed after {} attempt(s): {what}", attempt + 1);
            report_status(state, deployment.id, &report(DeploymentStatus::Failed, msg)).await?;
            return Ok(());
        }
        append_logs(
            state,
            deployment.id,
            vec![(
                LogStream::System,
                format!("attempt {}: {what}; retrying", attempt + 1),
            )],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt))).await;
        attempt += 1;
    }
}

/// Query strings often carry trigger tokens; logs and timelines show the path only.
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

async fn run_command(
    state: &Arc<AppState>,
    deployment: &Deployment,
    cfg: &CommandExecutor,
    vars: &Vars,
) -> anyhow::Result<()> {
    let id = deployment.id;
    let mut cancel = state.executions.register(id);
    let result = supervise(state, deployment, cfg, vars, &mut cancel).await;
    state.executions.finish(id);
    result
}

async fn supervise(
    state: &Arc<AppState>,
    deployment: &Deployment,
    cfg: &CommandExecutor,
    vars: &Vars,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let id = deployment.id;
    let mut command = tokio::process::Command::new(vars.render(&cfg.program));
    command
        .args(cfg.args.iter().map(|a| vars.render(a)))
        .envs(cfg.env.iter().map(|(k, v)| (k.clone(), vars.render(v))))
        .env("FLIGHTDECK_SERVICE", &vars.service)
        .env("FLIGHTDECK_ENVIRONMENT", &vars.environment)
        .env("FLIGHTDECK_VERSION", &vars.version)
        .env("FLIGHTDECK_DEPLOYMENT_ID", &vars.deployment_id)
        .env("FLIGHTDECK_CALLBACK_URL", &vars.callback_url)
        .env("FLIGHTDECK_CALLBACK_TOKEN", &vars.callback_token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a cancel or timeout stops everything it started.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &cfg.working_dir {
        command.current_dir(vars.render(dir));
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let msg = format!("could not start `{}`: {e}", cfg.program);
            report_status(state, id, &report(DeploymentStatus::Failed, msg)).await?;
            return Ok(());
        }
    };
    let pid = child.id();
    report_status(
        state,
        id,
        &report(
            DeploymentStatus::InProgress,
            format!("started `{}` (pid {})", cfg.program, pid.unwrap_or(0)),
        ),
    )
    .await?;

    let (lines_tx, lines_rx) = mpsc::channel(1024);
    tokio::spawn(read_lines(
        child.stdout.take().expect("piped"),
        LogStream::Stdout,
        lines_tx.clone(),
    ));
    tokio::spawn(read_lines(
        child.stderr.take().expect("piped"),
        LogStream::Stderr,
        lines_tx,
    ));
    let writer = tokio::spawn(write_output(Arc::clone(state), id, lines_rx));

    let timeout = tokio::time::sleep(Duration::from_secs(u64::from(cfg.timeout_secs.max(1))));
    tokio::pin!(timeout);
    let mut check = tokio::time::interval(STATUS_CHECK_EVERY);
    let outcome = loop {
        tokio::select! {
            status = child.wait() => break Outcome::Exited(status?),
            _ = &mut timeout => break Outcome::TimedOut,
            _ = cancel.changed() => break Outcome::Stopped,
            _ = check.tick() => {
                if finished_elsewhere(state, id).await {
                    break Outcome::Stopped;
                }
            }
        }
    };
    if !matches!(outcome, Outcome::Exited(_)) {
        kill_group(pid);
        let _ = child.wait().await;
    }
    // All output is written before the final status, so the log is complete when it flips.
    let _ = writer.await;
    let final_report = match outcome {
        Outcome::Exited(status) if status.success() => {
            report(DeploymentStatus::Succeeded, "exited with code 0")
        }
        Outcome::Exited(status) => report(
            DeploymentStatus::Failed,
            match status.code() {
                Some(code) => format!("exited with code {code}"),
                None => "killed by a signal".to_owned(),
            },
        ),
        Outcome::TimedOut => report(
            DeploymentStatus::TimedOut,
            format!("no exit after {} s; process group killed", cfg.timeout_secs),
        ),
        // Cancelled through the API: the status is already recorded.
        Outcome::Stopped => return Ok(()),
    };
    report_status(state, id, &final_report).await?;
    Ok(())
}

enum Outcome {
    Exited(std::process::ExitStatus),
    TimedOut,
    Stopped,
}

async fn finished_elsewhere(state: &AppState, id: Id) -> bool {
    match state.store.conn().await {
        Ok(mut db) => {
            matches!(db.deployment_by_id(id).await, Ok(Some(r)) if r.deployment.status.is_terminal())
        }
        Err(_) => false,
    }
}

fn kill_group(pid: Option<u32>) {
    use nix::{
        sys::signal::{Signal, killpg},
        unistd::Pid,
    };
    if let Some(pid) = pid {
        let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
}

async fn read_lines(
    pipe: impl AsyncRead + Unpin,
    stream: LogStream,
    tx: mpsc::Sender<(LogStream, String)>,
) {
    let mut lines = BufReader::new(pipe).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(mut line)) => {
                if line.len() > MAX_LINE {
                    let mut cut = MAX_LINE;
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    line.truncate(cut);
                    line.push_str(" …[line cut]");
                }
                if tx.send((stream, line)).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                // Not UTF-8, most likely; say so rather than dropping output silently.
                let _ = tx
                    .send((
                        LogStream::System,
                        format!("unreadable {stream:?} output: {e}"),
                    ))
                    .await;
                return;
            }
        }
    }
}

/// Batches output lines into the log and the live feed.
async fn write_output(state: Arc<AppState>, id: Id, mut rx: mpsc::Receiver<(LogStream, String)>) {
    let mut written: i64 = 0;
    let mut buffer = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(line) => buffer.push(line),
                None => break,
            },
            _ = tick.tick() => {
                written += flush(&state, id, &mut buffer, written).await;
            }
        }
    }
    flush(&state, id, &mut buffer, written).await;
}

async fn flush(
    state: &AppState,
    id: Id,
    buffer: &mut Vec<(LogStream, String)>,
    written: i64,
) -> i64 {
    if buffer.is_empty() {
        return 0;
    }
    let mut lines: Vec<_> = std::mem::take(buffer);
    let room = (MAX_LINES - written).max(0) as usize;
    if lines.len() > room {
        lines.truncate(room);
        if room > 0 {
            lines.push((
                LogStream::System,
                format!("output beyond {MAX_LINES} lines is not kept"),
            ));
        }
    }
    let n = lines.len() as i64;
    append_logs(state, id, lines).await;
    n
}

async fn append_logs(state: &AppState, id: Id, lines: Vec<(LogStream, String)>) {
    if lines.is_empty() {
        return;
    }
    let now = Utc::now();
    let result = async {
        let mut tx = state.store.begin().await?;
        let saved = tx.append_logs(id, &lines, now).await?;
        let data = serde_json::json!({ "deployment_id": id, "lines": saved });
        state
            .commit(tx, None, vec![(DEPLOYMENT_LOG, data)], now)
            .await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(deployment = %id, error = %e, "could not store deployment output");
    }
}
