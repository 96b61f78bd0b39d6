//! Argo CD fixtures: `argocd_sync_running.json` and `argocd_sync_succeeded.json` are what
//! Flightdeck's documented notification template (`ARGOCD.md`) renders for one sync operation —
//! the running one with the `<no value>` that Go templates print for keys not set yet.

use flightdeck_model::DeploymentStatus;
use flightdeck_webhooks::{
    ParseError, ReportedStatus, Source, VerifyError, delivery_id, parse_argocd, verify_argocd,
};

use crate::support::{deploy, edited, fixture, ignored_reason, utc};

const SECRET: &str = "argo-notify-7d1e";
const NONE: [(&str, &str); 0] = [];

#[test]
fn a_bearer_token_equal_to_the_secret_authenticates() {
    let value = format!("Bearer {SECRET}");
    assert_eq!(
        verify_argocd(&[("authorization", value.as_str())], SECRET.as_bytes()),
        Ok(())
    );
    let lower = format!("bearer {SECRET}");
    assert_eq!(
        verify_argocd(&[("Authorization", lower.as_str())], SECRET.as_bytes()),
        Ok(())
    );
}

#[test]
fn a_wrong_missing_or_non_bearer_authorization_is_refused() {
    assert_eq!(
        verify_argocd(&[("Authorization", "Bearer nope")], SECRET.as_bytes()),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_argocd(&NONE, SECRET.as_bytes()),
        Err(VerifyError::MissingSignature {
            header: "Authorization"
        })
    );
    let basic = format!("Basic {SECRET}");
    assert!(matches!(
        verify_argocd(&[("Authorization", basic.as_str())], SECRET.as_bytes()),
        Err(VerifyError::MalformedSignature { .. })
    ));
}

#[test]
fn the_running_and_final_notifications_of_one_sync_share_an_external_id_but_not_a_delivery_id() {
    let running = parse_argocd(&NONE, &fixture("argocd_sync_running.json")).unwrap();
    let done = parse_argocd(&NONE, &fixture("argocd_sync_succeeded.json")).unwrap();
    let (r, d) = (deploy(&running), deploy(&done));
    assert_eq!(
        r.external_id,
        "argocd:checkout-api-production:8d2f0c1e4b7a9c3d5e6f708192a3b4c5d6e7f809:2026-11-25T21:40:02Z"
    );
    assert_eq!(r.external_id, d.external_id);
    assert_ne!(running.delivery_id, done.delivery_id);
    assert_eq!(
        done.delivery_id,
        "argocd:checkout-api-production:8d2f0c1e4b7a9c3d5e6f708192a3b4c5d6e7f809:Succeeded:\
         2026-11-25T21:40:02Z:2026-11-25T21:41:17Z"
    );
    assert_eq!(
        delivery_id(
            Source::Argocd,
            &NONE,
            &fixture("argocd_sync_succeeded.json")
        )
        .unwrap(),
        done.delivery_id
    );
}

#[test]
fn a_succeeded_sync_is_a_succeeded_report_with_the_apps_labels() {
    let inbound = parse_argocd(&NONE, &fixture("argocd_sync_succeeded.json")).unwrap();
    assert_eq!(inbound.source, Source::Argocd);
    let r = deploy(&inbound);
    assert_eq!(r.repositories, ["https://github.com/acme/checkout-api.git"]);
    assert_eq!(r.service_hint.as_deref(), Some("checkout-api"));
    assert_eq!(r.environment, "production");
    assert_eq!(r.version, "8d2f0c1e4b7a9c3d5e6f708192a3b4c5d6e7f809");
    assert_eq!(
        r.commit_sha.as_deref(),
        Some("8d2f0c1e4b7a9c3d5e6f708192a3b4c5d6e7f809")
    );
    assert_eq!(r.status, ReportedStatus::Known(DeploymentStatus::Succeeded));
    assert_eq!(r.actor.as_deref(), Some("alice"));
    assert_eq!(r.occurred_at, Some(utc(2026, 11, 25, 21, 41, 17)));
    assert_eq!(
        r.url.as_deref(),
        Some("https://argocd.example.com/applications/checkout-api-production")
    );
    assert_eq!(
        r.description.as_deref(),
        Some("successfully synced (all tasks run) (https://kubernetes.default.svc/checkout)")
    );
}

#[test]
fn go_templates_no_value_reads_as_absent() {
    let inbound = parse_argocd(&NONE, &fixture("argocd_sync_running.json")).unwrap();
    let r = deploy(&inbound);
    assert_eq!(
        r.status,
        ReportedStatus::Known(DeploymentStatus::InProgress)
    );
    assert_eq!(r.service_hint, None);
    assert_eq!(r.actor, None);
    // No finishedAt yet: the status time is the start.
    assert_eq!(r.occurred_at, Some(utc(2026, 11, 25, 21, 40, 2)));
}

#[test]
fn argo_phases_map_as_documented_and_terminating_is_unknown() {
    use DeploymentStatus::*;
    for (phase, expected) in [
        ("Running", ReportedStatus::Known(InProgress)),
        ("Succeeded", ReportedStatus::Known(Succeeded)),
        ("Failed", ReportedStatus::Known(Failed)),
        ("Error", ReportedStatus::Known(Failed)),
        ("Terminating", ReportedStatus::Unknown("Terminating".into())),
    ] {
        let body = edited("argocd_sync_succeeded.json", |v| v["phase"] = phase.into());
        assert_eq!(
            deploy(&parse_argocd(&NONE, &body).unwrap()).status,
            expected,
            "{phase}"
        );
    }
}

#[test]
fn an_app_without_an_environment_label_is_ignored_with_the_reason() {
    let body = edited("argocd_sync_succeeded.json", |v| {
        v["environment"] = "<no value>".into()
    });
    let inbound = parse_argocd(&NONE, &body).unwrap();
    assert_eq!(
        ignored_reason(&inbound),
        "Argo CD application `checkout-api-production` has no flightdeck.dev/environment label"
    );
}

#[test]
fn a_notification_without_app_revision_or_phase_is_a_422() {
    for field in ["app", "revision", "phase"] {
        let body = edited("argocd_sync_succeeded.json", |v| {
            v[field] = "<no value>".into()
        });
        let err = parse_argocd(&NONE, &body).unwrap_err();
        assert_eq!(err, ParseError::MissingField(field));
        assert_eq!(err.http_status(), 422);
    }
    let err = parse_argocd(&NONE, b"{\"app\": \"x\", ").unwrap_err();
    assert_eq!(err.http_status(), 400);
}
