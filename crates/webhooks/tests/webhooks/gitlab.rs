//! GitLab fixture: `gitlab_deployment.json` is the payload example of GitLab's "Webhook events →
//! Deployment events" documentation, verbatim.

use flightdeck_model::DeploymentStatus;
use flightdeck_webhooks::{
    ParseError, ReportedStatus, Source, VerifyError, delivery_id, parse_gitlab, verify_gitlab,
};

use crate::support::{deploy, edited, fixture, ignored_reason, utc};

const TOKEN: &str = "gl-hook-token-4f1c";
const KEY: &str = "908a6d9e-45fd-46c8-97e6-c4f350f219dd";

fn headers(event: &str) -> Vec<(String, String)> {
    vec![
        ("X-Gitlab-Event".into(), event.into()),
        ("X-Gitlab-Token".into(), TOKEN.into()),
        ("Idempotency-Key".into(), KEY.into()),
    ]
}

#[test]
fn the_secret_token_header_authenticates_a_delivery() {
    assert_eq!(
        verify_gitlab(&headers("Deployment Hook"), TOKEN.as_bytes()),
        Ok(())
    );
}

#[test]
fn a_wrong_or_missing_token_is_refused() {
    assert_eq!(
        verify_gitlab(&headers("Deployment Hook"), b"another-token"),
        Err(VerifyError::BadSignature)
    );
    // A prefix of the secret is no better than any other wrong token.
    assert_eq!(
        verify_gitlab(&[("X-Gitlab-Token", &TOKEN[..5])], TOKEN.as_bytes()),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_gitlab(&[("X-Gitlab-Event", "Deployment Hook")], TOKEN.as_bytes()),
        Err(VerifyError::MissingSignature {
            header: "X-Gitlab-Token"
        })
    );
}

#[test]
fn the_idempotency_key_is_the_dedupe_key_and_the_body_hash_is_the_fallback() {
    let body = fixture("gitlab_deployment.json");
    assert_eq!(
        delivery_id(Source::Gitlab, &headers("Deployment Hook"), &body).as_deref(),
        Ok(KEY)
    );

    let without = [("X-Gitlab-Event", "Deployment Hook")];
    let first = delivery_id(Source::Gitlab, &without, &body).unwrap();
    let retry = delivery_id(Source::Gitlab, &without, &body).unwrap();
    assert_eq!(first, retry);
    assert!(
        first.starts_with("sha256:") && first.len() == "sha256:".len() + 64,
        "{first}"
    );
    let other = edited("gitlab_deployment.json", |v| v["status"] = "running".into());
    assert_ne!(
        delivery_id(Source::Gitlab, &without, &other).unwrap(),
        first
    );
}

#[test]
fn the_documented_deployment_event_becomes_a_succeeded_report() {
    let inbound = parse_gitlab(
        &headers("Deployment Hook"),
        &fixture("gitlab_deployment.json"),
    )
    .unwrap();
    assert_eq!(inbound.source, Source::Gitlab);
    assert_eq!(inbound.delivery_id, KEY);
    let r = deploy(&inbound);
    assert_eq!(
        r.repositories,
        [
            "root/test-deployment-webhooks",
            "http://10.126.0.2:3000/root/test-deployment-webhooks",
            "http://10.126.0.2:3000/root/test-deployment-webhooks.git",
            "ssh://vlad@10.126.0.2:2222/root/test-deployment-webhooks.git",
        ]
    );
    assert_eq!(r.environment, "staging");
    assert_eq!(r.version, "279484c0");
    assert_eq!(
        r.commit_sha.as_deref(),
        Some("279484c09fbe69ededfced8c1bb6e6d24616b468")
    );
    assert_eq!(r.status, ReportedStatus::Known(DeploymentStatus::Succeeded));
    assert_eq!(r.raw_status, "success");
    assert_eq!(r.external_id, "gitlab:deployment:15");
    assert_eq!(
        r.url.as_deref(),
        Some("http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796")
    );
    assert_eq!(r.description.as_deref(), Some("Add new file"));
    assert_eq!(r.actor.as_deref(), Some("root"));
    // "2021-04-28 21:50:00 +0200"
    assert_eq!(r.occurred_at, Some(utc(2021, 4, 28, 19, 50, 0)));
}

#[test]
fn every_documented_gitlab_status_maps_and_others_stay_unknown() {
    use DeploymentStatus::*;
    let cases = [
        ("created", ReportedStatus::Known(Queued)),
        ("running", ReportedStatus::Known(InProgress)),
        ("success", ReportedStatus::Known(Succeeded)),
        ("failed", ReportedStatus::Known(Failed)),
        ("canceled", ReportedStatus::Known(Cancelled)),
        ("blocked", ReportedStatus::Unknown("blocked".into())),
        ("rejected", ReportedStatus::Unknown("rejected".into())),
    ];
    for (status, expected) in cases {
        let body = edited("gitlab_deployment.json", |v| v["status"] = status.into());
        let inbound = parse_gitlab(&headers("Deployment Hook"), &body).unwrap();
        assert_eq!(deploy(&inbound).status, expected, "{status}");
    }
}

#[test]
fn a_deployment_started_by_the_api_has_no_job_url() {
    let body = edited("gitlab_deployment.json", |v| {
        v["deployable_url"] = serde_json::Value::Null
    });
    let inbound = parse_gitlab(&headers("Deployment Hook"), &body).unwrap();
    assert_eq!(deploy(&inbound).url, None);
}

#[test]
fn other_gitlab_events_are_ignored() {
    let inbound = parse_gitlab(&headers("Push Hook"), br#"{"object_kind":"push"}"#).unwrap();
    assert_eq!(
        ignored_reason(&inbound),
        "GitLab `Push Hook` events are not about deployments"
    );
}

#[test]
fn without_the_event_header_the_object_kind_decides() {
    let h = [("X-Gitlab-Token", TOKEN)];
    let inbound = parse_gitlab(&h, &fixture("gitlab_deployment.json")).unwrap();
    assert_eq!(deploy(&inbound).external_id, "gitlab:deployment:15");
    let inbound = parse_gitlab(&h, br#"{"object_kind":"pipeline"}"#).unwrap();
    assert!(ignored_reason(&inbound).contains("`pipeline`"));
}

#[test]
fn malformed_json_and_missing_fields_are_parse_errors() {
    let err = parse_gitlab(&headers("Deployment Hook"), b"not json").unwrap_err();
    assert_eq!(err.http_status(), 400);
    let body = edited("gitlab_deployment.json", |v| {
        v.as_object_mut().unwrap().remove("deployment_id");
    });
    let err = parse_gitlab(&headers("Deployment Hook"), &body).unwrap_err();
    assert!(
        matches!(err, ParseError::InvalidPayload(ref m) if m.contains("deployment_id")),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 422);
}
