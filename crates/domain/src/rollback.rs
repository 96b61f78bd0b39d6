//! Choosing what a rollback restores, and the typed confirmation protected environments need.
//!
//! A rollback is a new deployment of an earlier version. The default target is the most recent
//! succeeded deployment of the same target whose version is not the current one and has not been
//! marked bad. Marking a deployment bad excludes its *version* on that target: a bad build stays
//! bad however many times it was deployed, so an older deployment of the same version is no
//! escape hatch. The mark is scoped to the target (service + environment), because that is where
//! the deployment that carries it ran.

use std::collections::HashSet;

use flightdeck_model::{Deployment, DeploymentStatus, Environment, FieldError, Id};

use crate::deployment::recency_key;

/// Why a rollback cannot go ahead. The messages are shown to people as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    #[error(
        "there is no earlier succeeded version to roll back to (other than the current one and \
         versions marked bad)"
    )]
    NothingToRollBackTo,
    #[error("deployment {id} does not exist")]
    UnknownDeployment { id: Id },
    #[error(
        "deployment {id} is of {service} in {environment}, not of this service and environment"
    )]
    WrongTarget {
        id: Id,
        service: String,
        environment: String,
    },
    #[error(
        "deployment {id} {what} and cannot be rolled back to; only succeeded ones can",
        what = status_words(*.status)
    )]
    NotSucceeded { id: Id, status: DeploymentStatus },
    #[error("version {version} is marked bad and cannot be rolled back to")]
    MarkedBad { id: Id, version: String },
    #[error("version {version} is already the current version")]
    AlreadyCurrent { version: String },
}

fn status_words(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Queued => "is still queued",
        DeploymentStatus::InProgress => "is still in progress",
        DeploymentStatus::Succeeded => "succeeded",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Cancelled => "was cancelled",
        DeploymentStatus::TimedOut => "timed out",
    }
}

/// The deployment that is live on a target: its most recent succeeded deployment (by
/// [`recency_key`]). Its version is the target's current version.
pub fn current_deployment<'a>(
    history: &'a [Deployment],
    service: &str,
    environment: &str,
) -> Option<&'a Deployment> {
    history
        .iter()
        .filter(|d| d.service == service && d.environment == environment)
        .filter(|d| d.status == DeploymentStatus::Succeeded)
        .max_by_key(|d| recency_key(d))
}

/// The version a rollback moves away from: the target's current version, unless its latest
/// deployment failed (or timed out, or was cancelled after it started) — then that deployment
/// may have left its version half-rolled-out, and rolling back means restoring the last good
/// version over it. This is what people mean by "roll back the failed deploy of v2 to v1".
pub fn rollback_from<'a>(
    history: &'a [Deployment],
    service: &str,
    environment: &str,
    current_version: Option<&'a str>,
) -> Option<&'a str> {
    let latest = history
        .iter()
        .filter(|d| d.service == service && d.environment == environment)
        .max_by_key(|d| (d.created_at, d.id))?;
    let broken = matches!(
        latest.status,
        DeploymentStatus::Failed | DeploymentStatus::TimedOut
    ) || (latest.status == DeploymentStatus::Cancelled && latest.started_at.is_some());
    if broken {
        Some(latest.version.as_str())
    } else {
        current_version
    }
}

/// Versions marked bad on the target: any deployment of it carrying the mark excludes its version.
pub fn bad_versions<'a>(
    history: &'a [Deployment],
    service: &str,
    environment: &str,
) -> HashSet<&'a str> {
    history
        .iter()
        .filter(|d| d.service == service && d.environment == environment && d.marked_bad)
        .map(|d| d.version.as_str())
        .collect()
}

/// Chooses the deployment whose version a rollback of `service` in `environment` restores.
///
/// `history` holds the target's deployments in any order; deployments of other targets may be
/// present and are ignored for the default choice. `current_version` is the target's current
/// version. With `to_deployment`, that deployment must be in `history` (else
/// [`RollbackError::UnknownDeployment`]), belong to the same target, have succeeded, not carry a
/// bad version and not be the current version; otherwise the most recent such deployment is
/// chosen.
pub fn choose_target<'a>(
    history: &'a [Deployment],
    service: &str,
    environment: &str,
    current_version: Option<&str>,
    to_deployment: Option<Id>,
) -> Result<&'a Deployment, RollbackError> {
    let bad = bad_versions(history, service, environment);
    let Some(id) = to_deployment else {
        return history
            .iter()
            .filter(|d| d.service == service && d.environment == environment)
            .filter(|d| d.status == DeploymentStatus::Succeeded)
            .filter(|d| !bad.contains(d.version.as_str()))
            .filter(|d| Some(d.version.as_str()) != current_version)
            .max_by_key(|d| recency_key(d))
            .ok_or(RollbackError::NothingToRollBackTo);
    };
    let chosen = history
        .iter()
        .find(|d| d.id == id)
        .ok_or(RollbackError::UnknownDeployment { id })?;
    if chosen.service != service || chosen.environment != environment {
        return Err(RollbackError::WrongTarget {
            id,
            service: chosen.service.clone(),
            environment: chosen.environment.clone(),
        });
    }
    if chosen.status != DeploymentStatus::Succeeded {
        return Err(RollbackError::NotSucceeded {
            id,
            status: chosen.status,
        });
    }
    if bad.contains(chosen.version.as_str()) {
        return Err(RollbackError::MarkedBad {
            id,
            version: chosen.version.clone(),
        });
    }
    if Some(chosen.version.as_str()) == current_version {
        return Err(RollbackError::AlreadyCurrent {
            version: chosen.version.clone(),
        });
    }
    Ok(chosen)
}

/// A protected environment needs its slug typed as confirmation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{environment} is protected: type `{environment}` in `confirm` to go ahead")]
pub struct ConfirmationRequired {
    pub environment: String,
}

impl ConfirmationRequired {
    /// The same refusal as a validation message on the `confirm` field.
    pub fn field_error(&self) -> FieldError {
        FieldError {
            field: "confirm".into(),
            message: self.to_string(),
        }
    }
}

/// On a protected environment, `confirm` must equal its slug exactly (no trimming, no case
/// folding: the point is that someone typed the name of what they are about to change). Applies
/// to deploys and rollbacks alike; unprotected environments ignore `confirm`.
pub fn check_confirmation(
    env: &Environment,
    confirm: Option<&str>,
) -> Result<(), ConfirmationRequired> {
    if !env.protected || confirm == Some(env.slug.as_str()) {
        Ok(())
    } else {
        Err(ConfirmationRequired {
            environment: env.slug.clone(),
        })
    }
}

#[cfg(test)]
mod rollback_from_tests {
    use super::*;
    use crate::deployment::sample;
    use DeploymentStatus::*;

    const S: &str = "checkout-api";
    const E: &str = "production";

    fn started(mut d: Deployment) -> Deployment {
        d.started_at = Some(d.created_at);
        d
    }

    #[test]
    fn after_a_failed_deploy_the_rollback_moves_away_from_the_failed_version() {
        let history = [
            started(sample(1, "v1", Succeeded, 10)),
            started(sample(2, "v2", Failed, 20)),
        ];
        assert_eq!(rollback_from(&history, S, E, Some("v1")), Some("v2"));
        let to = choose_target(&history, S, E, Some("v2"), None).unwrap();
        assert_eq!(to.version, "v1", "the last good version is restored");
    }

    #[test]
    fn after_a_successful_deploy_the_rollback_moves_away_from_the_current_version() {
        let history = [
            sample(1, "v1", Succeeded, 10),
            sample(2, "v2", Succeeded, 20),
        ];
        assert_eq!(rollback_from(&history, S, E, Some("v2")), Some("v2"));
    }

    #[test]
    fn a_deploy_cancelled_before_it_started_changes_nothing() {
        let history = [
            sample(1, "v2", Succeeded, 10),
            sample(2, "v3", Cancelled, 20),
        ];
        assert_eq!(rollback_from(&history, S, E, Some("v2")), Some("v2"));
        let history = [
            sample(1, "v2", Succeeded, 10),
            started(sample(2, "v3", Cancelled, 20)),
        ];
        assert_eq!(rollback_from(&history, S, E, Some("v2")), Some("v3"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::sample;
    use DeploymentStatus::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    /// A finished deployment of the sample target, finished at `finished` seconds.
    fn done(n: u128, version: &str, status: DeploymentStatus, finished: i64) -> Deployment {
        let mut d = sample(n, version, status, finished - 10);
        d.finished_at = Some(Utc.timestamp_opt(finished, 0).unwrap());
        d
    }

    fn bad(mut d: Deployment) -> Deployment {
        d.marked_bad = true;
        d
    }

    fn choose(history: &[Deployment], to: Option<u128>) -> Result<&Deployment, RollbackError> {
        let current = current_deployment(history, "checkout-api", "production");
        choose_target(
            history,
            "checkout-api",
            "production",
            current.map(|d| d.version.as_str()),
            to.map(Id::from_u128),
        )
    }

    #[test]
    fn rollback_targets_the_last_succeeded_version_not_marked_bad() {
        let history = [
            done(1, "1.0", Succeeded, 100),
            bad(done(2, "1.1", Succeeded, 200)),
            done(3, "1.2", Failed, 300),
            done(4, "1.3", Succeeded, 400),
        ];
        assert_eq!(choose(&history, None).unwrap().version, "1.0");
    }

    #[test]
    fn the_current_version_is_skipped_even_when_deployed_earlier_too() {
        let history = [
            done(1, "1.0", Succeeded, 100),
            done(2, "2.0", Succeeded, 200),
            done(3, "1.0", Succeeded, 300),
        ];
        assert_eq!(choose(&history, None).unwrap().id, Id::from_u128(2));
    }

    #[test]
    fn marking_one_deployment_bad_excludes_every_deployment_of_that_version() {
        let history = [
            done(1, "1.0", Succeeded, 100),
            done(2, "1.1", Succeeded, 200),
            bad(done(3, "1.1", Succeeded, 300)),
            done(4, "1.2", Succeeded, 400),
        ];
        assert_eq!(choose(&history, None).unwrap().version, "1.0");
    }

    #[test]
    fn a_history_in_any_order_gives_the_same_choice() {
        let mut history = vec![
            done(1, "1.0", Succeeded, 100),
            done(2, "1.1", Succeeded, 200),
            done(3, "1.2", Succeeded, 300),
        ];
        history.reverse();
        assert_eq!(choose(&history, None).unwrap().version, "1.1");
    }

    #[test]
    fn other_targets_deployments_are_not_candidates() {
        let mut staging = done(9, "0.9", Succeeded, 500);
        staging.environment = "staging".into();
        let history = [done(1, "1.0", Succeeded, 100), staging];
        assert_eq!(
            choose(&history, None),
            Err(RollbackError::NothingToRollBackTo)
        );
    }

    #[test]
    fn nothing_to_roll_back_to_when_only_the_current_version_succeeded() {
        assert_eq!(choose(&[], None), Err(RollbackError::NothingToRollBackTo));
        let history = [done(1, "1.0", Succeeded, 100), done(2, "1.1", Failed, 200)];
        assert_eq!(
            choose(&history, None),
            Err(RollbackError::NothingToRollBackTo)
        );
    }

    #[test]
    fn an_explicit_earlier_succeeded_deployment_is_accepted() {
        let history = [
            done(1, "1.0", Succeeded, 100),
            done(2, "1.1", Succeeded, 200),
            done(3, "1.2", Succeeded, 300),
        ];
        assert_eq!(choose(&history, Some(1)).unwrap().version, "1.0");
    }

    #[test]
    fn an_explicit_target_must_exist_and_belong_to_the_same_target() {
        let mut other = done(2, "1.1", Succeeded, 200);
        other.service = "cart".into();
        let history = [done(1, "1.0", Succeeded, 100), other];
        assert_eq!(
            choose(&history, Some(99)),
            Err(RollbackError::UnknownDeployment {
                id: Id::from_u128(99)
            })
        );
        let err = choose(&history, Some(2)).unwrap_err();
        assert!(matches!(err, RollbackError::WrongTarget { .. }));
        assert!(err.to_string().contains("is of cart in production"));
    }

    #[test]
    fn an_explicit_target_must_have_succeeded_not_be_bad_and_not_be_current() {
        let history = [
            done(1, "0.9", Failed, 50),
            bad(done(2, "1.0", Succeeded, 100)),
            done(3, "1.1", Succeeded, 200),
        ];
        let not_ok = choose(&history, Some(1)).unwrap_err();
        assert_eq!(
            not_ok.to_string(),
            format!(
                "deployment {} failed and cannot be rolled back to; only succeeded ones can",
                Id::from_u128(1)
            )
        );
        assert!(matches!(
            choose(&history, Some(2)),
            Err(RollbackError::MarkedBad { .. })
        ));
        assert_eq!(
            choose(&history, Some(3)),
            Err(RollbackError::AlreadyCurrent {
                version: "1.1".into()
            })
        );
    }

    #[test]
    fn the_current_deployment_is_the_latest_succeeded_one() {
        let history = [
            done(1, "1.0", Succeeded, 100),
            done(2, "1.1", Succeeded, 300),
            done(3, "1.2", Failed, 400),
        ];
        let current = current_deployment(&history, "checkout-api", "production").unwrap();
        assert_eq!(current.version, "1.1");
        assert!(current_deployment(&history, "checkout-api", "staging").is_none());
    }

    #[test]
    fn bad_versions_lists_the_versions_of_marked_deployments_on_the_target() {
        let history = [
            done(1, "1.0", Succeeded, 100),
            bad(done(2, "1.1", Failed, 200)),
        ];
        let bad = bad_versions(&history, "checkout-api", "production");
        assert_eq!(bad, HashSet::from(["1.1"]));
    }

    fn env(protected: bool) -> Environment {
        Environment {
            id: Id::from_u128(1),
            slug: "production".into(),
            name: "Production".into(),
            rank: 30,
            protected,
            aliases: vec![],
            lock: None,
            freeze_windows: vec![],
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
        }
    }

    #[test]
    fn a_protected_environment_needs_its_slug_typed_exactly() {
        assert!(check_confirmation(&env(true), Some("production")).is_ok());
        assert!(check_confirmation(&env(true), Some("Production")).is_err());
        assert!(check_confirmation(&env(true), Some("production ")).is_err());
        let err = check_confirmation(&env(true), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "production is protected: type `production` in `confirm` to go ahead"
        );
        assert_eq!(err.field_error().field, "confirm");
    }

    #[test]
    fn an_unprotected_environment_needs_no_confirmation() {
        assert!(check_confirmation(&env(false), None).is_ok());
        assert!(check_confirmation(&env(false), Some("anything")).is_ok());
    }

    fn arb_history() -> impl Strategy<Value = Vec<Deployment>> {
        let one = (
            0usize..5,
            proptest::sample::select(DeploymentStatus::ALL.to_vec()),
            0i64..50,
            proptest::bool::weighted(0.2),
        );
        proptest::collection::vec(one, 0..20).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (v, status, t, is_bad))| {
                    let mut d = if status.is_terminal() {
                        done(i as u128, &format!("v{v}"), status, 100 + t)
                    } else {
                        sample(i as u128, &format!("v{v}"), status, 100 + t)
                    };
                    d.marked_bad = is_bad;
                    d
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_default_target_is_succeeded_not_bad_not_current_and_the_most_recent_such(
            history in arb_history(),
        ) {
            let current = current_deployment(&history, "checkout-api", "production")
                .map(|d| d.version.clone());
            let bad = bad_versions(&history, "checkout-api", "production");
            let eligible = |d: &&Deployment| {
                d.status == Succeeded
                    && !bad.contains(d.version.as_str())
                    && Some(&d.version) != current.as_ref()
            };
            match choose_target(&history, "checkout-api", "production", current.as_deref(), None) {
                Ok(chosen) => {
                    prop_assert!(eligible(&chosen));
                    prop_assert!(history.iter().filter(eligible).all(|d| recency_key(d) <= recency_key(chosen)));
                    // What the default picks, an explicit request for it accepts.
                    let explicit = choose_target(&history, "checkout-api", "production", current.as_deref(), Some(chosen.id));
                    prop_assert_eq!(explicit, Ok(chosen));
                }
                Err(e) => {
                    prop_assert_eq!(e, RollbackError::NothingToRollBackTo);
                    prop_assert!(!history.iter().any(|d| eligible(&d)));
                }
            }
        }
    }
}
