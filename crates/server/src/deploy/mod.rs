//! Deployments as a process: creating one, moving it through the state machine whoever reports
//! (executor, callback, webhook, a person cancelling), and keeping the target's current version
//! in the same transaction.

pub mod executor;

use chrono::{DateTime, Utc};
use flightdeck_domain::deployment::{self, Transition};
use flightdeck_model::{Deployment, DeploymentStatus, Id};
use flightdeck_store::{
    DeploymentRecord, NewDeploymentEvent, StatusChange, StoreError, StoreResult, Tx,
};
use serde_json::{Value, json};

pub const DEPLOYMENT_UPDATED: &str = "deployment.updated";
pub const TARGET_UPDATED: &str = "target.updated";
pub const DEPLOYMENT_LOG: &str = "deployment.log";

/// A status report from anyone: the executor, a pipeline's callback, a CI webhook, a person.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: DeploymentStatus,
    pub actor: String,
    pub message: String,
    pub ci_url: Option<String>,
}

/// Live events to append with a change.
pub type Events = Vec<(&'static str, Value)>;

pub fn deployment_event(d: &Deployment) -> (&'static str, Value) {
    (
        DEPLOYMENT_UPDATED,
        serde_json::to_value(d).expect("deployments serialise"),
    )
}

/// Applies `report` to the deployment inside `tx` through the state machine. A report that
/// would move it backwards, or change a finished one, is kept on the timeline and changes
/// nothing else. A success makes its version the target's current one, in the same
/// transaction.
pub async fn record_status(
    tx: &mut dyn Tx,
    record: DeploymentRecord,
    report: &Report,
    now: DateTime<Utc>,
) -> StoreResult<(DeploymentRecord, Events)> {
    let d = &record.deployment;
    let mut events = Events::new();
    let (from, to) = match deployment::apply(d.status, report.status) {
        Transition::Moved { from, to } => (from, to),
        Transition::Unchanged => return Ok((record, events)),
        Transition::Ignored { reason } => {
            let note = format!("{reason} ({}: {})", report.actor, report.message);
            let event = NewDeploymentEvent {
                deployment_id: d.id,
                at: now,
                status: None,
                actor: report.actor.clone(),
                message: note,
            };
            tx.insert_deployment_event(&event).await?;
            return Ok((record, events));
        }
    };
    let stamps = deployment::stamps(from, to, now);
    let change = StatusChange {
        status: to,
        started_at: stamps.started_at,
        finished_at: stamps.finished_at,
        ci_url: report.ci_url.clone(),
    };
    let updated = tx.update_deployment_status(d.id, &change).await?;
    tx.insert_deployment_event(&NewDeploymentEvent {
        deployment_id: d.id,
        at: now,
        status: Some(to),
        actor: report.actor.clone(),
        message: report.message.clone(),
    })
    .await?;
    events.push(deployment_event(&updated.deployment));
    if to == DeploymentStatus::Succeeded {
        let d = &updated.deployment;
        tx.set_target_current(
            updated.service_id,
            updated.environment_id,
            d.id,
            &d.version,
            now,
        )
        .await?;
        events.push((
            TARGET_UPDATED,
            json!({ "service": d.service, "environment": d.environment, "current_version": d.version,
                    "current_deployment": d }),
        ));
    }
    Ok((updated, events))
}

/// Loads, applies and commits a report; the one way status changes outside a larger
/// transaction. Returns the deployment as it is afterwards.
pub async fn report_status(
    state: &crate::state::AppState,
    id: Id,
    report: &Report,
) -> StoreResult<Deployment> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let record = tx.deployment_by_id(id).await?.ok_or(StoreError::NotFound)?;
    let (updated, events) = record_status(&mut *tx, record, report, now).await?;
    state.commit(tx, None, events, now).await?;
    Ok(updated.deployment)
}

/// After a restart of the embedded (SQLite, single-process) server, deployments whose command or
/// webhook executor ran in the previous process can never finish: fail them, with the reason, so
/// their targets are free again. With PostgreSQL another replica may still be running them, so
/// nothing is touched there.
pub async fn fail_orphans(state: &crate::state::AppState) -> StoreResult<usize> {
    if state.store.backend() != flightdeck_store::Backend::Sqlite {
        return Ok(0);
    }
    let mut db = state.store.conn().await?;
    let mut orphans = Vec::new();
    for status in [DeploymentStatus::Queued, DeploymentStatus::InProgress] {
        let filter = flightdeck_store::DeploymentFilter {
            status: Some(status),
            ..Default::default()
        };
        orphans.extend(
            db.list_deployments(&filter, 1000)
                .await?
                .into_iter()
                .filter(|d| d.executor != "record"),
        );
    }
    drop(db);
    for d in &orphans {
        let report = Report {
            status: DeploymentStatus::Failed,
            actor: "system".into(),
            message: format!(
                "the server restarted while the {} executor was running; its outcome is unknown",
                d.executor
            ),
            ci_url: None,
        };
        report_status(state, d.id, &report).await?;
    }
    Ok(orphans.len())
}
