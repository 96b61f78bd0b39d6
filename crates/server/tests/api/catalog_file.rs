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
        let mut edited = test_settings(url);
        edited.catalog = declared.catalog;
        edited.catalog.services[0].name = "Checkout".into();
        let second = spawn_with_settings(edited).await;
        let services = second.admin.list_services().await.unwrap().items;
        assert_eq!(services[0].name, "Checkout");
        let audit = second
            .admin
            .list_audit(&flightdeck_model::AuditQuery {
                actor: Some("config".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
        assert!(
            actions.contains(&"service.update") && actions.contains(&"environment.create"),
            "{actions:?}"
        );
    }
}
