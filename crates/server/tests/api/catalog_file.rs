//! The catalog declared in the config file is applied at start.

use flightdeck_model::ExecutorConfig;
use flightdeck_server::Settings;

use crate::helpers::*;

const FILE: &str = r#"
[[catalog.services]]
slug = "checkout-api"
name = "Checkout API"
team = "payments"
repositories = ["https://github.com/acme/checkout-api"]

[[catalog.environments]]
slug = "staging"
name = "Staging"
rank = 20

[[catalog.environments]]
slug = "production"
name = "Production"
rank = 30
protected = true
aliases = ["prod"]
executor = { kind = "command", program = "/bin/true", timeout_secs = 60 }

[[catalog.executors]]
environment = "staging"
service = "checkout-api"
executor = { kind = "webhook", url = "https://ci.example/trigger", headers = { Authorization = "Bearer s3cret" } }
"#;

/// The audit entries the config file's catalog wrote (actor `config`).
async fn config_audit(app: &TestApp) -> flightdeck_model::Page<flightdeck_model::AuditEntry> {
    app.admin
        .list_audit(&flightdeck_model::AuditQuery {
            actor: Some("config".into()),
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_config_files_catalog_is_created_then_kept_in_step() {
    for backend in BACKENDS {
        let url = database_url(backend).await;
        let declared: Settings = toml::from_str(FILE).expect("the documented example parses");
        let mut settings = test_settings(url.clone());
        settings.catalog = declared.catalog.clone();
        let app = spawn_with_settings(settings).await;

        let services = app.admin.list_services().await.unwrap().items;
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].team.as_deref(), Some("payments"));
        let envs = app.admin.list_environments().await.unwrap().items;
        assert_eq!(
            envs.iter().map(|e| e.slug.as_str()).collect::<Vec<_>>(),
            ["staging", "production"]
        );
        assert!(envs[1].protected);
        let prod: ExecutorConfig = app
            .admin
            .request(
                reqwest::Method::GET,
                "api/v1/environments/production/executor",
            )
            .unwrap()
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(matches!(prod, ExecutorConfig::Command(ref c) if c.program == "/bin/true"));
        let staging: ExecutorConfig = app
            .admin
            .request(
                reqwest::Method::GET,
                "api/v1/environments/staging/services/checkout-api/executor",
            )
            .unwrap()
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ExecutorConfig::Webhook(hook) = staging else {
            panic!("expected the webhook override")
        };
        assert_eq!(
            hook.headers["Authorization"], "[redacted]",
            "secrets are never echoed"
        );

        // A second start with an edited file updates what changed and audits it as `config`.
        // The team is removed from the file, so from the service too.
        let mut edited = test_settings(url.clone());
        edited.catalog = declared.catalog;
        edited.catalog.services[0].name = "Checkout".into();
        edited.catalog.services[0].team = None;
        let catalog = edited.catalog.clone();
        let second = spawn_with_settings(edited).await;
        let services = second.admin.list_services().await.unwrap().items;
        assert_eq!(services[0].name, "Checkout");
        assert_eq!(services[0].team, None);
        let audit = config_audit(&second).await;
        let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
        assert!(
            actions.contains(&"service.update") && actions.contains(&"environment.create"),
            "{actions:?}"
        );

        // The same file again: everything already matches, nothing is updated or audited.
        let mut same = test_settings(url);
        same.catalog = catalog;
        let third = spawn_with_settings(same).await;
        let again = config_audit(&third).await;
        assert_eq!(again.items.len(), audit.items.len(), "{:?}", again.items);
    }
}

const HEALTH_FILE: &str = r#"
[[catalog.services]]
slug = "checkout-api"
name = "Checkout API"

[[catalog.components]]
slug = "checkout"
name = "Checkout"
group = "payments"
service = "checkout-api"
tier = 1
depends_on = ["checkout-db"]
matchers = ['service="checkout-api"']
metric_queries = [
  { name = "queue_depth", query = 'sum(queue_depth{job="checkout-worker"})', unit = "messages" },
]
log_query = 'service:"checkout-api" AND level:error'

[[catalog.components]]
slug = "checkout-db"
name = "Checkout DB"

[[catalog.slos]]
component = "checkout"
name = "availability"
objective = 0.999
window_secs = 2592000
sli = { kind = "ratio", good = 'sum(rate(http_requests_total{code!~"5.."}[$window]))', total = 'sum(rate(http_requests_total[$window]))' }
"#;

#[tokio::test]
async fn components_and_slos_in_the_config_file_are_created_updated_and_others_left_alone() {
    use flightdeck_model::{Component, Page, Slo, SloSli};
    use reqwest::Method;

    async fn get<T: serde::de::DeserializeOwned>(app: &TestApp, path: &str) -> T {
        crate::components::get_json(&app.admin, path).await
    }

    for backend in BACKENDS {
        let url = database_url(backend).await;
        let declared: Settings =
            toml::from_str(HEALTH_FILE).expect("the documented example parses");
        let mut settings = test_settings(url.clone());
        settings.catalog = declared.catalog.clone();
        let app = spawn_with_settings(settings).await;

        let components: Page<Component> = get(&app, "/api/v1/components").await;
        let slugs: Vec<_> = components.items.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(slugs, ["checkout", "checkout-db"]);
        let checkout = &components.items[0];
        assert_eq!(checkout.service.as_deref(), Some("checkout-api"));
        assert_eq!(checkout.metric_queries[0].name, "queue_depth");
        assert_eq!(checkout.metric_queries[0].unit.as_deref(), Some("messages"));
        assert_eq!(
            checkout.log_query.as_deref(),
            Some("service:\"checkout-api\" AND level:error")
        );
        let slos: Page<Slo> = get(&app, "/api/v1/components/checkout/slos").await;
        assert_eq!(slos.items.len(), 1);
        assert_eq!(slos.items[0].objective, 0.999);
        let slo_id = slos.items[0].id;

        // A component made in the API is the API's: the file leaves it alone.
        let resp = crate::components::create_component(
            &app,
            serde_json::json!({ "slug": "search", "name": "Search" }),
        )
        .await;
        assert_eq!(resp.status(), 201);

        // Second start with an edited file: changed fields follow it, the SLO keeps its id.
        let mut edited = declared.catalog.clone();
        edited.components[0].name = "Checkout (EU)".into();
        edited.components[0].metric_queries.clear();
        // Removed from the file: removed from the component too.
        edited.components[0].service = None;
        edited.slos[0].objective = 0.995;
        edited.slos[0].sli = SloSli::Ratio {
            good: "sum(rate(ok_total[$window]))".into(),
            total: "sum(rate(all_total[$window]))".into(),
        };
        let mut settings = test_settings(url.clone());
        settings.catalog = edited.clone();
        let second = spawn_with_settings(settings).await;
        let components: Page<Component> = get(&second, "/api/v1/components").await;
        assert_eq!(
            components.items.len(),
            3,
            "the API's component is still there"
        );
        let checkout = components
            .items
            .iter()
            .find(|c| c.slug == "checkout")
            .unwrap();
        assert_eq!(checkout.name, "Checkout (EU)");
        assert!(checkout.metric_queries.is_empty());
        assert_eq!(checkout.service, None);
        let slos: Page<Slo> = get(&second, "/api/v1/components/checkout/slos").await;
        assert_eq!(slos.items.len(), 1);
        assert_eq!((slos.items[0].id, slos.items[0].objective), (slo_id, 0.995));

        let audit = config_audit(&second).await;
        let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
        for expected in [
            "component.create",
            "slo.create",
            "component.update",
            "slo.update",
        ] {
            assert!(actions.contains(&expected), "{expected} in {actions:?}");
        }
        assert_eq!(
            actions.iter().filter(|a| **a == "component.create").count(),
            2,
            "created once each: {actions:?}"
        );

        // A third start with the same file changes nothing.
        let mut settings = test_settings(url.clone());
        settings.catalog = edited;
        let third = spawn_with_settings(settings).await;
        let again = config_audit(&third).await;
        assert_eq!(again.items.len(), audit.items.len(), "nothing to update");
        let resp = third
            .admin
            .request(Method::GET, "/api/v1/components/search")
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        // An invalid entry stops the start with the problem, and writes nothing.
        let mut bad = declared.catalog.clone();
        bad.components[0].slug = "new-one".into();
        bad.components[1].metric_queries = vec![
            flightdeck_model::MetricQuery {
                name: "dup".into(),
                query: "up".into(),
                unit: None,
            };
            2
        ];
        let mut settings = test_settings(url);
        settings.catalog = bad;
        let err = flightdeck_server::Application::build(settings)
            .await
            .err()
            .expect("an invalid catalog refuses to start");
        assert!(err.to_string().contains("metric_queries[1].name"), "{err}");
        let components: Page<Component> = get(&third, "/api/v1/components").await;
        assert!(
            components.items.iter().all(|c| c.slug != "new-one"),
            "nothing half-applied"
        );
    }
}
