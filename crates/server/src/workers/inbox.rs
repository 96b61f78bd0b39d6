//! Applies stored webhook deliveries. Each batch is one transaction: claim (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, so several workers never take the same row), apply through the state
//! machine, write timeline, audit and live events, mark done, commit. A crash anywhere rolls the
//! whole batch back and it is applied after restart — never half, never twice.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use flightdeck_domain::catalog::{environment_matches, repository_matches};
use flightdeck_model::{DeploymentKind, DeploymentStatus, Environment, Service};
use flightdeck_store::{InboxRecord, InboxState, NewAudit, NewDeployment, StoreResult, Tx};
use flightdeck_webhooks::{DeployReport, InboundEvent, ReportedStatus, Source};

use crate::{
    deploy::{self, Events, Report},
    state::AppState,
};

/// Deliveries applied per transaction.
const BATCH: u32 = 50;
/// How often the worker looks for deliveries stored by other replicas.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Runs until the process ends.
pub async fn run(state: Arc<AppState>) {
    loop {
        match drain(&state).await {
            Ok(0) => {
                // Woken at once by a delivery on this replica; otherwise poll for the others'.
                let _ = tokio::time::timeout(IDLE_POLL, state.inbox_ready.notified()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "inbox batch failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Applies one batch; returns how many deliveries it handled.
pub async fn drain(state: &AppState) -> StoreResult<usize> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let batch = tx.claim_inbox(BATCH).await?;
    if batch.is_empty() {
        return Ok(0);
    }
    let mut events = Events::new();
    let mut audits = Vec::new();
    // The catalog once per batch, not per delivery.
    let catalog = Catalog {
        services: tx.list_services().await?,
        environments: tx.list_environments().await?,
    };
    for row in &batch {
        let outcome = apply(&mut *tx, &catalog, row, now).await?;
        tx.finish_inbox(row.id, outcome.state, outcome.note.as_deref(), now)
            .await?;
        events.extend(outcome.events);
        audits.extend(outcome.audit);
    }
    // One commit for the batch: every change, its audit entry and its live events together.
    let n = batch.len();
    for entry in audits {
        let saved = tx.insert_audit(&entry, now).await?;
        events.push((
            crate::state::AUDIT_CREATED,
            serde_json::to_value(&saved).expect("audit entries serialise"),
        ));
    }
    state.commit(tx, None, events, now).await?;
    Ok(n)
}

struct Catalog {
    services: Vec<Service>,
    environments: Vec<Environment>,
}

struct Outcome {
    state: InboxState,
    note: Option<String>,
    events: Events,
    audit: Option<NewAudit>,
}

impl Outcome {
    fn done(state: InboxState, note: impl Into<String>) -> Self {
        Outcome {
            state,
            note: Some(note.into()),
            events: Events::new(),
            audit: None,
        }
    }
}

fn headers_for(row: &InboxRecord) -> Vec<(String, String)> {
    let mut h = Vec::new();
    if let Some(event) = &row.event_type {
        let name = if row.source == "gitlab" {
            "X-Gitlab-Event"
        } else {
            "X-GitHub-Event"
        };
        h.push((name.to_owned(), event.clone()));
    }
    let id_header = if row.source == "gitlab" {
        "Idempotency-Key"
    } else {
        "X-GitHub-Delivery"
    };
    h.push((id_header.to_owned(), row.delivery_id.clone()));
    h
}

async fn apply(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    row: &InboxRecord,
    now: DateTime<Utc>,
) -> StoreResult<Outcome> {
    let Ok(source) = row.source.parse::<Source>() else {
        return Ok(Outcome::done(
            InboxState::Failed,
            format!("unknown source `{}`", row.source),
        ));
    };
    let inbound = match source.parse(&headers_for(row), row.body.as_bytes()) {
        Ok(inbound) => inbound,
        Err(e) => return Ok(Outcome::done(InboxState::Failed, e.to_string())),
    };
    let report = match inbound.event {
        InboundEvent::Ping => return Ok(Outcome::done(InboxState::Ignored, "ping")),
        InboundEvent::Ignored { reason } => return Ok(Outcome::done(InboxState::Ignored, reason)),
        InboundEvent::Deploy(report) => report,
    };
    let Some(service) = match_service(catalog, &report) else {
        let note = format!(
            "no service matches {}",
            report
                .service_hint
                .clone()
                .unwrap_or_else(|| report.repositories.join(", "))
        );
        return Ok(Outcome::done(InboxState::Unmatched, note));
    };
    let Some(env) = catalog
        .environments
        .iter()
        .find(|e| environment_matches(e, &report.environment))
    else {
        return Ok(Outcome::done(
            InboxState::Unmatched,
            format!("no environment named `{}`", report.environment),
        ));
    };
    apply_report(tx, source, &report, service, env, now).await
}

fn match_service<'a>(catalog: &'a Catalog, report: &DeployReport) -> Option<&'a Service> {
    if let Some(slug) = &report.service_hint {
        return catalog.services.iter().find(|s| &s.slug == slug);
    }
    catalog.services.iter().find(|s| {
        s.repositories.iter().any(|configured| {
            report
                .repositories
                .iter()
                .any(|r| repository_matches(configured, r))
        })
    })
}

async fn apply_report(
    tx: &mut dyn Tx,
    source: Source,
    report: &DeployReport,
    service: &Service,
    env: &Environment,
    now: DateTime<Utc>,
) -> StoreResult<Outcome> {
    let actor = match &report.actor {
        Some(who) => format!("{source} ({who})"),
        None => source.to_string(),
    };
    let status = match &report.status {
        ReportedStatus::Known(status) => *status,
        ReportedStatus::Unknown(raw) => {
            // Recorded on the deployment's timeline when there is one; never an error.
            if let Some(existing) = tx.deployment_by_external_id(&report.external_id).await? {
                tx.insert_deployment_event(&flightdeck_store::NewDeploymentEvent {
                    deployment_id: existing.deployment.id,
                    at: now,
                    status: None,
                    actor,
                    message: format!("{source} reported status `{raw}`, which Flightdeck does not map; nothing changed"),
                })
                .await?;
            }
            return Ok(Outcome::done(
                InboxState::Ignored,
                format!("unmapped status `{raw}`"),
            ));
        }
    };
    let message = format!("{source} reported {}", report.raw_status);
    let to_report = |actor: String| Report {
        status,
        actor,
        message: message.clone(),
        ci_url: report.url.clone(),
    };

    // Already known: the source's events of one deployment share its external id.
    if let Some(existing) = tx.deployment_by_external_id(&report.external_id).await? {
        let (_, events) = deploy::record_status(tx, existing, &to_report(actor), now).await?;
        return Ok(Outcome {
            state: InboxState::Applied,
            note: None,
            events,
            audit: None,
        });
    }
    // A deployment started here and waiting for CI to report on the same version: adopt it.
    if let Some(active) = tx.active_deployment(service.id, env.id).await? {
        if active.deployment.version == report.version && active.external_id.is_none() {
            tx.set_external_id(active.deployment.id, &report.external_id)
                .await?;
            let (_, events) = deploy::record_status(tx, active, &to_report(actor), now).await?;
            return Ok(Outcome {
                state: InboxState::Applied,
                note: None,
                events,
                audit: None,
            });
        }
        if status.is_active() {
            let note = format!(
                "{}/{} already has active deployment {} of {}; this report was kept, not applied",
                service.slug, env.slug, active.deployment.id, active.deployment.version
            );
            return Ok(Outcome::done(InboxState::Unmatched, note));
        }
    }
    let current = tx
        .target(service.id, env.id)
        .await?
        .and_then(|t| t.current_version);
    let id = uuid::Uuid::now_v7();
    let new = NewDeployment {
        id,
        service_id: service.id,
        environment_id: env.id,
        version: report.version.clone(),
        kind: DeploymentKind::Deploy,
        status: DeploymentStatus::Queued,
        description: report.description.clone(),
        created_by: actor.clone(),
        now,
        previous_version: current,
        rollback_to: None,
        reason: None,
        source: source.as_str().into(),
        external_id: Some(report.external_id.clone()),
        commit_sha: report.commit_sha.clone(),
        commit_url: report.commit_url.clone(),
        ci_url: report.url.clone(),
        committed_at: report.committed_at,
        executor: "record".into(),
        callback_digest: None,
    };
    let created = match tx.insert_deployment(&new).await {
        Ok(created) => created,
        // A finished report while another deployment is active: keep it, say why.
        Err(flightdeck_store::StoreError::Conflict { .. }) => {
            return Ok(Outcome::done(
                InboxState::Unmatched,
                format!(
                    "{}/{} is busy with another deployment",
                    service.slug, env.slug
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    tx.insert_deployment_event(&flightdeck_store::NewDeploymentEvent {
        deployment_id: id,
        at: now,
        status: Some(DeploymentStatus::Queued),
        actor: actor.clone(),
        message: format!("reported by {source}"),
    })
    .await?;
    let mut events = vec![deploy::deployment_event(&created.deployment)];
    let (_, more) = deploy::record_status(tx, created, &to_report(actor.clone()), now).await?;
    events.extend(more);
    let audit = NewAudit {
        actor,
        action: "deployment.report".into(),
        target_type: "deployment".into(),
        target_id: id.to_string(),
        after: Some(serde_json::json!({
            "service": service.slug, "environment": env.slug, "version": report.version,
            "status": report.raw_status, "source": source.as_str(), "external_id": report.external_id,
        })),
        ..Default::default()
    };
    Ok(Outcome {
        state: InboxState::Applied,
        note: None,
        events,
        audit: Some(audit),
    })
}
