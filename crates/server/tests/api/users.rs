use flightdeck_model::{CreateUser, PageParams, Role, UpdateUser};

use crate::helpers::*;

#[tokio::test]
async fn admins_create_users_who_can_then_log_in() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let user = app
            .admin
            .create_user(&CreateUser {
                username: "erin".into(),
                password: USER_PASSWORD.into(),
                role: Role::Operator,
            })
            .await
            .unwrap();
        assert_eq!(user.role, Role::Operator);
        let erin = app.login("erin", USER_PASSWORD).await;
        assert_eq!(erin.me().await.unwrap().user.id, user.id);
        assert_eq!(
            app.admin.get_user(user.id).await.unwrap(),
            erin.me().await.unwrap().user
        );

        let dup = app
            .admin
            .create_user(&CreateUser {
                username: "erin".into(),
                password: USER_PASSWORD.into(),
                role: Role::Viewer,
            })
            .await
            .unwrap_err();
        assert_eq!(dup.status(), Some(409));
        assert!(
            dup.problem().unwrap().message().contains("already exists"),
            "{dup}"
        );
    }
}

#[tokio::test]
async fn weak_passwords_and_bad_usernames_are_refused_with_reasons() {
    let app = spawn_app(Backend::Sqlite).await;
    let err = app
        .admin
        .create_user(&CreateUser {
            username: "bad name".into(),
            password: "short".into(),
            role: Role::Viewer,
        })
        .await
        .unwrap_err();
    let fields: Vec<_> = err
        .problem()
        .unwrap()
        .errors
        .iter()
        .map(|e| e.field.clone())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    assert_eq!(
        app.admin
            .list_users(&PageParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_disabled() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let me = app.admin.me().await.unwrap().user;
        for patch in [
            UpdateUser {
                role: Some(Role::Deployer),
                ..Default::default()
            },
            UpdateUser {
                disabled: Some(true),
                ..Default::default()
            },
        ] {
            assert_eq!(
                app.admin
                    .update_user(me.id, &patch)
                    .await
                    .unwrap_err()
                    .status(),
                Some(409)
            );
        }
        app.user_with_role(Role::Admin).await;
        let demoted = app
            .admin
            .update_user(
                me.id,
                &UpdateUser {
                    role: Some(Role::Deployer),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(demoted.role, Role::Deployer);
        assert_eq!(
            app.admin.me().await.unwrap_err().status(),
            Some(401),
            "demotion ends sessions"
        );
    }
}

#[tokio::test]
async fn a_password_change_ends_sessions_and_the_new_password_works() {
    let app = spawn_app(Backend::Sqlite).await;
    let viewer = app.user_with_role(Role::Viewer).await;
    let me = viewer.me().await.unwrap().user;
    app.admin
        .update_user(
            me.id,
            &UpdateUser {
                password: Some("another-long-password".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(viewer.me().await.unwrap_err().status(), Some(401));
    app.login(&me.username, "another-long-password").await;
    let audit = app.admin.list_audit(&Default::default()).await.unwrap();
    let entry = audit
        .items
        .iter()
        .find(|e| e.action == "user.update")
        .unwrap();
    assert_eq!(entry.after.as_ref().unwrap()["password_changed"], true);
    assert!(
        !serde_json::to_string(entry)
            .unwrap()
            .contains("another-long-password")
    );
}

#[tokio::test]
async fn unknown_users_are_404() {
    let app = spawn_app(Backend::Sqlite).await;
    let err = app.admin.get_user(uuid::Uuid::now_v7()).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}
