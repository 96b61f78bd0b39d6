//! `Idempotency-Key` on creating POSTs.

use flightdeck_model::{CreateDeployment, CreateEnvironment, CreateService, Deployment};
use reqwest::Method;

use crate::helpers::*;

async fn seed(app: &TestApp) {
    let service = CreateService {
        slug: "api".into(),
        name: "API".into(),
        team: None,
        repositories: vec![],
    };
    app.admin.create_service(&service).await.unwrap();
    let env = CreateEnvironment {
        slug: "staging".into(),
        name: "Staging".into(),
        rank: 20,
        protected: false,
        aliases: vec![],
        freeze_windows: vec![],
    };
    app.admin.create_environment(&env).await.unwrap();
}

fn deploy_body(version: &str) -> CreateDeployment {
    CreateDeployment {
        service: "api".into(),
        environment: "staging".into(),
        version: version.into(),
        description: None,
        confirm: None,
        commit_sha: None,
        commit_url: None,
        committed_at: None,
    }
}

async fn post(app: &TestApp, key: &str, body: &CreateDeployment) -> reqwest::Response {
    app.admin
        .request(Method::POST, "api/v1/deployments")
        .unwrap()
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retried_deploy_with_the_same_key_gets_the_same_answer_and_creates_nothing_new() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        seed(&app).await;
        let first = post(&app, "retry-1", &deploy_body("v1")).await;
        assert_eq!(first.status(), 202);
        let first: Deployment = first.json().await.unwrap();
        assert!(first.callback.is_some());

        let again = post(&app, "retry-1", &deploy_body("v1")).await;
        assert_eq!(again.status(), 202);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Deployment = again.json().await.unwrap();
        assert_eq!(again.id, first.id);
        assert!(
            again.callback.is_none(),
            "the callback token is never stored for replays"
        );

        let other = post(&app, "retry-1", &deploy_body("v2")).await;
        assert_eq!(
            other.status(),
            422,
            "a reused key with a different request is refused"
        );
        assert_eq!(
            app.admin.list_deployments(&[]).await.unwrap().items.len(),
            1
        );
    }
}
