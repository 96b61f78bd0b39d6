//! Components: admin CRUD, the detail page with the linked service's deployments, the health grid.

use flightdeck_model::{
    Component, ComponentDetail, ComponentStatus, CreateDeployment, CreateEnvironment,
    CreateService, HealthGrid,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub async fn create_component(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin
        .request(Method::POST, "/api/v1/components")
        .unwrap()
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &flightdeck_client::Client,
    path: &str,
) -> T {
    let resp = client
        .request(Method::GET, path)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn components_are_created_listed_patched_and_shown_with_their_services_deployments() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        app.admin
            .create_service(&CreateService {
                slug: "checkout-api".into(),
                name: "Checkout API".into(),
                team: None,
                repositories: vec![],
            })
            .await
            .unwrap();
        app.admin
            .create_environment(&CreateEnvironment {
                slug: "staging".into(),
                name: "Staging".into(),
                rank: 20,
                protected: false,
                aliases: vec![],
                freeze_windows: vec![],
            })
            .await
            .unwrap();
        let deployment = app
            .admin
            .deploy(&CreateDeployment {
                service: "checkout-api".into(),
                environment: "staging".into(),
                version: "v1.2.3".into(),
                description: None,
                confirm: None,
                commit_sha: None,
                commit_url: None,
                committed_at: None,
            })
            .await
            .unwrap();

        let resp = create_component(
            &app,
            json!({ "slug": "checkout", "name": "Checkout", "group": "payments", "service": "checkout-api",
                    "tier": 1, "depends_on": ["checkout-db"], "matchers": ["service=\"checkout-api\""] }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let created: Component = resp.json().await.unwrap();
        assert_eq!(created.status, ComponentStatus::Operational);

        let dup = create_component(&app, json!({ "slug": "checkout", "name": "Again" })).await;
        assert_eq!(dup.status(), 409);
        let bad = create_component(
            &app,
            json!({ "slug": "x", "name": "X", "service": "nope", "matchers": ["no operator"] }),
        )
        .await;
        assert_eq!(bad.status(), 422);
        let problem: Value = bad.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("service") && detail.contains("matchers[0]"),
            "{detail}"
        );

        let detail: ComponentDetail = get_json(&app.admin, "/api/v1/components/checkout").await;
        assert_eq!(detail.component, created);
        assert!(detail.alerts.is_empty());
        assert_eq!(detail.deployments.len(), 1);
        assert_eq!(detail.deployments[0].id, deployment.id);

        let patched = app
            .admin
            .request(Method::PATCH, "/api/v1/components/checkout")
            .unwrap()
            .json(&json!({ "name": "Checkout (EU)", "tier": 2 }))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200);
        let patched: Component = patched.json().await.unwrap();
        assert_eq!(
            (patched.name.as_str(), patched.tier),
            ("Checkout (EU)", Some(2))
        );
        assert_eq!(patched.group.as_deref(), Some("payments"));

        let missing = app
            .admin
            .request(Method::GET, "/api/v1/components/nope")
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let audit = app
            .admin
            .list_audit(&flightdeck_model::AuditQuery {
                action: Some("component.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.items.len(), 2, "create and update are audited");
    }
}

#[tokio::test]
async fn a_maintenance_window_puts_a_component_in_maintenance_and_the_grid_counts_every_status() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let now = chrono::Utc::now();
        create_component(&app, json!({ "slug": "api", "name": "API" })).await;
        let resp = create_component(
            &app,
            json!({ "slug": "db", "name": "DB", "maintenance": [{ "name": "upgrade",
                    "starts_at": now - chrono::Duration::minutes(5), "ends_at": now + chrono::Duration::hours(1) }] }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let db: Component = resp.json().await.unwrap();
        assert_eq!(db.status, ComponentStatus::Maintenance);
        assert!(
            db.status_reasons[0].contains("maintenance upgrade"),
            "{:?}",
            db.status_reasons
        );

        let grid: HealthGrid = get_json(&app.admin, "/api/v1/health").await;
        assert_eq!(grid.components.len(), 2);
        assert_eq!(grid.counts["operational"], 1);
        assert_eq!(grid.counts["maintenance"], 1);
        assert_eq!(grid.counts["major_outage"], 0);
        assert_eq!(grid.counts.len(), 6);

        // Ending the window brings it back.
        let patched = app
            .admin
            .request(Method::PATCH, "/api/v1/components/db")
            .unwrap()
            .json(&json!({ "maintenance": [] }))
            .send()
            .await
            .unwrap();
        let patched: Component = patched.json().await.unwrap();
        assert_eq!(patched.status, ComponentStatus::Operational);
    }
}
