use flightdeck_model::{AuditFormat, AuditQuery, CreateApiToken, Role};

use crate::helpers::*;

async fn make_tokens(app: &TestApp, n: usize) {
    for i in 0..n {
        app.admin
            .create_token(&CreateApiToken {
                name: format!("tok,{i}"),
                role: None,
                expires_in_days: None,
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn every_change_leaves_an_entry_with_actor_target_and_request_id() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let created = app
            .admin
            .create_token(&CreateApiToken {
                name: "deploy bot".into(),
                role: Some(Role::Deployer),
                expires_in_days: None,
            })
            .await
            .unwrap();
        app.admin.revoke_token(created.token.id).await.unwrap();
        let page = app
            .admin
            .list_audit(&AuditQuery {
                action: Some("token.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<_> = page.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["token.revoke", "token.create"]);
        let revoke = &page.items[0];
        assert_eq!(revoke.actor, "admin");
        assert_eq!(revoke.target_id, created.token.id.to_string());
        assert!(revoke.before.as_ref().unwrap()["revoked_at"].is_null());
        assert!(revoke.after.as_ref().unwrap()["revoked_at"].is_string());
        assert!(revoke.request_id.is_some());
        let text = serde_json::to_string(&page).unwrap();
        assert!(
            !text.contains(&created.secret),
            "secrets never reach the audit log"
        );
    }
}

#[tokio::test]
async fn audit_pages_follow_cursors_and_filters_combine() {
    let app = spawn_app(Backend::Postgres).await;
    make_tokens(&app, 5).await;
    let q = |cursor| AuditQuery {
        action: Some("token.create".into()),
        limit: Some(2),
        cursor,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.admin.list_audit(&q(cursor)).await.unwrap();
        seen.extend(page.items.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");
    let none = app
        .admin
        .list_audit(&AuditQuery {
            actor: Some("someone-else".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn exports_contain_every_matching_entry_as_csv_or_json_lines() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        make_tokens(&app, 3).await;
        let query = |format| AuditQuery {
            action: Some("token.create".into()),
            format: Some(format),
            limit: Some(1),
            ..Default::default()
        };

        let csv = app
            .admin
            .export_audit(&query(AuditFormat::Csv))
            .await
            .unwrap();
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "id,at,actor,action,target_type,target_id,reason,request_id,before,after"
        );
        assert_eq!(
            lines.len(),
            4,
            "header + every entry, whatever the page limit:\n{csv}"
        );
        assert!(lines[1].contains(",admin,token.create,api_token,"));
        assert!(
            lines[1].contains("\"\"name\"\":\"\"tok,2\"\""),
            "JSON in a quoted field: {}",
            lines[1]
        );

        let jsonl = app
            .admin
            .export_audit(&query(AuditFormat::Jsonl))
            .await
            .unwrap();
        let entries: Vec<flightdeck_model::AuditEntry> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(entries.len(), 3);
        assert!(entries.iter().all(|e| e.action == "token.create"));
    }
}

#[tokio::test]
async fn an_export_spans_more_than_one_database_batch() {
    let app = spawn_app(Backend::Sqlite).await;
    // The exporter reads 500 rows at a time; logins make cheap entries.
    let mut tx = app.store.begin().await.unwrap();
    for i in 0..1203 {
        let entry = flightdeck_store::NewAudit {
            actor: "bulk".into(),
            action: "bulk.test".into(),
            target_type: "x".into(),
            target_id: i.to_string(),
            ..Default::default()
        };
        tx.insert_audit(&entry, chrono::Utc::now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    let jsonl = app
        .admin
        .export_audit(&AuditQuery {
            actor: Some("bulk".into()),
            format: Some(AuditFormat::Jsonl),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: std::collections::HashSet<_> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["target_id"].clone())
        .collect();
    assert_eq!(ids.len(), 1203);
}
