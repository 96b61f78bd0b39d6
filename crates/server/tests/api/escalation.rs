//! Auto-escalation: unacknowledged critical alerts escalate by themselves once, to the configured
//! target, as `flightdeck`, with an alert event, an audit entry and an `alert.updated` event;
//! acknowledged and non-critical alerts do not.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use flightdeck_model::{Alert, AlertDetail, AuditQuery, Page, TriageState};
use flightdeck_server::settings::Secret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::components::{create_component, get_json};
use crate::helpers::*;
use crate::upstream::eventually;

const SECRET: &str = "alertmanager-bearer-token";

fn alert(fingerprint: &str, severity: &str, starts_at: &str) -> Value {
    json!({
        "status": "firing", "fingerprint": fingerprint,
        "labels": { "alertname": format!("Alert{fingerprint}"), "component": "checkout", "severity": severity },
        "annotations": {}, "startsAt": starts_at, "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
    })
}

async fn alerts(app: &TestApp) -> Vec<Alert> {
    get_json::<Page<Alert>>(&app.admin, "/api/v1/alerts")
        .await
        .items
}

fn by_fingerprint<'a>(alerts: &'a [Alert], fp: &str) -> &'a Alert {
    alerts.iter().find(|a| a.fingerprint == fp).unwrap()
}

#[tokio::test]
async fn unacknowledged_critical_alerts_escalate_once_and_acknowledged_ones_do_not() {
    for backend in BACKENDS {
        let url = database_url(backend).await;
        // First start: auto-escalation off while the alerts arrive and one is acknowledged, so
        // the test does not race the escalator.
        let mut settings = test_settings(url.clone());
        settings.alert_escalate_after_secs = 0;
        settings
            .webhook_secrets
            .insert("alertmanager".into(), Secret::new(SECRET));
        let first = spawn_with_settings(settings).await;
        let resp =
            create_component(&first, json!({ "slug": "checkout", "name": "Checkout" })).await;
        assert_eq!(resp.status(), 201);
        let started = (Utc::now() - chrono::Duration::minutes(5))
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let payload = json!({
            "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "flightdeck", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [alert("open1", "critical", &started), alert("acked1", "critical", &started),
                       alert("warn1", "warning", &started)],
        });
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/webhooks/alertmanager", first.url))
            .bearer_auth(SECRET)
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let stored = eventually("three alerts stored", Duration::from_secs(20), || async {
            let list = alerts(&first).await;
            (list.len() == 3).then_some(list)
        })
        .await;
        let acked = by_fingerprint(&stored, "acked1").id;
        let resp = first
            .admin
            .request(Method::POST, &format!("/api/v1/alerts/{acked}/acknowledge"))
            .unwrap()
            .json(&json!({ "note": "on it" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        // Second start on the same database: escalate after 1 s, to a named target.
        let mut settings = test_settings(url);
        settings.alert_escalate_after_secs = 1;
        settings.alert_escalation_target = "#sre-pager".into();
        let app = spawn_with_settings(settings).await;
        let open = by_fingerprint(&stored, "open1").id;
        let detail: AlertDetail = eventually(
            "the open critical alert escalated",
            Duration::from_secs(20),
            || async {
                let d: AlertDetail = get_json(&app.admin, &format!("/api/v1/alerts/{open}")).await;
                (d.alert.state == TriageState::Escalated).then_some(d)
            },
        )
        .await;
        assert_eq!(detail.alert.escalation_level, 1);
        let step = detail.events.last().unwrap();
        assert_eq!(
            (
                step.actor.as_str(),
                step.action.as_str(),
                step.target.as_deref()
            ),
            ("flightdeck", "escalate", Some("#sre-pager"))
        );
        assert_eq!(step.from_state, Some(TriageState::Open));
        assert!(
            step.note
                .as_deref()
                .is_some_and(|n| n.contains("not acknowledged")),
            "{:?}",
            step.note
        );

        // The round that escalated it saw the others: acknowledged and warning alerts stay.
        let after = alerts(&app).await;
        let acked = by_fingerprint(&after, "acked1");
        assert_eq!(
            (acked.state, acked.escalation_level),
            (TriageState::Acknowledged, 0)
        );
        let warn = by_fingerprint(&after, "warn1");
        assert_eq!((warn.state, warn.escalation_level), (TriageState::Open, 0));

        let audit = app
            .admin
            .list_audit(&AuditQuery {
                actor: Some("flightdeck".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.items.len(), 1, "one audit entry, by flightdeck");
        assert_eq!(audit.items[0].action, "alert.escalate");
        assert_eq!(audit.items[0].target_id, open.to_string());
        let mut db = app.store.conn().await.unwrap();
        let updated = db
            .events_after(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "alert.updated" && e.data["id"] == json!(open))
            .filter(|e| e.data["state"] == json!("escalated"))
            .count();
        assert_eq!(
            updated, 1,
            "one alert.updated live event for the escalation"
        );

        // Escalated alerts are not escalated again by the timer: the domain escalates `open`
        // ones only, so still level 1 with one escalation event after the next rounds.
        let again: AlertDetail = get_json(&app.admin, &format!("/api/v1/alerts/{open}")).await;
        assert_eq!(again.alert.escalation_level, 1);
        assert_eq!(
            again
                .events
                .iter()
                .filter(|e| e.action == "escalate")
                .count(),
            1
        );
    }
}
