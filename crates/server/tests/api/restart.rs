//! What a restart of the embedded server does to deployments its executors were running.

use std::time::Duration;

use flightdeck_model::{
    CommandExecutor, CreateDeployment, CreateEnvironment, CreateService, DeploymentStatus,
    ExecutorConfig,
};

use crate::helpers::*;

fn start(db: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .arg("serve")
        .env("FLIGHTDECK_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", db)
        .env("FLIGHTDECK_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("FLIGHTDECK_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn admin(child: &mut tokio::process::Child) -> flightdeck_client::Client {
    let url = crate::system::listening_url(child.stdout.take().unwrap()).await;
    let mut client = flightdeck_client::Client::new(&url).unwrap();
    client.login("admin", ADMIN_PASSWORD).await.unwrap();
    client
}

fn deploy(version: &str) -> CreateDeployment {
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

#[tokio::test]
async fn a_command_cut_short_by_a_restart_is_failed_and_frees_its_target() {
    let db = flightdeck_store::testing::fresh_sqlite_url();
    let mut first = start(&db);
    let client = admin(&mut first).await;
    client
        .create_service(&CreateService {
            slug: "api".into(),
            name: "API".into(),
            team: None,
            repositories: vec![],
        })
        .await
        .unwrap();
    client
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
    let slow = CommandExecutor {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "sleep 30".into()],
        env: Default::default(),
        working_dir: None,
        timeout_secs: 600,
    };
    client
        .set_executor("staging", None, &ExecutorConfig::Command(slow))
        .await
        .unwrap();
    let running = client.deploy(&deploy("v1")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while client.get_deployment(running.id).await.unwrap().status != DeploymentStatus::InProgress {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the command never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().await.unwrap();

    let mut second = start(&db);
    let client = admin(&mut second).await;
    let after = client.get_deployment(running.id).await.unwrap();
    assert_eq!(after.status, DeploymentStatus::Failed);
    let timeline = client.deployment_events(running.id).await.unwrap();
    assert!(
        timeline.iter().any(|e| e.message.contains("restarted")),
        "{timeline:?}"
    );
    client
        .set_executor("staging", None, &ExecutorConfig::Record)
        .await
        .unwrap();
    assert!(
        client.deploy(&deploy("v2")).await.is_ok(),
        "the target is free again"
    );
    second.kill().await.unwrap();
}
