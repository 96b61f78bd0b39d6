//! The deployment status state machine.
//!
//! `queued` → `in_progress` → `succeeded` | `failed` | `cancelled` | `timed_out`. Status reports
//! arrive from executors, CI webhooks and pipeline callbacks, possibly late, twice or out of
//! order (a redelivered `in_progress` after `succeeded`). The rule that keeps all of them safe:
//! a deployment only ever moves forward, and a terminal status is final.

use chrono::{DateTime, Utc};
use flightdeck_model::{Deployment, DeploymentKind, DeploymentStatus, Id};

/// How far along a status is: queued 0, in progress 1, any terminal status 2. A report is applied
/// only when it moves the rank up; terminal statuses share a rank, so one never replaces another.
pub fn rank(status: DeploymentStatus) -> u8 {
    match status {
        DeploymentStatus::Queued => 0,
        DeploymentStatus::InProgress => 1,
        _ => 2,
    }
}

/// What a reported status does to a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The status changes; write it with [`stamps`] and record a timeline event.
    Moved {
        from: DeploymentStatus,
        to: DeploymentStatus,
    },
    /// The deployment already has this status: a redelivery, nothing to write.
    Unchanged,
    /// The report is late or out of order and must not be applied (it may still be logged).
    Ignored { reason: IgnoredReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IgnoredReason {
    /// The deployment has finished; its outcome is final.
    #[error("the deployment already finished as {current}; a late {reported} report was ignored")]
    AlreadyFinished {
        current: DeploymentStatus,
        reported: DeploymentStatus,
    },
    /// The report would move the deployment backwards (`queued` after `in_progress`).
    #[error("the deployment is already {current}; an out-of-order {reported} report was ignored")]
    Backwards {
        current: DeploymentStatus,
        reported: DeploymentStatus,
    },
}

impl Transition {
    /// The status after this transition, given the status before it.
    pub fn status_after(self, current: DeploymentStatus) -> DeploymentStatus {
        match self {
            Transition::Moved { to, .. } => to,
            Transition::Unchanged | Transition::Ignored { .. } => current,
        }
    }
}

/// Decides what a `reported` status does to a deployment whose status is `current`.
pub fn apply(current: DeploymentStatus, reported: DeploymentStatus) -> Transition {
    if current == reported {
        Transition::Unchanged
    } else if current.is_terminal() {
        Transition::Ignored {
            reason: IgnoredReason::AlreadyFinished { current, reported },
        }
    } else if rank(reported) < rank(current) {
        Transition::Ignored {
            reason: IgnoredReason::Backwards { current, reported },
        }
    } else {
        Transition::Moved {
            from: current,
            to: reported,
        }
    }
}

/// The timestamps a move sets; `None` leaves the stored value as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamps {
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which timestamps moving `from` → `to` at time `at` sets. Entering `in_progress` starts the
/// deployment; a terminal status finishes it. A deployment that jumps from `queued` straight to a
/// terminal status (a CI system that only reports the outcome, a cancel before start) gets
/// `started_at = finished_at`, so every finished deployment has both and durations are never
/// negative or missing.
pub fn stamps(from: DeploymentStatus, to: DeploymentStatus, at: DateTime<Utc>) -> Stamps {
    let starts = rank(from) < 1 && rank(to) >= 1;
    let finishes = !from.is_terminal() && to.is_terminal();
    Stamps {
        started_at: starts.then_some(at),
        finished_at: finishes.then_some(at),
    }
}

/// Applies `reported` to `deployment` at time `at`: the status and its timestamps. A
/// `started_at` that is already set is kept (the first start wins).
pub fn advance(
    deployment: &mut Deployment,
    reported: DeploymentStatus,
    at: DateTime<Utc>,
) -> Transition {
    let transition = apply(deployment.status, reported);
    if let Transition::Moved { from, to } = transition {
        let s = stamps(from, to, at);
        deployment.status = to;
        deployment.started_at = deployment.started_at.or(s.started_at);
        if s.finished_at.is_some() {
            deployment.finished_at = s.finished_at;
        }
    }
    transition
}

/// The sort key for "most recent": when it finished, or when it was created if it has not;
/// ties are broken by id, which is a time-ordered UUIDv7.
pub fn recency_key(deployment: &Deployment) -> (DateTime<Utc>, Id) {
    (
        deployment.finished_at.unwrap_or(deployment.created_at),
        deployment.id,
    )
}

/// A target already has an active deployment, so another may not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{service} already has an active {kind} to {environment}: deployment {id} of version {version} \
     is {status}; wait for it to finish or cancel it"
)]
pub struct Conflict {
    pub id: Id,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub status: DeploymentStatus,
    pub kind: &'static str,
}

/// At most one active (queued or in progress) deployment per target. `active` is the target's
/// active deployment, if the store found one. The store also enforces this with a unique index;
/// this rule gives the refusal its message.
pub fn check_can_start(active: Option<&Deployment>) -> Result<(), Conflict> {
    match active {
        Some(d) if d.status.is_active() => Err(Conflict {
            id: d.id,
            service: d.service.clone(),
            environment: d.environment.clone(),
            version: d.version.clone(),
            status: d.status,
            kind: match d.kind {
                DeploymentKind::Deploy => "deploy",
                DeploymentKind::Rollback => "rollback",
            },
        }),
        _ => Ok(()),
    }
}

/// Only an active deployment can be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deployment {id} already finished as {status} and can no longer be cancelled")]
pub struct NotActive {
    pub id: Id,
    pub status: DeploymentStatus,
}

pub fn check_can_cancel(deployment: &Deployment) -> Result<(), NotActive> {
    if deployment.status.is_active() {
        Ok(())
    } else {
        Err(NotActive {
            id: deployment.id,
            status: deployment.status,
        })
    }
}

/// A deployment for tests in this crate: version `version` of `checkout-api` to `production`,
/// created at `created` seconds past the epoch, with the given status and no timestamps.
#[cfg(test)]
pub(crate) fn sample(n: u128, version: &str, status: DeploymentStatus, created: i64) -> Deployment {
    use chrono::TimeZone;
    Deployment {
        id: Id::from_u128(n),
        service: "checkout-api".into(),
        environment: "production".into(),
        version: version.into(),
        kind: DeploymentKind::Deploy,
        status,
        description: None,
        created_by: "alice".into(),
        created_at: Utc.timestamp_opt(created, 0).unwrap(),
        started_at: None,
        finished_at: None,
        previous_version: None,
        rollback_to: None,
        reason: None,
        marked_bad: false,
        source: "api".into(),
        commit_sha: None,
        commit_url: None,
        ci_url: None,
        committed_at: None,
        executor: "record".into(),
        callback: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentStatus::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn a_queued_deployment_moves_to_in_progress_and_then_to_an_outcome() {
        assert_eq!(
            apply(Queued, InProgress),
            Transition::Moved {
                from: Queued,
                to: InProgress
            }
        );
        assert_eq!(
            apply(InProgress, Succeeded),
            Transition::Moved {
                from: InProgress,
                to: Succeeded
            }
        );
        assert_eq!(
            apply(Queued, Failed),
            Transition::Moved {
                from: Queued,
                to: Failed
            }
        );
    }

    #[test]
    fn terminal_statuses_share_the_highest_rank() {
        assert!(rank(Queued) < rank(InProgress));
        for s in [Succeeded, Failed, Cancelled, TimedOut] {
            assert!(rank(InProgress) < rank(s));
            assert_eq!(rank(s), rank(Succeeded));
        }
    }

    #[test]
    fn the_same_status_reported_again_changes_nothing() {
        for s in DeploymentStatus::ALL {
            assert_eq!(apply(s, s), Transition::Unchanged);
        }
    }

    #[test]
    fn a_late_in_progress_after_success_is_ignored() {
        assert_eq!(
            apply(Succeeded, InProgress),
            Transition::Ignored {
                reason: IgnoredReason::AlreadyFinished {
                    current: Succeeded,
                    reported: InProgress
                }
            }
        );
    }

    #[test]
    fn queued_after_in_progress_is_ignored_as_backwards() {
        assert!(matches!(
            apply(InProgress, Queued),
            Transition::Ignored {
                reason: IgnoredReason::Backwards { .. }
            }
        ));
    }

    #[test]
    fn one_terminal_status_never_replaces_another() {
        assert!(matches!(
            apply(Cancelled, Succeeded),
            Transition::Ignored { .. }
        ));
        assert!(matches!(
            apply(Succeeded, Failed),
            Transition::Ignored { .. }
        ));
        assert!(matches!(
            apply(TimedOut, Failed),
            Transition::Ignored { .. }
        ));
    }

    #[test]
    fn ignored_reasons_read_as_sentences() {
        let r = IgnoredReason::AlreadyFinished {
            current: Succeeded,
            reported: InProgress,
        };
        assert_eq!(
            r.to_string(),
            "the deployment already finished as succeeded; a late in_progress report was ignored"
        );
    }

    #[test]
    fn status_after_is_the_target_of_a_move_and_the_current_status_otherwise() {
        assert_eq!(apply(Queued, InProgress).status_after(Queued), InProgress);
        assert_eq!(apply(Failed, Queued).status_after(Failed), Failed);
        assert_eq!(apply(Queued, Queued).status_after(Queued), Queued);
    }

    #[test]
    fn entering_in_progress_sets_started_at_and_finishing_sets_finished_at() {
        assert_eq!(
            stamps(Queued, InProgress, at(10)),
            Stamps {
                started_at: Some(at(10)),
                finished_at: None
            }
        );
        assert_eq!(
            stamps(InProgress, Succeeded, at(20)),
            Stamps {
                started_at: None,
                finished_at: Some(at(20))
            }
        );
    }

    #[test]
    fn jumping_from_queued_to_an_outcome_starts_and_finishes_at_the_same_time() {
        assert_eq!(
            stamps(Queued, Cancelled, at(5)),
            Stamps {
                started_at: Some(at(5)),
                finished_at: Some(at(5))
            }
        );
    }

    #[test]
    fn advance_writes_status_and_timestamps_and_keeps_the_first_start() {
        let mut d = sample(1, "1.0.0", Queued, 0);
        advance(&mut d, InProgress, at(10));
        assert_eq!(
            (d.status, d.started_at, d.finished_at),
            (InProgress, Some(at(10)), None)
        );
        let t = advance(&mut d, Succeeded, at(30));
        assert_eq!(
            t,
            Transition::Moved {
                from: InProgress,
                to: Succeeded
            }
        );
        assert_eq!((d.started_at, d.finished_at), (Some(at(10)), Some(at(30))));
        advance(&mut d, Failed, at(40));
        assert_eq!((d.status, d.finished_at), (Succeeded, Some(at(30))));
    }

    #[test]
    fn recency_prefers_finished_at_over_created_at() {
        let mut old = sample(1, "1", Succeeded, 0);
        old.finished_at = Some(at(100));
        let newer_created = sample(2, "2", Queued, 50);
        assert!(recency_key(&old) > recency_key(&newer_created));
    }

    #[test]
    fn a_second_deployment_cannot_start_while_one_is_active() {
        let active = sample(7, "2.0.0", InProgress, 0);
        let err = check_can_start(Some(&active)).unwrap_err();
        assert_eq!(err.id, active.id);
        assert!(
            err.to_string()
                .starts_with("checkout-api already has an active deploy to production: deployment")
        );
        assert!(err.to_string().contains("of version 2.0.0 is in_progress"));
    }

    #[test]
    fn a_deployment_can_start_when_nothing_is_active() {
        assert!(check_can_start(None).is_ok());
        assert!(check_can_start(Some(&sample(1, "1", Failed, 0))).is_ok());
    }

    #[test]
    fn only_active_deployments_can_be_cancelled() {
        assert!(check_can_cancel(&sample(1, "1", Queued, 0)).is_ok());
        assert!(check_can_cancel(&sample(1, "1", InProgress, 0)).is_ok());
        let err = check_can_cancel(&sample(1, "1", Succeeded, 0)).unwrap_err();
        assert!(err.to_string().contains("already finished as succeeded"));
    }

    fn any_status() -> impl Strategy<Value = DeploymentStatus> {
        proptest::sample::select(DeploymentStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn the_status_rank_never_decreases_and_a_terminal_status_never_changes(
            start in any_status(),
            reports in proptest::collection::vec(any_status(), 0..30),
        ) {
            let mut current = start;
            for reported in reports {
                let next = apply(current, reported).status_after(current);
                prop_assert!(rank(next) >= rank(current));
                if current.is_terminal() {
                    prop_assert_eq!(next, current);
                }
                current = next;
            }
        }

        #[test]
        fn applying_the_same_report_twice_equals_applying_it_once(
            current in any_status(),
            reported in any_status(),
        ) {
            let once = apply(current, reported).status_after(current);
            let twice = apply(once, reported).status_after(once);
            prop_assert_eq!(once, twice);
            let moved_again = matches!(apply(once, reported), Transition::Moved { .. });
            prop_assert!(!moved_again);
        }

        #[test]
        fn every_finished_deployment_has_both_timestamps_in_order(
            reports in proptest::collection::vec((any_status(), 0i64..1000), 0..20),
        ) {
            let mut d = sample(1, "1", Queued, 0);
            let mut t = 0;
            for (reported, step) in reports {
                t += step;
                advance(&mut d, reported, at(t));
            }
            if d.status.is_terminal() {
                let (s, f) = (d.started_at.unwrap(), d.finished_at.unwrap());
                prop_assert!(s <= f);
            }
            if d.status == InProgress {
                prop_assert!(d.started_at.is_some() && d.finished_at.is_none());
            }
        }
    }
}
