//! The four DORA figures — deployment frequency, change failure rate, time to restore, lead time
//! for changes — computed from deployment history over a period.
//!
//! The rules, where DORA leaves room:
//! - A deployment belongs to the period when it *finished* in `[since, until)`.
//! - A **failed change** is a deployment that failed or timed out, or one that succeeded and then
//!   turned out bad: it was marked bad, or a rollback (not cancelled) away from it was created on
//!   its target while it was the target's current deployment. A rolled-back deployment therefore
//!   counts in both `succeeded` (it did deploy) and `failed` (it was a bad change). A rollback
//!   that restores the current deployment's own version (after a failed deploy, the version still
//!   running) rolls nothing back: the failed deploy is the failed change, counted once.
//! - **Change failure rate** = failed changes / finished changes, where cancelled deployments are
//!   not changes: most are cancelled before they touch anything, and counting them would make
//!   the rate look better the more deploys people abandon.
//! - **Time to restore** for a failed change: from its `finished_at` to the `finished_at` of the
//!   next succeeded deployment on the same target (a rollback or a fix); failures never followed by
//!   a success are left out of the median.
//! - **Lead time**: from `committed_at` to `finished_at` of succeeded *deploys*; rollbacks restore
//!   old commits and would say nothing about how fast changes flow.
//! - Rollbacks count as deployments for frequency: they are real changes to what runs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flightdeck_model::{Deployment, DeploymentKind, DeploymentStatus, DoraMetrics};

use crate::deployment::recency_key;

/// The DORA figures for `deployments` finished in `[since, until)`, narrowed to `service` and/or
/// `environment` when given. `deployments` may mix targets and may include deployments outside
/// the period: later rollbacks and fixes are what mark a change as failed and end its outage.
pub fn dora_metrics(
    deployments: &[Deployment],
    service: Option<&str>,
    environment: Option<&str>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> DoraMetrics {
    let mut by_target: HashMap<(&str, &str), Vec<&Deployment>> = HashMap::new();
    for d in deployments {
        if service.is_none_or(|s| s == d.service) && environment.is_none_or(|e| e == d.environment)
        {
            by_target
                .entry((d.service.as_str(), d.environment.as_str()))
                .or_default()
                .push(d);
        }
    }

    let (mut finished, mut changes, mut succeeded, mut failed) = (0u32, 0u32, 0u32, 0u32);
    let (mut recoveries, mut lead_times) = (Vec::new(), Vec::new());
    for history in by_target.values() {
        for d in history {
            let Some(done) = d.finished_at.filter(|t| since <= *t && *t < until) else {
                continue;
            };
            if !d.status.is_terminal() {
                continue;
            }
            finished += 1;
            if d.status != DeploymentStatus::Cancelled {
                changes += 1;
            }
            if d.status == DeploymentStatus::Succeeded {
                succeeded += 1;
                if d.kind == DeploymentKind::Deploy
                    && let Some(committed) = d.committed_at
                {
                    lead_times.push(seconds(done - committed).max(0.0));
                }
            }
            if is_failed_change(d, history) {
                failed += 1;
                if let Some(next) = next_success_after(history, d, done) {
                    recoveries.push(seconds(next - done));
                }
            }
        }
    }

    let days = seconds(until - since) / 86_400.0;
    DoraMetrics {
        service: service.map(str::to_owned),
        environment: environment.map(str::to_owned),
        since,
        until,
        deployments: finished,
        succeeded,
        failed,
        deployment_frequency_per_day: if days > 0.0 {
            f64::from(succeeded) / days
        } else {
            0.0
        },
        change_failure_rate: (changes > 0).then(|| f64::from(failed) / f64::from(changes)),
        recovery_time_median_secs: median(recoveries),
        lead_time_median_secs: median(lead_times),
    }
}

/// Failed or timed out, or succeeded and later marked bad or rolled back while current.
fn is_failed_change(d: &Deployment, history: &[&Deployment]) -> bool {
    match d.status {
        DeploymentStatus::Failed | DeploymentStatus::TimedOut => true,
        DeploymentStatus::Succeeded => {
            d.marked_bad
                || history.iter().any(|r| {
                    r.kind == DeploymentKind::Rollback
                        && r.status != DeploymentStatus::Cancelled
                        && r.id != d.id
                        // Restoring the version that already runs replaces nothing (this also
                        // covers a rollback to `d` itself, which restores `d`'s version).
                        && r.version != d.version
                        && current_at(history, r.created_at).is_some_and(|c| c.id == d.id)
                })
        }
        _ => false,
    }
}

/// The target's current deployment at `at`: the most recent one that had succeeded by then.
fn current_at<'a>(history: &[&'a Deployment], at: DateTime<Utc>) -> Option<&'a Deployment> {
    history
        .iter()
        .copied()
        .filter(|d| d.status == DeploymentStatus::Succeeded)
        .filter(|d| d.finished_at.is_some_and(|f| f <= at))
        .max_by_key(|d| recency_key(d))
}

/// When the first succeeded deployment on the target after `failure` (finished at `after`) ended.
fn next_success_after(
    history: &[&Deployment],
    failure: &Deployment,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    history
        .iter()
        .filter(|d| d.id != failure.id && d.status == DeploymentStatus::Succeeded)
        .filter_map(|d| d.finished_at)
        .filter(|f| *f > after)
        .min()
}

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// The middle value, or the mean of the two middle values; `None` for no values.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::sample;
    use DeploymentStatus::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    /// Day `day` (from 2026-11-02, a Monday) at `h:m`.
    fn t(day: i64, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, h, m, 0).unwrap() + Duration::days(day)
    }

    fn finished(n: u128, version: &str, status: DeploymentStatus, at: DateTime<Utc>) -> Deployment {
        let mut d = sample(n, version, status, 0);
        d.created_at = at - Duration::minutes(5);
        d.started_at = Some(d.created_at);
        d.finished_at = Some(at);
        d
    }

    fn committed(mut d: Deployment, at: DateTime<Utc>) -> Deployment {
        d.committed_at = Some(at);
        d
    }

    fn rollback(mut d: Deployment) -> Deployment {
        d.kind = DeploymentKind::Rollback;
        d
    }

    /// A week of production history, plus one staging deploy and one after the period.
    fn week() -> Vec<Deployment> {
        let mut staging = committed(finished(8, "s1", Succeeded, t(3, 10, 0)), t(3, 9, 0));
        staging.environment = "staging".into();
        vec![
            committed(finished(1, "v1", Succeeded, t(0, 10, 10)), t(0, 9, 0)),
            finished(2, "v2", Failed, t(1, 10, 0)),
            committed(finished(3, "v2.1", Succeeded, t(1, 12, 0)), t(1, 11, 0)),
            // Rolls v2.1 back to v1, created at 13:00, done at 13:05.
            rollback(committed(
                finished(4, "v1", Succeeded, t(1, 13, 5)),
                t(0, 9, 0),
            )),
            finished(5, "v3", Cancelled, t(2, 10, 0)),
            committed(finished(6, "v3", Succeeded, t(2, 11, 0)), t(2, 9, 0)),
            finished(7, "v4", Succeeded, t(8, 10, 0)),
            staging,
        ]
    }

    #[test]
    fn figures_for_one_target_match_the_hand_computed_ones() {
        let m = dora_metrics(&week(), None, Some("production"), t(0, 0, 0), t(7, 0, 0));
        assert_eq!(m.environment.as_deref(), Some("production"));
        assert_eq!((m.deployments, m.succeeded, m.failed), (6, 4, 2));
        assert_eq!(m.deployment_frequency_per_day, 4.0 / 7.0);
        // Failed v2 and rolled-back v2.1, out of five changes (the cancel is not one).
        assert_eq!(m.change_failure_rate, Some(0.4));
        // v2: 10:00 → v2.1 at 12:00 = 7200 s; v2.1: 12:00 → rollback at 13:05 = 3900 s.
        assert_eq!(m.recovery_time_median_secs, Some(5550.0));
        // v1 4200 s, v2.1 3600 s, v3 7200 s; the rollback's old commit is left out.
        assert_eq!(m.lead_time_median_secs, Some(4200.0));
    }

    #[test]
    fn figures_over_all_targets_include_every_environment() {
        let m = dora_metrics(&week(), None, None, t(0, 0, 0), t(7, 0, 0));
        assert_eq!(m.environment, None);
        assert_eq!((m.deployments, m.succeeded, m.failed), (7, 5, 2));
        assert_eq!(m.change_failure_rate, Some(2.0 / 6.0));
        assert_eq!(m.lead_time_median_secs, Some(3900.0));
    }

    #[test]
    fn the_period_includes_its_start_and_excludes_its_end() {
        let history = [
            finished(1, "a", Succeeded, t(0, 0, 0)),
            finished(2, "b", Succeeded, t(1, 0, 0)),
        ];
        let m = dora_metrics(&history, None, None, t(0, 0, 0), t(1, 0, 0));
        assert_eq!(m.deployments, 1);
        assert_eq!(m.deployment_frequency_per_day, 1.0);
    }

    #[test]
    fn an_empty_period_has_no_rates() {
        let m = dora_metrics(&[], Some("checkout-api"), None, t(0, 0, 0), t(7, 0, 0));
        assert_eq!(m.service.as_deref(), Some("checkout-api"));
        assert_eq!((m.deployments, m.succeeded, m.failed), (0, 0, 0));
        assert_eq!(m.deployment_frequency_per_day, 0.0);
        assert_eq!(m.change_failure_rate, None);
        assert_eq!(m.recovery_time_median_secs, None);
        assert_eq!(m.lead_time_median_secs, None);
    }

    #[test]
    fn a_deployment_marked_bad_is_a_failed_change() {
        let mut d = finished(1, "a", Succeeded, t(0, 10, 0));
        d.marked_bad = true;
        let m = dora_metrics(&[d], None, None, t(0, 0, 0), t(1, 0, 0));
        assert_eq!((m.succeeded, m.failed), (1, 1));
        assert_eq!(m.change_failure_rate, Some(1.0));
    }

    #[test]
    fn a_cancelled_rollback_or_one_on_another_target_does_not_fail_a_change() {
        let mut elsewhere = rollback(finished(3, "x", Succeeded, t(0, 12, 0)));
        elsewhere.service = "cart".into();
        let history = [
            finished(1, "a", Succeeded, t(0, 10, 0)),
            rollback(finished(2, "z", Cancelled, t(0, 11, 0))),
            elsewhere,
        ];
        let m = dora_metrics(&history, Some("checkout-api"), None, t(0, 0, 0), t(1, 0, 0));
        assert_eq!(m.failed, 0);
        assert_eq!(m.change_failure_rate, Some(0.0));
    }

    #[test]
    fn only_the_deployment_current_when_the_rollback_started_counts_as_rolled_back() {
        let history = [
            finished(1, "a", Succeeded, t(0, 10, 0)),
            finished(2, "b", Succeeded, t(0, 11, 0)),
            // Created at 11:55, while b was current.
            rollback(finished(3, "a", Succeeded, t(0, 12, 0))),
        ];
        let m = dora_metrics(&history, None, None, t(0, 0, 0), t(1, 0, 0));
        assert_eq!(m.failed, 1);
        // b went bad at 11:00 and the rollback restored service at 12:00.
        assert_eq!(m.recovery_time_median_secs, Some(3600.0));
    }

    #[test]
    fn a_rollback_after_a_failed_deploy_fails_only_that_deploy() {
        // v2 failed while v1 kept running; the one-click rollback restores v1 (the version
        // still running), so v1 is no failed change: only v2 is.
        let v1 = finished(1, "v1", Succeeded, t(0, 10, 0));
        let mut back = rollback(finished(3, "v1", Succeeded, t(0, 12, 0)));
        back.rollback_to = Some(v1.id);
        let history = [v1, finished(2, "v2", Failed, t(0, 11, 0)), back];
        let m = dora_metrics(&history, None, None, t(0, 0, 0), t(1, 0, 0));
        assert_eq!((m.deployments, m.succeeded, m.failed), (3, 2, 1));
        assert_eq!(m.change_failure_rate, Some(1.0 / 3.0));
        // v2 failed at 11:00; the rollback finished at 12:00.
        assert_eq!(m.recovery_time_median_secs, Some(3600.0));
    }

    #[test]
    fn a_failure_never_followed_by_a_success_has_no_recovery_time() {
        let history = [
            finished(1, "a", Failed, t(0, 10, 0)),
            finished(2, "b", TimedOut, t(0, 11, 0)),
        ];
        let m = dora_metrics(&history, None, None, t(0, 0, 0), t(1, 0, 0));
        assert_eq!(m.failed, 2);
        assert_eq!(m.recovery_time_median_secs, None);
    }

    proptest! {
        #[test]
        fn counts_and_rates_stay_within_their_bounds(
            rows in proptest::collection::vec(
                (0usize..2, proptest::sample::select(DeploymentStatus::ALL.to_vec()),
                 0i64..(10 * 1440), proptest::bool::weighted(0.2), proptest::bool::weighted(0.1),
                 proptest::option::of(0i64..1440)),
                0..30),
        ) {
            let history: Vec<Deployment> = rows.into_iter().enumerate().map(|(i, (env, status, at, is_rollback, bad, lead))| {
                let mut d = finished(i as u128, "v", status, t(0, 0, 0) + Duration::minutes(at));
                if !status.is_terminal() { d.finished_at = None; }
                d.environment = ["production", "staging"][env].into();
                if is_rollback { d.kind = DeploymentKind::Rollback; }
                d.marked_bad = bad;
                d.committed_at = lead.map(|m| d.created_at - Duration::minutes(m));
                d
            }).collect();
            let m = dora_metrics(&history, None, None, t(1, 0, 0), t(8, 0, 0));
            prop_assert!(m.succeeded <= m.deployments && m.failed <= m.deployments);
            prop_assert!(m.change_failure_rate.is_none_or(|r| (0.0..=1.0).contains(&r)));
            prop_assert!(m.recovery_time_median_secs.is_none_or(|s| s > 0.0));
            prop_assert!(m.lead_time_median_secs.is_none_or(|s| s >= 0.0));
            let per_env: u32 = ["production", "staging"].iter()
                .map(|e| dora_metrics(&history, None, Some(e), t(1, 0, 0), t(8, 0, 0)).failed)
                .sum();
            prop_assert_eq!(per_env, m.failed, "targets are judged independently");
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
