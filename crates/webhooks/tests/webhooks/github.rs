//! GitHub fixtures. `github_deployment.json`, `github_deployment_status.json`,
//! `github_ping.json` and `github_workflow_run_completed.json` are GitHub's published example
//! payloads (the ones docs.github.com shows under "Webhook events and payloads", kept in
//! octokit/webhooks `payload-examples/api.github.com/`), with the hypermedia `*_url` template
//! fields of the nested repository/owner/sender objects trimmed; every field this crate reads is
//! verbatim. `github_workflow_run_deploy.json` is the same published `workflow_run` example with
//! only the workflow renamed to "Deploy to production" (`.github/workflows/deploy.yml`) and
//! `run_attempt` (a documented field newer than the example) added.

use flightdeck_model::DeploymentStatus;
use flightdeck_webhooks::{
    InboundEvent, ParseError, ReportedStatus, Source, VerifyError, delivery_id, parse_github,
    sign_github, verify_github,
};

use crate::support::{deploy, edited, fixture, ignored_reason, utc};

const SECRET: &[u8] = b"It's a Secret to Everybody";
const DELIVERY: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

fn headers<'a>(event: &'a str, signature: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", DELIVERY),
        ("X-Hub-Signature-256", signature),
    ]
}

#[test]
fn githubs_published_hmac_test_vector_is_reproduced_and_verified() {
    let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(sign_github(SECRET, b"Hello, World!"), expected);
    let h = [("x-hub-signature-256", expected)];
    assert_eq!(verify_github(&h, b"Hello, World!", SECRET), Ok(()));
}

#[test]
fn a_deployment_signed_over_its_exact_bytes_verifies() {
    let body = fixture("github_deployment.json");
    let sig = sign_github(SECRET, &body);
    assert_eq!(
        verify_github(&headers("deployment", &sig), &body, SECRET),
        Ok(())
    );
}

#[test]
fn a_tampered_body_is_a_bad_signature() {
    let body = fixture("github_deployment.json");
    let sig = sign_github(SECRET, &body);
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("production", "staging");
    assert_eq!(
        verify_github(&headers("deployment", &sig), tampered.as_bytes(), SECRET),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn a_signature_made_with_another_secret_is_a_bad_signature() {
    let body = fixture("github_deployment.json");
    let sig = sign_github(b"not the secret", &body);
    assert_eq!(
        verify_github(&headers("deployment", &sig), &body, SECRET),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn a_delivery_without_the_signature_header_is_refused() {
    let body = fixture("github_deployment.json");
    let h = [
        ("X-GitHub-Event", "deployment"),
        ("X-GitHub-Delivery", DELIVERY),
    ];
    assert_eq!(
        verify_github(&h, &body, SECRET),
        Err(VerifyError::MissingSignature {
            header: "X-Hub-Signature-256"
        })
    );
}

#[test]
fn a_signature_without_the_sha256_prefix_or_not_in_hex_is_malformed() {
    let body = b"{}";
    let bare = sign_github(SECRET, body).replace("sha256=", "");
    assert!(matches!(
        verify_github(&[("X-Hub-Signature-256", bare.as_str())], body, SECRET),
        Err(VerifyError::MalformedSignature { .. })
    ));
    assert!(matches!(
        verify_github(&[("X-Hub-Signature-256", "sha256=zz")], body, SECRET),
        Err(VerifyError::MalformedSignature { .. })
    ));
}

#[test]
fn an_empty_configured_secret_refuses_everything() {
    let body = b"{}";
    let sig = sign_github(b"", body);
    assert_eq!(
        verify_github(&[("X-Hub-Signature-256", sig.as_str())], body, b""),
        Err(VerifyError::SecretNotConfigured)
    );
}

#[test]
fn the_delivery_header_is_the_dedupe_key() {
    let h = headers("deployment", "");
    assert_eq!(
        delivery_id(Source::Github, &h, b"{}").as_deref(),
        Ok(DELIVERY)
    );
    let none: [(&str, &str); 0] = [];
    assert_eq!(
        delivery_id(Source::Github, &none, b"{}"),
        Err(ParseError::MissingHeader("X-GitHub-Delivery"))
    );
}

#[test]
fn a_deployment_event_is_a_queued_report_keyed_by_the_deployment_id() {
    let inbound = parse_github(
        &headers("deployment", ""),
        &fixture("github_deployment.json"),
    )
    .unwrap();
    assert_eq!(inbound.source, Source::Github);
    assert_eq!(inbound.delivery_id, DELIVERY);
    let r = deploy(&inbound);
    assert_eq!(
        r.repositories,
        [
            "Codertocat/Hello-World",
            "https://github.com/Codertocat/Hello-World",
            "https://github.com/Codertocat/Hello-World.git",
            "git@github.com:Codertocat/Hello-World.git",
            "git://github.com/Codertocat/Hello-World.git",
        ]
    );
    assert_eq!(r.environment, "production");
    assert_eq!(r.version, "master");
    assert_eq!(
        r.commit_sha.as_deref(),
        Some("f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    );
    assert_eq!(
        r.commit_url.as_deref(),
        Some(
            "https://github.com/Codertocat/Hello-World/commit/f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
        )
    );
    assert_eq!(r.status, ReportedStatus::Known(DeploymentStatus::Queued));
    assert_eq!(r.external_id, "github:deployment:145988746");
    assert_eq!(r.actor.as_deref(), Some("Codertocat"));
    assert_eq!(r.occurred_at, Some(utc(2019, 5, 15, 15, 20, 53)));
    assert_eq!(r.description, None);
}

#[test]
fn a_deployment_status_shares_the_deployments_external_id_and_maps_success_to_succeeded() {
    let inbound = parse_github(
        &headers("deployment_status", ""),
        &fixture("github_deployment_status.json"),
    )
    .unwrap();
    let r = deploy(&inbound);
    assert_eq!(r.external_id, "github:deployment:145988746");
    assert_eq!(r.status, ReportedStatus::Known(DeploymentStatus::Succeeded));
    assert_eq!(r.raw_status, "success");
    assert_eq!(r.environment, "production");
    assert_eq!(r.version, "master");
    // GitHub sends "" for an unset target_url and description: absent, not empty.
    assert_eq!(r.url, None);
    assert_eq!(r.description, None);
    assert_eq!(r.occurred_at, Some(utc(2019, 5, 15, 15, 20, 55)));
}

#[test]
fn every_documented_deployment_state_maps_and_inactive_stays_unknown() {
    use DeploymentStatus::*;
    let cases = [
        ("pending", ReportedStatus::Known(Queued)),
        ("queued", ReportedStatus::Known(Queued)),
        ("in_progress", ReportedStatus::Known(InProgress)),
        ("success", ReportedStatus::Known(Succeeded)),
        ("failure", ReportedStatus::Known(Failed)),
        ("error", ReportedStatus::Known(Failed)),
        ("inactive", ReportedStatus::Unknown("inactive".into())),
        ("exploded", ReportedStatus::Unknown("exploded".into())),
    ];
    for (state, expected) in cases {
        let body = edited("github_deployment_status.json", |v| {
            v["deployment_status"]["state"] = state.into();
            v["deployment_status"]["log_url"] = "https://ci.example.com/log/1".into();
        });
        let inbound = parse_github(&headers("deployment_status", ""), &body).unwrap();
        let r = deploy(&inbound);
        assert_eq!(r.status, expected, "state {state}");
        assert_eq!(r.url.as_deref(), Some("https://ci.example.com/log/1"));
    }
}

#[test]
fn a_ping_is_acknowledged_with_nothing_to_apply() {
    let inbound = parse_github(&headers("ping", ""), &fixture("github_ping.json")).unwrap();
    assert_eq!(inbound.event, InboundEvent::Ping);
}

#[test]
fn a_workflow_run_of_a_workflow_that_does_not_deploy_is_ignored() {
    let inbound = parse_github(
        &headers("workflow_run", ""),
        &fixture("github_workflow_run_completed.json"),
    )
    .unwrap();
    assert!(ignored_reason(&inbound).contains("`test` is not a deployment"));
}

#[test]
fn a_completed_deploy_workflow_run_is_a_succeeded_report_for_the_environment_in_its_name() {
    let inbound = parse_github(
        &headers("workflow_run", ""),
        &fixture("github_workflow_run_deploy.json"),
    )
    .unwrap();
    let r = deploy(&inbound);
    assert_eq!(r.environment, "production");
    assert_eq!(r.status, ReportedStatus::Known(DeploymentStatus::Succeeded));
    assert_eq!(r.raw_status, "completed/success");
    assert_eq!(r.version, "3484a3fb816e0859fd6e1cea078d76385ff50625");
    assert_eq!(
        r.commit_sha.as_deref(),
        Some("3484a3fb816e0859fd6e1cea078d76385ff50625")
    );
    assert_eq!(r.external_id, "github:run:289782451");
    assert_eq!(
        r.url.as_deref(),
        Some("https://github.com/octo-org/octo-repo/actions/runs/289782451")
    );
    assert_eq!(r.repositories[0], "octo-org/octo-repo");
    assert_eq!(r.actor.as_deref(), Some("Codertocat"));
    assert_eq!(r.occurred_at, Some(utc(2020, 10, 5, 16, 33, 49)));
    assert_eq!(r.committed_at, Some(utc(2020, 10, 5, 16, 32, 7)));
    assert_eq!(
        r.description.as_deref(),
        Some("Deploy to production #163 on master: build(test): check workflow run event payload")
    );
}

#[test]
fn a_re_run_of_a_deploy_workflow_is_a_new_deployment() {
    let body = edited("github_workflow_run_deploy.json", |v| {
        v["workflow_run"]["run_attempt"] = 2.into();
        v["workflow_run"]["status"] = "in_progress".into();
        v["workflow_run"]["conclusion"] = serde_json::Value::Null;
        v["action"] = "in_progress".into();
    });
    let inbound = parse_github(&headers("workflow_run", ""), &body).unwrap();
    let r = deploy(&inbound);
    assert_eq!(r.external_id, "github:run:289782451:2");
    assert_eq!(
        r.status,
        ReportedStatus::Known(DeploymentStatus::InProgress)
    );
}

#[test]
fn workflow_run_statuses_and_conclusions_map_as_documented() {
    use DeploymentStatus::*;
    let cases = [
        ("requested", None, ReportedStatus::Known(Queued)),
        ("queued", None, ReportedStatus::Known(Queued)),
        ("waiting", None, ReportedStatus::Known(Queued)),
        ("pending", None, ReportedStatus::Known(Queued)),
        ("in_progress", None, ReportedStatus::Known(InProgress)),
        ("completed", Some("failure"), ReportedStatus::Known(Failed)),
        (
            "completed",
            Some("startup_failure"),
            ReportedStatus::Known(Failed),
        ),
        (
            "completed",
            Some("cancelled"),
            ReportedStatus::Known(Cancelled),
        ),
        (
            "completed",
            Some("timed_out"),
            ReportedStatus::Known(TimedOut),
        ),
        (
            "completed",
            Some("skipped"),
            ReportedStatus::Unknown("completed/skipped".into()),
        ),
        (
            "completed",
            Some("action_required"),
            ReportedStatus::Unknown("completed/action_required".into()),
        ),
    ];
    for (status, conclusion, expected) in cases {
        let body = edited("github_workflow_run_deploy.json", |v| {
            v["workflow_run"]["status"] = status.into();
            v["workflow_run"]["conclusion"] = conclusion.into();
        });
        let inbound = parse_github(&headers("workflow_run", ""), &body).unwrap();
        assert_eq!(deploy(&inbound).status, expected, "{status}/{conclusion:?}");
    }
}

#[test]
fn a_deploy_workflow_that_names_no_environment_is_ignored_with_how_to_name_it() {
    let body = edited("github_workflow_run_deploy.json", |v| {
        v["workflow"]["name"] = "Deploy".into();
    });
    let inbound = parse_github(&headers("workflow_run", ""), &body).unwrap();
    assert!(ignored_reason(&inbound).contains("Deploy to <environment>"));
}

#[test]
fn the_environment_can_come_from_the_workflow_file_name() {
    let body = edited("github_workflow_run_deploy.json", |v| {
        v["workflow"]["name"] = "Release".into();
        v["workflow"]["path"] = ".github/workflows/deploy-staging.yml".into();
    });
    let inbound = parse_github(&headers("workflow_run", ""), &body).unwrap();
    assert_eq!(deploy(&inbound).environment, "staging");
}

#[test]
fn events_that_are_not_about_deployments_are_ignored_not_refused() {
    let inbound = parse_github(&headers("push", ""), br#"{"ref":"refs/heads/main"}"#).unwrap();
    assert_eq!(
        ignored_reason(&inbound),
        "GitHub `push` events are not about deployments"
    );
}

#[test]
fn malformed_json_is_a_400_even_for_ignored_event_types() {
    for event in ["deployment", "ping", "push"] {
        let err = parse_github(&headers(event, ""), b"{\"deployment\": ").unwrap_err();
        assert!(
            matches!(err, ParseError::MalformedJson(_)),
            "{event}: {err:?}"
        );
        assert_eq!(err.http_status(), 400);
    }
}

#[test]
fn a_deployment_without_required_fields_is_a_422() {
    let body = edited("github_deployment.json", |v| {
        v["deployment"]
            .as_object_mut()
            .unwrap()
            .remove("environment");
    });
    let err = parse_github(&headers("deployment", ""), &body).unwrap_err();
    assert!(
        matches!(err, ParseError::InvalidPayload(ref m) if m.contains("environment")),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 422);

    let body = edited("github_deployment.json", |v| {
        v["deployment"]["ref"] = "".into()
    });
    assert_eq!(
        parse_github(&headers("deployment", ""), &body),
        Err(ParseError::MissingField("deployment.ref"))
    );
}

#[test]
fn a_delivery_without_the_event_header_is_a_400() {
    let h = [("X-GitHub-Delivery", DELIVERY)];
    let err = parse_github(&h, &fixture("github_deployment.json")).unwrap_err();
    assert_eq!(err, ParseError::MissingHeader("X-GitHub-Event"));
    assert_eq!(err.http_status(), 400);
}
