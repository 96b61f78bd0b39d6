//! The SLO poller: every `slo_poll_secs` it evaluates every SLO against Prometheus with the
//! integrations crate's [`SloEvaluator`], stores the evaluation and a history row, recomputes the
//! component's status (SLO burn included) and emits `slo.updated` and
//! `component.status_changed` in the same transaction.
//!
//! One replica at a time: with Redis, the replica holding the lease
//! `flightdeck:lease:slo-poller` (set `NX PX 2×interval`, renewed each round by its holder)
//! polls; without Redis, each process polls by itself (the embedded mode has one). When Redis
//! cannot be reached the round runs anyway: a duplicate evaluation only adds a history row,
//! while a missed one would let SLOs go stale. Prometheus errors are logged and recorded on the
//! SLO; they never stop the loop.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use flightdeck_integrations::{
    Auth,
    prometheus::{Prometheus, SloEvaluation, SloEvaluator},
};
use flightdeck_model::{Slo, SloBurnRate};

use crate::{
    http::{
        components::{recompute, to_json},
        slos::{SLO_UPDATED, domain_slo},
    },
    state::AppState,
    workers::lease,
};

pub const LEASE_KEY: &str = "flightdeck:lease:slo-poller";
const PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs until the process ends.
pub async fn run(state: Arc<AppState>, prometheus_url: String) {
    let prometheus = match Prometheus::new(&prometheus_url, PROMETHEUS_TIMEOUT, Auth::None) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "PROMETHEUS_URL is unusable; SLOs will not be evaluated");
            return;
        }
    };
    let evaluator = SloEvaluator::new(prometheus);
    let interval = Duration::from_secs(state.settings.slo_poll_secs.max(1));
    let replica = uuid::Uuid::now_v7().to_string();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !lease::held(&state, LEASE_KEY, &replica, interval * 2).await {
            continue;
        }
        if let Err(e) = round(&state, &evaluator, Utc::now()).await {
            tracing::error!(error = %e, "SLO poll round failed; retrying next interval");
        }
    }
}

/// Evaluates every SLO once.
pub async fn round(
    state: &AppState,
    evaluator: &SloEvaluator,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let slos = state.store.conn().await?.list_slos(None).await?;
    for slo in slos {
        let updated = match domain_slo(slo.objective, slo.window_secs, &slo.sli) {
            Err(errors) => with_error(slo, format!("invalid definition: {errors:?}")),
            Ok(definition) => match evaluator.evaluate(&definition, at).await {
                Ok(evaluation) => apply(slo, &evaluation),
                Err(e) => {
                    tracing::warn!(slo = %slo.name, component = %slo.component, error = %e, "SLO evaluation failed");
                    with_error(slo, e.to_string())
                }
            },
        };
        let now = Utc::now();
        let mut tx = state.store.begin().await?;
        tx.record_slo_evaluation(&updated, now).await?;
        let mut events = vec![(SLO_UPDATED, to_json(&updated))];
        events.extend(
            recompute(&mut *tx, &BTreeSet::from([updated.component.clone()]), now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        state.commit(tx, None, events, now).await?;
    }
    Ok(())
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// The SLO with a successful evaluation.
pub fn apply(mut slo: Slo, evaluation: &SloEvaluation) -> Slo {
    slo.current = finite(evaluation.summary.current);
    slo.budget_remaining = finite(evaluation.summary.budget_remaining);
    slo.burn_rates = evaluation
        .burn
        .rates
        .iter()
        .map(|r| SloBurnRate {
            window: serde_json::to_value(r.window)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            burn_rate: finite(r.burn_rate),
        })
        .collect();
    slo.fast_burn = evaluation.burn.fast_burn;
    slo.slow_burn = evaluation.burn.slow_burn;
    slo.ticket = evaluation.burn.ticket;
    slo.evaluated_at = Some(evaluation.at);
    slo.error = None;
    slo
}

/// The SLO with a failed evaluation: its last good values stay (and go stale).
fn with_error(mut slo: Slo, error: String) -> Slo {
    slo.error = Some(error);
    slo
}
