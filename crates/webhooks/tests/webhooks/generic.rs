//! Generic fixture: `generic_succeeded.json` is the example of Flightdeck's own schema
//! (`GENERIC.md`).

use chrono::Duration;
use flightdeck_model::DeploymentStatus;
use flightdeck_webhooks::{
    GENERIC_TOLERANCE_SECS, ParseError, ReportedStatus, Source, VerifyError, delivery_id,
    parse_generic, sign_generic, verify_generic,
};

use crate::support::{deploy, edited, fixture, utc};

const SECRET: &[u8] = b"generic-secret-31c9";
const NONE: [(&str, &str); 0] = [];

#[test]
fn a_fresh_signature_over_the_timestamp_and_body_verifies() {
    let body = fixture("generic_succeeded.json");
    let now = utc(2026, 11, 25, 21, 41, 20);
    let sig = sign_generic(SECRET, &body, now.timestamp());
    assert!(sig.starts_with(&format!("t={},v1=", now.timestamp())));
    let h = [("X-Flightdeck-Signature", sig.as_str())];
    assert_eq!(verify_generic(&h, &body, SECRET, now), Ok(()));
    // Clocks may disagree a little, either way.
    assert_eq!(
        verify_generic(&h, &body, SECRET, now + Duration::seconds(300)),
        Ok(())
    );
    assert_eq!(
        verify_generic(&h, &body, SECRET, now - Duration::seconds(300)),
        Ok(())
    );
}

#[test]
fn a_signature_older_or_newer_than_five_minutes_is_stale() {
    let body = fixture("generic_succeeded.json");
    let signed_at = utc(2026, 11, 25, 21, 41, 20);
    let sig = sign_generic(SECRET, &body, signed_at.timestamp());
    let h = [("X-Flightdeck-Signature", sig.as_str())];
    let later = signed_at + Duration::seconds(301);
    assert_eq!(
        verify_generic(&h, &body, SECRET, later),
        Err(VerifyError::Stale {
            timestamp: signed_at.timestamp(),
            now: later.timestamp(),
            tolerance_secs: GENERIC_TOLERANCE_SECS,
        })
    );
    assert!(matches!(
        verify_generic(&h, &body, SECRET, signed_at - Duration::seconds(301)),
        Err(VerifyError::Stale { .. })
    ));
}

#[test]
fn a_tampered_body_a_wrong_secret_or_a_moved_timestamp_is_a_bad_signature() {
    let body = fixture("generic_succeeded.json");
    let now = utc(2026, 11, 25, 21, 41, 20);
    let t = now.timestamp();
    let sig = sign_generic(SECRET, &body, t);
    let h = [("X-Flightdeck-Signature", sig.as_str())];
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("succeeded", "failed");
    assert_eq!(
        verify_generic(&h, tampered.as_bytes(), SECRET, now),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_generic(&h, &body, b"wrong", now),
        Err(VerifyError::BadSignature)
    );
    // Replaying the MAC under a fresher timestamp does not work: t is inside the MAC.
    let moved = sig.replace(&format!("t={t}"), &format!("t={}", t + 60));
    let h = [("X-Flightdeck-Signature", moved.as_str())];
    assert_eq!(
        verify_generic(&h, &body, SECRET, now),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn one_matching_v1_among_several_is_enough_for_secret_rotation() {
    let body = fixture("generic_succeeded.json");
    let now = utc(2026, 11, 25, 21, 41, 20);
    let t = now.timestamp();
    let old = sign_generic(b"old-secret", &body, t);
    let new = sign_generic(SECRET, &body, t);
    let header = format!("{old},v1={}", new.split_once("v1=").unwrap().1);
    let h = [("X-Flightdeck-Signature", header.as_str())];
    assert_eq!(verify_generic(&h, &body, SECRET, now), Ok(()));
}

#[test]
fn a_missing_or_malformed_signature_header_is_refused() {
    let body = fixture("generic_succeeded.json");
    let now = utc(2026, 11, 25, 21, 41, 20);
    assert_eq!(
        verify_generic(&NONE, &body, SECRET, now),
        Err(VerifyError::MissingSignature {
            header: "X-Flightdeck-Signature"
        })
    );
    let t = now.timestamp();
    for bad in [
        "v1=abcd".to_owned(),
        format!("t={t}"),
        "t=soon,v1=abcd".to_owned(),
        format!("t={t},v1=xyz"),
    ] {
        assert!(
            matches!(
                verify_generic(
                    &[("X-Flightdeck-Signature", bad.as_str())],
                    &body,
                    SECRET,
                    now
                ),
                Err(VerifyError::MalformedSignature { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn the_documented_example_becomes_a_report_naming_its_service() {
    let inbound = parse_generic(&NONE, &fixture("generic_succeeded.json")).unwrap();
    assert_eq!(inbound.source, Source::Generic);
    assert_eq!(inbound.delivery_id, "build-4711-deploy-production");
    let r = deploy(&inbound);
    assert_eq!(r.service_hint.as_deref(), Some("checkout-api"));
    assert_eq!(r.repositories, ["acme/checkout-api"]);
    assert_eq!(r.environment, "production");
    assert_eq!(r.version, "v1.4.2");
    assert_eq!(r.status, ReportedStatus::Known(DeploymentStatus::Succeeded));
    assert_eq!(r.external_id, "build-4711");
    assert_eq!(r.occurred_at, Some(utc(2026, 11, 25, 21, 41, 17)));
    assert_eq!(
        delivery_id(Source::Generic, &NONE, &fixture("generic_succeeded.json")).as_deref(),
        Ok("build-4711-deploy-production")
    );
}

#[test]
fn without_an_external_id_reports_are_tied_by_subject_environment_and_version() {
    let body = edited("generic_succeeded.json", |v| {
        let o = v.as_object_mut().unwrap();
        o.remove("external_id");
        o.remove("service");
    });
    let inbound = parse_generic(&NONE, &body).unwrap();
    assert_eq!(
        deploy(&inbound).external_id,
        "generic:acme/checkout-api:production:v1.4.2"
    );
}

#[test]
fn an_unknown_status_is_recorded_not_refused() {
    let body = edited("generic_succeeded.json", |v| v["status"] = "rolling".into());
    let r = parse_generic(&NONE, &body).unwrap();
    assert_eq!(deploy(&r).status, ReportedStatus::Unknown("rolling".into()));
}

#[test]
fn a_body_without_service_or_repository_is_a_422() {
    let body = edited("generic_succeeded.json", |v| {
        let o = v.as_object_mut().unwrap();
        o.remove("service");
        o.remove("repository");
    });
    let err = parse_generic(&NONE, &body).unwrap_err();
    assert_eq!(err, ParseError::MissingField("service"));
    assert_eq!(err.http_status(), 422);
}

#[test]
fn missing_required_fields_and_bad_timestamps_are_422s_and_garbage_is_a_400() {
    for field in ["id", "environment", "version", "status"] {
        let body = edited("generic_succeeded.json", |v| {
            v.as_object_mut().unwrap().remove(field);
        });
        let err = parse_generic(&NONE, &body).unwrap_err();
        assert!(
            matches!(err, ParseError::InvalidPayload(ref m) if m.contains(field)),
            "{field}: {err:?}"
        );
        assert_eq!(err.http_status(), 422);
    }
    let body = edited("generic_succeeded.json", |v| {
        v["occurred_at"] = "yesterday".into()
    });
    assert!(matches!(
        parse_generic(&NONE, &body),
        Err(ParseError::InvalidField {
            field: "occurred_at",
            ..
        })
    ));
    let body = edited("generic_succeeded.json", |v| {
        v["id"] = "x".repeat(300).into()
    });
    assert!(matches!(
        parse_generic(&NONE, &body),
        Err(ParseError::InvalidField { field: "id", .. })
    ));
    assert_eq!(
        parse_generic(&NONE, b"\x00garbage")
            .unwrap_err()
            .http_status(),
        400
    );
}
