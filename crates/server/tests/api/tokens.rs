use flightdeck_model::{AuthKind, CreateApiToken, PageParams, Role};

use crate::helpers::*;

fn token_named(name: &str) -> CreateApiToken {
    CreateApiToken {
        name: name.into(),
        role: None,
        expires_in_days: None,
    }
}

#[tokio::test]
async fn an_api_token_is_shown_once_works_as_a_bearer_and_stops_when_revoked() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let deployer = app.user_with_role(Role::Deployer).await;
        let created = deployer
            .create_token(&CreateApiToken {
                name: "ci".into(),
                role: Some(Role::Viewer),
                expires_in_days: Some(30),
            })
            .await
            .unwrap();
        assert!(created.secret.starts_with("fdt_"));
        assert!(created.secret.starts_with(&created.token.prefix));
        assert!(created.token.expires_at.is_some());

        let script = app.client.with_token(&created.secret);
        let me = script.me().await.unwrap();
        assert_eq!((me.auth, me.role), (AuthKind::ApiToken, Role::Viewer));

        let listed = deployer
            .list_tokens(false, &PageParams::default())
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert!(listed.items[0].last_used_at.is_some(), "use is recorded");
        let json = serde_json::to_string(&listed).unwrap();
        assert!(
            !json.contains(&created.secret),
            "the secret is never listed"
        );

        deployer.revoke_token(created.token.id).await.unwrap();
        assert_eq!(script.me().await.unwrap_err().status(), Some(401));
        assert_eq!(
            deployer
                .revoke_token(created.token.id)
                .await
                .unwrap_err()
                .status(),
            Some(409)
        );
    }
}

#[tokio::test]
async fn a_token_cannot_outrank_its_creator_nor_create_tokens() {
    let app = spawn_app(Backend::Sqlite).await;
    let operator = app.user_with_role(Role::Operator).await;
    let err = operator
        .create_token(&CreateApiToken {
            name: "x".into(),
            role: Some(Role::Admin),
            expires_in_days: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert_eq!(err.problem().unwrap().errors[0].field, "role");

    let token = operator.create_token(&token_named("mine")).await.unwrap();
    let as_token = app.client.with_token(&token.secret);
    assert_eq!(
        as_token
            .create_token(&token_named("child"))
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
}

#[tokio::test]
async fn a_tokens_role_is_capped_by_its_owners_current_role() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin_token = app
        .admin
        .create_token(&token_named("admin script"))
        .await
        .unwrap();
    let script = app.client.with_token(&admin_token.secret);
    assert_eq!(script.me().await.unwrap().role, Role::Admin);
    // Demote the owner: the token loses the admin role with them.
    let admin_id = app.admin.me().await.unwrap().user.id;
    let other_admin = app.user_with_role(Role::Admin).await;
    other_admin
        .update_user(
            admin_id,
            &flightdeck_model::UpdateUser {
                role: Some(Role::Viewer),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(script.me().await.unwrap().role, Role::Viewer);
}

#[tokio::test]
async fn users_see_and_revoke_only_their_own_tokens_and_admins_see_all() {
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.user_with_role(Role::Deployer).await;
    let bob = app.user_with_role(Role::Deployer).await;
    let a = alice.create_token(&token_named("a")).await.unwrap();
    bob.create_token(&token_named("b")).await.unwrap();
    assert_eq!(
        bob.list_tokens(false, &PageParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        bob.list_tokens(true, &PageParams::default())
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    assert_eq!(
        bob.revoke_token(a.token.id).await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        app.admin
            .list_tokens(true, &PageParams::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert!(app.admin.revoke_token(a.token.id).await.is_ok());
}

#[tokio::test]
async fn token_lists_page_with_cursors() {
    let app = spawn_app(Backend::Postgres).await;
    for i in 0..5 {
        app.admin
            .create_token(&token_named(&format!("t{i}")))
            .await
            .unwrap();
    }
    let first = app
        .admin
        .list_tokens(
            false,
            &PageParams {
                limit: Some(2),
                cursor: None,
            },
        )
        .await
        .unwrap();
    let second = app
        .admin
        .list_tokens(
            false,
            &PageParams {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    let third = app
        .admin
        .list_tokens(
            false,
            &PageParams {
                limit: Some(2),
                cursor: second.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    let names: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .chain(&third.items)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["t4", "t3", "t2", "t1", "t0"]);
    assert!(third.next_cursor.is_none());
}

#[tokio::test]
async fn invalid_token_requests_are_422_with_the_fields_named() {
    let app = spawn_app(Backend::Sqlite).await;
    let err = app
        .admin
        .create_token(&CreateApiToken {
            name: " ".into(),
            role: None,
            expires_in_days: Some(0),
        })
        .await
        .unwrap_err();
    let problem = err.problem().unwrap();
    assert_eq!(problem.status, 422);
    let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "expires_in_days"]);
    assert!(
        app.admin
            .list_tokens(true, &PageParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
