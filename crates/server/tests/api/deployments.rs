//! Deployments and rollbacks through the API: the catalog, the `record` executor and its
//! callback, the `command` executor (output, exit codes, timeout, cancel), choosing and auditing
//! rollbacks, one active deployment per target, locks, history filters, the live feed, and bad
//! input.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use flightdeck_client::{Client, ClientError};
use flightdeck_model::{
    AuditEntry, AuditQuery, CommandExecutor, CreateDeployment, CreateEnvironment, CreateRollback,
    CreateService, Deployment, DeploymentKind, DeploymentStatus, ExecutorConfig, Id, LiveEvent,
    LockEnvironment, LogStream, Problem, Role, Service, StatusReport, UpdateEnvironment,
    UpdateService,
};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use crate::helpers::*;

const CHECKOUT: &str = "checkout-api";
const CART: &str = "cart-api";
const STAGING: &str = "staging";
const PRODUCTION: &str = "production";

/// Long enough for a slow CI machine, short enough that a hang fails the test promptly.
const DEADLINE: Duration = Duration::from_secs(15);

// --- fixtures ---

fn new_service(slug: &str) -> CreateService {
    CreateService {
        slug: slug.into(),
        name: format!("The {slug}"),
        team: Some("payments".into()),
        repositories: vec![format!("acme/{slug}")],
    }
}

fn new_environment(slug: &str, rank: i32, protected: bool) -> CreateEnvironment {
    CreateEnvironment {
        slug: slug.into(),
        name: slug.to_uppercase(),
        rank,
        protected,
        aliases: vec![],
        freeze_windows: vec![],
    }
}

/// `checkout-api` and `cart-api`; `staging` (rank 20) and `production` (rank 30, protected).
async fn seed_catalog(app: &TestApp) {
    for slug in [CHECKOUT, CART] {
        app.admin.create_service(&new_service(slug)).await.unwrap();
    }
    app.admin
        .create_environment(&new_environment(STAGING, 20, false))
        .await
        .unwrap();
    app.admin
        .create_environment(&new_environment(PRODUCTION, 30, true))
        .await
        .unwrap();
}

fn deploy_of(service: &str, environment: &str, version: &str) -> CreateDeployment {
    CreateDeployment {
        service: service.into(),
        environment: environment.into(),
        version: version.into(),
        description: None,
        confirm: None,
        commit_sha: None,
        commit_url: None,
        committed_at: None,
    }
}

fn confirmed(mut body: CreateDeployment) -> CreateDeployment {
    body.confirm = Some(body.environment.clone());
    body
}

fn rollback_of(service: &str, environment: &str, reason: &str) -> CreateRollback {
    CreateRollback {
        service: service.into(),
        environment: environment.into(),
        to_deployment: None,
        reason: reason.into(),
        confirm: None,
    }
}

fn report(status: DeploymentStatus) -> StatusReport {
    StatusReport {
        status,
        message: None,
        url: None,
        log: vec![],
    }
}

/// A `command` executor running `script` with `/bin/sh -c`.
fn sh(script: &str, timeout_secs: u32) -> ExecutorConfig {
    ExecutorConfig::Command(CommandExecutor {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: BTreeMap::new(),
        working_dir: None,
        timeout_secs,
    })
}

fn callback_token(d: &Deployment) -> &str {
    &d.callback
        .as_ref()
        .expect("the create response carries the callback")
        .token
}

/// Reports `status` for `d` with its own callback token, as a pipeline would.
async fn pipeline_reports(app: &TestApp, d: &Deployment, status: DeploymentStatus) -> Deployment {
    app.client
        .report_status(d.id, callback_token(d), &report(status))
        .await
        .unwrap()
}

/// Deploys `version` with the `record` executor and reports it in progress, then succeeded.
async fn deployed(app: &TestApp, service: &str, environment: &str, version: &str) -> Deployment {
    let d = app
        .admin
        .deploy(&confirmed(deploy_of(service, environment, version)))
        .await
        .unwrap();
    pipeline_reports(app, &d, DeploymentStatus::InProgress).await;
    let done = pipeline_reports(app, &d, DeploymentStatus::Succeeded).await;
    assert_eq!(done.status, DeploymentStatus::Succeeded);
    done
}

/// POSTs `body` as JSON and returns the status with the parsed body.
async fn post_raw(
    client: &Client,
    path: &str,
    body: &impl serde::Serialize,
) -> (u16, serde_json::Value) {
    let resp = client
        .request(Method::POST, path)
        .unwrap()
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// POSTs `body` and asserts a 202 with a deployment in it.
async fn accepted(client: &Client, path: &str, body: &impl serde::Serialize) -> Deployment {
    let (status, body) = post_raw(client, path, body).await;
    assert_eq!(status, 202, "{body}");
    serde_json::from_value(body).unwrap()
}

fn problem_of(err: &ClientError) -> &Problem {
    err.problem()
        .unwrap_or_else(|| panic!("expected a problem+json answer, got {err}"))
}

fn fields(err: &ClientError) -> Vec<&str> {
    problem_of(err)
        .errors
        .iter()
        .map(|e| e.field.as_str())
        .collect()
}

fn detail(err: &ClientError) -> &str {
    problem_of(err).detail.as_deref().unwrap_or_default()
}

/// Polls the deployment every 50 ms until it has `status`; panics with the last status seen
/// once `deadline` has passed.
async fn wait_for_status(
    client: &Client,
    id: Id,
    status: DeploymentStatus,
    deadline: Duration,
) -> Deployment {
    let until = Instant::now() + deadline;
    loop {
        let d = client.get_deployment(id).await.unwrap();
        if d.status == status {
            return d;
        }
        if Instant::now() >= until {
            panic!(
                "deployment {id} did not become {status} within {deadline:?}; last seen {}",
                d.status
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the deployment every 50 ms for `period`, failing as soon as its status is not
/// `status`: the check that nothing moves it.
async fn assert_stays(client: &Client, id: Id, status: DeploymentStatus, period: Duration) {
    let until = Instant::now() + period;
    while Instant::now() < until {
        let seen = client.get_deployment(id).await.unwrap().status;
        assert_eq!(seen, status, "deployment {id} moved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls every 50 ms until `path` holds `n` complete lines, each a process id.
async fn wait_for_pids(path: &Path, n: usize, deadline: Duration) -> Vec<u32> {
    let until = Instant::now() + deadline;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
            && text.lines().count() == n
        {
            return text.lines().map(|l| l.trim().parse().unwrap()).collect();
        }
        assert!(
            Instant::now() < until,
            "{} did not get {n} process ids within {deadline:?}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `pid` still runs. A zombie does not: it has exited and only awaits reaping by a
/// parent (for grandchildren, whatever init this machine has).
fn process_runs(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) state …`; comm may hold spaces, so read after the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Polls every 50 ms until none of `pids` runs; panics naming the survivors after `deadline`.
async fn wait_for_exit(pids: &[u32], deadline: Duration) {
    let until = Instant::now() + deadline;
    loop {
        let running: Vec<_> = pids.iter().filter(|&&p| process_runs(p)).collect();
        if running.is_empty() {
            return;
        }
        assert!(
            Instant::now() < until,
            "processes {running:?} still run {deadline:?} later"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A script that writes its shell's pid and its background `sleep`'s pid to `pid_file`, then
/// waits: so a test can check the whole process group is gone, not just the shell.
fn sleeper(pid_file: &Path) -> String {
    let f = pid_file.display();
    format!("echo $$ > {f}; sleep 30 & echo $! >> {f}; wait")
}

async fn current_version(app: &TestApp, service: &str, environment: &str) -> Option<String> {
    app.admin
        .environment_status(environment)
        .await
        .unwrap()
        .targets
        .into_iter()
        .find(|t| t.service == service)
        .unwrap_or_else(|| panic!("{environment} status lists {service}"))
        .current_version
}

async fn audit_entries(app: &TestApp, action: &str) -> Vec<AuditEntry> {
    app.admin
        .list_audit(&AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

async fn list_ids(app: &TestApp, query: &[(&str, &str)]) -> Vec<Id> {
    app.admin
        .list_deployments(query)
        .await
        .unwrap()
        .items
        .iter()
        .map(|d| d.id)
        .collect()
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("flightdeck-{name}-{}", Id::now_v7().simple()))
}

// --- the catalog ---

#[tokio::test]
async fn admins_manage_the_catalog_viewers_cannot_and_bad_slugs_are_refused() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let viewer = app.user_with_role(Role::Viewer).await;

        let checkout = app
            .admin
            .create_service(&new_service(CHECKOUT))
            .await
            .unwrap();
        assert_eq!(
            (checkout.slug.as_str(), checkout.team.as_deref()),
            (CHECKOUT, Some("payments"))
        );
        app.admin.create_service(&new_service(CART)).await.unwrap();
        let production = app
            .admin
            .create_environment(&new_environment(PRODUCTION, 30, true))
            .await
            .unwrap();
        assert!(production.protected);
        assert!(production.lock.is_none());
        app.admin
            .create_environment(&new_environment(STAGING, 20, false))
            .await
            .unwrap();

        let refused = viewer
            .create_service(&new_service("search"))
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(403));
        let refused = viewer
            .create_environment(&new_environment("qa", 15, false))
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(403));
        let refused = viewer
            .update_service(
                CHECKOUT,
                &UpdateService {
                    name: Some("hijacked".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(403));

        let taken = app
            .admin
            .create_service(&new_service(CHECKOUT))
            .await
            .unwrap_err();
        assert_eq!(taken.status(), Some(409));
        let taken = app
            .admin
            .create_environment(&new_environment(STAGING, 21, false))
            .await
            .unwrap_err();
        assert_eq!(taken.status(), Some(409));

        let invalid = app
            .admin
            .create_service(&CreateService {
                repositories: vec![],
                ..new_service("Checkout API")
            })
            .await
            .unwrap_err();
        assert_eq!(invalid.status(), Some(422));
        assert_eq!(fields(&invalid), ["slug"]);
        let invalid = app
            .admin
            .create_environment(&new_environment("-prod", 40, false))
            .await
            .unwrap_err();
        assert_eq!(invalid.status(), Some(422));
        assert_eq!(fields(&invalid), ["slug"]);

        let services: Vec<_> = viewer
            .list_services()
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|s| s.slug)
            .collect();
        assert_eq!(services, [CART, CHECKOUT], "by slug, nothing refused added");
        let environments: Vec<_> = viewer
            .list_environments()
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.slug)
            .collect();
        assert_eq!(environments, [STAGING, PRODUCTION], "by rank");

        let got: Service = viewer
            .request(Method::GET, "api/v1/services/checkout-api")
            .unwrap()
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got, checkout);
        let missing = viewer
            .request(Method::GET, "api/v1/environments/nowhere")
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let renamed = app
            .admin
            .update_service(
                CHECKOUT,
                &UpdateService {
                    name: Some("Checkout API".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "Checkout API");
        assert_eq!(
            renamed.team.as_deref(),
            Some("payments"),
            "absent fields stay"
        );
        let reranked = app
            .admin
            .update_environment(
                PRODUCTION,
                &UpdateEnvironment {
                    rank: Some(35),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!((reranked.rank, reranked.protected), (35, true));
        let got: flightdeck_model::Environment = viewer
            .request(Method::GET, "api/v1/environments/production")
            .unwrap()
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got, reranked);

        let status = viewer.environment_status(STAGING).await.unwrap();
        assert_eq!(status.environment.slug, STAGING);
        let targets: Vec<_> = status
            .targets
            .iter()
            .map(|t| {
                (
                    t.service.as_str(),
                    t.current_version.clone(),
                    t.latest_deployment.is_none(),
                )
            })
            .collect();
        assert_eq!(targets, [(CART, None, true), (CHECKOUT, None, true)]);
    }
}

// --- the record executor and the callback ---

#[tokio::test]
async fn a_recorded_deploy_waits_queued_until_its_pipeline_calls_back_and_late_reports_change_nothing()
 {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let deployer = app.user_with_role(Role::Deployer).await;

        let created = accepted(
            &deployer,
            "api/v1/deployments",
            &deploy_of(CHECKOUT, STAGING, "1.4.2"),
        )
        .await;
        assert_eq!(created.status, DeploymentStatus::Queued);
        assert_eq!(created.kind, DeploymentKind::Deploy);
        assert_eq!(created.executor, "record");
        let callback = created.callback.clone().expect("callback in the 202");
        assert_eq!(
            callback.url,
            format!("{}/api/v1/deployments/{}/status", app.url, created.id)
        );
        assert!(callback.token.starts_with("fdc_"));
        assert_stays(
            &app.admin,
            created.id,
            DeploymentStatus::Queued,
            Duration::from_millis(400),
        )
        .await;
        let fetched = app.admin.get_deployment(created.id).await.unwrap();
        assert!(fetched.callback.is_none(), "the token is shown once");
        let listed = app.admin.list_deployments(&[]).await.unwrap();
        assert!(listed.items.iter().all(|d| d.callback.is_none()));
        assert!(
            !serde_json::to_string(&listed)
                .unwrap()
                .contains(&callback.token)
        );

        let running = app
            .client
            .report_status(
                created.id,
                &callback.token,
                &StatusReport {
                    log: vec!["migrating schema".into(), "rolling pods".into()],
                    url: Some("https://ci.example.com/runs/42".into()),
                    ..report(DeploymentStatus::InProgress)
                },
            )
            .await
            .unwrap();
        assert_eq!(running.status, DeploymentStatus::InProgress);
        assert!(running.started_at.is_some());
        assert_eq!(
            running.ci_url.as_deref(),
            Some("https://ci.example.com/runs/42")
        );
        let logs = app.admin.deployment_logs(created.id, 0).await.unwrap();
        let lines: Vec<_> = logs
            .iter()
            .map(|l| (l.n, l.stream, l.line.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, LogStream::Stdout, "migrating schema"),
                (2, LogStream::Stdout, "rolling pods")
            ]
        );
        assert_eq!(current_version(&app, CHECKOUT, STAGING).await, None);
        let done = pipeline_reports(&app, &created, DeploymentStatus::Succeeded).await;
        assert_eq!(done.status, DeploymentStatus::Succeeded);
        assert!(done.finished_at.is_some());
        let status = app.admin.environment_status(STAGING).await.unwrap();
        let target = status
            .targets
            .iter()
            .find(|t| t.service == CHECKOUT)
            .unwrap();
        assert_eq!(target.current_version.as_deref(), Some("1.4.2"));
        assert_eq!(
            target.current_deployment.as_ref().map(|d| d.id),
            Some(created.id)
        );

        let late = pipeline_reports(&app, &created, DeploymentStatus::InProgress).await;
        assert_eq!(late.status, DeploymentStatus::Succeeded);
        assert_eq!(
            app.admin.get_deployment(created.id).await.unwrap().status,
            DeploymentStatus::Succeeded
        );
        let timeline = app.admin.deployment_events(created.id).await.unwrap();
        let statuses: Vec<_> = timeline.iter().filter_map(|e| e.status).collect();
        assert_eq!(
            statuses,
            [
                DeploymentStatus::Queued,
                DeploymentStatus::InProgress,
                DeploymentStatus::Succeeded
            ]
        );
        let last = timeline.last().unwrap();
        assert!(last.status.is_none());
        assert!(last.message.contains("ignored"), "{}", last.message);
        assert_eq!(
            current_version(&app, CHECKOUT, STAGING).await.as_deref(),
            Some("1.4.2")
        );

        let other = app
            .admin
            .deploy(&deploy_of(CART, STAGING, "7"))
            .await
            .unwrap();
        let wrong = app
            .client
            .report_status(
                created.id,
                callback_token(&other),
                &report(DeploymentStatus::Failed),
            )
            .await
            .unwrap_err();
        assert_eq!(wrong.status(), Some(401));
        let forged = app
            .client
            .report_status(other.id, "fdc_forged", &report(DeploymentStatus::Failed))
            .await
            .unwrap_err();
        assert_eq!(forged.status(), Some(401));
        assert_eq!(
            app.admin.get_deployment(other.id).await.unwrap().status,
            DeploymentStatus::Queued
        );
    }
}

// --- the command executor ---

#[tokio::test]
async fn a_command_executor_streams_its_output_and_its_success_makes_the_version_current() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        app.admin
            .set_executor(
                STAGING,
                None,
                &sh("echo deploying {version}; echo oops >&2; exit 0", 60),
            )
            .await
            .unwrap();

        let created = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "2.0.1"))
            .await
            .unwrap();
        assert_eq!(created.executor, "command");
        let done = wait_for_status(
            &app.admin,
            created.id,
            DeploymentStatus::Succeeded,
            DEADLINE,
        )
        .await;

        assert!(done.started_at.is_some() && done.finished_at.is_some());
        let logs = app.admin.deployment_logs(created.id, 0).await.unwrap();
        let lines: Vec<_> = logs.iter().map(|l| (l.stream, l.line.as_str())).collect();
        assert!(
            lines.contains(&(LogStream::Stdout, "deploying 2.0.1")),
            "{lines:?}"
        );
        assert!(lines.contains(&(LogStream::Stderr, "oops")), "{lines:?}");
        let numbers: Vec<_> = logs.iter().map(|l| l.n).collect();
        assert_eq!(numbers, (1..=logs.len() as i64).collect::<Vec<_>>());
        assert_eq!(
            current_version(&app, CHECKOUT, STAGING).await.as_deref(),
            Some("2.0.1")
        );
    }
}

#[tokio::test]
async fn a_command_that_exits_non_zero_fails_and_leaves_the_current_version_alone() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        deployed(&app, CHECKOUT, STAGING, "1.0.0").await;
        app.admin
            .set_executor(STAGING, None, &sh("echo about to fail; exit 3", 60))
            .await
            .unwrap();

        let created = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "1.1.0"))
            .await
            .unwrap();
        wait_for_status(&app.admin, created.id, DeploymentStatus::Failed, DEADLINE).await;

        let timeline = app.admin.deployment_events(created.id).await.unwrap();
        let last = timeline.last().unwrap();
        assert_eq!(last.status, Some(DeploymentStatus::Failed));
        assert!(last.message.contains("code 3"), "{}", last.message);
        let status = app.admin.environment_status(STAGING).await.unwrap();
        let target = status
            .targets
            .iter()
            .find(|t| t.service == CHECKOUT)
            .unwrap();
        assert_eq!(target.current_version.as_deref(), Some("1.0.0"));
        assert_eq!(
            target.latest_deployment.as_ref().map(|d| (d.id, d.status)),
            Some((created.id, DeploymentStatus::Failed))
        );
    }
}

#[tokio::test]
async fn a_command_that_outlives_its_timeout_is_timed_out_within_seconds() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let pid_file = temp_path("timeout-pids");
        app.admin
            .set_executor(STAGING, None, &sh(&sleeper(&pid_file), 1))
            .await
            .unwrap();

        let started = Instant::now();
        let created = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "3.0.0"))
            .await
            .unwrap();
        let pids = wait_for_pids(&pid_file, 2, DEADLINE).await;
        wait_for_status(
            &app.admin,
            created.id,
            DeploymentStatus::TimedOut,
            Duration::from_secs(6),
        )
        .await;

        assert!(started.elapsed() < Duration::from_secs(6));
        wait_for_exit(&pids, Duration::from_secs(3)).await;
        let timeline = app.admin.deployment_events(created.id).await.unwrap();
        let last = timeline.last().unwrap();
        assert_eq!(last.status, Some(DeploymentStatus::TimedOut));
        assert!(last.message.contains("1 s"), "{}", last.message);
        assert_eq!(current_version(&app, CHECKOUT, STAGING).await, None);
        let _ = std::fs::remove_file(&pid_file);
    }
}

#[tokio::test]
async fn cancelling_a_running_command_cancels_the_deployment_and_kills_its_process() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let pid_file = temp_path("cancel-pids");
        app.admin
            .set_executor(STAGING, None, &sh(&sleeper(&pid_file), 120))
            .await
            .unwrap();
        let created = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "4.0.0"))
            .await
            .unwrap();
        wait_for_status(
            &app.admin,
            created.id,
            DeploymentStatus::InProgress,
            DEADLINE,
        )
        .await;
        let pids = wait_for_pids(&pid_file, 2, DEADLINE).await;
        assert!(pids.iter().all(|&p| process_runs(p)), "the command runs");

        let cancelled = app
            .admin
            .cancel_deployment(created.id, Some("wrong build"))
            .await
            .unwrap();

        assert_eq!(cancelled.status, DeploymentStatus::Cancelled);
        wait_for_exit(&pids, Duration::from_secs(3)).await;
        assert_stays(
            &app.admin,
            created.id,
            DeploymentStatus::Cancelled,
            Duration::from_millis(300),
        )
        .await;
        let timeline = app.admin.deployment_events(created.id).await.unwrap();
        let last = timeline.last().unwrap();
        assert_eq!(
            (last.status, last.actor.as_str(), last.message.as_str()),
            (Some(DeploymentStatus::Cancelled), "admin", "wrong build")
        );
        let audit = audit_entries(&app, "deployment.cancel").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].reason.as_deref(), Some("wrong build"));
        let again = app
            .admin
            .cancel_deployment(created.id, None)
            .await
            .unwrap_err();
        assert_eq!(again.status(), Some(409));
        let _ = std::fs::remove_file(&pid_file);
    }
}

// --- rollbacks ---

#[tokio::test]
async fn a_rollback_after_a_failed_deploy_restores_the_last_good_version_with_an_audit_entry() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        // Every version deploys except v2.
        app.admin
            .set_executor(
                STAGING,
                None,
                &sh("echo deploying {version}; test {version} != v2", 60),
            )
            .await
            .unwrap();
        let v1 = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "v1"))
            .await
            .unwrap()
            .id;
        wait_for_status(&app.admin, v1, DeploymentStatus::Succeeded, DEADLINE).await;
        let v2 = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "v2"))
            .await
            .unwrap()
            .id;
        wait_for_status(&app.admin, v2, DeploymentStatus::Failed, DEADLINE).await;

        let preview = app.admin.preview_rollback(CHECKOUT, STAGING).await.unwrap();
        assert_eq!(
            (
                preview.from_version.as_deref(),
                preview.to_version.as_str(),
                preview.to_deployment,
                preview.protected
            ),
            (Some("v2"), "v1", v1, false)
        );

        let rollback = accepted(
            &app.admin,
            "api/v1/rollbacks",
            &rollback_of(CHECKOUT, STAGING, "v2 breaks the basket"),
        )
        .await;
        assert_eq!(rollback.kind, DeploymentKind::Rollback);
        assert_eq!(rollback.version, "v1");
        assert_eq!(rollback.rollback_to, Some(v1));
        assert_eq!(rollback.reason.as_deref(), Some("v2 breaks the basket"));
        assert_eq!(rollback.previous_version.as_deref(), Some("v2"));
        wait_for_status(
            &app.admin,
            rollback.id,
            DeploymentStatus::Succeeded,
            DEADLINE,
        )
        .await;
        let status = app.admin.environment_status(STAGING).await.unwrap();
        let target = status
            .targets
            .iter()
            .find(|t| t.service == CHECKOUT)
            .unwrap();
        assert_eq!(target.current_version.as_deref(), Some("v1"));
        assert_eq!(
            target.current_deployment.as_ref().map(|d| d.id),
            Some(rollback.id)
        );

        let audit = audit_entries(&app, "deployment.rollback").await;
        assert_eq!(audit.len(), 1);
        let entry = &audit[0];
        assert_eq!(entry.actor, "admin");
        assert_eq!(entry.target_id, rollback.id.to_string());
        assert_eq!(entry.reason.as_deref(), Some("v2 breaks the basket"));
        assert_eq!(entry.after.as_ref().unwrap()["version"], "v1");
        assert!(entry.request_id.is_some());
        // From which version: the failed v2 the rollback moves away from, as the preview said.
        assert_eq!(
            entry.before.as_ref().unwrap()["version"],
            "v2",
            "the audit entry records the version rolled back from: {entry:?}"
        );
    }
}

#[tokio::test]
async fn after_two_good_deploys_a_rollback_restores_the_previous_version() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let v1 = deployed(&app, CHECKOUT, STAGING, "v1").await;
        deployed(&app, CHECKOUT, STAGING, "v2").await;

        let preview = app.admin.preview_rollback(CHECKOUT, STAGING).await.unwrap();
        assert_eq!(
            (preview.from_version.as_deref(), preview.to_version.as_str()),
            (Some("v2"), "v1")
        );
        let rollback = accepted(
            &app.admin,
            "api/v1/rollbacks",
            &rollback_of(CHECKOUT, STAGING, "latency doubled"),
        )
        .await;

        assert_eq!(
            (
                rollback.version.as_str(),
                rollback.rollback_to,
                rollback.previous_version.as_deref()
            ),
            ("v1", Some(v1.id), Some("v2"))
        );
        pipeline_reports(&app, &rollback, DeploymentStatus::Succeeded).await;
        assert_eq!(
            current_version(&app, CHECKOUT, STAGING).await.as_deref(),
            Some("v1")
        );
        let audit = audit_entries(&app, "deployment.rollback").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].before.as_ref().unwrap()["version"], "v2");
        assert_eq!(audit[0].after.as_ref().unwrap()["version"], "v1");
        assert_eq!(audit[0].reason.as_deref(), Some("latency doubled"));
        // Back on v1, the next rollback would go forward to v2 again.
        let next = app.admin.preview_rollback(CHECKOUT, STAGING).await.unwrap();
        assert_eq!(
            (next.from_version.as_deref(), next.to_version.as_str()),
            (Some("v1"), "v2")
        );
    }
}

/// The environment status answers for every service at once (the Overview's matrix): each
/// target's current version and newest deployment, never another service's or environment's.
#[tokio::test]
async fn an_environment_status_lists_every_service_with_its_own_current_and_latest_deployment() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let checkout_v1 = deployed(&app, CHECKOUT, STAGING, "c1").await;
        let cart_v1 = deployed(&app, CART, STAGING, "k1").await;
        deployed(&app, CHECKOUT, PRODUCTION, "c9").await;
        // A newer checkout deployment still waiting for its pipeline: latest, not current.
        let waiting = app
            .admin
            .deploy(&confirmed(deploy_of(CHECKOUT, STAGING, "c2")))
            .await
            .unwrap();

        let status = app.admin.environment_status(STAGING).await.unwrap();
        let summary: Vec<_> = status
            .targets
            .iter()
            .map(|t| {
                (
                    t.service.as_str(),
                    t.environment.as_str(),
                    t.current_version.as_deref(),
                    t.current_deployment.as_ref().map(|d| d.id),
                    t.latest_deployment.as_ref().map(|d| d.id),
                )
            })
            .collect();
        let mut expected = vec![
            (
                CHECKOUT,
                STAGING,
                Some("c1"),
                Some(checkout_v1.id),
                Some(waiting.id),
            ),
            (
                CART,
                STAGING,
                Some("k1"),
                Some(cart_v1.id),
                Some(cart_v1.id),
            ),
        ];
        let mut summary = summary;
        summary.sort();
        expected.sort();
        assert_eq!(summary, expected);

        // An environment where only one service ever ran lists the other with nothing.
        let production = app.admin.environment_status(PRODUCTION).await.unwrap();
        let cart = production
            .targets
            .iter()
            .find(|t| t.service == CART)
            .unwrap();
        assert_eq!(
            (
                cart.current_version.as_deref(),
                cart.latest_deployment.is_none()
            ),
            (None, true)
        );
    }
}

#[tokio::test]
async fn versions_marked_bad_are_never_rolled_back_to() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let v0 = deployed(&app, CHECKOUT, STAGING, "v0").await;
        let v1 = deployed(&app, CHECKOUT, STAGING, "v1").await;
        deployed(&app, CHECKOUT, STAGING, "v2").await;

        let marked = app.admin.mark_bad(v1.id, "corrupts carts").await.unwrap();
        assert!(marked.marked_bad);
        let preview = app.admin.preview_rollback(CHECKOUT, STAGING).await.unwrap();
        assert_eq!(
            (preview.to_version.as_str(), preview.to_deployment),
            ("v0", v0.id),
            "the older good version"
        );

        app.admin.mark_bad(v0.id, "also bad").await.unwrap();
        let refused = app
            .admin
            .rollback(&rollback_of(CHECKOUT, STAGING, "v2 is slow"))
            .await
            .unwrap_err();

        assert_eq!(refused.status(), Some(422));
        assert!(
            detail(&refused).contains("no earlier succeeded version"),
            "{}",
            detail(&refused)
        );
        assert!(
            list_ids(&app, &[("kind", "rollback")]).await.is_empty(),
            "nothing was started"
        );
        let explicit = app
            .admin
            .rollback(&CreateRollback {
                to_deployment: Some(v1.id),
                ..rollback_of(CHECKOUT, STAGING, "v2 is slow")
            })
            .await
            .unwrap_err();
        assert_eq!(explicit.status(), Some(422));
        assert!(
            detail(&explicit).contains("marked bad"),
            "{}",
            detail(&explicit)
        );
    }
}

#[tokio::test]
async fn a_rollback_needs_a_reason_and_a_protected_environment_needs_its_slug_typed() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let unconfirmed = app
            .admin
            .deploy(&deploy_of(CHECKOUT, PRODUCTION, "v1"))
            .await
            .unwrap_err();
        assert_eq!(unconfirmed.status(), Some(422));
        assert_eq!(fields(&unconfirmed), ["confirm"]);
        deployed(&app, CHECKOUT, PRODUCTION, "v1").await;
        deployed(&app, CHECKOUT, PRODUCTION, "v2").await;

        let no_reason = app
            .admin
            .rollback(&CreateRollback {
                confirm: Some(PRODUCTION.into()),
                ..rollback_of(CHECKOUT, PRODUCTION, "   ")
            })
            .await
            .unwrap_err();
        assert_eq!(no_reason.status(), Some(422));
        assert_eq!(fields(&no_reason), ["reason"]);
        let (status, body) = post_raw(
            &app.admin,
            "api/v1/rollbacks",
            &json!({ "service": CHECKOUT, "environment": PRODUCTION, "confirm": PRODUCTION }),
        )
        .await;
        assert_eq!(status, 422, "a missing reason: {body}");
        for confirm in [None, Some("Production"), Some("staging")] {
            let refused = app
                .admin
                .rollback(&CreateRollback {
                    confirm: confirm.map(str::to_owned),
                    ..rollback_of(CHECKOUT, PRODUCTION, "errors spiking")
                })
                .await
                .unwrap_err();
            assert_eq!(refused.status(), Some(422), "confirm {confirm:?}");
            assert_eq!(fields(&refused), ["confirm"]);
        }
        assert!(list_ids(&app, &[("kind", "rollback")]).await.is_empty());

        let rollback = accepted(
            &app.admin,
            "api/v1/rollbacks",
            &CreateRollback {
                confirm: Some(PRODUCTION.into()),
                ..rollback_of(CHECKOUT, PRODUCTION, "errors spiking")
            },
        )
        .await;
        assert_eq!(
            (rollback.kind, rollback.version.as_str()),
            (DeploymentKind::Rollback, "v1")
        );
    }
}

// --- one active deployment per target; locks ---

#[tokio::test]
async fn a_target_has_one_active_deployment_and_a_lock_refuses_deploys_but_not_rollbacks() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        let first = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "v1"))
            .await
            .unwrap();

        let busy = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "v2"))
            .await
            .unwrap_err();
        assert_eq!(busy.status(), Some(409));
        assert!(
            detail(&busy).contains(&first.id.to_string()),
            "{}",
            detail(&busy)
        );
        app.admin
            .deploy(&deploy_of(CART, STAGING, "v1"))
            .await
            .expect("another target is independent");
        app.admin
            .deploy(&confirmed(deploy_of(CHECKOUT, PRODUCTION, "v1")))
            .await
            .expect("another environment is independent");

        pipeline_reports(&app, &first, DeploymentStatus::Succeeded).await;
        deployed(&app, CHECKOUT, STAGING, "v2").await;
        let locked = app
            .admin
            .lock_environment(
                STAGING,
                &LockEnvironment {
                    reason: "incident INC-42 in progress".into(),
                    expires_in_minutes: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            locked.lock.as_ref().map(|l| l.reason.as_str()),
            Some("incident INC-42 in progress")
        );

        let refused = app
            .admin
            .deploy(&deploy_of(CHECKOUT, STAGING, "v3"))
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(409));
        assert!(
            detail(&refused).contains("incident INC-42 in progress"),
            "{}",
            detail(&refused)
        );
        let rollback = accepted(
            &app.admin,
            "api/v1/rollbacks",
            &rollback_of(CHECKOUT, STAGING, "INC-42: back to v1"),
        )
        .await;
        assert_eq!(rollback.version, "v1");
        pipeline_reports(&app, &rollback, DeploymentStatus::Succeeded).await;

        app.admin.unlock_environment(STAGING).await.unwrap();
        let after = accepted(
            &app.admin,
            "api/v1/deployments",
            &deploy_of(CHECKOUT, STAGING, "v3"),
        )
        .await;
        assert_eq!(after.status, DeploymentStatus::Queued);

        let locks = audit_entries(&app, "environment.lock").await;
        assert_eq!(locks.len(), 1);
        assert_eq!(locks[0].target_id, STAGING);
        assert_eq!(
            locks[0].reason.as_deref(),
            Some("incident INC-42 in progress")
        );
        let unlocks = audit_entries(&app, "environment.unlock").await;
        assert_eq!(unlocks.len(), 1);
        assert_eq!(unlocks[0].actor, "admin");
        assert_eq!(
            unlocks[0].before.as_ref().unwrap()["lock"]["reason"],
            "incident INC-42 in progress",
            "the unlock records which lock it lifted"
        );
    }
}

#[tokio::test]
async fn a_hundred_concurrent_rollbacks_of_one_target_start_exactly_one() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed_catalog(&app).await;
        deployed(&app, CHECKOUT, STAGING, "v1").await;
        deployed(&app, CHECKOUT, STAGING, "v2").await;

        let body = rollback_of(CHECKOUT, STAGING, "stampede");
        let results =
            futures_util::future::join_all((0..100).map(|_| app.admin.rollback(&body))).await;

        let started: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(started.len(), 1, "{backend:?}");
        let statuses: Vec<_> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| e.status())
            .collect();
        assert_eq!(statuses, vec![Some(409); 99], "{backend:?}");
        let rollbacks = list_ids(&app, &[("kind", "rollback")]).await;
        assert_eq!(rollbacks, [started[0].id]);
        assert_eq!(
            audit_entries(&app, "deployment.rollback").await.len(),
            1,
            "one audit entry"
        );
    }
}

#[tokio::test]
async fn a_concurrent_deploy_refused_by_the_database_still_names_the_deployment_in_the_way() {
    // On PostgreSQL, requests that pass the active-deployment check together are stopped by the
    // unique index instead; their refusal must say the same as the others'. The race is timing
    // dependent, so a few stampedes, each with more connections than the default five.
    let app = spawn_app_with(Backend::Postgres, |s| s.database_max_connections = 20).await;
    seed_catalog(&app).await;
    let mut vague = Vec::new();
    for round in 0..5 {
        let body = deploy_of(CHECKOUT, STAGING, &format!("v{round}"));
        let results =
            futures_util::future::join_all((0..100).map(|_| app.admin.deploy(&body))).await;

        let started: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(started.len(), 1, "round {round}");
        let winner = started[0].id.to_string();
        vague.extend(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .map(|e| detail(e).to_owned())
                .filter(|d| !d.contains(&winner)),
        );
        app.admin
            .cancel_deployment(started[0].id, None)
            .await
            .unwrap();
    }
    assert!(
        vague.is_empty(),
        "{} of 495 refusals do not name the deployment in the way: {:?}",
        vague.len(),
        vague.first()
    );
}

// --- history ---

#[tokio::test]
async fn deployment_history_filters_by_service_environment_status_and_kind_and_pages_newest_first()
{
    let app = spawn_app(Backend::Postgres).await;
    seed_catalog(&app).await;
    let d1 = deployed(&app, CHECKOUT, STAGING, "v1").await.id;
    let cart = app
        .admin
        .deploy(&deploy_of(CART, STAGING, "c1"))
        .await
        .unwrap();
    pipeline_reports(&app, &cart, DeploymentStatus::Failed).await;
    let d2 = cart.id;
    let d3 = deployed(&app, CHECKOUT, PRODUCTION, "v1").await.id;
    let d4 = deployed(&app, CHECKOUT, STAGING, "v2").await.id;
    let d5 = app
        .admin
        .rollback(&rollback_of(CHECKOUT, STAGING, "v2 regressed"))
        .await
        .unwrap()
        .id;
    let cancelled = app
        .admin
        .deploy(&confirmed(deploy_of(CART, PRODUCTION, "c1")))
        .await
        .unwrap();
    app.admin
        .cancel_deployment(cancelled.id, None)
        .await
        .unwrap();
    let d6 = cancelled.id;

    assert_eq!(list_ids(&app, &[]).await, [d6, d5, d4, d3, d2, d1]);
    assert_eq!(
        list_ids(&app, &[("service", CHECKOUT)]).await,
        [d5, d4, d3, d1]
    );
    assert_eq!(
        list_ids(&app, &[("environment", STAGING)]).await,
        [d5, d4, d2, d1]
    );
    assert_eq!(
        list_ids(&app, &[("status", "succeeded")]).await,
        [d4, d3, d1]
    );
    assert_eq!(list_ids(&app, &[("status", "queued")]).await, [d5]);
    assert_eq!(list_ids(&app, &[("status", "failed")]).await, [d2]);
    assert_eq!(list_ids(&app, &[("status", "cancelled")]).await, [d6]);
    assert_eq!(list_ids(&app, &[("kind", "rollback")]).await, [d5]);
    assert_eq!(
        list_ids(
            &app,
            &[
                ("service", CHECKOUT),
                ("environment", STAGING),
                ("kind", "deploy")
            ]
        )
        .await,
        [d4, d1]
    );
    assert!(list_ids(&app, &[("service", "nobody")]).await.is_empty());
    let d4_at = app
        .admin
        .get_deployment(d4)
        .await
        .unwrap()
        .created_at
        .to_rfc3339();
    assert_eq!(list_ids(&app, &[("since", &d4_at)]).await, [d6, d5, d4]);
    assert_eq!(list_ids(&app, &[("until", &d4_at)]).await, [d3, d2, d1]);

    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "4")];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let page = app.admin.list_deployments(&query).await.unwrap();
        pages.push(page.items.iter().map(|d| d.id).collect::<Vec<_>>());
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(pages, [vec![d6, d5, d4, d3], vec![d2, d1]]);
    let paged_filter = app
        .admin
        .list_deployments(&[("environment", STAGING), ("limit", "3")])
        .await
        .unwrap();
    let cursor = paged_filter.next_cursor.expect("a second page");
    let rest = list_ids(
        &app,
        &[
            ("environment", STAGING),
            ("limit", "3"),
            ("cursor", cursor.as_str()),
        ],
    )
    .await;
    assert_eq!(rest, [d1]);

    let bad = app
        .admin
        .list_deployments(&[("status", "exploded")])
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400));
}

// --- the live feed ---

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(app_url: &str) -> Ws {
    let url = format!("{}/api/v1/stream", app_url.replace("http://", "ws://"));
    connect_async(url).await.expect("websocket connects").0
}

async fn hello(ws: &mut Ws, token: &str, since: Option<i64>, topics: &[&str]) {
    let msg = json!({ "token": token, "since": since, "topics": topics }).to_string();
    ws.send(Message::Text(msg.into())).await.unwrap();
}

async fn next_event(ws: &mut Ws) -> LiveEvent {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Err(_) => panic!("no event within 10 s"),
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(Message::Close(frame)))) => panic!("socket closed: {frame:?}"),
            Ok(Some(Ok(_))) => continue,
            Ok(None) | Ok(Some(Err(_))) => panic!("socket dropped"),
        }
    }
}

#[tokio::test]
async fn the_live_feed_shows_a_command_deploy_move_through_its_states_with_its_output() {
    let app = spawn_app(Backend::Sqlite).await;
    seed_catalog(&app).await;
    app.admin
        .set_executor(
            STAGING,
            None,
            &sh("echo deploying {version}; echo oops >&2", 60),
        )
        .await
        .unwrap();
    // Start from the current head so nothing committed while subscribing is missed.
    let head = app
        .store
        .conn()
        .await
        .unwrap()
        .event_bounds()
        .await
        .unwrap()
        .map_or(0, |b| b.1);
    let mut ws = open(&app.url).await;
    hello(
        &mut ws,
        app.admin.token().unwrap(),
        Some(head),
        &["deployment", "target"],
    )
    .await;

    let created = app
        .admin
        .deploy(&deploy_of(CHECKOUT, STAGING, "9.9.9"))
        .await
        .unwrap();

    let mut statuses = Vec::new();
    let mut output = Vec::new();
    let mut target = None;
    let mut last_seq = head;
    let until = Instant::now() + DEADLINE;
    while target.is_none() || statuses.last() != Some(&DeploymentStatus::Succeeded) {
        assert!(
            Instant::now() < until,
            "saw {statuses:?}, {output:?}, target {target:?}"
        );
        let event = next_event(&mut ws).await;
        assert!(event.seq > last_seq, "in order");
        last_seq = event.seq;
        match event.kind.as_str() {
            "deployment.updated" => {
                let d: Deployment = serde_json::from_value(event.data).unwrap();
                assert_eq!(d.id, created.id);
                assert!(
                    d.callback.is_none(),
                    "the callback token is never broadcast"
                );
                statuses.push(d.status);
            }
            "deployment.log" => {
                assert_eq!(event.data["deployment_id"], created.id.to_string());
                let lines: Vec<flightdeck_model::LogLine> =
                    serde_json::from_value(event.data["lines"].clone()).unwrap();
                output.extend(lines.into_iter().map(|l| (l.stream, l.line)));
            }
            "target.updated" => target = Some(event.data),
            other => panic!("unexpected {other} event"),
        }
    }

    assert_eq!(
        statuses,
        [
            DeploymentStatus::Queued,
            DeploymentStatus::InProgress,
            DeploymentStatus::Succeeded
        ]
    );
    let target = target.unwrap();
    assert_eq!(
        (
            &target["service"],
            &target["environment"],
            &target["current_version"]
        ),
        (&json!(CHECKOUT), &json!(STAGING), &json!("9.9.9"))
    );
    assert!(
        output.contains(&(LogStream::Stdout, "deploying 9.9.9".to_owned())),
        "{output:?}"
    );
    assert!(
        output.contains(&(LogStream::Stderr, "oops".to_owned())),
        "{output:?}"
    );
}

// --- bad input ---

#[tokio::test]
async fn a_deploy_naming_unknown_things_or_with_malformed_json_is_refused_and_writes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    seed_catalog(&app).await;

    let unknown_service = app
        .admin
        .deploy(&deploy_of("ghost", STAGING, "v1"))
        .await
        .unwrap_err();
    assert_eq!(unknown_service.status(), Some(422));
    assert_eq!(fields(&unknown_service), ["service"]);
    let unknown_env = app
        .admin
        .deploy(&deploy_of(CHECKOUT, "moon", "v1"))
        .await
        .unwrap_err();
    assert_eq!(unknown_env.status(), Some(422));
    assert_eq!(fields(&unknown_env), ["environment"]);
    let both = app
        .admin
        .deploy(&deploy_of("ghost", "moon", "v1"))
        .await
        .unwrap_err();
    assert_eq!(fields(&both), ["service", "environment"]);
    let bad_version = app
        .admin
        .deploy(&deploy_of(CHECKOUT, STAGING, "1.0 final"))
        .await
        .unwrap_err();
    assert_eq!(bad_version.status(), Some(422));
    assert_eq!(fields(&bad_version), ["version"]);
    let unknown_rollback = app
        .admin
        .rollback(&rollback_of("ghost", STAGING, "why not"))
        .await
        .unwrap_err();
    assert_eq!(unknown_rollback.status(), Some(422));
    assert_eq!(fields(&unknown_rollback), ["service"]);

    let malformed = app
        .admin
        .request(Method::POST, "api/v1/deployments")
        .unwrap()
        .header("content-type", "application/json")
        .body("{\"service\": \"checkout-api\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let problem: Problem = malformed.json().await.unwrap();
    assert!(problem.detail.unwrap().contains("malformed JSON"));
    let (status, _) = post_raw(
        &app.admin,
        "api/v1/deployments",
        &json!({ "service": CHECKOUT, "environment": STAGING }),
    )
    .await;
    assert_eq!(status, 422, "a missing version");

    let viewer = app.user_with_role(Role::Viewer).await;
    let forbidden = viewer
        .deploy(&deploy_of(CHECKOUT, STAGING, "v1"))
        .await
        .unwrap_err();
    assert_eq!(forbidden.status(), Some(403));

    let nobody = Id::now_v7();
    assert_eq!(
        app.admin.get_deployment(nobody).await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        app.admin
            .deployment_events(nobody)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    assert_eq!(
        app.admin
            .cancel_deployment(nobody, None)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    assert_eq!(
        app.admin
            .mark_bad(nobody, "never existed")
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    assert_eq!(
        app.client
            .report_status(nobody, "fdc_nothing", &report(DeploymentStatus::Succeeded))
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );

    assert!(list_ids(&app, &[]).await.is_empty(), "nothing was written");
    assert!(audit_entries(&app, "deployment.").await.is_empty());
}
